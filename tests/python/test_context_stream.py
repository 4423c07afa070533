"""Contexts and bidirectional streams (the spirit of tractor's test_2way.py
and test_context_stream_semantics.py)."""
import time

import pytest

import libtractor as tractor
from tmods import basic


@pytest.fixture
def portal(transport):
    with tractor.open_nursery(transport=transport) as an:
        p = an.start_actor("ctxsvc", enable_modules=["tmods.basic"])
        with tractor.fail_after(30):
            yield p
        p.cancel_actor()


def test_echo_stream_both_ways(portal):
    with portal.open_context(basic.echo, first={"hello": "world"}) as (ctx, first):
        assert first == {"hello": "world"}
        assert ctx.side == "caller" and ctx.func == ("tmods.basic", "echo")
        assert ctx.chan_uid == portal.uid
        with ctx.open_stream() as stream:
            values = [None, True, 1, -1, 2**63 - 1, 1.25, "s", b"\x00b", [1, [2]], {"k": [None]}]
            for v in values:
                stream.send(v)
                assert stream.receive() == v
            # pipelined
            for i in range(50):
                stream.send(i)
            assert [stream.receive() for _ in range(50)] == list(range(50))
    # leaving the blocks closed the stream; the callee returned its count
    assert ctx.outcome == len(values) + 50
    assert ctx.wait_for_result() == len(values) + 50


def test_iterate_until_the_callee_returns(portal):
    with portal.open_context(basic.producer, count=20) as (ctx, first):
        assert first == 20
        with ctx.open_stream() as stream:
            assert list(stream) == list(range(20))
            with pytest.raises(tractor.EndOfStream):
                stream.receive()
        assert ctx.wait_for_result() == 20


def test_caller_cancels_context(portal):
    """ctx.cancel() from the parent: the callee sees it as a cancellation,
    the ContextCancelled is absorbed and reported by wait_for_result."""
    me = tractor.current_actor()
    with portal.open_context(basic.wait_in_stream) as (ctx, first):
        assert first == "ready"
        with ctx.open_stream() as stream:
            stream.send("x")
            ctx.cancel("enough")
            assert ctx.cancel_called
    res = ctx.wait_for_result()
    assert isinstance(res, tractor.ContextCancelled)
    assert res.canceller == me.uid
    assert ctx.canceller == me.uid
    assert portal.run(basic.get_state)["wait_in_stream"] == "cancelled"


def test_cancel_raised_from_stream_is_absorbed(portal):
    with portal.open_context(basic.wait_in_stream) as (ctx, _):
        with ctx.open_stream() as stream:
            ctx.cancel()
            with pytest.raises(tractor.ContextCancelled):
                stream.receive()
            raise_it = False
    assert not raise_it
    assert isinstance(ctx.outcome, tractor.ContextCancelled)


def test_callee_self_cancel_is_raised(portal):
    with pytest.raises(tractor.ContextCancelled) as ei:
        with portal.open_context(basic.self_cancel) as (ctx, _):
            with ctx.open_stream() as stream:
                stream.receive()
    e = ei.value
    assert e.canceller[0] == "ctxsvc"
    assert "child decided to stop" in e.message
    assert e.boxed_type_str == "ContextCancelled"


def test_error_before_started(portal):
    with pytest.raises(KeyError) as ei:
        with portal.open_context(basic.fail_before_started):
            pytest.fail("not reached")
    assert isinstance(ei.value, tractor.RemoteActorError)
    assert "failed before started" in ei.value.message
    assert "fail_before_started" in ei.value.tb_str


def test_error_mid_stream_reaches_the_receiver(portal):
    with pytest.raises(NameError) as ei:
        with portal.open_context(basic.fail_mid_stream) as (ctx, _):
            with ctx.open_stream() as stream:
                stream.send("go")
                stream.receive()
    assert "mid-stream failure" in ei.value.message
    assert isinstance(ei.value, tractor.RemoteActorError)


def test_error_in_caller_block_cancels_callee(portal):
    with pytest.raises(ZeroDivisionError):
        with portal.open_context(basic.wait_in_stream) as (ctx, _):
            with ctx.open_stream() as stream:
                stream.send(1)
                1 / 0
    deadline = time.monotonic() + 5
    while portal.run(basic.get_state).get("wait_in_stream") != "cancelled":
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_wait_for_result_without_stream(portal):
    with portal.open_context(basic.sleep_then_return, seconds=0.05) as (ctx, first):
        assert first is None
        assert ctx.wait_for_result(timeout=10) == "slept"
    assert ctx.outcome == "slept"


def test_timeout_while_receiving(portal):
    with portal.open_context(basic.echo) as (ctx, _):
        with ctx.open_stream() as stream:
            with pytest.raises(tractor.TooSlowError):
                stream.receive(timeout=0.1)
            with pytest.raises(tractor.WouldBlock):
                stream.receive_nowait()
            stream.send(1)
            assert stream.receive(timeout=10) == 1


def test_caller_overruns_a_callee_that_does_not_read(portal):
    with pytest.raises(tractor.StreamOverrun) as ei:
        with portal.open_context(basic.no_reader, seconds=5) as (ctx, _):
            with ctx.open_stream() as stream:
                for i in range(1000):
                    stream.send(i)
                    time.sleep(0.001)
    assert ei.value.sender == tractor.current_actor().uid


def test_allow_overruns_queues(portal):
    with portal.open_context(basic.no_reader, seconds=0.5, overruns_ok=True) as (ctx, _):
        with ctx.open_stream() as stream:
            for i in range(200):
                stream.send(i)
    assert ctx.outcome == "done"


def test_broadcast_subscribers(portal):
    with portal.open_context(basic.echo) as (ctx, _):
        with ctx.open_stream() as stream:
            with stream.subscribe() as a, stream.subscribe() as b:
                for i in range(5):
                    stream.send(i)
                assert [a.receive(timeout=5) for _ in range(5)] == list(range(5))
                assert [b.receive(timeout=5) for _ in range(5)] == list(range(5))
                with pytest.raises(TypeError):
                    a.send(1)


def test_one_context_per_stream_and_started_once(portal):
    with portal.open_context(basic.echo) as (ctx, _):
        with ctx.open_stream():
            with pytest.raises(RuntimeError):
                ctx.open_stream()
        with pytest.raises(RuntimeError):
            ctx.started(1)


def test_many_contexts_concurrently(portal):
    import threading
    results, errors = [], []

    def worker(k):
        try:
            with portal.open_context(basic.echo, first=k) as (ctx, first):
                with ctx.open_stream() as s:
                    for i in range(20):
                        s.send([k, i])
                        assert s.receive() == [k, i]
            results.append(ctx.outcome)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert results == [20] * 4
