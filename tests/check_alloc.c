/* SPDX-License-Identifier: MIT */
/* The allocator hook (set once, before anything is allocated), the internal
 * wrappers' overflow guards, and the test hooks themselves. */
#include "testutil.h"

#include <stdint.h>
#include <string.h>

#include "model/model_impl.h"

static size_t n_malloc, n_free;

static void *count_malloc(void *user, size_t size)
{
    (void)user;
    n_malloc++;
    return malloc(size);
}

static void count_free(void *user, void *p)
{
    ck_assert_ptr_eq(user, &n_free);
    n_free++;
    free(p);
}

/* Must run before anything else in this process allocates: it is the first
 * test, and in fork mode every test starts from a parent that allocated nothing. */
START_TEST(test_set_allocator_once)
{
    CK_STATUS(regnn_set_allocator(NULL, count_free, NULL), REGNN_E_INVALID_ARG);
    CK_OK(regnn_set_allocator(count_malloc, count_free, &n_free));
    CK_STATUS(regnn_set_allocator(count_malloc, count_free, &n_free), REGNN_E_STATE);
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_dense(m, 4, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 1));
    ck_assert_uint_gt(n_malloc, 0);
    regnn_model_free(m);
    ck_assert_uint_eq(n_malloc, n_free); /* every block came back through the hook */
}
END_TEST

START_TEST(test_set_allocator_after_use)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m)); /* the library has allocated now */
    regnn_model_free(m);
    CK_STATUS(regnn_set_allocator(count_malloc, count_free, &n_free), REGNN_E_STATE);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "already"));
}
END_TEST

START_TEST(test_wrappers)
{
    size_t out = 1;
    ck_assert_int_eq(rg_mul_ok(SIZE_MAX / 2 + 1, 2, &out), 0);
    ck_assert_uint_eq(out, 0);
    ck_assert_int_eq(rg_mul_ok(1000, 1000, &out), 1);
    ck_assert_uint_eq(out, 1000000);
    ck_assert_int_eq(rg_mul_ok(5, 0, &out), 1);
    ck_assert_ptr_null(rg_malloc(0));
    ck_assert_ptr_null(rg_calloc(SIZE_MAX / 4, 8)); /* overflow refused, not wrapped */
    unsigned char *z = rg_calloc(16, 4);
    ck_assert_ptr_nonnull(z);
    for (int i = 0; i < 64; i++)
        ck_assert_uint_eq(z[i], 0);
    rg_free(z);
    rg_free(NULL);
    char *d = rg_strdup("hello");
    ck_assert_str_eq(d, "hello");
    rg_free(d);
}
END_TEST

START_TEST(test_fault_hooks)
{
    long live = regnn__test_alloc_live();
    regnn__test_alloc_fail_at(2, 0);
    void *a = rg_malloc(8), *b = rg_malloc(8), *c = rg_malloc(8);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(b); /* only the 2nd fails */
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(regnn__test_alloc_count(), 3);
    ck_assert_int_eq(regnn__test_alloc_live(), live + 2);
    rg_free(a);
    rg_free(c);
    regnn__test_alloc_fail_at(2, 1);
    a = rg_malloc(8);
    b = rg_malloc(8);
    c = rg_malloc(8);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(b); /* persistent: 2nd and later fail */
    ck_assert_ptr_null(c);
    rg_free(a);
    regnn__test_alloc_fail_at(0, 0);
    ck_assert_int_eq(regnn__test_alloc_live(), live);
}
END_TEST

/* Blocks at every offset from a 128-byte boundary that keeps malloc's
 * alignment (16 bytes), so that every amount of padding in front of an
 * aligned block occurs. */
enum { SHIFTED_MAX = 256 };
static void *shifted_user[SHIFTED_MAX], *shifted_raw[SHIFTED_MAX];
static size_t n_shifted;
static int shifted_off_line; /* never at a multiple of 64 bytes */

static void *shifted_malloc(void *user, size_t size)
{
    (void)user;
    unsigned char *raw = malloc(size + 256);
    if (!raw || n_shifted == SHIFTED_MAX) {
        free(raw);
        return NULL;
    }
    size_t k = n_shifted % 8;
    if (shifted_off_line && k % 4 == 0)
        k++;
    const size_t shift = 16 * k + (128 - (uintptr_t)raw % 128);
    shifted_raw[n_shifted] = raw;
    shifted_user[n_shifted] = raw + shift;
    return shifted_user[n_shifted++];
}

static void shifted_free(void *user, void *p)
{
    (void)user;
    for (size_t i = 0; i < n_shifted; i++)
        if (shifted_user[i] == p) {
            free(shifted_raw[i]);
            shifted_user[i] = NULL;
            return;
        }
    ck_abort_msg("freed a block the hook did not give");
}

static void check_aligned_block(size_t n, size_t align)
{
    float *p = rg_calloc_aligned(n, sizeof *p, align);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % align, 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert(p[i] == 0.0f);
        p[i] = 1.0f; /* the whole block is writable (ASan, valgrind) */
    }
    rg_free_aligned(p);
}

/* Fork mode: the first allocation of this test's process is its own. */
START_TEST(test_aligned_every_padding)
{
    const int own = regnn_set_allocator(shifted_malloc, shifted_free, NULL) == REGNN_OK;
    for (size_t i = 0; i < 130; i++)
        check_aligned_block(1 + i * 7, i % 2 ? 64 : 128);
    if (own) /* every block given was returned, through the hook */
        for (size_t i = 0; i < n_shifted; i++)
            ck_assert_ptr_null(shifted_user[i]);
}
END_TEST

START_TEST(test_aligned_refusals)
{
    const long live = regnn__test_alloc_live();
    ck_assert_ptr_null(rg_calloc_aligned(SIZE_MAX / 4, 8, 64)); /* overflow */
    ck_assert_ptr_null(rg_calloc_aligned(SIZE_MAX, 1, 64));     /* no room for the padding */
    ck_assert_ptr_null(rg_calloc_aligned(0, 4, 64));
    ck_assert_ptr_null(rg_calloc_aligned(4, 4, 48));  /* not a power of two */
    ck_assert_ptr_null(rg_calloc_aligned(4, 4, 256)); /* padding beyond one byte's count */
    ck_assert_ptr_null(rg_calloc_aligned(4, 4, 0));
    regnn__test_alloc_fail_at(1, 0);
    ck_assert_ptr_null(rg_calloc_aligned(4, 4, 64)); /* the hook's failure */
    regnn__test_alloc_fail_at(0, 0);
    rg_free_aligned(NULL);
    ck_assert_int_eq(regnn__test_alloc_live(), live);
}
END_TEST

/* The weights start on a cache line before and after training steps swap
 * them with the spare buffer. */
START_TEST(test_params_aligned)
{
    shifted_off_line = 1;
    regnn_set_allocator(shifted_malloc, shifted_free, NULL);
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_dense(m, 5, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 1));
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    const float x[6] = {1, 2, 3, 4, 5, 6}, y[2] = {1, -1};
    for (int step = 0; step < 3; step++) {
        ck_assert_uint_eq((uintptr_t)rg_model_params(m) % RG_LINE, 0);
        double loss;
        CK_OK(regnn_train_batch(m, o, x, y, 2, &loss));
    }
    ck_assert_uint_eq((uintptr_t)rg_model_params(m) % RG_LINE, 0);
    const float *state[4];
    rg_optimizer_buffers(o, state);
    for (int b = 0; b < 4; b++) { /* Adam's moments and their spares, after swaps */
        ck_assert_ptr_nonnull(state[b]);
        ck_assert_uint_eq((uintptr_t)state[b] % RG_LINE, 0);
    }
    regnn_optimizer_free(o);
    regnn_model_free(m);
}
END_TEST

static Suite *alloc_suite(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_set_allocator_once);
    tcase_add_test(tc, test_set_allocator_after_use);
    tcase_add_test(tc, test_wrappers);
    tcase_add_test(tc, test_fault_hooks);
    tcase_add_test(tc, test_aligned_every_padding);
    tcase_add_test(tc, test_aligned_refusals);
    tcase_add_test(tc, test_params_aligned);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(alloc_suite)
