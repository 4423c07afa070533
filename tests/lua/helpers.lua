-- Helpers for the Lua tests: assertions, leak checks, root options.
local tractor = require "tractor"

local H = {}

function H.getpid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = tonumber(f:read("l"):match("^(%d+)"))
  f:close()
  return pid
end

local function read_stat(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return nil end
  local line = f:read("l")
  f:close()
  if not line then return nil end
  local rest = line:match("%)%s+(.*)$")
  if not rest then return nil end
  local state, ppid = rest:match("^(%S+)%s+(%d+)")
  return state, tonumber(ppid)
end

local function list_dir(dir)
  local out = {}
  local p = io.popen("ls -1 " .. dir .. " 2>/dev/null")
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  return out
end

--- pids of live (or zombie: negated) children of `ppid`
function H.children_of(ppid)
  local out = {}
  for _, e in ipairs(list_dir("/proc")) do
    local pid = tonumber(e)
    if pid then
      local state, pp = read_stat(pid)
      if pp == ppid then out[#out + 1] = state == "Z" and -pid or pid end
    end
  end
  return out
end

function H.pid_alive(pid)
  local state = read_stat(pid)
  return state ~= nil and state ~= "Z"
end

function H.rt_dir()
  local x = os.getenv("XDG_RUNTIME_DIR")
  if x and x ~= "" then
    local f = io.open(x, "r")
    if f then f:close(); return x .. "/tractor" end
  end
  local f = assert(io.open("/proc/self/status"))
  local uid = f:read("a"):match("\nUid:%s+(%d+)")
  f:close()
  return "/tmp/tractor-" .. uid
end

function H.sock_files()
  local s = {}
  for _, f in ipairs(list_dir(H.rt_dir())) do
    if f:find(".sock", 1, true) then s[f] = true end
  end
  return s
end

--- wait (up to secs) until pred() holds
function H.eventually(pred, secs)
  local deadline = tractor._C.monotonic() + (secs or 5)
  while tractor._C.monotonic() < deadline do
    if pred() then return true end
    tractor.sleep(0.01)
  end
  return pred()
end

--- options for a test root actor (standalone: no registrar election, no
-- signal handlers)
function H.root_opts(transport, extra)
  local o = {name = "root", transport = transport or "tcp", enable_registrar = false,
    handle_signals = false}
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

H.transports = {"tcp", "uds"}

--- assert that fn(...) raises; returns the error
function H.raises(fn, ...)
  local ok, e = pcall(fn, ...)
  assert(not ok, "expected an error, got success")
  return e
end

function H.eq(a, b, what)
  if a ~= b then
    error(("%s: expected %s, got %s"):format(what or "value", tostring(b), tostring(a)), 2)
  end
end

function H.deep_eq(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then
    if type(a) == "number" and math.type(a) ~= math.type(b) then return false end
    return a == b or (a ~= a and b ~= b)
  end
  for k, v in pairs(a) do if not H.deep_eq(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local Skip = {}

--- Skip the running test: the runner reports it as skipped, with `why`.
function H.skip(why)
  error(setmetatable({why = why}, Skip), 0)
end

--- Run one test with the leftover checks. Returns true on success, false on
-- failure, or "skip" (the reason printed) when the test called H.skip.
function H.run_one(name, fn, path)
  local socks_before = H.sock_files()
  local me = H.getpid()
  local skipped
  local ok, err = xpcall(fn, function(e)
    if getmetatable(e) == Skip then skipped = e.why; return e end
    return debug.traceback(type(e) == "string" and e or tostring(e), 2)
  end)
  if skipped then ok, err = true, nil end
  -- a test that failed may leave its root open: close it (kills children)
  local cok, cerr = pcall(tractor.close_root_actor)
  if not cok then ok, err = false, err or ("closing the root failed: " .. tostring(cerr)) end
  if ok then
    if not H.eventually(function() return #H.children_of(me) == 0 end, 5) then
      ok, err = false, "child processes left behind: " .. table.concat(H.children_of(me), " ")
    end
  end
  if ok then
    -- new socket files of ours: named <actor>@<pid>.sock with our pid or the
    -- pid of a process that is gone (other test processes may be running)
    local function ours(f)
      local pid = tonumber(f:match("@(%d+)%.sock$"))
      return pid == nil or pid == me or not H.pid_alive(pid)
    end
    local left = {}
    H.eventually(function()
      left = {}
      for f in pairs(H.sock_files()) do
        if not socks_before[f] and ours(f) then left[#left + 1] = f end
      end
      return #left == 0
    end, 5)
    if #left > 0 then ok, err = false, "socket files left behind: " .. table.concat(left, " ") end
  end
  if not ok then
    io.stderr:write(("---- %s :: %s failed:\n%s\n"):format(path, name, tostring(err)))
  end
  if ok and skipped then
    print("skipped: " .. skipped)
    return "skip"
  end
  return ok
end

return H
