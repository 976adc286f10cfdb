/* SPDX-License-Identifier: MIT */
/* Model handle: topology, layers, initialization, parameter layout, predict,
 * evaluate, copy, errors and allocation failures. */
#include "testutil.h"
#include "model/model_impl.h" /* the model's fields, which this test reads or breaks */

#include <math.h>
#include <pthread.h>
#include <string.h>

static regnn_model *mlp(size_t n_in, const size_t *units, size_t n, int act, uint64_t seed)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(n_in, &m));
    for (size_t i = 0; i < n; i++)
        CK_OK(regnn_model_add_dense(m, units[i], i + 1 < n ? act : REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    return m;
}

START_TEST(test_create_and_topology)
{
    regnn_model *m = NULL;
    CK_STATUS(regnn_model_create(0, &m), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(m);
    CK_STATUS(regnn_model_create(3, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_create((size_t)1 << 40, &m), REGNN_E_INVALID_ARG);
    CK_OK(regnn_model_create(3, &m));
    ck_assert_uint_eq(regnn_model_inputs(m), 3);
    ck_assert_uint_eq(regnn_model_outputs(m), 0);
    ck_assert_uint_eq(regnn_model_param_count(m), 0);
    regnn_layer *l0 = NULL, *l1 = NULL;
    CK_STATUS(regnn_model_add_dense(m, 0, REGNN_ACT_RELU, &l0), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_add_dense(m, 4, 77, &l0), REGNN_E_UNSUPPORTED);
    ck_assert_ptr_null(l0);
    ck_assert_uint_eq(regnn_model_layer_count(m), 0); /* failed adds added nothing */
    CK_OK(regnn_model_add_dense(m, 4, REGNN_ACT_RELU, &l0));
    CK_OK(regnn_model_add_dense(m, 2, REGNN_ACT_LINEAR, &l1));
    ck_assert_uint_eq(regnn_model_layer_count(m), 2);
    ck_assert_ptr_eq(regnn_model_layer(m, 0), l0);
    ck_assert_ptr_eq(regnn_model_layer(m, 1), l1);
    ck_assert_ptr_null(regnn_model_layer(m, 2));
    ck_assert_uint_eq(regnn_layer_inputs(l1), 4);
    ck_assert_uint_eq(regnn_layer_units(l1), 2);
    ck_assert_int_eq(regnn_layer_activation(l0), REGNN_ACT_RELU);
    ck_assert_int_eq(regnn_layer_activation(NULL), -1);
    ck_assert_uint_eq(regnn_layer_param_count(l0), 3 * 4 + 4);
    ck_assert_uint_eq(regnn_model_param_count(m), 16 + 10);
    ck_assert_uint_eq(regnn_model_outputs(m), 2);
    float x[3] = {1, 2, 3}, y[2];
    CK_STATUS(regnn_model_predict(m, x, 1, y, 2), REGNN_E_STATE); /* not initialized */
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "not initialized"));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 1));
    CK_STATUS(regnn_model_add_dense(m, 2, REGNN_ACT_LINEAR, NULL), REGNN_E_STATE);
    CK_STATUS(regnn_model_init(m, 9, 1), REGNN_E_UNSUPPORTED);
    regnn_model_free(m);
    regnn_model_free(NULL);

    CK_OK(regnn_model_create(3, &m));
    CK_STATUS(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 1), REGNN_E_STATE); /* no layers */
    regnn_model_free(m);
}
END_TEST

START_TEST(test_layer_settings)
{
    size_t units[] = {4, 1};
    regnn_model *m = mlp(2, units, 2, REGNN_ACT_RELU, 1);
    regnn_layer *l = regnn_model_layer(m, 0);
    double v = -1;
    CK_OK(regnn_layer_get_double(l, REGNN_LAYER_L2, &v));
    ck_assert_double_eq(v, 0.0);
    CK_OK(regnn_layer_set_double(l, REGNN_LAYER_L2, 1e-3));
    CK_OK(regnn_layer_get_double(l, REGNN_LAYER_L2, &v));
    ck_assert_double_eq(v, 1e-3);
    CK_STATUS(regnn_layer_set_double(l, REGNN_LAYER_L2, -1), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_layer_set_double(l, REGNN_LAYER_L1, NAN), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_layer_set_double(l, REGNN_LAYER_L1, INFINITY), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_layer_set_double(l, REGNN_LAYER_DROPOUT, 1.0), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_layer_set_double(l, 99, 0.1), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_layer_get_double(l, 99, &v), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_layer_set_double(NULL, REGNN_LAYER_L2, 0.1), REGNN_E_INVALID_ARG);
    CK_OK(regnn_layer_get_double(l, REGNN_LAYER_L2, &v));
    ck_assert_double_eq(v, 1e-3);
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L1, 0.5));
    CK_OK(regnn_layer_get_double(regnn_model_layer(m, 1), REGNN_LAYER_L1, &v));
    ck_assert_double_eq(v, 0.5);
    CK_STATUS(regnn_model_set_layers_double(m, REGNN_LAYER_DROPOUT, 2.0), REGNN_E_INVALID_ARG);
    CK_OK(regnn_layer_get_double(regnn_model_layer(m, 1), REGNN_LAYER_DROPOUT, &v));
    ck_assert_double_eq(v, 0.0);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_layer_setting_messages)
{
    size_t units[] = {4, 1};
    regnn_model *m = mlp(2, units, 2, REGNN_ACT_RELU, 1);
    regnn_layer *l = regnn_model_layer(m, 0);
    CK_STATUS(regnn_layer_set_double(l, REGNN_LAYER_L2, -1), REGNN_E_INVALID_ARG);
    ck_assert_str_eq(regnn_errmsg(),
                     "regnn_layer_set_double: REGNN_LAYER_L2 must be finite and >= 0, got -1");
    CK_STATUS(regnn_layer_set_double(l, REGNN_LAYER_L1, INFINITY), REGNN_E_INVALID_ARG);
    ck_assert_str_eq(regnn_errmsg(),
                     "regnn_layer_set_double: REGNN_LAYER_L1 must be finite and >= 0, got inf");
    CK_STATUS(regnn_model_set_layers_double(m, REGNN_LAYER_DROPOUT, 1.5), REGNN_E_INVALID_ARG);
    ck_assert_str_eq(regnn_errmsg(),
                     "regnn_model_set_layers_double: REGNN_LAYER_DROPOUT must be in [0, 1), got 1.5");
    CK_STATUS(regnn_layer_set_double(l, 99, 0.5), REGNN_E_UNSUPPORTED);
    ck_assert_str_eq(regnn_errmsg(),
                     "regnn_layer_set_double: unknown layer key 99 (not a REGNN_LAYER_* value)");
    regnn_model_free(m);
}
END_TEST

START_TEST(test_init_schemes)
{
    size_t units[] = {200, 50};
    regnn_model *a = mlp(100, units, 2, REGNN_ACT_RELU, 42);
    regnn_model *b = mlp(100, units, 2, REGNN_ACT_RELU, 42);
    regnn_model *c = mlp(100, units, 2, REGNN_ACT_RELU, 43);
    size_t np = regnn_model_param_count(a);
    float *pa = malloc(np * sizeof *pa), *pb = malloc(np * sizeof *pb), *pc = malloc(np * sizeof *pc);
    CK_OK(regnn_model_get_params(a, pa, np));
    CK_OK(regnn_model_get_params(b, pb, np));
    CK_OK(regnn_model_get_params(c, pc, np));
    ck_assert_mem_eq(pa, pb, np * sizeof *pa);              /* same seed, same bits */
    ck_assert_int_ne(memcmp(pa, pc, np * sizeof *pa), 0); /* other seed, other weights */
    /* Glorot-uniform on layer 0: |w| <= sqrt(6/300), variance limit^2/3; bias 0. */
    double lim = sqrt(6.0 / 300.0), s2 = 0;
    for (size_t k = 0; k < 100 * 200; k++) {
        ck_assert(fabs(pa[k]) <= lim);
        s2 += (double)pa[k] * pa[k];
    }
    ck_assert_double_eq_tol(s2 / 20000, lim * lim / 3, 0.05 * lim * lim / 3);
    for (size_t k = 0; k < 200; k++)
        ck_assert_float_eq(pa[20000 + k], 0.0f);
    /* He-uniform: limit sqrt(6 / fan_in). */
    CK_OK(regnn_model_init(c, REGNN_INIT_HE_UNIFORM, 42));
    CK_OK(regnn_model_get_params(c, pc, np));
    double lim_he = sqrt(6.0 / 100.0), mx = 0;
    for (size_t k = 0; k < 20000; k++)
        mx = fabs(pc[k]) > mx ? fabs(pc[k]) : mx;
    ck_assert(mx <= lim_he && mx > 0.95 * lim_he && mx > lim);
    free(pa);
    free(pb);
    free(pc);
    regnn_model_free(a);
    regnn_model_free(b);
    regnn_model_free(c);
}
END_TEST

START_TEST(test_param_layout_is_keras)
{
    /* 2 inputs -> 3 units -> 1: kernel[i][j] row-major (inputs x units), then bias. */
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(2, &m));
    CK_OK(regnn_model_add_dense(m, 3, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    float p[13] = {1, 2, 3, /* w[0][0..2] */ 4, 5, 6, /* w[1][0..2] */ 0.5f, 0.25f, -1, /* b */
                   1, 10, 100, /* second kernel (3 x 1) */ 7 /* second bias */};
    CK_STATUS(regnn_model_set_params(m, p, 12), REGNN_E_SHAPE);
    CK_OK(regnn_model_set_params(m, p, 13));
    float x[2] = {1, -1}, y;
    CK_OK(regnn_model_predict(m, x, 1, &y, 1));
    /* h = [1-4+0.5, 2-5+0.25, 3-6-1] = [-2.5, -2.75, -4]; y = -2.5 - 27.5 - 400 + 7 */
    ck_assert_float_eq_tol(y, -423.0f, 1e-4f);
    float lp[9];
    CK_OK(regnn_layer_get_params(regnn_model_layer(m, 0), lp, 9));
    ck_assert_mem_eq(lp, p, sizeof lp);
    CK_STATUS(regnn_layer_get_params(regnn_model_layer(m, 0), lp, 8), REGNN_E_SHAPE);
    float l1p[4] = {0, 0, 1, 0};
    CK_OK(regnn_layer_set_params(regnn_model_layer(m, 1), l1p, 4));
    CK_OK(regnn_model_predict(m, x, 1, &y, 1));
    ck_assert_float_eq_tol(y, -4.0f, 1e-5f);
    l1p[0] = NAN;
    CK_STATUS(regnn_layer_set_params(regnn_model_layer(m, 1), l1p, 4), REGNN_E_NUMERIC);
    float all[13];
    CK_OK(regnn_model_get_params(m, all, 13));
    ck_assert_float_eq(all[9], 0.0f); /* the failed set changed nothing */
    p[3] = INFINITY;
    CK_STATUS(regnn_model_set_params(m, p, 13), REGNN_E_NUMERIC);
    CK_OK(regnn_model_get_params(m, all, 13));
    ck_assert_float_eq(all[3], 4.0f);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_predict_errors_and_batches)
{
    size_t units[] = {16, 16, 2};
    regnn_model *m = mlp(3, units, 3, REGNN_ACT_TANH, 5);
    enum { N = 1000 };
    float *x = malloc(N * 3 * sizeof *x), *y = malloc(N * 2 * sizeof *y), one[2];
    for (size_t i = 0; i < N * 3; i++)
        x[i] = (float)sin((double)i);
    CK_OK(regnn_model_predict(m, x, N, y, N * 2));
    /* Batch predict equals row-by-row predict (chunking is invisible). */
    for (size_t r = 0; r < N; r += 97) {
        CK_OK(regnn_model_predict(m, x + r * 3, 1, one, 2));
        ck_assert_float_eq_tol(one[0], y[r * 2], 1e-6f);
        ck_assert_float_eq_tol(one[1], y[r * 2 + 1], 1e-6f);
    }
    CK_STATUS(regnn_model_predict(m, x, N, y, N * 2 - 1), REGNN_E_SHAPE);
    CK_STATUS(regnn_model_predict(m, NULL, 1, y, 2), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_predict(m, x, 0, y, 2), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_predict(m, x, SIZE_MAX / 2, y, 2), REGNN_E_INVALID_ARG);
    x[4] = NAN;
    y[0] = 123.0f;
    CK_STATUS(regnn_model_predict(m, x, 2, y, 4), REGNN_E_NUMERIC);
    ck_assert_float_eq(y[0], 123.0f); /* output untouched on failure */
    free(x);
    free(y);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_wide_model_predict_uses_heap)
{
    /* Wider than the stack scratch: predict still works and frees its scratch. */
    size_t units[] = {5000, 1};
    regnn_model *m = mlp(2, units, 2, REGNN_ACT_RELU, 1);
    float x[4] = {1, 2, 3, 4}, y[2];
    long live = regnn__test_alloc_live();
    CK_OK(regnn_model_predict(m, x, 2, y, 2));
    ck_assert_int_eq(regnn__test_alloc_live(), live);
    float y1;
    CK_OK(regnn_model_predict(m, x + 2, 1, &y1, 1));
    ck_assert_float_eq_tol(y1, y[1], 1e-5f);
    regnn__test_alloc_fail_at(1, 1);
    CK_STATUS(regnn_model_predict(m, x, 2, y, 2), REGNN_E_NOMEM);
    regnn__test_alloc_fail_at(0, 0);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_evaluate)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(1, &m));
    regnn_layer *l = NULL;
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, &l));
    float p[2] = {2.0f, 1.0f}; /* y = 2x + 1 */
    CK_OK(regnn_model_set_params(m, p, 2));
    CK_OK(regnn_layer_set_double(l, REGNN_LAYER_L2, 0.1));
    float x[3] = {0, 1, 2}, t[3] = {1, 4, 4}; /* errors 0, -1, +1 */
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, t, 3, 1, 1, REGNN_COPY, &ds));
    double mse = -1, mae = -1, pen = -1;
    CK_OK(regnn_model_evaluate(m, ds, &mse, &mae, &pen));
    ck_assert_double_eq_tol(mse, 2.0 / 3.0, 1e-9);
    ck_assert_double_eq_tol(mae, 2.0 / 3.0, 1e-9);
    ck_assert_double_eq_tol(pen, 0.1 * 4.0, 1e-9);
    CK_OK(regnn_model_evaluate(m, ds, NULL, NULL, NULL));
    regnn_dataset *wrong = NULL;
    float x2[6] = {0};
    CK_OK(regnn_dataset_from_arrays(x2, t, 3, 2, 1, REGNN_COPY, &wrong));
    CK_STATUS(regnn_model_evaluate(m, wrong, &mse, NULL, NULL), REGNN_E_SHAPE);
    CK_STATUS(regnn_model_evaluate(NULL, ds, &mse, NULL, NULL), REGNN_E_INVALID_ARG);
    regnn_dataset_free(wrong);
    regnn_dataset_free(ds);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_copy_is_independent)
{
    size_t units[] = {8, 1};
    regnn_model *a = mlp(3, units, 2, REGNN_ACT_RELU, 11), *b = NULL;
    CK_OK(regnn_layer_set_double(regnn_model_layer(a, 0), REGNN_LAYER_L2, 0.01));
    CK_OK(regnn_model_copy(a, &b));
    ck_assert_uint_eq(regnn_model_param_count(b), regnn_model_param_count(a));
    double v;
    CK_OK(regnn_layer_get_double(regnn_model_layer(b, 0), REGNN_LAYER_L2, &v));
    ck_assert_double_eq(v, 0.01);
    float x[3] = {1, 2, 3}, ya, yb;
    CK_OK(regnn_model_predict(a, x, 1, &ya, 1));
    CK_OK(regnn_model_predict(b, x, 1, &yb, 1));
    ck_assert_float_eq(ya, yb);
    CK_OK(regnn_model_init(b, REGNN_INIT_GLOROT_UNIFORM, 99));
    float ya2;
    CK_OK(regnn_model_predict(a, x, 1, &ya2, 1));
    ck_assert_float_eq(ya, ya2);
    regnn_model_free(a);
    /* The copy outlives its source; its layer handles point to the copy. */
    ck_assert_ptr_eq(regnn_model_layer(b, 0)->model, b);
    CK_OK(regnn_model_predict(b, x, 1, &yb, 1));
    regnn_model_free(b);
}
END_TEST

/* Build + init a 3-layer model; fail allocation N once and persistently. */
static regnn_status build_model(regnn_model **out)
{
    regnn_model *m = NULL;
    regnn_status st = regnn_model_create(4, &m);
    for (int i = 0; st == REGNN_OK && i < 3; i++)
        st = regnn_model_add_dense(m, 8, REGNN_ACT_RELU, NULL);
    if (st == REGNN_OK)
        st = regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 1);
    if (st != REGNN_OK) {
        regnn_model_free(m);
        m = NULL;
    }
    *out = m;
    return st;
}

START_TEST(test_alloc_failure_model_build)
{
    long base = regnn__test_alloc_live();
    int points = 0;
    for (int persistent = 0; persistent <= 1; persistent++) {
        for (long n = 1; n < 1000; n++) {
            regnn_model *m = (regnn_model *)1;
            regnn__test_alloc_fail_at(n, persistent);
            regnn_status st = build_model(&m);
            long tried = regnn__test_alloc_count();
            regnn__test_alloc_fail_at(0, 0);
            if (st == REGNN_OK) {
                ck_assert_int_lt(tried, n);
                regnn_model_free(m);
                ck_assert_int_eq(regnn__test_alloc_live(), base);
                break;
            }
            points++;
            ck_assert_int_eq(st, REGNN_E_NOMEM);
            ck_assert_ptr_null(m);
            ck_assert_msg(regnn__test_alloc_live() == base, "leak after failing alloc %ld", n);
        }
    }
    ck_assert_int_ge(points, 10);

    /* copy: the source is untouched and usable after every failure. */
    regnn_model *src = NULL;
    CK_OK(build_model(&src));
    for (long n = 1; n < 100; n++) {
        regnn_model *c = (regnn_model *)1;
        regnn__test_alloc_fail_at(n, 0);
        regnn_status st = regnn_model_copy(src, &c);
        regnn__test_alloc_fail_at(0, 0);
        if (st == REGNN_OK) {
            regnn_model_free(c);
            break;
        }
        ck_assert_int_eq(st, REGNN_E_NOMEM);
        ck_assert_ptr_null(c);
    }
    float x[4] = {1, 2, 3, 4}, y[8];
    CK_OK(regnn_model_predict(src, x, 1, y, 8));
    regnn_model_free(src);
    ck_assert_int_eq(regnn__test_alloc_live(), base);
}
END_TEST

typedef struct {
    const regnn_model *m;
    const float *x;
    float *y;
    size_t rows;
    int status;
} predict_job;

static void *predict_thread(void *arg)
{
    predict_job *j = arg;
    for (int it = 0; it < 50 && j->status == REGNN_OK; it++)
        j->status = regnn_model_predict(j->m, j->x, j->rows, j->y, j->rows);
    return NULL;
}

START_TEST(test_concurrent_predict)
{
    size_t units[] = {32, 32, 1};
    regnn_model *m = mlp(4, units, 3, REGNN_ACT_RELU, 3);
    enum { ROWS = 100, T = 4 };
    float x[ROWS * 4], ref[ROWS], out[T][ROWS];
    for (size_t i = 0; i < ROWS * 4; i++)
        x[i] = (float)cos((double)i);
    CK_OK(regnn_model_predict(m, x, ROWS, ref, ROWS));
    pthread_t th[T];
    predict_job jobs[T];
    for (int t = 0; t < T; t++) {
        jobs[t] = (predict_job){m, x, out[t], ROWS, REGNN_OK};
        ck_assert_int_eq(pthread_create(&th[t], NULL, predict_thread, &jobs[t]), 0);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        ck_assert_int_eq(jobs[t].status, REGNN_OK);
        ck_assert_mem_eq(out[t], ref, sizeof ref);
    }
    regnn_model_free(m);
}
END_TEST

/* A snapshot puts back the parameters and the random stream, and drops a
 * workspace the model did not have; a release keeps one it had. */
START_TEST(test_snapshot_restore_release)
{
    const size_t units[2] = {4, 1};
    regnn_model *m = mlp(3, units, 2, REGNN_ACT_RELU, 5);
    const size_t np = regnn_model_param_count(m);
    float p0[21], p1[21], other[21];
    ck_assert_uint_eq(np, 21);
    CK_OK(regnn_model_get_params(m, p0, np));
    rg_model_snap s;
    CK_OK(rg_model_snapshot(m, 8, &s));
    ck_assert_int_eq(s.had_ws, 0);
    size_t a[10], b[10];
    rg_model_permutation(m, a, 10);
    CK_OK(rg_model_reserve(m, 8));
    ck_assert_int_eq(rg_model_has_workspace(m, 8), 1);
    for (size_t i = 0; i < np; i++)
        other[i] = (float)i;
    CK_OK(regnn_model_set_params(m, other, np));
    rg_model_restore(m, &s);
    ck_assert_ptr_null(s.params);
    CK_OK(regnn_model_get_params(m, p1, np));
    ck_assert_mem_eq(p1, p0, sizeof p0);
    ck_assert_int_eq(rg_model_has_workspace(m, 8), 0);
    rg_model_permutation(m, b, 10);
    ck_assert_mem_eq(a, b, sizeof a);

    CK_OK(rg_model_reserve(m, 8));
    CK_OK(rg_model_snapshot(m, 8, &s));
    ck_assert_int_eq(s.had_ws, 1);
    ck_assert_int_eq(rg_model_has_workspace(m, 9), 0);
    rg_model_release(m, &s);
    ck_assert_int_eq(rg_model_has_workspace(m, 8), 1);
    regnn_model_free(m);
}
END_TEST

/* A process's shard of a step: the bounds rg_model_shards gives; none past them. */
START_TEST(test_shard_part_matches_shards)
{
    const size_t units[3] = {64, 64, 1};
    regnn_model *m = mlp(16, units, 3, REGNN_ACT_RELU, 1);
    CK_OK(regnn_model_set_threads(m, 4));
    CK_OK(rg_model_reserve(m, 256));
    const size_t rows[4] = {1, 31, 64, 256};
    for (size_t k = 0; k < 4; k++) {
        size_t bd[8] = {0};
        const size_t n = rg_model_shards(m, rows[k], bd);
        ck_assert_uint_ge(n, rows[k] == 256 ? 2 : 1); /* a split step among them */
        for (size_t i = 0; i <= n; i++) {
            size_t lo = 99, len = 99;
            ck_assert_uint_eq(rg_model_shard_part(m, rows[k], i, &lo, &len), n);
            ck_assert_uint_eq(lo, i < n ? bd[i] : 0);
            ck_assert_uint_eq(len, i < n ? bd[i + 1] - bd[i] : 0);
        }
    }
    regnn_model_free(m);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_create_and_topology);
    tcase_add_test(tc, test_layer_settings);
    tcase_add_test(tc, test_layer_setting_messages);
    tcase_add_test(tc, test_init_schemes);
    tcase_add_test(tc, test_param_layout_is_keras);
    tcase_add_test(tc, test_predict_errors_and_batches);
    tcase_add_test(tc, test_wide_model_predict_uses_heap);
    tcase_add_test(tc, test_evaluate);
    tcase_add_test(tc, test_copy_is_independent);
    tcase_add_test(tc, test_alloc_failure_model_build);
    tcase_add_test(tc, test_concurrent_predict);
    tcase_add_test(tc, test_snapshot_restore_release);
    tcase_add_test(tc, test_shard_part_matches_shards);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(model_suite)
