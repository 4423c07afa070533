"""Sibling actors talking to each other (inter-peer tests)."""
import libtractor as tractor

from . import basic


def call_peer(name, x, y):
    with tractor.wait_for_actor(name, timeout=10) as p:
        return p.run(basic.add, x=x, y=y)


def cancel_peer_ctx(name):
    """Open a context in the peer and cancel it: the peer's task sees a
    cancellation requested by us."""
    with tractor.wait_for_actor(name, timeout=10) as p:
        with p.open_context(basic.wait_in_stream) as (ctx, first):
            ctx.cancel()
        res = ctx.wait_for_result()
        assert isinstance(res, tractor.ContextCancelled)
        return res.canceller[0]


def hold_peer_ctx(name):
    """Open a context in the peer and wait inside it until cancelled."""
    with tractor.wait_for_actor(name, timeout=10) as p:
        with p.open_context(basic.wait_in_stream) as (ctx, first):
            with ctx.open_stream() as stream:
                stream.receive()
