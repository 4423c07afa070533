"""The host of Python child actors.

The runtime starts a Python child as::

    python3 -m libtractor.child --uid "('name', 'uuid')" --parent_addr "('127.0.0.1', 1234)" --loglevel error

($TRACTOR_PYTHON replaces ``python3``.) The child connects back to its
parent, receives its SpawnSpec, imports every module in ``enable_modules``
and serves their public functions until it is cancelled. A module that
cannot be imported is reported to the parent (its ``start_actor`` raises
the ImportError, boxed) and the child exits with status 1.
"""
from __future__ import annotations

import os
import sys
import traceback

USAGE = """usage: python3 -m libtractor.child --uid "('name', 'uuid')" --parent_addr "('host', port)" [--loglevel LEVEL]
Runs a libtractor Python child actor (started by a parent's nursery)."""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    if any(a in ("-h", "--help") for a in argv[1:]):
        print(USAGE)
        return 0
    from . import _state
    from . import _tractor_c as _c
    from ._exceptions import TractorError
    from ._runtime import _close, _open

    try:
        actor = _open(None, child_argv=argv)
    except (TractorError, ValueError) as e:
        print(f"libtractor.child: cannot start: {e}", file=sys.stderr)
        return 2
    try:
        try:
            for ns in _c.runtime_enabled_modules(actor._h):
                actor.enable_module(ns)
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            _c.runtime_boot_failed(actor._h, type(e).__name__, str(e), traceback.format_exc())
            return 1
        _c.runtime_serve(actor._h)
        actor.wait()
        return 0
    finally:
        _close(actor)
        assert _state._actor is None


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # threads of the runtime may still hold references: leave without running
    # the interpreter's teardown
    os._exit(code)
