"""Cancellation, Ctrl-C, faults and the GIL (the spirit of tractor's
test_cancellation.py, test_advanced_faults.py and
test_inter_peer_cancellation.py)."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import libtractor as tractor
from conftest import HERE, eventually, pid_alive
from tmods import basic


@pytest.mark.parametrize("mode", ["call", "sleep"])
def test_ctrl_c_cancels_the_tree(mode):
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "scripts", "ctrl_c_root.py"), mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        assert line and line[0] == "READY", proc.stderr.read()
        pids = [int(p) for p in line[1:]]
        time.sleep(0.3)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "KeyboardInterrupt" in out, err
    assert proc.returncode == 3, err
    assert took < 5, took
    for pid in pids:
        assert eventually(lambda: not pid_alive(pid)), f"child {pid} survived"


def test_gil_is_released_during_calls():
    """Two threads calling a sleeping remote function overlap."""
    with tractor.open_nursery() as an:
        p = an.start_actor("sleeper", enable_modules=["tmods.basic"])
        with tractor.fail_after(30):
            p.run(basic.add, x=0, y=0)  # warm up
            t0 = time.monotonic()
            threads = [threading.Thread(target=p.run, args=(basic.sleep,), kwargs={"seconds": 1.0})
                       for _ in range(2)]
            for t in threads:
                t.start()
            # the main thread keeps running Python meanwhile
            spins = 0
            while any(t.is_alive() for t in threads):
                spins += 1
                time.sleep(0.001)
            took = time.monotonic() - t0
        assert took < 1.8, took  # one after the other would take 2 s
        assert spins > 50
        p.cancel_actor()


def test_served_functions_run_concurrently():
    """A child serves several calls at once (one worker thread each)."""
    with tractor.open_nursery() as an:
        p = an.start_actor("conc", enable_modules=["tmods.basic"])
        with tractor.fail_after(30):
            p.run(basic.add, x=0, y=0)
            t0 = time.monotonic()
            threads = [threading.Thread(target=p.run, args=(basic.sleep,), kwargs={"seconds": 0.8})
                       for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert time.monotonic() - t0 < 2.4  # serially: 3.2 s
        p.cancel_actor()


def test_cancel_actor_cancels_running_tasks():
    with tractor.open_nursery() as an:
        p = an.start_actor("victim", enable_modules=["tmods.basic"])
        errors = []

        def call():
            try:
                p.run(basic.cancellable_sleep, seconds=30)
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        t = threading.Thread(target=call)
        t.start()
        time.sleep(0.5)
        t0 = time.monotonic()
        assert p.cancel_actor(timeout=5)
        t.join(10)
        assert not t.is_alive()
        assert time.monotonic() - t0 < 3
        assert eventually(lambda: not pid_alive(p.pid))
        # the call ended: cancelled or its channel closed
        assert errors and isinstance(errors[0], (tractor.TransportClosed,
                                                 tractor.ContextCancelled,
                                                 tractor.RemoteActorError))


def test_stuck_child_is_hard_killed():
    """A child busy in pure Python ignores cancellation: the nursery
    escalates to SIGTERM/SIGKILL."""
    with tractor.open_nursery() as an:
        p = an.start_actor("stuck", enable_modules=["tmods.basic"])
        pid = p.pid
        call = threading.Thread(target=lambda: pytest.raises(BaseException, p.run, basic.busy_forever),
                                daemon=True)
        call.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        an.cancel()
        took = time.monotonic() - t0
        call.join(5)
    assert not pid_alive(pid)
    assert took < 8, took


def test_child_killed_mid_call_is_transport_closed():
    with tractor.open_nursery() as an:
        p = an.start_actor("doomed", enable_modules=["tmods.basic"])
        threading.Timer(0.5, os.kill, args=(p.pid, signal.SIGKILL)).start()
        with tractor.fail_after(10):
            with pytest.raises(tractor.TransportClosed):
                p.run(basic.sleep, seconds=30)
        assert not p.connected
        an.cancel()


def test_peer_to_peer_via_discovery():
    """Two siblings find each other through the registrar and one cancels a
    context in the other (inter-peer)."""
    with tractor.open_nursery() as an:
        a = an.start_actor("peer-a", enable_modules=["tmods.basic", "tmods.peers"])
        an.start_actor("peer-b", enable_modules=["tmods.basic"])
        with tractor.fail_after(30):
            res = a.run_from_ns("tmods.peers", "call_peer", name="peer-b", x=2, y=3)
            assert res == 5
            canc = a.run_from_ns("tmods.peers", "cancel_peer_ctx", name="peer-b")
            assert canc == "peer-a"
            with tractor.find_actor("peer-b") as pb:
                assert pb is not None and pb.name == "peer-b"
            with tractor.find_actor("nobody") as nobody:
                assert nobody is None
            assert any(k.startswith("peer-a") for k in tractor.get_registry())
        an.cancel()
