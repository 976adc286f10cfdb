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
    double rho, iacc; /* RMSprop's rho, Adagrad's initial accumulator */
    const rg_optim_kind *k; /* the kind's table entry (kinds.c) */
    size_t n;     /* bound parameter count; 0 = unbound */
    float *m, *v; /* state buffers 0 and 1 of the kind (v NULL with one) */
    float *m2, *v2; /* spares rg_optimizer_step_into writes; swapped in when it succeeds */
    uint32_t m_max, v_max; /* largest |m|, |v| (float bits) the last step wrote ... */
    int bounds_known;      /* ... valid only while set: any other write clears it */
    int busy;     /* inside regnn_fit: reset (which frees the moments) is refused */
    rg_schedule sched; /* learning-rate schedule; kind CONSTANT = lr every step */
    double lr_now;     /* the learning rate of the last step (lr before any) */
};

/* The options table's kind for an optimizer kind (a known one). */
static int option_kind(int kind) { return rg_optim_kind_of(kind)->option; }

regnn_status regnn_optimizer_create(int kind, regnn_optimizer **out)
{
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_optimizer_create: out is NULL");
    *out = NULL;
    const rg_optim_kind *ok = rg_optim_kind_of(kind);
    if (!ok)
        return rg_error(REGNN_E_UNSUPPORTED,
                        "regnn_optimizer_create: unknown kind %d (REGNN_OPTIM_ADAM .. "
                        "REGNN_OPTIM_NADAM are 1..6)",
                        kind);
    regnn_optimizer *o = rg_calloc(1, sizeof *o);
    if (!o)
        return rg_error(REGNN_E_NOMEM, "regnn_optimizer_create: out of memory");
    o->kind = kind;
    o->k = ok;
    const int k = ok->option; /* the defaults from the options table */
    o->lr = rg_option_default(k, REGNN_OPT_LEARNING_RATE);
    o->beta1 = rg_option_default(k, REGNN_OPT_BETA1);
    o->beta2 = rg_option_default(k, REGNN_OPT_BETA2);
    o->eps = rg_option_default(k, REGNN_OPT_EPSILON);
    o->rho = rg_option_default(k, REGNN_OPT_RHO);
    o->iacc = rg_option_default(k, REGNN_OPT_INITIAL_ACCUMULATOR);
    o->lr_now = o->lr;
    *out = o;
    return REGNN_OK;
}

void regnn_optimizer_free(regnn_optimizer *o)
{
    if (!o)
        return;
    rg_optimizer_unbind(o);
    rg_free(o->sched.p);
    rg_free(o);
}

int regnn_optimizer_kind(const regnn_optimizer *o) { return o ? o->kind : -1; }

/* 1: the key applies to the kind (the options table has it in the kind's
 * group); 0: it is another kind's; -1: no such key. */
static int key_applies(int kind, int key)
{
    if (key < REGNN_OPT_LEARNING_RATE || key > REGNN_OPT_INITIAL_ACCUMULATOR)
        return -1;
    return regnn_option_name(option_kind(kind), key) != NULL;
}

/* k < 0: no such key; k == 0: the key belongs to another kind. */
static regnn_status key_error(const char *fn, int kind, int key, int k)
{
    if (k < 0)
        return rg_error(REGNN_E_UNSUPPORTED,
                        "%s: unknown key %d (REGNN_OPT_LEARNING_RATE .. "
                        "REGNN_OPT_INITIAL_ACCUMULATOR are 1..9)",
                        fn, key);
    const rg_optim_kind *owner = NULL;
    for (size_t i = 0; !owner && rg_optim_kind_at(i); i++)
        if (key_applies(rg_optim_kind_at(i)->kind, key) == 1)
            owner = rg_optim_kind_at(i);
    if (!owner) /* every key in range belongs to a kind */
        return rg_error(REGNN_E_UNSUPPORTED, "%s: key %d does not apply", fn, key);
    return rg_error(REGNN_E_UNSUPPORTED, "%s: %s does not apply to %s (it is %s's)", fn,
                    regnn_option_name(owner->option, key), rg_optim_kind_of(kind)->name,
                    owner->name);
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
    static const int keys[] = {REGNN_OPT_LEARNING_RATE, REGNN_OPT_BETA1,  REGNN_OPT_BETA2,
                               REGNN_OPT_EPSILON,       REGNN_OPT_WEIGHT_DECAY, REGNN_OPT_MOMENTUM,
                               REGNN_OPT_RHO,           REGNN_OPT_INITIAL_ACCUMULATOR};
    const double vals[] = {o->lr, o->beta1, o->beta2, o->eps, o->wd, o->momentum, o->rho, o->iacc};
    if (!rg_optim_kind_of(o->kind)) {
        snprintf(buf, len, "unknown optimizer kind %d", o->kind);
        return buf;
    }
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
    case REGNN_OPT_RHO: o->rho = v; break;
    case REGNN_OPT_INITIAL_ACCUMULATOR: o->iacc = v; break;
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
    case REGNN_OPT_RHO: *v = o->rho; break;
    case REGNN_OPT_INITIAL_ACCUMULATOR: *v = o->iacc; break;
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
        return rg_error(kind < REGNN_SCHEDULE_CONSTANT || kind > REGNN_SCHEDULE_COSINE_RESTARTS
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
    const int two = o->k->buffers == 2;
    float *m = rg_calloc_aligned(n, sizeof *m, RG_LINE);
    float *v = two ? rg_calloc_aligned(n, sizeof *v, RG_LINE) : NULL;
    if (!m || (two && !v)) {
        rg_free_aligned(m);
        rg_free_aligned(v);
        return rg_error(REGNN_E_NOMEM, "out of memory for optimizer state (%zu parameters)", n);
    }
    if (o->k->init_iacc) /* Keras's initial_accumulator_value */
        for (size_t i = 0; i < n; i++)
            m[i] = (float)o->iacc;
    o->m = m;
    o->v = v;
    o->n = n;
    o->bounds_known = 0;
    return REGNN_OK;
}

regnn_status rg_optimizer_reserve_spares(regnn_optimizer *o)
{
    const int adam = o->k->buffers == 2;
    if (o->m2 && (!adam || o->v2))
        return REGNN_OK;
    float *m2 = o->m2 ? o->m2 : rg_calloc_aligned(o->n, sizeof *m2, RG_LINE);
    float *v2 = !adam || o->v2 ? o->v2 : rg_calloc_aligned(o->n, sizeof *v2, RG_LINE);
    o->m2 = m2;
    o->v2 = v2;
    if (!m2 || (adam && !v2))
        return rg_error(REGNN_E_NOMEM, "out of memory for optimizer state (%zu parameters)", o->n);
    return REGNN_OK;
}

void rg_optimizer_buffers(const regnn_optimizer *o, const float *b[4])
{
    b[0] = o->m;
    b[1] = o->v;
    b[2] = o->m2;
    b[3] = o->v2;
}

/* The buffer index of REGNN_STATE_* which for o's kind, or -1. */
static int state_index(const regnn_optimizer *o, int which)
{
    for (int b = 0; b < o->k->buffers; b++)
        if (which == o->k->state[b])
            return b;
    return -1;
}

static float *state_ptr(const regnn_optimizer *o, int which)
{
    const int b = state_index(o, which);
    return b == 0 ? o->m : b == 1 ? o->v : NULL;
}

static int state_known(const regnn_optimizer *o, int which) { return state_index(o, which) >= 0; }

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
    if (o->k->nonneg >> state_index(o, which) & 1u)
        for (size_t i = 0; i < len; i++)
            if (buf[i] < 0.0f)
                return rg_error(REGNN_E_INVALID_ARG,
                                "regnn_optimizer_set_state: %s's state %d holds squares or "
                                "magnitudes: its values must be >= 0",
                                o->k->name, which);
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
    rg_free_aligned(o->m);
    rg_free_aligned(o->v);
    rg_free_aligned(o->m2);
    rg_free_aligned(o->v2);
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

typedef rg_step_k step_k;

/* Whether the update uses the state buffers (not SGD without momentum). */
static int uses_state(const regnn_optimizer *o)
{
    return o->kind != REGNN_OPTIM_SGD || o->momentum > 0.0;
}

static step_k step_constants(const regnn_optimizer *o, uint64_t t)
{
    /* Keras evaluates the schedule at optimizer.iterations: t - 1. */
    const double lr = rg_schedule_lr(&o->sched, t - 1, o->lr);
    step_k k;
    memset(&k, 0, sizeof k);
    k.decay = o->wd > 0.0;
    k.f = (float)(lr * o->wd);
    const rg_optimizer_settings s = rg_optimizer_get_settings(o);
    o->k->constants(&s, lr, t, &k);
    return k;
}

/* Keep the maxima of a finished step: the parameters' for the caller, the
 * state's in the optimizer. 1 when every value written is finite. */
static int commit_maxima(regnn_optimizer *o, const uint32_t *mx, uint32_t *p_max)
{
    int st = uses_state(o);
    const int two = o->k->buffers == 2;
    int ok = mx[0] < RG_NONFINITE_BITS && (!st || mx[1] < RG_NONFINITE_BITS) &&
             (!two || mx[2] < RG_NONFINITE_BITS);
    *p_max = mx[0];
    if (st) {
        o->m_max = mx[1];
        o->v_max = two ? mx[2] : 0;
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
    const int two = o->k->buffers == 2;
    float *s1 = two ? o->v + i0 : NULL;
    if (!j->out)
        o->k->inplace(j->p + i0, g, o->m + i0, s1, len, j->k, mx);
    else
        o->k->into(j->pin + i0, j->out + i0, g, o->m + i0, o->m2 + i0, s1,
                   two ? o->v2 + i0 : NULL, len, j->k, mx);
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
            mx[c] = rg_max_u32(mx[c], j->mx[t][c]);
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
        u->mx[t][c] = rg_max_u32(u->mx[t][c], r[c]);
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
        a = rg_max_u32(a, rg_abs_bits(x[i]));
    return a;
}

int rg_optimizer_step_is_safe(const regnn_optimizer *o, uint32_t p_max, const float *g, size_t n)
{
    if (uses_state(o) && !o->bounds_known)
        return 0;
    const uint32_t gb = max_abs_bits(g, n);
    if (gb >= RG_NONFINITE_BITS || p_max >= RG_NONFINITE_BITS)
        return 0;
    /* Keeping every bound below FLT_MAX / 8 leaves room for rounding. */
    const double lim = FLT_MAX / 8.0;
    const double P = rg_bits_float(p_max), G = rg_bits_float(gb);
    const double M = rg_bits_float(o->m_max), V = rg_bits_float(o->v_max);
    const step_k k = step_constants(o, o->steps + 1);
    return o->k->safe(&k, P, G, M, V, lim);
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
    o->rho = t->rho;
    o->iacc = t->iacc;
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
    rg_optimizer_settings s = {o->kind, o->lr,       o->beta1,    o->beta2, o->eps, o->wd,
                               o->momentum, o->nesterov, o->steps, o->rho, o->iacc};
    return s;
}

void rg_optimizer_set_settings(regnn_optimizer *o, const rg_optimizer_settings *s)
{
    o->kind = s->kind;
    o->k = rg_optim_kind_of(s->kind);
    o->lr = s->lr;
    o->beta1 = s->beta1;
    o->beta2 = s->beta2;
    o->eps = s->eps;
    o->wd = s->wd;
    o->momentum = s->momentum;
    o->nesterov = s->nesterov;
    o->steps = s->steps;
    o->rho = s->rho;
    o->iacc = s->iacc;
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
