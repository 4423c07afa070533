-- Lua binding figures for run-bench: one-way receive and send of ints and
-- the round trip over a context stream, through `tractor` (the Lua binding),
-- against a C child serving bench/benchmod.c.
--
--   LUA_CPATH="build/bindings/lua/?.so;;" LUA_PATH="build/bindings/lua/?.lua;;" \
--   TRACTOR_MODULE_PATH=build/bench/modules lua5.4 bench/lua_bench.lua uds
--
-- Prints "R <key> <value>" lines for run-bench.
local tractor = require "tractor"
local now = tractor._C.monotonic

local tpt = arg[1] or "uds"
local N = tonumber(arg[2] or "300000")

local function result(key, v)
  io.write(("R %s %.6g\n"):format(key, v))
  io.flush()
end

tractor.open_nursery({name = "luabench", transport = tpt, handle_signals = false,
                      enable_registrar = false}, function(an)
  local p = an:start_actor("csrc", {enable_modules = {"bench"}, lang = "c"})

  -- one-way, C child -> Lua: receive N ints
  local t0 = now()
  local got, bad = 0, 0
  p:open_context("bench", "source", {count = N, size = 8}, {allow_overruns = true},
    function(ctx)
      ctx:open_stream(function(s)
        for v in s:iter() do
          if v ~= got then bad = bad + 1 end
          got = got + 1
        end
      end)
    end)
  local t1 = now()
  assert(got == N and bad == 0, ("lua_bench: received %d/%d, %d out of order"):format(got, N, bad))
  result("lua.stream.recv.msgs_per_s", N / (t1 - t0))

  -- one-way, Lua -> C child: send N ints until the sink has counted them
  t0 = now()
  local res = p:open_context("bench", "sink", {}, function(ctx)
    ctx:open_stream(function(s)
      for i = 0, N - 1 do s:send(i) end
    end)
    return ctx:wait_for_result()
  end)
  t1 = now()
  assert(res[1] == N and res[2] == 0, "lua_bench: the sink lost messages")
  result("lua.stream.send.msgs_per_s", N / (t1 - t0))

  -- round trip
  local iters, warm = 10000, 1000
  local lat = {}
  p:open_context("bench", "echo", {}, function(ctx)
    ctx:open_stream(function(s)
      for i = 0, warm + iters - 1 do
        local a = now()
        s:send(i)
        local v = s:receive()
        local b = now()
        assert(v == i, "lua_bench: wrong echo")
        if i >= warm then lat[#lat + 1] = b - a end
      end
    end)
  end)
  table.sort(lat)
  result("lua.rtt.p50_us", lat[#lat // 2 + 1] * 1e6)
  result("lua.rtt.p99_us", lat[math.floor(#lat * 0.99) + 1] * 1e6)
  p:cancel_actor()
end)
