/* SPDX-License-Identifier: MIT */
/* Private declarations of the kernels layer: loops over float arrays: finiteness checks, GEMM, losses.
 * Included only by the files of src/kernels/ and the layers above (docs/architecture.md). */
#ifndef REGNN_KERNELS_H
#define REGNN_KERNELS_H

#include "../base/base.h"

/* ---- checks of float arrays (finite.c) ---- */
/* 1 if every value is finite. */
int rg_all_finite(const float *v, size_t n);
/* Index of the first value that is not finite; n if none. */
size_t rg_first_non_finite(const float *v, size_t n);
/* 1 if every weight is finite and >= 0; else 0 and *bad = first bad index. */
int rg_weights_check(const float *w, size_t n, size_t *bad);

/* ---- GEMM (gemm.c): row-major C = alpha*op(A)*op(B) + beta*C ---- */
void rg_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
              size_t ldc);
/* A product cut into pieces (rectangles of C) that threads compute; bits do
 * not depend on the cut (rule in gemm.c). Fill the first 13 fields, then plan. */
typedef struct rg_gemm {
    int ta, tb;
    size_t m, n, k;
    float alpha;
    const float *a;
    size_t lda;
    const float *b;
    size_t ldb;
    float beta;
    float *c;
    size_t ldc;
    int builtin;         /* the kernel, chosen by the shape */
    size_t pr, pc;       /* pieces along rows and columns of C */
    size_t rstep, cstep; /* rows and columns per piece (the last ones shorter) */
} rg_gemm;
/* Cut for threads (1: as few pieces as the rule allows); rows_only cuts C by rows. */
void rg_gemm_plan(rg_gemm *g, size_t threads, int rows_only);
/* Compute piece p (0 <= p < pr * pc); its rectangle goes to r0..c1 when r0 is not NULL. */
void rg_gemm_piece(const rg_gemm *g, size_t piece, size_t *r0, size_t *r1, size_t *c0, size_t *c1);
/* y = A^T x for row-major A (m x n): one row through a dense layer. */
void rg_sgemv_t(size_t m, size_t n, const float *a, size_t lda, const float *x, float *y);
const char *rg_blas_name(void);
/* Products with m*n*k up to this go to the built-in kernel in every build
 * (gemm.c's shape rule). */
#define RG_SMALL_MNK 4194304.0
/* The built-in GEMM (gemm_kernel.c): rg_sgemm of BLAS=builtin builds, also
 * compiled into OpenBLAS builds for tests and benches only. Each element of C
 * is one accumulator over k ascending whatever the blocking, so splitting a
 * product by rows or columns gives the same bits (rule in gemm_kernel.c). */
void rg_sgemm_builtin(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                      const float *a, size_t lda, const float *b, size_t ldb, float beta,
                      float *c, size_t ldc);
/* C = C + op(A)*op(B) where each element's sum runs from +0 over p ascending
 * and is added to C once, for k <= RG_GEMM_ADD_K (per block of RG_GEMM_ADD_K
 * beyond): a product split over p into such calls gives the same bits as
 * computing the parts separately from +0 and adding them in order. */
#define RG_GEMM_ADD_K 128
void rg_sgemm_builtin_add(int trans_a, int trans_b, size_t m, size_t n, size_t k, const float *a,
                          size_t lda, const float *b, size_t ldb, float *c, size_t ldc);
/* rg_sgemv_t of the built-in GEMM: the same bits as the row of a product by
 * rg_sgemm_builtin (one row through a layer = that row of a batch). */
void rg_sgemv_t_builtin(size_t m, size_t n, const float *a, size_t lda, const float *x, float *y);
/* The kernel rg_sgemm_builtin uses on this thread: "avx512-fma", "avx2-fma",
 * "neon-fma" or "portable". */
const char *rg_gemm_kernel_name(void);
/* 1 when that kernel is the AVX-512 one (gemm.c's shape rule). */
int rg_gemm_kernel_wide(void);
/* 1 when every product goes to the built-in kernels (no OpenBLAS, or
 * REGNN_OPENBLAS_LARGE unset, or the AVX-512 kernel): the one arithmetic. */
int rg_gemm_builtin_only(void);
/* 1 when the value of REGNN_OPENBLAS_LARGE opts in to OpenBLAS for large
 * products ("1"), else 0 (NULL: unset). */
int rg_openblas_large_parse(const char *value);
#ifdef REGNN_TESTING
/* This thread's built-in GEMM kernel: 0 = the CPU's best, 1 = portable C,
 * 2 = AVX2+FMA, 3 = AVX-512, 4 = NEON. Returns 0, or -1 (no change) for an
 * unknown kind or a kernel this CPU or build lacks. */
int regnn__test_gemm_kernel(int kind);
/* This thread's REGNN_OPENBLAS_LARGE: 0 or 1 forced, -1 = the environment's. */
void regnn__test_openblas_large(int on);
#endif

/* ---- losses (loss.c) ---- */
/* "mse", "mae", "huber", "log_cosh"; NULL if unknown. */
const char *rg_loss_name(int kind);
/* Elementwise loss of residual d = prediction - target. */
double rg_loss_value(int kind, double param, double d);
/* Training step: residuals out - y in float (rows x n_out), weights w (NULL
 * = all 1). delta receives d batch loss / d out; returns the batch loss
 * sum_i w_i loss_i / rows; *mse, *mae the same reduction of squared and
 * absolute errors. */
/* rg_loss_delta over rows of a batch of total_rows (the gradient's scale):
 * the weighted sums of loss, squared and absolute errors from 0 in row order. */
void rg_loss_delta_part(int kind, double param, const float *out, const float *y, const float *w,
                        size_t rows, size_t n_out, size_t total_rows, float *delta, double sums[3]);
double rg_loss_delta(int kind, double param, const float *out, const float *y, const float *w,
                     size_t rows, size_t n_out, float *delta, double *mse, double *mae);
/* Evaluation sums over elements (residuals in double): loss, se and ae are
 * sums of w_i * elementwise value, w the sum of the row weights. */
typedef struct rg_loss_sums {
    double loss, se, ae, w;
} rg_loss_sums;
void rg_loss_accumulate(int kind, double param, const float *out, const float *y, const float *w,
                        size_t rows, size_t n_out, rg_loss_sums *s);

#endif
