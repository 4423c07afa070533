-- An actor tree over unix domain sockets instead of TCP: open the root with
-- transport = "uds" and every child inherits it. Each actor listens on a
-- socket file in the runtime directory (<rt dir>/<name>@<pid>.sock).
--
-- Port of tractor's examples/uds_transport_actor_tree.py, one level deeper.
--   lua5.4 examples/lua/uds_transport_actor_tree.lua
local tractor = require "tractor"
tractor.add_lua_path((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/modules")

-- a self-contained tree (no registrar: the default UDS registry socket,
-- registry@1616.sock, is machine-wide)
tractor.open_nursery({transport = "uds", enable_registrar = false}, function(an)
  local me = tractor.current_actor()
  print(("root: %s@%s"):format(me.name, me.addr))
  assert(me.addr:find("^/unix/"))
  local portal = an:start_actor("uds_child", {enable_modules = {"uds_report"}})
  for _, line in ipairs(portal:run_from_ns("uds_report", "spawn_grandchild")) do
    print("  " .. line)
    assert(line:find("@/unix/", 1, true) and line:find(".sock pid=", 1, true))
  end
  portal:cancel_actor()
end)
