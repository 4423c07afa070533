"""Functions served by Python child actors in the tests."""
import os
import time

import libtractor as tractor

#: what happened in this actor (queried by the tests through get_state)
STATE: dict = {}


def add(x, y):
    return x + y


def getpid():
    return os.getpid()


def get_state():
    return STATE


def whoami():
    actor = tractor.current_actor()
    return [actor.name, actor.uuid, tractor.is_root_process()]


def echo_value(value):
    return value


def fail(msg="boom"):
    raise ValueError(msg)


def raise_key_error():
    return {}["missing"]


def return_unencodable():
    return {1, 2, 3}


def sleep(seconds):
    time.sleep(seconds)
    return seconds


def cancellable_sleep(seconds):
    try:
        tractor.sleep(seconds)
    except tractor.Cancelled:
        STATE["sleep_cancelled"] = True
        raise
    return seconds


def busy_forever():
    x = 0
    while True:
        x += 1


def spawn_and_call(depth=1):
    """Spawn a child serving this module; at depth 1 call `fail` in it,
    deeper: ask it to do the same (errors are relayed up the tree)."""
    me = tractor.current_actor().name
    with tractor.open_nursery() as an:
        p = an.start_actor(f"{me}-sub", enable_modules=[__name__])
        try:
            if depth > 1:
                return p.run(spawn_and_call, depth=depth - 1)
            return p.run(fail, msg=f"from depth {depth}")
        finally:
            p.cancel_actor()


def call_c_child(x, y):
    """A Python actor calling a C grandchild."""
    with tractor.open_nursery() as an:
        p = an.start_actor("c-grandchild", lang="c", enable_modules=["testmod"])
        try:
            return p.run_from_ns("testmod", "add", x=x, y=y)
        finally:
            p.cancel_actor()


@tractor.context
def echo(ctx, first=None):
    ctx.started(first)
    n = 0
    with ctx.open_stream() as stream:
        for msg in stream:
            stream.send(msg)
            n += 1
    return n


@tractor.context
def producer(ctx, count=10):
    ctx.started(count)
    with ctx.open_stream() as stream:
        for i in range(count):
            stream.send(i)
    return count


@tractor.context
def wait_in_stream(ctx):
    """Started, then read the stream until cancelled."""
    STATE["wait_in_stream"] = "started"
    ctx.started("ready")
    try:
        with ctx.open_stream() as stream:
            for _ in stream:
                pass
    except tractor.Cancelled:
        STATE["wait_in_stream"] = "cancelled"
        raise
    STATE["wait_in_stream"] = "stream ended"
    return "ended"


@tractor.context
def sleep_then_return(ctx, seconds=0.1):
    ctx.started()
    tractor.sleep(seconds)
    return "slept"


@tractor.context
def self_cancel(ctx):
    ctx.started()
    ctx.cancel("child decided to stop")
    with ctx.open_stream() as stream:
        stream.receive()
    return "not reached"


@tractor.context
def fail_before_started(ctx):
    raise KeyError("failed before started")


@tractor.context
def fail_mid_stream(ctx):
    ctx.started()
    with ctx.open_stream() as stream:
        stream.receive()
        raise NameError("mid-stream failure")


@tractor.context
def no_reader(ctx, seconds=2.0, overruns_ok=False):
    """Started and a stream, but never reads it."""
    if overruns_ok:
        ctx.set_overruns(True)  # before started: the caller sends at once
    ctx.started()
    with ctx.open_stream(allow_overruns=overruns_ok):
        tractor.sleep(seconds)
    return "done"


@tractor.context(pld_spec=int)
def typed_echo(ctx, first=0):
    ctx.started(first)
    with ctx.open_stream() as stream:
        for msg in stream:
            stream.send(msg)
    return 0


@tractor.context(pld_spec=int | None)
def bad_started(ctx):
    ctx.started("not an int")
