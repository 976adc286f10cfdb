#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/check-libm.sh tells a complete table apart from one that misses a
# function the library calls or lists one it does not call.
# Usage: sh tests/test_check_libm.sh SO
set -u
so=$1
doc=docs/reproducibility.md
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }

if sh scripts/check-libm.sh "$so" "$doc" > "$tmp/out" 2>&1; then
    ok "the table of $doc lists every rounding libm function the library calls"
else
    bad "check-libm on $doc: $(cat "$tmp/out")"
fi
# One listed function the library calls, and its row dropped.
fn=$(sed -n 's/^check-libm: .*called (\([a-z0-9_]*\).*/\1/p' "$tmp/out")
if [ -n "$fn" ]; then
    grep -v "^ *| \`$fn\` |" "$doc" > "$tmp/missing.md"
    if sh scripts/check-libm.sh "$so" "$tmp/missing.md" > "$tmp/out2" 2>&1; then
        bad "without the row of $fn the check passed"
    elif grep -q "called, not listed: $fn" "$tmp/out2"; then
        ok "without the row of $fn it fails and names $fn"
    else
        bad "without the row of $fn: $(cat "$tmp/out2")"
    fi
else
    bad "no function named in: $(cat "$tmp/out")"
fi
# A row for a function the library does not call.
awk '{ print } /^ *\| `pow` \|/ { print "  | `sinh` | nothing | no |" }' "$doc" > "$tmp/extra.md"
if sh scripts/check-libm.sh "$so" "$tmp/extra.md" > "$tmp/out3" 2>&1; then
    bad "with a row for sinh the check passed"
elif grep -q "listed, not called: sinh" "$tmp/out3"; then
    ok "with a row for a function not called (sinh) it fails and names it"
else
    bad "with a row for sinh: $(cat "$tmp/out3")"
fi
echo "test-check-libm: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
