-- Spawning, RPC and errors both ways, with Lua and C children.
local tractor = require "tractor"
local H = require "helpers"

local T = {}
local function test(name, fn, limit) T[#T + 1] = {name, fn, limit or 60} end

for _, tpt in ipairs(H.transports) do
  test("start_actor + run_from_ns + cancel_actor (" .. tpt .. ")", function()
    tractor.open_nursery(H.root_opts(tpt), function(an)
      local p = an:start_actor("luachild", {enable_modules = {"luamod"}})
      H.eq(p.name, "luachild")
      assert(p.pid > 0 and H.pid_alive(p.pid))
      H.eq(p:run_from_ns("luamod", "add", {x = 40, y = 2}), 42)
      H.eq(math.type(p:run_from_ns("luamod", "add", {x = 1, y = 2})), "integer")
      H.eq(p:run_from_ns("luamod", "getpid"), p.pid)
      assert(p:cancel_actor(), "cancel_actor acked")
      assert(H.eventually(function() return not H.pid_alive(p.pid) end), "child exited")
      assert(not p:cancel_actor(), "channel gone: not acked")
    end)
  end)

  test("run_in_actor returns the function's result (" .. tpt .. ")", function()
    tractor.open_nursery(H.root_opts(tpt), function(an)
      local p = an:run_in_actor("luamod", "add", {x = 20, y = 22}, {name = "adder"})
      H.eq(p.name, "adder")
      H.eq(p:wait_for_result(), 42)
    end)
  end)
end

test("values round trip through a Lua child with their types", function()
  tractor.open_nursery(H.root_opts(), function(an)
    local p = an:start_actor("echoer", {enable_modules = {"luamod"}})
    local values = {0, -1, math.maxinteger, math.mininteger, 1.0, -2.5, "text", "é",
      "\xff\xfe", true, false, {1, 2, {3}}, {a = {b = "c"}, [10] = 1}, {}}
    for _, v in ipairs(values) do
      local got = p:run_from_ns("luamod", "echo_value", {v = v})
      assert(H.deep_eq(got, v), "round trip of " .. tostring(v))
    end
    H.eq(p:run_from_ns("luamod", "echo_value", {v = nil}), nil)
    local types = p:run_from_ns("luamod", "types", {i = 3, f = 3.0, s = "x", b = true, t = {}})
    assert(H.deep_eq(types, {i = "integer", f = "float", s = "string", b = "boolean", t = "table"}))
    p:cancel_actor()
  end)
end)

test("a Lua error in a served function arrives with message and traceback", function()
  tractor.open_nursery(H.root_opts(), function(an)
    local p = an:start_actor("failer", {enable_modules = {"luamod"}})
    local e = H.raises(p.run_from_ns, p, "luamod", "fail", {why = "testing"})
    assert(tractor.is_error(e), "a tractor.Error")
    H.eq(e.type, "LuaError")
    assert(e.message:find("luamod.fail was asked to fail: testing", 1, true), e.message)
    assert(e.tb_str:find("stack traceback", 1, true), e.tb_str)
    assert(e.tb_str:find("luamod.lua", 1, true), e.tb_str)
    H.eq(e.src_uid.name, "failer")
    H.eq(#e.relay_path, 1)
    assert(tostring(e):find("LuaError: ", 1, true) and tostring(e):find("from actor 'failer'", 1, true))
    -- error({type=..., message=...}) keeps its type
    e = H.raises(p.run_from_ns, p, "luamod", "fail_typed")
    H.eq(e.type, "ValueError")
    H.eq(e.message, "a typed Lua error")
    -- a return value that cannot be sent
    e = H.raises(p.run_from_ns, p, "luamod", "bad_return")
    H.eq(e.type, "TypeError")
    assert(e.message:find("cannot be sent", 1, true), e.message)
    -- the channel is still usable
    H.eq(p:run_from_ns("luamod", "add", {x = 1, y = 1}), 2)
    p:cancel_actor()
  end)
end)

test("unknown module and function give remote errors", function()
  tractor.open_nursery(H.root_opts(), function(an)
    local p = an:start_actor("svc", {enable_modules = {"luamod"}})
    local e = H.raises(p.run_from_ns, p, "nomod", "f")
    H.eq(e.type, "ModuleNotExposed")
    assert(e.message:find("nomod", 1, true))
    e = H.raises(p.run_from_ns, p, "luamod", "nofunc")
    H.eq(e.type, "AttributeError")
    H.eq(p:run_from_ns("luamod", "add", {x = 1, y = 2}), 3)
    p:cancel_actor()
  end)
end)

test("values that cannot be sent fail before anything is sent", function()
  tractor.open_nursery(H.root_opts(), function(an)
    local p = an:start_actor("svc", {enable_modules = {"luamod"}})
    local e = H.raises(p.run_from_ns, p, "luamod", "echo_value", {v = {f = print}})
    H.eq(e.type, "TypeError")
    assert(e.message:find("kwargs.v.f", 1, true), e.message)
    local cyc = {}
    cyc[1] = cyc
    e = H.raises(p.run_from_ns, p, "luamod", "echo_value", {v = cyc})
    assert(e.message:find("cycle", 1, true), e.message)
    e = H.raises(p.run_from_ns, p, "luamod", "echo_value", "not a table")
    assert(e.message:find("kwargs must be a table", 1, true), e.message)
    H.eq(p:run_from_ns("luamod", "add", {x = 2, y = 2}), 4)
    p:cancel_actor()
  end)
end)

test("a run_in_actor child's error propagates out of the nursery", function()
  local e = H.raises(tractor.open_nursery, H.root_opts(), function(an)
    an:run_in_actor("luamod", "fail", {why = "ria"}, {name = "riafail"})
  end)
  assert(tractor.is_error(e), tostring(e))
  H.eq(e.type, "LuaError")
  H.eq(e.src_uid.name, "riafail")
  assert(e.message:find("ria", 1, true))
end)

test("two failing children give an error group and cancel the rest", function()
  local bystander
  local e = H.raises(tractor.open_nursery, H.root_opts(), function(an)
    an:run_in_actor("luamod", "fail", {why = 1}, {name = "f1"})
    an:run_in_actor("luamod", "fail", {why = 2}, {name = "f2"})
    bystander = an:start_actor("bystander", {enable_modules = {"luamod"}})
    tractor.sleep(0.5)
  end)
  H.eq(e.type, "BaseExceptionGroup")
  H.eq(#e.errors, 2)
  for _, sub in ipairs(e.errors) do H.eq(sub.type, "LuaError") end
  assert(not H.pid_alive(bystander.pid), "bystander cancelled")
end)

for _, case in ipairs{{"no_such_module", "ModuleNotFoundError", "module 'no_such_module' not found"},
    {"luamod_broken", "ImportError", "refuses to load"}} do
  test("a module that cannot load is a boot error: " .. case[1], function()
    -- the boot error comes either from start_actor or, once it arrives
    -- after the SpawnSpec, from the nursery
    local e = H.raises(tractor.open_nursery, H.root_opts(), function(an)
      an:start_actor("bootfail", {enable_modules = {case[1]}})
      tractor.sleep(1)
    end)
    assert(tractor.is_error(e), tostring(e))
    H.eq(e.type, case[2])
    assert(e.message:find(case[3], 1, true), e.message)
    assert(not e.message:find("\n", 1, true), "one-line message: " .. e.message)
    assert(e.tb_str:find(case[3], 1, true), e.tb_str)
    H.eq(e.src_uid.name, "bootfail")
  end)
end

test("nested tree depth 3: the grandchild's error reaches the root relayed", function()
  tractor.open_nursery(H.root_opts(), function(an)
    local p = an:start_actor("top", {enable_modules = {"luamod"}})
    local e = H.raises(p.run_from_ns, p, "luamod", "spawn_and_call", {depth = 2})
    H.eq(e.type, "RemoteActorError")
    H.eq(e.src_type, "LuaError")
    H.eq(e.src_uid.name, "top-sub-sub")
    H.eq(#e.relay_path, 3)
    H.eq(e.relay_path[1].name, "top-sub-sub")
    H.eq(e.relay_path[2].name, "top-sub")
    H.eq(e.relay_path[3].name, "top")
    assert(e.message:find("deep", 1, true), e.message)
    p:cancel_actor()
  end)
end, 90)

test("Lua root -> C child (testmod)", function()
  tractor.open_nursery(H.root_opts(), function(an)
    local p = an:start_actor("cchild", {lang = "c", enable_modules = {"testmod"}})
    H.eq(p:run_from_ns("testmod", "add", {x = 40, y = 2}), 42)
    H.eq(p:run_from_ns("testmod", "getpid"), p.pid)
    local e = H.raises(p.run_from_ns, p, "testmod", "fail")
    H.eq(e.type, "ValueError")
    assert(e.tb_str:find("testmod.fail", 1, true))
    local n = p:open_context("testmod", "echo", nil, function(ctx, first)
      H.eq(first, 42)
      ctx:open_stream(function(s)
        for i = 1, 10 do s:send({i, "x"}); assert(H.deep_eq(s:receive(), {i, "x"})) end
      end)
      return ctx:wait_for_result()
    end)
    H.eq(n, 10)
    assert(p:cancel_actor())
  end)
end)

test("Lua child -> C grandchild", function()
  tractor.open_nursery(H.root_opts(), function(an)
    local p = an:start_actor("luamid", {enable_modules = {"luamod"}})
    H.eq(p:run_from_ns("luamod", "call_c_grandchild", {x = 5, y = 6}), 11)
    p:cancel_actor()
  end)
end)

test("discovery: the root is the registrar; find_actor / wait_for_actor / connect", function()
  math.randomseed(H.getpid())
  local reg = ("127.0.0.1:%d"):format(21000 + math.random(0, 20000))
  tractor.open_nursery({registry_addrs = reg, handle_signals = false}, function(an)
    assert(tractor.current_actor().is_registrar, "the root became the registrar")
    local p = an:start_actor("findme", {enable_modules = {"luamod"}})
    local q = tractor.wait_for_actor("findme", 10)
    H.eq(q.uuid, p.uuid)
    H.eq(q:run_from_ns("luamod", "add", {x = 1, y = 2}), 3)
    q:release()
    local e = H.raises(tractor.find_actor, "nobody", 2)
    H.eq(e.type, "LookupError")
    -- a direct connection to the child's address works too
    local addr = p:run_from_ns("luamod", "my_addr")
    local d = tractor.connect(addr, 5)
    H.eq(d.name, "findme")
    H.eq(d:run_from_ns("luamod", "add", {x = 2, y = 2}), 4)
    d:release()
    assert(p:cancel_actor())
  end)
end)

test("open_root_actor with <close> and explicit nursery close", function()
  do
    local actor <close> = tractor.open_root_actor(H.root_opts(nil, {name = "closer"}))
    H.eq(actor.name, "closer")
    H.eq(tractor.current_actor().name, "closer")
    local an <close> = tractor.open_nursery()
    local p = an:start_actor("c1", {enable_modules = {"luamod"}})
    H.eq(p:run_from_ns("luamod", "add", {x = 1, y = 1}), 2)
    p:cancel_actor()
  end
  assert(not tractor._S.rt, "runtime closed by <close>")
end)

for _, tpt in ipairs(H.transports) do
  test("an uncaught error in a script tears its tree down (" .. tpt .. ")", function()
    local lua = os.getenv("TRACTOR_LUA") or "lua5.4"
    local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
    local socks_before = H.sock_files()
    local f = io.popen(("%s %s/scripts/uncaught.lua %s 2>&1"):format(lua, here, tpt))
    local out = f:read("a")
    local ok, how, code = f:close()
    local pid = tonumber(out:match("^(%d+)\n"))
    assert(pid, "the script printed the child's pid: " .. out)
    assert(not ok and how == "exit" and code == 1, "lua5.4 exits 1: " .. tostring(code))
    assert(out:find("uncaught error with the tree still up", 1, true), out)
    assert(H.eventually(function() return not H.pid_alive(pid) end), "the child is gone")
    assert(H.eventually(function()
      for s in pairs(H.sock_files()) do
        if not socks_before[s] and (s:find("^uncaught@") or s:find("^orphan@")) then return false end
      end
      return true
    end), "no socket files left")
  end)
end

return T
