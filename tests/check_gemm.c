/* SPDX-License-Identifier: MIT */
/* rg_sgemm (OpenBLAS or the built-in GEMM) against a double-precision
 * reference, for every transpose combination and beta; the built-in GEMM's
 * kernels (in every build) against its determinism rule, bit for bit. */
#include "testutil.h"

#include <math.h>
#include <string.h>

static void ref(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *a,
                size_t lda, const float *b, size_t ldb, float beta, const float *c0, float *c,
                size_t ldc)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t p = 0; p < k; p++) {
                double av = ta ? a[p * lda + i] : a[i * lda + p];
                double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
                s += av * bv;
            }
            c[i * ldc + j] = (float)(alpha * s + (beta == 0.0f ? 0.0 : beta * c0[i * ldc + j]));
        }
}

static void fill(float *v, size_t n, uint64_t seed)
{
    rg_rng r;
    rg_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)(2 * rg_rng_uniform(&r) - 1);
}

START_TEST(test_all_transposes)
{
    /* Odd sizes around the built-in kernel's block edges (128, 256). */
    const size_t shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 130, 33}, {64, 257, 129}, {5, 3, 300}};
    const float betas[] = {0.0f, 1.0f, 0.5f};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *a = malloc(m * k * 4), *b = malloc(k * n * 4), *c0 = malloc(m * n * 4);
        float *c = malloc(m * n * 4), *cr = malloc(m * n * 4);
        fill(a, m * k, s + 1);
        fill(b, k * n, s + 2);
        fill(c0, m * n, s + 3);
        for (int ta = 0; ta <= 1; ta++)
            for (int tb = 0; tb <= 1; tb++)
                for (size_t bi = 0; bi < 3; bi++) {
                    size_t lda = ta ? m : k, ldb = tb ? k : n;
                    memcpy(c, c0, m * n * 4);
                    rg_sgemm(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, betas[bi], c, n);
                    ref(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, betas[bi], c0, cr, n);
                    for (size_t i = 0; i < m * n; i++)
                        ck_assert_msg(fabsf(c[i] - cr[i]) <= 1e-5f * (float)k + 1e-6f,
                                      "%s: ta=%d tb=%d beta=%g shape %zu: %g vs %g", rg_blas_name(),
                                      ta, tb, betas[bi], s, c[i], cr[i]);
                }
        free(a);
        free(b);
        free(c0);
        free(c);
        free(cr);
    }
}
END_TEST

START_TEST(test_beta_zero_ignores_nan)
{
    /* beta = 0 means C is not read: NaN garbage in C must not leak through. */
    float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4] = {NAN, NAN, NAN, NAN};
    rg_sgemm(0, 0, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
    ck_assert_float_eq(c[0], 1.0f);
    ck_assert_float_eq(c[3], 4.0f);
    /* alpha = 0 with beta 1 leaves C as it was. */
    rg_sgemm(0, 0, 2, 2, 2, 0.0f, a, 2, b, 2, 1.0f, c, 2);
    ck_assert_float_eq(c[1], 2.0f);
    ck_assert_ptr_nonnull(rg_blas_name());
}
END_TEST

START_TEST(test_blas_threads)
{
    ck_assert_str_eq(regnn_blas_name(), rg_blas_name());
    /* invalid counts: the same status and message in both builds, no change */
    const int before = regnn_blas_threads();
    CK_STATUS(regnn_set_blas_threads(0), REGNN_E_INVALID_ARG);
    ck_assert_str_eq(regnn_errmsg(), "regnn_set_blas_threads: n must be in 1..4096, got 0");
    CK_STATUS(regnn_set_blas_threads(-3), REGNN_E_INVALID_ARG);
    ck_assert_str_eq(regnn_errmsg(), "regnn_set_blas_threads: n must be in 1..4096, got -3");
    CK_STATUS(regnn_set_blas_threads(4097), REGNN_E_INVALID_ARG);
    ck_assert_str_eq(regnn_errmsg(), "regnn_set_blas_threads: n must be in 1..4096, got 4097");
    ck_assert_int_eq(regnn_blas_threads(), before);
    CK_OK(regnn_set_blas_threads(1));
    ck_assert_int_eq(regnn_blas_threads(), 1);
    if (strcmp(regnn_blas_name(), "openblas") == 0) {
        /* With 2 threads, small products are split into single-threaded pieces
         * (a different blocking, so only the last bits may differ). */
        enum { M = 64, N = 128, K = 128 };
        float *a = malloc(M * K * 4), *b = malloc(K * N * 4), *c1 = malloc(M * N * 4),
              *c2 = malloc(M * N * 4);
        fill(a, M * K, 11);
        fill(b, K * N, 12);
        for (int ta = 0; ta <= 1; ta++)
            for (int tb = 0; tb <= 1; tb++) {
                size_t lda = ta ? M : K, ldb = tb ? K : N;
                CK_OK(regnn_set_blas_threads(1));
                rg_sgemm(ta, tb, M, N, K, 1.0f, a, lda, b, ldb, 0.0f, c1, N);
                CK_OK(regnn_set_blas_threads(2));
                rg_sgemm(ta, tb, M, N, K, 1.0f, a, lda, b, ldb, 0.0f, c2, N);
                for (size_t i = 0; i < M * N; i++)
                    ck_assert_float_eq_tol(c1[i], c2[i], 1e-5f * (1.0f + fabsf(c1[i])));
            }
        ck_assert_int_eq(regnn_blas_threads(), 2);
        free(a);
        free(b);
        free(c1);
        free(c2);
        CK_OK(regnn_set_blas_threads(1));
    } else {
        /* a valid count the single-threaded build cannot honour */
        CK_STATUS(regnn_set_blas_threads(2), REGNN_E_UNSUPPORTED);
        ck_assert_str_eq(regnn_errmsg(), "regnn_set_blas_threads: the built-in GEMM is "
                                         "single-threaded: n must be 1, got 2");
        CK_STATUS(regnn_set_blas_threads(4096), REGNN_E_UNSUPPORTED);
        ck_assert_int_eq(regnn_blas_threads(), 1);
    }
}
END_TEST

/* ---- the built-in GEMM, whichever rg_sgemm the build uses ---- */

/* Kernels this CPU can run (regnn__test_gemm_kernel kinds), portable first. */
static int kernel_kinds(int *kinds)
{
    int n = 0;
    kinds[n++] = 1;
    for (int k = 2; k <= 4; k++)
        if (regnn__test_gemm_kernel(k) == 0)
            kinds[n++] = k;
    ck_assert_int_eq(regnn__test_gemm_kernel(0), 0);
    return n;
}

static const char *kind_name(int kind)
{
    return kind == 1 ? "portable" : kind == 2 ? "avx2-fma" : kind == 3 ? "avx512-fma" : "neon-fma";
}

static float op_a(int ta, const float *a, size_t lda, size_t i, size_t p)
{
    return ta ? a[p * lda + i] : a[i * lda + p];
}

static float op_b(int tb, const float *b, size_t ldb, size_t p, size_t j)
{
    return tb ? b[j * ldb + p] : b[p * ldb + j];
}

/* The documented rule, one element at a time: start from beta*c (+0 when beta is
 * 0), then k ascending c = fma(alpha*a, b, c), in every kernel. */
static void rule(int ta, int tb, size_t m, size_t n, size_t k, float alpha,
                 const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                 size_t ldc)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float acc = beta == 0.0f ? 0.0f : beta == 1.0f ? c[i * ldc + j] : c[i * ldc + j] * beta;
            if (alpha != 0.0f)
                for (size_t p = 0; p < k; p++) {
                    float av = alpha * op_a(ta, a, lda, i, p), bv = op_b(tb, b, ldb, p, j);
                    acc = fmaf(av, bv, acc);
                }
            c[i * ldc + j] = acc;
        }
}

/* One product with padded leading dimensions and operands one float off
 * their allocation's alignment: the kernel `kind` must match the rule bit for
 * bit and the double reference within rounding, and leave C's padding alone. */
static void check_product(int kind, int ta, int tb, size_t m, size_t n, size_t k, float alpha,
                          float beta, uint64_t seed)
{
    const size_t pad = 3;
    size_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
    size_t lda = ac + pad, ldb = bc + pad, ldc = n + pad;
    float *abuf = malloc((ar * lda + 1) * 4), *bbuf = malloc((br * ldb + 1) * 4);
    float *cbuf = malloc((m * ldc + 1) * 4), *c0 = malloc(m * ldc * 4), *cr = malloc(m * ldc * 4),
          *cd = malloc(m * ldc * 4);
    float *a = abuf + 1, *b = bbuf + 1, *c = cbuf + 1;
    fill(a, ar * lda, seed);
    fill(b, br * ldb, seed + 1);
    fill(c0, m * ldc, seed + 2);
    if (beta == 0.0f)
        for (size_t i = 0; i < m * ldc; i++)
            c0[i] = NAN; /* not read when beta is 0 */
    memcpy(c, c0, m * ldc * 4);
    memcpy(cr, c0, m * ldc * 4);
    ck_assert_int_eq(regnn__test_gemm_kernel(kind), 0);
    rg_sgemm_builtin(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    ck_assert_str_eq(rg_gemm_kernel_name(), kind_name(kind));
    ck_assert_int_eq(regnn__test_gemm_kernel(0), 0);
    rule(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cr, ldc);
    ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, cd, ldc);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < ldc; j++) {
            size_t x = i * ldc + j;
            if (j >= n) {
                ck_assert_msg(memcmp(&c[x], &c0[x], 4) == 0, "padding of C written");
                continue;
            }
            ck_assert_msg(memcmp(&c[x], &cr[x], 4) == 0,
                          "kernel %d ta=%d tb=%d %zux%zux%zu alpha=%g beta=%g (%zu,%zu): %a vs rule %a",
                          kind, ta, tb, m, n, k, alpha, beta, i, j, c[x], cr[x]);
            ck_assert_msg(fabsf(c[x] - cd[x]) <= 2e-6f * (float)k + 1e-6f,
                          "kernel %d ta=%d tb=%d %zux%zux%zu: %g vs %g", kind, ta, tb, m, n, k,
                          c[x], cd[x]);
        }
    free(abuf);
    free(bbuf);
    free(cbuf);
    free(c0);
    free(cr);
    free(cd);
}

START_TEST(test_builtin_odd_shapes)
{
    /* Sizes on both sides of the micro-tiles (4x8, 6x16) and of the blocks
     * (48 rows, 64 columns, 128 of k). */
    const size_t sizes[] = {1, 3, 7, 17, 129};
    const float ab[][2] = {{1.0f, 0.0f}, {-0.75f, 1.0f}, {1.0f, 0.5f}};
    int kinds[3], nk = kernel_kinds(kinds);
    uint64_t seed = 100;
    for (int q = 0; q < nk; q++)
        for (size_t im = 0; im < 5; im++)
            for (size_t in = 0; in < 5; in++)
                for (size_t ik = 0; ik < 5; ik++)
                    for (int t = 0; t < 4; t++) {
                        size_t x = im + in + ik + (size_t)t;
                        /* two or three 129s: one transposition each, in turn (time) */
                        if ((im == 4) + (in == 4) + (ik == 4) >= 2 && (size_t)t != (im + in + ik) % 4)
                            continue;
                        check_product(kinds[q], t >> 1, t & 1, sizes[im], sizes[in], sizes[ik],
                                      ab[x % 3][0], ab[x % 3][1], seed++);
                    }
}
END_TEST

START_TEST(test_builtin_study_shapes)
{
    /* The products of a training step: forward NN, weight gradient TN, input
     * gradient NT; the study network at batch 64 and a 512-wide layer (few rows,
     * to keep sanitizer builds quick). */
    const size_t layers[][3] = {{64, 10, 128}, {64, 128, 128}, {64, 128, 1}, {8, 512, 512}};
    int kinds[3], nk = kernel_kinds(kinds);
    for (int q = 0; q < nk; q++)
        for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++) {
            size_t batch = layers[l][0], in = layers[l][1], out = layers[l][2];
            check_product(kinds[q], 0, 0, batch, out, in, 1.0f, 0.0f, 7 + l);
            check_product(kinds[q], 1, 0, in, out, batch, 1.0f, 1.0f, 8 + l);
            check_product(kinds[q], 0, 1, batch, in, out, 1.0f, 0.0f, 9 + l);
        }
}
END_TEST

START_TEST(test_builtin_split_is_bitwise)
{
    /* Row blocks and column blocks of a product give exactly the whole
     * product's bits: what lets a product be split over threads. */
    enum { M = 67, N = 75, K = 133 };
    const size_t rows[] = {0, 1, 8, 50, M}, cols[] = {0, 1, 17, 64, N};
    float *a = malloc(M * K * 4), *b = malloc(K * N * 4), *c0 = malloc(M * N * 4),
          *whole = malloc(M * N * 4), *part = malloc(M * N * 4);
    fill(a, M * K, 21);
    fill(b, K * N, 22);
    fill(c0, M * N, 23);
    int kinds[3], nk = kernel_kinds(kinds);
    /* alpha 1 reads A in place, other alphas pack it scaled */
    for (int al = 0; al < 2; al++)
    for (int q = 0; q < nk; q++)
        for (int ta = 0; ta <= 1; ta++)
            for (int tb = 0; tb <= 1; tb++) {
                const float alpha = al ? 0.5f : 1.0f;
                size_t lda = ta ? M : K, ldb = tb ? K : N;
                ck_assert_int_eq(regnn__test_gemm_kernel(kinds[q]), 0);
                memcpy(whole, c0, M * N * 4);
                rg_sgemm_builtin(ta, tb, M, N, K, alpha, a, lda, b, ldb, 0.25f, whole, N);
                memcpy(part, c0, M * N * 4);
                for (size_t r = 0; r + 1 < sizeof rows / sizeof rows[0]; r++) {
                    const float *ar = ta ? a + rows[r] : a + rows[r] * lda;
                    rg_sgemm_builtin(ta, tb, rows[r + 1] - rows[r], N, K, alpha, ar, lda, b, ldb,
                                     0.25f, part + rows[r] * N, N);
                }
                ck_assert_msg(memcmp(part, whole, M * N * 4) == 0, "row split, kernel %d ta=%d tb=%d",
                              kinds[q], ta, tb);
                memcpy(part, c0, M * N * 4);
                for (size_t s = 0; s + 1 < sizeof cols / sizeof cols[0]; s++) {
                    const float *bs = tb ? b + cols[s] * ldb : b + cols[s];
                    rg_sgemm_builtin(ta, tb, M, cols[s + 1] - cols[s], K, alpha, a, lda, bs, ldb,
                                     0.25f, part + cols[s], N);
                }
                ck_assert_msg(memcmp(part, whole, M * N * 4) == 0,
                              "column split, kernel %d ta=%d tb=%d", kinds[q], ta, tb);
            }
    ck_assert_int_eq(regnn__test_gemm_kernel(0), 0);
    free(a);
    free(b);
    free(c0);
    free(whole);
    free(part);
}
END_TEST

START_TEST(test_builtin_add_splits_over_k)
{
    /* rg_sgemm_builtin_add over parts of k (at most RG_GEMM_ADD_K each) gives,
     * per element, c + part_0 + part_1 + ... with each part summed from +0:
     * the same bits as the parts computed separately (beta 0) and added in
     * order, which is what lets threads compute them. */
    const size_t shapes[][2] = {{1, 1}, {7, 17}, {67, 75}, {129, 33}, {128, 128}, {10, 1}};
    const size_t cuts[] = {0, 5, 37, 165, 200};
    enum { K = 200 };
    int kinds[3], nk = kernel_kinds(kinds);
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
        const size_t m = shapes[sh][0], n = shapes[sh][1];
        float *a = malloc(m * K * 4), *b = malloc(K * n * 4), *c0 = malloc(m * n * 4),
              *got = malloc(m * n * 4), *sep = malloc(m * n * 4), *part = malloc(m * n * 4),
              *rl = malloc(m * n * 4);
        fill(a, m * K, 41 + sh);
        fill(b, K * n, 42 + sh);
        fill(c0, m * n, 43 + sh);
        c0[0] = -0.0f; /* with a part of -0 somewhere, signed zeros too */
        for (int q = 0; q < nk; q++)
            for (int ta = 0; ta <= 1; ta++)
                for (int tb = 0; tb <= 1; tb++) {
                    const size_t lda = ta ? m : K, ldb = tb ? K : n;
                    memcpy(got, c0, m * n * 4);
                    memcpy(sep, c0, m * n * 4);
                    memcpy(rl, c0, m * n * 4);
                    ck_assert_int_eq(regnn__test_gemm_kernel(kinds[q]), 0);
                    for (size_t c = 0; c + 1 < sizeof cuts / sizeof cuts[0]; c++) {
                        const size_t p0 = cuts[c], kp = cuts[c + 1] - p0;
                        ck_assert_uint_le(kp, RG_GEMM_ADD_K);
                        const float *ap = ta ? a + p0 * lda : a + p0;
                        const float *bp = tb ? b + p0 : b + p0 * ldb;
                        rg_sgemm_builtin_add(ta, tb, m, n, kp, ap, lda, bp, ldb, got, n);
                        rg_sgemm_builtin(ta, tb, m, n, kp, 1.0f, ap, lda, bp, ldb, 0.0f, part, n);
                        for (size_t x = 0; x < m * n; x++)
                            sep[x] = sep[x] + part[x];
                        rule(ta, tb, m, n, kp, 1.0f, ap, lda, bp, ldb, 0.0f, part,
                             n);
                        for (size_t x = 0; x < m * n; x++)
                            rl[x] = rl[x] + part[x];
                    }
                    ck_assert_int_eq(regnn__test_gemm_kernel(0), 0);
                    ck_assert_msg(memcmp(got, sep, m * n * 4) == 0,
                                  "add vs separate parts: kernel %d ta=%d tb=%d %zux%zu", kinds[q],
                                  ta, tb, m, n);
                    ck_assert_msg(memcmp(got, rl, m * n * 4) == 0,
                                  "add vs the rule: kernel %d ta=%d tb=%d %zux%zu", kinds[q], ta,
                                  tb, m, n);
                    /* and it is the product: within rounding of the double reference */
                    ref(ta, tb, m, n, K, 1.0f, a, lda, b, ldb, 1.0f, c0, part, n);
                    for (size_t x = 0; x < m * n; x++)
                        ck_assert_float_eq_tol(got[x], part[x], 1e-4f);
                }
        free(a);
        free(b);
        free(c0);
        free(got);
        free(sep);
        free(part);
        free(rl);
    }
}
END_TEST

START_TEST(test_builtin_alpha_zero_and_empty)
{
    /* alpha 0 or k 0: C = beta*C without reading A or B (NaN there stays out). */
    float a[6] = {NAN, NAN, NAN, NAN, NAN, NAN}, b[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    float c[4] = {1, 2, 3, 4};
    rg_sgemm_builtin(0, 0, 2, 2, 3, 0.0f, a, 3, b, 2, 0.5f, c, 2);
    ck_assert_float_eq(c[0], 0.5f);
    ck_assert_float_eq(c[3], 2.0f);
    rg_sgemm_builtin(0, 0, 2, 2, 0, 1.0f, a, 3, b, 2, 2.0f, c, 2);
    ck_assert_float_eq(c[1], 2.0f);
    c[2] = NAN;
    rg_sgemm_builtin(1, 1, 2, 2, 3, 0.0f, a, 2, b, 3, 0.0f, c, 2);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(c[i], 0.0f);
    /* m or n 0: nothing written, nothing read */
    rg_sgemm_builtin(0, 0, 0, 2, 3, 1.0f, a, 3, b, 2, 0.0f, NULL, 2);
    rg_sgemm_builtin(0, 0, 2, 0, 3, 1.0f, a, 3, b, 2, 1.0f, c, 2);
    ck_assert_float_eq(c[0], 0.0f);
}
END_TEST

START_TEST(test_builtin_gemv_is_a_row)
{
    /* One row through a layer gives that row's bits in a batch product. */
    const size_t shapes[][2] = {{1, 1}, {3, 7}, {17, 129}, {128, 128}, {10, 3}, {64, 1},
                                {9, 121}, {5, 100}, {3, 300}};
    int kinds[3], nk = kernel_kinds(kinds);
    for (int q = 0; q < nk; q++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            enum { R = 5 };
            size_t m = shapes[s][0], n = shapes[s][1], lda = n + 2;
            float *w = malloc(m * lda * 4), *x = malloc(R * m * 4), *c = malloc(R * n * 4),
                  *y = malloc(n * 4);
            fill(w, m * lda, 31 + s);
            fill(x, R * m, 32 + s);
            ck_assert_int_eq(regnn__test_gemm_kernel(kinds[q]), 0);
            rg_sgemm_builtin(0, 0, R, n, m, 1.0f, x, m, w, lda, 0.0f, c, n);
            for (size_t r = 0; r < R; r++) {
                for (size_t j = 0; j < n; j++)
                    y[j] = NAN; /* output only */
                rg_sgemv_t_builtin(m, n, w, lda, x + r * m, y);
                ck_assert_msg(memcmp(y, c + r * n, n * 4) == 0, "kernel %d %zux%zu row %zu: %a vs %a",
                              kinds[q], m, n, r, y[0], c[r * n]);
            }
            ck_assert_int_eq(regnn__test_gemm_kernel(0), 0);
            free(w);
            free(x);
            free(c);
            free(y);
        }
}
END_TEST

START_TEST(test_gemm_kernel_hook)
{
    ck_assert_int_eq(regnn__test_gemm_kernel(-1), -1);
    ck_assert_int_eq(regnn__test_gemm_kernel(5), -1);
    ck_assert_int_eq(regnn__test_gemm_kernel(1), 0);
    ck_assert_str_eq(rg_gemm_kernel_name(), "portable");
    int avx2 = regnn__test_gemm_kernel(2) == 0;
    ck_assert_str_eq(rg_gemm_kernel_name(), avx2 ? "avx2-fma" : "portable");
    int avx512 = regnn__test_gemm_kernel(3) == 0;
    ck_assert_str_eq(rg_gemm_kernel_name(), avx512 ? "avx512-fma" : avx2 ? "avx2-fma" : "portable");
    ck_assert_int_eq(regnn__test_gemm_kernel(1), 0);
    const int neon = regnn__test_gemm_kernel(4) == 0;
    ck_assert_str_eq(rg_gemm_kernel_name(), neon ? "neon-fma" : "portable");
    ck_assert_int_eq(regnn__test_gemm_kernel(0), 0);
#if defined(__x86_64__) && !defined(REGNN_GEMM_PORTABLE)
    ck_assert_int_eq(avx2, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
    ck_assert_int_eq(avx512, __builtin_cpu_supports("avx512f") != 0);
#endif
#if defined(__aarch64__) && !defined(REGNN_GEMM_PORTABLE)
    ck_assert(neon);
#else
    ck_assert(!neon);
#endif
    /* unforced: the CPU's best */
    ck_assert_str_eq(rg_gemm_kernel_name(), avx512 ? "avx512-fma"
                                            : avx2 ? "avx2-fma"
                                            : neon ? "neon-fma"
                                                   : "portable");
}
END_TEST

/* REGNN_OPENBLAS_LARGE: unset or not "1" keeps every product on the built-in
 * kernels (the same bits on every CPU); "1" sends a product above 4,194,304
 * multiply-adds to OpenBLAS, where there is OpenBLAS and the kernel is not
 * the AVX-512 one. */
START_TEST(test_openblas_large_setting)
{
    ck_assert_int_eq(rg_openblas_large_parse(NULL), 0);
    ck_assert_int_eq(rg_openblas_large_parse("0"), 0);
    ck_assert_int_eq(rg_openblas_large_parse(""), 0);
    ck_assert_int_eq(rg_openblas_large_parse("yes"), 0);
    ck_assert_int_eq(rg_openblas_large_parse("1"), 1);
    const size_t m = 256, n = 256, k = 96; /* 6,291,456 multiply-adds */
    float *a = malloc(m * k * 4), *b = malloc(k * n * 4), *c = malloc(m * n * 4),
          *cb = malloc(m * n * 4);
    fill(a, m * k, 41);
    fill(b, k * n, 42);
    int kinds[3];
    const int nk = kernel_kinds(kinds);
    for (int q = 0; q < nk; q++)
        for (int on = 0; on <= 1; on++) {
            ck_assert_int_eq(regnn__test_gemm_kernel(kinds[q]), 0);
            regnn__test_openblas_large(on);
            rg_gemm g = {0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n, 0, 0, 0, 0, 0};
            rg_gemm_plan(&g, 1, 0);
            const int openblas = strcmp(regnn_blas_name(), "openblas") == 0;
            ck_assert_int_eq(g.builtin, !(on && openblas && kinds[q] != 3));
            rg_sgemm(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
            rg_sgemm_builtin(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, cb, n);
            if (g.builtin)
                ck_assert_msg(memcmp(c, cb, m * n * 4) == 0, "kernel %d: not the built-in bits",
                              kinds[q]);
            regnn__test_openblas_large(-1);
            ck_assert_int_eq(regnn__test_gemm_kernel(0), 0);
        }
    free(a);
    free(b);
    free(c);
    free(cb);
}
END_TEST

static Suite *gemm_suite(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_all_transposes);
    tcase_add_test(tc, test_beta_zero_ignores_nan);
    tcase_add_test(tc, test_blas_threads);
    /* The reference loops are slow in sanitizer builds. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_builtin_odd_shapes);
    tcase_add_test(tc, test_builtin_study_shapes);
    tcase_add_test(tc, test_builtin_split_is_bitwise);
    tcase_add_test(tc, test_builtin_add_splits_over_k);
    tcase_add_test(tc, test_builtin_alpha_zero_and_empty);
    tcase_add_test(tc, test_builtin_gemv_is_a_row);
    tcase_add_test(tc, test_gemm_kernel_hook);
    tcase_add_test(tc, test_openblas_large_setting);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(gemm_suite)
