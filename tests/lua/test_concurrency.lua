-- Concurrency in one Lua state: served tasks are coroutines, and the root's
-- own tasks (task groups) run concurrently too.
local tractor = require "tractor"
local H = require "helpers"

local T = {}
local function test(name, fn, limit) T[#T + 1] = {name, fn, limit or 90} end

local function with_child(fn, tpt)
  tractor.open_nursery(H.root_opts(tpt), function(an)
    local p = an:start_actor("conc", {enable_modules = {"luamod"}})
    fn(p, an)
    p:cancel_actor()
  end)
end

test("a Lua actor serves 100 concurrent contexts (a barrier all must reach)", function()
  with_child(function(p)
    local N, results = 100, {}
    local t0 = tractor._C.monotonic()
    tractor.open_task_group(function(tg)
      for i = 1, N do
        tg:spawn(function()
          -- every callee waits until all N are running at once: this only
          -- completes if the child runs them concurrently
          results[i] = p:open_context("luamod", "barrier", {n = N}, function(ctx, first)
            assert(first == N, "started after the barrier: " .. tostring(first))
            ctx:open_stream(function(stream)
              for k = 1, 10 do
                stream:send(i * 100 + k)
                H.eq(stream:receive(), 2 * (i * 100 + k))
              end
            end)
            return ctx:wait_for_result()
          end)
        end)
      end
    end)
    for i = 1, N do H.eq(results[i], 10, "result " .. i) end
    tractor.log("info", ("100 contexts x 10 round trips in %.2f s"):format(tractor._C.monotonic() - t0))
  end)
end, 120)

test("100 contexts held open at once, streamed round-robin", function()
  with_child(function(p)
    local ctxs, streams = {}, {}
    for i = 1, 100 do
      local ctx, first = p:open_context("luamod", "echo", {first = i})
      H.eq(first, i)
      ctxs[i], streams[i] = ctx, ctx:open_stream()
    end
    for round = 1, 3 do
      for i = 1, 100 do streams[i]:send({i, round}) end
      for i = 1, 100 do assert(H.deep_eq(streams[i]:receive(), {i, round})) end
    end
    for i = 1, 100 do
      streams[i]:close()
      H.eq(ctxs[i]:wait_for_result(), 3)
      ctxs[i]:__close()
    end
  end)
end, 120)

test("a blocked receive in one context does not stall the others", function()
  with_child(function(p)
    p:open_context("luamod", "wait_in_stream", nil, function(idle)
      -- the child has a coroutine blocked in receive for `idle`...
      local s = idle:open_stream()
      -- ...while another context and plain calls progress
      local n = p:open_context("luamod", "echo", nil, function(ctx)
        ctx:open_stream(function(st)
          for i = 1, 50 do st:send(i); H.eq(st:receive(), i) end
        end)
        return ctx:wait_for_result()
      end)
      H.eq(n, 50)
      H.eq(p:run_from_ns("luamod", "add", {x = 1, y = 2}), 3)
      s:close()
    end)
  end)
end)

test("concurrent calls from a root task group overlap in the child", function()
  with_child(function(p)
    local t0 = tractor._C.monotonic()
    local got = 0
    tractor.open_task_group(function(tg)
      for _ = 1, 20 do
        tg:spawn(function()
          H.eq(p:run_from_ns("luamod", "sleep", {secs = 0.5}), 0.5)
          got = got + 1
        end)
      end
    end)
    local took = tractor._C.monotonic() - t0
    H.eq(got, 20)
    assert(took < 3, ("20 x 0.5 s calls took %.2f s: not concurrent"):format(took))
  end)
end)

test("a task group inside a served function", function()
  with_child(function(p)
    local r = p:run_from_ns("luamod", "parallel_sleeps", {n = 10, secs = 0.3})
    H.eq(r.done, 10)
    assert(r.took < 1.5, ("took %.2f s"):format(r.took))
  end)
end)

test("a failing task cancels its task group siblings", function()
  local t0 = tractor._C.monotonic()
  local finished = 0
  local e = H.raises(tractor.open_task_group, function(tg)
    for _ = 1, 5 do tg:spawn(function() tractor.sleep(30); finished = finished + 1 end) end
    tg:spawn(function() tractor.sleep(0.05); error({type = "Boom", message = "sibling failed"}) end)
  end)
  H.eq(e.type, "Boom")
  H.eq(finished, 0)
  assert(tractor._C.monotonic() - t0 < 5)
end)

test("children started in parallel from a task group", function()
  tractor.open_nursery(H.root_opts(), function(an)
    local portals = {}
    tractor.open_task_group(function(tg)
      for i = 1, 4 do
        tg:spawn(function()
          portals[i] = an:start_actor("par" .. i, {enable_modules = {"luamod"}})
        end)
      end
    end)
    for i = 1, 4 do
      H.eq(portals[i]:run_from_ns("luamod", "add", {x = i, y = 0}), i)
      assert(portals[i]:cancel_actor())
    end
  end)
end)

return T
