/* SPDX-License-Identifier: MIT */
/* Regularization path: train every (lambda, seed) pair of a sweep from the
 * same initialization per seed, on a caller-chosen number of threads, and
 * summarize each lambda over the seeds. Results are stored by run index, so
 * they do not depend on which thread ran what or in which order. With k-fold
 * cross-validation every (lambda, fold, seed) is a run and a lambda is
 * summarized the way glmnet's cv.glmnet does. */
#define _POSIX_C_SOURCE 200809L
#include "path_impl.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* An integer setting of checked path options (the getter cannot fail). */
static int64_t po_int(const regnn_path_options *po, int key)
{
    int64_t v = 0;
    (void)regnn_path_options_get_int(po, key, &v);
    return v;
}

/* What lambda is for each REGNN_PENALTY_*: a layer setting of the chosen
 * layers, or by default of every layer (every layer but the output layer
 * for dropout), or, key 0, the optimizer's weight decay. One more kind of
 * path is one more entry. */
typedef struct path_kind {
    int penalty, key, hidden_only; /* key: the REGNN_LAYER_* lambda is, 0 for the
                                      optimizer's weight decay, PATH_KEY_NOISE */
} path_kind;
#define PATH_KEY_NOISE (-1) /* lambda is the stddev of GaussianNoise layers */
static const path_kind path_kinds[] = {
    {REGNN_PENALTY_L2, REGNN_LAYER_L2, 0},
    {REGNN_PENALTY_L1, REGNN_LAYER_L1, 0},
    {REGNN_PENALTY_WEIGHT_DECAY, 0, 0},
    {REGNN_PENALTY_DROPOUT, REGNN_LAYER_DROPOUT, 1},
    {REGNN_PENALTY_MAX_NORM, REGNN_LAYER_MAX_NORM, 0},
    {REGNN_PENALTY_ACTIVITY_L2, REGNN_LAYER_ACTIVITY_L2, 0},
    {REGNN_PENALTY_BIAS_L2, REGNN_LAYER_BIAS_L2, 0},
    {REGNN_PENALTY_GAUSSIAN_NOISE, PATH_KEY_NOISE, 0},
};

/* The entry of the options' penalty (checked by the options' setter). */
static const path_kind *path_kind_of(const regnn_path_options *po)
{
    const int64_t penalty = po_int(po, REGNN_PATH_PENALTY);
    size_t i = 0;
    while (i + 1 < sizeof path_kinds / sizeof path_kinds[0] && path_kinds[i].penalty != penalty)
        i++;
    return &path_kinds[i];
}

/* lambda as the kind's layer setting of m: on the chosen layers, else on
 * every layer (but the output layer for a hidden-only kind). */
static regnn_status set_lambda(regnn_model *m, const path_kind *k, const regnn_path_options *po,
                               double lambda)
{
    size_t n_layers;
    const size_t *layers = rg_path_options_layers(po, &n_layers);
    regnn_status st = REGNN_OK;
    for (size_t i = 0; i < n_layers && st == REGNN_OK; i++)
        st = regnn_layer_set_double(regnn_model_layer(m, layers[i]), k->key, lambda);
    const size_t all = regnn_model_layer_count(m) - (k->hidden_only ? 1 : 0);
    for (size_t i = 0; n_layers == 0 && i < all && st == REGNN_OK; i++)
        st = regnn_layer_set_double(regnn_model_layer(m, i), k->key, lambda);
    return st;
}

/* Runs of one lambda: fold-major over (fold, seed). */
static size_t runs_per_lambda(const regnn_path *p) { return p->n_folds * p->n_seeds; }
/* Run r's value of stat; NaN when the run is in another shard. */
static double run_value(const regnn_path *p, size_t r, int stat)
{
    return rg_path_has(p, r) ? p->runv[rg_path_slot(p, r) * RG_RUN_N + stat - 1] : NAN;
}

/* ---- results ---- */

static regnn_path *path_alloc(const regnn_path_options *po, size_t n_folds)
{
    size_t n_lambdas;
    const double *lambdas = rg_path_options_lambdas(po, &n_lambdas);
    regnn_path *p = rg_path_new(n_lambdas, (size_t)po_int(po, REGNN_PATH_SEEDS), n_folds,
                                (size_t)po_int(po, REGNN_PATH_SHARD_INDEX),
                                (size_t)po_int(po, REGNN_PATH_SHARD_COUNT));
    if (!p)
        return NULL;
    p->seed = (uint64_t)po_int(po, REGNN_PATH_SEED);
    const int64_t penalty = po_int(po, REGNN_PATH_PENALTY);
    p->penalty = penalty >= REGNN_PENALTY_DROPOUT ? (int)penalty : 0;
    memcpy(p->lambdas, lambdas, p->n_lambdas * sizeof *p->lambdas);
    /* A run's history is the one its fit returns, sized by the epochs it ran. */
    return p;
}

/* ---- one run ---- */

typedef struct path_job {
    const regnn_model *tm;
    const regnn_optimizer *to;
    const regnn_dataset *train, *val;
    const regnn_path_options *po;
    regnn_fit_options *fo; /* a copy of the caller's options, with our epoch callback */
    regnn_epoch_fn user_cb;
    void *user_cb_data;
    regnn_path *p;
    size_t total; /* runs of this shard; job k is run shard_index + k * shard_count */
    atomic_int stop; /* cancelled or failed: no new runs, running fits end after their epoch */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next;        /* next run to start */
    size_t *done;       /* finished runs in completion order (total entries) */
    size_t n_done, n_seen;
    size_t active;      /* worker tasks still taking runs */
    regnn_status err;   /* first failure by run index */
    size_t err_run;
    char err_msg[512];
} path_job;

static size_t job_run(const path_job *j, size_t k)
{
    return j->p->shard_index + k * j->p->shard_count;
}

static int run_epoch(void *user, const regnn_history *h, size_t epoch)
{
    path_job *j = user;
    if (atomic_load_explicit(&j->stop, memory_order_relaxed))
        return 1;
    return j->user_cb ? j->user_cb(j->user_cb_data, h, epoch) : 0;
}

/* A fresh optimizer with the template's kind and hyperparameters (no state). */
static regnn_status optimizer_like(const regnn_optimizer *t, regnn_optimizer **out)
{
    return rg_optimizer_like(t, out);
}

static void store_values(regnn_path *p, size_t r, const regnn_history *h, double test_mse)
{
    double *rv = p->runv + rg_path_slot(p, r) * RG_RUN_N;
    if (!h) {
        for (int k = 0; k < RG_RUN_N; k++)
            rv[k] = NAN;
        rv[REGNN_RUN_DIVERGED - 1] = 1.0;
        return;
    }
    double d[REGNN_DIAG_COUNT];
    int verdict = REGNN_VERDICT_INSUFFICIENT, reason = REGNN_REASON_TOO_SHORT;
    /* With folds, a run is judged against its own fold's baseline. */
    const double base =
        p->fold_base ? p->fold_base[rg_path_run_fold(p, r)] : p->baseline;
    regnn_history_diagnose(h, base, &verdict, &reason, d, REGNN_DIAG_COUNT);
    double secs = 0.0;
    const double *sv = rg_history_metric(h, REGNN_METRIC_SECONDS);
    for (size_t e = 0; e < regnn_history_epochs(h); e++)
        secs += sv[e];
    rv[REGNN_RUN_BEST_VAL_MSE - 1] = d[REGNN_DIAG_BEST_VAL_MSE];
    rv[REGNN_RUN_BEST_EPOCH - 1] = d[REGNN_DIAG_BEST_EPOCH];
    rv[REGNN_RUN_TRAIN_MSE_AT_BEST - 1] = d[REGNN_DIAG_TRAIN_MSE_AT_BEST];
    rv[REGNN_RUN_FINAL_VAL_MSE - 1] = d[REGNN_DIAG_FINAL_VAL_MSE];
    rv[REGNN_RUN_FINAL_TRAIN_MSE - 1] = d[REGNN_DIAG_FINAL_TRAIN_MSE];
    rv[REGNN_RUN_FINAL_GAP - 1] = d[REGNN_DIAG_FINAL_GAP];
    rv[REGNN_RUN_EPOCHS - 1] = (double)regnn_history_epochs(h);
    rv[REGNN_RUN_VERDICT - 1] = (double)verdict;
    rv[REGNN_RUN_REASON - 1] = (double)reason;
    rv[REGNN_RUN_SECONDS - 1] = secs;
    rv[REGNN_RUN_DIVERGED - 1] = 0.0;
    rv[REGNN_RUN_TEST_MSE - 1] = test_mse;
}

/* The stddev of the chosen GaussianNoise layers (all of them when none is
 * chosen; check_template made sure the chosen ones are). */
static regnn_status set_noise(regnn_model *m, const regnn_path_options *po, double stddev)
{
    size_t n_layers;
    const size_t *layers = rg_path_options_layers(po, &n_layers);
    for (size_t i = 0; i < regnn_model_layer_count(m); i++) {
        int chosen = n_layers == 0;
        for (size_t k = 0; k < n_layers; k++)
            chosen |= layers[k] == i;
        if (chosen && regnn_layer_type(regnn_model_layer(m, i)) == REGNN_LAYERTYPE_GAUSSIAN_NOISE)
            rg_model_set_noise(m, i, stddev);
    }
    return REGNN_OK;
}

/* The model and fresh optimizer of one run: a copy of the template with
 * lambda set as the penalty chooses, initialized with seed. */
static regnn_status make_run(const regnn_model *tm, const regnn_optimizer *to,
                             const regnn_path_options *po, double lambda, uint64_t seed,
                             regnn_model **m_out, regnn_optimizer **o_out)
{
    regnn_model *m = NULL;
    regnn_optimizer *o = NULL;
    regnn_status st = regnn_model_copy(tm, &m);
    const path_kind *k = path_kind_of(po);
    if (st == REGNN_OK && k->key == PATH_KEY_NOISE)
        st = set_noise(m, po, lambda);
    else if (st == REGNN_OK && k->key != 0)
        st = set_lambda(m, k, po, lambda);
    /* The same seed gives the same initial weights and shuffling for every lambda. */
    if (st == REGNN_OK)
        st = regnn_model_init(m, (int)po_int(po, REGNN_PATH_INIT), seed);
    if (st == REGNN_OK)
        st = optimizer_like(to, &o);
    if (st == REGNN_OK && k->key == 0) {
        /* lambda was checked against the learning rate (check_template) */
        rg_optimizer_settings s = rg_optimizer_get_settings(o);
        s.wd = lambda;
        rg_optimizer_set_settings(o, &s);
    }
    if (st != REGNN_OK) {
        regnn_optimizer_free(o);
        regnn_model_free(m);
        return st;
    }
    *m_out = m;
    *o_out = o;
    return REGNN_OK;
}

/* Fold f's training part (every other fold's rows, ascending) and held-out
 * part (its rows, ascending), as copies. */
static regnn_status fold_data(const regnn_path *p, const regnn_dataset *train, size_t f,
                              regnn_dataset **tr, regnn_dataset **va)
{
    const size_t n = p->n_rows, n_va = p->fold_rows[f];
    size_t *idx = rg_malloc(n * sizeof *idx);
    if (!idx)
        return rg_error(REGNN_E_NOMEM, "out of memory");
    size_t a = 0, b = n - n_va;
    for (size_t i = 0; i < n; i++)
        idx[p->fold_of[i] == f ? b++ : a++] = i;
    regnn_status st = regnn_dataset_select(train, idx, n - n_va, tr);
    if (st == REGNN_OK) {
        st = regnn_dataset_select(train, idx + (n - n_va), n_va, va);
        if (st != REGNN_OK) {
            regnn_dataset_free(*tr);
            *tr = NULL;
        }
    }
    rg_free(idx);
    return st;
}

/* Train run r into its slot. REGNN_E_CANCELLED when the sweep was stopped
 * meanwhile (the run's results are then incomplete and dropped). A diverged
 * fit (REGNN_E_NUMERIC) is a result, not a failure. */
static regnn_status run_one(path_job *j, size_t r)
{
    regnn_path *p = j->p;
    const regnn_path_options *po = j->po;
    const size_t li = rg_path_run_lambda(p, r), fi = rg_path_run_fold(p, r),
                 si = rg_path_run_seed(p, r);
    const double lambda = p->lambdas[li];
    const uint64_t seed = p->seed + si;
    regnn_model *m = NULL;
    regnn_optimizer *o = NULL;
    regnn_history *h = NULL;
    regnn_dataset *ftr = NULL, *fva = NULL;
    regnn_status st = REGNN_OK;
    if (p->n_folds > 1)
        st = fold_data(p, j->train, fi, &ftr, &fva);
    if (st == REGNN_OK)
        st = make_run(j->tm, j->to, po, lambda, seed, &m, &o);
    if (st == REGNN_OK)
        st = ftr ? regnn_fit(m, o, ftr, fva, j->fo, &h)
                 : regnn_fit(m, o, j->train, j->val, j->fo, &h);
    if (atomic_load(&j->stop)) {
        st = REGNN_E_CANCELLED;
    } else if (st == REGNN_OK && h) {
        double test_mse = NAN;
        if (rg_path_options_test(po))
            st = regnn_model_evaluate(m, rg_path_options_test(po), &test_mse, NULL, NULL);
        if (st == REGNN_OK) {
            p->hist[rg_path_slot(p, r)] = h;
            h = NULL;
            store_values(p, r, p->hist[rg_path_slot(p, r)], test_mse);
        } else {
            rg_error(st, "lambda %g, seed %llu: %s", lambda, (unsigned long long)seed, regnn_errmsg());
        }
    } else if (st == REGNN_E_NUMERIC) {
        store_values(p, r, NULL, NAN);
        st = REGNN_OK;
    } else if (p->n_folds > 1) {
        rg_error(st, "lambda %g, fold %zu, seed %llu: %s", lambda, fi, (unsigned long long)seed,
                 regnn_errmsg());
    } else {
        rg_error(st, "lambda %g, seed %llu: %s", lambda, (unsigned long long)seed, regnn_errmsg());
    }
    regnn_history_free(h);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ftr);
    regnn_dataset_free(fva);
    return st;
}

static void keep_message(path_job *j)
{
    const char *msg = regnn_errmsg();
    size_t n = strlen(msg);
    if (n >= sizeof j->err_msg)
        n = sizeof j->err_msg - 1;
    memcpy(j->err_msg, msg, n);
    j->err_msg[n] = 0;
}

/* A pool task: train runs in index order until none is left or the sweep
 * stops, queueing each finished run for the caller's progress reports. */
static void run_worker(void *arg, size_t task)
{
    (void)task; /* every task takes runs from the same queue */
    path_job *j = arg;
#ifdef REGNN_TESTING
    int persistent = 0;
    const long fail_at = rg_path_options_worker_fail(j->po, &persistent);
    if (fail_at)
        regnn__test_alloc_fail_at(fail_at, persistent);
#endif
    pthread_mutex_lock(&j->mu);
    for (;;) {
        if (atomic_load(&j->stop) || j->next >= j->total)
            break;
        size_t r = job_run(j, j->next++);
        pthread_mutex_unlock(&j->mu);
        regnn_status st = run_one(j, r);
        pthread_mutex_lock(&j->mu);
        if (st == REGNN_OK) {
            j->done[j->n_done++] = r;
        } else if (st != REGNN_E_CANCELLED) {
            if (j->err == REGNN_OK || r < j->err_run) {
                j->err = st;
                j->err_run = r;
                /* The message is this thread's; the caller's thread reports it. */
                keep_message(j);
            }
            atomic_store(&j->stop, 1);
        }
        pthread_cond_signal(&j->cv);
    }
    j->active--;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static int report(path_job *j, size_t r, size_t done)
{
    const regnn_path_options *po = j->po;
    void *user = NULL;
    const regnn_path_progress_fn progress = rg_path_options_progress(po, &user);
    if (!progress)
        return 0;
    const regnn_path *p = j->p;
    const regnn_history *h = run_value(p, r, REGNN_RUN_DIVERGED) != 0.0 ? NULL : p->hist[rg_path_slot(p, r)];
    return progress(user, done, j->total, p->lambdas[rg_path_run_lambda(p, r)],
                        p->seed + rg_path_run_seed(p, r), h);
}

/* Returns 1 if the progress callback cancelled. */
static int run_serial(path_job *j)
{
    for (size_t k = 0; k < j->total; k++) {
        const size_t r = job_run(j, k);
        regnn_status st = run_one(j, r);
        if (st != REGNN_OK) {
            j->err = st;
            j->err_run = r;
            keep_message(j);
            return 0;
        }
        if (report(j, r, k + 1) != 0)
            return 1;
    }
    return 0;
}

/* The caller's part while the workers train: report each finished run in
 * completion order, so callbacks never run concurrently, until every worker
 * has ended. Returns 1 if the callback cancelled. */
static int report_finished(path_job *j)
{
    int cancelled = 0;
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (j->n_seen == j->n_done && j->active > 0)
            pthread_cond_wait(&j->cv, &j->mu);
        if (j->n_seen == j->n_done)
            break; /* every worker has ended */
        size_t r = j->done[j->n_seen++];
        if (atomic_load(&j->stop))
            continue;
        size_t done = j->n_seen;
        pthread_mutex_unlock(&j->mu);
        int c = report(j, r, done);
        pthread_mutex_lock(&j->mu);
        if (c != 0) {
            cancelled = 1;
            atomic_store(&j->stop, 1);
        }
    }
    pthread_mutex_unlock(&j->mu);
    return cancelled;
}

/* The queue the workers fill and the reporting caller reads. 0 when it
 * cannot be set up (REGNN_E_NOMEM in j->err, with the reason). */
static int queue_init(path_job *j)
{
    const char *why = NULL;
    j->done = rg_calloc(j->total, sizeof *j->done);
    if (!j->done) {
        why = "out of memory";
    } else if (pthread_mutex_init(&j->mu, NULL) != 0) {
        why = "cannot create a mutex";
    } else if (pthread_cond_init(&j->cv, NULL) != 0) {
        pthread_mutex_destroy(&j->mu);
        why = "cannot create a condition variable";
    }
    if (!why)
        return 1;
    rg_free(j->done);
    j->done = NULL;
    j->err = REGNN_E_NOMEM;
    snprintf(j->err_msg, sizeof j->err_msg, "%s", why);
    return 0;
}

static void queue_free(path_job *j)
{
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    rg_free(j->done);
    j->done = NULL;
}

/* The runs on nt workers of a pool for coarse tasks (each task trains whole
 * fits, which bring their own step threads) while this thread reports.
 * Returns 1 if the callback cancelled, -1 if the workers could not be
 * started (the caller then trains on its own thread). */
static int run_parallel(path_job *j, size_t nt)
{
    rg_pool *pool = NULL;
    if (rg_pool_create_all(nt + 1, &pool) != REGNN_OK)
        return -1;
    int cancelled = 0;
    if (queue_init(j)) {
        j->active = nt;
        rg_pool_start(pool, run_worker, j, nt);
        cancelled = report_finished(j);
        rg_pool_wait(pool);
        queue_free(j);
    }
    rg_pool_free(pool);
    return cancelled;
}

/* MSE of predicting the training targets' mean, on the validation rows. */
static double baseline_mse(const float *ty, size_t n_train, const float *vy, size_t n_val, size_t k)
{
    double total = 0.0;
    for (size_t c = 0; c < k; c++) {
        double mu = 0.0;
        for (size_t i = 0; i < n_train; i++)
            mu += ty[i * k + c];
        mu /= (double)n_train;
        for (size_t i = 0; i < n_val; i++) {
            double d = vy[i * k + c] - mu;
            total += d * d;
        }
    }
    return total / ((double)n_val * (double)k);
}

/* Folds of the n training rows: p = a permutation of 0..n-1 by libregnn's
 * RNG seeded with seed; row p[i] is in fold floor(i * k / n). Then each
 * fold's baseline: the MSE of the other folds' target means on its rows, and
 * the pooled one over all rows (= the fold-size-weighted mean). */
static regnn_status make_folds(regnn_path *p, const regnn_dataset *train, uint64_t seed)
{
    const rg_rows tr = rg_dataset_view(train);
    const size_t n = tr.rows, k = p->n_folds, ny = tr.n_y;
    size_t *perm = rg_malloc(n * sizeof *perm);
    double *sum = rg_calloc(k * ny, sizeof *sum), *tot = rg_calloc(ny, sizeof *tot);
    p->n_rows = n;
    p->fold_of = rg_malloc(n * sizeof *p->fold_of);
    p->fold_rows = rg_calloc(k, sizeof *p->fold_rows);
    p->fold_base = rg_calloc(k, sizeof *p->fold_base);
    if (!perm || !sum || !tot || !p->fold_of || !p->fold_rows || !p->fold_base) {
        rg_free(perm);
        rg_free(sum);
        rg_free(tot);
        return REGNN_E_NOMEM;
    }
    rg_rng r;
    rg_rng_seed(&r, seed);
    rg_rng_permutation(&r, perm, n);
    /* k <= n and n rows of floats fit in memory, so i * k cannot overflow in
     * 64 bits; the division keeps fold sizes within one of each other. */
    for (size_t i = 0; i < n; i++) {
        size_t f = (size_t)((uint64_t)i * (uint64_t)k / (uint64_t)n);
        p->fold_of[perm[i]] = f;
        p->fold_rows[f]++;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < ny; c++) {
            sum[p->fold_of[i] * ny + c] += tr.y[i * ny + c];
            tot[c] += tr.y[i * ny + c];
        }
    double all = 0.0;
    for (size_t f = 0; f < k; f++) {
        double sse = 0.0;
        for (size_t i = 0; i < n; i++) {
            if (p->fold_of[i] != f)
                continue;
            for (size_t c = 0; c < ny; c++) {
                double mu = (tot[c] - sum[f * ny + c]) / (double)(n - p->fold_rows[f]);
                double d = tr.y[i * ny + c] - mu;
                sse += d * d;
            }
        }
        p->fold_base[f] = sse / ((double)p->fold_rows[f] * (double)ny);
        all += sse;
    }
    p->baseline = all / ((double)n * (double)ny);
    rg_free(perm);
    rg_free(sum);
    rg_free(tot);
    return REGNN_OK;
}

/* ---- the sweep: check, plan, run ---- */

/* A copy of the given fit options (NULL: the defaults) for a path's runs,
 * with the training MSE at end-of-epoch weights when the path options ask
 * for it (so the gap compares like with like). */
static regnn_status fit_options_of(const char *fn, const regnn_fit_options *given,
                                   const regnn_path_options *po, regnn_fit_options **fo)
{
    regnn_status st = given ? regnn_fit_options_copy(given, fo) : regnn_fit_options_create(fo);
    if (st == REGNN_OK && po_int(po, REGNN_PATH_EVAL_TRAIN))
        st = regnn_fit_options_set_int(*fo, REGNN_FIT_EVAL_TRAIN, 1);
    if (st != REGNN_OK) {
        regnn_fit_options_free(*fo);
        *fo = NULL;
        return rg_error(st, "%s: %s", fn, regnn_errmsg());
    }
    return REGNN_OK;
}

/* A sweep of the noise stddev: the chosen layers (or the template) hold a
 * GaussianNoise layer, and every lambda is a stddev the layer takes. */
static regnn_status check_noise_template(const char *fn, const regnn_model *tm,
                                         const size_t *layers, size_t n_layers,
                                         const double *lambdas, size_t n, int indexed)
{
    size_t found = 0;
    for (size_t i = 0; i < regnn_model_layer_count(tm); i++)
        found += regnn_layer_type(rg_model_layer_at(tm, i)) == REGNN_LAYERTYPE_GAUSSIAN_NOISE;
    for (size_t k = 0; k < n_layers; k++)
        if (regnn_layer_type(rg_model_layer_at(tm, layers[k])) != REGNN_LAYERTYPE_GAUSSIAN_NOISE)
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: REGNN_PENALTY_GAUSSIAN_NOISE: layer %zu is not a GaussianNoise "
                            "layer",
                            fn, layers[k]);
    if (found == 0)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: REGNN_PENALTY_GAUSSIAN_NOISE needs a GaussianNoise layer in the "
                        "template model",
                        fn);
    for (size_t i = 0; i < n; i++) {
        const char *bad = rg_layer_value_range(REGNN_LAYERTYPE_GAUSSIAN_NOISE, lambdas[i]);
        if (!bad)
            continue;
        if (indexed)
            return rg_error(REGNN_E_INVALID_ARG, "%s: lambda[%zu] = %g: %s", fn, i, lambdas[i],
                            bad);
        return rg_error(REGNN_E_INVALID_ARG, "%s: lambda %g: %s", fn, lambdas[i], bad);
    }
    return REGNN_OK;
}

/* Each of lambdas[0..n) as the kind's layer setting of a copy of the
 * template: the setter's checks (the range, dropout below 1, one kernel
 * constraint per layer) and its words. */
static regnn_status check_lambdas(const char *fn, const regnn_model *tm, const path_kind *k,
                                  const regnn_path_options *po, const double *lambdas, size_t n,
                                  int indexed)
{
    size_t n_layers;
    (void)rg_path_options_layers(po, &n_layers);
    if (k->hidden_only && n_layers == 0 && regnn_model_layer_count(tm) < 2)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: a dropout path acts on the hidden layers and the model has none "
                        "(choose layers with regnn_path_options_set_layers)", fn);
    regnn_model *m = NULL;
    regnn_status st = regnn_model_copy(tm, &m);
    if (st != REGNN_OK)
        return rg_error(st, "%s: %s", fn, regnn_errmsg());
    for (size_t i = 0; i < n && st == REGNN_OK; i++) {
        st = set_lambda(m, k, po, lambdas[i]);
        if (st == REGNN_OK)
            continue;
        char name[64];
        if (indexed)
            snprintf(name, sizeof name, "lambda[%zu] = %g", i, lambdas[i]);
        else
            snprintf(name, sizeof name, "lambda %g", lambdas[i]);
        st = rg_error(st, "%s: %s: %s", fn, name, regnn_errmsg());
    }
    regnn_model_free(m);
    return st;
}

/* What a path and its refit both check: the template has layers, the chosen
 * layers exist and suit the penalty, each of lambdas[0..n) is a weight decay
 * the optimizer can take, and the optimizer's kind is known. A path names its
 * lambdas by index (indexed), a refit by value. */
static regnn_status check_template(const char *fn, const regnn_model *tm,
                                   const regnn_optimizer *to, const regnn_path_options *po,
                                   const double *lambdas, size_t n, int indexed)
{
    if (regnn_model_layer_count(tm) == 0)
        return rg_error(REGNN_E_STATE, "%s: the template model has no layers", fn);
    size_t n_layers;
    const size_t *layers = rg_path_options_layers(po, &n_layers);
    const path_kind *k = path_kind_of(po);
    if (k->key == 0 && n_layers > 0)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: decoupled weight decay acts on every parameter; choosing layers "
                        "needs a penalty that is a layer setting", fn);
    if (k->key == 0) {
        const double lr = to ? rg_optimizer_peak_lr(to) : 1e-3;
        for (size_t i = 0; i < n; i++) {
            if (!(lr * lambdas[i] > 1.0))
                continue;
            char name[64];
            if (indexed)
                snprintf(name, sizeof name, "lambda[%zu] = %g", i, lambdas[i]);
            else
                snprintf(name, sizeof name, "lambda %g", lambdas[i]);
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: %s is a weight decay larger than 1/learning rate = %g (the decay "
                            "step multiplies weights by 1 - lr*wd)", fn, name, 1.0 / lr);
        }
    }
    for (size_t i = 0; i < n_layers; i++)
        if (layers[i] >= regnn_model_layer_count(tm))
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: layer index %zu out of range (the model has %zu layers)", fn,
                            layers[i], regnn_model_layer_count(tm));
    regnn_status st = k->key == PATH_KEY_NOISE
                          ? check_noise_template(fn, tm, layers, n_layers, lambdas, n, indexed)
                      : k->key ? check_lambdas(fn, tm, k, po, lambdas, n, indexed)
                               : REGNN_OK;
    if (st != REGNN_OK)
        return st;
    const int kind = to ? regnn_optimizer_kind(to) : REGNN_OPTIM_ADAM;
    if (!rg_optim_kind_of(kind))
        return rg_error(REGNN_E_UNSUPPORTED, "%s: unknown optimizer kind %d", fn, kind);
    return REGNN_OK;
}

/* The columns of ds (NULL: none), named what, against the template's. */
static regnn_status check_columns(const char *fn, const char *what, const regnn_dataset *ds,
                                  const regnn_model *tm)
{
    const size_t n_out = regnn_model_outputs(tm);
    const size_t n_in = regnn_model_inputs(tm);
    const size_t n_x = regnn_dataset_features(ds), n_y = regnn_dataset_targets(ds);
    if (ds && (n_x != n_in || n_y != n_out))
        return rg_error(REGNN_E_SHAPE,
                        "%s: %s data has %zu features and %zu targets, the model takes %zu "
                        "inputs and gives %zu outputs",
                        fn, what, n_x, n_y, n_in, n_out);
    return REGNN_OK;
}

/* Folds of a path: REGNN_PATH_FOLDS, or 1 without cross-validation. */
static size_t path_folds(const regnn_path_options *po)
{
    return po_int(po, REGNN_PATH_FOLDS) >= 2 ? (size_t)po_int(po, REGNN_PATH_FOLDS) : 1;
}

/* The path's arguments, before anything is allocated. */
static regnn_status check_path(const char *fn, const regnn_model *tm, const regnn_optimizer *to,
                               const regnn_dataset *train, const regnn_dataset *val,
                               const regnn_fit_options *fit_opts, const regnn_path_options *po)
{
    if (!tm || !train || !po)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: the template model, training data and path options are required", fn);
    size_t n_lambdas;
    const double *lambdas = rg_path_options_lambdas(po, &n_lambdas);
    if (n_lambdas == 0)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: the list of lambda values is empty (regnn_path_options_set_lambdas)", fn);
    regnn_status st = check_template(fn, tm, to, po, lambdas, n_lambdas, 1);
    if (st == REGNN_OK)
        st = check_columns(fn, "training", train, tm);
    if (st == REGNN_OK)
        st = check_columns(fn, "test", rg_path_options_test(po), tm);
    if (st == REGNN_OK)
        st = check_columns(fn, "validation", val, tm);
    if (st != REGNN_OK)
        return st;
    const int64_t shard_index = po_int(po, REGNN_PATH_SHARD_INDEX),
                  shard_count = po_int(po, REGNN_PATH_SHARD_COUNT);
    if (shard_index >= shard_count)
        return rg_error(REGNN_E_INVALID_ARG, "%s: REGNN_PATH_SHARD_INDEX %lld is not below "
                        "REGNN_PATH_SHARD_COUNT %lld", fn, (long long)shard_index,
                        (long long)shard_count);
    int64_t fit_shards = 1;
    if (fit_opts)
        (void)regnn_fit_options_get_int(fit_opts, REGNN_FIT_SHARD_COUNT, &fit_shards);
    if (fit_opts && (rg_fit_options_has_exchange(fit_opts) || fit_shards > 1))
        return rg_error(REGNN_E_INVALID_ARG, "%s: the fit options have an exchange or "
                        "REGNN_FIT_SHARD_COUNT > 1 (one data-parallel fit); a path shards its "
                        "runs with REGNN_PATH_SHARD_INDEX/COUNT", fn);
    const size_t n_folds = path_folds(po);
    const int64_t seeds = po_int(po, REGNN_PATH_SEEDS);
    if ((size_t)seeds > RG_PATH_MAX_COUNT / n_lambdas / n_folds) {
        char folds[48] = "";
        if (n_folds > 1)
            snprintf(folds, sizeof folds, "%zu folds x ", n_folds);
        return rg_error(REGNN_E_INVALID_ARG, "%s: %zu lambdas x %s%lld seeds is more than %zu runs",
                        fn, n_lambdas, folds, (long long)seeds, RG_PATH_MAX_COUNT);
    }
    return REGNN_OK;
}

/* The rows a path validates on: with folds each fold in turn (none here);
 * else val, or the fit's tail split of train as regnn_fit takes it. Sets
 * the training rows' count and the validation targets for the baseline. */
static regnn_status plan_validation(const char *fn, const regnn_path_options *po,
                                    const regnn_dataset *train, const regnn_dataset *val,
                                    double split, size_t *n_train, const float **vy, size_t *n_val)
{
    const size_t n_folds = path_folds(po);
    const rg_rows tr = rg_dataset_view(train);
    *n_train = tr.rows;
    *vy = NULL;
    *n_val = 0;
    if (n_folds > 1) {
        if (val || split > 0.0)
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: REGNN_PATH_FOLDS %zu validates on the held-out folds; give no "
                            "validation data and no REGNN_FIT_VALIDATION_SPLIT with it", fn, n_folds);
        if (n_folds > tr.rows)
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: REGNN_PATH_FOLDS %zu is more than the %zu training rows", fn,
                            n_folds, tr.rows);
    } else if (val) {
        if (split > 0.0)
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: give either validation data or REGNN_FIT_VALIDATION_SPLIT, not both", fn);
        if (rg_dataset_view(val).rows == 0)
            return rg_error(REGNN_E_INVALID_ARG, "%s: the validation data has no rows", fn);
        *vy = rg_dataset_view(val).y;
        *n_val = rg_dataset_view(val).rows;
    } else {
        if (!(split > 0.0))
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: the path compares validation errors: give validation data or set "
                            "REGNN_FIT_VALIDATION_SPLIT", fn);
        size_t split_at = rg_tail_split_at(tr.rows, split);
        if (split_at == 0 || split_at >= tr.rows)
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: validation split %g of %zu rows leaves an empty training or "
                            "validation part", fn, split, tr.rows);
        *n_train = split_at;
        *n_val = tr.rows - split_at;
        *vy = tr.y + split_at * tr.n_y;
    }
    if (*n_train == 0)
        return rg_error(REGNN_E_INVALID_ARG, "%s: the training data has no rows", fn);
    return REGNN_OK;
}

/* The results to fill, with the folds or the baseline known before
 * training; NULL when out of memory. */
static regnn_path *plan_results(const regnn_path_options *po, const regnn_dataset *train,
                                size_t n_train, const float *vy, size_t n_val)
{
    const size_t n_folds = path_folds(po);
    regnn_path *p = path_alloc(po, n_folds);
    const uint64_t fold_seed = (uint64_t)po_int(po, REGNN_PATH_FOLD_SEED);
    if (p && n_folds > 1 && make_folds(p, train, fold_seed) != REGNN_OK) {
        regnn_path_free(p);
        return NULL;
    }
    if (p && n_folds == 1)
        p->baseline = baseline_mse(rg_dataset_view(train).y, n_train, vy, n_val,
                                   regnn_dataset_targets(train));
    return p;
}

/* Everything the runs need: the fit options with the path's epoch callback,
 * the validation rows, the results and the runs of this shard. */
static regnn_status plan_job(const char *fn, path_job *j, const regnn_fit_options *fit_opts)
{
    regnn_status st = fit_options_of(fn, fit_opts, j->po, &j->fo);
    if (st != REGNN_OK)
        return st;
    j->user_cb = rg_fit_options_callback(j->fo, &j->user_cb_data);
    (void)regnn_fit_options_set_callback(j->fo, run_epoch, j);
    double split = 0.0;
    (void)regnn_fit_options_get_double(j->fo, REGNN_FIT_VALIDATION_SPLIT, &split);
    const float *vy;
    size_t n_train, n_val;
    st = plan_validation(fn, j->po, j->train, j->val, split, &n_train, &vy, &n_val);
    if (st != REGNN_OK)
        return st;
    j->p = plan_results(j->po, j->train, n_train, vy, n_val);
    if (!j->p)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
    j->total = rg_path_held_runs(j->p);
    atomic_init(&j->stop, 0);
    return REGNN_OK;
}

/* Runs at a time: REGNN_PATH_THREADS, or with 0 the usable CPUs shared
 * among runs whose fits bring their own threads (regnn_model_set_threads), so
 * the two levels never oversubscribe by default; at most the runs. */
static size_t path_threads(const path_job *j)
{
    size_t nt = (size_t)po_int(j->po, REGNN_PATH_THREADS);
    if (nt == 0) {
        int64_t batch = 0;
        (void)regnn_fit_options_get_int(j->fo, REGNN_FIT_BATCH_SIZE, &batch);
        nt = rg_usable_cpus() / rg_model_resolved_threads(j->tm, (size_t)batch);
        if (nt == 0)
            nt = 1;
        if (nt > RG_PATH_MAX_THREADS)
            nt = RG_PATH_MAX_THREADS;
    }
    return nt < j->total ? nt : j->total;
}

/* Train every run of the job: on workers when more than one thread is
 * asked for and they start, else on this thread. */
static regnn_status run_job(const char *fn, path_job *j)
{
    const size_t nt = path_threads(j);
    int cancelled = nt > 1 ? run_parallel(j, nt) : -1;
    if (cancelled < 0) /* one thread asked for, or none could be started */
        cancelled = run_serial(j);
    if (cancelled)
        return rg_error(REGNN_E_CANCELLED, "%s: cancelled by the progress callback", fn);
    if (j->err != REGNN_OK)
        return rg_error(j->err, "%s: %s", fn, j->err_msg);
    return REGNN_OK;
}

regnn_status regnn_regularization_path(const regnn_model *template_model,
                                       const regnn_optimizer *template_optimizer,
                                       const regnn_dataset *train, const regnn_dataset *val,
                                       const regnn_fit_options *fit_opts,
                                       const regnn_path_options *popts, regnn_path **out)
{
    static const char fn[] = "regnn_regularization_path";
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    regnn_status st =
        check_path(fn, template_model, template_optimizer, train, val, fit_opts, popts);
    if (st != REGNN_OK)
        return st;
    path_job j;
    memset(&j, 0, sizeof j);
    j.tm = template_model;
    j.to = template_optimizer;
    j.train = train;
    j.val = val;
    j.po = popts;
    st = plan_job(fn, &j, fit_opts);
    if (st == REGNN_OK)
        st = run_job(fn, &j);
    regnn_fit_options_free(j.fo);
    if (st != REGNN_OK) {
        regnn_path_free(j.p);
        return st;
    }
    *out = j.p;
    return REGNN_OK;
}

/* ---- getters ---- */

size_t regnn_path_lambda_count(const regnn_path *p) { return p ? p->n_lambdas : 0; }
size_t regnn_path_seed_count(const regnn_path *p) { return p ? p->n_seeds : 0; }
size_t regnn_path_fold_count(const regnn_path *p) { return p ? p->n_folds : 0; }
double regnn_path_baseline_mse(const regnn_path *p) { return p ? p->baseline : NAN; }

regnn_status regnn_path_lambdas(const regnn_path *p, double *buf, size_t len)
{
    if (!p || !buf)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_path_lambdas: path and buf are required");
    if (len < p->n_lambdas)
        return rg_error(REGNN_E_SHAPE, "regnn_path_lambdas: buffer holds %zu values, the path has %zu",
                        len, p->n_lambdas);
    memcpy(buf, p->lambdas, p->n_lambdas * sizeof *buf);
    return REGNN_OK;
}

static int run_stat_known(int stat) { return stat >= 1 && stat <= RG_RUN_N; }

regnn_status regnn_path_get_runs(const regnn_path *p, int stat, double *buf, size_t len)
{
    if (!p || !buf)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_path_get_runs: path and buf are required");
    if (!run_stat_known(stat))
        return rg_error(REGNN_E_UNSUPPORTED, "regnn_path_get_runs: unknown statistic %d", stat);
    const size_t runs = rg_path_runs(p);
    if (len < runs)
        return rg_error(REGNN_E_SHAPE, "regnn_path_get_runs: buffer holds %zu values, the path has %zu runs",
                        len, runs);
    for (size_t r = 0; r < runs; r++)
        buf[r] = run_value(p, r, stat);
    return REGNN_OK;
}

/* cv.glmnet's summary of lambda li: e_f = the mean over the seeds of fold f,
 * cvm = sum n_f e_f / n, cvsd = sqrt(sum n_f (e_f - cvm)^2 / n / (k - 1)).
 * MIN and MAX are over every run; NaN if any run's value is NaN. */
static double aggregate_folds(const regnn_path *p, size_t li, int stat, int agg)
{
    const size_t ns = p->n_seeds, k = p->n_folds, r0 = li * k * ns;
    double lo = INFINITY, hi = -INFINITY, cvm = 0.0;
    for (size_t r = 0; r < k * ns; r++) {
        double x = run_value(p, r0 + r, stat);
        if (isnan(x))
            return NAN;
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    if (agg == REGNN_AGG_MIN)
        return lo;
    if (agg == REGNN_AGG_MAX)
        return hi;
    /* The fold means, summed in fold order, each over its seeds in seed order. */
    double e[2];
    for (int pass = 0; pass < 2; pass++) {
        double acc = 0.0;
        for (size_t f = 0; f < k; f++) {
            double s = 0.0;
            for (size_t si = 0; si < ns; si++)
                s += run_value(p, r0 + f * ns + si, stat);
            double ef = s / (double)ns, w = (double)p->fold_rows[f];
            acc += pass == 0 ? w * ef : w * (ef - cvm) * (ef - cvm);
        }
        e[pass] = acc / (double)p->n_rows;
        if (pass == 0)
            cvm = e[0];
    }
    if (agg == REGNN_AGG_MEAN)
        return cvm;
    const double se = sqrt(e[1] / (double)(k - 1));
    return agg == REGNN_AGG_SE ? se : se * sqrt((double)k);
}

/* One aggregate over the seeds of lambda li; NaN if any run's value is NaN. */
static double aggregate(const regnn_path *p, size_t li, int stat, int agg)
{
    if (p->n_folds > 1)
        return aggregate_folds(p, li, stat, agg);
    const size_t ns = p->n_seeds, r0 = li * ns;
    double sum = 0.0, lo = INFINITY, hi = -INFINITY;
    for (size_t s = 0; s < ns; s++) {
        double x = run_value(p, r0 + s, stat);
        if (isnan(x))
            return NAN;
        sum += x;
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    const double mean = sum / (double)ns;
    switch (agg) {
    case REGNN_AGG_MEAN: return mean;
    case REGNN_AGG_MIN: return lo;
    case REGNN_AGG_MAX: return hi;
    default: break;
    }
    if (ns < 2)
        return NAN;
    double ss = 0.0;
    for (size_t s = 0; s < ns; s++) {
        double d = run_value(p, r0 + s, stat) - mean;
        ss += d * d;
    }
    double sd = sqrt(ss / (double)(ns - 1));
    return agg == REGNN_AGG_SD ? sd : sd / sqrt((double)ns);
}

regnn_status regnn_path_get(const regnn_path *p, int stat, int agg, double *buf, size_t len)
{
    if (!p || !buf)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_path_get: path and buf are required");
    if (!run_stat_known(stat) || stat == REGNN_RUN_VERDICT || stat == REGNN_RUN_REASON)
        return rg_error(REGNN_E_UNSUPPORTED,
                        "regnn_path_get: statistic %d has no summary over seeds (per run: "
                        "regnn_path_get_runs)", stat);
    if (agg < REGNN_AGG_MEAN || agg > REGNN_AGG_MAX)
        return rg_error(REGNN_E_UNSUPPORTED, "regnn_path_get: unknown aggregate %d", agg);
    if (len < p->n_lambdas)
        return rg_error(REGNN_E_SHAPE, "regnn_path_get: buffer holds %zu values, the path has %zu lambdas",
                        len, p->n_lambdas);
    for (size_t li = 0; li < p->n_lambdas; li++)
        buf[li] = aggregate(p, li, stat, agg);
    return REGNN_OK;
}

regnn_status regnn_path_best_index(const regnn_path *p, int stat, int rule, size_t *index)
{
    static const char fn[] = "regnn_path_best_index";
    if (!p || !index)
        return rg_error(REGNN_E_INVALID_ARG, "%s: path and index are required", fn);
    if (stat != REGNN_RUN_BEST_VAL_MSE && stat != REGNN_RUN_FINAL_VAL_MSE)
        return rg_error(REGNN_E_UNSUPPORTED,
                        "%s: statistic %d; select on REGNN_RUN_BEST_VAL_MSE or REGNN_RUN_FINAL_VAL_MSE",
                        fn, stat);
    if (rule != REGNN_SELECT_MIN && rule != REGNN_SELECT_1SE)
        return rg_error(REGNN_E_UNSUPPORTED, "%s: unknown rule %d", fn, rule);
    size_t best = p->n_lambdas;
    double best_mean = INFINITY;
    for (size_t li = 0; li < p->n_lambdas; li++) {
        double m = aggregate(p, li, stat, REGNN_AGG_MEAN);
        if (!isnan(m) && (best == p->n_lambdas || m < best_mean)) {
            best = li;
            best_mean = m;
        }
    }
    if (best == p->n_lambdas)
        return rg_error(REGNN_E_NUMERIC, "%s: every lambda has a diverged run", fn);
    if (rule == REGNN_SELECT_1SE) {
        /* glmnet's lambda.1se: the largest lambda whose mean is within one
         * standard error of the minimum's. */
        double se = aggregate(p, best, stat, REGNN_AGG_SE);
        double limit = best_mean + (isnan(se) ? 0.0 : se);
        size_t pick = best;
        for (size_t li = 0; li < p->n_lambdas; li++) {
            double m = aggregate(p, li, stat, REGNN_AGG_MEAN);
            if (!isnan(m) && m <= limit && p->lambdas[li] > p->lambdas[pick])
                pick = li;
        }
        best = pick;
    }
    *index = best;
    return REGNN_OK;
}

const regnn_history *regnn_path_history(const regnn_path *p, size_t lambda_index, size_t seed_index)
{
    /* With folds, seed_index runs over the lambda's fold x seed runs. */
    if (!p || lambda_index >= p->n_lambdas || seed_index >= runs_per_lambda(p))
        return NULL;
    size_t r = lambda_index * runs_per_lambda(p) + seed_index;
    if (!rg_path_has(p, r) || run_value(p, r, REGNN_RUN_DIVERGED) != 0.0)
        return NULL;
    return p->hist[rg_path_slot(p, r)];
}

regnn_status regnn_path_folds(const regnn_path *p, size_t *buf, size_t len)
{
    if (!p || !buf)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_path_folds: path and buf are required");
    if (p->n_folds < 2)
        return rg_error(REGNN_E_STATE, "regnn_path_folds: the path was not cross-validated "
                        "(REGNN_PATH_FOLDS < 2)");
    if (len < p->n_rows)
        return rg_error(REGNN_E_SHAPE, "regnn_path_folds: buffer holds %zu values, there are %zu "
                        "training rows", len, p->n_rows);
    memcpy(buf, p->fold_of, p->n_rows * sizeof *buf);
    return REGNN_OK;
}

regnn_status regnn_path_refit(const regnn_model *template_model,
                              const regnn_optimizer *template_optimizer,
                              const regnn_dataset *train, const regnn_fit_options *fit_opts,
                              const regnn_path_options *popts, double lambda, regnn_model **model,
                              regnn_history **history)
{
    static const char fn[] = "regnn_path_refit";
    if (model)
        *model = NULL;
    if (history)
        *history = NULL;
    const regnn_model *tm = template_model;
    const regnn_path_options *po = popts;
    if (!tm || !train || !po || !model)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: the template model, training data, path options and model are "
                        "required", fn);
    if (!rg_path_lambda_ok(lambda))
        return rg_error(REGNN_E_INVALID_ARG, "%s: lambda is %g; it must be finite and >= 0", fn,
                        lambda);
    regnn_fit_options *fo = NULL;
    regnn_status st = check_template(fn, tm, template_optimizer, po, &lambda, 1, 0);
    if (st == REGNN_OK)
        st = fit_options_of(fn, fit_opts, po, &fo);
    if (st != REGNN_OK)
        return st;
    /* All of train, as in cv.glmnet's final fit; the fit's callback stays. */
    (void)regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.0);
    regnn_model *m = NULL;
    regnn_optimizer *o = NULL;
    regnn_history *h = NULL;
    const uint64_t seed = (uint64_t)po_int(po, REGNN_PATH_SEED);
    st = make_run(tm, template_optimizer, po, lambda, seed, &m, &o);
    if (st == REGNN_OK)
        st = regnn_fit(m, o, train, NULL, fo, &h);
    regnn_optimizer_free(o);
    regnn_fit_options_free(fo);
    if (st != REGNN_OK) {
        regnn_model_free(m);
        return rg_error(st, "%s: lambda %g: %s", fn, lambda, regnn_errmsg());
    }
    *model = m;
    if (history)
        *history = h;
    else
        regnn_history_free(h);
    return REGNN_OK;
}

regnn_status regnn_path_settings_fingerprint(const regnn_model *template_model,
                                             const regnn_optimizer *template_optimizer,
                                             const regnn_dataset *train, const regnn_dataset *val,
                                             const regnn_fit_options *fit_opts,
                                             const regnn_path_options *popts, uint64_t *out,
                                             size_t len, size_t *count)
{
    static const char fn[] = "regnn_path_settings_fingerprint";
    if (count)
        *count = RG_SETTINGS_COUNT;
    if (!out && len == 0 && count)
        return REGNN_OK; /* only the count */
    if (!template_model || !train || !popts || !out)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: the template model, training data, path options and out are required",
                        fn);
    if (len < RG_SETTINGS_COUNT)
        return rg_error(REGNN_E_SHAPE, "%s: out holds %zu values, the fingerprint has %d", fn, len,
                        RG_SETTINGS_COUNT);
    /* NULL means the defaults, as regnn_regularization_path takes it */
    regnn_optimizer *o = NULL;
    regnn_fit_options *fo = NULL;
    regnn_status st = REGNN_OK;
    if (!template_optimizer)
        st = regnn_optimizer_create(REGNN_OPTIM_ADAM, &o);
    if (st == REGNN_OK && !fit_opts)
        st = regnn_fit_options_create(&fo);
    if (st == REGNN_OK) {
        const rg_fit_setup s = {template_model, template_optimizer ? template_optimizer : o, train,
                                val, fit_opts ? fit_opts : fo, popts};
        rg_settings_fingerprint(&s, out);
    } else {
        st = rg_error(st, "%s: %s", fn, regnn_errmsg());
    }
    regnn_optimizer_free(o);
    regnn_fit_options_free(fo);
    return st;
}
