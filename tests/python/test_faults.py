"""Faults and peers (the spirit of tractor's test_advanced_faults.py and
test_inter_peer_cancellation.py)."""
import os
import signal
import subprocess
import sys
import threading
import time

import libtractor as tractor
from conftest import HERE, eventually, pid_alive
from tmods import basic, peers


def test_children_die_with_a_killed_root():
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "scripts", "doomed_root.py")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        assert line and line[0] == "READY", proc.stderr.read()
        pids = [int(p) for p in line[1:]]
        proc.kill()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for pid in pids:
        assert eventually(lambda: not pid_alive(pid), 5), f"orphan {pid} survived its root"


def test_root_serves_functions_to_its_children():
    """A child calls back into the (Python) root, found by name."""
    with tractor.open_root_actor("server-root", enable_modules=["tmods.basic"]):
        with tractor.open_nursery() as an:
            p = an.start_actor("client", enable_modules=["tmods.peers"])
            with tractor.fail_after(30):
                assert p.run(peers.call_peer, name="server-root", x=20, y=22) == 42
            p.cancel_actor()


def test_cancelling_a_middle_actor_cancels_its_peer_context():
    """A opens a context in its sibling B; cancelling A ends B's task too
    (its caller is gone)."""
    with tractor.open_nursery() as an:
        a = an.start_actor("peer-a", enable_modules=["tmods.peers", "tmods.basic"])
        b = an.start_actor("peer-b", enable_modules=["tmods.basic"])
        errors = []

        def hold():
            try:
                a.run(peers.hold_peer_ctx, name="peer-b")
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        t = threading.Thread(target=hold)
        t.start()
        with tractor.fail_after(30):
            deadline = time.monotonic() + 10
            while b.run(basic.get_state).get("wait_in_stream") != "started":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert a.cancel_actor(timeout=5)
            t.join(10)
            assert not t.is_alive() and errors
            deadline = time.monotonic() + 10
            while b.run(basic.get_state).get("wait_in_stream") != "cancelled":
                assert time.monotonic() < deadline
                time.sleep(0.05)
        an.cancel()


def test_sigterm_to_a_child_is_seen_by_the_parent():
    with tractor.open_nursery() as an:
        p = an.start_actor("termed", enable_modules=["tmods.basic"])
        threading.Timer(0.5, os.kill, args=(p.pid, signal.SIGTERM)).start()
        with tractor.fail_after(15):
            try:
                p.run(basic.cancellable_sleep, seconds=30)
            except (tractor.TransportClosed, tractor.RemoteActorError):
                pass
        assert eventually(lambda: not pid_alive(p.pid))
        an.cancel()
