-- naps: a served function that sleeps without blocking the actor.
local tractor = require "tractor"
local M = {}
function M.nap(kw)
  tractor.sleep(kw.secs)
  return kw.id
end
return M
