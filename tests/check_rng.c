/* SPDX-License-Identifier: MIT */
/* The generator behind every seed: fixed reference outputs (so results are
 * the same on every platform), range and uniformity of the derived draws. */
#include "testutil.h"

START_TEST(test_reference_outputs)
{
    /* xoshiro256** seeded by splitmix64, from an independent implementation. */
    rg_rng r;
    rg_rng_seed(&r, 0);
    ck_assert_uint_eq(rg_rng_next(&r), 0x99ec5f36cb75f2b4ull);
    ck_assert_uint_eq(rg_rng_next(&r), 0xbf6e1f784956452aull);
    ck_assert_uint_eq(rg_rng_next(&r), 0x1a5f849d4933e6e0ull);
    rg_rng_seed(&r, 42);
    ck_assert_uint_eq(rg_rng_next(&r), 0x15780b2e0c2ec716ull);
    ck_assert_uint_eq(rg_rng_next(&r), 0x6104d9866d113a7eull);
    ck_assert_uint_eq(rg_rng_next(&r), 0xae17533239e499a1ull);
}
END_TEST

START_TEST(test_uniform_and_below)
{
    rg_rng r;
    rg_rng_seed(&r, 7);
    double sum = 0;
    enum { N = 100000 };
    size_t bins[10] = {0};
    for (int i = 0; i < N; i++) {
        double u = rg_rng_uniform(&r);
        ck_assert(u >= 0.0 && u < 1.0);
        sum += u;
        uint64_t b = rg_rng_below(&r, 10);
        ck_assert_uint_lt(b, 10);
        bins[b]++;
    }
    ck_assert_double_eq_tol(sum / N, 0.5, 0.01);
    for (int b = 0; b < 10; b++) /* 10000 expected per bin, sd about 95 */
        ck_assert_msg(bins[b] > 9500 && bins[b] < 10500, "bin %d: %zu", b, bins[b]);
    ck_assert_uint_eq(rg_rng_below(&r, 1), 0);
    /* A bound just above 2^63 exercises the rejection path. */
    for (int i = 0; i < 100; i++)
        ck_assert_uint_lt(rg_rng_below(&r, (1ull << 63) + 12345), (1ull << 63) + 12345);
}
END_TEST

START_TEST(test_permutation)
{
    rg_rng r;
    rg_rng_seed(&r, 3);
    size_t idx[500], again[500], seen[500] = {0};
    rg_rng_permutation(&r, idx, 500);
    for (size_t i = 0; i < 500; i++) {
        ck_assert_uint_lt(idx[i], 500);
        seen[idx[i]]++;
    }
    size_t fixed = 0;
    for (size_t i = 0; i < 500; i++) {
        ck_assert_uint_eq(seen[i], 1);
        fixed += idx[i] == i;
    }
    ck_assert_uint_lt(fixed, 10); /* a shuffle, not the identity (about 1 expected) */
    rg_rng_seed(&r, 3);
    rg_rng_permutation(&r, again, 500);
    ck_assert_mem_eq(idx, again, sizeof idx);
    rg_rng_permutation(&r, again, 0); /* empty is fine */
    rg_rng_permutation(&r, again, 1);
    ck_assert_uint_eq(again[0], 0);
}
END_TEST

static Suite *rng_suite(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_reference_outputs);
    tcase_add_test(tc, test_uniform_and_below);
    tcase_add_test(tc, test_permutation);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(rng_suite)
