/* SPDX-License-Identifier: MIT */
/* Standardization: fitted statistics, the three scaling kinds, transforms of
 * datasets and buffers, the inverse for targets, sklearn's diabetes scaling,
 * errors and allocation failures. */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Addresses no call returns: an output left unchanged is seen. */
static char scaler_marker, dataset_marker;

/* 6 rows, 3 features (one constant), 2 targets. */
static const float X6[18] = {1.0f,  -2.0f, 7.0f, 2.5f,  0.0f,  7.0f, 4.0f,  3.5f,  7.0f,
                             -1.0f, 10.0f, 7.0f, 0.25f, -4.0f, 7.0f, 8.0f,  1.0f,  7.0f};
static const float Y6[12] = {100.0f, 0.5f, 150.0f, -0.5f, 90.0f,  1.5f,
                             210.0f, 2.0f, 120.0f, 0.0f,  180.0f, 1.0f};

static regnn_dataset *make6(void)
{
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(X6, Y6, 6, 3, 2, REGNN_COPY, &ds));
    return ds;
}

/* Mean and population std of column j of a rows x cols matrix, in double. */
static void column_stats(const float *v, size_t rows, size_t cols, size_t j, double *mean,
                         double *std)
{
    double s = 0;
    for (size_t i = 0; i < rows; i++)
        s += v[i * cols + j];
    double m = s / (double)rows, ss = 0;
    for (size_t i = 0; i < rows; i++)
        ss += (v[i * cols + j] - m) * (v[i * cols + j] - m);
    *mean = m;
    *std = sqrt(ss / (double)rows);
}

static void get_stat(const regnn_scaler *sc, int stat, double *buf, size_t n)
{
    CK_OK(regnn_scaler_get(sc, stat, buf, n));
}

START_TEST(test_statistics)
{
    regnn_dataset *ds = make6();
    regnn_scaler *sc = NULL;
    CK_OK(regnn_scaler_fit(ds, REGNN_SCALE_ZSCORE, REGNN_SCALE_UNIT_NORM, &sc));
    ck_assert_uint_eq(regnn_scaler_features(sc), 3);
    ck_assert_uint_eq(regnn_scaler_targets(sc), 2);
    double xm[3], xs[3], ym[2], ys[2];
    get_stat(sc, REGNN_STAT_FEATURE_MEAN, xm, 3);
    get_stat(sc, REGNN_STAT_FEATURE_SCALE, xs, 3);
    get_stat(sc, REGNN_STAT_TARGET_MEAN, ym, 2);
    get_stat(sc, REGNN_STAT_TARGET_SCALE, ys, 2);
    for (size_t j = 0; j < 3; j++) {
        double m, s;
        column_stats(X6, 6, 3, j, &m, &s);
        ck_assert_double_eq_tol(xm[j], m, 1e-12);
        ck_assert_double_eq_tol(xs[j], s > 0 ? s : 1.0, 1e-12);
    }
    ck_assert_double_eq(xm[2], 7.0); /* constant column: centred ... */
    ck_assert_double_eq(xs[2], 1.0); /* ... and scale 1 */
    for (size_t k = 0; k < 2; k++) {
        double m, s;
        column_stats(Y6, 6, 2, k, &m, &s);
        ck_assert_double_eq_tol(ym[k], m, 1e-12);
        ck_assert_double_eq_tol(ys[k], s * sqrt(6.0), 1e-9); /* UNIT_NORM: std * sqrt(n) */
    }
    ck_assert_double_eq_tol(ym[0], 850.0 / 6.0, 1e-12);
    regnn_scaler_free(sc);

    /* NONE: mean 0, scale 1. */
    CK_OK(regnn_scaler_fit(ds, REGNN_SCALE_NONE, REGNN_SCALE_ZSCORE, &sc));
    get_stat(sc, REGNN_STAT_FEATURE_MEAN, xm, 3);
    get_stat(sc, REGNN_STAT_FEATURE_SCALE, xs, 3);
    get_stat(sc, REGNN_STAT_TARGET_MEAN, ym, 2);
    for (size_t j = 0; j < 3; j++) {
        ck_assert_double_eq(xm[j], 0.0);
        ck_assert_double_eq(xs[j], 1.0);
    }
    ck_assert_double_gt(ym[0], 100.0);
    regnn_scaler_free(sc);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_statistics_large_offset)
{
    /* A large mean must not swamp a small spread (two-pass variance). */
    float x[4] = {1e6f + 1, 1e6f - 1, 1e6f + 1, 1e6f - 1}, y[4] = {0, 0, 0, 1};
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, 4, 1, 1, REGNN_COPY, &ds));
    regnn_scaler *sc = NULL;
    CK_OK(regnn_scaler_fit(ds, REGNN_SCALE_ZSCORE, REGNN_SCALE_ZSCORE, &sc));
    double m, s;
    get_stat(sc, REGNN_STAT_FEATURE_MEAN, &m, 1);
    get_stat(sc, REGNN_STAT_FEATURE_SCALE, &s, 1);
    ck_assert_double_eq(m, 1e6);
    ck_assert_double_eq(s, 1.0);
    regnn_scaler_free(sc);
    regnn_dataset_free(ds);
}
END_TEST

/* Column sums of v (rows x cols) and of its squares. */
static void column_sums(const float *v, size_t rows, size_t cols, size_t j, double *sum,
                        double *sumsq)
{
    *sum = *sumsq = 0;
    for (size_t i = 0; i < rows; i++) {
        *sum += v[i * cols + j];
        *sumsq += (double)v[i * cols + j] * v[i * cols + j];
    }
}

START_TEST(test_transform_kinds)
{
    regnn_dataset *ds = make6();
    regnn_scaler *sc = NULL;
    regnn_dataset *t = NULL;
    CK_OK(regnn_scaler_fit(ds, REGNN_SCALE_UNIT_NORM, REGNN_SCALE_ZSCORE, &sc));
    CK_OK(regnn_scaler_transform(sc, ds, &t));
    ck_assert_uint_eq(regnn_dataset_rows(t), 6);
    for (size_t j = 0; j < 3; j++) {
        double s, ss;
        column_sums(rg_dataset_view(t).x, 6, 3, j, &s, &ss);
        ck_assert_double_eq_tol(s / 6, 0.0, 1e-6);
        if (j < 2)
            ck_assert_double_eq_tol(ss, 1.0, 1e-5); /* UNIT_NORM: sum of squares 1 */
        else
            ck_assert_double_eq(ss, 0.0); /* the constant column is only centred */
    }
    for (size_t k = 0; k < 2; k++) {
        double s, ss;
        column_sums(rg_dataset_view(t).y, 6, 2, k, &s, &ss);
        ck_assert_double_eq_tol(s / 6, 0.0, 1e-6);
        ck_assert_double_eq_tol(ss / 6, 1.0, 1e-5); /* ZSCORE: population std 1 */
    }
    /* The input is unchanged and names carry over. */
    ck_assert_float_eq(rg_dataset_view(ds).x[0], X6[0]);
    ck_assert_float_eq(rg_dataset_view(ds).y[2], Y6[2]);
    ck_assert_str_eq(regnn_dataset_feature_name(t, 2), "x2");
    ck_assert_str_eq(regnn_dataset_target_name(t, 1), "y1");
    regnn_dataset_free(t);
    regnn_scaler_free(sc);

    /* NONE leaves values as they are. */
    CK_OK(regnn_scaler_fit(ds, REGNN_SCALE_NONE, REGNN_SCALE_NONE, &sc));
    CK_OK(regnn_scaler_transform(sc, ds, &t));
    ck_assert_int_eq(memcmp(rg_dataset_view(t).x, X6, sizeof X6), 0);
    ck_assert_int_eq(memcmp(rg_dataset_view(t).y, Y6, sizeof Y6), 0);
    regnn_dataset_free(t);
    regnn_scaler_free(sc);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_inverse_targets)
{
    regnn_dataset *ds = make6();
    for (int kind = REGNN_SCALE_NONE; kind <= REGNN_SCALE_UNIT_NORM; kind++) {
        regnn_scaler *sc = NULL;
        regnn_dataset *t = NULL;
        CK_OK(regnn_scaler_fit(ds, REGNN_SCALE_ZSCORE, kind, &sc));
        CK_OK(regnn_scaler_transform(sc, ds, &t));
        float back[12];
        CK_OK(regnn_scaler_inverse_targets(sc, rg_dataset_view(t).y, back, 6));
        for (size_t i = 0; i < 12; i++)
            ck_assert_float_eq_tol(back[i], Y6[i], 1e-5f * fmaxf(1.0f, fabsf(Y6[i])));
        /* In place. */
        float buf[12];
        memcpy(buf, rg_dataset_view(t).y, sizeof buf);
        CK_OK(regnn_scaler_inverse_targets(sc, buf, buf, 6));
        ck_assert_int_eq(memcmp(buf, back, sizeof buf), 0);
        if (kind != REGNN_SCALE_NONE)
            ck_assert_float_ne(rg_dataset_view(t).y[0], Y6[0]);
        regnn_dataset_free(t);
        regnn_scaler_free(sc);
    }
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_transform_features_buffer)
{
    regnn_dataset *ds = make6();
    regnn_scaler *sc = NULL;
    regnn_dataset *t = NULL;
    CK_OK(regnn_scaler_fit(ds, REGNN_SCALE_ZSCORE, REGNN_SCALE_NONE, &sc));
    CK_OK(regnn_scaler_transform(sc, ds, &t));
    float out[18], inplace[18];
    CK_OK(regnn_scaler_transform_features(sc, X6, out, 6));
    ck_assert_int_eq(memcmp(out, rg_dataset_view(t).x, sizeof out), 0);
    memcpy(inplace, X6, sizeof inplace);
    CK_OK(regnn_scaler_transform_features(sc, inplace, inplace, 6));
    ck_assert_int_eq(memcmp(inplace, out, sizeof out), 0);
    /* Fewer rows touch only those rows. */
    float part[18];
    for (size_t i = 0; i < 18; i++)
        part[i] = -99;
    CK_OK(regnn_scaler_transform_features(sc, X6, part, 2));
    ck_assert_int_eq(memcmp(part, out, 6 * sizeof(float)), 0);
    ck_assert_float_eq(part[6], -99);
    regnn_dataset_free(t);
    regnn_scaler_free(sc);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_fitted_statistics_apply_elsewhere)
{
    regnn_dataset *a = make6();
    float xb[6] = {0, 0, 7, 100, -50, 8}, yb[4] = {1000, 3, -20, 0};
    regnn_dataset *b = NULL;
    CK_OK(regnn_dataset_from_arrays(xb, yb, 2, 3, 2, REGNN_COPY, &b));
    regnn_scaler *sc = NULL;
    regnn_dataset *t = NULL;
    CK_OK(regnn_scaler_fit(a, REGNN_SCALE_ZSCORE, REGNN_SCALE_UNIT_NORM, &sc));
    CK_OK(regnn_scaler_transform(sc, b, &t));
    for (size_t j = 0; j < 3; j++) {
        double m, s;
        column_stats(X6, 6, 3, j, &m, &s);
        if (s == 0)
            s = 1;
        for (size_t i = 0; i < 2; i++)
            ck_assert_float_eq_tol(rg_dataset_view(t).x[i * 3 + j], (float)((xb[i * 3 + j] - m) / s),
                                   1e-5f);
    }
    for (size_t k = 0; k < 2; k++) {
        double m, s;
        column_stats(Y6, 6, 2, k, &m, &s);
        for (size_t i = 0; i < 2; i++)
            ck_assert_float_eq_tol(rg_dataset_view(t).y[i * 2 + k],
                                   (float)((yb[i * 2 + k] - m) / (s * sqrt(6.0))),
                                   1e-5f);
    }
    /* b's own statistics would have given something else. */
    ck_assert_float_eq_tol(rg_dataset_view(t).x[2], 0.0f, 1e-6f); /* 7 is a's constant */
    ck_assert_float_eq_tol(rg_dataset_view(t).x[5], 1.0f, 1e-6f); /* 8 - 7, scale 1 */
    regnn_dataset_free(t);
    regnn_scaler_free(sc);
    regnn_dataset_free(a);
    regnn_dataset_free(b);
}
END_TEST

START_TEST(test_diabetes_unit_norm)
{
    const char *names[1] = {"y"};
    regnn_dataset *ds = NULL, *t = NULL;
    regnn_scaler *sc = NULL;
    CK_OK(regnn_dataset_from_csv("tests/data/diabetes.csv", names, NULL, 1, &ds));
    CK_OK(regnn_scaler_fit(ds, REGNN_SCALE_UNIT_NORM, REGNN_SCALE_NONE, &sc));
    CK_OK(regnn_scaler_transform(sc, ds, &t));
    ck_assert_uint_eq(regnn_dataset_rows(t), 442);
    ck_assert_str_eq(regnn_dataset_feature_name(t, 0), "age");
    ck_assert_str_eq(regnn_dataset_feature_name(t, 2), "bmi");
    /* sklearn.datasets.load_diabetes()['data'][0][:3] */
    ck_assert_float_eq_tol(rg_dataset_view(t).x[0], 0.03807591f, 1e-5f);
    ck_assert_float_eq_tol(rg_dataset_view(t).x[1], 0.05068012f, 1e-5f);
    ck_assert_float_eq_tol(rg_dataset_view(t).x[2], 0.06169621f, 1e-5f);
    /* ... and data[441][0] */
    ck_assert_float_eq_tol(rg_dataset_view(t).x[441 * 10], -0.04547248f, 1e-5f);
    for (size_t j = 0; j < 10; j++) {
        double s, ss;
        column_sums(rg_dataset_view(t).x, 442, 10, j, &s, &ss);
        ck_assert_double_eq_tol(s / 442, 0.0, 1e-6);
        ck_assert_double_eq_tol(ss, 1.0, 1e-5);
    }
    ck_assert_float_eq(rg_dataset_view(t).y[0], 151.0f); /* targets unscaled */
    regnn_dataset_free(t);
    regnn_scaler_free(sc);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_errors)
{
    regnn_dataset *ds = make6();
    regnn_scaler *sc = (regnn_scaler *)&scaler_marker;
    CK_STATUS(regnn_scaler_fit(NULL, REGNN_SCALE_ZSCORE, REGNN_SCALE_ZSCORE, &sc),
              REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(sc);
    CK_STATUS(regnn_scaler_fit(ds, REGNN_SCALE_ZSCORE, REGNN_SCALE_ZSCORE, NULL),
              REGNN_E_INVALID_ARG);
    sc = (regnn_scaler *)&scaler_marker;
    CK_STATUS(regnn_scaler_fit(ds, 3, REGNN_SCALE_ZSCORE, &sc), REGNN_E_UNSUPPORTED);
    ck_assert_ptr_null(sc);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_scaler_fit"));
    CK_STATUS(regnn_scaler_fit(ds, REGNN_SCALE_ZSCORE, -1, &sc), REGNN_E_UNSUPPORTED);
    ck_assert_uint_eq(regnn_scaler_features(NULL), 0);
    ck_assert_uint_eq(regnn_scaler_targets(NULL), 0);
    regnn_scaler_free(NULL);

    CK_OK(regnn_scaler_fit(ds, REGNN_SCALE_ZSCORE, REGNN_SCALE_ZSCORE, &sc));
    double buf[3] = {-1, -1, -1};
    CK_STATUS(regnn_scaler_get(sc, REGNN_STAT_FEATURE_MEAN, buf, 2), REGNN_E_SHAPE);
    ck_assert_double_eq(buf[0], -1);
    CK_STATUS(regnn_scaler_get(sc, 0, buf, 3), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_scaler_get(sc, 5, buf, 3), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_scaler_get(NULL, REGNN_STAT_FEATURE_MEAN, buf, 3), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_scaler_get(sc, REGNN_STAT_FEATURE_MEAN, NULL, 3), REGNN_E_INVALID_ARG);
    CK_OK(regnn_scaler_get(sc, REGNN_STAT_TARGET_SCALE, buf, 2));

    /* Shapes must match the fitted ones. */
    float x[4] = {1, 2, 3, 4}, y[2] = {1, 2};
    regnn_dataset *other = NULL, *t = (regnn_dataset *)&dataset_marker;
    CK_OK(regnn_dataset_from_arrays(x, y, 2, 2, 1, REGNN_COPY, &other));
    CK_STATUS(regnn_scaler_transform(sc, other, &t), REGNN_E_SHAPE);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "3 features and 2 targets"));
    t = (regnn_dataset *)&dataset_marker;
    CK_STATUS(regnn_scaler_transform(NULL, ds, &t), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(t);
    t = (regnn_dataset *)&dataset_marker;
    CK_STATUS(regnn_scaler_transform(sc, NULL, &t), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(t);
    CK_STATUS(regnn_scaler_transform(sc, ds, NULL), REGNN_E_INVALID_ARG);

    /* Buffers. */
    float in[6] = {1, 2, 3, 4, 5, 6}, out[6] = {0};
    CK_STATUS(regnn_scaler_transform_features(NULL, in, out, 2), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_scaler_transform_features(sc, NULL, out, 2), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_scaler_transform_features(sc, in, NULL, 2), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_scaler_transform_features(sc, in, out, 0), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_scaler_transform_features(sc, in, out, SIZE_MAX / 2), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "too large"));
    CK_STATUS(regnn_scaler_transform_features(sc, in, out, SIZE_MAX / 3 + 1), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_scaler_inverse_targets(NULL, in, out, 3), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_scaler_inverse_targets(sc, NULL, out, 3), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_scaler_inverse_targets(sc, in, NULL, 3), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_scaler_inverse_targets(sc, in, out, 0), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_scaler_inverse_targets(sc, in, out, SIZE_MAX / 2), REGNN_E_INVALID_ARG);
    for (size_t i = 0; i < 6; i++)
        ck_assert_float_eq(out[i], 0); /* nothing written by a failing call */
    regnn_dataset_free(other);
    regnn_scaler_free(sc);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_transform_overflow)
{
    /* A tiny spread scales a far-off value of another dataset past FLT_MAX. */
    float xa[2] = {0, 1e-30f}, ya[2] = {0, 1};
    float xb[2] = {1e12f, 0}, yb[2] = {0, 1};
    regnn_dataset *a = NULL, *b = NULL, *t = (regnn_dataset *)&dataset_marker;
    CK_OK(regnn_dataset_from_arrays(xa, ya, 2, 1, 1, REGNN_COPY, &a));
    CK_OK(regnn_dataset_from_arrays(xb, yb, 2, 1, 1, REGNN_COPY, &b));
    regnn_scaler *sc = NULL;
    CK_OK(regnn_scaler_fit(a, REGNN_SCALE_ZSCORE, REGNN_SCALE_ZSCORE, &sc));
    long live = regnn__test_alloc_live();
    CK_STATUS(regnn_scaler_transform(sc, b, &t), REGNN_E_NUMERIC);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(regnn__test_alloc_live(), live);
    CK_OK(regnn_scaler_transform(sc, a, &t)); /* its own data is fine */
    regnn_dataset_free(t);
    regnn_scaler_free(sc);
    regnn_dataset_free(a);
    regnn_dataset_free(b);
}
END_TEST

START_TEST(test_alloc_failure_fit_transform)
{
    regnn_dataset *ds = make6();
    for (int persistent = 0; persistent <= 1; persistent++) {
        long n;
        for (n = 1; n < 100; n++) {
            regnn_scaler *sc = (regnn_scaler *)&scaler_marker;
            regnn_dataset *t = NULL;
            long live = regnn__test_alloc_live();
            regnn__test_alloc_fail_at(n, persistent);
            regnn_status st = regnn_scaler_fit(ds, REGNN_SCALE_UNIT_NORM, REGNN_SCALE_ZSCORE, &sc);
            if (st == REGNN_OK) {
                t = (regnn_dataset *)&dataset_marker;
                st = regnn_scaler_transform(sc, ds, &t);
                if (st != REGNN_OK) {
                    regnn_scaler_free(sc);
                    sc = NULL;
                }
            }
            long used = regnn__test_alloc_count();
            regnn__test_alloc_fail_at(0, 0);
            if (st == REGNN_OK) {
                ck_assert_int_lt(used, n);
                ck_assert_float_ne(rg_dataset_view(t).y[0], Y6[0]);
                regnn_dataset_free(t);
                regnn_scaler_free(sc);
                ck_assert_int_eq(regnn__test_alloc_live(), live);
                break;
            }
            ck_assert_msg(st == REGNN_E_NOMEM, "n %ld: %d %s", n, st, regnn_errmsg());
            ck_assert_ptr_null(sc);
            ck_assert_ptr_null(t);
            ck_assert_msg(regnn__test_alloc_live() == live, "n %ld: %ld blocks leaked", n,
                          regnn__test_alloc_live() - live);
        }
        ck_assert_int_gt(n, 5);
        ck_assert_int_lt(n, 100);
    }
    regnn_dataset_free(ds);
}
END_TEST

static Suite *scaler_suite(void)
{
    Suite *s = suite_create("scaler");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_statistics);
    tcase_add_test(tc, test_statistics_large_offset);
    tcase_add_test(tc, test_transform_kinds);
    tcase_add_test(tc, test_inverse_targets);
    tcase_add_test(tc, test_transform_features_buffer);
    tcase_add_test(tc, test_fitted_statistics_apply_elsewhere);
    tcase_add_test(tc, test_diabetes_unit_norm);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_transform_overflow);
    tcase_add_test(tc, test_alloc_failure_fit_transform);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(scaler_suite)
