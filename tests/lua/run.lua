-- The Lua test runner.
--
--   lua5.4 tests/lua/run.lua test_rpc.lua [test_context.lua ...] [-k PATTERN]
--
-- Each test file returns a list of {name, fn[, timeout]}. Every test runs in
-- a fresh lua5.4 process (one actor runtime per process) under `timeout`;
-- after the test that process checks that no child process and no new
-- socket file is left behind. A test that calls H.skip(why) prints why and
-- counts as skipped. Prints "N passed, N failed, N skipped"; exit 1 on failure.
local H = require "helpers"

-- exit status of a test process whose test called H.skip
local SKIP_CODE = 77

local function here()
  return (arg[0]:match("^(.*)/[^/]*$") or ".")
end

local function load_tests(file)
  local path = file:find("/") and file or (here() .. "/" .. file)
  local chunk = assert(loadfile(path))
  return chunk(), path
end

-- child mode: run one example script (as `lua5.4 <script>` would)
if arg[1] == "--run-example" then
  local script = arg[2]
  local ok = H.run_one("example", function()
    arg = {[0] = script}
    dofile(script)
  end, script)
  os.exit(ok and 0 or 1)
end

-- child mode: run one test
if arg[1] == "--one" then
  local tests, path = load_tests(arg[2])
  local want = arg[3]
  for _, t in ipairs(tests) do
    if t[1] == want then
      local ok = H.run_one(t[1], t[2], path)
      os.exit(ok == "skip" and SKIP_CODE or ok and 0 or 1)
    end
  end
  io.stderr:write("no such test: " .. want .. "\n")
  os.exit(2)
end

local files, examples, pattern = {}, {}, nil
local i = 1
while i <= #arg do
  if arg[i] == "-k" then pattern = arg[i + 1]; i = i + 1
  elseif arg[i] == "--example" then examples[#examples + 1] = arg[i + 1]; i = i + 1
  else files[#files + 1] = arg[i] end
  i = i + 1
end

local lua = os.getenv("TRACTOR_LUA") or "lua5.4"
local passed, failed, skipped, failures = 0, 0, 0, {}
local jobs = {}
for _, file in ipairs(files) do
  for _, t in ipairs(load_tests(file)) do
    if not pattern or t[1]:find(pattern, 1, true) then
      jobs[#jobs + 1] = {file = file, name = t[1], limit = t[3] or 60,
        args = ("--one %q %q"):format(file, t[1])}
    end
  end
end
for _, ex in ipairs(examples) do
  jobs[#jobs + 1] = {file = ex, name = "example", limit = 120,
    args = ("--run-example %q"):format(ex)}
end
local clock = require("tractor")._C.monotonic
for _, job in ipairs(jobs) do
  local t0 = clock()
  local cmd = ("timeout -k 5 %d %s %q %s"):format(job.limit, lua, arg[0], job.args)
  local ok, how, code = os.execute(cmd)
  local label = ("%s :: %s (%.1fs)"):format(job.file, job.name, clock() - t0)
  if ok then
    passed = passed + 1
    print("ok    " .. label)
  elseif how == "exit" and code == SKIP_CODE then
    skipped = skipped + 1
    print("SKIP  " .. label)
  else
    failed = failed + 1
    local why = (how == "exit" and code == 124) and " TIMEOUT" or ""
    failures[#failures + 1] = job.file .. " :: " .. job.name .. why
    print("FAIL  " .. label .. why)
  end
  io.stdout:flush()
end
if #failures > 0 then
  print("failures:")
  for _, f in ipairs(failures) do print("  " .. f) end
end
print(("%d passed, %d failed, %d skipped"):format(passed, failed, skipped))
os.exit(failed == 0 and 0 or 1)
