"""The actor of this process: opening the root, serving Python functions."""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import os
import sys
import threading
import time
from types import ModuleType
from typing import Any, Callable, Iterator

from . import _state
from . import _tractor_c as _c
from ._exceptions import Cancelled
from ._pldspec import to_spec
from ._portal import Context

ASYNCFUNC, CONTEXT = 0, 1
_MAIN_ENV = "LIBTRACTOR_PARENT_MAIN"


def context(fn: Callable | None = None, *, pld_spec=None):
    """Mark a function as a *context* endpoint (tractor's ``@context``).

    The function receives the callee-side :class:`Context` first, then the
    caller's keyword arguments; it calls ``ctx.started(value)`` once, may
    open a stream, and returns the final result::

        @libtractor.context
        def echo(ctx, greeting):
            ctx.started(greeting)
            with ctx.open_stream() as stream:
                for msg in stream:
                    stream.send(msg)

    ``pld_spec`` limits every payload of the context (started, stream
    values, result) to a type: a Python annotation such as ``int | None``,
    ``list[str]``, ``dict`` or a TypedDict, or a spec string (see
    :func:`libtractor.to_spec`). Values that do not match raise
    :class:`MsgTypeError` on the side that sends them.
    """
    spec = None if pld_spec is None else to_spec(pld_spec)

    def deco(f: Callable) -> Callable:
        f._tractor_context = True  # type: ignore[attr-defined]
        f._tractor_pld_spec = spec  # type: ignore[attr-defined]
        return f

    return deco(fn) if fn is not None else deco


def _run_coro(coro) -> Any:
    """Run an ``async def`` served function on its task thread."""
    import asyncio  # only when needed: importing it is slow

    return asyncio.run(coro)


def _make_handler(fn: Callable, is_ctx: bool) -> Callable:
    """The callable the C trampoline invokes on a runtime worker thread (with
    the GIL held) as ``handler(ctx_handle, kwargs)``; its return value is the
    result sent back."""
    is_coro = inspect.iscoroutinefunction(fn)

    if is_ctx:
        def handler(h, kwargs: dict) -> Any:
            ctx = Context(h, side="callee")
            try:
                r = fn(ctx, **kwargs)
                return _run_coro(r) if is_coro else r
            finally:
                ctx._detach()
    else:
        def handler(h, kwargs: dict) -> Any:
            r = fn(**kwargs)
            return _run_coro(r) if is_coro else r

    handler.__qualname__ = f"served[{getattr(fn, '__qualname__', fn)}]"
    return handler


def _served_functions(mod: ModuleType) -> Iterator[tuple[str, Callable]]:
    """The functions a module exposes: those in ``__all__`` when it has one,
    else every public function defined in the module itself."""
    listed = getattr(mod, "__all__", None)
    for name, obj in list(vars(mod).items()):
        if name.startswith("_") or isinstance(obj, type) or not callable(obj):
            continue
        if listed is not None:
            if name in listed:
                yield name, obj
        elif (inspect.isfunction(obj) or inspect.isbuiltin(obj)) and \
                getattr(obj, "__module__", None) == mod.__name__:
            yield name, obj


def _import_ns(ns: str) -> ModuleType:
    """Import the module served as namespace `ns`. ``__main__`` is the
    root's main script, loaded under the name ``__mp_main__`` in children
    (so its ``if __name__ == '__main__':`` block does not run); a child
    that enables its own ``__name__`` for a grandchild names it
    ``__mp_main__``, which is the same script."""
    if ns not in ("__main__", "__mp_main__"):
        return importlib.import_module(ns)
    if _state._actor is None or not _state._actor.is_child:
        return sys.modules["__main__"]
    ref = os.environ.get(_MAIN_ENV, "")
    kind, _, where = ref.partition(":")
    if kind == "module":
        return importlib.import_module(where)
    if kind == "path" and where:
        mod = sys.modules.get("__mp_main__")
        if mod is None or getattr(mod, "__file__", None) != where:
            spec = importlib.util.spec_from_file_location("__mp_main__", where)
            if spec is None or spec.loader is None:
                raise ModuleNotFoundError(f"cannot load the parent's main script {where}")
            mod = importlib.util.module_from_spec(spec)
            sys.modules["__mp_main__"] = mod
            spec.loader.exec_module(mod)
        return mod
    raise ModuleNotFoundError("'__main__' is enabled but the parent's main module is unknown "
                              f"(${_MAIN_ENV} is not set)")


def _export_main() -> None:
    """Tell future children which Python to run (ours, unless
    $TRACTOR_PYTHON says otherwise: `python3` on PATH may be another one, or
    a slow launcher shim) and where our main script is (for '__main__')."""
    if not os.environ.get("TRACTOR_PYTHON") and sys.executable:
        os.environ["TRACTOR_PYTHON"] = sys.executable
    if _MAIN_ENV in os.environ:
        return
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name and spec.name != "__main__":
        os.environ[_MAIN_ENV] = "module:" + spec.name.removesuffix(".__main__")
    elif getattr(main, "__file__", None):
        os.environ[_MAIN_ENV] = "path:" + os.path.abspath(main.__file__)


class _FdWaiter:
    """asyncio: one reader on the runtime's pollable fd per event loop, waking
    every coroutine waiting for progress."""

    def __init__(self, actor: "Actor", loop) -> None:
        self.actor, self.loop, self.futs = actor, loop, set()
        self.fd = _c.runtime_fd(actor._h)

    def wait(self):
        fut = self.loop.create_future()
        if not self.futs:
            self.loop.add_reader(self.fd, self._ready)
        self.futs.add(fut)
        return fut

    def _ready(self) -> None:
        _c.runtime_fd_clear(self.actor._h)
        self.loop.remove_reader(self.fd)
        futs, self.futs = self.futs, set()
        for f in futs:
            if not f.done():
                f.set_result(None)


class Actor:
    """The actor of this process (tractor's ``Actor``): its identity and the
    functions it serves. Get it with :func:`libtractor.current_actor`."""

    def __init__(self, handle) -> None:
        self._h = handle
        info = _c.runtime_info(handle)
        self.name: str = info["name"]
        self.uuid: str = info["uuid"]
        self.is_child: bool = info["is_child"]
        self._enabled: dict[str, ModuleType] = {}
        self._served: set[tuple[str, str]] = set()
        self._fdwaiters: dict = {}  # asyncio loop -> _FdWaiter
        self._lock = threading.Lock()

    @property
    def uid(self) -> tuple[str, str]:
        """``(name, uuid)``, as tractor's ``Actor.uid``."""
        return (self.name, self.uuid)

    aid = uid

    @property
    def addr(self) -> str:
        """Our first listening address (multiaddr)."""
        return _c.runtime_info(self._h)["addr"]

    @property
    def is_registrar(self) -> bool:
        return _c.runtime_info(self._h)["is_registrar"]

    is_arbiter = is_registrar

    @property
    def cancel_called(self) -> bool:
        """True once the actor was asked to end (cancel, SIGINT, parent
        gone)."""
        return _c.runtime_cancelled(self._h)

    @property
    def cancel_reason(self) -> str | None:
        """"sigint", "sigterm", "remote", "parent-gone", "local" or None."""
        return _c.runtime_info(self._h)["cancel_reason"]

    @property
    def enabled_modules(self) -> list[str]:
        return list(self._enabled)

    def enable_module(self, ns: str) -> ModuleType:
        """Import module `ns` and serve its public functions (every function
        defined in it, or the names in its ``__all__``) under that
        namespace. Functions decorated with :func:`libtractor.context` are
        served as context endpoints."""
        with self._lock:
            mod = self._enabled.get(ns)
            if mod is not None:
                return mod
            mod = _import_ns(ns)
            for name, fn in _served_functions(mod):
                self._register(ns, name, fn)
                if ns == "__main__":  # as tractor: the script's functions say
                    self._register("__mp_main__", name, fn)  # __mp_main__ in children
            self._enabled[ns] = mod
            return mod

    def serve(self, fn: Callable, *, ns: str | None = None, name: str | None = None) -> None:
        """Serve one function as ``ns.name`` (defaults: its module and
        name)."""
        with self._lock:
            self._register(ns or fn.__module__, name or fn.__name__, fn)

    def _register(self, ns: str, name: str, fn: Callable) -> None:
        if (ns, name) in self._served:
            return
        is_ctx = bool(getattr(fn, "_tractor_context", False))
        _c.register_func(self._h, ns, name, CONTEXT if is_ctx else ASYNCFUNC,
                         _make_handler(fn, is_ctx), getattr(fn, "_tractor_pld_spec", None))
        self._served.add((ns, name))

    def cancel(self) -> None:
        """Ask this actor to end: served tasks are cancelled and every
        blocking call outside them raises."""
        _c.runtime_cancel(self._h)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the actor is asked to end (True) or `timeout` seconds
        pass (False)."""
        return _c.runtime_wait(self._h, _state.timeout_ms(timeout))

    def log(self, level: int | str, msg: str, module: str = "python") -> None:
        """Write a line through the runtime's logger."""
        if isinstance(level, str):
            level = _c.log_level_from_name(level)
        _c.log_str(level, module, msg)

    async def _wait_readable(self) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        w = self._fdwaiters.get(loop)
        if w is None:
            w = self._fdwaiters[loop] = _FdWaiter(self, loop)
        await w.wait()

    def _close(self) -> None:
        h, self._h = self._h, None
        if h is not None:
            for w in self._fdwaiters.values():
                with contextlib.suppress(Exception):
                    w.loop.remove_reader(w.fd)
            _c.runtime_close(h)

    def __repr__(self) -> str:
        return f"<Actor {self.name}[{self.uuid[:8]}]{' child' if self.is_child else ''}>"


def _addr_str(a: Any) -> str:
    if isinstance(a, str):
        return a
    if isinstance(a, (tuple, list)) and len(a) == 2:
        host, port = a
        if isinstance(port, int):
            return f"{host}:{port}"
        return os.path.join(str(host), str(port))
    raise TypeError(f"cannot use {a!r} as an actor address")


def _open(name: str | None, *, transport=None, bind_addr=None, registry_addrs=None,
          loglevel=None, module_path=None, handle_signals=True, enable_registrar=True,
          child_argv=None) -> Actor:
    if _state._actor is not None:
        raise RuntimeError(f"this process already runs an actor ({_state._actor!r}): "
                           "one runtime per process")
    if registry_addrs is not None and not isinstance(registry_addrs, str):
        registry_addrs = ",".join(_addr_str(a) for a in registry_addrs)
    if bind_addr is not None and not isinstance(bind_addr, str):
        bind_addr = _addr_str(bind_addr)
    if isinstance(enable_registrar, str):
        modes = {"none": 0, "elect": 1, "join": 2, "become": 3}
        if enable_registrar not in modes:
            raise ValueError(f"enable_registrar must be one of {sorted(modes)} or a bool")
        enable_registrar = modes[enable_registrar]
    main = threading.current_thread() is threading.main_thread()
    h = _c.runtime_open(name, transport, bind_addr, registry_addrs, loglevel, module_path,
                        int(bool(handle_signals)), int(enable_registrar), child_argv,
                        int(main))
    actor = Actor(h)
    _state._actor = actor
    return actor


def _close(actor: Actor) -> None:
    if _state._actor is actor:
        _state._actor = None
    actor._close()


@contextlib.contextmanager
def open_root_actor(name: str = "root", *, registry_addrs=None, transport: str | None = None,
                    bind_addr=None, loglevel: str | None = None,
                    enable_modules: list[str] | tuple[str, ...] = (),
                    module_path: str | None = None, handle_signals: bool = True,
                    enable_registrar: bool | str = True) -> Iterator[Actor]:
    """Open this process's actor as the root of a tree (tractor's
    ``open_root_actor``) and yield it; the block's end closes it (children
    still running are cancelled).

    ``transport`` is ``"tcp"`` (default) or ``"uds"``; ``registry_addrs``
    a list of registrar addresses (``"host:port"``, ``(host, port)`` or a
    socket path; default tractor's ``127.0.0.1:1616``); ``bind_addr`` our
    listening address; ``loglevel`` one of tractor's level names (default
    ``$TRACTOR_LOGLEVEL`` or ``"error"``); ``enable_modules`` modules
    whose functions this actor serves too; ``module_path`` where C modules
    are looked up (``$TRACTOR_MODULE_PATH``). With ``handle_signals`` (the
    default) Ctrl-C cancels the whole tree and raises ``KeyboardInterrupt``.
    ``enable_registrar`` says what the root does about the registrar:
    ``"elect"`` (True, the default: join the one answering at
    ``registry_addrs`` or become it), ``"join"`` (one must answer),
    ``"become"`` (we must be it) or ``"none"`` (False: no discovery).
    """
    _export_main()
    actor = _open(name, transport=transport, bind_addr=bind_addr,
                  registry_addrs=registry_addrs, loglevel=loglevel, module_path=module_path,
                  handle_signals=handle_signals, enable_registrar=enable_registrar)
    try:
        for m in enable_modules or ():
            actor.enable_module(m)
        yield actor
    finally:
        _close(actor)


def checkpoint() -> None:
    """Raise :class:`Cancelled` if the served task running on this thread
    was cancelled (or, outside tasks, if the actor was). Call it from long
    pure-Python loops, which the runtime cannot interrupt by itself."""
    task = _c.current_task()
    if task is not None:
        if _c.ctx_cancel_called(task):
            raise Cancelled("the task was cancelled")
    elif _state._actor is not None and _state._actor._h is not None and \
            _c.runtime_cancelled(_state._actor._h):
        raise Cancelled("the actor was cancelled")


def sleep(seconds: float) -> None:
    """Sleep, but wake up with :class:`Cancelled` as soon as the task (or
    the actor) is cancelled (it checks every 10 ms), like ``trio.sleep``."""
    end = time.monotonic() + seconds
    while True:
        checkpoint()
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.01))
