/* SPDX-License-Identifier: MIT */
/* Training: one batch (regnn_train_batch) and whole epochs (regnn_fit), with
 * Keras semantics for the reported loss, validation split and early stopping.
 * Every buffer is allocated before the first step; steps never allocate. */
#define _POSIX_C_SOURCE 200809L
#include "fit_options_impl.h"

#include <math.h>
#include <stdarg.h>
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
    if (rg_model_busy(m) || rg_optimizer_busy(o))
        return rg_error(REGNN_E_STATE, "%s: the model or optimizer is being trained by regnn_fit "
                                       "(called from an epoch callback?)", fn);
    const size_t n = regnn_optimizer_state_size(o), np = regnn_model_param_count(m);
    if (n != 0 && n != np)
        return rg_error(REGNN_E_SHAPE,
                        "%s: the optimizer holds state for %zu parameters, the model has %zu "
                        "(use a new optimizer or regnn_optimizer_reset)",
                        fn, n, np);
    return REGNN_OK;
}

static regnn_status check_batch(const char *fn, const regnn_model *m, const regnn_optimizer *o,
                                const float *x, const float *y, const float *w, size_t n_rows)
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
    if (!rg_all_finite(x, n_rows * regnn_model_inputs(m)) || !rg_all_finite(y, n_rows * n_out))
        return rg_error(REGNN_E_NUMERIC, "%s: x or y contains NaN or Inf", fn);
    if (w) {
        size_t bad;
        if (!rg_weights_check(w, n_rows, &bad))
            return rg_error(REGNN_E_INVALID_ARG, "%s: w[%zu] is %g; weights must be finite and >= 0",
                            fn, bad, (double)w[bad]);
    }
    if (regnn_optimizer_steps(o) >= RG_MAX_STEPS)
        return rg_error(REGNN_E_STATE,
                        "%s: the optimizer has made 2^53 steps, the most it can count "
                        "(regnn_optimizer_set_steps or regnn_optimizer_reset to continue)", fn);
    return REGNN_OK;
}

static regnn_status train_batch(const char *fn, regnn_model *m, regnn_optimizer *o,
                                const float *x, const float *y, const float *w, size_t n_rows,
                                double *loss_out)
{
    regnn_status st = check_batch(fn, m, o, x, y, w, n_rows);
    if (st != REGNN_OK)
        return st;
    const int had_ws = rg_model_has_workspace(m, n_rows);
    const int was_bound = regnn_optimizer_state_size(o) != 0;
    st = rg_model_reserve(m, n_rows);
    if (st == REGNN_OK)
        st = rg_model_reserve_next(m);
    if (st == REGNN_OK)
        st = rg_optimizer_bind(o, regnn_model_param_count(m));
    if (st == REGNN_OK)
        st = rg_optimizer_reserve_spares(o);
    if (st != REGNN_OK) {
        if (!was_bound)
            rg_optimizer_unbind(o);
        if (!had_ws)
            rg_model_drop_workspace(m);
        return rg_error(st, "%s: %s", fn, regnn_errmsg());
    }
    double loss;
    const int step = rg_model_train_step(m, o, x, y, w, n_rows, &loss);
    if (step == RG_STEP_OK) {
        if (loss_out)
            *loss_out = loss;
        return REGNN_OK;
    }
    if (step == RG_STEP_BROKEN)
        return rg_error(REGNN_E_INTERNAL,
                        "%s: an update proved finite was not (please report)", fn);
    if (!was_bound)
        rg_optimizer_unbind(o);
    if (step == RG_STEP_LOSS)
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

/* ---- fit: check, prepare, epochs, finish ---- */

/* Rows of the training or validation part, as views (a tail split copies
 * nothing), and their weight sum: weighted metrics divide by it (Keras
 * weighted_metrics). */
typedef struct fit_part {
    const float *x, *y, *w; /* w NULL: all 1 */
    size_t n;
    double w_sum;
} fit_part;

/* One regnn_fit: its settings, and every buffer, allocated before the first
 * step (steps never allocate). */
typedef struct fit_ctx {
    regnn_model *m;
    regnn_optimizer *o;
    const regnn_fit_options *opts;
    size_t n_in, n_out;
    fit_part tr, va;            /* va.n == 0: no validation */
    size_t batch, epochs, eval_rows;
    int shuffle, has_val;
    rg_dp dp;                   /* this process's rows and the sums over processes */
    size_t *perm;
    float *bx, *by, *bw;        /* gathered batch when shuffling, with its weights */
    float *best;                /* best epoch's parameters (RESTORE_BEST) */
    float *eval;                /* scratch for end-of-epoch evaluation */
    regnn_history *hist;
    rg_model_snap ms;           /* the model and optimizer at entry, put back */
    rg_optimizer_snap os;       /* if training fails */
    rg_plateau plateau;         /* ReduceLROnPlateau */
    double best_value;          /* early stopping: best monitored value, */
    size_t wait;                /* epochs since, */
    int has_best;               /* whether there is one */
} fit_ctx;

static void fit_free(fit_ctx *f)
{
    rg_free(f->perm);
    rg_free(f->bx);
    rg_free(f->by);
    rg_free(f->bw);
    rg_free(f->best);
    rg_free(f->eval);
    rg_dp_free(&f->dp);
    regnn_history_free(f->hist);
    rg_model_snapshot_free(&f->ms);
    rg_optimizer_snapshot_free(&f->os);
}

/* Training failed: put model and optimizer back as regnn_fit found them, free
 * the buffers, and return st with the message (formatted first: it may quote
 * regnn_errmsg(), which restoring leaves alone). */
RG_PRINTF(3, 4)
static regnn_status fit_fail(fit_ctx *f, regnn_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rg_verror(st, fmt, ap);
    va_end(ap);
    rg_model_restore(f->m, &f->ms);
    rg_optimizer_restore(f->o, &f->os);
    fit_free(f);
    return st;
}

static double monitored(int monitor, const double *met)
{
    switch (monitor) {
    case REGNN_MONITOR_VAL_MSE: return met[REGNN_METRIC_VAL_MSE - 1];
    case REGNN_MONITOR_TRAIN_LOSS: return met[REGNN_METRIC_TRAIN_LOSS - 1];
    default: return met[REGNN_METRIC_VAL_LOSS - 1];
    }
}

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

static double max_abs(const float *v, size_t n)
{
    float mx = 0.0f;
    for (size_t i = 0; i < n; i++) {
        const float a = fabsf(v[i]);
        mx = a > mx ? a : mx;
    }
    return mx;
}

static double weight_sum(const float *w, size_t n)
{
    if (!w)
        return (double)n;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += w[i];
    return s;
}

/* -- check -- */

/* The data's shapes and the data-parallel settings. */
static regnn_status fit_check_args(const char *fn, const regnn_model *m, const regnn_dataset *train,
                                   const regnn_dataset *val, const regnn_fit_options *opts)
{
    const size_t n_in = regnn_model_inputs(m), n_out = regnn_model_outputs(m);
    const rg_rows t = rg_dataset_view(train);
    if (t.n_x != n_in || t.n_y != n_out)
        return rg_error(REGNN_E_SHAPE,
                        "%s: training data has %zu features and %zu targets, the model takes %zu "
                        "inputs and gives %zu outputs",
                        fn, t.n_x, t.n_y, n_in, n_out);
    const rg_rows v = val ? rg_dataset_view(val) : t;
    if (val && (v.n_x != n_in || v.n_y != n_out))
        return rg_error(REGNN_E_SHAPE,
                        "%s: validation data has %zu features and %zu targets, the model takes %zu "
                        "inputs and gives %zu outputs",
                        fn, v.n_x, v.n_y, n_in, n_out);
    if (val && opts->validation_split > 0.0)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: give either validation data or REGNN_FIT_VALIDATION_SPLIT, not both", fn);
    /* Data-parallel: this process computes part of each batch (rg_dp_batch_part). */
    const size_t si = (size_t)opts->shard_index, sc = (size_t)opts->shard_count;
    if (si >= sc)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: REGNN_FIT_SHARD_INDEX %zu is not below REGNN_FIT_SHARD_COUNT %zu", fn,
                        si, sc);
    if (sc > 1 && !opts->exchange)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: REGNN_FIT_SHARD_COUNT %zu needs an exchange "
                        "(regnn_fit_options_set_exchange)", fn, sc);
    return REGNN_OK;
}

/* The training and validation rows: val's, a tail split of train's, or none. */
static regnn_status fit_parts(const char *fn, fit_ctx *f, const regnn_dataset *train,
                              const regnn_dataset *val)
{
    const rg_rows t = rg_dataset_view(train);
    const double split = f->opts->validation_split;
    f->tr = (fit_part){t.x, t.y, t.w, t.rows, 0.0};
    f->va = (fit_part){NULL, NULL, NULL, 0, 0.0};
    if (val) {
        const rg_rows v = rg_dataset_view(val);
        f->va = (fit_part){v.x, v.y, v.w, v.rows, 0.0};
    } else if (split > 0.0) {
        const size_t at = rg_tail_split_at(t.rows, split);
        if (at == 0 || at >= t.rows)
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: validation split %g of %zu rows leaves an empty training or "
                            "validation part",
                            fn, split, t.rows);
        f->tr.n = at;
        f->va = (fit_part){t.x + at * t.n_x, t.y + at * t.n_y, t.w ? t.w + at : NULL,
                           t.rows - at, 0.0};
    }
    f->tr.w_sum = weight_sum(f->tr.w, f->tr.n);
    f->va.w_sum = weight_sum(f->va.w, f->va.n);
    if (!(f->tr.w_sum > 0.0) || (f->va.n > 0 && !(f->va.w_sum > 0.0)))
        return rg_error(REGNN_E_INVALID_ARG, "%s: the %s sample weights are all 0", fn,
                        f->tr.w_sum > 0.0 ? "validation" : "training");
    f->has_val = f->va.n > 0;
    return REGNN_OK;
}

/* The options against the data and optimizer, and the fit's sizes. */
static regnn_status fit_check_plan(const char *fn, fit_ctx *f)
{
    const regnn_fit_options *opts = f->opts;
    if (opts->reduce_lr && rg_optimizer_has_schedule(f->o))
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: REGNN_FIT_REDUCE_LR changes the learning rate, but the optimizer has a "
                        "schedule (as in Keras, use one or the other)",
                        fn);
    if ((opts->early_stopping || opts->restore_best) && !f->has_val &&
        opts->monitor != REGNN_MONITOR_TRAIN_LOSS)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: early stopping / restore-best monitor validation loss, but there is no "
                        "validation data (give val, a validation split, or monitor the training loss)",
                        fn);
    const size_t n = f->tr.n;
    f->batch = (size_t)opts->batch_size < n ? (size_t)opts->batch_size : n;
    f->epochs = (size_t)opts->epochs;
    f->shuffle = opts->shuffle != 0;
    /* Refuse up front a fit that would push the step count past what it can hold. */
    const size_t per_epoch = (n + f->batch - 1) / f->batch;
    const uint64_t steps = regnn_optimizer_steps(f->o);
    if (steps > RG_MAX_STEPS || per_epoch > (RG_MAX_STEPS - steps) / f->epochs)
        return rg_error(REGNN_E_STATE,
                        "%s: %zu epochs of %zu steps would take the optimizer's step count (%llu) "
                        "past 2^53, the most it can count (regnn_optimizer_set_steps or "
                        "regnn_optimizer_reset to continue)",
                        fn, f->epochs, per_epoch, (unsigned long long)steps);
    return REGNN_OK;
}

static regnn_status fit_check(const char *fn, fit_ctx *f, const regnn_dataset *train,
                              const regnn_dataset *val)
{
    regnn_status st = fit_check_args(fn, f->m, train, val, f->opts);
    if (st == REGNN_OK)
        st = fit_parts(fn, f, train, val);
    if (st == REGNN_OK)
        st = fit_check_plan(fn, f);
    return st;
}

/* -- prepare -- */

/* The buffers and the entry snapshots, in this order (out-of-memory tests
 * count the allocations); 0 when one failed. */
static int fit_alloc(fit_ctx *f)
{
    const size_t batch = f->batch;
    int ok = rg_history_create(f->epochs, &f->hist) == REGNN_OK;
    if (ok && f->shuffle) {
        f->perm = rg_calloc(f->tr.n, sizeof *f->perm);
        f->bx = rg_calloc(batch * f->n_in, sizeof *f->bx);
        f->by = rg_calloc(batch * f->n_out, sizeof *f->by);
        ok = f->perm && f->bx && f->by;
        if (ok && f->tr.w) {
            f->bw = rg_calloc(batch, sizeof *f->bw);
            ok = f->bw != NULL;
        }
    }
    ok = ok && rg_model_snapshot(f->m, batch, &f->ms) == REGNN_OK;
    ok = ok && rg_optimizer_snapshot(f->o, &f->os) == REGNN_OK;
    if (ok && f->opts->restore_best) {
        f->best = rg_malloc(rg_model_saved_count(f->m) * sizeof(float));
        ok = f->best != NULL;
    }
    size_t eval_rows = f->has_val ? f->va.n : 0;
    if (f->opts->eval_train && f->tr.n > eval_rows)
        eval_rows = f->tr.n;
    f->eval_rows = rg_model_eval_chunk(eval_rows);
    if (ok && f->eval_rows) {
        f->eval = rg_calloc(2 * f->eval_rows, rg_model_max_width(f->m) * sizeof(float));
        ok = f->eval != NULL;
    }
    return ok && rg_dp_reserve(&f->dp, f->opts, f->m, batch);
}

/* Everything the epochs use; on failure the model and optimizer are as they were. */
static regnn_status fit_prepare(const char *fn, fit_ctx *f)
{
    if (!fit_alloc(f)) {
        fit_free(f);
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
    }
    regnn_status st = rg_model_reserve(f->m, f->batch);
    if (st == REGNN_OK) /* last: nothing after it can fail before training */
        st = rg_optimizer_bind(f->o, regnn_model_param_count(f->m));
    if (st != REGNN_OK) {
        rg_model_release(f->m, &f->ms);
        fit_free(f);
        return rg_error(st, "%s: %s", fn, regnn_errmsg());
    }
    rg_dp_init(&f->dp, f->opts, f->m, f->batch);
    rg_plateau_start(&f->plateau, f->opts);
    rg_history_set_stop(f->hist, REGNN_STOP_COMPLETED);
    f->best_value = INFINITY;
    return REGNN_OK;
}

/* -- one epoch -- */

/* Rows [at, at + n) of the epoch's order: views, or gathered when shuffling. */
static void fit_gather(const fit_ctx *f, size_t at, size_t n, const float **x, const float **y,
                       const float **w)
{
    const size_t n_in = f->n_in, n_out = f->n_out;
    if (!f->shuffle) {
        *x = f->tr.x + at * n_in;
        *y = f->tr.y + at * n_out;
        *w = f->tr.w ? f->tr.w + at : NULL;
        return;
    }
    for (size_t r = 0; r < n; r++) {
        const size_t src = f->perm[at + r];
        memcpy(f->bx + r * n_in, f->tr.x + src * n_in, n_in * sizeof(float));
        memcpy(f->by + r * n_out, f->tr.y + src * n_out, n_out * sizeof(float));
        if (f->tr.w)
            f->bw[r] = f->tr.w[src];
    }
    *x = f->bx;
    *y = f->by;
    *w = f->tr.w ? f->bw : NULL;
}

/* A failed step: the model and optimizer restored, with why. */
static regnn_status fit_step_failed(fit_ctx *f, int step, size_t e)
{
    static const char fn[] = "regnn_fit";
    if (step == RG_STEP_EXCHANGE)
        return fit_fail(f, REGNN_E_IO, "%s: the exchange failed in epoch %zu; model and "
                        "optimizer restored", fn, e + 1);
    return fit_fail(f, REGNN_E_NUMERIC,
                    step == RG_STEP_UPDATE ? "%s: the update in epoch %zu made parameters or "
                                             "optimizer state NaN or Inf; model and optimizer "
                                             "restored (try a lower learning rate)"
                                           : "%s: the loss became non-finite in epoch %zu; model "
                                             "and optimizer restored (try a lower learning rate)",
                    fn, e + 1);
}

/* The epoch's steps, and their running means into met (partial last batch kept). */
static regnn_status fit_batches(fit_ctx *f, size_t e, double *met)
{
    const size_t n = f->tr.n;
    if (f->shuffle)
        rg_model_permutation(f->m, f->perm, n);
    double sum[4] = {0.0, 0.0, 0.0, 0.0}; /* loss, mse, mae, penalty */
    for (size_t r0 = 0; r0 < n; r0 += f->batch) {
        const size_t nr = n - r0 < f->batch ? n - r0 : f->batch;
        size_t lo, nl; /* this process's rows of the batch (all of them in one process) */
        const size_t shards = rg_dp_batch_part(&f->dp, f->m, nr, &lo, &nl);
        const float *x, *y, *w;
        fit_gather(f, r0 + lo, nl, &x, &y, &w);
        double v[4];
        /* In place: a failed step is undone from the entry snapshot (so is an
         * update the step ran with a non-finite loss). */
        const int step = rg_dp_step(&f->dp, f->m, f->o, x, y, w, lo, nl, nr, shards, v);
        if (step != RG_STEP_OK)
            return fit_step_failed(f, step, e);
        for (int k = 0; k < 4; k++)
            sum[k] += v[k] * (double)nr;
    }
    met[REGNN_METRIC_TRAIN_MSE - 1] = sum[1] / f->tr.w_sum;
    met[REGNN_METRIC_TRAIN_MAE - 1] = sum[2] / f->tr.w_sum;
    met[REGNN_METRIC_TRAIN_PENALTY - 1] = sum[3] / (double)n;
    met[REGNN_METRIC_TRAIN_LOSS - 1] = (sum[0] + sum[3]) / (double)n;
    return REGNN_OK;
}

/* The sums over this process's share of part p (zero when it has none);
 * with the preallocated scratch, evaluation cannot fail. */
static regnn_status eval_share(const fit_ctx *f, const fit_part *p, float *scratch,
                               size_t scratch_rows, rg_loss_sums *es)
{
    size_t lo, n;
    rg_dp_share(&f->dp, p->n, &lo, &n);
    es->loss = es->se = es->ae = es->w = 0.0;
    if (n == 0)
        return REGNN_OK;
    return rg_model_eval_pooled(f->m, p->x + lo * f->n_in, p->y + lo * f->n_out,
                                p->w ? p->w + lo : NULL, n, es, scratch, scratch_rows);
}

/* The end-of-epoch metrics: each process sums its share of the rows, the
 * sums are summed over the processes, then divided as in one process. */
static regnn_status fit_evaluate(fit_ctx *f, size_t e, double *met)
{
    met[REGNN_METRIC_VAL_LOSS - 1] = met[REGNN_METRIC_VAL_MSE - 1] = NAN;
    met[REGNN_METRIC_VAL_MAE - 1] = met[REGNN_METRIC_TRAIN_EVAL_MSE - 1] = NAN;
    const int eval_train = f->opts->eval_train != 0;
    double ev[4] = {0.0, 0.0, 0.0, 0.0};
    rg_loss_sums es;
    if (f->has_val) {
        (void)eval_share(f, &f->va, f->eval, f->eval_rows, &es);
        ev[0] = es.se;
        ev[1] = es.ae;
        ev[2] = es.loss;
    }
    if (eval_train) {
        (void)eval_share(f, &f->tr, f->eval, f->eval_rows, &es);
        ev[3] = es.se;
    }
    if ((f->has_val || eval_train) && rg_dp_sum(&f->dp, NULL, 0, ev, 4))
        return fit_step_failed(f, RG_STEP_EXCHANGE, e);
    const double n_out = (double)f->n_out;
    if (f->has_val) {
        met[REGNN_METRIC_VAL_MSE - 1] = ev[0] / (f->va.w_sum * n_out);
        met[REGNN_METRIC_VAL_MAE - 1] = ev[1] / (f->va.w_sum * n_out);
        met[REGNN_METRIC_VAL_LOSS - 1] = ev[2] / ((double)f->va.n * n_out) + rg_model_penalty(f->m);
    }
    if (eval_train)
        met[REGNN_METRIC_TRAIN_EVAL_MSE - 1] = ev[3] / (f->tr.w_sum * n_out);
    met[REGNN_METRIC_LEARNING_RATE - 1] = rg_optimizer_lr_now(f->o);
    return REGNN_OK;
}

/* Record the epoch. Finite steps can still end on weights whose predictions
 * overflow; the metrics are the same in every process, so all stop together. */
static regnn_status fit_record(fit_ctx *f, size_t e, const double *met)
{
    static const char fn[] = "regnn_fit";
    const int bad = nonfinite_metric(met, f->has_val, f->opts->eval_train != 0);
    if (bad)
        return fit_fail(f, REGNN_E_NUMERIC,
                        "%s: end-of-epoch metric %d of epoch %zu is %g (not finite); model and "
                        "optimizer restored (try a lower learning rate)",
                        fn, bad, e + 1, met[bad - 1]);
    regnn_status st = rg_history_push(f->hist, met);
    /* Every process stops if one could not record the epoch. */
    if (rg_dp_any(&f->dp, st != REGNN_OK) && st == REGNN_OK)
        st = REGNN_E_STATE;
    if (st != REGNN_OK)
        return fit_fail(f, st,
                        st == REGNN_E_NOMEM
                            ? "%s: out of memory recording epoch %zu; model and optimizer restored"
                            : "%s: another process of the data-parallel fit failed in epoch "
                              "%zu; model and optimizer restored",
                        fn, e + 1);
    return REGNN_OK;
}

/* Early stopping (Keras: improvement means value < best - min_delta),
 * ReduceLROnPlateau and the callback, which also sees the epoch on which
 * early stopping fired; 1 when training stops. */
static int fit_decide(fit_ctx *f, size_t e, const double *met)
{
    const regnn_fit_options *opts = f->opts;
    const double cur = monitored(f->has_val ? (int)opts->monitor : REGNN_MONITOR_TRAIN_LOSS, met);
    int stop = 0;
    if (isfinite(cur) && cur < f->best_value - opts->min_delta) {
        f->best_value = cur;
        f->has_best = 1;
        f->wait = 0;
        rg_history_set_best(f->hist, e);
        if (f->best)
            rg_model_params_save(f->m, f->best);
    } else {
        f->wait++;
        if (opts->early_stopping && f->wait >= (size_t)opts->patience) {
            rg_history_set_stop(f->hist, REGNN_STOP_EARLY);
            stop = 1;
        }
    }
    double lr = rg_optimizer_lr(f->o);
    if (opts->reduce_lr && rg_plateau_update(&f->plateau, cur, &lr))
        rg_optimizer_set_lr(f->o, lr);
    const int cb = opts->callback && opts->callback(opts->callback_user, f->hist, e) != 0;
    if (rg_dp_any(&f->dp, cb) && !stop) { /* one process's callback stops them all */
        rg_history_set_stop(f->hist, REGNN_STOP_CALLBACK);
        stop = 1;
    }
    return stop;
}

static regnn_status fit_epoch(fit_ctx *f, size_t e, int *stop)
{
    const double t0 = now_seconds();
    double met[RG_N_METRICS];
    regnn_status st = fit_batches(f, e, met);
    if (st == REGNN_OK)
        st = fit_evaluate(f, e, met);
    if (st != REGNN_OK)
        return st;
    met[REGNN_METRIC_SECONDS - 1] = now_seconds() - t0;
    st = fit_record(f, e, met);
    if (st == REGNN_OK)
        *stop = fit_decide(f, e, met);
    return st;
}

/* -- finish -- */

/* No metric evaluated the final weights: check that their predictions on the
 * training rows are finite, by a bound when it proves it, else by evaluating. */
static regnn_status fit_check_final(fit_ctx *f)
{
    static const char fn[] = "regnn_fit";
    if (f->has_val || f->opts->eval_train ||
        rg_model_predictions_bounded(f->m, max_abs(f->tr.x, f->tr.n * f->n_in)))
        return REGNN_OK;
    rg_loss_sums es;
    const regnn_status st = eval_share(f, &f->tr, NULL, 0, &es);
    double se = st == REGNN_OK ? es.se : NAN;
    if (rg_dp_sum(&f->dp, NULL, 0, &se, 1))
        se = NAN;
    if (isfinite(se))
        return REGNN_OK;
    return fit_fail(f, st == REGNN_E_NOMEM ? REGNN_E_NOMEM : REGNN_E_NUMERIC,
                    st == REGNN_E_NOMEM
                        ? "%s: out of memory checking the final weights; model and "
                          "optimizer restored"
                        : "%s: the final weights' predictions on the training data are not "
                          "finite; model and optimizer restored (try a lower learning rate)",
                    fn);
}

static regnn_status fit_finish(fit_ctx *f, regnn_history **history_out)
{
    if (f->best && f->has_best)
        rg_model_params_load(f->m, f->best);
    regnn_status st = fit_check_final(f);
    if (st != REGNN_OK)
        return st;
    if (history_out) {
        *history_out = f->hist;
        f->hist = NULL;
    }
    fit_free(f);
    return REGNN_OK;
}

/* check -> prepare -> epochs -> finish. *synced: the processes of a
 * data-parallel fit have met (else regnn_fit tells them this one failed). */
static regnn_status fit(regnn_model *m, regnn_optimizer *o, const regnn_dataset *train,
                        const regnn_dataset *val, const regnn_fit_options *opts,
                        regnn_history **history_out, int *synced)
{
    static const char fn[] = "regnn_fit";
    if (!train)
        return rg_error(REGNN_E_INVALID_ARG, "%s: training data is required", fn);
    regnn_fit_options defaults;
    if (!opts) {
        rg_fit_options_defaults(&defaults);
        opts = &defaults;
    }
    fit_ctx f;
    memset(&f, 0, sizeof f);
    f.m = m;
    f.o = o;
    f.opts = opts;
    f.n_in = regnn_model_inputs(m);
    f.n_out = regnn_model_outputs(m);
    regnn_status st = fit_check(fn, &f, train, val);
    if (st == REGNN_OK)
        st = fit_prepare(fn, &f);
    if (st != REGNN_OK)
        return st;
    if (rg_dp_active(&f.dp)) { /* every process ready, with the same settings */
        const rg_fit_setup setup = {m, o, train, val, opts, NULL};
        *synced = 1;
        st = rg_dp_start(opts, REGNN_OK, &setup);
        if (st != REGNN_OK)
            return fit_fail(&f, st, "%s", regnn_errmsg());
    }
    int stop = 0;
    for (size_t e = 0; e < f.epochs && !stop && st == REGNN_OK; e++)
        st = fit_epoch(&f, e, &stop);
    return st == REGNN_OK ? fit_finish(&f, history_out) : st;
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
        rg_model_set_busy(m, 1);
        rg_optimizer_set_busy(o, 1);
        st = fit(m, o, train, val, opts, history_out, &synced);
        rg_model_set_busy(m, 0);
        rg_optimizer_set_busy(o, 0);
    }
    /* A process that failed before training tells the others, which wait for it. */
    if (!synced && opts && opts->exchange)
        (void)rg_dp_start(opts, st, NULL);
    return st;
}
