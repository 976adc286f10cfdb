/* SPDX-License-Identifier: MIT */
/* One training step of an MLP against the GEMMs it performs, in the same run.
 * Usage: bench_step [batch] [widths...]   default: 64 10 128 128 128 128 128 128 1 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>

#include "optim/optim.h"
#include "benchreport.h"
#include "benchutil.h"
#include "regnn.h"

/* The Adam update as the library did it before it checked finiteness: in
 * place, the same arithmetic, no check. The library's steps are timed against it. */
RG_SIMD_CLONES
static void adam_unchecked(float *restrict p, const float *restrict g, float *restrict m,
                           float *restrict v, size_t n, float alpha, float c1, float c2, float eps)
{
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = m[i] + (gi - m[i]) * c1;
        float vi = v[i] + (gi * gi - v[i]) * c2;
        m[i] = mi;
        v[i] = vi;
        p[i] -= alpha * mi / (sqrtf(vi) + eps);
    }
}

enum { REP = 15 }; /* repetitions; each figure is their median */

/* The network of widths w[0..nw): ReLU hidden layers, L2 1e-3. */
static regnn_model *build_model(const size_t *w, size_t nw)
{
    regnn_model *m;
    regnn_model_create(w[0], &m);
    for (size_t i = 1; i < nw; i++)
        regnn_model_add_dense(m, w[i], i + 1 < nw ? REGNN_ACT_RELU : REGNN_ACT_LINEAR, NULL);
    regnn_model_set_layers_double(m, REGNN_LAYER_L2, 1e-3);
    regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 1);
    return m;
}

/* Steps per repetition: about 40 ms of them, 5 to 200. */
static size_t step_iters(regnn_model *m, regnn_optimizer *o, const float *x, const float *y,
                         size_t batch)
{
    double t_one = bench_now();
    for (int it = 0; it < 5; it++)
        regnn_train_batch(m, o, x, y, batch, NULL);
    t_one = (bench_now() - t_one) / 5;
    size_t iters = (size_t)(0.04 / t_one);
    return iters < 5 ? 5 : iters > 200 ? 200 : iters;
}

/* Seconds of one train step, and of its GEMMs alone (same shapes as forward,
 * weight grad, input grad, on scratch), REP times each, sorted. */
static void time_steps(regnn_model *m, regnn_optimizer *o, const float *x, const float *y,
                       size_t batch, const size_t *w, size_t nw, size_t iters, double *t_step,
                       double *t_gemm)
{
    size_t maxw = 0;
    for (size_t i = 0; i < nw; i++)
        maxw = w[i] > maxw ? w[i] : maxw;
    float *A = calloc(batch * maxw, 4), *B = calloc(maxw * maxw, 4),
          *C = calloc(batch * maxw + maxw * maxw, 4);
    for (int r = 0; r < REP; r++) {
        double t0 = bench_now();
        for (size_t it = 0; it < iters; it++)
            regnn_train_batch(m, o, x, y, batch, NULL);
        t_step[r] = (bench_now() - t0) / (double)iters;
        t0 = bench_now();
        for (size_t it = 0; it < iters; it++)
            for (size_t l = 1; l < nw; l++) {
                size_t in = w[l - 1], out = w[l];
                rg_sgemm(0, 0, batch, out, in, 1, A, in, B, out, 0, C, out);
                rg_sgemm(1, 0, in, out, batch, 1, A, in, A, out, 0, C, out);
                if (l > 1)
                    rg_sgemm(0, 1, batch, in, out, 1, A, out, B, out, 0, C, in);
            }
        t_gemm[r] = (bench_now() - t0) / (double)iters;
    }
    qsort(t_step, REP, sizeof(double), bench_cmp_double);
    qsort(t_gemm, REP, sizeof(double), bench_cmp_double);
    free(A);
    free(B);
    free(C);
}

/* The update alone: the unchecked in-place loop of old, fit's checked
 * in-place step, regnn_train_batch's bound test + in-place step, and the
 * out-of-place step it falls back to. Interleaved, so all see the same
 * machine state; tiny gradients keep every value finite. The medians into
 * t[0..4); 0, or 1 if a step refused. */
static int time_updates(const regnn_model *m, size_t uiters, double t[4])
{
    const size_t np = regnn_model_param_count(m);
    float *p0 = malloc(np * sizeof *p0), *p1 = malloc(np * sizeof *p1), *g = malloc(np * sizeof *g);
    float *m1 = calloc(np, 4), *v1 = calloc(np, 4);
    regnn_model_get_params(m, p0, np);
    for (size_t i = 0; i < np; i++)
        g[i] = 1e-3f * (float)((i * 7919) % 1000 - 500) / 500.0f;
    regnn_optimizer *o2;
    regnn_optimizer_create(REGNN_OPTIM_ADAM, &o2);
    rg_optimizer_bind(o2, np);
    rg_optimizer_reserve_spares(o2);
    double tr[4][REP];
    uint32_t pmax = 0;
    int bad = 0;
    for (int r = 0; r < REP && !bad; r++) {
        double t0 = bench_now();
        for (size_t it = 0; it < uiters; it++)
            adam_unchecked(p0, g, m1, v1, np, 1e-3f, 0.1f, 0.001f, 1e-7f);
        tr[0][r] = (bench_now() - t0) / (double)uiters;
        t0 = bench_now();
        for (size_t it = 0; it < uiters && !bad; it++)
            bad = !rg_optimizer_step_inplace(o2, p0, g, np, &pmax, NULL, NULL);
        tr[1][r] = (bench_now() - t0) / (double)uiters;
        t0 = bench_now();
        for (size_t it = 0; it < uiters && !bad; it++)
            bad = !rg_optimizer_step_is_safe(o2, pmax, g, np) ||
                  !rg_optimizer_step_inplace(o2, p0, g, np, &pmax, NULL, NULL);
        tr[2][r] = (bench_now() - t0) / (double)uiters;
        t0 = bench_now();
        for (size_t it = 0; it < uiters && !bad; it++) {
            bad = !rg_optimizer_step_into(o2, p0, p1, g, np, &pmax, NULL, NULL);
            float *tmp = p0;
            p0 = p1;
            p1 = tmp;
        }
        tr[3][r] = (bench_now() - t0) / (double)uiters;
    }
    for (int k = 0; k < 4 && !bad; k++)
        t[k] = bench_median(tr[k], REP);
    regnn_optimizer_free(o2);
    free(p0);
    free(p1);
    free(g);
    free(m1);
    free(v1);
    return bad;
}

/* The table: the step against its GEMMs, then the updates (raw, fit,
 * train_batch, out of place) against the step. */
static void print_results(const regnn_model *m, size_t batch, const size_t *w, size_t nw,
                          const double *t_step, const double *t_gemm, const double u[4])
{
    double flops = 0;
    for (size_t l = 1; l < nw; l++)
        flops += 6.0 * (double)batch * (double)w[l - 1] * (double)w[l];
    char kt[256];
    bench_net_kernels(w, nw, batch, kt, sizeof kt, NULL, 0);
    const char *core = bench_openblas_core();
    printf("blas=%s batch=%zu params=%zu kernels=%s (per layer when they differ) openblas_core=%s\n",
           rg_blas_name(), batch, regnn_model_param_count(m), kt, core ? core : "none");
    printf("train step   median %8.2f us  (%.2f GFLOP/s)\n", t_step[REP / 2] * 1e6, flops / t_step[REP / 2] * 1e-9);
    printf("GEMMs alone  median %8.2f us  (%.2f GFLOP/s)\n", t_gemm[REP / 2] * 1e6, flops / t_gemm[REP / 2] * 1e-9);
    printf("GEMM share of the step: %.1f %%\n", 100.0 * t_gemm[REP / 2] / t_step[REP / 2]);
    const double step = t_step[REP / 2], raw = u[0], fit = u[1], tb = u[2], oop = u[3];
    printf("Adam update, unchecked (before)  %8.2f us\n", raw * 1e6);
    printf("  fit: checked, in place         %8.2f us  (+%.2f us = %.2f %% of the train step)\n",
           fit * 1e6, (fit - raw) * 1e6, 100.0 * (fit - raw) / step);
    printf("  train_batch: bound test + step %8.2f us  (+%.2f us = %.2f %% of the train step)\n",
           tb * 1e6, (tb - raw) * 1e6, 100.0 * (tb - raw) / step);
    printf("  out of place (first step, or when the bound test fails) %.2f us (+%.2f %%)\n",
           oop * 1e6, 100.0 * (oop - raw) / step);
}

int main(int argc, char **argv)
{
    bench_clean_env(argv);
    size_t batch = argc > 1 ? (size_t)atol(argv[1]) : 64;
    size_t w[32] = {10, 128, 128, 128, 128, 128, 128, 1}, nw = 8;
    if (argc > 3) {
        nw = 0;
        for (int i = 2; i < argc && nw < 32; i++)
            w[nw++] = (size_t)atol(argv[i]);
    }
    regnn_model *m = build_model(w, nw);
    regnn_optimizer *o;
    regnn_optimizer_create(REGNN_OPTIM_ADAM, &o);
    float *x = malloc(batch * w[0] * sizeof *x), *y = malloc(batch * w[nw - 1] * sizeof *y);
    for (size_t i = 0; i < batch * w[0]; i++)
        x[i] = (float)((i * 7919) % 1000) / 1000.0f;
    for (size_t i = 0; i < batch * w[nw - 1]; i++)
        y[i] = (float)(i % 13) / 13.0f;
    double t_step[REP], t_gemm[REP], u[4];
    const size_t iters = step_iters(m, o, x, y, batch);
    time_steps(m, o, x, y, batch, w, nw, iters, t_step, t_gemm);
    if (time_updates(m, 20 * iters, u) != 0)
        return 1;
    print_results(m, batch, w, nw, t_step, t_gemm, u);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    free(x);
    free(y);
    return 0;
}
