#!/bin/sh
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
# numbers from raw features); and the README's
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
status 2 "path without --lambdas: exit 2" "$BIN" path "$DATA" --target y
status 2 "path --lambdas with a negative value: exit 2" "$BIN" path "$DATA" --target y --lambdas 0,-1
status 2 "path --l2: exit 2 (use --lambdas)" "$BIN" path "$DATA" --target y --l2 1e-2
status 2 "info without a file: exit 2" "$BIN" info
status 2 "export-onnx without an output file: exit 2" "$BIN" export-onnx model.rgn
status 2 "export-onnx with three files: exit 2" "$BIN" export-onnx a.rgn b.onnx c.onnx
status 2 "export-onnx unknown option: exit 2" "$BIN" export-onnx a.rgn b.onnx --frob

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

# On a terminal the progress is one line rewritten with \r.
if command -v script >/dev/null 2>&1; then
    script -qec "'$BIN' fit '$DATA' --target y --layers 8 --epochs 4" "$TMP/tty.log" >/dev/null 2>&1
    check "fit on a terminal: progress rewritten in place (\\r)" \
        sh -c "grep -q '${CR}epoch 2/4' '$TMP/tty.log' && ! grep -q '^epoch 2/4' '$TMP/tty.log'"
else
    echo "skip - fit on a terminal (no script(1))"
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
if "$PY" -c 'import numpy, onnx' >/dev/null 2>&1; then
    # The graph, run with numpy on the raw features, gives regnn predict's numbers.
    check "export-onnx: the ONNX graph on raw features = regnn predict (python3-onnx)" \
        "$PY" - "$TMP/m.onnx" "$TMP/features.csv" "$TMP/p.pred" <<'EOF'
import sys
import numpy as np
import onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
env = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
env["input"] = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, dtype=np.float32)
f = {"MatMul": np.matmul, "Add": np.add, "Sub": np.subtract, "Mul": np.multiply,
     "Div": np.divide, "Relu": lambda a: np.maximum(a, np.float32(0)), "Tanh": np.tanh,
     "Sigmoid": lambda a: np.float32(1) / (np.float32(1) + np.exp(-a))}
for n in m.graph.node:
    env[n.output[0]] = f[n.op_type](*[env[i] for i in n.input])
got = env["output"][:, 0]
want = np.loadtxt(sys.argv[3], dtype=np.float32)
np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
EOF
else
    echo "skip - export-onnx graph vs regnn predict (python3 cannot import numpy and onnx: apt-get install python3-onnx)"
fi

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
