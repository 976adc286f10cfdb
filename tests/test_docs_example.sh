#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_docs_example.sh - the persistence example of docs/api.md must
# compile against the built library and work (run by `make check`, target
# test-docs-example in mk/docs.mk).
#
# Usage: sh tests/test_docs_example.sh [docs/api.md]
#   CC, CFLAGS (warning flags) and LIBDIR (default lib) from the environment.
#
# Extracts the fenced block that follows the line
# "<!-- docs-example: persistence -->", builds it with -Werror against
# LIBDIR/libregnn.so, runs it in a temporary folder and checks that the model
# file was written in the libregnn format, that both predictions in original
# units are within 0.5 % of the true values, and that the loaded model predicts
# exactly as the saved one.

set -u
DOC=${1:-docs/api.md}
CC=${CC:-cc}
CFLAGS=${CFLAGS:--std=c11 -Wall -Wextra -Wpedantic}
LIBDIR=${LIBDIR:-lib}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-docs.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

fail() { echo "FAIL - test_docs_example: $1"; exit 1; }

awk '/^<!-- docs-example: persistence -->$/ { found = 1; next }
     found == 1 && /^```c$/ { found = 2; next }
     found == 2 && /^```$/ { exit }
     found == 2 { print }' "$DOC" > "$TMP/example.c"
grep -q 'regnn_model_save(' "$TMP/example.c" && grep -q 'regnn_model_load(' "$TMP/example.c" &&
    grep -q 'regnn_model_attach_scaler(' "$TMP/example.c" ||
    fail "no persistence example (save, load, attach_scaler) after the marker in $DOC"

libdir=$(cd "$LIBDIR" && pwd) || fail "no $LIBDIR"
# shellcheck disable=SC2086 # CFLAGS is a list of flags
$CC $CFLAGS -Werror -Iinclude -o "$TMP/example" "$TMP/example.c" -L"$libdir" -lregnn \
    -Wl,-rpath,"$libdir" -lm || fail "the example does not compile"

(cd "$TMP" && ./example "$TMP/house.rgn") > "$TMP/out.txt" 2>&1 ||
    { cat "$TMP/out.txt"; fail "the example exits non-zero"; }
cat "$TMP/out.txt"

[ "$(head -c 5 "$TMP/house.rgn" | od -An -c | tr -d ' ')" = "211RGNN" ] ||
    fail "house.rgn is not a libregnn model file"
awk '/predicted/ { n++; p = $0; sub(/.*predicted /, "", p); sub(/,.*/, "", p);
                   t = $0; sub(/.*true /, "", t);
                   d = p - t; if (d < 0) d = -d;
                   if (!(t > 0) || d > 0.005 * t) bad++ }
     END { exit !(n == 2 && bad == 0) }' "$TMP/out.txt" ||
    fail "expected two predictions within 0.5 % of the true values"
grep -q '^loaded model predicts as the saved one: yes$' "$TMP/out.txt" ||
    fail "the loaded model does not predict as the saved one"
echo "ok   - test_docs_example: the persistence example of $DOC compiles, runs and predicts in original units"
