/* SPDX-License-Identifier: MIT */
/* The settings of regnn_fit: defaults from the options table, setters that
 * check ranges, getters, copies. */
#include "fit_options_impl.h"

#include <math.h>
#include <string.h>

static int64_t *int_slot(regnn_fit_options *o, int key);
static double *double_slot(regnn_fit_options *o, int key);

void rg_fit_options_defaults(regnn_fit_options *o)
{
    memset(o, 0, sizeof *o);
    int kind, key;
    for (size_t i = 0; rg_option_setting(i, &kind, &key); i++) {
        if (kind != REGNN_OPTION_FIT)
            continue;
        const double def = rg_option_default(kind, key);
        int64_t *si = int_slot(o, key);
        double *sd = si ? NULL : double_slot(o, key);
        if (si)
            *si = (int64_t)def;
        else if (sd) /* every fit key has a slot (check_options) */
            *sd = def;
    }
}

regnn_status regnn_fit_options_create(regnn_fit_options **out)
{
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_fit_options_create: out is NULL");
    *out = NULL;
    regnn_fit_options *o = rg_malloc(sizeof *o);
    if (!o)
        return rg_error(REGNN_E_NOMEM, "regnn_fit_options_create: out of memory");
    rg_fit_options_defaults(o);
    *out = o;
    return REGNN_OK;
}

void regnn_fit_options_free(regnn_fit_options *opts) { rg_free(opts); }

static int64_t *int_slot(regnn_fit_options *o, int key)
{
    switch (key) {
    case REGNN_FIT_EPOCHS: return &o->epochs;
    case REGNN_FIT_BATCH_SIZE: return &o->batch_size;
    case REGNN_FIT_SHUFFLE: return &o->shuffle;
    case REGNN_FIT_EARLY_STOPPING: return &o->early_stopping;
    case REGNN_FIT_PATIENCE: return &o->patience;
    case REGNN_FIT_RESTORE_BEST: return &o->restore_best;
    case REGNN_FIT_MONITOR: return &o->monitor;
    case REGNN_FIT_EVAL_TRAIN: return &o->eval_train;
    case REGNN_FIT_SHARD_INDEX: return &o->shard_index;
    case REGNN_FIT_SHARD_COUNT: return &o->shard_count;
    case REGNN_FIT_REDUCE_LR: return &o->reduce_lr;
    case REGNN_FIT_REDUCE_LR_PATIENCE: return &o->reduce_lr_patience;
    case REGNN_FIT_REDUCE_LR_COOLDOWN: return &o->reduce_lr_cooldown;
    default: return NULL;
    }
}

static double *double_slot(regnn_fit_options *o, int key)
{
    switch (key) {
    case REGNN_FIT_VALIDATION_SPLIT: return &o->validation_split;
    case REGNN_FIT_MIN_DELTA: return &o->min_delta;
    case REGNN_FIT_REDUCE_LR_FACTOR: return &o->reduce_lr_factor;
    case REGNN_FIT_REDUCE_LR_MIN_DELTA: return &o->reduce_lr_min_delta;
    case REGNN_FIT_REDUCE_LR_MIN_LR: return &o->reduce_lr_min_lr;
    default: return NULL;
    }
}

/* A key that is unknown, or belongs to the other setter: say which. */
static regnn_status wrong_key(const char *fn, int key, int want_double)
{
    const char *name = regnn_option_name(REGNN_OPTION_FIT, key);
    if (!name)
        return rg_error(REGNN_E_UNSUPPORTED, "%s: unknown %s key %d (not a REGNN_FIT_* value)", fn,
                        want_double ? "double" : "integer", key);
    return rg_error(REGNN_E_UNSUPPORTED, "%s: %s is %s option: use regnn_fit_options_%s_%s", fn, name,
                    want_double ? "an integer" : "a double", strstr(fn, "_get_") ? "get" : "set",
                    want_double ? "int" : "double");
}

regnn_status regnn_fit_options_set_int(regnn_fit_options *opts, int key, int64_t value)
{
    static const char fn[] = "regnn_fit_options_set_int";
    if (!opts)
        return rg_error(REGNN_E_INVALID_ARG, "%s: options are NULL", fn);
    int64_t *slot = int_slot(opts, key);
    if (!slot)
        return wrong_key(fn, key, 0);
    regnn_status st = rg_option_check_int(fn, REGNN_OPTION_FIT, key, value);
    if (st != REGNN_OK)
        return st;
    *slot = value;
    return REGNN_OK;
}

regnn_status regnn_fit_options_get_int(const regnn_fit_options *opts, int key, int64_t *value)
{
    static const char fn[] = "regnn_fit_options_get_int";
    if (!opts || !value)
        return rg_error(REGNN_E_INVALID_ARG, "%s: options and value are required", fn);
    int64_t *slot = int_slot((regnn_fit_options *)opts, key);
    if (!slot)
        return wrong_key(fn, key, 0);
    *value = *slot;
    return REGNN_OK;
}

regnn_status regnn_fit_options_set_double(regnn_fit_options *opts, int key, double value)
{
    static const char fn[] = "regnn_fit_options_set_double";
    if (!opts)
        return rg_error(REGNN_E_INVALID_ARG, "%s: options are NULL", fn);
    double *slot = double_slot(opts, key);
    if (!slot)
        return wrong_key(fn, key, 1);
    regnn_status st = rg_option_check(fn, REGNN_OPTION_FIT, key, value);
    if (st != REGNN_OK)
        return st;
    *slot = value;
    return REGNN_OK;
}

regnn_status regnn_fit_options_get_double(const regnn_fit_options *opts, int key, double *value)
{
    static const char fn[] = "regnn_fit_options_get_double";
    if (!opts || !value)
        return rg_error(REGNN_E_INVALID_ARG, "%s: options and value are required", fn);
    const double *slot = double_slot((regnn_fit_options *)opts, key);
    if (!slot)
        return wrong_key(fn, key, 1);
    *value = *slot;
    return REGNN_OK;
}

regnn_status regnn_fit_options_set_callback(regnn_fit_options *opts, regnn_epoch_fn fn, void *user)
{
    if (!opts)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_fit_options_set_callback: options are NULL");
    opts->callback = fn;
    opts->callback_user = user;
    return REGNN_OK;
}

regnn_status regnn_fit_options_set_exchange(regnn_fit_options *opts, regnn_exchange_fn fn,
                                            void *user)
{
    if (!opts)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_fit_options_set_exchange: options are NULL");
    opts->exchange = fn;
    opts->exchange_user = user;
    return REGNN_OK;
}

regnn_status regnn_fit_options_copy(const regnn_fit_options *opts, regnn_fit_options **out)
{
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_fit_options_copy: out is NULL");
    *out = NULL;
    if (!opts)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_fit_options_copy: options are NULL");
    regnn_fit_options *o = rg_malloc(sizeof *o);
    if (!o)
        return rg_error(REGNN_E_NOMEM, "regnn_fit_options_copy: out of memory");
    *o = *opts;
    *out = o;
    return REGNN_OK;
}

regnn_epoch_fn rg_fit_options_callback(const regnn_fit_options *opts, void **user)
{
    *user = opts->callback_user;
    return opts->callback;
}

int rg_fit_options_has_exchange(const regnn_fit_options *opts) { return opts->exchange != NULL; }

int rg_fit_options_exchange(const regnn_fit_options *opts, float *g, size_t n, double *sums,
                            size_t n_sums)
{
    return opts->exchange(opts->exchange_user, g, n, sums, n_sums) != 0;
}
