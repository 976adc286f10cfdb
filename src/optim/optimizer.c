/* SPDX-License-Identifier: MIT */
/* Optimizers in Keras's update form (see docs/api.md for the formulas and how
 * they differ from PyTorch's). State buffers are bound to a parameter count at
 * the first step and never reallocated by a step. */
#include "optim.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

struct regnn_optimizer {
    int kind;
    double lr, beta1, beta2, eps, wd, momentum;
    int nesterov;
    uint64_t steps;
    size_t n;     /* bound parameter count; 0 = unbound */
    float *m, *v; /* Adam moments, or SGD velocity in m */
    float *m2, *v2; /* spares rg_optimizer_step_into writes; swapped in when it succeeds */
    uint32_t m_max, v_max; /* largest |m|, |v| (float bits) the last step wrote ... */
    int bounds_known;      /* ... valid only while set: any other write clears it */
    int busy;     /* inside regnn_fit: reset (which frees the moments) is refused */
    rg_schedule sched; /* learning-rate schedule; kind CONSTANT = lr every step */
    double lr_now;     /* the learning rate of the last step (lr before any) */
};

/* The options table's kind for an optimizer kind. */
static int option_kind(int kind)
{
    return kind == REGNN_OPTIM_ADAM ? REGNN_OPTION_ADAM : REGNN_OPTION_SGD;
}

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
    const int k = option_kind(kind); /* the defaults from the options table */
    o->lr = rg_option_default(k, REGNN_OPT_LEARNING_RATE);
    o->beta1 = rg_option_default(k, REGNN_OPT_BETA1);
    o->beta2 = rg_option_default(k, REGNN_OPT_BETA2);
    o->eps = rg_option_default(k, REGNN_OPT_EPSILON);
    o->lr_now = o->lr;
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
    rg_free(o->sched.p);
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

/* k < 0: no such key; k == 0: the key belongs to the other kind. */
static regnn_status key_error(const char *fn, int kind, int key, int k)
{
    const char *self = kind == REGNN_OPTIM_ADAM ? "Adam" : "SGD";
    if (k < 0)
        return rg_error(REGNN_E_UNSUPPORTED,
                        "%s: unknown key %d (REGNN_OPT_LEARNING_RATE .. REGNN_OPT_NESTEROV are 1..7)",
                        fn, key);
    return rg_error(REGNN_E_UNSUPPORTED, "%s: %s does not apply to %s (it is %s's)", fn, regnn_option_name(option_kind(kind == REGNN_OPTIM_ADAM ? REGNN_OPTIM_SGD : REGNN_OPTIM_ADAM), key),
                    self, kind == REGNN_OPTIM_ADAM ? "SGD" : "Adam");
}

/* Why a value is refused, or NULL: its range from the options table, then
 * the coupling of lr and wd (the optimizer's values after the change) in the
 * decay factor 1 - lr * wd. */
static const char *value_problem(int kind, int key, double v, double lr, double wd, char *buf,
                                 size_t len)
{
    if (rg_option_problem(option_kind(kind), key, v, buf, len))
        return buf;
    if (key == REGNN_OPT_LEARNING_RATE && wd > 0.0 && lr * wd > 1.0)
        snprintf(buf, len,
                 "REGNN_OPT_LEARNING_RATE: learning rate %g times weight decay %g is %g; it must be <= 1 (the decay "
                 "step multiplies weights by 1 - lr*wd), so learning rate must be <= %g",
                 v, wd, lr * wd, 1.0 / wd);
    else if (key == REGNN_OPT_WEIGHT_DECAY && lr * v > 1.0)
        snprintf(buf, len,
                 "REGNN_OPT_WEIGHT_DECAY: weight decay must be in [0, 1/learning rate] = [0, %g] (the decay step "
                 "multiplies weights by 1 - lr*wd), got %g",
                 1.0 / lr, v);
    else
        return NULL;
    return buf;
}

const char *rg_optimizer_check(const rg_optimizer_settings *o, char *buf, size_t len)
{
    static const int keys[] = {REGNN_OPT_LEARNING_RATE, REGNN_OPT_BETA1, REGNN_OPT_BETA2,
                               REGNN_OPT_EPSILON, REGNN_OPT_WEIGHT_DECAY, REGNN_OPT_MOMENTUM};
    const double vals[] = {o->lr, o->beta1, o->beta2, o->eps, o->wd, o->momentum};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (key_applies(o->kind, keys[i]) != 1)
            continue;
        /* lr alone first: a too large product is reported against the decay */
        const double wd = keys[i] == REGNN_OPT_LEARNING_RATE ? 0.0 : o->wd;
        const char *why = value_problem(o->kind, keys[i], vals[i], o->lr, wd, buf, len);
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
    char why[256];
    /* With a schedule, its largest learning rate meets the weight decay too. */
    const double lr = fmax(key == REGNN_OPT_LEARNING_RATE ? v : o->lr,
                           rg_schedule_peak(o->sched.kind, o->sched.p, NULL, o->sched.n, 0.0));
    const double wd = key == REGNN_OPT_WEIGHT_DECAY ? v : o->wd;
    if (value_problem(o->kind, key, v, lr, wd, why, sizeof why))
        return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_set_double: %s", why);
    switch (key) {
    case REGNN_OPT_LEARNING_RATE:
        o->lr = v;
        if (o->steps == 0)
            o->lr_now = v;
        break;
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

regnn_status regnn_optimizer_set_schedule(regnn_optimizer *o, int kind, const double *params,
                                          size_t n)
{
    static const char fn[] = "regnn_optimizer_set_schedule";
    if (!o)
        return rg_error(REGNN_E_INVALID_ARG, "%s: optimizer is NULL", fn);
    if (o->busy)
        return rg_error(REGNN_E_STATE, "%s: not allowed while regnn_fit runs", fn);
    if (n > 0 && !params)
        return rg_error(REGNN_E_INVALID_ARG, "%s: params is NULL with n = %zu", fn, n);
    char why[240];
    if (rg_schedule_check(kind, params, NULL, n, o->wd, why, sizeof why))
        return rg_error(kind < REGNN_SCHEDULE_CONSTANT || kind > REGNN_SCHEDULE_COSINE
                            ? REGNN_E_UNSUPPORTED
                            : REGNN_E_INVALID_ARG,
                        "%s: %s", fn, why);
    double *p = NULL;
    if (n > 0) {
        p = rg_malloc(n * sizeof *p);
        if (!p)
            return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
        memcpy(p, params, n * sizeof *p);
    }
    rg_free(o->sched.p);
    o->sched.kind = kind;
    o->sched.n = n;
    o->sched.p = p;
    if (o->steps == 0)
        o->lr_now = rg_schedule_lr(&o->sched, 0, o->lr);
    return REGNN_OK;
}

regnn_status regnn_optimizer_get_schedule(const regnn_optimizer *o, int *kind, double *params,
                                          size_t len, size_t *n)
{
    if (!o || !kind || !n || (len > 0 && !params))
        return rg_error(REGNN_E_INVALID_ARG,
                        "regnn_optimizer_get_schedule: optimizer, kind, n (and params when len > 0) "
                        "are required");
    *kind = o->sched.kind;
    *n = o->sched.n;
    if (len > 0 && o->sched.n > 0)
        memcpy(params, o->sched.p, (len < o->sched.n ? len : o->sched.n) * sizeof *params);
    return REGNN_OK;
}

regnn_status regnn_optimizer_learning_rate_at(const regnn_optimizer *o, uint64_t step, double *lr)
{
    if (!o || !lr)
        return rg_error(REGNN_E_INVALID_ARG,
                        "regnn_optimizer_learning_rate_at: optimizer and lr are required");
    *lr = rg_schedule_lr(&o->sched, step, o->lr);
    return REGNN_OK;
}

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
    o->bounds_known = 0;
    return REGNN_OK;
}

regnn_status rg_optimizer_reserve_spares(regnn_optimizer *o)
{
    const int adam = o->kind == REGNN_OPTIM_ADAM;
    if (o->m2 && (!adam || o->v2))
        return REGNN_OK;
    float *m2 = o->m2 ? o->m2 : rg_malloc(o->n * sizeof *m2);
    float *v2 = !adam || o->v2 ? o->v2 : rg_malloc(o->n * sizeof *v2);
    o->m2 = m2;
    o->v2 = v2;
    if (!m2 || (adam && !v2))
        return rg_error(REGNN_E_NOMEM, "out of memory for optimizer state (%zu parameters)", o->n);
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
    o->bounds_known = 0;
    return REGNN_OK;
}

void rg_optimizer_unbind(regnn_optimizer *o)
{
    rg_free(o->m);
    rg_free(o->v);
    rg_free(o->m2);
    rg_free(o->v2);
    o->m = o->v = o->m2 = o->v2 = NULL;
    o->bounds_known = 0;
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
    o->lr_now = rg_schedule_lr(&o->sched, 0, o->lr);
    return REGNN_OK;
}

/* A step records the largest magnitude of every value it writes, as the bits
 * of |x| (float order = integer order for non-negative floats). A NaN or Inf
 * has bits >= 0x7f800000, so the same maxima tell whether the step stayed
 * finite, and they bound the next step (rg_optimizer_step_is_safe). Unsigned
 * max reductions vectorize and change no value. */
#define RG_NONFINITE_BITS 0x7f800000u

static inline uint32_t abs_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u & 0x7fffffffu;
}

/* |x| bits are below 2^31, so a signed compare orders them too; it vectorizes
 * with SSE2 alone (there is no unsigned max before SSE4.1). */
static inline uint32_t max_u32(uint32_t a, uint32_t b) { return (int32_t)a > (int32_t)b ? a : b; }

static inline float bits_float(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

typedef rg_step_k step_k;

typedef struct step_val {
    float p, m, v;
} step_val;

/* One parameter's update, written once for the in-place and the out-of-place
 * loops: both do the same IEEE operations in the same order (no FMA
 * contraction), so they and the SIMD clones give the same bits. */
static inline step_val adam_elem(float p, float g, float m, float v, const step_k *k)
{
    if (k->decay) /* decoupled decay (AdamW / Keras weight_decay) before the gradient step */
        p -= p * k->f;
    step_val r;
    r.m = m + (g - m) * k->c1;
    r.v = v + (g * g - v) * k->c2;
    r.p = p - k->alpha * r.m / (sqrtf(r.v) + k->eps);
    return r;
}

static inline step_val sgd_elem(float p, float g, float vel, const step_k *k)
{
    if (k->decay)
        p -= p * k->f;
    step_val r;
    /* Keras: v = mu*v - lr*g; p += v, or p += mu*v - lr*g with Nesterov. */
    r.m = k->mu * vel - k->lr * g;
    r.p = p + (k->nesterov ? k->mu * r.m - k->lr * g : r.m);
    r.v = 0.0f;
    return r;
}

static inline step_val plain_elem(float p, float g, const step_k *k)
{
    if (k->decay)
        p -= p * k->f;
    step_val r = {p - k->lr * g, 0.0f, 0.0f};
    return r;
}

/* The Adam loops are the largest cost outside GEMM; on x86-64 they get AVX2
 * clones chosen at load time. mx receives the maxima of |p|, |m|, |v| written. */
RG_SIMD_CLONES
static void adam_inplace(float *restrict p, const float *restrict g, float *restrict m,
                         float *restrict v, size_t n, step_k k, uint32_t *restrict mx)
{
    uint32_t a = 0, b = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        step_val r = adam_elem(p[i], g[i], m[i], v[i], &k);
        p[i] = r.p;
        m[i] = r.m;
        v[i] = r.v;
        a = max_u32(a, abs_bits(r.p));
        b = max_u32(b, abs_bits(r.m));
        c = max_u32(c, abs_bits(r.v));
    }
    mx[0] = a;
    mx[1] = b;
    mx[2] = c;
}

RG_SIMD_CLONES
static void adam_into(const float *restrict p, float *restrict po, const float *restrict g,
                      const float *restrict m, float *restrict mo, const float *restrict v,
                      float *restrict vo, size_t n, step_k k, uint32_t *restrict mx)
{
    uint32_t a = 0, b = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        step_val r = adam_elem(p[i], g[i], m[i], v[i], &k);
        po[i] = r.p;
        mo[i] = r.m;
        vo[i] = r.v;
        a = max_u32(a, abs_bits(r.p));
        b = max_u32(b, abs_bits(r.m));
        c = max_u32(c, abs_bits(r.v));
    }
    mx[0] = a;
    mx[1] = b;
    mx[2] = c;
}

static void sgd_inplace(float *restrict p, const float *restrict g, float *restrict vel, size_t n,
                        step_k k, uint32_t *restrict mx)
{
    uint32_t a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        step_val r = sgd_elem(p[i], g[i], vel[i], &k);
        p[i] = r.p;
        vel[i] = r.m;
        a = max_u32(a, abs_bits(r.p));
        b = max_u32(b, abs_bits(r.m));
    }
    mx[0] = a;
    mx[1] = b;
}

static void sgd_into(const float *restrict p, float *restrict po, const float *restrict g,
                     const float *restrict vel, float *restrict vo, size_t n, step_k k,
                     uint32_t *restrict mx)
{
    uint32_t a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        step_val r = sgd_elem(p[i], g[i], vel[i], &k);
        po[i] = r.p;
        vo[i] = r.m;
        a = max_u32(a, abs_bits(r.p));
        b = max_u32(b, abs_bits(r.m));
    }
    mx[0] = a;
    mx[1] = b;
}

static void plain_inplace(float *restrict p, const float *restrict g, size_t n, step_k k,
                          uint32_t *restrict mx)
{
    uint32_t a = 0;
    for (size_t i = 0; i < n; i++) {
        p[i] = plain_elem(p[i], g[i], &k).p;
        a = max_u32(a, abs_bits(p[i]));
    }
    mx[0] = a;
}

static void plain_into(const float *restrict p, float *restrict po, const float *restrict g,
                       size_t n, step_k k, uint32_t *restrict mx)
{
    uint32_t a = 0;
    for (size_t i = 0; i < n; i++) {
        po[i] = plain_elem(p[i], g[i], &k).p;
        a = max_u32(a, abs_bits(po[i]));
    }
    mx[0] = a;
}

static int uses_state(const regnn_optimizer *o)
{
    return o->kind == REGNN_OPTIM_ADAM || o->momentum > 0.0;
}

static step_k step_constants(const regnn_optimizer *o, uint64_t t)
{
    /* Keras evaluates the schedule at optimizer.iterations: t - 1. */
    const double lr = rg_schedule_lr(&o->sched, t - 1, o->lr);
    step_k k;
    memset(&k, 0, sizeof k);
    k.decay = o->wd > 0.0;
    k.f = (float)(lr * o->wd);
    if (o->kind == REGNN_OPTIM_ADAM) {
        /* Keras: alpha = lr * sqrt(1 - b2^t) / (1 - b1^t); p -= alpha * m / (sqrt(v) + eps). */
        const double bc1 = 1.0 - pow(o->beta1, (double)t), bc2 = 1.0 - pow(o->beta2, (double)t);
        k.alpha = (float)(lr * sqrt(bc2) / bc1);
        k.c1 = (float)(1.0 - o->beta1);
        k.c2 = (float)(1.0 - o->beta2);
        k.eps = (float)o->eps;
    } else {
        k.lr = (float)lr;
        k.mu = (float)o->momentum;
        k.nesterov = o->nesterov;
    }
    return k;
}

/* Keep the maxima of a finished step: the parameters' for the caller, the
 * state's in the optimizer. 1 when every value written is finite. */
static int commit_maxima(regnn_optimizer *o, const uint32_t *mx, uint32_t *p_max)
{
    int st = uses_state(o);
    int ok = mx[0] < RG_NONFINITE_BITS && (!st || mx[1] < RG_NONFINITE_BITS) &&
             (o->kind != REGNN_OPTIM_ADAM || mx[2] < RG_NONFINITE_BITS);
    *p_max = mx[0];
    if (st) {
        o->m_max = mx[1];
        o->v_max = o->kind == REGNN_OPTIM_ADAM ? mx[2] : 0;
    }
    return ok;
}

/* One update over chunks of the parameters (or a plan's ranges): each
 * element's arithmetic does not depend on the range it falls in and the
 * maxima combine by max, so any cut gives the same bits. */
typedef rg_update opt_job;

static void opt_range(opt_job *j, size_t i0, size_t len, uint32_t *mx)
{
    const regnn_optimizer *o = j->o;
    const float *g = j->g + i0;
    if (!j->out) {
        float *p = j->p + i0;
        if (o->kind == REGNN_OPTIM_ADAM)
            adam_inplace(p, g, o->m + i0, o->v + i0, len, j->k, mx);
        else if (o->momentum > 0.0)
            sgd_inplace(p, g, o->m + i0, len, j->k, mx);
        else
            plain_inplace(p, g, len, j->k, mx);
    } else {
        const float *p = j->pin + i0;
        float *po = j->out + i0;
        if (o->kind == REGNN_OPTIM_ADAM)
            adam_into(p, po, g, o->m + i0, o->m2 + i0, o->v + i0, o->v2 + i0, len, j->k, mx);
        else if (o->momentum > 0.0)
            sgd_into(p, po, g, o->m + i0, o->m2 + i0, len, j->k, mx);
        else
            plain_into(p, po, g, len, j->k, mx);
    }
}

static void opt_task(void *ctx, size_t t)
{
    opt_job *j = ctx;
    if (!j->plan) {
        const size_t i0 = t * j->chunk, len = j->n - i0 < j->chunk ? j->n - i0 : j->chunk;
        rg_optimizer_update_range(j, t, i0, len);
        return;
    }
    const size_t *seg = j->plan->seg + 2 * t * j->plan->per;
    for (size_t k = 0; k < j->plan->per; k++)
        rg_optimizer_update_range(j, t, seg[2 * k], seg[2 * k + 1] - seg[2 * k]);
}

/* Below this many parameters a step is too short to share. */
#define RG_OPT_SHARE_MIN 16384

size_t rg_optimizer_chunk(size_t n, size_t threads)
{
    if (n < RG_OPT_SHARE_MIN || threads < 1)
        threads = 1;
    /* Chunks in whole cache lines, so threads never write the same line. */
    return ((n + threads - 1) / threads + 15) / 16 * 16;
}

static void combine_maxima(const opt_job *j, size_t tasks, uint32_t *mx)
{
    mx[0] = mx[1] = mx[2] = 0;
    for (size_t t = 0; t < tasks; t++)
        for (size_t c = 0; c < 3; c++)
            mx[c] = max_u32(mx[c], j->mx[t][c]);
}

static void run_update(regnn_optimizer *o, float *p, const float *pin, float *out,
                       const float *g, size_t n, rg_pool *pool, const rg_plan *plan, uint32_t *mx)
{
    opt_job j;
    rg_optimizer_update_begin(o, &j, p, g, n);
    j.pin = pin;
    j.out = out;
    j.chunk = rg_optimizer_chunk(n, rg_pool_threads(pool));
    const size_t chunks = (n + j.chunk - 1) / j.chunk;
    if (chunks < 2)
        plan = NULL;
    rg_optimizer_update_plan(&j, plan, plan ? plan->tasks : chunks);
    rg_pool_run(j.tasks > 1 ? pool : NULL, opt_task, &j, j.tasks);
    combine_maxima(&j, j.tasks, mx);
}

static int finish_inplace(regnn_optimizer *o, const uint32_t *mx, uint32_t *p_max)
{
    const int ok = commit_maxima(o, mx, p_max);
    /* Plain SGD leaves the velocity alone, so its maximum stays valid. */
    if (uses_state(o))
        o->bounds_known = ok;
    o->lr_now = rg_schedule_lr(&o->sched, o->steps, o->lr);
    o->steps++;
    return ok;
}

int rg_optimizer_step_inplace(regnn_optimizer *o, float *restrict p, const float *restrict g,
                              size_t n, uint32_t *p_max, rg_pool *pool, const rg_plan *plan)
{
    uint32_t mx[3];
    run_update(o, p, NULL, NULL, g, n, pool, plan, mx);
    return finish_inplace(o, mx, p_max);
}

void rg_optimizer_update_begin(const regnn_optimizer *o, rg_update *u, float *p, const float *g,
                               size_t n)
{
    u->o = o;
    u->k = step_constants(o, o->steps + 1);
    u->p = p;
    u->pin = NULL;
    u->out = NULL;
    u->g = g;
    u->n = n;
    u->chunk = n;
    u->plan = NULL;
    u->tasks = 0;
}

void rg_optimizer_update_plan(rg_update *u, const rg_plan *plan, size_t tasks)
{
    u->plan = plan;
    u->tasks = tasks;
    for (size_t t = 0; t < tasks; t++)
        u->mx[t][0] = u->mx[t][1] = u->mx[t][2] = 0;
}

void rg_optimizer_update_task(rg_update *u, size_t t) { opt_task(u, t); }

void rg_optimizer_update_range(rg_update *u, size_t t, size_t i0, size_t len)
{
    uint32_t r[3] = {0, 0, 0};
    if (len)
        opt_range(u, i0, len, r);
    for (int c = 0; c < 3; c++)
        u->mx[t][c] = max_u32(u->mx[t][c], r[c]);
}

int rg_optimizer_update_end(regnn_optimizer *o, rg_update *u, uint32_t *p_max)
{
    uint32_t mx[3];
    combine_maxima(u, u->tasks, mx);
    return finish_inplace(o, mx, p_max);
}

int rg_optimizer_step_into(regnn_optimizer *o, const float *restrict p, float *restrict p_out,
                           const float *restrict g, size_t n, uint32_t *p_max, rg_pool *pool,
                           const rg_plan *plan)
{
    uint32_t mx[3];
    const uint32_t keep_m = o->m_max, keep_v = o->v_max;
    run_update(o, NULL, p, p_out, g, n, pool, plan, mx);
    uint32_t pm;
    if (!commit_maxima(o, mx, &pm)) {
        o->m_max = keep_m;
        o->v_max = keep_v;
        return 0;
    }
    *p_max = pm;
    if (uses_state(o)) {
        float *t = o->m;
        o->m = o->m2;
        o->m2 = t;
        t = o->v;
        o->v = o->v2;
        o->v2 = t;
        o->bounds_known = 1;
    }
    o->lr_now = rg_schedule_lr(&o->sched, o->steps, o->lr);
    o->steps++;
    return 1;
}

RG_SIMD_CLONES
static uint32_t max_abs_bits(const float *restrict x, size_t n)
{
    uint32_t a = 0;
    for (size_t i = 0; i < n; i++)
        a = max_u32(a, abs_bits(x[i]));
    return a;
}

int rg_optimizer_step_is_safe(const regnn_optimizer *o, uint32_t p_max, const float *g, size_t n)
{
    if (uses_state(o) && !o->bounds_known)
        return 0;
    const uint32_t gb = max_abs_bits(g, n);
    if (gb >= RG_NONFINITE_BITS || p_max >= RG_NONFINITE_BITS)
        return 0;
    /* Every intermediate of the update is bounded by sums and products of these
     * maxima (m and v are convex combinations, the decay factor 1 - lr*wd is in
     * [0, 1]); keeping the bound below FLT_MAX / 8 leaves room for rounding. */
    const double lim = FLT_MAX / 8.0;
    const double P = bits_float(p_max), G = bits_float(gb);
    const double M = bits_float(o->m_max), V = bits_float(o->v_max);
    const step_k k = step_constants(o, o->steps + 1);
    if (o->kind == REGNN_OPTIM_ADAM) {
        /* m / (sqrt(v) + eps) <= |m| / eps: needs a normal eps (a subnormal one
         * may be read as 0 when the host flushes subnormals). */
        if (!(k.eps >= FLT_MIN) || G > 1e18)
            return 0;
        const double mm = 2.0 * M + G;
        return mm <= lim && V + G * G <= lim && P + (double)k.alpha * mm / (double)k.eps <= lim;
    }
    if (o->momentum > 0.0) {
        const double vel = M + (double)k.lr * G;
        return vel <= lim && P + vel + 2.0 * (double)k.lr * G <= lim;
    }
    return P + (double)k.lr * G <= lim;
}

/* ---- what training asks of the optimizer (fit.c, path.c) ---- */

int rg_optimizer_busy(const regnn_optimizer *o) { return o->busy; }

void rg_optimizer_set_busy(regnn_optimizer *o, int busy) { o->busy = busy; }

int rg_optimizer_has_schedule(const regnn_optimizer *o)
{
    return o->sched.kind != REGNN_SCHEDULE_CONSTANT;
}

double rg_optimizer_lr(const regnn_optimizer *o) { return o->lr; }

void rg_optimizer_set_lr(regnn_optimizer *o, double lr) { o->lr = lr; }

double rg_optimizer_lr_now(const regnn_optimizer *o) { return o->lr_now; }

void rg_optimizer_forget_bounds(regnn_optimizer *o) { o->bounds_known = 0; }

regnn_status rg_optimizer_like(const regnn_optimizer *t, regnn_optimizer **out)
{
    regnn_status st = regnn_optimizer_create(t ? t->kind : REGNN_OPTIM_ADAM, out);
    if (st != REGNN_OK || !t)
        return st;
    regnn_optimizer *o = *out;
    o->lr = t->lr;
    o->beta1 = t->beta1;
    o->beta2 = t->beta2;
    o->eps = t->eps;
    o->wd = t->wd;
    o->momentum = t->momentum;
    o->nesterov = t->nesterov;
    o->lr_now = t->lr;
    if (t->sched.kind != REGNN_SCHEDULE_CONSTANT) {
        st = regnn_optimizer_set_schedule(o, t->sched.kind, t->sched.p, t->sched.n);
        if (st != REGNN_OK) {
            regnn_optimizer_free(o);
            *out = NULL;
        }
    }
    return st;
}

regnn_status rg_optimizer_snapshot(const regnn_optimizer *o, rg_optimizer_snap *s)
{
    memset(s, 0, sizeof *s);
    s->bound = o->n != 0;
    if (s->bound) {
        s->m = rg_malloc(o->n * sizeof *s->m);
        if (s->m && o->v)
            s->v = rg_malloc(o->n * sizeof *s->v);
        if (!s->m || (o->v && !s->v)) {
            rg_optimizer_snapshot_free(s);
            return REGNN_E_NOMEM;
        }
        memcpy(s->m, o->m, o->n * sizeof *s->m);
        if (o->v)
            memcpy(s->v, o->v, o->n * sizeof *s->v);
    }
    s->steps = o->steps;
    s->lr = o->lr;
    s->lr_now = o->lr_now;
    return REGNN_OK;
}

void rg_optimizer_restore(regnn_optimizer *o, rg_optimizer_snap *s)
{
    if (s->bound) {
        memcpy(o->m, s->m, o->n * sizeof *o->m);
        if (o->v)
            memcpy(o->v, s->v, o->n * sizeof *o->v);
    } else {
        rg_optimizer_unbind(o);
    }
    o->steps = s->steps;
    o->lr = s->lr;
    o->lr_now = s->lr_now;
    o->bounds_known = 0;
    rg_optimizer_snapshot_free(s);
}

void rg_optimizer_snapshot_free(rg_optimizer_snap *s)
{
    rg_free(s->m);
    rg_free(s->v);
    s->m = s->v = NULL;
}

rg_optimizer_settings rg_optimizer_get_settings(const regnn_optimizer *o)
{
    rg_optimizer_settings s = {o->kind, o->lr,  o->beta1,    o->beta2,   o->eps,
                               o->wd,   o->momentum, o->nesterov, o->steps};
    return s;
}

void rg_optimizer_set_settings(regnn_optimizer *o, const rg_optimizer_settings *s)
{
    o->kind = s->kind;
    o->lr = s->lr;
    o->beta1 = s->beta1;
    o->beta2 = s->beta2;
    o->eps = s->eps;
    o->wd = s->wd;
    o->momentum = s->momentum;
    o->nesterov = s->nesterov;
    o->steps = s->steps;
}

void rg_optimizer_sync_lr_now(regnn_optimizer *o)
{
    o->lr_now = rg_schedule_lr(&o->sched, o->steps ? o->steps - 1 : 0, o->lr);
}

const rg_schedule *rg_optimizer_schedule(const regnn_optimizer *o) { return &o->sched; }

double rg_optimizer_peak_lr(const regnn_optimizer *o)
{
    return fmax(o->lr, rg_schedule_peak(o->sched.kind, o->sched.p, NULL, o->sched.n, 0.0));
}

size_t rg_optimizer_state(const regnn_optimizer *o, const float **m, const float **v)
{
    *m = o->m;
    *v = o->v;
    return o->n;
}
