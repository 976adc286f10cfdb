/* SPDX-License-Identifier: MIT */
/* LayerNormalization: topology and parameters, the forward pass against its
 * formula, the gradient against finite differences of the loss computed here,
 * the same bits on any thread count, a data-parallel fit, files and
 * checkpoints, bad values. */
#define _POSIX_C_SOURCE 200809L /* pthread barriers (dp_emulate.h) */
#include "testutil.h"
#include "dp_emulate.h"

#include <math.h>
#include <string.h>

/* 3 -> dense 4 (act) -> LayerNormalization(eps) -> dense 1 linear. */
static regnn_model *ln_net(double eps, int act, uint64_t seed)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_dense(m, 4, act, NULL));
    CK_OK(regnn_model_add_layer_normalization(m, eps, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    return m;
}

enum { NI = 3, NH = 4, NP = NI * NH + NH + 2 * NH + NH + 1 };

/* The model's output for row x in double, from its formula (linear hidden layer). */
static double ln_out(const double *p, const float *x, double eps)
{
    const double *w1 = p, *b1 = w1 + NI * NH, *gam = b1 + NH, *bet = gam + NH, *w2 = bet + NH,
                 *b2 = w2 + NH;
    double h[NH], mean = 0, var = 0;
    for (int k = 0; k < NH; k++) {
        h[k] = b1[k];
        for (int i = 0; i < NI; i++)
            h[k] += x[i] * w1[i * NH + k];
        mean += h[k] / NH;
    }
    for (int k = 0; k < NH; k++)
        var += (h[k] - mean) * (h[k] - mean) / NH;
    double o = b2[0];
    for (int k = 0; k < NH; k++)
        o += (gam[k] * (h[k] - mean) / sqrt(var + eps) + bet[k]) * w2[k];
    return o;
}

START_TEST(test_topology_and_forward)
{
    regnn_model *m = ln_net(1e-3, REGNN_ACT_LINEAR, 5);
    regnn_layer *l = regnn_model_layer(m, 1);
    ck_assert_int_eq(regnn_layer_type(l), REGNN_LAYERTYPE_LAYER_NORMALIZATION);
    ck_assert_double_eq(regnn_layer_noise(l), 1e-3);
    ck_assert_uint_eq(regnn_layer_param_count(l), 2 * NH);
    ck_assert_uint_eq(regnn_model_param_count(m), NP);
    float g[8];
    CK_OK(regnn_layer_get_params(l, g, 8));
    for (int k = 0; k < NH; k++) { /* Keras: gamma ones, beta zeros */
        ck_assert(g[k] == 1.0f);
        ck_assert(g[NH + k] == 0.0f);
    }
    CK_STATUS(regnn_layer_set_double(l, REGNN_LAYER_L2, 0.1), REGNN_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "LayerNormalization"));
    /* gamma and beta away from their start, then predict against the formula */
    for (int k = 0; k < 2 * NH; k++)
        g[k] = (float)(k < NH ? 0.6 + 0.3 * k : 0.2 * k - 1.0);
    CK_OK(regnn_layer_set_params(l, g, 8));
    float p[NP], x[5 * NI], y[5];
    double pd[NP];
    CK_OK(regnn_model_get_params(m, p, NP));
    for (int k = 0; k < NP; k++)
        pd[k] = p[k];
    for (int i = 0; i < 5 * NI; i++)
        x[i] = (float)(3.0 * sin(1.3 * i));
    CK_OK(regnn_model_predict(m, x, 5, y, 5));
    for (int r = 0; r < 5; r++)
        ck_assert_double_eq_tol(y[r], ln_out(pd, x + r * NI, 1e-3), 1e-5);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_bad_epsilon)
{
    regnn_model *m = NULL;
    regnn_layer *l = (regnn_layer *)&l;
    CK_OK(regnn_model_create(3, &m));
    const double bad[4] = {0.0, -1e-3, NAN, INFINITY};
    for (int k = 0; k < 4; k++) {
        CK_STATUS(regnn_model_add_layer_normalization(m, bad[k], &l), REGNN_E_INVALID_ARG);
        ck_assert_ptr_null(l);
        ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "epsilon must be finite and > 0"));
    }
    ck_assert_uint_eq(regnn_model_layer_count(m), 0);
    CK_OK(regnn_model_add_layer_normalization(m, 1e-3, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 1)); /* its parameters suffice */
    CK_STATUS(regnn_model_add_layer_normalization(m, 1e-3, NULL), REGNN_E_STATE);
    regnn_model_free(m);
}
END_TEST

/* One step's gradient (MSE of R rows) against central differences of the
 * loss computed from the formula. */
START_TEST(test_gradient_finite_differences)
{
    enum { R = 6 };
    const double eps = 1e-3;
    regnn_model *m = ln_net(eps, REGNN_ACT_LINEAR, 2);
    float g8[8] = {1.3f, 0.7f, -0.4f, 1.1f, 0.2f, -0.3f, 0.05f, 0.4f};
    CK_OK(regnn_layer_set_params(regnn_model_layer(m, 1), g8, 8));
    float x[R * NI], y[R], p[NP], grad[NP];
    for (int i = 0; i < R * NI; i++)
        x[i] = (float)(2.0 * cos(0.9 * i + 0.3));
    for (int r = 0; r < R; r++)
        y[r] = (float)(0.3 * r - 0.8);
    CK_OK(regnn_model_get_params(m, p, NP));
    /* SGD with learning rate 1 and no momentum: the step is the gradient. */
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &o));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 1.0));
    double loss;
    CK_OK(regnn_train_batch(m, o, x, y, R, &loss));
    float after[NP];
    CK_OK(regnn_model_get_params(m, after, NP));
    for (int k = 0; k < NP; k++)
        grad[k] = p[k] - after[k];
    double pd[NP], l0 = 0;
    for (int k = 0; k < NP; k++)
        pd[k] = p[k];
    for (int r = 0; r < R; r++)
        l0 += pow(ln_out(pd, x + r * NI, eps) - y[r], 2) / R;
    ck_assert_double_eq_tol(loss, l0, 1e-5);
    for (int k = 0; k < NP; k++) {
        const double h = 1e-5, save = pd[k];
        double up = 0, dn = 0;
        pd[k] = save + h;
        for (int r = 0; r < R; r++)
            up += pow(ln_out(pd, x + r * NI, eps) - y[r], 2) / R;
        pd[k] = save - h;
        for (int r = 0; r < R; r++)
            dn += pow(ln_out(pd, x + r * NI, eps) - y[r], 2) / R;
        pd[k] = save;
        const double fd = (up - dn) / (2 * h);
        ck_assert_msg(fabs(fd - grad[k]) <= 1e-4 + 1e-3 * fabs(fd), "parameter %d: %g vs %g", k,
                      fd, (double)grad[k]);
    }
    regnn_optimizer_free(o);
    regnn_model_free(m);
}
END_TEST

static regnn_model *deep(size_t threads)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_layer_normalization(m, 1e-3, NULL));
    CK_OK(regnn_model_add_dense(m, 16, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_layer_normalization(m, 1e-3, NULL));
    CK_OK(regnn_model_add_dense(m, 16, REGNN_ACT_TANH, NULL));
    CK_OK(regnn_model_add_gaussian_noise(m, 0.1, NULL));
    CK_OK(regnn_model_add_layer_normalization(m, 1e-2, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, 1e-3));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 4));
    CK_OK(regnn_model_set_threads(m, threads));
    return m;
}

/* Sharded (64), owned-row (200) and layer-by-layer (600) steps: 1 and 3
 * threads give the same bits; and the LN parameters moved. */
START_TEST(test_threads_same_bits)
{
    enum { N = 600 };
    static float x[N * 3], y[N];
    for (int i = 0; i < N * 3; i++)
        x[i] = (float)sin(0.37 * i);
    for (int r = 0; r < N; r++)
        y[r] = (float)(x[3 * r] - 0.5 * x[3 * r + 1] * x[3 * r + 2]);
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, N, 3, 1, REGNN_COPY, &ds));
    const int64_t batches[3] = {64, 200, 600};
    for (int b = 0; b < 3; b++) {
        float ref[512], got[512];
        size_t np = 0;
        for (size_t threads = 1; threads <= 3; threads += 2) {
            regnn_model *m = deep(threads);
            regnn_optimizer *o = NULL;
            CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
            regnn_fit_options *fo = NULL;
            CK_OK(regnn_fit_options_create(&fo));
            CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 3));
            CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, batches[b]));
            CK_OK(regnn_fit(m, o, ds, NULL, fo, NULL));
            np = regnn_model_param_count(m);
            ck_assert_uint_le(np, 512);
            CK_OK(regnn_model_get_params(m, threads == 1 ? ref : got, np));
            if (threads > 1)
                ck_assert_msg(memcmp(ref, got, np * sizeof *ref) == 0,
                              "batch %lld, %zu threads: parameters differ", (long long)batches[b],
                              threads);
            float gam[6];
            CK_OK(regnn_layer_get_params(regnn_model_layer(m, 0), gam, 6));
            ck_assert(gam[0] != 1.0f && gam[3] != 0.0f); /* trained */
            regnn_fit_options_free(fo);
            regnn_optimizer_free(o);
            regnn_model_free(m);
        }
    }
    regnn_dataset_free(ds);
}
END_TEST

/* Saved and loaded back: the same bytes and predictions; a checkpoint
 * resumes to the bits of an uninterrupted fit. */
START_TEST(test_save_load_checkpoint)
{
    enum { N = 128 };
    static float x[N * 3], y[N];
    for (int i = 0; i < N * 3; i++)
        x[i] = (float)sin(0.13 * i);
    for (int r = 0; r < N; r++)
        y[r] = (float)x[3 * r];
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, N, 3, 1, REGNN_COPY, &ds));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 32));
    regnn_model *a = deep(1), *b = deep(1);
    regnn_optimizer *oa = NULL, *ob = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &oa));
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &ob));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 2));
    CK_OK(regnn_fit(a, oa, ds, NULL, fo, NULL));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 1));
    CK_OK(regnn_fit(b, ob, ds, NULL, fo, NULL));
    size_t n = 0, n2 = 0;
    CK_OK(regnn_checkpoint_save_mem(b, ob, NULL, 0, &n));
    uint8_t *buf = malloc(n);
    CK_OK(regnn_checkpoint_save_mem(b, ob, buf, n, &n));
    regnn_model *c = NULL;
    regnn_optimizer *oc = NULL;
    CK_OK(regnn_checkpoint_load_mem(buf, n, &c, &oc));
    ck_assert_int_eq(regnn_layer_type(regnn_model_layer(c, 5)), REGNN_LAYERTYPE_LAYER_NORMALIZATION);
    ck_assert_double_eq(regnn_layer_noise(regnn_model_layer(c, 5)), 1e-2);
    CK_OK(regnn_fit(c, oc, ds, NULL, fo, NULL));
    const size_t np = regnn_model_param_count(a);
    float pa[512], pc[512], ya[N], yc[N];
    CK_OK(regnn_model_get_params(a, pa, np));
    CK_OK(regnn_model_get_params(c, pc, np));
    ck_assert_mem_eq(pa, pc, np * sizeof *pa);
    /* model file: loads to the same predictions and saves to the same bytes */
    CK_OK(regnn_model_save_mem(a, NULL, 0, &n2));
    uint8_t *mb = malloc(n2), *mb2 = malloc(n2);
    CK_OK(regnn_model_save_mem(a, mb, n2, &n2));
    regnn_model *l = NULL;
    CK_OK(regnn_model_load_mem(mb, n2, &l));
    CK_OK(regnn_model_save_mem(l, mb2, n2, &n2));
    ck_assert_mem_eq(mb, mb2, n2);
    CK_OK(regnn_model_predict(a, x, N, ya, N));
    CK_OK(regnn_model_predict(l, x, N, yc, N));
    ck_assert_mem_eq(ya, yc, sizeof ya);
    free(mb);
    free(mb2);
    free(buf);
    regnn_model_free(l);
    regnn_model_free(a);
    regnn_model_free(b);
    regnn_model_free(c);
    regnn_optimizer_free(oa);
    regnn_optimizer_free(ob);
    regnn_optimizer_free(oc);
    regnn_fit_options_free(fo);
    regnn_dataset_free(ds);
}
END_TEST

/* A data-parallel fit of 3 emulated processes (LayerNormalization has no
 * batch statistics, so it is allowed): the processes end with the same bits,
 * close to one process's fit. */
START_TEST(test_data_parallel)
{
    enum { N = 240 };
    static float x[N * 3], y[N];
    for (int i = 0; i < N * 3; i++)
        x[i] = (float)sin(0.23 * i);
    for (int r = 0; r < N; r++)
        y[r] = (float)(x[3 * r + 1] - x[3 * r]);
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, N, 3, 1, REGNN_COPY, &ds));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 3));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 60));
    regnn_model *ref = ln_net(1e-3, REGNN_ACT_TANH, 6);
    regnn_optimizer *oref = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &oref));
    CK_OK(regnn_fit(ref, oref, ds, NULL, fo, NULL));
    float pref[NP], p[3][NP];
    CK_OK(regnn_model_get_params(ref, pref, NP));
    dp_shard sh[DP_MAX];
    memset(sh, 0, sizeof sh);
    for (size_t i = 0; i < 3; i++) {
        sh[i].m = ln_net(1e-3, REGNN_ACT_TANH, 6);
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &sh[i].o));
        sh[i].train = ds;
        sh[i].opts = fo;
    }
    ck_assert_int_eq(dp_run(sh, 3, NP), 0);
    for (size_t i = 0; i < 3; i++) {
        CK_OK(sh[i].st);
        CK_OK(regnn_model_get_params(sh[i].m, p[i], NP));
        ck_assert_mem_eq(p[i], p[0], sizeof p[0]);
    }
    for (int k = 0; k < NP; k++)
        ck_assert_msg(fabs(p[0][k] - pref[k]) <= 1e-4 * (1 + fabs(pref[k])), "parameter %d", k);
    for (size_t i = 0; i < 3; i++) {
        regnn_history_free(sh[i].h);
        regnn_optimizer_free(sh[i].o);
        regnn_model_free(sh[i].m);
    }
    regnn_optimizer_free(oref);
    regnn_model_free(ref);
    regnn_fit_options_free(fo);
    regnn_dataset_free(ds);
}
END_TEST

static Suite *layernorm_suite(void)
{
    Suite *s = suite_create("layernorm");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_topology_and_forward);
    tcase_add_test(tc, test_bad_epsilon);
    tcase_add_test(tc, test_gradient_finite_differences);
    tcase_add_test(tc, test_threads_same_bits);
    tcase_add_test(tc, test_save_load_checkpoint);
    tcase_add_test(tc, test_data_parallel);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(layernorm_suite)
