"""Process-wide state: the actor of this process and per-thread deadlines."""
from __future__ import annotations

import contextlib
import math
import threading
import time
from typing import Iterator

from ._exceptions import NoRuntime

_actor = None  # the Actor of this process (one runtime per process)
_tl = threading.local()


def current_actor():
    """The :class:`~libtractor.Actor` of this process.

    Raises :class:`NoRuntime` when no runtime is open (outside
    ``open_root_actor``/``open_nursery`` in a root, always set in a child).
    """
    if _actor is None:
        raise NoRuntime("no actor runtime is open in this process: use "
                        "libtractor.open_root_actor() or libtractor.open_nursery()")
    return _actor


def is_root_process() -> bool:
    """True unless this process is a spawned child actor."""
    return _actor is None or not _actor.is_child


def timeout_ms(timeout: float | None = None) -> int:
    """The C timeout for a blocking call: the smaller of `timeout` (seconds)
    and what is left of the innermost :func:`fail_after` deadline; -1 for
    "forever"."""
    left = None
    deadlines = getattr(_tl, "deadlines", None)
    if deadlines:
        left = min(deadlines) - time.monotonic()
    if timeout is not None:
        left = timeout if left is None else min(left, timeout)
    if left is None or math.isinf(left):
        return -1
    if left <= 0:
        return 1  # already late: a 1 ms wait reports the timeout
    return max(1, min(int(left * 1000 + 0.5), 2**31 - 1))


@contextlib.contextmanager
def fail_after(seconds: float) -> Iterator[None]:
    """Bound every blocking libtractor call made by this thread inside the
    block: once `seconds` have passed, the call waiting raises
    :class:`TooSlowError` (a ``TimeoutError``), like ``trio.fail_after``.

    Nested blocks combine: the earliest deadline wins::

        with libtractor.fail_after(5):
            portal.run(slow_fn)      # TooSlowError after 5 s
    """
    stack = getattr(_tl, "deadlines", None)
    if stack is None:
        stack = _tl.deadlines = []
    deadline = time.monotonic() + seconds
    stack.append(deadline)
    try:
        yield
    finally:
        stack.remove(deadline)
