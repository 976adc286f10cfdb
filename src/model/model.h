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
 * step's order: a part of a data-parallel step. Without the penalty,
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
/* rg_model_step_grads_w (train, the model's loss) whose tasks also run upd,
 * an update begun in place (rg_optimizer_update_begin), when they own the
 * ranges they finish: returns 1 when they ran it (then the loss and penalty
 * are those before the update), 0 when the caller updates. */
struct rg_update;
int rg_model_step_update(regnn_model *m, const float *x, const float *y, const float *w,
                         size_t rows, double *loss, double *mse, double *mae, double *penalty,
                         struct rg_update *upd);
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

#endif
