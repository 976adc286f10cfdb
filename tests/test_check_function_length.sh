#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/check-function-length.sh fails on a function over the limit and
# passes functions at the limit and long data tables.
set -u
CHECK=$(pwd)/scripts/check-function-length.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-fnlen.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
pass=0 fail=0
check() { # name, expected exit, file, text the output must hold
    out=$(MAX=100 sh "$CHECK" "$3" 2>&1); rc=$?
    if [ "$rc" -eq "$2" ] && printf '%s\n' "$out" | grep -qF -- "$4"; then
        echo "ok   - $1"; pass=$((pass + 1))
    else
        echo "FAIL - $1 (exit $rc): $out"; fail=$((fail + 1))
    fi
}
# A function of n lines, signature to closing brace.
fn() { # name, lines
    printf 'static int %s(int a)\n{\n' "$1"
    i=3; while [ "$i" -lt "$2" ]; do echo '    a += 1;'; i=$((i + 1)); done
    printf '}\n'
}
{ fn short 100; fn other 20; } > "$TMP/ok.c"
check "a function of 100 lines passes" 0 "$TMP/ok.c" "longest 100"
{ fn short 20; fn too_long 101; } > "$TMP/long.c"
check "a function of 101 lines fails, named" 1 "$TMP/long.c" "too_long is 101 lines"
{ echo 'static const int table[] = {'; i=0; while [ $i -lt 150 ]; do echo "    $i,"; i=$((i + 1)); done
  echo '};'; fn small 10; } > "$TMP/table.c"
check "a long initializer is data, not a function" 0 "$TMP/table.c" "longest 10"
echo "test_check_function_length: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
