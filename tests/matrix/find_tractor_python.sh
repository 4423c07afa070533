#!/bin/sh
# Print a Python interpreter that can run Python tractor children (Python
# >= 3.13 with `tractor` importable) and exit 0; or print why there is none
# and exit 1. Tried in order: $TR_TRACTOR_PYTHON, python3.14, python3.13,
# $TRACTOR_PYTHON (else python3). The interop tests of every language use it
# and skip, printing this reason, when it fails.
probe='import platform, sys
try:
    import tractor
    has = "tractor " + getattr(tractor, "__version__", "installed")
except Exception:
    has = "no tractor"
print("ok" if has != "no tractor" and sys.version_info >= (3, 13) else "no",
      "Python " + platform.python_version() + ", " + has)'
tried=""
for py in "$TR_TRACTOR_PYTHON" python3.14 python3.13 "${TRACTOR_PYTHON:-python3}"; do
  [ -n "$py" ] || continue
  exe=$(command -v "$py" 2>/dev/null) || continue
  out=$("$exe" -c "$probe" 2>/dev/null) || out="no does not run"
  case "$out" in
    ok\ *) echo "$exe"; exit 0 ;;
  esac
  tried="$tried${tried:+; }$exe: ${out#no }"
done
echo "Python tractor is not installed: it needs Python >= 3.13 and is not a Debian" \
     "package (tried ${tried:-no interpreter}); set TR_TRACTOR_PYTHON to a Python that has it"
exit 1
