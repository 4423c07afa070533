-- matrixmod (Lua): the endpoints every language serves for the
-- cross-language matrix tests; see matrixmod.c for the list.
local tractor = require "tractor"

local M = {}

function M.add(kw) return kw.x + kw.y end

function M.whoami()
  local me = tractor.current_actor()
  return {me.name, me.uuid, "lua", me.addr}
end

-- error({type=...}) keeps the type name; a plain error() is a LuaError
function M.fail(kw)
  if kw.plain then error(kw.msg) end
  error({type = "ValueError", message = kw.msg})
end

M.echo = tractor.context(function(ctx, kw)
  ctx:started(kw.first == nil and "ready" or kw.first)
  local n = 0
  ctx:open_stream(function(stream)
    for msg in stream:iter() do
      stream:send(msg)
      n = n + 1
    end
  end)
  return n
end)

M.wait_in_stream = tractor.context(function(ctx)
  ctx:started()
  ctx:open_stream(function(stream)
    for _ in stream:iter() do end
  end)
end)

M.self_cancel = tractor.context(function(ctx)
  ctx:started()
  ctx:cancel("the callee gave up")
  tractor.sleep(30)    -- Cancelled is raised here
end)

local function run(p, kw)
  return p:run_from_ns(kw.ns, kw.func, kw.kwargs or tractor.map({}))
end

function M.call_back(kw)
  local p = tractor.connect(kw.addr)
  local ok, res = pcall(run, p, kw)
  p:release()
  if not ok then error(res, 0) end   -- relayed: our uid joins the relay path
  return res
end

function M.spawn_and_call(kw)
  local me = tractor.current_actor().name
  return tractor.open_nursery(function(an)
    local p = an:start_actor(me .. "-" .. kw.lang, {lang = kw.lang, enable_modules = {kw.ns}})
    local ok, res = pcall(run, p, kw)
    p:cancel_actor()
    if not ok then error(res, 0) end
    return res
  end)
end

function M.cancel_actor_at(kw)
  local p = tractor.connect(kw.addr)
  local acked = p:cancel_actor(5)
  p:release()
  return acked
end

return M
