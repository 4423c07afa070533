-- The cross-language matrix, Lua parent side: a Lua root with a child of
-- each language (c, python, lua), over TCP and UDS, does RPC, a context with a
-- bidirectional stream, cancellation from each side and an error in each
-- direction. The children serve tests/matrix/matrixmod.{c,py,lua} (the same
-- endpoints in every language); the C and Python parents are
-- tests/integration/test_matrix.cpp and tests/python/test_matrix.py.
local tractor = require "tractor"
local H = require "helpers"

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local MATRIX = here .. "/../matrix"
-- the root serves matrixmod itself; Lua children find matrixmod.lua and
-- Python children import matrixmod.py (children inherit the environment)
tractor.add_lua_path(MATRIX)
local pp = os.getenv("PYTHONPATH")
tractor._C.setenv("PYTHONPATH", (pp and pp ~= "") and (MATRIX .. ":" .. pp) or MATRIX)

local T = {}
local function test(name, fn, limit) T[#T + 1] = {name, fn, limit or 90} end

local function have_python()
  return os.execute("${TRACTOR_PYTHON:-python3} -c 'import libtractor' >/dev/null 2>&1") == true
end

local VALUES = {7, -123456789012, 2.5, "héllo wörld", "\xff\x00\x01", {1, "two", true},
  {k = "v", n = {tractor.map({})}}, tractor.map({}), 1 << 62}

local function check_traceback(lang, tb, msg)
  if lang == "c" then
    assert(tb:find("matrixmod.c", 1, true), tb)
  elseif lang == "python" then
    assert(tb:find("Traceback (most recent call last)", 1, true) and tb:find("matrixmod.py", 1, true), tb)
    assert(tb:find("ValueError: " .. (msg or ""), 1, true), tb)   -- whole, to the last line
  else
    assert(tb:find("stack traceback", 1, true) and tb:find("matrixmod.lua", 1, true), tb)
  end
end

local function lua_parent(lang, tpt)
  if lang == "python" and not have_python() then H.skip("the Python binding is not importable") end
  tractor.open_nursery(H.root_opts(tpt, {name = "lua-root", enable_modules = {"matrixmod"}}), function(an)
    local me = tractor.current_actor()
    local p = an:start_actor(lang .. "-child", {lang = lang, enable_modules = {"matrixmod"}})
    local who = p:run_from_ns("matrixmod", "whoami")
    H.eq(who[1], lang .. "-child", "name")
    H.eq(who[2], p.uuid, "uuid")
    H.eq(who[3], lang, "lang")

    -- RPC
    H.eq(p:run_from_ns("matrixmod", "add", {x = 40, y = 2}), 42)

    -- a context with a bidirectional stream
    local n = p:open_context("matrixmod", "echo", {first = "hello " .. lang}, function(ctx, first)
      H.eq(first, "hello " .. lang, "first")
      ctx:open_stream(function(s)
        for _ = 1, 3 do
          for i, v in ipairs(VALUES) do
            s:send(v)
            local got = s:receive()
            assert(H.deep_eq(got, v), ("value %d came back different"):format(i))
          end
        end
      end)
      return ctx:wait_for_result()
    end)
    H.eq(n, 3 * #VALUES, "echo count")

    -- the caller cancels: absorbed, we are the canceller
    local res, err
    p:open_context("matrixmod", "wait_in_stream", {}, function(ctx)
      ctx:open_stream(function(s)
        s:send("one message before the cancel")
        ctx:cancel("the parent says stop")
      end)
      res, err = ctx:wait_for_result()
    end)
    H.eq(res, nil)
    H.eq(err.type, "ContextCancelled")
    H.eq(err.canceller.uuid, me.uuid, "canceller")
    H.eq(err.src_uid.uuid, p.uuid, "source")

    -- the callee cancels itself: raised, the callee is the canceller
    local e = H.raises(p.open_context, p, "matrixmod", "self_cancel", {}, function(ctx)
      return ctx:wait_for_result()
    end)
    H.eq(e.type, "ContextCancelled")
    H.eq(e.canceller.uuid, p.uuid, "canceller")
    assert(e.message:find("the callee gave up", 1, true), e.message)

    -- an error child -> parent, with the child's traceback whole
    local msg = "raised by the " .. lang .. " child " .. ("x"):rep(700)
    e = H.raises(p.run_from_ns, p, "matrixmod", "fail", {msg = msg, depth = 12})
    H.eq(e.type, "ValueError")
    H.eq(e.src_type, "ValueError")
    H.eq(e.message, msg)
    H.eq(e.src_uid.uuid, p.uuid)
    H.eq(#e.relay_path, 1)
    H.eq(e.relay_path[1].uuid, p.uuid)
    check_traceback(lang, e.tb_str, msg)

    -- an error parent -> child: the child calls us back, our Lua function
    -- fails, the child relays the error home
    e = H.raises(p.run_from_ns, p, "matrixmod", "call_back", {addr = me.addr, ns = "matrixmod",
      func = "fail", kwargs = {msg = "raised by the Lua parent"}})
    H.eq(e.type, "RemoteActorError")
    H.eq(e.src_type, "ValueError")
    H.eq(e.message, "raised by the Lua parent")
    H.eq(e.src_uid.uuid, me.uuid)
    H.eq(#e.relay_path, 2)
    H.eq(e.relay_path[1].uuid, me.uuid)
    H.eq(e.relay_path[2].uuid, p.uuid)
    check_traceback("lua", e.tb_str)
    H.eq(p:run_from_ns("matrixmod", "call_back", {addr = me.addr, ns = "matrixmod", func = "add",
      kwargs = {x = 1, y = 2}}), 3)

    assert(p:cancel_actor(), "cancel_actor acknowledged")
  end)
end

for _, tpt in ipairs(H.transports) do
  for _, lang in ipairs({"c", "python", "lua"}) do
    test(("Lua parent, %s child (%s): rpc, stream, cancel both sides, errors both ways"):format(lang, tpt),
      function() lua_parent(lang, tpt) end)
  end

  test(("a Python error under a C middle reaches the Lua root (%s)"):format(tpt), function()
    if not have_python() then H.skip("the Python binding is not importable") end
    tractor.open_nursery(H.root_opts(tpt, {name = "lua-root"}), function(an)
      local mid = an:start_actor("c-middle", {lang = "c", enable_modules = {"matrixmod"}})
      local e = H.raises(mid.run_from_ns, mid, "matrixmod", "spawn_and_call", {lang = "python",
        ns = "matrixmod", func = "fail", kwargs = {msg = "a Python error two levels down"}})
      H.eq(e.type, "RemoteActorError")
      H.eq(e.src_type, "ValueError")
      H.eq(e.message, "a Python error two levels down")
      H.eq(e.src_uid.name, "c-middle-python")
      H.eq(#e.relay_path, 2)
      H.eq(e.relay_path[1].name, "c-middle-python")
      H.eq(e.relay_path[2].uuid, mid.uuid)
      check_traceback("python", e.tb_str, "a Python error two levels down")
      assert(mid:cancel_actor())
    end)
  end)

  test(("ContextCancelled names the canceller of any language (%s)"):format(tpt), function()
    if not have_python() then H.skip("the Python binding is not importable") end
    tractor.open_nursery(H.root_opts(tpt, {name = "lua-root"}), function(an)
      for _, pair in ipairs({{"c", "python"}, {"python", "lua"}, {"lua", "c"}}) do
        local canceller_lang, target_lang = pair[1], pair[2]
        local target = an:start_actor(target_lang .. "-target",
          {lang = target_lang, enable_modules = {"matrixmod"}})
        local canceller = an:start_actor(canceller_lang .. "-canceller",
          {lang = canceller_lang, enable_modules = {"matrixmod"}})
        local addr = target:run_from_ns("matrixmod", "whoami")[4]
        local e = H.raises(target.open_context, target, "matrixmod", "wait_in_stream", {}, function(ctx)
          H.eq(canceller:run_from_ns("matrixmod", "cancel_actor_at", {addr = addr}), true)
          return ctx:wait_for_result()
        end)
        H.eq(e.type, "ContextCancelled")
        H.eq(e.canceller.uuid, canceller.uuid, canceller_lang .. " cancelling " .. target_lang)
        H.eq(e.src_uid.uuid, target.uuid)
        assert(canceller:cancel_actor())
      end
    end)
  end)
end

return T
