"""Spawning Python children (the spirit of tractor's test_spawning.py)."""
import os
import time

import pytest

import libtractor as tractor
from conftest import children_of, eventually, pid_alive
from tmods import basic


def test_run_in_actor_returns_result(transport):
    with tractor.open_nursery(transport=transport) as an:
        p = an.run_in_actor(basic.add, x=40, y=2)
        assert p.name == "add"
        with tractor.fail_after(20):
            assert p.wait_for_result() == 42
        # asking twice gives the same result
        assert p.result() == 42


def test_start_actor_run_and_cancel(transport):
    with tractor.open_nursery(transport=transport) as an:
        p = an.start_actor("daemon", enable_modules=["tmods.basic"])
        assert p.name == "daemon"
        assert p.pid in children_of(os.getpid())
        with tractor.fail_after(20):
            for i in range(3):
                assert p.run(basic.add, x=i, y=10) == i + 10
            assert p.run(basic.getpid) == p.pid
            name, uuid, is_root = p.run(basic.whoami)
        assert (name, uuid) == p.uid and is_root is False
        assert p.cancel_actor() is True
        assert eventually(lambda: not pid_alive(p.pid))
        # the channel is gone: cancel_actor returns at once
        t0 = time.monotonic()
        assert p.cancel_actor(timeout=5) is False
        assert time.monotonic() - t0 < 0.5


def test_several_children_in_parallel():
    with tractor.open_nursery() as an:
        portals = [an.start_actor(f"w{i}", enable_modules=["tmods.basic"]) for i in range(3)]
        with tractor.fail_after(20):
            pids = {p.run(basic.getpid) for p in portals}
        assert len(pids) == 3
        assert an.child_count == 3
        an.cancel()
        assert an.child_count == 0


def test_open_root_actor_and_current_actor():
    with pytest.raises(tractor.NoRuntime):
        tractor.current_actor()
    with tractor.open_root_actor("myroot") as actor:
        assert tractor.current_actor() is actor
        assert actor.name == "myroot" and len(actor.uuid) == 36
        assert tractor.is_root_process()
        with pytest.raises(RuntimeError, match="one runtime per process"):
            with tractor.open_root_actor("second"):
                pass
        with tractor.open_nursery() as an:  # uses the open root
            p = an.run_in_actor(basic.whoami, name="who")
            with tractor.fail_after(20):
                assert p.wait_for_result()[:1] == ["who"]
    with pytest.raises(tractor.NoRuntime):
        tractor.current_actor()


def test_nursery_cancel_ends_daemons():
    """As in tractor, a nursery waits for its daemons at exit: cancel them."""
    with tractor.open_nursery() as an:
        p = an.start_actor("daemon", enable_modules=["tmods.basic"])
        pid = p.pid
        an.cancel()
    assert not pid_alive(pid)


def test_nested_python_grandchildren():
    """root -> child -> grandchild, all Python; the grandchild's error comes
    back relayed through the child."""
    with tractor.open_nursery() as an:
        p = an.start_actor("top", enable_modules=["tmods.basic"])
        with tractor.fail_after(30):
            with pytest.raises(tractor.RemoteActorError) as ei:
                p.run(basic.spawn_and_call, depth=2)
        e = ei.value
        assert e.boxed_type_str == "RemoteActorError"
        assert e.src_type_str == "ValueError"
        assert e.src_uid[0] == "top-sub-sub"
        assert [u[0] for u in e.relay_path] == ["top-sub-sub", "top-sub", "top"]
        assert "from depth 1" in e.message
        p.cancel_actor()


def test_run_in_actor_error_raised_at_nursery_exit():
    with pytest.raises(tractor.RemoteActorError) as ei:
        with tractor.open_nursery() as an:
            an.run_in_actor(basic.fail, name="failer", msg="child failed")
    e = ei.value
    assert isinstance(e, ValueError)  # the boxed builtin type is mixed in
    assert e.boxed_type is ValueError and e.boxed_type_str == "ValueError"
    assert e.src_uid[0] == "failer"
    assert "child failed" in e.message
    assert "raise ValueError(msg)" in e.tb_str


def test_two_failing_children_raise_a_group_and_cancel_the_rest():
    with pytest.raises(ExceptionGroup) as ei:
        with tractor.open_nursery() as an:
            an.run_in_actor(basic.fail, name="f1")
            an.run_in_actor(basic.fail, name="f2")
            bystander = an.start_actor("bystander", enable_modules=["tmods.basic"])
            bpid = bystander.pid
            time.sleep(0.5)
    assert len(ei.value.exceptions) == 2
    assert {e.src_uid[0] for e in ei.value.exceptions} == {"f1", "f2"}
    assert all(e.boxed_type_str == "ValueError" for e in ei.value.exceptions)
    assert not pid_alive(bpid)


def test_error_in_the_nursery_block_cancels_children():
    with pytest.raises(ZeroDivisionError):
        with tractor.open_nursery() as an:
            p = an.start_actor("victim", enable_modules=["tmods.basic"])
            pid = p.pid
            1 / 0
    assert not pid_alive(pid)


def test_import_error_in_child_is_raised_by_the_nursery():
    """The child reports its boot failure (as tractor's children do): the
    error surfaces when the nursery ends."""
    with pytest.raises(tractor.RemoteActorError) as ei:
        with tractor.open_nursery() as an:
            an.start_actor("broken", enable_modules=["tmods.does_not_exist"])
    assert ei.value.boxed_type_str == "ModuleNotFoundError"
    assert isinstance(ei.value, ModuleNotFoundError)
    assert ei.value.src_uid[0] == "broken"
    assert "does_not_exist" in ei.value.message
    assert "Traceback" in ei.value.tb_str


def test_unknown_language_is_rejected():
    with tractor.open_nursery() as an:
        with pytest.raises(ValueError):
            an.start_actor("x", lang="cobol")


def test_python_root_with_c_child():
    with tractor.open_nursery() as an:
        p = an.start_actor("cchild", lang="c", enable_modules=["testmod"])
        with tractor.fail_after(20):
            assert p.run_from_ns("testmod", "add", x=20, y=22) == 42
            with pytest.raises(tractor.RemoteActorError) as ei:
                p.run_from_ns("testmod", "fail")
            assert ei.value.boxed_type_str == "ValueError"
            with p.open_context("testmod", "echo") as (ctx, first):
                assert first == 42
                with ctx.open_stream() as s:
                    for v in ["a", 1, [1, 2], {"k": None}]:
                        s.send(v)
                        assert s.receive() == v
            assert ctx.outcome == 4
        p.cancel_actor()


def test_python_child_with_c_grandchild():
    with tractor.open_nursery() as an:
        p = an.start_actor("pymid", enable_modules=["tmods.basic"])
        with tractor.fail_after(30):
            assert p.run(basic.call_c_child, x=1, y=2) == 3
        p.cancel_actor()
