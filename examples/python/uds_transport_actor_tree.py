"""An actor tree over unix domain sockets instead of TCP: open the root with
transport="uds" and every child inherits it. Each actor listens on a socket
file in the runtime directory (<rt dir>/<name>@<pid>.sock).

Port of tractor's examples/uds_transport_actor_tree.py, one level deeper.

Run: PYTHONPATH=build/bindings/python python3 examples/python/uds_transport_actor_tree.py
"""
import os

import libtractor as tractor


def report_addr() -> str:
    """This actor's own listening address and pid."""
    me = tractor.current_actor()
    return f"{me.name}@{me.addr} pid={os.getpid()}"


def spawn_grandchild() -> list:
    """Runs in the child: spawn a grandchild (UDS too) and report both."""
    with tractor.open_nursery() as an:
        p = an.start_actor("uds_grandchild", enable_modules=[__name__])
        out = [report_addr(), p.run(report_addr)]
        p.cancel_actor()
    return out


def main() -> None:
    # a self-contained tree (no registrar: the default UDS registry socket,
    # registry@1616.sock, is machine-wide)
    with tractor.open_nursery(transport="uds", enable_registrar=False) as an:
        me = tractor.current_actor()
        print(f"root: {me.name}@{me.addr}")
        assert me.addr.startswith("/unix/")
        portal = an.start_actor("uds_child", enable_modules=[__name__])
        with tractor.fail_after(30):
            for line in portal.run(spawn_grandchild):
                print(f"  {line}")
                assert "@/unix/" in line and ".sock pid=" in line
        portal.cancel_actor()


if __name__ == "__main__":
    main()
