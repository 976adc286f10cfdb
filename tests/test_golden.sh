#!/bin/sh
# SPDX-License-Identifier: MIT
# Golden outputs (tests/golden/golden.c): the exact results of a fixed set of
# trainings, against tests/golden/expected/<config>.txt.
#   sh tests/test_golden.sh check  BIN   on every GEMM kernel this CPU can run
#                                        (REGNN_GEMM_KERNEL), every output of
#                                        BIN (each thread count, process) equals
#                                        its configuration's file byte for byte
#   sh tests/test_golden.sh update BIN   record them again (make golden-update)
# GOLDEN_RUNNER runs BIN through a program (make check-arm64: qemu-user).
# Every kernel computes each element by one rule, so one set of files holds
# for all of them, on every CPU.
set -u
mode=${1:-}
bin=${2:-}
runner=${GOLDEN_RUNNER:-}
here=$(cd "$(dirname "$0")" && pwd)
gold=$here/golden
expected=$gold/expected
csv=$here/data/diabetes.csv
case $mode in check | update) ;; *) echo "usage: $0 check|update GOLDEN_BIN" >&2; exit 2 ;; esac

kernels=$($runner "$bin" --kernels) || { echo "test_golden: FAIL: $bin --kernels failed"; exit 1; }
kernel=$($runner "$bin" --kernel) || { echo "test_golden: FAIL: $bin --kernel failed"; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

start=$(date +%s)
$runner "$bin" "$csv" "$tmp" || { echo "test_golden: FAIL: $bin exited with status $?"; exit 1; }
secs=$(($(date +%s) - start))

# The configuration of an output file: <config>.txt or <config>@<variant>.txt.
config_of() {
    b=${1##*/}
    b=${b%.txt}
    echo "${b%%@*}"
}

# Compare $2 (an output) with $1 (the reference), showing the difference.
same() {
    cmp -s "$1" "$2" && return 0
    echo "FAIL - ${2##*/} differs from $3:"
    diff -u --label "$3" --label "output ${2##*/} (kernel $cur)" "$1" "$2" | head -n 60
    return 1
}

fail=0
cur=$kernel
n=0
if [ "$mode" = update ]; then
    # Every run of a configuration must agree before it is recorded.
    for f in "$tmp"/*@*.txt; do
        [ -e "$f" ] || continue
        c=$(config_of "$f")
        same "$tmp/$c.txt" "$f" "$c.txt (1 thread)" || fail=$((fail + 1))
    done
    if [ $fail -ne 0 ]; then
        echo "test_golden: NOT updated: $fail runs disagree with the 1-thread run of their configuration"
        exit 1
    fi
    mkdir -p "$expected"
    rm -f "$expected"/*.txt
    for f in "$tmp"/*.txt; do
        case $f in *@*) ;; *) cp "$f" "$expected/" && n=$((n + 1)) ;; esac
    done
    echo "test_golden: recorded $n configurations in tests/golden/expected ($secs s, kernel $kernel)"
    exit 0
fi

# Every output in $2 against the files in $1; sets fail and n.
compare() {
    fail=0
    n=0
    for f in "$2"/*.txt; do
        c=$(config_of "$f")
        if [ ! -f "$1/$c.txt" ]; then
            echo "FAIL - ${f##*/}: no tests/golden/expected/$c.txt (a new configuration: make golden-update)"
            fail=$((fail + 1))
        elif same "$1/$c.txt" "$f" "tests/golden/expected/$c.txt"; then
            n=$((n + 1))
        else
            fail=$((fail + 1))
        fi
    done
    for e in "$1"/*.txt; do
        if [ ! -f "$2/${e##*/}" ]; then
            echo "FAIL - ${e##*/}: the golden program no longer writes this configuration"
            fail=$((fail + 1))
        fi
    done
}

compare "$expected" "$tmp"
if [ $fail -ne 0 ]; then
    echo "test_golden: $fail outputs differ from tests/golden/expected (kernel $kernel, $n equal)."
    echo "If the new bits are intended (a change of numerics), run make golden-update and commit them."
    exit 1
fi
total=$n

# Every other kernel this CPU can run, on every thread (REGNN_GEMM_KERNEL).
done_kernels=$kernel
for k in $kernels; do
    [ "$k" = "$kernel" ] && continue
    cur=$k
    got=$(REGNN_GEMM_KERNEL=$k $runner "$bin" --kernel)
    if [ "$got" != "$k" ]; then
        echo "test_golden: FAIL: REGNN_GEMM_KERNEL=$k runs the $got kernel"
        exit 1
    fi
    mkdir "$tmp/$k"
    s0=$(date +%s)
    REGNN_GEMM_KERNEL=$k $runner "$bin" "$csv" "$tmp/$k" ||
        { echo "test_golden: FAIL: $bin (kernel $k) exited with status $?"; exit 1; }
    secs="$secs+$(($(date +%s) - s0))"
    compare "$expected" "$tmp/$k"
    if [ $fail -ne 0 ]; then
        echo "test_golden: $fail outputs of the $k kernel differ from tests/golden/expected ($n equal)."
        exit 1
    fi
    total=$((total + n))
    done_kernels="$done_kernels $k"
done

# The comparison itself: one hex digit changed in a copy of the references,
# and one reference missing, must both be reported.
mkdir "$tmp/.ref"
cp "$expected"/*.txt "$tmp/.ref/"
first=$(ls "$tmp/.ref" | head -n 1)
sed '0,/ 0x1\./s// 0x2./' "$expected/$first" > "$tmp/.ref/$first"
rm "$tmp/.ref/$(ls "$tmp/.ref" | tail -n 1)"
compare "$tmp/.ref" "$tmp" > "$tmp/.log"
if cmp -s "$expected/$first" "$tmp/.ref/$first" || [ $fail -lt 2 ] ||
    ! grep -q "^FAIL - $first differs" "$tmp/.log" || ! grep -q "^-.* 0x2\." "$tmp/.log"; then
    echo "test_golden: FAIL: a changed or missing reference was not reported:"
    cat "$tmp/.log"
    exit 1
fi
echo "test_golden: $total outputs equal tests/golden/expected byte for byte (kernels $done_kernels, $secs s);" \
    "a changed and a missing reference are reported"
