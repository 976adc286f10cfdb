/* SPDX-License-Identifier: MIT */
/* Private declarations of the optim layer: learning-rate schedules and optimizer state and updates.
 * Included only by the files of src/optim/ and the layers above (docs/architecture.md). */
#ifndef REGNN_OPTIM_H
#define REGNN_OPTIM_H

#include "../data/data.h"

#include <string.h>

/* ---- learning-rate schedules (schedule.c) ---- */
typedef struct rg_schedule {
    int kind;  /* REGNN_SCHEDULE_* */
    size_t n;  /* parameters, as given to regnn_optimizer_set_schedule */
    double *p; /* owned; NULL when n == 0 */
} rg_schedule;
#define RG_SCHEDULE_MAX_BOUNDARIES 65536
/* The learning rate at 0-based step `step` (the step count before the
 * update, as Keras passes optimizer.iterations); base_lr without a schedule. */
double rg_schedule_lr(const rg_schedule *s, uint64_t step, double base_lr);
/* Why parameters are refused, or NULL. They come as doubles p or, from a
 * file, as n little-endian binary64 in le (the other pointer NULL). wd > 0:
 * the largest learning rate times wd must be <= 1. */
const char *rg_schedule_check(int kind, const double *p, const unsigned char *le, size_t n,
                              double wd, char *buf, size_t len);
/* The largest learning rate of valid parameters (base_lr for CONSTANT). */
double rg_schedule_peak(int kind, const double *p, const unsigned char *le, size_t n,
                        double base_lr);

/* ---- optimizer (optimizer.c) ---- */
/* Bind to n parameters if unbound (allocates), else check n matches. */
regnn_status rg_optimizer_bind(regnn_optimizer *o, size_t n);
/* Free the state and zero the step count. */
void rg_optimizer_unbind(regnn_optimizer *o);
/* One update of parameters p with gradients g, in place: returns 1 when every
 * new parameter and state value is finite; 0 otherwise, and then p and the
 * state hold the non-finite step (the caller restores them). *p_max receives
 * the largest |parameter| written (as float bits). No allocation. */
/* Parameters per task of an update on `threads` threads: the pool's task t
 * updates [t*chunk, (t+1)*chunk). */
size_t rg_optimizer_chunk(size_t n, size_t threads);
/* With a plan (rg_plan, model.c) instead, task t updates the plan's ranges of
 * task t: the parameters whose gradient the same thread computed. */
int rg_optimizer_step_inplace(regnn_optimizer *o, float *p, const float *g, size_t n,
                              uint32_t *p_max, rg_pool *pool, const rg_plan *plan);
/* The same update written to p_out and the spare state buffers (see
 * rg_optimizer_reserve_spares): on success the state is swapped in and 1 is
 * returned; a non-finite step returns 0 and leaves the optimizer unchanged. */
int rg_optimizer_step_into(regnn_optimizer *o, const float *p, float *p_out, const float *g,
                           size_t n, uint32_t *p_max, rg_pool *pool, const rg_plan *plan);
/* An in-place update run by another job's tasks (model.c runs it inside the
 * step, on the ranges whose gradient each task just finished):
 * rg_optimizer_update_begin; rg_optimizer_update_plan (the plan and its task
 * count); then every range of the plan exactly once, each after its gradient
 * is final and when nothing else of the step reads its parameters: task t's
 * all at once (rg_optimizer_update_task) or piece by piece
 * (rg_optimizer_update_range, by task t); rg_optimizer_update_end finishes
 * the step as rg_optimizer_step_inplace does. Same bits as
 * rg_optimizer_step_inplace. */
typedef struct rg_step_k {
    float alpha, c1, c2, eps; /* Adam; Adamax alpha, c1; Nadam c1, c2, eps */
    float lr, mu;             /* SGD; RMSprop, Adagrad, Nadam lr */
    float f;                  /* decoupled decay: lr * wd */
    int decay, nesterov;
    float rho, c;             /* RMSprop: rho, 1 - rho */
    float a1, a2, bc2;        /* Nadam: the m and g coefficients of m_hat, 1 - beta2^t */
    float b2;                 /* Adamax: beta2 */
    int stateful;             /* the update reads and writes the state buffers */
} rg_step_k;
typedef struct rg_update {
    const regnn_optimizer *o;
    rg_step_k k;
    float *p;          /* in place */
    const float *pin;  /* out of place: read from pin, written to out */
    float *out;
    const float *g;
    size_t n, chunk;
    const rg_plan *plan; /* or chunks */
    size_t tasks;
    uint32_t mx[RG_MAX_THREADS][3];
} rg_update;
void rg_optimizer_update_begin(const regnn_optimizer *o, rg_update *u, float *p, const float *g,
                               size_t n);
void rg_optimizer_update_plan(rg_update *u, const rg_plan *plan, size_t tasks);
void rg_optimizer_update_task(rg_update *u, size_t t);
void rg_optimizer_update_range(rg_update *u, size_t t, size_t i0, size_t len);
int rg_optimizer_update_end(regnn_optimizer *o, rg_update *u, uint32_t *p_max);
/* 1 when the next update of parameters whose largest |value| is p_max (float
 * bits, as the steps report it) with gradients g is certain to stay finite, so
 * that it can run in place; reads g once. */
int rg_optimizer_step_is_safe(const regnn_optimizer *o, uint32_t p_max, const float *g, size_t n);
/* The state buffers and their spares (m, v, m2, v2; NULL where absent). */
void rg_optimizer_buffers(const regnn_optimizer *o, const float *b[4]);
/* Allocate the spare state buffers of rg_optimizer_step_into (bound optimizer). */
regnn_status rg_optimizer_reserve_spares(regnn_optimizer *o);
/* An optimizer's kind and hyperparameters and its step count, as a value
 * (what a model file stores and the settings fingerprint hashes). */
typedef struct rg_optimizer_settings {
    int kind;
    double lr, beta1, beta2, eps, wd, momentum;
    int nesterov;
    uint64_t steps;
    double rho, iacc; /* RMSprop's rho, Adagrad's initial_accumulator_value */
} rg_optimizer_settings;

/* A step records the largest magnitude of every value it writes, as the bits
 * of |x| (float order = integer order for non-negative floats). A NaN or Inf
 * has bits >= 0x7f800000, so the same maxima tell whether the step stayed
 * finite, and they bound the next step (rg_optimizer_step_is_safe). Unsigned
 * max reductions vectorize and change no value. */
#define RG_NONFINITE_BITS 0x7f800000u

static inline uint32_t rg_abs_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u & 0x7fffffffu;
}

/* |x| bits are below 2^31, so a signed compare orders them too; it vectorizes
 * with SSE2 alone (there is no unsigned max before SSE4.1). */
static inline uint32_t rg_max_u32(uint32_t a, uint32_t b)
{
    return (int32_t)a > (int32_t)b ? a : b;
}

static inline float rg_bits_float(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* ---- the kinds of optimizer (kinds.c): one entry each ---- */
/* The loops of one update over n parameters: the state buffers s0, s1 (NULL
 * when the kind has fewer) in place, or read from s0, s1 and written to s0o,
 * s1o with the parameters to po. mx receives the largest |p|, |s0|, |s1|
 * written (float bits). */
typedef void (*rg_update_inplace_fn)(float *restrict p, const float *restrict g,
                                     float *restrict s0, float *restrict s1, size_t n,
                                     rg_step_k k, uint32_t *restrict mx);
typedef void (*rg_update_into_fn)(const float *restrict p, float *restrict po,
                                  const float *restrict g, const float *restrict s0,
                                  float *restrict s0o, const float *restrict s1,
                                  float *restrict s1o, size_t n, rg_step_k k,
                                  uint32_t *restrict mx);
typedef struct rg_optim_kind {
    int kind;           /* REGNN_OPTIM_* */
    const char *name;   /* "Adam", as messages name it */
    int option;         /* REGNN_OPTION_*: its keys, ranges and defaults */
    int buffers;        /* state buffers of P floats each: 1 or 2 */
    int state[2];       /* the REGNN_STATE_* of buffer 0 and 1 */
    unsigned nonneg;    /* bit b: buffer b holds values >= 0 */
    int init_iacc;      /* buffer 0 starts at REGNN_OPT_INITIAL_ACCUMULATOR (else 0) */
    /* The constants of step t (1-based) at learning rate lr. */
    void (*constants)(const rg_optimizer_settings *s, double lr, uint64_t t, rg_step_k *k);
    rg_update_inplace_fn inplace;
    rg_update_into_fn into;
    /* 1 when the step with constants k keeps every value below lim, given the
     * largest |p|, |g|, |s0|, |s1| before it (a sufficient condition). */
    int (*safe)(const rg_step_k *k, double P, double G, double S0, double S1, double lim);
} rg_optim_kind;
/* The entry of kind REGNN_OPTIM_*, or NULL for an unknown kind. */
const rg_optim_kind *rg_optim_kind_of(int kind);
/* The entry at index i (0-based, in kind order), NULL past the last. */
const rg_optim_kind *rg_optim_kind_at(size_t i);
/* The first setting of s out of range (as the setters judge it) as a message, or NULL. */
const char *rg_optimizer_check(const rg_optimizer_settings *s, char *buf, size_t len);
/* What training asks of the optimizer (optimizer.c): the busy flag (inside
 * regnn_fit), whether it has a schedule, the base learning rate and the last
 * step's; forget the state bounds. */
int rg_optimizer_busy(const regnn_optimizer *o);
void rg_optimizer_set_busy(regnn_optimizer *o, int busy);
int rg_optimizer_has_schedule(const regnn_optimizer *o);
double rg_optimizer_lr(const regnn_optimizer *o);
void rg_optimizer_set_lr(regnn_optimizer *o, double lr);
double rg_optimizer_lr_now(const regnn_optimizer *o);
void rg_optimizer_forget_bounds(regnn_optimizer *o);
/* A new optimizer with t's kind, hyperparameters and schedule, no state (t
 * NULL: Adam's defaults). */
regnn_status rg_optimizer_like(const regnn_optimizer *t, regnn_optimizer **out);
/* The optimizer as a fit found it: its state (when bound), step count and
 * learning rates. rg_optimizer_snapshot allocates (REGNN_E_NOMEM without a
 * message); rg_optimizer_restore puts it back (unbinding an optimizer that
 * was unbound) and, as rg_optimizer_snapshot_free, frees the snapshot. */
typedef struct rg_optimizer_snap {
    float *m, *v;
    uint64_t steps;
    double lr, lr_now;
    int bound;
} rg_optimizer_snap;
regnn_status rg_optimizer_snapshot(const regnn_optimizer *o, rg_optimizer_snap *s);
void rg_optimizer_restore(regnn_optimizer *o, rg_optimizer_snap *s);
void rg_optimizer_snapshot_free(rg_optimizer_snap *s);

/* Read and write every setting at once; rg_optimizer_set_settings takes
 * values the caller checked (rg_optimizer_check) and leaves the state and
 * the last step's learning rate alone. */
rg_optimizer_settings rg_optimizer_get_settings(const regnn_optimizer *o);
void rg_optimizer_set_settings(regnn_optimizer *o, const rg_optimizer_settings *s);
/* The learning rate of the last step from the step count and the schedule
 * (an optimizer read from a file). */
void rg_optimizer_sync_lr_now(regnn_optimizer *o);
/* Its schedule (kind CONSTANT: none). */
const rg_schedule *rg_optimizer_schedule(const regnn_optimizer *o);
/* Its largest learning rate: the base rate or the schedule's peak. */
double rg_optimizer_peak_lr(const regnn_optimizer *o);
/* Its state: the bound parameter count (0: unbound) and the moments (Adam's
 * m and v, SGD's velocity in m and v NULL; NULL when unbound). */
size_t rg_optimizer_state(const regnn_optimizer *o, const float **m, const float **v);

#endif
