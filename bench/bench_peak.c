/* SPDX-License-Identifier: MIT */
/* This core's fp32 peak, measured: the clock from a chain of dependent integer
 * adds (one per cycle on every x86-64 core), and the FMA throughput of the
 * widest vectors the built-in GEMM uses (12 independent accumulators, enough
 * to cover the FMA latency of two pipes). Prints key,value lines:
 *   clock_ghz, fma_flops_per_cycle.<isa>, peak_gflops.<isa>, kernel
 * On other architectures only the kernel line (no peak is estimated). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "benchutil.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The best of 9 runs of n iterations (turbo and noise only slow it). */
#define BEST_OF_9(expr, n, out)                                                               \
    do {                                                                                      \
        double best_ = 1e30;                                                                  \
        for (int r_ = 0; r_ < 9; r_++) {                                                      \
            double t0_ = bench_now();                                                         \
            expr;                                                                             \
            double t_ = (bench_now() - t0_) / (double)(n);                                    \
            best_ = t_ < best_ ? t_ : best_;                                                  \
        }                                                                                     \
        (out) = best_;                                                                        \
    } while (0)

static unsigned long add_chain(unsigned long n)
{
    unsigned long x = 0;
    for (unsigned long i = 0; i < n; i++)
        __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                         "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
                         : "+r"(x));
    return x;
}

#define FMA_BODY(T, SET1, FMA, ADD, STORE, LANES)                                             \
    T acc[12], m = SET1(0.999f), c = SET1(1e-3f);                                             \
    for (int j = 0; j < 12; j++)                                                              \
        acc[j] = SET1((float)j);                                                              \
    for (unsigned long i = 0; i < n; i++)                                                     \
        for (int j = 0; j < 12; j++)                                                          \
            acc[j] = FMA(acc[j], m, c);                                                       \
    for (int j = 1; j < 12; j++)                                                              \
        acc[0] = ADD(acc[0], acc[j]);                                                         \
    float out[LANES];                                                                         \
    STORE(out, acc[0]);                                                                       \
    return out[0];

__attribute__((target("avx2,fma"))) static float fma_avx2(unsigned long n)
{
    FMA_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_storeu_ps, 8)
}

__attribute__((target("avx512f"))) static float fma_avx512(unsigned long n)
{
    FMA_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_storeu_ps, 16)
}

int main(void)
{
    const unsigned long n = 100000000;
    volatile unsigned long sink = 0;
    volatile float fsink = 0;
    double cyc;
    BEST_OF_9(sink += add_chain(n / 8), n, cyc); /* n adds: n/8 iterations of 8 */
    double ghz = 1e-9 / cyc;
    printf("clock_ghz,%.4f\n", ghz);
    const char *kern = rg_gemm_kernel_name();
    printf("kernel,%s\n", kern);
    struct {
        const char *isa;
        int ok, lanes;
        float (*f)(unsigned long);
    } isas[] = {
        {"avx2", __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), 8, fma_avx2},
        {"avx512", __builtin_cpu_supports("avx512f"), 16, fma_avx512},
    };
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (!isas[i].ok)
            continue;
        const unsigned long m = n / 4;
        double t;
        BEST_OF_9(fsink += isas[i].f(m), m, t); /* t: seconds per 12 FMAs */
        double flops_per_s = 12.0 * isas[i].lanes * 2.0 / t;
        printf("fma_flops_per_cycle.%s,%.2f\n", isas[i].isa, flops_per_s / (ghz * 1e9));
        printf("peak_gflops.%s,%.2f\n", isas[i].isa, flops_per_s * 1e-9);
    }
    (void)sink;
    (void)fsink;
    return 0;
}
#else
int main(void)
{
    printf("kernel,%s\n", rg_gemm_kernel_name());
    return 0;
}
#endif
