/* SPDX-License-Identifier: MIT */
/* Dense layer kernels: forward with bias and activation fused into one pass
 * after the GEMM, activation derivatives, and the kernel penalty. Each
 * activation is one entry of ACTS: its name, forward and derivative. */
#include "model_impl.h"

#include <math.h>

#define INV_SQRT2 0.70710678118654752440    /* 1 / sqrt(2) */
#define INV_SQRT_2PI 0.39894228040143267794 /* 1 / sqrt(2 pi) */

/* Each forward sets o[j] = act(o[j] + b[j]) for j < n. Those that need a
 * transcendental function beyond expf run it in double and round once to
 * float (docs/api.md, Activations). */
static void fwd_linear(float *restrict o, const float *restrict b, size_t n)
{
    for (size_t j = 0; j < n; j++)
        o[j] += b[j];
}

static void fwd_relu(float *restrict o, const float *restrict b, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        float z = o[j] + b[j];
        o[j] = z > 0.0f ? z : 0.0f;
    }
}

static void fwd_sigmoid(float *restrict o, const float *restrict b, size_t n)
{
    for (size_t j = 0; j < n; j++)
        o[j] = 1.0f / (1.0f + expf(-(o[j] + b[j])));
}

static void fwd_tanh(float *restrict o, const float *restrict b, size_t n)
{
    /* double tanh rounded to float, not tanhf: glibc's tanhf gives other
     * bits on ARM64 than on x86-64; its tanh gives the same. */
    for (size_t j = 0; j < n; j++)
        o[j] = (float)tanh((double)(o[j] + b[j]));
}

static void fwd_elu(float *restrict o, const float *restrict b, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        const double z = (double)(o[j] + b[j]);
        o[j] = (float)(z > 0.0 ? z : RG_ELU_ALPHA * expm1(z));
    }
}

static void fwd_selu(float *restrict o, const float *restrict b, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        const double z = (double)(o[j] + b[j]);
        o[j] = (float)(RG_SELU_SCALE * (z > 0.0 ? z : RG_SELU_ALPHA * expm1(z)));
    }
}

static void fwd_gelu(float *restrict o, const float *restrict b, size_t n)
{
    /* 1 + erf(x) written as erfc(-x): no cancellation for negative z. */
    for (size_t j = 0; j < n; j++) {
        const double z = (double)(o[j] + b[j]);
        o[j] = (float)(0.5 * z * erfc(-z * INV_SQRT2));
    }
}

static void fwd_swish(float *restrict o, const float *restrict b, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        const double z = (double)(o[j] + b[j]);
        o[j] = (float)(z / (1.0 + exp(-z)));
    }
}

static void fwd_leaky_relu(float *restrict o, const float *restrict b, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        const float z = o[j] + b[j], neg = (float)RG_LEAKY_SLOPE * z;
        o[j] = z > 0.0f ? z : neg;
    }
}

static void fwd_softplus(float *restrict o, const float *restrict b, size_t n)
{
    /* max(z, 0) + log1p(exp(-|z|)): exp never overflows. */
    for (size_t j = 0; j < n; j++) {
        const double z = (double)(o[j] + b[j]);
        o[j] = (float)(fmax(z, 0.0) + log1p(exp(-fabs(z))));
    }
}

/* Each derivative sets delta[i] *= act'(z[i]), from the output a = act(z)
 * where that determines act'(z), else from z. Where act is not smooth (z = 0)
 * the derivative is the left one, as for relu (a > 0 is false at z = 0). */
RG_SIMD_CLONES
static void bwd_relu(const float *restrict a, const float *restrict z, float *restrict delta,
                     size_t n)
{
    (void)z;
    for (size_t i = 0; i < n; i++)
        delta[i] = a[i] > 0.0f ? delta[i] : 0.0f;
}

RG_SIMD_CLONES
static void bwd_sigmoid(const float *restrict a, const float *restrict z, float *restrict delta,
                        size_t n)
{
    (void)z;
    for (size_t i = 0; i < n; i++)
        delta[i] *= a[i] * (1.0f - a[i]);
}

RG_SIMD_CLONES
static void bwd_tanh(const float *restrict a, const float *restrict z, float *restrict delta,
                     size_t n)
{
    (void)z;
    for (size_t i = 0; i < n; i++)
        delta[i] *= 1.0f - a[i] * a[i];
}

/* elu'(z) = alpha * exp(z) = a + alpha for z <= 0. */
static void bwd_elu(const float *restrict a, const float *restrict z, float *restrict delta,
                    size_t n)
{
    (void)z;
    for (size_t i = 0; i < n; i++) {
        const float neg = delta[i] * (a[i] + (float)RG_ELU_ALPHA);
        delta[i] = a[i] > 0.0f ? delta[i] : neg;
    }
}

/* selu'(z) = scale * alpha * exp(z) = a + scale * alpha for z <= 0. */
static void bwd_selu(const float *restrict a, const float *restrict z, float *restrict delta,
                     size_t n)
{
    (void)z;
    for (size_t i = 0; i < n; i++) {
        const float pos = delta[i] * (float)RG_SELU_SCALE;
        const float neg = delta[i] * (a[i] + (float)(RG_SELU_SCALE * RG_SELU_ALPHA));
        delta[i] = a[i] > 0.0f ? pos : neg;
    }
}

/* gelu'(z) = Phi(z) + z * phi(z). */
static void bwd_gelu(const float *restrict a, const float *restrict z, float *restrict delta,
                     size_t n)
{
    (void)a;
    for (size_t i = 0; i < n; i++) {
        const double x = (double)z[i];
        delta[i] *= (float)(0.5 * erfc(-x * INV_SQRT2) + x * exp(-0.5 * x * x) * INV_SQRT_2PI);
    }
}

/* swish'(z) = s + z * s * (1 - s), s = sigmoid(z). */
static void bwd_swish(const float *restrict a, const float *restrict z, float *restrict delta,
                      size_t n)
{
    (void)a;
    for (size_t i = 0; i < n; i++) {
        const double x = (double)z[i], s = 1.0 / (1.0 + exp(-x));
        delta[i] *= (float)(s * (1.0 + x * (1.0 - s)));
    }
}

static void bwd_leaky_relu(const float *restrict a, const float *restrict z,
                           float *restrict delta, size_t n)
{
    (void)z;
    for (size_t i = 0; i < n; i++) {
        const float neg = delta[i] * (float)RG_LEAKY_SLOPE;
        delta[i] = a[i] > 0.0f ? delta[i] : neg;
    }
}

/* softplus'(z) = sigmoid(z) = 1 - exp(-a). */
static void bwd_softplus(const float *restrict a, const float *restrict z, float *restrict delta,
                         size_t n)
{
    (void)z;
    for (size_t i = 0; i < n; i++)
        delta[i] *= (float)-expm1(-(double)a[i]);
}

/* Indexed by REGNN_ACT_*. gain and offset bound the output:
 * |act(z)| <= max(gain * |z| + offset, 1) (rg_model_predictions_bounded). */
_Static_assert(REGNN_ACT_SOFTPLUS + 1 == RG_ACT_COUNT, "RG_ACT_COUNT is the REGNN_ACT_* count");
static const rg_act_def ACTS[RG_ACT_COUNT] = {
    [REGNN_ACT_LINEAR] = {"linear", fwd_linear, NULL, 0, 1.0, 0.0},
    [REGNN_ACT_RELU] = {"relu", fwd_relu, bwd_relu, 0, 1.0, 0.0},
    [REGNN_ACT_SIGMOID] = {"sigmoid", fwd_sigmoid, bwd_sigmoid, 0, 1.0, 0.0},
    [REGNN_ACT_TANH] = {"tanh", fwd_tanh, bwd_tanh, 0, 1.0, 0.0},
    [REGNN_ACT_ELU] = {"elu", fwd_elu, bwd_elu, 0, 1.0, 0.0},
    [REGNN_ACT_SELU] = {"selu", fwd_selu, bwd_selu, 0, RG_SELU_SCALE,
                        RG_SELU_SCALE * RG_SELU_ALPHA},
    [REGNN_ACT_GELU] = {"gelu", fwd_gelu, bwd_gelu, 1, 1.0, 0.0},
    [REGNN_ACT_SWISH] = {"swish", fwd_swish, bwd_swish, 1, 1.0, 0.0},
    [REGNN_ACT_LEAKY_RELU] = {"leaky_relu", fwd_leaky_relu, bwd_leaky_relu, 0, 1.0, 0.0},
    [REGNN_ACT_SOFTPLUS] = {"softplus", fwd_softplus, bwd_softplus, 0, 1.0, 1.0},
};

const rg_act_def *rg_act(int act)
{
    return act >= 0 && act < RG_ACT_COUNT ? &ACTS[act] : NULL;
}

const char *rg_act_name(int act)
{
    const rg_act_def *d = rg_act(act);
    return d ? d->name : NULL;
}

void rg_dense_bias_act(const struct regnn_layer *l, const float *params, float *out, float *pre,
                       size_t r0, size_t r1, size_t c0, size_t c1)
{
    const size_t units = l->units;
    const float *b = params + l->offset + l->n_in * units + c0;
    const size_t n = c1 - c0;
    const rg_act_def *d = &ACTS[l->act];
    for (size_t r = r0; r < r1; r++) {
        float *o = out + r * units + c0;
        if (pre && d->needs_z) {
            float *z = pre + r * units + c0;
            for (size_t j = 0; j < n; j++)
                z[j] = o[j] + b[j];
        }
        d->forward(o, b, n);
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
                      size_t rows, float *out, float *pre)
{
    /* One row is a matrix-vector product; GEMM would pack the whole kernel for it. */
    if (rows == 1) {
        rg_sgemv_t(l->n_in, l->units, params + l->offset, l->units, in, out);
        rg_dense_bias_act(l, params, out, pre, 0, 1, 0, l->units);
        return;
    }
    rg_gemm g;
    rg_dense_gemm(&g, l, params, in, rows, out);
    rg_gemm_plan(&g, 1, 0);
    for (size_t p = 0; p < g.pr * g.pc; p++) {
        size_t r0, r1, c0, c1;
        rg_gemm_piece(&g, p, &r0, &r1, &c0, &c1);
        rg_dense_bias_act(l, params, out, pre, r0, r1, c0, c1);
    }
}

void rg_dense_act_backward(int act, const float *a, const float *z, float *delta, size_t n)
{
    const rg_act_def *d = &ACTS[act];
    if (d->backward)
        d->backward(a, z, delta, n);
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
