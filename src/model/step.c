/* SPDX-License-Identifier: MIT */
/* One training step: its masks, its decomposition into the tasks of
 * step_task.c, and the fit's and regnn_train_batch's steps with their update. */
#define _POSIX_C_SOURCE 200809L
#include "model_impl.h"

#include <math.h>
#include <string.h>

regnn_status rg_model_step_grads(regnn_model *m, const float *x, const float *y, size_t rows,
                                 int train, double *mse, double *mae, double *penalty)
{
    double loss;
    return rg_model_step_grads_w(m, x, y, NULL, rows, train, &loss, mse, mae, penalty);
}

/* The masks of rows [first, first + rows) of a batch of `total`: the whole
 * batch's draws in one process's order (layer by layer, row by row), the
 * other rows' dropped, so every process of a data-parallel fit keeps the
 * model's stream in step and uses its own rows' part. */
static void draw_masks(regnn_model *m, size_t first, size_t rows, size_t total, int train)
{
    for (size_t i = 0; i < m->n_layers; i++) {
        const regnn_layer *l = m->layers[i];
        rg_layer_ws *w = &m->ws[i];
        if (!w->mask || (!rg_layer_is_dense(l) && !rg_layer_is_noise(l))) /* LN, BN: x-hat */
            continue;
        if (rg_layer_is_noise(l)) {
            rg_noise_draw(m, i, first, rows, total, train);
            continue;
        }
        size_t n = rows * l->units;
        if (train && l->dropout > 0.0) {
            /* Inverted dropout: survivors are scaled so inference needs no change. */
            float keep = (float)(1.0 / (1.0 - l->dropout));
            for (size_t k = 0; k < first * l->units; k++)
                (void)rg_rng_uniform(&m->rng);
            for (size_t k = 0; k < n; k++)
                w->mask[k] = rg_rng_uniform(&m->rng) >= l->dropout ? keep : 0.0f;
            for (size_t k = (first + rows) * l->units; k < total * l->units; k++)
                (void)rg_rng_uniform(&m->rng);
        } else {
            for (size_t k = 0; k < n; k++)
                w->mask[k] = 1.0f;
        }
    }
}

/* Layer i's backward products in j (g1: kernel gradient, g2: input gradient)
 * cut for nt threads, with its task counts; 1 when both run on the built-in
 * kernel (so they may be cut by owned rows). */
static int backward_products(step_job *j, size_t i, size_t nt)
{
    const regnn_model *m = j->m;
    const regnn_layer *l = m->layers[i];
    const rg_layer_ws *w = &m->ws[i];
    const float *lin = i ? m->ws[i - 1].out : j->x;
    /* Kernel gradient lin^T * delta, unsharded starting from the penalty
     * gradient (no extra pass over it; sharded, the penalty comes last). */
    const int pen_first = j->n_shards == 1 && j->penalty && (l->l2 > 0.0 || l->l1 > 0.0);
    const rg_gemm g1 = {1, 0, l->n_in, l->units, j->rows, 1.0f, lin, l->n_in, w->delta, l->units,
                        pen_first ? 1.0f : 0.0f, m->grads + l->offset, l->units, 0, 1, 1, 0, 0};
    j->g1 = g1;
    rg_gemm_plan(&j->g1, nt, 1);
    j->n1 = j->g1.pr * j->g1.pc;
    j->bstep = l->units;
    if (nt > 1 && l->units >= 128)
        j->bstep = (l->units + nt - 1) / nt;
    j->nb = (l->units + j->bstep - 1) / j->bstep;
    j->n2 = 0;
    if (i > 0) {
        /* Input gradient delta * W^T, the lower layer's delta. */
        const rg_gemm g2 = {0, 1, j->rows, l->n_in, l->units, 1.0f, w->delta, l->units,
                            m->params + l->offset, l->units, 0.0f, m->ws[i - 1].delta, l->n_in,
                            0, 1, 1, 0, 0};
        j->g2 = g2;
        rg_gemm_plan(&j->g2, nt, 0);
        j->n2 = j->g2.pr * j->g2.pc;
    }
    return j->g1.builtin && (i == 0 || j->g2.builtin);
}

/* The job of a step: its rows, the loss's scale, the penalty, the shards. */
static void step_prepare(step_job *j, regnn_model *m, const float *x, const float *y,
                         const float *wt, size_t first, size_t rows, size_t total, int train,
                         int penalty)
{
    memset(j, 0, sizeof *j);
    j->m = m;
    j->x = x;
    j->y = y;
    j->wt = wt;
    j->rows = rows;
    j->total = total;
    j->penalty = penalty;
    j->train = train;
    j->first = first;
    j->n_shards = rg_shard_plan(m, rows, j->shard);
    draw_masks(m, first, rows, total, train);
}

/* A sharded step on the threads: each shard forward and backward, then the
 * parts added up (and, with upd, updated) over the flat plan's ranges. */
static int step_shards(step_job *j, rg_update *upd)
{
    regnn_model *m = j->m;
    int updated = 0;
    rg_pool_run(m->pool, rg_step_shard_task, j, j->n_shards);
    m->plan = &m->flat;
    if (upd) {
        rg_optimizer_update_plan(upd, m->plan, m->plan->tasks);
        j->upd = upd;
        updated = 1;
    }
    rg_pool_run(m->pool, rg_step_reduce_task, j, m->flat.tasks);
    return updated;
}

/* The forward pass of an unsharded step, layer by layer, then the loss's
 * gradient at the top. */
static void step_forward(step_job *j, size_t nt)
{
    regnn_model *m = j->m;
    const float *in = j->x;
    for (size_t i = 0; i < m->n_layers; i++) {
        const regnn_layer *l = m->layers[i];
        rg_layer_ws *w = &m->ws[i];
        j->layer = i;
        if (rg_layer_is_noise(l)) { /* element-wise: on the calling thread */
            rg_noise_forward(m, i, in, 0, j->rows);
            in = w->out;
            continue;
        }
        if (l->type == REGNN_LAYERTYPE_LAYER_NORMALIZATION) { /* row-wise: the calling thread */
            rg_ln_forward(l, m->params, in, j->rows, w->act, w->mask);
            in = w->out;
            continue;
        }
        if (rg_layer_is_bn(l)) { /* the whole batch: the calling thread */
            if (j->bn)
                rg_bn_dp_forward(j->bn, m, i, in, j->first, j->rows, j->total);
            else
                rg_bn_forward(l, m->params, in, j->rows, w->act, w->mask, w->stats, j->train);
            in = w->out;
            continue;
        }
        if (j->rows == 1) {
            rg_dense_forward(l, m->params, in, j->rows, w->act, w->pre);
            if (w->mask)
                for (size_t k = 0; k < l->units; k++)
                    w->out[k] = w->act[k] * w->mask[k];
        } else {
            rg_dense_gemm(&j->g1, l, m->params, in, j->rows, w->act);
            rg_gemm_plan(&j->g1, nt, 0);
            if (m->plan == &m->own)
                rg_own_forward(&j->g1, l, nt);
            rg_pool_run(m->pool, rg_step_forward_task, j, j->g1.pr * j->g1.pc);
        }
        in = w->out;
    }
    for (size_t s = 0; s < j->n_shards; s++)
        rg_step_top_delta(j, s);
}

/* When every layer runs on owned rows, each task updates a layer's rows as
 * soon as it has their gradient (nothing of the step reads them after that),
 * while they are still in its cache: 1 when the tasks will run upd. */
static int step_owned_update(step_job *j, size_t nt, rg_update *upd)
{
    int all = 1;
    for (size_t i = 0; i < j->m->n_layers && all; i++)
        all = rg_layer_is_noise(j->m->layers[i]) ||
              (rg_layer_is_dense(j->m->layers[i]) && backward_products(j, i, nt));
    if (!all)
        return 0;
    rg_optimizer_update_plan(upd, j->m->plan, nt);
    j->upd = upd;
    return 1;
}

/* A LayerNormalization layer's backward on the calling thread: its
 * parameters' parts shard by shard, added in shard order (as a sharded step
 * adds them), then the lower layer's delta. */
static void ln_backward(step_job *j, size_t i)
{
    regnn_model *m = j->m;
    const regnn_layer *l = m->layers[i];
    const rg_layer_ws *w = &m->ws[i];
    const float *in = i ? m->ws[i - 1].out : j->x;
    for (size_t s = 0; s < j->n_shards; s++)
        rg_ln_backward(l, m->params, in, w->mask, w->delta, j->shard[s], j->shard[s + 1],
                       m->grads + l->offset, s > 0, i ? m->ws[i - 1].delta : NULL);
    if (i > 0)
        rg_lower_delta(m, i, 0, j->rows, 0, l->n_in);
}

/* The backward pass of an unsharded step, layers from the top; on owned
 * rows when `own` and the layer's products run on the built-in kernel. */
static void step_backward(step_job *j, size_t nt, int own)
{
    regnn_model *m = j->m;
    for (size_t i = m->n_layers; i-- > 0;) {
        j->layer = i;
        if (rg_layer_is_noise(m->layers[i])) {
            if (i > 0) {
                rg_noise_backward(m, i, 0, j->rows);
                rg_lower_delta(m, i, 0, j->rows, 0, m->layers[i]->n_in);
            }
            continue;
        }
        if (m->layers[i]->type == REGNN_LAYERTYPE_LAYER_NORMALIZATION) {
            ln_backward(j, i);
            continue;
        }
        if (rg_layer_is_bn(m->layers[i])) {
            const regnn_layer *l = m->layers[i];
            const rg_layer_ws *w = &m->ws[i];
            if (j->bn)
                rg_bn_dp_backward(j->bn, j, i);
            else
                rg_bn_backward(l, m->params, w->mask, w->delta, w->stats, j->train, j->rows,
                               j->shard, j->n_shards, m->grads + l->offset,
                               i ? m->ws[i - 1].delta : NULL);
            if (i > 0)
                rg_lower_delta(m, i, 0, j->rows, 0, l->n_in);
            continue;
        }
        const int builtin = backward_products(j, i, nt);
        if (own && builtin) {
            rg_own_products(j, m->layers[i], nt);
            rg_pool_run(m->pool, rg_step_own_backward_task, j, nt);
            continue;
        }
        rg_pool_run(m->pool, rg_step_backward_task, j, j->n1 + j->nb + j->n2);
    }
}

static int has_activity(const regnn_model *m)
{
    for (size_t i = 0; i < m->n_layers; i++)
        if (RG_HAS_ACTIVITY(m->layers[i]))
            return 1;
    return 0;
}

/* One step's gradient into m->grads: the data gradient of `rows` rows of a
 * batch of `total` (the loss's scale), plus the penalty gradient if
 * `penalty` (unsharded: the chain starts from it; sharded: added last); the
 * loss sums into sums (from 0, rows in order by shard, shards in order); the
 * penalty value into *pen_value when added, plus the rows' activity penalty
 * (alone when the penalty is not added) when a layer has one. With upd (begun, in place) the
 * step's tasks also run the update when they own the ranges they finish (a
 * sharded step's last job; an owned-row step with every layer on owned rows,
 * layer by layer): returns 1 when they did (the loss and penalty are those
 * before the update). */
static int step(regnn_model *m, const float *x, const float *y, const float *wt, size_t first,
                size_t rows, size_t total, int train, int penalty, double sums_out[3],
                double *pen_value, rg_update *upd, rg_bn_dp *bn)
{
    const size_t nt = rg_pool_threads(m->pool);
    step_job j;
    step_prepare(&j, m, x, y, wt, first, rows, total, train, penalty);
    j.bn = train ? bn : NULL;
    if (penalty)
        rg_step_bias_penalty(m); /* its value before the tasks update the biases */
    int updated = 0;
    if (rg_step_sharded(m, j.n_shards, nt)) {
        updated = step_shards(&j, upd);
    } else {
        const int own = rg_step_owned(m, rows, j.n_shards, nt);
        m->plan = own ? &m->own : NULL;
        step_forward(&j, nt);
        if (own && upd)
            updated = step_owned_update(&j, nt, upd);
        step_backward(&j, nt, own);
    }
    for (int k = 0; k < 3; k++) {
        sums_out[k] = j.sums[0][k];
        for (size_t s = 1; s < j.n_shards; s++)
            sums_out[k] += j.sums[s][k];
    }
    if (penalty)
        *pen_value = rg_penalty_sum(m);
    if (has_activity(m)) {
        /* The activity penalty of the rows, shards in order, after the weights'. */
        double a = j.activity[0];
        for (size_t s = 1; s < j.n_shards; s++)
            a += j.activity[s];
        *pen_value = penalty ? *pen_value + a : a;
    }
    return updated;
}

/* A whole batch's step with the penalty; the loss sums as means. */
static int step_means(regnn_model *m, const float *x, const float *y, const float *wt,
                      size_t rows, int train, double *loss, double *mse, double *mae,
                      double *penalty, rg_update *upd)
{
    double sums[3] = {0.0, 0.0, 0.0};
    const int updated = step(m, x, y, wt, 0, rows, rows, train, 1, sums, penalty, upd, NULL);
    const double n = (double)rows * (double)m->layers[m->n_layers - 1]->units;
    *loss = sums[0] / n;
    *mse = sums[1] / n;
    *mae = sums[2] / n;
    return updated;
}

regnn_status rg_model_step_grads_w(regnn_model *m, const float *x, const float *y,
                                   const float *wt, size_t rows, int train, double *loss,
                                   double *mse, double *mae, double *penalty)
{
    step_means(m, x, y, wt, rows, train, loss, mse, mae, penalty, NULL);
    return REGNN_OK;
}

int rg_model_step_sums(regnn_model *m, const float *x, const float *y, const float *wt,
                       size_t first, size_t rows, size_t total_rows, int train, int penalty,
                       double sums[3], double *pen, rg_bn_dp *bn)
{
    bn = train ? bn : NULL;
    if (bn)
        rg_bn_dp_begin(bn);
    if (rows == 0) { /* -0 adds nothing to a sum over processes, not even to a -0 */
        draw_masks(m, first, 0, total_rows, train); /* the stream stays in step */
        for (size_t k = 0; k < m->n_params; k++)
            m->grads[k] = -0.0f;
        if (bn) /* the gathers of the batch's statistics, whose rows are the others' */
            rg_bn_dp_idle(bn, m, total_rows);
    } else {
        step(m, x, y, wt, first, rows, total_rows, train, penalty, sums, pen, NULL, bn);
    }
    return bn && rg_bn_dp_failed(bn);
}

void rg_model_commit_stats(regnn_model *m) { rg_bn_commit(m); }

/* The kernel constraints after an update (Keras applies them after the
 * optimizer's update of the variable), on the calling thread; then the
 * parameters' bound anew, as UnitNorm and MinMaxNorm may grow a weight. */
static void constrain(regnn_model *m)
{
    int any = 0;
    for (size_t i = 0; i < m->n_layers; i++)
        if (rg_dense_constrained(m->layers[i])) {
            rg_dense_constrain(m->layers[i], m->params);
            any = 1;
        }
    if (!any)
        return;
    uint32_t mx = 0;
    for (size_t k = 0; k < m->n_params; k++) {
        uint32_t u;
        memcpy(&u, &m->params[k], sizeof u);
        u &= 0x7FFFFFFFu;
        mx = u > mx ? u : mx;
    }
    m->params_max = mx;
}

int rg_model_update(regnn_model *m, regnn_optimizer *o)
{
    if (!rg_optimizer_step_inplace(o, m->params, m->grads, m->n_params, &m->params_max, m->pool,
                                   rg_model_plan(m)))
        return 0;
    m->params_max_known = 1;
    constrain(m);
    return 1;
}

int rg_model_fit_step(regnn_model *m, regnn_optimizer *o, const float *x, const float *y,
                      const float *w, size_t rows, double out[4])
{
    /* The step runs the update in its last job when it can: one wait less. */
    rg_update upd;
    rg_optimizer_update_begin(o, &upd, m->params, m->grads, m->n_params);
    const int updated = step_means(m, x, y, w, rows, 1, &out[0], &out[1], &out[2], &out[3], &upd);
    if (!isfinite(out[0] + out[3]))
        return RG_STEP_LOSS;
    if (!updated && !rg_model_update(m, o)) /* with the constraints */
        return RG_STEP_UPDATE;
    if (updated) {
        if (!rg_optimizer_update_end(o, &upd, &m->params_max))
            return RG_STEP_UPDATE;
        m->params_max_known = 1;
        constrain(m);
    }
    rg_bn_commit(m);
    return RG_STEP_OK;
}

int rg_model_train_step(regnn_model *m, regnn_optimizer *o, const float *x, const float *y,
                        const float *w, size_t rows, double *loss)
{
    const rg_rng saved = m->rng;
    double data_loss, mse, mae, pen;
    step_means(m, x, y, w, rows, 1, &data_loss, &mse, &mae, &pen, NULL);
    *loss = data_loss + pen;
    const int finite_loss = isfinite(*loss);
    const size_t np = m->n_params;
    if (finite_loss && m->params_max_known &&
        rg_optimizer_step_is_safe(o, m->params_max, m->grads, np)) {
        /* The bounds from the last step prove this one stays finite: in place. */
        if (rg_optimizer_step_inplace(o, m->params, m->grads, np, &m->params_max, m->pool,
                                      rg_model_plan(m))) {
            rg_bn_commit(m);
            constrain(m);
            return RG_STEP_OK;
        }
        m->params_max_known = 0;
        rg_optimizer_forget_bounds(o);
        return RG_STEP_BROKEN;
    }
    /* Otherwise the new values go to spare buffers, swapped in only when all
     * are finite: a refused step leaves no trace. */
    if (finite_loss && rg_optimizer_step_into(o, m->params, m->params_next, m->grads, np,
                                              &m->params_max, m->pool, rg_model_plan(m))) {
        float *t = m->params;
        m->params = m->params_next;
        m->params_next = t;
        m->params_max_known = 1;
        rg_bn_commit(m);
        constrain(m);
        return RG_STEP_OK;
    }
    m->rng = saved;
    return finite_loss ? RG_STEP_UPDATE : RG_STEP_LOSS;
}
