#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_bench.sh BENCH_GEMM [BENCH_THREADS] - what the benchmarks say about
# what they ran, without timing anything (the figures of these short runs are
# not looked at):
#   - the results file (--json) has its run, row and end lines and fields
#     (tests/bench_json.py), and each product's "library" kernel follows the
#     rule of docs/api.md: by default, with REGNN_OPENBLAS_LARGE=1 and
#     REGNN_GEMM_KERNEL=avx2-fma (OpenBLAS above 4,194,304 multiply-adds in an
#     OpenBLAS build), and with REGNN_GEMM_KERNEL=portable;
#   - OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE in the environment do not
#     reach OpenBLAS: the core the bench reports is the one it reports without
#     them, and the removed value is recorded (OpenBLAS builds only).
# With BENCH_THREADS, also bench_threads' results file (a short run of about
# 30 s on a busy 2-core machine: not in `make check`).
# Run by `make check` (test-bench). Prints "N passed, N failed".
set -u
GEMM=$1
THREADS=${2:-}
PY=${PYTHON:-python3}
TESTS=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
. "$TESTS/testlib.sh"

# A 64-512-512-1 network at batch 32: products of 1,048,576, 8,388,608 and
# 16,384 multiply-adds, on both sides of the OpenBLAS size.
SHAPE="32 64 512 512 1"
# run NAME ENV...: bench_gemm on SHAPE with ENV, results in $TMP/NAME.jsonl.
run() {
    name=$1
    shift
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE -u REGNN_OPENBLAS_LARGE -u REGNN_GEMM_KERNEL "$@" \
        timeout 300 "$GEMM" --json "$TMP/$name.jsonl" ${shape:-$SHAPE} >"$TMP/$name.out" 2>&1
}
field() { # field NAME KEY: the run line's KEY
    "$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])' \
        "$TMP/$1.jsonl" "$2"
}

check "bench_gemm --json runs" run plain
check "results file: fields, rows, kernels by the library's rule (default)" \
    "$PY" "$TESTS/bench_json.py" "$TMP/plain.jsonl" program=bench_gemm openblas_coretype_removed=null
blas=$(field plain blas)
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    check "REGNN_OPENBLAS_LARGE=1 REGNN_GEMM_KERNEL=avx2-fma runs" \
        run large REGNN_OPENBLAS_LARGE=1 REGNN_GEMM_KERNEL=avx2-fma
    check "kernels by the rule with OpenBLAS for large products ($blas build)" \
        "$PY" "$TESTS/bench_json.py" "$TMP/large.jsonl" builtin_kernel=avx2-fma 'REGNN_OPENBLAS_LARGE="1"'
    if [ "$blas" = openblas ]; then
        check "an OpenBLAS build names OpenBLAS for the 512x512 product" \
            grep -q '"library":"openblas:' "$TMP/large.jsonl"
    fi
else
    echo "skip - no AVX2+FMA on this CPU: the OpenBLAS-for-large-products rule is not exercised"
fi
# (a small network: the portable kernel is slow)
shape="8 16 16 1"
check "REGNN_GEMM_KERNEL=portable runs" run portable REGNN_GEMM_KERNEL=portable
shape=
check "every product named portable" \
    "$PY" "$TESTS/bench_json.py" "$TMP/portable.jsonl" builtin_kernel=portable

if [ "$blas" = openblas ]; then
    own=$(field plain openblas_core)
    shape="8 16 16 1"
    check "OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=65536 set: runs" \
        run pinned OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=65536
    shape=
    check "... the reported core is the CPU's own ($own), Haswell is recorded as removed" \
        "$PY" "$TESTS/bench_json.py" "$TMP/pinned.jsonl" openblas_core="$own" \
        openblas_coretype_removed=Haswell
    # That the variable would take effect: OpenBLAS loaded with it reports Haswell.
    pinned=$(OPENBLAS_CORETYPE=Haswell "$PY" -c 'import ctypes, ctypes.util
lib = ctypes.CDLL(ctypes.util.find_library("openblas") or "libopenblas.so.0")
lib.openblas_get_corename.restype = ctypes.c_char_p
print(lib.openblas_get_corename().decode())' 2>/dev/null)
    if [ "$own" = Haswell ]; then
        echo "skip - OpenBLAS's own core is Haswell here: the removal cannot be told apart"
    elif [ "$pinned" = Haswell ]; then
        ok "control: OpenBLAS loaded with OPENBLAS_CORETYPE=Haswell reports Haswell (not $own)"
    else
        echo "skip - control: OpenBLAS through ctypes reported '${pinned:-nothing}' with OPENBLAS_CORETYPE=Haswell"
    fi
else
    echo "skip - built-in build: no OpenBLAS whose core the environment could pin"
fi

if [ -n "$THREADS" ]; then
    check "bench_threads --json (1 rep, quick) runs" env -u OPENBLAS_CORETYPE timeout 600 \
        "$THREADS" --quick --reps 1 --json "$TMP/threads.jsonl" >"$TMP/threads.out" 2>&1
    check "bench_threads' results file: fields and rows" \
        "$PY" "$TESTS/bench_json.py" "$TMP/threads.jsonl" program=bench_threads
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
