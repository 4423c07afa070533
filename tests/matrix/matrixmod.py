"""matrixmod (Python): the endpoints every language serves for the
cross-language matrix tests; see matrixmod.c for the list."""
import libtractor as tractor


def add(x, y):
    return x + y


def whoami():
    me = tractor.current_actor()
    return [me.name, me.uuid, "python", me.addr]


def _dive(msg, depth):
    if depth <= 0:
        raise ValueError(msg)
    return _dive(msg, depth - 1)


def fail(msg, depth=0):
    _dive(msg, depth)


@tractor.context
def echo(ctx, first="ready"):
    ctx.started(first)
    n = 0
    with ctx.open_stream() as stream:
        for msg in stream:
            stream.send(msg)
            n += 1
    return n


@tractor.context
def wait_in_stream(ctx):
    ctx.started()
    with ctx.open_stream() as stream:
        for _ in stream:
            pass


@tractor.context
def self_cancel(ctx):
    ctx.started()
    ctx.cancel("the callee gave up")
    tractor.sleep(30)      # Cancelled is raised here


def call_back(addr, ns, func, kwargs=None):
    with tractor.connect(addr) as p:
        return p.run_from_ns(ns, func, **(kwargs or {}))


def spawn_and_call(lang, ns, func, kwargs=None):
    me = tractor.current_actor().name
    with tractor.open_nursery() as an:
        p = an.start_actor(f"{me}-{lang}", lang=lang, enable_modules=[ns])
        try:
            return p.run_from_ns(ns, func, **(kwargs or {}))
        finally:
            p.cancel_actor()


def cancel_actor_at(addr):
    with tractor.connect(addr) as p:
        return p.cancel_actor(timeout=5)
