"""Actor nurseries: spawning and supervising child actors."""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

from . import _state
from . import _tractor_c as _c
from ._exceptions import Cancelled, ContextCancelled
from ._portal import Portal, _fn_ref
from ._runtime import open_root_actor

#: default bound for a child to start and connect back (seconds)
SPAWN_TIMEOUT = 30.0


def _mods(enable_modules) -> str | None:
    if enable_modules is None:
        return None
    if isinstance(enable_modules, str):
        return enable_modules
    return ",".join(enable_modules)


class ActorNursery:
    """A supervisor of child actors (tractor's ``ActorNursery``), from
    :func:`open_nursery`.

    Leaving the ``with`` block waits for every ``run_in_actor`` result and
    for daemon actors to be cancelled or exit; if the block raised or a child
    failed, every child is cancelled (one-cancels-all) and the errors are
    raised (an ``ExceptionGroup`` when there are several).
    """

    def __init__(self, actor, handle) -> None:
        self._actor = actor
        self._h = handle
        self._portals: list[Portal] = []

    def _handle(self):
        if self._h is None:
            raise RuntimeError("the nursery is closed")
        return self._h

    def start_actor(self, name: str, *, enable_modules: list[str] | None = None,
                    lang: str = "python", loglevel: str | None = None,
                    command: str | None = None, timeout: float | None = None) -> Portal:
        """Spawn a daemon child actor called `name` and return a
        :class:`Portal` to it once it has connected back.

        ``enable_modules`` are the modules it serves (Python modules for
        ``lang="python"``, C modules for ``lang="c"``; ``"lua"`` and
        ``"tractor"``, a Python tractor child, work too). The child lives
        until :meth:`Portal.cancel_actor`, :meth:`cancel` or the end of the
        nursery block. ``loglevel`` defaults to ours; ``command`` overrides
        the host program; ``timeout`` bounds the start (30 s).
        """
        ms = _state.timeout_ms(SPAWN_TIMEOUT if timeout is None else timeout)
        h = _c.nursery_start_actor(self._handle(), name, lang, _mods(enable_modules),
                                   loglevel, command, ms)
        p = Portal(h)
        self._portals.append(p)
        return p

    def run_in_actor(self, fn: Callable | str, *, name: str | None = None,
                     enable_modules: list[str] | None = None, lang: str = "python",
                     loglevel: str | None = None, command: str | None = None,
                     **kwargs: Any) -> Portal:
        """Spawn a child that runs ``fn(**kwargs)`` once, and return its
        :class:`Portal`; :meth:`Portal.wait_for_result` gives the result.

        `fn` is a function (its module is enabled in the child) or a
        ``"module:function"`` string. The nursery collects the result and
        cancels the child afterwards; if the function fails, its error is
        raised when the nursery block ends (and the other children are
        cancelled).
        """
        ns, func = _fn_ref(fn)
        h = _c.nursery_run_in_actor(self._handle(), name or func, ns, func, kwargs, lang,
                                    _mods(enable_modules), loglevel, command,
                                    _state.timeout_ms(SPAWN_TIMEOUT))
        p = Portal(h, run_in_actor=True)
        self._portals.append(p)
        return p

    def cancel(self) -> None:
        """Cancel every child now (cancel request, then SIGTERM, then
        SIGKILL); returns once all are reaped."""
        _c.nursery_cancel(self._handle())

    @property
    def child_count(self) -> int:
        """Children still running."""
        return 0 if self._h is None else _c.nursery_child_count(self._h)

    def _close(self, block_error: bool) -> BaseException | None:
        h, self._h = self._h, None
        try:
            info = _c.nursery_close(h, int(block_error))
        finally:
            for p in self._portals:
                p.release()
            self._portals.clear()
        if info is None:
            return None
        return _c.make_error(info.get("code", -8), info, "ActorNursery")


def _errors(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return list(exc.exceptions)
    return [exc]


@contextlib.contextmanager
def open_nursery(**root_kwargs: Any) -> Iterator[ActorNursery]:
    """Open an :class:`ActorNursery` (tractor's ``open_nursery``).

    In a process without an actor yet it opens the root actor first (with
    `root_kwargs`, see :func:`open_root_actor`) and closes it afterwards.

    ::

        with libtractor.open_nursery() as an:
            portal = an.start_actor('worker', enable_modules=['mymod'])
            print(portal.run_from_ns('mymod', 'add', x=1, y=2))
            portal.cancel_actor()
    """
    with contextlib.ExitStack() as stack:
        actor = _state._actor
        if actor is None:
            actor = stack.enter_context(open_root_actor(**root_kwargs))
        elif root_kwargs:
            raise TypeError(f"the actor runtime is already open: unexpected {sorted(root_kwargs)}")
        an = ActorNursery(actor, _c.nursery_open(actor._h))
        try:
            yield an
        except BaseException as body:
            err = an._close(block_error=True)
            if err is None or isinstance(body, (KeyboardInterrupt, Cancelled, SystemExit)):
                raise
            extra = [e for e in _errors(err)
                     if not isinstance(e, ContextCancelled) and e is not body]
            if not extra:
                raise
            raise BaseExceptionGroup("errors in the actor nursery", [body, *extra]) from None
        else:
            err = an._close(block_error=False)
            if err is not None:
                raise err
