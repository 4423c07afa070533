"""A root that spawns two Python children (one busy in a call) and blocks;
the test sends it SIGINT. Prints READY and the child pids first."""
import sys
import time

import libtractor as tractor
from tmods import basic

mode = sys.argv[1] if len(sys.argv) > 1 else "call"
try:
    with tractor.open_nursery() as an:
        p1 = an.start_actor("busy", enable_modules=["tmods.basic"])
        p2 = an.start_actor("idle", enable_modules=["tmods.basic"])
        print("READY", p1.pid, p2.pid, flush=True)
        if mode == "call":
            p1.run(basic.cancellable_sleep, seconds=60)   # blocked in C
        else:
            time.sleep(60)                                 # blocked in Python
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    sys.exit(3)
print("not interrupted", flush=True)
