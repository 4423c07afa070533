-- Ping/pong over a bidirectional stream inside a context.
--
--   lua5.4 examples/lua/pingpong.lua
local tractor = require "tractor"
tractor.add_lua_path((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/modules")

tractor.open_nursery(function(an)
  local ponger = an:start_actor("ponger", {enable_modules = {"pingpong"}})
  local count = ponger:open_context("pingpong", "pong", {who = "ponger"}, function(ctx, first)
    print("started:", first)
    ctx:open_stream(function(stream)
      for i = 1, 5 do
        stream:send({ping = i})
        local msg = stream:receive()
        print(("ping %d -> pong %d (by %s)"):format(i, msg.pong, msg.by))
      end
    end)  -- leaving the block closes our side of the stream
    return ctx:wait_for_result()
  end)
  print("the ponger answered", count, "pings")
  ponger:cancel_actor()
end)
