/* SPDX-License-Identifier: MIT */
/* BatchNormalization in a data-parallel step. Its statistics are those of
 * the whole batch, and its input gradient sums over the whole batch, while
 * each process holds only its rows: so each BatchNormalization layer's input
 * (forward) and output gradient (backward) of the whole batch are gathered
 * through the fit's exchange, a sum over the processes of parameter-count
 * floats a call: each process fills its rows and leaves -0 elsewhere, and
 * x + (-0) is x exactly (+0 too), so every process gets every row's bits.
 * From them each computes what one process computes, in the same order. */
#define _POSIX_C_SOURCE 200809L
#include "model_impl.h"

#include <string.h>

struct rg_bn_dp {
    rg_gather_fn fn;
    void *ctx;
    size_t np;     /* floats a call: the parameter count */
    float *buf;    /* one layer's gathered rows, a whole number of calls long */
    float **xhat;  /* per layer: the batch's x-hat (BatchNormalization layers) */
    size_t layers;
    int failed;    /* an exchange failed in this step: no more calls */
};

/* Calls of fn for n floats. */
static size_t calls(const rg_bn_dp *g, size_t n) { return (n + g->np - 1) / g->np; }

rg_bn_dp *rg_bn_dp_new(const regnn_model *m, size_t batch, rg_gather_fn fn, void *ctx)
{
    rg_bn_dp *g = rg_calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->fn = fn;
    g->ctx = ctx;
    g->np = m->n_params;
    g->layers = m->n_layers;
    g->xhat = rg_calloc(m->n_layers, sizeof *g->xhat);
    size_t widest = 0;
    int ok = g->xhat != NULL && g->np > 0;
    for (size_t i = 0; ok && i < m->n_layers; i++) {
        if (!rg_layer_is_bn(m->layers[i]))
            continue;
        const size_t u = m->layers[i]->units;
        widest = u > widest ? u : widest;
        g->xhat[i] = rg_malloc(batch * u * sizeof(float));
        ok = g->xhat[i] != NULL;
    }
    if (ok) {
        const size_t n = calls(g, batch * widest) * g->np;
        g->buf = rg_malloc((n ? n : 1) * sizeof(float));
        ok = g->buf != NULL;
    }
    if (!ok) {
        rg_bn_dp_free(g);
        return NULL;
    }
    return g;
}

void rg_bn_dp_free(rg_bn_dp *g)
{
    if (!g)
        return;
    for (size_t i = 0; g->xhat && i < g->layers; i++)
        rg_free(g->xhat[i]);
    rg_free(g->xhat);
    rg_free(g->buf);
    rg_free(g);
}

/* The batch's `total` rows of u floats into g->buf: this process's `rows`
 * rows (mine) at row `first`, the others' from the exchange. */
static void gather(rg_bn_dp *g, const float *mine, size_t first, size_t rows, size_t total,
                   size_t u)
{
    const size_t n = calls(g, total * u);
    for (size_t k = 0; k < n * g->np; k++)
        g->buf[k] = -0.0f;
    if (rows)
        memcpy(g->buf + first * u, mine, rows * u * sizeof *mine);
    for (size_t c = 0; c < n && !g->failed; c++)
        g->failed = g->fn(g->ctx, g->buf + c * g->np, g->np) != 0;
}

void rg_bn_dp_forward(rg_bn_dp *g, regnn_model *m, size_t i, const float *in, size_t first,
                      size_t rows, size_t total)
{
    const regnn_layer *l = m->layers[i];
    rg_layer_ws *w = &m->ws[i];
    gather(g, in, first, rows, total, l->units);
    rg_bn_stats(l, g->buf, total, w->stats);
    rg_bn_apply(l, m->params, w->stats, g->buf, total, NULL, g->xhat[i]);
    rg_bn_apply(l, m->params, w->stats, in, rows, w->act, w->mask);
}

void rg_bn_dp_backward(rg_bn_dp *g, const step_job *j, size_t i)
{
    regnn_model *m = j->m;
    const regnn_layer *l = m->layers[i];
    const rg_layer_ws *w = &m->ws[i];
    /* gamma's and beta's parts: this process's rows, as the one-process shards */
    rg_bn_backward(l, m->params, w->mask, w->delta, w->stats, 1, j->rows, j->shard, j->n_shards,
                   m->grads + l->offset, NULL);
    if (i == 0)
        return;
    gather(g, w->delta, j->first, j->rows, j->total, l->units);
    rg_bn_input_grad(l, m->params, w->stats, g->xhat[i], g->buf, j->total, w->mask, w->delta,
                     j->rows, m->ws[i - 1].delta);
}

void rg_bn_dp_idle(rg_bn_dp *g, regnn_model *m, size_t total)
{
    for (size_t i = 0; i < m->n_layers; i++)
        if (rg_layer_is_bn(m->layers[i]))
            rg_bn_dp_forward(g, m, i, NULL, 0, 0, total);
    for (size_t i = m->n_layers; i-- > 1;)
        if (rg_layer_is_bn(m->layers[i]))
            gather(g, NULL, 0, 0, total, m->layers[i]->units);
}

int rg_bn_dp_failed(const rg_bn_dp *g) { return g->failed; }

void rg_bn_dp_begin(rg_bn_dp *g) { g->failed = 0; }
