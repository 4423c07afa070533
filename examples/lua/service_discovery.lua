-- Service discovery: actors find each other by name through the registrar
-- (here the root, which elected itself registrar), not through their parent.
--
-- After tractor's examples/service_discovery.py and a_trynamic_first_scene.py.
--   lua5.4 examples/lua/service_discovery.lua
local tractor = require "tractor"
tractor.add_lua_path((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/modules")

-- a private registrar address (a free port) unless one is given
local reg = os.getenv("TRACTOR_REGISTRY_ADDR") or "127.0.0.1:0"
tractor.open_nursery({registry_addrs = reg}, function(an)
  local me = tractor.current_actor()
  print(("the registrar is %s at %s (registrar: %s)"):format(me.name, me.addr, tostring(me.is_registrar)))
  local donny = an:start_actor("donny", {enable_modules = {"peers"}})
  local gretchen = an:start_actor("gretchen", {enable_modules = {"peers"}})
  print(donny:run_from_ns("peers", "say_hello", {other = "gretchen"}))
  print(gretchen:run_from_ns("peers", "say_hello", {other = "donny"}))
  local p = tractor.find_actor("gretchen")
  print(("found %s by name (pid %d)"):format(p.name, gretchen.pid))
  p:release()
  an:cancel()
end)
