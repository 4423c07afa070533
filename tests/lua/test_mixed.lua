-- One tree, three languages: a Lua root with Python and C children, and a
-- Python child with a Lua grandchild.
local tractor = require "tractor"
local H = require "helpers"

local T = {}
local function test(name, fn, limit) T[#T + 1] = {name, fn, limit or 60} end

-- the Python binding must be importable (the ctest environment sets
-- PYTHONPATH when bindings/python is built)
local function have_python()
  return os.execute("python3 -c 'import libtractor' >/dev/null 2>&1") == true
end

local function skip(why)
  io.stderr:write("skipped: " .. why .. "\n")
end

test("Lua root -> Python child: calls, types across the boundary, errors", function()
  if not have_python() then return skip("the Python binding is not importable") end
  tractor.open_nursery(H.root_opts(), function(an)
    local p = an:start_actor("pychild", {lang = "python", enable_modules = {"luamix"}})
    H.eq(p:run_from_ns("luamix", "add", {x = 40, y = 2}), 42)
    local types = p:run_from_ns("luamix", "type_names",
      {i = 1, f = 1.0, s = "héllo", b = "\xff\x00", forced = tractor.bin("abc"), t = {1, 2},
       m = {k = 1}, e = tractor.map({}), n = false})
    assert(H.deep_eq(types, {i = "int", f = "float", s = "str", b = "bytes", forced = "bytes",
      t = "list", m = "dict", e = "dict", n = "bool"}), "python types")
    local v = p:run_from_ns("luamix", "make_values")
    H.eq(math.type(v.i), "integer")
    H.eq(math.type(v.f), "float")
    H.eq(v.s, "text")
    H.eq(v.b, "\0\xff")
    H.eq(v.big, 1 << 62)
    H.eq(v.neg, -5)
    H.eq(v.n, nil)
    assert(H.deep_eq(v.l, {1, 2}))
    local e = H.raises(p.run_from_ns, p, "luamix", "fail", {msg = "from python"})
    H.eq(e.type, "ValueError")
    H.eq(e.message, "from python")
    assert(e.tb_str:find("luamix.py", 1, true), e.tb_str)
    local n = p:open_context("luamix", "echo", {first = "py"}, function(ctx, first)
      H.eq(first, "py")
      ctx:open_stream(function(s)
        for i = 1, 10 do s:send({i = i}); H.eq(s:receive().i, i) end
      end)
      return ctx:wait_for_result()
    end)
    H.eq(n, 10)
    assert(p:cancel_actor())
  end)
end, 90)

test("Lua root -> C child -> back: a context with a C callee", function()
  tractor.open_nursery(H.root_opts(), function(an)
    local p = an:start_actor("cc", {lang = "c", enable_modules = {"testmod"}})
    local got = {}
    local res = p:open_context("testmod", "producer", {count = 5}, function(ctx)
      ctx:open_stream(function(s) for v in s:iter() do got[#got + 1] = v end end)
      return ctx:wait_for_result()
    end)
    H.eq(res, 5)
    assert(H.deep_eq(got, {0, 1, 2, 3, 4}))
    assert(p:cancel_actor())
  end)
end)

test("Python child spawning a Lua grandchild (lang='lua' from Python)", function()
  if not have_python() then return skip("the Python binding is not importable") end
  tractor.open_nursery(H.root_opts(), function(an)
    local p = an:start_actor("pymid", {lang = "python", enable_modules = {"luamix_spawn"}})
    H.eq(p:run_from_ns("luamix_spawn", "call_lua_grandchild", {x = 20, y = 22}), 42)
    assert(p:cancel_actor())
  end)
end, 90)

return T
