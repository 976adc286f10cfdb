/* SPDX-License-Identifier: MIT */
/* Regularization path results as bytes, and the merge of shards: a sweep
 * split over processes or batch jobs (REGNN_PATH_SHARD_*) comes back as the
 * path of one call. Encoding (little-endian):
 *   "RGNNPATH" u32 version u32 RG_RUN_N u32 RG_N_METRICS u32 folds (0: none)
 *   version 3 (a path of REGNN_PENALTY_DROPOUT or a later kind): u32 penalty
 *   u64 lambdas, seeds, seed, shard index, shard count  f64 baseline  f64 lambdas[]
 *   with folds (version 2; version 1 without): u64 rows, u32 fold of each row,
 *     f64 baseline of each fold
 *   per run of the shard (lambda-major, then fold, then seed), ascending:
 *     f64 values[RG_RUN_N], u8 has history,
 *     then if 1: u64 epochs, best epoch; u32 has best; u32 stop reason;
 *                f64 metric m of every epoch, for each metric m
 *   u32 CRC-32 of everything before it. */
#include "path_impl.h"

#include <math.h>
#include <string.h>

/* 3 for the penalties after weight decay; else 2 with folds, 1 without:
 * such files are as before. */
#define RG_PATH_IO_VERSION 3
static const char path_magic[8] = {'R', 'G', 'N', 'N', 'P', 'A', 'T', 'H'};

typedef struct {
    uint8_t *buf; /* NULL: only count */
    size_t n;
} pw;

static void w_bytes(pw *w, const void *src, size_t n)
{
    if (w->buf)
        memcpy(w->buf + w->n, src, n);
    w->n += n;
}

static void w_u32(pw *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    w_bytes(w, b, 4);
}

static void w_u64(pw *w, uint64_t v)
{
    w_u32(w, (uint32_t)v);
    w_u32(w, (uint32_t)(v >> 32));
}

static void w_f64(pw *w, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    w_u64(w, u);
}

typedef struct {
    const uint8_t *p;
    size_t left;
    int bad;
} pr;

static const uint8_t *r_take(pr *r, size_t n)
{
    static const uint8_t zero[8] = {0};
    if (r->bad || r->left < n) {
        r->bad = 1;
        return zero;
    }
    const uint8_t *q = r->p;
    r->p += n;
    r->left -= n;
    return q;
}

static uint32_t r_u32(pr *r)
{
    const uint8_t *b = r_take(r, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t r_u64(pr *r)
{
    uint64_t lo = r_u32(r);
    return lo | (uint64_t)r_u32(r) << 32;
}

static double r_f64(pr *r)
{
    uint64_t u = r_u64(r);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static void encode_folds(const regnn_path *p, pw *w)
{
    w_u64(w, p->n_rows);
    for (size_t i = 0; i < p->n_rows; i++)
        w_u32(w, (uint32_t)p->fold_of[i]);
    for (size_t f = 0; f < p->n_folds; f++)
        w_f64(w, p->fold_base[f]);
}

/* The fold section of p (n_folds set), checked; fold sizes recounted. */
static regnn_status decode_folds(const char *fn, regnn_path *p, pr *r)
{
    const uint64_t rows = r_u64(r);
    if (r->bad || rows < p->n_folds || rows > r->left / 4)
        return rg_error(REGNN_E_FORMAT, "%s: bad fold section (%llu rows for %zu folds)", fn,
                        (unsigned long long)rows, p->n_folds);
    p->n_rows = (size_t)rows;
    p->fold_of = rg_malloc(p->n_rows * sizeof *p->fold_of);
    p->fold_rows = rg_calloc(p->n_folds, sizeof *p->fold_rows);
    p->fold_base = rg_calloc(p->n_folds, sizeof *p->fold_base);
    if (!p->fold_of || !p->fold_rows || !p->fold_base)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
    for (size_t i = 0; i < p->n_rows; i++) {
        p->fold_of[i] = r_u32(r);
        if (p->fold_of[i] >= p->n_folds)
            return rg_error(REGNN_E_FORMAT, "%s: row %zu is in fold %zu of %zu", fn, i,
                            p->fold_of[i], p->n_folds);
        p->fold_rows[p->fold_of[i]]++;
    }
    for (size_t f = 0; f < p->n_folds; f++) {
        p->fold_base[f] = r_f64(r);
        if (!p->fold_rows[f])
            return rg_error(REGNN_E_FORMAT, "%s: fold %zu has no rows", fn, f);
    }
    return r->bad ? rg_error(REGNN_E_FORMAT, "%s: truncated fold section", fn) : REGNN_OK;
}

/* A copy of a's folds into p (n_folds set). */
static int copy_folds(regnn_path *p, const regnn_path *a)
{
    p->n_rows = a->n_rows;
    p->fold_of = rg_malloc(a->n_rows * sizeof *p->fold_of);
    p->fold_rows = rg_malloc(a->n_folds * sizeof *p->fold_rows);
    p->fold_base = rg_malloc(a->n_folds * sizeof *p->fold_base);
    if (!p->fold_of || !p->fold_rows || !p->fold_base)
        return 0;
    memcpy(p->fold_of, a->fold_of, a->n_rows * sizeof *p->fold_of);
    memcpy(p->fold_rows, a->fold_rows, a->n_folds * sizeof *p->fold_rows);
    memcpy(p->fold_base, a->fold_base, a->n_folds * sizeof *p->fold_base);
    return 1;
}

/* 1 when the parts were cut from the same folds. */
static int same_folds(const regnn_path *a, const regnn_path *b)
{
    if (a->n_folds != b->n_folds)
        return 0;
    if (a->n_folds < 2)
        return 1;
    return a->n_rows == b->n_rows &&
           memcmp(a->fold_of, b->fold_of, a->n_rows * sizeof *a->fold_of) == 0 &&
           memcmp(a->fold_base, b->fold_base, a->n_folds * sizeof *a->fold_base) == 0;
}

static void encode(const regnn_path *p, pw *w)
{
    const int folded = p->n_folds > 1;
    w_bytes(w, path_magic, sizeof path_magic);
    w_u32(w, p->penalty ? 3 : folded ? 2 : 1);
    w_u32(w, RG_RUN_N);
    w_u32(w, RG_N_METRICS);
    w_u32(w, folded ? (uint32_t)p->n_folds : 0);
    if (p->penalty)
        w_u32(w, (uint32_t)p->penalty);
    w_u64(w, p->n_lambdas);
    w_u64(w, p->n_seeds);
    w_u64(w, p->seed);
    w_u64(w, p->shard_index);
    w_u64(w, p->shard_count);
    w_f64(w, p->baseline);
    for (size_t i = 0; i < p->n_lambdas; i++)
        w_f64(w, p->lambdas[i]);
    if (folded)
        encode_folds(p, w);
    const size_t runs = rg_path_runs(p);
    for (size_t r = p->shard_index; r < runs; r += p->shard_count) {
        const double *v = p->runv + rg_path_slot(p, r) * RG_RUN_N;
        for (size_t k = 0; k < RG_RUN_N; k++)
            w_f64(w, v[k]);
        const regnn_history *h = p->hist[rg_path_slot(p, r)];
        uint8_t has = h != NULL;
        w_bytes(w, &has, 1);
        if (!h)
            continue;
        const size_t epochs = regnn_history_epochs(h);
        const rg_history_marks mk = rg_history_get_marks(h);
        w_u64(w, epochs);
        w_u64(w, mk.best_epoch);
        w_u32(w, (uint32_t)mk.has_best);
        w_u32(w, (uint32_t)mk.stop_reason);
        for (int m = 0; m < RG_N_METRICS; m++) {
            const double *series = rg_history_metric(h, m + 1);
            for (size_t e = 0; e < epochs; e++)
                w_f64(w, series[e]);
        }
    }
}

regnn_status regnn_path_save_mem(const regnn_path *p, void *buf, size_t cap, size_t *size)
{
    static const char fn[] = "regnn_path_save_mem";
    if (!p || !size)
        return rg_error(REGNN_E_INVALID_ARG, "%s: path and size are required", fn);
    pw w = {NULL, 0};
    encode(p, &w);
    const size_t need = w.n + 4;
    *size = need;
    if (!buf)
        return REGNN_OK;
    if (cap < need)
        return rg_error(REGNN_E_SHAPE, "%s: the buffer holds %zu bytes, the path needs %zu", fn, cap,
                        need);
    w.buf = buf;
    w.n = 0;
    encode(p, &w);
    w_u32(&w, rg_crc32(0, buf, need - 4));
    return REGNN_OK;
}

void regnn_path_free(regnn_path *p)
{
    if (!p)
        return;
    if (p->hist)
        for (size_t k = 0; k < rg_path_held_runs(p); k++)
            regnn_history_free(p->hist[k]);
    rg_free(p->hist);
    rg_free(p->runv);
    rg_free(p->lambdas);
    rg_free(p->fold_of);
    rg_free(p->fold_rows);
    rg_free(p->fold_base);
    rg_free(p);
}

regnn_path *rg_path_new(size_t n_lambdas, size_t n_seeds, size_t n_folds, size_t shard_index,
                        size_t shard_count)
{
    regnn_path *p = rg_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n_lambdas = n_lambdas;
    p->n_seeds = n_seeds;
    p->n_folds = n_folds;
    p->shard_index = shard_index;
    p->shard_count = shard_count;
    const size_t held = rg_path_held_runs(p);
    p->lambdas = rg_malloc(n_lambdas * sizeof *p->lambdas);
    p->hist = rg_calloc(held ? held : 1, sizeof *p->hist);
    p->runv = rg_calloc(held ? held : 1, RG_RUN_N * sizeof *p->runv);
    if (!p->lambdas || !p->hist || !p->runv) {
        regnn_path_free(p);
        return NULL;
    }
    return p;
}

/* A history of the given epochs whose metric m is read by get(ctx, m, e),
 * with its best epoch (if has_best) and stop reason. */
static regnn_status history_build(size_t epochs, size_t best, int has_best, int reason,
                                  double (*get)(const void *, int, size_t), const void *ctx,
                                  regnn_history **out)
{
    regnn_history *h = NULL;
    regnn_status st = rg_history_create(epochs, &h);
    double met[RG_N_METRICS];
    for (size_t e = 0; e < epochs && st == REGNN_OK; e++) {
        for (int m = 0; m < RG_N_METRICS; m++)
            met[m] = get(ctx, m, e);
        st = rg_history_push(h, met);
    }
    if (st != REGNN_OK) {
        regnn_history_free(h);
        return st;
    }
    const rg_history_marks mk = {best, has_best, reason};
    rg_history_set_marks(h, mk);
    *out = h;
    return REGNN_OK;
}

typedef struct {
    const uint8_t *at; /* first value of the metric-major block */
    size_t epochs;
} enc_hist;

static double enc_get(const void *ctx, int m, size_t e)
{
    const enc_hist *c = ctx;
    pr r = {c->at + ((size_t)m * c->epochs + e) * 8, 8, 0};
    return r_f64(&r);
}

static double hist_get(const void *ctx, int m, size_t e)
{
    return rg_history_metric(ctx, m + 1)[e];
}

/* The header of buf (len >= magic + CRC, magic checked), its CRC and its
 * counts against the bytes there are; then the empty path it declares, with
 * *r past the header. */
static regnn_status decode_header(const char *fn, const void *buf, size_t len, pr *r,
                                  regnn_path **out)
{
    r_take(r, sizeof path_magic);
    uint32_t version = r_u32(r), n_run = r_u32(r), n_met = r_u32(r), folds = r_u32(r);
    if (version == 0)
        return rg_error(REGNN_E_FORMAT, "%s: format version 0 does not exist", fn);
    if (version > RG_PATH_IO_VERSION)
        return rg_error(REGNN_E_VERSION, "%s: format version %u, this library reads up to %d", fn,
                        version, RG_PATH_IO_VERSION);
    pr c = {(const uint8_t *)buf + len - 4, 4, 0};
    if (r_u32(&c) != rg_crc32(0, buf, len - 4))
        return rg_error(REGNN_E_FORMAT, "%s: CRC-32 mismatch (damaged data)", fn);
    if (n_run != RG_RUN_N || n_met != RG_N_METRICS)
        return rg_error(REGNN_E_FORMAT, "%s: %u values per run and %u metrics, expected %d and %d",
                        fn, n_run, n_met, RG_RUN_N, RG_N_METRICS);
    const uint32_t penalty = version >= 3 ? r_u32(r) : 0;
    char why[200];
    if (version >= 3 && (penalty < REGNN_PENALTY_DROPOUT ||
                         rg_option_problem(REGNN_OPTION_PATH, REGNN_PATH_PENALTY, penalty, why,
                                           sizeof why)))
        return rg_error(REGNN_E_FORMAT, "%s: penalty %u in a version 3 file (must be "
                        "REGNN_PENALTY_DROPOUT or a later REGNN_PENALTY_* value)", fn, penalty);
    uint64_t nl = r_u64(r), ns = r_u64(r), seed = r_u64(r), si = r_u64(r), sc = r_u64(r);
    double baseline = r_f64(r);
    const uint64_t nf = folds ? folds : 1;
    /* Version 2 is written for cross-validated paths only, so that a file reads back to its bytes. */
    if ((version < 2 && folds) || (version == 2 && !folds) || folds == 1)
        return rg_error(REGNN_E_FORMAT, "%s: bad fold count %u for format version %u", fn, folds,
                        version);
    if (r->bad || nl == 0 || ns == 0 || nl > RG_PATH_MAX_COUNT || ns > RG_PATH_MAX_COUNT / nl ||
        nf > RG_PATH_MAX_COUNT / nl / ns || sc == 0 || sc > RG_PATH_MAX_COUNT || si >= sc)
        return rg_error(REGNN_E_FORMAT,
                        "%s: bad header (lambdas %llu, seeds %llu, shard %llu of %llu)", fn,
                        (unsigned long long)nl, (unsigned long long)ns, (unsigned long long)si,
                        (unsigned long long)sc);
    /* Every run held takes at least RG_RUN_N values and a flag: check the
     * declared counts against the bytes left before allocating for them. */
    const size_t held = rg_path_held((size_t)(nl * nf * ns), (size_t)si, (size_t)sc);
    if (r->left / 8 < nl || (r->left - nl * 8) / (RG_RUN_N * 8 + 1) < held)
        return rg_error(REGNN_E_FORMAT, "%s: truncated data (%llu lambdas and %zu runs declared, "
                        "%zu bytes left)", fn, (unsigned long long)nl, held, r->left);
    regnn_path *p = rg_path_new((size_t)nl, (size_t)ns, (size_t)nf, (size_t)si, (size_t)sc);
    if (!p)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
    p->seed = seed;
    p->baseline = baseline;
    p->penalty = (int)penalty;
    *out = p;
    return REGNN_OK;
}

/* Run `run` of p (one it holds): its values and, if it has one, its history. */
static regnn_status decode_run(const char *fn, regnn_path *p, pr *r, size_t run)
{
    double *v = p->runv + rg_path_slot(p, run) * RG_RUN_N;
    for (size_t k = 0; k < RG_RUN_N; k++)
        v[k] = r_f64(r);
    const uint8_t has = *r_take(r, 1);
    if (r->bad || has > 1)
        return rg_error(REGNN_E_FORMAT, "%s: run %zu is truncated or malformed", fn, run);
    if (!has)
        return REGNN_OK;
    uint64_t epochs = r_u64(r), best = r_u64(r);
    uint32_t has_best = r_u32(r), reason = r_u32(r);
    if (r->bad || epochs > r->left / 8 / RG_N_METRICS || has_best > 1 ||
        (has_best && best >= epochs) || reason > REGNN_STOP_CALLBACK)
        return rg_error(REGNN_E_FORMAT, "%s: run %zu has a malformed history", fn, run);
    enc_hist eh = {r->p, (size_t)epochs};
    regnn_history **h = &p->hist[rg_path_slot(p, run)];
    regnn_status st =
        history_build((size_t)epochs, (size_t)best, (int)has_best, (int)reason, enc_get, &eh, h);
    if (st != REGNN_OK)
        return rg_error(st, "%s: out of memory", fn);
    r_take(r, (size_t)epochs * RG_N_METRICS * 8);
    return REGNN_OK;
}

/* Everything after the header into p: lambdas, folds, runs, and no byte more. */
static regnn_status decode_body(const char *fn, regnn_path *p, pr *r)
{
    for (size_t i = 0; i < p->n_lambdas; i++) {
        p->lambdas[i] = r_f64(r);
        if (!rg_path_lambda_ok(p->lambdas[i]))
            return rg_error(REGNN_E_FORMAT, "%s: lambda[%zu] is not finite and >= 0", fn, i);
    }
    regnn_status st = p->n_folds > 1 ? decode_folds(fn, p, r) : REGNN_OK;
    const size_t runs = rg_path_runs(p);
    for (size_t run = p->shard_index; st == REGNN_OK && run < runs; run += p->shard_count)
        st = decode_run(fn, p, r, run);
    if (st == REGNN_OK && (r->bad || r->left != 0))
        st = rg_error(REGNN_E_FORMAT, "%s: %s", fn, r->bad ? "truncated data" : "trailing bytes");
    return st;
}

regnn_status regnn_path_load_mem(const void *buf, size_t len, regnn_path **out)
{
    static const char fn[] = "regnn_path_load_mem";
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!buf && len)
        return rg_error(REGNN_E_INVALID_ARG, "%s: buf is NULL", fn);
    if (len < sizeof path_magic + 4 || memcmp(buf, path_magic, sizeof path_magic) != 0)
        return rg_error(REGNN_E_FORMAT, "%s: not a regularization path (no RGNNPATH header)", fn);
    pr r = {buf, len - 4, 0};
    regnn_path *p = NULL;
    regnn_status st = decode_header(fn, buf, len, &r, &p);
    if (!p) /* st says why */
        return st;
    st = decode_body(fn, p, &r);
    if (st != REGNN_OK) {
        regnn_path_free(p);
        return st;
    }
    *out = p;
    return REGNN_OK;
}

regnn_status regnn_path_merge(const regnn_path *const *parts, size_t n, regnn_path **out)
{
    static const char fn[] = "regnn_path_merge";
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!parts || n == 0)
        return rg_error(REGNN_E_INVALID_ARG, "%s: no parts", fn);
    for (size_t i = 0; i < n; i++)
        if (!parts[i])
            return rg_error(REGNN_E_INVALID_ARG, "%s: part %zu is NULL", fn, i);
    const regnn_path *a = parts[0];
    for (size_t i = 1; i < n; i++) {
        const regnn_path *b = parts[i];
        if (b->n_lambdas != a->n_lambdas || b->n_seeds != a->n_seeds || b->seed != a->seed ||
            memcmp(b->lambdas, a->lambdas, a->n_lambdas * sizeof *a->lambdas) != 0 ||
            memcmp(&b->baseline, &a->baseline, sizeof a->baseline) != 0 || !same_folds(a, b) ||
            b->penalty != a->penalty)
            return rg_error(REGNN_E_SHAPE,
                            "%s: part %zu is not from the same sweep as part 0 (lambdas, seeds, "
                            "seed, folds, penalty or validation data differ)", fn, i);
    }
    const size_t runs = rg_path_runs(a);
    for (size_t r = 0; r < runs; r++) {
        size_t holders = 0;
        for (size_t i = 0; i < n; i++)
            holders += rg_path_has(parts[i], r);
        if (holders != 1)
            return rg_error(REGNN_E_INVALID_ARG, "%s: run %zu (lambda %zu, seed %zu) is in %zu parts, "
                            "not exactly one", fn, r, rg_path_run_lambda(a, r),
                            rg_path_run_seed(a, r), holders);
    }
    regnn_path *p = rg_path_new(a->n_lambdas, a->n_seeds, a->n_folds, 0, 1);
    if (p && a->n_folds > 1 && !copy_folds(p, a)) {
        regnn_path_free(p);
        p = NULL;
    }
    if (!p)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
    p->seed = a->seed;
    p->baseline = a->baseline;
    p->penalty = a->penalty;
    memcpy(p->lambdas, a->lambdas, a->n_lambdas * sizeof *a->lambdas);
    for (size_t i = 0; i < n; i++) {
        const regnn_path *b = parts[i];
        for (size_t r = b->shard_index; r < runs; r += b->shard_count) {
            memcpy(p->runv + rg_path_slot(p, r) * RG_RUN_N, b->runv + rg_path_slot(b, r) * RG_RUN_N,
                   RG_RUN_N * sizeof *p->runv);
            const regnn_history *h = b->hist[rg_path_slot(b, r)];
            if (!h)
                continue;
            regnn_history **to = &p->hist[rg_path_slot(p, r)];
            const rg_history_marks mk = rg_history_get_marks(h);
            if (history_build(regnn_history_epochs(h), mk.best_epoch, mk.has_best, mk.stop_reason,
                              hist_get, h, to) != REGNN_OK) {
                regnn_path_free(p);
                return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
            }
        }
    }
    *out = p;
    return REGNN_OK;
}
