"""The cross-language matrix, Python parent side: a Python root with a child
of each language (c, python, lua), over TCP and UDS, does RPC, a context with
a bidirectional stream, cancellation from each side and an error in each
direction. The children serve tests/matrix/matrixmod.{c,py,lua} (the same
endpoints in every language); the C and Lua parents are
tests/integration/test_matrix.cpp and tests/lua/test_matrix.lua."""
import os
import sys

import pytest

import libtractor as tractor

MATRIX = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "matrix"))
# the root serves matrixmod itself; Python children import it and Lua
# children find matrixmod.lua (children inherit the environment)
sys.path.insert(0, MATRIX)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (MATRIX, os.environ.get("PYTHONPATH")) if p)
os.environ["TRACTOR_LUA_PATH"] = ";".join(p for p in (MATRIX, os.environ.get("TRACTOR_LUA_PATH")) if p)

LANGS = ["c", "python", "lua"]
VALUES = [7, -123456789012, 2.5, "héllo wörld", b"\xff\x00\x01", [1, "two", True],
          {"k": "v", "n": [{}]}, {}, 2**62]


def check_traceback(lang: str, tb: str, msg: str = "") -> None:
    if lang == "c":
        assert "matrixmod.c" in tb, tb
    elif lang == "python":
        assert "Traceback (most recent call last)" in tb and "matrixmod.py" in tb, tb
        assert f"ValueError: {msg}" in tb, tb          # whole, to the last line
    else:
        assert "stack traceback" in tb and "matrixmod.lua" in tb, tb


@pytest.mark.deadline(90)
@pytest.mark.parametrize("lang", LANGS)
def test_python_parent(lang, transport):
    with tractor.open_nursery(name="py-root", transport=transport,
                              enable_modules=["matrixmod"]) as an, tractor.fail_after(60):
        me = tractor.current_actor()
        p = an.start_actor(f"{lang}-child", lang=lang, enable_modules=["matrixmod"])
        name, uuid, child_lang, child_addr = p.run_from_ns("matrixmod", "whoami")
        assert (name, child_lang) == (f"{lang}-child", lang)
        assert (name, uuid) == tuple(p.uid)

        # RPC
        assert p.run_from_ns("matrixmod", "add", x=40, y=2) == 42

        # a context with a bidirectional stream
        with p.open_context("matrixmod", "echo", first=f"hello {lang}") as (ctx, first):
            assert first == f"hello {lang}"
            with ctx.open_stream() as stream:
                for _ in range(3):
                    for v in VALUES:
                        stream.send(v)
                        assert stream.receive() == v
        assert ctx.outcome == 3 * len(VALUES)

        # the caller cancels: absorbed, we are the canceller
        with p.open_context("matrixmod", "wait_in_stream") as (ctx, _):
            with ctx.open_stream() as stream:
                stream.send("one message before the cancel")
                ctx.cancel("the parent says stop")
                assert ctx.cancel_acked
        # still readable once the block has released the context
        assert ctx.cancel_called and ctx.cancel_acked
        assert tuple(ctx.canceller) == tuple(me.uid)
        res = ctx.wait_for_result()
        assert isinstance(res, tractor.ContextCancelled)
        assert tuple(res.canceller) == tuple(me.uid)
        assert tuple(res.src_uid) == tuple(p.uid)

        # the callee cancels itself: raised, the callee is the canceller
        with pytest.raises(tractor.ContextCancelled) as ei:
            with p.open_context("matrixmod", "self_cancel") as (ctx, _):
                ctx.wait_for_result()
        assert tuple(ei.value.canceller) == tuple(p.uid)
        assert "the callee gave up" in ei.value.message

        # an error child -> parent, with the child's traceback whole
        msg = f"raised by the {lang} child " + "x" * 700
        with pytest.raises(tractor.RemoteActorError) as ei:
            p.run_from_ns("matrixmod", "fail", msg=msg, depth=12)
        e = ei.value
        assert isinstance(e, ValueError)
        assert (e.boxed_type_str, e.src_type_str, e.message) == ("ValueError", "ValueError", msg)
        assert tuple(e.src_uid) == tuple(p.uid)
        assert [tuple(u) for u in e.relay_path] == [tuple(p.uid)]
        check_traceback(lang, e.tb_str, msg)

        # an error parent -> child: the child calls us back, our Python
        # function fails, the child relays the error home
        with pytest.raises(tractor.RemoteActorError) as ei:
            p.run_from_ns("matrixmod", "call_back", addr=me.addr, ns="matrixmod", func="fail",
                          kwargs={"msg": "raised by the Python parent"})
        e = ei.value
        assert (e.boxed_type_str, e.src_type_str) == ("RemoteActorError", "ValueError")
        assert e.message == "raised by the Python parent"
        assert tuple(e.src_uid) == tuple(me.uid)
        assert [tuple(u) for u in e.relay_path] == [tuple(me.uid), tuple(p.uid)]
        check_traceback("python", e.tb_str, "raised by the Python parent")
        assert p.run_from_ns("matrixmod", "call_back", addr=me.addr, ns="matrixmod",
                             func="add", kwargs={"x": 1, "y": 2}) == 3

        assert p.cancel_actor()


@pytest.mark.deadline(90)
def test_c_error_under_a_lua_middle_reaches_the_python_root(transport):
    with tractor.open_nursery(name="py-root", transport=transport) as an, tractor.fail_after(60):
        mid = an.start_actor("lua-middle", lang="lua", enable_modules=["matrixmod"])
        with pytest.raises(tractor.RemoteActorError) as ei:
            mid.run_from_ns("matrixmod", "spawn_and_call", lang="c", ns="matrixmod", func="fail",
                            kwargs={"msg": "a C error two levels down"})
        e = ei.value
        assert (e.boxed_type_str, e.src_type_str) == ("RemoteActorError", "ValueError")
        assert e.message == "a C error two levels down"
        assert e.src_uid[0] == "lua-middle-c"
        assert [u[0] for u in e.relay_path] == ["lua-middle-c", "lua-middle"]
        assert tuple(e.relay_path[1]) == tuple(mid.uid)
        check_traceback("c", e.tb_str)
        assert mid.cancel_actor()


@pytest.mark.deadline(90)
def test_context_cancelled_names_the_canceller_of_any_language(transport):
    """A third actor cancels the one serving our context: we see it named."""
    with tractor.open_nursery(name="py-root", transport=transport) as an, tractor.fail_after(60):
        for canceller_lang, target_lang in [("lua", "python"), ("c", "lua"), ("python", "c")]:
            target = an.start_actor(f"{target_lang}-target", lang=target_lang,
                                    enable_modules=["matrixmod"])
            canceller = an.start_actor(f"{canceller_lang}-canceller", lang=canceller_lang,
                                       enable_modules=["matrixmod"])
            addr = target.run_from_ns("matrixmod", "whoami")[3]
            with pytest.raises(tractor.ContextCancelled) as ei:
                with target.open_context("matrixmod", "wait_in_stream") as (ctx, _):
                    assert canceller.run_from_ns("matrixmod", "cancel_actor_at", addr=addr) is True
                    ctx.wait_for_result()
            assert tuple(ei.value.canceller) == tuple(canceller.uid), (canceller_lang, target_lang)
            assert tuple(ei.value.src_uid) == tuple(target.uid)
            assert canceller.cancel_actor()
