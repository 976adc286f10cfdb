/* SPDX-License-Identifier: MIT */
/* The built-in SGEMM: packed panels and a register-blocked micro-kernel picked
 * at run time: AVX-512 (8x32) or AVX2+FMA (6x16) on x86-64 CPUs that have them,
 * NEON (8x8) on ARM64, else a portable C one (4x8). It is
 * rg_sgemm in BLAS=builtin builds; the OpenBLAS build compiles it only so that
 * tests and benches can compare the two.
 *
 * Determinism rule: whatever the blocking, each element of C is computed as
 *     c = (beta == 0 ? +0 : beta * c);
 *     for p = 0, 1, ..., k-1:  c = c + (alpha * a_ip) * b_pj
 * with one accumulator, k ascending, each "c + x * b" rounded once (a fused
 * multiply-add: FMA instructions in the AVX kernels, fmaf in the portable
 * one).
 * alpha * a_ip is rounded once when A is packed (exact for alpha = 1). Panels
 * split only m and n; blocks over k carry the accumulator through C in float,
 * which is exact. So splitting a product by rows or columns (for threads)
 * never changes a bit, and every kernel gives the same bits. Edge tiles go
 * through the same kernel via a padded tile, products with one column of C
 * through a column kernel and single rows (rg_sgemv_t_builtin) through a row
 * loop with the same arithmetic, so
 * they follow the same rule. Reading A in place instead of packing it (alpha 1),
 * or B (not transposed), changes where values come from, not the arithmetic.
 * The first block of a beta-0 product starts its accumulators at +0 in
 * registers, which is the rule without a pass zeroing C.
 * rg_sgemm_builtin_add is the other form: per block of KC values of p the
 * chain starts from +0 and is then added to C (c = c + chain). */
#include "kernels.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* -DREGNN_GEMM_PORTABLE builds only the portable kernel. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(REGNN_GEMM_PORTABLE)
#  define RG_GEMM_AVX2 1
#  include <immintrin.h>
#endif
/* AArch64 always has NEON, with fused multiply-adds. */
#if defined(__aarch64__) && defined(__ARM_NEON) && !defined(REGNN_GEMM_PORTABLE)
#  define RG_GEMM_NEON 1
#  include <arm_neon.h>
#endif

/* Blocking: an A block (MC x KC, 24 KiB) and a B block (KC x NC, 32 KiB) live on
 * the stack, so a call allocates nothing and uses under 60 KiB of stack. MC is a
 * multiple of every kernel's MR, NC of every NR; MR_COL * KC fits in MC * KC. */
enum { KC = 128, MC = 48, NC = 64, MR_MAX = 8, NR_MAX = 32, MR_COL = 32 };
_Static_assert(KC == RG_GEMM_ADD_K, "rg_sgemm_builtin_add adds once per KC block");

/* A(i,p) of the tile is a[i*rs + p*ps]: a packed panel (rs 1, ps MR) or, when
 * packing would only copy, op(A) in place (rs lda, ps 1 or rs 1, ps lda). */
/* B(p,j) of the tile is b[p*bs + j]: a packed panel (bs NR) or op(B) in place.
 * mode: how the chain of each element starts and ends (rg_mode). */
typedef void (*rg_kernel_fn)(size_t kc, const float *a, size_t rs, size_t ps, const float *b,
                             size_t bs, float *c, size_t ldc, int mode);

/* RG_ACC: c = c + ...; RG_STORE: c = (+0 + ...), C not read (beta 0);
 * RG_ADD: c = c + (+0 + ...), one rounding added to C (rg_sgemm_builtin_add). */
enum { RG_ACC, RG_STORE, RG_ADD };

typedef void (*rg_column_fn)(size_t kc, const float *a, const float *b, float *c);

typedef void (*rg_gemv_fn)(size_t m, size_t n, const float *a, size_t lda, const float *x,
                           float *y);

typedef struct {
    rg_kernel_fn fn;
    /* cppcheck-suppress unusedStructMember ; used through pick_kernel()->gemv */
    rg_gemv_fn gemv; /* one row: the same arithmetic per element */
    rg_column_fn column; /* n = 1: 32 rows, same arithmetic per element as fn */
    size_t mr, nr;
    const char *name;
} rg_kernel;

/* C[4x8] += A(4 x kc) times B panel (kc x 8) with fmaf: the FMA kernels'
 * chain per element, so the same bits. Compilers turn the loop over j into
 * vector fused multiply-adds where the target has them (ARM64, x86-64 with
 * -mfma); elsewhere fmaf is a libm call per element, the price of one set of
 * bits on every CPU. */
static void kernel_c4x8(size_t kc, const float *restrict a, size_t rs, size_t ps,
                        const float *restrict b, size_t bs, float *restrict c, size_t ldc,
                        int mode)
{
    float acc[4][8];
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 8; j++)
            acc[i][j] = mode != RG_ACC ? 0.0f : c[i * ldc + j];
    for (size_t p = 0; p < kc; p++) {
        const float *restrict bp = b + p * bs;
        for (size_t i = 0; i < 4; i++) {
            const float ai = a[p * ps + i * rs];
            for (size_t j = 0; j < 8; j++)
                acc[i][j] = fmaf(ai, bp[j], acc[i][j]);
        }
    }
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 8; j++)
            c[i * ldc + j] = mode == RG_ADD ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

/* C[32x1] += A panel (kc x 32) times b (kc): a product with one column of C,
 * vectorized over rows instead of wasting all but one column of a tile. */
static void column_c32(size_t kc, const float *restrict a, const float *restrict b,
                       float *restrict c)
{
    float acc[32];
    memcpy(acc, c, sizeof acc);
    for (size_t p = 0; p < kc; p++)
        for (size_t i = 0; i < 32; i++)
            acc[i] = fmaf(a[p * 32 + i], b[p], acc[i]);
    memcpy(c, acc, sizeof acc);
}

/* y = x^T A, a one-row product, i ascending: the rule with y starting at +0. */
static void gemv_c(size_t m, size_t n, const float *restrict a, size_t lda,
                   const float *restrict x, float *restrict y)
{
    memset(y, 0, n * sizeof *y);
    for (size_t i = 0; i < m; i++) {
        const float xi = x[i];
        const float *restrict ai = a + i * lda;
        for (size_t j = 0; j < n; j++)
            y[j] = fmaf(xi, ai[j], y[j]);
    }
}

static const rg_kernel kernel_portable = {kernel_c4x8, gemv_c, column_c32, 4, 8, "portable"};

#ifdef RG_GEMM_NEON
/* C[8x8] += A panel (kc x 8) times B panel (kc x 8): 16 accumulators of 4,
 * each step one vfmaq_f32 (c + a * b rounded once), the rule of every kernel.
 * One row and one column use the portable code (fmaf is one fmadd here). */
static void kernel_neon_8x8(size_t kc, const float *restrict a, size_t rs, size_t ps,
                            const float *restrict b, size_t bs, float *restrict c, size_t ldc,
                            int mode)
{
    float32x4_t acc[8][2];
    for (size_t i = 0; i < 8; i++) {
        acc[i][0] = mode != RG_ACC ? vdupq_n_f32(0.0f) : vld1q_f32(c + i * ldc);
        acc[i][1] = mode != RG_ACC ? vdupq_n_f32(0.0f) : vld1q_f32(c + i * ldc + 4);
    }
    for (size_t p = 0; p < kc; p++) {
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
        for (size_t i = 0; i < 8; i++) {
            const float32x4_t av = vdupq_n_f32(a[i * rs]);
            acc[i][0] = vfmaq_f32(acc[i][0], av, b0);
            acc[i][1] = vfmaq_f32(acc[i][1], av, b1);
        }
        a += ps;
        b += bs;
    }
    for (size_t i = 0; i < 8; i++) {
        if (mode == RG_ADD) {
            acc[i][0] = vaddq_f32(vld1q_f32(c + i * ldc), acc[i][0]);
            acc[i][1] = vaddq_f32(vld1q_f32(c + i * ldc + 4), acc[i][1]);
        }
        vst1q_f32(c + i * ldc, acc[i][0]);
        vst1q_f32(c + i * ldc + 4, acc[i][1]);
    }
}

static const rg_kernel kernel_neon = {kernel_neon_8x8, gemv_c, column_c32, 8, 8, "neon-fma"};
#endif

#ifdef RG_GEMM_AVX2
/* C[6x16] += A panel (kc x 6) times B panel (kc x 16): 12 accumulators, two
 * B vectors and one broadcast, 15 of the 16 ymm registers. */
__attribute__((target("avx2,fma"))) static void
kernel_avx2_6x16(size_t kc, const float *restrict a, size_t rs, size_t ps,
                 const float *restrict b, size_t bs, float *restrict c, size_t ldc, int mode)
{
#define RG_LD(p) (mode != RG_ACC ? _mm256_setzero_ps() : _mm256_loadu_ps(p))
    __m256 c00 = RG_LD(c), c01 = RG_LD(c + 8);
    __m256 c10 = RG_LD(c + ldc), c11 = RG_LD(c + ldc + 8);
    __m256 c20 = RG_LD(c + 2 * ldc), c21 = RG_LD(c + 2 * ldc + 8);
    __m256 c30 = RG_LD(c + 3 * ldc), c31 = RG_LD(c + 3 * ldc + 8);
    __m256 c40 = RG_LD(c + 4 * ldc), c41 = RG_LD(c + 4 * ldc + 8);
    __m256 c50 = RG_LD(c + 5 * ldc), c51 = RG_LD(c + 5 * ldc + 8);
    for (size_t p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 av = _mm256_broadcast_ss(a);
        c00 = _mm256_fmadd_ps(av, b0, c00);
        c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a + 1 * rs);
        c10 = _mm256_fmadd_ps(av, b0, c10);
        c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a + 2 * rs);
        c20 = _mm256_fmadd_ps(av, b0, c20);
        c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a + 3 * rs);
        c30 = _mm256_fmadd_ps(av, b0, c30);
        c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a + 4 * rs);
        c40 = _mm256_fmadd_ps(av, b0, c40);
        c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a + 5 * rs);
        c50 = _mm256_fmadd_ps(av, b0, c50);
        c51 = _mm256_fmadd_ps(av, b1, c51);
        a += ps;
        b += bs;
    }
#undef RG_LD
#define RG_ST(p, v) _mm256_storeu_ps(p, mode == RG_ADD ? _mm256_add_ps(_mm256_loadu_ps(p), v) : (v))
    RG_ST(c, c00);
    RG_ST(c + 8, c01);
    RG_ST(c + ldc, c10);
    RG_ST(c + ldc + 8, c11);
    RG_ST(c + 2 * ldc, c20);
    RG_ST(c + 2 * ldc + 8, c21);
    RG_ST(c + 3 * ldc, c30);
    RG_ST(c + 3 * ldc + 8, c31);
    RG_ST(c + 4 * ldc, c40);
    RG_ST(c + 4 * ldc + 8, c41);
    RG_ST(c + 5 * ldc, c50);
    RG_ST(c + 5 * ldc + 8, c51);
#undef RG_ST
}

/* The fused column kernel of both FMA kernels: four independent chains of 8 rows. */
__attribute__((target("avx2,fma"))) static void column_fma32(size_t kc, const float *restrict a,
                                                             const float *restrict b,
                                                             float *restrict c)
{
    __m256 c0 = _mm256_loadu_ps(c), c1 = _mm256_loadu_ps(c + 8), c2 = _mm256_loadu_ps(c + 16),
           c3 = _mm256_loadu_ps(c + 24);
    for (size_t p = 0; p < kc; p++) {
        const __m256 bv = _mm256_broadcast_ss(b + p);
        c0 = _mm256_fmadd_ps(_mm256_loadu_ps(a), bv, c0);
        c1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + 8), bv, c1);
        c2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + 16), bv, c2);
        c3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + 24), bv, c3);
        a += 32;
    }
    _mm256_storeu_ps(c, c0);
    _mm256_storeu_ps(c + 8, c1);
    _mm256_storeu_ps(c + 16, c2);
    _mm256_storeu_ps(c + 24, c3);
}

/* y[j0 .. j0 + 8*NV) = x^T A for those columns: NV accumulators held in
 * registers across the whole of m (a load/store per row of y would bind the
 * loop to store-forwarding latency). Per element: acc = +0, then
 * acc = fma(x_i, a_ij, acc) for i ascending, as in the GEMM kernels. */
#define RG_GEMV_BLOCK(NV)                                                                        \
    for (; j + 8 * (NV) <= n; j += 8 * (NV)) {                                                  \
        __m256 acc[NV];                                                                         \
        for (int v = 0; v < (NV); v++)                                                          \
            acc[v] = _mm256_setzero_ps();                                                       \
        for (size_t i = 0; i < m; i++) {                                                        \
            const __m256 xv = _mm256_set1_ps(x[i]);                                             \
            const float *restrict ai = a + i * lda + j;                                         \
            for (int v = 0; v < (NV); v++)                                                      \
                acc[v] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(ai + 8 * v), acc[v]);              \
        }                                                                                       \
        for (int v = 0; v < (NV); v++)                                                          \
            _mm256_storeu_ps(y + j + 8 * v, acc[v]);                                            \
    }

__attribute__((target("avx2,fma"))) static void gemv_fma(size_t m, size_t n,
                                                         const float *restrict a, size_t lda,
                                                         const float *restrict x,
                                                         float *restrict y)
{
    size_t j = 0;
    RG_GEMV_BLOCK(8)
    RG_GEMV_BLOCK(4)
    RG_GEMV_BLOCK(2)
    RG_GEMV_BLOCK(1)
    for (; j < n; j++) {
        /* one lane: the same fused multiply-add as the vector loop */
        __m128 acc = _mm_setzero_ps();
        for (size_t i = 0; i < m; i++)
            acc = _mm_fmadd_ss(_mm_set_ss(x[i]), _mm_set_ss(a[i * lda + j]), acc);
        y[j] = _mm_cvtss_f32(acc);
    }
}
#undef RG_GEMV_BLOCK

static const rg_kernel kernel_avx2 = {kernel_avx2_6x16, gemv_fma, column_fma32, 6, 16,
                                      "avx2-fma"};

/* C[8x32] += A panel (kc x 8) times B panel (kc x 32): 16 zmm accumulators.
 * The same fused chain per element as the AVX2 kernel, so the same bits. */
__attribute__((target("avx512f"))) static void
kernel_avx512_8x32(size_t kc, const float *restrict a, size_t rs, size_t ps,
                   const float *restrict b, size_t bs, float *restrict c, size_t ldc, int mode)
{
    __m512 acc[8][2];
    for (size_t i = 0; i < 8; i++) {
        acc[i][0] = mode != RG_ACC ? _mm512_setzero_ps() : _mm512_loadu_ps(c + i * ldc);
        acc[i][1] = mode != RG_ACC ? _mm512_setzero_ps() : _mm512_loadu_ps(c + i * ldc + 16);
    }
    for (size_t p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        for (size_t i = 0; i < 8; i++) {
            const __m512 av = _mm512_set1_ps(a[i * rs]);
            acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
        }
        a += ps;
        b += bs;
    }
    for (size_t i = 0; i < 8; i++) {
        if (mode == RG_ADD) {
            acc[i][0] = _mm512_add_ps(_mm512_loadu_ps(c + i * ldc), acc[i][0]);
            acc[i][1] = _mm512_add_ps(_mm512_loadu_ps(c + i * ldc + 16), acc[i][1]);
        }
        _mm512_storeu_ps(c + i * ldc, acc[i][0]);
        _mm512_storeu_ps(c + i * ldc + 16, acc[i][1]);
    }
}

/* gemv_fma's rule with 16-wide accumulators: a 128-wide layer in one pass
 * over the weights instead of two (one row is bound by reading them). */
__attribute__((target("avx512f"))) static void gemv_avx512(size_t m, size_t n,
                                                           const float *restrict a, size_t lda,
                                                           const float *restrict x,
                                                           float *restrict y)
{
    size_t j = 0;
    for (; j + 128 <= n; j += 128) {
        __m512 acc[8];
        for (int v = 0; v < 8; v++)
            acc[v] = _mm512_setzero_ps();
        for (size_t i = 0; i < m; i++) {
            const __m512 xv = _mm512_set1_ps(x[i]);
            const float *restrict ai = a + i * lda + j;
            for (int v = 0; v < 8; v++)
                acc[v] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(ai + 16 * v), acc[v]);
        }
        for (int v = 0; v < 8; v++)
            _mm512_storeu_ps(y + j + 16 * v, acc[v]);
    }
    if (j < n)
        gemv_fma(m, n - j, a + j, lda, x, y + j);
}

static const rg_kernel kernel_avx512 = {kernel_avx512_8x32, gemv_avx512, column_fma32, 8, 32,
                                        "avx512-fma"};

static int cpu_has_avx512(void) { return __builtin_cpu_supports("avx512f"); }

static int cpu_has_avx2_fma(void)
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

/* The CPU's best kernel. */
static const rg_kernel *cpu_kernel(void)
{
#ifdef RG_GEMM_AVX2
    if (cpu_has_avx512())
        return &kernel_avx512;
    if (cpu_has_avx2_fma())
        return &kernel_avx2;
#endif
#ifdef RG_GEMM_NEON
    return &kernel_neon;
#else
    return &kernel_portable;
#endif
}

/* A kernel by name, NULL when unknown or not runnable on this CPU. */
static const rg_kernel *kernel_named(const char *name)
{
    if (strcmp(name, kernel_portable.name) == 0)
        return &kernel_portable;
#ifdef RG_GEMM_NEON
    if (strcmp(name, kernel_neon.name) == 0)
        return &kernel_neon;
#endif
#ifdef RG_GEMM_AVX2
    if (strcmp(name, kernel_avx2.name) == 0 && cpu_has_avx2_fma())
        return &kernel_avx2;
    if (strcmp(name, kernel_avx512.name) == 0 && cpu_has_avx512())
        return &kernel_avx512;
#endif
    return NULL;
}

/* REGNN_GEMM_KERNEL (a test aid, docs/api.md "Math backend"), read once per
 * process: the kernel of every product on every thread. Written once under
 * pthread_once, then only read. */
static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static const rg_kernel *env_kernel;

static void read_env_kernel(void)
{
    const char *name = getenv("REGNN_GEMM_KERNEL");
    const rg_kernel *k = name ? kernel_named(name) : NULL;
    env_kernel = k ? k : cpu_kernel();
}

#ifdef REGNN_TESTING
/* 0 = by CPU, 1 = portable, 2 = AVX2, 3 = AVX-512, 4 = NEON */
static _Thread_local int forced_kernel;
static const char *const forced_names[] = {NULL, "portable", "avx2-fma", "avx512-fma", "neon-fma"};

int regnn__test_gemm_kernel(int kind)
{
    if (kind < 0 || kind > 4)
        return -1;
    if (kind != 0 && !kernel_named(forced_names[kind]))
        return -1;
    forced_kernel = kind;
    return 0;
}
#endif

static const rg_kernel *pick_kernel(void)
{
#ifdef REGNN_TESTING
    if (forced_kernel != 0)
        return kernel_named(forced_names[forced_kernel]);
#endif
    pthread_once(&env_once, read_env_kernel);
    return env_kernel;
}

const char *rg_gemm_kernel_name(void) { return pick_kernel()->name; }

int rg_gemm_kernel_wide(void)
{
#ifdef RG_GEMM_AVX2
    return pick_kernel() == &kernel_avx512;
#else
    return 0;
#endif
}

#ifdef RG_GEMM_AVX2
/* d[q*ld + r] = s[r*ls + q] for an 8x8 block: packing a transposed B (or
 * an A that is not transposed, with alpha 1) moves data only, so this changes
 * no bit, only the time (a scalar transposition was a fifth of a threaded
 * step's time). */
__attribute__((target("avx"))) static void transpose8(const float *restrict s, size_t ls,
                                                      float *restrict d, size_t ld)
{
    __m256 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++)
        r[i] = _mm256_loadu_ps(s + (size_t)i * ls);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int h = 0; h < 8; h += 4) {
        u[h] = _mm256_shuffle_ps(t[h], t[h + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[h + 1] = _mm256_shuffle_ps(t[h], t[h + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[h + 2] = _mm256_shuffle_ps(t[h + 1], t[h + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[h + 3] = _mm256_shuffle_ps(t[h + 1], t[h + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int q = 0; q < 4; q++) {
        _mm256_storeu_ps(d + (size_t)q * ld, _mm256_permute2f128_ps(u[q], u[q + 4], 0x20));
        _mm256_storeu_ps(d + (size_t)(q + 4) * ld, _mm256_permute2f128_ps(u[q], u[q + 4], 0x31));
    }
}
#endif

/* Packs rows i0..i0+mc of op(A), columns p0..p0+kc, times alpha, as panels of
 * mr rows stored p-major (mr values per p), zero-padded to whole panels. */
static void pack_a(int ta, const float *a, size_t lda, size_t i0, size_t p0, size_t mc, size_t kc,
                   size_t mr, float alpha, float *restrict dst)
{
    for (size_t ir = 0; ir < mc; ir += mr) {
        const size_t rows = mc - ir < mr ? mc - ir : mr;
        if (ta) { /* A(i,p) = a[p*lda + i]: contiguous over i */
            for (size_t p = 0; p < kc; p++) {
                const float *src = a + (p0 + p) * lda + i0 + ir;
                float *d = dst + p * mr;
                size_t r = 0;
                for (; r < rows; r++)
                    d[r] = alpha * src[r];
                for (; r < mr; r++)
                    d[r] = 0.0f;
            }
        } else { /* a transposition: contiguous writes, one read stream per row */
            const float *src = a + (i0 + ir) * lda + p0;
            size_t p = 0;
#ifdef RG_GEMM_AVX2
            if (alpha == 1.0f && rows == mr && mr % 8 == 0 && cpu_has_avx2_fma())
                for (; p + 8 <= kc; p += 8)
                    for (size_t r = 0; r < mr; r += 8)
                        transpose8(src + r * lda + p, lda, dst + p * mr + r, mr);
#endif
            for (; p < kc; p++) {
                float *d = dst + p * mr;
                size_t r = 0;
                for (; r < rows; r++)
                    d[r] = alpha * src[r * lda + p];
                for (; r < mr; r++)
                    d[r] = 0.0f;
            }
        }
        dst += kc * mr;
    }
}


/* Packs rows p0..p0+kc of op(B), columns j0..j0+nc, as panels of nr columns
 * stored p-major, zero-padded to whole panels. */
static void pack_b(int tb, const float *b, size_t ldb, size_t p0, size_t j0, size_t kc, size_t nc,
                   size_t nr, float *restrict dst)
{
    for (size_t jr = 0; jr < nc; jr += nr) {
        const size_t cols = nc - jr < nr ? nc - jr : nr;
        if (!tb) { /* B(p,j) = b[p*ldb + j]: contiguous over j */
            for (size_t p = 0; p < kc; p++) {
                const float *src = b + (p0 + p) * ldb + j0 + jr;
                float *d = dst + p * nr;
                /* Fixed 32-byte copies: gcc turns a copy of a variable few dozen
                 * bytes into a slow rep movs. */
                size_t j = 0;
                for (; j + 8 <= cols; j += 8)
                    memcpy(d + j, src + j, 8 * sizeof *d);
                for (; j < cols; j++)
                    d[j] = src[j];
                for (; j < nr; j++)
                    d[j] = 0.0f;
            }
        } else { /* a transposition: contiguous writes, one read stream per column */
            const float *src = b + (j0 + jr) * ldb + p0;
            size_t p = 0;
#ifdef RG_GEMM_AVX2
            if (cols == nr && nr % 8 == 0 && cpu_has_avx2_fma())
                for (; p + 8 <= kc; p += 8)
                    for (size_t j = 0; j < nr; j += 8)
                        transpose8(src + j * ldb + p, ldb, dst + p * nr + j, nr);
#endif
            for (; p < kc; p++) {
                float *d = dst + p * nr;
                size_t j = 0;
                for (; j < cols; j++)
                    d[j] = src[j * ldb + p];
                for (; j < nr; j++)
                    d[j] = 0.0f;
            }
        }
        dst += kc * nr;
    }
}

static void scale_c(size_t m, size_t n, float beta, float *c, size_t ldc)
{
    if (beta == 1.0f)
        return;
    for (size_t i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        if (beta == 0.0f)
            memset(ci, 0, n * sizeof *ci); /* beta 0 must not propagate NaN from C */
        else
            for (size_t j = 0; j < n; j++)
                ci[j] *= beta;
    }
}

void rg_sgemv_t_builtin(size_t m, size_t n, const float *a, size_t lda, const float *x, float *y)
{
    pick_kernel()->gemv(m, n, a, lda, x, y);
}

/* add = 0: the rule above; add = 1: for each block of KC values of p, the
 * chain runs from +0 in registers and is added to C once (c = c + chain). */
static void sgemm_builtin(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                          const float *a, size_t lda, const float *b, size_t ldb, float beta,
                          float *c, size_t ldc, int add)
{
    /* beta 0 is the first block's RG_STORE mode, unless there is no block. */
    if (!add && (beta != 0.0f || alpha == 0.0f || k == 0))
        scale_c(m, n, beta, c, ldc);
    if (alpha == 0.0f || k == 0 || m == 0 || n == 0)
        return;
    const rg_kernel *kern = pick_kernel();
    const size_t mr = kern->mr, nr = kern->nr;
    _Alignas(64) float apack[MC * KC];
    _Alignas(64) float bpack[KC * NC];
    _Alignas(64) float tile[MR_MAX * NR_MAX];
    const int direct_a = alpha == 1.0f;
    if (n == 1) {
        for (size_t pc = 0; pc < k; pc += KC) {
            const size_t kc = k - pc < KC ? k - pc : KC;
            const int mode = add ? RG_ADD : pc == 0 && beta == 0.0f ? RG_STORE : RG_ACC;
            pack_b(trans_b, b, ldb, pc, 0, kc, 1, 1, bpack);
            for (size_t ic = 0; ic < m; ic += MR_COL) {
                const size_t rows = m - ic < MR_COL ? m - ic : MR_COL;
                pack_a(trans_a, a, lda, ic, pc, rows, kc, MR_COL, alpha, apack);
                for (size_t i = 0; i < MR_COL; i++)
                    /* cppcheck-suppress knownConditionTrueFalse ; false positive: the bound is never below 1 here */
                    tile[i] = i < rows && mode == RG_ACC ? c[(ic + i) * ldc] : 0.0f;
                kern->column(kc, apack, bpack, tile);
                /* cppcheck-suppress knownConditionTrueFalse ; false positive: the bound is never below 1 here */
                for (size_t i = 0; i < rows; i++)
                    c[(ic + i) * ldc] = mode == RG_ADD ? c[(ic + i) * ldc] + tile[i] : tile[i];
            }
        }
        return;
    }
    for (size_t jc = 0; jc < n; jc += NC) {
        const size_t nc = n - jc < NC ? n - jc : NC;
        /* B not transposed is read in place but for a last partial panel,
         * packed zero-padded at the start of bpack. */
        const size_t bfull = trans_b ? 0 : nc / nr * nr;
        for (size_t pc = 0; pc < k; pc += KC) {
            const size_t kc = k - pc < KC ? k - pc : KC;
            const int mode = add ? RG_ADD : pc == 0 && beta == 0.0f ? RG_STORE : RG_ACC;
            /* cppcheck-suppress knownConditionTrueFalse ; false positive: nc is at least 1 here */
            if (bfull < nc)
                pack_b(trans_b, b, ldb, pc, jc + bfull, kc, nc - bfull, nr, bpack);
            for (size_t ic = 0; ic < m; ic += MC) {
                const size_t mc = m - ic < MC ? m - ic : MC;
                /* With alpha 1 packing A would only copy (or transpose) it: the
                 * kernel reads whole panels in place and only a last partial
                 * panel is packed, zero-padded, at the start of apack. */
                const size_t full = mc / mr * mr;
                if (!direct_a)
                    pack_a(trans_a, a, lda, ic, pc, mc, kc, mr, alpha, apack);
                /* cppcheck-suppress knownConditionTrueFalse ; false positive: the bound is never below 1 here */
                else if (full < mc)
                    pack_a(trans_a, a, lda, ic + full, pc, mc - full, kc, mr, alpha, apack);
                /* cppcheck-suppress knownConditionTrueFalse ; false positive: the bound is never below 1 here */
                for (size_t jr = 0; jr < nc; jr += nr) {
                    const size_t cols = nc - jr < nr ? nc - jr : nr;
                    const float *bp;
                    size_t bs = nr;
                    if (jr < bfull) {
                        bp = b + pc * ldb + jc + jr;
                        bs = ldb;
                    } else {
                        bp = bpack + (jr - bfull) / nr * kc * nr;
                    }
                    for (size_t ir = 0; ir < mc; ir += mr) {
                        const size_t rows = mc - ir < mr ? mc - ir : mr;
                        const float *ap = apack + (ir / mr) * kc * mr;
                        size_t rs = 1, ps = mr;
                        if (direct_a && ir < full) {
                            ap = trans_a ? a + pc * lda + ic + ir : a + (ic + ir) * lda + pc;
                            rs = trans_a ? 1 : lda;
                            ps = trans_a ? lda : 1;
                        } else if (direct_a) {
                            ap = apack;
                        }
                        float *cij = c + (ic + ir) * ldc + jc + jr;
                        if (rows == mr && cols == nr) {
                            kern->fn(kc, ap, rs, ps, bp, bs, cij, ldc, mode);
                            continue;
                        }
                        /* Edge tile: the same kernel on a padded copy. */
                        for (size_t i = 0; i < mr; i++)
                            for (size_t j = 0; j < nr; j++)
                                tile[i * nr + j] = i < rows && j < cols ? cij[i * ldc + j] : 0.0f;
                        kern->fn(kc, ap, rs, ps, bp, bs, tile, nr, mode);
                        for (size_t i = 0; i < rows; i++)
                            memcpy(cij + i * ldc, tile + i * nr, cols * sizeof *tile);
                    }
                }
            }
        }
    }
}

void rg_sgemm_builtin(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                      const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                      size_t ldc)
{
    sgemm_builtin(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 0);
}

void rg_sgemm_builtin_add(int trans_a, int trans_b, size_t m, size_t n, size_t k, const float *a,
                          size_t lda, const float *b, size_t ldb, float *c, size_t ldc)
{
    sgemm_builtin(trans_a, trans_b, m, n, k, 1.0f, a, lda, b, ldb, 1.0f, c, ldc, 1);
}
