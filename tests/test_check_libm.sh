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
# must_fail WHAT DOC NAMES: the check fails on DOC with a line naming NAMES.
must_fail() {
    if sh scripts/check-libm.sh "$so" "$2" > "$tmp/out2" 2>&1; then
        bad "$1: the check passed"
    elif grep -q "$3" "$tmp/out2"; then
        ok "$1: it fails, naming it"
    else
        bad "$1: $(cat "$tmp/out2")"
    fi
}
# One listed function the library calls, and its row dropped.
fn=$(sed -n 's/^check-libm: .*called (\([a-z0-9_]*\).*/\1/p' "$tmp/out")
if [ -n "$fn" ]; then
    grep -v "^ *| \`$fn\` |" "$doc" > "$tmp/missing.md"
    must_fail "without the row of $fn" "$tmp/missing.md" "called, not listed: $fn"
else
    bad "no function named in: $(cat "$tmp/out")"
fi
# A row for a function the library does not call.
awk '{ print } /^ *\| `pow` \|/ { print "  | `sinh` | nothing | no |" }' "$doc" > "$tmp/extra.md"
must_fail "with a row for sinh, which it does not call" "$tmp/extra.md" "listed, not called: sinh"
echo "test-check-libm: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
