/* Dense layer kernels: forward with bias and activation fused into one pass
 * after the GEMM, activation derivatives from the stored outputs, and the
 * kernel penalty. */
#include "internal.h"

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

void rg_dense_forward(const struct regnn_layer *l, const float *params, const float *in,
                      size_t rows, float *out)
{
    const size_t n_in = l->n_in, units = l->units;
    const float *w = params + l->offset;
    const float *b = w + n_in * units;
    /* One row is a matrix-vector product; GEMM would pack the whole kernel for it. */
    if (rows == 1)
        rg_sgemv_t(n_in, units, w, units, in, out);
    else
        rg_sgemm(0, 0, rows, units, n_in, 1.0f, in, n_in, w, units, 0.0f, out, units);
    for (size_t r = 0; r < rows; r++) {
        float *o = out + r * units;
        switch (l->act) {
        case REGNN_ACT_RELU:
            for (size_t j = 0; j < units; j++) {
                float z = o[j] + b[j];
                o[j] = z > 0.0f ? z : 0.0f;
            }
            break;
        case REGNN_ACT_SIGMOID:
            for (size_t j = 0; j < units; j++)
                o[j] = 1.0f / (1.0f + expf(-(o[j] + b[j])));
            break;
        case REGNN_ACT_TANH:
            for (size_t j = 0; j < units; j++)
                o[j] = tanhf(o[j] + b[j]);
            break;
        default:
            for (size_t j = 0; j < units; j++)
                o[j] += b[j];
            break;
        }
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

double rg_dense_penalty(const struct regnn_layer *l, const float *params)
{
    if (l->l2 == 0.0 && l->l1 == 0.0)
        return 0.0;
    const float *w = params + l->offset;
    size_t n = l->n_in * l->units;
    double s2 = 0.0, s1 = 0.0;
    for (size_t i = 0; i < n; i++) {
        s2 += (double)w[i] * w[i];
        s1 += fabs((double)w[i]);
    }
    return l->l2 * s2 + l->l1 * s1;
}
