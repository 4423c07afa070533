-- Served by full_fledged_streaming_service.lua: two streamers and the
-- aggregator that merges them.
local tractor = require "tractor"
local M = {}

--- streamer: stream 0 .. seed-1, return seed
M.stream_data = tractor.context(function(ctx, kw)
  ctx:started()
  ctx:open_stream(function(stream)
    for i = 0, kw.seed - 1 do stream:send(i) end
  end)
  return kw.seed
end)

--- aggregator: spawn two streamers, read both streams at once (a task each),
-- pass every value on to our caller once; return how many that was
M.aggregate = tractor.context(function(ctx, kw)
  return tractor.open_nursery(function(an)
    local portals = {}
    for i = 1, 2 do
      portals[i] = an:start_actor("streamer_" .. i, {enable_modules = {"streamers"}})
    end
    ctx:started()
    local seen, unique = {}, 0
    ctx:open_stream(function(out)
      tractor.open_task_group(function(tg)
        for _, p in ipairs(portals) do
          tg:spawn(function()
            -- let values queue (no StreamOverrun) while we pass them on
            p:open_context("streamers", "stream_data", {seed = kw.seed}, {allow_overruns = true},
                function(sctx)
              sctx:open_stream(function(s)
                for v in s:iter() do
                  if not seen[v] then
                    seen[v] = true
                    unique = unique + 1
                    out:send(v)
                  end
                end
              end)
              return sctx:wait_for_result()
            end)
            print("FINISHED ITERATING " .. p.name)
          end)
        end
      end)
    end)
    print("FINISHED ITERATING in aggregator")
    for _, p in ipairs(portals) do p:cancel_actor() end
    return unique
  end)
end)

return M
