"""libtractor: a structured-concurrency, multi-process actor runtime.

The Python binding of libtractor (a C runtime modelled on Python's
``tractor``). Actors are processes in a supervision tree; they call each
other's functions, open *contexts* (linked remote tasks with cancellation
that crosses processes) and stream values both ways inside them. Python, C
and Lua actors share one tree and one wire protocol (tractor's).

::

    import libtractor as tractor

    with tractor.open_nursery() as an:
        portal = an.start_actor('worker', enable_modules=['mymod'])
        assert portal.run_from_ns('mymod', 'add', x=1, y=2) == 3
        with portal.open_context(mymod.echo) as (ctx, first):
            with ctx.open_stream() as stream:
                stream.send('hi')
                assert stream.receive() == 'hi'
        portal.cancel_actor()

The API is synchronous: every blocking call releases the GIL, so threads
run in parallel, and served functions run on the runtime's worker threads.
Bound blocking calls with :func:`fail_after`. See docs/python.md.
"""
from . import _tractor_c
from ._exceptions import (ActorFailedToStart, Cancelled, ClosedResourceError,
                          ContextCancelled, EndOfStream, Lagged, ModuleNotExposed,
                          MsgTypeError, NoRuntime, RemoteActorError, StreamOverrun,
                          TooSlowError, TractorError, TransportClosed, WouldBlock,
                          _make_error)
from ._pldspec import to_spec
from ._state import current_actor, fail_after, is_root_process
from ._portal import Context, MsgStream, Portal
from ._runtime import Actor, checkpoint, context, open_root_actor, sleep
from ._supervise import ActorNursery, open_nursery
from ._discovery import connect, find_actor, get_registry, query_actor, wait_for_actor

_tractor_c.set_hooks(_make_error, (Cancelled,))

__version__ = _tractor_c.version()

__all__ = [
    "Actor", "ActorFailedToStart", "ActorNursery", "Cancelled", "ClosedResourceError",
    "Context", "ContextCancelled", "EndOfStream", "Lagged", "ModuleNotExposed", "MsgStream",
    "MsgTypeError", "NoRuntime", "Portal", "RemoteActorError", "StreamOverrun",
    "TooSlowError", "TractorError", "TransportClosed", "WouldBlock", "checkpoint", "connect",
    "context",
    "current_actor", "fail_after", "find_actor", "get_registry", "is_root_process",
    "open_nursery", "open_root_actor", "query_actor", "sleep", "to_spec", "wait_for_actor",
]
