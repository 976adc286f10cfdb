/* SPDX-License-Identifier: MIT */
/* Where a step's work runs: the threads' parameter ranges (by owned kernel
 * rows, or contiguous chunks) and the shard rule of a batch. */
#define _POSIX_C_SOURCE 200809L
#include "model_impl.h"

#include <string.h>

/* ---- parameter ownership ----
 * With T threads, each layer's kernel rows are cut into T ranges of whole
 * multiples of 8 rows (its bias into T ranges of multiples of 16), and task t
 * owns range t of every layer; a layer under RG_OWN_MIN parameters is not cut
 * (task 0 owns it). A thread computes its rows' kernel gradient and the matching
 * columns of the input gradient (which read the same kernel rows), adds its
 * rows' shard parts and updates them; so the kernel rows stay in one core's
 * cache from step to step. The plan decides where work runs, never what it
 * computes. */
#define RG_OWN_MIN 4096
#define RG_OWN_ROWS 256

static size_t own_step(size_t n, size_t parts, size_t align)
{
    return ((n + parts - 1) / parts + align - 1) / align * align;
}

/* Rows [lo, hi) of n in part t of parts, steps of align. */
static void own_cut(size_t n, size_t parts, size_t align, size_t t, size_t *lo, size_t *hi)
{
    const size_t st = own_step(n, parts, align);
    *lo = t * st < n ? t * st : n;
    *hi = (t + 1) * st < n ? (t + 1) * st : n;
}

static size_t own_parts(const regnn_layer *l, size_t nt)
{
    return rg_layer_kernel_rows(l) * l->units < RG_OWN_MIN ? 1 : nt;
}

/* The sharded steps' plan: task t owns the parameters in one contiguous
 * chunk (optimizer.c's), a kernel row going with its first element. */
void rg_flat_plan(regnn_model *m)
{
    const size_t nt = m->flat.tasks, chunk = rg_optimizer_chunk(m->n_params, nt);
    for (size_t t = 0; t < nt; t++) {
        const size_t e0 = t * chunk < m->n_params ? t * chunk : m->n_params;
        const size_t e1 = m->n_params - e0 < chunk ? m->n_params : e0 + chunk;
        for (size_t i = 0; i < m->n_layers; i++) {
            const regnn_layer *l = m->layers[i];
            const size_t off = l->offset, u = l->units, kr = rg_layer_kernel_rows(l), nk = kr * u;
            size_t *seg = m->flat.seg + 2 * (t * m->flat.per + 2 * i);
            if (rg_layer_is_noise(l)) { /* no parameters: empty ranges */
                seg[0] = seg[1] = seg[2] = seg[3] = off;
                continue;
            }
            size_t r0 = e0 <= off ? 0 : (e0 - off + u - 1) / u;
            size_t r1 = e1 <= off ? 0 : (e1 - off + u - 1) / u;
            r0 = r0 < kr ? r0 : kr;
            r1 = r1 < kr ? r1 : kr;
            size_t b0 = off + nk, b1 = b0 + u;
            b0 = b0 < e0 ? e0 : b0;
            b1 = b1 > e1 ? e1 : b1;
            seg[0] = off + r0 * u;
            seg[1] = off + r1 * u;
            seg[2] = b0 < b1 ? b0 : b1;
            seg[3] = b1;
        }
    }
}

void rg_own_plan(regnn_model *m)
{
    const size_t nt = m->own.tasks;
    for (size_t t = 0; t < nt; t++)
        for (size_t i = 0; i < m->n_layers; i++) {
            const regnn_layer *l = m->layers[i];
            const size_t kr = rg_layer_kernel_rows(l), parts = own_parts(l, nt), nk = kr * l->units;
            size_t *seg = m->own.seg + 2 * (t * m->own.per + 2 * i);
            size_t r0 = 0, r1 = 0, b0 = 0, b1 = 0;
            if (rg_layer_is_noise(l)) { /* no parameters: empty ranges */
                seg[0] = seg[1] = seg[2] = seg[3] = l->offset;
                continue;
            }
            if (t < parts) {
                own_cut(kr, parts, 8, t, &r0, &r1);
                own_cut(l->units, parts, 16, t, &b0, &b1);
            }
            seg[0] = l->offset + r0 * l->units;
            seg[1] = l->offset + r1 * l->units;
            seg[2] = l->offset + nk + b0;
            seg[3] = l->offset + nk + b1;
        }
}

const rg_plan *rg_model_plan(const regnn_model *m)
{
    return m->plan && m->plan->tasks == rg_pool_threads(m->pool) ? m->plan : NULL;
}

/* ---- shards ----
 * A batch of 64 to 512 rows of a model whose every layer product is small
 * (rows * n_in * units <= RG_SMALL_MNK, so the built-in kernel computes all of
 * them in every build) is cut into S = min(4, rows / 32) shards of whole
 * multiples of 8 rows (at most RG_GEMM_ADD_K each). The rule looks at the
 * batch and the model only, never at the thread count. A sharded step's
 * gradients are, per element,
 *     kernel: ((P_0 + P_1) + ... + P_{S-1}) + (2*l2*w + l1*sign(w))
 *     bias:   (P_0 + P_1) + ... + P_{S-1}
 *     loss sums: shard sums from 0 in row order, added in shard order
 * where P_s is shard s's part (its rows, the batch's scale), summed from +0
 * over its rows ascending. One thread computes the batch layer by layer and
 * adds each P_s as it goes (rg_sgemm_builtin_add); several threads each run
 * whole shards, forward and backward, with no wait between layers, and then
 * add the parts up over kernel rows in the same order. Same bits either way. */
#define RG_SHARD_MIN_ROWS 32

size_t rg_shard_plan(const regnn_model *m, size_t rows,
                     size_t bounds[RG_SHARDS_MAX + 1])
{
    size_t s = rows / RG_SHARD_MIN_ROWS;
    for (size_t i = 0; i < m->n_layers && s >= 2; i++)
        if (rg_layer_is_dense(m->layers[i]) && /* the others: no product */
            ((double)rows * (double)m->layers[i]->n_in * (double)m->layers[i]->units > RG_SMALL_MNK))
            s = 1;
    if (s < 2 || rows > RG_SHARDS_MAX * RG_GEMM_ADD_K) {
        bounds[0] = 0;
        bounds[1] = rows;
        return 1;
    }
    if (s > RG_SHARDS_MAX)
        s = RG_SHARDS_MAX;
    const size_t per = ((rows + s - 1) / s + 7) / 8 * 8;
    size_t n = 0;
    for (size_t r = 0; r < rows; r += per)
        bounds[n++] = r;
    bounds[n] = rows;
    return n;
}

size_t rg_model_shards(const regnn_model *m, size_t rows, size_t *bounds)
{
    size_t b[RG_SHARDS_MAX + 1];
    const size_t n = rg_shard_plan(m, rows, b);
    if (bounds)
        memcpy(bounds, b, (n + 1) * sizeof *b);
    return n;
}

size_t rg_model_shard_part(const regnn_model *m, size_t rows, size_t index, size_t *lo,
                           size_t *len)
{
    size_t b[RG_SHARDS_MAX + 1];
    const size_t n = rg_shard_plan(m, rows, b);
    *lo = index < n ? b[index] : 0;
    *len = index < n ? b[index + 1] - b[index] : 0;
    return n;
}

/* ---- the decomposition of a step (step.c asks) ---- */

/* A step runs as shards on the threads when the batch has several shards and
 * the workspace holds their parts. */
int rg_step_sharded(const regnn_model *m, size_t n_shards, size_t nt)
{
    /* BatchNormalization needs the whole batch between layers: never as shards. */
    int bn = 0;
    for (size_t i = 0; i < m->n_layers; i++)
        bn |= rg_layer_is_bn(m->layers[i]);
    return n_shards > 1 && nt > 1 && m->ws_shards >= n_shards && m->own.tasks == nt && !bn;
}

/* Up to RG_OWN_ROWS rows, a layer's products are cheap next to moving its
 * kernel between cores: cut them by the rows each thread owns. */
int rg_step_owned(const regnn_model *m, size_t rows, size_t n_shards, size_t nt)
{
    return nt > 1 && m->own.tasks == nt && n_shards == 1 && rows <= RG_OWN_ROWS;
}

/* Built-in pieces may follow the thread count (gemm.c): cut both products of
 * layer l (j->g1, j->g2) along the kernel rows each thread owns. */
void rg_own_products(step_job *j, const regnn_layer *l, size_t nt)
{
    const size_t st = own_step(l->n_in, own_parts(l, nt), 8);
    j->g1.pr = (l->n_in + st - 1) / st;
    j->g1.rstep = st;
    j->g1.pc = 1;
    j->g1.cstep = l->units;
    j->g2.pr = 1;
    j->g2.rstep = j->rows;
    j->g2.pc = j->g1.pr;
    j->g2.cstep = st;
}

/* Forward on owned rows: the product of a layer cut into parts (own_parts)
 * is cut by output columns in whole micro-tiles (32), one piece per part,
 * when each piece has at least 64 columns. Each thread then reads only its
 * columns of the kernel, not all of it (as a cut by batch rows does): its
 * half on 2 threads, of which only the rows the other thread updated last
 * step cross between cores. */
void rg_own_forward(rg_gemm *g, const regnn_layer *l, size_t nt)
{
    const size_t parts = own_parts(l, nt);
    if (!g->builtin || parts < 2 || l->units < 64 * parts)
        return;
    const size_t st = own_step(l->units, parts, 32);
    g->pr = 1;
    g->rstep = g->m;
    g->pc = (l->units + st - 1) / st;
    g->cstep = st;
}
