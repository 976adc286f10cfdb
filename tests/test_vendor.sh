#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_vendor.sh - README's vendoring recipe, as written: include/regnn.h
# and src/ copied into a project's libregnn/ folder, the README's compile line
# run there, then examples/quickstart.c linked with the objects and run.
# Run by `make check` (test-vendor in mk/docs.mk).

set -u
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-vendor.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
. "$(dirname "$0")/testlib.sh"

line=$(sed -n '/^- \*\*Vendoring\*\*/,/^- \*\*/p' README.md | sed -n 's/^  \(cc .*\)$/\1/p')
check "README's vendoring bullet has a compile line: ${line:-none}" test -n "$line"

mkdir -p "$TMP/proj/libregnn/include"
cp include/regnn.h "$TMP/proj/libregnn/include/"
cp -R src "$TMP/proj/libregnn/"
check "the README's line compiles the copy" sh -c "cd '$TMP/proj' && $line > '$TMP/cc.log' 2>&1"
n_src=$(ls "$TMP"/proj/libregnn/src/*/*.c | grep -cv /mpi/)
n_obj=$(ls "$TMP"/proj/*.o 2>/dev/null | wc -l)
check "one object per source file ($n_obj of $n_src)" test "$n_obj" -eq "$n_src"
check "quickstart links with the objects" sh -c \
    "cd '$TMP/proj' && cc -DREGNN_STATIC -Ilibregnn/include -o quickstart '$(pwd)/examples/quickstart.c' *.o -lm -lpthread"
check "quickstart runs" sh -c "cd '$TMP/proj' && ./quickstart > '$TMP/run.log' 2>&1"

[ "$fail" -eq 0 ] || cat "$TMP/cc.log" "$TMP/run.log" 2>/dev/null
echo "test_vendor: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
