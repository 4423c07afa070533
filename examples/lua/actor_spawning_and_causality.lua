-- Spawn an actor, run one function in it, get the result back
-- (run_in_actor): the nursery does not end before the child has returned,
-- and the child is cancelled once its one job is done.
--
-- Port of tractor's examples/actor_spawning_and_causality.py.
--   lua5.4 examples/lua/actor_spawning_and_causality.lua
local tractor = require "tractor"
tractor.add_lua_path((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/modules")

local result
tractor.open_nursery(function(an)
  local portal = an:run_in_actor("causality", "cellar_door", {msg = "beautiful"},
    {name = "some_linguist"})
  -- the nursery waits for the result before the block ends; asking for it
  -- explicitly is also fine
  result = portal:wait_for_result()
end)
print(result)
assert(result == "beautiful (from some_linguist, a child: true)")
