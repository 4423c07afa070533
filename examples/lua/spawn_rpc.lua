-- Spawn a Lua child actor and call its functions (RPC).
--
--   lua5.4 examples/lua/spawn_rpc.lua
local tractor = require "tractor"
tractor.add_lua_path((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/modules")

tractor.open_nursery(function(an)
  -- a daemon child serving the `calc` module
  local calc = an:start_actor("calculator", {enable_modules = {"calc"}})
  print(("spawned '%s' (pid %d)"):format(calc.name, calc.pid))
  print("2 + 3 =", calc:run_from_ns("calc", "add", {x = 2, y = 3}))
  print("fib(50) =", calc:run_from_ns("calc", "fib", {n = 50}))

  -- a one-shot child: runs one call, the nursery collects the result
  local once = an:run_in_actor("calc", "fib", {n = 30}, {name = "fib30"})
  print("fib(30) from a one-shot child =", once:wait_for_result())

  -- daemons live until cancelled
  calc:cancel_actor()
end)
print("all children are gone")
