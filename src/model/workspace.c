/* SPDX-License-Identifier: MIT */
/* The training workspace: per-layer buffers, the penalty rows, the shard
 * buffers, the plans and the pool, grown for a batch and dropped together. */
#define _POSIX_C_SOURCE 200809L
#include "model_impl.h"

#include <string.h>

void rg_model_free_workspace(regnn_model *m)
{
    if (m->ws) {
        for (size_t i = 0; i < m->n_layers; i++) {
            rg_free(m->ws[i].act);
            if (m->ws[i].out != m->ws[i].act)
                rg_free(m->ws[i].out);
            rg_free(m->ws[i].mask);
            rg_free(m->ws[i].delta);
            rg_free(m->ws[i].pre);
            rg_free(m->ws[i].stats);
        }
        rg_free(m->ws);
    }
    m->ws = NULL;
    m->ws_batch = 0;
}

void rg_model_drop_workspace(regnn_model *m)
{
    rg_model_free_workspace(m);
    rg_free_aligned(m->params_next);
    m->params_next = NULL;
    rg_free(m->ws_pen);
    m->ws_pen = NULL;
    rg_free(m->ws_shard);
    m->ws_shard = NULL;
    m->ws_shards = 0;
    rg_free(m->own.seg);
    memset(&m->own, 0, sizeof m->own);
    memset(&m->flat, 0, sizeof m->flat);
    m->plan = NULL;
    rg_pool_free(m->pool);
    m->pool = NULL;
}

regnn_status rg_model_reserve_next(regnn_model *m)
{
    if (!m->params_next)
        m->params_next = rg_calloc_aligned(m->n_params, sizeof(float), RG_LINE);
    if (!m->params_next)
        return rg_error(REGNN_E_NOMEM, "out of memory for the training workspace");
    return REGNN_OK;
}

size_t rg_model_resolved_threads(const regnn_model *m, size_t batch)
{
    if (m->threads_resolved && (m->threads != 0 || m->threads_batch == batch))
        return m->threads_resolved;
    size_t weights = 0; /* the dense kernels': the products' multiply-adds per row */
    for (size_t i = 0; i < m->n_layers; i++)
        if (rg_layer_is_dense(m->layers[i]))
            weights += m->layers[i]->n_in * m->layers[i]->units;
    return rg_threads_resolve(m->threads, rg_step_macs(weights, batch));
}

/* The pool and both plans for the resolved thread count (none for one). */
static regnn_status reserve_threads(regnn_model *m, size_t batch)
{
    /* Resolved once per setting (and batch, for 0): the CPUs are read (system
     * calls) only then. */
    if (!m->threads_resolved || (m->threads == 0 && m->threads_batch != batch)) {
        m->threads_resolved = rg_model_resolved_threads(m, batch);
        m->threads_batch = batch;
    }
    const size_t nt = m->threads_resolved;
    if (m->pool && rg_pool_threads(m->pool) != nt) {
        rg_pool_free(m->pool); /* 0 resolved to another count for this batch */
        m->pool = NULL;
    }
    if (nt > 1 && !m->pool) {
        regnn_status st = rg_pool_create(nt, &m->pool);
        if (st != REGNN_OK)
            return st;
    }
    if (nt > 1 && m->own.tasks != nt) {
        const size_t per = 2 * m->n_layers;
        size_t *seg = rg_malloc(2 * 2 * nt * per * sizeof *seg);
        if (!seg)
            return rg_error(REGNN_E_NOMEM, "out of memory for the training workspace");
        rg_free(m->own.seg);
        m->own.seg = seg; /* one allocation holds both plans */
        m->flat.seg = seg + 2 * nt * per;
        m->own.tasks = m->flat.tasks = nt;
        m->own.per = m->flat.per = per;
        rg_own_plan(m);
        rg_flat_plan(m);
        m->plan = NULL;
    }
    return REGNN_OK;
}

/* Buffers for the shard parts of any batch up to this size (rg_shard_plan). */
static regnn_status reserve_shards(regnn_model *m, size_t batch)
{
    size_t need = 0, b[RG_SHARDS_MAX + 1];
    for (size_t r = batch < 512 ? batch : 512; r >= 64 && need < RG_SHARDS_MAX; r--) {
        size_t s = rg_shard_plan(m, r, b);
        if (s > 1 && s > need)
            need = s;
    }
    if (need > m->ws_shards) {
        float *p = rg_malloc(need * m->n_params * sizeof *p);
        if (!p)
            return rg_error(REGNN_E_NOMEM, "out of memory for the training workspace");
        rg_free(m->ws_shard);
        m->ws_shard = p;
        m->ws_shards = need;
    }
    return REGNN_OK;
}

/* The layers' buffers for batch rows, swapped in only when complete, so
 * failure keeps the old ones. */
static regnn_status reserve_layers(regnn_model *m, size_t batch)
{
    rg_layer_ws *ws = rg_calloc(m->n_layers, sizeof *ws);
    if (!ws)
        return rg_error(REGNN_E_NOMEM, "out of memory for the training workspace");
    int ok = 1;
    for (size_t i = 0; i < m->n_layers && ok; i++) {
        size_t n = batch * m->layers[i]->units; /* batch <= 2^31 checked by callers */
        ws[i].act = rg_malloc(n * sizeof(float));
        ws[i].delta = rg_malloc(n * sizeof(float));
        ok = ws[i].act && ws[i].delta;
        if (ok && rg_layer_is_dense(m->layers[i]) && rg_act(m->layers[i]->act)->needs_z) {
            ws[i].pre = rg_malloc(n * sizeof(float));
            ok = ws[i].pre != NULL;
        }
        if (ok && !rg_layer_is_dense(m->layers[i])) {
            ws[i].out = ws[i].act; /* act: the output; mask: the draws, or LN's x-hat */
            ws[i].mask = rg_malloc(n * sizeof(float));
            ok = ws[i].mask != NULL;
            if (ok && rg_layer_is_bn(m->layers[i])) {
                ws[i].stats = rg_malloc(3 * m->layers[i]->units * sizeof(double));
                ok = ws[i].stats != NULL;
            }
        } else if (ok && m->layers[i]->dropout > 0.0) {
            ws[i].out = rg_malloc(n * sizeof(float));
            ws[i].mask = rg_malloc(n * sizeof(float));
            ok = ws[i].out && ws[i].mask;
        } else {
            ws[i].out = ws[i].act;
        }
    }
    rg_layer_ws *old = m->ws;
    size_t old_batch = m->ws_batch;
    m->ws = ws;
    m->ws_batch = batch;
    if (!ok) {
        rg_model_free_workspace(m);
        m->ws = old;
        m->ws_batch = old_batch;
        return rg_error(REGNN_E_NOMEM, "out of memory for the training workspace");
    }
    if (old) {
        regnn_model tmp = *m;
        tmp.ws = old;
        rg_model_free_workspace(&tmp);
    }
    return REGNN_OK;
}

regnn_status rg_model_reserve(regnn_model *m, size_t batch)
{
    if (!m->ws_pen) {
        size_t rows = 0;
        for (size_t i = 0; i < m->n_layers; i++)
            rows += m->layers[i]->n_in + 1; /* kernel rows, then the bias */
        m->ws_pen = rg_calloc(rows, sizeof *m->ws_pen);
        if (!m->ws_pen)
            return rg_error(REGNN_E_NOMEM, "out of memory for the training workspace");
    }
    regnn_status st = reserve_threads(m, batch);
    if (st == REGNN_OK && m->threads_resolved > 1)
        st = reserve_shards(m, batch);
    if (st != REGNN_OK || (m->ws && m->ws_batch >= batch))
        return st;
    return reserve_layers(m, batch);
}

int rg_model_has_workspace(const regnn_model *m, size_t rows)
{
    return m->ws && m->ws_batch >= rows;
}
