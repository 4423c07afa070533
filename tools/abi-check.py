#!/usr/bin/env python3
"""Check libtractor.so against its recorded ABI baseline (abi/).

  abi-check.py LIB [--abi-dir DIR] [--headers DIR]

The baseline is abi/libtractor-<major>.<minor>.abi whose soname is the
library's SONAME (the newest one when there are several). Passes when the
only differences are additions (listed) and options structs that grew at
their end; anything else fails with abidiff's report. A deliberate break
needs a new major version: a new SONAME and a new baseline (make
abi-baseline), see docs/c-api.md "ABI policy"."""
import argparse
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

root = Path(__file__).resolve().parent.parent
ap = argparse.ArgumentParser()
ap.add_argument("lib")
ap.add_argument("--abi-dir", default=str(root / "abi"))
ap.add_argument("--headers", default=str(root / "include/tractor"))
args = ap.parse_args()

for tool in ("abidiff", "abidw"):
    if not shutil.which(tool):
        sys.exit(f"abi-check: {tool} not found (Debian: apt-get install abigail-tools;"
                 " `make test` installs it)")


def soname(path):
    out = subprocess.run(["objdump", "-p", path], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"SONAME\s+(\S+)", out)
    return m.group(1) if m else None


def version_key(p):
    m = re.match(r"libtractor-(\d+)\.(\d+)\.abi$", p.name)
    return (int(m.group(1)), int(m.group(2))) if m else (-1, -1)


lib_soname = soname(args.lib)
baselines = []
for p in Path(args.abi_dir).glob("libtractor-*.abi"):
    corpus = ET.parse(p).getroot()
    if corpus.get("soname") == lib_soname:
        baselines.append(p)
if not baselines:
    sys.exit(f"abi-check: no baseline in {args.abi_dir} has soname {lib_soname}: a new "
             "major version needs a new baseline (make abi-baseline)")
base = max(baselines, key=version_key)
supp = Path(args.abi_dir) / "tractor.abignore"
common = ["--drop-private-types", "--headers-dir2", args.headers,
          "--suppressions", str(supp)]

# 1. abidiff: anything but additions fails
strict = subprocess.run(["abidiff", "--no-added-syms", *common, str(base), args.lib],
                        capture_output=True, text=True)
if strict.returncode & 3:
    sys.exit(f"abi-check: abidiff failed (exit {strict.returncode}):\n"
             f"{strict.stdout}{strict.stderr}")
failed = False
if strict.returncode & 12:
    print(f"ABI INCOMPATIBLE with {base.name} (abidiff exit {strict.returncode}):")
    print(strict.stdout)
    failed = True

# 2. options structs: every baseline member keeps its name, type and offset
def read_corpus(path_or_text):
    r = ET.fromstring(path_or_text) if isinstance(path_or_text, str) else \
        ET.parse(path_or_text).getroot()
    types = {el.get("id"): el for el in r.iter() if el.get("id")}

    def tname(tid, depth=0):
        el = types.get(tid)
        if el is None or depth > 20:
            return "?"
        tag = el.tag
        if tag == "pointer-type-def":
            return tname(el.get("type-id"), depth + 1) + "*"
        if tag == "qualified-type-def":
            q = "const " if el.get("const") == "yes" else ""
            q += "volatile " if el.get("volatile") == "yes" else ""
            return q + tname(el.get("type-id"), depth + 1)
        if tag == "array-type-def":
            return tname(el.get("element-type-id"), depth + 1) + "[]"
        return el.get("name") or tag

    structs = {}
    for cl in r.iter("class-decl"):
        name = cl.get("name") or ""
        if not re.match(r"^tr_[a-z_]*_opts$", name) or cl.get("is-declaration-only") == "yes":
            continue
        members = []
        for dm in cl.findall("data-member"):
            var = dm.find("var-decl")
            members.append((var.get("name"), tname(var.get("type-id")),
                            int(dm.get("layout-offset-in-bits"))))
        structs[name] = members
    return structs


cur = subprocess.run(["abidw", "--headers-dir", args.headers, "--drop-private-types",
                      "--exported-interfaces-only", "--no-corpus-path",
                      "--no-comp-dir-path", "--no-show-locs", args.lib],
                     capture_output=True, text=True, check=True).stdout
old_s, new_s = read_corpus(base), read_corpus(cur)
if not old_s:
    sys.exit(f"abi-check: no tr_*_opts struct found in {base.name}: the baseline is unusable")
for name, members in sorted(old_s.items()):
    new = new_s.get(name)
    if new is None:
        print(f"ABI INCOMPATIBLE: options struct {name} is gone")
        failed = True
        continue
    for i, m in enumerate(members):
        if i >= len(new) or new[i] != m:
            got = new[i] if i < len(new) else "nothing"
            print(f"ABI INCOMPATIBLE: {name} member {i} was {m}, now {got}"
                  " (options structs may only grow at their end)")
            failed = True
    for m in new[len(members):]:
        print(f"added: {name}.{m[0]} ({m[1]}, offset {m[2] // 8})")

# 3. enumerators: abidiff sees only enums a function's signature uses (our
# functions return int), so every enumerator the baseline's header declares
# must keep its value in the current header.
def enumerators(header_dir):
    hdr = Path(header_dir) / "tractor.h"
    pp = subprocess.run(["cc", "-E", "-P", "-I", str(Path(header_dir).parent), str(hdr)],
                        capture_output=True, text=True, check=True).stdout
    values = {}
    for body in re.findall(r"enum\s*\w*\s*\{([^}]*)\}", pp):
        nxt = 0
        for item in body.split(","):
            item = item.strip()
            if not item:
                continue
            name, _, val = item.partition("=")
            nxt = int(val.strip().strip("()"), 0) if val.strip() else nxt
            values[name.strip()] = nxt
            nxt += 1
    return values


base_hdr = Path(args.abi_dir) / f"{base.stem.split('-')[1]}/include/tractor"
if not (base_hdr / "tractor.h").exists():
    sys.exit(f"abi-check: the baseline's header {base_hdr}/tractor.h is missing")
old_e, new_e = enumerators(base_hdr), enumerators(args.headers)
if len(old_e) < 20:
    sys.exit(f"abi-check: only {len(old_e)} enumerators read from {base_hdr}/tractor.h")
for name, val in sorted(old_e.items()):
    if new_e.get(name) != val:
        print(f"ABI INCOMPATIBLE: enumerator {name} was {val}, now {new_e.get(name, 'gone')}")
        failed = True
for name in sorted(set(new_e) - set(old_e)):
    print(f"added: enumerator {name} = {new_e[name]}")

# 4. list what was added
# A symbol added after the baseline needs a version node of its own
# (cmake/tractor.map), so the loader can name the release a program needs.
old_nodes = {el.get("version") for el in ET.parse(base).getroot().iter("elf-symbol")}
full = subprocess.run(["abidiff", *common, str(base), args.lib],
                      capture_output=True, text=True)
for line in full.stdout.splitlines():
    if line.strip().startswith("[A]"):
        print("added:", line.strip()[4:])
        node = re.search(r"@@?([A-Za-z0-9_.]+)\}", line)
        if node and node.group(1) in old_nodes:
            print(f"ABI CHECK: the addition above is in {node.group(1)}, a node the baseline"
                  " already has; give it the next release's node in cmake/tractor.map")
            failed = True
if failed:
    sys.exit(1)
print(f"ok: {args.lib} is compatible with {base.name} ({lib_soname}); "
      f"{len(old_s)} options structs keep their layout, {len(old_e)} enumerators their values")
