/* SPDX-License-Identifier: MIT */
/* The tasks of one training step on the model's pool: forward and backward
 * pieces, shards and their reduction, with the penalty kernel they share. */
#define _POSIX_C_SOURCE 200809L
#include "model_impl.h"

#include <string.h>

/* g = 2*l2*w + l1*sign(w), or with add g = g + (2*l2*w + l1*sign(w)); returns
 * l2*sum(w^2) + l1*sum|w|. Sums run in PEN_LANES float lanes over blocks of
 * PEN_BLOCK (lane k: elements k, k + PEN_LANES, ... in order, then the block's
 * tail in lane 0) and blocks add up in double. */
#define PEN_LANES 8
#define PEN_BLOCK 256

/* One element: its squares (and sign(v) * v) into lane sums s2 (s1); returns
 * its gradient term c2*v (+ c1*sign(v)). */
static inline float pen_one(float v, float c2, float c1, int l1, float *s2, float *s1)
{
    float t = c2 * v;
    *s2 += v * v;
    if (l1) {
        const float sg = (float)(v > 0.0f) - (float)(v < 0.0f);
        *s1 += sg * v;
        t = t + c1 * sg;
    }
    return t;
}

#if defined(__GNUC__)
/* The lanes as one vector: compilers vectorize the scalar form badly (over
 * the blocks, with in-order scalar reductions). Each lane computes what the
 * scalar form computes, in the same order. */
typedef float pen_lanes __attribute__((vector_size(PEN_LANES * sizeof(float))));
typedef int32_t pen_mask __attribute__((vector_size(PEN_LANES * sizeof(int32_t))));

/* Elements [i, i + PEN_LANES * whole) of a block: the lanes' sums into a2 (and a1). */
static inline void pen_lanes_run(const float *restrict w, float *restrict g, size_t i, size_t end,
                                 float c2, float c1, int l1, int add, float a2[PEN_LANES],
                                 float a1[PEN_LANES], size_t *next)
{
    pen_lanes s2, s1, v, gv;
    memcpy(&s2, a2, sizeof s2);
    memcpy(&s1, a1, sizeof s1);
    const pen_lanes zero = {0}, one = zero + 1.0f;
    for (; i + PEN_LANES <= end; i += PEN_LANES) {
        memcpy(&v, w + i, sizeof v);
        s2 += v * v;
        pen_lanes t = c2 * v;
        if (l1) {
            /* sign(v) = (v > 0) - (v < 0): a comparison's all-ones lanes pick 1.0f's bits */
            const pen_lanes sg = (pen_lanes)((v > zero) & (pen_mask)one) -
                                 (pen_lanes)((v < zero) & (pen_mask)one);
            s1 += sg * v;
            t = t + c1 * sg;
        }
        if (add) {
            memcpy(&gv, g + i, sizeof gv);
            t = gv + t;
        }
        memcpy(g + i, &t, sizeof t);
    }
    memcpy(a2, &s2, sizeof s2);
    memcpy(a1, &s1, sizeof s1);
    *next = i;
}
#else
static inline void pen_lanes_run(const float *restrict w, float *restrict g, size_t i, size_t end,
                                 float c2, float c1, int l1, int add, float a2[PEN_LANES],
                                 float a1[PEN_LANES], size_t *next)
{
    for (; i + PEN_LANES <= end; i += PEN_LANES)
        for (size_t k = 0; k < PEN_LANES; k++) {
            const float t = pen_one(w[i + k], c2, c1, l1, &a2[k], &a1[k]);
            g[i + k] = add ? g[i + k] + t : t;
        }
    *next = i;
}
#endif

RG_SIMD_CLONES
static double penalty_grad(const float *restrict w, float *restrict g, size_t n, double l2,
                           double l1, int add)
{
    const float c2 = (float)(2.0 * l2), c1 = (float)l1;
    const int has_l1 = l1 != 0.0;
    double q2 = 0.0, q1 = 0.0;
    size_t i = 0;
    while (i < n) {
        const size_t end = n - i > PEN_BLOCK ? i + PEN_BLOCK : n;
        float a2[PEN_LANES] = {0}, a1[PEN_LANES] = {0};
        pen_lanes_run(w, g, i, end, c2, c1, has_l1, add, a2, a1, &i);
        for (; i < end; i++) {
            const float t = pen_one(w[i], c2, c1, has_l1, &a2[0], &a1[0]);
            g[i] = add ? g[i] + t : t;
        }
        for (size_t k = 0; k < PEN_LANES; k++) {
            q2 += a2[k];
            q1 += a1[k];
        }
    }
    return l2 * q2 + l1 * q1; /* without L1, q1 and l1 are 0: l2 * q2 + 0 */
}

/* Bias part of rows r0..r1, columns c0..c1: from +0, rows ascending; stored
 * (add 0) or added to gb (add 1). */
static void bias_part(const float *delta, size_t units, size_t r0, size_t r1, size_t c0,
                      size_t c1, float *gb, int add)
{
    enum { COLS = 64 };
    for (size_t cb = c0; cb < c1; cb += COLS) {
        const size_t ce = c1 - cb < COLS ? c1 : cb + COLS;
        float acc[COLS];
        memset(acc, 0, sizeof acc);
        for (size_t r = r0; r < r1; r++) {
            const float *d = delta + r * units;
            for (size_t c = cb; c < ce; c++)
                acc[c - cb] += d[c];
        }
        for (size_t c = cb; c < ce; c++)
            gb[c] = add ? gb[c] + acc[c - cb] : acc[c - cb];
    }
}

static size_t pen_row0(const regnn_model *m, size_t layer)
{
    size_t r = 0;
    for (size_t i = 0; i < layer; i++)
        r += m->layers[i]->n_in + 1;
    return r;
}

void rg_step_bias_penalty(regnn_model *m)
{
    for (size_t i = 0; i < m->n_layers; i++) {
        const regnn_layer *l = m->layers[i];
        m->ws_pen[pen_row0(m, i) + l->n_in] = rg_dense_bias_penalty(l, m->params);
    }
}

void rg_step_forward_task(void *ctx, size_t t)
{
    const step_job *j = ctx;
    const regnn_layer *l = j->m->layers[j->layer];
    const rg_layer_ws *w = &j->m->ws[j->layer];
    size_t r0, r1, c0, c1;
    rg_gemm_piece(&j->g1, t, &r0, &r1, &c0, &c1);
    rg_dense_bias_act(l, j->m->params, w->act, w->pre, r0, r1, c0, c1);
    if (w->mask)
        for (size_t r = r0; r < r1; r++)
            for (size_t k = r * l->units + c0; k < r * l->units + c1; k++)
                w->out[k] = w->act[k] * w->mask[k];
}

/* The lower layer's delta for rows r0..r1, columns c0..c1, once the product
 * is in it: its dropout mask, its activity penalty's gradient, then its
 * activation derivative. */
void rg_lower_delta(const regnn_model *m, size_t layer, size_t r0, size_t r1, size_t c0,
                    size_t c1)
{
    const regnn_layer *lo = m->layers[layer - 1];
    const rg_layer_ws *wl = &m->ws[layer - 1];
    const int dropout = wl->mask && rg_layer_is_dense(lo); /* the others' mask is not dropout's */
    for (size_t r = r0; r < r1; r++) {
        float *d = wl->delta + r * lo->units + c0;
        if (dropout) {
            const float *mk = wl->mask + r * lo->units + c0;
            for (size_t k = 0; k < c1 - c0; k++)
                d[k] *= mk[k];
        }
        if (RG_HAS_ACTIVITY(lo))
            rg_dense_activity_grad(lo, wl->act + r * lo->units + c0, d, c1 - c0);
        const float *z = wl->pre ? wl->pre + r * lo->units + c0 : NULL;
        rg_dense_act_backward(lo->act, wl->act + r * lo->units + c0, z, d, c1 - c0);
    }
}

/* Piece t of an unsharded step's kernel gradient (j->g1); with beta 1 its
 * kernel rows start from their penalty gradient (no extra pass over them). */
static void kernel_piece(const step_job *j, size_t t)
{
    const regnn_model *m = j->m;
    const regnn_layer *l = m->layers[j->layer];
    const rg_gemm *g = &j->g1;
    if (g->beta != 0.0f) {
        const size_t i0 = (t / g->pc) * g->rstep;
        const size_t i1 = i0 + g->rstep < g->m ? i0 + g->rstep : g->m;
        double *pen = m->ws_pen + pen_row0(m, j->layer);
        for (size_t i = i0; i < i1; i++)
            pen[i] = penalty_grad(m->params + l->offset + i * l->units,
                                  m->grads + l->offset + i * l->units, l->units, l->l2, l->l1, 0);
    }
    rg_gemm_piece(g, t, NULL, NULL, NULL, NULL);
}

void rg_step_backward_task(void *ctx, size_t t)
{
    const step_job *j = ctx;
    regnn_model *m = j->m;
    const regnn_layer *l = m->layers[j->layer];
    const rg_layer_ws *w = &m->ws[j->layer];
    size_t r0, r1, c0, c1;
    /* Input-gradient pieces first: piece k goes to thread k first (pool.c), the
     * thread that computed those batch rows going forward. */
    if (t < j->n2) {
        rg_gemm_piece(&j->g2, t, &r0, &r1, &c0, &c1);
        rg_lower_delta(m, j->layer, r0, r1, c0, c1);
        return;
    }
    t -= j->n2;
    if (t < j->n1) {
        const rg_gemm *g = &j->g1;
        const size_t i0 = (t / g->pc) * g->rstep;
        const size_t i1 = i0 + g->rstep < g->m ? i0 + g->rstep : g->m;
        double *pen = m->ws_pen + pen_row0(m, j->layer);
        const float *wk = m->params + l->offset;
        float *gk = m->grads + l->offset;
        const int penalized = l->l2 > 0.0 || l->l1 > 0.0;
        if (j->n_shards > 1) {
            /* Rows i0..i1 of the kernel gradient, shard by shard, then the penalty. */
            for (size_t s = 0; s < j->n_shards; s++) {
                const size_t a0 = j->shard[s], k = j->shard[s + 1] - a0;
                const float *a = g->a + a0 * g->lda + i0;
                const float *b = g->b + a0 * g->ldb;
                float *c = gk + i0 * l->units;
                if (s == 0)
                    rg_sgemm_builtin(1, 0, i1 - i0, l->units, k, 1.0f, a, g->lda, b, g->ldb, 0.0f,
                                     c, l->units);
                else
                    rg_sgemm_builtin_add(1, 0, i1 - i0, l->units, k, a, g->lda, b, g->ldb, c,
                                         l->units);
            }
            if (penalized && j->penalty)
                for (size_t i = i0; i < i1; i++)
                    pen[i] = penalty_grad(wk + i * l->units, gk + i * l->units, l->units, l->l2,
                                          l->l1, 1);
            return;
        }
        kernel_piece(j, t);
        return;
    }
    t -= j->n1;
    float *gb = m->grads + l->offset + l->n_in * l->units;
    const size_t b0 = t * j->bstep, b1 = b0 + j->bstep < l->units ? b0 + j->bstep : l->units;
    for (size_t s = 0; s < j->n_shards; s++)
        bias_part(w->delta, l->units, j->shard[s], j->shard[s + 1], b0, b1, gb, s > 0);
    if (j->penalty)
        rg_dense_bias_grad(l, m->params, m->grads, b0, b1);
}

/* Layer j->layer's backward on the threads' own rows (m->own): task t
 * computes the input-gradient columns and kernel-gradient rows of its kernel
 * rows and its bias columns. */
void rg_step_own_backward_task(void *ctx, size_t t)
{
    const step_job *j = ctx;
    regnn_model *m = j->m;
    const regnn_layer *l = m->layers[j->layer];
    const rg_layer_ws *w = &m->ws[j->layer];
    size_t r0, r1, c0, c1;
    if (j->n2 && t < j->g2.pc) {
        rg_gemm_piece(&j->g2, t, &r0, &r1, &c0, &c1);
        rg_lower_delta(m, j->layer, r0, r1, c0, c1);
    }
    if (t < j->g1.pr)
        kernel_piece(j, t);
    /* The bias units task t owns (m->own). */
    const size_t *seg = m->own.seg + 2 * (t * m->own.per + 2 * j->layer);
    const size_t b = l->offset + l->n_in * l->units;
    bias_part(w->delta, l->units, 0, j->rows, seg[2] - b, seg[3] - b, m->grads + b, 0);
    if (j->penalty)
        rg_dense_bias_grad(l, m->params, m->grads, seg[2] - b, seg[3] - b);
    if (j->upd) {
        /* Its own rows of this layer: nothing of the step reads them now. */
        rg_optimizer_update_range(j->upd, t, seg[0], seg[1] - seg[0]);
        rg_optimizer_update_range(j->upd, t, seg[2], seg[3] - seg[2]);
    }
}

/* The loss, its gradient at the top and its sums per shard, and the shard's
 * activity penalty (layers from the bottom; every layer's output of the
 * shard's rows is there once its forward pass is). */
void rg_step_top_delta(step_job *j, size_t s)
{
    regnn_model *m = j->m;
    const size_t L = m->n_layers, r0 = j->shard[s], r1 = j->shard[s + 1];
    rg_layer_ws *top = &m->ws[L - 1];
    const regnn_layer *lt = m->layers[L - 1];
    const size_t no = lt->units, k0 = r0 * no, n = (r1 - r0) * no;
    rg_loss_delta_part(m->loss, m->loss_param, top->out + k0, j->y + k0, j->wt ? j->wt + r0 : NULL,
                       r1 - r0, no, j->total, top->delta + k0, j->sums[s]);
    if (top->mask && rg_layer_is_dense(lt)) /* dropout multipliers */
        for (size_t k = k0; k < k0 + n; k++)
            top->delta[k] *= top->mask[k];
    j->activity[s] = 0.0;
    for (size_t i = 0; i < L; i++)
        if (RG_HAS_ACTIVITY(m->layers[i]))
            j->activity[s] += rg_dense_activity(m->layers[i], m->ws[i].act, r0, r1);
    if (RG_HAS_ACTIVITY(lt))
        rg_dense_activity_grad(lt, top->act + k0, top->delta + k0, n);
    rg_dense_act_backward(lt->act, top->act + k0, top->pre ? top->pre + k0 : NULL, top->delta + k0,
                          n);
}

/* Shard s's forward and backward on one thread, its parts into ws_shard's
 * buffer s (not the gradient buffer: its lines stay with the thread that
 * adds them up and updates them). */
void rg_step_shard_task(void *ctx, size_t s)
{
    step_job *j = ctx;
    regnn_model *m = j->m;
    const size_t L = m->n_layers, r0 = j->shard[s], r1 = j->shard[s + 1], nr = r1 - r0;
    const float *in = j->x + r0 * m->n_in;
    for (size_t i = 0; i < L; i++) {
        const regnn_layer *l = m->layers[i];
        rg_layer_ws *w = &m->ws[i];
        const size_t k0 = r0 * l->units;
        if (rg_layer_is_noise(l)) {
            rg_noise_forward(m, i, i ? m->ws[i - 1].out : j->x, r0, r1);
            in = w->out + k0;
            continue;
        }
        if (l->type == REGNN_LAYERTYPE_LAYER_NORMALIZATION) {
            rg_ln_forward(l, m->params, in, nr, w->act + k0, w->mask + k0);
            in = w->out + k0;
            continue;
        }
        rg_dense_forward(l, m->params, in, nr, w->act + k0, w->pre ? w->pre + k0 : NULL);
        if (w->mask)
            for (size_t k = k0; k < k0 + nr * l->units; k++)
                w->out[k] = w->act[k] * w->mask[k];
        in = w->out + k0;
    }
    rg_step_top_delta(j, s);
    float *dst = m->ws_shard + s * m->n_params;
    for (size_t i = L; i-- > 0;) {
        const regnn_layer *l = m->layers[i];
        const rg_layer_ws *w = &m->ws[i];
        if (rg_layer_is_noise(l)) {
            if (i > 0) {
                rg_noise_backward(m, i, r0, r1);
                rg_lower_delta(m, i, r0, r1, 0, l->n_in);
            }
            continue;
        }
        if (l->type == REGNN_LAYERTYPE_LAYER_NORMALIZATION) {
            rg_ln_backward(l, m->params, i ? m->ws[i - 1].out : j->x, w->mask, w->delta, r0, r1,
                           dst + l->offset, 0, i ? m->ws[i - 1].delta : NULL);
            if (i > 0)
                rg_lower_delta(m, i, r0, r1, 0, l->n_in);
            continue;
        }
        const float *lin = i ? m->ws[i - 1].out : j->x;
        const float *d = w->delta + r0 * l->units;
        rg_sgemm_builtin(1, 0, l->n_in, l->units, nr, 1.0f, lin + r0 * l->n_in, l->n_in, d,
                         l->units, 0.0f, dst + l->offset, l->units);
        bias_part(w->delta, l->units, r0, r1, 0, l->units, dst + l->offset + l->n_in * l->units, 0);
        if (i > 0) {
            rg_sgemm_builtin(0, 1, nr, l->n_in, l->units, 1.0f, d, l->units, m->params + l->offset,
                             l->units, 0.0f, m->ws[i - 1].delta + r0 * l->n_in, l->n_in);
            rg_lower_delta(m, i, r0, r1, 0, l->n_in);
        }
    }
}

/* Adds the shard parts up in shard order, then the penalty, over the
 * ranges task t owns in a sharded step (m->flat): the ones its thread
 * updates next. */
void rg_step_reduce_task(void *ctx, size_t t)
{
    const step_job *j = ctx;
    regnn_model *m = j->m;
    float *g = m->grads;
    const float *p0 = m->ws_shard;
    const size_t *seg = m->flat.seg + 2 * t * m->flat.per;
    for (size_t i = 0; i < m->n_layers; i++, seg += 4) {
        const regnn_layer *l = m->layers[i];
        const size_t off = l->offset, u = l->units;
        for (int part = 0; part < 2; part++) {
            const size_t s0 = seg[2 * part], s1 = seg[2 * part + 1];
            for (size_t e = s0; e < s1; e++)
                g[e] = p0[e];
            for (size_t s = 1; s < j->n_shards; s++) {
                const float *p = p0 + s * m->n_params;
                for (size_t e = s0; e < s1; e++)
                    g[e] = g[e] + p[e];
            }
        }
        if (!j->penalty)
            continue;
        const size_t b = off + l->n_in * u;
        rg_dense_bias_grad(l, m->params, g, seg[2] - b, seg[3] - b);
        if (l->l2 == 0.0 && l->l1 == 0.0)
            continue;
        double *pen = m->ws_pen + pen_row0(m, i);
        for (size_t r = (seg[0] - off) / u; r < (seg[1] - off) / u; r++)
            pen[r] = penalty_grad(m->params + off + r * u, g + off + r * u, u, l->l2, l->l1, 1);
    }
    if (j->upd)
        rg_optimizer_update_task(j->upd, t);
}

/* The penalty of the rows' sums, layers from the top, rows in order. */
double rg_penalty_sum(const regnn_model *m)
{
    double pen = 0.0;
    for (size_t i = m->n_layers; i-- > 0;) {
        const regnn_layer *l = m->layers[i];
        if (l->l2 > 0.0 || l->l1 > 0.0) {
            const double *pr = m->ws_pen + pen_row0(m, i);
            for (size_t r = 0; r < l->n_in; r++)
                pen += pr[r];
        }
        if (l->bias_l2 > 0.0 || l->bias_l1 > 0.0)
            pen += m->ws_pen[pen_row0(m, i) + l->n_in];
    }
    return pen;
}

double rg_model_add_penalty(regnn_model *m)
{
    rg_step_bias_penalty(m);
    for (size_t i = 0; i < m->n_layers; i++) {
        const regnn_layer *l = m->layers[i];
        rg_dense_bias_grad(l, m->params, m->grads, 0, l->units);
        if (l->l2 == 0.0 && l->l1 == 0.0)
            continue;
        double *pen = m->ws_pen + pen_row0(m, i);
        for (size_t r = 0; r < l->n_in; r++)
            pen[r] = penalty_grad(m->params + l->offset + r * l->units,
                                  m->grads + l->offset + r * l->units, l->units, l->l2, l->l1, 1);
    }
    return rg_penalty_sum(m);
}
