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
    assert eventually(lambda: not (sock_files() - before)), \
        f"socket files left: {sorted(sock_files() - before)}"


@pytest.fixture(params=["tcp", "uds"])
def transport(request) -> str:
    return request.param
