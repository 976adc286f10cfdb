#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_examples.sh - tests of the example programs (run by `make check`
# through the test-examples target in mk/examples.mk).
#
# Usage: sh tests/test_examples.sh BUILD/examples
#
# 1. The regularization study (examples/diabetes) with 3 seeds (1..3) instead
#    of the demo's 5, and otherwise its defaults: the full lambda sweep
#    {0, 1e-5, 1e-4, 1e-3, 1e-2, 3e-2}, 100 epochs, batch 64. From its
#    sweep.csv it asserts the study's expected result (means over the seeds,
#    standardized target units):
#      unregularized: mean best-validation epoch <= 30
#      unregularized: mean (val - train) MSE gap at epoch 100 >= 0.5
#      best lambda (lowest mean validation MSE, must be > 0): gap <= 0.2
#      best lambda: mean test MSE < the unregularized mean test MSE
#    It also checks that the unregularized network is diagnosed as
#    overfitting, that every run has a finite test MSE (scored by the path,
#    REGNN_RUN_TEST_MSE), that one run trained again by hand (the hidden
#    --self-check: copy, L2, init, fit, evaluate) gives the path's curves and
#    test MSE bit for bit, and that the CSVs and SVG figures are there and
#    well formed. tests/svg_check.py checks the figures' structure: lines
#    that leave the plot area carry off-scale arrows, study.svg draws and
#    explains loss and val_loss and marks the best epochs, lambda_sweep.svg
#    labels every lambda and keeps error bars apart; each check must also
#    reject a copy of the figure with that feature removed.
# 2. fit_csv: a short training run works; bad input exits non-zero with a
#    message that says what is wrong.
# 3. regularizers (make demo's comparison) on 2 seeds, 6 epochs, 2 folds:
#    one row per regularizer and seed, every chosen strength is the grid
#    value with the lowest cross-validated MSE in regularizers_cv.csv (lower
#    value first on ties), every test MSE is finite and positive, the table
#    has one line per regularizer, the figure one series per regularizer in
#    each panel, the same bits on 1 and 2 threads, and bad options fail.
# Prints "N passed, N failed" and exits 1 if anything failed.

set -u
BIN=${1:?usage: sh tests/test_examples.sh BUILD/examples}
DATA=examples/data/diabetes.csv
SEEDS=${EXAMPLES_TEST_SEEDS:-3}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-examples.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

. "$(dirname "$0")/testlib.sh"
# expect_fail "description" "expected text in stderr" command...
expect_fail() {
    d=$1
    want=$2
    shift 2
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" -ne 0 ] && grep -q -- "$want" "$TMP/err"; then
        ok "$d (exit $rc: $(head -n 1 "$TMP/err"))"
    else
        ko "$d: exit $rc, stderr: $(cat "$TMP/err")"
    fi
}
# A well-formed standalone SVG: XML prolog, one <svg> with a viewBox, closed.
svg_ok() {
    [ -s "$1" ] || return 1
    head -n 1 "$1" | grep -q '^<?xml' || return 1
    grep -q '<svg xmlns="http://www.w3.org/2000/svg"[^>]*viewBox=' "$1" || return 1
    tail -n 1 "$1" | grep -q '^</svg>$' || return 1
    if command -v xmllint >/dev/null 2>&1; then
        xmllint --noout "$1" || return 1
    elif command -v python3 >/dev/null 2>&1; then
        python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$1" ||
            return 1
    fi
    return 0
}

for b in diabetes fit_csv regularizers; do
    if [ ! -x "$BIN/$b" ]; then
        echo "test_examples: $BIN/$b is missing (build it with make examples-build)" >&2
        exit 1
    fi
done

# ---- diabetes: options ----
check "diabetes --help exits 0 and states the scaling and split" \
    sh -c "'$BIN/diabetes' --help | grep -q 'std \* sqrt(n)' && '$BIN/diabetes' --help | grep -q '337 train / 60 validation'"
expect_fail "diabetes rejects an unknown option" "unknown argument" "$BIN/diabetes" --no-such-option
expect_fail "diabetes rejects a bad lambda list" "--lambdas" "$BIN/diabetes" --lambdas 1e-3,abc
expect_fail "diabetes reports a missing data file" "cannot load" "$BIN/diabetes" --data "$TMP/none.csv" --out "$TMP/x"

# ---- diabetes: the study ----
OUT="$TMP/study"
echo "running the study: $SEEDS seeds x 6 lambdas x 100 epochs (this takes a while)..."
start=$(date +%s)
if "$BIN/diabetes" --data "$DATA" --out "$OUT" --seeds "$SEEDS" --self-check >"$TMP/study.log" 2>&1; then
    ok "diabetes --seeds $SEEDS ran ($(($(date +%s) - start)) s)"
else
    ko "diabetes --seeds $SEEDS failed:"
    cat "$TMP/study.log"
fi
sed -n '/^lambda table/,/^Comparison/p' "$TMP/study.log"

if [ -s "$OUT/sweep.csv" ]; then
    # Columns of sweep.csv: see the header (looked up by name).
    verdicts=$(awk -F, '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $col["unregularized"] == 1 { ube = $col["best_epoch_mean"]; ugap = $col["gap_mean"];
                                     utest = $col["test_mse_mean"]; nu++ }
        $col["best"] == 1 { bl = $col["lambda"]; bgap = $col["gap_mean"];
                            btest = $col["test_mse_mean"]; nb++ }
        END {
            if (nu != 1 || nb != 1) { print "BAD rows: unregularized " nu ", best " nb; exit }
            printf "%s unregularized mean best-validation epoch %.1f <= 30\n", (ube <= 30 ? "OK" : "BAD"), ube
            printf "%s unregularized mean gap %.3f >= 0.5\n", (ugap >= 0.5 ? "OK" : "BAD"), ugap
            printf "%s best lambda %g is > 0\n", (bl > 0 ? "OK" : "BAD"), bl
            printf "%s best lambda %g: mean gap %.3f <= 0.2\n", (bgap <= 0.2 ? "OK" : "BAD"), bl, bgap
            printf "%s best lambda %g: mean test MSE %.3f < unregularized %.3f\n", (btest < utest ? "OK" : "BAD"), bl, btest, utest
        }' "$OUT/sweep.csv")
    old_ifs=$IFS # one verdict per line; no pipe, so the counters survive
    IFS='
'
    for line in $verdicts; do
        case $line in
        OK\ *) ok "${line#OK }" ;;
        *) ko "${line#BAD }" ;;
        esac
    done
    IFS=$old_ifs
else
    ko "sweep.csv was not written"
fi

# The diagnosis (regnn_history_diagnose, majority over the seeds) and the
# test MSE the path reports (REGNN_RUN_TEST_MSE; --self-check retrained one
# run by hand and compared, and would have made the study exit 1).
check "sweep.csv: the unregularized network's verdict is overfitting" \
    sh -c "awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[\$i] = i; next }
        \$col[\"unregularized\"] == 1 && \$col[\"verdict\"] == \"overfitting\" { found = 1 }
        END { exit !found }' '$OUT/sweep.csv'"
check "runs.csv: every run has a verdict" \
    sh -c "awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[\$i] = i; next }
        \$col[\"verdict\"] !~ /^(overfitting|underfitting|good fit|insufficient)\$/ { bad = 1 }
        END { exit bad || NR < 2 }' '$OUT/runs.csv'"
check "runs.csv: every run has a finite, positive test MSE" \
    sh -c "awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[\$i] = i; next }
        !(\$col[\"test_mse\"] + 0 > 0 && \$col[\"test_mse\"] !~ /nan|inf/) { bad = 1 }
        END { exit bad || NR < 2 }' '$OUT/runs.csv'"
check "self-check: a run trained by hand matches the path's curves and test MSE" \
    grep -q '^self-check: .* trained by hand' "$TMP/study.log"

# Choosing lambda by 5-fold CV vs the tail split (seed 1): three choices, each a
# lambda of the sweep, lambda.1se >= lambda.min, every refit's test MSE finite.
check "cv.csv: tail, cv_min and cv_1se for seed 1, lambdas from the sweep, finite test MSEs" \
    sh -c "awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[\$i] = i; next }
        { n++; lam[\$col[\"rule\"]] = \$col[\"lambda\"] + 0; if (\$col[\"seed\"] != 1) bad = 1
          if (\$col[\"lambda\"] !~ /^(0|1e-05|0.0001|0.001|0.01|0.03)\$/) bad = 1
          if (!(\$col[\"test_mse\"] + 0 > 0) || \$col[\"test_mse\"] ~ /nan|inf/) bad = 1
          if (!(\$col[\"cv_se\"] + 0 > 0)) bad = 1 }
        END { exit bad || n != 3 || !(\"tail\" in lam) || !(\"cv_min\" in lam) ||
                   !(\"cv_1se\" in lam) || lam[\"cv_1se\"] < lam[\"cv_min\"] }' '$OUT/cv.csv'"
check "the study log shows the 5-fold CV table and the three refits" \
    sh -c "grep -q '^seed 1: 5-fold CV on the 397 training rows' '$TMP/study.log' && test \$(grep -c 'refit on all 397 rows' '$TMP/study.log') -eq 3"

nlam=6
check "runs.csv has one line per run ($nlam x $SEEDS)" \
    test "$(($(wc -l <"$OUT/runs.csv") - 1))" -eq $((nlam * SEEDS))
check "sweep.csv has one line per lambda" test "$(($(wc -l <"$OUT/sweep.csv") - 1))" -eq $nlam
hist="$OUT/runs/lambda0_seed1.csv"
check "history CSV of the unregularized seed-1 run has a header and 100 epochs" \
    sh -c "head -n 1 '$hist' | grep -q '^epoch,loss,mse,penalty,mae,val_loss,val_mse,val_mae,seconds,train_eval_mse,learning_rate$' && test \$(wc -l <'$hist') -eq 101"
check "history CSVs record train_eval_mse and learning_rate (no nan in the last two columns)" \
    sh -c "! awk -F, 'NR > 1 && (\$NF == \"nan\" || \$(NF - 1) == \"nan\")' '$OUT'/runs/*.csv | grep -q ."
check "lambda_table.md has the header and the best row marked" \
    sh -c "grep -q '^| λ | best val epoch |' '$OUT/lambda_table.md' && grep -q 'lowest val MSE' '$OUT/lambda_table.md'"
check "study.svg is a well-formed SVG" svg_ok "$OUT/study.svg"
check "lambda_sweep.svg is a well-formed SVG" svg_ok "$OUT/lambda_sweep.svg"
check "study.svg has both panels and a legend" \
    sh -c "grep -q '>Unregularized (L2 penalty 0)<' '$OUT/study.svg' && grep -q 'L2 regularized' '$OUT/study.svg' && grep -q '>validation MSE (no penalty)<' '$OUT/study.svg'"

# Figure structure (tests/svg_check.py): lines that leave the plot area are
# marked, val_loss is drawn and explained, the best epochs are marked, every
# lambda has a tick label, error bars of different series stay apart. Each
# check is also run on a copy with the feature removed, which must fail.
if command -v python3 >/dev/null 2>&1; then
    SVGCHECK="python3 tests/svg_check.py"
    lams=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $col["in_sweep"] == 1 { printf "%s%s", (n++ ? "," : ""), $col["lambda"] }' "$OUT/sweep.csv")
    check "study.svg: loss and val_loss with their legend, best-epoch marks, off-scale lines marked" \
        $SVGCHECK --study "$OUT/study.svg"
    check "study.svg: the Keras loss curves above the y range have off-scale arrows" \
        grep -q 'class="offscale"' "$OUT/study.svg"
    check "lambda_sweep.svg: a tick label for every lambda ($lams), error bars apart" \
        $SVGCHECK --lambdas "$lams" "$OUT/lambda_sweep.svg"
    sed 's/class="offscale"/class="x"/' "$OUT/study.svg" >"$TMP/m1.svg"
    check "svg_check rejects study.svg without its off-scale arrows" \
        sh -c "! $SVGCHECK --study '$TMP/m1.svg' >/dev/null"
    sed 's/class="mark"/class="x"/' "$OUT/study.svg" >"$TMP/m2.svg"
    check "svg_check rejects study.svg without its best-epoch marks" \
        sh -c "! $SVGCHECK --study '$TMP/m2.svg' >/dev/null"
    sed 's/>val_loss = />loss = /' "$OUT/study.svg" >"$TMP/m3.svg"
    check "svg_check rejects study.svg without a val_loss legend entry" \
        sh -c "! $SVGCHECK --study '$TMP/m3.svg' >/dev/null"
    sed 's/3×10/3x10/' "$OUT/lambda_sweep.svg" >"$TMP/m4.svg"
    check "svg_check rejects lambda_sweep.svg without a readable 3e-2 tick label" \
        sh -c "! $SVGCHECK --lambdas '$lams' '$TMP/m4.svg' >/dev/null"
    # A copy of one error bar of the training series, put into the validation series.
    awk '/id="panel1-series0"/ { p1 = 1 } p1 && /class="errbar"/ && !got { eb = $0; got = 1 }
        { print } /id="panel1-series1"/ { print eb }' "$OUT/lambda_sweep.svg" >"$TMP/m5.svg"
    check "svg_check rejects overlapping error bars" \
        sh -c "! $SVGCHECK '$TMP/m5.svg' >/dev/null"
else
    ko "python3 is needed for the SVG structure checks (tests/svg_check.py)"
fi

# Determinism: the same seed gives the same run, whatever the thread count.
if "$BIN/diabetes" --data "$DATA" --out "$TMP/again" --seeds 1 --lambdas 0 --epochs 20 --jobs 1 >/dev/null 2>&1 &&
    "$BIN/diabetes" --data "$DATA" --out "$TMP/again2" --seeds 1 --lambdas 0 --epochs 20 --jobs 2 >/dev/null 2>&1; then
    check "a run is reproducible (same seed, same history apart from timings)" \
        sh -c "cut -d, -f1-8,10 '$TMP/again/runs/lambda0_seed1.csv' >'$TMP/a' && cut -d, -f1-8,10 '$TMP/again2/runs/lambda0_seed1.csv' >'$TMP/b' && cmp -s '$TMP/a' '$TMP/b'"
    check "the CV choice and refit are reproducible (cv.csv the same for 1 and 2 jobs)" \
        cmp -s "$TMP/again/cv.csv" "$TMP/again2/cv.csv"
else
    ko "short diabetes runs for the determinism check failed"
fi

# ---- fit_csv ----
if "$BIN/fit_csv" --target y --layers 32x2 --epochs 5 --history "$TMP/h.csv" --plot "$TMP/c.svg" \
    "$DATA" >"$TMP/fit.log" 2>&1; then
    ok "fit_csv trains on the diabetes CSV"
else
    ko "fit_csv failed: $(cat "$TMP/fit.log")"
fi
check "fit_csv prints the learning curve and the test error" \
    sh -c "grep -q '^ epoch  *loss  *val_loss' '$TMP/fit.log' && grep -q '^     5 ' '$TMP/fit.log' && grep -q '^test y: RMSE' '$TMP/fit.log'"
check "fit_csv --history writes 5 epochs" test "$(wc -l <"$TMP/h.csv")" -eq 6
check "fit_csv --plot writes a well-formed SVG" svg_ok "$TMP/c.svg"
if command -v python3 >/dev/null 2>&1; then
    check "fit_csv --plot: no line leaves the plot unmarked" python3 tests/svg_check.py "$TMP/c.svg"
fi
"$BIN/fit_csv" --target y --layers 16 --epochs 3 --l2 1e-2 --quiet --plot "$TMP/c2.svg" "$DATA" >/dev/null 2>&1
check "fit_csv --plot with L2 draws val_loss and the validation MSE without penalty" \
    sh -c "grep -q 'val_loss = validation MSE + penalty' '$TMP/c2.svg' && grep -q 'validation MSE (no penalty)' '$TMP/c2.svg'"
check "fit_csv --save writes a model file" \
    sh -c "'$BIN/fit_csv' --epochs 1 --quiet --save '$TMP/m.rgn' '$DATA' | grep -q '^saved' && test -s '$TMP/m.rgn'"
expect_fail "fit_csv --save into a missing folder fails" "fit_csv:" \
    "$BIN/fit_csv" --epochs 1 --quiet --save "$TMP/no/such/dir/m.rgn" "$DATA"
check "fit_csv defaults to the last column as the target" \
    sh -c "'$BIN/fit_csv' --epochs 1 --quiet '$DATA' | grep -q '^test y:'"

printf 'a,b,c\n1,2,3\n4,x,6\n7,8,9\n' >"$TMP/bad.csv"
printf 'a,b\n' >"$TMP/header_only.csv"
: >"$TMP/empty.csv"
expect_fail "fit_csv: no input file" "no input file" "$BIN/fit_csv"
expect_fail "fit_csv: missing file" "No such file" "$BIN/fit_csv" "$TMP/none.csv"
expect_fail "fit_csv: empty file" "empty file" "$BIN/fit_csv" "$TMP/empty.csv"
expect_fail "fit_csv: unknown target column" "no column named 'nope'" "$BIN/fit_csv" --target nope "$DATA"
expect_fail "fit_csv: non-numeric cell names line and column" "line 3" "$BIN/fit_csv" "$TMP/bad.csv"
expect_fail "fit_csv: a header without rows" "fit_csv:" "$BIN/fit_csv" "$TMP/header_only.csv"
expect_fail "fit_csv: bad --layers" "--layers" "$BIN/fit_csv" --layers 12y "$DATA"
expect_fail "fit_csv: bad --epochs" "--epochs" "$BIN/fit_csv" --epochs 0 "$DATA"
expect_fail "fit_csv: bad --val-split" "--val-split" "$BIN/fit_csv" --val-split 1.5 "$DATA"
expect_fail "fit_csv: unknown option" "unknown option" "$BIN/fit_csv" --frobnicate "$DATA"

# ---- regularizers ----
R="$BIN/regularizers --seeds 2 --epochs 6 --folds 2"
if $R --jobs 2 --out "$TMP/reg" >"$TMP/reg.log" 2>&1; then
    ok "regularizers runs (2 seeds, 6 epochs, 2 folds)"
else
    ko "regularizers failed: $(cat "$TMP/reg.log")"
fi
n_reg=$(($(wc -l <"$TMP/reg/regularizers.md") - 2))
check "regularizers: one CSV row per regularizer and seed ($n_reg regularizers)" \
    test "$(($(wc -l <"$TMP/reg/regularizers.csv") - 1))" -eq $((2 * n_reg))
# chosen[reg,seed] from the final fits; the argmin of the CV MSEs, grid order
check "regularizers: each chosen strength has the lowest CV MSE of its grid" \
    awk -F, 'FNR == 1 { next }
        NR == FNR { if (!(($1, $2) in best) || $4 + 0 < min[$1, $2]) { min[$1, $2] = $4 + 0; best[$1, $2] = $3 } next }
        $3 != "—" { n++; if (best[$1, $2] != $3) { print "chose " $3 " for " $1 " seed " $2 ", CV says " best[$1, $2]; bad = 1 } }
        END { exit bad || n == 0 }' "$TMP/reg/regularizers_cv.csv" "$TMP/reg/regularizers.csv"
check "regularizers: every test MSE is finite and positive" \
    awk -F, 'NR > 1 && !($4 + 0 > 0 && $4 + 0 < 1e30) { bad = 1 } END { exit bad }' "$TMP/reg/regularizers.csv"
check "regularizers: the figure is well formed" svg_ok "$TMP/reg/regularizers.svg"
check "regularizers: the figure has a series per regularizer in each panel" \
    test "$(grep -c 'class="series"' "$TMP/reg/regularizers.svg")" -eq $((2 * n_reg))
$R --jobs 1 --out "$TMP/reg1" >/dev/null 2>&1
check "regularizers: 1 and 2 threads give the same bits" \
    cmp -s "$TMP/reg/regularizers_cv.csv" "$TMP/reg1/regularizers_cv.csv"
check "regularizers: 1 and 2 threads give the same final fits" \
    cmp -s "$TMP/reg/regularizers.csv" "$TMP/reg1/regularizers.csv"
$R --only "early stopping" --out "$TMP/reg_es" >/dev/null 2>&1
check "regularizers --only trains one regularizer" \
    sh -c "test \$(wc -l <'$TMP/reg_es/regularizers.md') -eq 3 && grep -q '^| early stopping |' '$TMP/reg_es/regularizers.md'"
expect_fail "regularizers: --only with an unknown name" "no regularizer named" "$BIN/regularizers" --only lasso
expect_fail "regularizers: --folds 1 is refused" "--folds" "$BIN/regularizers" --folds 1
expect_fail "regularizers: unknown option" "unknown argument" "$BIN/regularizers" --frobnicate
expect_fail "regularizers: missing data" "nope.csv" "$BIN/regularizers" --data "$TMP/nope.csv" --out "$TMP/x"

echo "test_examples: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
