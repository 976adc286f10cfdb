/* SPDX-License-Identifier: MIT */
/* RMSprop, Adagrad, Adamax and Nadam against Keras 3's update formulas worked
 * out here in double (keras/src/optimizers/{rmsprop,adagrad,adamax,nadam}.py),
 * with and without decoupled weight decay; their defaults, refusals and state
 * buffers. */
#include "testutil.h"

#include <math.h>
#include <string.h>

enum { N = 4, STEPS = 6 };

static const float P0[N] = {1.0f, -2.0f, 0.5f, 0.0f};
/* gradients of each step: signs change, one is 0, sizes differ */
static const float G[STEPS][N] = {{0.5f, -1.0f, 0.25f, 0.0f}, {0.25f, 2.0f, -0.5f, 0.1f},
                                  {-0.5f, 0.0f, 0.75f, -0.2f}, {1.5f, -0.5f, 0.0f, 0.3f},
                                  {0.1f, 0.1f, -1.0f, 0.0f},   {-2.0f, 1.0f, 0.5f, 0.05f}};

static regnn_optimizer *make(int kind)
{
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(kind, &o));
    return o;
}

/* Steps run on a bound optimizer (regnn_fit binds it at the first step). */
static regnn_optimizer *make_bound(int kind, double lr, double wd)
{
    regnn_optimizer *o = make(kind);
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, lr));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_WEIGHT_DECAY, wd));
    CK_OK(rg_optimizer_bind(o, N));
    return o;
}

static void step_ok(regnn_optimizer *o, float *p, const float *g)
{
    uint32_t pmax = 0;
    ck_assert_int_eq(rg_optimizer_step_inplace(o, p, g, N, &pmax, NULL, NULL), 1);
}

/* The reference: double state s0, s1 and parameters q of Keras's update. */
typedef struct ref {
    int kind;
    double lr, wd, b1, b2, eps, rho, iacc;
    double q[N], s0[N], s1[N];
    double u_prod; /* Nadam: the running product of u_1 .. u_t, as Keras keeps it */
} ref;

static void ref_init(ref *r, int kind, double lr, double wd)
{
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->lr = lr;
    r->wd = wd;
    /* not Keras's defaults, so that a swapped or misplaced constant shows */
    r->b1 = 0.85;
    r->b2 = 0.95;
    r->eps = 1e-3;
    r->rho = 0.8;
    r->iacc = 0.2;
    r->u_prod = 1.0;
    for (int i = 0; i < N; i++) {
        r->q[i] = P0[i];
        r->s0[i] = kind == REGNN_OPTIM_ADAGRAD ? r->iacc : 0.0;
    }
}

static void ref_step(ref *r, const float *gf, uint64_t t)
{
    const double T = (double)t;
    /* Keras 3's momentum cache (keras/src/optimizers/nadam.py) */
    const double u_t = r->b1 * (1.0 - 0.5 * pow(0.96, T));
    const double u_next = r->b1 * (1.0 - 0.5 * pow(0.96, T + 1.0));
    r->u_prod *= u_t;
    for (int i = 0; i < N; i++) {
        const double g = gf[i];
        double *q = &r->q[i], *s0 = &r->s0[i], *s1 = &r->s1[i];
        *q -= *q * r->wd * r->lr; /* Keras applies weight decay before the update */
        switch (r->kind) {
        case REGNN_OPTIM_RMSPROP:
            *s0 = r->rho * *s0 + (1.0 - r->rho) * g * g;
            *q -= r->lr * g / sqrt(*s0 + r->eps);
            break;
        case REGNN_OPTIM_ADAGRAD:
            *s0 += g * g;
            *q -= r->lr * g / sqrt(*s0 + r->eps);
            break;
        case REGNN_OPTIM_ADAMAX:
            *s0 += (g - *s0) * (1.0 - r->b1);
            *s1 = fmax(r->b2 * *s1, fabs(g));
            *q -= r->lr * *s0 / ((1.0 - pow(r->b1, T)) * (*s1 + r->eps));
            break;
        default: { /* Nadam */
            *s0 += (g - *s0) * (1.0 - r->b1);
            *s1 += (g * g - *s1) * (1.0 - r->b2);
            const double m_hat = u_next * *s0 / (1.0 - r->u_prod * u_next) +
                                 (1.0 - u_t) * g / (1.0 - r->u_prod);
            const double v_hat = *s1 / (1.0 - pow(r->b2, T));
            *q -= m_hat * r->lr / (sqrt(v_hat) + r->eps);
        }
        }
    }
}

/* The library's state buffers of kind, by their REGNN_STATE_* names. */
static void state_of(const regnn_optimizer *o, int kind, float *s0, float *s1)
{
    switch (kind) {
    case REGNN_OPTIM_RMSPROP: CK_OK(regnn_optimizer_get_state(o, REGNN_STATE_VELOCITY, s0, N)); break;
    case REGNN_OPTIM_ADAGRAD: CK_OK(regnn_optimizer_get_state(o, REGNN_STATE_ACCUMULATOR, s0, N)); break;
    case REGNN_OPTIM_ADAMAX:
        CK_OK(regnn_optimizer_get_state(o, REGNN_STATE_M, s0, N));
        CK_OK(regnn_optimizer_get_state(o, REGNN_STATE_NORM, s1, N));
        break;
    default:
        CK_OK(regnn_optimizer_get_state(o, REGNN_STATE_M, s0, N));
        CK_OK(regnn_optimizer_get_state(o, REGNN_STATE_V, s1, N));
    }
}

/* float32 arithmetic against double: a few ulps of float per step */
static void close_to(double got, double want, const char *what, int kind, int t, int i)
{
    ck_assert_msg(fabs(got - want) <= 2e-6 * fmax(1.0, fabs(want)),
                  "kind %d step %d %s[%d]: %.9g, formula %.9g", kind, t, what, i, got, want);
}

static void run_against_formula(int kind, double lr, double wd)
{
    regnn_optimizer *o = make_bound(kind, lr, wd);
    ref r;
    ref_init(&r, kind, lr, wd);
    const int keys[5] = {REGNN_OPT_BETA1, REGNN_OPT_BETA2, REGNN_OPT_EPSILON, REGNN_OPT_RHO,
                         REGNN_OPT_INITIAL_ACCUMULATOR};
    const double vals[5] = {r.b1, r.b2, r.eps, r.rho, r.iacc};
    for (int k = 0; k < 5; k++) {
        const double keep = vals[k];
        if (regnn_optimizer_set_double(o, keys[k], keep) != REGNN_OK)
            CK_STATUS(regnn_optimizer_set_double(o, keys[k], keep), REGNN_E_UNSUPPORTED);
    }
    if (kind == REGNN_OPTIM_ADAGRAD) { /* rebind: the accumulator starts at the new value */
        rg_optimizer_unbind(o);
        CK_OK(rg_optimizer_bind(o, N));
    }
    float p[N];
    memcpy(p, P0, sizeof p);
    for (int t = 1; t <= STEPS; t++) {
        step_ok(o, p, G[t - 1]);
        ref_step(&r, G[t - 1], (uint64_t)t);
        float s0[N], s1[N] = {0};
        state_of(o, kind, s0, s1);
        for (int i = 0; i < N; i++) {
            close_to(p[i], r.q[i], "param", kind, t, i);
            close_to(s0[i], r.s0[i], "state 0", kind, t, i);
            close_to(s1[i], r.s1[i], "state 1", kind, t, i);
        }
    }
    /* the parameters moved far beyond the tolerance */
    ck_assert(fabs(p[0] - P0[0]) > 100 * 2e-6);
    ck_assert_uint_eq(regnn_optimizer_steps(o), STEPS);
    regnn_optimizer_free(o);
}

START_TEST(test_rmsprop_formula) { run_against_formula(REGNN_OPTIM_RMSPROP, 0.01, 0.0); }
END_TEST
START_TEST(test_adagrad_formula) { run_against_formula(REGNN_OPTIM_ADAGRAD, 0.1, 0.0); }
END_TEST
START_TEST(test_adamax_formula) { run_against_formula(REGNN_OPTIM_ADAMAX, 0.05, 0.0); }
END_TEST
START_TEST(test_nadam_formula) { run_against_formula(REGNN_OPTIM_NADAM, 0.05, 0.0); }
END_TEST

/* Decoupled weight decay as for Adam: p -= lr * wd * p before the update;
 * with zero gradients only the decay acts. */
START_TEST(test_weight_decay)
{
    for (int kind = REGNN_OPTIM_RMSPROP; kind <= REGNN_OPTIM_NADAM; kind++) {
        run_against_formula(kind, 0.05, 2.0);
        regnn_optimizer *o = make_bound(kind, 0.1, 0.5);
        float p[N];
        memcpy(p, P0, sizeof p);
        const float zero[N] = {0};
        step_ok(o, p, zero);
        for (int i = 0; i < N; i++)
            ck_assert_float_eq(p[i], P0[i] - P0[i] * 0.05f);
        regnn_optimizer_free(o);
    }
}
END_TEST

/* Nadam's product of u_1 .. u_t far past where 0.96^t stops mattering: the
 * library's closed form against Keras's running product. */
START_TEST(test_nadam_late_step)
{
    const uint64_t T = 5000;
    double prod = 1.0;
    for (uint64_t i = 1; i <= T; i++)
        prod *= 0.9 * (1.0 - 0.5 * pow(0.96, (double)i));
    const double u_t = 0.9 * (1.0 - 0.5 * pow(0.96, (double)T));
    const double u_next = 0.9 * (1.0 - 0.5 * pow(0.96, (double)T + 1));
    regnn_optimizer *o = make(REGNN_OPTIM_NADAM);
    CK_OK(rg_optimizer_bind(o, N));
    CK_OK(regnn_optimizer_set_steps(o, T - 1));
    const float m0[N] = {0.5f, -0.25f, 0.125f, 1.0f}, v0[N] = {0.25f, 0.5f, 1.0f, 0.0625f};
    CK_OK(regnn_optimizer_set_state(o, REGNN_STATE_M, m0, N));
    CK_OK(regnn_optimizer_set_state(o, REGNN_STATE_V, v0, N));
    float p[N];
    memcpy(p, P0, sizeof p);
    step_ok(o, p, G[1]);
    for (int i = 0; i < N; i++) {
        const double g = G[1][i];
        const double m = 0.9 * m0[i] + 0.1 * g, v = 0.999 * v0[i] + 0.001 * g * g;
        const double m_hat = u_next * m / (1.0 - prod * u_next) + (1.0 - u_t) * g / (1.0 - prod);
        const double want = P0[i] - 1e-3 * m_hat / (sqrt(v / (1.0 - pow(0.999, (double)T))) + 1e-7);
        close_to(p[i], want, "param", REGNN_OPTIM_NADAM, (int)T, i);
    }
    regnn_optimizer_free(o);
}
END_TEST

/* Keras's defaults, which the options table holds. */
START_TEST(test_defaults_are_keras)
{
    static const struct {
        int kind, key;
        double v;
    } want[] = {
        {REGNN_OPTIM_RMSPROP, REGNN_OPT_LEARNING_RATE, 1e-3},
        {REGNN_OPTIM_RMSPROP, REGNN_OPT_RHO, 0.9},
        {REGNN_OPTIM_RMSPROP, REGNN_OPT_EPSILON, 1e-7},
        {REGNN_OPTIM_RMSPROP, REGNN_OPT_WEIGHT_DECAY, 0.0},
        {REGNN_OPTIM_ADAGRAD, REGNN_OPT_LEARNING_RATE, 1e-3},
        {REGNN_OPTIM_ADAGRAD, REGNN_OPT_INITIAL_ACCUMULATOR, 0.1},
        {REGNN_OPTIM_ADAGRAD, REGNN_OPT_EPSILON, 1e-7},
        {REGNN_OPTIM_ADAMAX, REGNN_OPT_LEARNING_RATE, 1e-3},
        {REGNN_OPTIM_ADAMAX, REGNN_OPT_BETA1, 0.9},
        {REGNN_OPTIM_ADAMAX, REGNN_OPT_BETA2, 0.999},
        {REGNN_OPTIM_ADAMAX, REGNN_OPT_EPSILON, 1e-7},
        {REGNN_OPTIM_NADAM, REGNN_OPT_LEARNING_RATE, 1e-3},
        {REGNN_OPTIM_NADAM, REGNN_OPT_BETA1, 0.9},
        {REGNN_OPTIM_NADAM, REGNN_OPT_BETA2, 0.999},
        {REGNN_OPTIM_NADAM, REGNN_OPT_EPSILON, 1e-7},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        regnn_optimizer *o = make(want[i].kind);
        double v = -1;
        CK_OK(regnn_optimizer_get_double(o, want[i].key, &v));
        ck_assert_msg(v == want[i].v, "kind %d key %d: %g", want[i].kind, want[i].key, v);
        ck_assert_int_eq(regnn_optimizer_kind(o), want[i].kind);
        regnn_optimizer_free(o);
    }
    /* Adagrad's accumulator starts at initial_accumulator_value */
    regnn_optimizer *o = make(REGNN_OPTIM_ADAGRAD);
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_INITIAL_ACCUMULATOR, 0.25));
    CK_OK(rg_optimizer_bind(o, N));
    float acc[N];
    CK_OK(regnn_optimizer_get_state(o, REGNN_STATE_ACCUMULATOR, acc, N));
    for (int i = 0; i < N; i++)
        ck_assert_float_eq(acc[i], 0.25f);
    regnn_optimizer_free(o);
}
END_TEST

static void refused(regnn_optimizer *o, int key, double v, regnn_status want, const char *needle)
{
    CK_STATUS(regnn_optimizer_set_double(o, key, v), want);
    ck_assert_msg(strstr(regnn_errmsg(), needle), "message '%s' lacks '%s'", regnn_errmsg(),
                  needle);
}

START_TEST(test_bad_values_refused)
{
    regnn_optimizer *rms = make(REGNN_OPTIM_RMSPROP), *ada = make(REGNN_OPTIM_ADAGRAD),
                    *max = make(REGNN_OPTIM_ADAMAX), *nad = make(REGNN_OPTIM_NADAM);
    refused(rms, REGNN_OPT_RHO, 1.0, REGNN_E_INVALID_ARG, "REGNN_OPT_RHO must be in [0, 1)");
    refused(rms, REGNN_OPT_RHO, -0.1, REGNN_E_INVALID_ARG, "REGNN_OPT_RHO");
    refused(rms, REGNN_OPT_EPSILON, 0.0, REGNN_E_INVALID_ARG, "REGNN_OPT_EPSILON");
    refused(rms, REGNN_OPT_MOMENTUM, 0.5, REGNN_E_UNSUPPORTED,
            "REGNN_OPT_MOMENTUM does not apply to RMSprop (it is SGD's)");
    refused(rms, REGNN_OPT_BETA1, 0.5, REGNN_E_UNSUPPORTED, "does not apply to RMSprop (it is Adam's)");
    refused(ada, REGNN_OPT_INITIAL_ACCUMULATOR, -1.0, REGNN_E_INVALID_ARG,
            "REGNN_OPT_INITIAL_ACCUMULATOR");
    refused(ada, REGNN_OPT_INITIAL_ACCUMULATOR, NAN, REGNN_E_INVALID_ARG,
            "REGNN_OPT_INITIAL_ACCUMULATOR");
    refused(ada, REGNN_OPT_RHO, 0.5, REGNN_E_UNSUPPORTED, "(it is RMSprop's)");
    refused(max, REGNN_OPT_BETA2, 1.0, REGNN_E_INVALID_ARG, "REGNN_OPT_BETA2");
    refused(max, REGNN_OPT_INITIAL_ACCUMULATOR, 0.1, REGNN_E_UNSUPPORTED, "(it is Adagrad's)");
    refused(nad, REGNN_OPT_BETA1, 1.0, REGNN_E_INVALID_ARG, "REGNN_OPT_BETA1");
    refused(nad, REGNN_OPT_NESTEROV, 1.0, REGNN_E_UNSUPPORTED, "does not apply to Nadam");
    refused(nad, 10, 1.0, REGNN_E_UNSUPPORTED, "unknown key 10");
    /* lr * wd <= 1 as for Adam */
    CK_OK(regnn_optimizer_set_double(nad, REGNN_OPT_LEARNING_RATE, 0.5));
    refused(nad, REGNN_OPT_WEIGHT_DECAY, 3.0, REGNN_E_INVALID_ARG, "REGNN_OPT_WEIGHT_DECAY");
    /* states that hold squares or magnitudes are >= 0 */
    const float neg[N] = {1, -1, 0, 0};
    CK_STATUS(regnn_optimizer_set_state(ada, REGNN_STATE_ACCUMULATOR, neg, N), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_optimizer_set_state(rms, REGNN_STATE_VELOCITY, neg, N), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_optimizer_set_state(max, REGNN_STATE_NORM, neg, N), REGNN_E_INVALID_ARG);
    CK_OK(regnn_optimizer_set_state(max, REGNN_STATE_M, neg, N)); /* a moment may be negative */
    CK_STATUS(regnn_optimizer_set_state(max, REGNN_STATE_V, neg, N), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_optimizer_set_state(ada, REGNN_STATE_M, neg, N), REGNN_E_UNSUPPORTED);
    regnn_optimizer *o = (regnn_optimizer *)1;
    CK_STATUS(regnn_optimizer_create(7, &o), REGNN_E_UNSUPPORTED);
    ck_assert_ptr_null(o);
    regnn_optimizer_free(rms);
    regnn_optimizer_free(ada);
    regnn_optimizer_free(max);
    regnn_optimizer_free(nad);
}
END_TEST

/* In place and out of place, whole and in pieces: the same bits (the loops
 * share one element function). */
START_TEST(test_in_place_and_into_agree)
{
    enum { M = 1000 };
    static float p[M], q[M], out[M], g[M];
    for (int kind = REGNN_OPTIM_RMSPROP; kind <= REGNN_OPTIM_NADAM; kind++) {
        regnn_optimizer *a = make(kind), *b = make(kind);
        CK_OK(regnn_optimizer_set_double(a, REGNN_OPT_WEIGHT_DECAY, 0.1));
        CK_OK(regnn_optimizer_set_double(b, REGNN_OPT_WEIGHT_DECAY, 0.1));
        CK_OK(rg_optimizer_bind(a, M));
        CK_OK(rg_optimizer_bind(b, M));
        CK_OK(rg_optimizer_reserve_spares(b));
        for (int i = 0; i < M; i++)
            p[i] = q[i] = (float)sin(i * 0.7);
        for (int t = 0; t < 4; t++) {
            for (int i = 0; i < M; i++)
                g[i] = (float)cos(i * 1.3 + t);
            uint32_t ma = 0, mb = 0;
            ck_assert_int_eq(rg_optimizer_step_inplace(a, p, g, M, &ma, NULL, NULL), 1);
            ck_assert_int_eq(rg_optimizer_step_into(b, q, out, g, M, &mb, NULL, NULL), 1);
            memcpy(q, out, sizeof q);
            ck_assert_mem_eq(p, q, sizeof p);
            ck_assert_uint_eq(ma, mb);
            ck_assert_int_eq(rg_optimizer_step_is_safe(a, ma, g, M), 1);
        }
        const float *am, *av, *bm, *bv;
        rg_optimizer_state(a, &am, &av);
        rg_optimizer_state(b, &bm, &bv);
        ck_assert_mem_eq(am, bm, M * sizeof(float));
        if (av)
            ck_assert_mem_eq(av, bv, M * sizeof(float));
        regnn_optimizer_free(a);
        regnn_optimizer_free(b);
    }
}
END_TEST

static Suite *optim_kinds_suite(void)
{
    Suite *s = suite_create("optim_kinds");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_rmsprop_formula);
    tcase_add_test(tc, test_adagrad_formula);
    tcase_add_test(tc, test_adamax_formula);
    tcase_add_test(tc, test_nadam_formula);
    tcase_add_test(tc, test_weight_decay);
    tcase_add_test(tc, test_nadam_late_step);
    tcase_add_test(tc, test_defaults_are_keras);
    tcase_add_test(tc, test_bad_values_refused);
    tcase_add_test(tc, test_in_place_and_into_agree);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(optim_kinds_suite)
