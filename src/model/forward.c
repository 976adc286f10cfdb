/* SPDX-License-Identifier: MIT */
/* The forward pass outside training: prediction, evaluation, their loss
 * sums, the penalty's value, and the bound on predictions. */
#define _POSIX_C_SOURCE 200809L
#include "model_impl.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Rows per GEMM call in predict/evaluate, to bound scratch memory. */
#define RG_PREDICT_CHUNK 256
#define RG_STACK_FLOATS 4096

/* Forward rows of x through the model in chunks, with per-call scratch (stack
 * for small models, or the caller's `scratch` of 2 * scratch_rows * width
 * floats) so concurrent calls on one model never share memory. Writes
 * predictions to y_out if given; accumulates loss kind's sums against y_true
 * (weighted by wt, may be NULL) if given. */
/* One layer of forward_rows on the pool: a piece of the product, then its bias
 * and activation. */
typedef struct fwd_job {
    const regnn_layer *l;
    const float *params;
    rg_gemm g;
} fwd_job;

static void fwd_task(void *ctx, size_t t)
{
    const fwd_job *j = ctx;
    size_t r0, r1, c0, c1;
    rg_gemm_piece(&j->g, t, &r0, &r1, &c0, &c1);
    rg_dense_bias_act(j->l, j->params, j->g.c, NULL, r0, r1, c0, c1);
}

static regnn_status forward_rows(const regnn_model *m, const float *x, size_t rows, float *y_out,
                                 const float *y_true, int kind, const float *wt, rg_loss_sums *sums,
                                 float *scratch, size_t scratch_rows, rg_pool *pool)
{
    float stack_buf[RG_STACK_FLOATS];
    const size_t w = rg_model_max_width(m), n_out = regnn_model_outputs(m);
    size_t chunk = RG_STACK_FLOATS / (2 * w);
    float *heap = NULL, *buf = stack_buf;
    if (scratch && scratch_rows > chunk) {
        chunk = scratch_rows;
        buf = scratch;
    } else if (chunk == 0 || (rows > chunk && chunk < RG_PREDICT_CHUNK)) {
        chunk = rows < RG_PREDICT_CHUNK ? rows : RG_PREDICT_CHUNK;
        heap = rg_calloc(2 * chunk, w * sizeof(float));
        if (!heap)
            return rg_error(REGNN_E_NOMEM, "out of memory for prediction scratch");
        buf = heap;
    }
    float *ping = buf, *pong = buf + chunk * w;
    for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        size_t nr = rows - r0 < chunk ? rows - r0 : chunk;
        const float *in = x + r0 * m->n_in;
        float *cur = ping;
        for (size_t i = 0; i < m->n_layers; i++) {
            if (rg_layer_is_noise(m->layers[i]))
                continue; /* the identity in inference */
            if (m->layers[i]->type == REGNN_LAYERTYPE_LAYER_NORMALIZATION) {
                rg_ln_forward(m->layers[i], m->params, in, nr, cur, NULL);
            } else if (rg_layer_is_bn(m->layers[i])) {
                rg_bn_forward(m->layers[i], m->params, in, nr, cur, NULL, NULL, 0);
            } else if (pool && nr > 1) {
                /* The same pieces' bits as rg_dense_forward (gemm.c's rule). */
                fwd_job j = {m->layers[i], m->params, {0}};
                rg_dense_gemm(&j.g, m->layers[i], m->params, in, nr, cur);
                rg_gemm_plan(&j.g, rg_pool_threads(pool), 0);
                rg_pool_run(pool, fwd_task, &j, j.g.pr * j.g.pc);
            } else {
                rg_dense_forward(m->layers[i], m->params, in, nr, cur, NULL);
            }
            in = cur;
            cur = cur == ping ? pong : ping;
        }
        size_t n = nr * n_out;
        if (y_out)
            memcpy(y_out + r0 * n_out, in, n * sizeof *in);
        if (y_true)
            rg_loss_accumulate(kind, m->loss_param, in, y_true + r0 * n_out, wt ? wt + r0 : NULL,
                               nr, n_out, sums);
    }
    rg_free(heap);
    return REGNN_OK;
}

regnn_status regnn_model_predict(const regnn_model *m, const float *x, size_t n_rows, float *y,
                                 size_t y_len)
{
    if (!m || !x || !y)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_predict: model, x and y are required");
    regnn_status st = rg_model_check_ready(m);
    if (st != REGNN_OK)
        return rg_error(st, "regnn_model_predict: %s", regnn_errmsg());
    size_t n_out = regnn_model_outputs(m), need, nx;
    if (n_rows == 0 || !rg_mul_ok(n_rows, n_out, &need) || !rg_mul_ok(n_rows, m->n_in, &nx) ||
        !rg_mul_ok(nx, sizeof(float), &nx))
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_predict: n_rows %zu is 0 or too large",
                        n_rows);
    if (y_len < need)
        return rg_error(REGNN_E_SHAPE, "regnn_model_predict: y holds %zu floats, need %zu rows x %zu",
                        y_len, n_rows, n_out);
    if (!rg_all_finite(x, n_rows * m->n_in))
        return rg_error(REGNN_E_NUMERIC, "regnn_model_predict: x contains NaN or Inf");
    st = forward_rows(m, x, n_rows, y, NULL, REGNN_LOSS_MSE, NULL, NULL, NULL, 0, NULL);
    if (st != REGNN_OK)
        return rg_error(st, "regnn_model_predict: %s", regnn_errmsg());
    return REGNN_OK;
}

regnn_status rg_model_eval_rows(const regnn_model *m, const float *x, const float *y, size_t rows,
                                double *mse, double *mae, float *scratch, size_t scratch_rows,
                                rg_pool *pool)
{
    rg_loss_sums sums = {0.0, 0.0, 0.0, 0.0};
    regnn_status st = forward_rows(m, x, rows, NULL, y, REGNN_LOSS_MSE, NULL, &sums, scratch,
                                   scratch_rows, pool);
    if (st != REGNN_OK)
        return st;
    double n = (double)rows * (double)regnn_model_outputs(m);
    if (mse)
        *mse = sums.se / n;
    if (mae)
        *mae = sums.ae / n;
    return REGNN_OK;
}

regnn_status rg_model_eval_sums(const regnn_model *m, const float *x, const float *y,
                                const float *w, size_t rows, rg_loss_sums *sums, float *scratch,
                                size_t scratch_rows, rg_pool *pool)
{
    sums->loss = sums->se = sums->ae = sums->w = 0.0;
    return forward_rows(m, x, rows, NULL, y, m->loss, w, sums, scratch, scratch_rows, pool);
}

double rg_model_penalty(const regnn_model *m)
{
    double p = 0.0;
    for (size_t i = 0; i < m->n_layers; i++)
        p += rg_dense_penalty(m->layers[i], m->params);
    return p;
}

regnn_status regnn_model_evaluate(const regnn_model *m, const regnn_dataset *ds, double *mse,
                                  double *mae, double *penalty)
{
    if (!m || !ds)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_evaluate: model and dataset are required");
    regnn_status st = rg_model_check_ready(m);
    if (st != REGNN_OK)
        return rg_error(st, "regnn_model_evaluate: %s", regnn_errmsg());
    const rg_rows r = rg_dataset_view(ds);
    if (r.n_x != m->n_in || r.n_y != regnn_model_outputs(m))
        return rg_error(REGNN_E_SHAPE,
                        "regnn_model_evaluate: dataset has %zu features and %zu targets, model "
                        "takes %zu inputs and gives %zu outputs",
                        r.n_x, r.n_y, m->n_in, regnn_model_outputs(m));
    double a, b;
    st = rg_model_eval_rows(m, r.x, r.y, r.rows, &a, &b, NULL, 0, NULL);
    if (st != REGNN_OK)
        return rg_error(st, "regnn_model_evaluate: %s", regnn_errmsg());
    if (mse)
        *mse = a;
    if (mae)
        *mae = b;
    if (penalty)
        *penalty = rg_model_penalty(m);
    return REGNN_OK;
}

regnn_status rg_model_eval_pooled(const regnn_model *m, const float *x, const float *y,
                                  const float *w, size_t rows, rg_loss_sums *sums, float *scratch,
                                  size_t scratch_rows)
{
    return rg_model_eval_sums(m, x, y, w, rows, sums, scratch, scratch_rows, m->pool);
}

size_t rg_model_eval_chunk(size_t rows) { return rows < RG_PREDICT_CHUNK ? rows : RG_PREDICT_CHUNK; }

/* The largest |moving mean| and the smallest moving variance of a
 * BatchNormalization layer (NaN ignored, as fmax and fmin would); one
 * reduction per loop, which aarch64 gcc 12's vectorizer handles. */
static double moving_mean_max(const regnn_layer *b)
{
    double hi = 0.0;
    for (size_t k = 0; k < b->units; k++) {
        const double a = fabs((double)b->moving[k]);
        hi = a > hi ? a : hi;
    }
    return hi;
}

static double moving_var_min(const regnn_layer *b)
{
    double lo = INFINITY;
    for (size_t k = 0; k < b->units; k++) {
        const double v = (double)b->moving[b->units + k];
        lo = v < lo ? v : lo;
    }
    return lo;
}

int rg_model_predictions_bounded(const regnn_model *m, double xmax)
{
    float p = 0.0f;
    for (size_t i = 0; i < m->n_params; i++) {
        const float a = fabsf(m->params[i]);
        p = a > p ? a : p;
    }
    double bound = xmax;
    for (size_t l = 0; l < m->n_layers; l++) {
        if (rg_layer_is_noise(m->layers[l]))
            continue; /* the identity in inference */
        if (rg_layer_is_bn(m->layers[l])) {
            const regnn_layer *b = m->layers[l];
            bound = (double)p * ((bound + moving_mean_max(b)) / sqrt(moving_var_min(b) + b->noise) +
                                 1.0);
            bound = bound > 1.0 ? bound : 1.0;
            continue;
        }
        if (m->layers[l]->type == REGNN_LAYERTYPE_LAYER_NORMALIZATION) {
            /* |x-hat| < sqrt(units), whatever the input */
            bound = (double)p * (sqrt((double)m->layers[l]->units) + 1.0);
            bound = bound > 1.0 ? bound : 1.0;
            continue;
        }
        const rg_act_def *a = rg_act(m->layers[l]->act);
        bound = (double)p * ((double)m->layers[l]->n_in * bound + 1.0);
        bound = a->gain * bound + a->offset;
        bound = bound > 1.0 ? bound : 1.0;
    }
    return bound <= FLT_MAX / 4; /* isfinite too: NaN compares false */
}
