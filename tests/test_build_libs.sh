#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_build_libs.sh - every build loads its own library (run by `make
# check` through the test-build-libs target of the Makefile).
#
# Usage: sh tests/test_build_libs.sh BUILD_DIR...   (e.g. build/openblas
#        build/builtin-libs-test; a directory's BLAS is its name up to the first -)
#
# For each build: its regnn program and examples carry the run path
# $ORIGIN/../lib, the dynamic loader resolves libregnn.so.1 to that build's
# own BUILD/lib/libregnn.so.1 (with LD_LIBRARY_PATH unset, and whatever the
# top-level lib/ holds), and `regnn --version` reports that build's GEMM.
# With one build of each BLAS, the two programs must report different GEMMs.
# Prints "N passed, N failed" and exits 1 if anything failed.

set -u
[ $# -ge 1 ] || { echo "usage: sh tests/test_build_libs.sh BUILD_DIR..." >&2; exit 2; }
. "$(dirname "$0")/testlib.sh"
unset LD_LIBRARY_PATH

# resolved BIN: the file the loader maps for libregnn.so.1, canonical.
resolved() {
    p=$(ldd "$1" 2>/dev/null | sed -n 's/^[[:space:]]*libregnn\.so\.1 => \([^ ]*\) .*/\1/p')
    [ -n "$p" ] && readlink -f "$p"
}
runpath() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p; s/.*(RPATH).*\[\(.*\)\]/\1/p'; }

names=""
for dir in "$@"; do
    blas=$(basename "$dir")
    blas=${blas%%-*}
    own=$(readlink -f "$dir/lib/libregnn.so.1" 2>/dev/null)
    check "$dir: has its own lib/libregnn.so.1" test -n "$own" -a -f "$own"
    bins="$dir/tools/regnn $(ls "$dir"/examples/* 2>/dev/null)"
    for b in $bins; do
        [ -x "$b" ] || { ko "$b: built"; continue; }
        check "$b: run path \$ORIGIN/../lib" test "$(runpath "$b")" = '$ORIGIN/../lib'
        check "$b: loads $dir/lib/libregnn.so.1" test "$(resolved "$b")" = "$own"
    done
    v=$("$dir/tools/regnn" --version 2>&1)
    check "$dir: regnn --version reports the $blas GEMM ($v)" \
        sh -c "printf '%s' '$v' | grep -q ', $blas GEMM)'"
    names="$names $blas"
done
distinct=$(printf '%s\n' $names | sort -u | wc -l)
if [ "$distinct" -gt 1 ]; then
    check "builds of different BLAS report different GEMMs side by side" test "$distinct" -eq $#
else
    echo "skip - only one BLAS available: the side-by-side GEMM check needs OpenBLAS"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
