/* SPDX-License-Identifier: MIT */
/* BatchNormalization: defaults and bad values, the gradient against finite
 * differences of the batch-statistics loss computed here, the moving
 * statistics' update and their use in inference, the same bits on any thread
 * count, files and checkpoints, a refused step (data-parallel fits:
 * check_fit's test_shards_reproduce_batch_norm). */
#include "testutil.h"

#include <math.h>
#include <string.h>

enum { NI = 3, NH = 4, NP = NI * NH + NH + 2 * NH + NH + 1, R = 8 };

/* 3 -> dense 4 linear -> BatchNormalization -> dense 1 linear. */
static regnn_model *bn_net(double momentum, double eps, uint64_t seed)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(NI, &m));
    CK_OK(regnn_model_add_dense(m, NH, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_add_batch_normalization(m, momentum, eps, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    return m;
}

/* The training loss (MSE) of R rows from the formula, with the batch's statistics. */
static double batch_loss(const double *p, const float *x, const float *y, double eps)
{
    const double *w1 = p, *b1 = w1 + NI * NH, *gam = b1 + NH, *bet = gam + NH, *w2 = bet + NH,
                 *b2 = w2 + NH;
    double h[R][NH], mean[NH] = {0}, var[NH] = {0}, loss = 0;
    for (int r = 0; r < R; r++)
        for (int k = 0; k < NH; k++) {
            h[r][k] = b1[k];
            for (int i = 0; i < NI; i++)
                h[r][k] += x[r * NI + i] * w1[i * NH + k];
            mean[k] += h[r][k] / R;
        }
    for (int r = 0; r < R; r++)
        for (int k = 0; k < NH; k++)
            var[k] += (h[r][k] - mean[k]) * (h[r][k] - mean[k]) / R;
    for (int r = 0; r < R; r++) {
        double o = b2[0];
        for (int k = 0; k < NH; k++)
            o += (gam[k] * (h[r][k] - mean[k]) / sqrt(var[k] + eps) + bet[k]) * w2[k];
        loss += (o - y[r]) * (o - y[r]) / R;
    }
    return loss;
}

static void batch(float *x, float *y)
{
    for (int i = 0; i < R * NI; i++)
        x[i] = (float)(2.0 * cos(0.9 * i + 0.3) + 0.5);
    for (int r = 0; r < R; r++)
        y[r] = (float)(0.3 * r - 0.8);
}

START_TEST(test_defaults_and_bad_values)
{
    regnn_model *m = bn_net(0.99, 1e-3, 1);
    regnn_layer *l = regnn_model_layer(m, 1);
    ck_assert_int_eq(regnn_layer_type(l), REGNN_LAYERTYPE_BATCH_NORMALIZATION);
    ck_assert_double_eq(regnn_layer_momentum(l), 0.99);
    ck_assert_double_eq(regnn_layer_noise(l), 1e-3);
    ck_assert_uint_eq(regnn_layer_param_count(l), 2 * NH);
    float p[8], mean[NH], var[NH];
    CK_OK(regnn_layer_get_params(l, p, 8));
    CK_OK(regnn_layer_get_moving(l, mean, var, NH));
    for (int k = 0; k < NH; k++) { /* Keras: gamma 1, beta 0, moving mean 0, variance 1 */
        ck_assert(p[k] == 1.0f && p[NH + k] == 0.0f);
        ck_assert(mean[k] == 0.0f && var[k] == 1.0f);
    }
    CK_STATUS(regnn_layer_get_moving(l, mean, var, NH - 1), REGNN_E_SHAPE);
    CK_STATUS(regnn_layer_get_moving(regnn_model_layer(m, 0), mean, var, NH), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_layer_set_double(l, REGNN_LAYER_L2, 0.1), REGNN_E_UNSUPPORTED);
    regnn_model *e = NULL;
    CK_OK(regnn_model_create(2, &e));
    const double bad_mo[3] = {-0.1, 1.5, NAN}, bad_eps[3] = {0.0, -1.0, INFINITY};
    for (int k = 0; k < 3; k++) {
        CK_STATUS(regnn_model_add_batch_normalization(e, bad_mo[k], 1e-3, NULL),
                  REGNN_E_INVALID_ARG);
        ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "momentum must be in [0, 1]"));
        CK_STATUS(regnn_model_add_batch_normalization(e, 0.9, bad_eps[k], NULL),
                  REGNN_E_INVALID_ARG);
        ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "epsilon must be finite and > 0"));
    }
    ck_assert_uint_eq(regnn_model_layer_count(e), 0);
    regnn_model_free(e);
    regnn_model_free(m);
}
END_TEST

/* One training step: the gradient (SGD, learning rate 1: the step) against
 * central differences of the batch loss, and the moving statistics'
 * update; then inference with the moving statistics. */
START_TEST(test_step_gradient_moving_and_inference)
{
    const double eps = 1e-3, mo = 0.9;
    regnn_model *m = bn_net(mo, eps, 2);
    float g8[8] = {1.3f, 0.7f, -0.4f, 1.1f, 0.2f, -0.3f, 0.05f, 0.4f};
    CK_OK(regnn_layer_set_params(regnn_model_layer(m, 1), g8, 8));
    float x[R * NI], y[R], p[NP], after[NP];
    batch(x, y);
    CK_OK(regnn_model_get_params(m, p, NP));
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &o));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 1.0));
    double loss, pd[NP];
    CK_OK(regnn_train_batch(m, o, x, y, R, &loss));
    CK_OK(regnn_model_get_params(m, after, NP));
    for (int k = 0; k < NP; k++)
        pd[k] = p[k];
    ck_assert_double_eq_tol(loss, batch_loss(pd, x, y, eps), 1e-5);
    for (int k = 0; k < NP; k++) {
        const double h = 1e-5, save = pd[k];
        pd[k] = save + h;
        const double up = batch_loss(pd, x, y, eps);
        pd[k] = save - h;
        const double dn = batch_loss(pd, x, y, eps);
        pd[k] = save;
        const double fd = (up - dn) / (2 * h), got = (double)p[k] - after[k];
        ck_assert_msg(fabs(fd - got) <= 1e-4 + 1e-3 * fabs(fd), "parameter %d: %g vs %g", k, fd,
                      got);
    }
    /* moving = moving * momentum + batch * (1 - momentum), batch variance biased */
    float mean[NH], var[NH];
    CK_OK(regnn_layer_get_moving(regnn_model_layer(m, 1), mean, var, NH));
    for (int k = 0; k < NH; k++) {
        double h[R], bm = 0, bv = 0;
        for (int r = 0; r < R; r++) {
            h[r] = p[NI * NH + k];
            for (int i = 0; i < NI; i++)
                h[r] += x[r * NI + i] * p[i * NH + k];
            bm += h[r] / R;
        }
        for (int r = 0; r < R; r++)
            bv += (h[r] - bm) * (h[r] - bm) / R;
        ck_assert_double_eq_tol(mean[k], 0.0 * mo + bm * (1 - mo), 1e-6);
        ck_assert_double_eq_tol(var[k], 1.0 * mo + bv * (1 - mo), 1e-6);
    }
    /* inference: the moving statistics, whatever the rows */
    float yp[2];
    CK_OK(regnn_model_predict(m, x, 2, yp, 2));
    for (int r = 0; r < 2; r++) {
        double o2 = after[NP - 1];
        for (int k = 0; k < NH; k++) {
            double hk = after[NI * NH + k];
            for (int i = 0; i < NI; i++)
                hk += x[r * NI + i] * after[i * NH + k];
            const double z = after[NI * NH + NH + k] * (hk - mean[k]) / sqrt(var[k] + eps) +
                             after[NI * NH + 2 * NH + k];
            o2 += z * after[NI * NH + 3 * NH + k];
        }
        ck_assert_double_eq_tol(yp[r], o2, 1e-5);
    }
    /* A refused step (non-finite loss) leaves the moving statistics alone. */
    float yb[R], mean2[NH];
    for (int r = 0; r < R; r++)
        yb[r] = 3e38f;
    CK_STATUS(regnn_train_batch(m, o, x, yb, R, &loss), REGNN_E_NUMERIC);
    CK_OK(regnn_layer_get_moving(regnn_model_layer(m, 1), mean2, NULL, NH));
    ck_assert_mem_eq(mean, mean2, sizeof mean);
    regnn_optimizer_free(o);
    regnn_model_free(m);
}
END_TEST

static regnn_model *deep(size_t threads)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_dense(m, 16, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_batch_normalization(m, 0.99, 1e-3, NULL));
    CK_OK(regnn_model_add_dense(m, 16, REGNN_ACT_TANH, NULL));
    CK_OK(regnn_model_add_batch_normalization(m, 0.9, 1e-2, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, 1e-3));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 4));
    CK_OK(regnn_model_set_threads(m, threads));
    return m;
}

/* Batches of 64 (several shards), 200 and 600 rows: 1 and 3 threads give
 * the same parameters and moving statistics. */
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
        float ref[512], got[512], mref[16], mgot[16];
        for (size_t threads = 1; threads <= 3; threads += 2) {
            regnn_model *m = deep(threads);
            regnn_optimizer *o = NULL;
            CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
            regnn_fit_options *fo = NULL;
            CK_OK(regnn_fit_options_create(&fo));
            CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 3));
            CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, batches[b]));
            CK_OK(regnn_fit(m, o, ds, NULL, fo, NULL));
            const size_t np = regnn_model_param_count(m);
            ck_assert_uint_le(np, 512);
            CK_OK(regnn_model_get_params(m, threads == 1 ? ref : got, np));
            CK_OK(regnn_layer_get_moving(regnn_model_layer(m, 3), NULL, threads == 1 ? mref : mgot,
                                         16));
            if (threads > 1) {
                ck_assert_msg(memcmp(ref, got, np * sizeof *ref) == 0,
                              "batch %lld: parameters differ", (long long)batches[b]);
                ck_assert_msg(memcmp(mref, mgot, sizeof mref) == 0,
                              "batch %lld: moving variances differ", (long long)batches[b]);
            }
            ck_assert(mref[0] != 1.0f); /* the moving statistics moved */
            regnn_fit_options_free(fo);
            regnn_optimizer_free(o);
            regnn_model_free(m);
        }
    }
    regnn_dataset_free(ds);
}
END_TEST

/* A checkpoint resumes to the bits of an uninterrupted fit (the moving
 * statistics in section BNST); a model file loads to the same predictions
 * and bytes; a broken record is refused. */
START_TEST(test_files)
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
    ck_assert_double_eq(regnn_layer_momentum(regnn_model_layer(c, 3)), 0.9);
    CK_OK(regnn_fit(c, oc, ds, NULL, fo, NULL));
    const size_t np = regnn_model_param_count(a);
    float pa[512], pc[512], ma[16], mc[16], ya[N], yc[N];
    CK_OK(regnn_model_get_params(a, pa, np));
    CK_OK(regnn_model_get_params(c, pc, np));
    ck_assert_mem_eq(pa, pc, np * sizeof *pa);
    CK_OK(regnn_layer_get_moving(regnn_model_layer(a, 1), ma, NULL, 16));
    CK_OK(regnn_layer_get_moving(regnn_model_layer(c, 1), mc, NULL, 16));
    ck_assert_mem_eq(ma, mc, sizeof ma);
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
    /* momentum 2 in the first BNST record: refused */
    size_t at = 0;
    while (at + 4 <= n2 && memcmp(mb + at, "BNST", 4) != 0)
        at++;
    ck_assert_uint_lt(at + 4, n2);
    const double two = 2.0;
    memcpy(mb + at + 16 + 8 + 8, &two, 8); /* header, count, index: the momentum */
    const uint32_t crc = rg_crc32(0, mb, n2 - 4);
    for (int i = 0; i < 4; i++)
        mb[n2 - 4 + i] = (uint8_t)(crc >> (8 * i));
    regnn_model *bad = NULL;
    CK_STATUS(regnn_model_load_mem(mb, n2, &bad), REGNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "section BNST"));
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

/* REGNN_FIT_RESTORE_BEST restores the moving statistics with the weights: the
 * model ends as a fit of just the best epoch's count ends. */
START_TEST(test_restore_best)
{
    enum { N = 96 };
    static float x[N * 3], y[N], xv[32 * 3], yv[32];
    for (int i = 0; i < N * 3; i++)
        x[i] = (float)sin(0.29 * i);
    for (int r = 0; r < N; r++)
        y[r] = (float)(x[3 * r] * x[3 * r + 2]);
    for (int i = 0; i < 32 * 3; i++)
        xv[i] = (float)cos(0.41 * i);
    for (int r = 0; r < 32; r++)
        yv[r] = (float)(xv[3 * r] * xv[3 * r + 2] + 0.3);
    regnn_dataset *ds = NULL, *va = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, N, 3, 1, REGNN_COPY, &ds));
    CK_OK(regnn_dataset_from_arrays(xv, yv, 32, 3, 1, REGNN_COPY, &va));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 12));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 16));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_RESTORE_BEST, 1));
    regnn_model *a = deep(1), *b = deep(1);
    regnn_optimizer *oa = NULL, *ob = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &oa));
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &ob));
    CK_OK(regnn_optimizer_set_double(oa, REGNN_OPT_LEARNING_RATE, 0.05));
    CK_OK(regnn_optimizer_set_double(ob, REGNN_OPT_LEARNING_RATE, 0.05));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(a, oa, ds, va, fo, &h));
    size_t best = 0;
    CK_OK(regnn_history_best_epoch(h, &best));
    ck_assert_uint_lt(best, 11); /* not the last epoch, or the test shows nothing */
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_RESTORE_BEST, 0));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, (int64_t)best + 1));
    CK_OK(regnn_fit(b, ob, ds, va, fo, NULL));
    float ma[16], mb[16], pa[512], pb[512];
    const size_t np = regnn_model_param_count(a);
    CK_OK(regnn_model_get_params(a, pa, np));
    CK_OK(regnn_model_get_params(b, pb, np));
    ck_assert_mem_eq(pa, pb, np * sizeof *pa);
    CK_OK(regnn_layer_get_moving(regnn_model_layer(a, 3), ma, NULL, 16));
    CK_OK(regnn_layer_get_moving(regnn_model_layer(b, 3), mb, NULL, 16));
    ck_assert_mem_eq(ma, mb, sizeof ma);
    regnn_history_free(h);
    regnn_model_free(a);
    regnn_model_free(b);
    regnn_optimizer_free(oa);
    regnn_optimizer_free(ob);
    regnn_fit_options_free(fo);
    regnn_dataset_free(ds);
    regnn_dataset_free(va);
}
END_TEST

static Suite *batchnorm_suite(void)
{
    Suite *s = suite_create("batchnorm");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_defaults_and_bad_values);
    tcase_add_test(tc, test_step_gradient_moving_and_inference);
    tcase_add_test(tc, test_threads_same_bits);
    tcase_add_test(tc, test_files);
    tcase_add_test(tc, test_restore_best);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(batchnorm_suite)
