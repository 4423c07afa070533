-- Contexts and streams: started values, bidirectional streaming, results,
-- errors in both directions, cancellation both ways, overruns, payload specs.
local tractor = require "tractor"
local H = require "helpers"

local T = {}
local function test(name, fn, limit) T[#T + 1] = {name, fn, limit or 60} end

-- run fn(portal) against a fresh Lua child serving luamod
local function with_child(fn, tpt)
  tractor.open_nursery(H.root_opts(tpt), function(an)
    local p = an:start_actor("ctxchild", {enable_modules = {"luamod"}})
    fn(p, an)
    p:cancel_actor()
  end)
end

for _, tpt in ipairs(H.transports) do
  test("bidirectional streaming, started value and result (" .. tpt .. ")", function()
    with_child(function(p)
      local n = p:open_context("luamod", "echo", {first = {hello = "world"}}, function(ctx, first)
        assert(H.deep_eq(first, {hello = "world"}))
        H.eq(ctx.side, "caller")
        H.eq(ctx.peer.name, "ctxchild")
        ctx:open_stream(function(stream)
          -- several in flight before reading back
          for i = 1, 20 do stream:send(i) end
          for i = 1, 20 do H.eq(stream:receive(), i) end
          stream:send({x = 1.5})
          assert(H.deep_eq(stream:receive(), {x = 1.5}))
        end)
        return ctx:wait_for_result()
      end)
      H.eq(n, 21)
    end, tpt)
  end)
end

test("iterating a producer's stream; the result after the stream ends", function()
  with_child(function(p)
    local got = {}
    local res = p:open_context("luamod", "producer", {count = 50}, function(ctx, first)
      H.eq(first, nil)
      ctx:open_stream(function(stream)
        for v in stream:iter() do got[#got + 1] = v end
        -- after the end, receive raises EndOfChannel
        local e = H.raises(stream.receive, stream)
        H.eq(e.type, "EndOfChannel")
      end)
      return ctx:wait_for_result()
    end)
    H.eq(res, 50)
    H.eq(#got, 50)
    for i = 1, 50 do H.eq(got[i], i) end
  end)
end)

test("<close> variables for context and stream", function()
  with_child(function(p)
    local result
    do
      local ctx <close>, first = p:open_context("luamod", "echo", {first = 7})
      H.eq(first, 7)
      do
        local stream <close> = ctx:open_stream()
        stream:send("a")
        H.eq(stream:receive(), "a")
      end
      result = ctx:wait_for_result()
    end
    H.eq(result, 1)
  end)
end)

test("the callee fails before started: open_context raises its error", function()
  with_child(function(p)
    local e = H.raises(p.open_context, p, "luamod", "fail_before_started", nil, function()
      error("the block must not run")
    end)
    H.eq(e.type, "KeyError")
    H.eq(e.message, "failed before started")
    H.eq(p:run_from_ns("luamod", "add", {x = 1, y = 1}), 2)
  end)
end)

test("open_context on a non-context function, or one that never calls started()", function()
  with_child(function(p)
    for _, f in ipairs{"add", "no_started"} do
      local e = H.raises(p.open_context, p, "luamod", f, {x = 1, y = 2}, function()
        error("the block must not run")
      end)
      -- a plain function is refused by its StartAck (TypeError); one that
      -- returns without started() is a protocol violation (MessagingError)
      H.eq(e.type, f == "add" and "TypeError" or "MessagingError")
      assert(e.message:find("not a context endpoint", 1, true), e.message)
    end
    H.eq(p:run_from_ns("luamod", "add", {x = 1, y = 1}), 2)
  end)
end)

test("the callee fails mid-stream: receive raises the remote error", function()
  with_child(function(p)
    local e = H.raises(p.open_context, p, "luamod", "fail_mid_stream", nil, function(ctx)
      ctx:open_stream(function(stream)
        stream:send("go")
        stream:receive()
      end)
    end)
    H.eq(e.type, "LuaError")
    assert(e.message:find("failed mid-stream", 1, true), e.message)
    assert(e.tb_str:find("luamod.lua", 1, true), e.tb_str)
  end)
end)

test("an error in the caller's block cancels the callee", function()
  with_child(function(p)
    local e = H.raises(p.open_context, p, "luamod", "wait_in_stream", nil, function(ctx)
      ctx:open_stream(function() error({type = "MyError", message = "caller gave up"}) end)
    end)
    H.eq(e.type, "MyError")
    -- the child is fine and served the cancellation
    H.eq(p:run_from_ns("luamod", "add", {x = 2, y = 3}), 5)
  end)
end)

test("caller cancels: absorbed by open_context, result is nil + ContextCancelled", function()
  with_child(function(p)
    local seen
    local r = p:open_context("luamod", "wait_in_stream", nil, function(ctx, first)
      H.eq(first, "waiting")
      ctx:open_stream(function(stream)
        stream:send(1)
        ctx:cancel("enough")
        local v, e = ctx:wait_for_result()
        H.eq(v, nil)
        H.eq(e.type, "ContextCancelled")
        H.eq(e.canceller.uuid, tractor.current_actor().uuid)
        seen = true
      end)
      return "block done"
    end)
    assert(seen)
    H.eq(r, "block done")
  end)
end)

test("callee cancels itself: the caller gets ContextCancelled naming the child", function()
  with_child(function(p)
    local e = H.raises(p.open_context, p, "luamod", "self_cancel", nil, function(ctx)
      return ctx:wait_for_result()
    end)
    H.eq(e.type, "ContextCancelled")
    H.eq(e.canceller.name, "ctxchild")
    assert(e.message:find("child decided to stop", 1, true), e.message)
  end)
end)

test("a C child: the Lua caller cancels a context (wait_in_stream)", function()
  tractor.open_nursery(H.root_opts(), function(an)
    local p = an:start_actor("cctx", {lang = "c", enable_modules = {"testmod"}})
    p:open_context("testmod", "wait_in_stream", nil, function(ctx)
      ctx:cancel()
      local v, e = ctx:wait_for_result()
      H.eq(v, nil)
      H.eq(e.type, "ContextCancelled")
    end)
    local e = H.raises(p.open_context, p, "testmod", "self_cancel", nil, function(ctx)
      return ctx:wait_for_result()
    end)
    H.eq(e.type, "ContextCancelled")
    H.eq(e.canceller.name, "cctx")
    p:cancel_actor()
  end)
end)

test("overrun: flooding a callee that does not read raises StreamOverrun", function()
  with_child(function(p)
    local e = H.raises(p.open_context, p, "luamod", "no_reader", {secs = 30}, function(ctx)
      ctx:open_stream(function(stream)
        for i = 1, 2000 do
          stream:send(i)
          if i % 100 == 0 then tractor.sleep(0.01) end
        end
        stream:receive()
      end)
    end)
    H.eq(e.type, "StreamOverrun")
    assert(e.sender and e.sender.name, "sender named")
    -- the child survived and serves
    H.eq(p:run_from_ns("luamod", "add", {x = 1, y = 2}), 3)
  end)
end)

test("allow_overruns: a slow reader gets everything", function()
  with_child(function(p)
    -- both sides opt in: the caller in open_context, the callee in open_stream
    local sum = p:open_context("luamod", "slow_sum", {delay = 0.0005, allow_overruns = true},
      {allow_overruns = true},
      function(ctx)
        ctx:open_stream(function(stream)
          for i = 1, 300 do stream:send(i) end
        end)
        return ctx:wait_for_result()
      end)
    H.eq(sum, 300 * 301 // 2)
  end)
end)

test("pld_spec: a payload off the spec is a MsgTypeError", function()
  with_child(function(p)
    local e = H.raises(p.open_context, p, "luamod", "typed", nil, function(ctx)
      ctx:open_stream(function(stream)
        stream:send(5)
        H.eq(stream:receive(), 5)
        stream:send("not an int")
        stream:receive()
      end)
    end)
    H.eq(e.type, "MsgTypeError")
    -- the caller-side spec
    e = H.raises(p.open_context, p, "luamod", "echo", {first = "str"}, {pld_spec = "int"},
      function() end)
    H.eq(e.type, "MsgTypeError")
  end)
end)

test("fail_after around receive: TimeoutError, and the remote task is cancelled", function()
  with_child(function(p)
    local e = H.raises(tractor.fail_after, 0.3, function()
      p:open_context("luamod", "wait_in_stream", nil, function(ctx)
        ctx:open_stream(function(stream) stream:receive() end)
      end)
    end)
    H.eq(e.type, "TimeoutError")
    H.eq(p:run_from_ns("luamod", "add", {x = 1, y = 1}), 2)
  end)
end)

test("broadcast subscribers each get every value", function()
  with_child(function(p)
    p:open_context("luamod", "echo", nil, function(ctx)
      ctx:open_stream(function(stream)
        local a, b = stream:subscribe(), stream:subscribe()
        for i = 1, 5 do stream:send(i) end
        local ga, gb = {}, {}
        for _ = 1, 5 do ga[#ga + 1] = a:receive() end
        for _ = 1, 5 do gb[#gb + 1] = b:receive() end
        a:close()
        b:close()
        assert(H.deep_eq(ga, {1, 2, 3, 4, 5}) and H.deep_eq(gb, {1, 2, 3, 4, 5}))
      end)
    end)
  end)
end)

return T
