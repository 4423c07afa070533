"""Python tractor children (lang="tractor") of a libtractor Python root:
RPC, errors, a context with a bidirectional stream, cancellation from both
sides. tractor needs Python >= 3.13 and is not a Debian package: where no
interpreter has it (tests/matrix/find_tractor_python.sh says which were
tried) every test here is skipped with that reason, and ctest reports the
entry as skipped. What a tractor child is sent is checked everywhere by
test_tractor_spawn.py."""
import os
import subprocess

import pytest

import libtractor as tractor

MATRIX = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "matrix"))
_probe = subprocess.run(["sh", os.path.join(MATRIX, "find_tractor_python.sh")],
                        capture_output=True, text=True, timeout=60)
if _probe.returncode != 0:
    pytest.skip(_probe.stdout.strip(), allow_module_level=True)
TRACTOR_PY = _probe.stdout.strip()
# the tractor child imports tractor_side from tests/matrix
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (MATRIX, os.environ.get("PYTHONPATH")) if p)


@pytest.fixture
def child(transport):
    with tractor.open_nursery(name="py-root", transport=transport) as an, tractor.fail_after(60):
        p = an.start_actor("tractor-child", lang="tractor", enable_modules=["tractor_side"],
                           command=f"{TRACTOR_PY} -m tractor._child")
        yield p
        assert p.cancel_actor()


@pytest.mark.deadline(90)
def test_rpc_and_errors(child):
    assert child.run_from_ns("tractor_side", "add", x=40, y=2) == 42
    with pytest.raises(tractor.RemoteActorError) as ei:
        child.run_from_ns("tractor_side", "fail", msg="raised by tractor")
    e = ei.value
    assert e.boxed_type_str == "ValueError" and isinstance(e, ValueError)
    assert tuple(e.src_uid) == tuple(child.uid)
    assert "Traceback (most recent call last)" in e.tb_str
    assert "ValueError: raised by tractor" in e.tb_str


@pytest.mark.deadline(90)
def test_context_stream_both_ways(child):
    with child.open_context("tractor_side", "echo", first="hello tractor") as (ctx, first):
        assert first == "hello tractor"
        with ctx.open_stream() as stream:
            for v in [1, "two", [3], {"four": 4}, 5.5, b"\x06"]:
                stream.send(v)
                assert stream.receive() == v
    assert ctx.outcome == 6


@pytest.mark.deadline(90)
def test_cancellation_from_both_sides(child):
    me = tractor.current_actor()
    with child.open_context("tractor_side", "wait_in_stream") as (ctx, _):
        with ctx.open_stream() as stream:
            stream.send("x")
            ctx.cancel()
    res = ctx.wait_for_result()
    assert isinstance(res, tractor.ContextCancelled)
    assert tuple(res.canceller) == tuple(me.uid)
    with pytest.raises(tractor.ContextCancelled) as ei:
        with child.open_context("tractor_side", "self_cancel") as (ctx, _):
            ctx.wait_for_result()
    assert tuple(ei.value.canceller) == tuple(child.uid)
