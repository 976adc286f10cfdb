/* Optimizers in Keras's update form (see docs/api.md for the formulas and how
 * they differ from PyTorch's). State buffers are bound to a parameter count at
 * the first step and never reallocated by a step. */
#include "internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

regnn_status regnn_optimizer_create(int kind, regnn_optimizer **out)
{
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_create: out is NULL");
    *out = NULL;
    if (kind != REGNN_OPTIM_ADAM && kind != REGNN_OPTIM_SGD)
        return rg_error(REGNN_E_UNSUPPORTED, "regnn_optimizer_create: unknown kind %d", kind);
    regnn_optimizer *o = rg_calloc(1, sizeof *o);
    if (!o)
        return rg_error(REGNN_E_NOMEM, "regnn_optimizer_create: out of memory");
    o->kind = kind;
    if (kind == REGNN_OPTIM_ADAM) {
        o->lr = 1e-3;
        o->beta1 = 0.9;
        o->beta2 = 0.999;
        o->eps = 1e-7;
    } else {
        o->lr = 1e-2;
    }
    *out = o;
    return REGNN_OK;
}

void regnn_optimizer_free(regnn_optimizer *o)
{
    if (!o)
        return;
    rg_free(o->m);
    rg_free(o->v);
    rg_free(o->m2);
    rg_free(o->v2);
    rg_free(o);
}

int regnn_optimizer_kind(const regnn_optimizer *o) { return o ? o->kind : -1; }

static int key_applies(int kind, int key)
{
    switch (key) {
    case REGNN_OPT_LEARNING_RATE:
    case REGNN_OPT_WEIGHT_DECAY: return 1;
    case REGNN_OPT_BETA1:
    case REGNN_OPT_BETA2:
    case REGNN_OPT_EPSILON: return kind == REGNN_OPTIM_ADAM;
    case REGNN_OPT_MOMENTUM:
    case REGNN_OPT_NESTEROV: return kind == REGNN_OPTIM_SGD;
    default: return -1;
    }
}

static const char *key_name(int key)
{
    static const char *const names[] = {NULL,
                                        "REGNN_OPT_LEARNING_RATE",
                                        "REGNN_OPT_BETA1",
                                        "REGNN_OPT_BETA2",
                                        "REGNN_OPT_EPSILON",
                                        "REGNN_OPT_WEIGHT_DECAY",
                                        "REGNN_OPT_MOMENTUM",
                                        "REGNN_OPT_NESTEROV"};
    return key >= 1 && key <= REGNN_OPT_NESTEROV ? names[key] : NULL;
}

/* k < 0: no such key; k == 0: the key belongs to the other kind. */
static regnn_status key_error(const char *fn, int kind, int key, int k)
{
    const char *self = kind == REGNN_OPTIM_ADAM ? "Adam" : "SGD";
    if (k < 0)
        return rg_error(REGNN_E_UNSUPPORTED,
                        "%s: unknown key %d (REGNN_OPT_LEARNING_RATE .. REGNN_OPT_NESTEROV are 1..7)",
                        fn, key);
    return rg_error(REGNN_E_UNSUPPORTED, "%s: %s does not apply to %s (it is %s's)", fn, key_name(key),
                    self, kind == REGNN_OPTIM_ADAM ? "SGD" : "Adam");
}

/* Why a value is refused, or NULL. lr and wd are the optimizer's values after
 * the change; they meet in the decay factor 1 - lr * wd. */
static const char *value_problem(int key, double v, double lr, double wd, char *buf, size_t len)
{
    const float f = (float)v;
    switch (key) {
    case REGNN_OPT_LEARNING_RATE:
    case REGNN_OPT_EPSILON:
        /* The step runs in float32: a value that rounds to 0 or overflows there
         * can only give NaN or Inf (ε = 1e-50 makes m / sqrt(v) divide by 0). */
        if (!(isfinite(v) && v > 0.0 && f > 0.0f && isfinite(f)))
            snprintf(buf, len, "%s must be in [%.2g, %.3g] (finite and non-zero in float32), got %g",
                     key == REGNN_OPT_EPSILON ? "epsilon" : "learning rate",
                     (double)FLT_TRUE_MIN, (double)FLT_MAX, v);
        else if (key == REGNN_OPT_LEARNING_RATE && wd > 0.0 && lr * wd > 1.0)
            snprintf(buf, len,
                     "learning rate %g times weight decay %g is %g; it must be <= 1 (the decay "
                     "step multiplies weights by 1 - lr*wd), so learning rate must be <= %g",
                     v, wd, lr * wd, 1.0 / wd);
        else
            return NULL;
        return buf;
    case REGNN_OPT_BETA1:
    case REGNN_OPT_BETA2:
        if (v >= 0.0 && v < 1.0)
            return NULL;
        snprintf(buf, len, "beta%d must be in [0, 1), got %g", key == REGNN_OPT_BETA1 ? 1 : 2, v);
        return buf;
    case REGNN_OPT_WEIGHT_DECAY:
        if (v >= 0.0 && isfinite(v) && lr * v <= 1.0)
            return NULL;
        snprintf(buf, len,
                 "weight decay must be in [0, 1/learning rate] = [0, %g] (the decay step "
                 "multiplies weights by 1 - lr*wd), got %g",
                 1.0 / lr, v);
        return buf;
    case REGNN_OPT_MOMENTUM:
        if (v >= 0.0 && v < 1.0)
            return NULL;
        snprintf(buf, len, "momentum must be in [0, 1), got %g", v);
        return buf;
    default: /* REGNN_OPT_NESTEROV */
        if (v == 0.0 || v == 1.0)
            return NULL;
        snprintf(buf, len, "nesterov must be 0 or 1, got %g", v);
        return buf;
    }
}

const char *rg_optimizer_check(const regnn_optimizer *o, char *buf, size_t len)
{
    static const int keys[] = {REGNN_OPT_LEARNING_RATE, REGNN_OPT_BETA1, REGNN_OPT_BETA2,
                               REGNN_OPT_EPSILON, REGNN_OPT_WEIGHT_DECAY, REGNN_OPT_MOMENTUM};
    const double vals[] = {o->lr, o->beta1, o->beta2, o->eps, o->wd, o->momentum};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (key_applies(o->kind, keys[i]) != 1)
            continue;
        /* lr alone first: a too large product is reported against the decay */
        const double wd = keys[i] == REGNN_OPT_LEARNING_RATE ? 0.0 : o->wd;
        const char *why = value_problem(keys[i], vals[i], o->lr, wd, buf, len);
        if (why)
            return why;
    }
    if (o->steps > RG_MAX_STEPS) {
        snprintf(buf, len, "step count must be <= 2^53 = %llu, got %llu",
                 (unsigned long long)RG_MAX_STEPS, (unsigned long long)o->steps);
        return buf;
    }
    return NULL;
}

regnn_status regnn_optimizer_set_double(regnn_optimizer *o, int key, double v)
{
    if (!o)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_set_double: optimizer is NULL");
    int k = key_applies(o->kind, key);
    if (k <= 0)
        return key_error("regnn_optimizer_set_double", o->kind, key, k);
    char why[200];
    const double lr = key == REGNN_OPT_LEARNING_RATE ? v : o->lr;
    const double wd = key == REGNN_OPT_WEIGHT_DECAY ? v : o->wd;
    if (value_problem(key, v, lr, wd, why, sizeof why))
        return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_set_double: %s", why);
    switch (key) {
    case REGNN_OPT_LEARNING_RATE: o->lr = v; break;
    case REGNN_OPT_BETA1: o->beta1 = v; break;
    case REGNN_OPT_BETA2: o->beta2 = v; break;
    case REGNN_OPT_EPSILON: o->eps = v; break;
    case REGNN_OPT_WEIGHT_DECAY: o->wd = v; break;
    case REGNN_OPT_MOMENTUM: o->momentum = v; break;
    default: o->nesterov = v == 1.0; break;
    }
    return REGNN_OK;
}

regnn_status regnn_optimizer_get_double(const regnn_optimizer *o, int key, double *v)
{
    if (!o || !v)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_get_double: optimizer and value are required");
    int k = key_applies(o->kind, key);
    if (k <= 0)
        return key_error("regnn_optimizer_get_double", o->kind, key, k);
    switch (key) {
    case REGNN_OPT_LEARNING_RATE: *v = o->lr; break;
    case REGNN_OPT_BETA1: *v = o->beta1; break;
    case REGNN_OPT_BETA2: *v = o->beta2; break;
    case REGNN_OPT_EPSILON: *v = o->eps; break;
    case REGNN_OPT_WEIGHT_DECAY: *v = o->wd; break;
    case REGNN_OPT_MOMENTUM: *v = o->momentum; break;
    default: *v = o->nesterov ? 1.0 : 0.0; break;
    }
    return REGNN_OK;
}

uint64_t regnn_optimizer_steps(const regnn_optimizer *o) { return o ? o->steps : 0; }

regnn_status regnn_optimizer_set_steps(regnn_optimizer *o, uint64_t steps)
{
    if (!o)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_set_steps: optimizer is NULL");
    if (steps > RG_MAX_STEPS)
        return rg_error(REGNN_E_INVALID_ARG,
                        "regnn_optimizer_set_steps: steps must be in 0..2^53 = 0..%llu (Adam's bias "
                        "correction needs the count exact in double), got %llu",
                        (unsigned long long)RG_MAX_STEPS, (unsigned long long)steps);
    o->steps = steps;
    return REGNN_OK;
}

size_t regnn_optimizer_state_size(const regnn_optimizer *o) { return o ? o->n : 0; }

regnn_status rg_optimizer_bind(regnn_optimizer *o, size_t n)
{
    if (o->n == n)
        return REGNN_OK;
    if (o->n != 0)
        return rg_error(REGNN_E_SHAPE,
                        "the optimizer holds state for %zu parameters, the model has %zu "
                        "(use a new optimizer or regnn_optimizer_reset)",
                        o->n, n);
    /* Spares receive each step's new state, so a step that goes non-finite is
     * dropped without touching the current state. */
    const int adam = o->kind == REGNN_OPTIM_ADAM;
    float *m = rg_calloc(n, sizeof *m), *m2 = rg_calloc(n, sizeof *m2);
    float *v = adam ? rg_calloc(n, sizeof *v) : NULL, *v2 = adam ? rg_calloc(n, sizeof *v2) : NULL;
    if (!m || !m2 || (adam && (!v || !v2))) {
        rg_free(m);
        rg_free(m2);
        rg_free(v);
        rg_free(v2);
        return rg_error(REGNN_E_NOMEM, "out of memory for optimizer state (%zu parameters)", n);
    }
    o->m = m;
    o->m2 = m2;
    o->v = v;
    o->v2 = v2;
    o->n = n;
    return REGNN_OK;
}

static float *state_ptr(const regnn_optimizer *o, int which)
{
    if (o->kind == REGNN_OPTIM_ADAM)
        return which == REGNN_STATE_M ? o->m : which == REGNN_STATE_V ? o->v : NULL;
    return which == REGNN_STATE_VELOCITY ? o->m : NULL;
}

static int state_known(const regnn_optimizer *o, int which)
{
    if (o->kind == REGNN_OPTIM_ADAM)
        return which == REGNN_STATE_M || which == REGNN_STATE_V;
    return which == REGNN_STATE_VELOCITY;
}

regnn_status regnn_optimizer_get_state(const regnn_optimizer *o, int which, float *buf, size_t len)
{
    if (!o || !buf)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_get_state: optimizer and buf are required");
    if (!state_known(o, which))
        return rg_error(REGNN_E_UNSUPPORTED, "regnn_optimizer_get_state: state %d does not apply", which);
    if (o->n == 0)
        return rg_error(REGNN_E_STATE, "regnn_optimizer_get_state: the optimizer has no state yet");
    if (len != o->n)
        return rg_error(REGNN_E_SHAPE, "regnn_optimizer_get_state: buffer holds %zu floats, state has %zu",
                        len, o->n);
    const float *src = state_ptr(o, which);
    if (!src)
        return rg_error(REGNN_E_INTERNAL, "regnn_optimizer_get_state: state buffer missing");
    memcpy(buf, src, len * sizeof *buf);
    return REGNN_OK;
}

regnn_status regnn_optimizer_set_state(regnn_optimizer *o, int which, const float *buf, size_t len)
{
    if (!o || !buf || len == 0)
        return rg_error(REGNN_E_INVALID_ARG,
                        "regnn_optimizer_set_state: optimizer, buf and a non-zero len are required");
    if (!state_known(o, which))
        return rg_error(REGNN_E_UNSUPPORTED, "regnn_optimizer_set_state: state %d does not apply", which);
    if (o->n != 0 && len != o->n)
        return rg_error(REGNN_E_SHAPE, "regnn_optimizer_set_state: got %zu floats, state has %zu", len,
                        o->n);
    if (!rg_all_finite(buf, len))
        return rg_error(REGNN_E_NUMERIC, "regnn_optimizer_set_state: values contain NaN or Inf");
    if (which == REGNN_STATE_V)
        for (size_t i = 0; i < len; i++)
            if (buf[i] < 0.0f)
                return rg_error(REGNN_E_INVALID_ARG,
                                "regnn_optimizer_set_state: second moments must be >= 0");
    regnn_status st = rg_optimizer_bind(o, len);
    if (st != REGNN_OK)
        return rg_error(st, "regnn_optimizer_set_state: %s", regnn_errmsg());
    float *dst = state_ptr(o, which);
    if (!dst)
        return rg_error(REGNN_E_INTERNAL, "regnn_optimizer_set_state: state buffer missing");
    memcpy(dst, buf, len * sizeof *buf);
    return REGNN_OK;
}

void rg_optimizer_unbind(regnn_optimizer *o)
{
    rg_free(o->m);
    rg_free(o->v);
    rg_free(o->m2);
    rg_free(o->v2);
    o->m = o->v = o->m2 = o->v2 = NULL;
    o->n = 0;
    o->steps = 0;
}

regnn_status regnn_optimizer_reset(regnn_optimizer *o)
{
    if (!o)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_reset: optimizer is NULL");
    if (o->busy)
        return rg_error(REGNN_E_STATE, "regnn_optimizer_reset: not allowed while regnn_fit runs");
    rg_optimizer_unbind(o);
    return REGNN_OK;
}

/* Finiteness is tracked as an OR of the bits of x - x: +0 for every finite x,
 * a NaN (non-zero bits) for Inf and NaN. It costs one subtraction and one OR per
 * value, vectorizes, and never changes the values written. */
static inline uint32_t nonfinite_bits(float x)
{
    const float d = x - x;
    uint32_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* The Adam loop is the largest cost outside GEMM; on x86-64 it gets an AVX2
 * clone chosen at load time. Both clones do the same IEEE operations in the same
 * order (no FMA contraction), so results do not depend on which one runs.
 * Out of place: p, m, v are read, po, mo, vo written. A non-finite new m makes
 * the new parameter non-finite too (alpha > 0), so checking po and vo covers all. */
RG_SIMD_CLONES
static uint32_t adam_loop(const float *restrict p, float *restrict po, const float *restrict g,
                          const float *restrict m, float *restrict mo, const float *restrict v,
                          float *restrict vo, size_t n, float alpha, float c1, float c2, float eps,
                          int decay, float f)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        float pi = p[i];
        if (decay) /* decoupled decay (AdamW / Keras weight_decay) before the gradient step */
            pi -= pi * f;
        float gi = g[i];
        float mi = m[i] + (gi - m[i]) * c1;
        float vi = v[i] + (gi * gi - v[i]) * c2;
        mo[i] = mi;
        vo[i] = vi;
        float pn = pi - alpha * mi / (sqrtf(vi) + eps);
        po[i] = pn;
        bad |= nonfinite_bits(pn) | nonfinite_bits(vi);
    }
    return bad;
}

static uint32_t sgd_loop(const float *restrict p, float *restrict po, const float *restrict g,
                         size_t n, float lr, int decay, float f)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        float pi = p[i];
        if (decay)
            pi -= pi * f;
        float pn = pi - lr * g[i];
        po[i] = pn;
        bad |= nonfinite_bits(pn);
    }
    return bad;
}

static uint32_t momentum_loop(const float *restrict p, float *restrict po, const float *restrict g,
                              const float *restrict v, float *restrict vo, size_t n, float lr,
                              float mu, int nesterov, int decay, float f)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        float pi = p[i];
        if (decay)
            pi -= pi * f;
        /* Keras: v = mu*v - lr*g; p += v, or p += mu*v - lr*g with Nesterov. */
        float vi = mu * v[i] - lr * g[i];
        vo[i] = vi;
        float pn = pi + (nesterov ? mu * vi - lr * g[i] : vi);
        po[i] = pn;
        bad |= nonfinite_bits(pn) | nonfinite_bits(vi);
    }
    return bad;
}

static void swap_buf(float **a, float **b)
{
    float *t = *a;
    *a = *b;
    *b = t;
}

int rg_optimizer_step(regnn_optimizer *o, const float *restrict p, float *restrict p_out,
                      const float *restrict g, size_t n)
{
    const uint64_t t = o->steps + 1;
    const int decay = o->wd > 0.0;
    const float f = (float)(o->lr * o->wd);
    uint32_t bad;
    if (o->kind == REGNN_OPTIM_ADAM) {
        /* Keras: alpha = lr * sqrt(1 - b2^t) / (1 - b1^t); p -= alpha * m / (sqrt(v) + eps). */
        const double bc1 = 1.0 - pow(o->beta1, (double)t), bc2 = 1.0 - pow(o->beta2, (double)t);
        const float alpha = (float)(o->lr * sqrt(bc2) / bc1);
        const float c1 = (float)(1.0 - o->beta1), c2 = (float)(1.0 - o->beta2);
        bad = adam_loop(p, p_out, g, o->m, o->m2, o->v, o->v2, n, alpha, c1, c2, (float)o->eps,
                        decay, f);
        if (bad)
            return 0;
        swap_buf(&o->m, &o->m2);
        swap_buf(&o->v, &o->v2);
    } else if (o->momentum > 0.0) {
        bad = momentum_loop(p, p_out, g, o->m, o->m2, n, (float)o->lr, (float)o->momentum,
                            o->nesterov, decay, f);
        if (bad)
            return 0;
        swap_buf(&o->m, &o->m2);
    } else {
        bad = sgd_loop(p, p_out, g, n, (float)o->lr, decay, f);
        if (bad)
            return 0;
    }
    o->steps = t;
    return 1;
}
