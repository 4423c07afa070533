"""A root with two Python children (one grandchild) that the test SIGKILLs."""
import time

import libtractor as tractor
from tmods import basic

with tractor.open_nursery() as an:
    a = an.start_actor("a", enable_modules=["tmods.basic"])
    b = an.start_actor("b", enable_modules=["tmods.basic"])
    print("READY", a.pid, b.pid, flush=True)
    a.run(basic.sleep, seconds=60)
