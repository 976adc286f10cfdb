/* SPDX-License-Identifier: MIT */
/* Private declarations of the train layer: fit options, histories, plateau, settings fingerprint, path options,
 * the start of a data-parallel fit.
 * Included only by the files of src/train/ and the layers above (docs/architecture.md). */
#ifndef REGNN_TRAIN_H
#define REGNN_TRAIN_H

#include "../model/model.h"

/* ---- fit options and history (fit_options.c, history.c) ---- */
/* The epoch callback of opts and, in *user, its user pointer. */
regnn_epoch_fn rg_fit_options_callback(const regnn_fit_options *opts, void **user);
/* Whether opts has an exchange (a data-parallel fit), and one call of it
 * (opts must have one): non-zero when it failed. */
int rg_fit_options_has_exchange(const regnn_fit_options *opts);
int rg_fit_options_exchange(const regnn_fit_options *opts, float *g, size_t n, double *sums,
                            size_t n_sums);

/* The first validation row of a REGNN_FIT_VALIDATION_SPLIT tail split of rows
 * (Keras's validation_split): rows before it train, the rest validate. */
static inline size_t rg_tail_split_at(size_t rows, double split)
{
    return (size_t)floor((double)rows * (1.0 - split));
}

#define RG_N_METRICS 10

/* An empty history with room for min(cap, RG_HISTORY_FIRST) epochs. */
regnn_status rg_history_create(size_t cap, regnn_history **out);
#define RG_HISTORY_FIRST 64
/* Append one epoch (metrics indexed by REGNN_METRIC_* - 1). Allocates only when
 * full (doubling); REGNN_E_NOMEM leaves the history unchanged. */
regnn_status rg_history_push(regnn_history *h, const double *metrics);
/* Record the best epoch so far, and why training stopped (REGNN_STOP_*). */
void rg_history_set_best(regnn_history *h, size_t epoch);
void rg_history_set_stop(regnn_history *h, int reason);
/* The epochs values of metric (REGNN_METRIC_*) of a history. */
const double *rg_history_metric(const regnn_history *h, int metric);
/* A history's best epoch (meaningful when has_best) and stop reason, as a
 * path file stores them. */
typedef struct rg_history_marks {
    size_t best_epoch;
    int has_best, stop_reason;
} rg_history_marks;
rg_history_marks rg_history_get_marks(const regnn_history *h);
void rg_history_set_marks(regnn_history *h, rg_history_marks mk);

/* ReduceLROnPlateau state of one fit (plateau.c). */
typedef struct rg_plateau {
    double factor, min_delta, min_lr, best;
    int64_t patience, cooldown, wait, cooldown_counter;
} rg_plateau;
/* Keras's on_train_begin: settings from opts, best = +inf, counters 0. */
void rg_plateau_start(rg_plateau *pl, const regnn_fit_options *opts);
/* Keras's on_epoch_end (mode 'min') on the monitored value; returns 1 when
 * it lowered *lr. */
int rg_plateau_update(rg_plateau *pl, double current, double *lr);

/* ---- the settings that change a fit's result (settings.c) ---- */
typedef struct rg_fit_setup {
    const regnn_model *m;
    const regnn_optimizer *o;
    const regnn_dataset *train, *val; /* val may be NULL */
    const regnn_fit_options *opts;
    const regnn_path_options *po; /* a path's runs; NULL: one fit */
} rg_fit_setup;
#define RG_SETTINGS_COUNT 64
#define RG_SETTINGS_HASH_MASK ((1ULL << 48) - 1) /* hashes are 48-bit */
/* Entry i's name ("optimizer.learning_rate"), NULL past the table. */
const char *rg_settings_name(size_t i);
/* One hash per entry of the table, in table order. */
void rg_settings_fingerprint(const rg_fit_setup *s, uint64_t out[RG_SETTINGS_COUNT]);

/* Whether lambda is a penalty a path takes: finite and >= 0. */
static inline int rg_path_lambda_ok(double lambda) { return lambda >= 0.0 && !isinf(lambda); }

/* A path's test data (NULL: none), lambdas and penalized layers (none: all), from path_options.c. */
const regnn_dataset *rg_path_options_test(const regnn_path_options *opts);
const double *rg_path_options_lambdas(const regnn_path_options *opts, size_t *n);
const size_t *rg_path_options_layers(const regnn_path_options *opts, size_t *n);
/* Its progress callback (NULL: none) and, in *user, the callback's pointer. */
regnn_path_progress_fn rg_path_options_progress(const regnn_path_options *opts, void **user);
#ifdef REGNN_TESTING
/* The allocation every worker thread fails (0: none) and whether it persists
 * (regnn__test_path_worker_alloc_fail). */
long rg_path_options_worker_fail(const regnn_path_options *opts, int *persistent);
#endif

/* ---- warnings about a split or a lambda grid (diagnose.c) ---- */
/* An empty list with room for cap warnings; NULL when out of memory. */
regnn_warnings *rg_warnings_new(size_t cap);
/* Append a warning (room was reserved by rg_warnings_new); values NaN but
 * those given. REGNN_E_NOMEM if the message cannot be stored. */
regnn_status rg_warnings_add(regnn_warnings *w, int code, const double *v, const char *fmt, ...)
    RG_PRINTF(4, 5);
/* Every one of the REGNN_WARNVAL_COUNT values NaN. */
void rg_warnings_nan(double *v);

/* ---- the start of a data-parallel fit (dp_sync.c) ---- */
/* Collective over opts's exchange: st is this process's status (REGNN_OK =
 * ready to train, s its settings; else regnn_errmsg() says why, s unused).
 * REGNN_OK when every process is ready and their settings agree; a failing
 * process keeps its status and message; the others fail naming the lowest
 * failing rank and its message (REGNN_E_STATE), or the first differing
 * setting and rank (REGNN_E_INVALID_ARG). */
regnn_status rg_dp_start(const regnn_fit_options *opts, regnn_status st, const rg_fit_setup *s);
#define RG_DP_MIN_ROUNDS 6 /* exchange calls of one minimum over the processes */
/* Exchange calls of rg_dp_start when every process is ready and agrees. */
#define RG_DP_START_CALLS (1 + (RG_SETTINGS_COUNT + 7) / 8 + RG_DP_MIN_ROUNDS)
/* The exchange of one fit as fit.c sees it: with no exchange (one process)
 * every part is the whole, every sum leaves its values as they are, and
 * rg_dp_any returns the flag. */
typedef struct rg_dp {
    const regnn_fit_options *opts; /* NULL: one process */
    size_t index, count;           /* this process, of count */
    int exact; /* one shard per process: bit for bit the one-process fit */
    rg_bn_dp *bn; /* BatchNormalization's gathers (processes > 1), or NULL */
} rg_dp;
/* The buffers of BatchNormalization's gathers when opts shard the batch of
 * a model that has such layers (0 when they could not be allocated), before
 * rg_dp_init, which leaves them; rg_dp_free frees them. */
int rg_dp_reserve(rg_dp *d, const regnn_fit_options *opts, const regnn_model *m, size_t batch);
void rg_dp_free(rg_dp *d);
void rg_dp_init(rg_dp *d, const regnn_fit_options *opts, const regnn_model *m, size_t batch);
static inline int rg_dp_active(const rg_dp *d) { return d->opts != NULL; }
/* This process's even share [*lo, *lo + *n) of rows. */
void rg_dp_share(const rg_dp *d, size_t rows, size_t *lo, size_t *n);
/* Its rows of a batch: its shard of the one-process step when exact (the
 * shard count returned), else its share (0 returned). */
size_t rg_dp_batch_part(const rg_dp *d, const regnn_model *m, size_t rows, size_t *lo, size_t *n);
/* Sum n_sums values and n gradients over the processes; non-zero when the
 * exchange failed. */
int rg_dp_sum(const rg_dp *d, float *g, size_t n, double *sums, size_t n_sums);
/* Whether any process has flag set (a failed exchange counts as set). */
int rg_dp_any(const rg_dp *d, int flag);
/* One step of the fit on this process's rows (the batch's rows
 * [first, first + rows), at x, y, w) of a batch of total_rows (shards: what rg_dp_batch_part returned): in one process the
 * model's step (rg_model_fit_step); else the gradient and loss sums summed
 * over the processes, then the update. out and the outcome as
 * rg_model_fit_step's, or RG_STEP_EXCHANGE. */
int rg_dp_step(const rg_dp *d, regnn_model *m, regnn_optimizer *o, const float *x,
               const float *y, const float *w, size_t first, size_t rows, size_t total_rows,
               size_t shards, double out[4]);

#endif
