/* SPDX-License-Identifier: MIT */
/* Diagnosis of training histories: each verdict and reason of the rule in
 * docs/diagnosis.md on constructed histories, the values reported, the
 * insufficient cases (too short, no validation, NaN/Inf), arguments, and two
 * real fits. */
#include "testutil.h"
#include "path/path_impl.h" /* test-only: fake_path builds a path by hand */

#include <math.h>
#include <string.h>

enum { N = 100 };

/* A history of n epochs with train-eval MSE t[e] (NaN: not recorded, the
 * running train MSE is then tr[e]) and val MSE v[e]. */
static regnn_history *make_hist(size_t n, const double *t, const double *tr, const double *v)
{
    regnn_history *h = NULL;
    CK_OK(rg_history_create(n, &h));
    for (size_t e = 0; e < n; e++) {
        double met[RG_N_METRICS];
        for (int i = 0; i < RG_N_METRICS; i++)
            met[i] = NAN;
        met[REGNN_METRIC_TRAIN_MSE - 1] = tr ? tr[e] : (t ? t[e] * 1.1 : NAN);
        met[REGNN_METRIC_TRAIN_PENALTY - 1] = 0.0;
        met[REGNN_METRIC_TRAIN_LOSS - 1] = met[REGNN_METRIC_TRAIN_MSE - 1];
        met[REGNN_METRIC_VAL_MSE - 1] = v ? v[e] : NAN;
        met[REGNN_METRIC_VAL_LOSS - 1] = v ? v[e] : NAN;
        met[REGNN_METRIC_TRAIN_EVAL_MSE - 1] = t ? t[e] : NAN;
        met[REGNN_METRIC_SECONDS - 1] = 0.001;
        rg_history_push(h, met);
    }
    return h;
}

/* A small deterministic wiggle (+-1 %), like the noise of a real val curve. */
static double wiggle(size_t e) { return 1.0 + 0.01 * sin(1.7 * (double)e); }

static void diagnose(const regnn_history *h, double baseline, int want_verdict, int want_reason,
                     double *d)
{
    int verdict = -1, reason = -1;
    CK_OK(regnn_history_diagnose(h, baseline, &verdict, &reason, d, REGNN_DIAG_COUNT));
    ck_assert_msg(verdict == want_verdict && reason == want_reason,
                  "verdict %d (%s) reason %d, expected %d reason %d; rel gap %g, val rise %g, "
                  "train level %g, val trend %g, gap trend %g",
                  verdict, regnn_verdict_name(verdict), reason, want_verdict, want_reason,
                  d[REGNN_DIAG_RELATIVE_GAP], d[REGNN_DIAG_VAL_RISE], d[REGNN_DIAG_TRAIN_LEVEL],
                  d[REGNN_DIAG_VAL_TREND], d[REGNN_DIAG_GAP_TREND]);
}

START_TEST(test_overfitting_val_rose)
{
    /* The classic U: val falls to 0.5 at epoch 20, then climbs to ~1.0 while
     * train keeps falling towards 0. */
    double t[N], v[N];
    for (size_t e = 0; e < N; e++) {
        t[e] = 0.05 + 0.95 * exp(-(double)e / 15.0);
        v[e] = e <= 20 ? 1.0 - 0.025 * (double)e : 0.5 + 0.00625 * (double)(e - 20);
    }
    regnn_history *h = make_hist(N, t, NULL, v);
    double d[REGNN_DIAG_COUNT];
    diagnose(h, 1.0, REGNN_VERDICT_OVERFITTING, REGNN_REASON_VAL_ROSE, d);
    ck_assert_double_eq(d[REGNN_DIAG_EPOCHS], N);
    ck_assert_double_eq(d[REGNN_DIAG_BEST_EPOCH], 20);
    ck_assert_double_eq_tol(d[REGNN_DIAG_BEST_VAL_MSE], 0.5, 1e-12);
    ck_assert_double_eq(d[REGNN_DIAG_TRAIN_MSE_AT_BEST], t[20]);
    ck_assert_double_eq(d[REGNN_DIAG_GAP_AT_BEST], v[20] - t[20]);
    ck_assert_double_eq(d[REGNN_DIAG_FINAL_VAL_MSE], v[N - 1]);
    ck_assert_double_eq(d[REGNN_DIAG_FINAL_TRAIN_MSE], t[N - 1]);
    ck_assert_double_eq(d[REGNN_DIAG_FINAL_GAP], v[N - 1] - t[N - 1]);
    ck_assert_double_eq(d[REGNN_DIAG_WINDOW], 20);
    /* Val rises 0.00625 per epoch, train is nearly flat: the gap grows at about that rate. */
    ck_assert_double_eq_tol(d[REGNN_DIAG_VAL_TREND], 0.00625, 1e-12);
    ck_assert(d[REGNN_DIAG_GAP_TREND] > 0.006 && d[REGNN_DIAG_GAP_TREND] < 0.0066);
    ck_assert(d[REGNN_DIAG_VAL_RISE] > 0.8);
    ck_assert(d[REGNN_DIAG_GAP_GROWTH] > 0.8);
    ck_assert_double_eq(d[REGNN_DIAG_TRAIN_METRIC], REGNN_METRIC_TRAIN_EVAL_MSE);
    ck_assert_double_eq(d[REGNN_DIAG_REFERENCE_MSE], 1.0);
    regnn_history_free(h);
}
END_TEST

START_TEST(test_overfitting_large_gap)
{
    /* Val still creeps down (its minimum is in the final window), but it is
     * five times the training error and the gap does not close. */
    double t[N], v[N];
    for (size_t e = 0; e < N; e++) {
        t[e] = 0.02 + 0.9 * exp(-(double)e / 10.0);
        v[e] = 0.55 + 0.45 * exp(-(double)e / 10.0) - 0.0002 * (double)e;
    }
    regnn_history *h = make_hist(N, t, NULL, v);
    double d[REGNN_DIAG_COUNT];
    diagnose(h, 1.0, REGNN_VERDICT_OVERFITTING, REGNN_REASON_LARGE_GAP, d);
    ck_assert_double_eq(d[REGNN_DIAG_BEST_EPOCH], N - 1);
    ck_assert(d[REGNN_DIAG_RELATIVE_GAP] > 0.9);
    regnn_history_free(h);

    /* The same gap closing fast (train rising towards val) is not called overfitting. */
    for (size_t e = 0; e < N; e++)
        t[e] = e < 80 ? 0.05 : 0.05 + 0.01 * (double)(e - 80);
    h = make_hist(N, t, NULL, v);
    int verdict, reason;
    CK_OK(regnn_history_diagnose(h, 1.0, &verdict, &reason, d, REGNN_DIAG_COUNT));
    ck_assert(d[REGNN_DIAG_RELATIVE_GAP] >= 0.5);
    ck_assert(d[REGNN_DIAG_GAP_TREND] < 0);
    ck_assert_int_ne(reason, REGNN_REASON_LARGE_GAP);
    ck_assert_int_ne(verdict, REGNN_VERDICT_OVERFITTING);
    regnn_history_free(h);
}
END_TEST

START_TEST(test_underfitting_high_error)
{
    /* Heavy regularization: both errors sit near the variance of the target. */
    double t[N], v[N];
    for (size_t e = 0; e < N; e++) {
        t[e] = (0.93 + 0.07 * exp(-(double)e / 5.0)) * wiggle(e);
        v[e] = (0.97 + 0.05 * exp(-(double)e / 5.0)) * wiggle(e + 3);
    }
    regnn_history *h = make_hist(N, t, NULL, v);
    double d[REGNN_DIAG_COUNT];
    diagnose(h, 1.0, REGNN_VERDICT_UNDERFITTING, REGNN_REASON_HIGH_ERROR, d);
    ck_assert(d[REGNN_DIAG_TRAIN_LEVEL] > 0.9);
    /* Without a baseline the largest first-epoch error is the reference (here
     * the running train MSE, 1.1 t[0]): same verdict. */
    diagnose(h, NAN, REGNN_VERDICT_UNDERFITTING, REGNN_REASON_HIGH_ERROR, d);
    ck_assert_double_eq(d[REGNN_DIAG_REFERENCE_MSE], t[0] * 1.1);
    diagnose(h, 0.0, REGNN_VERDICT_UNDERFITTING, REGNN_REASON_HIGH_ERROR, d);
    diagnose(h, -1.0, REGNN_VERDICT_UNDERFITTING, REGNN_REASON_HIGH_ERROR, d);
    /* With a much larger baseline the same errors are low: a good fit. */
    diagnose(h, 10.0, REGNN_VERDICT_GOOD_FIT, REGNN_REASON_NONE, d);
    regnn_history_free(h);

    /* A collapse: the first epochs fit a little, then the penalty pulls train and
     * val up together. Val "rose" from its minimum, but the gap did not widen. */
    for (size_t e = 0; e < N; e++) {
        t[e] = e < 3 ? 0.90 : 1.06;
        v[e] = e < 3 ? 0.93 : 1.05;
    }
    h = make_hist(N, t, NULL, v);
    diagnose(h, 1.05, REGNN_VERDICT_UNDERFITTING, REGNN_REASON_HIGH_ERROR, d);
    ck_assert(d[REGNN_DIAG_VAL_RISE] > 0.1);
    ck_assert_double_eq(d[REGNN_DIAG_BEST_EPOCH], 0);
    regnn_history_free(h);
}
END_TEST

START_TEST(test_underfitting_still_improving)
{
    /* Both curves still fall steadily at the end: training stopped too soon. */
    double t[N], v[N];
    for (size_t e = 0; e < N; e++) {
        t[e] = 1.0 - 0.008 * (double)e;
        v[e] = 1.05 - 0.008 * (double)e;
    }
    regnn_history *h = make_hist(N, t, NULL, v);
    double d[REGNN_DIAG_COUNT];
    diagnose(h, 1.0, REGNN_VERDICT_UNDERFITTING, REGNN_REASON_STILL_IMPROVING, d);
    ck_assert_double_eq_tol(d[REGNN_DIAG_VAL_TREND], -0.008, 1e-12);
    ck_assert_double_eq_tol(d[REGNN_DIAG_TRAIN_TREND], -0.008, 1e-12);
    ck_assert_double_eq_tol(d[REGNN_DIAG_GAP_TREND], 0.0, 1e-12);
    ck_assert_double_eq(d[REGNN_DIAG_BEST_EPOCH], N - 1);
    regnn_history_free(h);
}
END_TEST

/* Converged within the first epoch to val MSE 0.0009, no baseline: the
 * end-of-epoch errors of epoch 0 are already near zero, but the running batch
 * MSE of epoch 0 remembers the error at initialization. */
START_TEST(test_near_perfect_fit)
{
    double t[N], tr[N], v[N];
    for (size_t e = 0; e < N; e++) {
        v[e] = e == 0 ? 0.00100 : 0.00090 * wiggle(e);
        t[e] = e == 0 ? 0.00098 : 0.00085 * wiggle(e + 2);
        tr[e] = e == 0 ? 0.4 : 0.0009;
    }
    regnn_history *h = make_hist(N, t, tr, v);
    double d[REGNN_DIAG_COUNT];
    /* Against max(V[0], T[0]) alone the train level is 0.85: "underfitting". */
    ck_assert(0.00085 / 0.00100 >= 0.8);
    diagnose(h, NAN, REGNN_VERDICT_GOOD_FIT, REGNN_REASON_NONE, d);
    ck_assert_double_eq(d[REGNN_DIAG_REFERENCE_MSE], 0.4);
    ck_assert(d[REGNN_DIAG_TRAIN_LEVEL] < 0.01);
    diagnose(h, 1.0, REGNN_VERDICT_GOOD_FIT, REGNN_REASON_NONE, d);
    regnn_history_free(h);
    /* Without the running train MSE the end-of-epoch errors are all there is. */
    for (size_t e = 0; e < N; e++)
        tr[e] = NAN;
    h = make_hist(N, t, tr, v);
    diagnose(h, NAN, REGNN_VERDICT_UNDERFITTING, REGNN_REASON_HIGH_ERROR, d);
    ck_assert_double_eq(d[REGNN_DIAG_REFERENCE_MSE], 0.00100);
    regnn_history_free(h);
}
END_TEST

/* Errors still falling by more than 5 % across the window, but near zero
 * relative to the reference: a good fit. The same curve shape higher up is
 * still underfitting, and the boundary is window val MSE = 0.05 S. */
START_TEST(test_still_improving_near_zero)
{
    double t[N], v[N], d[REGNN_DIAG_COUNT];
    /* From error ~1 down to ~0.004, still creeping down: no baseline. */
    for (size_t e = 0; e < N; e++) {
        v[e] = 0.002 + exp(-(double)e / 15.0);
        t[e] = 0.0015 + exp(-(double)e / 15.0);
    }
    regnn_history *h = make_hist(N, t, NULL, v);
    diagnose(h, NAN, REGNN_VERDICT_GOOD_FIT, REGNN_REASON_NONE, d);
    ck_assert(d[REGNN_DIAG_VAL_TREND] * (d[REGNN_DIAG_WINDOW] - 1) / d[REGNN_DIAG_WINDOW_VAL_MSE] <
              -0.05);
    ck_assert(d[REGNN_DIAG_WINDOW_VAL_MSE] < 0.05 * d[REGNN_DIAG_REFERENCE_MSE]);
    diagnose(h, 1.0, REGNN_VERDICT_GOOD_FIT, REGNN_REASON_NONE, d);
    regnn_history_free(h);

    /* c (0.2 + e^(-e/25)): relative changes do not depend on c, the level does.
     * Window val MSE is about 0.227 c. */
    const double cs[] = {1.0, 0.25, 0.2, 0.1};
    const int want[] = {REGNN_VERDICT_UNDERFITTING, REGNN_VERDICT_UNDERFITTING,
                        REGNN_VERDICT_GOOD_FIT, REGNN_VERDICT_GOOD_FIT};
    for (size_t i = 0; i < 4; i++) {
        for (size_t e = 0; e < N; e++) {
            v[e] = cs[i] * (0.20 + exp(-(double)e / 25.0));
            t[e] = cs[i] * (0.15 + exp(-(double)e / 25.0));
        }
        h = make_hist(N, t, NULL, v);
        diagnose(h, 1.0, want[i],
                 want[i] == REGNN_VERDICT_GOOD_FIT ? REGNN_REASON_NONE
                                                   : REGNN_REASON_STILL_IMPROVING, d);
        ck_assert((d[REGNN_DIAG_WINDOW_VAL_MSE] >= 0.05) == (want[i] != REGNN_VERDICT_GOOD_FIT));
        /* Without a baseline the reference scales with c: always still improving. */
        diagnose(h, NAN, REGNN_VERDICT_UNDERFITTING, REGNN_REASON_STILL_IMPROVING, d);
        regnn_history_free(h);
    }
}
END_TEST

START_TEST(test_good_fit)
{
    double t[N], v[N];
    for (size_t e = 0; e < N; e++) {
        t[e] = (0.40 + 0.6 * exp(-(double)e / 8.0)) * wiggle(e);
        v[e] = (0.50 + 0.5 * exp(-(double)e / 8.0)) * wiggle(e + 5);
    }
    regnn_history *h = make_hist(N, t, NULL, v);
    double d[REGNN_DIAG_COUNT];
    diagnose(h, 1.0, REGNN_VERDICT_GOOD_FIT, REGNN_REASON_NONE, d);
    ck_assert(d[REGNN_DIAG_RELATIVE_GAP] > 0.1 && d[REGNN_DIAG_RELATIVE_GAP] < 0.3);
    ck_assert(d[REGNN_DIAG_VAL_RISE] < 0.05);
    regnn_history_free(h);
}
END_TEST

START_TEST(test_val_rise_threshold)
{
    /* Val flat at 0.5 except a dip to m at epoch 30; the window mean stays 0.5.
     * A rise of 0.5 / m - 1 just under 10 % is not overfitting, just over it is. */
    double t[N], v[N];
    for (size_t e = 0; e < N; e++) {
        t[e] = 0.4;
        v[e] = 0.5;
    }
    /* Train is 0.44 at the dip: the gap there is small, so it has clearly widened since. */
    v[30] = 0.5 / 1.099;
    t[30] = 0.44;
    regnn_history *h = make_hist(N, t, NULL, v);
    double d[REGNN_DIAG_COUNT];
    diagnose(h, 1.0, REGNN_VERDICT_GOOD_FIT, REGNN_REASON_NONE, d);
    ck_assert_double_eq_tol(d[REGNN_DIAG_VAL_RISE], 0.099, 1e-12);
    regnn_history_free(h);
    v[30] = 0.5 / 1.101;
    h = make_hist(N, t, NULL, v);
    diagnose(h, 1.0, REGNN_VERDICT_OVERFITTING, REGNN_REASON_VAL_ROSE, d);
    ck_assert(d[REGNN_DIAG_GAP_GROWTH] > 0.1);
    regnn_history_free(h);
    /* The same rise with train rising alike (the gap does not widen) is not overfitting. */
    t[30] = 0.4 - (0.5 - v[30]);
    h = make_hist(N, t, NULL, v);
    diagnose(h, 1.0, REGNN_VERDICT_GOOD_FIT, REGNN_REASON_NONE, d);
    ck_assert(d[REGNN_DIAG_VAL_RISE] > 0.1);
    ck_assert_double_eq_tol(d[REGNN_DIAG_GAP_GROWTH], 0.0, 1e-12);
    regnn_history_free(h);
    t[30] = 0.4;
    /* The same dip inside the final window is noise, not a rise after a minimum. */
    v[30] = 0.5;
    v[N - 3] = 0.5 / 1.2;
    h = make_hist(N, t, NULL, v);
    diagnose(h, 1.0, REGNN_VERDICT_GOOD_FIT, REGNN_REASON_NONE, d);
    ck_assert_double_eq(d[REGNN_DIAG_BEST_EPOCH], N - 3);
    regnn_history_free(h);
}
END_TEST

START_TEST(test_too_short)
{
    double t[9], v[9];
    for (size_t e = 0; e < 9; e++) {
        t[e] = 1.0 - 0.1 * (double)e;
        v[e] = 1.0 - 0.05 * (double)e;
    }
    regnn_history *h = make_hist(9, t, NULL, v);
    double d[REGNN_DIAG_COUNT];
    diagnose(h, 1.0, REGNN_VERDICT_INSUFFICIENT, REGNN_REASON_TOO_SHORT, d);
    /* The descriptive values are still there. */
    ck_assert_double_eq(d[REGNN_DIAG_EPOCHS], 9);
    ck_assert_double_eq(d[REGNN_DIAG_BEST_EPOCH], 8);
    ck_assert_double_eq(d[REGNN_DIAG_FINAL_GAP], v[8] - t[8]);
    ck_assert_double_eq(d[REGNN_DIAG_WINDOW], 5);
    regnn_history_free(h);

    /* Ten epochs are enough (window 5). */
    double t10[10], v10[10];
    for (size_t e = 0; e < 10; e++) {
        t10[e] = 0.4;
        v10[e] = 0.5;
    }
    h = make_hist(10, t10, NULL, v10);
    diagnose(h, 1.0, REGNN_VERDICT_GOOD_FIT, REGNN_REASON_NONE, d);
    ck_assert_double_eq(d[REGNN_DIAG_WINDOW], 5);
    regnn_history_free(h);

    /* An empty history: every value but the count is NaN. */
    h = make_hist(0, NULL, NULL, NULL);
    diagnose(h, 1.0, REGNN_VERDICT_INSUFFICIENT, REGNN_REASON_TOO_SHORT, d);
    ck_assert_double_eq(d[REGNN_DIAG_EPOCHS], 0);
    ck_assert(isnan(d[REGNN_DIAG_BEST_EPOCH]) && isnan(d[REGNN_DIAG_FINAL_GAP]));
    regnn_history_free(h);
}
END_TEST

START_TEST(test_nan_and_no_validation)
{
    double t[N], v[N];
    for (size_t e = 0; e < N; e++) {
        t[e] = 0.05 + 0.95 * exp(-(double)e / 15.0);
        v[e] = e <= 20 ? 1.0 - 0.025 * (double)e : 0.5 + 0.00625 * (double)(e - 20);
    }
    double d[REGNN_DIAG_COUNT];
    /* A NaN validation value: insufficient, even though the curve overfits. */
    double vn[N];
    memcpy(vn, v, sizeof v);
    vn[50] = NAN;
    regnn_history *h = make_hist(N, t, NULL, vn);
    diagnose(h, 1.0, REGNN_VERDICT_INSUFFICIENT, REGNN_REASON_NOT_FINITE, d);
    ck_assert_double_eq(d[REGNN_DIAG_BEST_EPOCH], 20); /* NaN skipped */
    regnn_history_free(h);
    /* Inf in the training curve. */
    double tn[N];
    memcpy(tn, t, sizeof t);
    tn[N - 1] = INFINITY;
    h = make_hist(N, tn, NULL, v);
    diagnose(h, 1.0, REGNN_VERDICT_INSUFFICIENT, REGNN_REASON_NOT_FINITE, d);
    regnn_history_free(h);
    /* A NaN in a short history still reports NaN first. */
    h = make_hist(5, t, NULL, vn + 48);
    diagnose(h, 1.0, REGNN_VERDICT_INSUFFICIENT, REGNN_REASON_NOT_FINITE, d);
    regnn_history_free(h);
    /* No validation metric at all. */
    h = make_hist(N, t, NULL, NULL);
    diagnose(h, 1.0, REGNN_VERDICT_INSUFFICIENT, REGNN_REASON_NO_VALIDATION, d);
    ck_assert(isnan(d[REGNN_DIAG_BEST_EPOCH]));
    regnn_history_free(h);
}
END_TEST

START_TEST(test_train_metric_fallback)
{
    /* Without REGNN_FIT_EVAL_TRAIN the running train MSE is used. */
    double tr[N], v[N];
    for (size_t e = 0; e < N; e++) {
        tr[e] = 0.02 + 0.9 * exp(-(double)e / 10.0);
        v[e] = 0.55 + 0.45 * exp(-(double)e / 10.0);
    }
    regnn_history *h = make_hist(N, NULL, tr, v);
    double d[REGNN_DIAG_COUNT];
    diagnose(h, 1.0, REGNN_VERDICT_OVERFITTING, REGNN_REASON_LARGE_GAP, d);
    ck_assert_double_eq(d[REGNN_DIAG_TRAIN_METRIC], REGNN_METRIC_TRAIN_MSE);
    ck_assert_double_eq(d[REGNN_DIAG_FINAL_TRAIN_MSE], tr[N - 1]);
    regnn_history_free(h);
}
END_TEST

START_TEST(test_arguments)
{
    double t[N], v[N];
    for (size_t e = 0; e < N; e++) {
        t[e] = 0.4;
        v[e] = 0.5;
    }
    regnn_history *h = make_hist(N, t, NULL, v);
    int verdict = -1, reason = -1;
    double d[REGNN_DIAG_COUNT + 1];
    CK_STATUS(regnn_history_diagnose(NULL, 1.0, &verdict, &reason, d, REGNN_DIAG_COUNT),
              REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_history_diagnose"));
    CK_STATUS(regnn_history_diagnose(h, 1.0, NULL, &reason, d, REGNN_DIAG_COUNT),
              REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_history_diagnose(h, 1.0, &verdict, &reason, NULL, 3), REGNN_E_INVALID_ARG);
    ck_assert_int_eq(verdict, -1);
    /* Verdict alone. */
    CK_OK(regnn_history_diagnose(h, 1.0, &verdict, NULL, NULL, 0));
    ck_assert_int_eq(verdict, REGNN_VERDICT_GOOD_FIT);
    /* A short buffer gets the first len values; a longer one is not written past the count. */
    for (size_t i = 0; i <= REGNN_DIAG_COUNT; i++)
        d[i] = -7.0;
    CK_OK(regnn_history_diagnose(h, 1.0, &verdict, &reason, d, 3));
    ck_assert_double_eq(d[REGNN_DIAG_EPOCHS], N);
    ck_assert_double_eq(d[REGNN_DIAG_BEST_VAL_MSE], 0.5);
    ck_assert_double_eq(d[3], -7.0);
    CK_OK(regnn_history_diagnose(h, 1.0, &verdict, &reason, d, REGNN_DIAG_COUNT + 1));
    ck_assert_double_eq(d[REGNN_DIAG_COUNT], -7.0);
    ck_assert_double_eq(d[REGNN_DIAG_COUNT - 1], REGNN_METRIC_TRAIN_EVAL_MSE);
    regnn_history_free(h);

    ck_assert_str_eq(regnn_verdict_name(REGNN_VERDICT_INSUFFICIENT), "insufficient");
    ck_assert_str_eq(regnn_verdict_name(REGNN_VERDICT_GOOD_FIT), "good fit");
    ck_assert_str_eq(regnn_verdict_name(REGNN_VERDICT_OVERFITTING), "overfitting");
    ck_assert_str_eq(regnn_verdict_name(REGNN_VERDICT_UNDERFITTING), "underfitting");
    ck_assert_ptr_null(regnn_verdict_name(4));
    ck_assert_ptr_null(regnn_verdict_name(-1));
}
END_TEST

/* Noisy y = x0 - x1 + noise: few rows, so a wide network memorizes them. */
static regnn_dataset *noisy(size_t rows, uint64_t seed)
{
    float x[200 * 4], y[200];
    rg_rng r;
    rg_rng_seed(&r, seed);
    for (size_t i = 0; i < rows; i++) {
        for (int k = 0; k < 4; k++)
            x[i * 4 + k] = (float)(2 * rg_rng_uniform(&r) - 1);
        y[i] = (float)(x[i * 4] - x[i * 4 + 1] + 0.7 * (2 * rg_rng_uniform(&r) - 1));
    }
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, rows, 4, 1, REGNN_COPY, &ds));
    return ds;
}

static int real_verdict(double l2, int *reason)
{
    regnn_dataset *tr = noisy(40, 1), *va = noisy(200, 2);
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(4, &m));
    CK_OK(regnn_model_add_dense(m, 64, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(m, 64, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, l2));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 3));
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.01));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 300));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 8));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EVAL_TRAIN, 1));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(m, o, tr, va, fo, &h));
    /* Baseline: the variance of the validation targets around the training mean. */
    float ty[40], vy[200];
    CK_OK(regnn_dataset_get_targets(tr, ty, 40));
    CK_OK(regnn_dataset_get_targets(va, vy, 200));
    double mu = 0, base = 0;
    for (int i = 0; i < 40; i++)
        mu += ty[i] / 40.0;
    for (int i = 0; i < 200; i++)
        base += (vy[i] - mu) * (vy[i] - mu) / 200.0;
    int verdict;
    double d[REGNN_DIAG_COUNT];
    CK_OK(regnn_history_diagnose(h, base, &verdict, reason, d, REGNN_DIAG_COUNT));
    if (getenv("DIAG_DEBUG"))
        for (int i = 0; i < REGNN_DIAG_COUNT; i++)
            fprintf(stderr, "l2 %g d[%d] = %g (base %g)\n", l2, i, d[i], base);
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
    return verdict;
}

/* The README's quickstart fit (y = 3x0 - 2x1 + 1, exact): without a baseline
 * it ends near zero error relative to its start, still creeping down. */
static int quickstart_verdict(int *reason, double *d)
{
    float x[200 * 2], y[200];
    for (int i = 0; i < 200; i++) {
        x[2 * i] = (float)(i % 20) / 10.0f - 1.0f;
        x[2 * i + 1] = (float)(i / 20) / 5.0f - 1.0f;
        y[i] = 3.0f * x[2 * i] - 2.0f * x[2 * i + 1] + 1.0f;
    }
    regnn_dataset *ds = NULL;
    regnn_model *m = NULL;
    regnn_optimizer *o = NULL;
    regnn_fit_options *fo = NULL;
    regnn_history *h = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, 200, 2, 1, REGNN_COPY, &ds));
    CK_OK(regnn_model_create(2, &m));
    CK_OK(regnn_model_add_dense(m, 16, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, 1e-4));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 42));
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.01));
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 200));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.2));
    CK_OK(regnn_fit(m, o, ds, NULL, fo, &h));
    int verdict;
    CK_OK(regnn_history_diagnose(h, NAN, &verdict, reason, d, REGNN_DIAG_COUNT));
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
    return verdict;
}

START_TEST(test_real_fits)
{
    double d[REGNN_DIAG_COUNT];
    int qreason;
    ck_assert_int_eq(quickstart_verdict(&qreason, d), REGNN_VERDICT_GOOD_FIT);
    ck_assert(d[REGNN_DIAG_WINDOW_VAL_MSE] < 0.05 * d[REGNN_DIAG_REFERENCE_MSE]);
    ck_assert(d[REGNN_DIAG_VAL_TREND] < 0); /* still improving, slowly */

    int reason;
    /* 40 noisy rows, 4.5k parameters, 300 epochs: memorization. */
    ck_assert_int_eq(real_verdict(0.0, &reason), REGNN_VERDICT_OVERFITTING);
    /* An L2 so strong that the network predicts about the mean. */
    ck_assert_int_eq(real_verdict(1.0, &reason), REGNN_VERDICT_UNDERFITTING);
    ck_assert_int_eq(reason, REGNN_REASON_HIGH_ERROR);
}
END_TEST

/* ---- warnings about a split or a lambda grid ---- */

/* A dataset of n rows, one feature (the row number) and target y[i]. */
static regnn_dataset *ds_of(const float *y, size_t n)
{
    float *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)i;
    regnn_dataset *d = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, n, 1, 1, 1, &d));
    free(x);
    return d;
}

/* Targets in a fair random order: a fixed LCG's uniforms in [-1, 1]. */
static void fair_targets(float *y, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        y[i] = (float)((double)(seed >> 8) / (double)(1u << 24) * 2.0 - 1.0);
    }
}

/* The warnings of a split: count, and the code of each into codes[]. */
static size_t split_codes(const regnn_dataset *train, const regnn_dataset *val,
                          const regnn_dataset *test, double split, int64_t folds, int flags,
                          int *codes, double (*v)[REGNN_WARNVAL_COUNT])
{
    regnn_fit_options *fo = NULL;
    regnn_path_options *po = NULL;
    regnn_warnings *w = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_path_options_create(&po));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, split));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_FOLDS, folds));
    CK_OK(regnn_split_diagnose(train, val, test, fo, po, flags, &w));
    size_t n = regnn_warnings_count(w);
    for (size_t i = 0; i < n; i++) {
        CK_OK(regnn_warnings_get(w, i, &codes[i], v ? v[i] : NULL, v ? REGNN_WARNVAL_COUNT : 0));
        ck_assert_ptr_nonnull(regnn_warnings_message(w, i));
        ck_assert_ptr_nonnull(regnn_warning_name(codes[i]));
    }
    ck_assert_ptr_null(regnn_warnings_message(w, n));
    regnn_warnings_free(w);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    return n;
}

START_TEST(test_split_fair)
{
    float y[400];
    fair_targets(y, 400, 7);
    regnn_dataset *train = ds_of(y, 200), *test = ds_of(y + 200, 200);
    int codes[8];
    /* 200 rows, split 0.15: 30 validation rows, in random order. */
    ck_assert_uint_eq(split_codes(train, NULL, test, 0.15, 0, 0, codes, NULL), 0);
    ck_assert_uint_eq(split_codes(train, NULL, NULL, 0.0, 5, 0, codes, NULL), 0);
    ck_assert_uint_eq(split_codes(train, test, NULL, 0.0, 0, 0, codes, NULL), 0);
    regnn_dataset_free(train);
    regnn_dataset_free(test);
}
END_TEST

START_TEST(test_split_few_rows)
{
    float y[120];
    fair_targets(y, 120, 3);
    regnn_dataset *train = ds_of(y, 60), *v30 = ds_of(y + 60, 30), *v29 = ds_of(y + 60, 29);
    int codes[8];
    double v[8][REGNN_WARNVAL_COUNT];
    ck_assert_uint_eq(split_codes(train, v30, NULL, 0.0, 0, 0, codes, v), 0);
    ck_assert_uint_eq(split_codes(train, v29, NULL, 0.0, 0, 0, codes, v), 1);
    ck_assert_int_eq(codes[0], REGNN_WARN_FEW_VALIDATION_ROWS);
    ck_assert(v[0][REGNN_WARNVAL_ROWS] == 29 && v[0][REGNN_WARNVAL_THRESHOLD] == 30);
    ck_assert(isnan(v[0][REGNN_WARNVAL_TARGET]));
    regnn_dataset *t90 = ds_of(y, 90), *t89 = ds_of(y, 89);
    /* 3 folds of 90 rows: 30 each; of 89: the smallest 29. */
    ck_assert_uint_eq(split_codes(t90, NULL, NULL, 0.0, 3, 0, codes, v), 0);
    ck_assert_uint_eq(split_codes(t89, NULL, NULL, 0.0, 3, 0, codes, v), 1);
    ck_assert_int_eq(codes[0], REGNN_WARN_FEW_FOLD_ROWS);
    ck_assert(v[0][REGNN_WARNVAL_ROWS] == 29);
    /* No validation at all: nothing to count. */
    ck_assert_uint_eq(split_codes(t89, NULL, NULL, 0.0, 0, 0, codes, v), 0);
    regnn_dataset_free(train);
    regnn_dataset_free(v30);
    regnn_dataset_free(v29);
    regnn_dataset_free(t90);
    regnn_dataset_free(t89);
}
END_TEST

START_TEST(test_split_constant)
{
    /* Training targets +-1000 (sd 1000); validation and test +-a (sd a): a
     * warning when a <= 1e-3 x 1000 = 1. */
    float ty[100], at[40], above[40], zero[40];
    for (size_t i = 0; i < 100; i++)
        ty[i] = i % 2 ? 1000.0f : -1000.0f;
    for (size_t i = 0; i < 40; i++) {
        at[i] = i % 2 ? 1.0f : -1.0f;
        above[i] = i % 2 ? 1.001f : -1.001f;
        zero[i] = 5.0f;
    }
    regnn_dataset *train = ds_of(ty, 100), *v_at = ds_of(at, 40), *v_above = ds_of(above, 40),
                  *v_zero = ds_of(zero, 40);
    int codes[8];
    double v[8][REGNN_WARNVAL_COUNT];
    ck_assert_uint_eq(split_codes(train, v_above, v_above, 0.0, 0, 0, codes, v), 0);
    ck_assert_uint_eq(split_codes(train, v_at, NULL, 0.0, 0, 0, codes, v), 1);
    ck_assert_int_eq(codes[0], REGNN_WARN_CONSTANT_VALIDATION);
    ck_assert(v[0][REGNN_WARNVAL_VALUE] == 1.0 && v[0][REGNN_WARNVAL_REFERENCE] == 1000.0 &&
              v[0][REGNN_WARNVAL_TARGET] == 0 && v[0][REGNN_WARNVAL_ROWS] == 40);
    ck_assert_uint_eq(split_codes(train, v_above, v_at, 0.0, 0, 0, codes, v), 1);
    ck_assert_int_eq(codes[0], REGNN_WARN_CONSTANT_TEST);
    /* A constant validation part: its mean 5 is far from the training mean 0
     * in standard errors? No: 5 / (1000 sqrt(1/40 + 1/100)) is 0.03. */
    ck_assert_uint_eq(split_codes(train, v_zero, NULL, 0.0, 0, 0, codes, v), 1);
    ck_assert_int_eq(codes[0], REGNN_WARN_CONSTANT_VALIDATION);
    ck_assert(v[0][REGNN_WARNVAL_VALUE] == 0.0);
    regnn_dataset_free(train);
    regnn_dataset_free(v_at);
    regnn_dataset_free(v_above);
    regnn_dataset_free(v_zero);
}
END_TEST

/* Largest |z| of the two row-order tests, computed here independently. */
static double order_z(const float *y, size_t n, size_t n_fit)
{
    double m = 0, mf = 0, mv = 0, q = 0, sxy = 0, sxx = 0;
    for (size_t i = 0; i < n; i++) {
        m += y[i];
        if (i < n_fit)
            mf += y[i];
        else
            mv += y[i];
    }
    m /= (double)n;
    mf /= (double)n_fit;
    mv /= (double)(n - n_fit);
    for (size_t i = 0; i < n; i++) {
        double dx = (double)i - 0.5 * (double)(n - 1);
        q += (y[i] - m) * (y[i] - m);
        sxy += dx * (y[i] - m);
        sxx += dx * dx;
    }
    double sd = sqrt(q / (double)n);
    double zt = (mv - mf) / (sd * sqrt(1.0 / (double)(n - n_fit) + 1.0 / (double)n_fit));
    double r = sxy / (sqrt(sxx) * sd * sqrt((double)n));
    double zr = r * sqrt((double)(n - 1));
    return fabs(zt) > fabs(zr) ? fabs(zt) : fabs(zr);
}

START_TEST(test_split_row_order)
{
    /* Fair targets with the validation tail shifted by c: the warning comes
     * exactly when the larger |z| passes 4; c sweeps across that boundary. */
    enum { NR = 200 };
    float base[NR], y[NR];
    fair_targets(base, NR, 11);
    int below = 0, above = 0;
    for (int step = 0; step < 400; step++) {
        double c = 0.2 + 0.002 * step;
        for (size_t i = 0; i < NR; i++)
            y[i] = base[i] + (i >= 170 ? (float)c : 0.0f);
        regnn_dataset *d = ds_of(y, NR);
        int codes[8];
        double v[8][REGNN_WARNVAL_COUNT];
        size_t n = split_codes(d, NULL, NULL, 0.15, 0, 0, codes, v);
        double z = order_z(y, NR, 170);
        if (z > 4.0) {
            ck_assert_msg(n == 1 && codes[0] == REGNN_WARN_ROW_ORDER, "z %g: no warning", z);
            ck_assert(fabs(v[0][REGNN_WARNVAL_VALUE] - z) < 1e-9 * z);
            ck_assert(v[0][REGNN_WARNVAL_THRESHOLD] == 4.0);
            above += z < 4.02;
        } else {
            ck_assert_msg(n == 0, "z %g: a warning", z);
            below += z > 3.98;
        }
        /* Shuffled rows: never. */
        ck_assert_uint_eq(split_codes(d, NULL, NULL, 0.15, 0, REGNN_SPLIT_SHUFFLED, codes, v), 0);
        regnn_dataset_free(d);
    }
    ck_assert_msg(below > 0 && above > 0, "the sweep missed the boundary (%d, %d)", below, above);

    /* Sorted targets: a strong trend, named in the message. */
    for (size_t i = 0; i < NR; i++)
        y[i] = (float)i;
    regnn_dataset *d = ds_of(y, NR);
    regnn_fit_options *fo = NULL;
    regnn_warnings *w = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.15));
    CK_OK(regnn_split_diagnose(d, NULL, NULL, fo, NULL, 0, &w));
    ck_assert_uint_eq(regnn_warnings_count(w), 1);
    ck_assert_ptr_nonnull(strstr(regnn_warnings_message(w, 0), "trends with the row order"));
    ck_assert_str_eq(regnn_warning_name(REGNN_WARN_ROW_ORDER), "row_order");
    regnn_warnings_free(w);
    regnn_fit_options_free(fo);
    regnn_dataset_free(d);
}
END_TEST

START_TEST(test_split_arguments)
{
    float y[100];
    fair_targets(y, 100, 5);
    regnn_dataset *d = ds_of(y, 100), *v = ds_of(y, 40);
    regnn_fit_options *fo = NULL;
    regnn_path_options *po = NULL;
    regnn_warnings *w = (regnn_warnings *)&w;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_path_options_create(&po));
    ck_assert_int_eq(regnn_split_diagnose(NULL, NULL, NULL, NULL, NULL, 0, &w), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(w);
    ck_assert_int_eq(regnn_split_diagnose(d, NULL, NULL, NULL, NULL, 0, NULL), REGNN_E_INVALID_ARG);
    ck_assert_int_eq(regnn_split_diagnose(d, NULL, NULL, NULL, NULL, 2, &w), REGNN_E_UNSUPPORTED);
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.2));
    ck_assert_int_eq(regnn_split_diagnose(d, v, NULL, fo, NULL, 0, &w), REGNN_E_INVALID_ARG);
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_FOLDS, 3));
    ck_assert_int_eq(regnn_split_diagnose(d, NULL, NULL, fo, po, 0, &w), REGNN_E_INVALID_ARG);
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.999));
    ck_assert_int_eq(regnn_split_diagnose(d, NULL, NULL, fo, NULL, 0, &w), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "leaves an empty"));
    ck_assert_uint_eq(regnn_warnings_count(NULL), 0);
    ck_assert_ptr_null(regnn_warnings_message(NULL, 0));
    ck_assert_int_eq(regnn_warnings_get(NULL, 0, NULL, NULL, 0), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(regnn_warning_name(0));
    ck_assert_ptr_null(regnn_warning_name(7));
    CK_OK(regnn_split_diagnose(d, NULL, NULL, NULL, NULL, 0, &w));
    ck_assert_int_eq(regnn_warnings_get(w, 0, NULL, NULL, 0), REGNN_E_INVALID_ARG);
    regnn_warnings_free(w);
    regnn_warnings_free(NULL);
    ck_assert_int_eq(regnn_path_diagnose(NULL, &w), REGNN_E_INVALID_ARG);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_dataset_free(d);
    regnn_dataset_free(v);
}
END_TEST

/* A whole path of three lambdas, one seed, baseline 2, with the given mean
 * final training MSEs (NaN: a diverged run). */
static regnn_path *fake_path(const double *ft)
{
    regnn_path *p = rg_calloc(1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    p->n_lambdas = 3;
    p->n_seeds = 1;
    p->n_folds = 1;
    p->shard_count = 1;
    p->baseline = 2.0;
    p->lambdas = rg_malloc(3 * sizeof *p->lambdas);
    p->hist = rg_calloc(3, sizeof *p->hist);
    p->runv = rg_calloc(3 * RG_RUN_N, sizeof *p->runv);
    ck_assert(p->lambdas && p->hist && p->runv);
    const double lam[3] = {0.5, 0.1, 3.0};
    for (size_t i = 0; i < 3; i++) {
        p->lambdas[i] = lam[i];
        p->runv[i * RG_RUN_N + REGNN_RUN_FINAL_TRAIN_MSE - 1] = ft[i];
        p->runv[i * RG_RUN_N + REGNN_RUN_DIVERGED - 1] = isnan(ft[i]);
    }
    return p;
}

START_TEST(test_path_grid)
{
    /* 0.95 x baseline 2 = 1.9: every lambda at or above it warns. */
    const double at[3] = {1.9, 2.1, 1.95}, below[3] = {1.9, 1.8999, 2.5},
                 diverged[3] = {1.9, NAN, 2.0};
    regnn_warnings *w = NULL;
    regnn_path *p = fake_path(at);
    CK_OK(regnn_path_diagnose(p, &w));
    ck_assert_uint_eq(regnn_warnings_count(w), 1);
    int code = 0;
    double v[REGNN_WARNVAL_COUNT];
    CK_OK(regnn_warnings_get(w, 0, &code, v, REGNN_WARNVAL_COUNT));
    ck_assert_int_eq(code, REGNN_WARN_CONSTANT_GRID);
    ck_assert(v[REGNN_WARNVAL_VALUE] == 1.9 / 2.0 && v[REGNN_WARNVAL_THRESHOLD] == 0.95 &&
              v[REGNN_WARNVAL_REFERENCE] == 2.0 && v[REGNN_WARNVAL_LAMBDA] == 0.1);
    ck_assert_ptr_nonnull(strstr(regnn_warnings_message(w, 0), "try lambdas below 0.1"));
    regnn_warnings_free(w);
    regnn_path_free(p);
    p = fake_path(below);
    CK_OK(regnn_path_diagnose(p, &w));
    ck_assert_uint_eq(regnn_warnings_count(w), 0);
    regnn_warnings_free(w);
    regnn_path_free(p);
    p = fake_path(diverged);
    CK_OK(regnn_path_diagnose(p, &w));
    ck_assert_uint_eq(regnn_warnings_count(w), 0);
    regnn_warnings_free(w);
    regnn_path_free(p);
}
END_TEST

static Suite *diagnose_suite(void)
{
    Suite *s = suite_create("diagnose");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_overfitting_val_rose);
    tcase_add_test(tc, test_overfitting_large_gap);
    tcase_add_test(tc, test_underfitting_high_error);
    tcase_add_test(tc, test_underfitting_still_improving);
    tcase_add_test(tc, test_good_fit);
    tcase_add_test(tc, test_near_perfect_fit);
    tcase_add_test(tc, test_still_improving_near_zero);
    tcase_add_test(tc, test_val_rise_threshold);
    tcase_add_test(tc, test_too_short);
    tcase_add_test(tc, test_nan_and_no_validation);
    tcase_add_test(tc, test_train_metric_fallback);
    tcase_add_test(tc, test_arguments);
    tcase_add_test(tc, test_split_fair);
    tcase_add_test(tc, test_split_few_rows);
    tcase_add_test(tc, test_split_constant);
    tcase_add_test(tc, test_split_row_order);
    tcase_add_test(tc, test_split_arguments);
    tcase_add_test(tc, test_path_grid);
    suite_add_tcase(s, tc);
    TCase *tl = rg_tcase_long(s, 60);
    tcase_add_test(tl, test_real_fits);
    return s;
}

RG_TEST_MAIN(diagnose_suite)
