/* SPDX-License-Identifier: MIT */
/* Layer regularizers beyond the kernel's and kernel constraints: the bias
 * penalty (Keras bias_regularizer) and the activity penalty
 * (activity_regularizer) — their values, their gradients against central
 * finite differences of a double-precision reference written here, their
 * place in the loss; MaxNorm, MinMaxNorm, UnitNorm and NonNeg after each
 * update against their formulas; the same bits on any thread count; the
 * settings' checks and the model file's section LREG. */
#include "testutil.h"
#include "model/model_impl.h" /* the model's fields, which this test reads */

#include <math.h>
#include <string.h>

static double act_d(int act, double z)
{
    switch (act) {
    case REGNN_ACT_RELU: return z > 0 ? z : 0;
    case REGNN_ACT_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case REGNN_ACT_TANH: return tanh(z);
    default: return z;
    }
}

/* Keras's penalty of one layer, from its settings: kernel l2*sum w^2 +
 * l1*sum|w|, bias bias_l2*sum b^2 + bias_l1*sum|b|. */
static double ref_penalty(const regnn_model *m, const double *p)
{
    double pen = 0;
    for (size_t i = 0; i < m->n_layers; i++) {
        const regnn_layer *l = m->layers[i];
        double k2, k1, b2, b1;
        CK_OK(regnn_layer_get_double(l, REGNN_LAYER_L2, &k2));
        CK_OK(regnn_layer_get_double(l, REGNN_LAYER_L1, &k1));
        CK_OK(regnn_layer_get_double(l, REGNN_LAYER_BIAS_L2, &b2));
        CK_OK(regnn_layer_get_double(l, REGNN_LAYER_BIAS_L1, &b1));
        const size_t nk = l->n_in * l->units;
        for (size_t k = 0; k < nk; k++) {
            const double w = p[l->offset + k];
            pen += k2 * w * w + k1 * fabs(w);
        }
        for (size_t j = 0; j < l->units; j++) {
            const double b = p[l->offset + nk + j];
            pen += b2 * b * b + b1 * fabs(b);
        }
    }
    return pen;
}

/* Keras's activity penalty of a layer's outputs out (units of them, one row). */
static double ref_activity(const regnn_layer *l, const double *out)
{
    double a2, a1, s = 0;
    CK_OK(regnn_layer_get_double(l, REGNN_LAYER_ACTIVITY_L2, &a2));
    CK_OK(regnn_layer_get_double(l, REGNN_LAYER_ACTIVITY_L1, &a1));
    for (size_t j = 0; j < regnn_layer_units(l); j++)
        s += a2 * out[j] * out[j] + a1 * fabs(out[j]);
    return s;
}

/* Mean squared error over rows and outputs, plus the penalty and the
 * activity penalty summed over the rows, in double. */
static double ref_loss_act(const regnn_model *m, const double *p, const float *x, const float *t,
                           size_t rows, double *activity)
{
    double a[64], b[64], se = 0, act = 0;
    const size_t n_out = regnn_model_outputs(m);
    for (size_t r = 0; r < rows; r++) {
        double *in = a, *out = b;
        for (size_t k = 0; k < m->n_in; k++)
            in[k] = x[r * m->n_in + k];
        for (size_t i = 0; i < m->n_layers; i++) {
            const regnn_layer *l = m->layers[i];
            const double *w = p + l->offset, *bias = w + l->n_in * l->units;
            for (size_t j = 0; j < l->units; j++) {
                double z = bias[j];
                for (size_t k = 0; k < l->n_in; k++)
                    z += in[k] * w[k * l->units + j];
                out[j] = act_d(l->act, z);
            }
            act += ref_activity(l, out);
            double *s = in;
            in = out;
            out = s;
        }
        for (size_t j = 0; j < n_out; j++) {
            const double d = in[j] - t[r * n_out + j];
            se += d * d;
        }
    }
    *activity = act;
    return se / (double)(rows * n_out) + ref_penalty(m, p) + act;
}

static double ref_loss(const regnn_model *m, const double *p, const float *x, const float *t,
                       size_t rows)
{
    double act;
    return ref_loss_act(m, p, x, t, rows, &act);
}

static void fill(float *v, size_t n, uint64_t seed, float scale)
{
    rg_rng r;
    rg_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((2 * rg_rng_uniform(&r) - 1) * scale);
}

/* A 3-5-2 network (tanh, linear) with non-zero biases and the given bias
 * penalties on both layers. */
static regnn_model *small_net(double b2, double b1, uint64_t seed)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_dense(m, 5, REGNN_ACT_TANH, NULL));
    CK_OK(regnn_model_add_dense(m, 2, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_BIAS_L2, b2));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_BIAS_L1, b1));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    const size_t np = regnn_model_param_count(m);
    float pf[64];
    CK_OK(regnn_model_get_params(m, pf, np));
    for (size_t i = 0; i < m->n_layers; i++) {
        const regnn_layer *l = m->layers[i];
        fill(pf + l->offset + l->n_in * l->units, l->units, seed + 7 + i, 0.4f);
    }
    CK_OK(regnn_model_set_params(m, pf, np));
    return m;
}

/* The step's gradient and penalty against the reference, by central
 * differences of the whole loss in double; activity penalties a2, a1 on
 * every layer, a batch of `rows` (100: three shards). */
static void grad_check_rows(double b2, double b1, double a2, double a1, size_t rows,
                            uint64_t seed)
{
    enum { MAX_ROWS = 100 };
    regnn_model *m = small_net(b2, b1, seed);
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_ACTIVITY_L2, a2));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_ACTIVITY_L1, a1));
    const size_t np = regnn_model_param_count(m);
    float x[MAX_ROWS * 3], t[MAX_ROWS * 2];
    fill(x, rows * 3, seed + 1, 1.5f);
    fill(t, rows * 2, seed + 2, 1.0f);
    CK_OK(rg_model_reserve(m, rows));
    double mse, mae, pen;
    CK_OK(rg_model_step_grads(m, x, t, rows, 1, &mse, &mae, &pen));
    double p[64];
    for (size_t i = 0; i < np; i++)
        p[i] = m->params[i];
    double act;
    (void)ref_loss_act(m, p, x, t, rows, &act);
    const double want_pen = ref_penalty(m, p) + act;
    ck_assert(want_pen > 0.0);
    ck_assert_double_eq_tol(pen, want_pen, 1e-6 * want_pen);
    for (size_t i = 0; i < np; i++) {
        const double h = 1e-6, keep = p[i];
        p[i] = keep + h;
        const double lp = ref_loss(m, p, x, t, rows);
        p[i] = keep - h;
        const double lm = ref_loss(m, p, x, t, rows);
        p[i] = keep;
        const double num = (lp - lm) / (2 * h);
        const double err = fabs(num - m->grads[i]) / (1e-3 + fabs(num));
        ck_assert_msg(err < 2e-3, "param %zu: numeric %.8g, analytic %.8g", i, num, m->grads[i]);
    }
    regnn_model_free(m);
}

static void grad_check(double b2, double b1, uint64_t seed)
{
    grad_check_rows(b2, b1, 0.0, 0.0, 6, seed);
}

START_TEST(test_activity_l2_gradient)
{
    grad_check_rows(0.0, 0.0, 0.02, 0.0, 6, 24);
    grad_check_rows(0.0, 0.0, 0.02, 0.0, 100, 25);
}
END_TEST

START_TEST(test_activity_l1_gradient)
{
    grad_check_rows(0.0, 0.0, 0.0, 0.01, 6, 26);
    grad_check_rows(0.1, 0.0, 0.003, 0.01, 100, 27);
}
END_TEST

START_TEST(test_bias_l2_gradient)
{
    grad_check(0.3, 0.0, 21);
}
END_TEST

START_TEST(test_bias_l1_gradient)
{
    grad_check(0.0, 0.2, 22);
}
END_TEST

START_TEST(test_bias_l1_l2_gradient)
{
    grad_check(0.15, 0.05, 23);
}
END_TEST

/* The bias penalty's gradient is 2*BIAS_L2*b + BIAS_L1*sign(b) on top of the
 * data gradient, and nothing on the kernel. */
START_TEST(test_bias_gradient_is_formula)
{
    enum { ROWS = 4 };
    const double b2 = 0.25, b1 = 0.125;
    regnn_model *off = small_net(0.0, 0.0, 31), *on = small_net(b2, b1, 31);
    float x[ROWS * 3], t[ROWS * 2];
    fill(x, ROWS * 3, 32, 1.0f);
    fill(t, ROWS * 2, 33, 1.0f);
    double mse, mae, pen;
    CK_OK(rg_model_reserve(off, ROWS));
    CK_OK(rg_model_reserve(on, ROWS));
    CK_OK(rg_model_step_grads(off, x, t, ROWS, 1, &mse, &mae, &pen));
    ck_assert(pen == 0.0);
    CK_OK(rg_model_step_grads(on, x, t, ROWS, 1, &mse, &mae, &pen));
    for (size_t i = 0; i < on->n_layers; i++) {
        const regnn_layer *l = on->layers[i];
        const size_t nk = l->n_in * l->units;
        for (size_t k = 0; k < nk; k++)
            ck_assert(on->grads[l->offset + k] == off->grads[l->offset + k]);
        for (size_t j = 0; j < l->units; j++) {
            const size_t e = l->offset + nk + j;
            const double b = on->params[e];
            const double want = 2 * b2 * b + b1 * (b > 0 ? 1 : -1);
            ck_assert_double_eq_tol(on->grads[e] - off->grads[e], want, 1e-6);
        }
    }
    regnn_model_free(off);
    regnn_model_free(on);
}
END_TEST

/* The kernel penalty's row kernel (step_task.c) against its rule written
 * out here: per kernel row, blocks of 256; in a block lane k sums w^2 (and
 * sign(w) * w) of elements k, k + 8, ... in float, the block's tail goes to
 * lane 0, the lanes add up in double; the gradient is c2*w (+ l1*sign(w))
 * stored or added to g. */
static double ref_pen_row(const float *w, float *g, size_t n, double l2, double l1, int add)
{
    const float c2 = (float)(2.0 * l2), c1 = (float)l1;
    double q2 = 0.0, q1 = 0.0;
    for (size_t b = 0; b < n; b += 256) {
        const size_t end = n - b > 256 ? b + 256 : n, whole = b + (end - b) / 8 * 8;
        float a2[8] = {0}, a1[8] = {0};
        for (size_t i = b; i < end; i++) {
            const float v = w[i], sg = (float)(v > 0.0f) - (float)(v < 0.0f);
            const size_t k = i < whole ? (i - b) % 8 : 0;
            a2[k] += v * v;
            a1[k] += sg * v;
            const float t = l1 != 0.0 ? c2 * v + c1 * sg : c2 * v;
            g[i] = add ? g[i] + t : t;
        }
        for (size_t k = 0; k < 8; k++) {
            q2 += a2[k];
            q1 += a1[k];
        }
    }
    return l1 != 0.0 ? l2 * q2 + l1 * q1 : l2 * q2;
}

/* A 3-300-13-1 network (300 = a block of 256, 5 lanes' rounds and a tail of
 * 4; 13: one round and a tail) with zeros of both signs among the weights:
 * rg_model_add_penalty (the gradient added) and a one-shard step (stored,
 * then the data gradient added) against ref_pen_row, bit for bit, with and
 * without the L1 term. */
START_TEST(test_penalty_rows_rule)
{
    for (int with_l1 = 0; with_l1 < 2; with_l1++) {
        regnn_model *m = NULL;
        CK_OK(regnn_model_create(3, &m));
        CK_OK(regnn_model_add_dense(m, 300, REGNN_ACT_RELU, NULL));
        CK_OK(regnn_model_add_dense(m, 13, REGNN_ACT_RELU, NULL));
        CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
        CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, 0.03));
        CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L1, with_l1 ? 0.007 : 0.0));
        CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 41));
        CK_OK(rg_model_reserve(m, 8));
        m->params[5] = 0.0f;
        m->params[777] = -0.0f;
        const size_t np = m->n_params;
        float *g0 = malloc(np * sizeof *g0), *want = malloc(np * sizeof *want);
        ck_assert_ptr_nonnull(g0);
        ck_assert_ptr_nonnull(want);
        fill(g0, np, 42, 0.5f);
        memcpy(m->grads, g0, np * sizeof *g0);
        memcpy(want, g0, np * sizeof *g0);
        double pen = 0.0;
        for (size_t i = m->n_layers; i-- > 0;) {
            const regnn_layer *l = m->layers[i];
            for (size_t r = 0; r < l->n_in; r++)
                pen += ref_pen_row(m->params + l->offset + r * l->units,
                                   want + l->offset + r * l->units, l->units, l->l2, l->l1, 1);
        }
        ck_assert(rg_model_add_penalty(m) == pen);
        ck_assert(memcmp(m->grads, want, np * sizeof *want) == 0);
        /* One shard: each row's gradient starts from the penalty's (stored). */
        float x[8 * 3], t[8];
        fill(x, 8 * 3, 43, 1.0f);
        fill(t, 8, 44, 1.0f);
        double mse, mae, step_pen;
        CK_OK(rg_model_step_grads(m, x, t, 8, 1, &mse, &mae, &step_pen));
        ck_assert(step_pen == pen);
        free(g0);
        free(want);
        regnn_model_free(m);
    }
}
END_TEST

/* regnn_model_evaluate's penalty and the loss regnn_train_batch reports
 * (Keras: the data loss plus every regularization loss, before the update). */
START_TEST(test_bias_penalty_in_loss)
{
    enum { ROWS = 8 };
    regnn_model *m = small_net(0.5, 0.25, 41);
    float x[ROWS * 3], t[ROWS * 2];
    fill(x, ROWS * 3, 42, 1.0f);
    fill(t, ROWS * 2, 43, 1.0f);
    double p[64];
    for (size_t i = 0; i < regnn_model_param_count(m); i++)
        p[i] = m->params[i];
    const double want_pen = ref_penalty(m, p), want_loss = ref_loss(m, p, x, t, ROWS);
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, t, ROWS, 3, 2, REGNN_COPY, &ds));
    double mse, mae, pen;
    CK_OK(regnn_model_evaluate(m, ds, &mse, &mae, &pen));
    ck_assert_double_eq_tol(pen, want_pen, 1e-6 * want_pen);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &o));
    double loss;
    CK_OK(regnn_train_batch(m, o, x, t, ROWS, &loss));
    ck_assert_double_eq_tol(loss, want_loss, 1e-6 * want_loss);
    regnn_optimizer_free(o);
    regnn_dataset_free(ds);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_bias_values_checked)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(2, &m));
    regnn_layer *l = NULL;
    CK_OK(regnn_model_add_dense(m, 3, REGNN_ACT_RELU, &l));
    static const int keys[] = {REGNN_LAYER_BIAS_L2, REGNN_LAYER_BIAS_L1};
    for (int k = 0; k < 2; k++) {
        double v = -1;
        CK_OK(regnn_layer_get_double(l, keys[k], &v));
        ck_assert(v == 0.0); /* the default: no bias penalty, as Keras */
        CK_OK(regnn_layer_set_double(l, keys[k], 0.5));
        CK_STATUS(regnn_layer_set_double(l, keys[k], -0.1), REGNN_E_INVALID_ARG);
        CK_STATUS(regnn_layer_set_double(l, keys[k], NAN), REGNN_E_INVALID_ARG);
        CK_STATUS(regnn_layer_set_double(l, keys[k], INFINITY), REGNN_E_INVALID_ARG);
        CK_STATUS(regnn_model_set_layers_double(m, keys[k], -1.0), REGNN_E_INVALID_ARG);
        CK_OK(regnn_layer_get_double(l, keys[k], &v));
        ck_assert(v == 0.5); /* a refused value leaves the setting */
        regnn_bounds b;
        memset(&b, 0, sizeof b);
        b.size = sizeof b;
        CK_OK(regnn_option_bounds(REGNN_OPTION_LAYER, keys[k], &b));
        ck_assert(b.min == 0.0 && isinf(b.max) && b.default_value == 0.0);
    }
    regnn_model_free(m);
}
END_TEST

static uint8_t *save(const regnn_model *m, size_t *n)
{
    CK_OK(regnn_model_save_mem(m, NULL, 0, n));
    uint8_t *b = malloc(*n);
    CK_OK(regnn_model_save_mem(m, b, *n, n));
    return b;
}

static size_t find_tag(const uint8_t *b, size_t n, const char *tag)
{
    for (size_t i = 20; i + 4 <= n; i++)
        if (memcmp(b + i, tag, 4) == 0)
            return i;
    return 0;
}

START_TEST(test_bias_save_load)
{
    regnn_model *m = small_net(0.0, 0.0, 51);
    size_t n0;
    uint8_t *plain = save(m, &n0);
    ck_assert_uint_eq(find_tag(plain, n0, "LREG"), 0);
    CK_OK(regnn_layer_set_double(regnn_model_layer(m, 1), REGNN_LAYER_BIAS_L2, 0.375));
    CK_OK(regnn_layer_set_double(regnn_model_layer(m, 0), REGNN_LAYER_BIAS_L1, 0.0625));
    size_t n1;
    uint8_t *with = save(m, &n1);
    const size_t at = find_tag(with, n1, "LREG");
    ck_assert_uint_ne(at, 0);
    ck_assert_uint_eq(with[at + 4] & 1u, 1u); /* required: a 1.0 reader refuses it */
    regnn_model *back = NULL;
    CK_OK(regnn_model_load_mem(with, n1, &back));
    for (size_t i = 0; i < 2; i++)
        for (int key = REGNN_LAYER_BIAS_L2; key <= REGNN_LAYER_BIAS_L1; key++) {
            double a, b;
            CK_OK(regnn_layer_get_double(regnn_model_layer(m, i), key, &a));
            CK_OK(regnn_layer_get_double(regnn_model_layer(back, i), key, &b));
            ck_assert(a == b);
        }
    size_t n2;
    uint8_t *again = save(back, &n2);
    ck_assert(n2 == n1 && memcmp(again, with, n1) == 0);
    /* Back to 0: the file is the one without the feature, byte for byte. */
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_BIAS_L2, 0.0));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_BIAS_L1, 0.0));
    size_t n3;
    uint8_t *off = save(m, &n3);
    ck_assert(n3 == n0 && memcmp(off, plain, n0) == 0);

    /* A setting this reader does not know: REGNN_E_VERSION, and a value out
     * of range: REGNN_E_FORMAT (the CRC made right each time). */
    regnn_model *bad = NULL;
    const size_t key0 = at + 16 + 12;
    with[key0] = 99;
    memcpy(with + n1 - 4, (uint32_t[]){0}, 4);
    const uint32_t crc = rg_crc32(0, with, n1 - 4);
    for (int k = 0; k < 4; k++)
        with[n1 - 4 + k] = (uint8_t)(crc >> (8 * k));
    CK_STATUS(regnn_model_load_mem(with, n1, &bad), REGNN_E_VERSION);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "LREG"));
    with[key0] = REGNN_LAYER_BIAS_L2;
    const double neg = -1.0;
    const size_t nkeys = with[at + 16 + 8]; /* layer 0's first value follows the keys */
    memcpy(with + key0 + 4 * nkeys, &neg, 8); /* little-endian hosts (the test's assumption) */
    const uint32_t crc2 = rg_crc32(0, with, n1 - 4);
    for (int k = 0; k < 4; k++)
        with[n1 - 4 + k] = (uint8_t)(crc2 >> (8 * k));
    CK_STATUS(regnn_model_load_mem(with, n1, &bad), REGNN_E_FORMAT);
    ck_assert_ptr_null(bad);
    free(plain);
    free(with);
    free(again);
    free(off);
    regnn_model_free(back);
    regnn_model_free(m);
}
END_TEST

/* regnn_fit with the bias penalty (mode 0), MaxNorm (1), UnitNorm (2) or
 * the activity penalty with dropout (3) on the hidden layers: the same bits on 1, 2 and 3 threads, on owned rows
 * (batches of 64, width 128) and in shards (batches of 100). */
static void fit_bits(int mode, size_t width, size_t batch, size_t threads, float *params,
                     double *hist)
{
    enum { ROWS = 230, IN = 7, EPOCHS = 2 };
    static float x[ROWS * IN], y[ROWS];
    fill(x, ROWS * IN, 61, 1.0f);
    fill(y, ROWS, 62, 1.0f);
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, ROWS, IN, 1, REGNN_COPY, &ds));
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(IN, &m));
    CK_OK(regnn_model_add_dense(m, width, REGNN_ACT_TANH, NULL));
    CK_OK(regnn_model_add_dense(m, width, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    if (mode == 0) {
        CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_BIAS_L2, 1e-2));
        CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_BIAS_L1, 1e-3));
    }
    static const int key[4] = {0, REGNN_LAYER_MAX_NORM, REGNN_LAYER_UNIT_NORM,
                               REGNN_LAYER_ACTIVITY_L2};
    static const double val[4] = {0, 0.5, 1.0, 1e-3};
    for (size_t i = 0; mode && i < 2; i++)
        CK_OK(regnn_layer_set_double(regnn_model_layer(m, i), key[mode], val[mode]));
    if (mode == 3) {
        CK_OK(regnn_layer_set_double(regnn_model_layer(m, 0), REGNN_LAYER_DROPOUT, 0.2));
        CK_OK(regnn_layer_set_double(regnn_model_layer(m, 2), REGNN_LAYER_ACTIVITY_L1, 1e-3));
    }
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, 1e-4));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 63));
    CK_OK(regnn_model_set_threads(m, threads));
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, EPOCHS));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, (int64_t)batch));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(m, o, ds, NULL, fo, &h));
    CK_OK(regnn_model_get_params(m, params, regnn_model_param_count(m)));
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, hist, EPOCHS));
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_PENALTY, hist + EPOCHS, EPOCHS));
    ck_assert(mode == 1 || mode == 2 || hist[EPOCHS] > 0.0);
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
}

START_TEST(test_same_bits_threads)
{
    const int mode = _i; /* bias penalty, MaxNorm, UnitNorm, activity */
    regnn__test_usable_cpus(RG_MAX_THREADS);
    static const size_t shapes[2][2] = {{128, 64}, {77, 100}};
    for (int k = 0; k < 2; k++) {
        const size_t w = shapes[k][0], np = 7 * w + w + w * w + w + w + 1;
        float *one = malloc(np * sizeof *one), *other = malloc(np * sizeof *other);
        double h1[4], h2[4];
        fit_bits(mode, w, shapes[k][1], 1, one, h1);
        for (size_t t = 2; t <= 3; t++) {
            fit_bits(mode, w, shapes[k][1], t, other, h2);
            ck_assert_msg(memcmp(one, other, np * sizeof *one) == 0, "width %zu: %zu threads", w, t);
            ck_assert_msg(memcmp(h1, h2, sizeof h1) == 0, "width %zu: history, %zu threads", w, t);
        }
        free(one);
        free(other);
    }
}
END_TEST

/* ---- kernel constraints ---- */

typedef struct {
    int key;      /* the REGNN_LAYER_* that turns it on */
    double value; /* its value */
    double min_norm, rate;
} constraint;

/* Keras's constraint on a kernel of n_in x units (axis=0), in double:
 * MaxNorm / MinMaxNorm w * desired / (eps + norm), UnitNorm w / (eps + norm),
 * NonNeg w * (w >= 0). */
static void ref_constrain(const constraint *c, double *w, size_t n_in, size_t units)
{
    const double eps = 1e-7;
    for (size_t j = 0; j < units; j++) {
        double s = 0;
        for (size_t i = 0; i < n_in; i++)
            s += w[i * units + j] * w[i * units + j];
        const double norm = sqrt(s);
        const double lo = c->key == REGNN_LAYER_MAX_NORM ? c->min_norm : 0;
        const double clipped = fmin(fmax(norm, lo), c->value);
        const double desired = c->rate * clipped + (1 - c->rate) * norm;
        for (size_t i = 0; i < n_in; i++) {
            double *v = &w[i * units + j];
            if (c->key == REGNN_LAYER_NON_NEG)
                *v = *v >= 0 ? *v : 0;
            else if (c->key == REGNN_LAYER_UNIT_NORM)
                *v = *v / (eps + norm);
            else
                *v = *v * (desired / (eps + norm));
        }
    }
}

static void set_constraint(regnn_layer *l, const constraint *c)
{
    if (c->key == REGNN_LAYER_MAX_NORM) {
        CK_OK(regnn_layer_set_double(l, REGNN_LAYER_MIN_NORM, c->min_norm));
        CK_OK(regnn_layer_set_double(l, REGNN_LAYER_NORM_RATE, c->rate));
    }
    CK_OK(regnn_layer_set_double(l, c->key, c->value));
}

/* Steps of plain SGD on a model whose first layer has the constraint: each
 * step equals the same step without it (a copy) followed by the formula on
 * that layer's kernel; the bias and the other layer are the copy's. */
static void constraint_steps(const constraint *c, int steps)
{
    enum { ROWS = 8, IN = 4, UNITS = 5 };
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(IN, &m));
    CK_OK(regnn_model_add_dense(m, UNITS, REGNN_ACT_TANH, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 71));
    const size_t np = regnn_model_param_count(m), nk = IN * UNITS;
    float p[64];
    CK_OK(regnn_model_get_params(m, p, np));
    fill(p, nk, 72, 1.2f); /* column norms on both sides of the bounds */
    CK_OK(regnn_model_set_params(m, p, np));
    set_constraint(regnn_model_layer(m, 0), c);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &o));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.1));
    float x[ROWS * IN], y[ROWS];
    fill(x, ROWS * IN, 73, 1.0f);
    fill(y, ROWS, 74, 2.0f);
    int changed = 0;
    for (int s = 0; s < steps; s++) {
        regnn_model *free_m = NULL;
        CK_OK(regnn_model_copy(m, &free_m));
        regnn_layer *fl = regnn_model_layer(free_m, 0);
        CK_OK(regnn_layer_set_double(fl, c->key, 0.0));
        double loss;
        CK_OK(regnn_train_batch(m, o, x, y, ROWS, &loss));
        CK_OK(regnn_train_batch(free_m, o, x, y, ROWS, &loss));
        float a[64], b[64];
        CK_OK(regnn_model_get_params(m, a, np));
        CK_OK(regnn_model_get_params(free_m, b, np));
        double want[64];
        for (size_t k = 0; k < np; k++)
            want[k] = b[k];
        ref_constrain(c, want, IN, UNITS);
        for (size_t k = 0; k < nk; k++) {
            ck_assert_msg(fabs(a[k] - want[k]) <= 2e-7 * fabs(want[k]) + 1e-30,
                          "step %d, weight %zu: %.9g, formula %.9g", s, k, a[k], want[k]);
            changed |= a[k] != b[k];
        }
        ck_assert(memcmp(a + nk, b + nk, (np - nk) * sizeof *a) == 0);
        regnn_model_free(free_m);
    }
    ck_assert_msg(changed, "the constraint never acted: the test proves nothing");
    regnn_optimizer_free(o);
    regnn_model_free(m);
}

START_TEST(test_max_norm_steps)
{
    const constraint c = {REGNN_LAYER_MAX_NORM, 1.0, 0.0, 1.0};
    constraint_steps(&c, 1);
    constraint_steps(&c, 4);
}
END_TEST

START_TEST(test_min_max_norm_steps)
{
    const constraint c = {REGNN_LAYER_MAX_NORM, 1.5, 1.2, 0.5};
    constraint_steps(&c, 1);
    constraint_steps(&c, 4);
}
END_TEST

START_TEST(test_unit_norm_steps)
{
    const constraint c = {REGNN_LAYER_UNIT_NORM, 1.0, 0.0, 1.0};
    constraint_steps(&c, 1);
    constraint_steps(&c, 4);
}
END_TEST

START_TEST(test_non_neg_steps)
{
    const constraint c = {REGNN_LAYER_NON_NEG, 1.0, 0.0, 1.0};
    constraint_steps(&c, 1);
    constraint_steps(&c, 4);
}
END_TEST

/* One kind per layer, MIN_NORM <= MAX_NORM, ranges; a refused value changes
 * nothing, on one layer or on all. */
START_TEST(test_constraint_values_checked)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(2, &m));
    regnn_layer *l0 = NULL, *l1 = NULL;
    CK_OK(regnn_model_add_dense(m, 3, REGNN_ACT_RELU, &l0));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, &l1));
    double v;
    CK_OK(regnn_layer_get_double(l0, REGNN_LAYER_NORM_RATE, &v));
    ck_assert(v == 1.0); /* Keras's MinMaxNorm rate */
    CK_STATUS(regnn_layer_set_double(l0, REGNN_LAYER_NON_NEG, 0.5), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_layer_set_double(l0, REGNN_LAYER_UNIT_NORM, 2), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_layer_set_double(l0, REGNN_LAYER_NORM_RATE, 1.5), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_layer_set_double(l0, REGNN_LAYER_MAX_NORM, -1), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_layer_set_double(l0, REGNN_LAYER_MAX_NORM, INFINITY), REGNN_E_INVALID_ARG);
    CK_OK(regnn_layer_set_double(l1, REGNN_LAYER_NON_NEG, 1));
    CK_STATUS(regnn_model_set_layers_double(m, REGNN_LAYER_MAX_NORM, 2.0), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "one kernel constraint"));
    CK_OK(regnn_layer_get_double(l0, REGNN_LAYER_MAX_NORM, &v));
    ck_assert(v == 0.0); /* all or none: layer 0 was not changed either */
    CK_OK(regnn_layer_set_double(l0, REGNN_LAYER_MAX_NORM, 2.0));
    CK_STATUS(regnn_layer_set_double(l0, REGNN_LAYER_UNIT_NORM, 1), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_layer_set_double(l0, REGNN_LAYER_MIN_NORM, 3.0), REGNN_E_INVALID_ARG);
    CK_OK(regnn_layer_set_double(l0, REGNN_LAYER_MIN_NORM, 1.0));
    CK_STATUS(regnn_layer_set_double(l0, REGNN_LAYER_MAX_NORM, 0.5), REGNN_E_INVALID_ARG);
    CK_OK(regnn_layer_set_double(l0, REGNN_LAYER_MAX_NORM, 0.0)); /* off: min is not checked */
    CK_OK(regnn_layer_set_double(l0, REGNN_LAYER_UNIT_NORM, 1));
    regnn_model_free(m);
}
END_TEST

START_TEST(test_constraint_save_load)
{
    regnn_model *m = small_net(0.0, 0.0, 81);
    CK_OK(regnn_layer_set_double(regnn_model_layer(m, 0), REGNN_LAYER_MIN_NORM, 0.25));
    CK_OK(regnn_layer_set_double(regnn_model_layer(m, 0), REGNN_LAYER_MAX_NORM, 1.5));
    CK_OK(regnn_layer_set_double(regnn_model_layer(m, 0), REGNN_LAYER_NORM_RATE, 0.75));
    CK_OK(regnn_layer_set_double(regnn_model_layer(m, 1), REGNN_LAYER_UNIT_NORM, 1));
    size_t n;
    uint8_t *b = save(m, &n);
    regnn_model *back = NULL;
    CK_OK(regnn_model_load_mem(b, n, &back));
    static const int keys[] = {REGNN_LAYER_MAX_NORM, REGNN_LAYER_MIN_NORM, REGNN_LAYER_NORM_RATE,
                               REGNN_LAYER_NON_NEG, REGNN_LAYER_UNIT_NORM};
    for (size_t i = 0; i < 2; i++)
        for (int k = 0; k < 5; k++) {
            double x, y;
            CK_OK(regnn_layer_get_double(regnn_model_layer(m, i), keys[k], &x));
            CK_OK(regnn_layer_get_double(regnn_model_layer(back, i), keys[k], &y));
            ck_assert(x == y);
        }
    /* Layer 1 with UnitNorm and a max norm too: refused as a file. */
    const size_t at = find_tag(b, n, "LREG"), K = b[at + 16 + 8];
    size_t kmax = 0;
    while (b[at + 16 + 12 + 4 * kmax] != REGNN_LAYER_MAX_NORM)
        kmax++;
    const double two = 2.0;
    memcpy(b + at + 16 + 12 + 4 * K + 8 * (K + kmax), &two, 8); /* layer 1, little-endian */
    const uint32_t crc = rg_crc32(0, b, n - 4);
    for (int k = 0; k < 4; k++)
        b[n - 4 + k] = (uint8_t)(crc >> (8 * k));
    regnn_model *bad = NULL;
    CK_STATUS(regnn_model_load_mem(b, n, &bad), REGNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "one kernel constraint"));
    free(b);
    regnn_model_free(back);
    regnn_model_free(m);
}
END_TEST

/* The activity penalty in the loss as Keras reports it: regnn_train_batch's
 * loss is the data loss plus the batch's summed activity penalty, and the
 * history's penalty and loss of a one-batch epoch are those of the starting
 * weights. */
START_TEST(test_activity_in_loss_and_history)
{
    enum { ROWS = 40 };
    float x[ROWS * 3], t[ROWS * 2];
    fill(x, ROWS * 3, 92, 1.0f);
    fill(t, ROWS * 2, 93, 1.0f);
    regnn_model *m = small_net(0.0, 0.0, 91);
    CK_OK(regnn_layer_set_double(regnn_model_layer(m, 0), REGNN_LAYER_ACTIVITY_L2, 0.01));
    CK_OK(regnn_layer_set_double(regnn_model_layer(m, 1), REGNN_LAYER_ACTIVITY_L1, 0.002));
    regnn_model *copy = NULL;
    CK_OK(regnn_model_copy(m, &copy));
    double p[64], act;
    for (size_t i = 0; i < regnn_model_param_count(m); i++)
        p[i] = m->params[i];
    const double want_loss = ref_loss_act(m, p, x, t, ROWS, &act);
    ck_assert(act > 0.0);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &o));
    double loss;
    CK_OK(regnn_train_batch(m, o, x, t, ROWS, &loss));
    ck_assert_double_eq_tol(loss, want_loss, 1e-6 * want_loss);
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, t, ROWS, 3, 2, REGNN_COPY, &ds));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 1));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, ROWS));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(copy, o, ds, NULL, fo, &h));
    double hp, hl;
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_PENALTY, &hp, 1));
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, &hl, 1));
    ck_assert_double_eq_tol(hp, act, 1e-6 * act);
    ck_assert_double_eq_tol(hl, want_loss, 1e-6 * want_loss);
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_dataset_free(ds);
    regnn_optimizer_free(o);
    regnn_model_free(copy);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_activity_values_checked)
{
    regnn_model *m = small_net(0.0, 0.0, 94);
    static const int keys[] = {REGNN_LAYER_ACTIVITY_L2, REGNN_LAYER_ACTIVITY_L1};
    for (int k = 0; k < 2; k++) {
        double v = -1;
        CK_OK(regnn_layer_get_double(regnn_model_layer(m, 0), keys[k], &v));
        ck_assert(v == 0.0);
        CK_STATUS(regnn_model_set_layers_double(m, keys[k], -1e-3), REGNN_E_INVALID_ARG);
        CK_STATUS(regnn_model_set_layers_double(m, keys[k], NAN), REGNN_E_INVALID_ARG);
        CK_OK(regnn_model_set_layers_double(m, keys[k], 0.25));
    }
    size_t n;
    uint8_t *b = save(m, &n);
    regnn_model *back = NULL;
    CK_OK(regnn_model_load_mem(b, n, &back));
    for (int k = 0; k < 2; k++) {
        double v;
        CK_OK(regnn_layer_get_double(regnn_model_layer(back, 1), keys[k], &v));
        ck_assert(v == 0.25);
    }
    free(b);
    regnn_model_free(back);
    regnn_model_free(m);
}
END_TEST

/* ---- the regularization path over the new kinds ---- */

/* Every metric but the seconds, bit for bit. */
static void same_history(const regnn_history *a, const regnn_history *b)
{
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    const size_t n = regnn_history_epochs(a);
    ck_assert_uint_eq(n, regnn_history_epochs(b));
    double x[16], y[16];
    for (int k = REGNN_METRIC_TRAIN_LOSS; k <= REGNN_METRIC_TRAIN_EVAL_MSE; k++) {
        if (k == REGNN_METRIC_SECONDS)
            continue;
        CK_OK(regnn_history_get(a, k, x, n));
        CK_OK(regnn_history_get(b, k, y, n));
        ck_assert_msg(memcmp(x, y, n * sizeof *x) == 0, "metric %d differs", k);
    }
}

static const struct {
    int penalty, key, hidden_only;
    double lambdas[2];
} path_cases[] = {
    {REGNN_PENALTY_DROPOUT, REGNN_LAYER_DROPOUT, 1, {0.3, 0.0}},
    {REGNN_PENALTY_MAX_NORM, REGNN_LAYER_MAX_NORM, 0, {0.4, 2.0}},
    {REGNN_PENALTY_ACTIVITY_L2, REGNN_LAYER_ACTIVITY_L2, 0, {1e-3, 0.0}},
    {REGNN_PENALTY_BIAS_L2, REGNN_LAYER_BIAS_L2, 0, {0.5, 1e-3}},
};

static regnn_dataset *path_data(size_t rows, uint64_t seed)
{
    float x[200 * 3], y[200];
    fill(x, rows * 3, seed, 1.0f);
    for (size_t r = 0; r < rows; r++)
        y[r] = (float)(sin(2 * x[r * 3]) + x[r * 3 + 1] * x[r * 3 + 2]);
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, rows, 3, 1, REGNN_COPY, &ds));
    return ds;
}

/* Each run of a path of every new kind is the documented recipe done by
 * hand: copy the template, set lambda on every layer (every hidden layer for
 * dropout), initialize with seed, fit with a fresh Adam; 1 and 2 threads
 * agree; the file is version 3 and reads back. */
START_TEST(test_path_sweeps_new_kinds)
{
    const size_t c = (size_t)_i;
    regnn_dataset *tr = path_data(120, 101), *va = path_data(40, 102);
    regnn_model *tm = NULL;
    CK_OK(regnn_model_create(3, &tm));
    CK_OK(regnn_model_add_dense(tm, 16, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(tm, 8, REGNN_ACT_TANH, NULL));
    CK_OK(regnn_model_add_dense(tm, 1, REGNN_ACT_LINEAR, NULL));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 4));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 16));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EVAL_TRAIN, 1));
    regnn_path *p[2] = {NULL, NULL};
    for (int t = 0; t < 2; t++) {
        regnn_path_options *po = NULL;
        CK_OK(regnn_path_options_create(&po));
        CK_OK(regnn_path_options_set_lambdas(po, path_cases[c].lambdas, 2));
        CK_OK(regnn_path_options_set_int(po, REGNN_PATH_PENALTY, path_cases[c].penalty));
        CK_OK(regnn_path_options_set_int(po, REGNN_PATH_SEEDS, 2));
        CK_OK(regnn_path_options_set_int(po, REGNN_PATH_SEED, 5));
        CK_OK(regnn_path_options_set_int(po, REGNN_PATH_THREADS, t + 1));
        CK_OK(regnn_regularization_path(tm, NULL, tr, va, fo, po, &p[t]));
        regnn_path_options_free(po);
    }
    double finals[4];
    for (size_t li = 0; li < 2; li++)
        for (size_t si = 0; si < 2; si++) {
            regnn_model *m = NULL;
            CK_OK(regnn_model_copy(tm, &m));
            const size_t n = regnn_model_layer_count(m) - (size_t)path_cases[c].hidden_only;
            for (size_t i = 0; i < n; i++)
                CK_OK(regnn_layer_set_double(regnn_model_layer(m, i), path_cases[c].key,
                                             path_cases[c].lambdas[li]));
            CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 5 + si));
            regnn_optimizer *o = NULL;
            CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
            regnn_history *h = NULL;
            CK_OK(regnn_fit(m, o, tr, va, fo, &h));
            same_history(h, regnn_path_history(p[0], li, si));
            same_history(h, regnn_path_history(p[1], li, si));
            const size_t ep = regnn_history_epochs(h);
            double v[16];
            CK_OK(regnn_history_get(h, REGNN_METRIC_VAL_MSE, v, ep));
            finals[li * 2 + si] = v[ep - 1];
            regnn_history_free(h);
            regnn_optimizer_free(o);
            regnn_model_free(m);
        }
    ck_assert(finals[0] != finals[2]); /* lambda made a difference */
    size_t n;
    CK_OK(regnn_path_save_mem(p[0], NULL, 0, &n));
    uint8_t *b = malloc(n);
    CK_OK(regnn_path_save_mem(p[0], b, n, &n));
    ck_assert_uint_eq(b[8], 3); /* version 3: a reader of version 2 refuses it */
    ck_assert_uint_eq(b[24], (unsigned)path_cases[c].penalty);
    regnn_path *back = NULL;
    CK_OK(regnn_path_load_mem(b, n, &back));
    size_t n2;
    CK_OK(regnn_path_save_mem(back, NULL, 0, &n2));
    uint8_t *b2 = malloc(n2);
    CK_OK(regnn_path_save_mem(back, b2, n2, &n2));
    ck_assert(n2 == n && memcmp(b, b2, n) == 0);
    b[24] = REGNN_PENALTY_L1; /* a version 3 file of an old kind: not one a writer makes */
    const uint32_t crc = rg_crc32(0, b, n - 4);
    for (int k = 0; k < 4; k++)
        b[n - 4 + k] = (uint8_t)(crc >> (8 * k));
    regnn_path *bad = NULL;
    CK_STATUS(regnn_path_load_mem(b, n, &bad), REGNN_E_FORMAT);
    free(b);
    free(b2);
    regnn_path_free(back);
    regnn_path_free(p[0]);
    regnn_path_free(p[1]);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
}
END_TEST

/* Lambdas each kind refuses, named by index; a dropout path needs a hidden
 * layer; an L2 path still writes the version 1 file it always wrote. */
START_TEST(test_path_new_kinds_checked)
{
    regnn_dataset *tr = path_data(40, 111), *va = path_data(20, 112);
    regnn_model *tm = NULL;
    CK_OK(regnn_model_create(3, &tm));
    CK_OK(regnn_model_add_dense(tm, 4, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(tm, 1, REGNN_ACT_LINEAR, NULL));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 1));
    regnn_path_options *po = NULL;
    CK_OK(regnn_path_options_create(&po));
    regnn_path *p = NULL;
    const double drop[] = {0.5, 1.0};
    CK_OK(regnn_path_options_set_lambdas(po, drop, 2));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_PENALTY, REGNN_PENALTY_DROPOUT));
    CK_STATUS(regnn_regularization_path(tm, NULL, tr, va, fo, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "lambda[1] = 1"));
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "REGNN_LAYER_DROPOUT"));
    /* MaxNorm on a layer that has NonNeg: one kernel constraint per layer. */
    const double mn[] = {1.0};
    CK_OK(regnn_path_options_set_lambdas(po, mn, 1));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_PENALTY, REGNN_PENALTY_MAX_NORM));
    CK_OK(regnn_layer_set_double(regnn_model_layer(tm, 0), REGNN_LAYER_NON_NEG, 1));
    CK_STATUS(regnn_regularization_path(tm, NULL, tr, va, fo, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "one kernel constraint"));
    CK_OK(regnn_layer_set_double(regnn_model_layer(tm, 0), REGNN_LAYER_NON_NEG, 0));
    /* No hidden layer for a dropout path. */
    regnn_model *one = NULL;
    CK_OK(regnn_model_create(3, &one));
    CK_OK(regnn_model_add_dense(one, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_PENALTY, REGNN_PENALTY_DROPOUT));
    const double d0[] = {0.1};
    CK_OK(regnn_path_options_set_lambdas(po, d0, 1));
    CK_STATUS(regnn_regularization_path(one, NULL, tr, va, fo, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(p);
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_PENALTY, REGNN_PENALTY_L2));
    CK_OK(regnn_regularization_path(tm, NULL, tr, va, fo, po, &p));
    size_t n;
    CK_OK(regnn_path_save_mem(p, NULL, 0, &n));
    uint8_t *b = malloc(n);
    CK_OK(regnn_path_save_mem(p, b, n, &n));
    ck_assert_uint_eq(b[8], 1);
    free(b);
    regnn_path_free(p);
    regnn_model_free(one);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
}
END_TEST

/* Penalties and constraints act in training only: the ONNX export of a model
 * with them is the export of the same weights without them, byte for byte. */
START_TEST(test_onnx_export_unchanged)
{
    regnn_model *plain = small_net(0.0, 0.0, 121), *with = NULL;
    CK_OK(regnn_model_copy(plain, &with));
    CK_OK(regnn_model_set_layers_double(with, REGNN_LAYER_BIAS_L2, 0.5));
    CK_OK(regnn_model_set_layers_double(with, REGNN_LAYER_ACTIVITY_L1, 0.5));
    CK_OK(regnn_layer_set_double(regnn_model_layer(with, 0), REGNN_LAYER_MAX_NORM, 0.1));
    CK_OK(regnn_layer_set_double(regnn_model_layer(with, 1), REGNN_LAYER_NON_NEG, 1));
    size_t na, nb;
    CK_OK(regnn_model_export_onnx_mem(plain, NULL, 0, &na));
    CK_OK(regnn_model_export_onnx_mem(with, NULL, 0, &nb));
    ck_assert_uint_eq(na, nb);
    uint8_t *a = malloc(na), *b = malloc(nb);
    CK_OK(regnn_model_export_onnx_mem(plain, a, na, &na));
    CK_OK(regnn_model_export_onnx_mem(with, b, nb, &nb));
    ck_assert(memcmp(a, b, na) == 0);
    free(a);
    free(b);
    regnn_model_free(with);
    regnn_model_free(plain);
}
END_TEST

static Suite *layerreg_suite(void)
{
    Suite *s = suite_create("layerreg");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_bias_l2_gradient);
    tcase_add_test(tc, test_activity_l2_gradient);
    tcase_add_test(tc, test_activity_l1_gradient);
    tcase_add_test(tc, test_activity_in_loss_and_history);
    tcase_add_test(tc, test_activity_values_checked);
    tcase_add_test(tc, test_bias_l1_gradient);
    tcase_add_test(tc, test_bias_l1_l2_gradient);
    tcase_add_test(tc, test_bias_gradient_is_formula);
    tcase_add_test(tc, test_penalty_rows_rule);
    tcase_add_test(tc, test_bias_penalty_in_loss);
    tcase_add_test(tc, test_bias_values_checked);
    tcase_add_test(tc, test_bias_save_load);
    tcase_add_loop_test(tc, test_same_bits_threads, 0, 4);
    tcase_add_test(tc, test_max_norm_steps);
    tcase_add_test(tc, test_min_max_norm_steps);
    tcase_add_test(tc, test_unit_norm_steps);
    tcase_add_test(tc, test_non_neg_steps);
    tcase_add_test(tc, test_constraint_values_checked);
    tcase_add_test(tc, test_constraint_save_load);
    tcase_add_loop_test(tc, test_path_sweeps_new_kinds, 0, 4);
    tcase_add_test(tc, test_path_new_kinds_checked);
    tcase_add_test(tc, test_onnx_export_unchanged);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(layerreg_suite)
