/* SPDX-License-Identifier: MIT */
/* Datasets: row-major float features and targets plus column names. */
#include "data.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct regnn_dataset {
    size_t rows, n_x, n_y;
    const float *x; /* rows x n_x */
    const float *y; /* rows x n_y */
    float *own_x, *own_y; /* non-NULL when the dataset owns the storage */
    char **x_names, **y_names;
    float *w; /* rows sample weights (owned), or NULL: all 1 */
};

/* Bytes of a rows x cols float matrix; 0 when the product overflows or is
 * larger than any object can be (sizes past PTRDIFF_MAX break pointer
 * arithmetic). */
static int matrix_bytes(size_t rows, size_t cols, size_t *bytes)
{
    size_t n;
    if (!rg_mul_ok(rows, cols, &n) || !rg_mul_ok(n, sizeof(float), bytes) ||
        *bytes > (size_t)PTRDIFF_MAX) {
        *bytes = 0;
        return 0;
    }
    return 1;
}

static const char *non_finite_kind(float v) { return v != v ? "NaN" : "infinite"; }

/* All n names in one block: the pointer array followed by the strings, so
 * that a single rg_free releases them. NULL src (or a NULL entry) gives the
 * default name prefix<i>. */
static char **names_build(const char *const *src, size_t n, char prefix)
{
    size_t total;
    if (!rg_mul_ok(n, sizeof(char *), &total))
        return NULL;
    char tmp[32];
    for (size_t i = 0; i < n; i++) {
        size_t len = (src && src[i]) ? strlen(src[i])
                                     : (size_t)snprintf(tmp, sizeof tmp, "%c%zu", prefix, i);
        if (len >= SIZE_MAX - total)
            return NULL;
        total += len + 1;
    }
    char **names = rg_malloc(total);
    if (!names)
        return NULL;
    char *p = (char *)(names + n);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        if (src && src[i]) {
            len = strlen(src[i]);
            memcpy(p, src[i], len + 1);
        } else {
            len = (size_t)snprintf(p, sizeof tmp, "%c%zu", prefix, i);
        }
        names[i] = p;
        p += len + 1;
    }
    return names;
}

/* Wrap storage in a dataset. own_x/own_y/own_w are freed on failure; x/y are
 * the pointers the dataset reads (equal to own_* unless borrowed); own_w is
 * the weights (NULL: none). */
static regnn_status ds_create(const char *fn, const float *x, const float *y, float *own_x,
                              float *own_y, float *own_w, size_t rows, size_t n_x, size_t n_y,
                              const char *const *x_names, const char *const *y_names,
                              regnn_dataset **out)
{
    regnn_dataset *ds = rg_calloc(1, sizeof *ds);
    char **xn = ds ? names_build(x_names, n_x, 'x') : NULL;
    char **yn = xn ? names_build(y_names, n_y, 'y') : NULL;
    if (!yn) {
        rg_free(xn);
        rg_free(ds);
        rg_free(own_x);
        rg_free(own_y);
        rg_free(own_w);
        return rg_error(REGNN_E_NOMEM, "%s: out of memory for a dataset of %zu rows", fn, rows);
    }
    ds->rows = rows;
    ds->n_x = n_x;
    ds->n_y = n_y;
    ds->x = x;
    ds->y = y;
    ds->own_x = own_x;
    ds->own_y = own_y;
    ds->w = own_w;
    ds->x_names = xn;
    ds->y_names = yn;
    *out = ds;
    return REGNN_OK;
}

static regnn_status check_sizes(const char *fn, size_t rows, size_t n_x, size_t n_y)
{
    size_t bytes;
    if (rows == 0 || n_x == 0 || n_y == 0)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: rows, features and targets must all be at least 1 (got %zu, %zu, %zu)",
                        fn, rows, n_x, n_y);
    if (!matrix_bytes(rows, n_x, &bytes) || !matrix_bytes(rows, n_y, &bytes))
        return rg_error(REGNN_E_INVALID_ARG, "%s: %zu rows of %zu features and %zu targets is too large",
                        fn, rows, n_x, n_y);
    return REGNN_OK;
}

regnn_status rg_dataset_adopt(float *x, float *y, size_t rows, size_t n_x, size_t n_y,
                              const char *const *x_names, const char *const *y_names,
                              regnn_dataset **out)
{
    static const char fn[] = "libregnn: creating a dataset";
    regnn_status st = REGNN_OK;
    if (out)
        *out = NULL;
    if (!out || !x || !y)
        st = rg_error(REGNN_E_INVALID_ARG, "%s: x, y and out are required", fn);
    else
        st = check_sizes(fn, rows, n_x, n_y);
    if (st != REGNN_OK) {
        rg_free(x);
        rg_free(y);
        return st;
    }
    return ds_create(fn, x, y, x, y, NULL, rows, n_x, n_y, x_names, y_names, out);
}

regnn_status regnn_dataset_from_arrays(const float *x, const float *y, size_t n_rows,
                                       size_t n_features, size_t n_targets, int mode,
                                       regnn_dataset **out)
{
    static const char fn[] = "regnn_dataset_from_arrays";
    if (out)
        *out = NULL;
    if (!out || !x || !y)
        return rg_error(REGNN_E_INVALID_ARG, "%s: x, y and out must not be NULL", fn);
    if (mode != REGNN_COPY && mode != REGNN_BORROW)
        return rg_error(REGNN_E_UNSUPPORTED, "%s: mode must be REGNN_COPY or REGNN_BORROW, got %d",
                        fn, mode);
    regnn_status st = check_sizes(fn, n_rows, n_features, n_targets);
    if (st != REGNN_OK)
        return st;

    size_t nx = n_rows * n_features, ny = n_rows * n_targets;
    size_t bad = rg_first_non_finite(x, nx);
    if (bad < nx)
        return rg_error(REGNN_E_NUMERIC, "%s: x[%zu][%zu] is %s", fn, bad / n_features,
                        bad % n_features, non_finite_kind(x[bad]));
    bad = rg_first_non_finite(y, ny);
    if (bad < ny)
        return rg_error(REGNN_E_NUMERIC, "%s: y[%zu][%zu] is %s", fn, bad / n_targets,
                        bad % n_targets, non_finite_kind(y[bad]));

    if (mode == REGNN_BORROW)
        return ds_create(fn, x, y, NULL, NULL, NULL, n_rows, n_features, n_targets, NULL, NULL,
                         out);

    float *cx = rg_malloc(nx * sizeof(float));
    float *cy = cx ? rg_malloc(ny * sizeof(float)) : NULL;
    if (!cy) {
        rg_free(cx);
        return rg_error(REGNN_E_NOMEM, "%s: out of memory copying %zu rows", fn, n_rows);
    }
    memcpy(cx, x, nx * sizeof(float));
    memcpy(cy, y, ny * sizeof(float));
    return ds_create(fn, cx, cy, cx, cy, NULL, n_rows, n_features, n_targets, NULL, NULL, out);
}

void regnn_dataset_free(regnn_dataset *ds)
{
    if (!ds)
        return;
    rg_free(ds->own_x);
    rg_free(ds->own_y);
    rg_free(ds->w);
    rg_free(ds->x_names);
    rg_free(ds->y_names);
    rg_free(ds);
}

size_t regnn_dataset_rows(const regnn_dataset *ds) { return ds ? ds->rows : 0; }
size_t regnn_dataset_features(const regnn_dataset *ds) { return ds ? ds->n_x : 0; }
size_t regnn_dataset_targets(const regnn_dataset *ds) { return ds ? ds->n_y : 0; }

const char *regnn_dataset_feature_name(const regnn_dataset *ds, size_t index)
{
    return (ds && index < ds->n_x) ? ds->x_names[index] : NULL;
}

const char *regnn_dataset_target_name(const regnn_dataset *ds, size_t index)
{
    return (ds && index < ds->n_y) ? ds->y_names[index] : NULL;
}

static regnn_status get_matrix(const char *fn, const regnn_dataset *ds, int targets, float *buf,
                               size_t len)
{
    if (!ds || !buf)
        return rg_error(REGNN_E_INVALID_ARG, "%s: ds and buf must not be NULL", fn);
    size_t cols = targets ? ds->n_y : ds->n_x;
    size_t need = ds->rows * cols; /* bounded when the dataset was created */
    if (len < need)
        return rg_error(REGNN_E_SHAPE, "%s: buffer holds %zu floats, %zu rows x %zu %s need %zu", fn,
                        len, ds->rows, cols, targets ? "targets" : "features", need);
    memcpy(buf, targets ? ds->y : ds->x, need * sizeof(float));
    return REGNN_OK;
}

regnn_status regnn_dataset_get_features(const regnn_dataset *ds, float *buf, size_t len)
{
    return get_matrix("regnn_dataset_get_features", ds, 0, buf, len);
}

regnn_status regnn_dataset_get_targets(const regnn_dataset *ds, float *buf, size_t len)
{
    return get_matrix("regnn_dataset_get_targets", ds, 1, buf, len);
}

/* New dataset of n rows of ds: rows idx[0..n) if idx is given, else the
 * contiguous rows [first, first + n). Indices are already validated. */
static regnn_status gather(const char *fn, const regnn_dataset *ds, const size_t *idx,
                           size_t first, size_t n, regnn_dataset **out)
{
    size_t bx, by;
    if (!matrix_bytes(n, ds->n_x, &bx) || !matrix_bytes(n, ds->n_y, &by))
        return rg_error(REGNN_E_INVALID_ARG, "%s: %zu rows is too large", fn, n);
    float *x = rg_malloc(bx);
    float *y = x ? rg_malloc(by) : NULL;
    if (!y) {
        rg_free(x);
        return rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu rows", fn, n);
    }
    if (idx) {
        for (size_t i = 0; i < n; i++) {
            memcpy(x + i * ds->n_x, ds->x + idx[i] * ds->n_x, ds->n_x * sizeof(float));
            memcpy(y + i * ds->n_y, ds->y + idx[i] * ds->n_y, ds->n_y * sizeof(float));
        }
    } else {
        memcpy(x, ds->x + first * ds->n_x, bx);
        memcpy(y, ds->y + first * ds->n_y, by);
    }
    float *w = NULL;
    if (ds->w) {
        w = rg_malloc(n * sizeof(float)); /* n * sizeof(float) <= bx */
        if (!w) {
            rg_free(x);
            rg_free(y);
            return rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu rows", fn, n);
        }
        for (size_t i = 0; i < n; i++)
            w[i] = ds->w[idx ? idx[i] : first + i];
    }
    return ds_create(fn, x, y, x, y, w, n, ds->n_x, ds->n_y, (const char *const *)ds->x_names,
                     (const char *const *)ds->y_names, out);
}

regnn_status regnn_dataset_select(const regnn_dataset *ds, const size_t *rows, size_t n_rows,
                                  regnn_dataset **out)
{
    static const char fn[] = "regnn_dataset_select";
    if (out)
        *out = NULL;
    if (!ds || !rows || !out)
        return rg_error(REGNN_E_INVALID_ARG, "%s: ds, rows and out must not be NULL", fn);
    if (n_rows == 0)
        return rg_error(REGNN_E_INVALID_ARG, "%s: n_rows must be at least 1", fn);
    for (size_t i = 0; i < n_rows; i++)
        if (rows[i] >= ds->rows)
            return rg_error(REGNN_E_INVALID_ARG, "%s: rows[%zu] = %zu is out of range (%zu rows)", fn,
                            i, rows[i], ds->rows);
    return gather(fn, ds, rows, 0, n_rows, out);
}

static int fraction_ok(double f) { return f > 0.0 && f < 1.0; } /* false for NaN */

regnn_status regnn_dataset_split_shuffled(const regnn_dataset *ds, double test_size, uint64_t seed,
                                          regnn_dataset **train, regnn_dataset **test)
{
    static const char fn[] = "regnn_dataset_split_shuffled";
    if (train)
        *train = NULL;
    if (test)
        *test = NULL;
    if (!ds || !train || !test || train == test)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: ds, train and test must not be NULL, and train and test must differ", fn);
    char num[32];
    rg_format_double(num, sizeof num, test_size);
    if (!fraction_ok(test_size))
        return rg_error(REGNN_E_INVALID_ARG, "%s: test_size must be in (0, 1), got %s", fn, num);
    double nt = ceil(test_size * (double)ds->rows);
    if (!(nt >= 1.0 && nt < (double)ds->rows))
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: test_size %s of %zu rows leaves an empty train or test part", fn, num,
                        ds->rows);
    size_t n_test = (size_t)nt, n = ds->rows;

    size_t bytes;
    if (!rg_mul_ok(n, sizeof(size_t), &bytes))
        return rg_error(REGNN_E_INVALID_ARG, "%s: too many rows", fn);
    size_t *perm = rg_malloc(bytes);
    if (!perm)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory for the permutation of %zu rows", fn, n);
    rg_rng rng;
    rg_rng_seed(&rng, seed);
    rg_rng_permutation(&rng, perm, n);

    regnn_dataset *tr = NULL, *te = NULL;
    regnn_status st = gather(fn, ds, perm, 0, n_test, &te);
    if (st == REGNN_OK)
        st = gather(fn, ds, perm + n_test, 0, n - n_test, &tr);
    rg_free(perm);
    if (st != REGNN_OK) {
        regnn_dataset_free(te);
        return st;
    }
    *train = tr;
    *test = te;
    return REGNN_OK;
}

regnn_status regnn_dataset_split_tail(const regnn_dataset *ds, double fraction,
                                      regnn_dataset **train, regnn_dataset **validation)
{
    static const char fn[] = "regnn_dataset_split_tail";
    if (train)
        *train = NULL;
    if (validation)
        *validation = NULL;
    if (!ds || !train || !validation || train == validation)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: ds, train and validation must not be NULL, and train and validation "
                        "must differ", fn);
    char num[32];
    rg_format_double(num, sizeof num, fraction);
    if (!fraction_ok(fraction))
        return rg_error(REGNN_E_INVALID_ARG, "%s: fraction must be in (0, 1), got %s", fn, num);
    /* Keras: int(floor(n * (1 - fraction))). The product is below n, so the
     * truncating conversion is the floor and cannot overflow. */
    size_t n = ds->rows;
    size_t split_at = (size_t)((double)n * (1.0 - fraction));
    if (split_at == 0 || split_at >= n)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: fraction %s of %zu rows leaves an empty train or validation part", fn,
                        num, n);

    regnn_dataset *tr = NULL, *va = NULL;
    regnn_status st = gather(fn, ds, NULL, 0, split_at, &tr);
    if (st == REGNN_OK)
        st = gather(fn, ds, NULL, split_at, n - split_at, &va);
    if (st != REGNN_OK) {
        regnn_dataset_free(tr);
        return st;
    }
    *train = tr;
    *validation = va;
    return REGNN_OK;
}

/* ---- sample weights ---- */

static regnn_status weights_valid(const char *fn, const float *w, size_t n)
{
    size_t bad;
    if (rg_weights_check(w, n, &bad))
        return REGNN_OK;
    char v[40];
    rg_format_double(v, sizeof v, w[bad]);
    return rg_error(REGNN_E_INVALID_ARG, "%s: weight %zu is %s; weights must be finite and >= 0", fn,
                    bad, v);
}

regnn_status rg_dataset_copy_weights(const char *fn, const regnn_dataset *src, regnn_dataset **dst)
{
    if (!src->w)
        return REGNN_OK;
    float *w = rg_malloc(src->rows * sizeof(float));
    if (!w) {
        regnn_dataset_free(*dst);
        *dst = NULL;
        return rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu weights", fn, src->rows);
    }
    memcpy(w, src->w, src->rows * sizeof(float));
    (*dst)->w = w;
    return REGNN_OK;
}

regnn_status regnn_dataset_set_weights(regnn_dataset *ds, const float *w, size_t n)
{
    static const char fn[] = "regnn_dataset_set_weights";
    if (!ds)
        return rg_error(REGNN_E_INVALID_ARG, "%s: ds must not be NULL", fn);
    if (!w) {
        if (n != 0)
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: w is NULL but n is %zu (NULL with n 0 removes the weights)", fn, n);
        rg_free(ds->w);
        ds->w = NULL;
        return REGNN_OK;
    }
    if (n != ds->rows)
        return rg_error(REGNN_E_SHAPE, "%s: got %zu weights for %zu rows", fn, n, ds->rows);
    regnn_status st = weights_valid(fn, w, n);
    if (st != REGNN_OK)
        return st;
    float *c = rg_malloc(n * sizeof(float)); /* bounded by the features' size */
    if (!c)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu weights", fn, n);
    memcpy(c, w, n * sizeof(float));
    rg_free(ds->w);
    ds->w = c;
    return REGNN_OK;
}

int regnn_dataset_has_weights(const regnn_dataset *ds) { return ds && ds->w ? 1 : 0; }

regnn_status regnn_dataset_get_weights(const regnn_dataset *ds, float *buf, size_t len)
{
    static const char fn[] = "regnn_dataset_get_weights";
    if (!ds || !buf)
        return rg_error(REGNN_E_INVALID_ARG, "%s: ds and buf must not be NULL", fn);
    if (len < ds->rows)
        return rg_error(REGNN_E_SHAPE, "%s: buffer holds %zu floats, %zu rows need %zu", fn, len,
                        ds->rows, ds->rows);
    for (size_t i = 0; i < ds->rows; i++)
        buf[i] = ds->w ? ds->w[i] : 1.0f;
    return REGNN_OK;
}

regnn_status regnn_dataset_set_weight_column(regnn_dataset *ds, const char *name)
{
    static const char fn[] = "regnn_dataset_set_weight_column";
    if (!ds || !name)
        return rg_error(REGNN_E_INVALID_ARG, "%s: ds and name must not be NULL", fn);
    size_t col = ds->n_x;
    for (size_t j = 0; j < ds->n_x; j++)
        if (strcmp(ds->x_names[j], name) == 0) {
            col = j;
            break;
        }
    if (col == ds->n_x)
        return rg_error(REGNN_E_INVALID_ARG, "%s: no feature column is called \"%s\"", fn, name);
    if (ds->n_x < 2)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: \"%s\" is the only feature column; at least one must remain", fn, name);
    const size_t rows = ds->rows, nx = ds->n_x - 1;
    for (size_t i = 0; i < rows; i++) {
        float v = ds->x[i * ds->n_x + col];
        if (!(v >= 0.0f)) {
            char num[40];
            rg_format_double(num, sizeof num, v);
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: column \"%s\" row %zu is %s; weights must be finite and >= 0", fn,
                            name, i, num);
        }
    }
    /* Build everything first, so a failure leaves ds as it was. */
    float *w = rg_malloc(rows * sizeof(float));
    float *x = w ? rg_malloc(rows * nx * sizeof(float)) : NULL;
    const char **names = x ? rg_malloc(nx * sizeof *names) : NULL;
    char **xn = NULL;
    if (names) {
        for (size_t j = 0, k = 0; j < ds->n_x; j++)
            if (j != col)
                names[k++] = ds->x_names[j];
        xn = names_build(names, nx, 'x');
    }
    rg_free(names);
    if (!xn) {
        rg_free(w);
        rg_free(x);
        return rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu rows", fn, rows);
    }
    for (size_t i = 0; i < rows; i++) {
        const float *src = ds->x + i * ds->n_x;
        w[i] = src[col];
        memcpy(x + i * nx, src, col * sizeof(float));
        memcpy(x + i * nx + col, src + col + 1, (nx - col) * sizeof(float));
    }
    rg_free(ds->own_x);
    rg_free(ds->x_names);
    rg_free(ds->w);
    ds->own_x = x;
    ds->x = x;
    ds->x_names = xn;
    ds->n_x = nx;
    ds->w = w;
    return REGNN_OK;
}

rg_rows rg_dataset_view(const regnn_dataset *ds)
{
    const rg_rows r = {ds->x, ds->y, ds->w, ds->rows, ds->n_x, ds->n_y};
    return r;
}

const char *const *rg_dataset_names(const regnn_dataset *ds, int targets)
{
    return (const char *const *)(targets ? ds->y_names : ds->x_names);
}
