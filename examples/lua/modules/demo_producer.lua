-- demo_producer: the Lua module of `make demo` (served by the 'producer'
-- actor, and by the 'lua-helper' grandchild the Python actor spawns).
local tractor = require "tractor"

local M = {}

local PHRASE = "one tree many languages one wire protocol"

--- A context: started() says what is coming, then every word goes out as
-- {seq, word} and waits for the consumer's acknowledgement before the next
-- (a bidirectional stream with back-pressure). Returns how many words were
-- acknowledged.
M.produce = tractor.context(function(ctx, kw)
  local words = {}
  for w in (kw.text or PHRASE):gmatch("%S+") do words[#words + 1] = w end
  ctx:started(("%d words from %s"):format(#words, _VERSION))
  local acked = 0
  ctx:open_stream(function(stream)
    for i, w in ipairs(words) do
      stream:send({seq = i, word = w})
      stream:receive()          -- the consumer's ack
      acked = acked + 1
    end
  end)                          -- leaving the block sends Stop
  return acked
end)

--- A context that streams a tick every `period` seconds until cancelled.
M.ticker = tractor.context(function(ctx, kw)
  ctx:started("ticking")
  ctx:open_stream(function(stream)
    local i = 0
    while true do
      i = i + 1
      stream:send(i)
      tractor.sleep(kw.period or 0.05)   -- a cancellation point
    end
  end)
end)

--- A genuine Lua bug: tonumber() gives nil for words, and nil * 2 raises.
function M.double(kw)
  local n = tonumber(kw.text)
  return n * 2
end

return M
