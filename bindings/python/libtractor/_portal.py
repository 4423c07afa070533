"""Portals (RPC to another actor), contexts and streams."""
from __future__ import annotations

import threading
from typing import Any, Callable, Iterator

from . import _state
from . import _tractor_c as _c
from ._exceptions import (ClosedResourceError, ContextCancelled, EndOfStream,
                          TooSlowError, WouldBlock)
from ._pldspec import to_spec


def _fn_ref(fn: Callable | str, fn_name: str | None = None) -> tuple[str, str]:
    """(namespace, function name) of a function object, or of the strings
    ``("pkg.mod", "func")`` / ``"pkg.mod:func"`` / ``"pkg.mod.func"``."""
    if callable(fn) and not isinstance(fn, str):
        if fn_name is not None:
            raise TypeError("fn_name is only used with a module name")
        mod = getattr(fn, "__module__", None)
        name = getattr(fn, "__name__", None)
        if not mod or not name:
            raise TypeError(f"{fn!r} has no __module__/__name__ to call it remotely by")
        return mod, name
    if not isinstance(fn, str):
        raise TypeError(f"expected a function or a module name, got {type(fn).__name__}")
    if fn_name is not None:
        return fn, fn_name
    if ":" in fn:
        ns, _, name = fn.partition(":")
    else:
        ns, _, name = fn.rpartition(".")
    if not ns or not name:
        raise ValueError(f"{fn!r} names no function: use 'module:function'")
    return ns, name


# ---------------------------------------------------------------------------
# Streams


class MsgStream:
    """A bidirectional stream of values inside a context (tractor's
    ``MsgStream``).

    Use it as a context manager (``with ctx.open_stream() as stream``);
    leaving the block closes our end (the peer's ``receive`` then ends).
    Iterating yields every received value until the peer closes the stream
    or its task returns.
    """

    def __init__(self, ctx: "Context", handle, *, is_sub: bool = False) -> None:
        self._ctx = ctx
        self._h = handle
        self._is_sub = is_sub
        self._closed = False

    @property
    def ctx(self) -> "Context":
        """The context this stream belongs to."""
        return self._ctx

    def _handle(self):
        if self._h is None:
            raise ClosedResourceError("the stream is closed")
        return self._h

    def send(self, value: Any) -> None:
        """Send one value (a ``Yield``). Waits only for flow control: while
        1 MiB or more is already queued on the connection (the GIL is released
        and the wait is cancellable); the peer's buffer policy is never
        waited on.

        Raises :class:`MsgTypeError` for a value that cannot be encoded or
        does not match the context's ``pld_spec``, :class:`EndOfStream` when
        the stream is finished, or the remote error that already ended the
        context.
        """
        if self._is_sub:
            raise TypeError("a broadcast subscriber only receives")
        _c.stream_send(self._handle(), value)

    def receive(self, timeout: float | None = None) -> Any:
        """Wait for the next value.

        Raises :class:`EndOfStream` once the peer closed the stream (or
        returned), the remote error if the context failed
        (:class:`RemoteActorError`, :class:`ContextCancelled`,
        :class:`StreamOverrun`), :class:`TooSlowError` after `timeout`
        seconds (or a :func:`fail_after` deadline).
        """
        return _c.stream_recv(self._handle(), _state.timeout_ms(timeout))

    def receive_nowait(self) -> Any:
        """The next value if one is already queued, else raise
        :class:`WouldBlock`."""
        return _c.stream_recv(self._handle(), 0)

    async def areceive(self) -> Any:
        """``await``-able receive for asyncio: waits on the runtime's
        pollable descriptor instead of blocking the event loop."""
        actor = _state.current_actor()
        while True:
            try:
                return self.receive_nowait()
            except WouldBlock:
                await actor._wait_readable()

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            return self.receive()
        except EndOfStream:
            raise StopIteration from None

    def __aiter__(self):
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.areceive()
        except EndOfStream:
            raise StopAsyncIteration from None

    def subscribe(self) -> "MsgStream":
        """A broadcast receiver: every subscriber gets every value received
        after it subscribed (tractor's ``stream.subscribe()``). Use it as a
        context manager; a subscriber that lags more than the buffer size
        gets :class:`Lagged` once and skips ahead."""
        return MsgStream(self._ctx, _c.stream_subscribe(self._handle()), is_sub=True)

    def close(self) -> None:
        """Close our end: discard what is queued and tell the peer (Stop).
        Idempotent."""
        h, self._h = self._h, None
        if h is None:
            return
        try:
            _c.stream_close(h)
        finally:
            _c.stream_release(h)
            self._ctx._streams.discard(self)

    aclose = close

    @property
    def closed(self) -> bool:
        return self._h is None

    def __enter__(self) -> "MsgStream":
        return self

    def __exit__(self, et, ev, tb) -> None:
        if et is None or self._is_sub:
            self.close()
        else:
            # the block failed: do not tell the peer we are done (Stop); the
            # context's exit cancels it instead
            self._abandon()

    def _abandon(self) -> None:
        h, self._h = self._h, None
        if h is not None:
            _c.stream_release(h)
            self._ctx._streams.discard(self)

    def __del__(self) -> None:
        h, self._h = getattr(self, "_h", None), None
        if h is not None:
            _c.stream_release(h)


# ---------------------------------------------------------------------------
# Contexts


class Context:
    """One side of a linked remote task (tractor's ``Context``).

    The *callee* side is passed as the first argument to functions decorated
    with :func:`libtractor.context`; it calls :meth:`started` once, may open
    a stream, and returns the final result. The *caller* side comes from
    :meth:`Portal.open_context`.
    """

    def __init__(self, handle, *, side: str, portal: "Portal | None" = None) -> None:
        self._h = handle
        self.side = side
        self.portal = portal
        self._streams: set[MsgStream] = set()
        self._outcome: Any = None
        self._has_outcome = False
        self._final: dict = {}  # cancellation state once the handle is gone
        info = _c.ctx_info(handle)
        self.cid: str = info["cid"]
        #: the remote function, as (namespace, name)
        self.func: tuple[str, str] = (info["ns"], info["func"])
        #: the peer's ``(name, uuid)``
        self.chan_uid: tuple[str, str] = tuple(info["peer"])

    def _handle(self):
        if self._h is None:
            raise ClosedResourceError("the context is closed (its task or block ended)")
        return self._h

    def _info(self) -> dict:
        return _c.ctx_info(self._handle())

    # -- both sides --------------------------------------------------------

    def set_overruns(self, allow: bool = True, msg_buffer_size: int | None = None) -> None:
        """Let values queue past the receive buffer (and/or resize it).

        Unlike ``open_stream(allow_overruns=...)`` this may be called before
        :meth:`started`, so a callee cannot be overrun by values its caller
        sends the moment it has started.
        """
        _c.ctx_set_overruns(self._handle(), int(bool(allow)), int(msg_buffer_size or 0))

    def open_stream(self, allow_overruns: bool | None = None,
                    msg_buffer_size: int | None = None) -> MsgStream:
        """Open the context's one bidirectional stream (a context manager).

        The callee must have called :meth:`started` first. Leaving the block
        normally closes our end (the peer's iteration ends); leaving it with
        an exception leaves the stream to the context, which cancels the
        peer.

        ``allow_overruns`` lets values queue past the receive buffer instead
        of answering the sender with :class:`StreamOverrun`;
        ``msg_buffer_size`` resizes that buffer (default 64).
        """
        h = self._handle()
        if allow_overruns is not None or msg_buffer_size:
            _c.ctx_set_overruns(h, int(bool(allow_overruns)), int(msg_buffer_size or 0))
        s = MsgStream(self, _c.ctx_open_stream(h))
        self._streams.add(s)
        return s

    def cancel(self, reason: str | None = None) -> None:
        """Cancel the linked task.

        Caller side: ask the callee to stop (waits for its ack, at most
        ~0.6 s); the resulting :class:`ContextCancelled` is absorbed when
        leaving ``open_context`` and returned by :meth:`wait_for_result`.
        Callee side: cancel our own task; the caller then gets
        :class:`ContextCancelled` raised (we are the canceller).
        """
        _c.ctx_cancel(self._handle(), reason)

    @property
    def cancel_called(self) -> bool:
        """True once a cancellation of this context was requested (by us or,
        on the callee side, by the caller)."""
        if self._h is None:
            return self._final.get("cancel_called", False)
        return _c.ctx_cancel_called(self._h)

    @property
    def cancel_acked(self) -> bool:
        """Caller side: the callee acknowledged our cancel request."""
        if self._h is None:
            return self._final.get("cancel_acked", False)
        return self._info()["cancel_acked"]

    @property
    def canceller(self) -> tuple[str, str] | None:
        """``(name, uuid)`` of the actor that cancelled the context, or
        None."""
        if self._h is None:
            if "canceller" in self._final:
                return self._final["canceller"]
            return getattr(self._outcome, "canceller", None)
        c = self._info()["canceller"]
        return tuple(c) if c else None

    def _snapshot(self) -> None:
        """Keep the cancellation state readable once the handle is gone (after
        the ``open_context`` block, or the end of the callee's function)."""
        if self._h is None:
            return
        info = _c.ctx_info(self._h)
        c = info["canceller"]
        self._final = {"cancel_called": bool(_c.ctx_cancel_called(self._h)),
                       "cancel_acked": bool(info["cancel_acked"]),
                       "canceller": tuple(c) if c else None}

    def limit_plds(self, spec) -> None:
        """Restrict this context's payloads to `spec` (a Python type such as
        ``int | None`` or ``list[str]``, or a spec string); values that do
        not match raise :class:`MsgTypeError` (tractor's ``limit_plds``)."""
        _c.ctx_limit_plds(self._handle(), to_spec(spec))

    # -- callee side -------------------------------------------------------

    def started(self, value: Any = None) -> None:
        """Callee: hand the first value to the caller (``open_context``
        returns it as ``first``). Exactly once, before opening a stream."""
        if self.side != "callee":
            raise RuntimeError("started() is called by the callee side only")
        _c.ctx_started(self._handle(), value)

    # -- caller side -------------------------------------------------------

    def wait_for_result(self, timeout: float | None = None) -> Any:
        """Caller: wait for the remote task's final outcome and return its
        result.

        A remote error is raised (:class:`RemoteActorError`), as is a
        :class:`ContextCancelled` that someone else requested; a
        cancellation we requested ourselves is *returned* as the
        ContextCancelled instance (as tractor does). Late stream values are
        discarded.
        """
        if self.side != "caller":
            raise RuntimeError("wait_for_result() is called by the caller side only")
        if self._has_outcome:
            return self._outcome
        ok, value = _c.ctx_wait_for_result(self._handle(), _state.timeout_ms(timeout))
        if ok or self._cancelled_by_us(value):
            self._outcome, self._has_outcome = value, True
            return value
        raise value

    result = wait_for_result  # tractor's older name

    @property
    def outcome(self) -> Any:
        """The final result (or the absorbed ContextCancelled), once known."""
        return self._outcome

    def _cancelled_by_us(self, exc: BaseException) -> bool:
        if not isinstance(exc, ContextCancelled):
            return False
        me = _state._actor
        canc = exc.canceller
        by_us = me is not None and canc is not None and canc[1] == me.uuid
        return bool(by_us and self._h is not None and _c.ctx_cancel_called(self._h))

    def _detach(self) -> None:
        """End of the callee's function: drop streams and the handle."""
        for s in list(self._streams):
            s.close()
        self._snapshot()
        self._h = None

    def __repr__(self) -> str:
        return f"<Context {self.side} {self.func[0]}.{self.func[1]} cid={self.cid[:8]}>"


#: how long leaving a context whose stream ended waits for the remote outcome
_EOS_GRACE = 5.0


class _OpenContext:
    """What :meth:`Portal.open_context` returns: a context manager giving
    ``(ctx, first)``."""

    def __init__(self, portal: "Portal", ns: str, func: str, kwargs: dict, *,
                 allow_overruns: bool, msg_buffer_size: int | None, pld_spec) -> None:
        self._args = (ns, func, kwargs, allow_overruns, msg_buffer_size,
                      None if pld_spec is None else to_spec(pld_spec))
        self._portal = portal
        self.ctx: Context | None = None

    def __enter__(self) -> tuple[Context, Any]:
        ns, func, kwargs, overruns, bufsize, spec = self._args
        h, first = _c.portal_open_context(self._portal._handle(), ns, func, kwargs,
                                          int(overruns), int(bufsize or 0), spec,
                                          _state.timeout_ms())
        self.ctx = Context(h, side="caller", portal=self._portal)
        return self.ctx, first

    def __exit__(self, et, ev, tb) -> bool:
        ctx = self.ctx
        assert ctx is not None
        swallow = False
        failed = et is not None
        try:
            for s in list(ctx._streams):
                s.close()
            if not failed:
                try:
                    ctx.wait_for_result()
                except BaseException:
                    failed = True
                    raise
            elif isinstance(ev, ContextCancelled) and ctx._cancelled_by_us(ev):
                # our own cancellation, raised from the stream: absorbed
                ctx._outcome, ctx._has_outcome = ev, True
                swallow = True
            elif isinstance(ev, EndOfStream):
                # the stream ended because the remote task did: if it failed,
                # its error says more than the end of the stream
                try:
                    ok, outcome = _c.ctx_wait_for_result(ctx._h, _state.timeout_ms(_EOS_GRACE))
                except TooSlowError:  # still running: cancelled below
                    ok, outcome = True, None
                if not ok and not ctx._cancelled_by_us(outcome):
                    failed = True
                    raise outcome from ev
        finally:
            ctx._snapshot()
            h, ctx._h = ctx._h, None
            _c.ctx_close(h, int(failed and not swallow))
        return swallow


# ---------------------------------------------------------------------------
# Portals


class Portal:
    """A connection to another actor, for calling its functions (tractor's
    ``Portal``). Obtained from :meth:`ActorNursery.start_actor`,
    :meth:`ActorNursery.run_in_actor`, :func:`find_actor` or
    :func:`wait_for_actor`."""

    def __init__(self, handle, *, run_in_actor: bool = False) -> None:
        self._h = handle
        self._ria = run_in_actor
        info = _c.portal_info(handle)
        #: the peer's ``(name, uuid)``
        self.uid: tuple[str, str] = (info["name"], info["uuid"])
        #: the child's process id (0 when it is not our child)
        self.pid: int = info["pid"]
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.uid[0]

    @property
    def connected(self) -> bool:
        """True while the channel to the peer is up."""
        return self._h is not None and _c.portal_connected(self._h)

    @property
    def channel(self) -> "Portal":
        """tractor compatibility: ``portal.channel.uid``."""
        return self

    chan = channel

    def _handle(self):
        if self._h is None:
            raise ClosedResourceError("the portal was released")
        return self._h

    def run(self, func: Callable | str, fn_name: str | None = None, **kwargs) -> Any:
        """Call `func` in the remote actor with `kwargs` and return its
        result.

        `func` is a function object (its namespace is ``func.__module__``,
        which the remote actor must have enabled) or a module name with
        `fn_name`. Remote failures raise :class:`RemoteActorError` (mixed
        with the builtin type, so ``except ValueError`` works too),
        :class:`ModuleNotExposed` style errors for unknown modules, and
        ``AttributeError`` ones for unknown functions.
        """
        ns, name = _fn_ref(func, fn_name)
        return self.run_from_ns(ns, name, **kwargs)

    def run_from_ns(self, namespace_path: str, function_name: str, **kwargs) -> Any:
        """Call ``namespace_path.function_name(**kwargs)`` in the remote
        actor and return its result (see :meth:`run`)."""
        return _c.portal_run(self._handle(), namespace_path, function_name, kwargs,
                             _state.timeout_ms())

    def open_context(self, fn: Callable | str, func: str | None = None, *,
                     allow_overruns: bool = False, msg_buffer_size: int | None = None,
                     pld_spec=None, **kwargs) -> _OpenContext:
        """Start a linked remote task: ``with portal.open_context(fn, **kw)
        as (ctx, first):``.

        `fn` is a function decorated with :func:`libtractor.context` (or a
        namespace with `func`). ``first`` is the value the callee passed to
        ``ctx.started()``. Leaving the block normally waits for the callee's
        result (``ctx.outcome``) and raises its error if it failed; leaving
        it with an exception cancels the callee first. A cancellation we
        requested with ``ctx.cancel()`` is absorbed.

        ``allow_overruns`` queues past the stream buffer instead of raising
        :class:`StreamOverrun`; ``msg_buffer_size`` sets that buffer (64);
        ``pld_spec`` limits the payloads we accept (a Python type such as
        ``int | None``).
        """
        ns, name = _fn_ref(fn, func)
        return _OpenContext(self, ns, name, kwargs, allow_overruns=allow_overruns,
                            msg_buffer_size=msg_buffer_size, pld_spec=pld_spec)

    def wait_for_result(self, timeout: float | None = None) -> Any:
        """For a :meth:`ActorNursery.run_in_actor` portal: wait for the one
        function's result (raises its error)."""
        return _c.portal_wait_for_result(self._handle(), _state.timeout_ms(timeout))

    result = wait_for_result  # tractor's older name

    def cancel_actor(self, timeout: float | None = None) -> bool:
        """Cancel the whole remote actor (it ends its tasks and exits).
        Returns True when it acknowledged, False when it did not in time
        (default 0.5 s) or the channel was already down."""
        ms = -1 if timeout is None else max(1, int(timeout * 1000))
        return _c.portal_cancel_actor(self._handle(), ms)

    def release(self) -> None:
        """Drop our reference (a connected portal's channel closes with its
        last reference). Idempotent; also done when garbage collected."""
        h, self._h = self._h, None
        if h is not None:
            _c.portal_release(h)

    def __enter__(self) -> "Portal":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self) -> None:
        h, self._h = getattr(self, "_h", None), None
        if h is not None:
            _c.portal_release(h)

    def __repr__(self) -> str:
        return f"<Portal to {self.uid[0]}[{self.uid[1][:8]}] pid={self.pid}>"

