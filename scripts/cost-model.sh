#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/cost-model.sh - docs/scaling.md's cost model of data-parallel
# training on a cluster, from one-core step times measured here: the study
# net's by bench/bench_step (make bench builds it), the wide nets' by one rank
# of examples/mpi_fit (4 steps at batch 1024).
#
# Usage: sh scripts/cost-model.sh PATH/TO/bench_step PATH/TO/mpi_fit
#
# Per step, p ranks exchange the gradient with regnn_mpi's all-to-all +
# all-gather: 2 (p - 1) / p x 4 x parameters bytes per rank (4 x parameters for
# p = 2), plus 3 collectives of latency ALPHA_US (default 20 us, a TCP
# cluster; RDMA is nearer 2 us). Compute per row c = step time / batch at the
# measured batch. On p ranks a step of batch B takes
# c B / p + comm, so data-parallel pays (speed-up > 1) from
# B* = comm / (c (1 - 1/p)), and gives 1.5x on 2 ranks from B = 6 comm / c.
set -eu
BENCH=${1:?usage: sh scripts/cost-model.sh PATH/TO/bench_step PATH/TO/mpi_fit}
FIT=${2:?usage: sh scripts/cost-model.sh PATH/TO/bench_step PATH/TO/mpi_fit}
ALPHA_US=${ALPHA_US:-20}
export OPENBLAS_NUM_THREADS=1

step() { # step NAME BATCH WIDTHS...: "NAME BATCH PARAMS STEP_US" from bench_step
    name=$1
    shift
    "$BENCH" "$@" | awk -v n="$name" -v b="$1" '
        /params=/ { for (i = 1; i <= NF; i++) if ($i ~ /^params=/) { split($i, a, "="); p = a[2] } }
        /^train step/ { us = $4 }
        END { print n, b, p, us }'
}
fitstep() { # fitstep NAME WIDTH: one rank of examples/mpi_fit at batch 1024
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 1200 \
        ${MPIRUN:-mpirun} -np 1 "$FIT" --rows 4600 --width "$2" --batch 1024 --epochs 1 |
        awk -v n="$1" '/ms each/ { for (i = 1; i <= NF; i++) if ($i == "params,") p = $(i - 1);
                                   s = $0; sub(/.*steps \(/, "", s); sub(/ ms each.*/, "", s);
                                   print n, 1024, p, s * 1000 }'
}

{
    step study-10-128x6-1 64 10 128 128 128 128 128 128 1
    fitstep 64-512x3-1 512
    fitstep 64-1024x3-1 1024
} | awk -v alpha="$ALPHA_US" '
    BEGIN {
        printf "load average while measuring: "; getline la < "/proc/loadavg"; split(la, l, " ")
        printf "%s %s %s; latency %g us per collective, 3 per step\n\n", l[1], l[2], l[3], alpha
        printf "| net | params | MB per step (p = 2) | batch | one-core step | link | comm per step | speed-up on 2 ranks | pays from batch (2 ranks) | 1.5x from batch | pays from batch (8 ranks) |\n"
        printf "|---|---|---|---|---|---|---|---|---|---|---|\n"
    }
    {
        name = $1; b = $2; p = $3; t = $4; c = t / b
        split("10 25 100", gbps, " ")
        for (i = 1; i <= 3; i++) {
            bw = gbps[i] * 1e9 / 8 / 1e6                   # bytes per us
            comm2 = 4 * p / bw + 3 * alpha                  # us, p = 2
            comm8 = 2 * 7 / 8 * 4 * p / bw + 3 * alpha     # us, p = 8
            s2 = t / (t / 2 + comm2)
            printf "| %s | %d | %.2f | %d | %.0f us | %d Gb/s | %.0f us | %.2fx | %d | %d | %d |\n",
                name, p, 4 * p / 1e6, b, t, gbps[i], comm2, s2,
                comm2 / (c * 0.5) + 0.999, 6 * comm2 / c + 0.999, comm8 / (c * 7 / 8) + 0.999
        }
    }'
