/* Learning-rate schedules with the semantics of tf.keras.optimizers.schedules
 * (Keras 3), evaluated at the optimizer's step count before the update, and
 * the ReduceLROnPlateau rule of keras.callbacks. Formulas: docs/api.md. */
#include "internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define RG_PI 3.14159265358979323846

/* Parameters come either as doubles or, from a file, as little-endian bytes. */
static double param(const double *p, const unsigned char *le, size_t i)
{
    if (p)
        return p[i];
    uint64_t u = 0;
    for (int b = 7; b >= 0; b--)
        u = u << 8 | le[8 * i + (size_t)b];
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* A learning rate the float32 step can use: finite in float32 and >= 0 (0
 * is allowed in a schedule, as in Keras: warm-up from 0, alpha = 0). */
static int lr_ok(double v) { return v >= 0.0 && v <= (double)FLT_MAX; }

static const char *kind_name(int kind)
{
    switch (kind) {
    case REGNN_SCHEDULE_EXPONENTIAL: return "exponential decay";
    case REGNN_SCHEDULE_PIECEWISE: return "piecewise constant decay";
    default: return "cosine decay";
    }
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
    default: return base_lr;
    }
}

const char *rg_schedule_check(int kind, const double *p, const unsigned char *le, size_t n,
                              double wd, char *buf, size_t len)
{
    const char *what = kind_name(kind);
    switch (kind) {
    case REGNN_SCHEDULE_CONSTANT:
        if (n == 0)
            return NULL;
        snprintf(buf, len, "REGNN_SCHEDULE_CONSTANT takes no parameters, got %zu", n);
        return buf;
    case REGNN_SCHEDULE_EXPONENTIAL: {
        if (n < 3 || n > 4) {
            snprintf(buf, len,
                     "%s takes 3 or 4 parameters {initial_learning_rate, decay_steps, "
                     "decay_rate[, staircase]}, got %zu",
                     what, n);
            return buf;
        }
        const double lr = param(p, le, 0), ds = param(p, le, 1), dr = param(p, le, 2);
        const double sc = n == 4 ? param(p, le, 3) : 0.0;
        if (!lr_ok(lr))
            snprintf(buf, len, "%s: initial_learning_rate must be in [0, %.3g], got %g", what,
                     (double)FLT_MAX, lr);
        else if (!(isfinite(ds) && ds > 0.0))
            snprintf(buf, len, "%s: decay_steps must be finite and > 0, got %g", what, ds);
        else if (!(dr >= 0.0 && dr <= 1.0))
            snprintf(buf, len,
                     "%s: decay_rate must be in [0, 1] (a rate above 1 grows the learning rate "
                     "without bound), got %g",
                     what, dr);
        else if (sc != 0.0 && sc != 1.0)
            snprintf(buf, len, "%s: staircase must be 0 or 1, got %g", what, sc);
        else
            break;
        return buf;
    }
    case REGNN_SCHEDULE_PIECEWISE: {
        if (n < 3 || n % 2 == 0 || n > 2 * (size_t)RG_SCHEDULE_MAX_BOUNDARIES + 1) {
            snprintf(buf, len,
                     "%s takes k boundaries then k + 1 values (2k + 1 parameters, 1 <= k <= %d), "
                     "got %zu",
                     what, RG_SCHEDULE_MAX_BOUNDARIES, n);
            return buf;
        }
        const size_t k = n / 2;
        for (size_t i = 0; i < k; i++) {
            const double b = param(p, le, i);
            if (!(b >= 0.0 && b <= (double)RG_MAX_STEPS && b == floor(b))) {
                snprintf(buf, len, "%s: boundary %zu must be a whole step count in 0..2^53, got %g",
                         what, i, b);
                return buf;
            }
            if (i > 0 && !(b > param(p, le, i - 1))) {
                snprintf(buf, len, "%s: boundaries must increase strictly; boundary %zu is %g after %g",
                         what, i, b, param(p, le, i - 1));
                return buf;
            }
        }
        for (size_t i = k; i < n; i++)
            if (!lr_ok(param(p, le, i))) {
                snprintf(buf, len, "%s: value %zu must be a learning rate in [0, %.3g], got %g", what,
                         i - k, (double)FLT_MAX, param(p, le, i));
                return buf;
            }
        break;
    }
    case REGNN_SCHEDULE_COSINE: {
        if (n < 2 || n > 5) {
            snprintf(buf, len,
                     "%s takes 2 to 5 parameters {initial_learning_rate, decay_steps[, alpha[, "
                     "warmup_target[, warmup_steps]]]}, got %zu",
                     what, n);
            return buf;
        }
        const double lr = param(p, le, 0), ds = param(p, le, 1);
        const double al = n >= 3 ? param(p, le, 2) : 0.0, wt = n >= 4 ? param(p, le, 3) : 0.0;
        const double ws = n >= 5 ? param(p, le, 4) : 0.0;
        if (!lr_ok(lr))
            snprintf(buf, len, "%s: initial_learning_rate must be in [0, %.3g], got %g", what,
                     (double)FLT_MAX, lr);
        else if (!(isfinite(ds) && ds > 0.0))
            snprintf(buf, len, "%s: decay_steps must be finite and > 0, got %g", what, ds);
        else if (!(al >= 0.0 && al <= 1.0))
            snprintf(buf, len, "%s: alpha must be in [0, 1], got %g", what, al);
        else if (!lr_ok(wt))
            snprintf(buf, len, "%s: warmup_target must be in [0, %.3g], got %g", what,
                     (double)FLT_MAX, wt);
        else if (!(isfinite(ws) && ws >= 0.0))
            snprintf(buf, len, "%s: warmup_steps must be finite and >= 0, got %g", what, ws);
        else
            break;
        return buf;
    }
    default:
        snprintf(buf, len, "unknown schedule kind %d (REGNN_SCHEDULE_CONSTANT .. "
                           "REGNN_SCHEDULE_COSINE are 0..3)", kind);
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
    case REGNN_SCHEDULE_COSINE: {
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
    default: return base_lr;
    }
}

void rg_plateau_start(rg_plateau *pl, const regnn_fit_options *opts)
{
    pl->factor = opts->reduce_lr_factor;
    pl->min_delta = opts->reduce_lr_min_delta;
    pl->min_lr = opts->reduce_lr_min_lr;
    pl->patience = opts->reduce_lr_patience;
    pl->cooldown = opts->reduce_lr_cooldown;
    pl->best = INFINITY;
    pl->wait = 0;
    pl->cooldown_counter = 0;
}

/* keras.callbacks.ReduceLROnPlateau.on_epoch_end, mode 'min'. */
int rg_plateau_update(rg_plateau *pl, double current, double *lr)
{
    if (pl->cooldown_counter > 0) {
        pl->cooldown_counter--;
        pl->wait = 0;
    }
    if (current < pl->best - pl->min_delta) { /* false for NaN, as np.less */
        pl->best = current;
        pl->wait = 0;
        return 0;
    }
    if (pl->cooldown_counter > 0)
        return 0;
    pl->wait++;
    if (pl->wait < pl->patience || !(*lr > pl->min_lr))
        return 0;
    /* Never below the smallest normal float: the float32 step needs lr > 0. */
    *lr = fmax(fmax(*lr * pl->factor, pl->min_lr), (double)FLT_MIN);
    pl->cooldown_counter = pl->cooldown;
    pl->wait = 0;
    return 1;
}
