/* SPDX-License-Identifier: MIT */
/* LayerNormalization (Keras, axis -1, center and scale), and below
 * BatchNormalization. LayerNormalization, per row,
 * y = gamma * (x - mean) / sqrt(var + epsilon) + beta, var the biased variance.
 * Row statistics in double; the parameters' gradient sums in float from +0
 * over rows in order, in column blocks (as the bias's), so a part's bits do
 * not depend on where it runs. */
#define _POSIX_C_SOURCE 200809L
#include "model_impl.h"

#include <math.h>
#include <string.h>

/* The row's mean and 1 / sqrt(var + epsilon). */
static void row_stats(const float *x, size_t n, double eps, double *mean, double *inv)
{
    double s = 0.0, q = 0.0;
    for (size_t k = 0; k < n; k++)
        s += x[k];
    const double mu = s / (double)n;
    for (size_t k = 0; k < n; k++)
        q += ((double)x[k] - mu) * ((double)x[k] - mu);
    *mean = mu;
    *inv = 1.0 / sqrt(q / (double)n + eps);
}

void rg_ln_forward(const regnn_layer *l, const float *params, const float *in, size_t rows,
                   float *out, float *xhat)
{
    const size_t u = l->units;
    const float *gamma = params + l->offset, *beta = gamma + u;
    for (size_t r = 0; r < rows; r++) {
        const float *x = in + r * u;
        double mu, inv;
        row_stats(x, u, l->noise, &mu, &inv);
        for (size_t k = 0; k < u; k++) {
            const double h = ((double)x[k] - mu) * inv;
            out[r * u + k] = (float)(gamma[k] * h + beta[k]);
            if (xhat)
                xhat[r * u + k] = (float)h;
        }
    }
}

/* gamma's and beta's part of rows r0..r1: sum of dy * x-hat and of dy. */
static void param_part(size_t u, const float *xhat, const float *dy, size_t r0, size_t r1,
                       float *g, int add)
{
    enum { COLS = 64 };
    for (size_t cb = 0; cb < u; cb += COLS) {
        const size_t ce = u - cb < COLS ? u : cb + COLS;
        float ag[COLS], ab[COLS];
        memset(ag, 0, sizeof ag);
        memset(ab, 0, sizeof ab);
        for (size_t r = r0; r < r1; r++)
            for (size_t c = cb; c < ce; c++) {
                ag[c - cb] += dy[r * u + c] * xhat[r * u + c];
                ab[c - cb] += dy[r * u + c];
            }
        for (size_t c = cb; c < ce; c++) {
            g[c] = add ? g[c] + ag[c - cb] : ag[c - cb];
            g[u + c] = add ? g[u + c] + ab[c - cb] : ab[c - cb];
        }
    }
}

void rg_ln_backward(const regnn_layer *l, const float *params, const float *in,
                    const float *xhat, const float *dy, size_t r0, size_t r1, float *g, int add,
                    float *dx)
{
    const size_t u = l->units;
    param_part(u, xhat, dy, r0, r1, g, add);
    if (!dx)
        return;
    const float *gamma = params + l->offset;
    for (size_t r = r0; r < r1; r++) {
        const float *x = in + r * u, *d = dy + r * u;
        double mu, inv, sg = 0.0, sgh = 0.0;
        row_stats(x, u, l->noise, &mu, &inv);
        for (size_t k = 0; k < u; k++) {
            const double gk = (double)d[k] * gamma[k];
            sg += gk;
            sgh += gk * ((double)x[k] - mu) * inv;
        }
        /* dx = inv * (g - mean(g) - x-hat * mean(g * x-hat)) */
        for (size_t k = 0; k < u; k++) {
            const double h = ((double)x[k] - mu) * inv;
            dx[r * u + k] = (float)(inv * ((double)d[k] * gamma[k] - sg / (double)u -
                                          h * sgh / (double)u));
        }
    }
}

/* ---- BatchNormalization (Keras, axis -1, center and scale) ----
 * In training, per unit over the batch's rows (in row order, in double):
 * mean = sum x / B, var = sum (x - mean)^2 / B; in inference the moving ones. */

/* Unit k's batch mean and biased variance over `rows` rows of in (u units a
 * row), each summed in double over the rows in order. */
static void bn_unit_stats(const float *in, size_t u, size_t k, size_t rows, double *mu,
                          double *var)
{
    double s = 0.0, q = 0.0;
    for (size_t r = 0; r < rows; r++)
        s += in[r * u + k];
    *mu = s / (double)rows;
    for (size_t r = 0; r < rows; r++)
        q += ((double)in[r * u + k] - *mu) * ((double)in[r * u + k] - *mu);
    *var = q / (double)rows;
}

/* Unit k of `rows` rows normalized with mu and inv: out (when not NULL) and
 * x-hat (when not NULL). */
static void bn_unit_apply(const float *params, size_t u, size_t k, double mu, double inv,
                          const float *in, size_t rows, float *out, float *xhat)
{
    const float gamma = params[k], beta = params[u + k];
    for (size_t r = 0; r < rows; r++) {
        const double h = ((double)in[r * u + k] - mu) * inv;
        if (out)
            out[r * u + k] = (float)(gamma * h + beta);
        if (xhat)
            xhat[r * u + k] = (float)h;
    }
}

void rg_bn_forward(const regnn_layer *l, const float *params, const float *in, size_t rows,
                   float *out, float *xhat, double *stats, int train)
{
    const size_t u = l->units;
    for (size_t k = 0; k < u; k++) {
        double mu, var;
        if (train) {
            bn_unit_stats(in, u, k, rows, &mu, &var);
        } else {
            mu = l->moving[k];
            var = l->moving[u + k];
        }
        const double inv = 1.0 / sqrt(var + l->noise);
        if (stats) {
            stats[k] = mu;
            stats[u + k] = var;
            stats[2 * u + k] = inv;
        }
        bn_unit_apply(params + l->offset, u, k, mu, inv, in, rows, out, xhat);
    }
}

void rg_bn_stats(const regnn_layer *l, const float *in, size_t rows, double *stats)
{
    const size_t u = l->units;
    for (size_t k = 0; k < u; k++) {
        bn_unit_stats(in, u, k, rows, &stats[k], &stats[u + k]);
        stats[2 * u + k] = 1.0 / sqrt(stats[u + k] + l->noise);
    }
}

void rg_bn_apply(const regnn_layer *l, const float *params, const double *stats, const float *in,
                 size_t rows, float *out, float *xhat)
{
    const size_t u = l->units;
    for (size_t k = 0; k < u; k++)
        bn_unit_apply(params + l->offset, u, k, stats[k], stats[2 * u + k], in, rows, out, xhat);
}

void rg_bn_input_grad(const regnn_layer *l, const float *params, const double *stats,
                      const float *xhat_all, const float *dy_all, size_t total,
                      const float *xhat, const float *dy, size_t rows, float *dx)
{
    const size_t u = l->units;
    const float *gamma = params + l->offset;
    for (size_t k = 0; k < u; k++) {
        const double inv = stats[2 * u + k];
        double sd = 0.0, sdh = 0.0;
        if (xhat_all) /* the batch's statistics depend on every row */
            for (size_t r = 0; r < total; r++) {
                sd += dy_all[r * u + k];
                sdh += (double)dy_all[r * u + k] * xhat_all[r * u + k];
            }
        /* dx = gamma * inv * (dy - mean(dy) - x-hat * mean(dy * x-hat)) */
        for (size_t r = 0; r < rows; r++)
            dx[r * u + k] = (float)(gamma[k] * inv *
                                    ((double)dy[r * u + k] - sd / (double)total -
                                     (double)xhat[r * u + k] * sdh / (double)total));
    }
}

void rg_bn_backward(const regnn_layer *l, const float *params, const float *xhat,
                    const float *dy, const double *stats, int train, size_t rows,
                    const size_t *shard, size_t n_shards, float *g, float *dx)
{
    const size_t u = l->units;
    for (size_t s = 0; s < n_shards; s++)
        param_part(u, xhat, dy, shard[s], shard[s + 1], g, s > 0);
    if (dx)
        rg_bn_input_grad(l, params, stats, train ? xhat : NULL, dy, rows, xhat, dy, rows, dx);
}

void rg_bn_commit(regnn_model *m)
{
    for (size_t i = 0; i < m->n_layers; i++) {
        const regnn_layer *l = m->layers[i];
        if (!rg_layer_is_bn(l))
            continue;
        const size_t u = l->units;
        const double *st = m->ws[i].stats, mo = l->momentum;
        for (size_t k = 0; k < 2 * u; k++)
            l->moving[k] = (float)(l->moving[k] * mo + st[k] * (1.0 - mo));
    }
}
