/* SPDX-License-Identifier: MIT */
/* The noise layers, GaussianNoise and GaussianDropout: topology, inference,
 * one training step against its formulas (and a finite-difference check),
 * the draws' distribution, the same bits on any thread count, files,
 * checkpoints, ONNX, the fingerprint and what is refused. */
#include "testutil.h"
#include "model/model_impl.h" /* the step's draws, which this test reads */
#include "train/train.h"      /* the settings fingerprint */

#include <math.h>
#include <string.h>

/* 3 -> dense 4 tanh -> [noise] -> dense 2 linear; the same weights with or
 * without the noise layer (the initialization skips it). */
static regnn_model *noisy(int type, double v, int with_noise, uint64_t seed)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_dense(m, 4, REGNN_ACT_TANH, NULL));
    if (with_noise && type == REGNN_LAYERTYPE_GAUSSIAN_NOISE)
        CK_OK(regnn_model_add_gaussian_noise(m, v, NULL));
    if (with_noise && type == REGNN_LAYERTYPE_GAUSSIAN_DROPOUT)
        CK_OK(regnn_model_add_gaussian_dropout(m, v, NULL));
    CK_OK(regnn_model_add_dense(m, 2, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    return m;
}

START_TEST(test_topology_and_inference)
{
    const int type = _i ? REGNN_LAYERTYPE_GAUSSIAN_DROPOUT : REGNN_LAYERTYPE_GAUSSIAN_NOISE;
    regnn_model *m = noisy(type, 0.5, 1, 7), *r = noisy(type, 0.5, 0, 7);
    ck_assert_uint_eq(regnn_model_layer_count(m), 3);
    regnn_layer *nl = regnn_model_layer(m, 1);
    ck_assert_int_eq(regnn_layer_type(nl), type);
    ck_assert_int_eq(regnn_layer_type(regnn_model_layer(m, 0)), REGNN_LAYERTYPE_DENSE);
    ck_assert_int_eq(regnn_layer_type(NULL), -1);
    ck_assert_double_eq(regnn_layer_noise(nl), 0.5);
    ck_assert_double_eq(regnn_layer_noise(regnn_model_layer(m, 0)), 0.0);
    ck_assert_uint_eq(regnn_layer_inputs(nl), 4);
    ck_assert_uint_eq(regnn_layer_units(nl), 4);
    ck_assert_uint_eq(regnn_layer_param_count(nl), 0);
    ck_assert_uint_eq(regnn_model_param_count(m), 3 * 4 + 4 + 4 * 2 + 2);
    float pm[26], pr[26];
    CK_OK(regnn_model_get_params(m, pm, 26));
    CK_OK(regnn_model_get_params(r, pr, 26));
    ck_assert_mem_eq(pm, pr, sizeof pm);
    CK_STATUS(regnn_layer_set_double(nl, REGNN_LAYER_L2, 0.1), REGNN_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "layer 1"));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_DROPOUT, 0.0)); /* skips it */
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, 0.01));
    double v = -1.0;
    CK_OK(regnn_layer_get_double(nl, REGNN_LAYER_L2, &v));
    ck_assert_double_eq(v, 0.0);
    CK_STATUS(regnn_model_add_gaussian_noise(m, 0.1, NULL), REGNN_E_STATE);
    CK_STATUS(regnn_model_add_gaussian_dropout(m, 0.1, NULL), REGNN_E_STATE);
    /* Inference: the identity, so the predictions are those without it, bit for bit. */
    float x[5 * 3], ym[10], yr[10];
    for (int i = 0; i < 15; i++)
        x[i] = (float)sin(0.9 * i);
    CK_OK(regnn_model_predict(m, x, 5, ym, 10));
    CK_OK(regnn_model_predict(r, x, 5, yr, 10));
    ck_assert_mem_eq(ym, yr, sizeof ym);
    regnn_model_free(m);
    regnn_model_free(r);
}
END_TEST

START_TEST(test_bad_values_refused)
{
    regnn_model *e = NULL;
    regnn_layer *l = (regnn_layer *)&l;
    CK_OK(regnn_model_create(3, &e));
    CK_STATUS(regnn_model_add_gaussian_noise(e, -0.1, &l), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(l);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "stddev must be in [0, 1]"));
    CK_STATUS(regnn_model_add_gaussian_noise(e, 1.5, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_add_gaussian_noise(e, NAN, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_add_gaussian_dropout(e, 1.0, NULL), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "rate must be in [0, 1)"));
    CK_STATUS(regnn_model_add_gaussian_dropout(e, -1e-9, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_add_gaussian_dropout(e, NAN, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_add_gaussian_noise(NULL, 0.1, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_add_gaussian_dropout(NULL, 0.1, NULL), REGNN_E_INVALID_ARG);
    ck_assert_uint_eq(regnn_model_layer_count(e), 0);
    CK_OK(regnn_model_add_gaussian_noise(e, 1.0, NULL)); /* the bounds themselves */
    CK_OK(regnn_model_add_gaussian_dropout(e, 0.0, NULL));
    ck_assert_uint_eq(regnn_model_layer_count(e), 2);
    regnn_model_free(e);
}
END_TEST

/* 2 -> dense 3 linear -> GaussianNoise(0.3) -> GaussianDropout(0.4) -> dense 1
 * linear, MSE: the loss in double from the draws the step made. */
enum { R = 5, I = 2, H = 3 };

static double chain_loss(const double *p, const float *x, const float *y, const float *nz,
                         const float *mu, double d_out[R], double h2[R][H])
{
    const double *w1 = p, *b1 = p + I * H, *w2 = b1 + H, *b2 = w2 + H;
    double se = 0.0;
    for (int r = 0; r < R; r++) {
        double o = b2[0];
        for (int k = 0; k < H; k++) {
            double h = b1[k];
            for (int i = 0; i < I; i++)
                h += x[r * I + i] * w1[i * H + k];
            const double z = (h + nz[r * H + k]) * mu[r * H + k];
            if (h2)
                h2[r][k] = z;
            o += z * w2[k];
        }
        se += (o - y[r]) * (o - y[r]);
        if (d_out)
            d_out[r] = 2.0 * (o - y[r]) / R;
    }
    return se / R;
}

START_TEST(test_training_step_formula)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(I, &m));
    CK_OK(regnn_model_add_dense(m, H, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_add_gaussian_noise(m, 0.3, NULL));
    CK_OK(regnn_model_add_gaussian_dropout(m, 0.4, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 3));
    float x[R * I], y[R];
    for (int i = 0; i < R * I; i++)
        x[i] = (float)cos(1.1 * i);
    for (int r = 0; r < R; r++)
        y[r] = (float)(0.5 * r - 1.0);
    CK_OK(rg_model_reserve(m, R));
    double mse, mae, pen;
    CK_OK(rg_model_step_grads(m, x, y, R, 1, &mse, &mae, &pen));
    const float *nz = m->ws[1].mask, *mu = m->ws[2].mask, *g = m->grads;
    enum { NP = I * H + H + H + 1 };
    double p[NP], d[R], h2[R][H];
    for (int k = 0; k < NP; k++)
        p[k] = m->params[k];
    int drawn = 0;
    for (int k = 0; k < R * H; k++)
        drawn += nz[k] != 0.0f && mu[k] != 1.0f;
    ck_assert_int_eq(drawn, R * H);
    ck_assert_double_eq_tol(mse, chain_loss(p, x, y, nz, mu, d, h2), 1e-5);
    const double *w2 = p + I * H + H;
    for (int k = 0; k < H; k++) {
        double gw2 = 0.0, gb1 = 0.0;
        for (int r = 0; r < R; r++) {
            gw2 += h2[r][k] * d[r];
            gb1 += d[r] * w2[k] * mu[r * H + k]; /* through x * mu, then x + n */
        }
        ck_assert_double_eq_tol(g[I * H + H + k], gw2, 1e-5);
        ck_assert_double_eq_tol(g[I * H + k], gb1, 1e-5);
        for (int i = 0; i < I; i++) {
            double gw1 = 0.0;
            for (int r = 0; r < R; r++)
                gw1 += x[r * I + i] * d[r] * w2[k] * mu[r * H + k];
            ck_assert_double_eq_tol(g[i * H + k], gw1, 1e-5);
        }
    }
    /* Central differences of the loss with the same draws. */
    for (int k = 0; k < NP; k++) {
        const double h = 1e-5, save = p[k];
        p[k] = save + h;
        const double up = chain_loss(p, x, y, nz, mu, NULL, NULL);
        p[k] = save - h;
        const double dn = chain_loss(p, x, y, nz, mu, NULL, NULL);
        p[k] = save;
        ck_assert_msg(fabs((up - dn) / (2 * h) - g[k]) < 1e-4, "parameter %d: %g vs %g", k,
                      (up - dn) / (2 * h), (double)g[k]);
    }
    /* Not training: no draws, the loss of inference. */
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, R, I, 1, REGNN_COPY, &ds));
    double eval;
    CK_OK(regnn_model_evaluate(m, ds, &eval, NULL, NULL));
    CK_OK(rg_model_step_grads(m, x, y, R, 0, &mse, &mae, &pen));
    ck_assert_double_eq_tol(mse, eval, 1e-6);
    regnn_dataset_free(ds);
    regnn_model_free(m);
}
END_TEST

/* The draws: N(0, stddev^2) added, N(1, rate / (1 - rate)) multiplied. */
START_TEST(test_draw_statistics)
{
    enum { N = 500, W = 4 };
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(W, &m));
    CK_OK(regnn_model_add_gaussian_noise(m, 0.25, NULL));
    CK_OK(regnn_model_add_gaussian_dropout(m, 0.2, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 9));
    static float x[N * W], y[N];
    for (int k = 0; k < N * W; k++)
        x[k] = 1.0f;
    CK_OK(rg_model_reserve(m, N));
    double mse, mae, pen;
    CK_OK(rg_model_step_grads(m, x, y, N, 1, &mse, &mae, &pen));
    const double want_sd[2] = {0.25, sqrt(0.2 / 0.8)}, want_mean[2] = {1.0, 1.0};
    for (int layer = 0; layer < 2; layer++) {
        double s1 = 0.0, s2 = 0.0;
        for (int k = 0; k < N * W; k++) {
            /* layer 0's output is 1 + noise; layer 1's the multiplier itself over it */
            const double v = layer == 0 ? m->ws[0].act[k] : m->ws[1].act[k] / m->ws[0].act[k];
            s1 += v;
            s2 += v * v;
        }
        const double mean = s1 / (N * W), sd = sqrt(s2 / (N * W) - mean * mean);
        ck_assert_msg(fabs(mean - want_mean[layer]) < 4 * want_sd[layer] / sqrt(N * W),
                      "layer %d: mean %g", layer, mean);
        ck_assert_msg(fabs(sd - want_sd[layer]) < 0.05 * want_sd[layer], "layer %d: sd %g", layer,
                      sd);
    }
    regnn_model_free(m);
}
END_TEST

static regnn_model *deep(size_t threads)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_gaussian_noise(m, 0.1, NULL));
    CK_OK(regnn_model_add_dense(m, 16, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_gaussian_dropout(m, 0.3, NULL));
    CK_OK(regnn_model_add_dense(m, 16, REGNN_ACT_TANH, NULL));
    CK_OK(regnn_model_add_gaussian_noise(m, 0.2, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, 1e-3));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 4));
    CK_OK(regnn_model_set_threads(m, threads));
    return m;
}

/* The step engine's forms (one thread; sharded, owned-row and layer-by-layer
 * steps on several) give the same bits with noise layers. */
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
        {
            regnn_model *m = deep(1);
            size_t bd[8];
            if (b == 0) /* the batch of 64 runs as shards on several threads */
                ck_assert_uint_ge(rg_model_shards(m, 64, bd), 2);
            regnn_model_free(m);
        }
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
            regnn_fit_options_free(fo);
            regnn_optimizer_free(o);
            regnn_model_free(m);
        }
    }
    regnn_dataset_free(ds);
}
END_TEST

/* regnn_train_batch too: 1 and 3 threads, the same bits. */
START_TEST(test_train_batch_same_bits)
{
    enum { N = 96 };
    static float x[N * 3], y[N];
    for (int i = 0; i < N * 3; i++)
        x[i] = (float)cos(0.21 * i);
    for (int r = 0; r < N; r++)
        y[r] = (float)x[3 * r + 1];
    float ref[512], got[512];
    for (size_t threads = 1; threads <= 3; threads += 2) {
        regnn_model *m = deep(threads);
        regnn_optimizer *o = NULL;
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &o));
        double loss;
        for (int s = 0; s < 4; s++)
            CK_OK(regnn_train_batch(m, o, x, y, N, &loss));
        CK_OK(regnn_model_get_params(m, threads == 1 ? ref : got, regnn_model_param_count(m)));
        if (threads > 1)
            ck_assert_mem_eq(ref, got, regnn_model_param_count(m) * sizeof *ref);
        regnn_optimizer_free(o);
        regnn_model_free(m);
    }
}
END_TEST

static uint8_t *find_bytes(uint8_t *buf, size_t len, const char *s)
{
    const size_t n = strlen(s);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(buf + i, s, n) == 0)
            return buf + i;
    return NULL;
}

static void fix_crc(uint8_t *buf, size_t n)
{
    const uint32_t crc = rg_crc32(0, buf, n - 4);
    for (int i = 0; i < 4; i++)
        buf[n - 4 + i] = (uint8_t)(crc >> (8 * i));
}

static uint8_t *save(const regnn_model *m, size_t *n)
{
    CK_OK(regnn_model_save_mem(m, NULL, 0, n));
    uint8_t *buf = malloc(*n);
    CK_OK(regnn_model_save_mem(m, buf, *n, n));
    return buf;
}

START_TEST(test_save_load)
{
    regnn_model *m = deep(1), *dense = noisy(0, 0, 0, 3);
    size_t n = 0, n2 = 0, nd = 0;
    uint8_t *buf = save(m, &n), *bd = save(dense, &nd);
    ck_assert_ptr_null(find_bytes(bd, nd, "LTYP")); /* a dense model's file has no section */
    regnn_model *l = NULL;
    CK_OK(regnn_model_load_mem(buf, n, &l));
    ck_assert_uint_eq(regnn_model_layer_count(l), 6);
    const int types[6] = {1, 0, 2, 0, 1, 0};
    const double vals[6] = {0.1, 0, 0.3, 0, 0.2, 0};
    for (size_t i = 0; i < 6; i++) {
        ck_assert_int_eq(regnn_layer_type(regnn_model_layer(l, i)), types[i]);
        ck_assert_double_eq(regnn_layer_noise(regnn_model_layer(l, i)), vals[i]);
    }
    uint8_t *buf2 = save(l, &n2);
    ck_assert_uint_eq(n2, n);
    ck_assert_mem_eq(buf2, buf, n); /* saves back to its bytes */
    /* A value out of range is refused with the range. */
    uint8_t *tag = find_bytes(buf, n, "LTYP");
    ck_assert_ptr_nonnull(tag);
    uint8_t *val = tag + 16 + 8 + 8 + 8; /* header, count, index, type and zero: the first value */
    double two = 2.0;
    memcpy(val, &two, 8);
    fix_crc(buf, n);
    regnn_model *bad = NULL;
    CK_STATUS(regnn_model_load_mem(buf, n, &bad), REGNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "stddev must be in [0, 1]"));
    memcpy(buf, buf2, n);
    /* A reader that does not know the section refuses the file (required). */
    find_bytes(buf, n, "LTYP")[3] = 'X';
    fix_crc(buf, n);
    CK_STATUS(regnn_model_load_mem(buf, n, &bad), REGNN_E_VERSION);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "LTYX"));
    free(buf);
    free(buf2);
    free(bd);
    regnn_model_free(l);
    regnn_model_free(m);
    regnn_model_free(dense);
}
END_TEST

/* A checkpoint resumes with the same draws: two epochs, or one, saved,
 * loaded and one more, give the same bits. */
START_TEST(test_checkpoint_round_trip)
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
    size_t n = 0;
    CK_OK(regnn_checkpoint_save_mem(b, ob, NULL, 0, &n));
    uint8_t *buf = malloc(n);
    CK_OK(regnn_checkpoint_save_mem(b, ob, buf, n, &n));
    regnn_model *c = NULL;
    regnn_optimizer *oc = NULL;
    CK_OK(regnn_checkpoint_load_mem(buf, n, &c, &oc));
    ck_assert_int_eq(regnn_layer_type(regnn_model_layer(c, 2)), REGNN_LAYERTYPE_GAUSSIAN_DROPOUT);
    CK_OK(regnn_fit(c, oc, ds, NULL, fo, NULL));
    const size_t np = regnn_model_param_count(a);
    float pa[512], pc[512];
    CK_OK(regnn_model_get_params(a, pa, np));
    CK_OK(regnn_model_get_params(c, pc, np));
    ck_assert_mem_eq(pa, pc, np * sizeof *pa);
    free(buf);
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

/* ONNX omits the noise layers: the dense-only model's graph, its second dense
 * layer named by its index (layer2 instead of layer1). */
START_TEST(test_onnx_omits_noise)
{
    const int type = _i ? REGNN_LAYERTYPE_GAUSSIAN_DROPOUT : REGNN_LAYERTYPE_GAUSSIAN_NOISE;
    regnn_model *m = noisy(type, 0.4, 1, 11), *r = noisy(type, 0.4, 0, 11);
    size_t on = 0, rn = 0;
    CK_OK(regnn_model_export_onnx_mem(m, NULL, 0, &on));
    CK_OK(regnn_model_export_onnx_mem(r, NULL, 0, &rn));
    ck_assert_uint_eq(on, rn);
    uint8_t *ob = malloc(on), *rb = malloc(rn);
    CK_OK(regnn_model_export_onnx_mem(m, ob, on, &on));
    CK_OK(regnn_model_export_onnx_mem(r, rb, rn, &rn));
    uint8_t *q;
    int renamed = 0;
    while ((q = find_bytes(ob, on, "layer2")) != NULL) {
        q[5] = '1';
        renamed++;
    }
    ck_assert_int_ge(renamed, 2);
    ck_assert_mem_eq(ob, rb, on);
    free(ob);
    free(rb);
    /* A model of noise layers only has no parameters: refused. */
    regnn_model *id = NULL;
    CK_OK(regnn_model_create(2, &id));
    CK_OK(regnn_model_add_gaussian_noise(id, 0.1, NULL));
    CK_STATUS(regnn_model_init(id, REGNN_INIT_GLOROT_UNIFORM, 1), REGNN_E_STATE);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "noise layers only"));
    regnn_model_free(id);
    regnn_model_free(m);
    regnn_model_free(r);
}
END_TEST

static void fingerprint(const regnn_model *m, uint64_t out[RG_SETTINGS_COUNT])
{
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    float x[6] = {0}, y[2] = {0};
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, 2, 3, 1, REGNN_COPY, &ds));
    const rg_fit_setup s = {m, o, ds, NULL, fo, NULL};
    rg_settings_fingerprint(&s, out);
    regnn_dataset_free(ds);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
}

/* The topology's entry tells the noise layers' types and values apart. */
START_TEST(test_fingerprint)
{
    regnn_model *a = NULL, *b = NULL, *c = NULL;
    CK_OK(regnn_model_create(3, &a));
    CK_OK(regnn_model_create(3, &b));
    CK_OK(regnn_model_create(3, &c));
    CK_OK(regnn_model_add_gaussian_noise(a, 0.1, NULL));
    CK_OK(regnn_model_add_gaussian_noise(b, 0.2, NULL));
    CK_OK(regnn_model_add_gaussian_dropout(c, 0.1, NULL));
    regnn_model *all[3] = {a, b, c};
    uint64_t fp[3][RG_SETTINGS_COUNT];
    for (int k = 0; k < 3; k++) {
        CK_OK(regnn_model_add_dense(all[k], 1, REGNN_ACT_LINEAR, NULL));
        CK_OK(regnn_model_init(all[k], REGNN_INIT_GLOROT_UNIFORM, 1));
        fingerprint(all[k], fp[k]);
    }
    size_t topo = 0;
    while (strcmp(rg_settings_name(topo), "model.layers") != 0)
        topo++;
    for (size_t e = 0; e < RG_SETTINGS_COUNT; e++) {
        const int same = e != topo;
        ck_assert_int_eq(fp[0][e] == fp[1][e], same);
        ck_assert_int_eq(fp[0][e] == fp[2][e], same);
    }
    for (int k = 0; k < 3; k++)
        regnn_model_free(all[k]);
}
END_TEST

/* 4 -> dense 8 relu -> GaussianNoise(sd) -> dense 1: a path's template, or a run by hand. */
static regnn_model *path_net(double sd, uint64_t seed, int init)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(4, &m));
    CK_OK(regnn_model_add_dense(m, 8, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_gaussian_noise(m, sd, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    if (init)
        CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    return m;
}

static double last_loss(const regnn_history *h)
{
    double v[64];
    const size_t n = regnn_history_epochs(h);
    ck_assert_uint_le(n, 64);
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, v, n));
    return v[n - 1];
}

/* REGNN_PENALTY_GAUSSIAN_NOISE: run (lambda, seed) is the template with that
 * stddev, trained by hand; what it refuses. */
START_TEST(test_path_sweeps_stddev)
{
    enum { N = 64 };
    static float x[N * 4], y[N];
    for (int i = 0; i < N * 4; i++)
        x[i] = (float)sin(0.7 * i);
    for (int r = 0; r < N; r++)
        y[r] = x[4 * r] * x[4 * r + 1];
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, N, 4, 1, REGNN_COPY, &ds));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 3));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 16));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.25));
    const double lambdas[2] = {0.0, 0.5};
    regnn_path_options *po = NULL;
    CK_OK(regnn_path_options_create(&po));
    CK_OK(regnn_path_options_set_lambdas(po, lambdas, 2));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_SEEDS, 2));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_SEED, 5));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_THREADS, 1));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_PENALTY, REGNN_PENALTY_GAUSSIAN_NOISE));
    regnn_model *tm = path_net(0.1, 0, 0);
    regnn_path *p = NULL;
    CK_OK(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p));
    double by_lambda[2] = {0, 0};
    for (size_t li = 0; li < 2; li++)
        for (size_t si = 0; si < 2; si++) {
            regnn_model *m = path_net(lambdas[li], 5 + si, 1);
            regnn_optimizer *o = NULL;
            CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
            regnn_fit_options *f = NULL;
            CK_OK(regnn_fit_options_copy(fo, &f));
            CK_OK(regnn_fit_options_set_int(f, REGNN_FIT_EVAL_TRAIN, 1));
            regnn_history *h = NULL;
            CK_OK(regnn_fit(m, o, ds, NULL, f, &h));
            const double want = last_loss(h), got = last_loss(regnn_path_history(p, li, si));
            ck_assert_msg(want == got, "lambda %g seed %zu: %.17g vs %.17g", lambdas[li], si, got,
                          want);
            by_lambda[li] += got;
            regnn_history_free(h);
            regnn_fit_options_free(f);
            regnn_optimizer_free(o);
            regnn_model_free(m);
        }
    ck_assert(by_lambda[0] != by_lambda[1]); /* the stddev took effect */
    regnn_path_free(p);
    /* A stddev above 1, a chosen dense layer, a template without noise. */
    const double too_big[2] = {0.1, 1.5};
    CK_OK(regnn_path_options_set_lambdas(po, too_big, 2));
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "lambda[1] = 1.5: stddev must be in [0, 1]"));
    CK_OK(regnn_path_options_set_lambdas(po, lambdas, 2));
    const size_t dense_layer[1] = {0};
    CK_OK(regnn_path_options_set_layers(po, dense_layer, 1));
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "layer 0 is not a GaussianNoise layer"));
    CK_OK(regnn_path_options_set_layers(po, NULL, 0));
    regnn_model *plain = NULL;
    CK_OK(regnn_model_create(4, &plain));
    CK_OK(regnn_model_add_dense(plain, 1, REGNN_ACT_LINEAR, NULL));
    CK_STATUS(regnn_regularization_path(plain, NULL, ds, NULL, fo, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "needs a GaussianNoise layer"));
    CK_STATUS(regnn_path_options_set_int(po, REGNN_PATH_PENALTY, 8), REGNN_E_INVALID_ARG);
    regnn_model_free(plain);
    regnn_model_free(tm);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_dataset_free(ds);
}
END_TEST

static Suite *noise_suite(void)
{
    Suite *s = suite_create("noise");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_topology_and_inference, 0, 2);
    tcase_add_test(tc, test_bad_values_refused);
    tcase_add_test(tc, test_training_step_formula);
    tcase_add_test(tc, test_draw_statistics);
    tcase_add_test(tc, test_threads_same_bits);
    tcase_add_test(tc, test_train_batch_same_bits);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_checkpoint_round_trip);
    tcase_add_loop_test(tc, test_onnx_omits_noise, 0, 2);
    tcase_add_test(tc, test_fingerprint);
    tcase_add_test(tc, test_path_sweeps_stddev);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(noise_suite)
