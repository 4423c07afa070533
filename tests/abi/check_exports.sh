#!/bin/sh
# Only tr_* symbols may be exported by libtractor.so, none of the internal
# tr__* ones; every one carries a TRACTOR_<major>.<minor> version node
# (cmake/tractor.map), and the SONAME must be the major version.
set -eu
lib="$1"
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBRVW]/ {print $3}')
bad=$(echo "$syms" | grep -v -E '^tr_[a-z]' || true)
internal=$(echo "$syms" | grep -E '^tr__' || true)
if [ -n "$bad$internal" ]; then
  echo "unexpected exported symbols:"; echo "$bad"; echo "$internal"; exit 1
fi
n=$(echo "$syms" | grep -c '^tr_')
[ "$n" -gt 50 ] || { echo "only $n tr_ symbols exported"; exit 1; }
unversioned=$(echo "$syms" | grep -v -E '@@?TRACTOR_[0-9]+\.[0-9]+$' || true)
if [ -n "$unversioned" ]; then
  echo "symbols without a TRACTOR_x.y version node:"; echo "$unversioned"; exit 1
fi
nodes=$(readelf --dyn-syms -W "$lib" | grep -o '@@TRACTOR_[0-9.]*' | sort -u | tr '\n' ' ')
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
case "$soname" in libtractor.so.0) ;; *) echo "bad SONAME: $soname"; exit 1;; esac
echo "ok: $n tr_* symbols in $nodes SONAME $soname"
