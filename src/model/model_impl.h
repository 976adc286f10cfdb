/* SPDX-License-Identifier: MIT */
/* The model layer's own declarations: the model's and a layer's structs, the
 * training workspace and the step engine's internals. Included only by the
 * .c files of src/model/ (scripts/check-layers.sh); other layers go through
 * the functions of model.h. */
#ifndef REGNN_MODEL_IMPL_H
#define REGNN_MODEL_IMPL_H

#include "model.h"

typedef struct rg_layer_ws {
    float *act;  /* batch x units: output after activation (before dropout) */
    float *out;  /* batch x units: after dropout (== act when no dropout) */
    float *mask; /* batch x units: dropout multipliers (a noise layer's draws), or NULL */
    float *delta;/* batch x units: d loss / d pre-activation */
    float *pre;  /* batch x units: pre-activation, when the derivative needs it, or NULL */
    double *stats; /* BatchNormalization: the batch's mean, variance and 1/sqrt(var + eps) */
} rg_layer_ws;

struct regnn_layer {
    struct regnn_model *model;
    size_t index;
    size_t n_in, units;
    int type;     /* REGNN_LAYERTYPE_*; a noise layer keeps act LINEAR and no parameters */
    int act;
    double noise; /* GaussianNoise: stddev; GaussianDropout: rate; LN, BN: epsilon; 0 for dense */
    double momentum; /* BatchNormalization */
    float *moving;   /* BatchNormalization: moving mean then moving variance (2 * units) */
    double l2, l1, dropout;
    double bias_l2, bias_l1; /* the bias penalty (Keras bias_regularizer) */
    double max_norm, min_norm, norm_rate; /* kernel norm constraint: on when max_norm > 0 */
    double non_neg, unit_norm;            /* 0 or 1 */
    double act_l2, act_l1; /* the activity penalty (Keras activity_regularizer) */
    size_t offset; /* kernel start in model->params; bias follows at offset + n_in*units */
};

struct regnn_model {
    size_t n_in;
    size_t n_layers, cap_layers;
    struct regnn_layer **layers;
    size_t n_params;
    float *params; /* all parameters, contiguous */
    float *grads;  /* same layout */
    float *params_next; /* regnn_train_batch's out-of-place step writes here, then swaps */
    uint32_t params_max; /* largest |parameter| (float bits) the last step wrote ... */
    int params_max_known; /* ... valid only while set: any other write clears it */
    int initialized;
    int busy; /* inside regnn_fit: calls that would reallocate the workspace are refused */
    rg_rng rng;
    /* training workspace, sized for ws_batch rows */
    size_t ws_batch;
    rg_layer_ws *ws;
    float *ws_dx; /* batch x widest layer input: gradient w.r.t. a layer's input */
    double *ws_pen; /* per layer: one penalty partial sum per kernel row, then its bias penalty */
    float *ws_shard; /* shard gradients of a sharded step on threads, each n_params */
    size_t ws_shards; /* how many ws_shard holds */
    rg_plan own;      /* the threads' parameter ranges by layer rows (threads >= 2) */
    rg_plan flat;     /* the same in contiguous chunks, for sharded steps */
    const rg_plan *plan; /* the one the last step used, for the optimizer */
    size_t threads; /* regnn_model_set_threads: 0 = automatic (rg_threads_resolve) */
    size_t threads_resolved; /* threads with 0 resolved at the first training call; 0 = not yet */
    size_t threads_batch;    /* the batch threads_resolved was resolved for */
    rg_pool *pool;  /* started by rg_model_reserve when threads resolve to 2 or more */
    regnn_scaler *scaler; /* attached statistics (owned, saved with the model), or NULL */
    int loss;          /* REGNN_LOSS_* */
    double loss_param; /* Huber delta, else 0 */
};

/* Whether layer l has an activity penalty. */
#define RG_HAS_ACTIVITY(l) ((l)->act_l2 > 0.0 || (l)->act_l1 > 0.0)

/* ---- the step engine's internals (plan.c, workspace.c, step_task.c, step.c) ---- */
#define RG_SHARDS_MAX 4
/* plan.c: the two plans of m's threads; the shards of a step of `rows`
 * rows (their count, bounds); whether a step runs as shards, or on owned
 * rows (rg_own_products below cuts its products). */
void rg_flat_plan(regnn_model *m);
void rg_own_plan(regnn_model *m);
size_t rg_shard_plan(const regnn_model *m, size_t rows, size_t bounds[RG_SHARDS_MAX + 1]);
int rg_step_sharded(const regnn_model *m, size_t n_shards, size_t nt);
int rg_step_owned(const regnn_model *m, size_t rows, size_t n_shards, size_t nt);
/* workspace.c: free the per-layer buffers (rg_model_drop_workspace frees all). */
void rg_model_free_workspace(regnn_model *m);

/* ---- one training step as tasks ----
 * A step runs layer by layer; each layer is one job of independent tasks on
 * the model's pool: forward, the pieces of in * W with bias, activation and
 * dropout applied to each piece; backward, the pieces of the kernel gradient
 * (by kernel rows, with their rows' penalty gradient), the bias gradient by
 * columns, and the pieces of the input gradient with the lower layer's
 * dropout and activation derivative applied. Every value is computed by the
 * same operations in the same order whatever the number of pieces (gemm.c's
 * rule; the penalty is summed per kernel row, then rows in order; bias sums
 * run over rows in order), so the bits do not depend on the thread count.
 * Batches of up to RG_OWN_ROWS rows on several threads cut the backward
 * products of built-in layers by the kernel rows each thread owns instead
 * (rg_step_own_backward_task). Sharded batches on several threads run as shards
 * (plan.c).
 * Dropout masks are drawn before the step, in the order one thread would
 * draw them. */
typedef struct step_job {
    regnn_model *m;
    const float *x, *y, *wt;
    size_t rows, layer;
    int train;
    rg_gemm g1, g2;    /* forward: g1; backward: g1 = kernel gradient, g2 = input gradient */
    size_t n1, nb, n2; /* tasks: pieces of g1, bias column blocks, pieces of g2 */
    size_t bstep;      /* columns per bias block */
    size_t n_shards, shard[RG_SHARDS_MAX + 1];
    size_t total;  /* rows of the whole batch (the loss's scale) */
    int penalty;   /* add the penalty gradient (else the data gradient only) */
    rg_update *upd; /* the optimizer update the step's tasks run, or NULL */
    double sums[RG_SHARDS_MAX][3];
    double activity[RG_SHARDS_MAX]; /* each shard's activity penalty */
    rg_bn_dp *bn;  /* a data-parallel step's BatchNormalization gathers, or NULL */
    size_t first;  /* the step's first row in the batch of `total` */
} step_job;

/* step_task.c: the tasks a step runs on the pool (ctx: a step_job), the
 * loss's gradient at the top of shard s, the penalty of the rows' sums. */
void rg_step_forward_task(void *ctx, size_t t);
void rg_step_backward_task(void *ctx, size_t t);
void rg_step_own_backward_task(void *ctx, size_t t);
void rg_step_shard_task(void *ctx, size_t s);
void rg_step_reduce_task(void *ctx, size_t t);
void rg_step_top_delta(step_job *j, size_t s);
double rg_penalty_sum(const regnn_model *m);
/* A noise layer (GaussianNoise, GaussianDropout): no parameters, identity
 * in inference. */
static inline int rg_layer_is_noise(const regnn_layer *l)
{
    return l->type == REGNN_LAYERTYPE_GAUSSIAN_NOISE || l->type == REGNN_LAYERTYPE_GAUSSIAN_DROPOUT;
}
static inline int rg_layer_is_dense(const regnn_layer *l)
{
    return l->type == REGNN_LAYERTYPE_DENSE;
}
/* The rows of a layer's first parameter block as the plans cut it: a dense
 * layer's kernel rows, LayerNormalization's gamma (one row; beta is its
 * "bias"), none for a noise layer. */
static inline size_t rg_layer_kernel_rows(const regnn_layer *l)
{
    return rg_layer_is_dense(l) ? l->n_in : !rg_layer_is_noise(l);
}
static inline int rg_layer_is_bn(const regnn_layer *l)
{
    return l->type == REGNN_LAYERTYPE_BATCH_NORMALIZATION;
}
/* layernorm.c: BatchNormalization of the batch's `rows` rows of in into out
 * and x-hat into xhat: with the batch's statistics into stats when training,
 * else the moving ones; its backward over the whole batch (stats from the
 * forward; the moving ones when not training): the parameters' parts shard
 * by shard as LayerNormalization's, into g; the input gradient into dx when
 * not NULL. rg_bn_commit: the moving statistics after a step. */
void rg_bn_forward(const regnn_layer *l, const float *params, const float *in, size_t rows,
                   float *out, float *xhat, double *stats, int train);
void rg_bn_backward(const regnn_layer *l, const float *params, const float *xhat,
                    const float *dy, const double *stats, int train, size_t rows,
                    const size_t *shard, size_t n_shards, float *g, float *dx);
void rg_bn_commit(regnn_model *m);
/* layernorm.c, the same in parts: the batch statistics of `rows` rows of in
 * into stats (as rg_bn_forward's); `rows` rows normalized with stats into
 * out and xhat (either may be NULL); the input gradient of `rows` rows
 * (xhat, dy) into dx, with the sums over the `total` rows of the batch
 * (xhat_all, dy_all, in row order; xhat_all NULL: no batch statistics, the
 * moving ones). */
void rg_bn_stats(const regnn_layer *l, const float *in, size_t rows, double *stats);
void rg_bn_apply(const regnn_layer *l, const float *params, const double *stats, const float *in,
                 size_t rows, float *out, float *xhat);
void rg_bn_input_grad(const regnn_layer *l, const float *params, const double *stats,
                      const float *xhat_all, const float *dy_all, size_t total,
                      const float *xhat, const float *dy, size_t rows, float *dx);
/* bn_dp.c: a data-parallel step's BatchNormalization layer i on this
 * process's rows [first, first + rows) of a batch of `total`: the forward
 * with the whole batch's statistics (its input gathered from every process);
 * the backward (its output gradient gathered for the input gradient's sums).
 * rg_bn_dp_idle: a process without rows of the batch takes its part in the
 * same gathers and gets the same statistics. */
void rg_bn_dp_forward(rg_bn_dp *g, regnn_model *m, size_t i, const float *in, size_t first,
                      size_t rows, size_t total);
void rg_bn_dp_backward(rg_bn_dp *g, const step_job *j, size_t i);
void rg_bn_dp_idle(rg_bn_dp *g, regnn_model *m, size_t total);
/* A step's start (no failure yet), and whether an exchange of it failed. */
void rg_bn_dp_begin(rg_bn_dp *g);
int rg_bn_dp_failed(const rg_bn_dp *g);
/* layernorm.c: LayerNormalization of `rows` rows of in into out (x-hat into
 * xhat when not NULL); its backward on rows r0..r1 of the batch: gamma's and
 * beta's part (summed from +0 over the rows in order) stored into g (add 0)
 * or added to it (add 1), and the input gradient into dx when not NULL. */
void rg_ln_forward(const regnn_layer *l, const float *params, const float *in, size_t rows,
                   float *out, float *xhat);
void rg_ln_backward(const regnn_layer *l, const float *params, const float *in,
                    const float *xhat, const float *dy, size_t r0, size_t r1, float *g, int add,
                    float *dx);
/* noise.c: a noise layer's draws for `rows` rows into its mask (addends or
 * multipliers; the identity's when not training), in the order one thread
 * would draw them; its forward into ws.act on rows r0..r1 from `in` (the
 * whole batch's input); its backward, the lower layer's delta of rows
 * r0..r1 before that layer's own dropout and activation derivative. */
void rg_noise_draw(regnn_model *m, size_t layer, size_t first, size_t rows, size_t total,
                   int train);
void rg_noise_forward(const regnn_model *m, size_t layer, const float *in, size_t r0, size_t r1);
void rg_noise_backward(const regnn_model *m, size_t layer, size_t r0, size_t r1);
/* step_task.c: the lower layer's delta of rows r0..r1, columns c0..c1 once
 * layer's input gradient is in it: its dropout, its activation derivative. */
void rg_lower_delta(const regnn_model *m, size_t layer, size_t r0, size_t r1, size_t c0,
                    size_t c1);
/* Each layer's bias penalty into its ws_pen slot, before the step's update. */
void rg_step_bias_penalty(regnn_model *m);
/* plan.c: cut layer l's backward products (j->g1, j->g2) by owned rows. */
void rg_own_products(step_job *j, const regnn_layer *l, size_t nt);
/* plan.c: cut layer l's forward product g by output columns on owned rows. */
void rg_own_forward(rg_gemm *g, const regnn_layer *l, size_t nt);

#endif
