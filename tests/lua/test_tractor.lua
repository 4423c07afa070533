-- Python tractor children (lang = "tractor") of a Lua root: RPC, an error, a
-- context with a bidirectional stream, cancellation from both sides. tractor
-- needs Python >= 3.13 and is not a Debian package: where no interpreter has
-- it (tests/matrix/find_tractor_python.sh says which were tried) each test
-- is skipped with that reason, and ctest reports the entry as skipped.
local tractor = require "tractor"
local H = require "helpers"

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local MATRIX = here .. "/../matrix"

local T = {}
local function test(name, fn, limit) T[#T + 1] = {name, fn, limit or 90} end

-- the interpreter that has tractor, or raise H.skip with the reason
local function tractor_python()
  local f = io.popen("sh " .. MATRIX .. "/find_tractor_python.sh")
  local out = f:read("a"):gsub("%s+$", "")
  local ok = f:close()
  if not ok then H.skip(out) end
  -- the tractor child imports tractor_side from tests/matrix
  local pp = os.getenv("PYTHONPATH")
  tractor._C.setenv("PYTHONPATH", (pp and pp ~= "") and (MATRIX .. ":" .. pp) or MATRIX)
  return out
end

for _, tpt in ipairs(H.transports) do
  test(("Lua root, Python tractor child (%s): rpc, an error, stream, cancel both sides"):format(tpt), function()
    local py = tractor_python()
    tractor.open_nursery(H.root_opts(tpt, {name = "lua-root"}), function(an)
      local me = tractor.current_actor()
      local p = an:start_actor("tractor-child", {lang = "tractor", enable_modules = {"tractor_side"},
        command = py .. " -m tractor._child"})
      H.eq(p:run_from_ns("tractor_side", "add", {x = 40, y = 2}), 42)
      local e = H.raises(p.run_from_ns, p, "tractor_side", "fail", {msg = "raised by tractor"})
      H.eq(e.type, "ValueError")
      H.eq(e.src_uid.uuid, p.uuid)
      assert(e.tb_str:find("ValueError: raised by tractor", 1, true), e.tb_str)
      local n = p:open_context("tractor_side", "echo", {first = "hi"}, function(ctx, first)
        H.eq(first, "hi")
        ctx:open_stream(function(s)
          for i = 1, 10 do s:send({i = i}); H.eq(s:receive().i, i) end
        end)
        return ctx:wait_for_result()
      end)
      H.eq(n, 10)
      local res, err
      p:open_context("tractor_side", "wait_in_stream", {}, function(ctx)
        ctx:cancel()
        res, err = ctx:wait_for_result()
      end)
      H.eq(err.type, "ContextCancelled")
      H.eq(err.canceller.uuid, me.uuid)
      e = H.raises(p.open_context, p, "tractor_side", "self_cancel", {}, function(ctx)
        return ctx:wait_for_result()
      end)
      H.eq(e.type, "ContextCancelled")
      H.eq(e.canceller.uuid, p.uuid)
      assert(p:cancel_actor())
    end)
  end)
end

return T
