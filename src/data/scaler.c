/* SPDX-License-Identifier: MIT */
/* Standardization statistics: per-column mean and divisor, fitted once and
 * applied to any dataset or buffer with the same columns. */
#include "data.h"

#include <float.h>
#include <math.h>
#include <string.h>

struct regnn_scaler {
    size_t n_x, n_y;
    double *x_mean, *x_scale, *y_mean, *y_scale;
};

static int kind_ok(int kind)
{
    return kind == REGNN_SCALE_NONE || kind == REGNN_SCALE_ZSCORE || kind == REGNN_SCALE_UNIT_NORM;
}

/* Mean and divisor of each of the cols columns of a rows x cols matrix.
 * Two passes in double: the centred sum of squares does not lose the
 * variance of columns whose mean is large. */
static void fit_columns(const float *v, size_t rows, size_t cols, int kind, double *mean,
                        double *scale)
{
    for (size_t j = 0; j < cols; j++) {
        if (kind == REGNN_SCALE_NONE) {
            mean[j] = 0.0;
            scale[j] = 1.0;
            continue;
        }
        double s = 0.0;
        for (size_t i = 0; i < rows; i++)
            s += v[i * cols + j];
        double mu = s / (double)rows, ss = 0.0;
        for (size_t i = 0; i < rows; i++) {
            double d = v[i * cols + j] - mu;
            ss += d * d;
        }
        /* std = sqrt(ss / n); UNIT_NORM divides by std * sqrt(n) = sqrt(ss). */
        double sc = kind == REGNN_SCALE_ZSCORE ? sqrt(ss / (double)rows) : sqrt(ss);
        mean[j] = mu;
        scale[j] = sc > 0.0 ? sc : 1.0;
    }
}

void regnn_scaler_free(regnn_scaler *sc)
{
    if (!sc)
        return;
    rg_free(sc->x_mean);
    rg_free(sc->x_scale);
    rg_free(sc->y_mean);
    rg_free(sc->y_scale);
    rg_free(sc);
}

regnn_status regnn_scaler_fit(const regnn_dataset *ds, int feature_kind, int target_kind,
                              regnn_scaler **out)
{
    static const char fn[] = "regnn_scaler_fit";
    if (out)
        *out = NULL;
    if (!ds || !out)
        return rg_error(REGNN_E_INVALID_ARG, "%s: ds and out must not be NULL", fn);
    if (!kind_ok(feature_kind) || !kind_ok(target_kind))
        return rg_error(REGNN_E_UNSUPPORTED,
                        "%s: unknown scaling kind (features %d, targets %d); use REGNN_SCALE_*", fn,
                        feature_kind, target_kind);
    const rg_rows r = rg_dataset_view(ds);
    regnn_scaler *sc = rg_calloc(1, sizeof *sc);
    if (sc) {
        sc->n_x = r.n_x;
        sc->n_y = r.n_y;
        sc->x_mean = rg_calloc(r.n_x, sizeof(double));
        sc->x_scale = rg_calloc(r.n_x, sizeof(double));
        sc->y_mean = rg_calloc(r.n_y, sizeof(double));
        sc->y_scale = rg_calloc(r.n_y, sizeof(double));
    }
    if (!sc || !sc->x_mean || !sc->x_scale || !sc->y_mean || !sc->y_scale) {
        regnn_scaler_free(sc);
        return rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu + %zu columns", fn, r.n_x,
                        r.n_y);
    }
    fit_columns(r.x, r.rows, r.n_x, feature_kind, sc->x_mean, sc->x_scale);
    fit_columns(r.y, r.rows, r.n_y, target_kind, sc->y_mean, sc->y_scale);
    *out = sc;
    return REGNN_OK;
}

size_t regnn_scaler_features(const regnn_scaler *sc) { return sc ? sc->n_x : 0; }
size_t regnn_scaler_targets(const regnn_scaler *sc) { return sc ? sc->n_y : 0; }

regnn_status regnn_scaler_get(const regnn_scaler *sc, int stat, double *buf, size_t len)
{
    static const char fn[] = "regnn_scaler_get";
    if (!sc || !buf)
        return rg_error(REGNN_E_INVALID_ARG, "%s: sc and buf must not be NULL", fn);
    const double *src;
    size_t n;
    switch (stat) {
    case REGNN_STAT_FEATURE_MEAN: src = sc->x_mean; n = sc->n_x; break;
    case REGNN_STAT_FEATURE_SCALE: src = sc->x_scale; n = sc->n_x; break;
    case REGNN_STAT_TARGET_MEAN: src = sc->y_mean; n = sc->n_y; break;
    case REGNN_STAT_TARGET_SCALE: src = sc->y_scale; n = sc->n_y; break;
    default:
        return rg_error(REGNN_E_UNSUPPORTED, "%s: unknown statistic %d; use REGNN_STAT_*", fn, stat);
    }
    if (len < n)
        return rg_error(REGNN_E_SHAPE, "%s: buffer holds %zu doubles, the statistic has %zu", fn,
                        len, n);
    memcpy(buf, src, n * sizeof(double));
    return REGNN_OK;
}

/* out = (in - mean) / scale; returns 0 if a result does not fit in a float
 * (it is then stored as an infinity). NaN inputs stay NaN. */
static int standardize(const double *mean, const double *scale, size_t cols, const float *in,
                       float *out, size_t rows)
{
    int ok = 1;
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++) {
            double v = (in[i * cols + j] - mean[j]) / scale[j];
            if (fabs(v) > FLT_MAX) { /* converting it would be undefined in C */
                ok = 0;
                v = copysign(INFINITY, v);
            }
            out[i * cols + j] = (float)v;
        }
    }
    return ok;
}

regnn_status regnn_scaler_transform(const regnn_scaler *sc, const regnn_dataset *ds,
                                    regnn_dataset **out)
{
    static const char fn[] = "regnn_scaler_transform";
    if (out)
        *out = NULL;
    if (!sc || !ds || !out)
        return rg_error(REGNN_E_INVALID_ARG, "%s: sc, ds and out must not be NULL", fn);
    const rg_rows r = rg_dataset_view(ds);
    if (r.n_x != sc->n_x || r.n_y != sc->n_y)
        return rg_error(REGNN_E_SHAPE,
                        "%s: the scaler was fitted on %zu features and %zu targets, the dataset "
                        "has %zu and %zu",
                        fn, sc->n_x, sc->n_y, r.n_x, r.n_y);
    size_t nx = r.rows * r.n_x, ny = r.rows * r.n_y; /* bounded at creation */
    float *x = rg_malloc(nx * sizeof(float));
    float *y = x ? rg_malloc(ny * sizeof(float)) : NULL;
    if (!y) {
        rg_free(x);
        return rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu rows", fn, r.rows);
    }
    /* Statistics fitted on another dataset can push a far-off value past FLT_MAX. */
    int ok = standardize(sc->x_mean, sc->x_scale, sc->n_x, r.x, x, r.rows);
    ok &= standardize(sc->y_mean, sc->y_scale, sc->n_y, r.y, y, r.rows);
    if (!ok) {
        rg_free(x);
        rg_free(y);
        return rg_error(REGNN_E_NUMERIC, "%s: a standardized value overflows a float", fn);
    }
    regnn_status st = rg_dataset_adopt(x, y, r.rows, r.n_x, r.n_y, rg_dataset_names(ds, 0),
                                       rg_dataset_names(ds, 1), out);
    if (st == REGNN_E_NOMEM)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu rows", fn, r.rows);
    if (st == REGNN_OK)
        st = rg_dataset_copy_weights(fn, ds, out); /* weights are not standardized */
    return st;
}

/* Checks shared by the buffer calls: non-NULL and rows * cols representable. */
static regnn_status check_buffers(const char *fn, const regnn_scaler *sc, const void *in,
                                  const void *out, size_t rows, size_t cols, const char *what)
{
    size_t n, bytes;
    if (!sc || !in || !out)
        return rg_error(REGNN_E_INVALID_ARG, "%s: sc, in and out must not be NULL", fn);
    if (rows == 0)
        return rg_error(REGNN_E_INVALID_ARG, "%s: n_rows must be at least 1", fn);
    if (!rg_mul_ok(rows, cols, &n) || !rg_mul_ok(n, sizeof(float), &bytes))
        return rg_error(REGNN_E_INVALID_ARG, "%s: %zu rows of %zu %s is too large", fn, rows, cols,
                        what);
    return REGNN_OK;
}

regnn_status regnn_scaler_transform_features(const regnn_scaler *sc, const float *in, float *out,
                                             size_t n_rows)
{
    regnn_status st = check_buffers("regnn_scaler_transform_features", sc, in, out, n_rows,
                                    sc ? sc->n_x : 0, "features");
    if (st != REGNN_OK)
        return st;
    (void)standardize(sc->x_mean, sc->x_scale, sc->n_x, in, out, n_rows);
    return REGNN_OK;
}

regnn_status regnn_scaler_inverse_targets(const regnn_scaler *sc, const float *in, float *out,
                                          size_t n_rows)
{
    regnn_status st = check_buffers("regnn_scaler_inverse_targets", sc, in, out, n_rows,
                                    sc ? sc->n_y : 0, "targets");
    if (st != REGNN_OK)
        return st;
    size_t cols = sc->n_y;
    for (size_t i = 0; i < n_rows; i++) {
        for (size_t j = 0; j < cols; j++) {
            double v = in[i * cols + j] * sc->y_scale[j] + sc->y_mean[j];
            if (fabs(v) > FLT_MAX)
                v = copysign(INFINITY, v);
            out[i * cols + j] = (float)v;
        }
    }
    return REGNN_OK;
}

static double *dup_doubles(const double *v, size_t n)
{
    double *d = rg_malloc(n * sizeof *d); /* n <= column count of an existing scaler */
    if (d)
        memcpy(d, v, n * sizeof *d);
    return d;
}

regnn_scaler *rg_scaler_copy(const regnn_scaler *sc)
{
    regnn_scaler *c = rg_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->n_x = sc->n_x;
    c->n_y = sc->n_y;
    c->x_mean = dup_doubles(sc->x_mean, sc->n_x);
    c->x_scale = dup_doubles(sc->x_scale, sc->n_x);
    c->y_mean = dup_doubles(sc->y_mean, sc->n_y);
    c->y_scale = dup_doubles(sc->y_scale, sc->n_y);
    if (!c->x_mean || !c->x_scale || !c->y_mean || !c->y_scale) {
        regnn_scaler_free(c);
        return NULL;
    }
    return c;
}

rg_scaler_stats rg_scaler_view(const regnn_scaler *sc)
{
    rg_scaler_stats v = {sc->n_x, sc->n_y, sc->x_mean, sc->x_scale, sc->y_mean, sc->y_scale};
    return v;
}

regnn_scaler *rg_scaler_alloc(size_t n_x, size_t n_y, double *stat[4])
{
    regnn_scaler *sc = rg_calloc(1, sizeof *sc);
    if (!sc)
        return NULL;
    sc->n_x = n_x;
    sc->n_y = n_y;
    sc->x_mean = rg_malloc(n_x * sizeof(double));
    sc->x_scale = rg_malloc(n_x * sizeof(double));
    sc->y_mean = rg_malloc(n_y * sizeof(double));
    sc->y_scale = rg_malloc(n_y * sizeof(double));
    if (!sc->x_mean || !sc->x_scale || !sc->y_mean || !sc->y_scale) {
        regnn_scaler_free(sc);
        return NULL;
    }
    stat[0] = sc->x_mean;
    stat[1] = sc->x_scale;
    stat[2] = sc->y_mean;
    stat[3] = sc->y_scale;
    return sc;
}
