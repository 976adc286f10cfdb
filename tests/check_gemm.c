/* rg_sgemm (OpenBLAS or the built-in GEMM) against a double-precision
 * reference, for every transpose combination and beta. */
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

static Suite *gemm_suite(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_all_transposes);
    tcase_add_test(tc, test_beta_zero_ignores_nan);
    tcase_add_test(tc, test_blas_threads);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(gemm_suite)
