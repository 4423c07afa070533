#!/usr/bin/env python3
"""Generate docs/c-api.md from include/tractor/tractor.h.

Every TR_API declaration is listed with the comment that precedes it (the
comment is the function's documentation: blocking or not, ownership,
errors). Run: python3 tools/gen-c-api-doc.py > docs/c-api.md
With --check, exit 1 when docs/c-api.md is out of date."""
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
hdr = (root / "include/tractor/tractor.h").read_text()

INTRO = """# libtractor C API reference

Generated from `include/tractor/tractor.h` by `tools/gen-c-api-doc.py`; the
header comments are the source of truth and a test keeps this page in sync.

## Conventions (apply to every function below)

- **Handles** are opaque pointers. Every handle you get from the library is
  released by exactly one call: `tr_runtime_close`, `tr_nursery_close`,
  `tr_portal_release`, `tr_ctx_close` (caller side) or `tr_ctx_release`,
  `tr_stream_release`, `tr_error_free`, `tr_buf_release`.
- **Thread safety**: any function may be called from any thread on any
  handle; state is guarded inside the runtime. Served functions run on pooled
  worker threads (or, in `TR_TASKS_HOST` mode, wherever the host runs them).
- **Errors**: `0` or a negative `TR_E*` code (`tr_strerror`, `tr_err_name`).
  Failures that come from another actor are `TR_EREMOTE`,
  `TR_ECTXCANCELLED`, `TR_EOVERRUN`, `TR_EMSGTYPE` or `TR_ETRANSPORT` with
  a `tr_error_t` in the optional `err` out-parameter, which the caller owns.
- **Blocking**: functions with `timeout_ms` block up to that long (`-1`
  forever, `0` poll returning `TR_EAGAIN`). Inside a served task every such
  wait is a cancellation point returning `TR_ECANCELLED` once the task's
  context is cancelled; off-task waits return it once the runtime is.
  Functions without `timeout_ms` do not wait on peers, except the
  teardown functions (`tr_runtime_close`, `tr_nursery_close`,
  `tr_nursery_cancel`, `tr_ctx_close`, `tr_portal_cancel_actor`,
  `tr_ctx_cancel`), whose bounds are stated in their comments.
- **Payloads** are msgpack bytes in (`buf`, `len`) and `tr_buf_t` out;
  a `tr_buf_t`'s bytes stay valid until `tr_buf_release`.

## ABI policy

`libtractor.so.<major>` keeps its ABI for the whole major version: a
program built against any 0.x header runs against every later 0.y library.

- **Stable**: every function declared here (name, parameters, return type),
  the numeric value of every enumerator (`TR_E*`, `TR_LOG_*`, `TR_FUNC_*`,
  `TR_TASKS_*`, `TR_REGISTRAR_*`), the layout of `tr_buf_t` and of every
  options struct's existing fields, and the meaning of every documented
  return code. Handles are opaque: their layout is not part of the ABI.
- **Options structs grow only at their end.** Each has `size` first, which
  its `_init` function sets; the library reads only `size` bytes of it, so a
  caller built against an older header gets the defaults for the fields it
  does not know. A release that grows a struct gives its `_init` a new symbol
  version, and the old version keeps writing only the old size.
- **Additions are marked.** A function added after 0.1 carries "since 0.N"
  in its comment and is placed in a new version node `TRACTOR_0.N` in
  `cmake/tractor.map` (every symbol of 0.1 is in `TRACTOR_0.1`), so the
  dynamic loader names the release a program needs.
- **What a major version may break**: anything above. A break bumps
  `TR_VERSION_MAJOR` (and with it the SONAME) and records a new baseline.
- **The check**: `abi/libtractor-0.1.abi` is `abidw`'s record of 0.1 (the
  public header being the only exported surface) and `abi/0.1/include` is
  the header it came from. `make test` runs `tools/abi-check.py`: `abidiff`
  against the baseline, plus the options-struct layouts and enumerator
  values (abidiff sees only types a signature uses); additions pass and are
  listed; anything else fails with the report. `abi/program-built-against-0.1`
  runs a program compiled against the 0.1 header, `abi/header-compiles-as-cxx`
  builds the header as C++ with warnings as errors.
- **A new major release**: bump the version in `CMakeLists.txt` and
  `TR_VERSION_*`, then `make abi-baseline` records `abi/libtractor-<M>.<m>.abi`
  and copies the header beside it; commit both. The check picks the
  baseline whose soname is the library's.

"""

out = [INTRO]
section = None
pending = []
lines = hdr.splitlines()
i = 0
while i < len(lines):
    ln = lines[i]
    m = re.match(r"/\* -{10,} \*/", ln)
    if m and i + 1 < len(lines):
        title = lines[i + 1].strip().strip("/*").strip()
        out.append(f"\n## {title}\n")
        i += 3
        pending = []
        continue
    if ln.lstrip().startswith("/*") and not ln.startswith("#"):
        block = [ln]
        while "*/" not in block[-1] and i + 1 < len(lines):
            i += 1
            block.append(lines[i])
        text = "\n".join(block)
        text = text.replace("*/", "")
        text = re.sub(r"^\s*/?\*+ ?", "", text, flags=re.M).strip()
        pending.append(text)
        i += 1
        continue
    if ln.startswith("TR_API"):
        decl = [ln]
        while not decl[-1].rstrip().endswith(";") and i + 1 < len(lines):
            i += 1
            decl.append(lines[i])
        d = " ".join(x.strip() for x in decl)
        d = d.replace("TR_API ", "")
        d = re.sub(r"#if.*?#endif", "", d)
        name = re.search(r"(tr_\w+)\s*\(", d).group(1)
        out.append(f"### `{name}`\n\n```c\n{d}\n```\n")
        if pending:
            out.append("\n".join(pending) + "\n")
        pending = []
        i += 1
        continue
    if ln.strip() == "":
        pass
    elif not ln.startswith("TR_API"):
        pending = [] if not ln.lstrip().startswith("*") else pending
    i += 1

text = "\n".join(out).rstrip() + "\n"
if "--check" in sys.argv:
    cur = (root / "docs/c-api.md").read_text() if (root / "docs/c-api.md").exists() else ""
    if cur != text:
        print("docs/c-api.md is out of date: run python3 tools/gen-c-api-doc.py > docs/c-api.md")
        sys.exit(1)
    print("docs/c-api.md is up to date")
else:
    sys.stdout.write(text)
