-- luamod: Lua functions served by Lua child actors in the Lua test suite.
local tractor = require "tractor"

local M = {}

function M.add(kw) return kw.x + kw.y end

-- returns its kwargs unchanged (value round trips)
function M.echo_value(kw) return kw.v end

-- describes the types it received (integers must stay integers)
function M.types(kw)
  local out = {}
  for k, v in pairs(kw) do
    out[k] = type(v) == "number" and math.type(v) or type(v)
  end
  return out
end

function M.getpid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = tonumber(f:read("l"):match("^(%d+)"))
  f:close()
  return pid
end

function M.my_addr() return tractor.current_actor().addr end

function M.fail(kw) error("luamod.fail was asked to fail: " .. tostring(kw.why)) end

function M.fail_typed()
  error({type = "ValueError", message = "a typed Lua error"})
end

-- returns something that cannot be sent
function M.bad_return() return {f = print} end

function M.sleep(kw)
  tractor.sleep(kw.secs or 1)
  return kw.secs
end

-- sleeps until cancelled; records that the cancellation was seen
M.cancelled_seen = 0
function M.sleep_forever()
  local ok, e = pcall(tractor.sleep, 3600)
  if not ok and tractor.is_error(e, "Cancelled") then M.cancelled_seen = M.cancelled_seen + 1 end
  error(e, 0)
end

function M.get_cancelled_seen() return M.cancelled_seen end

-- a deadline inside a served function
function M.sleep_with_deadline(kw)
  return tractor.fail_after(kw.limit, tractor.sleep, kw.secs)
end

-- spawn a Lua child running luamod.fail (depth 1) or recursing (depth > 1)
function M.spawn_and_call(kw)
  local depth = kw.depth or 1
  local me = tractor.current_actor().name
  return tractor.open_nursery(function(an)
    local p = an:start_actor(me .. "-sub", {enable_modules = {"luamod"}})
    local ok, res = pcall(function()
      if depth > 1 then
        return p:run_from_ns("luamod", "spawn_and_call", {depth = depth - 1})
      end
      return p:run_from_ns("luamod", "fail", {why = "deep"})
    end)
    p:cancel_actor()
    if not ok then error(res, 0) end
    return res
  end)
end

-- call a C function in a C grandchild
function M.call_c_grandchild(kw)
  return tractor.open_nursery(function(an)
    local p = an:start_actor("cgrand", {lang = "c", enable_modules = {"testmod"}})
    local r = p:run_from_ns("testmod", "add", {x = kw.x, y = kw.y})
    p:cancel_actor()
    return r
  end)
end

-- context: started(first), echo until the caller stops, return the count
M.echo = tractor.context(function(ctx, kw)
  ctx:started(kw.first == nil and "ready" or kw.first)
  local n = 0
  ctx:open_stream(function(stream)
    for msg in stream:iter() do
      n = n + 1
      stream:send(msg)
    end
  end)
  return n
end)

-- context: stream `count` integers then return count
M.producer = tractor.context(function(ctx, kw)
  ctx:started(nil)
  local count = kw.count or 10
  ctx:open_stream(function(stream)
    for i = 1, count do stream:send(i) end
  end)
  return count
end)

-- context: started, then never reads its stream (for overruns)
M.no_reader = tractor.context(function(ctx, kw)
  ctx:started(true)
  local stream = ctx:open_stream()
  tractor.sleep(kw.secs or 3600)
  stream:close()
  return "slept"
end)

-- context: slow reader (reads `count` values slowly) and returns their sum
M.slow_sum = tractor.context(function(ctx, kw)
  ctx:started(true)
  local sum = 0
  ctx:open_stream({allow_overruns = kw.allow_overruns}, function(stream)
    for v in stream:iter() do
      sum = sum + v
      tractor.sleep(kw.delay or 0.001)
    end
  end)
  return sum
end)

-- context: wait in the stream until cancelled (M.wait_state says how it went)
M.wait_in_stream = tractor.context(function(ctx)
  M.wait_state = "started"
  ctx:started("waiting")
  local ok, e = pcall(ctx.open_stream, ctx, function(stream)
    for _ in stream:iter() do end
  end)
  if not ok then
    M.wait_state = tractor.is_error(e, "Cancelled") and "cancelled" or tostring(e)
    error(e, 0)
  end
  M.wait_state = "stream ended"
  return "stream ended"
end)

-- call luamod.add in the actor at kw.addr
function M.call_peer_add(kw)
  local peer = tractor.connect(kw.addr, 5)
  local r = peer:run_from_ns("luamod", "add", {x = kw.x, y = kw.y})
  peer:release()
  return r
end

-- connect to the actor at kw.addr, open its luamod.wait_in_stream and
-- cancel it from here: returns what our side saw
function M.cancel_in_peer(kw)
  local peer = tractor.connect(kw.addr, 5)
  local seen
  peer:open_context("luamod", "wait_in_stream", nil, function(ctx, first)
    assert(first == "waiting")
    ctx:cancel("cancelled by the child")
    local _, e = ctx:wait_for_result()
    seen = e and e.type
  end)
  peer:release()
  return seen
end

-- context: cancel ourselves after started
M.self_cancel = tractor.context(function(ctx)
  ctx:started(true)
  ctx:cancel("child decided to stop")
  ctx:open_stream(function(stream) stream:receive() end)
  return "unreachable"
end)

M.no_started = tractor.context(function() return "returned without started" end)

M.fail_before_started = tractor.context(function()
  error({type = "KeyError", message = "failed before started"})
end)

M.fail_mid_stream = tractor.context(function(ctx)
  ctx:started(1)
  ctx:open_stream(function(stream)
    stream:receive()
    error("failed mid-stream")
  end)
end)

M.typed = tractor.context(function(ctx)
  ctx:started(1)
  ctx:open_stream(function(stream)
    for v in stream:iter() do stream:send(v) end
  end)
  return 0
end, {pld_spec = "int"})

-- concurrency: every context waits until `n` of them have been running at
-- once. A latch on the peak, not a check of the current count: the first
-- context released may finish (and leave) before the others wake from their
-- sleep, and they must still pass.
M.running, M.peak = 0, 0
M.barrier = tractor.context(function(ctx, kw)
  M.running = M.running + 1
  if M.running > M.peak then M.peak = M.running end
  local n = kw.n
  tractor.fail_after(kw.timeout or 20, function()
    while M.peak < n do tractor.sleep(0.005) end
  end)
  ctx:started(M.peak)
  local got = 0
  ctx:open_stream(function(stream)
    for v in stream:iter() do
      got = got + 1
      stream:send(v * 2)
    end
  end)
  M.running = M.running - 1
  return got
end)

-- a task group inside a served function: concurrent sleeps finish together
function M.parallel_sleeps(kw)
  local t0 = tractor._C.monotonic()
  local done = 0
  tractor.open_task_group(function(tg)
    for _ = 1, kw.n do tg:spawn(function() tractor.sleep(kw.secs); done = done + 1 end) end
  end)
  return {done = done, took = tractor._C.monotonic() - t0}
end

return M
