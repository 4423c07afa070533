#!/bin/sh
# Install into a temp prefix and build a tiny program against the installed
# copy, once with pkg-config and once with find_package(tractor).
set -eu
build="$1"; src="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cat > "$tmp/hello.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <tractor/tractor.h>
int main(void) {
    if (strcmp(tr_version(), "0.1.0") != 0) return 1;
    if (tr_version_hex() != TR_VERSION_HEX) return 2;
    printf("%s %s\n", tr_version(), tr_err_name(TR_ETIMEDOUT));
    return strcmp(tr_err_name(TR_ETIMEDOUT), "TR_ETIMEDOUT") != 0;
}
C
libdir=$(ls -d "$tmp/prefix"/lib*/ | head -1)
PKG_CONFIG_PATH="$libdir/pkgconfig" cc -o "$tmp/hello" "$tmp/hello.c" $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs tractor)
LD_LIBRARY_PATH="$libdir" "$tmp/hello"
mkdir "$tmp/cm"
cat > "$tmp/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(hello C)
find_package(tractor REQUIRED)
add_executable(hello ../hello.c)
target_link_libraries(hello tractor::tractor)
CM
cmake -S "$tmp/cm" -B "$tmp/cm/b" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cm/b" >/dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/cm/b/hello"
test -x "$tmp/prefix/bin/tractor-actor"
echo "ok: pkg-config and find_package(tractor) builds run"
