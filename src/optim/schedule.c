/* SPDX-License-Identifier: MIT */
/* Learning-rate schedules with the semantics of tf.keras.optimizers.schedules
 * (Keras 3), evaluated at the optimizer's step count before the update.
 * Formulas: docs/api.md. */
#include "optim.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define RG_PI 3.14159265358979323846

/* Parameters come either as doubles or, from a file, as little-endian bytes. */
static double param(const double *p, const unsigned char *le, size_t i)
{
    if (p || !le)
        return p ? p[i] : 0.0;
    uint64_t u = 0;
    for (int b = 7; b >= 0; b--)
        u = u << 8 | le[8 * i + (size_t)b];
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static const char *kind_name(int kind)
{
    switch (kind) {
    case REGNN_SCHEDULE_EXPONENTIAL: return "exponential decay";
    case REGNN_SCHEDULE_PIECEWISE: return "piecewise constant decay";
    case REGNN_SCHEDULE_INVERSE_TIME: return "inverse time decay";
    case REGNN_SCHEDULE_POLYNOMIAL: return "polynomial decay";
    case REGNN_SCHEDULE_COSINE_RESTARTS: return "cosine decay with restarts";
    default: return "cosine decay";
    }
}

/* Parameter i of n, or the options table's default when it is left out. */
static double param_or(int okind, const double *p, const unsigned char *le, size_t n, size_t i)
{
    return i < n ? param(p, le, i) : rg_option_default(okind, (int)i);
}

double rg_schedule_peak(int kind, const double *p, const unsigned char *le, size_t n,
                        double base_lr)
{
    switch (kind) {
    case REGNN_SCHEDULE_EXPONENTIAL: return param(p, le, 0); /* decay_rate <= 1 */
    case REGNN_SCHEDULE_PIECEWISE: {
        /* A compare, not fmax: Debian 12's aarch64 gcc 12 stops with an
         * internal error vectorizing this fmax reduction at -O3. The same
         * result: NaN never wins either way. */
        double m = 0.0;
        for (size_t i = n / 2; i < n; i++) {
            const double v = param(p, le, i);
            if (v > m)
                m = v;
        }
        return m;
    }
    case REGNN_SCHEDULE_COSINE:
        /* alpha <= 1: the decay never rises above its start */
        return n >= 4 ? fmax(param(p, le, 0), param(p, le, 3)) : param(p, le, 0);
    case REGNN_SCHEDULE_INVERSE_TIME: /* decay_rate >= 0 */
    case REGNN_SCHEDULE_COSINE_RESTARTS: /* m_mul <= 1, alpha <= 1 */
        return param(p, le, 0);
    case REGNN_SCHEDULE_POLYNOMIAL: /* between the two ends (power > 0) */
        return fmax(param(p, le, 0), param_or(REGNN_OPTION_POLYNOMIAL_DECAY, p, le, n, 2));
    default: return base_lr;
    }
}

/* The options table's kind and key of parameter i of n. */
static int param_option(int kind, size_t i, size_t n, int *key)
{
    switch (kind) {
    case REGNN_SCHEDULE_EXPONENTIAL: *key = (int)i; return REGNN_OPTION_EXPONENTIAL_DECAY;
    case REGNN_SCHEDULE_PIECEWISE: *key = i >= n / 2; return REGNN_OPTION_PIECEWISE_DECAY;
    case REGNN_SCHEDULE_INVERSE_TIME: *key = (int)i; return REGNN_OPTION_INVERSE_TIME_DECAY;
    case REGNN_SCHEDULE_POLYNOMIAL: *key = (int)i; return REGNN_OPTION_POLYNOMIAL_DECAY;
    case REGNN_SCHEDULE_COSINE_RESTARTS: *key = (int)i; return REGNN_OPTION_COSINE_RESTARTS;
    default: *key = (int)i; return REGNN_OPTION_COSINE_DECAY;
    }
}

/* Why n parameters do not fit kind, or NULL. */
static const char *count_problem(int kind, size_t n, char *buf, size_t len)
{
    const char *what = kind_name(kind);
    switch (kind) {
    case REGNN_SCHEDULE_CONSTANT:
        if (n == 0)
            return NULL;
        snprintf(buf, len, "REGNN_SCHEDULE_CONSTANT takes no parameters, got %zu", n);
        return buf;
    case REGNN_SCHEDULE_EXPONENTIAL:
        if (n >= 3 && n <= 4)
            return NULL;
        snprintf(buf, len,
                 "%s takes 3 or 4 parameters {initial_learning_rate, decay_steps, "
                 "decay_rate[, staircase]}, got %zu",
                 what, n);
        return buf;
    case REGNN_SCHEDULE_PIECEWISE:
        if (n >= 3 && n % 2 == 1 && n <= 2 * (size_t)RG_SCHEDULE_MAX_BOUNDARIES + 1)
            return NULL;
        snprintf(buf, len,
                 "%s takes k boundaries then k + 1 values (2k + 1 parameters, 1 <= k <= %d), "
                 "got %zu",
                 what, RG_SCHEDULE_MAX_BOUNDARIES, n);
        return buf;
    case REGNN_SCHEDULE_COSINE:
        if (n >= 2 && n <= 5)
            return NULL;
        snprintf(buf, len,
                 "%s takes 2 to 5 parameters {initial_learning_rate, decay_steps[, alpha[, "
                 "warmup_target[, warmup_steps]]]}, got %zu",
                 what, n);
        return buf;
    case REGNN_SCHEDULE_INVERSE_TIME:
        if (n >= 3 && n <= 4)
            return NULL;
        snprintf(buf, len,
                 "%s takes 3 or 4 parameters {initial_learning_rate, decay_steps, "
                 "decay_rate[, staircase]}, got %zu",
                 what, n);
        return buf;
    case REGNN_SCHEDULE_POLYNOMIAL:
        if (n >= 2 && n <= 5)
            return NULL;
        snprintf(buf, len,
                 "%s takes 2 to 5 parameters {initial_learning_rate, decay_steps[, "
                 "end_learning_rate[, power[, cycle]]]}, got %zu",
                 what, n);
        return buf;
    case REGNN_SCHEDULE_COSINE_RESTARTS:
        if (n >= 2 && n <= 5)
            return NULL;
        snprintf(buf, len,
                 "%s takes 2 to 5 parameters {initial_learning_rate, first_decay_steps[, "
                 "t_mul[, m_mul[, alpha]]]}, got %zu",
                 what, n);
        return buf;
    default:
        snprintf(buf, len, "unknown schedule kind %d (REGNN_SCHEDULE_CONSTANT .. "
                           "REGNN_SCHEDULE_COSINE_RESTARTS are 0..6)", kind);
        return buf;
    }
}

const char *rg_schedule_check(int kind, const double *p, const unsigned char *le, size_t n,
                              double wd, char *buf, size_t len)
{
    if (count_problem(kind, n, buf, len))
        return buf;
    for (size_t i = 0; i < n; i++) { /* each parameter's range, from the options table */
        int key;
        const int okind = param_option(kind, i, n, &key);
        char why[256];
        if (rg_option_problem(okind, key, param(p, le, i), why, sizeof why)) {
            snprintf(buf, len, "%s: parameter %zu: %s", kind_name(kind), i, why);
            return buf;
        }
    }
    for (size_t i = 1; kind == REGNN_SCHEDULE_PIECEWISE && i < n / 2; i++)
        if (!(param(p, le, i) > param(p, le, i - 1))) {
            snprintf(buf, len, "%s: boundaries must increase strictly; boundary %zu is %g after %g",
                     kind_name(kind), i, param(p, le, i), param(p, le, i - 1));
            return buf;
        }
    const double peak = rg_schedule_peak(kind, p, le, n, 0.0);
    if (wd > 0.0 && peak * wd > 1.0) {
        snprintf(buf, len,
                 "the schedule's largest learning rate %g times weight decay %g is %g; it must be "
                 "<= 1 (the decay step multiplies weights by 1 - lr*wd)",
                 peak, wd, peak * wd);
        return buf;
    }
    return NULL;
}

static double cosine_lr(const rg_schedule *s, double t)
{
    const double *p = s->p;
    const double lr0 = p[0], ds = p[1], alpha = s->n >= 3 ? p[2] : 0.0;
    double from = lr0, x = fmin(t, ds);
    if (s->n >= 4) {
        const double target = p[3], ws = s->n >= 5 ? p[4] : 0.0;
        const double c = fmin(t, ds + ws);
        if (c < ws)
            return (target - lr0) * (c / ws) + lr0;
        from = target;
        x = c - ws;
    }
    const double cosine = 0.5 * (1.0 + cos(RG_PI * (x / ds)));
    return from * ((1.0 - alpha) * cosine + alpha);
}

/* Keras: lr0 / (1 + decay_rate * t / decay_steps), the quotient floored with staircase. */
static double inverse_time_lr(const rg_schedule *s, double t)
{
    const double *p = s->p;
    double q = t / p[1];
    if (s->n == 4 && p[3] != 0.0)
        q = floor(q);
    return p[0] / (1.0 + p[2] * q);
}

/* Keras: (lr0 - end) * (1 - t / ds)^power + end, t at most ds; with cycle,
 * ds times the first whole multiple >= t (1 at t = 0). */
static double polynomial_lr(const rg_schedule *s, double t)
{
    const int ok = REGNN_OPTION_POLYNOMIAL_DECAY;
    const double lr0 = s->p[0], end = param_or(ok, s->p, NULL, s->n, 2),
                 power = param_or(ok, s->p, NULL, s->n, 3);
    double ds = s->p[1];
    if (param_or(ok, s->p, NULL, s->n, 4) != 0.0)
        ds *= t == 0.0 ? 1.0 : ceil(t / ds);
    else
        t = fmin(t, ds);
    return (lr0 - end) * pow(1.0 - t / ds, power) + end;
}

/* Keras's SGDR: period i (0-based) has first_decay_steps * t_mul^i steps and
 * starts at the learning rate lr0 * m_mul^i. Keras finds i from a logarithm;
 * here it is then moved by one to the period whose start <= t < its end
 * where a rounded logarithm misses it at a restart. */
static double restarts_lr(const rg_schedule *s, double t)
{
    const int ok = REGNN_OPTION_COSINE_RESTARTS;
    const double lr0 = s->p[0], fds = s->p[1], t_mul = param_or(ok, s->p, NULL, s->n, 2),
                 m_mul = param_or(ok, s->p, NULL, s->n, 3),
                 alpha = param_or(ok, s->p, NULL, s->n, 4);
    const double cf = t / fds;
    double i, frac;
    if (t_mul == 1.0) {
        i = floor(cf);
        frac = cf - i;
    } else {
        /* periods before i: (t_mul^i - 1) / (t_mul - 1) first periods long */
        i = floor(log(1.0 - cf * (1.0 - t_mul)) / log(t_mul));
        if (i > 0.0 && (pow(t_mul, i) - 1.0) / (t_mul - 1.0) > cf)
            i -= 1.0;
        else if ((pow(t_mul, i + 1.0) - 1.0) / (t_mul - 1.0) <= cf)
            i += 1.0;
        const double sum_r = (1.0 - pow(t_mul, i)) / (1.0 - t_mul);
        frac = (cf - sum_r) / pow(t_mul, i);
    }
    const double cosine = 0.5 * pow(m_mul, i) * (1.0 + cos(RG_PI * frac));
    return lr0 * ((1.0 - alpha) * cosine + alpha);
}

double rg_schedule_lr(const rg_schedule *s, uint64_t step, double base_lr)
{
    const double *p = s->p;
    const double t = (double)step;
    switch (s->kind) {
    case REGNN_SCHEDULE_EXPONENTIAL: {
        double e = t / p[1];
        if (s->n == 4 && p[3] != 0.0)
            e = floor(e);
        return p[0] * pow(p[2], e);
    }
    case REGNN_SCHEDULE_PIECEWISE: {
        /* values[i] for boundaries[i-1] < step <= boundaries[i] */
        const size_t k = s->n / 2;
        size_t i = 0;
        while (i < k && t > p[i])
            i++;
        return p[k + i];
    }
    case REGNN_SCHEDULE_COSINE: return cosine_lr(s, t);
    case REGNN_SCHEDULE_INVERSE_TIME: return inverse_time_lr(s, t);
    case REGNN_SCHEDULE_POLYNOMIAL: return polynomial_lr(s, t);
    case REGNN_SCHEDULE_COSINE_RESTARTS: return restarts_lr(s, t);
    default: return base_lr;
    }
}
