/* SPDX-License-Identifier: MIT */
/* Diagnosis of a training history: overfitting, underfitting or a good fit,
 * by the rule of docs/diagnosis.md. Reads the history only; never allocates,
 * so it can run inside an epoch callback. Then the warnings about a split
 * whose results cannot be trusted (same page; a lambda grid's are in
 * src/path/path_diagnose.c). */
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

/* The train metric the rule compares with the validation MSE: the
 * end-of-epoch train MSE (no dropout, final weights of the epoch), else the
 * running mean. */
static int train_metric(const regnn_history *h)
{
    if (all_nan(rg_history_metric(h, REGNN_METRIC_TRAIN_EVAL_MSE), regnn_history_epochs(h)))
        return REGNN_METRIC_TRAIN_MSE;
    return REGNN_METRIC_TRAIN_EVAL_MSE;
}

/* The epoch of the lowest validation MSE (NaN skipped; V not all NaN). */
static size_t best_epoch(const double *V, size_t n)
{
    size_t b = n;
    for (size_t e = 0; e < n; e++)
        if (!isnan(V[e]) && (b == n || V[e] < V[b]))
            b = e;
    return b;
}

/* The descriptive values of the n >= 1 epochs of V and T (a NaN anywhere
 * makes the verdict "insufficient" later) into d; *b_out is the best epoch
 * and *k_out the final window's length. */
static void describe(const regnn_history *h, const double *V, const double *T,
                     double baseline_mse, double *d, size_t *b_out, size_t *k_out)
{
    const size_t n = regnn_history_epochs(h), b = best_epoch(V, n);
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
                     : max_finite(V[0], T[0], rg_history_metric(h, REGNN_METRIC_TRAIN_MSE)[0]);
    d[REGNN_DIAG_REFERENCE_MSE] = ref;
    d[REGNN_DIAG_TRAIN_LEVEL] = ref > 0.0 ? tw / ref : NAN;
    *b_out = b;
    *k_out = k;
}

/* The verdict on finite curves of n >= RG_DIAG_MIN_EPOCHS epochs from their
 * values d (best epoch b, window k); *why gets the reason. */
static int judge(const double *d, size_t n, size_t b, size_t k, int *why)
{
    const double vw = d[REGNN_DIAG_WINDOW_VAL_MSE], tw = d[REGNN_DIAG_WINDOW_TRAIN_MSE];
    const double ref = d[REGNN_DIAG_REFERENCE_MSE];
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
        *why = REGNN_REASON_VAL_ROSE;
        return REGNN_VERDICT_OVERFITTING;
    }
    if (d[REGNN_DIAG_RELATIVE_GAP] >= RG_DIAG_REL_GAP && gap_change > RG_DIAG_GAP_CLOSING) {
        *why = REGNN_REASON_LARGE_GAP;
        return REGNN_VERDICT_OVERFITTING;
    }
    if (ref > 0.0 && tw >= RG_DIAG_HIGH_ERROR * ref) {
        *why = REGNN_REASON_HIGH_ERROR;
        return REGNN_VERDICT_UNDERFITTING;
    }
    if (val_change <= RG_DIAG_IMPROVING && train_change <= RG_DIAG_IMPROVING &&
        vw >= RG_DIAG_NEAR_ZERO * ref) {
        *why = REGNN_REASON_STILL_IMPROVING;
        return REGNN_VERDICT_UNDERFITTING;
    }
    *why = REGNN_REASON_NONE;
    return REGNN_VERDICT_GOOD_FIT;
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
    const size_t n = regnn_history_epochs(h);
    const int train_key = train_metric(h);
    const double *V = rg_history_metric(h, REGNN_METRIC_VAL_MSE);
    const double *T = rg_history_metric(h, train_key);
    d[REGNN_DIAG_EPOCHS] = (double)n;
    d[REGNN_DIAG_TRAIN_METRIC] = (double)train_key;

    int v = REGNN_VERDICT_INSUFFICIENT, why;
    if (n == 0) {
        why = REGNN_REASON_TOO_SHORT;
    } else if (all_nan(V, n)) {
        why = REGNN_REASON_NO_VALIDATION;
    } else {
        size_t b, k;
        describe(h, V, T, baseline_mse, d, &b, &k);
        if (!all_finite(V, n) || !all_finite(T, n))
            why = REGNN_REASON_NOT_FINITE;
        else if (n < RG_DIAG_MIN_EPOCHS)
            why = REGNN_REASON_TOO_SHORT;
        else
            v = judge(d, n, b, k, &why);
    }
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

/* ---- Warnings about a split or a lambda grid (docs/diagnosis.md) ---- */

#define RG_WARN_FEW_ROWS 30     /* fewer validation (fold) rows: their MSE is noise */
#define RG_WARN_CONSTANT_SD 1e-3 /* part sd at most this fraction of the training sd */
#define RG_WARN_ORDER_Z 4.0     /* |z| of a row-order effect (about 6e-5 by chance) */

typedef struct {
    int code;
    double v[REGNN_WARNVAL_COUNT];
    char *msg;
} rg_warning;

struct regnn_warnings {
    size_t n, cap;
    rg_warning *w;
};

regnn_warnings *rg_warnings_new(size_t cap)
{
    regnn_warnings *w = rg_calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->cap = cap;
    if (cap > 0 && !(w->w = rg_calloc(cap, sizeof *w->w))) {
        rg_free(w);
        return NULL;
    }
    return w;
}

void regnn_warnings_free(regnn_warnings *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        rg_free(w->w[i].msg);
    rg_free(w->w);
    rg_free(w);
}

regnn_status rg_warnings_add(regnn_warnings *w, int code, const double *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = len >= 0 ? rg_malloc((size_t)len + 1) : NULL;
    if (!msg)
        return REGNN_E_NOMEM;
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)len + 1, fmt, ap);
    va_end(ap);
    rg_warning *e = &w->w[w->n++];
    e->code = code;
    e->msg = msg;
    memcpy(e->v, v, sizeof e->v);
    return REGNN_OK;
}

void rg_warnings_nan(double *v)
{
    for (size_t i = 0; i < REGNN_WARNVAL_COUNT; i++)
        v[i] = NAN;
}

/* The values of a warning about target t over n rows: value against
 * threshold, the others NaN but those the caller sets. */
static void target_values(double *v, size_t t, size_t n, double value, double threshold)
{
    rg_warnings_nan(v);
    v[REGNN_WARNVAL_TARGET] = (double)t;
    v[REGNN_WARNVAL_ROWS] = (double)n;
    v[REGNN_WARNVAL_VALUE] = value;
    v[REGNN_WARNVAL_THRESHOLD] = threshold;
}

/* Mean and population sd of column t of the n rows of y (nt columns). */
static void moments(const float *y, size_t n, size_t nt, size_t t, double *m, double *sd)
{
    double s = 0.0, q = 0.0;
    for (size_t i = 0; i < n; i++)
        s += y[i * nt + t];
    s = n ? s / (double)n : NAN;
    for (size_t i = 0; i < n; i++)
        q += ((double)y[i * nt + t] - s) * ((double)y[i * nt + t] - s);
    *m = s;
    *sd = n ? sqrt(q / (double)n) : NAN;
}

/* A (nearly) constant target over the n rows of y (part "validation"/"test"). */
static regnn_status check_constant(regnn_warnings *w, int code, const char *part, const float *y,
                                   size_t n, size_t nt, size_t t, double ref_sd, const char *name)
{
    double m, sd;
    moments(y, n, nt, t, &m, &sd);
    if (n == 0 || sd > RG_WARN_CONSTANT_SD * ref_sd)
        return REGNN_OK;
    double v[REGNN_WARNVAL_COUNT];
    target_values(v, t, n, sd, RG_WARN_CONSTANT_SD);
    v[REGNN_WARNVAL_REFERENCE] = ref_sd;
    return rg_warnings_add(w, code, v,
               "the %zu %s rows' target %s is %s (sd %.3g against %.3g in all training rows): "
               "their MSE and any diagnosis on them mean little",
               n, part, name, sd == 0.0 ? "constant" : "nearly constant", sd, ref_sd);
}

/* Row order of target t over the rows of ty (n_fit training rows) followed by
 * the n_val rows of vy: the validation rows' mean against the training rows'
 * (a two-sample z) and the correlation with the row number (z = r sqrt(n - 1)
 * under a random order). */
static regnn_status check_order(regnn_warnings *w, const float *ty, size_t n_fit, const float *vy,
                                size_t n_val, size_t nt, size_t t, const char *name)
{
    const size_t n = n_fit + n_val;
    double m_fit, sd_fit, m_val, sd_val, q = 0.0;
    moments(ty, n_fit, nt, t, &m_fit, &sd_fit);
    moments(vy, n_val, nt, t, &m_val, &sd_val);
    const double m_all = (m_fit * (double)n_fit + m_val * (double)n_val) / (double)n;
    for (size_t i = 0; i < n; i++) {
        double y = i < n_fit ? ty[i * nt + t] : vy[(i - n_fit) * nt + t];
        q += (y - m_all) * (y - m_all);
    }
    const double sd_all = sqrt(q / (double)n);
    if (!(sd_all > 0.0))
        return REGNN_OK;
    double sxy = 0.0, sxx = 0.0, xm = 0.5 * (double)(n - 1);
    for (size_t i = 0; i < n; i++) {
        double y = i < n_fit ? ty[i * nt + t] : vy[(i - n_fit) * nt + t];
        sxy += ((double)i - xm) * (y - m_all);
        sxx += ((double)i - xm) * ((double)i - xm);
    }
    const double z_tail =
        (m_val - m_fit) / (sd_all * sqrt(1.0 / (double)n_val + 1.0 / (double)n_fit));
    const double r = sxy / (sqrt(sxx) * sd_all * sqrt((double)n));
    const double z_trend = r * sqrt((double)(n - 1));
    const double z = fabs(z_tail) > fabs(z_trend) ? fabs(z_tail) : fabs(z_trend);
    if (!(z > RG_WARN_ORDER_Z))
        return REGNN_OK;
    double v[REGNN_WARNVAL_COUNT];
    target_values(v, t, n, z, RG_WARN_ORDER_Z);
    v[REGNN_WARNVAL_CORRELATION] = r;
    v[REGNN_WARNVAL_TAIL_Z] = z_tail;
    return rg_warnings_add(w, REGNN_WARN_ROW_ORDER, v,
               "target %s trends with the row order (correlation with the row number %.2f; the "
               "validation rows' mean is %.3g standard errors from the training rows'): the rows "
               "look sorted or grouped, so the %zu validation rows are not a fair validation set",
               name, r, z_tail, n_val);
}

/* The validation rows regnn_fit / regnn_regularization_path would use:
 * *n_fit training rows of train, then n_val rows at *vy; or k >= 2 folds. */
static regnn_status split_of(const char *fn, const regnn_dataset *train, const regnn_dataset *val,
                             const regnn_fit_options *fo, const regnn_path_options *po,
                             size_t *n_fit, const float **vy, size_t *n_val, size_t *k)
{
    const rg_rows tr = rg_dataset_view(train);
    double split = 0.0;
    int64_t folds = 0;
    if (fo && regnn_fit_options_get_double(fo, REGNN_FIT_VALIDATION_SPLIT, &split) != REGNN_OK)
        return REGNN_E_INTERNAL;
    if (po && regnn_path_options_get_int(po, REGNN_PATH_FOLDS, &folds) != REGNN_OK)
        return REGNN_E_INTERNAL;
    *n_fit = tr.rows;
    *vy = NULL;
    *n_val = 0;
    *k = folds >= 2 ? (size_t)folds : 1;
    if ((val || split > 0.0) && *k > 1)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: REGNN_PATH_FOLDS %zu validates on the held-out folds; give no "
                        "validation data and no REGNN_FIT_VALIDATION_SPLIT with it", fn, *k);
    if (val && split > 0.0)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: give either validation data or REGNN_FIT_VALIDATION_SPLIT, not both", fn);
    if (*k > tr.rows)
        return rg_error(REGNN_E_INVALID_ARG, "%s: REGNN_PATH_FOLDS %zu is more than the %zu "
                        "training rows", fn, *k, tr.rows);
    if (val) {
        *vy = rg_dataset_view(val).y;
        *n_val = rg_dataset_view(val).rows;
    } else if (split > 0.0) {
        size_t at = rg_tail_split_at(tr.rows, split);
        if (at == 0 || at >= tr.rows)
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: validation split %g of %zu rows leaves an empty training or "
                            "validation part", fn, split, tr.rows);
        *n_fit = at;
        *vy = tr.y + at * tr.n_y;
        *n_val = tr.rows - at;
    }
    return REGNN_OK;
}

static regnn_status split_checks(regnn_warnings *w, const regnn_dataset *train,
                                 const regnn_dataset *test, size_t n_fit, const float *vy,
                                 size_t n_val, size_t k, int flags)
{
    const rg_rows tr = rg_dataset_view(train);
    const size_t nt = tr.n_y;
    double v[REGNN_WARNVAL_COUNT];
    regnn_status st = REGNN_OK;
    /* The smallest of k folds of n rows has floor(n / k) (src/path.c). */
    const size_t few = k > 1 ? tr.rows / k : n_val;
    if ((k > 1 || n_val > 0) && few < RG_WARN_FEW_ROWS) {
        rg_warnings_nan(v);
        v[REGNN_WARNVAL_ROWS] = v[REGNN_WARNVAL_VALUE] = (double)few;
        v[REGNN_WARNVAL_THRESHOLD] = RG_WARN_FEW_ROWS;
        st = k > 1 ? rg_warnings_add(w, REGNN_WARN_FEW_FOLD_ROWS, v,
                         "only %zu rows per fold (fewer than %d): each fold's MSE is noisy", few,
                         RG_WARN_FEW_ROWS)
                   : rg_warnings_add(w, REGNN_WARN_FEW_VALIDATION_ROWS, v,
                         "only %zu validation rows (fewer than %d): the validation MSE, the "
                         "diagnosis and a lambda chosen on them are noisy",
                         few, RG_WARN_FEW_ROWS);
    }
    for (size_t t = 0; t < nt && st == REGNN_OK; t++) {
        const char *name = regnn_dataset_target_name(train, t);
        double m_all, sd_all;
        moments(tr.y, tr.rows, nt, t, &m_all, &sd_all);
        if (n_val > 0)
            st = check_constant(w, REGNN_WARN_CONSTANT_VALIDATION, "validation", vy, n_val, nt, t,
                                sd_all, name);
        if (st == REGNN_OK && test)
            st = check_constant(w, REGNN_WARN_CONSTANT_TEST, "test", rg_dataset_view(test).y,
                                regnn_dataset_rows(test), nt, t,
                                sd_all, name);
        if (st == REGNN_OK && n_val > 0 && !(flags & REGNN_SPLIT_SHUFFLED))
            st = check_order(w, tr.y, n_fit, vy, n_val, nt, t, name);
    }
    return st;
}

regnn_status regnn_split_diagnose(const regnn_dataset *train, const regnn_dataset *val,
                                  const regnn_dataset *test, const regnn_fit_options *fit_opts,
                                  const regnn_path_options *popts, int flags, regnn_warnings **out)
{
    static const char fn[] = "regnn_split_diagnose";
    if (out)
        *out = NULL;
    if (!train || !out)
        return rg_error(REGNN_E_INVALID_ARG, "%s: train and out are required", fn);
    if (flags & ~REGNN_SPLIT_SHUFFLED)
        return rg_error(REGNN_E_UNSUPPORTED, "%s: unknown flags 0x%x", fn,
                        (unsigned)(flags & ~REGNN_SPLIT_SHUFFLED));
    const rg_rows tr = rg_dataset_view(train);
    if (tr.rows == 0)
        return rg_error(REGNN_E_INVALID_ARG, "%s: the training data has no rows", fn);
    const size_t val_y = regnn_dataset_targets(val), test_y = regnn_dataset_targets(test);
    if ((val && val_y != tr.n_y) || (test && test_y != tr.n_y))
        return rg_error(REGNN_E_SHAPE, "%s: the %s data has %zu targets, the training data %zu",
                        fn, val && val_y != tr.n_y ? "validation" : "test",
                        val && val_y != tr.n_y ? val_y : test_y, tr.n_y);
    size_t n_fit, n_val, k;
    const float *vy;
    regnn_status st = split_of(fn, train, val, fit_opts, popts, &n_fit, &vy, &n_val, &k);
    if (st != REGNN_OK)
        return st;
    /* At most: few rows, then per target constant validation, constant test, row order. */
    regnn_warnings *w = rg_warnings_new(1 + 3 * tr.n_y);
    if (!w)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
    st = split_checks(w, train, test, n_fit, vy, n_val, k, flags);
    if (st != REGNN_OK) {
        regnn_warnings_free(w);
        return rg_error(st, "%s: out of memory", fn);
    }
    *out = w;
    return REGNN_OK;
}

size_t regnn_warnings_count(const regnn_warnings *w) { return w ? w->n : 0; }

regnn_status regnn_warnings_get(const regnn_warnings *w, size_t i, int *code, double *values,
                                size_t len)
{
    if (!w || (!values && len > 0))
        return rg_error(REGNN_E_INVALID_ARG, "regnn_warnings_get: warnings are required, and "
                        "values when len > 0");
    if (i >= w->n)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_warnings_get: warning %zu of %zu", i, w->n);
    if (code)
        *code = w->w[i].code;
    if (len > 0)
        memcpy(values, w->w[i].v,
               (len < REGNN_WARNVAL_COUNT ? len : REGNN_WARNVAL_COUNT) * sizeof *values);
    return REGNN_OK;
}

const char *regnn_warnings_message(const regnn_warnings *w, size_t i)
{
    return w && i < w->n ? w->w[i].msg : NULL;
}

const char *regnn_warning_name(int code)
{
    switch (code) {
    case REGNN_WARN_FEW_VALIDATION_ROWS: return "few_validation_rows";
    case REGNN_WARN_FEW_FOLD_ROWS: return "few_fold_rows";
    case REGNN_WARN_CONSTANT_VALIDATION: return "constant_validation";
    case REGNN_WARN_CONSTANT_TEST: return "constant_test";
    case REGNN_WARN_ROW_ORDER: return "row_order";
    case REGNN_WARN_CONSTANT_GRID: return "constant_grid";
    default: return NULL;
    }
}
