/* SPDX-License-Identifier: MIT */
/* The options of a regularization path (regnn_path_options_*): below the
 * path itself because a fit's settings fingerprint (settings.c) reads them. */
#include "train.h"

#include <math.h>
#include <string.h>

struct regnn_path_options {
    double *lambdas;
    size_t n_lambdas;
    size_t *layers; /* NULL: every layer */
    size_t n_layers;
    int64_t seeds, seed, penalty, threads, init, folds, fold_seed;
    int64_t shard_index, shard_count; /* this call trains runs r with r % count == index */
    int64_t eval_train;
    regnn_path_progress_fn progress;
    void *progress_user;
    const regnn_dataset *test; /* borrowed */
#ifdef REGNN_TESTING
    long test_fail_at; /* fail this allocation in every worker thread */
    int test_persistent;
#endif
};

/* ---- options ---- */

static int64_t *path_slot(regnn_path_options *o, int key);

regnn_status regnn_path_options_create(regnn_path_options **out)
{
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_path_options_create: out is NULL");
    *out = NULL;
    regnn_path_options *o = rg_calloc(1, sizeof *o);
    if (!o)
        return rg_error(REGNN_E_NOMEM, "regnn_path_options_create: out of memory");
    int kind, key; /* every key from the options table's defaults */
    for (size_t i = 0; rg_option_setting(i, &kind, &key); i++) {
        int64_t *slot = kind == REGNN_OPTION_PATH ? path_slot(o, key) : NULL;
        if (slot) /* every path key of the table has a slot */
            *slot = (int64_t)rg_option_default(kind, key);
    }
    *out = o;
    return REGNN_OK;
}

void regnn_path_options_free(regnn_path_options *opts)
{
    if (!opts)
        return;
    rg_free(opts->lambdas);
    rg_free(opts->layers);
    rg_free(opts);
}

regnn_status regnn_path_options_copy(const regnn_path_options *opts, regnn_path_options **out)
{
    static const char fn[] = "regnn_path_options_copy";
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!opts)
        return rg_error(REGNN_E_INVALID_ARG, "%s: options are NULL", fn);
    regnn_path_options *o = rg_malloc(sizeof *o);
    if (!o)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
    *o = *opts;
    o->lambdas = NULL;
    o->layers = NULL;
    if (opts->n_lambdas) {
        o->lambdas = rg_malloc(opts->n_lambdas * sizeof *o->lambdas);
        if (o->lambdas)
            memcpy(o->lambdas, opts->lambdas, opts->n_lambdas * sizeof *o->lambdas);
    }
    if (opts->n_layers) {
        o->layers = rg_malloc(opts->n_layers * sizeof *o->layers);
        if (o->layers)
            memcpy(o->layers, opts->layers, opts->n_layers * sizeof *o->layers);
    }
    if ((opts->n_lambdas && !o->lambdas) || (opts->n_layers && !o->layers)) {
        regnn_path_options_free(o);
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
    }
    *out = o;
    return REGNN_OK;
}

regnn_status regnn_path_options_set_lambdas(regnn_path_options *opts, const double *lambdas,
                                            size_t n)
{
    static const char fn[] = "regnn_path_options_set_lambdas";
    if (!opts)
        return rg_error(REGNN_E_INVALID_ARG, "%s: options are NULL", fn);
    if (n == 0 || !lambdas)
        return rg_error(REGNN_E_INVALID_ARG, "%s: the list of lambda values is empty", fn);
    if (n > RG_PATH_MAX_COUNT)
        return rg_error(REGNN_E_INVALID_ARG, "%s: %zu lambda values, at most %zu", fn, n,
                        RG_PATH_MAX_COUNT);
    for (size_t i = 0; i < n; i++)
        if (!rg_path_lambda_ok(lambdas[i]))
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: lambda[%zu] is %g; every lambda must be finite and >= 0", fn, i,
                            lambdas[i]);
    double *copy = rg_malloc(n * sizeof *copy);
    if (!copy)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
    memcpy(copy, lambdas, n * sizeof *copy);
    rg_free(opts->lambdas);
    opts->lambdas = copy;
    opts->n_lambdas = n;
    return REGNN_OK;
}

regnn_status regnn_path_options_get_lambdas(const regnn_path_options *opts, double *buf, size_t len,
                                            size_t *n)
{
    if (!opts || !n)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_path_options_get_lambdas: options and n are required");
    *n = opts->n_lambdas;
    if (!buf)
        return REGNN_OK;
    if (len < opts->n_lambdas)
        return rg_error(REGNN_E_SHAPE, "regnn_path_options_get_lambdas: buffer holds %zu values, "
                        "there are %zu", len, opts->n_lambdas);
    if (opts->n_lambdas)
        memcpy(buf, opts->lambdas, opts->n_lambdas * sizeof *buf);
    return REGNN_OK;
}

regnn_status regnn_path_options_set_layers(regnn_path_options *opts, const size_t *layers, size_t n)
{
    static const char fn[] = "regnn_path_options_set_layers";
    if (!opts)
        return rg_error(REGNN_E_INVALID_ARG, "%s: options are NULL", fn);
    if (n > 0 && !layers)
        return rg_error(REGNN_E_INVALID_ARG, "%s: layers is NULL but n is %zu", fn, n);
    if (n > RG_PATH_MAX_COUNT)
        return rg_error(REGNN_E_INVALID_ARG, "%s: %zu layer indices, at most %zu", fn, n,
                        RG_PATH_MAX_COUNT);
    size_t *copy = NULL;
    if (n > 0) {
        copy = rg_malloc(n * sizeof *copy);
        if (!copy)
            return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
        memcpy(copy, layers, n * sizeof *copy);
    }
    rg_free(opts->layers);
    opts->layers = copy;
    opts->n_layers = n;
    return REGNN_OK;
}

static int64_t *path_slot(regnn_path_options *o, int key)
{
    switch (key) {
    case REGNN_PATH_SEEDS: return &o->seeds;
    case REGNN_PATH_SEED: return &o->seed;
    case REGNN_PATH_PENALTY: return &o->penalty;
    case REGNN_PATH_THREADS: return &o->threads;
    case REGNN_PATH_INIT: return &o->init;
    case REGNN_PATH_FOLDS: return &o->folds;
    case REGNN_PATH_FOLD_SEED: return &o->fold_seed;
    case REGNN_PATH_SHARD_INDEX: return &o->shard_index;
    case REGNN_PATH_SHARD_COUNT: return &o->shard_count;
    case REGNN_PATH_EVAL_TRAIN: return &o->eval_train;
    default: return NULL;
    }
}

regnn_status regnn_path_options_set_int(regnn_path_options *opts, int key, int64_t value)
{
    static const char fn[] = "regnn_path_options_set_int";
    if (!opts)
        return rg_error(REGNN_E_INVALID_ARG, "%s: options are NULL", fn);
    int64_t *slot = path_slot(opts, key);
    if (!slot)
        return rg_error(REGNN_E_UNSUPPORTED, "%s: unknown key %d (not a REGNN_PATH_* value)", fn,
                        key);
    regnn_status st = rg_option_check_int(fn, REGNN_OPTION_PATH, key, value);
    if (st != REGNN_OK)
        return st;
    *slot = value;
    return REGNN_OK;
}

regnn_status regnn_path_options_get_int(const regnn_path_options *opts, int key, int64_t *value)
{
    if (!opts || !value)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_path_options_get_int: options and value are required");
    int64_t *slot = path_slot((regnn_path_options *)opts, key);
    if (!slot)
        return rg_error(REGNN_E_UNSUPPORTED,
                        "regnn_path_options_get_int: unknown key %d (not a REGNN_PATH_* value)", key);
    *value = *slot;
    return REGNN_OK;
}

const regnn_dataset *rg_path_options_test(const regnn_path_options *opts) { return opts->test; }

const double *rg_path_options_lambdas(const regnn_path_options *opts, size_t *n)
{
    *n = opts->n_lambdas;
    return opts->lambdas;
}

const size_t *rg_path_options_layers(const regnn_path_options *opts, size_t *n)
{
    *n = opts->n_layers;
    return opts->layers;
}

regnn_status regnn_path_options_set_test(regnn_path_options *opts, const regnn_dataset *test)
{
    if (!opts)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_path_options_set_test: options are NULL");
    opts->test = test;
    return REGNN_OK;
}

regnn_status regnn_path_options_set_progress(regnn_path_options *opts, regnn_path_progress_fn fn,
                                             void *user)
{
    if (!opts)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_path_options_set_progress: options are NULL");
    opts->progress = fn;
    opts->progress_user = user;
    return REGNN_OK;
}

#ifdef REGNN_TESTING
/* Test hook: every worker thread fails its nth allocation (0 = off). The
 * allocation counters are per thread, so the caller's own setting does not
 * reach the workers. */
void regnn__test_path_worker_alloc_fail(regnn_path_options *opts, long nth, int persistent)
{
    opts->test_fail_at = nth;
    opts->test_persistent = persistent;
}
#endif

regnn_path_progress_fn rg_path_options_progress(const regnn_path_options *opts, void **user)
{
    *user = opts->progress_user;
    return opts->progress;
}

#ifdef REGNN_TESTING
long rg_path_options_worker_fail(const regnn_path_options *opts, int *persistent)
{
    *persistent = opts->test_persistent;
    return opts->test_fail_at;
}
#endif
