#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/measure-times.sh - how long the README's commands take, measured in
# a clean temporary copy of this tree (the tracked and untracked, not ignored
# files: no build/, lib/ or out/), and written up as Markdown.
#
# Usage: sh scripts/measure-times.sh [-n RUNS] [-o FILE]
#        make times [TIMES_RUNS=N]
# RUNS (default 3) of each, interleaved, wall-clock:
#   demo      `make demo` from a clean tree (parallel build + the study)
#   study     the demo's study alone: BUILD/examples/diabetes --out DIR,
#             with the programs already built
#   compare   the demo's comparison of regularizers alone:
#             BUILD/examples/regularizers --out DIR
#   examples  the example test: sh tests/test_examples.sh BUILD/examples
#   builtin   `make demo BLAS=builtin` from a clean tree
# FILE (default docs/times.md of this tree) gets min-max and median of each,
# every single run, and the machine: cores, CPU, BLAS, compiler, date, load.
# Each command's output goes to a log; a failing command stops the script.

set -eu
RUNS=3
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=$SRC/docs/times.md
while getopts n:o: opt; do
    case $opt in
    n) RUNS=$OPTARG ;;
    o) OUT=$OPTARG ;;
    *) echo "usage: $0 [-n RUNS] [-o FILE]" >&2; exit 2 ;;
    esac
done
case $RUNS in '' | *[!0-9]* | 0) echo "$0: -n wants a positive count" >&2; exit 2 ;; esac
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-times.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
TREE=$TMP/tree
# What is measured: the tree as it is now.
commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo "?")
[ -n "$(git -C "$SRC" status --porcelain 2>/dev/null)" ] && commit="$commit with uncommitted changes"
mkdir "$TREE"
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$SRC" && git ls-files --cached --others --exclude-standard |
        tar -cf - --ignore-failed-read -T - 2>/dev/null) | (cd "$TREE" && tar -xf -)
else
    (cd "$SRC" && tar -cf - --exclude=./build --exclude=./lib --exclude=./out .) | (cd "$TREE" && tar -xf -)
fi
[ -f "$TREE/Makefile" ] || { echo "$0: copying the tree to $TREE failed" >&2; exit 1; }

# The commands run as a user would type them, not as part of an outer make.
unset MAKEFLAGS MFLAGS MAKELEVEL REGNN_DEPS_DONE || true
MAKE=${MAKE:-make}
now() { date +%s.%N; }
# timed NAME COMMAND...: runs in the copy, appends the seconds to $TMP/NAME.
timed() {
    name=$1
    shift
    t0=$(now)
    if ! (cd "$TREE" && "$@") > "$TMP/$name.log" 2>&1; then
        echo "$0: '$*' failed; its output:" >&2
        tail -n 40 "$TMP/$name.log" >&2
        exit 1
    fi
    t1=$(now)
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    echo "$s" >> "$TMP/$name"
    echo "  $name: $s s"
}
clean() { rm -rf "$TREE/build" "$TREE/lib" "$TREE/out"; }

load0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
for i in $(seq 1 "$RUNS"); do
    echo "run $i of $RUNS"
    clean
    timed demo "$MAKE" demo
    diabetes=$(cd "$TREE" && ls build/*/examples/diabetes)
    timed study "./$diabetes" --out "$TMP/study-out"
    timed compare "./$(dirname "$diabetes")/regularizers" --out "$TMP/compare-out"
    timed examples sh tests/test_examples.sh "$(dirname "$diabetes")"
    clean
    timed builtin "$MAKE" demo BLAS=builtin
done
load1=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")

# stats NAME: "min–max s | median s | run1, run2, ..."
stats() {
    sort -n "$TMP/$1" | awk '
        { v[NR] = $1 }
        END {
            med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.1f–%.1f s | %.1f s", v[1], v[NR], med
        }'
    printf ' | %s' "$(paste -sd, "$TMP/$1" | sed 's/,/, /g')"
}

blas_dir=${diabetes#build/}
blas_dir=${blas_dir%%/*}
pc=${PKG_CONFIG:-pkg-config}
if [ "$blas_dir" = openblas ]; then
    blas="OpenBLAS $($pc --modversion openblas 2>/dev/null || echo '?') (the study sets 1 BLAS thread and trains runs in parallel)"
else
    blas="none found: the default build used the built-in GEMM"
fi
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
cc=$(${CC:-cc} --version 2>/dev/null | head -n 1)

mkdir -p "$(dirname "$OUT")"
{
    echo "# How long the demo and the tests take"
    echo
    echo "Measured with \`make times\` (scripts/measure-times.sh) in a clean copy of"
    echo "the tree: $RUNS runs of each, interleaved, wall-clock seconds."
    echo
    echo "| What | Command | min–max | median | runs |"
    echo "|---|---|---:|---:|---|"
    echo "| the demo from a clean tree | \`make demo\` | $(stats demo) |"
    echo "| its study alone (already built) | \`$diabetes --out DIR\` | $(stats study) |"
    echo "| its comparison of regularizers alone | \`$(dirname "$diabetes")/regularizers --out DIR\` | $(stats compare) |"
    echo "| the example test | \`sh tests/test_examples.sh $(dirname "$diabetes")\` | $(stats examples) |"
    echo "| the demo on the built-in GEMM, from a clean tree | \`make demo BLAS=builtin\` | $(stats builtin) |"
    echo
    echo "\`make demo\` builds with one job per core, then runs the study, which"
    echo "trains its 30 networks on all cores, and the comparison of regularizers"
    echo "(cross-validation of each strength on each seed). The example test runs the study with"
    echo "3 seeds instead of 5, plus a self-check and the fit_csv tests."
    echo
    echo "Machine:"
    echo
    echo "- cores: $(nproc 2>/dev/null || echo '?') ($cpu)"
    echo "- BLAS: $blas"
    echo "- compiler: $cc"
    echo "- $(uname -sr), $($MAKE --version | head -n 1)"
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), tree at commit $commit"
    echo "- load average (1, 5, 15 min) before: $load0; after: $load1"
    echo "  (other work on the machine makes the times longer and wider)"
} > "$OUT"
echo "wrote $OUT"
