/* SPDX-License-Identifier: MIT */
/* The built-in SGEMM against OpenBLAS (cblas_sgemm called directly, when the
 * build has it) and libxsmm's JIT kernels (when bench_gemm was built with
 * -DREGNN_BENCH_LIBXSMM, see mk/bench.mk), side by side on every product of a
 * training step: forward C = A*B (NN), weight gradient A^T*delta (TN), input
 * gradient delta*W^T (NT). All in the same run, 1 thread, best of 5 runs of
 * >= 20 ms each.
 * Each row names the kernels: the built-in kernel's variant, the core
 * OpenBLAS runs for (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed
 * first, benchreport.h), and the kernel the library itself gives that
 * product in training ("library").
 * Usage: bench_gemm [--json PATH] [batch widths...]   default: the study
 * network at batch 64 and 64-512-512-512-1 at batches 64, 256 and 1024;
 * --json: the rows also as JSON lines into PATH. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "benchreport.h"
#include "benchutil.h"
#include "regnn.h"

#ifdef REGNN_USE_CBLAS
#include <cblas.h>
#endif
#ifdef REGNN_BENCH_LIBXSMM
#include <libxsmm.h>
#endif

enum { BUILTIN, OPENBLAS, LIBXSMM, N_IMPL };
static const char *impl_name[N_IMPL] = {"builtin", "OpenBLAS", "libxsmm"};
/* What ran in each column: the built-in variant, openblas:CORE, libxsmm. */
static char impl_kernel[N_IMPL][64];
static int have[N_IMPL];

typedef struct {
    int ta, tb;
    size_t m, n, k, lda, ldb;
    const float *a, *b;
    float *c;
#ifdef REGNN_BENCH_LIBXSMM
    libxsmm_smmfunction xsmm;
#endif
} product;

static void call(int impl, const product *p)
{
    switch (impl) {
    case BUILTIN:
        rg_sgemm_builtin(p->ta, p->tb, p->m, p->n, p->k, 1.0f, p->a, p->lda, p->b, p->ldb, 0.0f, p->c,
                         p->n);
        break;
#ifdef REGNN_USE_CBLAS
    case OPENBLAS:
        cblas_sgemm(CblasRowMajor, p->ta ? CblasTrans : CblasNoTrans, p->tb ? CblasTrans : CblasNoTrans,
                    (int)p->m, (int)p->n, (int)p->k, 1.0f, p->a, (int)p->lda, p->b, (int)p->ldb, 0.0f,
                    p->c, (int)p->n);
        break;
#endif
#ifdef REGNN_BENCH_LIBXSMM
    case LIBXSMM: /* column-major C^T = op(B)^T op(A)^T: B's buffer first */
        p->xsmm(p->b, p->a, p->c);
        break;
#endif
    default:
        break;
    }
}

/* Best of 5 runs of enough calls for about 20 ms each: seconds per call. */
static double time_impl(int impl, const product *p)
{
    size_t iters = 1;
    for (;;) {
        double t0 = bench_now();
        for (size_t i = 0; i < iters; i++)
            call(impl, p);
        if (bench_now() - t0 > 0.02 || iters > (1u << 24))
            break;
        iters *= 2;
    }
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = bench_now();
        for (size_t i = 0; i < iters; i++)
            call(impl, p);
        double t = (bench_now() - t0) / (double)iters;
        best = t < best ? t : best;
    }
    return best;
}

static void fill(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
}

static double tot[N_IMPL];
static int tot_ok[N_IMPL];
static char cur_net[160]; /* the network and batch of the rows being timed */

/* The kernels of a row as a JSON object: each column's, and the library's
 * (lib_json: a JSON value, a name or one per layer). */
static void kernels_json(const char *lib_json, char *out, size_t cap)
{
    size_t len = (size_t)snprintf(out, cap, "{\"library\":%s", lib_json);
    for (int i = 0; i < N_IMPL && len < cap; i++)
        if (have[i])
            len += (size_t)snprintf(out + len, cap - len, ",\"%s\":\"%s\"", impl_name[i],
                                    impl_kernel[i]);
    if (len < cap)
        snprintf(out + len, cap - len, "}");
}

/* A product's row in the results file: GFLOP/s per column (null: not run). */
static void json_product(const char *what, size_t m, size_t n, size_t k, const char *lib,
                         const double t[N_IMPL])
{
    char name[256], kj[256], lj[80];
    const char *keys[N_IMPL + 3] = {"m", "n", "k"};
    double vals[N_IMPL + 3] = {(double)m, (double)n, (double)k};
    char gk[N_IMPL][32];
    for (int i = 0; i < N_IMPL; i++) {
        snprintf(gk[i], sizeof gk[i], "gflops.%s", impl_name[i]);
        keys[3 + i] = gk[i];
        vals[3 + i] = t[i] > 0 ? 2.0 * (double)m * (double)n * (double)k / t[i] * 1e-9 : NAN;
    }
    snprintf(name, sizeof name, "%s: %s %zu %zu %zu", cur_net, what, m, n, k);
    snprintf(lj, sizeof lj, "\"%s\"", lib);
    kernels_json(lj, kj, sizeof kj);
    bench_json_row(name, kj, 1, N_IMPL + 3, keys, vals);
}

/* Times one product with every implementation, prints a row, adds to the
 * step's totals; t[i] = seconds (0: not run). */
static void shape(const char *what, int ta, int tb, size_t m, size_t n, size_t k, double t[N_IMPL])
{
    float *a = malloc(m * k * sizeof *a), *b = malloc(k * n * sizeof *b),
          *c = malloc(m * n * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "bench_gemm: out of memory\n");
        exit(1);
    }
    fill(a, m * k);
    fill(b, k * n);
    product p = {ta, tb, m, n, k, ta ? m : k, tb ? k : n, a, b, c
#ifdef REGNN_BENCH_LIBXSMM
                 , NULL
#endif
    };
    int ok[N_IMPL] = {1, have[OPENBLAS], 0};
#ifdef REGNN_BENCH_LIBXSMM
    {
        libxsmm_blasint M = (libxsmm_blasint)n, N = (libxsmm_blasint)m, K = (libxsmm_blasint)k;
        libxsmm_blasint lda = (libxsmm_blasint)p.ldb, ldb = (libxsmm_blasint)p.lda,
                        ldc = (libxsmm_blasint)n;
        float alpha = 1.0f, beta = 0.0f;
        int flags = (tb ? LIBXSMM_GEMM_FLAG_TRANS_A : 0) | (ta ? LIBXSMM_GEMM_FLAG_TRANS_B : 0);
        p.xsmm = libxsmm_smmdispatch(M, N, K, &lda, &ldb, &ldc, &alpha, &beta, &flags, NULL);
        ok[LIBXSMM] = p.xsmm != NULL;
    }
#endif
    double flop = 2.0 * (double)m * (double)n * (double)k;
    char lib[64];
    bench_product_kernel(m, n, k, lib, sizeof lib);
    printf("  %-4s %5zu %5zu %5zu  library: %-10s", what, m, n, k, lib);
    for (int i = 0; i < N_IMPL; i++) {
        t[i] = 0;
        if (!have[i])
            continue;
        if (!ok[i]) {
            printf("  %-17s %12s", impl_kernel[i], "no kernel");
            tot_ok[i] = 0;
            continue;
        }
        t[i] = time_impl(i, &p);
        printf("  %-17s %6.1f GFLOP/s", impl_kernel[i], flop / t[i] * 1e-9);
    }
    for (int i = 1; i < N_IMPL; i++)
        if (t[i] > 0)
            printf("  builtin/%s time %5.2fx", impl_name[i], t[0] / t[i]);
    printf("\n");
    json_product(what, m, n, k, lib, t);
    free(a);
    free(b);
    free(c);
}

/* Every distinct product of one training step (the first layer has no input
 * gradient), in the library's call shapes. */
static void network(size_t batch, const size_t *w, size_t nw)
{
    size_t len = (size_t)snprintf(cur_net, sizeof cur_net, "batch %zu, widths", batch);
    for (size_t i = 0; i < nw && len < sizeof cur_net; i++)
        len += (size_t)snprintf(cur_net + len, sizeof cur_net - len, " %zu", w[i]);
    printf("%s (m n k per product; library: the kernel regnn_fit gives it)\n", cur_net);
    for (int i = 0; i < N_IMPL; i++) {
        tot[i] = 0;
        tot_ok[i] = have[i];
    }
    double t[3][N_IMPL] = {{0}};
    for (size_t l = 1; l < nw; l++) {
        size_t in = w[l - 1], out = w[l];
        /* a layer like the previous one: the same times, not printed again */
        if (l < 3 || in != w[l - 2] || out != w[l - 1]) {
            shape("NN", 0, 0, batch, out, in, t[0]);
            shape("TN", 1, 0, in, out, batch, t[1]);
            for (int i = 0; i < N_IMPL; i++)
                t[2][i] = 0;
            if (l > 1)
                shape("NT", 0, 1, batch, in, out, t[2]);
        }
        for (int p = 0; p < 3; p++)
            for (int i = 0; i < N_IMPL; i++)
                tot[i] += t[p][i];
    }
    printf("  all products of a step:");
    for (int i = 0; i < N_IMPL; i++)
        if (tot_ok[i])
            printf(" %s %.1f us", impl_name[i], tot[i] * 1e6);
    for (int i = 1; i < N_IMPL; i++)
        if (tot_ok[i])
            printf(", builtin/%s %.2fx", impl_name[i], tot[0] / tot[i]);
    printf("\n\n");
    char name[200], kj[512], all[256];
    const char *keys[N_IMPL];
    double vals[N_IMPL];
    char uk[N_IMPL][32];
    for (int i = 0; i < N_IMPL; i++) {
        snprintf(uk[i], sizeof uk[i], "step_us.%s", impl_name[i]);
        keys[i] = uk[i];
        vals[i] = tot_ok[i] ? tot[i] * 1e6 : NAN;
    }
    bench_net_kernels(w, nw, batch, NULL, 0, all, sizeof all);
    kernels_json(all, kj, sizeof kj);
    snprintf(name, sizeof name, "%s: all products of a step", cur_net);
    bench_json_row(name, kj, 1, N_IMPL, keys, vals);
}

int main(int argc, char **argv)
{
    bench_clean_env(argv);
    const char *json = NULL;
    if (argc > 2 && strcmp(argv[1], "--json") == 0) {
        json = argv[2];
        argc -= 2;
        argv += 2;
    }
    have[BUILTIN] = 1;
    snprintf(impl_kernel[BUILTIN], sizeof impl_kernel[BUILTIN], "%s", rg_gemm_kernel_name());
    snprintf(impl_kernel[LIBXSMM], sizeof impl_kernel[LIBXSMM], "libxsmm");
#ifdef REGNN_USE_CBLAS
    have[OPENBLAS] = 1;
    openblas_set_num_threads(1);
    snprintf(impl_kernel[OPENBLAS], sizeof impl_kernel[OPENBLAS], "openblas:%s",
             bench_openblas_core());
#endif
#ifdef REGNN_BENCH_LIBXSMM
    have[LIBXSMM] = 1;
    libxsmm_init();
#endif
    bench_json_open(json, "bench_gemm");
    printf("built-in GEMM kernel: %s; OpenBLAS: %s; libxsmm: %s; 1 thread; ratios are "
           "builtin time / other time (< 1: builtin faster)\n",
           rg_gemm_kernel_name(), have[OPENBLAS] ? impl_kernel[OPENBLAS] : "not in this build",
#ifdef REGNN_BENCH_LIBXSMM
           LIBXSMM_VERSION " JIT kernels (libxsmm_smmdispatch)"
#else
           "not installed (Debian: apt-get install libxsmm-dev)"
#endif
    );
    if (argc > 2) {
        size_t w[32], nw = 0;
        for (int i = 2; i < argc && nw < 32; i++)
            w[nw++] = (size_t)atol(argv[i]);
        network((size_t)atol(argv[1]), w, nw);
        return bench_json_close();
    }
    const size_t study[] = {10, 128, 128, 128, 128, 128, 128, 1};
    const size_t big[] = {64, 512, 512, 512, 1};
    const size_t batches[] = {64, 256, 1024};
    for (size_t i = 0; i < 3; i++)
        network(batches[i], study, sizeof study / sizeof study[0]);
    for (size_t i = 0; i < 3; i++)
        network(batches[i], big, sizeof big / sizeof big[0]);
#ifdef REGNN_BENCH_LIBXSMM
    libxsmm_finalize();
#endif
    return bench_json_close();
}
