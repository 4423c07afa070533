"""Shared fixtures: a hard per-test deadline and the leftover check (no child
process, no new socket file left behind by a test)."""
from __future__ import annotations

import faulthandler
import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

#: default hard deadline of one test (seconds); @pytest.mark.deadline(n)
DEFAULT_DEADLINE = 60


def pytest_configure(config):
    config.addinivalue_line("markers", "deadline(seconds): hard time limit of the test")


def rt_dir() -> str:
    x = os.environ.get("XDG_RUNTIME_DIR")
    if x and os.access(x, os.W_OK):
        return os.path.join(x, "tractor")
    return f"/tmp/tractor-{os.getuid()}"


def sock_files() -> set[str]:
    try:
        return {f for f in os.listdir(rt_dir()) if ".sock" in f}
    except FileNotFoundError:
        return set()


def children_of(ppid: int) -> list[int]:
    """Live (or zombie) processes whose parent is `ppid`."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                line = f.read()
        except OSError:
            continue
        rest = line[line.rfind(")") + 2:].split()
        if int(rest[1]) == ppid:
            out.append(int(d))
    return out


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            line = f.read()
    except OSError:
        return False
    return line[line.rfind(")") + 2] != "Z"


def eventually(pred, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


# Hermetic discovery: roots elect themselves registrar at a private address
# instead of the machine-wide 127.0.0.1:1616 that other suites (running in
# parallel) may hold. Children learn the address from their parent.
os.environ.setdefault("TRACTOR_REGISTRY_ADDR", "127.0.0.1:0")

#: pids of every child spawned through a Portal in this process
SPAWNED: set[int] = set()


def _record_portals() -> None:
    from libtractor import _portal

    orig = _portal.Portal.__init__

    def init(self, *a, **kw):
        orig(self, *a, **kw)
        if self.pid:
            SPAWNED.add(self.pid)

    _portal.Portal.__init__ = init


_record_portals()


def _sock_pid(fname: str) -> int:
    try:
        return int(fname.rsplit("@", 1)[1].split(".", 1)[0])
    except (IndexError, ValueError):
        return -1


def our_new_socks(before: set[str]) -> list[str]:
    """New socket files that are ours: of this process, of a child we
    spawned, or of a process that is gone (nobody will remove them). Other
    suites run in parallel in the same directory."""
    ours = {os.getpid()} | SPAWNED
    return sorted(f for f in sock_files() - before
                  if _sock_pid(f) in ours or not pid_alive(_sock_pid(f)))


@pytest.fixture(autouse=True)
def no_leftovers(request):
    """Arm a hard deadline (the process dumps every thread's stack and exits
    if a test hangs) and check, after the test, that it left no child
    process and no new socket file."""
    marker = request.node.get_closest_marker("deadline")
    deadline = marker.args[0] if marker else DEFAULT_DEADLINE
    before = sock_files()
    faulthandler.dump_traceback_later(deadline, exit=True, file=sys.__stderr__)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
    me = os.getpid()
    assert eventually(lambda: not children_of(me)), f"child processes left: {children_of(me)}"
    assert eventually(lambda: not our_new_socks(before)), \
        f"socket files left: {our_new_socks(before)}"


@pytest.fixture(params=["tcp", "uds"])
def transport(request) -> str:
    return request.param
