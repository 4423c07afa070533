"""Exceptions, mirroring tractor's hierarchy.

Every failure of the C runtime reaches Python through :func:`_make_error`,
which the extension calls with the ``TR_E*`` code, a description of the
boxed error (or ``None``) and the name of the failing operation.
"""
from __future__ import annotations

import builtins

from . import _tractor_c as _c

# TR_E* codes (include/tractor/tractor.h)
EINVAL, ENOMEM, EAGAIN, ETIMEDOUT, ECANCELLED, ECLOSED, ETRANSPORT, EREMOTE = range(-1, -9, -1)
(ECTXCANCELLED, EPROTO, EMSGSIZE, EMSGTYPE, ENOTFOUND, EEXIST, ESTATE, EOVERRUN, EEOC,
 EADDR, ESPAWN, EPERM, ESELF, EGROUP, EIO) = range(-9, -24, -1)


class TractorError(Exception):
    """Base class of libtractor's own (non-remote) errors.

    ``code`` is the C runtime's ``TR_E*`` code and ``errname`` its name
    (``"TR_ETIMEDOUT"``, ...).
    """

    code: int = 0

    def __init__(self, message: str = "", *, code: int = 0) -> None:
        super().__init__(message)
        self.code = code or type(self).code

    @property
    def errname(self) -> str:
        return _c.err_name(self.code)


class RemoteActorError(TractorError):
    """An error raised in another actor, boxed and shipped to us.

    Attributes (as in tractor):

    ``boxed_type_str``
        name of the error type at the last hop (``"ValueError"``, or
        ``"RemoteActorError"`` when it was relayed through an actor).
    ``boxed_type``
        the builtin exception class of that name, when there is one.
    ``src_type_str`` / ``src_type``
        the type where the error was first raised.
    ``src_uid``
        ``(name, uuid)`` of the actor that raised it.
    ``relay_path``
        list of ``(name, uuid)`` of every actor it passed through, from the
        source to the one that sent it to us.
    ``tb_str``
        the remote traceback text (for Python actors the full Python
        traceback).
    ``message``
        the error's message (``str()`` of the remote exception).
    ``cid``
        the context id it concerns, or None.
    """

    code = EREMOTE

    def __init__(self, message: str = "", info: dict | None = None, *, code: int = 0) -> None:
        info = dict(info or {})
        self.info = info
        self.message: str = info.get("message", message) or ""
        self.boxed_type_str: str = info.get("type") or type(self).__name__
        self.src_type_str: str = info.get("src_type") or self.boxed_type_str
        self.src_uid: tuple | None = info.get("src_uid")
        self.relay_path: list = list(info.get("relay_path") or [])
        self.tb_str: str = info.get("tb") or ""
        self.cid: str | None = info.get("cid")
        self._summary: str = (info.get("summary") if self.src_uid else None) or self.message
        cap = info.get("_capsule")
        if cap is not None:
            # keeps the C error alive so that a served function re-raising
            # it relays it (relay_path grows) instead of boxing it anew
            self._tr_error = cap
        super().__init__(message or self.message, code=code or info.get("code") or type(self).code)

    @property
    def boxed_type(self) -> type | None:
        return _builtin_exc(self.boxed_type_str)

    @property
    def src_type(self) -> type | None:
        return _builtin_exc(self.src_type_str)

    @property
    def relay_uid(self) -> tuple | None:
        """The last actor that relayed the error to us."""
        return self.relay_path[-1] if self.relay_path else self.src_uid

    def __str__(self) -> str:
        if not self.tb_str:
            return self._summary
        tb = "\n".join("  | " + line for line in self.tb_str.rstrip("\n").split("\n"))
        return f"{self._summary}\n{tb}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__}({self.boxed_type_str}: {self.message!r})>"


class ContextCancelled(RemoteActorError):
    """A linked remote task (context) was cancelled.

    ``canceller`` is the ``(name, uuid)`` of the actor that requested it.
    When we asked for the cancellation ourselves (``ctx.cancel()``) it is
    absorbed by ``open_context`` and reported by ``ctx.wait_for_result()``
    instead of being raised.
    """

    code = ECTXCANCELLED

    def __init__(self, message: str = "", info: dict | None = None, **kw) -> None:
        super().__init__(message, info, **kw)
        self.canceller: tuple | None = (info or {}).get("canceller") or self.src_uid


class StreamOverrun(RemoteActorError):
    """A stream's receive buffer overflowed (the receiver was too slow).

    ``sender`` is the ``(name, uuid)`` of the actor that overran it.
    """

    code = EOVERRUN

    def __init__(self, message: str = "", info: dict | None = None, **kw) -> None:
        super().__init__(message, info, **kw)
        self.sender: tuple | None = (info or {}).get("sender")


class MsgTypeError(RemoteActorError):
    """A payload does not fit its spec, or a value cannot be encoded.

    Raised locally before anything is sent (unsupported Python type, int
    beyond 64 bits, a value against ``pld_spec``) or received from a peer
    that rejected what we sent.
    """

    code = EMSGTYPE


class TransportClosed(TractorError):
    """The channel to the peer is gone (the actor died or disconnected)."""

    code = ETRANSPORT


class ModuleNotExposed(ModuleNotFoundError):
    """The called module was not enabled in the target actor
    (``enable_modules``)."""


class ActorFailedToStart(TractorError):
    """A child process could not be started or did not connect back."""

    code = ESPAWN


class TooSlowError(TractorError, TimeoutError):
    """A blocking call did not finish in time (``fail_after`` or a
    ``timeout=`` argument)."""

    code = ETIMEDOUT


class EndOfStream(TractorError):
    """The stream is finished: the peer closed it or its task returned.
    Iterating a stream stops at this point instead of raising."""

    code = EEOC


class WouldBlock(TractorError):
    """Nothing is ready yet (a non-blocking call such as
    ``stream.receive_nowait()``)."""

    code = EAGAIN


class ClosedResourceError(TractorError):
    """The handle (stream, context, portal) was already closed by us."""

    code = ECLOSED


class Lagged(TractorError):
    """A broadcast subscriber fell behind and skipped messages."""

    code = EOVERRUN


class NoRuntime(TractorError, RuntimeError):
    """No actor runtime is open in this process."""

    code = ESTATE


class Cancelled(BaseException):
    """Raised inside a served function when its task was cancelled (by the
    caller, by a ``ctx.cancel()`` or because the actor is ending).

    Like ``trio.Cancelled`` it is a BaseException: let it propagate. Served
    functions that end with it report the cancellation to the caller
    (ContextCancelled for contexts).
    """


_LOCAL = {
    EINVAL: ValueError, ENOMEM: MemoryError, EAGAIN: WouldBlock, ETIMEDOUT: TooSlowError,
    ECLOSED: ClosedResourceError, ETRANSPORT: TransportClosed, EEOC: EndOfStream,
    ESPAWN: ActorFailedToStart, EOVERRUN: StreamOverrun, EMSGTYPE: MsgTypeError,
    ECTXCANCELLED: ContextCancelled,
}
_NAMED = {
    "ContextCancelled": ContextCancelled, "StreamOverrun": StreamOverrun,
    "MsgTypeError": MsgTypeError, "TransportClosed": TransportClosed,
    "Lagged": Lagged, "ActorFailedToStart": ActorFailedToStart,
}
_OTHER_NAMED = {"ModuleNotExposed": ModuleNotExposed}
_mixed: dict[str, type] = {}


def _builtin_exc(name: str | None) -> type | None:
    if not name:
        return None
    t = _OTHER_NAMED.get(name) or getattr(builtins, name, None)
    return t if isinstance(t, type) and issubclass(t, BaseException) else None


def _remote_class(boxed: str) -> type:
    """RemoteActorError, mixed with the boxed builtin type when there is one,
    so ``except ValueError`` catches a remote ValueError too."""
    if boxed in _NAMED and issubclass(_NAMED[boxed], RemoteActorError):
        return _NAMED[boxed]
    cls = _mixed.get(boxed)
    if cls is None:
        cls = RemoteActorError
        base = _builtin_exc(boxed)
        # (not exception groups: they are built from a list, not a message)
        if base is not None and issubclass(base, Exception) and base is not Exception \
                and not issubclass(base, BaseExceptionGroup):
            try:
                cls = type("RemoteActorError", (RemoteActorError, base), {
                    "__module__": __name__,
                    "__doc__": f"A remote {boxed}, boxed (RemoteActorError and {boxed}).",
                    "__init__": RemoteActorError.__init__,
                    "__str__": RemoteActorError.__str__,
                })
            except TypeError:  # incompatible layout (e.g. OSError): plain box
                cls = RemoteActorError
        _mixed[boxed] = cls
    return cls


def _make_error(code: int, info: dict | None, where: str) -> BaseException:
    """The extension's exception factory (see tractor.i, set_hooks)."""
    if code == ECANCELLED:
        return Cancelled(f"{where}: cancelled")
    if info is None:
        cls = _LOCAL.get(code, TractorError)
        msg = f"{where}: {_c.errtext(code)}"
        if issubclass(cls, RemoteActorError):
            return cls(msg, {"message": msg, "code": code})
        if issubclass(cls, TractorError):
            return cls(msg, code=code)
        return cls(msg)
    if code == EGROUP or info.get("group"):
        members = [_make_error(m.get("code") or EREMOTE, m, where) for m in info["group"]]
        return BaseExceptionGroup(info.get("message") or "actor errors", members)
    typ = info.get("type") or ""
    msg = info.get("message") or ""
    if info.get("src_uid") is None:
        # raised by the local runtime or the extension, not by a remote actor
        cls = _NAMED.get(typ) or _LOCAL.get(code)
        if cls is None or typ in ("ValueError", "RuntimeError", "TypeError"):
            cls = _builtin_exc(typ) or TractorError
        if issubclass(cls, RemoteActorError):
            return cls(msg, info, code=code)
        if issubclass(cls, TractorError):
            return cls(msg or f"{where}: {_c.errtext(code)}", code=code)
        return cls(msg)
    return _remote_class(typ)(msg, info, code=code)
