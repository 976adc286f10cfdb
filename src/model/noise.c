/* SPDX-License-Identifier: MIT */
/* The noise layers in training: GaussianNoise adds N(0, stddev^2) draws to
 * its input, GaussianDropout multiplies it by N(1, rate / (1 - rate)) draws.
 * The draws are made before the step by the calling thread (like dropout
 * masks), so the bits do not depend on the thread count; a process of a
 * data-parallel fit draws the whole batch's and keeps its rows'. */
#define _POSIX_C_SOURCE 200809L
#include "model_impl.h"

#include <math.h>
#include <string.h>

void rg_noise_draw(regnn_model *m, size_t layer, size_t first, size_t rows, size_t total,
                   int train)
{
    const regnn_layer *l = m->layers[layer];
    float *mk = m->ws[layer].mask;
    const size_t n = rows * l->units;
    const int add = l->type == REGNN_LAYERTYPE_GAUSSIAN_NOISE;
    if (!train || l->noise == 0.0) {
        for (size_t k = 0; k < n; k++)
            mk[k] = add ? 0.0f : 1.0f;
        return;
    }
    const double sd = add ? l->noise : sqrt(l->noise / (1.0 - l->noise));
    /* The whole batch's draws in row order; rows outside [first, first + rows) are
     * another process's (drawn and dropped so the stream stays in step). */
    for (size_t k = 0; k < first * l->units; k++)
        (void)rg_rng_normal(&m->rng);
    for (size_t k = 0; k < n; k++) {
        const double e = sd * rg_rng_normal(&m->rng);
        mk[k] = (float)(add ? e : 1.0 + e);
    }
    for (size_t k = (first + rows) * l->units; k < total * l->units; k++)
        (void)rg_rng_normal(&m->rng);
}

void rg_noise_forward(const regnn_model *m, size_t layer, const float *in, size_t r0, size_t r1)
{
    const regnn_layer *l = m->layers[layer];
    const rg_layer_ws *w = &m->ws[layer];
    const size_t k0 = r0 * l->units, k1 = r1 * l->units;
    if (l->type == REGNN_LAYERTYPE_GAUSSIAN_NOISE)
        for (size_t k = k0; k < k1; k++)
            w->act[k] = in[k] + w->mask[k];
    else
        for (size_t k = k0; k < k1; k++)
            w->act[k] = in[k] * w->mask[k];
}

void rg_noise_backward(const regnn_model *m, size_t layer, size_t r0, size_t r1)
{
    const regnn_layer *l = m->layers[layer];
    const rg_layer_ws *w = &m->ws[layer];
    float *lo = m->ws[layer - 1].delta;
    const size_t k0 = r0 * l->units, k1 = r1 * l->units;
    if (l->type == REGNN_LAYERTYPE_GAUSSIAN_NOISE) /* d(x + e)/dx = 1 */
        memcpy(lo + k0, w->delta + k0, (k1 - k0) * sizeof *lo);
    else
        for (size_t k = k0; k < k1; k++)
            lo[k] = w->delta[k] * w->mask[k];
}
