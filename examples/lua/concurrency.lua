-- Several calls in flight at once: a task group in the root, coroutines in
-- the child. Ten 0.3 s sleeps finish in about 0.3 s, not 3 s.
--
--   lua5.4 examples/lua/concurrency.lua
local tractor = require "tractor"
tractor.add_lua_path((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/modules")

tractor.open_nursery(function(an)
  local p = an:start_actor("sleeper", {enable_modules = {"naps"}})
  local t0 = tractor._C.monotonic()
  tractor.open_task_group(function(tg)
    for i = 1, 10 do
      tg:spawn(function()
        local who = p:run_from_ns("naps", "nap", {secs = 0.3, id = i})
        io.write(who, " ")
      end)
    end
  end)
  print(("\n10 naps of 0.3 s took %.2f s"):format(tractor._C.monotonic() - t0))
  p:cancel_actor()
end)
