-- pingpong: a context endpoint that answers every ping with a pong.
local tractor = require "tractor"

local M = {}

M.pong = tractor.context(function(ctx, kw)
  ctx:started(("%s is ready"):format(tractor.current_actor().name))
  local n = 0
  ctx:open_stream(function(stream)
    for msg in stream:iter() do
      n = n + 1
      stream:send({pong = msg.ping, by = kw.who})
    end
  end)
  return n  -- the caller's ctx:wait_for_result()
end)

return M
