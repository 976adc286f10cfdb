/* Optimizers in Keras's update form (see docs/api.md for the formulas and how
 * they differ from PyTorch's). State buffers are bound to a parameter count at
 * the first step and never reallocated by a step. */
#include "internal.h"

#include <math.h>
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

regnn_status regnn_optimizer_set_double(regnn_optimizer *o, int key, double v)
{
    if (!o)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_set_double: optimizer is NULL");
    int k = key_applies(o->kind, key);
    if (k < 0)
        return rg_error(REGNN_E_UNSUPPORTED, "regnn_optimizer_set_double: unknown key %d", key);
    if (k == 0)
        return rg_error(REGNN_E_UNSUPPORTED,
                        "regnn_optimizer_set_double: key %d does not apply to this optimizer", key);
    if (!isfinite(v))
        return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_set_double: value must be finite");
    switch (key) {
    case REGNN_OPT_LEARNING_RATE:
        if (!(v > 0.0))
            return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_set_double: learning rate must be > 0");
        o->lr = v;
        break;
    case REGNN_OPT_BETA1:
    case REGNN_OPT_BETA2:
        if (!(v >= 0.0 && v < 1.0))
            return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_set_double: beta must be in [0, 1)");
        if (key == REGNN_OPT_BETA1)
            o->beta1 = v;
        else
            o->beta2 = v;
        break;
    case REGNN_OPT_EPSILON:
        if (!(v > 0.0))
            return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_set_double: epsilon must be > 0");
        o->eps = v;
        break;
    case REGNN_OPT_WEIGHT_DECAY:
        if (!(v >= 0.0))
            return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_set_double: weight decay must be >= 0");
        o->wd = v;
        break;
    case REGNN_OPT_MOMENTUM:
        if (!(v >= 0.0 && v < 1.0))
            return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_set_double: momentum must be in [0, 1)");
        o->momentum = v;
        break;
    default: /* REGNN_OPT_NESTEROV */
        if (v != 0.0 && v != 1.0)
            return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_set_double: nesterov must be 0 or 1");
        o->nesterov = v == 1.0;
        break;
    }
    return REGNN_OK;
}

regnn_status regnn_optimizer_get_double(const regnn_optimizer *o, int key, double *v)
{
    if (!o || !v)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_get_double: optimizer and value are required");
    int k = key_applies(o->kind, key);
    if (k <= 0)
        return rg_error(REGNN_E_UNSUPPORTED, "regnn_optimizer_get_double: key %d does not apply", key);
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
    float *m = rg_calloc(n, sizeof *m);
    float *v = o->kind == REGNN_OPTIM_ADAM ? rg_calloc(n, sizeof *v) : NULL;
    if (!m || (o->kind == REGNN_OPTIM_ADAM && !v)) {
        rg_free(m);
        rg_free(v);
        return rg_error(REGNN_E_NOMEM, "out of memory for optimizer state (%zu parameters)", n);
    }
    o->m = m;
    o->v = v;
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
    o->m = o->v = NULL;
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

/* The Adam loop is the largest cost outside GEMM; on x86-64 it gets an AVX2
 * clone chosen at load time. Both clones do the same IEEE operations in the same
 * order (no FMA contraction), so results do not depend on which one runs. */
RG_SIMD_CLONES
static void adam_loop(float *restrict p, const float *restrict g, float *restrict m,
                      float *restrict v, size_t n, float alpha, float c1, float c2, float eps)
{
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = m[i] + (gi - m[i]) * c1;
        float vi = v[i] + (gi * gi - v[i]) * c2;
        m[i] = mi;
        v[i] = vi;
        p[i] -= alpha * mi / (sqrtf(vi) + eps);
    }
}

void rg_optimizer_apply(regnn_optimizer *o, float *restrict p, const float *restrict g, size_t n)
{
    const uint64_t t = ++o->steps;
    if (o->wd > 0.0) {
        /* Decoupled decay (AdamW / Keras weight_decay): shrink before the gradient step. */
        const float f = (float)(o->lr * o->wd);
        for (size_t i = 0; i < n; i++)
            p[i] -= p[i] * f;
    }
    if (o->kind == REGNN_OPTIM_ADAM) {
        /* Keras: alpha = lr * sqrt(1 - b2^t) / (1 - b1^t); p -= alpha * m / (sqrt(v) + eps). */
        const double bc1 = 1.0 - pow(o->beta1, (double)t), bc2 = 1.0 - pow(o->beta2, (double)t);
        const float alpha = (float)(o->lr * sqrt(bc2) / bc1);
        const float c1 = (float)(1.0 - o->beta1), c2 = (float)(1.0 - o->beta2);
        adam_loop(p, g, o->m, o->v, n, alpha, c1, c2, (float)o->eps);
    } else if (o->momentum > 0.0) {
        /* Keras: v = mu*v - lr*g; p += v, or p += mu*v - lr*g with Nesterov. */
        const float lr = (float)o->lr, mu = (float)o->momentum;
        float *restrict v = o->m;
        for (size_t i = 0; i < n; i++) {
            v[i] = mu * v[i] - lr * g[i];
            p[i] += o->nesterov ? mu * v[i] - lr * g[i] : v[i];
        }
    } else {
        const float lr = (float)o->lr;
        for (size_t i = 0; i < n; i++)
            p[i] -= lr * g[i];
    }
}
