#!/bin/sh
# scripts/measure-mpi.sh - the figures of docs/scaling.md: 1 vs 2 MPI ranks for
# the study sweep (examples/mpi_path: 6 lambdas x 5 seeds x 100 epochs, one
# training thread per rank) and for a data-parallel fit of 64-512-512-512-1 at
# global batch 1024 (examples/mpi_fit), as wall-time ratios from one run each;
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
p1=$(timeout 1200 "$MPIRUN" -np 1 "$EX/mpi_path" "$DATA" | secs)
p2=$(timeout 1200 "$MPIRUN" -np 2 "$EX/mpi_path" "$DATA" | secs)
echo "study sweep (6 lambdas x 5 seeds x 100 epochs): 1 rank $p1 s, 2 ranks $p2 s, speed-up $(echo "$p1 $p2" | awk '{printf "%.2f", $1 / $2}')x"
f1=$(timeout 1200 "$MPIRUN" -np 1 "$EX/mpi_fit" $FIT_ARGS | secs)
f2=$(timeout 1200 "$MPIRUN" -np 2 "$EX/mpi_fit" $FIT_ARGS | secs)
echo "data-parallel fit (64-512-512-512-1, global batch 1024, $FIT_ARGS): 1 rank $f1 s, 2 ranks $f2 s, speed-up $(echo "$f1 $f2" | awk '{printf "%.2f", $1 / $2}')x"
if [ -x "$CHECK" ]; then
    for e in 1 5 20 100; do
        timeout 1200 "$MPIRUN" -np 2 "$CHECK" study "$DATA" "$e" | grep '^study'
    done
fi
echo "load after: $(cut -d" " -f1-3 /proc/loadavg) (other work on the machine slows both sides)"
