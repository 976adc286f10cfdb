#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_cli.sh - tests of the regnn command-line program (run by `make
# check` through the test-cli target in mk/cli.mk).
#
# Usage: sh tests/test_cli.sh PATH/TO/regnn
#
# Covers: --help of the program and of every command; exit status 2 for usage
# errors and 1 for missing or malformed files, with messages prefixed by the
# program name; fit (progress lines when stderr is not a terminal, a \r line
# when it is, --quiet silence, history CSV, learning-curve SVG, model and
# checkpoint files); predict round trip (one prediction per row, in the
# target's own units, the same with or without the target column); path (table,
# choices, diagnoses); info on a model and on a checkpoint; export-onnx (the
# file, and with python3-onnx its graph run with numpy gives predict's
# numbers from raw features); files: FIFO and /dev/zero inputs fail at once,
# an output that is an input (symbolic or hard link too) or another output is
# refused with exit 2 before any work, missing output folders fail before work,
# failed writes (file size limit, a full tmpfs, /dev/full) leave every output
# unchanged and no temporary, outputs through symbolic links keep the link;
# the terminal test skips without a pseudo-terminal; and the README's
# claim that --l2 1e-2 lowers the test MSE of the default network on the
# diabetes data. Prints "N passed, N failed" and exits 1 if anything failed.

set -u
BIN=${1:?usage: sh tests/test_cli.sh PATH/TO/regnn}
DATA=examples/data/diabetes.csv
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-cli.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
SMALL="--layers 32,32 --epochs 15"

. "$(dirname "$0")/testlib.sh"
# status WANT "description" command...: exit status and a prefixed message on
# stderr (for WANT != 0).
status() {
    want=$1
    d=$2
    shift 2
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        ko "$d (exit $got, expected $want; stderr: $(head -c 300 "$TMP/err"))"
    elif [ "$want" -ne 0 ] && ! grep -q '^regnn[a-z -]*: ' "$TMP/err"; then
        ko "$d (no 'regnn ...:' message on stderr: $(head -c 300 "$TMP/err"))"
    else
        ok "$d"
    fi
}
has() { grep -q -- "$2" "$1"; }

# On a terminal the progress is one line rewritten with \r. script(1) runs the
# command on a pseudo-terminal; where none can be opened (a chroot or
# container without /dev/pts) even `true` fails under it, and the test skips.
tty_test() {
    CR=$(printf '\r')
    if ! command -v script >/dev/null 2>&1; then
        echo "skip - fit on a terminal (no script(1))"
    elif ! script -qec true /dev/null </dev/null >/dev/null 2>&1; then
        echo "skip - fit on a terminal (no pseudo-terminal can be opened here)"
    else
        script -qec "'$BIN' fit '$DATA' --target y --layers 8 --epochs 4" "$TMP/tty.log" >/dev/null 2>&1
        check "fit on a terminal: progress rewritten in place (\\r)" \
            sh -c "grep -q '${CR}epoch 2/4' '$TMP/tty.log' && ! grep -q '^epoch 2/4' '$TMP/tty.log'"
    fi
}
# sh tests/test_cli.sh BIN --tty-only: only the terminal test (run below
# without a pseudo-terminal).
if [ "${2:-}" = --tty-only ]; then
    tty_test
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
fi

# ---- help and usage errors ----
status 0 "regnn --help" "$BIN" --help
check "regnn --help lists the commands" sh -c "grep -q 'fit' '$TMP/out' && grep -q 'predict' '$TMP/out' && grep -q 'path' '$TMP/out' && grep -q 'merge' '$TMP/out' && grep -q 'info' '$TMP/out' && grep -q 'export-onnx' '$TMP/out'"
for c in fit predict path merge info export-onnx; do
    status 0 "regnn $c --help" "$BIN" $c --help
    check "regnn $c --help shows its usage" has "$TMP/out" "Usage: regnn $c"
done
status 0 "regnn --version" "$BIN" --version
check "--version names the library version" has "$TMP/out" "libregnn 1\."
status 2 "no command: exit 2" "$BIN"
status 2 "unknown command: exit 2" "$BIN" frobnicate
check "unknown command message names it" has "$TMP/err" "unknown command 'frobnicate'"
status 2 "fit without --target: exit 2" "$BIN" fit "$DATA"
check "fit without --target says so" has "$TMP/err" "regnn fit: --target is required"
status 2 "fit without a data file: exit 2" "$BIN" fit --target y
status 2 "fit --l2 -1: exit 2" "$BIN" fit "$DATA" --target y --l2 -1
check "bad --l2 message names the option and value" has "$TMP/err" "\-\-l2 '-1': expected a number >= 0"
status 2 "fit --epochs with no value: exit 2" "$BIN" fit "$DATA" --target y --epochs
status 2 "fit --layers 0: exit 2" "$BIN" fit "$DATA" --target y --layers 0
status 2 "fit --scale bogus: exit 2" "$BIN" fit "$DATA" --target y --scale bogus
status 2 "fit unknown option: exit 2" "$BIN" fit "$DATA" --target y --frob
status 2 "fit two data files: exit 2" "$BIN" fit "$DATA" "$DATA" --target y
status 2 "predict with one argument: exit 2" "$BIN" predict model.rgn
status 2 "path --lambdas with a negative value: exit 2" "$BIN" path "$DATA" --target y --lambdas 0,-1
status 2 "path --l2: exit 2 (use --lambdas)" "$BIN" path "$DATA" --target y --l2 1e-2
status 2 "info without a file: exit 2" "$BIN" info
status 2 "export-onnx without an output file: exit 2" "$BIN" export-onnx model.rgn
status 2 "export-onnx with three files: exit 2" "$BIN" export-onnx a.rgn b.onnx c.onnx
status 2 "export-onnx unknown option: exit 2" "$BIN" export-onnx a.rgn b.onnx --frob

# ---- every option of fit and path --help is in the manual page and docs/cli.md ----
for c in fit path; do
    "$BIN" $c --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u > "$TMP/opts-$c"
    missing=""
    while read -r o; do
        r=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
        grep -q -- "$r" docs/regnn.1 || missing="$missing $o(regnn.1)"
        grep -q -- "\`$o" docs/cli.md || missing="$missing $o(cli.md)"
    done < "$TMP/opts-$c"
    check "every option of regnn $c --help is documented in docs/regnn.1 and docs/cli.md${missing:+ (missing:$missing)}" test -z "$missing"
done

# ---- missing and malformed files: exit 1 ----
status 1 "fit on a missing file: exit 1" "$BIN" fit "$TMP/none.csv" --target y
check "missing file message names the file" has "$TMP/err" "none.csv"
status 1 "fit with an unknown target column: exit 1" "$BIN" fit "$DATA" --target nope $SMALL
check "unknown target message names the column" has "$TMP/err" "nope"
status 1 "predict with a missing model: exit 1" "$BIN" predict "$TMP/none.rgn" "$DATA"
status 1 "info on a missing file: exit 1" "$BIN" info "$TMP/none.rgn"
status 1 "info on a CSV file: exit 1" "$BIN" info "$DATA"

# ---- fit: non-TTY progress, outputs ----
status 0 "fit a small network" "$BIN" fit "$DATA" --target y $SMALL -o "$TMP/m.rgn" \
    --history "$TMP/h.csv" --plot "$TMP/c.svg" --checkpoint "$TMP/ck.rgn"
cp "$TMP/out" "$TMP/fit.out"
cp "$TMP/err" "$TMP/fit.err"
check "fit: one progress line per epoch on a non-terminal" \
    test "$(grep -c '^epoch [0-9]*/15  loss' "$TMP/fit.err")" -eq 15
CR=$(printf '\r')
check "fit: no carriage returns on a non-terminal" sh -c "! grep -q '$CR' '$TMP/fit.err'"
check "fit: prints the diagnosis" has "$TMP/fit.out" "^diagnosis: \(good fit\|overfitting\|underfitting\|insufficient\)"
check "fit: prints the test MSE and RMSE in y's units" has "$TMP/fit.out" "^test MSE [0-9.]* (45 rows.*y RMSE [0-9.]*"
check "fit: model file written" test -s "$TMP/m.rgn"
check "fit: checkpoint written" test -s "$TMP/ck.rgn"
check "fit: history has a header and 15 epochs" \
    sh -c "head -1 '$TMP/h.csv' | grep -q '^epoch,loss,mse' && test \$(wc -l < '$TMP/h.csv') -eq 16"
check "fit: the plot shows training loss, val_loss and validation MSE" \
    sh -c "grep -q '<svg' '$TMP/c.svg' && grep -q 'training loss' '$TMP/c.svg' && grep -q 'val_loss' '$TMP/c.svg' && grep -q 'validation MSE' '$TMP/c.svg'"

# --quiet: nothing at all, the model still written.
status 0 "fit --quiet" "$BIN" fit "$DATA" --target y $SMALL --quiet -o "$TMP/q.rgn"
check "fit --quiet: no output on stdout or stderr" sh -c "test ! -s '$TMP/out' && test ! -s '$TMP/err'"
check "fit --quiet: model written" test -s "$TMP/q.rgn"
check "fit is deterministic for a seed" cmp -s "$TMP/m.rgn" "$TMP/q.rgn"

tty_test
# Without a pseudo-terminal (an empty /dev/pts and no /dev/ptmx, in a mount
# namespace where one can be made) the terminal test skips instead of failing.
if unshare -rm true 2>/dev/null; then
    unshare -rm sh -c 'mount -t tmpfs none /dev/pts && mount --bind /dev/null /dev/ptmx &&
        exec sh "$0" "$1" --tty-only' "$0" "$BIN" > "$TMP/nopty.out" 2>&1
    check "fit on a terminal: skips where no pseudo-terminal can be opened" \
        sh -c "grep -q '^skip - fit on a terminal (no pseudo-terminal' '$TMP/nopty.out' && grep -q '^0 passed, 0 failed' '$TMP/nopty.out'"
else
    echo "skip - the terminal test without a pseudo-terminal (no user namespaces to hide /dev/pts)"
fi

# ---- predict ----
status 0 "predict with --target" "$BIN" predict "$TMP/m.rgn" "$DATA" --target y -o "$TMP/p.csv"
check "predict: header then one prediction per data row" \
    sh -c "head -1 '$TMP/p.csv' | grep -qx y && test \$(wc -l < '$TMP/p.csv') -eq \$(wc -l < '$DATA')"
# The target of the diabetes data has mean 152 and range 25..346: predictions
# in scaled units would be near 0.
check "predict: predictions in the target's own units" \
    awk -F, 'NR > 1 { s += $1; n++ } END { m = s / n; exit !(n == 442 && m > 100 && m < 200) }' "$TMP/p.csv"
check "predict: reports the error in the target's units" has "$TMP/err" "y: MSE [0-9.]*, RMSE [0-9.]*, MAE"
cut -d, -f1-10 "$DATA" > "$TMP/features.csv"
status 0 "predict on a features-only file" "$BIN" predict "$TMP/m.rgn" "$TMP/features.csv"
tail -n +2 "$TMP/p.csv" > "$TMP/p.pred"
check "predict: same predictions without the target column" \
    sh -c "tail -n +2 '$TMP/out' | cmp -s - '$TMP/p.pred'"
check "predict: header 'prediction' without --target" sh -c "head -1 '$TMP/out' | grep -qx prediction"
status 1 "predict with the target column left in: exit 1" "$BIN" predict "$TMP/m.rgn" "$DATA"
check "predict: the message suggests --target" has "$TMP/err" "11 columns, but the model takes 10 inputs.*--target"
status 1 "predict: wrong feature count: exit 1" "$BIN" predict "$TMP/m.rgn" "$TMP/features.csv" --target age

# ---- info ----
status 0 "info on a model" "$BIN" info "$TMP/m.rgn"
check "info: inputs, outputs, layers, parameters" has "$TMP/out" "inputs 10, outputs 1, 3 layers, 1441 parameters"
check "info: the scaler" has "$TMP/out" "^scaler: 10 features, 1 target"
check "info: not a checkpoint" has "$TMP/out" "^optimizer: none"
status 0 "info on a checkpoint" "$BIN" info "$TMP/ck.rgn"
check "info: checkpoint with optimizer state" sh -c "grep -q 'regnn checkpoint' '$TMP/out' && grep -q '^optimizer: Adam, lr 0.001' '$TMP/out' && grep -q '90 steps taken; state for 1441 parameters' '$TMP/out'"

# ---- export-onnx ----
status 1 "export-onnx with a missing model: exit 1" "$BIN" export-onnx "$TMP/none.rgn" "$TMP/x.onnx"
check "export-onnx: nothing written for a missing model" test ! -e "$TMP/x.onnx"
status 1 "export-onnx into a missing folder: exit 1" "$BIN" export-onnx "$TMP/m.rgn" "$TMP/no/m.onnx"
check "export-onnx: the message names the output" has "$TMP/err" "no/m.onnx"
status 0 "export-onnx a model" "$BIN" export-onnx "$TMP/m.rgn" "$TMP/m.onnx"
check "export-onnx: file written" test -s "$TMP/m.onnx"
check "export-onnx: summary names the shapes and the scaler" sh -c "grep -q 'input float \[N, 10\], output float \[N, 1\]' '$TMP/out' && grep -q '^scaler included' '$TMP/out'"
status 0 "export-onnx --quiet from a checkpoint" "$BIN" export-onnx "$TMP/ck.rgn" "$TMP/ck.onnx" -q
check "export-onnx --quiet: no output" sh -c "test ! -s '$TMP/out' && test ! -s '$TMP/err'"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
# onnx_check.py MODEL.onnx FEATURES PREDICTIONS: the graph, run with numpy on
# the raw features (each op the exporter writes, by its ONNX definition),
# gives regnn predict's numbers.
cat > "$TMP/onnx_check.py" <<'EOF'
import math
import sys
import numpy as np
import onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
env = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
env["input"] = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, dtype=np.float32)
one = np.float32(1)
f = {"MatMul": np.matmul, "Add": np.add, "Sub": np.subtract, "Mul": np.multiply,
     "Div": np.divide, "Relu": lambda a: np.maximum(a, np.float32(0)), "Tanh": np.tanh,
     "Sigmoid": lambda a: one / (one + np.exp(-a)),
     "Erf": lambda a: np.vectorize(math.erf)(a).astype(np.float32),
     "Softplus": lambda a: np.log1p(np.exp(-np.abs(a))) + np.maximum(a, np.float32(0))}
for n in m.graph.node:
    at = {a.name: np.float32(a.f) for a in n.attribute}
    x = [env[i] for i in n.input]
    if n.op_type == "LeakyRelu":
        r = np.where(x[0] > 0, x[0], at["alpha"] * x[0])
    elif n.op_type in ("Elu", "Selu"):
        r = np.where(x[0] > 0, x[0], at["alpha"] * np.expm1(x[0])) * at.get("gamma", one)
    else:
        r = f[n.op_type](*x)
    env[n.output[0]] = r
got = env["output"][:, 0]
want = np.loadtxt(sys.argv[3], dtype=np.float32)
np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
EOF
HAVE_ONNX=0
"$PY" -c 'import numpy, onnx' >/dev/null 2>&1 && HAVE_ONNX=1
if [ $HAVE_ONNX = 1 ]; then
    check "export-onnx: the ONNX graph on raw features = regnn predict (python3-onnx)" \
        "$PY" "$TMP/onnx_check.py" "$TMP/m.onnx" "$TMP/features.csv" "$TMP/p.pred"
else
    echo "skip - export-onnx graph vs regnn predict (python3 cannot import numpy and onnx: apt-get install python3-onnx)"
fi

# ---- --activation: each trains, info names it, its ONNX graph predicts the same ----
for act in relu tanh sigmoid elu selu gelu swish leaky_relu softplus; do
    status 0 "fit --activation $act" "$BIN" fit "$DATA" --target y --layers 8,8 --epochs 2 \
        --activation $act -q -o "$TMP/act-$act.rgn"
    "$BIN" info "$TMP/act-$act.rgn" > "$TMP/act.info"
    check "info names $act on both hidden layers" \
        sh -c "grep -c '^  [01] .*  $act  ' '$TMP/act.info' | grep -qx 2"
    "$BIN" predict "$TMP/act-$act.rgn" "$TMP/features.csv" 2>/dev/null | tail -n +2 > "$TMP/act.pred"
    status 0 "export-onnx of a $act model" "$BIN" export-onnx "$TMP/act-$act.rgn" "$TMP/act.onnx" -q
    if [ $HAVE_ONNX = 1 ]; then
        check "the ONNX graph of a $act model = regnn predict" \
            "$PY" "$TMP/onnx_check.py" "$TMP/act.onnx" "$TMP/features.csv" "$TMP/act.pred"
    fi
done
status 0 "fit --activation silu" "$BIN" fit "$DATA" --target y --layers 8,8 --epochs 2 \
    --activation silu -q -o "$TMP/act-silu.rgn"
check "--activation silu is swish" cmp -s "$TMP/act-silu.rgn" "$TMP/act-swish.rgn"
status 2 "fit --activation mish: exit 2" "$BIN" fit "$DATA" --target y --activation mish
check "the message lists the activations" has "$TMP/err" \
    "expected relu, tanh, sigmoid, elu, selu, gelu, swish (or silu), leaky_relu or softplus"

# ---- path ----
status 0 "path: 2 lambdas x 2 seeds" "$BIN" path "$DATA" --target y --lambdas 0,1e-2 --seeds 2 \
    --threads 2 --layers 16 --epochs 12
check "path: a table row per lambda with a diagnosis" \
    sh -c "grep -q '^0  .*\(good fit\|overfitting\|underfitting\) [0-9]/2' '$TMP/out' && grep -q '^1e-2 .*[0-9]/2' '$TMP/out'"
check "path: the 1-SE choice" has "$TMP/out" "^one-standard-error choice: lambda \(0\|1e-2\)"
check "path: one progress line per run" test "$(grep -c '^run [1-4]/4 done' "$TMP/err")" -eq 4
status 0 "path --quiet" "$BIN" path "$DATA" --target y --lambdas 0 --layers 8 --epochs 10 -q
check "path --quiet: no progress, still the table" sh -c "test ! -s '$TMP/err' && grep -q '^one-standard-error' '$TMP/out'"

# ---- path --shard I/N --out FILE, then merge: the table of one path call ----
SW="--target y --lambdas 0,1e-3,1e-2 --seeds 2 --layers 16 --epochs 8 -q"
"$BIN" path "$DATA" $SW > "$TMP/whole.txt" 2>/dev/null
for i in 0 1 2 3; do
    status 0 "path --shard $i/4 --out" "$BIN" path "$DATA" $SW --shard $i/4 --out "$TMP/s$i.rgp"
done
status 0 "merge of 4 shards (any order)" "$BIN" merge "$TMP/s3.rgp" "$TMP/s1.rgp" "$TMP/s0.rgp" \
    "$TMP/s2.rgp" --out "$TMP/all.rgp"
check "merge prints the table of the single path, byte for byte" cmp -s "$TMP/out" "$TMP/whole.txt"
check "merge --out writes the whole path" test -s "$TMP/all.rgp"
status 0 "merge of the merged file alone" "$BIN" merge "$TMP/all.rgp"
check "the merged file gives the same table" cmp -s "$TMP/out" "$TMP/whole.txt"
status 1 "merge with a shard missing: exit 1" "$BIN" merge "$TMP/s0.rgp" "$TMP/s1.rgp" "$TMP/s2.rgp"
check "merge names the missing run" has "$TMP/err" "is in 0 parts"
status 1 "merge with a shard twice: exit 1" "$BIN" merge "$TMP/s0.rgp" "$TMP/s0.rgp" "$TMP/s1.rgp" \
    "$TMP/s2.rgp" "$TMP/s3.rgp"
head -c 100 "$TMP/s1.rgp" > "$TMP/cut.rgp"
status 1 "merge of a truncated file: exit 1" "$BIN" merge "$TMP/s0.rgp" "$TMP/cut.rgp" "$TMP/s2.rgp" "$TMP/s3.rgp"
status 1 "merge of a missing file: exit 1" "$BIN" merge "$TMP/nothere.rgp"
status 2 "merge without files: exit 2" "$BIN" merge
status 2 "path --shard without --out: exit 2" "$BIN" path "$DATA" $SW --shard 0/2
status 2 "path --shard 2/2: exit 2" "$BIN" path "$DATA" $SW --shard 2/2 --out "$TMP/x.rgp"
status 2 "path --shard 1: exit 2" "$BIN" path "$DATA" $SW --shard 1 --out "$TMP/x.rgp"
# the limits are the library's (regnn_option_bounds: REGNN_PATH_SHARD_COUNT, REGNN_PATH_THREADS)
status 2 "path --shard 0/1048577: exit 2" "$BIN" path "$DATA" $SW --shard 0/1048577 --out "$TMP/x.rgp"
check "path --shard states the library's largest count" has "$TMP/err" "N <= 1048576"
status 2 "path --threads 257: exit 2" "$BIN" path "$DATA" $SW --threads 257
check "path --threads states the library's range" has "$TMP/err" "in 0..256"
# A cross-validated sweep (2 lambdas x 3 folds x 2 seeds) in 2 shards: the same table.
FW="--target y --lambdas 0,1e-2 --seeds 2 --layers 8 --epochs 6 --folds 3 -q"
"$BIN" path "$DATA" $FW --out "$TMP/cvwhole.rgp" > "$TMP/cvwhole.txt" 2>/dev/null
for i in 0 1; do
    status 0 "path --folds 3 --shard $i/2 --out" "$BIN" path "$DATA" $FW --shard $i/2 --out "$TMP/cv$i.rgp"
done
status 0 "merge of 2 folded shards" "$BIN" merge "$TMP/cv1.rgp" "$TMP/cv0.rgp" --out "$TMP/cvall.rgp"
check "folded merge prints the single path's table (test MSE, lambda.min, lambda.1se), byte for byte" \
    sh -c "cmp -s '$TMP/out' '$TMP/cvwhole.txt' && grep -q '^lambda.1se' '$TMP/out' && ! grep -q 'test MSE (none)' '$TMP/out'"
status 0 "merge of the folded merged file alone" "$BIN" merge "$TMP/cvall.rgp" --out "$TMP/cvall2.rgp"
check "the folded merged file: the same table, rewritten byte for byte" \
    sh -c "cmp -s '$TMP/out' '$TMP/cvwhole.txt' && cmp -s '$TMP/cvall.rgp' '$TMP/cvall2.rgp'"
status 0 "merge of the unsharded folded file" "$BIN" merge "$TMP/cvwhole.rgp"
check "the unsharded folded file gives the same table" cmp -s "$TMP/out" "$TMP/cvwhole.txt"

# ---- files the program reads: regular files only, never a hang ----
mkfifo "$TMP/fifo"
# timeout: a reader that blocks on the FIFO would stop the test here (exit 124).
status 1 "merge of a FIFO: exit 1, no hang" timeout 20 "$BIN" merge "$TMP/fifo"
check "merge of a FIFO: the message names the file and why" has "$TMP/err" "'$TMP/fifo': not a regular file"
status 1 "merge of /dev/zero: exit 1, no endless read" timeout 20 "$BIN" merge /dev/zero
check "merge of /dev/zero: the message says why" has "$TMP/err" "'/dev/zero': not a regular file"
status 1 "merge of a part and a FIFO: exit 1" timeout 20 "$BIN" merge "$TMP/s0.rgp" "$TMP/fifo"
status 1 "fit on a FIFO: exit 1" timeout 20 "$BIN" fit "$TMP/fifo" --target y $SMALL
status 1 "predict with /dev/zero as the model: exit 1" timeout 20 "$BIN" predict /dev/zero "$DATA"
status 1 "predict on /dev/zero as the data: exit 1" timeout 20 "$BIN" predict "$TMP/m.rgn" /dev/zero
status 1 "info on a FIFO: exit 1" timeout 20 "$BIN" info "$TMP/fifo"
status 1 "export-onnx of /dev/zero: exit 1" timeout 20 "$BIN" export-onnx /dev/zero "$TMP/z.onnx"
check "export-onnx of /dev/zero: nothing written" test ! -e "$TMP/z.onnx"

# ---- an output that is an input is refused before any work (exit 2) ----
cp "$DATA" "$TMP/d.csv"
cp "$TMP/m.rgn" "$TMP/keep.rgn"
ln -s d.csv "$TMP/d-link.csv"
ln "$TMP/d.csv" "$TMP/d-hard.csv"
ln -s keep.rgn "$TMP/keep-link.rgn"
# refused NAME command...: exit 2, nothing trained, every input unchanged.
refused() {
    d=$1
    shift
    status 2 "$d: exit 2" "$@"
    check "$d: refused before any work, the message says so" \
        sh -c "! grep -q '^epoch\|^run ' '$TMP/err' && grep -q 'refusing to overwrite an input\|are the same file' '$TMP/err'"
    check "$d: the inputs are unchanged" \
        sh -c "cmp -s '$DATA' '$TMP/d.csv' && cmp -s '$TMP/m.rgn' '$TMP/keep.rgn' && cmp -s '$TMP/s0.rgp' '$TMP/s0.keep' && test -L '$TMP/d-link.csv' && test -L '$TMP/keep-link.rgn'"
}
cp "$TMP/s0.rgp" "$TMP/s0.keep"
refused "fit d.csv -o d.csv" "$BIN" fit "$TMP/d.csv" --target y $SMALL -o "$TMP/d.csv"
refused "fit --checkpoint the data" "$BIN" fit "$TMP/d.csv" --target y $SMALL --checkpoint "$TMP/d.csv"
refused "fit --history the data" "$BIN" fit "$TMP/d.csv" --target y $SMALL --history "$TMP/d.csv"
refused "fit --plot the data" "$BIN" fit "$TMP/d.csv" --target y $SMALL --plot "$TMP/d.csv"
refused "fit -o a symbolic link to the data" "$BIN" fit "$TMP/d.csv" --target y $SMALL -o "$TMP/d-link.csv"
refused "fit on a symbolic link, -o its target" "$BIN" fit "$TMP/d-link.csv" --target y $SMALL -o "$TMP/d.csv"
refused "fit -o a hard link of the data" "$BIN" fit "$TMP/d.csv" --target y $SMALL -o "$TMP/d-hard.csv"
refused "fit -o and --checkpoint the same file" "$BIN" fit "$TMP/d.csv" --target y $SMALL -o "$TMP/two.rgn" --checkpoint "$TMP/two.rgn"
check "fit -o and --checkpoint the same file: nothing written" test ! -e "$TMP/two.rgn"
refused "predict -o the data" "$BIN" predict "$TMP/keep.rgn" "$TMP/d.csv" --target y -o "$TMP/d.csv"
refused "predict -o the model" "$BIN" predict "$TMP/keep.rgn" "$TMP/d.csv" --target y -o "$TMP/keep.rgn"
"$BIN" predict "$TMP/keep.rgn" "$TMP/d.csv" --target y >> "$TMP/d.csv" 2>"$TMP/err"
check "predict >> the data (standard output is an input): exit 2, the data unchanged" \
    sh -c "test $? -eq 2 && grep -q 'standard output is the input' '$TMP/err' && cmp -s '$DATA' '$TMP/d.csv'"
refused "predict -o a hard link of the data" "$BIN" predict "$TMP/keep.rgn" "$TMP/d.csv" --target y -o "$TMP/d-hard.csv"
refused "export-onnx m.rgn m.rgn" "$BIN" export-onnx "$TMP/keep.rgn" "$TMP/keep.rgn"
refused "export-onnx into a symbolic link to the model" "$BIN" export-onnx "$TMP/keep.rgn" "$TMP/keep-link.rgn"
status 0 "export-onnx m.rgn m.rgn refused: the model still loads" "$BIN" info "$TMP/keep.rgn"
refused "path --out the data" "$BIN" path "$TMP/d.csv" --target y --lambdas 0 $SMALL --out "$TMP/d.csv"
refused "merge --out a part" "$BIN" merge "$TMP/s0.rgp" "$TMP/s1.rgp" "$TMP/s2.rgp" "$TMP/s3.rgp" --out "$TMP/s0.rgp"

# ---- outputs: all or none, and a folder that is missing fails before work ----
printf 'old\n' > "$TMP/old.rgn"
status 1 "fit --checkpoint into a missing folder: exit 1" "$BIN" fit "$DATA" --target y $SMALL \
    -o "$TMP/new.rgn" --history "$TMP/new.csv" --plot "$TMP/new.svg" --checkpoint "$TMP/nodir/ck.rgn"
check "fit --checkpoint into a missing folder: names the file, the folder and the reason" \
    has "$TMP/err" "cannot write $TMP/nodir/ck.rgn: folder $TMP/nodir: No such file or directory"
check "fit --checkpoint into a missing folder: fails before training" sh -c "! grep -q '^epoch' '$TMP/err'"
check "fit --checkpoint into a missing folder: no -o model, history or plot" \
    sh -c "test ! -e '$TMP/new.rgn' && test ! -e '$TMP/new.csv' && test ! -e '$TMP/new.svg'"
status 1 "predict -o into a missing folder: exit 1" "$BIN" predict "$TMP/m.rgn" "$DATA" --target y -o "$TMP/nodir/p.csv"
status 1 "path --out into a missing folder: exit 1 before the sweep" "$BIN" path "$DATA" --target y --lambdas 0 $SMALL --out "$TMP/nodir/x.rgp"
check "path --out into a missing folder: no run started" sh -c "! grep -q '^run ' '$TMP/err'"
status 1 "merge --out into a missing folder: exit 1" "$BIN" merge "$TMP/s0.rgp" "$TMP/s1.rgp" "$TMP/s2.rgp" "$TMP/s3.rgp" --out "$TMP/nodir/x.rgp"
status 1 "fit -o a folder: exit 1" "$BIN" fit "$DATA" --target y $SMALL -o "$TMP"
status 1 "predict -o /dev/full (not a regular file): exit 1" "$BIN" predict "$TMP/m.rgn" "$DATA" --target y -o /dev/full
# Standard output on a full device: the reason, exit 1.
"$BIN" predict "$TMP/m.rgn" "$DATA" --target y -q > /dev/full 2>"$TMP/err"
check "predict to a full standard output (/dev/full): exit 1, the reason" \
    sh -c "test $? -eq 1 && grep -q 'No space left on device' '$TMP/err'"

# full FILE...: save copies of FILE... and, after the command, check that each
# is unchanged and that no temporary file is left next to it.
keep_old() { for f in "$@"; do printf 'old %s\n' "$f" > "$f"; done; }
all_old() {
    for f in "$@"; do
        [ "$(cat "$f")" = "old $f" ] || return 1
        for t in "$f".tmp-*; do [ -e "$t" ] && return 1; done
    done
    return 0
}
# A file size limit (ulimit -f, SIGXFSZ ignored) makes the writes fail (EFBIG)
# like a full disk: every output keeps its old contents.
O="$TMP/o.rgn $TMP/o-ck.rgn $TMP/o.csv $TMP/o.svg"
keep_old $O
sh -c 'trap "" XFSZ; ulimit -f 2; exec "$@"' sh "$BIN" fit "$DATA" --target y $SMALL -q \
    -o "$TMP/o.rgn" --checkpoint "$TMP/o-ck.rgn" --history "$TMP/o.csv" --plot "$TMP/o.svg" \
    > /dev/null 2>"$TMP/err"
rc=$?
check "fit with writes failing (file size limit): exit 1 (got $rc)" test "$rc" -eq 1
check "fit with writes failing: the message names the file and the reason" has "$TMP/err" "cannot write $TMP/.*: File too large"
check "fit with writes failing: every output unchanged, no temporary left" all_old $O
keep_old "$TMP/o-p.csv"
sh -c 'trap "" XFSZ; ulimit -f 2; exec "$@"' sh "$BIN" predict "$TMP/m.rgn" "$DATA" --target y -q \
    -o "$TMP/o-p.csv" > /dev/null 2>"$TMP/err"
rc=$?
check "predict -o with writes failing: exit 1 (got $rc), names the file" \
    sh -c "test $rc -eq 1 && grep -q 'cannot write $TMP/o-p.csv: File too large' '$TMP/err'"
check "predict -o with writes failing: the old file unchanged" all_old "$TMP/o-p.csv"
keep_old "$TMP/o.rgp" "$TMP/o.onnx"
sh -c 'trap "" XFSZ; ulimit -f 1; exec "$@"' sh "$BIN" merge "$TMP/s0.rgp" "$TMP/s1.rgp" \
    "$TMP/s2.rgp" "$TMP/s3.rgp" --out "$TMP/o.rgp" > /dev/null 2>"$TMP/err"
rc=$?
check "merge --out with writes failing: exit 1 (got $rc), the old file unchanged" \
    sh -c "test $rc -eq 1 && grep -q 'cannot write $TMP/o.rgp: File too large' '$TMP/err'"
check "merge --out with writes failing: no temporary left" all_old "$TMP/o.rgp"
sh -c 'trap "" XFSZ; ulimit -f 1; exec "$@"' sh "$BIN" export-onnx "$TMP/m.rgn" "$TMP/o.onnx" \
    > /dev/null 2>"$TMP/err"
rc=$?
check "export-onnx with writes failing: exit 1 (got $rc), the old file unchanged" \
    sh -c "test $rc -eq 1 && grep -q 'cannot write $TMP/o.onnx: File too large' '$TMP/err'"
check "export-onnx with writes failing: no temporary left" all_old "$TMP/o.onnx"
# A command stopped (SIGTERM) while it writes its outputs removes its temporary
# files and changes no output. strace slows every fsync down so that the signal
# lands while the outputs are being staged.
if command -v strace >/dev/null 2>&1 &&
    strace -f -o /dev/null -e trace=fsync -e inject=fsync:delay_exit=1000 true 2>/dev/null; then
    mkdir "$TMP/stop"
    keep_old "$TMP/stop/m.rgn" "$TMP/stop/h.csv"
    strace -f -o /dev/null -e trace=fsync -e inject=fsync:delay_exit=500000 \
        sh -c 'echo $$ > "$0/../stop.pid"; exec "$@"' "$TMP/stop" "$BIN" fit "$DATA" --target y \
        $SMALL -q -o "$TMP/stop/m.rgn" --history "$TMP/stop/h.csv" > /dev/null 2>&1 &
    spid=$!
    n=0
    while [ $n -lt 300 ] && ! ls "$TMP/stop" | grep -q '\.tmp-'; do sleep 0.1; n=$((n + 1)); done
    check "the stop test saw a temporary file (within 30 s)" test $n -lt 300
    kill -TERM "$(cat "$TMP/stop.pid")"
    wait $spid 2>/dev/null
    st=$?
    check "fit stopped (SIGTERM) while writing its outputs: killed (exit status $st)" test $st -gt 128
    check "fit stopped while writing: every output unchanged, no temporary left" \
        all_old "$TMP/stop/m.rgn" "$TMP/stop/h.csv"
else
    echo "skip - a command stopped while writing (strace cannot delay fsync here)"
fi
# A really full file system: a small tmpfs, where mounting one is allowed.
mkdir "$TMP/full"
if unshare -rm sh -c "mount -t tmpfs -o size=64k none '$TMP/full'" 2>/dev/null; then
    unshare -rm sh -c '
        set -u
        d=$1; shift
        mount -t tmpfs -o size=64k none "$d" || exit 3
        for f in o.rgn o-ck.rgn o.csv o.svg p.csv; do printf "old %s\n" "$d/$f" > "$d/$f"; done
        dd if=/dev/zero of="$d/fill" bs=1k 2>/dev/null
        "$@" -o "$d/o.rgn" --checkpoint "$d/o-ck.rgn" --history "$d/o.csv" --plot "$d/o.svg" -q \
            >/dev/null 2>"$d/../full-fit.err"
        echo $? > "$d/../full-fit.rc"
        for f in o.rgn o-ck.rgn o.csv o.svg; do
            [ "$(cat "$d/$f")" = "old $d/$f" ] || echo "$f changed"
        done > "$d/../full-fit.changed"
        ls "$d" | grep "\.tmp-" >> "$d/../full-fit.changed"
        true' sh "$TMP/full" "$BIN" fit "$DATA" --target y $SMALL
    check "fit on a full file system (tmpfs): exit 1" test "$(cat "$TMP/full-fit.rc")" = 1
    check "fit on a full file system: the reason named" has "$TMP/full-fit.err" "cannot write $TMP/full/.*: No space left on device"
    check "fit on a full file system: every output unchanged, no temporary left" test ! -s "$TMP/full-fit.changed"
else
    echo "skip - fit on a full file system (cannot mount a small tmpfs here: needs root or user namespaces)"
fi

# Temporary names are unique: a file named OUT.tmp is not the temporary of OUT.
printf 'mine\n' > "$TMP/u.rgp.tmp"
status 0 "merge --out next to a file named OUT.tmp" "$BIN" merge "$TMP/s0.rgp" "$TMP/s1.rgp" "$TMP/s2.rgp" "$TMP/s3.rgp" --out "$TMP/u.rgp"
check "merge --out: OUT.tmp left alone, OUT written" sh -c "test \"\$(cat '$TMP/u.rgp.tmp')\" = mine && cmp -s '$TMP/u.rgp' '$TMP/all.rgp'"

# ---- outputs through symbolic links: the link stays, its target is replaced ----
mkdir "$TMP/real"
for f in m.rgn ck.rgn h.csv c.svg p.csv m.onnx all.rgp; do
    printf 'old\n' > "$TMP/real/$f"
    ln -s "real/$f" "$TMP/ln-$f"
done
status 0 "fit -o, --checkpoint, --history, --plot through symbolic links" "$BIN" fit "$DATA" --target y $SMALL -q \
    -o "$TMP/ln-m.rgn" --checkpoint "$TMP/ln-ck.rgn" --history "$TMP/ln-h.csv" --plot "$TMP/ln-c.svg"
status 0 "predict -o through a symbolic link" "$BIN" predict "$TMP/m.rgn" "$DATA" --target y -q -o "$TMP/ln-p.csv"
status 0 "export-onnx through a symbolic link" "$BIN" export-onnx "$TMP/m.rgn" "$TMP/ln-m.onnx" -q
status 0 "merge --out through a symbolic link" "$BIN" merge "$TMP/s0.rgp" "$TMP/s1.rgp" "$TMP/s2.rgp" "$TMP/s3.rgp" --out "$TMP/ln-all.rgp"
links_kept() {
    for f in m.rgn ck.rgn h.csv c.svg p.csv m.onnx all.rgp; do
        test -L "$TMP/ln-$f" && [ "$(cat "$TMP/real/$f")" != old ] || return 1
    done
}
check "every output through a link: the link stays, its target holds the new file" links_kept
check "the model through a link is the model" cmp -s "$TMP/real/m.rgn" "$TMP/m.rgn"
check "the merged path through a link is the merged path" cmp -s "$TMP/real/all.rgp" "$TMP/all.rgp"
check "no temporary file left next to the links or their targets" \
    sh -c "! ls '$TMP' '$TMP/real' | grep -q '\.tmp-'"
ln -s nowhere/x.rgn "$TMP/dangling.rgn"
status 1 "fit -o a dangling symbolic link: exit 1 before work" "$BIN" fit "$DATA" --target y $SMALL -o "$TMP/dangling.rgn"
check "fit -o a dangling link: the message says why" has "$TMP/err" "dangling.rgn: a symbolic link whose target cannot be resolved: No such file or directory"
chmod 640 "$TMP/real/m.rgn"
status 0 "fit -o over a file with mode 640" "$BIN" fit "$DATA" --target y $SMALL -q -o "$TMP/real/m.rgn"
check "fit -o keeps the replaced file's permission bits" test "$(stat -c %a "$TMP/real/m.rgn")" = 640

# ---- messy CSV files and the options of fit and path ----
G=tests/data/grunfeld.csv
status 1 "fit on a file with a text column: exit 1" "$BIN" fit "$G" --target invest $SMALL
check "text column: the message names it and --drop" has "$TMP/err" "column 'firm' holds text (line 2: 'General Motors').*--drop firm"
status 0 "fit --drop firm" "$BIN" fit "$G" --target invest --drop firm $SMALL
check "fit --drop: the other columns are the features" has "$TMP/out" "220 rows, 3 features, target invest"
status 2 "fit --drop of a missing column: exit 2" "$BIN" fit "$G" --target invest --drop nosuch $SMALL
check "--drop of a missing column names it" has "$TMP/err" "no column named 'nosuch'"
awk -F, 'NR == 4 || NR == 9 { $3 = "NA" } 1' OFS=, "$DATA" > "$TMP/na.csv"
status 1 "fit on a file with NA: exit 1" "$BIN" fit "$TMP/na.csv" --target y $SMALL
check "NA: the message names the column, the count, the line and the options" has "$TMP/err" "column 'bmi' has 2 missing values (of 442 rows; the first on line 4): --na drop .*--na mean .*--drop bmi"
status 0 "fit --na drop" "$BIN" fit "$TMP/na.csv" --target y --na drop $SMALL
check "--na drop leaves out the 2 rows" has "$TMP/out" "440 rows, 10 features.*(2 rows with missing values left out)"
status 0 "fit --na mean" "$BIN" fit "$TMP/na.csv" --target y --na mean $SMALL
check "--na mean fills the 2 values" has "$TMP/out" "442 rows, 10 features.*(2 missing values filled with column means)"
status 2 "fit --na bogus: exit 2" "$BIN" fit "$DATA" --target y --na bogus
tr , ';' < "$DATA" > "$TMP/semi.csv"
status 0 "fit --delimiter ';'" "$BIN" fit "$TMP/semi.csv" --target y --delimiter ';' $SMALL -q -o "$TMP/semi.rgn"
check "--delimiter ';': the same model as from the comma-separated file" cmp -s "$TMP/semi.rgn" "$TMP/m.rgn"
status 1 "fit on a ';' file without --delimiter: exit 1" "$BIN" fit "$TMP/semi.csv" --target y $SMALL
# A file sorted by its target: the tail split is not a fair validation set.
{ head -1 "$DATA"; tail -n +2 "$DATA" | sort -t, -k11,11n; } > "$TMP/sorted.csv"
status 0 "fit on a sorted file, no test split" "$BIN" fit "$TMP/sorted.csv" --target y --test-split 0 $SMALL
check "sorted file: a warning that the target trends with the row order, suggesting --shuffle" has "$TMP/err" "warning: target y trends with the row order.*use --shuffle"
status 0 "fit --shuffle on the sorted file" "$BIN" fit "$TMP/sorted.csv" --target y --test-split 0 --shuffle $SMALL
check "--shuffle: no row-order warning, the split says shuffled" sh -c "! grep -q 'trends with the row order' '$TMP/err' && grep -q 'validation rows (last 0.15, shuffled)' '$TMP/out'"
status 0 "fit on the default split of the diabetes data" "$BIN" fit "$DATA" --target y $SMALL
check "no warning on a fair split" sh -c "! grep -q 'warning' '$TMP/err'"
awk -F, 'NR > 376 { $11 = 100 } 1' OFS=, "$DATA" > "$TMP/flat.csv"
status 0 "fit with constant validation targets" "$BIN" fit "$TMP/flat.csv" --target y --test-split 0 $SMALL
check "constant validation targets: a warning" has "$TMP/err" "warning: the 67 validation rows' target y is constant"
head -100 "$DATA" > "$TMP/small.csv"
status 0 "fit on 100 rows" "$BIN" fit "$TMP/small.csv" --target y $SMALL
check "fewer than 30 validation rows: a warning" has "$TMP/err" "warning: only 14 validation rows (fewer than 30)"
status 0 "fit --early-stopping 2 --restore-best" "$BIN" fit "$DATA" --target y --layers 32,32 --epochs 300 --lr 1e-2 --early-stopping 2 --restore-best
check "early stopping stopped before 300 epochs and restored the best" has "$TMP/out" "^early stopping after epoch [0-9]* (best val_loss at epoch [0-9]*, whose weights were restored)"
status 0 "fit --l1 1e-3 --loss huber:0.5 --dropout 0.1" "$BIN" fit "$DATA" --target y $SMALL --l1 1e-3 --loss huber:0.5 --dropout 0.1 -q -o "$TMP/l1.rgn"
"$BIN" info "$TMP/l1.rgn" > "$TMP/l1.info"
check "--l1 and --dropout reach every hidden layer" sh -c "grep -c '^  [01] .* 0.001 *0.1 ' '$TMP/l1.info' | grep -qx 2"
check "--loss huber:0.5 changes the model" sh -c "! cmp -s '$TMP/l1.rgn' '$TMP/m.rgn'"
status 0 "fit --gaussian-noise 0.1 --gaussian-dropout 0.2" "$BIN" fit "$DATA" --target y $SMALL --gaussian-noise 0.1 --gaussian-dropout 0.2 -q -o "$TMP/gn.rgn"
"$BIN" info "$TMP/gn.rgn" > "$TMP/gn.info"
check "--gaussian-noise: a GaussianNoise layer after each hidden layer" sh -c "grep -c '^  [14] .*GaussianNoise(0.1)' '$TMP/gn.info' | grep -qx 2"
check "--gaussian-dropout: a GaussianDropout layer after each noise layer" sh -c "grep -c '^  [25] .*GaussianDropout(0.2)' '$TMP/gn.info' | grep -qx 2"
check "noise layers change the model" sh -c "! cmp -s '$TMP/gn.rgn' '$TMP/m.rgn'"
status 0 "fit --layer-norm" "$BIN" fit "$DATA" --target y $SMALL --layer-norm --gaussian-noise 0.1 -q -o "$TMP/ln.rgn"
"$BIN" info "$TMP/ln.rgn" > "$TMP/ln.info"
check "--layer-norm: a LayerNormalization layer after each hidden layer, then the noise" sh -c "grep -c '^  [14] .*LayerNormalization(0.001) *64\$' '$TMP/ln.info' | grep -qx 2 && grep -q '^  2 .*GaussianNoise(0.1)' '$TMP/ln.info'"
status 0 "export-onnx of a model with LayerNormalization" "$BIN" export-onnx "$TMP/ln.rgn" "$TMP/ln.onnx"
check "export-onnx: a LayerNormalization node" grep -q "LayerNormalization" "$TMP/ln.onnx"
check "export-onnx: opset 17 and the dense network in the summary" has "$TMP/out" "ONNX opset 17, network 10-32x2-1 relu"
status 0 "fit --batch-norm" "$BIN" fit "$DATA" --target y $SMALL --batch-norm -q -o "$TMP/bn.rgn"
"$BIN" info "$TMP/bn.rgn" > "$TMP/bn.info"
check "--batch-norm: a BatchNormalization layer after each hidden layer" sh -c "grep -c '^  [13] .*BatchNormalization(0.001) *64\$' '$TMP/bn.info' | grep -qx 2"
status 0 "export-onnx of a model with BatchNormalization" "$BIN" export-onnx "$TMP/bn.rgn" "$TMP/bn.onnx"
check "export-onnx: a BatchNormalization node" grep -q "BatchNormalization" "$TMP/bn.onnx"
status 2 "fit --gaussian-noise 1.5: exit 2" "$BIN" fit "$DATA" --target y --gaussian-noise 1.5
check "--gaussian-noise 1.5: the range" has "$TMP/err" "standard deviation in \\[0, 1\\]"
status 2 "fit --gaussian-dropout 1: exit 2" "$BIN" fit "$DATA" --target y --gaussian-dropout 1
status 0 "fit --bias-l2 --activity-l2 --max-norm" "$BIN" fit "$DATA" --target y $SMALL --bias-l2 0.01 --activity-l2 1e-4 --max-norm 2 -q -o "$TMP/reg.rgn"
"$BIN" info "$TMP/reg.rgn" > "$TMP/reg.info"
check "--activity-l2 and --max-norm reach every hidden layer, --bias-l2 every layer" sh -c "grep -c '^  layer [01]: bias_l2 0.01, activity_l2 0.0001, max_norm 2\$' '$TMP/reg.info' | grep -qx 2 && grep -q '^  layer 2: bias_l2 0.01\$' '$TMP/reg.info'"
status 2 "fit --max-norm -1: exit 2" "$BIN" fit "$DATA" --target y --max-norm -1
check "bad --max-norm message names the option" has "$TMP/err" "\-\-max-norm '-1': expected a number >= 0"
status 0 "path --penalty dropout" "$BIN" path "$DATA" --target y --layers 16 --epochs 2 --penalty dropout --lambdas 0,0.25 -q
check "path --penalty dropout prints both rates" sh -c "grep -q '^0 ' '$TMP/out' && grep -q '^0.25 ' '$TMP/out'"
status 1 "path --penalty dropout --lambdas 0,1: exit 1" "$BIN" path "$DATA" --target y --layers 16 --epochs 1 --penalty dropout --lambdas 0,1 -q
check "a dropout rate of 1 is refused naming the lambda" has "$TMP/err" "lambda\[1\] = 1"
status 2 "path --penalty max-norm without --lambdas: exit 2" "$BIN" path "$DATA" --target y --penalty max-norm
status 2 "path --penalty bogus: exit 2" "$BIN" path "$DATA" --target y --penalty bogus --lambdas 0
status 2 "fit --loss huber:0: exit 2" "$BIN" fit "$DATA" --target y --loss huber:0
status 2 "fit --loss bogus: exit 2" "$BIN" fit "$DATA" --target y --loss bogus
awk -F, 'NR == 1 { print $0 ",w"; next } { print $0 ",1" }' "$DATA" > "$TMP/w1.csv"
status 0 "fit --weight w (all 1)" "$BIN" fit "$TMP/w1.csv" --target y --weight w $SMALL -q -o "$TMP/w1.rgn"
check "--weight: weights of 1 give the unweighted model" cmp -s "$TMP/w1.rgn" "$TMP/m.rgn"
awk -F, 'NR == 1 { print $0 ",w"; next } { print $0 "," (NR % 2) }' "$DATA" > "$TMP/w2.csv"
status 0 "fit --weight w (0 and 1)" "$BIN" fit "$TMP/w2.csv" --target y --weight w $SMALL -q -o "$TMP/w2.rgn"
check "--weight: other weights give another model" sh -c "! cmp -s '$TMP/w2.rgn' '$TMP/m.rgn'"
status 0 "fit --schedule exponential:10:0.5" "$BIN" fit "$DATA" --target y $SMALL --schedule exponential:10:0.5 -q --history "$TMP/sch.csv"
check "--schedule: the learning rate decays" awk -F, 'NR == 2 { a = $11 } END { exit !($11 < a / 100) }' "$TMP/sch.csv"
status 2 "fit --schedule bogus: exit 2" "$BIN" fit "$DATA" --target y --schedule bogus:1
status 0 "fit --optimizer nadam --schedule restarts:10:2:0.5" "$BIN" fit "$DATA" --target y $SMALL --optimizer nadam --schedule restarts:10:2:0.5 --checkpoint "$TMP/nadam.ckpt" -o "$TMP/nadam.rgn"
check "--optimizer: the summary names Nadam at Keras's rate" has "$TMP/out" "parameters; Nadam lr 0.001, batch"
status 0 "info on the Nadam checkpoint" "$BIN" info "$TMP/nadam.ckpt"
check "info: optimizer Nadam and its settings" has "$TMP/out" "^optimizer: Nadam, lr 0.001, beta1 0.9, beta2 0.999, epsilon 1e-07"
status 0 "fit --optimizer sgd without --lr" "$BIN" fit "$DATA" --target y --layers 8 --epochs 2 --optimizer sgd
check "--optimizer sgd: Keras's default rate 0.01" has "$TMP/out" "SGD lr 0.01, batch"
status 2 "fit --optimizer adadelta: exit 2" "$BIN" fit "$DATA" --target y --optimizer adadelta
check "--optimizer: the names it takes" has "$TMP/err" "expected adam, sgd, rmsprop, adagrad, adamax or nadam"
status 0 "fit --optimizer rmsprop --schedule polynomial:5:0.0002" "$BIN" fit "$DATA" --target y $SMALL --optimizer rmsprop --schedule polynomial:5:0.0002 -q --history "$TMP/poly.csv"
check "--schedule polynomial: at its end rate after decay_steps" awk -F, 'END { exit !($11 == 0.0002) }' "$TMP/poly.csv"
status 0 "fit --optimizer adagrad --schedule inverse:3:1:staircase" "$BIN" fit "$DATA" --target y --layers 8 --epochs 2 --optimizer adagrad --lr 0.1 --schedule inverse:3:1:staircase -q --history "$TMP/inv.csv"
check "--schedule inverse: 0.1 / (1 + floor(s / 3)) after the 6 steps of epoch 1 (s = 5)" awk -F, 'NR == 2 { exit !($11 == 0.05) }' "$TMP/inv.csv"
status 1 "fit --schedule restarts with t_mul 0.5 refused" "$BIN" fit "$DATA" --target y --schedule restarts:10:0.5
check "the library's message names t_mul" has "$TMP/err" "t_mul must be finite and >= 1, got 0.5"
status 0 "fit --optimizer adamax --schedule polynomial:10:0:2:cycle" "$BIN" fit "$DATA" --target y --layers 8 --epochs 2 --optimizer adamax --schedule polynomial:10:0:2:cycle -q
status 0 "path --test-split 0" "$BIN" path "$DATA" --target y --lambdas 0,1e-2 --layers 8 --epochs 10 --test-split 0 --seeds 2 -q
check "path without test rows: no 'nan', the reason said" sh -c "! grep -qi 'nan' '$TMP/out' && grep -q '^test MSE: none, as there are no test rows' '$TMP/out'"
status 0 "path with a grid too large" "$BIN" path "$DATA" --target y --lambdas 10,100 --layers 8 --epochs 10
check "every lambda predicts a constant: a warning suggesting smaller lambdas" has "$TMP/err" "warning: every lambda of the grid gives a model that predicts about a constant.*try lambdas below 10"
status 0 "path --folds 3" "$BIN" path "$DATA" --target y --lambdas 0,1e-2 --layers 8 --epochs 10 --folds 3 -q
check "path --folds: lambda.min and lambda.1se" sh -c "grep -q '^lambda.min (lowest cross-validated MSE): lambda' '$TMP/out' && grep -q '^lambda.1se (largest lambda within one standard error): lambda' '$TMP/out'"
check "path --folds: the verdicts count every fold" has "$TMP/out" "^1e-2 .* [0-9]/3 ("
status 0 "path --folds 5 on 100 rows" "$BIN" path "$TMP/small.csv" --target y --lambdas 0 --layers 8 --epochs 10 --folds 5
check "path --folds: fewer than 30 rows per fold, a warning" has "$TMP/err" "warning: only 17 rows per fold (fewer than 30).*fewer --folds"
status 2 "path --folds 1: exit 2" "$BIN" path "$DATA" --target y --folds 1
status 0 "path without --lambdas: the grid from the data" "$BIN" path "$DATA" --target y --layers 8 --epochs 5 --test-split 0
got=$(sed -n 's/^lambda grid from the data: lambda_max = .* = \([^ ]*\) (rounded up).*/\1/p' "$TMP/out")
check "path: 6 lambdas, 0 and lambda_max x 1e-4 .. 1" sh -c "grep -c '^\(0 \|[0-9.]*e-[0-9]* \|[0-9.]* \)' '$TMP/out' | grep -qx 6"
if "$PY" -c 'import numpy' >/dev/null 2>&1; then
    # The rule of docs/cli.md, computed here: unit-scaled features, z-scored y.
    want=$("$PY" - "$DATA" <<'EOF'
import sys, math
import numpy as np
d = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
x, y = d[:, :-1], d[:, -1]
n = len(y)
x = (x - x.mean(0)) / (x.std(0) * math.sqrt(n))
y = (y - y.mean()) / y.std()
lmax = 2 * np.max(np.abs(x.T @ (y - y.mean()))) / n
e = math.floor(math.log10(lmax)) - 1
m = math.ceil(lmax / 10 ** e)
print("%de%d" % (m // 10, e + 1) if m % 10 == 0 else "%.1fe%d" % (m / 10, e + 1))
EOF
)
    check "path: lambda_max is the documented rule ($got = $want)" test "$got" = "$want"
fi

# ---- real public data sets (tests/data/README.md): fit and path against a
# linear least-squares baseline on a shuffled 80/20 split made here ----
if "$PY" -c 'import numpy' >/dev/null 2>&1; then
    # realdata NAME TARGET DROP: prints "fit MSE, path lambda, path MSE, linear MSE, mean MSE"
    # in the target's units on the held-out rows.
    realdata() {
        "$PY" - "tests/data/$1.csv" "$2" "$3" "$TMP/rd-$1" <<'EOF' || return 1
import csv, sys
import numpy as np
path, target, drop, out = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
rows = list(csv.reader(open(path, newline="")))
head, data = rows[0], rows[1:]
perm = np.random.default_rng(7).permutation(len(data))
n_test = int(np.ceil(0.2 * len(data)))
test, train = perm[:n_test], perm[n_test:]
# the training part as the file has it (text columns too); the test part numeric
with open(out + "-train.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(head)
    w.writerows(data[i] for i in train)
feats = [j for j, c in enumerate(head) if c not in drop and c != target]
ty = head.index(target)
with open(out + "-test.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow([head[j] for j in feats] + [target])
    w.writerows([data[i][j] for j in feats] + [data[i][ty]] for i in test)
def xy(idx):
    return (np.array([[float(data[i][j]) for j in feats] for i in idx]),
            np.array([float(data[i][ty]) for i in idx]))
xtr, ytr = xy(train)
xte, yte = xy(test)
coef = np.linalg.lstsq(np.c_[xtr, np.ones(len(xtr))], ytr, rcond=None)[0]
lin = np.mean((np.c_[xte, np.ones(len(xte))] @ coef - yte) ** 2)
print("%.6g %.6g" % (lin, np.mean((yte - ytr.mean()) ** 2)), file=open(out + "-base", "w"))
EOF
        net="--target $2 --drop $3 --test-split 0 --shuffle --layers 32,32 --epochs 200 --batch 16"
        "$BIN" fit "$TMP/rd-$1-train.csv" $net -q -o "$TMP/rd-$1.rgn" || return 1
        fit=$("$BIN" predict "$TMP/rd-$1.rgn" "$TMP/rd-$1-test.csv" --target "$2" 2>&1 >/dev/null |
            sed -n "s/.*: $2: MSE \([^,]*\),.*/\1/p")
        "$BIN" path "$TMP/rd-$1-train.csv" $net -q --threads 2 > "$TMP/rd-$1.path" || return 1
        lam=$(sed -n 's/^one-standard-error choice: lambda \([^ ]*\) .*/\1/p' "$TMP/rd-$1.path")
        "$BIN" fit "$TMP/rd-$1-train.csv" $net -q --l2 "$lam" -o "$TMP/rd-$1-l2.rgn" || return 1
        pth=$("$BIN" predict "$TMP/rd-$1-l2.rgn" "$TMP/rd-$1-test.csv" --target "$2" 2>&1 >/dev/null |
            sed -n "s/.*: $2: MSE \([^,]*\),.*/\1/p")
        echo "${fit:-nan} $lam ${pth:-nan} $(cat "$TMP/rd-$1-base")"
    }
    for spec in "grunfeld invest firm" "macrodata realinv year,quarter" "statecrime murder state"; do
        set -- $spec
        r=$(realdata "$1" "$2" "$3")
        echo "# $1 ($2): test MSE fit, path lambda, fit at that lambda, linear, mean: $r"
        # A network that learned: well under the mean's error, near least squares.
        check "$1: regnn fit and the path's lambda beat the mean by 2x and stay within 2x of least squares ($r)" \
            awk -v r="$r" 'BEGIN { split(r, v, " "); exit !(v[1] < 0.5 * v[5] && v[3] < 0.5 * v[5] && v[1] < 2 * v[4] && v[3] < 2 * v[4]) }'
    done
else
    echo "skip - the real data sets against least squares (python3 cannot import numpy)"
fi

# ---- the README's example: L2 closes the gap and lowers the test MSE ----
"$BIN" fit "$DATA" --target y > "$TMP/l0.out" 2>/dev/null
"$BIN" fit "$DATA" --target y --l2 1e-2 > "$TMP/l2.out" 2>/dev/null
t0=$(sed -n 's/^test MSE \([0-9.]*\).*/\1/p' "$TMP/l0.out")
t2=$(sed -n 's/^test MSE \([0-9.]*\).*/\1/p' "$TMP/l2.out")
check "README: no L2 overfits" has "$TMP/l0.out" "^diagnosis: overfitting"
check "README: --l2 1e-2 is a good fit" has "$TMP/l2.out" "^diagnosis: good fit"
check "README: --l2 1e-2 lowers the test MSE ($t0 -> $t2)" \
    awk -v a="${t0:-0}" -v b="${t2:-9}" 'BEGIN { exit !(b < a - 0.1) }'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
