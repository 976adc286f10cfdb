/* SPDX-License-Identifier: MIT */
/* Learning-rate schedules against the Keras formulas written out here, the
 * step they are evaluated at, checkpoints that resume them bit-identically,
 * ReduceLROnPlateau, the learning rate in the history, and refused input. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include "testutil.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

static regnn_optimizer *make(int kind)
{
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(kind, &o));
    return o;
}

static double lr_at(const regnn_optimizer *o, uint64_t step)
{
    double v = NAN;
    CK_OK(regnn_optimizer_learning_rate_at(o, step, &v));
    return v;
}

/* keras.optimizers.schedules.ExponentialDecay.__call__ */
static double keras_exponential(double lr0, double decay_steps, double rate, int staircase,
                                double step)
{
    double p = step / decay_steps;
    if (staircase)
        p = floor(p);
    return lr0 * pow(rate, p);
}

/* keras.optimizers.schedules.CosineDecay.__call__, warmup_target NaN = None */
static double keras_cosine(double lr0, double ds, double alpha, double target, double ws,
                           double step)
{
    double from = lr0;
    if (isnan(target)) {
        step = fmin(step, ds);
    } else {
        step = fmin(step, ds + ws);
        if (step < ws)
            return (target - lr0) * (step / ws) + lr0;
        step -= ws;
        from = target;
    }
    double cosine = 0.5 * (1.0 + cos(3.14159265358979323846 * (step / ds)));
    return from * ((1.0 - alpha) * cosine + alpha);
}

/* keras.optimizers.schedules.InverseTimeDecay.__call__ */
static double keras_inverse_time(double lr0, double ds, double rate, int staircase, double step)
{
    double p = step / ds;
    if (staircase)
        p = floor(p);
    return lr0 / (1.0 + rate * p);
}

/* keras.optimizers.schedules.PolynomialDecay.__call__ */
static double keras_polynomial(double lr0, double ds, double end, double power, int cycle,
                               double step)
{
    if (cycle)
        ds *= step == 0.0 ? 1.0 : ceil(step / ds);
    else
        step = fmin(step, ds);
    return (lr0 - end) * pow(1.0 - step / ds, power) + end;
}

/* CosineDecayRestarts by walking its periods: period i lasts fds * t_mul^i
 * steps and starts at lr0 * m_mul^i; within it the cosine of the fraction
 * done, floored at alpha. */
static double sgdr(double lr0, double fds, double t_mul, double m_mul, double alpha, double step)
{
    double start = 0.0, len = fds, m = 1.0;
    while (step >= start + len) {
        start += len;
        len *= t_mul;
        m *= m_mul;
    }
    const double frac = (step - start) / len;
    return lr0 * ((1.0 - alpha) * 0.5 * m * (1.0 + cos(3.14159265358979323846 * frac)) + alpha);
}

static void near(double got, double want, uint64_t step)
{
    ck_assert_msg(fabs(got - want) <= 1e-12 * fabs(want) + 1e-300, "step %llu: %.17g, formula %.17g",
                  (unsigned long long)step, got, want);
}

START_TEST(test_inverse_time_values)
{
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    const double smooth[3] = {0.1, 100.0, 0.5}, stair[4] = {0.1, 100.0, 0.5, 1};
    const uint64_t steps[] = {0, 1, 50, 99, 100, 101, 199, 200, 12345};
    for (int st = 0; st < 2; st++) {
        CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_INVERSE_TIME, st ? stair : smooth,
                                           st ? 4 : 3));
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
            near(lr_at(o, steps[i]), keras_inverse_time(0.1, 100, 0.5, st, (double)steps[i]),
                 steps[i]);
    }
    /* staircase: flat until the boundary, then 0.1 / 1.5 */
    ck_assert_double_eq(lr_at(o, 99), 0.1);
    ck_assert_double_eq(lr_at(o, 100), 0.1 / 1.5);
    regnn_optimizer_free(o);
}
END_TEST

START_TEST(test_polynomial_values)
{
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    const uint64_t steps[] = {0, 1, 50, 99, 100, 101, 150, 199, 200, 201, 1000};
    const double powers[2] = {1.0, 0.5};
    for (int cycle = 0; cycle < 2; cycle++)
        for (int k = 0; k < 2; k++) {
            const double p[5] = {0.1, 100.0, 0.01, powers[k], cycle};
            CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_POLYNOMIAL, p, 5));
            for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
                near(lr_at(o, steps[i]),
                     keras_polynomial(0.1, 100, 0.01, powers[k], cycle, (double)steps[i]), steps[i]);
        }
    /* cycle: the end rate at each multiple, back up just after */
    ck_assert_double_eq(lr_at(o, 100), 0.01);
    ck_assert_double_eq(lr_at(o, 200), 0.01);
    ck_assert_double_gt(lr_at(o, 101), 0.05);
    /* without cycle it stays at the end; the defaults end 1e-4 and power 1 */
    const double two[2] = {0.1, 100.0};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_POLYNOMIAL, two, 2));
    ck_assert_double_eq(lr_at(o, 100), 1e-4);
    ck_assert_double_eq(lr_at(o, 5000), 1e-4);
    near(lr_at(o, 25), (0.1 - 1e-4) * 0.75 + 1e-4, 25);
    regnn_optimizer_free(o);
}
END_TEST

START_TEST(test_restarts_values)
{
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    static const double cases[][5] = {
        {0.1, 10, 2.0, 0.5, 0.1}, {0.1, 10, 1.0, 0.8, 0.0}, {0.1, 10, 3.0, 1.0, 0.0},
        {0.2, 7, 1.5, 0.9, 0.05}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const double *p = cases[c];
        CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_COSINE_RESTARTS, p, 5));
        /* every step of the first periods, restarts included */
        for (uint64_t s = 0; s < 1300; s++)
            near(lr_at(o, s), sgdr(p[0], p[1], p[2], p[3], p[4], (double)s), s);
    }
    /* t_mul 3: restarts at 10, 40, 130, 400, 1210 start at lr0 * m_mul^i = lr0 */
    const uint64_t restarts[] = {10, 40, 130, 400, 1210};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_COSINE_RESTARTS, cases[2], 5));
    for (size_t i = 0; i < 5; i++) {
        ck_assert_double_eq(lr_at(o, restarts[i]), 0.1);
        ck_assert_double_lt(lr_at(o, restarts[i] - 1), 2.5e-3); /* the end of the last */
    }
    /* defaults t_mul 2, m_mul 1, alpha 0: restarts at 10, 30, 70 */
    const double two[2] = {0.1, 10};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_COSINE_RESTARTS, two, 2));
    ck_assert_double_eq(lr_at(o, 30), 0.1);
    ck_assert_double_eq(lr_at(o, 70), 0.1);
    near(lr_at(o, 20), 0.05, 20);
    regnn_optimizer_free(o);
}
END_TEST

START_TEST(test_new_schedules_refused)
{
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    static const struct {
        int kind;
        double p[6];
        size_t n;
        const char *says;
    } bad[] = {
        {REGNN_SCHEDULE_INVERSE_TIME, {0.1, 10}, 2, "3 or 4 parameters"},
        {REGNN_SCHEDULE_INVERSE_TIME, {0.1, 0, 0.5}, 3, "decay_steps"},
        {REGNN_SCHEDULE_INVERSE_TIME, {0.1, 10, -0.5}, 3, "decay_rate must be finite and >= 0"},
        {REGNN_SCHEDULE_INVERSE_TIME, {0.1, 10, 0.5, 0.5}, 4, "staircase must be 0 or 1"},
        {REGNN_SCHEDULE_POLYNOMIAL, {0.1}, 1, "2 to 5 parameters"},
        {REGNN_SCHEDULE_POLYNOMIAL, {0.1, 10, -1}, 3, "end_learning_rate"},
        {REGNN_SCHEDULE_POLYNOMIAL, {0.1, 10, 0, 0}, 4, "power must be finite and > 0"},
        {REGNN_SCHEDULE_POLYNOMIAL, {0.1, 10, 0, 1, 2}, 5, "cycle must be 0 or 1"},
        {REGNN_SCHEDULE_POLYNOMIAL, {0.1, 10, 0, 1, 0, 0}, 6, "2 to 5 parameters"},
        {REGNN_SCHEDULE_COSINE_RESTARTS, {0.1, -10}, 2, "first_decay_steps"},
        {REGNN_SCHEDULE_COSINE_RESTARTS, {0.1, 10, 0.5}, 3, "t_mul must be finite and >= 1"},
        {REGNN_SCHEDULE_COSINE_RESTARTS, {0.1, 10, 2, 1.5}, 4, "m_mul must be in [0, 1]"},
        {REGNN_SCHEDULE_COSINE_RESTARTS, {0.1, 10, 2, 1, 2}, 5, "alpha must be in [0, 1]"},
        {REGNN_SCHEDULE_COSINE_RESTARTS, {NAN, 10}, 2, "initial_learning_rate"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CK_STATUS(regnn_optimizer_set_schedule(o, bad[i].kind, bad[i].p, bad[i].n),
                  REGNN_E_INVALID_ARG);
        ck_assert_msg(strstr(regnn_errmsg(), bad[i].says), "case %zu: '%s' lacks '%s'", i,
                      regnn_errmsg(), bad[i].says);
    }
    /* a polynomial rising to its end rate: the end is the peak that meets the weight decay */
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_WEIGHT_DECAY, 0.5));
    const double rise[3] = {0.1, 10, 4.0};
    CK_STATUS(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_POLYNOMIAL, rise, 3),
              REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "largest learning rate 4"));
    const double ok[3] = {0.1, 10, 2.0};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_POLYNOMIAL, ok, 3));
    regnn_optimizer_free(o);
}
END_TEST

START_TEST(test_exponential_values)
{
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    const double smooth[3] = {0.1, 1000.0, 0.96};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_EXPONENTIAL, smooth, 3));
    const uint64_t steps[] = {0, 1, 500, 999, 1000, 1001, 2500, 100000};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        ck_assert_double_eq_tol(lr_at(o, steps[i]),
                                keras_exponential(0.1, 1000, 0.96, 0, (double)steps[i]), 1e-15);
    ck_assert_double_eq(lr_at(o, 0), 0.1);
    ck_assert_double_eq_tol(lr_at(o, 1000), 0.096, 1e-15);
    ck_assert_double_lt(lr_at(o, 999), lr_at(o, 998));

    const double stairs[4] = {0.1, 1000.0, 0.5, 1.0};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_EXPONENTIAL, stairs, 4));
    ck_assert_double_eq(lr_at(o, 0), 0.1);
    ck_assert_double_eq(lr_at(o, 999), 0.1); /* floor(999 / 1000) = 0 */
    ck_assert_double_eq(lr_at(o, 1000), 0.05);
    ck_assert_double_eq(lr_at(o, 1999), 0.05);
    ck_assert_double_eq(lr_at(o, 2000), 0.025);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        ck_assert_double_eq(lr_at(o, steps[i]),
                            keras_exponential(0.1, 1000, 0.5, 1, (double)steps[i]));
    int kind = -1;
    size_t n = 0;
    double back[5] = {0};
    CK_OK(regnn_optimizer_get_schedule(o, &kind, back, 5, &n));
    ck_assert_int_eq(kind, REGNN_SCHEDULE_EXPONENTIAL);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(memcmp(back, stairs, sizeof stairs), 0);
    /* Without a schedule: the optimizer's learning rate at every step. */
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_CONSTANT, NULL, 0));
    ck_assert_double_eq(lr_at(o, 12345), 1e-3);
    CK_OK(regnn_optimizer_get_schedule(o, &kind, NULL, 0, &n));
    ck_assert_int_eq(kind, REGNN_SCHEDULE_CONSTANT);
    ck_assert_uint_eq(n, 0);
    regnn_optimizer_free(o);
}
END_TEST

START_TEST(test_piecewise_boundaries)
{
    regnn_optimizer *o = make(REGNN_OPTIM_SGD);
    /* Keras: values[0] while step <= 10, values[1] while 10 < step <= 20, then values[2]. */
    const double p[5] = {10, 20, 1.0, 0.5, 0.1};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_PIECEWISE, p, 5));
    ck_assert_double_eq(lr_at(o, 0), 1.0);
    ck_assert_double_eq(lr_at(o, 9), 1.0);
    ck_assert_double_eq(lr_at(o, 10), 1.0);
    ck_assert_double_eq(lr_at(o, 11), 0.5);
    ck_assert_double_eq(lr_at(o, 20), 0.5);
    ck_assert_double_eq(lr_at(o, 21), 0.1);
    ck_assert_double_eq(lr_at(o, 1000000), 0.1);
    const double one[3] = {0, 0.3, 0.2};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_PIECEWISE, one, 3));
    ck_assert_double_eq(lr_at(o, 0), 0.3);
    ck_assert_double_eq(lr_at(o, 1), 0.2);
    regnn_optimizer_free(o);
}
END_TEST

START_TEST(test_cosine_warmup_and_alpha)
{
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    const double plain[3] = {0.2, 100.0, 0.1};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_COSINE, plain, 3));
    ck_assert_double_eq(lr_at(o, 0), 0.2);
    ck_assert_double_eq_tol(lr_at(o, 50), 0.2 * (0.9 * 0.5 + 0.1), 1e-16);
    ck_assert_double_eq_tol(lr_at(o, 100), 0.2 * 0.1, 1e-16); /* alpha floor */
    ck_assert_double_eq(lr_at(o, 100), lr_at(o, 1000));      /* clamped at decay_steps */
    for (uint64_t s = 0; s <= 120; s += 7)
        ck_assert_double_eq_tol(lr_at(o, s), keras_cosine(0.2, 100, 0.1, NAN, 0, (double)s), 1e-16);

    /* Linear warm-up from 0 to 0.1 over 10 steps, then cosine from 0.1 to 0.1 * 0.05. */
    const double warm[5] = {0.0, 40.0, 0.05, 0.1, 10.0};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_COSINE, warm, 5));
    ck_assert_double_eq(lr_at(o, 0), 0.0);
    ck_assert_double_eq_tol(lr_at(o, 5), 0.05, 1e-16);
    ck_assert_double_eq_tol(lr_at(o, 9), 0.09, 1e-16);
    ck_assert_double_eq(lr_at(o, 10), 0.1); /* warm-up ends: the decay starts at its top */
    ck_assert_double_eq_tol(lr_at(o, 30), 0.1 * (0.95 * 0.5 + 0.05), 1e-16);
    ck_assert_double_eq_tol(lr_at(o, 50), 0.1 * 0.05, 1e-16);
    ck_assert_double_eq(lr_at(o, 50), lr_at(o, 5000));
    for (uint64_t s = 0; s <= 60; s += 3)
        ck_assert_double_eq_tol(lr_at(o, s), keras_cosine(0.0, 40, 0.05, 0.1, 10, (double)s), 1e-16);
    /* warmup_target without warmup_steps: the decay starts from the target at once. */
    const double target_only[4] = {0.01, 40.0, 0.0, 0.3};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_COSINE, target_only, 4));
    ck_assert_double_eq(lr_at(o, 0), 0.3);
    ck_assert_double_eq(lr_at(o, 40), 0.0);
    regnn_optimizer_free(o);
}
END_TEST

/* The update after t steps uses the schedule at t (Keras's optimizer.iterations
 * before the increment): plain SGD with gradient 1 subtracts exactly that rate. */
START_TEST(test_step_uses_count_before_update)
{
    regnn_optimizer *o = make(REGNN_OPTIM_SGD);
    const double p[5] = {0, 2, 0.5, 0.25, 0.125};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_PIECEWISE, p, 5));
    CK_OK(rg_optimizer_bind(o, 1));
    float w = 0.0f, expect = 0.0f;
    const float g = 1.0f;
    const float rates[5] = {0.5f, 0.25f, 0.25f, 0.125f, 0.125f}; /* steps 0..4 */
    for (int t = 0; t < 5; t++) {
        uint32_t mx;
        ck_assert_int_eq(rg_optimizer_step_inplace(o, &w, &g, 1, &mx, NULL, NULL), 1);
        expect -= rates[t];
        ck_assert_float_eq(w, expect);
        ck_assert_double_eq(rg_optimizer_lr_now(o), (double)rates[t]);
    }
    ck_assert_uint_eq(regnn_optimizer_steps(o), 5);
    regnn_optimizer_free(o);
}
END_TEST

/* ---- training, checkpoints ---- */

static regnn_dataset *toy_data(size_t rows)
{
    float *x = malloc(rows * 3 * sizeof *x), *y = malloc(rows * sizeof *y);
    for (size_t i = 0; i < rows; i++) {
        x[3 * i] = (float)sin(0.37 * (double)i);
        x[3 * i + 1] = (float)cos(0.11 * (double)i);
        x[3 * i + 2] = (float)((double)(i % 7) / 7.0);
        y[i] = 0.8f * x[3 * i] - 0.5f * x[3 * i + 1] * x[3 * i + 2] + 0.1f;
    }
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, rows, 3, 1, REGNN_COPY, &ds));
    free(x);
    free(y);
    return ds;
}

static regnn_model *toy_model(uint64_t seed)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_dense(m, 8, REGNN_ACT_TANH, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_DROPOUT, 0.1));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    return m;
}

static void params_of(const regnn_model *m, float *buf, size_t n)
{
    ck_assert_uint_eq(regnn_model_param_count(m), n);
    CK_OK(regnn_model_get_params(m, buf, n));
}

/* Round trip through a checkpoint in memory. */
static void reload(regnn_model **m, regnn_optimizer **o)
{
    size_t len = 0;
    CK_OK(regnn_checkpoint_save_mem(*m, *o, NULL, 0, &len));
    unsigned char *buf = malloc(len);
    CK_OK(regnn_checkpoint_save_mem(*m, *o, buf, len, &len));
    regnn_model_free(*m);
    regnn_optimizer_free(*o);
    CK_OK(regnn_checkpoint_load_mem(buf, len, m, o));
    free(buf);
}

static const double SCHEDULES[6][5] = {
    {0.05, 7.0, 0.5, 1.0, 0}, {3, 9, 0.05, 0.02, 0.005}, {0.0, 20.0, 0.1, 0.05, 6.0},
    {0.05, 3.0, 0.7, 1.0, 0}, {0.05, 8.0, 0.002, 0.5, 1}, {0.05, 3.0, 1.5, 0.6, 0.1}};
static const int KINDS[6] = {REGNN_SCHEDULE_EXPONENTIAL,  REGNN_SCHEDULE_PIECEWISE,
                             REGNN_SCHEDULE_COSINE,       REGNN_SCHEDULE_INVERSE_TIME,
                             REGNN_SCHEDULE_POLYNOMIAL,   REGNN_SCHEDULE_COSINE_RESTARTS};
static const size_t COUNTS[6] = {4, 5, 5, 4, 5, 5};

/* Train N steps, vs k steps, checkpoint, load, N - k steps: same bits. */
START_TEST(test_checkpoint_resumes_batches)
{
    const int which = _i;
    regnn_dataset *ds = toy_data(40);
    float x[40 * 3], y[40];
    CK_OK(regnn_dataset_get_features(ds, x, 120));
    CK_OK(regnn_dataset_get_targets(ds, y, 40));
    float a[41], b[41];
    regnn_model *m1 = toy_model(5), *m2 = toy_model(5);
    regnn_optimizer *o1 = make(REGNN_OPTIM_ADAM), *o2 = make(REGNN_OPTIM_ADAM);
    CK_OK(regnn_optimizer_set_double(o1, REGNN_OPT_WEIGHT_DECAY, 0.01));
    CK_OK(regnn_optimizer_set_double(o2, REGNN_OPT_WEIGHT_DECAY, 0.01));
    CK_OK(regnn_optimizer_set_schedule(o1, KINDS[which], SCHEDULES[which], COUNTS[which]));
    CK_OK(regnn_optimizer_set_schedule(o2, KINDS[which], SCHEDULES[which], COUNTS[which]));
    const int N = 24, k = 11;
    for (int s = 0; s < N; s++)
        CK_OK(regnn_train_batch(m1, o1, x + 3 * (s % 4) * 10, y + (s % 4) * 10, 10, NULL));
    for (int s = 0; s < k; s++)
        CK_OK(regnn_train_batch(m2, o2, x + 3 * (s % 4) * 10, y + (s % 4) * 10, 10, NULL));
    reload(&m2, &o2);
    int kind = -1;
    size_t n = 0;
    double back[5];
    CK_OK(regnn_optimizer_get_schedule(o2, &kind, back, 5, &n));
    ck_assert_int_eq(kind, KINDS[which]);
    ck_assert_uint_eq(n, COUNTS[which]);
    ck_assert_int_eq(memcmp(back, SCHEDULES[which], n * sizeof(double)), 0);
    ck_assert_uint_eq(regnn_optimizer_steps(o2), (uint64_t)k);
    for (int s = k; s < N; s++)
        CK_OK(regnn_train_batch(m2, o2, x + 3 * (s % 4) * 10, y + (s % 4) * 10, 10, NULL));
    params_of(m1, a, 41);
    params_of(m2, b, 41);
    ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
    /* The schedule did change the steps: the same run at a constant rate differs. */
    regnn_model *m3 = toy_model(5);
    regnn_optimizer *o3 = make(REGNN_OPTIM_ADAM);
    for (int s = 0; s < N; s++)
        CK_OK(regnn_train_batch(m3, o3, x + 3 * (s % 4) * 10, y + (s % 4) * 10, 10, NULL));
    params_of(m3, b, 41);
    ck_assert_int_ne(memcmp(a, b, sizeof a), 0);
    regnn_model_free(m1);
    regnn_model_free(m2);
    regnn_model_free(m3);
    regnn_optimizer_free(o1);
    regnn_optimizer_free(o2);
    regnn_optimizer_free(o3);
    regnn_dataset_free(ds);
}
END_TEST

/* regnn_fit: 5 epochs vs 2 + checkpoint + 3; the history records the rate of
 * each epoch's last step. */
START_TEST(test_checkpoint_resumes_fit_and_history_rate)
{
    regnn_dataset *ds = toy_data(50);
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 16)); /* 4 steps an epoch */
    const double cos5[5] = {0.001, 12.0, 0.2, 0.02, 4.0};
    regnn_model *m1 = toy_model(9), *m2 = toy_model(9);
    regnn_optimizer *o1 = make(REGNN_OPTIM_ADAM), *o2 = make(REGNN_OPTIM_ADAM);
    CK_OK(regnn_optimizer_set_schedule(o1, REGNN_SCHEDULE_COSINE, cos5, 5));
    CK_OK(regnn_optimizer_set_schedule(o2, REGNN_SCHEDULE_COSINE, cos5, 5));
    regnn_history *h = NULL;
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 5));
    CK_OK(regnn_fit(m1, o1, ds, NULL, fo, &h));
    double lr[5];
    CK_OK(regnn_history_get(h, REGNN_METRIC_LEARNING_RATE, lr, 5));
    for (int e = 0; e < 5; e++)
        ck_assert_double_eq(lr[e], keras_cosine(0.001, 12, 0.2, 0.02, 4, 4.0 * e + 3));
    regnn_history_free(h);

    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 2));
    CK_OK(regnn_fit(m2, o2, ds, NULL, fo, NULL));
    reload(&m2, &o2);
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 3));
    CK_OK(regnn_fit(m2, o2, ds, NULL, fo, &h));
    CK_OK(regnn_history_get(h, REGNN_METRIC_LEARNING_RATE, lr, 3));
    ck_assert_double_eq(lr[0], keras_cosine(0.001, 12, 0.2, 0.02, 4, 11));
    float a[41], b[41];
    params_of(m1, a, 41);
    params_of(m2, b, 41);
    ck_assert_int_eq(memcmp(a, b, sizeof a), 0);

    /* The CSV's last column is the learning rate. */
    char path[] = "/tmp/regnn_schedXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    CK_OK(regnn_history_write_csv(h, path));
    FILE *f = fopen(path, "r");
    char line[512];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_ptr_nonnull(strstr(line, ",train_eval_mse,learning_rate\n"));
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    unlink(path);
    const char *last = strrchr(line, ',');
    ck_assert_ptr_nonnull(last);
    ck_assert_double_eq_tol(strtod(last + 1, NULL), lr[0], 1e-9 * lr[0]);
    regnn_history_free(h);
    regnn_model_free(m1);
    regnn_model_free(m2);
    regnn_optimizer_free(o1);
    regnn_optimizer_free(o2);
    regnn_fit_options_free(fo);
    regnn_dataset_free(ds);
}
END_TEST

/* The rate is computed once per step, before the step is cut into chunks for
 * the model's threads: the same bits on one thread and on two. */
START_TEST(test_threads_same_bits)
{
    regnn_dataset *ds = toy_data(50);
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 2));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 16));
    const double p[4] = {0.01, 3.0, 0.5, 1.0};
    float *w[2];
    size_t np = 0;
    for (int r = 0; r < 2; r++) {
        regnn_model *m = NULL;
        CK_OK(regnn_model_create(3, &m));
        CK_OK(regnn_model_add_dense(m, 200, REGNN_ACT_RELU, NULL));
        CK_OK(regnn_model_add_dense(m, 100, REGNN_ACT_TANH, NULL));
        CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
        CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 8));
        CK_OK(regnn_model_set_threads(m, (size_t)r + 1));
        np = regnn_model_param_count(m);
        ck_assert_uint_gt(np, 16384); /* large enough for the update to be shared */
        regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
        CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_EXPONENTIAL, p, 4));
        CK_OK(regnn_fit(m, o, ds, NULL, fo, NULL));
        w[r] = malloc(np * sizeof(float));
        params_of(m, w[r], np);
        regnn_optimizer_free(o);
        regnn_model_free(m);
    }
    ck_assert_int_eq(memcmp(w[0], w[1], np * sizeof(float)), 0);
    free(w[0]);
    free(w[1]);
    regnn_fit_options_free(fo);
    regnn_dataset_free(ds);
}
END_TEST

/* Offset of a section's header in an encoded file, or 0. */
static size_t find_section(const unsigned char *buf, size_t len, const char *tag)
{
    size_t pos = 20;
    while (pos + 16 <= len - 4) {
        uint64_t n = 0;
        for (int i = 7; i >= 0; i--)
            n = n << 8 | buf[pos + 8 + (size_t)i];
        if (memcmp(buf + pos, tag, 4) == 0)
            return pos;
        pos += 16 + (size_t)n;
    }
    return 0;
}

static void fix_crc(unsigned char *buf, size_t len)
{
    uint32_t c = rg_crc32(0, buf, len - 4);
    for (int i = 0; i < 4; i++)
        buf[len - 4 + (size_t)i] = (unsigned char)(c >> (8 * i));
}

START_TEST(test_section_is_optional)
{
    regnn_model *m = toy_model(3);
    regnn_optimizer *o = make(REGNN_OPTIM_SGD);
    size_t plain_len = 0, len = 0;
    CK_OK(regnn_checkpoint_save_mem(m, o, NULL, 0, &plain_len));
    const double p[3] = {0.1, 10.0, 0.9};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_EXPONENTIAL, p, 3));
    CK_OK(regnn_checkpoint_save_mem(m, o, NULL, 0, &len));
    ck_assert_uint_eq(len, plain_len + 16 + 8 + 3 * 8);
    unsigned char *buf = malloc(len);
    CK_OK(regnn_checkpoint_save_mem(m, o, buf, len, &len));
    size_t at = find_section(buf, len, "SCHD");
    ck_assert_uint_gt(at, 0);
    ck_assert_int_eq(buf[at + 4] | buf[at + 5] | buf[at + 6] | buf[at + 7], 0); /* flags: optional */
    /* The model alone loads from it. */
    regnn_model *mm = NULL;
    CK_OK(regnn_model_load_mem(buf, len, &mm));
    regnn_model_free(mm);
    /* A reader that does not know the tag skips it: the same bytes under an
     * unknown tag load as "no schedule", as a 1.0 reader sees them. */
    memcpy(buf + at, "SCHX", 4);
    fix_crc(buf, len);
    regnn_model *m2 = NULL;
    regnn_optimizer *o2 = NULL;
    CK_OK(regnn_checkpoint_load_mem(buf, len, &m2, &o2));
    int kind = -1;
    size_t n = 9;
    CK_OK(regnn_optimizer_get_schedule(o2, &kind, NULL, 0, &n));
    ck_assert_int_eq(kind, REGNN_SCHEDULE_CONSTANT);
    ck_assert_uint_eq(n, 0);
    regnn_model_free(m2);
    regnn_optimizer_free(o2);
    /* A bad value in the section is a format error naming it. */
    memcpy(buf + at, "SCHD", 4);
    const double zero = 0.0; /* decay_steps */
    memcpy(buf + at + 16 + 8 + 8, &zero, 8);
    fix_crc(buf, len);
    CK_STATUS(regnn_checkpoint_load_mem(buf, len, &m2, &o2), REGNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "SCHD"));
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "decay_steps"));
    ck_assert_ptr_null(m2);
    /* A section length that disagrees with its count. */
    buf[at + 16 + 4] = 4;
    fix_crc(buf, len);
    CK_STATUS(regnn_checkpoint_load_mem(buf, len, &m2, &o2), REGNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "SCHD"));
    free(buf);
    regnn_model_free(m);
    regnn_optimizer_free(o);
}
END_TEST

START_TEST(test_bad_parameters_refused)
{
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    const double good[3] = {0.1, 10.0, 0.5};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_EXPONENTIAL, good, 3));
    static const struct {
        int kind;
        double p[7];
        size_t n;
        const char *says;
    } bad[] = {
        {REGNN_SCHEDULE_EXPONENTIAL, {0.1, 10}, 2, "3 or 4 parameters"},
        {REGNN_SCHEDULE_EXPONENTIAL, {0.1, 0, 0.5}, 3, "decay_steps"},
        {REGNN_SCHEDULE_EXPONENTIAL, {0.1, -1, 0.5}, 3, "decay_steps"},
        {REGNN_SCHEDULE_EXPONENTIAL, {0.1, 10, 1.5}, 3, "decay_rate"},
        {REGNN_SCHEDULE_EXPONENTIAL, {-0.1, 10, 0.5}, 3, "initial_learning_rate"},
        {REGNN_SCHEDULE_EXPONENTIAL, {1e39, 10, 0.5}, 3, "initial_learning_rate"},
        {REGNN_SCHEDULE_EXPONENTIAL, {0.1, 10, 0.5, 2}, 4, "staircase"},
        {REGNN_SCHEDULE_PIECEWISE, {10, 0.1, 0.2, 0.3}, 4, "2k + 1"},
        {REGNN_SCHEDULE_PIECEWISE, {20, 10, 0.1, 0.2, 0.3}, 5, "increase strictly"},
        {REGNN_SCHEDULE_PIECEWISE, {10, 10, 0.1, 0.2, 0.3}, 5, "increase strictly"},
        {REGNN_SCHEDULE_PIECEWISE, {2.5, 0.1, 0.2}, 3, "boundary must be in 0..9007199254740992"},
        {REGNN_SCHEDULE_PIECEWISE, {-1, 0.1, 0.2}, 3, "boundary must be in 0..9007199254740992"},
        {REGNN_SCHEDULE_PIECEWISE, {10, 0.1, NAN}, 3, "parameter 2: value must be in [0, "},
        {REGNN_SCHEDULE_COSINE, {0.1}, 1, "2 to 5"},
        {REGNN_SCHEDULE_COSINE, {0.1, 100, 1.5}, 3, "alpha"},
        {REGNN_SCHEDULE_COSINE, {0.1, 100, 0, -0.1}, 4, "warmup_target"},
        {REGNN_SCHEDULE_COSINE, {0.1, 100, 0, 0.2, -3}, 5, "warmup_steps"},
        {REGNN_SCHEDULE_COSINE, {0.1, INFINITY}, 2, "decay_steps"},
        {REGNN_SCHEDULE_CONSTANT, {0.1}, 1, "no parameters"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CK_STATUS(regnn_optimizer_set_schedule(o, bad[i].kind, bad[i].p, bad[i].n),
                  REGNN_E_INVALID_ARG);
        ck_assert_msg(strstr(regnn_errmsg(), bad[i].says), "case %zu: '%s' lacks '%s'", i,
                      regnn_errmsg(), bad[i].says);
    }
    CK_STATUS(regnn_optimizer_set_schedule(o, 7, good, 3), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_EXPONENTIAL, NULL, 3),
              REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_optimizer_set_schedule(NULL, REGNN_SCHEDULE_EXPONENTIAL, good, 3),
              REGNN_E_INVALID_ARG);
    /* Refusals change nothing. */
    int kind;
    size_t n;
    double back[3];
    CK_OK(regnn_optimizer_get_schedule(o, &kind, back, 3, &n));
    ck_assert_int_eq(kind, REGNN_SCHEDULE_EXPONENTIAL);
    ck_assert_int_eq(memcmp(back, good, sizeof good), 0);
    CK_STATUS(regnn_optimizer_get_schedule(o, NULL, back, 3, &n), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_optimizer_learning_rate_at(o, 0, NULL), REGNN_E_INVALID_ARG);

    /* The largest scheduled rate times the weight decay must stay <= 1, both ways. */
    const double peak[5] = {10, 0.1, 4.0, 0, 0};
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_WEIGHT_DECAY, 0.5));
    CK_STATUS(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_PIECEWISE, peak, 3), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "weight decay"));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_WEIGHT_DECAY, 0.0));
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_PIECEWISE, peak, 3));
    CK_STATUS(regnn_optimizer_set_double(o, REGNN_OPT_WEIGHT_DECAY, 0.5), REGNN_E_INVALID_ARG);
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_WEIGHT_DECAY, 0.25));
    regnn_optimizer_free(o);
}
END_TEST

/* ---- ReduceLROnPlateau ---- */

static rg_plateau plateau(int64_t patience, int64_t cooldown, double factor, double min_delta,
                          double min_lr)
{
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_REDUCE_LR_PATIENCE, patience));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_REDUCE_LR_COOLDOWN, cooldown));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_REDUCE_LR_FACTOR, factor));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_REDUCE_LR_MIN_DELTA, min_delta));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_REDUCE_LR_MIN_LR, min_lr));
    rg_plateau pl;
    rg_plateau_start(&pl, fo);
    regnn_fit_options_free(fo);
    return pl;
}

START_TEST(test_plateau_rule)
{
    /* patience 2, no cooldown: improvement must beat best - 0.01. */
    rg_plateau pl = plateau(2, 0, 0.5, 0.01, 0.0);
    const double vals[] = {1.0, 0.995, 0.99, 0.5, 0.495, 0.6, 0.7, 0.2};
    /* epoch: 0 best; 1 short of min_delta (wait 1); 2 beats 1.0 - 0.01 only by
     * equality? 0.99 < 0.99 is false: wait 2 -> reduce; 3 best; 4 wait 1;
     * 5 wait 2 -> reduce; 6 wait 1; 7 best. */
    const int reduced[] = {0, 0, 1, 0, 0, 1, 0, 0};
    double lr = 1.0;
    for (size_t e = 0; e < sizeof vals / sizeof vals[0]; e++) {
        const double before = lr;
        ck_assert_int_eq(rg_plateau_update(&pl, vals[e], &lr), reduced[e]);
        ck_assert_double_eq(lr, reduced[e] ? before * 0.5 : before);
    }
    ck_assert_double_eq(lr, 0.25);
    ck_assert_double_eq(pl.best, 0.2);

    /* cooldown 2 and a floor: a constant value never improves after epoch 0. */
    pl = plateau(1, 2, 0.1, 0.0, 0.015);
    lr = 1.0;
    /* Keras decrements the cooldown before testing it, so cooldown 2 skips one
     * epoch: 0 best; 1 reduce; 2 cooling; 3 reduce to the floor; then never. */
    const double expect_lr[] = {1.0, 0.1, 0.1, 0.015, 0.015, 0.015, 0.015, 0.015, 0.015};
    const int expect_red[] = {0, 1, 0, 1, 0, 0, 0, 0, 0};
    for (size_t e = 0; e < sizeof expect_lr / sizeof expect_lr[0]; e++) {
        ck_assert_int_eq(rg_plateau_update(&pl, 3.0, &lr), expect_red[e]);
        ck_assert_double_eq_tol(lr, expect_lr[e], 1e-15);
    }
    /* NaN never counts as an improvement (np.less), so it runs down patience. */
    pl = plateau(2, 0, 0.5, 0.0, 0.0);
    lr = 1.0;
    ck_assert_int_eq(rg_plateau_update(&pl, NAN, &lr), 0);
    ck_assert_int_eq(rg_plateau_update(&pl, NAN, &lr), 1);
    ck_assert_double_eq(lr, 0.5);
}
END_TEST

/* In regnn_fit: with min_delta larger than any change only epoch 0 improves,
 * so the epochs that reduce follow from patience and cooldown alone. */
START_TEST(test_plateau_in_fit)
{
    regnn_dataset *ds = toy_data(40);
    regnn_model *m = toy_model(2);
    regnn_optimizer *o = make(REGNN_OPTIM_SGD);
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.04));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 9));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_REDUCE_LR, 1));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_REDUCE_LR_PATIENCE, 2));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_REDUCE_LR_COOLDOWN, 1));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_REDUCE_LR_FACTOR, 0.5));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_REDUCE_LR_MIN_DELTA, 1e9));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_REDUCE_LR_MIN_LR, 0.006));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.25));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(m, o, ds, NULL, fo, &h));
    /* e0 best; e1 wait 1; e2 wait 2: reduce to 0.02, cooldown 1; e3 the cooldown
     * ends, wait 1; e4 wait 2: reduce to 0.01; e5 wait 1; e6 reduce to
     * max(0.005, 0.006); e7, e8 at the floor. The history holds the rate each
     * epoch trained with, before the reduction at its end. */
    const double expect[9] = {0.04, 0.04, 0.04, 0.02, 0.02, 0.01, 0.01, 0.006, 0.006};
    double lr[9];
    CK_OK(regnn_history_get(h, REGNN_METRIC_LEARNING_RATE, lr, 9));
    for (int e = 0; e < 9; e++)
        ck_assert_double_eq(lr[e], expect[e]);
    double now;
    CK_OK(regnn_optimizer_get_double(o, REGNN_OPT_LEARNING_RATE, &now));
    ck_assert_double_eq(now, 0.006); /* the reduced rate stays with the optimizer */
    regnn_history_free(h);
    /* A second fit starts the rule afresh (best = inf, wait = 0) from 0.006,
     * which is the floor: no further reduction. */
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 4));
    CK_OK(regnn_fit(m, o, ds, NULL, fo, &h));
    CK_OK(regnn_history_get(h, REGNN_METRIC_LEARNING_RATE, lr, 4));
    for (int e = 0; e < 4; e++)
        ck_assert_double_eq(lr[e], 0.006);
    regnn_history_free(h);

    /* With a schedule the rate is not the optimizer's to change: refused. */
    const double p[3] = {0.1, 10, 0.9};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_EXPONENTIAL, p, 3));
    CK_STATUS(regnn_fit(m, o, ds, NULL, fo, &h), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "schedule"));
    ck_assert_ptr_null(h);
    regnn_fit_options_free(fo);
    regnn_model_free(m);
    regnn_optimizer_free(o);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_plateau_options)
{
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    int64_t v;
    double d;
    CK_OK(regnn_fit_options_get_int(fo, REGNN_FIT_REDUCE_LR, &v));
    ck_assert_int_eq(v, 0);
    CK_OK(regnn_fit_options_get_int(fo, REGNN_FIT_REDUCE_LR_PATIENCE, &v));
    ck_assert_int_eq(v, 10);
    CK_OK(regnn_fit_options_get_int(fo, REGNN_FIT_REDUCE_LR_COOLDOWN, &v));
    ck_assert_int_eq(v, 0);
    CK_OK(regnn_fit_options_get_double(fo, REGNN_FIT_REDUCE_LR_FACTOR, &d));
    ck_assert_double_eq(d, 0.1);
    CK_OK(regnn_fit_options_get_double(fo, REGNN_FIT_REDUCE_LR_MIN_DELTA, &d));
    ck_assert_double_eq(d, 1e-4);
    CK_OK(regnn_fit_options_get_double(fo, REGNN_FIT_REDUCE_LR_MIN_LR, &d));
    ck_assert_double_eq(d, 0.0);
    CK_STATUS(regnn_fit_options_set_double(fo, REGNN_FIT_REDUCE_LR_FACTOR, 1.0), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "REGNN_FIT_REDUCE_LR_FACTOR"));
    CK_STATUS(regnn_fit_options_set_double(fo, REGNN_FIT_REDUCE_LR_FACTOR, 0.0), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_double(fo, REGNN_FIT_REDUCE_LR_MIN_LR, -1.0), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_double(fo, REGNN_FIT_REDUCE_LR_MIN_DELTA, INFINITY),
              REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_int(fo, REGNN_FIT_REDUCE_LR_PATIENCE, -1), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_int(fo, REGNN_FIT_REDUCE_LR, 2), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_int(fo, REGNN_FIT_REDUCE_LR_FACTOR, 1), REGNN_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_fit_options_set_double"));
    CK_OK(regnn_fit_options_get_double(fo, REGNN_FIT_REDUCE_LR_FACTOR, &d));
    ck_assert_double_eq(d, 0.1);
    regnn_fit_options_free(fo);
}
END_TEST

/* ---- allocation failures ---- */

START_TEST(test_alloc_failures)
{
    regnn_optimizer *o = make(REGNN_OPTIM_ADAM);
    const double old[3] = {0.1, 10.0, 0.5}, piece[5] = {5, 9, 0.01, 0.001, 0.0001};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_EXPONENTIAL, old, 3));
    long live = regnn__test_alloc_live();
    regnn__test_alloc_fail_at(1, 0);
    CK_STATUS(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_PIECEWISE, piece, 5), REGNN_E_NOMEM);
    regnn__test_alloc_fail_at(0, 0);
    ck_assert_int_eq(regnn__test_alloc_live(), live);
    int kind;
    size_t n;
    double back[5];
    CK_OK(regnn_optimizer_get_schedule(o, &kind, back, 5, &n));
    ck_assert_int_eq(kind, REGNN_SCHEDULE_EXPONENTIAL);
    ck_assert_uint_eq(n, 3);
    ck_assert_double_eq(lr_at(o, 10), 0.05);

    /* Loading a checkpoint with a schedule: every allocation failing in turn. */
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_PIECEWISE, piece, 5));
    regnn_model *m = toy_model(4);
    float x[3] = {0.1f, 0.2f, 0.3f}, y[1] = {0.5f};
    CK_OK(regnn_train_batch(m, o, x, y, 1, NULL));
    size_t len = 0;
    CK_OK(regnn_checkpoint_save_mem(m, o, NULL, 0, &len));
    unsigned char *buf = malloc(len);
    CK_OK(regnn_checkpoint_save_mem(m, o, buf, len, &len));
    int done = 0;
    for (long k = 1; k < 100 && !done; k++) {
        live = regnn__test_alloc_live();
        regnn_model *m2 = NULL;
        regnn_optimizer *o2 = NULL;
        regnn__test_alloc_fail_at(k, 0);
        regnn_status st = regnn_checkpoint_load_mem(buf, len, &m2, &o2);
        regnn__test_alloc_fail_at(0, 0);
        if (st == REGNN_OK) {
            done = 1;
            CK_OK(regnn_optimizer_get_schedule(o2, &kind, back, 5, &n));
            ck_assert_int_eq(kind, REGNN_SCHEDULE_PIECEWISE);
            ck_assert_int_eq(memcmp(back, piece, sizeof piece), 0);
            regnn_model_free(m2);
            regnn_optimizer_free(o2);
        } else {
            ck_assert_int_eq(st, REGNN_E_NOMEM);
            ck_assert_ptr_null(m2);
            ck_assert_ptr_null(o2);
        }
        ck_assert_int_eq(regnn__test_alloc_live(), live);
    }
    ck_assert_int_eq(done, 1);
    free(buf);
    regnn_model_free(m);
    regnn_optimizer_free(o);
}
END_TEST

static Suite *schedule_suite(void)
{
    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_exponential_values);
    tcase_add_test(tc, test_piecewise_boundaries);
    tcase_add_test(tc, test_cosine_warmup_and_alpha);
    tcase_add_test(tc, test_step_uses_count_before_update);
    tcase_add_loop_test(tc, test_checkpoint_resumes_batches, 0, 6);
    tcase_add_test(tc, test_inverse_time_values);
    tcase_add_test(tc, test_polynomial_values);
    tcase_add_test(tc, test_restarts_values);
    tcase_add_test(tc, test_new_schedules_refused);
    tcase_add_test(tc, test_checkpoint_resumes_fit_and_history_rate);
    tcase_add_test(tc, test_threads_same_bits);
    tcase_add_test(tc, test_section_is_optional);
    tcase_add_test(tc, test_bad_parameters_refused);
    tcase_add_test(tc, test_plateau_rule);
    tcase_add_test(tc, test_plateau_in_fit);
    tcase_add_test(tc, test_plateau_options);
    tcase_add_test(tc, test_alloc_failures);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(schedule_suite)
