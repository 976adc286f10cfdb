#!/bin/sh
# SPDX-License-Identifier: MIT
# Interleaved A/B training speed of two revisions of the library: bench/bench_ab.c
# (public API only) built against each revision's static library, every
# configuration run base, new, new, base, ... REPS times; the best time of each
# is compared. Prints a markdown table and the machine's CPU and load.
#
# Usage: scripts/ab-speed.sh BASE_REV [NEW_REV]   (NEW_REV: the work tree)
# Environment: BLAS (openblas or builtin; default: what `make` picks), REPS (5),
# AB_CONFIGS ("net:threads:batch:epochs ..."; threads "predict": seconds per
# regnn_model_predict call of batch rows, epochs calls).
set -eu
base=${1:?usage: scripts/ab-speed.sh BASE_REV [NEW_REV]}
new=${2:-}
reps=${REPS:-5}
configs=${AB_CONFIGS:-"study:1:64:40 study:2:64:40 wide:1:256:2 wide:2:256:2"}
top=$(git rev-parse --show-toplevel)
work=$(mktemp -d "${TMPDIR:-/tmp}/regnn-ab.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
blas=${BLAS:-$(pkg-config --exists openblas 2>/dev/null && echo openblas || echo builtin)}
case $blas in openblas) blibs=$(pkg-config --libs openblas) ;; *) blibs= ;; esac

build() { # name rev
    mkdir -p "$work/$1"
    if [ -n "$2" ]; then
        git -C "$top" archive "$2" | tar -x -C "$work/$1"
    else
        (cd "$top" && git ls-files -z --cached --others --exclude-standard |
            xargs -0 tar -cf - --ignore-failed-read 2>/dev/null) | tar -x -C "$work/$1"
    fi
    make -s -C "$work/$1" BLAS="$blas" lib-build >/dev/null
    ${CC:-cc} -O2 -DREGNN_STATIC -I"$work/$1/include" -I"$top/bench" -o "$work/$1/bench_ab" \
        "$top/bench/bench_ab.c" "$work/$1/build/$blas/lib/libregnn.a" $blibs -lm -lpthread
}
build a "$base"
build b "$new"

best() { sort -g | head -n 1; }
echo "| net | threads | batch | base s (best of $reps) | new s | new speed / base |"
echo "|---|---|---|---|---|---|"
for c in $configs; do
    IFS=: read -r net th batch ep <<EOF2
$c
EOF2
    : > "$work/ta"; : > "$work/tb"
    i=0
    while [ "$i" -lt "$reps" ]; do
        if [ $((i % 2)) -eq 0 ]; then order="a b"; else order="b a"; fi
        for v in $order; do
            "$work/$v/bench_ab" "$net" "$th" "$batch" "$ep" | cut -d' ' -f1 >> "$work/t$v"
        done
        i=$((i + 1))
    done
    ta=$(best < "$work/ta"); tb=$(best < "$work/tb")
    echo "| $net | $th | $batch | $ta | $tb | $(awk "BEGIN{printf \"%.3f\", $ta/$tb}") |"
done
echo
echo "base: $base; new: ${new:-work tree}; build: $blas; CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //');" \
     "load: $(cut -d' ' -f1-3 /proc/loadavg)"
