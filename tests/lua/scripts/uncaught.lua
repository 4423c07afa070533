-- Leaves the root actor, a nursery and a child open and dies with an
-- uncaught error: lua5.4 closes the state, whose finalizers must tear the
-- tree down. Prints the child's pid first.
local tractor = require "tractor"
tractor.open_root_actor({name = "uncaught", enable_registrar = false, handle_signals = false,
  transport = arg[1] or "tcp"})
local an = tractor.open_nursery()
local p = an:start_actor("orphan", {enable_modules = {"luamod"}})
io.write(p.pid, "\n")
io.flush()
-- a call in flight on a task that will never be resumed again
tractor.open_task_group(function(tg)
  tg:spawn(function() p:run_from_ns("luamod", "sleep_forever") end)
  tg:spawn(function()
    tractor.sleep(0.2)
    error("uncaught error with the tree still up")
  end)
end)
