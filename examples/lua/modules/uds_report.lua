-- Served by uds_transport_actor_tree.lua.
local tractor = require "tractor"
local M = {}

local function getpid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("l"):match("^(%d+)")
  f:close()
  return pid
end

--- this actor's own listening address and pid
function M.report_addr()
  local me = tractor.current_actor()
  return ("%s@%s pid=%s"):format(me.name, me.addr, getpid())
end

--- spawn a grandchild (UDS too) and report both
function M.spawn_grandchild()
  return tractor.open_nursery(function(an)
    local p = an:start_actor("uds_grandchild", {enable_modules = {"uds_report"}})
    local out = {M.report_addr(), p:run_from_ns("uds_report", "report_addr")}
    p:cancel_actor()
    return out
  end)
end

return M
