#!/bin/sh
# Only tr_* symbols may be exported by libtractor.so, none of the internal
# tr__* ones, and the SONAME must be the major version.
set -eu
lib="$1"
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBRVW]/ {print $3}' | grep -v -E '^tr_[a-z]' || true)
internal=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -E '^tr__' || true)
if [ -n "$bad$internal" ]; then
  echo "unexpected exported symbols:"; echo "$bad"; echo "$internal"; exit 1
fi
n=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -c '^tr_')
[ "$n" -gt 50 ] || { echo "only $n tr_ symbols exported"; exit 1; }
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
case "$soname" in libtractor.so.0) ;; *) echo "bad SONAME: $soname"; exit 1;; esac
echo "ok: $n tr_* symbols, SONAME $soname"
