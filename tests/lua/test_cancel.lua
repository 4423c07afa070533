-- Cancellation both ways: root -> child task, child -> its own context,
-- whole actors, nurseries, deadlines and signals.
local tractor = require "tractor"
local H = require "helpers"

local T = {}
local function test(name, fn, limit) T[#T + 1] = {name, fn, limit or 60} end

local function with_child(fn, opts)
  tractor.open_nursery(H.root_opts(), function(an)
    local p = an:start_actor("victim", opts or {enable_modules = {"luamod"}})
    fn(p, an)
    if p:connected() then p:cancel_actor() end
  end)
end

test("a timed-out call cancels the remote Lua task (it sees Cancelled)", function()
  with_child(function(p)
    local r, timed_out = tractor.move_on_after(0.3, p.run_from_ns, p, "luamod", "sleep_forever")
    H.eq(r, nil)
    assert(timed_out, "timed out")
    assert(H.eventually(function()
      return p:run_from_ns("luamod", "get_cancelled_seen") == 1
    end), "the child's task saw the cancellation")
  end)
end)

test("cancel_actor while a call is in flight: the caller gets an error", function()
  with_child(function(p)
    local err
    tractor.open_task_group(function(tg)
      tg:spawn(function()
        local ok, e = pcall(p.run_from_ns, p, "luamod", "sleep_forever")
        assert(not ok)
        err = e
      end)
      tg:spawn(function()
        tractor.sleep(0.3)
        assert(p:cancel_actor(), "cancel acked")
      end)
    end)
    assert(tractor.is_error(err), tostring(err))
    assert(err.type == "TransportClosed" or err.type == "ContextCancelled"
      or err.type == "ActorCancelled", err.type)
    assert(H.eventually(function() return not H.pid_alive(p.pid) end))
  end)
end)

test("cancel_actor with 10 contexts open: every task stops, the child exits", function()
  with_child(function(p)
    local ended = 0
    tractor.open_task_group(function(tg)
      for _ = 1, 10 do
        tg:spawn(function()
          -- our own actor-cancel request reaches these contexts as a
          -- ContextCancelled naming us: absorbed by open_context
          p:open_context("luamod", "wait_in_stream", nil, function(ctx)
            ctx:open_stream(function(s) for _ in s:iter() do end end)
          end)
          ended = ended + 1
        end)
      end
      tg:spawn(function()
        tractor.sleep(0.5)
        assert(p:cancel_actor(), "cancel acked")
      end)
    end)
    H.eq(ended, 10)
    assert(H.eventually(function() return not H.pid_alive(p.pid) end))
  end)
end)

test("the root cancels one of the child's contexts; the child keeps serving", function()
  with_child(function(p)
    for _ = 1, 3 do
      p:open_context("luamod", "wait_in_stream", nil, function(ctx)
        ctx:cancel("not needed")
        local _, e = ctx:wait_for_result()
        H.eq(e.type, "ContextCancelled")
      end)
    end
    H.eq(p:run_from_ns("luamod", "add", {x = 3, y = 4}), 7)
  end)
end)

test("a child cancels a context served by the root (child -> root)", function()
  -- the root serves luamod too; its main thread serves while it waits
  tractor.open_root_actor(H.root_opts(nil, {enable_modules = {"luamod"}}), function(me)
    local luamod = require "luamod"
    tractor.open_nursery(function(an)
      local p = an:start_actor("canceller", {enable_modules = {"luamod"}})
      H.eq(p:run_from_ns("luamod", "cancel_in_peer", {addr = me.addr}), "ContextCancelled")
      H.eq(luamod.wait_state, "cancelled")
      p:cancel_actor()
    end)
  end)
end)

test("serve_forever serves until tractor.cancel_actor()", function()
  tractor.open_root_actor(H.root_opts(nil, {enable_modules = {"luamod"}}), function(me)
    tractor.open_nursery(function(an)
      local p = an:start_actor("client", {enable_modules = {"luamod"}})
      local served_until
      tractor.open_task_group(function(tg)
        tg:spawn(function()
          tractor.serve_forever()
          served_until = tractor._C.monotonic()
        end)
        tg:spawn(function()
          H.eq(p:run_from_ns("luamod", "call_peer_add", {addr = me.addr, x = 2, y = 5}), 7)
          tractor.cancel_actor()
        end)
      end)
      assert(served_until, "serve_forever returned")
    end)
  end)
end)

test("nursery:cancel() tears down every daemon", function()
  tractor.open_nursery(H.root_opts(), function(an)
    local pids = {}
    for i = 1, 3 do pids[i] = an:start_actor("d" .. i, {enable_modules = {"luamod"}}).pid end
    H.eq(an:child_count(), 3)
    an:cancel()
    for _, pid in ipairs(pids) do assert(not H.pid_alive(pid), "pid " .. pid) end
    H.eq(an:child_count(), 0)
  end)
end)

test("an error in the nursery block cancels the children", function()
  local pid
  local e = H.raises(tractor.open_nursery, H.root_opts(), function(an)
    pid = an:start_actor("doomed", {enable_modules = {"luamod"}}).pid
    error({type = "BlockError", message = "the block failed"})
  end)
  H.eq(e.type, "BlockError")
  assert(not H.pid_alive(pid))
end)

test("a spawn abandoned by a cancelled task is finished before the nursery closes", function()
  local e = H.raises(tractor.open_nursery, H.root_opts(), function(an)
    tractor.open_task_group(function(tg)
      tg:spawn(function() an:start_actor("slowpoke", {enable_modules = {"luamod"}}) end)
      tg:spawn(function() error({type = "Early", message = "failed while a spawn was running"}) end)
    end)
  end)
  H.eq(e.type, "Early")
  -- (the leftover check proves the half-started child was torn down)
end)

test("SIGTERM to a Lua child: it cancels and exits; the caller sees the channel close", function()
  with_child(function(p)
    local err
    tractor.open_task_group(function(tg)
      tg:spawn(function()
        local ok, e = pcall(p.run_from_ns, p, "luamod", "sleep_forever")
        assert(not ok)
        err = e
      end)
      tg:spawn(function()
        tractor.sleep(0.3)
        os.execute("kill -TERM " .. p.pid)
      end)
    end)
    assert(tractor.is_error(err), tostring(err))
    assert(H.eventually(function() return not H.pid_alive(p.pid) end))
  end)
end)

test("a busy Lua task is hard-killed by the nursery's escalation", function()
  local t0 = tractor._C.monotonic()
  tractor.open_nursery(H.root_opts(), function(an)
    local p = an:start_actor("busy", {enable_modules = {"luamod_busy"}})
    -- start a call that never yields, then leave with an error: the
    -- cancel request cannot be served, SIGTERM's exit timer ends it
    local c = tractor._C.portal_start_call(p._p, "luamod_busy", "spin")
    assert(c == 0)
    tractor.sleep(0.2)
    an:cancel()
    assert(not H.pid_alive(p.pid))
  end)
  assert(tractor._C.monotonic() - t0 < 10)
end)

test("a deadline inside a served function raises TimeoutError at the caller", function()
  with_child(function(p)
    local e = H.raises(p.run_from_ns, p, "luamod", "sleep_with_deadline", {secs = 5, limit = 0.2})
    H.eq(e.type, "TimeoutError")
    H.eq(p:run_from_ns("luamod", "add", {x = 1, y = 1}), 2)
  end)
end)

test("SIGINT to a Lua root cancels the whole tree", function()
  local pid
  local t0 = tractor._C.monotonic()
  local e = H.raises(tractor.open_nursery, H.root_opts(nil, {handle_signals = true}), function(an)
    local p = an:start_actor("sigchild", {enable_modules = {"luamod"}})
    pid = p.pid
    tractor.open_task_group(function(tg)
      tg:spawn(function() p:run_from_ns("luamod", "sleep_forever") end)
      tg:spawn(function()
        -- from another process: system() itself ignores SIGINT while it runs
        os.execute(("(sleep 0.3; kill -INT %d) &"):format(H.getpid()))
        tractor.sleep(30)
      end)
    end)
  end)
  assert(tractor.is_error(e, "Cancelled"), tostring(e))
  assert(not H.pid_alive(pid), "child gone")
  assert(tractor._C.monotonic() - t0 < 10)
end)

return T
