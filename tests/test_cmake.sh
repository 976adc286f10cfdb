#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_cmake.sh - libregnn from a CMake project (tests/cmake_consumer),
# built and run both ways:
#   (a) add_subdirectory of this source tree, static (the default), shared,
#       and with REGNN_BLAS=builtin;
#       the shared one must carry SONAME libregnn.so.1 and export exactly
#       the header's functions (scripts/check-exports.sh);
#   (b) find_package(regnn) against `make install DESTDIR=... PREFIX=...`,
#       with CMAKE_PREFIX_PATH, shared and (regnn_USE_STATIC_LIBS) static.
# All four must print the same losses (same BLAS, same seed, same flags).
# Skips (exit 0) when cmake is not installed. Run by `make check` (test-cmake).
# Prints "N passed, N failed" and exits 1 if anything failed.

set -u
if ! command -v cmake >/dev/null 2>&1; then
    echo "skip - cmake is not installed (apt-get install cmake): the CMake build is not tested"
    exit 0
fi
SRC=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-cmake.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
JOBS=$(nproc 2>/dev/null || echo 2)
MAKE=${MAKE:-make}

. "$(dirname "$0")/testlib.sh"

# build NAME CMAKE_ARGS...: configure and build the consumer in $TMP/NAME;
# the log is $TMP/NAME.log.
build() {
    name=$1
    shift
    cmake -S "$SRC/tests/cmake_consumer" -B "$TMP/$name" -DCMAKE_BUILD_TYPE=Release "$@" \
        > "$TMP/$name.log" 2>&1 &&
        cmake --build "$TMP/$name" --parallel "$JOBS" >> "$TMP/$name.log" 2>&1
}
run() { # run NAME: runs the consumer, its output in $TMP/NAME.out
    "$TMP/$1/consumer" > "$TMP/$1.out" 2>&1
}
losses() { sed -n 's/.*GEMM, loss //p' "$TMP/$1.out"; }

# (a) add_subdirectory
check "add_subdirectory, static: configures and builds" build sub-static -DREGNN_SOURCE_DIR="$SRC"
check "add_subdirectory, static: the consumer runs" run sub-static
check "add_subdirectory, shared: configures and builds" \
    build sub-shared -DREGNN_SOURCE_DIR="$SRC" -DBUILD_SHARED_LIBS=ON
check "add_subdirectory, shared: the consumer runs" run sub-shared
check "add_subdirectory, REGNN_BLAS=builtin: builds" \
    build sub-builtin -DREGNN_SOURCE_DIR="$SRC" -DREGNN_BLAS=builtin
check "add_subdirectory, REGNN_BLAS=builtin: runs on the built-in GEMM" \
    sh -c "'$TMP/sub-builtin/consumer' | grep -q ', builtin GEMM, '"
so=$(ls "$TMP"/sub-shared/regnn/libregnn.so.*.*.* 2>/dev/null | head -n 1)
check "add_subdirectory, shared: libregnn.so.1.x.y built" test -n "$so"
check "add_subdirectory, shared: SONAME and exports as the Makefile's" \
    bash "$SRC/scripts/check-exports.sh" "${so:-/nonexistent}" "$SRC/include/regnn.h"
check "add_subdirectory, shared: the consumer loads the CMake-built library" \
    sh -c "ldd '$TMP/sub-shared/consumer' | grep -q '$TMP/sub-shared/regnn/libregnn.so.1'"

# (b) find_package against a staged `make install`
stage=$TMP/stage
prefix=/opt/regnn
check "make install DESTDIR=... PREFIX=$prefix" \
    sh -c "cd '$SRC' && $MAKE --no-print-directory install DESTDIR='$stage' PREFIX='$prefix' > '$TMP/install.log' 2>&1"
check "make install: regnnConfig.cmake installed" test -f "$stage$prefix/lib/cmake/regnn/regnnConfig.cmake"
check "make install: regnnConfigVersion.cmake installed" \
    test -f "$stage$prefix/lib/cmake/regnn/regnnConfigVersion.cmake"
check "find_package, shared: configures and builds" build pkg-shared -DCMAKE_PREFIX_PATH="$stage$prefix"
check "find_package, shared: the consumer runs" run pkg-shared
check "find_package, shared: links the installed libregnn.so.1" \
    sh -c "ldd '$TMP/pkg-shared/consumer' | grep -q '$stage$prefix/lib/libregnn.so.1'"
check "find_package, static: configures and builds" \
    build pkg-static -DCMAKE_PREFIX_PATH="$stage$prefix" -Dregnn_USE_STATIC_LIBS=ON
check "find_package, static: the consumer runs" run pkg-static
check "find_package, static: no libregnn.so needed" \
    sh -c "! ldd '$TMP/pkg-static/consumer' | grep -q libregnn"

# Version checks of the installed package: a project that only finds it.
mkdir -p "$TMP/find"
cat > "$TMP/find/CMakeLists.txt" <<EOF2
cmake_minimum_required(VERSION 3.13)
project(find_regnn LANGUAGES C)
find_package(regnn \${V} REQUIRED)
if(NOT regnn_VERSION STREQUAL "$(sed -n 's/^VERSION[ 	]*:=[ 	]*//p' "$SRC/Makefile")" OR NOT TARGET regnn::regnn)
    message(FATAL_ERROR "regnn \${regnn_VERSION}")
endif()
EOF2
findv() { cmake -S "$TMP/find" -B "$TMP/find-$1" -DCMAKE_PREFIX_PATH="$stage$prefix" -DV="$1" > "$TMP/v$1.log" 2>&1; }
fails() { ! "$@"; }
check "find_package(regnn 1.0 REQUIRED): found, version and target" findv 1.0
check "find_package(regnn 1) works" findv 1
check "find_package(regnn 2.0) is refused (another ABI)" fails findv 2.0
check "find_package(regnn 2.0): says which version it found" grep -qF "$(sed -n 's/^VERSION[ 	]*:=[ 	]*//p' "$SRC/Makefile")" "$TMP/v2.0.log"
check "find_package(regnn 1.9) is refused (newer than installed)" fails findv 1.9

for n in sub-static sub-shared pkg-shared pkg-static; do
    [ -f "$TMP/$n.out" ] && sed 's/^/     /' "$TMP/$n.out"
done
ref=$(losses sub-static)
check "all four print the same losses" \
    sh -c "test -n '$ref' && test '$(losses sub-shared)' = '$ref' && test '$(losses pkg-shared)' = '$ref' && test '$(losses pkg-static)' = '$ref'"

if [ $fail -ne 0 ]; then
    for f in "$TMP"/*.log; do echo "---- $f"; tail -n 30 "$f"; done
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
