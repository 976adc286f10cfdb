/* Diagnosis of training histories: each verdict and reason of the rule in
 * docs/diagnosis.md on constructed histories, the values reported, the
 * insufficient cases (too short, no validation, NaN/Inf), arguments, and two
 * real fits. */
#include "testutil.h"

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
    tcase_add_test(tc, test_real_fits);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(diagnose_suite)
