/* SPDX-License-Identifier: MIT */
/* Datasets from arrays: copy and borrow, validation, names, buffers, row
 * selection, the Keras tail split and the seeded shuffled split, and
 * allocation failures.
 *
 * Buffer convention checked here: a NULL handle or buffer is
 * REGNN_E_INVALID_ARG; a non-NULL buffer that is too short is REGNN_E_SHAPE. */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* A non-NULL value that no call returns: a failing call must overwrite it. */
static char marker;
#define NOT_SET ((regnn_dataset *)&marker)

/* rows x nx features with x[i][j] = 100*i + j and y[i][k] = -(i + 0.5*k). */
static regnn_dataset *make_indexed(size_t rows, size_t nx, size_t ny)
{
    float *x = malloc(rows * nx * sizeof(float));
    float *y = malloc(rows * ny * sizeof(float));
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(y);
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < nx; j++)
            x[i * nx + j] = (float)(100 * i + j);
        for (size_t k = 0; k < ny; k++)
            y[i * ny + k] = -(float)i - 0.5f * (float)k;
    }
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, rows, nx, ny, REGNN_COPY, &ds));
    free(x);
    free(y);
    return ds;
}

/* Row index of dataset row r in a make_indexed dataset, from its first feature. */
static size_t row_id(const regnn_dataset *ds, size_t r)
{
    size_t nx = regnn_dataset_features(ds);
    return (size_t)(rg_dataset_view(ds).x[r * nx] / 100.0f);
}

/* Every row of part looks like a make_indexed row: features and targets agree. */
static void check_rows_consistent(const regnn_dataset *part)
{
    const rg_rows v = rg_dataset_view(part);
    size_t nx = v.n_x, ny = v.n_y;
    for (size_t r = 0; r < v.rows; r++) {
        size_t id = row_id(part, r);
        for (size_t j = 0; j < nx; j++)
            ck_assert_float_eq(v.x[r * nx + j], (float)(100 * id + j));
        for (size_t k = 0; k < ny; k++)
            ck_assert_float_eq(v.y[r * ny + k], -(float)id - 0.5f * (float)k);
    }
}

START_TEST(test_copy_does_not_follow_caller)
{
    float x[6] = {1, 2, 3, 4, 5, 6};
    float y[2] = {10, 20};
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, 2, 3, 1, REGNN_COPY, &ds));
    ck_assert_uint_eq(regnn_dataset_rows(ds), 2);
    ck_assert_uint_eq(regnn_dataset_features(ds), 3);
    ck_assert_uint_eq(regnn_dataset_targets(ds), 1);
    ck_assert_ptr_ne(rg_dataset_view(ds).x, x);
    x[4] = 99;
    y[1] = -7;
    float bx[6], by[2];
    CK_OK(regnn_dataset_get_features(ds, bx, 6));
    CK_OK(regnn_dataset_get_targets(ds, by, 2));
    ck_assert_float_eq(bx[4], 5);
    ck_assert_float_eq(bx[5], 6);
    ck_assert_float_eq(by[1], 20);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_borrow_follows_caller)
{
    float x[6] = {1, 2, 3, 4, 5, 6};
    float y[4] = {10, 11, 20, 21};
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, 2, 3, 2, REGNN_BORROW, &ds));
    ck_assert_ptr_eq(rg_dataset_view(ds).x, x);
    ck_assert_ptr_eq(rg_dataset_view(ds).y, y);
    x[4] = 99;
    y[3] = -7;
    float bx[6], by[4];
    CK_OK(regnn_dataset_get_features(ds, bx, 6));
    CK_OK(regnn_dataset_get_targets(ds, by, 4));
    ck_assert_float_eq(bx[4], 99);
    ck_assert_float_eq(by[3], -7);
    /* A copy derived from a borrowed dataset no longer follows the caller. */
    size_t rows[1] = {1};
    regnn_dataset *sel = NULL;
    CK_OK(regnn_dataset_select(ds, rows, 1, &sel));
    x[4] = 42;
    CK_OK(regnn_dataset_get_features(sel, bx, 3));
    ck_assert_float_eq(bx[1], 99);
    regnn_dataset_free(sel);
    regnn_dataset_free(ds);
    /* Freeing a borrowed dataset leaves the caller's arrays alone. */
    ck_assert_float_eq(x[0], 1);
}
END_TEST

START_TEST(test_non_finite_rejected)
{
    float x[6] = {1, 2, 3, 4, 5, 6};
    float y[2] = {1, 2};
    float nan_v = NAN, inf_v = INFINITY;
    for (int mode = REGNN_COPY; mode <= REGNN_BORROW; mode++) {
        regnn_dataset *ds = NOT_SET;
        x[5] = nan_v;
        CK_STATUS(regnn_dataset_from_arrays(x, y, 2, 3, 1, mode, &ds), REGNN_E_NUMERIC);
        ck_assert_ptr_null(ds);
        ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "x[1][2]"));
        ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "NaN"));
        x[5] = 6;
        y[0] = -inf_v;
        ds = NOT_SET;
        CK_STATUS(regnn_dataset_from_arrays(x, y, 2, 3, 1, mode, &ds), REGNN_E_NUMERIC);
        ck_assert_ptr_null(ds);
        ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "y[0][0]"));
        ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "infinite"));
        y[0] = inf_v;
        CK_STATUS(regnn_dataset_from_arrays(x, y, 2, 3, 1, mode, &ds), REGNN_E_NUMERIC);
        y[0] = 1;
        CK_OK(regnn_dataset_from_arrays(x, y, 2, 3, 1, mode, &ds));
        regnn_dataset_free(ds);
    }
    ck_assert_int_eq(rg_all_finite(x, 6), 1);
    x[2] = nan_v;
    ck_assert_int_eq(rg_all_finite(x, 6), 0);
    ck_assert_int_eq(rg_all_finite(x, 2), 1);
}
END_TEST

START_TEST(test_invalid_arguments)
{
    float x[4] = {1, 2, 3, 4}, y[2] = {1, 2};
    regnn_dataset *ds = NOT_SET;
    CK_STATUS(regnn_dataset_from_arrays(NULL, y, 2, 2, 1, REGNN_COPY, &ds), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(ds);
    ds = NOT_SET;
    CK_STATUS(regnn_dataset_from_arrays(x, NULL, 2, 2, 1, REGNN_COPY, &ds), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_dataset_from_arrays"));
    CK_STATUS(regnn_dataset_from_arrays(x, y, 2, 2, 1, REGNN_COPY, NULL), REGNN_E_INVALID_ARG);
    const size_t bad_sizes[][3] = {{0, 2, 1}, {2, 0, 1}, {2, 2, 0}, {SIZE_MAX / 2, 1, 1},
                                   {2, SIZE_MAX / 2, 1}, {2, 1, SIZE_MAX / 2},
                                   {SIZE_MAX / 4, 4, 1}};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        for (int mode = REGNN_COPY; mode <= REGNN_BORROW; mode++) {
            ds = NOT_SET;
            CK_STATUS(regnn_dataset_from_arrays(x, y, bad_sizes[i][0], bad_sizes[i][1],
                                                bad_sizes[i][2], mode, &ds),
                      REGNN_E_INVALID_ARG);
            ck_assert_ptr_null(ds);
        }
    }
    ds = NOT_SET;
    CK_STATUS(regnn_dataset_from_arrays(x, y, 2, 2, 1, 7, &ds), REGNN_E_UNSUPPORTED);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "mode"));

    /* Getters on NULL. */
    ck_assert_uint_eq(regnn_dataset_rows(NULL), 0);
    ck_assert_uint_eq(regnn_dataset_features(NULL), 0);
    ck_assert_uint_eq(regnn_dataset_targets(NULL), 0);
    ck_assert_ptr_null(regnn_dataset_feature_name(NULL, 0));
    ck_assert_ptr_null(regnn_dataset_target_name(NULL, 0));
    regnn_dataset_free(NULL);
}
END_TEST

START_TEST(test_default_names)
{
    regnn_dataset *ds = make_indexed(3, 12, 2);
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 0), "x0");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 11), "x11");
    ck_assert_ptr_null(regnn_dataset_feature_name(ds, 12));
    ck_assert_str_eq(regnn_dataset_target_name(ds, 0), "y0");
    ck_assert_str_eq(regnn_dataset_target_name(ds, 1), "y1");
    ck_assert_ptr_null(regnn_dataset_target_name(ds, 2));
    ck_assert_ptr_null(regnn_dataset_target_name(ds, SIZE_MAX));
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_adopt_names)
{
    float *x = rg_malloc(4 * sizeof(float));
    float *y = rg_malloc(2 * sizeof(float));
    ck_assert_ptr_nonnull(y);
    for (int i = 0; i < 4; i++)
        x[i] = (float)i;
    y[0] = 5;
    y[1] = 6;
    const char *xn[2] = {"alpha", NULL}; /* a NULL entry falls back to the default */
    const char *yn[1] = {"target"};
    regnn_dataset *ds = NULL;
    long live = regnn__test_alloc_live();
    CK_OK(rg_dataset_adopt(x, y, 2, 2, 1, xn, yn, &ds));
    ck_assert_ptr_eq(rg_dataset_view(ds).x, x);
    ck_assert_ptr_eq(rg_dataset_view(ds).y, y); /* adopted, not copied */
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 0), "alpha");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 1), "x1");
    ck_assert_str_eq(regnn_dataset_target_name(ds, 0), "target");
    ck_assert_ptr_ne(regnn_dataset_feature_name(ds, 0), xn[0]); /* copied */
    regnn_dataset_free(ds);
    ck_assert_int_eq(regnn__test_alloc_live(), live - 2); /* the arrays went with it */
}
END_TEST

START_TEST(test_get_buffers)
{
    regnn_dataset *ds = make_indexed(3, 2, 2);
    float buf[8];
    for (int i = 0; i < 8; i++)
        buf[i] = -1;
    CK_STATUS(regnn_dataset_get_features(ds, buf, 5), REGNN_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_dataset_get_features"));
    ck_assert_float_eq(buf[0], -1); /* untouched on failure */
    CK_STATUS(regnn_dataset_get_targets(ds, buf, 5), REGNN_E_SHAPE);
    ck_assert_float_eq(buf[0], -1);
    CK_STATUS(regnn_dataset_get_features(NULL, buf, 8), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_dataset_get_features(ds, NULL, 8), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_dataset_get_targets(NULL, buf, 8), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_dataset_get_targets(ds, NULL, 8), REGNN_E_INVALID_ARG);
    CK_OK(regnn_dataset_get_features(ds, buf, 6));
    ck_assert_float_eq(buf[5], 201);
    ck_assert_float_eq(buf[6], -1); /* nothing past rows*features */
    CK_OK(regnn_dataset_get_targets(ds, buf, 8));
    ck_assert_float_eq(buf[4], -2);
    ck_assert_float_eq(buf[5], -2.5f);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_select)
{
    regnn_dataset *ds = make_indexed(5, 3, 1);
    size_t rows[4] = {4, 0, 4, 2};
    regnn_dataset *sel = NOT_SET;
    CK_OK(regnn_dataset_select(ds, rows, 4, &sel));
    ck_assert_uint_eq(regnn_dataset_rows(sel), 4);
    ck_assert_uint_eq(regnn_dataset_features(sel), 3);
    for (size_t r = 0; r < 4; r++)
        ck_assert_uint_eq(row_id(sel, r), rows[r]);
    check_rows_consistent(sel);
    ck_assert_str_eq(regnn_dataset_feature_name(sel, 2), "x2");
    regnn_dataset_free(sel);

    size_t bad[3] = {1, 5, 2};
    sel = NOT_SET;
    CK_STATUS(regnn_dataset_select(ds, bad, 3, &sel), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(sel);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "rows[1] = 5"));
    sel = NOT_SET;
    CK_STATUS(regnn_dataset_select(ds, rows, 0, &sel), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(sel);
    sel = NOT_SET;
    CK_STATUS(regnn_dataset_select(ds, NULL, 2, &sel), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(sel);
    sel = NOT_SET;
    CK_STATUS(regnn_dataset_select(NULL, rows, 2, &sel), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(sel);
    CK_STATUS(regnn_dataset_select(ds, rows, 2, NULL), REGNN_E_INVALID_ARG);
    regnn_dataset_free(ds);
}
END_TEST

static void check_tail(size_t n, double fraction, size_t n_train)
{
    regnn_dataset *ds = make_indexed(n, 2, 1);
    regnn_dataset *tr = NULL, *va = NULL;
    CK_OK(regnn_dataset_split_tail(ds, fraction, &tr, &va));
    ck_assert_uint_eq(regnn_dataset_rows(tr), n_train);
    ck_assert_uint_eq(regnn_dataset_rows(va), n - n_train);
    for (size_t r = 0; r < n_train; r++)
        ck_assert_uint_eq(row_id(tr, r), r);
    for (size_t r = 0; r < n - n_train; r++)
        ck_assert_uint_eq(row_id(va, r), n_train + r);
    check_rows_consistent(tr);
    check_rows_consistent(va);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
    regnn_dataset_free(ds);
}

START_TEST(test_split_tail_keras_counts)
{
    check_tail(397, 0.15, 337); /* floor(397 * 0.85) = floor(337.45) */
    check_tail(100, 0.2, 80);
    check_tail(442, 0.2, 353); /* floor(353.6) */
    check_tail(3, 0.1, 2);
    check_tail(2, 0.5, 1);
}
END_TEST

START_TEST(test_split_tail_invalid)
{
    regnn_dataset *ds = make_indexed(3, 2, 1);
    const double bad[] = {0.0, 1.0, 1.5, -0.1, NAN, INFINITY, 0.9 /* floor(0.3) = 0 train rows */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        regnn_dataset *tr = NOT_SET, *va = NOT_SET;
        CK_STATUS(regnn_dataset_split_tail(ds, bad[i], &tr, &va), REGNN_E_INVALID_ARG);
        ck_assert_ptr_null(tr);
        ck_assert_ptr_null(va);
        ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_dataset_split_tail"));
    }
    regnn_dataset *tr = NOT_SET, *va = NOT_SET;
    CK_STATUS(regnn_dataset_split_tail(ds, 1.5, &tr, &va), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "1.5"));
    CK_STATUS(regnn_dataset_split_tail(NULL, 0.2, &tr, &va), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(tr);
    ck_assert_ptr_null(va);
    va = NOT_SET;
    CK_STATUS(regnn_dataset_split_tail(ds, 0.2, NULL, &va), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(va);
    CK_STATUS(regnn_dataset_split_tail(ds, 0.2, &tr, &tr), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(tr);
    regnn_dataset_free(ds);

    ds = make_indexed(1, 2, 1); /* one row can never give two parts */
    CK_STATUS(regnn_dataset_split_tail(ds, 0.5, &tr, &va), REGNN_E_INVALID_ARG);
    regnn_dataset_free(ds);
}
END_TEST

/* Test rows of a split, as row ids in their order. */
static size_t *split_ids(const regnn_dataset *ds, double test_size, uint64_t seed, size_t *n_test,
                         size_t *n_train)
{
    regnn_dataset *tr = NULL, *te = NULL;
    CK_OK(regnn_dataset_split_shuffled(ds, test_size, seed, &tr, &te));
    *n_test = regnn_dataset_rows(te);
    *n_train = regnn_dataset_rows(tr);
    size_t *ids = malloc((*n_test + *n_train) * sizeof(size_t));
    ck_assert_ptr_nonnull(ids);
    for (size_t r = 0; r < *n_test; r++)
        ids[r] = row_id(te, r);
    for (size_t r = 0; r < *n_train; r++)
        ids[*n_test + r] = row_id(tr, r);
    check_rows_consistent(te);
    check_rows_consistent(tr);
    regnn_dataset_free(tr);
    regnn_dataset_free(te);
    return ids;
}

START_TEST(test_split_shuffled_sizes)
{
    const struct {
        size_t n;
        double test_size;
        size_t n_test;
    } cases[] = {
        {442, 0.1, 45}, /* ceil(44.2) */
        {442, 0.2, 89}, /* ceil(88.4) */
        {100, 0.25, 25},
        {100, 0.55, 56}, /* 0.55 * 100 is 55.00000000000001 in double: 56, as in sklearn */
        {100, 0.57, 57}, /* 56.99999999999999 */
        {2, 0.5, 1},
        {5, 1e-9, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        regnn_dataset *ds = make_indexed(cases[i].n, 2, 1);
        size_t nt, ntr;
        size_t *ids = split_ids(ds, cases[i].test_size, 42, &nt, &ntr);
        ck_assert_uint_eq(nt, cases[i].n_test);
        ck_assert_uint_eq(ntr, cases[i].n - cases[i].n_test);
        free(ids);
        regnn_dataset_free(ds);
    }
}
END_TEST

START_TEST(test_split_shuffled_partition)
{
    const size_t n = 442;
    regnn_dataset *ds = make_indexed(n, 3, 2);
    size_t nt, ntr;
    size_t *ids = split_ids(ds, 0.1, 7, &nt, &ntr);
    ck_assert_uint_eq(nt + ntr, n);
    unsigned char *seen = calloc(n, 1);
    ck_assert_ptr_nonnull(seen);
    size_t in_order = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_lt(ids[i], n);
        ck_assert_msg(!seen[ids[i]], "row %zu appears twice", ids[i]);
        seen[ids[i]] = 1;
        in_order += ids[i] == i;
    }
    /* Every row exactly once (n distinct ids below n), and actually shuffled. */
    ck_assert_uint_lt(in_order, n / 10);
    free(seen);
    free(ids);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_split_shuffled_seeds)
{
    regnn_dataset *ds = make_indexed(100, 2, 1);
    size_t nt1, ntr1, nt2, ntr2, nt3, ntr3;
    size_t *a = split_ids(ds, 0.2, 123, &nt1, &ntr1);
    size_t *b = split_ids(ds, 0.2, 123, &nt2, &ntr2);
    size_t *c = split_ids(ds, 0.2, 124, &nt3, &ntr3);
    ck_assert_uint_eq(nt1, nt2);
    ck_assert_uint_eq(nt1, nt3);
    ck_assert_int_eq(memcmp(a, b, 100 * sizeof(size_t)), 0);
    ck_assert_int_ne(memcmp(a, c, 100 * sizeof(size_t)), 0);
    /* The permutation is libregnn's own: pinned so that it stays the same
     * on every platform and release. */
    rg_rng r;
    size_t perm[100];
    rg_rng_seed(&r, 123);
    rg_rng_permutation(&r, perm, 100);
    ck_assert_int_eq(memcmp(a, perm, sizeof perm), 0);
    free(a);
    free(b);
    free(c);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_split_shuffled_invalid)
{
    regnn_dataset *ds = make_indexed(4, 2, 1);
    const double bad[] = {0.0, 1.0, -0.5, 2.0, NAN, 0.9 /* ceil(3.6) = 4 leaves no train row */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        regnn_dataset *tr = NOT_SET, *te = NOT_SET;
        CK_STATUS(regnn_dataset_split_shuffled(ds, bad[i], 1, &tr, &te), REGNN_E_INVALID_ARG);
        ck_assert_ptr_null(tr);
        ck_assert_ptr_null(te);
        ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_dataset_split_shuffled"));
    }
    regnn_dataset *tr = NOT_SET, *te = NOT_SET;
    CK_STATUS(regnn_dataset_split_shuffled(NULL, 0.5, 1, &tr, &te), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(tr);
    ck_assert_ptr_null(te);
    te = NOT_SET;
    CK_STATUS(regnn_dataset_split_shuffled(ds, 0.5, 1, NULL, &te), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(te);
    tr = NOT_SET;
    CK_STATUS(regnn_dataset_split_shuffled(ds, 0.5, 1, &tr, NULL), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(tr);
    CK_STATUS(regnn_dataset_split_shuffled(ds, 0.5, 1, &tr, &tr), REGNN_E_INVALID_ARG);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_split_keeps_names)
{
    float *x = rg_malloc(8 * sizeof(float)), *y = rg_malloc(4 * sizeof(float));
    ck_assert_ptr_nonnull(y);
    for (int i = 0; i < 8; i++)
        x[i] = (float)i;
    for (int i = 0; i < 4; i++)
        y[i] = (float)i;
    const char *xn[2] = {"bmi", "age"}, *yn[1] = {"progression"};
    regnn_dataset *ds = NULL, *a = NULL, *b = NULL;
    CK_OK(rg_dataset_adopt(x, y, 4, 2, 1, xn, yn, &ds));
    CK_OK(regnn_dataset_split_shuffled(ds, 0.5, 3, &a, &b));
    ck_assert_str_eq(regnn_dataset_feature_name(a, 1), "age");
    ck_assert_str_eq(regnn_dataset_target_name(b, 0), "progression");
    regnn_dataset_free(a);
    regnn_dataset_free(b);
    CK_OK(regnn_dataset_split_tail(ds, 0.5, &a, &b));
    ck_assert_str_eq(regnn_dataset_feature_name(b, 0), "bmi");
    ck_assert_str_eq(regnn_dataset_target_name(a, 0), "progression");
    regnn_dataset_free(a);
    regnn_dataset_free(b);
    regnn_dataset_free(ds);
}
END_TEST

/* ---- allocation failures ---------------------------------------------- */

typedef struct alloc_case {
    const regnn_dataset *src;
    float *x, *y;
    regnn_dataset *a, *b;
    int op;
} alloc_case;

enum { OP_FROM_ARRAYS, OP_SELECT, OP_SPLIT_SHUFFLED, OP_SPLIT_TAIL };

static regnn_status run_op(alloc_case *c)
{
    static const size_t rows[3] = {2, 0, 2};
    switch (c->op) {
    case OP_FROM_ARRAYS:
        return regnn_dataset_from_arrays(c->x, c->y, 4, 2, 1, REGNN_COPY, &c->a);
    case OP_SELECT:
        return regnn_dataset_select(c->src, rows, 3, &c->a);
    case OP_SPLIT_SHUFFLED:
        return regnn_dataset_split_shuffled(c->src, 0.25, 9, &c->a, &c->b);
    default:
        return regnn_dataset_split_tail(c->src, 0.25, &c->a, &c->b);
    }
}

/* Fail the nth allocation (once, or the nth and every later one) for n = 1,
 * 2, ... until the call succeeds: each failure must be REGNN_E_NOMEM with
 * the outputs NULL and no block left behind. */
static void check_alloc_failures(int op)
{
    regnn_dataset *src = make_indexed(8, 2, 1);
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[4] = {1, 2, 3, 4};
    for (int persistent = 0; persistent <= 1; persistent++) {
        long n;
        for (n = 1; n < 100; n++) {
            alloc_case c = {src, x, y, NOT_SET, NOT_SET, op};
            long live = regnn__test_alloc_live();
            regnn__test_alloc_fail_at(n, persistent);
            regnn_status st = run_op(&c);
            long used = regnn__test_alloc_count();
            regnn__test_alloc_fail_at(0, 0);
            if (st == REGNN_OK) {
                ck_assert_int_lt(used, n); /* succeeded only once no allocation failed */
                ck_assert_ptr_nonnull(c.a);
                regnn_dataset_free(c.a);
                if (op == OP_SPLIT_SHUFFLED || op == OP_SPLIT_TAIL)
                    regnn_dataset_free(c.b);
                ck_assert_int_eq(regnn__test_alloc_live(), live);
                break;
            }
            ck_assert_msg(st == REGNN_E_NOMEM, "op %d, n %ld: status %d (%s)", op, n, st,
                          regnn_errmsg());
            ck_assert_ptr_null(c.a);
            if (op == OP_SPLIT_SHUFFLED || op == OP_SPLIT_TAIL)
                ck_assert_ptr_null(c.b);
            ck_assert_msg(regnn__test_alloc_live() == live, "op %d, n %ld: %ld blocks leaked", op,
                          n, regnn__test_alloc_live() - live);
        }
        ck_assert_int_gt(n, 1);
        ck_assert_int_lt(n, 100);
    }
    regnn_dataset_free(src);
}

START_TEST(test_alloc_failure_from_arrays) { check_alloc_failures(OP_FROM_ARRAYS); }
END_TEST
START_TEST(test_alloc_failure_select) { check_alloc_failures(OP_SELECT); }
END_TEST
START_TEST(test_alloc_failure_split_shuffled) { check_alloc_failures(OP_SPLIT_SHUFFLED); }
END_TEST
START_TEST(test_alloc_failure_split_tail) { check_alloc_failures(OP_SPLIT_TAIL); }
END_TEST

START_TEST(test_alloc_failure_adopt)
{
    /* rg_dataset_adopt takes the arrays over even when it fails. */
    for (long n = 1;; n++) {
        long live = regnn__test_alloc_live();
        float *x = rg_malloc(2 * sizeof(float)), *y = rg_malloc(sizeof(float));
        ck_assert_ptr_nonnull(y);
        x[0] = x[1] = y[0] = 1;
        regnn_dataset *ds = NOT_SET;
        regnn__test_alloc_fail_at(n, 0);
        regnn_status st = rg_dataset_adopt(x, y, 1, 2, 1, NULL, NULL, &ds);
        regnn__test_alloc_fail_at(0, 0);
        if (st == REGNN_OK) {
            ck_assert_int_gt(n, 1);
            regnn_dataset_free(ds);
            ck_assert_int_eq(regnn__test_alloc_live(), live);
            break;
        }
        ck_assert_int_eq(st, REGNN_E_NOMEM);
        ck_assert_ptr_null(ds);
        ck_assert_int_eq(regnn__test_alloc_live(), live);
    }
    /* Invalid arguments free them too. */
    long live = regnn__test_alloc_live();
    float *x = rg_malloc(sizeof(float)), *y = rg_malloc(sizeof(float));
    regnn_dataset *ds = NOT_SET;
    CK_STATUS(rg_dataset_adopt(x, y, 0, 1, 1, NULL, NULL, &ds), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(ds);
    ck_assert_int_eq(regnn__test_alloc_live(), live);
}
END_TEST

static Suite *dataset_suite(void)
{
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_copy_does_not_follow_caller);
    tcase_add_test(tc, test_borrow_follows_caller);
    tcase_add_test(tc, test_non_finite_rejected);
    tcase_add_test(tc, test_invalid_arguments);
    tcase_add_test(tc, test_default_names);
    tcase_add_test(tc, test_adopt_names);
    tcase_add_test(tc, test_get_buffers);
    tcase_add_test(tc, test_select);
    tcase_add_test(tc, test_split_tail_keras_counts);
    tcase_add_test(tc, test_split_tail_invalid);
    tcase_add_test(tc, test_split_shuffled_sizes);
    tcase_add_test(tc, test_split_shuffled_partition);
    tcase_add_test(tc, test_split_shuffled_seeds);
    tcase_add_test(tc, test_split_shuffled_invalid);
    tcase_add_test(tc, test_split_keeps_names);
    tcase_add_test(tc, test_alloc_failure_from_arrays);
    tcase_add_test(tc, test_alloc_failure_select);
    tcase_add_test(tc, test_alloc_failure_split_shuffled);
    tcase_add_test(tc, test_alloc_failure_split_tail);
    tcase_add_test(tc, test_alloc_failure_adopt);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(dataset_suite)
