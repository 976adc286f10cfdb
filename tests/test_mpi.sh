#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_mpi.sh - libregnn_mpi under mpirun (run by `make check` through
# the test-mpi target in mk/mpi.mk when mpicc and mpirun are installed).
#
# Usage: sh tests/test_mpi.sh PATH/TO/mpi_check EXAMPLES_DIR
#
# mpirun -np 1, 2 and 4 (--oversubscribe) of tests/mpi/mpi_check: the
# distributed path equal bit for bit to one regnn_regularization_path call on
# every rank; the data-parallel fit equal bit for bit to the same shards in
# threads of one process (and to regnn_fit for one rank, within 1e-4 relative
# otherwise); failing ranks (bad data, allocation failures, rank-local rows)
# making every rank return an error. Then the two examples on 2 ranks. Every
# mpirun runs under `timeout`, so a hang fails instead of blocking.
# Open MPI refuses root without OMPI_ALLOW_RUN_AS_ROOT*; they are set here.

set -u
CHECK=${1:?usage: sh tests/test_mpi.sh PATH/TO/mpi_check EXAMPLES_DIR}
EX=${2:?usage: sh tests/test_mpi.sh PATH/TO/mpi_check EXAMPLES_DIR}
MPIRUN=${MPIRUN:-mpirun}
LIMIT=${REGNN_MPI_TIMEOUT:-300}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-mpi.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

. "$(dirname "$0")/testlib.sh"

mpi() { # mpi NP command...: under timeout, output in $TMP/out
    np=$1
    shift
    timeout "$LIMIT" "$MPIRUN" -np "$np" --oversubscribe "$@" >"$TMP/out" 2>&1
}

for np in 1 2 4; do
    for job in path fit fail; do
        if mpi "$np" "$CHECK" "$job" && grep -q "^mpi_check $job, $np ranks: ok" "$TMP/out"; then
            ok "mpirun -np $np mpi_check $job"
        else
            ko "mpirun -np $np mpi_check $job (exit $?): $(tail -n 20 "$TMP/out")"
        fi
        grep '^mpi fit' "$TMP/out"
    done
done

# Ranks that differ in one setting that changes results (learning rate, L2,
# schedule, loss, activation, sample weights, seed, data) all fail, naming it.
for np in 2 3; do
    if mpi "$np" "$CHECK" settings && grep -q "^mpi_check settings, $np ranks: ok" "$TMP/out"; then
        ok "mpirun -np $np mpi_check settings: every rank names the differing setting"
    else
        ko "mpirun -np $np mpi_check settings (exit $?): $(tail -n 20 "$TMP/out")"
    fi
    grep " -> rank 0: " "$TMP/out" | head -n 2
done
if mpi 2 "$EX/mpi_path" examples/data/diabetes.csv --epochs 3 --seeds 2 &&
    grep -q '^12 runs x 3 epochs on 2 ranks' "$TMP/out" && [ "$(grep -c '1se' "$TMP/out")" -eq 1 ]; then
    ok "mpi_path on 2 ranks: table and choice"
else
    ko "mpi_path on 2 ranks: $(tail -n 20 "$TMP/out")"
fi
if mpi 2 "$EX/mpi_fit" --rows 600 --width 32 --batch 64 --epochs 2 --checkpoint "$TMP/ck.bin" &&
    [ "$(grep -c '^epoch [12]: loss' "$TMP/out")" -eq 2 ] && [ -s "$TMP/ck.bin" ]; then
    ok "mpi_fit on 2 ranks: one line per epoch, checkpoint from rank 0"
else
    ko "mpi_fit on 2 ranks: $(tail -n 20 "$TMP/out")"
fi
# The Python binding over mpi4py (examples/mpi_fit.py): the same bits as one process
# when the batch has one shard per process.
PY=${PYTHON:-/usr/bin/python3}
LIBSO=$(cd "$EX/../lib" && pwd)/libregnn.so.1
if "$PY" -c 'import mpi4py, numpy' 2>/dev/null; then
    for run in "2 64" "4 128"; do
        set -- $run
        if mpi "$1" env PYTHONPATH="$PWD/python" REGNN_LIBRARY="$LIBSO" \
            "$PY" examples/mpi_fit.py --epochs 5 --batch "$2" --check &&
            grep -q "^mpi_fit.py check, $1 processes: weights bit-identical" "$TMP/out"; then
            ok "python mpi_fit on $1 processes, batch $2: the bits of model.fit"
            grep '^mpi_fit.py check' "$TMP/out"
        else
            ko "python mpi_fit on $1 processes: $(tail -n 20 "$TMP/out")"
        fi
    done
else
    echo "skip - python mpi_fit: $PY lacks mpi4py or numpy (apt-get install python3-mpi4py python3-numpy)"
fi
# A hang is a failure: a rank that never reaches the collective ends in the timeout.
start=$(date +%s)
timeout 5 "$MPIRUN" -np 2 --oversubscribe sh -c 'test "$OMPI_COMM_WORLD_RANK" = 0 || sleep 60' \
    >/dev/null 2>&1
took=$(( $(date +%s) - start ))
check "timeout ends a stuck mpirun (${took} s)" test "$took" -lt 30

echo "test_mpi: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
