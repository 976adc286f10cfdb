/* SPDX-License-Identifier: MIT */
/* The allocator hook (set once, before anything is allocated), the internal
 * wrappers' overflow guards, and the test hooks themselves. */
#include "testutil.h"

#include <string.h>

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

static Suite *alloc_suite(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_set_allocator_once);
    tcase_add_test(tc, test_set_allocator_after_use);
    tcase_add_test(tc, test_wrappers);
    tcase_add_test(tc, test_fault_hooks);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(alloc_suite)
