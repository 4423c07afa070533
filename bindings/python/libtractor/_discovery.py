"""Discovery through the registrar: finding actors by name."""
from __future__ import annotations

import contextlib
from typing import Iterator

from . import _state
from . import _tractor_c as _c
from ._portal import Portal


@contextlib.contextmanager
def find_actor(name: str, timeout: float | None = None) -> Iterator[Portal | None]:
    """Yield a :class:`Portal` to the first actor registered as `name`, or
    None when there is none (tractor's ``find_actor``). The portal is
    released when the block ends."""
    h = _c.find_actor(_state.current_actor()._h, name, _state.timeout_ms(timeout))
    if h is None:
        yield None
        return
    with Portal(h) as p:
        yield p


@contextlib.contextmanager
def wait_for_actor(name: str, timeout: float | None = None) -> Iterator[Portal]:
    """Wait until an actor called `name` registers, then yield a
    :class:`Portal` to it (tractor's ``wait_for_actor``)."""
    h = _c.wait_for_actor(_state.current_actor()._h, name, _state.timeout_ms(timeout))
    with Portal(h) as p:
        yield p


def query_actor(name: str, timeout: float | None = None) -> str | None:
    """The address (multiaddr) `name` is registered at, or None."""
    return _c.query_actor(_state.current_actor()._h, name, _state.timeout_ms(timeout))


def get_registry(timeout: float | None = None) -> dict[str, list[str]]:
    """The registrar's table: ``{"name.uuid": [addr, ...]}``."""
    return _c.get_registry(_state.current_actor()._h, _state.timeout_ms(timeout))


def connect(addr, timeout: float | None = None) -> Portal:
    """A :class:`Portal` to the actor listening at `addr` (multiaddr,
    ``"host:port"``, ``(host, port)`` or a socket path)."""
    from ._runtime import _addr_str
    return Portal(_c.portal_connect(_state.current_actor()._h, _addr_str(addr),
                                    _state.timeout_ms(10.0 if timeout is None else timeout)))
