-- A daemon actor: start_actor() spawns a child that serves until it is
-- cancelled; call it as often as you like, then cancel_actor() ends it.
--
-- Port of tractor's examples/actor_spawning_and_causality_with_daemon.py.
--   lua5.4 examples/lua/actor_spawning_and_causality_with_daemon.lua
local tractor = require "tractor"
tractor.add_lua_path((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/modules")

tractor.open_nursery(function(an)
  local portal = an:start_actor("frank", {enable_modules = {"causality"}})
  print(portal:run_from_ns("causality", "movie_theatre_question"))
  print(portal:run_from_ns("causality", "cellar_door", {msg = "beautiful"}))
  assert(portal:run_from_ns("causality", "movie_theatre_question") == "in your mind's eye")
  -- daemons live until cancelled; the nursery would wait for it otherwise
  local acked = portal:cancel_actor()
  print("frank acknowledged the cancel:", acked)
  assert(acked)
end)
