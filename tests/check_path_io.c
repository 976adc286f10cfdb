/* SPDX-License-Identifier: MIT */
/* Path results as bytes and the merge of shards: shards of a sweep, saved,
 * loaded and merged, give the one-call path bit for bit, in any order and
 * for any shard count; partial paths; malformed input; merge refusals;
 * allocation failures. */
#include "testutil.h"

#include <math.h>
#include <string.h>

/* y = sin(2 x0) + x1 x2 - 0.5 x3 + noise. */
static regnn_dataset *synth(size_t rows, uint64_t seed)
{
    float *x = malloc(rows * 4 * sizeof *x), *y = malloc(rows * sizeof *y);
    rg_rng r;
    rg_rng_seed(&r, seed);
    for (size_t i = 0; i < rows; i++) {
        float *xi = x + i * 4;
        for (size_t k = 0; k < 4; k++)
            xi[k] = (float)(2 * rg_rng_uniform(&r) - 1);
        y[i] = (float)(sin(2 * xi[0]) + xi[1] * xi[2] - 0.5 * xi[3] + 0.1 * (2 * rg_rng_uniform(&r) - 1));
    }
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, rows, 4, 1, REGNN_COPY, &ds));
    free(x);
    free(y);
    return ds;
}

typedef struct {
    regnn_model *tm;
    regnn_dataset *train;
    regnn_fit_options *fo;
    regnn_path_options *po;
} sweep;

static void sweep_init(sweep *s)
{
    static const double lambdas[] = {0.0, 1e-3, 1e-2};
    s->train = synth(120, 7);
    CK_OK(regnn_model_create(4, &s->tm));
    CK_OK(regnn_model_add_dense(s->tm, 12, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(s->tm, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_fit_options_create(&s->fo));
    CK_OK(regnn_fit_options_set_int(s->fo, REGNN_FIT_EPOCHS, 6));
    CK_OK(regnn_fit_options_set_int(s->fo, REGNN_FIT_BATCH_SIZE, 16));
    CK_OK(regnn_fit_options_set_int(s->fo, REGNN_FIT_EARLY_STOPPING, 1));
    CK_OK(regnn_fit_options_set_int(s->fo, REGNN_FIT_PATIENCE, 2));
    CK_OK(regnn_fit_options_set_double(s->fo, REGNN_FIT_VALIDATION_SPLIT, 0.25));
    CK_OK(regnn_path_options_create(&s->po));
    CK_OK(regnn_path_options_set_lambdas(s->po, lambdas, 3));
    CK_OK(regnn_path_options_set_int(s->po, REGNN_PATH_SEEDS, 2));
    CK_OK(regnn_path_options_set_int(s->po, REGNN_PATH_SEED, 3));
    CK_OK(regnn_path_options_set_int(s->po, REGNN_PATH_THREADS, 2));
}

static void sweep_free(sweep *s)
{
    regnn_path_options_free(s->po);
    regnn_fit_options_free(s->fo);
    regnn_model_free(s->tm);
    regnn_dataset_free(s->train);
}

static regnn_path *run_shard(sweep *s, int64_t index, int64_t count)
{
    regnn_path *p = NULL;
    CK_OK(regnn_path_options_set_int(s->po, REGNN_PATH_SHARD_INDEX, index));
    CK_OK(regnn_path_options_set_int(s->po, REGNN_PATH_SHARD_COUNT, count));
    CK_OK(regnn_regularization_path(s->tm, NULL, s->train, NULL, s->fo, s->po, &p));
    return p;
}

static unsigned char *save(const regnn_path *p, size_t *n)
{
    CK_OK(regnn_path_save_mem(p, NULL, 0, n));
    unsigned char *b = malloc(*n);
    CK_OK(regnn_path_save_mem(p, b, *n, n));
    return b;
}

/* Every value but the seconds, and every history, bit for bit. */
static void assert_same_path(const regnn_path *a, const regnn_path *b)
{
    const size_t nf = regnn_path_fold_count(a) > 1 ? regnn_path_fold_count(a) : 1;
    size_t nl = regnn_path_lambda_count(a), ns = regnn_path_seed_count(a) * nf; /* runs per lambda */
    ck_assert_uint_eq(nl, regnn_path_lambda_count(b));
    ck_assert_uint_eq(regnn_path_seed_count(a), regnn_path_seed_count(b));
    ck_assert_uint_eq(regnn_path_fold_count(a), regnn_path_fold_count(b));
    ck_assert_uint_le(nl * ns, 64);
    double x[64], y[64];
    for (int stat = REGNN_RUN_BEST_VAL_MSE; stat <= REGNN_RUN_TEST_MSE; stat++) {
        if (stat == REGNN_RUN_SECONDS)
            continue;
        CK_OK(regnn_path_get_runs(a, stat, x, 64));
        CK_OK(regnn_path_get_runs(b, stat, y, 64));
        ck_assert_msg(memcmp(x, y, nl * ns * sizeof *x) == 0, "run values of %d differ", stat);
        if (stat == REGNN_RUN_VERDICT || stat == REGNN_RUN_REASON)
            continue;
        CK_OK(regnn_path_get(a, stat, REGNN_AGG_SE, x, 64));
        CK_OK(regnn_path_get(b, stat, REGNN_AGG_SE, y, 64));
        ck_assert_msg(memcmp(x, y, nl * sizeof *x) == 0, "summary of %d differs", stat);
    }
    for (size_t li = 0; li < nl; li++)
        for (size_t si = 0; si < ns; si++) {
            const regnn_history *ha = regnn_path_history(a, li, si), *hb = regnn_path_history(b, li, si);
            ck_assert_ptr_nonnull(ha);
            ck_assert_ptr_nonnull(hb);
            size_t e = regnn_history_epochs(ha);
            ck_assert_uint_eq(e, regnn_history_epochs(hb));
            ck_assert_int_eq(regnn_history_stop_reason(ha), regnn_history_stop_reason(hb));
            size_t ba = 99, bb = 98;
            ck_assert_int_eq(regnn_history_best_epoch(ha, &ba), regnn_history_best_epoch(hb, &bb));
            ck_assert_uint_eq(ba, bb);
            for (int k = 1; k <= RG_N_METRICS; k++) {
                if (k == REGNN_METRIC_SECONDS)
                    continue;
                CK_OK(regnn_history_get(ha, k, x, 64));
                CK_OK(regnn_history_get(hb, k, y, 64));
                ck_assert_msg(memcmp(x, y, e * sizeof *x) == 0, "metric %d", k);
            }
        }
    ck_assert(regnn_path_baseline_mse(a) == regnn_path_baseline_mse(b));
    size_t ia, ib;
    for (int rule = REGNN_SELECT_MIN; rule <= REGNN_SELECT_1SE; rule++) {
        CK_OK(regnn_path_best_index(a, REGNN_RUN_BEST_VAL_MSE, rule, &ia));
        CK_OK(regnn_path_best_index(b, REGNN_RUN_BEST_VAL_MSE, rule, &ib));
        ck_assert_uint_eq(ia, ib);
    }
}

START_TEST(test_shards_merge_to_the_whole)
{
    sweep s;
    sweep_init(&s);
    regnn_path *whole = run_shard(&s, 0, 1);
    for (int64_t count = 1; count <= 7; count += 2) { /* 1, 3, 5, 7 (> 6 runs: one empty) */
        regnn_path *loaded[7];
        for (int64_t i = 0; i < count; i++) {
            regnn_path *part = run_shard(&s, i, count);
            size_t n;
            unsigned char *b = save(part, &n);
            CK_OK(regnn_path_load_mem(b, n, &loaded[count - 1 - i])); /* reversed order */
            free(b);
            regnn_path_free(part);
        }
        regnn_path *merged = NULL;
        CK_OK(regnn_path_merge((const regnn_path *const *)loaded, (size_t)count, &merged));
        assert_same_path(whole, merged);
        /* the merged path saves and loads as a whole path */
        size_t n;
        unsigned char *b = save(merged, &n);
        regnn_path *again = NULL;
        CK_OK(regnn_path_load_mem(b, n, &again));
        assert_same_path(whole, again);
        free(b);
        regnn_path_free(again);
        regnn_path_free(merged);
        for (int64_t i = 0; i < count; i++)
            regnn_path_free(loaded[i]);
    }
    regnn_path_free(whole);
    sweep_free(&s);
}
END_TEST

/* A shard holds its runs; the others read NaN with no history. */
START_TEST(test_partial_path)
{
    sweep s;
    sweep_init(&s);
    regnn_path *whole = run_shard(&s, 0, 1), *part = run_shard(&s, 1, 4);
    double a[6], b[6];
    CK_OK(regnn_path_get_runs(whole, REGNN_RUN_FINAL_VAL_MSE, a, 6));
    CK_OK(regnn_path_get_runs(part, REGNN_RUN_FINAL_VAL_MSE, b, 6));
    for (size_t r = 0; r < 6; r++) {
        if (r % 4 == 1) {
            ck_assert(memcmp(&a[r], &b[r], sizeof a[r]) == 0);
            ck_assert_ptr_nonnull(regnn_path_history(part, r / 2, r % 2));
        } else {
            ck_assert(isnan(b[r]));
            ck_assert_ptr_null(regnn_path_history(part, r / 2, r % 2));
        }
    }
    /* one shard of each split alone, or a run twice, is not a whole */
    const regnn_path *two[2] = {part, part};
    regnn_path *out = (regnn_path *)1;
    CK_STATUS(regnn_path_merge(two, 1, &out), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(out);
    CK_STATUS(regnn_path_merge(two, 2, &out), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "not exactly one"));
    const regnn_path *overlap[2] = {whole, part};
    CK_STATUS(regnn_path_merge(overlap, 2, &out), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_merge(NULL, 2, &out), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_merge(overlap, 0, &out), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_merge(overlap, 2, NULL), REGNN_E_INVALID_ARG);
    /* another sweep's shard */
    CK_OK(regnn_path_options_set_int(s.po, REGNN_PATH_SEED, 4));
    regnn_path *other = run_shard(&s, 0, 2);
    CK_OK(regnn_path_options_set_int(s.po, REGNN_PATH_SEED, 3));
    regnn_path *odd = run_shard(&s, 1, 2), *even = run_shard(&s, 0, 2);
    const regnn_path *mixed[2] = {other, odd}, *same[2] = {odd, even};
    CK_STATUS(regnn_path_merge(mixed, 2, &out), REGNN_E_SHAPE);
    CK_OK(regnn_path_merge(same, 2, &out));
    regnn_path_free(out);
    regnn_path_free(other);
    regnn_path_free(odd);
    regnn_path_free(even);
    /* shard options */
    CK_STATUS(regnn_path_options_set_int(s.po, REGNN_PATH_SHARD_COUNT, 0), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_options_set_int(s.po, REGNN_PATH_SHARD_INDEX, -1), REGNN_E_INVALID_ARG);
    CK_OK(regnn_path_options_set_int(s.po, REGNN_PATH_SHARD_INDEX, 2));
    CK_OK(regnn_path_options_set_int(s.po, REGNN_PATH_SHARD_COUNT, 2));
    CK_STATUS(regnn_regularization_path(s.tm, NULL, s.train, NULL, s.fo, s.po, &out),
              REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "REGNN_PATH_SHARD_INDEX 2"));
    int64_t v;
    CK_OK(regnn_path_options_get_int(s.po, REGNN_PATH_SHARD_COUNT, &v));
    ck_assert_int_eq(v, 2);
    regnn_path_free(part);
    regnn_path_free(whole);
    sweep_free(&s);
}
END_TEST

START_TEST(test_malformed_input)
{
    sweep s;
    sweep_init(&s);
    regnn_path *p = run_shard(&s, 1, 2), *q = NULL;
    size_t n;
    unsigned char *b = save(p, &n);
    CK_STATUS(regnn_path_save_mem(p, b, n - 1, &n), REGNN_E_SHAPE);
    CK_STATUS(regnn_path_save_mem(NULL, b, n, &n), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_load_mem(b, n, NULL), REGNN_E_INVALID_ARG);
    /* every truncation and every flipped byte is refused cleanly */
    for (size_t k = 0; k < n; k++) {
        CK_STATUS(regnn_path_load_mem(b, k, &q), REGNN_E_FORMAT);
        ck_assert_ptr_null(q);
        b[k] ^= 0x20;
        regnn_status st = regnn_path_load_mem(b, n, &q);
        ck_assert_msg(st == REGNN_E_FORMAT || st == REGNN_E_VERSION, "byte %zu: %d", k, st);
        ck_assert_ptr_null(q);
        b[k] ^= 0x20;
    }
    /* a valid CRC over bad contents: a lambda of -1 */
    size_t at = 8 + 16 + 40 + 8; /* first lambda */
    double neg = -1.0;
    memcpy(b + at, &neg, 8);
    uint32_t crc = rg_crc32(0, b, n - 4);
    for (int i = 0; i < 4; i++)
        b[n - 4 + i] = (unsigned char)(crc >> (8 * i));
    CK_STATUS(regnn_path_load_mem(b, n, &q), REGNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "lambda[0]"));
    /* versions start at 1 */
    memset(b + 8, 0, 4);
    crc = rg_crc32(0, b, n - 4);
    for (int i = 0; i < 4; i++)
        b[n - 4 + i] = (unsigned char)(crc >> (8 * i));
    CK_STATUS(regnn_path_load_mem(b, n, &q), REGNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "version 0"));
    free(b);
    regnn_path_free(p);
    sweep_free(&s);
}
END_TEST

START_TEST(test_alloc_failures)
{
    sweep s;
    sweep_init(&s);
    regnn_path *a = run_shard(&s, 0, 2), *b = run_shard(&s, 1, 2);
    size_t n;
    unsigned char *buf = save(a, &n);
    const regnn_path *parts[2] = {a, b};
    for (long k = 1;; k++) {
        long live = regnn__test_alloc_live();
        regnn__test_alloc_fail_at(k, 0);
        regnn_path *q = NULL, *m = NULL;
        regnn_status s1 = regnn_path_load_mem(buf, n, &q);
        regnn__test_alloc_fail_at(k, 0);
        regnn_status s2 = regnn_path_merge(parts, 2, &m);
        regnn__test_alloc_fail_at(0, 0);
        ck_assert(s1 == REGNN_OK || s1 == REGNN_E_NOMEM);
        ck_assert(s2 == REGNN_OK || s2 == REGNN_E_NOMEM);
        ck_assert((s1 == REGNN_OK) == (q != NULL));
        ck_assert((s2 == REGNN_OK) == (m != NULL));
        regnn_path_free(q);
        regnn_path_free(m);
        ck_assert_int_eq(regnn__test_alloc_live(), live);
        if (s1 == REGNN_OK && s2 == REGNN_OK)
            break;
    }
    free(buf);
    regnn_path_free(a);
    regnn_path_free(b);
    sweep_free(&s);
}
END_TEST

static void put_u32(unsigned char *b, size_t *at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[(*at)++] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *b, size_t *at, uint64_t v)
{
    put_u32(b, at, (uint32_t)v);
    put_u32(b, at, (uint32_t)(v >> 32));
}

static void put_f64(unsigned char *b, size_t *at, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    put_u64(b, at, u);
}

/* A path file of 1 lambda x seeds runs, shard index 0 of count, holding one
 * run without history; returns its length. */
static size_t craft(unsigned char *b, uint64_t seeds, uint64_t count)
{
    size_t at = 0;
    memcpy(b, "RGNNPATH", 8);
    at = 8;
    put_u32(b, &at, 1);
    put_u32(b, &at, RG_RUN_N);
    put_u32(b, &at, RG_N_METRICS);
    put_u32(b, &at, 0);
    put_u64(b, &at, 1);      /* lambdas */
    put_u64(b, &at, seeds);  /* seeds */
    put_u64(b, &at, 5);      /* seed */
    put_u64(b, &at, 0);      /* shard index */
    put_u64(b, &at, count);  /* shard count */
    put_f64(b, &at, 2.0);    /* baseline */
    put_f64(b, &at, 0.0);    /* lambda 0 */
    for (int k = 0; k < RG_RUN_N; k++)
        put_f64(b, &at, k == REGNN_RUN_DIVERGED - 1 ? 0.0 : 0.5 + k);
    b[at++] = 0;
    put_u32(b, &at, rg_crc32(0, b, at));
    return at;
}

/* A small file declaring a huge sweep costs memory in proportion to its own
 * length, valid (a one-run shard of 2^20 runs) or not (2^20 runs declared,
 * one present). */
START_TEST(test_declared_counts_bounded)
{
    unsigned char b[256];
    const uint64_t big = (uint64_t)1 << 20;
    size_t n = craft(b, big, big);
    ck_assert_uint_eq(n, 181);
    regnn_path *p = NULL;
    regnn__test_alloc_fail_at(0, 0);
    CK_OK(regnn_path_load_mem(b, n, &p));
    size_t bytes = regnn__test_alloc_bytes();
    ck_assert_msg(bytes <= 4 * n, "%zu bytes allocated for a %zu-byte file", bytes, n);
    ck_assert_uint_eq(regnn_path_seed_count(p), big);
    ck_assert_ptr_null(regnn_path_history(p, 0, 0));
    ck_assert_ptr_null(regnn_path_history(p, 0, big - 1));
    /* it encodes back to the same bytes */
    size_t m = 0;
    unsigned char c[256];
    CK_OK(regnn_path_save_mem(p, c, sizeof c, &m));
    ck_assert_uint_eq(m, n);
    ck_assert(memcmp(b, c, n) == 0);
    regnn_path_free(p);

    n = craft(b, big, 1);
    p = (regnn_path *)b;
    regnn__test_alloc_fail_at(0, 0);
    CK_STATUS(regnn_path_load_mem(b, n, &p), REGNN_E_FORMAT);
    ck_assert_ptr_null(p);
    bytes = regnn__test_alloc_bytes();
    ck_assert_msg(bytes <= 4 * n, "%zu bytes allocated for a %zu-byte file", bytes, n);
}
END_TEST

/* A cross-validated sweep sharded, saved, loaded and merged is the path of
 * one call (the same folds and bits); parts of other folds are refused. */
START_TEST(test_folds_sharded_and_merged)
{
    sweep s;
    sweep_init(&s);
    CK_OK(regnn_fit_options_set_double(s.fo, REGNN_FIT_VALIDATION_SPLIT, 0.0));
    CK_OK(regnn_path_options_set_int(s.po, REGNN_PATH_FOLDS, 3));
    CK_OK(regnn_path_options_set_int(s.po, REGNN_PATH_FOLD_SEED, 5));
    regnn_path *whole = run_shard(&s, 0, 1);
    ck_assert_uint_eq(regnn_path_fold_count(whole), 3);
    size_t fw[120], fm[120];
    CK_OK(regnn_path_folds(whole, fw, 120));
    for (int64_t count = 1; count <= 4; count++) {
        regnn_path *loaded[4];
        for (int64_t i = 0; i < count; i++) {
            regnn_path *part = run_shard(&s, i, count);
            size_t n;
            unsigned char *b = save(part, &n);
            CK_OK(regnn_path_load_mem(b, n, &loaded[i]));
            free(b);
            regnn_path_free(part);
        }
        regnn_path *merged = NULL;
        CK_OK(regnn_path_merge((const regnn_path *const *)loaded, (size_t)count, &merged));
        assert_same_path(whole, merged);
        CK_OK(regnn_path_folds(merged, fm, 120));
        ck_assert(memcmp(fw, fm, sizeof fw) == 0);
        regnn_path_free(merged);
        for (int64_t i = 0; i < count; i++)
            regnn_path_free(loaded[i]);
    }
    /* a part cut from other folds is not of the same sweep */
    regnn_path *p0 = run_shard(&s, 0, 2);
    CK_OK(regnn_path_options_set_int(s.po, REGNN_PATH_FOLD_SEED, 6));
    regnn_path *p1 = run_shard(&s, 1, 2);
    const regnn_path *parts[2] = {p0, p1};
    regnn_path *m = (regnn_path *)&s;
    CK_STATUS(regnn_path_merge(parts, 2, &m), REGNN_E_SHAPE);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "folds"));
    /* a fold section in a version 1 file, or a row in no fold, is malformed */
    size_t n;
    unsigned char *b = save(p0, &n);
    ck_assert_uint_eq(b[8], 2); /* format version 2: with folds */
    b[8] = 1;
    const uint32_t crc = rg_crc32(0, b, n - 4);
    for (int k = 0; k < 4; k++)
        b[n - 4 + (size_t)k] = (unsigned char)(crc >> (8 * k));
    regnn_path *bad = (regnn_path *)&s;
    CK_STATUS(regnn_path_load_mem(b, n, &bad), REGNN_E_FORMAT);
    ck_assert_ptr_null(bad);
    free(b);
    regnn_path_free(p0);
    regnn_path_free(p1);
    regnn_path_free(whole);
    sweep_free(&s);
}
END_TEST

static void one_blas_thread(void) { regnn_set_blas_threads(1); }

static Suite *path_io_suite(void)
{
    Suite *s = suite_create("path_io");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, one_blas_thread, NULL);
    tcase_add_test(tc, test_shards_merge_to_the_whole);
    tcase_add_test(tc, test_partial_path);
    tcase_add_test(tc, test_malformed_input);
    tcase_add_test(tc, test_alloc_failures);
    tcase_add_test(tc, test_declared_counts_bounded);
    tcase_add_test(tc, test_folds_sharded_and_merged);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(path_io_suite)
