#!/usr/bin/env bash
# install_test.sh BUILD_DIR: installs that build into a fresh prefix and builds programs
# against it as a user would: pkg-config (shared and --static), find_package(wbrt), the
# bdwgc headers (wbrt-gc), and runs the installed `wbrt run`.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
fail() { echo "FAILED: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name libwbrt.so -print -quit)")
[ -d "$libdir" ] || fail "no libwbrt.so installed"
for f in include/wbrt/wbrt.h include/wbrt-gc/gc.h include/wbrt-gc/gc/gc.h bin/wbrt; do
    [ -e "$prefix/$f" ] || fail "$f not installed"
done
for f in libwbrt.a pkgconfig/wbrt.pc pkgconfig/wbrt-gc.pc cmake/wbrt/wbrtConfig.cmake \
         wbrt/libwbrt-preload.so wbrt/gc-compat/libgc.so.1; do
    [ -e "$libdir/$f" ] || fail "$f not installed in $libdir"
done
# Only the public header; bdwgc's soname never where the linker or loader looks by default.
[ "$(ls "$prefix/include/wbrt")" = wbrt.h ] || fail "private headers installed: $(ls "$prefix/include/wbrt")"
! ls "$libdir"/libgc.so* >/dev/null 2>&1 || fail "libgc.so installed in $libdir"

export PKG_CONFIG_PATH=$libdir/pkgconfig
expect=499999500000
cc=${CC:-cc}
check() { # NAME COMMAND...: runs it, compares its output
    local name=$1 out
    shift
    out=$("$@") || fail "$name exited $?"
    [ "$out" = "$expect" ] || fail "$name printed '$out', expected '$expect'"
    echo "ok: $name"
}

# shellcheck disable=SC2046
$cc -o "$work/shared" "$here/example.c" $(pkg-config --cflags --libs wbrt)
check "pkg-config shared" env LD_LIBRARY_PATH="$libdir" "$work/shared"

# --static adds what libwbrt.a needs (Libs.private); the archive is named so that the
# shared library next to it is not taken instead.
libs=$(pkg-config --static --libs wbrt)
# shellcheck disable=SC2046,SC2086
$cc -o "$work/static" "$here/example.c" $(pkg-config --cflags wbrt) ${libs/-lwbrt/-l:libwbrt.a}
! readelf -d "$work/static" | grep -q 'libwbrt' || fail "the static build needs libwbrt.so"
check "pkg-config --static" "$work/static"

cat > "$work/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(user C)
find_package(wbrt 0.1 REQUIRED)
add_executable(shared $here/example.c)
target_link_libraries(shared wbrt::wbrt)
add_executable(static $here/example.c)
target_link_libraries(static wbrt::wbrt_static)
CMAKE
cmake -S "$work" -B "$work/b" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/b" >/dev/null
check "find_package wbrt::wbrt" "$work/b/shared"
check "find_package wbrt::wbrt_static" "$work/b/static"

# shellcheck disable=SC2046
$cc -o "$work/gc" "$here/gc_example.c" $(pkg-config --cflags --libs wbrt-gc)
expect=1000
check "pkg-config wbrt-gc" env LD_LIBRARY_PATH="$libdir" "$work/gc"

expect=installed
check "installed wbrt run" "$prefix/bin/wbrt" run -- sh -c 'echo installed'
