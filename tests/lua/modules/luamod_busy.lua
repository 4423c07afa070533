-- luamod_busy: a function that never yields (for the hard-kill test).
local M = {}
function M.spin()
  local x = 0
  while true do x = x + 1 end
end
return M
