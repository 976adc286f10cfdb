#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_docs_numbers.sh - scripts/docs-numbers.py fails, naming the place,
# when a number in the docs no longer matches its run, skips the run-derived
# numbers (saying so) on another GEMM arithmetic, and its --update writes what
# the check expects. Run by `make check` (check-docs-numbers in mk/docs.mk)
# right after the check itself, whose cached runs it reuses.
#
# Usage: sh tests/test_docs_numbers.sh PYTHON BUILD

set -u
PY=${1:-/usr/bin/python3}
BUILD=${2:?usage: test_docs_numbers.sh PYTHON BUILD}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-docsnum.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

. "$(dirname "$0")/testlib.sh"

# A copy of the docs the script reads (the runs still use this tree's programs).
fresh() {
    rm -rf "$TMP/t" && mkdir -p "$TMP/t/examples" &&
    cp -R Makefile README.md docs "$TMP/t/" && cp examples/README.md "$TMP/t/examples/"
}
run() { "$PY" scripts/docs-numbers.py --build "$BUILD" --root "$TMP/t" "$@" > "$TMP/out" 2>&1; }

# expect_fail "description" "text the output must contain" sed-expression file
expect_fail() {
    fresh
    sed -i "$3" "$TMP/t/$4"
    if cmp -s "$4" "$TMP/t/$4"; then ko "$1 (the edit changed nothing)"; return; fi
    run
    rc=$?
    if [ $rc -eq 1 ] && grep -qF -- "$2" "$TMP/out"; then ok "$1"; else
        ko "$1 (exit $rc)"; cat "$TMP/out"; fi
}

fresh
if run; then ok "the docs match their runs"; else ko "the docs match their runs"; cat "$TMP/out"; fi

# Take a number of the lambda table (the unregularized val MSE) as the docs have it.
val=$(sed -n 's/^| 0 (unregularized) | [^|]* | [^|]* | \([0-9.]*\) ±.*/\1/p' README.md)
[ -n "$val" ] || ko "cannot read the lambda table of README.md"
expect_fail "a number edited in a generated table fails" "README.md: block lambda-table differs" \
    "s/^\(| 0 (unregularized) | [^|]* | [^|]* | \)$val/\19.999/" README.md
expect_fail "a number edited in a program's output block fails" "docs/cli.md: block path differs" \
    '/^<!-- regnn:begin path -->/,/regnn:end path/s/^\(3e-2 *\)[0-9.]*/\19.999/' docs/cli.md
expect_fail "a number edited in the prose fails" "docs/study.md: 'With 3 seeds the numbers are" \
    's/With 3 seeds the numbers are [0-9.]*/With 3 seeds the numbers are 99.0/' docs/study.md
expect_fail "the regnn fit comment of the README edited fails" "'# {w}: train MSE {}, val {}, test {}'" \
    's/# overfitting: train MSE [0-9.]*/# overfitting: train MSE 0.999/' README.md
expect_fail "a copy of docs/times.md edited fails" "copy of docs/times.md" \
    's/`make demo` takes [0-9]*–/`make demo` takes 1–/' README.md
expect_fail "a measured time far off fails" "more than 4x off" \
    's/It takes about [0-9.]* s on 2 cores/It takes about 900 s on 2 cores/' docs/cli.md
expect_fail "a changed figure fails" "docs/figures/study.svg differs" \
    's/<svg /<svg data-x="1" /' docs/figures/study.svg
expect_fail "the version in the provenance block fails" "docs/study.md: block provenance differs" \
    's/^libregnn [0-9][0-9.]* on the/libregnn 0.0.1 on the/' docs/study.md
expect_fail "a claim whose text is gone fails, naming it" "occurs 0 times" \
    's/hence the sd of/so the sd is/' docs/study.md

# Recorded on another arithmetic: run-derived numbers are not compared, and it says so.
fresh
sed -i 's/on the `[^`]*` GEMM arithmetic/on the `portable-test` GEMM arithmetic/' "$TMP/t/docs/study.md"
sed -i "s/^\(| 0 (unregularized) | [^|]* | [^|]* | \)$val/\19.999/" "$TMP/t/README.md"
if run && grep -q "docs-numbers: the docs were made on the \`portable-test\` arithmetic" "$TMP/out" &&
    grep -q "not compared" "$TMP/out"; then
    ok "another arithmetic: numbers not compared, with the reason"; else
    ko "another arithmetic: numbers not compared, with the reason"; cat "$TMP/out"; fi
# ... but the copies of docs/times.md still are.
sed -i 's/`make demo` takes [0-9]*–/`make demo` takes 1–/' "$TMP/t/README.md"
if ! run && grep -qF "copy of docs/times.md" "$TMP/out"; then
    ok "another arithmetic: the copies of docs/times.md are still compared"; else
    ko "another arithmetic: the copies of docs/times.md are still compared"; cat "$TMP/out"; fi

# --update rewrites edited numbers back to the runs' values.
fresh
sed -i "s/^\(| 0 (unregularized) | [^|]* | [^|]* | \)$val/\19.999/" "$TMP/t/README.md"
sed -i 's/With 3 seeds the numbers are [0-9.]*/With 3 seeds the numbers are 99.0/' "$TMP/t/docs/study.md"
printf 'x' >> "$TMP/t/docs/figures/lambda_sweep.svg"
if run --update && cmp -s README.md "$TMP/t/README.md" && cmp -s docs/study.md "$TMP/t/docs/study.md" &&
    cmp -s docs/figures/lambda_sweep.svg "$TMP/t/docs/figures/lambda_sweep.svg" && run; then
    ok "--update restores the runs' numbers and figures"; else
    ko "--update restores the runs' numbers and figures"; cat "$TMP/out"; fi

echo "test_docs_numbers: $pass passed, $fail failed"
[ $fail -eq 0 ]
