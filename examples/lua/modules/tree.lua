-- Served by nested_actor_tree.lua: a supervisor and its leaves.
local tractor = require "tractor"
local M = {}

--- a tiny unit of work, run in a leaf
function M.compute_square(kw)
  print(("%s: squaring %d"):format(tractor.current_actor().name, kw.x))
  return kw.x * kw.x
end

--- the supervisor: spawn two leaves, send each value to one of them
-- (concurrently, a task per call), return the squares
M.fan_out_squares = tractor.context(function(ctx, kw)
  return tractor.open_nursery(function(an)
    local portals = {}
    for i = 1, 2 do portals[i] = an:start_actor("leaf_" .. i, {enable_modules = {"tree"}}) end
    ctx:started({portals[1].name, portals[2].name})
    local squares = {}
    tractor.open_task_group(function(tg)
      for i, x in ipairs(kw.vals) do
        tg:spawn(function()
          squares[i] = portals[(i - 1) % 2 + 1]:run_from_ns("tree", "compute_square", {x = x})
        end)
      end
    end)
    for _, p in ipairs(portals) do   -- inside-out: the leaves go first
      print("supervisor: cancelling " .. p.name)
      p:cancel_actor()
    end
    return squares
  end)
end)

return M
