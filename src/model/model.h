/* SPDX-License-Identifier: MIT */
/* Private declarations of the model layer: the model handle, dense layers and the step engine.
 * Included only by the files of src/model/ and the layers above (docs/architecture.md). */
#ifndef REGNN_MODEL_H
#define REGNN_MODEL_H

#include "../optim/optim.h"

/* ---- model (model.c, dense.c, model_loss.c, model_scaler.c) ---- */
typedef struct rg_layer_ws {
    float *act;  /* batch x units: output after activation (before dropout) */
    float *out;  /* batch x units: after dropout (== act when no dropout) */
    float *mask; /* batch x units: dropout multipliers, or NULL */
    float *delta;/* batch x units: d loss / d pre-activation */
} rg_layer_ws;

struct regnn_layer {
    struct regnn_model *model;
    size_t index;
    size_t n_in, units;
    int act;
    double l2, l1, dropout;
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
    double *ws_pen; /* one penalty partial sum per kernel row, all layers */
    float *ws_shard; /* shard gradients of a sharded step on threads, each n_params */
    size_t ws_shards; /* how many ws_shard holds */
    rg_plan own;      /* the threads' parameter ranges by layer rows (threads >= 2) */
    rg_plan flat;     /* the same in contiguous chunks, for sharded steps */
    const rg_plan *plan; /* the one the last step used, for the optimizer */
    size_t threads; /* regnn_model_set_threads: 0 = one per usable CPU */
    size_t threads_resolved; /* threads with 0 resolved at the first training call; 0 = not yet */
    rg_pool *pool;  /* started by rg_model_reserve when threads resolve to 2 or more */
    regnn_scaler *scaler; /* attached statistics (owned, saved with the model), or NULL */
    int loss;          /* REGNN_LOSS_* */
    double loss_param; /* Huber delta, else 0 */
};

/* Dense kernels (dense.c) */
/* out = act(in * W + b), one fused pass after each piece of the GEMM. */
void rg_dense_forward(const struct regnn_layer *l, const float *params, const float *in,
                      size_t rows, float *out);
/* The product in * W of a layer, unplanned (rg_gemm_plan next). */
void rg_dense_gemm(rg_gemm *g, const struct regnn_layer *l, const float *params, const float *in,
                   size_t rows, float *out);
/* out += bias, then the activation, on rows [r0, r1) x columns [c0, c1) of out. */
void rg_dense_bias_act(const struct regnn_layer *l, const float *params, float *out, size_t r0,
                       size_t r1, size_t c0, size_t c1);
/* In place: delta *= act'(a) where a = act(z). */
void rg_dense_act_backward(int act, const float *a, float *delta, size_t n);
/* Kernel penalty L2*sum(w^2) + L1*sum|w| of one layer. */
double rg_dense_penalty(const struct regnn_layer *l, const float *params);
const char *rg_act_name(int act);

/* Model internals (model.c) */
regnn_status rg_model_check_ready(const regnn_model *m); /* layers and initialized */
/* The threads' parameter ranges for the optimizer, or NULL (one thread). */
const rg_plan *rg_model_plan(const regnn_model *m);
/* Make the training workspace hold batch rows; allocates only when it grows. */
regnn_status rg_model_reserve(regnn_model *m, size_t batch);
/* The buffer regnn_train_batch's out-of-place step writes (m->params_next). */
regnn_status rg_model_reserve_next(regnn_model *m);
/* Free the workspace and m->params_next. */
void rg_model_drop_workspace(regnn_model *m);
/* Forward (training mode when train != 0: dropout on) + MSE/MAE + backward
 * into m->grads (penalty gradient included). Returns data mse, mae and penalty. */
/* The gradient of `rows` rows of a batch of total_rows (the loss's scale)
 * into m->grads, with the penalty gradient if `penalty` (its value into
 * *pen), and the loss sums (loss, squared and absolute errors) from 0 in the
 * step's order: a part of a data-parallel step (rows 0: the gradient is -0,
 * which adds nothing to a sum, and sums are untouched). Without the penalty,
 * rg_model_add_penalty then adds it as a sharded step does (last) and returns
 * the penalty. */
void rg_model_step_sums(regnn_model *m, const float *x, const float *y, const float *wt,
                        size_t rows, size_t total_rows, int train, int penalty, double sums[3],
                        double *pen);
double rg_model_add_penalty(regnn_model *m);
/* The shards of a step of `rows` rows (model.c): their count, and their
 * bounds into bounds[0..count] if bounds is not NULL (at most 5 values). */
size_t rg_model_shards(const regnn_model *m, size_t rows, size_t *bounds);
regnn_status rg_model_step_grads(regnn_model *m, const float *x, const float *y, size_t rows,
                                 int train, double *mse, double *mae, double *penalty);
/* The same with sample weights w (NULL = all 1) and the model's loss: *loss
 * receives the data loss (penalty excluded). */
regnn_status rg_model_step_grads_w(regnn_model *m, const float *x, const float *y,
                                   const float *w, size_t rows, int train, double *loss,
                                   double *mse, double *mae, double *penalty);
double rg_model_penalty(const regnn_model *m);
/* mse/mae of rows, concurrency-safe without a pool (fit passes the model's
 * pool: the same bits, on its threads). scratch (may be NULL) holds
 * 2 * scratch_rows * rg_model_max_width(m) floats; without it, small models use
 * the stack and wide ones allocate per call. */
regnn_status rg_model_eval_rows(const regnn_model *m, const float *x, const float *y, size_t rows,
                                double *mse, double *mae, float *scratch, size_t scratch_rows,
                                rg_pool *pool);
/* Weighted evaluation (w NULL = all 1) into sums (zeroed first); pool as
 * rg_model_eval_rows. */
regnn_status rg_model_eval_sums(const regnn_model *m, const float *x, const float *y,
                                const float *w, size_t rows, rg_loss_sums *sums, float *scratch,
                                size_t scratch_rows, rg_pool *pool);
size_t rg_model_max_width(const regnn_model *m);
/* Threads a fit of m runs on: its setting, with 0 resolved (rg_threads_resolve). */
size_t rg_model_resolved_threads(const regnn_model *m);
/* What training asks of the model (model.c). The busy flag: inside
 * regnn_fit. The first layer with dropout, or the layer count. Whether the
 * workspace holds `rows` rows. The scratch rows of an evaluation of `rows`
 * rows at a time. */
int rg_model_busy(const regnn_model *m);
void rg_model_set_busy(regnn_model *m, int busy);
size_t rg_model_first_dropout(const regnn_model *m);
int rg_model_has_workspace(const regnn_model *m, size_t rows);
size_t rg_model_eval_chunk(size_t rows);
/* A Fisher-Yates permutation of 0..n-1 from the model's random stream. */
void rg_model_permutation(regnn_model *m, size_t *idx, size_t n);
/* rg_model_eval_sums on the model's own threads. */
regnn_status rg_model_eval_pooled(const regnn_model *m, const float *x, const float *y,
                                  const float *w, size_t rows, rg_loss_sums *sums, float *scratch,
                                  size_t scratch_rows);
/* Shard `index` of a step of `rows` rows: its rows [*lo, *lo + *len) (empty
 * past the last shard); returns the shard count (rg_model_shards). */
size_t rg_model_shard_part(const regnn_model *m, size_t rows, size_t index, size_t *lo,
                           size_t *len);
/* The gradient buffer (*n floats), to sum over the processes of a fit. */
float *rg_model_grads(regnn_model *m, size_t *n);
/* Copy the parameters out, or in (which forgets their bound). */
void rg_model_params_save(const regnn_model *m, float *to);
void rg_model_params_load(regnn_model *m, const float *from);
/* The model as a fit found it: parameters, random stream, and whether it
 * had a workspace for the fit's batch. rg_model_snapshot allocates
 * (REGNN_E_NOMEM without a message); rg_model_restore puts it all back,
 * rg_model_release only drops a workspace the model did not have; both, and
 * rg_model_snapshot_free, free the snapshot. */
typedef struct rg_model_snap {
    float *params;
    rg_rng rng;
    int had_ws;
} rg_model_snap;
regnn_status rg_model_snapshot(const regnn_model *m, size_t batch, rg_model_snap *s);
void rg_model_restore(regnn_model *m, rg_model_snap *s);
void rg_model_release(regnn_model *m, rg_model_snap *s);
void rg_model_snapshot_free(rg_model_snap *s);
/* Whether predictions on rows whose features are at most xmax in magnitude
 * are provably finite in float: with P the largest |parameter|, a layer's
 * output is at most P * (n_in * (its input bound) + 1). */
int rg_model_predictions_bounded(const regnn_model *m, double xmax);
/* Outcomes of a training step. */
enum {
    RG_STEP_OK = 0,
    RG_STEP_LOSS = 1,   /* the loss is not finite */
    RG_STEP_UPDATE = 2, /* the update would make parameters or state non-finite */
    RG_STEP_BROKEN = 3, /* an update proved finite was not */
    RG_STEP_EXCHANGE = 4 /* the exchange of a data-parallel step failed (rg_dp_step) */
};
/* o's update of the parameters with the gradient, in place: 1 when finite,
 * else 0 and the parameters and state hold the failed step (restore them). */
int rg_model_update(regnn_model *m, regnn_optimizer *o);
/* A fit's step on rows (workspace reserved, o bound): gradient, then the
 * update, run by the step's tasks when they can. out: data loss, mse, mae,
 * penalty. Not RG_STEP_OK: the model and o may hold a partial step (restore
 * them). */
int rg_model_fit_step(regnn_model *m, regnn_optimizer *o, const float *x, const float *y,
                      const float *w, size_t rows, double out[4]);
/* regnn_train_batch's step (also the spares and m's next buffer reserved):
 * in place when the bounds prove it finite, else out of place and swapped in
 * when finite. *loss: data loss + penalty. RG_STEP_LOSS or RG_STEP_UPDATE
 * leave the model and o unchanged. */
int rg_model_train_step(regnn_model *m, regnn_optimizer *o, const float *x, const float *y,
                        const float *w, size_t rows, double *loss);

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
/* plan.c: cut layer l's backward products (j->g1, j->g2) by owned rows. */
void rg_own_products(step_job *j, const regnn_layer *l, size_t nt);

#endif
