/* SPDX-License-Identifier: MIT */
/* Adam, AdamW and SGD updates against values worked out in the test, and the
 * optimizer handle's settings and state. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One step; it must succeed and leave every value finite. */
static void apply_ok(regnn_optimizer *o, float *p, const float *g, size_t n)
{
    uint32_t pmax = 0;
    ck_assert_int_eq(rg_optimizer_step_inplace(o, p, g, n, &pmax, NULL, NULL), 1);
}

static regnn_optimizer *make(int kind)
{
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(kind, &o));
    return o;
}

START_TEST(test_adam_defaults_are_keras)
{
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    double v;
    CK_OK(regnn_optimizer_get_double(o, REGNN_OPT_LEARNING_RATE, &v));
    ck_assert_double_eq(v, 1e-3);
    CK_OK(regnn_optimizer_get_double(o, REGNN_OPT_BETA1, &v));
    ck_assert_double_eq(v, 0.9);
    CK_OK(regnn_optimizer_get_double(o, REGNN_OPT_BETA2, &v));
    ck_assert_double_eq(v, 0.999);
    CK_OK(regnn_optimizer_get_double(o, REGNN_OPT_EPSILON, &v));
    ck_assert_double_eq(v, 1e-7);
    CK_OK(regnn_optimizer_get_double(o, REGNN_OPT_WEIGHT_DECAY, &v));
    ck_assert_double_eq(v, 0.0);
    ck_assert_int_eq(regnn_optimizer_kind(o), REGNN_OPTIM_ADAM);
    ck_assert_uint_eq(regnn_optimizer_state_size(o), 0);
    regnn_optimizer_free(o);
}
END_TEST

START_TEST(test_adam_three_steps)
{
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.1));
    CK_OK(rg_optimizer_bind(o, 2));
    float p[2] = {1.0f, -2.0f};
    const float g[3][2] = {{0.5f, -1.0f}, {0.25f, 2.0f}, {-0.5f, 0.0f}};
    /* Step 1 by hand: m = 0.1 g, v = 0.001 g^2, alpha = 0.1 * sqrt(0.001) / 0.1,
     * so the step is 0.1 * sqrt(.001)*|g| / (sqrt(.001)*|g| + 1e-7) * sign(g). */
    apply_ok(o, p, g[0], 2);
    double s = sqrt(0.001);
    ck_assert_double_eq_tol(p[0], 1.0 - 0.1 * s * 0.5 / (s * 0.5 + 1e-7), 1e-6);
    ck_assert_double_eq_tol(p[0], 0.9000006325, 1e-6);
    ck_assert_double_eq_tol(p[1], -2.0 + 0.1 * s * 1.0 / (s * 1.0 + 1e-7), 1e-6);
    /* Steps 2 and 3 by the Keras recurrences, in double. */
    double m[2] = {0.05, -0.1}, v[2] = {0.001 * 0.25, 0.001 * 1.0};
    double q[2] = {p[0], p[1]};
    for (int t = 2; t <= 3; t++) {
        apply_ok(o, p, g[t - 1], 2);
        double alpha = 0.1 * sqrt(1 - pow(0.999, t)) / (1 - pow(0.9, t));
        for (int i = 0; i < 2; i++) {
            m[i] = 0.9 * m[i] + 0.1 * g[t - 1][i];
            v[i] = 0.999 * v[i] + 0.001 * g[t - 1][i] * g[t - 1][i];
            q[i] -= alpha * m[i] / (sqrt(v[i]) + 1e-7);
            ck_assert_msg(fabs(p[i] - q[i]) < 1e-5, "step %d param %d: %.8f vs %.8f", t, i, p[i], q[i]);
        }
    }
    ck_assert_uint_eq(regnn_optimizer_steps(o), 3);
    float mb[2], vb[2];
    CK_OK(regnn_optimizer_get_state(o, REGNN_STATE_M, mb, 2));
    CK_OK(regnn_optimizer_get_state(o, REGNN_STATE_V, vb, 2));
    ck_assert_double_eq_tol(mb[0], m[0], 1e-6);
    ck_assert_double_eq_tol(vb[1], v[1], 1e-7);
    regnn_optimizer_free(o);
}
END_TEST

START_TEST(test_adamw_decoupled)
{
    /* Zero gradient isolates the decay: p <- p - lr * wd * p each step. */
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.1));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_WEIGHT_DECAY, 0.5));
    CK_OK(rg_optimizer_bind(o, 1));
    float p = 2.0f, g = 0.0f;
    for (int t = 0; t < 3; t++)
        apply_ok(o, &p, &g, 1);
    ck_assert_double_eq_tol(p, 2.0 * pow(1 - 0.05, 3), 1e-6);
    /* With a gradient, decay then the Adam step: first step moves by decay + ~lr. */
    regnn_optimizer_reset(o);
    CK_OK(rg_optimizer_bind(o, 1));
    p = 2.0f;
    g = 1.0f;
    apply_ok(o, &p, &g, 1);
    double s = sqrt(0.001);
    ck_assert_double_eq_tol(p, 2.0 * 0.95 - 0.1 * s / (s + 1e-7), 1e-6);
    regnn_optimizer_free(o);
}
END_TEST

START_TEST(test_sgd_plain_momentum_nesterov)
{
    regnn_optimizer *o = make(REGNN_OPTIM_SGD);
    double lr;
    CK_OK(regnn_optimizer_get_double(o, REGNN_OPT_LEARNING_RATE, &lr));
    ck_assert_double_eq(lr, 0.01);
    CK_OK(rg_optimizer_bind(o, 1));
    float p = 1.0f, g = 2.0f;
    apply_ok(o, &p, &g, 1);
    ck_assert_float_eq_tol(p, 0.98f, 1e-7f);
    regnn_optimizer_free(o);

    /* Momentum 0.9, lr 0.1, g = 1 each step: v = -0.1, -0.19, -0.271. */
    o = make(REGNN_OPTIM_SGD);
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.1));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_MOMENTUM, 0.9));
    CK_OK(rg_optimizer_bind(o, 1));
    p = 0.0f;
    g = 1.0f;
    const double expect_plain[3] = {-0.1, -0.29, -0.561};
    for (int t = 0; t < 3; t++) {
        apply_ok(o, &p, &g, 1);
        ck_assert_double_eq_tol(p, expect_plain[t], 1e-6);
    }
    float vel;
    CK_OK(regnn_optimizer_get_state(o, REGNN_STATE_VELOCITY, &vel, 1));
    ck_assert_double_eq_tol(vel, -0.271, 1e-6);
    regnn_optimizer_free(o);

    /* Nesterov: p += mu*v - lr*g: -0.19, then -0.19 + (-0.171 - 0.1), ... */
    o = make(REGNN_OPTIM_SGD);
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.1));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_MOMENTUM, 0.9));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_NESTEROV, 1.0));
    CK_OK(rg_optimizer_bind(o, 1));
    p = 0.0f;
    const double expect_nest[3] = {-0.19, -0.19 - 0.271, -0.19 - 0.271 - 0.3439};
    for (int t = 0; t < 3; t++) {
        apply_ok(o, &p, &g, 1);
        ck_assert_double_eq_tol(p, expect_nest[t], 1e-6);
    }
    regnn_optimizer_free(o);
}
END_TEST

START_TEST(test_settings_errors)
{
    regnn_optimizer *o = NULL;
    CK_STATUS(regnn_optimizer_create(99, &o), REGNN_E_UNSUPPORTED);
    ck_assert_ptr_null(o);
    CK_STATUS(regnn_optimizer_create(REGNN_OPTIM_ADAM, NULL), REGNN_E_INVALID_ARG);
    o = make(REGNN_OPTIM_ADAM);
    CK_STATUS(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, -1), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, NAN), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_optimizer_set_double(o, REGNN_OPT_BETA1, 1.0), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_optimizer_set_double(o, REGNN_OPT_EPSILON, 0.0), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_optimizer_set_double(o, REGNN_OPT_WEIGHT_DECAY, -0.1), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_optimizer_set_double(o, REGNN_OPT_MOMENTUM, 0.5), REGNN_E_UNSUPPORTED);
    ck_assert_str_eq(regnn_errmsg(), "regnn_optimizer_set_double: REGNN_OPT_MOMENTUM does not apply "
                                     "to Adam (it is SGD's)");
    CK_STATUS(regnn_optimizer_set_double(o, 12345, 0.5), REGNN_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "unknown key 12345"));
    double v;
    CK_OK(regnn_optimizer_get_double(o, REGNN_OPT_LEARNING_RATE, &v));
    ck_assert_double_eq(v, 1e-3); /* failed sets changed nothing */
    CK_STATUS(regnn_optimizer_get_double(o, REGNN_OPT_LEARNING_RATE, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_optimizer_set_double(NULL, REGNN_OPT_LEARNING_RATE, 0.1), REGNN_E_INVALID_ARG);
    ck_assert_int_eq(regnn_optimizer_kind(NULL), -1);
    regnn_optimizer_free(o);
    regnn_optimizer_free(NULL);

    o = make(REGNN_OPTIM_SGD);
    CK_STATUS(regnn_optimizer_set_double(o, REGNN_OPT_NESTEROV, 0.5), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_optimizer_set_double(o, REGNN_OPT_BETA2, 0.5), REGNN_E_UNSUPPORTED);
    regnn_optimizer_free(o);
}
END_TEST

/* Assert a refused setting, its message and that nothing changed. */
static void refused(regnn_optimizer *o, int key, double v, const char *needle)
{
    double before, after;
    CK_OK(regnn_optimizer_get_double(o, key, &before));
    CK_STATUS(regnn_optimizer_set_double(o, key, v), REGNN_E_INVALID_ARG);
    ck_assert_msg(strstr(regnn_errmsg(), needle) != NULL, "key %d value %g: '%s' lacks '%s'", key, v,
                  regnn_errmsg(), needle);
    CK_OK(regnn_optimizer_get_double(o, key, &after));
    ck_assert_double_eq(before, after);
}

START_TEST(test_settings_that_can_only_give_nan)
{
    /* ε that rounds to 0 in float32 divides by zero; a learning rate that
     * rounds to 0 or Inf does nothing or overflows; lr * weight decay > 1
     * flips the sign of every weight each step (1e308 overflows outright). */
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    refused(o, REGNN_OPT_EPSILON, 1e-50, "REGNN_OPT_EPSILON must be in (7.00649232e-46, 3.40282357e+38)");
    refused(o, REGNN_OPT_EPSILON, 1e39, "REGNN_OPT_EPSILON must be in");
    refused(o, REGNN_OPT_EPSILON, NAN, "got nan");
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_EPSILON, 1e-45)); /* rounds to the smallest float */
    refused(o, REGNN_OPT_LEARNING_RATE, 1e300, "REGNN_OPT_LEARNING_RATE must be in");
    refused(o, REGNN_OPT_LEARNING_RATE, 1e-46, "REGNN_OPT_LEARNING_RATE must be in");
    refused(o, REGNN_OPT_LEARNING_RATE, INFINITY, "got inf");
    refused(o, REGNN_OPT_WEIGHT_DECAY, 1e308, "weight decay must be in [0, 1/learning rate] = [0, 1000]");
    refused(o, REGNN_OPT_WEIGHT_DECAY, NAN, "REGNN_OPT_WEIGHT_DECAY must be finite and >= 0");
    refused(o, REGNN_OPT_BETA2, NAN, "REGNN_OPT_BETA2 must be in [0, 1), got nan");
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_WEIGHT_DECAY, 1000.0)); /* lr * wd = 1: allowed */
    refused(o, REGNN_OPT_LEARNING_RATE, 2e-3, "learning rate must be <= 0.001");
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 5e-4));
    regnn_optimizer_free(o);
    o = make(REGNN_OPTIM_SGD);
    refused(o, REGNN_OPT_MOMENTUM, NAN, "REGNN_OPT_MOMENTUM must be in [0, 1)");
    refused(o, REGNN_OPT_NESTEROV, NAN, "REGNN_OPT_NESTEROV must be 0 or 1");
    regnn_optimizer_free(o);
}
END_TEST

START_TEST(test_in_place_and_out_of_place_agree)
{
    /* regnn_train_batch runs a step in place or into spare buffers depending
     * on the bounds: both must give the same bits, for every optimizer form. */
    enum { N = 7, STEPS = 5 };
    const float g[STEPS][N] = {{0.5f, -1, 2, 0, 1e-3f, -7, 0.25f},
                               {0.25f, 2, -1, 0, 3, 1e-5f, -0.5f},
                               {-0.5f, 0, 0.125f, 4, -2, 1, 1},
                               {1, 1, 1, 1, 1, 1, 1},
                               {-3, 0.5f, 0, -1e-2f, 2, 2, -8}};
    for (int form = 0; form < 4; form++) {
        regnn_optimizer *a = make(form < 2 ? REGNN_OPTIM_ADAM : REGNN_OPTIM_SGD);
        regnn_optimizer *b = make(form < 2 ? REGNN_OPTIM_ADAM : REGNN_OPTIM_SGD);
        for (int k = 0; k < 2; k++) {
            regnn_optimizer *o = k ? b : a;
            if (form == 1)
                CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_WEIGHT_DECAY, 0.5));
            if (form == 2)
                CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_MOMENTUM, 0.9));
            if (form == 3) {
                CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_MOMENTUM, 0.5));
                CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_NESTEROV, 1));
            }
            CK_OK(rg_optimizer_bind(o, N));
        }
        CK_OK(rg_optimizer_reserve_spares(b));
        float pa[N] = {1, -2, 3, 0.5f, -0.25f, 8, -1}, pb[N], next[N];
        memcpy(pb, pa, sizeof pa);
        for (int t = 0; t < STEPS; t++) {
            uint32_t ma = 0, mb = 0;
            ck_assert_int_eq(rg_optimizer_step_inplace(a, pa, g[t], N, &ma, NULL, NULL), 1);
            ck_assert_int_eq(rg_optimizer_step_into(b, pb, next, g[t], N, &mb, NULL, NULL), 1);
            memcpy(pb, next, sizeof pb);
            ck_assert_mem_eq(pa, pb, sizeof pa);
            ck_assert_uint_eq(ma, mb);
        }
        float sa[N], sb[N];
        const int which = form < 2 ? REGNN_STATE_V : REGNN_STATE_VELOCITY;
        CK_OK(regnn_optimizer_get_state(a, which, sa, N));
        CK_OK(regnn_optimizer_get_state(b, which, sb, N));
        ck_assert_mem_eq(sa, sb, sizeof sa);
        ck_assert_uint_eq(regnn_optimizer_steps(a), regnn_optimizer_steps(b));
        regnn_optimizer_free(a);
        regnn_optimizer_free(b);
    }
}
END_TEST

/* An update on threads over a plan's ranges (ragged, some empty, out of
 * order across tasks) gives the bits and maxima of one thread over all. */
START_TEST(test_plan_ranges_give_the_same_bits)
{
    enum { N = 20000, STEPS = 3 };
    float *g = malloc(N * sizeof *g), *p[2], *nx = malloc(N * sizeof *nx);
    for (int k = 0; k < 2; k++)
        p[k] = malloc(N * sizeof *p[k]);
    for (size_t i = 0; i < N; i++) {
        g[i] = (float)sin(0.37 * (double)i) * (i % 7 == 0 ? 100.0f : 1.0f);
        p[0][i] = p[1][i] = (float)cos(0.11 * (double)i);
    }
    /* Task 0: [0, 5000) and [12000, 12001); task 1: [5000, 12000) and nothing;
     * task 2: [12001, 20000) and nothing. */
    size_t seg[3 * 2 * 2] = {0, 5000, 12000, 12001, 5000, 12000, 7, 7, 12001, N, 0, 0};
    const rg_plan plan = {3, 2, seg};
    rg_pool *pool = NULL;
    CK_OK(rg_pool_create(3, &pool));
    for (int kind = 0; kind < 2; kind++) {
        regnn_optimizer *o[2];
        for (int k = 0; k < 2; k++) {
            o[k] = make(kind ? REGNN_OPTIM_SGD : REGNN_OPTIM_ADAM);
            if (kind)
                CK_OK(regnn_optimizer_set_double(o[k], REGNN_OPT_MOMENTUM, 0.9));
            CK_OK(rg_optimizer_bind(o[k], N));
            CK_OK(rg_optimizer_reserve_spares(o[k]));
        }
        for (int t = 0; t < STEPS; t++) {
            uint32_t m0 = 0, m1 = 0;
            if (t < 2) {
                ck_assert_int_eq(rg_optimizer_step_inplace(o[0], p[0], g, N, &m0, NULL, NULL), 1);
                ck_assert_int_eq(rg_optimizer_step_inplace(o[1], p[1], g, N, &m1, pool, &plan), 1);
            } else {
                ck_assert_int_eq(rg_optimizer_step_into(o[0], p[0], nx, g, N, &m0, NULL, NULL), 1);
                memcpy(p[0], nx, N * sizeof *nx);
                ck_assert_int_eq(rg_optimizer_step_into(o[1], p[1], nx, g, N, &m1, pool, &plan), 1);
                memcpy(p[1], nx, N * sizeof *nx);
            }
            ck_assert_mem_eq(p[0], p[1], N * sizeof *p[0]);
            ck_assert_uint_eq(m0, m1);
            ck_assert(m0 != 0);
        }
        float *s0 = malloc(N * sizeof *s0), *s1 = malloc(N * sizeof *s1);
        const int which = kind ? REGNN_STATE_VELOCITY : REGNN_STATE_V;
        CK_OK(regnn_optimizer_get_state(o[0], which, s0, N));
        CK_OK(regnn_optimizer_get_state(o[1], which, s1, N));
        ck_assert_mem_eq(s0, s1, N * sizeof *s0);
        free(s0);
        free(s1);
        regnn_optimizer_free(o[0]);
        regnn_optimizer_free(o[1]);
    }
    rg_pool_free(pool);
    free(g);
    free(nx);
    free(p[0]);
    free(p[1]);
}
END_TEST

START_TEST(test_safe_step_bounds)
{
    /* The in-place decision: known, moderate bounds allow it; unknown bounds,
     * non-finite gradients or values near FLT_MAX do not. */
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    CK_OK(rg_optimizer_bind(o, 2));
    CK_OK(rg_optimizer_reserve_spares(o));
    float p[2] = {1, -1}, next[2], g[2] = {0.5f, -0.5f};
    uint32_t pmax = 0;
    ck_assert_int_eq(rg_optimizer_step_is_safe(o, 0x3f800000u, g, 2), 0); /* bounds unknown */
    ck_assert_int_eq(rg_optimizer_step_into(o, p, next, g, 2, &pmax, NULL, NULL), 1);
    ck_assert_int_eq(rg_optimizer_step_is_safe(o, pmax, g, 2), 1);
    float bad[2] = {0.5f, NAN}, huge[2] = {1e30f, 0};
    ck_assert_int_eq(rg_optimizer_step_is_safe(o, pmax, bad, 2), 0);
    ck_assert_int_eq(rg_optimizer_step_is_safe(o, pmax, huge, 2), 0);
    ck_assert_int_eq(rg_optimizer_step_is_safe(o, 0x7f000000u, g, 2), 0); /* |p| ~ 1.7e38 */
    float m[2] = {1, 1};
    CK_OK(regnn_optimizer_set_state(o, REGNN_STATE_M, m, 2)); /* any write forgets the bounds */
    ck_assert_int_eq(rg_optimizer_step_is_safe(o, pmax, g, 2), 0);
    regnn_optimizer_free(o);
    o = make(REGNN_OPTIM_SGD); /* plain SGD has no state: only p and g count */
    CK_OK(rg_optimizer_bind(o, 2));
    ck_assert_int_eq(rg_optimizer_step_is_safe(o, 0x3f800000u, g, 2), 1);
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 1e38));
    ck_assert_int_eq(rg_optimizer_step_is_safe(o, 0x3f800000u, g, 2), 0);
    regnn_optimizer_free(o);
}
END_TEST

START_TEST(test_state_get_set_reset)
{
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    float buf[3] = {1, 2, 3};
    CK_STATUS(regnn_optimizer_get_state(o, REGNN_STATE_M, buf, 3), REGNN_E_STATE);
    CK_OK(regnn_optimizer_set_state(o, REGNN_STATE_M, buf, 3)); /* binds to 3 */
    ck_assert_uint_eq(regnn_optimizer_state_size(o), 3);
    CK_STATUS(regnn_optimizer_set_state(o, REGNN_STATE_V, buf, 4), REGNN_E_SHAPE);
    float neg[3] = {0, -1, 0};
    CK_STATUS(regnn_optimizer_set_state(o, REGNN_STATE_V, neg, 3), REGNN_E_INVALID_ARG);
    float bad[3] = {0, NAN, 0};
    CK_STATUS(regnn_optimizer_set_state(o, REGNN_STATE_M, bad, 3), REGNN_E_NUMERIC);
    CK_STATUS(regnn_optimizer_set_state(o, REGNN_STATE_VELOCITY, buf, 3), REGNN_E_UNSUPPORTED);
    float got[3];
    CK_OK(regnn_optimizer_get_state(o, REGNN_STATE_M, got, 3));
    ck_assert_float_eq(got[2], 3.0f);
    CK_OK(regnn_optimizer_get_state(o, REGNN_STATE_V, got, 3));
    ck_assert_float_eq(got[0], 0.0f);
    CK_OK(regnn_optimizer_set_steps(o, 17));
    ck_assert_uint_eq(regnn_optimizer_steps(o), 17);
    CK_OK(regnn_optimizer_reset(o));
    ck_assert_uint_eq(regnn_optimizer_steps(o), 0);
    ck_assert_uint_eq(regnn_optimizer_state_size(o), 0);
    regnn_optimizer_free(o);
}
END_TEST

START_TEST(test_set_steps_changes_bias_correction)
{
    /* Restoring step count and moments reproduces the next update exactly. */
    regnn_optimizer *a = make(REGNN_OPTIM_ADAM), *b = make(REGNN_OPTIM_ADAM);
    CK_OK(rg_optimizer_bind(a, 2));
    float pa[2] = {1, 1}, g[2] = {0.3f, -0.7f};
    apply_ok(a, pa, g, 2);
    apply_ok(a, pa, g, 2);
    float m[2], v[2];
    CK_OK(regnn_optimizer_get_state(a, REGNN_STATE_M, m, 2));
    CK_OK(regnn_optimizer_get_state(a, REGNN_STATE_V, v, 2));
    CK_OK(regnn_optimizer_set_state(b, REGNN_STATE_M, m, 2));
    CK_OK(regnn_optimizer_set_state(b, REGNN_STATE_V, v, 2));
    CK_OK(regnn_optimizer_set_steps(b, regnn_optimizer_steps(a)));
    float pb[2] = {pa[0], pa[1]};
    apply_ok(a, pa, g, 2);
    apply_ok(b, pb, g, 2);
    ck_assert_mem_eq(pa, pb, sizeof pa);
    regnn_optimizer_free(a);
    regnn_optimizer_free(b);
}
END_TEST

START_TEST(test_create_alloc_failure)
{
    long base = regnn__test_alloc_live();
    for (int persistent = 0; persistent <= 1; persistent++) {
        regnn__test_alloc_fail_at(1, persistent);
        regnn_optimizer *o = (regnn_optimizer *)1;
        CK_STATUS(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o), REGNN_E_NOMEM);
        ck_assert_ptr_null(o);
        regnn__test_alloc_fail_at(0, 0);
        ck_assert_int_eq(regnn__test_alloc_live(), base);
    }
    /* Binding: fail each allocation, the optimizer stays unbound and usable. */
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    for (long n = 1; n < 10; n++) {
        regnn__test_alloc_fail_at(n, 0);
        regnn_status st = rg_optimizer_bind(o, 100);
        long tried = regnn__test_alloc_count();
        regnn__test_alloc_fail_at(0, 0);
        if (st == REGNN_OK) {
            ck_assert_int_lt(tried, n);
            break;
        }
        ck_assert_int_eq(st, REGNN_E_NOMEM);
        ck_assert_uint_eq(regnn_optimizer_state_size(o), 0);
        ck_assert_int_eq(regnn__test_alloc_live(), base + 1);
    }
    ck_assert_uint_eq(regnn_optimizer_state_size(o), 100);
    regnn_optimizer_free(o);
    ck_assert_int_eq(regnn__test_alloc_live(), base);
}
END_TEST

/* A snapshot puts back the state, step count and learning rates as they
 * were, and unbinds an optimizer that was unbound when it was taken. */
START_TEST(test_snapshot_restore)
{
    enum { N = 5 };
    const float m0[N] = {0.1f, -0.2f, 0.3f, -0.4f, 0.5f}, v0[N] = {1, 2, 3, 4, 5};
    const float g[N] = {1, -1, 2, -2, 3};
    float p[N] = {0}, got[N];
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    CK_OK(regnn_optimizer_set_state(o, REGNN_STATE_M, m0, N));
    CK_OK(regnn_optimizer_set_state(o, REGNN_STATE_V, v0, N));
    CK_OK(regnn_optimizer_set_steps(o, 7));
    rg_optimizer_snap s;
    CK_OK(rg_optimizer_snapshot(o, &s));
    apply_ok(o, p, g, N);
    rg_optimizer_set_lr(o, 0.5);
    ck_assert_uint_eq(regnn_optimizer_steps(o), 8);
    rg_optimizer_restore(o, &s);
    ck_assert_ptr_null(s.m);
    ck_assert_uint_eq(regnn_optimizer_steps(o), 7);
    ck_assert_double_eq(rg_optimizer_lr(o), 1e-3);
    ck_assert_double_eq(rg_optimizer_lr_now(o), 1e-3);
    CK_OK(regnn_optimizer_get_state(o, REGNN_STATE_M, got, N));
    ck_assert_mem_eq(got, m0, sizeof m0);
    CK_OK(regnn_optimizer_get_state(o, REGNN_STATE_V, got, N));
    ck_assert_mem_eq(got, v0, sizeof v0);
    regnn_optimizer_free(o);

    o = make(REGNN_OPTIM_SGD);
    CK_OK(regnn_optimizer_set_steps(o, 3));
    CK_OK(rg_optimizer_snapshot(o, &s));
    CK_OK(rg_optimizer_bind(o, N));
    apply_ok(o, p, g, N);
    rg_optimizer_restore(o, &s);
    ck_assert_uint_eq(regnn_optimizer_state_size(o), 0);
    ck_assert_uint_eq(regnn_optimizer_steps(o), 3);
    regnn_optimizer_free(o);
}
END_TEST

/* rg_optimizer_like: same kind, settings and schedule, no state. */
START_TEST(test_like_copies_settings_not_state)
{
    const float m0[2] = {1, 2};
    const double sched[3] = {0.25, 100, 0.5};
    regnn_optimizer *t = make(REGNN_OPTIM_SGD), *o = NULL;
    CK_OK(regnn_optimizer_set_double(t, REGNN_OPT_MOMENTUM, 0.75));
    CK_OK(regnn_optimizer_set_schedule(t, REGNN_SCHEDULE_EXPONENTIAL, sched, 3));
    CK_OK(regnn_optimizer_set_state(t, REGNN_STATE_VELOCITY, m0, 2));
    CK_OK(rg_optimizer_like(t, &o));
    ck_assert_int_eq(regnn_optimizer_kind(o), REGNN_OPTIM_SGD);
    ck_assert_uint_eq(regnn_optimizer_state_size(o), 0);
    double v, lr_t, lr_o;
    CK_OK(regnn_optimizer_get_double(o, REGNN_OPT_MOMENTUM, &v));
    ck_assert_double_eq(v, 0.75);
    CK_OK(regnn_optimizer_learning_rate_at(t, 250, &lr_t));
    CK_OK(regnn_optimizer_learning_rate_at(o, 250, &lr_o));
    ck_assert_double_eq(lr_o, lr_t);
    ck_assert_double_lt(lr_o, 0.25);
    regnn_optimizer_free(o);
    regnn_optimizer_free(t);
}
END_TEST

static Suite *optimizer_suite(void)
{
    Suite *s = suite_create("optimizer");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_adam_defaults_are_keras);
    tcase_add_test(tc, test_adam_three_steps);
    tcase_add_test(tc, test_adamw_decoupled);
    tcase_add_test(tc, test_sgd_plain_momentum_nesterov);
    tcase_add_test(tc, test_settings_errors);
    tcase_add_test(tc, test_settings_that_can_only_give_nan);
    tcase_add_test(tc, test_in_place_and_out_of_place_agree);
    tcase_add_test(tc, test_plan_ranges_give_the_same_bits);
    tcase_add_test(tc, test_safe_step_bounds);
    tcase_add_test(tc, test_state_get_set_reset);
    tcase_add_test(tc, test_set_steps_changes_bias_correction);
    tcase_add_test(tc, test_create_alloc_failure);
    tcase_add_test(tc, test_snapshot_restore);
    tcase_add_test(tc, test_like_copies_settings_not_state);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(optimizer_suite)
