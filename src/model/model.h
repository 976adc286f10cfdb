/* SPDX-License-Identifier: MIT */
/* Private declarations of the model layer: the model handle, dense layers and the step engine.
 * Included only by the files of src/model/ and the layers above (docs/architecture.md). */
#ifndef REGNN_MODEL_H
#define REGNN_MODEL_H

#include "../optim/optim.h"

/* ---- model (the files of src/model; its structs are in model_impl.h) ---- */
/* Dense kernels (dense.c) */
/* The activations' constants: Keras' ELU alpha, SELU alpha and scale, and
 * leaky_relu's negative_slope (Keras 3's default). */
#define RG_ELU_ALPHA 1.0
#define RG_SELU_ALPHA 1.6732632423543772848170429916717
#define RG_SELU_SCALE 1.0507009873554804934193349852946
#define RG_LEAKY_SLOPE 0.2
#define RG_ACT_COUNT 10 /* REGNN_ACT_* are 0 .. RG_ACT_COUNT - 1 */
/* An activation: forward sets o[j] = act(o[j] + b[j]); backward sets
 * delta[i] *= act'(z[i]) from a = act(z) and, when needs_z, from z itself
 * (otherwise z may be NULL); NULL for linear.
 * |act(z)| <= max(gain * |z| + offset, 1). */
typedef struct rg_act_def {
    const char *name;
    void (*forward)(float *restrict o, const float *restrict b, size_t n);
    void (*backward)(const float *restrict a, const float *restrict z, float *restrict delta,
                     size_t n);
    int needs_z;
    double gain, offset;
} rg_act_def;
/* The activation act, or NULL when act is no REGNN_ACT_*. */
const rg_act_def *rg_act(int act);
const char *rg_act_name(int act);
/* out = act(in * W + b), one fused pass after each piece of the GEMM; pre
 * (NULL, or as out) receives in * W + b when the derivative needs it. */
void rg_dense_forward(const struct regnn_layer *l, const float *params, const float *in,
                      size_t rows, float *out, float *pre);
/* The product in * W of a layer, unplanned (rg_gemm_plan next). */
void rg_dense_gemm(rg_gemm *g, const struct regnn_layer *l, const float *params, const float *in,
                   size_t rows, float *out);
/* out += bias, then the activation, on rows [r0, r1) x columns [c0, c1) of
 * out; pre as for rg_dense_forward. */
void rg_dense_bias_act(const struct regnn_layer *l, const float *params, float *out, float *pre,
                       size_t r0, size_t r1, size_t c0, size_t c1);
/* In place: delta *= act'(z) from a = act(z) and z (NULL unless needs_z). */
void rg_dense_act_backward(int act, const float *a, const float *z, float *delta, size_t n);
/* Penalty L2*sum(w^2) + L1*sum|w| of one layer's kernel, plus its bias penalty. */
double rg_dense_penalty(const struct regnn_layer *l, const float *params);
/* The activity penalty (Keras activity_regularizer) of rows [r0, r1) of a
 * layer's output act (batch x units): ACTIVITY_L2*sum(a^2) + ACTIVITY_L1*sum|a|,
 * summed in double, rows then units in order. Its gradient added to n
 * elements of delta (the gradient with respect to act), each on its own. */
double rg_dense_activity(const struct regnn_layer *l, const float *act, size_t r0, size_t r1);
void rg_dense_activity_grad(const struct regnn_layer *l, const float *act, float *delta, size_t n);
/* NULL when a layer may hold these constraint settings together, else why
 * not (one kind per layer; MIN_NORM <= MAX_NORM). */
const char *rg_layer_constraint_problem(double max_norm, double min_norm, double non_neg,
                                        double unit_norm);
/* Whether the layer has a kernel constraint; apply it to params' kernel
 * (Keras's formula, docs/api.md), column by column in a fixed order. */
int rg_dense_constrained(const struct regnn_layer *l);
void rg_dense_constrain(const struct regnn_layer *l, float *params);
/* Bias penalty BIAS_L2*sum(b^2) + BIAS_L1*sum|b| of one layer, summed in
 * double over the units in order. */
double rg_dense_bias_penalty(const struct regnn_layer *l, const float *params);
/* grads' bias columns [c0, c1) += 2*BIAS_L2*b + BIAS_L1*sign(b), each
 * element on its own (float), so any cut gives the same bits. */
void rg_dense_bias_grad(const struct regnn_layer *l, const float *params, float *grads, size_t c0,
                        size_t c1);

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
typedef struct rg_bn_dp rg_bn_dp; /* bn_dp.c, below */
/* Forward (training mode when train != 0: dropout on) + MSE/MAE + backward
 * into m->grads (penalty gradient included). Returns data mse, mae and penalty. */
/* The gradient of `rows` rows of a batch of total_rows (the loss's scale),
 * starting at its row `first` (the masks and noise drawn for the whole batch,
 * these rows' kept, as rg_model_fit_step draws them), into m->grads, with the penalty gradient if `penalty` (its value into
 * *pen), and the loss sums (loss, squared and absolute errors) from 0 in the
 * step's order: a part of a data-parallel step (rows 0: the gradient is -0,
 * which adds nothing to a sum, and sums are untouched). Without the penalty,
 * rg_model_add_penalty then adds it as a sharded step does (last) and returns
 * the penalty. *pen also gets the rows' activity penalty (added after the
 * weights' when penalty is set, alone otherwise) when a layer has one.
 * bn: see rg_bn_dp_new. */
int rg_model_step_sums(regnn_model *m, const float *x, const float *y, const float *wt,
                       size_t first, size_t rows, size_t total_rows, int train, int penalty,
                       double sums[3], double *pen, rg_bn_dp *bn);
/* BatchNormalization in a data-parallel step (bn_dp.c): the statistics of
 * the whole batch from every process's rows. fn replaces the n floats of buf
 * (n: the parameter count) by their sums over the processes in a fixed
 * order, non-zero when it failed; each process fills its rows and leaves
 * -0 elsewhere, which adds nothing. rg_bn_dp_new: NULL when out of memory
 * (the buffers of batch rows). rg_model_step_sums with bn (training only)
 * gathers each BatchNormalization layer's input, and its output gradient
 * for the layer's input gradient; it returns non-zero when fn failed (the
 * step's values are then unusable). */
typedef int (*rg_gather_fn)(void *ctx, float *buf, size_t n);
rg_bn_dp *rg_bn_dp_new(const regnn_model *m, size_t batch, rg_gather_fn fn, void *ctx);
void rg_bn_dp_free(rg_bn_dp *g);
/* The BatchNormalization layers' moving statistics after a step's update. */
void rg_model_commit_stats(regnn_model *m);
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
/* Threads a fit of m in batches of `batch` rows runs on: its setting, with 0
 * resolved by m's shapes and the batch (rg_threads_resolve). */
size_t rg_model_resolved_threads(const regnn_model *m, size_t batch);
/* What training asks of the model (model.c). The busy flag: inside
 * regnn_fit. The first layer that draws per row (dropout, GaussianNoise,
 * GaussianDropout), or the layer count. Whether the
 * workspace holds `rows` rows. The scratch rows of an evaluation of `rows`
 * rows at a time. */
int rg_model_busy(const regnn_model *m);
void rg_model_set_busy(regnn_model *m, int busy);
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
/* Copy the parameters out, or in (which forgets their bound), each followed
 * by the BatchNormalization layers' moving statistics: rg_model_saved_count
 * floats. The first BatchNormalization layer, or the layer count. A
 * BatchNormalization layer's moving statistics (a file's). */
size_t rg_model_saved_count(const regnn_model *m);
size_t rg_model_first_batch_norm(const regnn_model *m);
void rg_layer_set_moving(regnn_layer *l, const float *mean, const float *variance);
const float *rg_layer_moving(const regnn_layer *l);
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
 * output is at most gain * P * (n_in * (its input bound) + 1) + offset, its
 * activation's gain and offset. */
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

/* What the layers above read and set (model.c). Layer i of m (i below its
 * layer count); the parameters (regnn_model_param_count of them); a layer's
 * parameters, kernel rows then bias; a layer's REGNN_LAYER_L2, _L1 or
 * _DROPOUT (0 for any other key); the random stream, and setting it; the
 * loss, set without checks (the caller checked kind and param); the attached
 * scaler or NULL, and attaching sc, which m then owns and frees. */
const regnn_layer *rg_model_layer_at(const regnn_model *m, size_t i);
const float *rg_model_params(const regnn_model *m);
const float *rg_layer_params(const regnn_layer *l);
double rg_layer_value(const regnn_layer *l, int key);
/* NULL when value is in the range of a noise layer of that REGNN_LAYERTYPE_*,
 * else what the range is ("stddev must be in [0, 1]"). */
const char *rg_layer_value_range(int type, double value);
/* A path's sweep: the stddev or rate of noise layer i of a model without
 * parameters yet, value in its range (rg_layer_value_range). */
void rg_model_set_noise(regnn_model *m, size_t i, double value);
const rg_rng *rg_model_rng(const regnn_model *m);
void rg_model_set_rng(regnn_model *m, const rg_rng *r);
void rg_model_set_loss_checked(regnn_model *m, int kind, double param);
const regnn_scaler *rg_model_scaler(const regnn_model *m);
void rg_model_adopt_scaler(regnn_model *m, regnn_scaler *sc);

#endif
