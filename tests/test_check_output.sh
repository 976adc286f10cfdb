#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_check_output.sh - what `make check` prints: scripts/check-suites.sh
# run against a stand-in for make (suites that pass, skip and fail, in the
# formats the real suites print), then the build lines of a real object file
# quiet by default and whole with V=1. Prints "N passed, N failed"; exits 1 if
# anything failed.

set -u
unset MAKEFLAGS MFLAGS MAKELEVEL
cd "$(dirname "$0")/.." || exit 1
. tests/testlib.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-checkout.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
has() { grep -q -- "$2" "$1"; }

# The stand-in: `fakemake SUITE` prints what that kind of suite prints.
cat > "$TMP/fakemake" <<'EOF'
#!/bin/sh
echo "$1" >> "$(dirname "$0")/ran"
case $1 in
ccheck) printf 'Running suite(s): a\n100%%: Checks: 10, Failures: 0, Errors: 0\n'
        printf 'Running suite(s): b\n75%%: Checks: 4, Failures: 1, Errors: 0\n'; exit 1 ;;
shell)  printf 'ok   - one\nskip - no cmake (apt-get install cmake)\nok   - two\ntest_x: 2 passed, 0 failed\n' ;;
py)     printf 'python: 7 passed, 0 failed, 3 skipped\n    python-nonumpy: 5 passed, 0 failed, 1 skipped\npython: skipped 3: numpy is not installed\n' ;;
mpi)    printf 'test-mpi: skipped, mpirun not found (apt-get install openmpi-bin)\n' ;;
plain)  echo "exports: fine" ;;
esac
EOF
chmod +x "$TMP/fakemake"

sh scripts/check-suites.sh "$TMP/logs" "$TMP/fakemake" ccheck shell py mpi plain > "$TMP/out" 2> "$TMP/err"
st=$?
row() { grep -q "^$1 *$2 *$3 *$4 *$5 *[0-9]*s$" "$TMP/out"; }
check "a failed suite: exit 1" test $st -eq 1
check "every suite ran after the failure, in order" test "$(tr '\n' ' ' < "$TMP/ran")" = "ccheck shell py mpi plain "
check "each suite's start is announced" test "$(grep -c '^==== make check: [a-z]*$' "$TMP/out")" -eq 5
check "the summary is printed after a failure" has "$TMP/out" "^==== make check: summary"
check "Check's counts: 13 passed, 1 failed" row ccheck FAILED 13 0 1
check "shell test counts and a skip line" row shell ok 2 1 0
check "the Python suite's counts with its skips" row py ok 7 3 0
check "a skipped make target" row mpi ok - 1 -
check "a suite without counts" row plain ok - - -
check "a total row: 22 passed, 5 skipped, 1 failed" sh -c "grep -q '^total  *22  *5  *1  *[0-9]*s$' '$TMP/out'"
check "why: the shell test's skip" has "$TMP/out" "^  shell: skip - no cmake (apt-get install cmake)$"
check "why: the Python suite's reason" has "$TMP/out" "^  py: python: skipped 3: numpy is not installed$"
check "why: the skipped make target" has "$TMP/out" "^  mpi: test-mpi: skipped, mpirun not found"
check "the failed suite is named on stderr" has "$TMP/err" "^make check: FAILED: ccheck$"
check "each suite's output is in its log" has "$TMP/logs/shell.log" "^ok   - two$"

sh scripts/check-suites.sh "$TMP/logs2" "$TMP/fakemake" shell plain > "$TMP/out2" 2>&1
check "all suites passed: exit 0" test $? -eq 0

# Build lines: one short line per compile by default, the command with V=1.
src=$(ls src/base/*.c | head -n 1)
obj=build/builtin-quiet-test/obj/${src#src/}
obj=${obj%.c}.o
make --no-print-directory BLAS=builtin BUILDTAG=quiet-test "$obj" > "$TMP/quiet" 2>&1
rm -f "$obj"
make --no-print-directory BLAS=builtin BUILDTAG=quiet-test V=1 "$obj" > "$TMP/verbose" 2>&1
check "quiet build: the one line '  CC      $src'" sh -c \
    "test \"\$(cat '$TMP/quiet')\" = '  CC      $src'"
check "V=1: the compiler's command line" has "$TMP/verbose" " -c $src -o $obj"
rm -rf build/builtin-quiet-test

echo "test_check_output: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
