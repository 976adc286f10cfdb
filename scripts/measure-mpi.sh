#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/measure-mpi.sh - the figures of docs/scaling.md: 1 vs 2 MPI ranks for
# the study sweep (examples/mpi_path: 6 lambdas x 5 seeds x 100 epochs, one
# training thread per rank) and for a data-parallel fit of 64-512-512-512-1 at
# global batch 1024 (examples/mpi_fit), as wall-time ratios of REPS pairs of runs;
# then how far the 2-rank study fit drifts from the one-process fit
# (tests/mpi/mpi_check study). Run by `make bench-mpi`.
#
# Usage: sh scripts/measure-mpi.sh EXAMPLES_DIR [MPI_CHECK]
set -eu
EX=${1:?usage: sh scripts/measure-mpi.sh EXAMPLES_DIR [MPI_CHECK]}
CHECK=${2:-$(dirname "$EX")/tests/mpi_check}
MPIRUN=${MPIRUN:-mpirun}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
DATA=examples/data/diabetes.csv
FIT_ARGS="--rows 16384 --width 512 --batch 1024 --epochs 2"

secs() { sed -n 's/.*: \([0-9.]*\) s$/\1/p' | tail -n 1; }

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "mpirun: $($MPIRUN --version 2>/dev/null | head -n 1); load before: $(cut -d" " -f1-3 /proc/loadavg)"
REPS=${MPI_BENCH_REPS:-3}
# Each figure: REPS pairs of runs (1 rank, then 2 ranks), the ratio of each pair,
# and their median: this machine's noise moves single runs by 10-20 %.
pairs() { # NAME CMD...: prints "NAME: 1 rank A s, 2 ranks B s, ..., speed-up median Mx (ratios ...)"
    name=$1; shift
    ratios=""; line=""
    i=0
    while [ "$i" -lt "$REPS" ]; do
        t1=$(timeout 1200 "$MPIRUN" -np 1 "$@" | secs)
        t2=$(timeout 1200 "$MPIRUN" -np 2 "$@" | secs)
        ratios="$ratios $(echo "$t1 $t2" | awk '{printf "%.2f", $1 / $2}')"
        line="$line ${t1}/${t2}"
        i=$((i + 1))
    done
    med=$(echo $ratios | tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END {print v[int((NR + 1) / 2)]}')
    echo "$name: seconds 1 rank/2 ranks:$line; speed-up median ${med}x (pairs:$ratios)"
}
pairs "study sweep (6 lambdas x 5 seeds x 100 epochs)" "$EX/mpi_path" "$DATA"
pairs "data-parallel fit (64-512-512-512-1, global batch 1024, $FIT_ARGS)" "$EX/mpi_fit" $FIT_ARGS
if [ -x "$CHECK" ]; then
    for e in 1 5 20 100; do
        timeout 1200 "$MPIRUN" -np 2 "$CHECK" study "$DATA" "$e" | grep '^study'
    done
fi
echo "load after: $(cut -d" " -f1-3 /proc/loadavg) (other work on the machine slows both sides)"
