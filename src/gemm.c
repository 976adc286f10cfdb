/* Row-major single-precision GEMM: OpenBLAS when built with REGNN_USE_CBLAS,
 * otherwise the built-in one of gemm_kernel.c (BLAS=builtin) so the library can
 * be vendored with nothing but a C compiler. */
#include "internal.h"

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

void rg_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
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

void rg_sgemv_t(size_t m, size_t n, const float *a, size_t lda, const float *x, float *y)
{
    cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)m, (blasint)n, 1.0f, a, (blasint)lda, x, 1,
                0.0f, y, 1);
}

const char *rg_blas_name(void) { return "openblas"; }

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

/* Packed, register-blocked kernels and the determinism rule: gemm_kernel.c. */
void rg_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
              size_t ldc)
{
    rg_sgemm_builtin(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void rg_sgemv_t(size_t m, size_t n, const float *a, size_t lda, const float *x, float *y)
{
    rg_sgemv_t_builtin(m, n, a, lda, x, y);
}

const char *rg_blas_name(void) { return "builtin"; }

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
