/* SPDX-License-Identifier: MIT */
/* Dense layer kernels: forward with bias and activation fused into one pass
 * after the GEMM, activation derivatives from the stored outputs, and the
 * kernel penalty. */
#include "model_impl.h"

#include <math.h>

const char *rg_act_name(int act)
{
    switch (act) {
    case REGNN_ACT_LINEAR: return "linear";
    case REGNN_ACT_RELU: return "relu";
    case REGNN_ACT_SIGMOID: return "sigmoid";
    case REGNN_ACT_TANH: return "tanh";
    default: return NULL;
    }
}

void rg_dense_bias_act(const struct regnn_layer *l, const float *params, float *out, size_t r0,
                       size_t r1, size_t c0, size_t c1)
{
    const size_t units = l->units;
    const float *b = params + l->offset + l->n_in * units + c0;
    const size_t n = c1 - c0;
    for (size_t r = r0; r < r1; r++) {
        float *o = out + r * units + c0;
        switch (l->act) {
        case REGNN_ACT_RELU:
            for (size_t j = 0; j < n; j++) {
                float z = o[j] + b[j];
                o[j] = z > 0.0f ? z : 0.0f;
            }
            break;
        case REGNN_ACT_SIGMOID:
            for (size_t j = 0; j < n; j++)
                o[j] = 1.0f / (1.0f + expf(-(o[j] + b[j])));
            break;
        case REGNN_ACT_TANH:
            /* double tanh rounded to float, not tanhf: glibc's tanhf gives
             * other bits on ARM64 than on x86-64; its tanh gives the same
             * (docs/reproducibility.md). */
            for (size_t j = 0; j < n; j++)
                o[j] = (float)tanh((double)(o[j] + b[j]));
            break;
        default:
            for (size_t j = 0; j < n; j++)
                o[j] += b[j];
            break;
        }
    }
}

void rg_dense_gemm(rg_gemm *g, const struct regnn_layer *l, const float *params, const float *in,
                   size_t rows, float *out)
{
    const rg_gemm t = {0, 0, rows, l->units, l->n_in, 1.0f, in, l->n_in,
                       params + l->offset, l->units, 0.0f, out, l->units, 0, 1, 1, rows, l->units};
    *g = t;
}

void rg_dense_forward(const struct regnn_layer *l, const float *params, const float *in,
                      size_t rows, float *out)
{
    /* One row is a matrix-vector product; GEMM would pack the whole kernel for it. */
    if (rows == 1) {
        rg_sgemv_t(l->n_in, l->units, params + l->offset, l->units, in, out);
        rg_dense_bias_act(l, params, out, 0, 1, 0, l->units);
        return;
    }
    rg_gemm g;
    rg_dense_gemm(&g, l, params, in, rows, out);
    rg_gemm_plan(&g, 1, 0);
    for (size_t p = 0; p < g.pr * g.pc; p++) {
        size_t r0, r1, c0, c1;
        rg_gemm_piece(&g, p, &r0, &r1, &c0, &c1);
        rg_dense_bias_act(l, params, out, r0, r1, c0, c1);
    }
}

RG_SIMD_CLONES
void rg_dense_act_backward(int act, const float *a, float *delta, size_t n)
{
    /* Derivatives written in terms of the output a = act(z), so z need not be kept. */
    switch (act) {
    case REGNN_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            delta[i] = a[i] > 0.0f ? delta[i] : 0.0f;
        break;
    case REGNN_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            delta[i] *= a[i] * (1.0f - a[i]);
        break;
    case REGNN_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            delta[i] *= 1.0f - a[i] * a[i];
        break;
    default:
        break;
    }
}

double rg_dense_activity(const struct regnn_layer *l, const float *act, size_t r0, size_t r1)
{
    double s2 = 0.0, s1 = 0.0;
    for (size_t k = r0 * l->units; k < r1 * l->units; k++) {
        s2 += (double)act[k] * act[k];
        s1 += fabs((double)act[k]);
    }
    return l->act_l2 * s2 + l->act_l1 * s1;
}

void rg_dense_activity_grad(const struct regnn_layer *l, const float *act, float *delta, size_t n)
{
    const float c2 = (float)(2.0 * l->act_l2), c1 = (float)l->act_l1;
    for (size_t k = 0; k < n; k++) {
        const float sg = (float)(act[k] > 0.0f) - (float)(act[k] < 0.0f);
        delta[k] = delta[k] + (c2 * act[k] + c1 * sg);
    }
}

int rg_dense_constrained(const struct regnn_layer *l)
{
    return l->max_norm > 0.0 || l->non_neg != 0.0 || l->unit_norm != 0.0;
}

/* keras.backend.epsilon(), which Keras's norm constraints add to the norm
 * they divide by. */
#define KERAS_EPSILON 1e-7

/* Columns [c0, c1) of the kernel w (n_in x units): each column's norm (its
 * squares summed in double, rows in order), then every weight of it
 * multiplied by desired / (eps + norm), or divided by eps + norm for
 * UnitNorm, in double and rounded once. */
static void norm_columns(const struct regnn_layer *l, float *w, size_t c0, size_t c1)
{
    enum { COLS = 64 };
    double f[COLS];
    const size_t u = l->units;
    for (size_t c = c0; c < c1; c++)
        f[c - c0] = 0.0;
    for (size_t r = 0; r < l->n_in; r++)
        for (size_t c = c0; c < c1; c++)
            f[c - c0] += (double)w[r * u + c] * w[r * u + c];
    for (size_t c = c0; c < c1; c++) {
        const double norm = sqrt(f[c - c0]);
        const double clipped = norm < l->min_norm ? l->min_norm
                               : norm > l->max_norm ? l->max_norm
                                                    : norm;
        const double desired = l->norm_rate * clipped + (1.0 - l->norm_rate) * norm;
        f[c - c0] = l->unit_norm != 0.0 ? KERAS_EPSILON + norm : desired / (KERAS_EPSILON + norm);
    }
    for (size_t r = 0; r < l->n_in; r++)
        for (size_t c = c0; c < c1; c++) {
            float *v = &w[r * u + c];
            *v = (float)(l->unit_norm != 0.0 ? *v / f[c - c0] : *v * f[c - c0]);
        }
}

void rg_dense_constrain(const struct regnn_layer *l, float *params)
{
    float *w = params + l->offset;
    if (l->non_neg != 0.0) {
        /* Keras: w * (w >= 0), so a negative weight becomes -0. */
        for (size_t k = 0; k < l->n_in * l->units; k++)
            w[k] = w[k] * (float)(w[k] >= 0.0f);
        return;
    }
    for (size_t c0 = 0; c0 < l->units; c0 += 64)
        norm_columns(l, w, c0, l->units - c0 < 64 ? l->units : c0 + 64);
}

double rg_dense_bias_penalty(const struct regnn_layer *l, const float *params)
{
    if (l->bias_l2 == 0.0 && l->bias_l1 == 0.0)
        return 0.0;
    const float *b = params + l->offset + l->n_in * l->units;
    double s2 = 0.0, s1 = 0.0;
    for (size_t j = 0; j < l->units; j++) {
        s2 += (double)b[j] * b[j];
        s1 += fabs((double)b[j]);
    }
    return l->bias_l2 * s2 + l->bias_l1 * s1;
}

void rg_dense_bias_grad(const struct regnn_layer *l, const float *params, float *grads, size_t c0,
                        size_t c1)
{
    if (l->bias_l2 == 0.0 && l->bias_l1 == 0.0)
        return;
    const size_t at = l->offset + l->n_in * l->units;
    const float c2 = (float)(2.0 * l->bias_l2), k1 = (float)l->bias_l1;
    for (size_t j = c0; j < c1; j++) {
        const float v = params[at + j];
        const float sg = (float)(v > 0.0f) - (float)(v < 0.0f);
        grads[at + j] = grads[at + j] + (c2 * v + k1 * sg);
    }
}

double rg_dense_penalty(const struct regnn_layer *l, const float *params)
{
    const double bias = rg_dense_bias_penalty(l, params);
    if (l->l2 == 0.0 && l->l1 == 0.0)
        return bias;
    const float *w = params + l->offset;
    size_t n = l->n_in * l->units;
    double s2 = 0.0, s1 = 0.0;
    for (size_t i = 0; i < n; i++) {
        s2 += (double)w[i] * w[i];
        s1 += fabs((double)w[i]);
    }
    return l->l2 * s2 + l->l1 * s1 + bias;
}
