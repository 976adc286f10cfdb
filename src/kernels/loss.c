/* SPDX-License-Identifier: MIT */
/* Training losses with Keras semantics (MSE, MAE, Huber, log-cosh) and
 * Keras sample_weight reduction: each row's loss is the mean over outputs of
 * the elementwise loss, weighted by the row's weight; the batch loss is the
 * sum of weighted row losses divided by the number of rows
 * (SUM_OVER_BATCH_SIZE), not by the weight sum. */
#include "kernels.h"

#include <math.h>

#define RG_LN2 0.69314718055994530942

const char *rg_loss_name(int kind)
{
    switch (kind) {
    case REGNN_LOSS_MSE: return "mse";
    case REGNN_LOSS_MAE: return "mae";
    case REGNN_LOSS_HUBER: return "huber";
    case REGNN_LOSS_LOG_COSH: return "log_cosh";
    default: return NULL;
    }
}

/* log(cosh(d)) = d + softplus(-2d) - log 2, as Keras computes it; softplus
 * written so that it neither overflows nor loses small values. */
static double log_cosh(double d)
{
    double t = -2.0 * d;
    double sp = t > 0.0 ? t + log1p(exp(-t)) : log1p(exp(t));
    return d + sp - RG_LN2;
}

double rg_loss_value(int kind, double param, double d)
{
    double a = fabs(d);
    switch (kind) {
    case REGNN_LOSS_MAE: return a;
    case REGNN_LOSS_HUBER: return a <= param ? 0.5 * d * d : param * a - 0.5 * param * param;
    case REGNN_LOSS_LOG_COSH: return log_cosh(d);
    default: return d * d;
    }
}

/* d loss / d prediction of one element. */
static double loss_grad(int kind, double param, double d)
{
    double sg = (double)(d > 0.0) - (double)(d < 0.0);
    switch (kind) {
    case REGNN_LOSS_MAE: return sg;
    case REGNN_LOSS_HUBER: return fabs(d) <= param ? d : param * sg;
    case REGNN_LOSS_LOG_COSH: return tanh(d);
    default: return 2.0 * d;
    }
}

void rg_loss_delta_part(int kind, double param, const float *out, const float *y, const float *w,
                        size_t rows, size_t n_out, size_t total_rows, float *delta, double sums[3])
{
    const double n = (double)total_rows * (double)n_out;
    double s2 = 0.0, s1 = 0.0, sl = 0.0;
    if (kind == REGNN_LOSS_MSE) {
        /* The gradient as one float product 2/n * d, the same bits with no
         * weights and with all-ones weights. */
        const float scale = (float)(2.0 / n);
        for (size_t r = 0; r < rows; r++) {
            const float wr = w ? w[r] : 1.0f, sr = scale * wr;
            for (size_t j = 0; j < n_out; j++) {
                size_t k = r * n_out + j;
                float d = out[k] - y[k];
                double dd = (double)d * d, ad = fabs((double)d);
                s2 += w ? wr * dd : dd;
                s1 += w ? wr * ad : ad;
                delta[k] = sr * d;
            }
        }
        sl = s2;
    } else {
        for (size_t r = 0; r < rows; r++) {
            const double wr = w ? w[r] : 1.0;
            for (size_t j = 0; j < n_out; j++) {
                size_t k = r * n_out + j;
                float d = out[k] - y[k];
                double dd = (double)d;
                s2 += wr * dd * dd;
                s1 += wr * fabs(dd);
                sl += wr * rg_loss_value(kind, param, dd);
                delta[k] = (float)(wr * loss_grad(kind, param, dd) / n);
            }
        }
    }
    sums[0] = sl;
    sums[1] = s2;
    sums[2] = s1;
}

double rg_loss_delta(int kind, double param, const float *out, const float *y, const float *w,
                     size_t rows, size_t n_out, float *delta, double *mse, double *mae)
{
    const double n = (double)rows * (double)n_out;
    double sums[3];
    rg_loss_delta_part(kind, param, out, y, w, rows, n_out, rows, delta, sums);
    *mse = sums[1] / n;
    *mae = sums[2] / n;
    return sums[0] / n;
}

void rg_loss_accumulate(int kind, double param, const float *out, const float *y, const float *w,
                        size_t rows, size_t n_out, rg_loss_sums *s)
{
    /* A weight of 1 multiplies exactly, so all-ones weights give the
     * unweighted sums bit for bit. */
    for (size_t r = 0; r < rows; r++) {
        const double wr = w ? w[r] : 1.0;
        for (size_t j = 0; j < n_out; j++) {
            double d = (double)out[r * n_out + j] - y[r * n_out + j];
            s->se += wr * (d * d);
            s->ae += wr * fabs(d);
            if (kind != REGNN_LOSS_MSE)
                s->loss += wr * rg_loss_value(kind, param, d);
        }
        s->w += wr;
    }
    if (kind == REGNN_LOSS_MSE)
        s->loss = s->se;
}
