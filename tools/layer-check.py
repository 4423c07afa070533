#!/usr/bin/env python3
"""Check the layering rule: public in capi/, engine in core/, arrows point down.

  layer-check.py OBJDIR     (the tractor_obj objects: build/CMakeFiles/tractor_obj.dir)

From the compiled objects (what actually links, not what a grep guesses):
 1. every public tr_[a-z] function is defined in an object under capi/ only;
 2. no object under core/ references a public tr_[a-z] function (the engine
    never calls up), and no source under core/ includes a capi/ header;
 3. the dependency graph of core/'s subsystems (A -> B when an object of A
    references a symbol an object of B defines) points down the order
    devx < msg < ipc < runtime < spawn, discovery, and so has no cycle."""
import re
import subprocess
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
objdir = Path(sys.argv[1])
RANK = {"devx": 0, "msg": 1, "ipc": 2, "runtime": 3, "spawn": 4, "discovery": 4}

defs, undefs = {}, {}
for o in sorted(objdir.rglob("*.o")):
    rel = o.relative_to(objdir).as_posix()  # capi/ctx.c.o, core/ipc/chan.c.o
    out = subprocess.run(["nm", "--defined-only", "-g", str(o)], capture_output=True,
                         text=True, check=True).stdout
    defs[rel] = {l.split()[-1] for l in out.splitlines() if l.split()[-2] in "TDBRVW"}
    out = subprocess.run(["nm", "-u", str(o)], capture_output=True, text=True,
                         check=True).stdout
    undefs[rel] = {l.split()[-1] for l in out.splitlines()}
if not any(k.startswith("capi/") for k in defs) or not any(k.startswith("core/") for k in defs):
    sys.exit(f"layer-check: no capi/ or core/ objects under {objdir}")

bad = []
public = re.compile(r"^tr_[a-z]")
owner = {}
for obj, syms in defs.items():
    for s in syms:
        owner[s] = obj
        if public.match(s) and not obj.startswith("capi/"):
            bad.append(f"{obj} defines the public {s} (public functions live in capi/)")
for obj, syms in undefs.items():
    if obj.startswith("core/"):
        for s in sorted(syms):
            if public.match(s):
                bad.append(f"{obj} calls the public {s} (the engine never calls up)")
for src in sorted((root / "core").rglob("*.[ch]")):
    for n, line in enumerate(src.read_text().splitlines(), 1):
        if re.match(r'\s*#\s*include\s*"capi/', line):
            bad.append(f"{src.relative_to(root)}:{n} includes a capi/ header")

edges = {}
for obj, syms in undefs.items():
    if not obj.startswith("core/"):
        continue
    a = obj.split("/")[1]
    for s in syms:
        tgt = owner.get(s)
        if tgt and tgt.startswith("core/"):
            b = tgt.split("/")[1]
            if a != b:
                edges.setdefault((a, b), set()).add(s)
for (a, b), syms in sorted(edges.items()):
    if a not in RANK or b not in RANK:
        bad.append(f"core/{a} -> core/{b}: unknown subsystem (add it to RANK)")
    elif RANK[a] <= RANK[b]:
        bad.append(f"core/{a} -> core/{b} points up or sideways, through: "
                   + ", ".join(sorted(syms)[:8]))
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("ok: public functions in capi/ only; core/ never calls up; core/ graph:")
for (a, b), syms in sorted(edges.items()):
    print(f"  {a} -> {b} ({len(syms)} symbols)")
