-- Served by service_discovery.lua: actors that find each other by name.
local tractor = require "tractor"
local M = {}

function M.hi()
  return "hi, I am " .. tractor.current_actor().name
end

--- find the other actor through the registrar and greet it
function M.say_hello(kw)
  local p = tractor.wait_for_actor(kw.other, 10)
  local answer = p:run_from_ns("peers", "hi")
  p:release()
  return ("%s asked %s: %q"):format(tractor.current_actor().name, kw.other, answer)
end

return M
