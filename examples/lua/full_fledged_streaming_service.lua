-- A fan-in streaming service: an aggregator actor spawns two streamers,
-- reads both of their streams at once (a task per stream in one Lua state)
-- and streams the unique values on to the root.
--
-- Port of tractor's examples/full_fledged_streaming_service.py.
--   lua5.4 examples/lua/full_fledged_streaming_service.lua
local tractor = require "tractor"
tractor.add_lua_path((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/modules")
local now = tractor._C.monotonic

local seed = 1000
tractor.open_nursery(function(an)
  local pre_start = now()
  local portal = an:start_actor("aggregator", {enable_modules = {"streamers"}})
  local start, got = nil, {}
  local count = portal:open_context("streamers", "aggregate", {seed = seed}, {allow_overruns = true},
      function(ctx)
    start = now()
    ctx:open_stream(function(stream)
      for v in stream:iter() do got[#got + 1] = v end
    end)
    return ctx:wait_for_result()
  end)
  assert(portal:cancel_actor())
  print(("STREAM TIME = %.3f s\nSTREAM + SPAWN TIME = %.3f s"):format(now() - start, now() - pre_start))
  assert(count == seed and #got == seed)
  table.sort(got)
  for i = 1, seed do assert(got[i] == i - 1) end
end)
