/* SPDX-License-Identifier: MIT */
/* Diagnosis of a training history: overfitting, underfitting or a good fit,
 * by the rule of docs/diagnosis.md. Reads the history only; never allocates,
 * so it can run inside an epoch callback. (The warnings about a split or a
 * lambda grid are src/path/warnings.c.) */
#include "train.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Thresholds of the rule (docs/diagnosis.md). All are relative, so the rule
 * does not depend on the units of the target. */
#define RG_DIAG_MIN_EPOCHS 10   /* fewer epochs: not enough to say */
#define RG_DIAG_MIN_WINDOW 5    /* the final window is max(5, floor(n / 5)) epochs */
#define RG_DIAG_VAL_RISE 0.10   /* window val MSE 10 % above its minimum ... */
#define RG_DIAG_GAP_GROWTH 0.10 /* ... and the gap 10 % of that minimum wider: overfitting */
#define RG_DIAG_REL_GAP 0.50    /* (val - train) / val of the window: overfitting ... */
#define RG_DIAG_GAP_CLOSING -0.05 /* ... unless the gap closes by 5 % of val across the window */
#define RG_DIAG_HIGH_ERROR 0.80 /* train MSE >= 80 % of the reference: underfitting */
#define RG_DIAG_IMPROVING -0.05 /* val and train both fell by 5 % across the window ... */
/* ... while the window's val MSE is still >= 5 % of the reference MSE S. A fit
 * whose val MSE is below 0.05 S (R^2 > 0.95 against the mean when S is the
 * baseline) has little left to gain, so a curve still creeping down near zero
 * is a good fit, not underfitting: relative changes of tiny errors are large. */
#define RG_DIAG_NEAR_ZERO 0.05

/* Least-squares slope of v[0..k) against 0..k-1, per epoch. */
static double slope(const double *v, const double *w, size_t k)
{
    double xm = 0.5 * (double)(k - 1), ym = 0.0;
    for (size_t i = 0; i < k; i++)
        ym += w ? v[i] - w[i] : v[i];
    ym /= (double)k;
    double sxy = 0.0, sxx = 0.0;
    for (size_t i = 0; i < k; i++) {
        double dx = (double)i - xm, y = w ? v[i] - w[i] : v[i];
        sxy += dx * (y - ym);
        sxx += dx * dx;
    }
    return sxx > 0.0 ? sxy / sxx : 0.0;
}

static double mean(const double *v, size_t k)
{
    double s = 0.0;
    for (size_t i = 0; i < k; i++)
        s += v[i];
    return s / (double)k;
}

static int all_nan(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            return 0;
    return 1;
}

/* Largest of the finite values among a, b, c; NaN if none is finite. */
static double max_finite(double a, double b, double c)
{
    double m = NAN;
    const double v[3] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (isfinite(v[i]) && !(m >= v[i]))
            m = v[i];
    return m;
}

static int all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

regnn_status regnn_history_diagnose(const regnn_history *h, double baseline_mse, int *verdict,
                                    int *reason, double *values, size_t len)
{
    if (!h || !verdict)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_history_diagnose: history and verdict are required");
    if (!values && len > 0)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_history_diagnose: values is NULL but len is %zu",
                        len);
    double d[REGNN_DIAG_COUNT];
    for (size_t i = 0; i < REGNN_DIAG_COUNT; i++)
        d[i] = NAN;
    const size_t n = h->epochs;
    const double *V = h->v[REGNN_METRIC_VAL_MSE - 1];
    /* The end-of-epoch train MSE (no dropout, final weights of the epoch) is
     * comparable with the validation MSE; the running mean is the fallback. */
    int train_key = REGNN_METRIC_TRAIN_EVAL_MSE;
    if (all_nan(h->v[REGNN_METRIC_TRAIN_EVAL_MSE - 1], n))
        train_key = REGNN_METRIC_TRAIN_MSE;
    const double *T = h->v[train_key - 1];
    d[REGNN_DIAG_EPOCHS] = (double)n;
    d[REGNN_DIAG_TRAIN_METRIC] = (double)train_key;

    int v = REGNN_VERDICT_INSUFFICIENT, why;
    if (n == 0) {
        why = REGNN_REASON_TOO_SHORT;
        goto out;
    }
    if (all_nan(V, n)) {
        why = REGNN_REASON_NO_VALIDATION;
        goto out;
    }
    /* Descriptive values; a NaN anywhere makes the verdict "insufficient" below. */
    size_t b = n;
    for (size_t e = 0; e < n; e++)
        if (!isnan(V[e]) && (b == n || V[e] < V[b]))
            b = e;
    d[REGNN_DIAG_BEST_EPOCH] = (double)b;
    d[REGNN_DIAG_BEST_VAL_MSE] = V[b];
    d[REGNN_DIAG_TRAIN_MSE_AT_BEST] = T[b];
    d[REGNN_DIAG_GAP_AT_BEST] = V[b] - T[b];
    d[REGNN_DIAG_FINAL_VAL_MSE] = V[n - 1];
    d[REGNN_DIAG_FINAL_TRAIN_MSE] = T[n - 1];
    d[REGNN_DIAG_FINAL_GAP] = V[n - 1] - T[n - 1];

    size_t k = n / 5 > RG_DIAG_MIN_WINDOW ? n / 5 : RG_DIAG_MIN_WINDOW;
    if (k > n)
        k = n;
    const double *Vw = V + (n - k), *Tw = T + (n - k);
    const double vw = mean(Vw, k), tw = mean(Tw, k);
    d[REGNN_DIAG_WINDOW] = (double)k;
    d[REGNN_DIAG_WINDOW_VAL_MSE] = vw;
    d[REGNN_DIAG_WINDOW_TRAIN_MSE] = tw;
    d[REGNN_DIAG_RELATIVE_GAP] = vw > 0.0 ? (vw - tw) / vw : 0.0;
    d[REGNN_DIAG_VAL_RISE] = V[b] > 0.0 ? (vw - V[b]) / V[b] : 0.0;
    d[REGNN_DIAG_GAP_GROWTH] = V[b] > 0.0 ? ((vw - tw) - (V[b] - T[b])) / V[b] : 0.0;
    d[REGNN_DIAG_VAL_TREND] = slope(Vw, NULL, k);
    d[REGNN_DIAG_TRAIN_TREND] = slope(Tw, NULL, k);
    d[REGNN_DIAG_GAP_TREND] = slope(Vw, Tw, k);
    /* The scale "high" and "near zero" are measured against: the caller's
     * baseline (the MSE of predicting the mean), else the largest error of the
     * first epoch. The running batch MSE of epoch 0 includes the error at
     * initialization, so a fit that converged within its first epoch still
     * gets the scale of its starting error rather than of its converged one. */
    double ref = isfinite(baseline_mse) && baseline_mse > 0.0
                     ? baseline_mse
                     : max_finite(V[0], T[0], h->v[REGNN_METRIC_TRAIN_MSE - 1][0]);
    d[REGNN_DIAG_REFERENCE_MSE] = ref;
    d[REGNN_DIAG_TRAIN_LEVEL] = ref > 0.0 ? tw / ref : NAN;

    if (!all_finite(V, n) || !all_finite(T, n)) {
        why = REGNN_REASON_NOT_FINITE;
        goto out;
    }
    if (n < RG_DIAG_MIN_EPOCHS) {
        why = REGNN_REASON_TOO_SHORT;
        goto out;
    }
    /* Changes across the window relative to the window's val MSE. */
    const double span = (double)(k - 1);
    const double scale = vw > 0.0 ? vw : 1.0;
    const double gap_change = d[REGNN_DIAG_GAP_TREND] * span / scale;
    const double val_change = d[REGNN_DIAG_VAL_TREND] * span / scale;
    const double train_change = d[REGNN_DIAG_TRAIN_TREND] * span / (tw > 0.0 ? tw : 1.0);
    /* A rise of val with train rising alike (e.g. a penalty pulling both up
     * after the first epochs) is not overfitting: the gap must widen too. */
    if (d[REGNN_DIAG_VAL_RISE] >= RG_DIAG_VAL_RISE && b < n - k &&
        d[REGNN_DIAG_GAP_GROWTH] >= RG_DIAG_GAP_GROWTH) {
        v = REGNN_VERDICT_OVERFITTING;
        why = REGNN_REASON_VAL_ROSE;
    } else if (d[REGNN_DIAG_RELATIVE_GAP] >= RG_DIAG_REL_GAP && gap_change > RG_DIAG_GAP_CLOSING) {
        v = REGNN_VERDICT_OVERFITTING;
        why = REGNN_REASON_LARGE_GAP;
    } else if (ref > 0.0 && tw >= RG_DIAG_HIGH_ERROR * ref) {
        v = REGNN_VERDICT_UNDERFITTING;
        why = REGNN_REASON_HIGH_ERROR;
    } else if (val_change <= RG_DIAG_IMPROVING && train_change <= RG_DIAG_IMPROVING &&
               vw >= RG_DIAG_NEAR_ZERO * ref) {
        v = REGNN_VERDICT_UNDERFITTING;
        why = REGNN_REASON_STILL_IMPROVING;
    } else {
        v = REGNN_VERDICT_GOOD_FIT;
        why = REGNN_REASON_NONE;
    }
out:
    *verdict = v;
    if (reason)
        *reason = why;
    if (len > 0)
        memcpy(values, d, (len < REGNN_DIAG_COUNT ? len : REGNN_DIAG_COUNT) * sizeof *values);
    return REGNN_OK;
}

const char *regnn_verdict_name(int verdict)
{
    switch (verdict) {
    case REGNN_VERDICT_INSUFFICIENT: return "insufficient";
    case REGNN_VERDICT_GOOD_FIT: return "good fit";
    case REGNN_VERDICT_OVERFITTING: return "overfitting";
    case REGNN_VERDICT_UNDERFITTING: return "underfitting";
    default: return NULL;
    }
}
