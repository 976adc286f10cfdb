/* SPDX-License-Identifier: MIT */
/* Row-major single-precision GEMM: OpenBLAS when built with REGNN_USE_CBLAS,
 * otherwise the built-in one of gemm_kernel.c (BLAS=builtin) so the library can
 * be vendored with nothing but a C compiler. */
#include "kernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const char *regnn_blas_name(void) { return rg_blas_name(); }

/* The same answer to the same invalid count whichever GEMM is built in. */
#define RG_MAX_BLAS_THREADS 4096
static regnn_status check_thread_count(int n)
{
    if (n < 1 || n > RG_MAX_BLAS_THREADS)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_set_blas_threads: n must be in 1..%d, got %d",
                        RG_MAX_BLAS_THREADS, n);
    return REGNN_OK;
}

#ifdef REGNN_USE_CBLAS
#include <cblas.h>

/* OpenBLAS runs a GEMM single-threaded when m*n*k is at most this (its
 * GEMM_MULTITHREAD_THRESHOLD of 4 times 65536). */
#define RG_OB_SINGLE_MNK 262144.0
/* Below this many multiply-adds, waking OpenBLAS's threads costs more than they
 * save on layers of a few hundred units (measured on the study network). */
#define RG_THREADING_PAYS_MNK 4194304.0

static void gemm_call(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                      const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                      size_t ldc)
{
    /* Callers keep every dimension below 2^31 (see RG_MAX_DIM in model.c). */
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, alpha, a,
                (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}

static void blas_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                       const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                       size_t ldc)
{
    double mnk = (double)m * (double)n * (double)k;
    if (mnk <= RG_OB_SINGLE_MNK || mnk >= RG_THREADING_PAYS_MNK ||
        n < 2 || openblas_get_num_threads() < 2) {
        gemm_call(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    /* A small product with OpenBLAS set to several threads: split the columns
     * of C into pieces small enough that OpenBLAS runs each on the calling
     * thread. Same arithmetic per element, without the threads' wake-up cost,
     * and without touching the host's process-wide thread setting. (Splitting
     * columns re-packs only A, the smaller operand for these shapes.) */
    size_t cols = (size_t)(RG_OB_SINGLE_MNK / ((double)m * (double)k));
    if (cols == 0)
        cols = 1;
    for (size_t j0 = 0; j0 < n; j0 += cols) {
        size_t nj = n - j0 < cols ? n - j0 : cols;
        const float *bj = trans_b ? b + j0 * ldb : b + j0;
        gemm_call(trans_a, trans_b, m, nj, k, alpha, a, lda, bj, ldb, beta, c + j0, ldc);
    }
}

static void blas_sgemv_t(size_t m, size_t n, const float *a, size_t lda, const float *x,
                         float *y)
{
    cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)m, (blasint)n, 1.0f, a, (blasint)lda, x, 1,
                0.0f, y, 1);
}

const char *rg_blas_name(void) { return "openblas"; }
#define RG_HAVE_BLAS 1

int regnn_blas_threads(void) { return openblas_get_num_threads(); }

regnn_status regnn_set_blas_threads(int n)
{
    regnn_status st = check_thread_count(n);
    if (st != REGNN_OK)
        return st;
    openblas_set_num_threads(n);
    return REGNN_OK;
}

#else

const char *rg_blas_name(void) { return "builtin"; }
#define RG_HAVE_BLAS 0

int regnn_blas_threads(void) { return 1; }

regnn_status regnn_set_blas_threads(int n)
{
    regnn_status st = check_thread_count(n);
    if (st != REGNN_OK)
        return st;
    if (n != 1)
        return rg_error(REGNN_E_UNSUPPORTED,
                        "regnn_set_blas_threads: the built-in GEMM is single-threaded: n must be 1, "
                        "got %d",
                        n);
    return REGNN_OK;
}

#endif

/* ---- the shape rule and pieces ----
 * A product goes to the built-in kernels unless the build has OpenBLAS and
 * REGNN_OPENBLAS_LARGE opts in to it. Then only products above RG_BUILTIN_MNK
 * go to OpenBLAS (below it, the layer-sized products, the built-in kernel is
 * as fast or faster, see make bench), and none where the built-in kernel is
 * the AVX-512 one (about twice OpenBLAS's speed at every size of make bench's
 * products). The choice depends on the product's shape, the CPU and that
 * setting only, never on the thread count.
 * Threads compute a product as pieces, rectangles of C. The built-in kernel
 * gives every element the same bits however C is cut (gemm_kernel.c), so its
 * pieces follow the thread count. OpenBLAS promises no such thing, so its
 * pieces are fixed by the shape: the longer side of C is cut into up to
 * RG_BLAS_PIECES parts of at least RG_BLAS_PIECE_MIN rows or columns, and a
 * whole product (rg_sgemm) is computed piece by piece too. Either way the
 * bits do not depend on the thread count. */
#define RG_BUILTIN_MNK RG_SMALL_MNK
#define RG_BLAS_PIECES 4
#define RG_BLAS_PIECE_MIN 256

/* REGNN_OPENBLAS_LARGE=1 (docs/api.md, "Math backend"), read once per
 * process: products above RG_BUILTIN_MNK go to OpenBLAS (faster on CPUs
 * without AVX-512, different bits). Unset or anything else: every product
 * goes to the built-in kernels, whose bits are the same on every CPU. */
int rg_openblas_large_parse(const char *value)
{
    return value != NULL && strcmp(value, "1") == 0;
}

static pthread_once_t large_once = PTHREAD_ONCE_INIT;
static int large_env; /* written once under pthread_once, then only read */

static void read_large_env(void)
{
    large_env = rg_openblas_large_parse(getenv("REGNN_OPENBLAS_LARGE"));
}

#ifdef REGNN_TESTING
static _Thread_local int large_forced = -1;

void regnn__test_openblas_large(int on) { large_forced = on < 0 ? -1 : on != 0; }
#endif

static int openblas_large(void)
{
#ifdef REGNN_TESTING
    if (large_forced >= 0)
        return large_forced;
#endif
    pthread_once(&large_once, read_large_env);
    return large_env;
}

int rg_gemm_builtin_only(void)
{
    return !RG_HAVE_BLAS || !openblas_large() || rg_gemm_kernel_wide();
}

static int use_builtin(size_t m, size_t n, size_t k)
{
    /* cppcheck-suppress knownConditionTrueFalse ; true only in a build without OpenBLAS */
    return rg_gemm_builtin_only() || (double)m * (double)n * (double)k <= RG_BUILTIN_MNK;
}

static size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

void rg_gemm_plan(rg_gemm *g, size_t threads, int rows_only)
{
    g->builtin = use_builtin(g->m, g->n, g->k);
    g->pr = g->pc = 1;
    g->rstep = g->m;
    g->cstep = g->n;
    const int cut_rows = rows_only || g->m > g->n || (g->builtin && (g->n < 64 || g->m >= 32));
    const size_t len = cut_rows ? g->m : g->n;
    size_t parts, align;
    if (g->builtin) {
        /* One piece per thread, in whole micro-tiles; tiny products stay whole. */
        parts = (double)g->m * (double)g->n * (double)g->k < 65536.0 ? 1 : threads;
        align = cut_rows ? 8 : 32;
    } else {
        parts = len / RG_BLAS_PIECE_MIN;
        if (parts > RG_BLAS_PIECES)
            parts = RG_BLAS_PIECES;
        align = 16;
    }
    if (parts < 2 || len < 2 * align)
        return;
    const size_t step = round_up((len + parts - 1) / parts, align);
    const size_t count = (len + step - 1) / step;
    if (cut_rows) {
        g->rstep = step;
        g->pr = count;
    } else {
        g->cstep = step;
        g->pc = count;
    }
}

void rg_gemm_piece(const rg_gemm *g, size_t piece, size_t *r0, size_t *r1, size_t *c0, size_t *c1)
{
    const size_t pi = piece / g->pc, pj = piece % g->pc;
    const size_t i0 = pi * g->rstep, j0 = pj * g->cstep;
    const size_t mi = g->m - i0 < g->rstep ? g->m - i0 : g->rstep;
    const size_t nj = g->n - j0 < g->cstep ? g->n - j0 : g->cstep;
    const float *a = g->ta ? g->a + i0 : g->a + i0 * g->lda;
    const float *b = g->tb ? g->b + j0 * g->ldb : g->b + j0;
    float *c = g->c + i0 * g->ldc + j0;
#if RG_HAVE_BLAS
    if (!g->builtin)
        blas_sgemm(g->ta, g->tb, mi, nj, g->k, g->alpha, a, g->lda, b, g->ldb, g->beta, c, g->ldc);
    else
#endif
        rg_sgemm_builtin(g->ta, g->tb, mi, nj, g->k, g->alpha, a, g->lda, b, g->ldb, g->beta, c,
                         g->ldc);
    if (r0) {
        *r0 = i0;
        *r1 = i0 + mi;
        *c0 = j0;
        *c1 = j0 + nj;
    }
}

void rg_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
              size_t ldc)
{
    rg_gemm g = {trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 0, 0, 0, 0, 0};
    rg_gemm_plan(&g, 1, 0);
    for (size_t p = 0; p < g.pr * g.pc; p++)
        rg_gemm_piece(&g, p, NULL, NULL, NULL, NULL);
}

void rg_sgemv_t(size_t m, size_t n, const float *a, size_t lda, const float *x, float *y)
{
#if RG_HAVE_BLAS
    if (!use_builtin(1, n, m)) {
        blas_sgemv_t(m, n, a, lda, x, y);
        return;
    }
#endif
    rg_sgemv_t_builtin(m, n, a, lda, x, y);
}
