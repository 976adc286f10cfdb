/* The built-in SGEMM against the build's rg_sgemm (OpenBLAS when the build has
 * it) on every product of a training step: forward C = A*B (NN), weight
 * gradient A^T*delta (TN), input gradient delta*W^T (NT).
 * Usage: bench_gemm [batch widths...]   default: the study network at batch 64
 * and 64-512-512-512-1 at batches 64, 256 and 1024. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "regnn.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef void (*gemm_fn)(int, int, size_t, size_t, size_t, float, const float *, size_t,
                        const float *, size_t, float, float *, size_t);

/* Best of 5 runs of enough calls for about 20 ms each: seconds per call. */
static double time_gemm(gemm_fn f, int ta, int tb, size_t m, size_t n, size_t k, const float *a,
                        const float *b, float *c)
{
    size_t lda = ta ? m : k, ldb = tb ? k : n;
    size_t iters = 1;
    for (;;) {
        double t0 = now();
        for (size_t i = 0; i < iters; i++)
            f(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
        if (now() - t0 > 0.02 || iters > (1u << 24))
            break;
        iters *= 2;
    }
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        for (size_t i = 0; i < iters; i++)
            f(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
        double t = (now() - t0) / (double)iters;
        best = t < best ? t : best;
    }
    return best;
}

static void fill(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
}

static int other_blas;
static double tot_builtin, tot_other;

/* Times one product, prints it, adds it to the step's totals; returns the
 * (builtin, other) seconds through t. */
static void shape(const char *what, int ta, int tb, size_t m, size_t n, size_t k, double t[2])
{
    float *a = malloc(m * k * sizeof *a), *b = malloc(k * n * sizeof *b),
          *c = malloc(m * n * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "bench_gemm: out of memory\n");
        exit(1);
    }
    fill(a, m * k);
    fill(b, k * n);
    double flop = 2.0 * (double)m * (double)n * (double)k;
    double t1 = time_gemm(rg_sgemm_builtin, ta, tb, m, n, k, a, b, c);
    t[0] = t1;
    t[1] = 0;
    printf("  %-4s %5zu %5zu %5zu  builtin %7.2f GFLOP/s", what, m, n, k, flop / t1 * 1e-9);
    if (other_blas) {
        double t2 = time_gemm(rg_sgemm, ta, tb, m, n, k, a, b, c);
        t[1] = t2;
        printf("  %s %7.2f GFLOP/s  builtin/%s time %5.2fx", rg_blas_name(), flop / t2 * 1e-9,
               rg_blas_name(), t1 / t2);
    }
    printf("\n");
    free(a);
    free(b);
    free(c);
}

/* Every distinct product of one training step (the first layer has no input
 * gradient), in the library's call shapes. */
static void network(size_t batch, const size_t *w, size_t nw)
{
    printf("batch %zu, widths", batch);
    for (size_t i = 0; i < nw; i++)
        printf(" %zu", w[i]);
    printf(" (m n k per product)\n");
    tot_builtin = tot_other = 0;
    double t[3][2] = {{0}};
    for (size_t l = 1; l < nw; l++) {
        size_t in = w[l - 1], out = w[l];
        /* a layer like the previous one: the same times, not printed again */
        if (l < 3 || in != w[l - 2] || out != w[l - 1]) {
            shape("NN", 0, 0, batch, out, in, t[0]);
            shape("TN", 1, 0, in, out, batch, t[1]);
            t[2][0] = t[2][1] = 0;
            if (l > 1)
                shape("NT", 0, 1, batch, in, out, t[2]);
        }
        for (int i = 0; i < 3; i++) {
            tot_builtin += t[i][0];
            tot_other += t[i][1];
        }
    }
    printf("  all products of a step: builtin %.1f us", tot_builtin * 1e6);
    if (other_blas)
        printf(", %s %.1f us, ratio %.2fx", rg_blas_name(), tot_other * 1e6,
               tot_builtin / tot_other);
    printf("\n\n");
}

int main(int argc, char **argv)
{
    other_blas = strcmp(rg_blas_name(), "builtin") != 0;
    printf("built-in GEMM kernel: %s; build BLAS: %s\n", rg_gemm_kernel_name(), rg_blas_name());
    if (argc > 2) {
        size_t w[32], nw = 0;
        for (int i = 2; i < argc && nw < 32; i++)
            w[nw++] = (size_t)atol(argv[i]);
        network((size_t)atol(argv[1]), w, nw);
        return 0;
    }
    const size_t study[] = {10, 128, 128, 128, 128, 128, 128, 1};
    const size_t big[] = {64, 512, 512, 512, 1};
    network(64, study, sizeof study / sizeof study[0]);
    const size_t batches[] = {64, 256, 1024};
    for (size_t i = 0; i < 3; i++)
        network(batches[i], big, sizeof big / sizeof big[0]);
    return 0;
}
