/* SPDX-License-Identifier: MIT */
/* Where one-row prediction of the study network (10-128x6-1) spends its time:
 * regnn_model_predict of one row, the one-row products (rg_sgemv_t) of its
 * layers alone, and a plain read of the same weights (16 independent vector
 * sums, no arithmetic chain): the bound set by bringing the weights in from
 * the cache they live in. Best of 7 runs each, interleaved; prints
 * nanoseconds per call and the load average.
 *
 * Usage: bench_predict [CALLS]   (default 100000) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "benchutil.h"
#include "kernels/kernels.h"
#include "model/model_impl.h"

/* Sum of every float of w[0..n), in 16 independent chains: as fast as the
 * bytes arrive. */
static float read_all(const float *w, size_t n)
{
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++)
            acc[k] += w[i + k];
    for (; i < n; i++)
        acc[0] += w[i];
    float s = 0.0f;
    for (int k = 0; k < 16; k++)
        s += acc[k];
    return s;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#  include <immintrin.h>
/* read_all with 64-byte loads, on CPUs with AVX-512 (the kernel's width). */
__attribute__((target("avx512f"))) static float read_all_avx512(const float *w, size_t n)
{
    __m512 acc[8];
    for (int k = 0; k < 8; k++)
        acc[k] = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 128 <= n; i += 128)
        for (int k = 0; k < 8; k++)
            acc[k] = _mm512_add_ps(acc[k], _mm512_loadu_ps(w + i + 16 * k));
    for (int k = 1; k < 8; k++)
        acc[0] = _mm512_add_ps(acc[0], acc[k]);
    return _mm512_reduce_add_ps(acc[0]) + read_all(w + i, n - i);
}
static float read_weights(const float *w, size_t n)
{
    return __builtin_cpu_supports("avx512f") ? read_all_avx512(w, n) : read_all(w, n);
}
#else
static float read_weights(const float *w, size_t n) { return read_all(w, n); }
#endif

int main(int argc, char **argv)
{
    const long calls = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    const size_t widths[] = {10, 128, 128, 128, 128, 128, 128, 1}, n_w = 8;
    regnn_model *m;
    CHECK(regnn_model_create(widths[0], &m));
    for (size_t i = 1; i < n_w; i++)
        CHECK(regnn_model_add_dense(m, widths[i], i + 1 < n_w ? REGNN_ACT_RELU : REGNN_ACT_LINEAR,
                                    NULL));
    CHECK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 7));
    float x[1024 * 10], y[1], a[128], b[128];
    for (size_t i = 0; i < 1024 * 10; i++)
        x[i] = (float)sin((double)i);
    double best[3] = {1e30, 1e30, 1e30};
    volatile float sink = 0.0f;
    for (int r = 0; r < 7; r++) {
        double t0 = bench_now();
        for (long i = 0; i < calls; i++)
            regnn_model_predict(m, x + (i % 1024) * 10, 1, y, 1);
        double t1 = bench_now();
        for (long i = 0; i < calls; i++) {
            const float *in = x + (i % 1024) * 10;
            for (size_t l = 0; l < m->n_layers; l++) {
                const regnn_layer *ly = m->layers[l];
                float *out = in == a ? b : a;
                rg_sgemv_t(ly->n_in, ly->units, m->params + ly->offset, ly->units, in, out);
                in = out;
            }
            sink += in[0];
        }
        double t2 = bench_now();
        for (long i = 0; i < calls; i++)
            sink += read_weights(m->params, m->n_params);
        double t3 = bench_now(), t[3] = {t1 - t0, t2 - t1, t3 - t2};
        for (int k = 0; k < 3; k++)
            best[k] = t[k] < best[k] ? t[k] : best[k];
    }
    double load[3] = {0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = -1;
        fclose(f);
    }
    printf("study net 10-128x6-1, %zu weights (%.0f KiB), kernel %s, load %.2f %.2f %.2f\n",
           m->n_params, (double)m->n_params * 4 / 1024, rg_gemm_kernel_name(), load[0], load[1],
           load[2]);
    printf("predict, one row:           %7.0f ns\n", best[0] / (double)calls * 1e9);
    printf("its one-row products alone: %7.0f ns\n", best[1] / (double)calls * 1e9);
    printf("reading its weights alone:  %7.0f ns\n", best[2] / (double)calls * 1e9);
    regnn_model_free(m);
    return sink == 12345.0f;
}
