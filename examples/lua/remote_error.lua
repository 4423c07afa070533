-- Errors raised in a child arrive as tables: type, message, src_uid,
-- relay_path, tb_str (the child's Lua traceback) and print well.
--
--   lua5.4 examples/lua/remote_error.lua
local tractor = require "tractor"
tractor.add_lua_path((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/modules")

tractor.open_nursery(function(an)
  local calc = an:start_actor("calculator", {enable_modules = {"calc"}})

  local ok, e = pcall(calc.run_from_ns, calc, "calc", "divide", {x = 1, y = 0})
  assert(not ok)
  print("type:   ", e.type)                -- ZeroDivisionError
  print("message:", e.message)
  print("from:   ", e.src_uid.name)        -- calculator

  ok, e = pcall(calc.run_from_ns, calc, "calc", "explode", {reason = "demo"})
  assert(not ok and tractor.is_error(e, "LuaError"))
  print("\ntostring(e):\n" .. tostring(e))

  -- the child is still serving
  print("\n10 / 4 =", calc:run_from_ns("calc", "divide", {x = 10, y = 4}))
  calc:cancel_actor()
end)
