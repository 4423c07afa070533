-- A three-level tree: one call from the root fans out through a
-- 'supervisor' actor to two 'leaf' actors it spawns, and the aggregate comes
-- back up. Teardown runs inside out.
--
-- Port of tractor's examples/nested_actor_tree.py.
--   lua5.4 examples/lua/nested_actor_tree.lua
local tractor = require "tractor"
tractor.add_lua_path((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/modules")

tractor.open_nursery(function(an)
  local portal = an:start_actor("supervisor", {enable_modules = {"tree"}})
  local squares = portal:open_context("tree", "fan_out_squares", {vals = {1, 2, 3, 4}},
    function(ctx, leaf_names)
      print("root: supervisor spawned " .. table.concat(leaf_names, ", "))
      return ctx:wait_for_result()
    end)
  print("root: aggregate result " .. table.concat(squares, ", "))
  assert(table.concat(squares, ",") == "1,4,9,16")
  print("root: cancelling supervisor")
  portal:cancel_actor()
end)
print("root: tree torn down, no zombies")
