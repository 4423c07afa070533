-- Served by the children of actor_spawning_and_causality*.lua.
local tractor = require "tractor"
local M = {}

function M.cellar_door(kw)
  local me = tractor.current_actor()
  return ("%s (from %s, a child: %s)"):format(kw.msg, me.name, tostring(me.is_child))
end

function M.movie_theatre_question()
  return "in your mind's eye"
end

return M
