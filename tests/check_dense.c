/* SPDX-License-Identifier: MIT */
/* Dense layer kernels and whole-network gradients against central finite
 * differences computed in double precision. */
#include "testutil.h"
#include "model/model_impl.h" /* the model's fields, which this test reads or breaks */

#include <math.h>
#include <string.h>

/* ---- double-precision reference network ---- */

/* Keras' constants, written here again so a wrong constant in the library fails. */
#define K_SELU_ALPHA 1.6732632423543772848170429916717
#define K_SELU_SCALE 1.0507009873554804934193349852946
#define K_LEAKY 0.2

static double act_d(int act, double z)
{
    switch (act) {
    case REGNN_ACT_RELU: return z > 0 ? z : 0;
    case REGNN_ACT_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case REGNN_ACT_TANH: return tanh(z);
    case REGNN_ACT_ELU: return z > 0 ? z : exp(z) - 1;
    case REGNN_ACT_SELU: return K_SELU_SCALE * (z > 0 ? z : K_SELU_ALPHA * (exp(z) - 1));
    case REGNN_ACT_GELU: return 0.5 * z * (1 + erf(z / sqrt(2.0)));
    case REGNN_ACT_SWISH: return z / (1 + exp(-z));
    case REGNN_ACT_LEAKY_RELU: return z > 0 ? z : K_LEAKY * z;
    case REGNN_ACT_SOFTPLUS: return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
    default: return z;
    }
}

/* The derivative, by hand; at z = 0 the left one where act is not smooth. */
static double act_deriv(int act, double z)
{
    const double s = 1.0 / (1.0 + exp(-z));
    const double pi = 3.14159265358979323846;
    switch (act) {
    case REGNN_ACT_RELU: return z > 0 ? 1 : 0;
    case REGNN_ACT_SIGMOID: return s * (1 - s);
    case REGNN_ACT_TANH: return 1 - tanh(z) * tanh(z);
    case REGNN_ACT_ELU: return z > 0 ? 1 : exp(z);
    case REGNN_ACT_SELU: return z > 0 ? K_SELU_SCALE : K_SELU_SCALE * K_SELU_ALPHA * exp(z);
    case REGNN_ACT_GELU: return 0.5 * (1 + erf(z / sqrt(2.0))) + z * exp(-z * z / 2) / sqrt(2 * pi);
    case REGNN_ACT_SWISH: return s + z * s * (1 - s);
    case REGNN_ACT_LEAKY_RELU: return z > 0 ? 1 : K_LEAKY;
    case REGNN_ACT_SOFTPLUS: return s;
    default: return 1;
    }
}

/* Loss = mean (y - t)^2 + sum_l (l2 * sum w^2 + l1 * sum |w|), all in double. */
static double ref_loss(const regnn_model *m, const double *p, const float *x, const float *t,
                       size_t rows)
{
    double buf_a[64 * 64], buf_b[64 * 64];
    double se = 0;
    size_t n_out = regnn_model_outputs(m);
    for (size_t r = 0; r < rows; r++) {
        const double *in = NULL;
        double xin[64];
        for (size_t k = 0; k < m->n_in; k++)
            xin[k] = x[r * m->n_in + k];
        in = xin;
        double *cur = buf_a;
        for (size_t i = 0; i < m->n_layers; i++) {
            const regnn_layer *l = m->layers[i];
            const double *w = p + l->offset, *b = w + l->n_in * l->units;
            for (size_t j = 0; j < l->units; j++) {
                double z = b[j];
                for (size_t k = 0; k < l->n_in; k++)
                    z += in[k] * w[k * l->units + j];
                cur[j] = act_d(l->act, z);
            }
            in = cur;
            cur = cur == buf_a ? buf_b : buf_a;
        }
        for (size_t j = 0; j < n_out; j++) {
            double d = in[j] - t[r * n_out + j];
            se += d * d;
        }
    }
    double pen = 0;
    for (size_t i = 0; i < m->n_layers; i++) {
        const regnn_layer *l = m->layers[i];
        for (size_t k = 0; k < l->n_in * l->units; k++) {
            double w = p[l->offset + k];
            pen += l->l2 * w * w + l->l1 * fabs(w);
        }
    }
    return se / (double)(rows * n_out) + pen;
}

static void fill(float *v, size_t n, uint64_t seed, float scale)
{
    rg_rng r;
    rg_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((2 * rg_rng_uniform(&r) - 1) * scale);
}

/* Compare the library's gradient with central differences of ref_loss. */
static void grad_check_rows(const size_t *units, const int *acts, size_t n_layers, size_t n_in,
                            double l2, double l1, uint64_t seed, size_t ROWS)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(n_in, &m));
    for (size_t i = 0; i < n_layers; i++) {
        regnn_layer *l = NULL;
        CK_OK(regnn_model_add_dense(m, units[i], acts[i], &l));
        CK_OK(regnn_layer_set_double(l, REGNN_LAYER_L2, l2));
        CK_OK(regnn_layer_set_double(l, REGNN_LAYER_L1, l1));
    }
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    size_t np = regnn_model_param_count(m), n_out = regnn_model_outputs(m);
    /* Non-zero biases so every term of the gradient is exercised. */
    float *pf = malloc(np * sizeof *pf);
    ck_assert_ptr_nonnull(pf);
    CK_OK(regnn_model_get_params(m, pf, np));
    for (size_t i = 0; i < n_layers; i++) {
        const regnn_layer *l = m->layers[i];
        fill(pf + l->offset + l->n_in * l->units, l->units, seed + 7 + i, 0.3f);
    }
    CK_OK(regnn_model_set_params(m, pf, np));
    float x[5 * 16], t[5 * 16];
    ck_assert_uint_le(ROWS, 5);
    fill(x, ROWS * n_in, seed + 1, 1.5f);
    fill(t, ROWS * n_out, seed + 2, 1.0f);
    CK_OK(rg_model_reserve(m, ROWS));
    double mse, mae, pen;
    CK_OK(rg_model_step_grads(m, x, t, ROWS, 1, &mse, &mae, &pen));

    double *p = calloc(np, sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < np; i++)
        p[i] = pf[i];
    double loss = ref_loss(m, p, x, t, ROWS);
    ck_assert_double_eq_tol(mse + pen, loss, 1e-5 * (1 + fabs(loss)));
    double worst = 0;
    for (size_t i = 0; i < np; i++) {
        const double h = 1e-6;
        double keep = p[i];
        p[i] = keep + h;
        double lp = ref_loss(m, p, x, t, ROWS);
        p[i] = keep - h;
        double lm = ref_loss(m, p, x, t, ROWS);
        p[i] = keep;
        double num = (lp - lm) / (2 * h);
        double err = fabs(num - m->grads[i]) / (1e-3 + fabs(num));
        if (err > worst)
            worst = err;
        ck_assert_msg(err < 2e-3, "param %zu: numeric %.8g, analytic %.8g", i, num, m->grads[i]);
    }
    ck_assert(worst < 2e-3);
    free(p);
    free(pf);
    regnn_model_free(m);
}

static void grad_check(const size_t *units, const int *acts, size_t n_layers, size_t n_in,
                       double l2, double l1, uint64_t seed)
{
    grad_check_rows(units, acts, n_layers, n_in, l2, l1, seed, 5);
}

START_TEST(test_grad_each_activation)
{
    /* One hidden layer of each activation, linear output: checks act' and MSE;
     * then the activation on the output layer too (its delta at the top). */
    for (int a = 0; a < RG_ACT_COUNT; a++) {
        size_t units[] = {6, 2};
        int layer_acts[] = {a, REGNN_ACT_LINEAR};
        grad_check(units, layer_acts, 2, 4, 0.0, 0.0, 100 + (uint64_t)a);
        int top_acts[] = {REGNN_ACT_TANH, a};
        grad_check(units, top_acts, 2, 4, 0.0, 0.0, 200 + (uint64_t)a);
    }
}
END_TEST

/* Forward values and derivatives of every activation against act_d and
 * act_deriv, on a grid that includes 0 and +-100 (no overflow, no NaN). */
START_TEST(test_activation_formulas)
{
    static const float zs[] = {-100.0f, -30.0f, -5.0f, -1.5f, -0.25f, -1e-3f, 0.0f,
                               1e-3f,   0.3f,   1.0f,  2.5f,  7.0f,   31.0f, 100.0f};
    enum { NZ = sizeof zs / sizeof zs[0] };
    regnn_layer l;
    memset(&l, 0, sizeof l);
    l.n_in = 1;
    l.units = 1;
    const float params[2] = {1.0f, 0.0f}; /* out = act(in) */
    for (int a = 0; a < RG_ACT_COUNT; a++) {
        float out[NZ], pre[NZ], delta[NZ];
        l.act = a;
        rg_dense_forward(&l, params, zs, NZ, out, pre);
        for (int i = 0; i < NZ; i++) {
            const double want = act_d(a, zs[i]), tol = 2e-7 * fmax(fabs(want), 1e-30) + 1e-40;
            ck_assert_msg(isfinite(out[i]) && fabs(out[i] - want) <= tol,
                          "%s(%g) = %.9g, expected %.9g", rg_act_name(a), (double)zs[i],
                          (double)out[i], want);
            delta[i] = 1.0f;
        }
        rg_dense_act_backward(a, out, rg_act(a)->needs_z ? pre : NULL, delta, NZ);
        for (int i = 0; i < NZ; i++) {
            const double want = act_deriv(a, zs[i]);
            /* From the float output a, elu's and selu's derivative a + alpha
             * near 0 keep a's absolute error (about 1e-7), as TF's EluGrad. */
            ck_assert_msg(isfinite(delta[i]) && fabs(delta[i] - want) <= 1e-6 * fabs(want) + 3e-7,
                          "%s'(%g) = %.9g, expected %.9g", rg_act_name(a), (double)zs[i],
                          (double)delta[i], want);
        }
    }
    /* The names, and none past the last activation. */
    static const char *names[RG_ACT_COUNT] = {"linear", "relu", "sigmoid", "tanh", "elu",
                                              "selu", "gelu", "swish", "leaky_relu", "softplus"};
    for (int a = 0; a < RG_ACT_COUNT; a++)
        ck_assert_str_eq(rg_act_name(a), names[a]);
    ck_assert_ptr_null(rg_act_name(RG_ACT_COUNT));
    ck_assert_ptr_null(rg_act_name(-1));
}
END_TEST

/* The bound on predictions holds for each activation:
 * |act(z)| <= max(gain |z| + offset, 1) (sigmoid's is the 1). */
START_TEST(test_activation_bounds)
{
    for (int a = 0; a < RG_ACT_COUNT; a++) {
        const rg_act_def *d = rg_act(a);
        for (double z = -50; z <= 50; z += 0.125)
            ck_assert_msg(fabs(act_d(a, z)) <= fmax(d->gain * fabs(z) + d->offset, 1.0), "%s at %g", d->name, z);
    }
}
END_TEST

/* A batch of one row takes its own forward path (matrix-vector). */
START_TEST(test_grad_one_row)
{
    for (int a = REGNN_ACT_ELU; a < RG_ACT_COUNT; a++) {
        size_t units[] = {5, 1};
        int layer_acts[] = {a, REGNN_ACT_LINEAR};
        grad_check_rows(units, layer_acts, 2, 3, 0.0, 0.0, 300 + (uint64_t)a, 1);
    }
}
END_TEST

START_TEST(test_grad_l2)
{
    size_t units[] = {5, 1};
    int acts[] = {REGNN_ACT_TANH, REGNN_ACT_LINEAR};
    grad_check(units, acts, 2, 3, 0.05, 0.0, 7);
}
END_TEST

START_TEST(test_grad_l1)
{
    size_t units[] = {5, 1};
    int acts[] = {REGNN_ACT_SIGMOID, REGNN_ACT_LINEAR};
    grad_check(units, acts, 2, 3, 0.0, 0.03, 8);
}
END_TEST

START_TEST(test_grad_deep_network)
{
    /* A whole multi-layer network mixing activations, penalties and 2 outputs. */
    size_t units[] = {8, 7, 6, 5, 2};
    int acts[] = {REGNN_ACT_RELU, REGNN_ACT_TANH, REGNN_ACT_SIGMOID, REGNN_ACT_RELU,
                  REGNN_ACT_LINEAR};
    grad_check(units, acts, 5, 4, 0.01, 0.002, 9);
}
END_TEST

START_TEST(test_forward_matches_reference)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_dense(m, 4, REGNN_ACT_SIGMOID, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_HE_UNIFORM, 3));
    size_t np = regnn_model_param_count(m);
    ck_assert_uint_eq(np, 3 * 4 + 4 + 4 * 1 + 1);
    float pf[64];
    CK_OK(regnn_model_get_params(m, pf, np));
    double p[64];
    for (size_t i = 0; i < np; i++)
        p[i] = pf[i];
    float x[3] = {0.5f, -1.0f, 2.0f}, y;
    CK_OK(regnn_model_predict(m, x, 1, &y, 1));
    float t = 0.0f;
    /* With target 0 and no penalty, the reference loss is prediction^2. */
    double ref = sqrt(ref_loss(m, p, x, &t, 1));
    ck_assert_double_eq_tol(fabs(y), ref, 1e-6);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_activation_values)
{
    regnn_layer l;
    memset(&l, 0, sizeof l);
    l.n_in = 1;
    l.units = 1;
    float params[2] = {1.0f, 0.0f}; /* w = 1, b = 0: out = act(in) */
    const float in[4] = {-2.0f, -0.0f, 0.5f, 3.0f};
    float out[4];
    l.act = REGNN_ACT_RELU;
    rg_dense_forward(&l, params, in, 4, out, NULL);
    ck_assert_float_eq(out[0], 0.0f);
    ck_assert_float_eq(out[2], 0.5f);
    ck_assert_float_eq(out[3], 3.0f);
    l.act = REGNN_ACT_SIGMOID;
    rg_dense_forward(&l, params, in, 4, out, NULL);
    ck_assert_float_eq_tol(out[1], 0.5f, 1e-7f);
    ck_assert_float_eq_tol(out[3], (float)(1 / (1 + exp(-3.0))), 1e-6f);
    l.act = REGNN_ACT_TANH;
    rg_dense_forward(&l, params, in, 4, out, NULL);
    ck_assert_float_eq_tol(out[0], (float)tanh(-2.0), 1e-6f);
    params[1] = 1.5f; /* bias is added before the activation */
    l.act = REGNN_ACT_LINEAR;
    rg_dense_forward(&l, params, in, 4, out, NULL);
    ck_assert_float_eq(out[0], -0.5f);
    ck_assert_str_eq(rg_act_name(REGNN_ACT_TANH), "tanh");
    ck_assert_ptr_null(rg_act_name(42));
}
END_TEST

START_TEST(test_penalty_value)
{
    regnn_layer l;
    memset(&l, 0, sizeof l);
    l.n_in = 2;
    l.units = 1;
    l.l2 = 0.5;
    l.l1 = 0.25;
    float params[3] = {1.0f, -2.0f, 100.0f}; /* bias 100 must not count */
    ck_assert_double_eq_tol(rg_dense_penalty(&l, params), 0.5 * 5 + 0.25 * 3, 1e-12);
}
END_TEST

START_TEST(test_dropout_mask)
{
    regnn_model *m = NULL;
    regnn_layer *l = NULL;
    CK_OK(regnn_model_create(4, &m));
    CK_OK(regnn_model_add_dense(m, 64, REGNN_ACT_RELU, &l));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_layer_set_double(l, REGNN_LAYER_DROPOUT, 0.25));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 1));
    enum { ROWS = 32 };
    float x[ROWS * 4], t[ROWS];
    fill(x, ROWS * 4, 5, 1.0f);
    fill(t, ROWS, 6, 1.0f);
    CK_OK(rg_model_reserve(m, ROWS));
    double mse, mae, pen;
    CK_OK(rg_model_step_grads(m, x, t, ROWS, 1, &mse, &mae, &pen));
    size_t zeros = 0, n = ROWS * 64;
    for (size_t k = 0; k < n; k++) {
        float mk = m->ws[0].mask[k];
        ck_assert(mk == 0.0f || fabsf(mk - 1.0f / 0.75f) < 1e-6f);
        zeros += mk == 0.0f;
        ck_assert_float_eq(m->ws[0].out[k], m->ws[0].act[k] * mk);
    }
    /* 2048 Bernoulli(0.25) draws: 512 expected, sd about 20. */
    ck_assert_uint_gt(zeros, 400);
    ck_assert_uint_lt(zeros, 624);
    /* Inference is deterministic and dropout-free. */
    float y1[ROWS], y2[ROWS];
    CK_OK(regnn_model_predict(m, x, ROWS, y1, ROWS));
    CK_OK(regnn_model_predict(m, x, ROWS, y2, ROWS));
    ck_assert_mem_eq(y1, y2, sizeof y1);
    regnn_model_free(m);
}
END_TEST

static Suite *dense_suite(void)
{
    Suite *s = suite_create("dense");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_grad_each_activation);
    tcase_add_test(tc, test_grad_l2);
    tcase_add_test(tc, test_grad_l1);
    tcase_add_test(tc, test_grad_deep_network);
    tcase_add_test(tc, test_forward_matches_reference);
    tcase_add_test(tc, test_activation_values);
    tcase_add_test(tc, test_activation_formulas);
    tcase_add_test(tc, test_activation_bounds);
    tcase_add_test(tc, test_grad_one_row);
    tcase_add_test(tc, test_penalty_value);
    tcase_add_test(tc, test_dropout_mask);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(dense_suite)
