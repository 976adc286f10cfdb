/* SPDX-License-Identifier: MIT */
/* Training: one batch (regnn_train_batch) and whole epochs (regnn_fit), with
 * Keras semantics for the reported loss, validation split and early stopping.
 * Every buffer is allocated before the first step; steps never allocate. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include <float.h>
#include <math.h>
#include <string.h>
#include <time.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static regnn_status check_model_optimizer(const char *fn, const regnn_model *m,
                                          const regnn_optimizer *o)
{
    if (!m || !o)
        return rg_error(REGNN_E_INVALID_ARG, "%s: model and optimizer are required", fn);
    regnn_status st = rg_model_check_ready(m);
    if (st != REGNN_OK)
        return rg_error(st, "%s: %s", fn, regnn_errmsg());
    if (m->busy || o->busy)
        return rg_error(REGNN_E_STATE, "%s: the model or optimizer is being trained by regnn_fit "
                                       "(called from an epoch callback?)", fn);
    if (o->n != 0 && o->n != m->n_params)
        return rg_error(REGNN_E_SHAPE,
                        "%s: the optimizer holds state for %zu parameters, the model has %zu "
                        "(use a new optimizer or regnn_optimizer_reset)",
                        fn, o->n, m->n_params);
    return REGNN_OK;
}

static regnn_status train_batch(const char *fn, regnn_model *m, regnn_optimizer *o,
                                const float *x, const float *y, const float *w, size_t n_rows,
                                double *loss_out)
{
    regnn_status st = check_model_optimizer(fn, m, o);
    if (st != REGNN_OK)
        return st;
    if (!x || !y)
        return rg_error(REGNN_E_INVALID_ARG, "%s: x and y are required", fn);
    if (n_rows == 0 || n_rows > RG_MAX_BATCH)
        return rg_error(REGNN_E_INVALID_ARG, "%s: n_rows must be in 1..%zu, got %zu", fn,
                        RG_MAX_BATCH, n_rows);
    const size_t n_out = regnn_model_outputs(m);
    if (!rg_all_finite(x, n_rows * m->n_in) || !rg_all_finite(y, n_rows * n_out))
        return rg_error(REGNN_E_NUMERIC, "%s: x or y contains NaN or Inf", fn);
    if (w) {
        size_t bad;
        if (!rg_weights_check(w, n_rows, &bad))
            return rg_error(REGNN_E_INVALID_ARG, "%s: w[%zu] is %g; weights must be finite and >= 0",
                            fn, bad, (double)w[bad]);
    }
    if (o->steps >= RG_MAX_STEPS)
        return rg_error(REGNN_E_STATE,
                        "%s: the optimizer has made 2^53 steps, the most it can count "
                        "(regnn_optimizer_set_steps or regnn_optimizer_reset to continue)", fn);
    const int had_ws = m->ws && m->ws_batch >= n_rows;
    const int was_bound = o->n != 0;
    st = rg_model_reserve(m, n_rows);
    if (st == REGNN_OK)
        st = rg_model_reserve_next(m);
    if (st == REGNN_OK)
        st = rg_optimizer_bind(o, m->n_params);
    if (st == REGNN_OK)
        st = rg_optimizer_reserve_spares(o);
    if (st != REGNN_OK) {
        if (!was_bound)
            rg_optimizer_unbind(o);
        if (!had_ws)
            rg_model_drop_workspace(m);
        return rg_error(st, "%s: %s", fn, regnn_errmsg());
    }
    rg_rng saved = m->rng;
    double data_loss, mse, mae, pen;
    rg_model_step_grads_w(m, x, y, w, n_rows, 1, &data_loss, &mse, &mae, &pen);
    double loss = data_loss + pen;
    const int finite_loss = isfinite(loss);
    const size_t np = m->n_params;
    if (finite_loss && m->params_max_known && rg_optimizer_step_is_safe(o, m->params_max, m->grads, np)) {
        /* The bounds from the last step prove this one stays finite: in place. */
        if (!rg_optimizer_step_inplace(o, m->params, m->grads, np, &m->params_max, m->pool, rg_model_plan(m))) {
            m->params_max_known = 0;
            o->bounds_known = 0;
            return rg_error(REGNN_E_INTERNAL,
                            "%s: an update proved finite was not (please report)", fn);
        }
        if (loss_out)
            *loss_out = loss;
        return REGNN_OK;
    }
    /* Otherwise the new values go to spare buffers, swapped in only when all
     * are finite: a refused step leaves no trace. */
    if (finite_loss && rg_optimizer_step_into(o, m->params, m->params_next, m->grads, np,
                                              &m->params_max, m->pool, rg_model_plan(m))) {
        float *t = m->params;
        m->params = m->params_next;
        m->params_next = t;
        m->params_max_known = 1;
        if (loss_out)
            *loss_out = loss;
        return REGNN_OK;
    }
    m->rng = saved;
    if (!was_bound)
        rg_optimizer_unbind(o);
    if (!finite_loss)
        return rg_error(REGNN_E_NUMERIC, "%s: the loss is not finite (%g); no update made", fn,
                        loss);
    return rg_error(REGNN_E_NUMERIC,
                    "%s: the update would make parameters or optimizer state NaN or "
                    "Inf (loss %g; try a lower learning rate); no update made", fn,
                    loss);
}

regnn_status regnn_train_batch(regnn_model *m, regnn_optimizer *o, const float *x, const float *y,
                               size_t n_rows, double *loss_out)
{
    return train_batch("regnn_train_batch", m, o, x, y, NULL, n_rows, loss_out);
}

regnn_status regnn_train_batch_weighted(regnn_model *m, regnn_optimizer *o, const float *x,
                                        const float *y, const float *w, size_t n_rows,
                                        double *loss_out)
{
    return train_batch("regnn_train_batch_weighted", m, o, x, y, w, n_rows, loss_out);
}

/* ---- fit options ---- */

static int64_t *int_slot(regnn_fit_options *o, int key);
static double *double_slot(regnn_fit_options *o, int key);

/* Every key from the options table's defaults. */
static void options_defaults(regnn_fit_options *o)
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
    options_defaults(o);
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

/* ---- fit ---- */

typedef struct fit_bufs {
    size_t *perm;
    float *bx, *by;        /* gathered batch when shuffling */
    float *bw;             /* its sample weights, when the data has them */
    float *snap_params;    /* state at entry, restored if training diverges */
    float *snap_m, *snap_v;
    float *best;           /* best epoch's parameters (RESTORE_BEST) */
    float *eval;           /* scratch for end-of-epoch evaluation */
    regnn_history *hist;
    double snap_lr, snap_lr_now; /* learning rate at entry (ReduceLROnPlateau changes it) */
} fit_bufs;

static void free_bufs(fit_bufs *b)
{
    rg_free(b->perm);
    rg_free(b->bx);
    rg_free(b->by);
    rg_free(b->bw);
    rg_free(b->snap_params);
    rg_free(b->snap_m);
    rg_free(b->snap_v);
    rg_free(b->best);
    rg_free(b->eval);
    regnn_history_free(b->hist);
    memset(b, 0, sizeof *b);
}

/* Put model and optimizer back as regnn_fit found them, and free the buffers. */
static void restore_entry(regnn_model *m, regnn_optimizer *o, fit_bufs *b, int was_bound,
                          int had_ws, uint64_t steps, const rg_rng *rng)
{
    const size_t np = m->n_params;
    memcpy(m->params, b->snap_params, np * sizeof(float));
    if (was_bound) {
        memcpy(o->m, b->snap_m, np * sizeof(float));
        if (o->v)
            memcpy(o->v, b->snap_v, np * sizeof(float));
    } else {
        rg_optimizer_unbind(o);
    }
    o->steps = steps;
    o->lr = b->snap_lr;
    o->lr_now = b->snap_lr_now;
    m->rng = *rng;
    m->params_max_known = 0;
    o->bounds_known = 0;
    if (!had_ws)
        rg_model_drop_workspace(m);
    free_bufs(b);
}

static double monitored(int monitor, const double *met)
{
    switch (monitor) {
    case REGNN_MONITOR_VAL_MSE: return met[REGNN_METRIC_VAL_MSE - 1];
    case REGNN_MONITOR_TRAIN_LOSS: return met[REGNN_METRIC_TRAIN_LOSS - 1];
    default: return met[REGNN_METRIC_VAL_LOSS - 1];
    }
}

static regnn_status fit_run(regnn_model *m, regnn_optimizer *o, const regnn_dataset *train,
                            const regnn_dataset *val, const regnn_fit_options *opts,
                            regnn_history **history_out, int *synced);

/* The first end-of-epoch metric (REGNN_METRIC_*) that was computed and is not
 * finite, or 0. Validation and train-eval metrics are NaN by design when absent. */
static int nonfinite_metric(const double *met, int has_val, int eval_train)
{
    for (int k = 1; k <= RG_N_METRICS; k++) {
        const int absent = (!has_val && (k == REGNN_METRIC_VAL_LOSS || k == REGNN_METRIC_VAL_MSE ||
                                          k == REGNN_METRIC_VAL_MAE)) ||
                           (!eval_train && k == REGNN_METRIC_TRAIN_EVAL_MSE);
        if (!absent && k != REGNN_METRIC_SECONDS && !isfinite(met[k - 1]))
            return k;
    }
    return 0;
}

/* Whether m's predictions on rows whose features are at most xmax in magnitude
 * are provably finite in float: with P the largest |parameter|, a layer's
 * |z| <= P (fan_in |a| + 1), and every activation keeps |act(z)| <= max(|z|, 1). */
static int predictions_bounded(const regnn_model *m, double xmax)
{
    float p = 0.0f;
    for (size_t i = 0; i < m->n_params; i++) {
        const float a = fabsf(m->params[i]);
        p = a > p ? a : p;
    }
    double bound = xmax;
    for (size_t l = 0; l < m->n_layers; l++) {
        bound = (double)p * ((double)m->layers[l]->n_in * bound + 1.0);
        bound = bound > 1.0 ? bound : 1.0;
    }
    return bound <= FLT_MAX / 4; /* isfinite too: NaN compares false */
}

static double max_abs(const float *v, size_t n)
{
    float mx = 0.0f;
    for (size_t i = 0; i < n; i++) {
        const float a = fabsf(v[i]);
        mx = a > mx ? a : mx;
    }
    return mx;
}

/* Data-parallel: sum n_sums values (and n gradients) over the processes.
 * Non-zero when the exchange failed. */
static int exchange(const regnn_fit_options *opts, float *g, size_t n, double *sums, size_t n_sums)
{
    return opts->exchange(opts->exchange_user, g, n, sums, n_sums) != 0;
}

regnn_status regnn_fit(regnn_model *m, regnn_optimizer *o, const regnn_dataset *train,
                       const regnn_dataset *val, const regnn_fit_options *opts,
                       regnn_history **history_out)
{
    if (history_out)
        *history_out = NULL;
    int synced = 0;
    regnn_status st = check_model_optimizer("regnn_fit", m, o);
    if (st == REGNN_OK) {
        /* The epoch callback may call back into the library; calls that would free
         * buffers this fit is using see the flags and refuse. */
        m->busy = o->busy = 1;
        st = fit_run(m, o, train, val, opts, history_out, &synced);
        m->busy = o->busy = 0;
    }
    /* A process that failed before training tells the others, which wait for it. */
    if (!synced && opts && opts->exchange)
        (void)rg_dp_start(opts, st, NULL);
    return st;
}

static regnn_status fit_run(regnn_model *m, regnn_optimizer *o, const regnn_dataset *train,
                            const regnn_dataset *val, const regnn_fit_options *opts,
                            regnn_history **history_out, int *synced)
{
    static const char fn[] = "regnn_fit";
    regnn_status st;
    if (!train)
        return rg_error(REGNN_E_INVALID_ARG, "%s: training data is required", fn);
    regnn_fit_options defaults;
    if (!opts) {
        options_defaults(&defaults);
        opts = &defaults;
    }
    const size_t n_out = regnn_model_outputs(m);
    if (train->n_x != m->n_in || train->n_y != n_out)
        return rg_error(REGNN_E_SHAPE,
                        "%s: training data has %zu features and %zu targets, the model takes %zu "
                        "inputs and gives %zu outputs",
                        fn, train->n_x, train->n_y, m->n_in, n_out);
    if (val && (val->n_x != m->n_in || val->n_y != n_out))
        return rg_error(REGNN_E_SHAPE,
                        "%s: validation data has %zu features and %zu targets, the model takes %zu "
                        "inputs and gives %zu outputs",
                        fn, val->n_x, val->n_y, m->n_in, n_out);
    if (val && opts->validation_split > 0.0)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: give either validation data or REGNN_FIT_VALIDATION_SPLIT, not both", fn);
    /* Data-parallel: this process computes rows [nr*si/sc, nr*(si+1)/sc) of each batch. */
    const int dp = opts->exchange != NULL;
    const size_t si = (size_t)opts->shard_index, sc = (size_t)opts->shard_count;
    if (si >= sc)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: REGNN_FIT_SHARD_INDEX %zu is not below REGNN_FIT_SHARD_COUNT %zu", fn,
                        si, sc);
    if (sc > 1 && !dp)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: REGNN_FIT_SHARD_COUNT %zu needs an exchange "
                        "(regnn_fit_options_set_exchange)", fn, sc);
    if (sc > 1)
        for (size_t i = 0; i < m->n_layers; i++)
            if (m->layers[i]->dropout > 0.0)
                return rg_error(REGNN_E_UNSUPPORTED,
                                "%s: dropout (layer %zu) draws per row from the model's random "
                                "stream, which the processes of a data-parallel fit must share",
                                fn, i);

    /* Training and validation rows as views: a tail split copies nothing. */
    const float *tx = train->x, *ty = train->y, *vx = NULL, *vy = NULL;
    const float *tw = train->w, *vw = NULL; /* sample weights, NULL = all 1 */
    size_t n_train = train->rows, n_val = 0;
    if (val) {
        vx = val->x;
        vy = val->y;
        vw = val->w;
        n_val = val->rows;
    } else if (opts->validation_split > 0.0) {
        size_t split_at = rg_tail_split_at(train->rows, opts->validation_split);
        if (split_at == 0 || split_at >= train->rows)
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: validation split %g of %zu rows leaves an empty training or "
                            "validation part",
                            fn, opts->validation_split, train->rows);
        n_train = split_at;
        n_val = train->rows - split_at;
        vx = train->x + split_at * train->n_x;
        vy = train->y + split_at * train->n_y;
        vw = train->w ? train->w + split_at : NULL;
    }
    /* Weighted metrics divide by the weight sum (Keras weighted_metrics). */
    double tw_sum = (double)n_train, vw_sum = (double)n_val;
    if (tw) {
        tw_sum = 0.0;
        for (size_t i = 0; i < n_train; i++)
            tw_sum += tw[i];
    }
    if (vw) {
        vw_sum = 0.0;
        for (size_t i = 0; i < n_val; i++)
            vw_sum += vw[i];
    }
    if (!(tw_sum > 0.0) || (n_val > 0 && !(vw_sum > 0.0)))
        return rg_error(REGNN_E_INVALID_ARG, "%s: the %s sample weights are all 0", fn,
                        tw_sum > 0.0 ? "validation" : "training");
    const int has_val = n_val > 0;
    if (opts->reduce_lr && o->sched.kind != REGNN_SCHEDULE_CONSTANT)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: REGNN_FIT_REDUCE_LR changes the learning rate, but the optimizer has a "
                        "schedule (as in Keras, use one or the other)",
                        fn);
    if ((opts->early_stopping || opts->restore_best) && !has_val &&
        opts->monitor != REGNN_MONITOR_TRAIN_LOSS)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: early stopping / restore-best monitor validation loss, but there is no "
                        "validation data (give val, a validation split, or monitor the training loss)",
                        fn);

    const size_t batch = (size_t)opts->batch_size < n_train ? (size_t)opts->batch_size : n_train;
    const size_t epochs = (size_t)opts->epochs;
    const int shuffle = opts->shuffle != 0;
    const size_t np = m->n_params;
    const int was_bound = o->n != 0;

    /* Refuse up front a fit that would push the step count past what it can hold. */
    const size_t per_epoch = (n_train + batch - 1) / batch;
    if (o->steps > RG_MAX_STEPS || per_epoch > (RG_MAX_STEPS - o->steps) / epochs)
        return rg_error(REGNN_E_STATE,
                        "%s: %zu epochs of %zu steps would take the optimizer's step count (%llu) "
                        "past 2^53, the most it can count (regnn_optimizer_set_steps or "
                        "regnn_optimizer_reset to continue)",
                        fn, epochs, per_epoch, (unsigned long long)o->steps);

    fit_bufs b;
    memset(&b, 0, sizeof b);
    int ok = rg_history_create(epochs, &b.hist) == REGNN_OK;
    if (ok && shuffle) {
        b.perm = rg_calloc(n_train, sizeof *b.perm);
        b.bx = rg_calloc(batch * m->n_in, sizeof *b.bx);
        b.by = rg_calloc(batch * n_out, sizeof *b.by);
        ok = b.perm && b.bx && b.by;
        if (ok && tw) {
            b.bw = rg_calloc(batch, sizeof *b.bw);
            ok = b.bw != NULL;
        }
    }
    if (ok) {
        b.snap_params = rg_malloc(np * sizeof(float));
        ok = b.snap_params != NULL;
    }
    if (ok && was_bound) {
        b.snap_m = rg_malloc(np * sizeof(float));
        ok = b.snap_m != NULL;
        if (ok && o->v) {
            b.snap_v = rg_malloc(np * sizeof(float));
            ok = b.snap_v != NULL;
        }
    }
    if (ok && opts->restore_best) {
        b.best = rg_malloc(np * sizeof(float));
        ok = b.best != NULL;
    }
    size_t eval_rows = has_val ? n_val : 0;
    if (opts->eval_train && n_train > eval_rows)
        eval_rows = n_train;
    if (eval_rows > 256)
        eval_rows = 256;
    if (ok && eval_rows) {
        b.eval = rg_calloc(2 * eval_rows, rg_model_max_width(m) * sizeof(float));
        ok = b.eval != NULL;
    }
    if (!ok) {
        free_bufs(&b);
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
    }
    const int had_ws = m->ws && m->ws_batch >= batch;
    st = rg_model_reserve(m, batch);
    if (st == REGNN_OK)
        st = rg_optimizer_bind(o, np); /* last: nothing after it can fail before training */
    if (st != REGNN_OK) {
        if (!had_ws)
            rg_model_drop_workspace(m);
        free_bufs(&b);
        return rg_error(st, "%s: %s", fn, regnn_errmsg());
    }
    memcpy(b.snap_params, m->params, np * sizeof(float));
    if (was_bound) {
        memcpy(b.snap_m, o->m, np * sizeof(float));
        if (o->v)
            memcpy(b.snap_v, o->v, np * sizeof(float));
    }
    const uint64_t snap_steps = o->steps;
    const rg_rng snap_rng = m->rng;
    b.snap_lr = o->lr;
    b.snap_lr_now = o->lr_now;
    rg_plateau plateau;
    rg_plateau_start(&plateau, opts);
    if (dp) { /* every process ready, with the same settings */
        const rg_fit_setup setup = {m, o, train, val, opts, NULL};
        *synced = 1;
        st = rg_dp_start(opts, REGNN_OK, &setup);
        if (st != REGNN_OK) {
            restore_entry(m, o, &b, was_bound, had_ws, snap_steps, &snap_rng);
            return st;
        }
    }

    regnn_history *h = b.hist;
    h->stop_reason = REGNN_STOP_COMPLETED;
    double best = INFINITY;
    size_t wait = 0;
    const double nan = NAN;

    /* One shard per process (rg_model_shards of the batch size): bit for bit the
     * one-process fit. */
    const int exact = dp && sc > 1 && rg_model_shards(m, batch, NULL) == sc;
    for (size_t e = 0; e < epochs; e++) {
        double t0 = now_seconds();
        if (shuffle)
            rg_rng_permutation(&m->rng, b.perm, n_train);
        double sum_loss = 0.0, sum_mse = 0.0, sum_mae = 0.0, sum_pen = 0.0;
        for (size_t r0 = 0; r0 < n_train; r0 += batch) {
            size_t nr = n_train - r0 < batch ? n_train - r0 : batch; /* partial last batch kept */
            /* This process's rows [lo, lo + nl) of the batch (all of it without sharding):
             * its shard of the one-process step when the batch size has one
             * shard per process (so the sum over processes is that step's sum
             * of shards, bit for bit), else an even share. */
            size_t lo = nr * si / sc, nl = nr * (si + 1) / sc - lo, ns = 0;
            if (exact) {
                size_t bd[5];
                ns = rg_model_shards(m, nr, bd);
                lo = si < ns ? bd[si] : 0;
                nl = si < ns ? bd[si + 1] - bd[si] : 0;
            }
            const float *xb, *yb, *wb = NULL;
            if (shuffle) {
                for (size_t r = 0; r < nl; r++) {
                    size_t src = b.perm[r0 + lo + r];
                    memcpy(b.bx + r * m->n_in, tx + src * m->n_in, m->n_in * sizeof(float));
                    memcpy(b.by + r * n_out, ty + src * n_out, n_out * sizeof(float));
                    if (tw)
                        b.bw[r] = tw[src];
                }
                xb = b.bx;
                yb = b.by;
                wb = tw ? b.bw : NULL;
            } else {
                xb = tx + (r0 + lo) * m->n_in;
                yb = ty + (r0 + lo) * n_out;
                wb = tw ? tw + r0 + lo : NULL;
            }
            double loss = 0.0, mse = 0.0, mae = 0.0, pen = 0.0;
            rg_update upd;
            int updated = 0;
            if (!dp) {
                /* The step runs the update in its last job when it can: one wait less. */
                rg_optimizer_update_begin(o, &upd, m->params, m->grads, np);
                updated = rg_model_step_update(m, xb, yb, wb, nl, &loss, &mse, &mae, &pen, &upd);
            } else {
                /* Each process's gradient and loss sums at the global batch's scale;
                 * -0 (which adds nothing, not even to a -0) from a process without
                 * rows; summed over processes in order. The penalty: in the step of
                 * the one process with rows when the batch is not split (one
                 * process, or a short batch of one shard: the one-process step's
                 * order), else added by every process after the sum, as a sharded
                 * step adds it. */
                const int pen_in_step = sc == 1 || ns == 1;
                double sums[4] = {-0.0, -0.0, -0.0, -0.0};
                if (nl > 0)
                    rg_model_step_sums(m, xb, yb, wb, nl, nr, 1, pen_in_step, sums, &sums[3]);
                else
                    for (size_t k = 0; k < np; k++)
                        m->grads[k] = -0.0f;
                if (exchange(opts, m->grads, np, sums, 4)) {
                    restore_entry(m, o, &b, was_bound, had_ws, snap_steps, &snap_rng);
                    return rg_error(REGNN_E_IO, "%s: the exchange failed in epoch %zu; model and "
                                    "optimizer restored", fn, e + 1);
                }
                const double n = (double)nr * (double)n_out;
                loss = sums[0] / n;
                mse = sums[1] / n;
                mae = sums[2] / n;
                pen = pen_in_step ? sums[3] : rg_model_add_penalty(m);
            }
            const int finite_loss = isfinite(loss + pen);
            /* In place: a failed step is undone from the entry snapshot (so is an
             * update the step ran with a non-finite loss). */
            int stepped = 0;
            if (finite_loss)
                stepped = updated ? rg_optimizer_update_end(o, &upd, &m->params_max)
                              : rg_optimizer_step_inplace(o, m->params, m->grads, np,
                                                         &m->params_max, m->pool, rg_model_plan(m));
            if (stepped) {
                m->params_max_known = 1;
            } else {
                /* Diverged: put model and optimizer back as the caller gave them. */
                restore_entry(m, o, &b, was_bound, had_ws, snap_steps, &snap_rng);
                return rg_error(REGNN_E_NUMERIC,
                                finite_loss ? "%s: the update in epoch %zu made parameters or "
                                              "optimizer state NaN or Inf; model and optimizer "
                                              "restored (try a lower learning rate)"
                                            : "%s: the loss became non-finite in epoch %zu; model "
                                              "and optimizer restored (try a lower learning rate)",
                                fn, e + 1);
            }
            sum_loss += loss * (double)nr;
            sum_mse += mse * (double)nr;
            sum_mae += mae * (double)nr;
            sum_pen += pen * (double)nr;
        }
        double met[RG_N_METRICS];
        met[REGNN_METRIC_TRAIN_MSE - 1] = sum_mse / tw_sum;
        met[REGNN_METRIC_TRAIN_MAE - 1] = sum_mae / tw_sum;
        met[REGNN_METRIC_TRAIN_PENALTY - 1] = sum_pen / (double)n_train;
        met[REGNN_METRIC_TRAIN_LOSS - 1] = (sum_loss + sum_pen) / (double)n_train;
        met[REGNN_METRIC_VAL_LOSS - 1] = met[REGNN_METRIC_VAL_MSE - 1] = nan;
        met[REGNN_METRIC_VAL_MAE - 1] = met[REGNN_METRIC_TRAIN_EVAL_MSE - 1] = nan;
        /* With the preallocated scratch, evaluation cannot fail. */
        /* Data-parallel: each process sums its part of the rows; the sums are
         * summed over the processes, then divided as in one process. */
        rg_loss_sums es;
        double ev[6] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
        if (has_val) {
            const size_t vlo = n_val * si / sc, vn = n_val * (si + 1) / sc - vlo;
            if (vn > 0) {
                rg_model_eval_sums(m, vx + vlo * m->n_in, vy + vlo * n_out, vw ? vw + vlo : NULL,
                                   vn, &es, b.eval, eval_rows, m->pool);
                ev[0] = es.se;
                ev[1] = es.ae;
                ev[2] = es.loss;
            }
        }
        if (opts->eval_train) {
            const size_t tlo = n_train * si / sc, tn = n_train * (si + 1) / sc - tlo;
            if (tn > 0) {
                rg_model_eval_sums(m, tx + tlo * m->n_in, ty + tlo * n_out, tw ? tw + tlo : NULL,
                                   tn, &es, b.eval, eval_rows, m->pool);
                ev[3] = es.se;
            }
        }
        if (dp && (has_val || opts->eval_train) && exchange(opts, NULL, 0, ev, 4)) {
            restore_entry(m, o, &b, was_bound, had_ws, snap_steps, &snap_rng);
            return rg_error(REGNN_E_IO, "%s: the exchange failed in epoch %zu; model and "
                            "optimizer restored", fn, e + 1);
        }
        if (has_val) {
            met[REGNN_METRIC_VAL_MSE - 1] = ev[0] / (vw_sum * (double)n_out);
            met[REGNN_METRIC_VAL_MAE - 1] = ev[1] / (vw_sum * (double)n_out);
            met[REGNN_METRIC_VAL_LOSS - 1] =
                ev[2] / ((double)n_val * (double)n_out) + rg_model_penalty(m);
        }
        if (opts->eval_train)
            met[REGNN_METRIC_TRAIN_EVAL_MSE - 1] = ev[3] / (tw_sum * (double)n_out);
        met[REGNN_METRIC_LEARNING_RATE - 1] = o->lr_now;
        met[REGNN_METRIC_SECONDS - 1] = now_seconds() - t0;
        /* Finite steps can still end on weights whose predictions overflow. The
         * metrics are the same in every process, so all stop here together. */
        const int bad = nonfinite_metric(met, has_val, opts->eval_train != 0);
        if (bad) {
            restore_entry(m, o, &b, was_bound, had_ws, snap_steps, &snap_rng);
            return rg_error(REGNN_E_NUMERIC,
                            "%s: end-of-epoch metric %d of epoch %zu is %g (not finite); model and "
                            "optimizer restored (try a lower learning rate)",
                            fn, bad, e + 1, met[bad - 1]);
        }
        regnn_status pst = rg_history_push(h, met);
        if (dp) { /* every process stops if one could not record the epoch */
            double failed = pst != REGNN_OK;
            if (exchange(opts, NULL, 0, &failed, 1))
                failed = 1.0;
            if (failed != 0.0 && pst == REGNN_OK)
                pst = REGNN_E_STATE;
        }
        if (pst != REGNN_OK) {
            restore_entry(m, o, &b, was_bound, had_ws, snap_steps, &snap_rng);
            return rg_error(pst,
                            pst == REGNN_E_NOMEM
                                ? "%s: out of memory recording epoch %zu; model and optimizer restored"
                                : "%s: another process of the data-parallel fit failed in epoch "
                                  "%zu; model and optimizer restored",
                            fn, e + 1);
        }

        /* Keras EarlyStopping: improvement means value < best - min_delta. */
        double cur = monitored(has_val ? (int)opts->monitor : REGNN_MONITOR_TRAIN_LOSS, met);
        int stop = 0;
        if (isfinite(cur) && cur < best - opts->min_delta) {
            best = cur;
            h->best_epoch = e;
            h->has_best = 1;
            wait = 0;
            if (b.best)
                memcpy(b.best, m->params, np * sizeof(float));
        } else {
            wait++;
            if (opts->early_stopping && wait >= (size_t)opts->patience) {
                h->stop_reason = REGNN_STOP_EARLY;
                stop = 1;
            }
        }
        if (opts->reduce_lr)
            rg_plateau_update(&plateau, cur, &o->lr);
        /* The callback also sees the epoch on which early stopping fired. */
        int cb_stop = opts->callback && opts->callback(opts->callback_user, h, e) != 0;
        if (dp) { /* one process's callback stops them all */
            double vote = cb_stop;
            if (exchange(opts, NULL, 0, &vote, 1))
                vote = 1.0;
            cb_stop = vote != 0.0;
        }
        if (cb_stop && !stop) {
            h->stop_reason = REGNN_STOP_CALLBACK;
            stop = 1;
        }
        if (stop)
            break;
    }
    if (b.best && h->has_best) {
        memcpy(m->params, b.best, np * sizeof(float));
        m->params_max_known = 0;
    }
    /* No metric evaluated the final weights: check that their predictions on the
     * training rows are finite, by a bound when it proves it, else by evaluating. */
    if (!has_val && !opts->eval_train && !predictions_bounded(m, max_abs(tx, n_train * m->n_in))) {
        const size_t tlo = n_train * si / sc, tn = n_train * (si + 1) / sc - tlo;
        rg_loss_sums es;
        double se = 0.0;
        regnn_status est = REGNN_OK;
        if (tn > 0) {
            est = rg_model_eval_sums(m, tx + tlo * m->n_in, ty + tlo * n_out, tw ? tw + tlo : NULL,
                                     tn, &es, NULL, 0, m->pool);
            se = est == REGNN_OK ? es.se : NAN;
        }
        if (dp && exchange(opts, NULL, 0, &se, 1))
            se = NAN;
        if (!isfinite(se)) {
            restore_entry(m, o, &b, was_bound, had_ws, snap_steps, &snap_rng);
            return rg_error(est == REGNN_E_NOMEM ? REGNN_E_NOMEM : REGNN_E_NUMERIC,
                            est == REGNN_E_NOMEM
                                ? "%s: out of memory checking the final weights; model and "
                                  "optimizer restored"
                                : "%s: the final weights' predictions on the training data are not "
                                  "finite; model and optimizer restored (try a lower learning rate)",
                            fn);
        }
    }
    if (history_out) {
        *history_out = h;
        b.hist = NULL;
    }
    free_bufs(&b);
    return REGNN_OK;
}
