/* SPDX-License-Identifier: MIT */
/* Golden outputs: a fixed set of small trainings (every loss, optimizer,
 * schedule and penalty, kernel constraint, dropout, noise and normalization
 * layers, sample weights, sharded and layer-by-layer
 * steps, the emulated data-parallel fit, early stopping, the path and the
 * cross-validated path), each written as one text file of exact values: hex
 * floats for histories, metrics and small vectors, SHA-256 for parameters and
 * saved bytes. tests/test_golden.sh compares them with tests/golden/expected/.
 *
 *   golden --kernel           print the GEMM kernel this process runs, and exit
 *   golden --kernels          print every GEMM kernel this CPU can run, and exit
 *   golden DIABETES_CSV DIR   write DIR/<config>.txt (1 thread), and the same
 *                             output of every other run of the configuration
 *                             as DIR/<config>@<variant>.txt (thread counts
 *                             2-4, the shards of a data-parallel fit)
 * REGNN_GEMM_KERNEL picks the kernel (tests/test_golden.sh runs each).
 *
 * Public API only, except the two calls below of the test build of the library
 * (libregnn_test.a), which name and probe the GEMM kernels. */
/* pthread barriers (tests/dp_emulate.h) */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_emulate.h"
#include "regnn.h"
#include "sha256.h"

const char *rg_gemm_kernel_name(void);
int regnn__test_gemm_kernel(int kind); /* 0 = by CPU, 1..4 (this thread only) */
#define KERNEL_BY_CPU 0

/* ---------------------------------------------------------------- text */

typedef struct {
    char *s;
    size_t len, cap;
} text;

static void die(const char *what)
{
    fprintf(stderr, "golden: %s\n", what);
    exit(2);
}

static void put(text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            die("vsnprintf failed");
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s)
            die("out of memory");
        t->s = s;
        t->cap = cap;
    }
}

/* An exact value, then a short decimal for the reader. */
static void put_num(text *t, const char *key, double v)
{
    put(t, "%s %a (%.6g)\n", key, v, v);
}

/* A status other than REGNN_OK is recorded with its message, so that a call
 * that starts failing shows up in the diff. */
static int put_status(text *t, const char *what, regnn_status st)
{
    if (st == REGNN_OK)
        return 0;
    put(t, "%s: status %d (%s): %s\n", what, st, regnn_strerror(st), regnn_errmsg());
    return 1;
}

#define TRY(t, call)                                                                      \
    do {                                                                                  \
        if (put_status((t), #call, (call)))                                               \
            goto done;                                                                    \
    } while (0)

/* At most 16 values inline, in hex; more as a SHA-256 of their bytes. */
static void put_floats(text *t, const char *key, const float *v, size_t n)
{
    if (n > 16) {
        char hex[65];
        sha256_hex(v, n * sizeof *v, hex);
        put(t, "%s n=%zu sha256=%s\n", key, n, hex);
        return;
    }
    put(t, "%s", key);
    for (size_t i = 0; i < n; i++)
        put(t, " %a", (double)v[i]);
    put(t, "\n");
}

/* ---------------------------------------------------------------- data */

enum { D_PLAIN, D_DOUBLE, D_WEIGHTS, D_MULTI, D_COUNT };

typedef struct {
    regnn_dataset *train[D_COUNT], *val[D_COUNT];
} golden_data;

/* diabetes.csv with the given targets: a seeded 80/20 split, z-scored by the
 * training part's statistics. */
static regnn_status load_split(const char *csv, const char *const *targets, size_t n_targets,
                               regnn_dataset **train, regnn_dataset **val)
{
    regnn_dataset *all = NULL, *tr = NULL, *va = NULL;
    regnn_scaler *sc = NULL;
    regnn_status st = regnn_dataset_from_csv(csv, targets, NULL, n_targets, &all);
    if (st == REGNN_OK)
        st = regnn_dataset_split_shuffled(all, 0.2, 7, &tr, &va);
    if (st == REGNN_OK)
        st = regnn_scaler_fit(tr, REGNN_SCALE_ZSCORE, REGNN_SCALE_ZSCORE, &sc);
    if (st == REGNN_OK)
        st = regnn_scaler_transform(sc, tr, train);
    if (st == REGNN_OK)
        st = regnn_scaler_transform(sc, va, val);
    regnn_scaler_free(sc);
    regnn_dataset_free(all);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
    return st;
}

static void load_data(const char *csv, golden_data *d)
{
    static const char *const y[] = {"y"}, *const y_bp[] = {"y", "bp"};
    memset(d, 0, sizeof *d);
    if (load_split(csv, y, 1, &d->train[D_PLAIN], &d->val[D_PLAIN]) != REGNN_OK ||
        load_split(csv, y_bp, 2, &d->train[D_MULTI], &d->val[D_MULTI]) != REGNN_OK)
        die(regnn_errmsg());
    const regnn_dataset *tr = d->train[D_PLAIN];
    const size_t n = regnn_dataset_rows(tr);
    size_t *rows = malloc(2 * n * sizeof *rows);
    float *w = malloc(n * sizeof *w);
    if (!rows || !w)
        die("out of memory");
    /* Every row twice, interleaved (n is prime, so 7 i mod n visits each). */
    for (size_t i = 0; i < 2 * n; i++)
        rows[i] = 7 * i % n;
    /* Weights 0, 0.5, 1, 1.5, 2: zero weights included. */
    for (size_t i = 0; i < n; i++)
        w[i] = (float)(i % 5) * 0.5f;
    if (regnn_dataset_select(tr, rows, 2 * n, &d->train[D_DOUBLE]) != REGNN_OK ||
        regnn_dataset_select(tr, rows, n, &d->train[D_WEIGHTS]) != REGNN_OK ||
        regnn_dataset_set_weights(d->train[D_WEIGHTS], w, n) != REGNN_OK)
        die(regnn_errmsg());
    d->val[D_DOUBLE] = d->val[D_WEIGHTS] = d->val[D_PLAIN];
    free(rows);
    free(w);
}

static void free_data(golden_data *d)
{
    for (int i = 0; i < D_COUNT; i++)
        regnn_dataset_free(d->train[i]);
    regnn_dataset_free(d->val[D_PLAIN]);
    regnn_dataset_free(d->val[D_MULTI]);
}

/* ---------------------------------------------------------------- settings */

#define MAX_LAYERS 3

typedef struct {
    size_t units[MAX_LAYERS];
    int act[MAX_LAYERS];
    double l2[MAX_LAYERS], l1[MAX_LAYERS], dropout[MAX_LAYERS];
    double bias_l2[MAX_LAYERS], activity_l2[MAX_LAYERS], max_norm[MAX_LAYERS];
    int extra; /* EXTRA_*: layers of other types after the first two dense layers */
    int he_init;
    uint64_t seed;
    int loss;
    double loss_param;
} net_spec;

/* GaussianNoise(0.1) after dense layer 0 and GaussianDropout(0.2) after layer 1;
 * BatchNormalization(0.9) after layer 0 and LayerNormalization after layer 1. */
enum { EXTRA_NOISE = 1, EXTRA_NORM = 2 };

typedef struct {
    int kind;              /* REGNN_OPTIM_*; 0: by sgd */
    int sgd;               /* 0: Adam, 1: SGD */
    double lr;             /* 0: the optimizer's default */
    double beta1, beta2, epsilon, weight_decay, momentum, nesterov; /* 0: default */
    int schedule;          /* REGNN_SCHEDULE_* */
    double sched[5];
    size_t n_sched;
} opt_spec;

typedef struct {
    int epochs, batch; /* 0: 4 epochs, batch 32 */
    int no_shuffle, eval_train;
    int early_stopping, patience, restore_best, monitor;
    double min_delta, validation_split;
    int reduce_lr, reduce_lr_patience, reduce_lr_cooldown;
    double reduce_lr_factor, reduce_lr_min_lr;
    int no_val; /* no validation data (and no split) */
} fit_spec;

/* Three networks: A on one target, W with a 64 x 64 layer (4096 weights: its
 * kernel rows are split between threads), M on two targets. */
#define NET_A                                                                             \
    .units = {16, 8, 1}, .act = {REGNN_ACT_RELU, REGNN_ACT_TANH, REGNN_ACT_LINEAR}, .seed = 11
#define NET_W                                                                             \
    .units = {64, 64, 1}, .act = {REGNN_ACT_RELU, REGNN_ACT_RELU, REGNN_ACT_LINEAR}, .seed = 12
#define NET_M .units = {12, 6, 2}, .act = {REGNN_ACT_SIGMOID, REGNN_ACT_RELU, REGNN_ACT_LINEAR}, \
              .he_init = 1, .seed = 13

/* The layers of other types net_spec's extra puts after dense layer i. */
static regnn_status add_extra(regnn_model *m, int extra, size_t i)
{
    regnn_status st = REGNN_OK;
    if ((extra & EXTRA_NORM) && i == 0)
        st = regnn_model_add_batch_normalization(m, 0.9, 1e-3, NULL);
    if ((extra & EXTRA_NORM) && i == 1)
        st = regnn_model_add_layer_normalization(m, 1e-3, NULL);
    if (st == REGNN_OK && (extra & EXTRA_NOISE) && i == 0)
        st = regnn_model_add_gaussian_noise(m, 0.1, NULL);
    if (st == REGNN_OK && (extra & EXTRA_NOISE) && i == 1)
        st = regnn_model_add_gaussian_dropout(m, 0.2, NULL);
    return st;
}

static regnn_status set_dense(regnn_layer *l, const net_spec *ns, size_t i)
{
    const struct {
        int key;
        double v;
    } set[] = {{REGNN_LAYER_L2, ns->l2[i]},
               {REGNN_LAYER_L1, ns->l1[i]},
               {REGNN_LAYER_DROPOUT, ns->dropout[i]},
               {REGNN_LAYER_BIAS_L2, ns->bias_l2[i]},
               {REGNN_LAYER_ACTIVITY_L2, ns->activity_l2[i]},
               {REGNN_LAYER_MAX_NORM, ns->max_norm[i]}};
    regnn_status st = REGNN_OK;
    for (size_t k = 0; st == REGNN_OK && k < sizeof set / sizeof set[0]; k++)
        if (set[k].v != 0.0)
            st = regnn_layer_set_double(l, set[k].key, set[k].v);
    return st;
}

static regnn_status build_net(const net_spec *ns, size_t n_in, regnn_model **out)
{
    regnn_model *m = NULL;
    regnn_status st = regnn_model_create(n_in, &m);
    for (size_t i = 0; st == REGNN_OK && i < MAX_LAYERS; i++) {
        regnn_layer *l = NULL;
        st = regnn_model_add_dense(m, ns->units[i], ns->act[i], &l);
        if (st == REGNN_OK)
            st = set_dense(l, ns, i);
        if (st == REGNN_OK)
            st = add_extra(m, ns->extra, i);
    }
    if (st == REGNN_OK)
        st = regnn_model_set_loss(m, ns->loss, ns->loss_param);
    if (st == REGNN_OK)
        st = regnn_model_init(m, ns->he_init ? REGNN_INIT_HE_UNIFORM : REGNN_INIT_GLOROT_UNIFORM,
                              ns->seed);
    if (st != REGNN_OK) {
        regnn_model_free(m);
        m = NULL;
    }
    *out = m;
    return st;
}

static regnn_status build_opt(const opt_spec *os, regnn_optimizer **out)
{
    const struct {
        int key;
        double v;
    } set[] = {{REGNN_OPT_LEARNING_RATE, os->lr}, {REGNN_OPT_BETA1, os->beta1},
               {REGNN_OPT_BETA2, os->beta2},      {REGNN_OPT_EPSILON, os->epsilon},
               {REGNN_OPT_MOMENTUM, os->momentum}, {REGNN_OPT_NESTEROV, os->nesterov},
               {REGNN_OPT_WEIGHT_DECAY, os->weight_decay}};
    regnn_optimizer *o = NULL;
    const int kind = os->kind ? os->kind : os->sgd ? REGNN_OPTIM_SGD : REGNN_OPTIM_ADAM;
    regnn_status st = regnn_optimizer_create(kind, &o);
    for (size_t i = 0; st == REGNN_OK && i < sizeof set / sizeof set[0]; i++)
        if (set[i].v != 0.0)
            st = regnn_optimizer_set_double(o, set[i].key, set[i].v);
    if (st == REGNN_OK && os->schedule != REGNN_SCHEDULE_CONSTANT)
        st = regnn_optimizer_set_schedule(o, os->schedule, os->sched, os->n_sched);
    if (st != REGNN_OK) {
        regnn_optimizer_free(o);
        o = NULL;
    }
    *out = o;
    return st;
}

static regnn_status build_fit_opts(const fit_spec *fs, regnn_fit_options **out)
{
    const struct {
        int key;
        int64_t v;
    } ints[] = {{REGNN_FIT_EPOCHS, fs->epochs ? fs->epochs : 4},
                {REGNN_FIT_BATCH_SIZE, fs->batch ? fs->batch : 32},
                {REGNN_FIT_SHUFFLE, !fs->no_shuffle},
                {REGNN_FIT_EVAL_TRAIN, fs->eval_train},
                {REGNN_FIT_EARLY_STOPPING, fs->early_stopping},
                {REGNN_FIT_PATIENCE, fs->patience},
                {REGNN_FIT_RESTORE_BEST, fs->restore_best},
                {REGNN_FIT_MONITOR, fs->monitor},
                {REGNN_FIT_REDUCE_LR, fs->reduce_lr}};
    regnn_fit_options *fo = NULL;
    regnn_status st = regnn_fit_options_create(&fo);
    for (size_t i = 0; st == REGNN_OK && i < sizeof ints / sizeof ints[0]; i++)
        st = regnn_fit_options_set_int(fo, ints[i].key, ints[i].v);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_double(fo, REGNN_FIT_MIN_DELTA, fs->min_delta);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, fs->validation_split);
    if (st == REGNN_OK && fs->reduce_lr) {
        st = regnn_fit_options_set_int(fo, REGNN_FIT_REDUCE_LR_PATIENCE, fs->reduce_lr_patience);
        if (st == REGNN_OK)
            st = regnn_fit_options_set_int(fo, REGNN_FIT_REDUCE_LR_COOLDOWN,
                                           fs->reduce_lr_cooldown);
        if (st == REGNN_OK)
            st = regnn_fit_options_set_double(fo, REGNN_FIT_REDUCE_LR_FACTOR,
                                              fs->reduce_lr_factor);
        if (st == REGNN_OK)
            st = regnn_fit_options_set_double(fo, REGNN_FIT_REDUCE_LR_MIN_LR,
                                              fs->reduce_lr_min_lr);
    }
    if (st != REGNN_OK) {
        regnn_fit_options_free(fo);
        fo = NULL;
    }
    *out = fo;
    return st;
}

/* ---------------------------------------------------------------- records */

static const struct {
    int key;
    const char *name;
} metrics[] = {{REGNN_METRIC_TRAIN_LOSS, "loss"},       {REGNN_METRIC_TRAIN_MSE, "mse"},
               {REGNN_METRIC_TRAIN_PENALTY, "penalty"}, {REGNN_METRIC_TRAIN_MAE, "mae"},
               {REGNN_METRIC_VAL_LOSS, "val_loss"},     {REGNN_METRIC_VAL_MSE, "val_mse"},
               {REGNN_METRIC_VAL_MAE, "val_mae"},       {REGNN_METRIC_TRAIN_EVAL_MSE, "eval_mse"},
               {REGNN_METRIC_LEARNING_RATE, "lr"}}; /* all but the wall seconds */
#define N_METRICS (sizeof metrics / sizeof metrics[0])

/* Every value of h but the seconds, metric by metric (NULL: n 0). */
static double *history_values(const regnn_history *h, size_t *n)
{
    const size_t epochs = regnn_history_epochs(h);
    double *v = malloc((epochs ? epochs : 1) * N_METRICS * sizeof *v);
    if (!v)
        die("out of memory");
    for (size_t k = 0; k < N_METRICS; k++)
        if (regnn_history_get(h, metrics[k].key, v + k * epochs, epochs) != REGNN_OK)
            die(regnn_errmsg());
    *n = epochs * N_METRICS;
    return v;
}

static void put_history(text *t, const char *prefix, const regnn_history *h)
{
    const size_t epochs = regnn_history_epochs(h);
    size_t best = 0, n;
    put(t, "%s.epochs %zu\n%s.stop_reason %d\n", prefix, epochs, prefix,
        regnn_history_stop_reason(h));
    if (put_status(t, "regnn_history_best_epoch", regnn_history_best_epoch(h, &best)) == 0)
        put(t, "%s.best_epoch %zu\n", prefix, best);
    double *v = history_values(h, &n);
    char key[96];
    for (size_t k = 0; k < N_METRICS; k++)
        for (size_t e = 0; e < epochs; e++) {
            snprintf(key, sizeof key, "%s.%s[%zu]", prefix, metrics[k].name, e);
            put_num(t, key, v[k * epochs + e]);
        }
    free(v);
    int verdict = -1, reason = -1;
    double dv[REGNN_DIAG_COUNT];
    if (put_status(t, "regnn_history_diagnose",
                   regnn_history_diagnose(h, 1.0, &verdict, &reason, dv, REGNN_DIAG_COUNT)) == 0) {
        put(t, "%s.diagnose %d %d\n", prefix, verdict, reason);
        put(t, "%s.diagnose.values", prefix);
        for (size_t i = 0; i < REGNN_DIAG_COUNT; i++)
            put(t, " %a", dv[i]);
        put(t, "\n");
    }
}

/* A short digest of a history, for the many runs of a path. */
static void put_history_digest(text *t, const char *key, const regnn_history *h)
{
    size_t n;
    double *v = history_values(h, &n);
    char hex[65];
    sha256_hex(v, n * sizeof *v, hex);
    put(t, "%s epochs=%zu stop=%d sha256=%s\n", key, regnn_history_epochs(h),
        regnn_history_stop_reason(h), hex);
    free(v);
}

typedef regnn_status (*save_fn)(const void *a, const void *b, void *buf, size_t cap,
                                size_t *size);

static regnn_status save_model(const void *m, const void *unused, void *buf, size_t cap,
                               size_t *size)
{
    (void)unused;
    return regnn_model_save_mem(m, buf, cap, size);
}

static regnn_status save_checkpoint(const void *m, const void *o, void *buf, size_t cap,
                                    size_t *size)
{
    return regnn_checkpoint_save_mem(m, o, buf, cap, size);
}

static void put_saved(text *t, const char *key, save_fn fn, const void *a, const void *b)
{
    size_t size = 0;
    if (put_status(t, key, fn(a, b, NULL, 0, &size)))
        return;
    unsigned char *buf = malloc(size);
    if (!buf)
        die("out of memory");
    if (put_status(t, key, fn(a, b, buf, size, &size)) == 0) {
        char hex[65];
        sha256_hex(buf, size, hex);
        put(t, "%s bytes=%zu sha256=%s\n", key, size, hex);
    }
    free(buf);
}

/* A BatchNormalization layer's moving mean and variance. */
static void put_moving(text *t, const char *prefix, const regnn_layer *l, size_t i)
{
    if (regnn_layer_type(l) != REGNN_LAYERTYPE_BATCH_NORMALIZATION)
        return;
    const size_t n = regnn_layer_units(l);
    float *mv = malloc(2 * n * sizeof *mv);
    if (!mv)
        die("out of memory");
    if (regnn_layer_get_moving(l, mv, mv + n, n) != REGNN_OK)
        die(regnn_errmsg());
    char key[96];
    snprintf(key, sizeof key, "%s.layer%zu.moving", prefix, i);
    put_floats(t, key, mv, 2 * n);
    free(mv);
}

/* The parameters layer by layer, the saved model, and its loss on ds. */
static void put_model(text *t, const char *prefix, regnn_model *m, const regnn_dataset *ds)
{
    char key[96];
    for (size_t i = 0; i < regnn_model_layer_count(m); i++) {
        const regnn_layer *l = regnn_model_layer(m, i);
        const size_t nk = regnn_layer_inputs(l) * regnn_layer_units(l);
        const size_t np = regnn_layer_param_count(l);
        float *p = malloc(np * sizeof *p);
        if (!p)
            die("out of memory");
        if (regnn_layer_get_params(l, p, np) != REGNN_OK)
            die(regnn_errmsg());
        if (regnn_layer_type(l) == REGNN_LAYERTYPE_DENSE) {
            snprintf(key, sizeof key, "%s.layer%zu.kernel", prefix, i);
            put_floats(t, key, p, nk);
            snprintf(key, sizeof key, "%s.layer%zu.bias", prefix, i);
            put_floats(t, key, p + nk, np - nk);
        } else if (np > 0) {
            snprintf(key, sizeof key, "%s.layer%zu.params", prefix, i);
            put_floats(t, key, p, np);
        }
        free(p);
        put_moving(t, prefix, l, i);
    }
    snprintf(key, sizeof key, "%s.file", prefix);
    put_saved(t, key, save_model, m, NULL);
    double loss, mse, mae, pen;
    if (ds && put_status(t, "regnn_model_evaluate_loss",
                         regnn_model_evaluate_loss(m, ds, &loss, &mse, &mae, &pen)) == 0) {
        const struct {
            const char *name;
            double v;
        } e[] = {{"loss", loss}, {"mse", mse}, {"mae", mae}, {"penalty", pen}};
        for (size_t i = 0; i < 4; i++) {
            snprintf(key, sizeof key, "%s.evaluate.%s", prefix, e[i].name);
            put_num(t, key, e[i].v);
        }
    }
}

static void write_file(const char *dir, const char *name, const char *variant, const text *t)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s%s.txt", dir, name, variant ? "@" : "",
             variant ? variant : "");
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(t->s, 1, t->len, f) != t->len || fclose(f) != 0) {
        fprintf(stderr, "golden: cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
}

/* ---------------------------------------------------------------- fits */

typedef struct {
    const char *name;
    int data; /* D_* */
    net_spec net;
    opt_spec opt;
    fit_spec fit;
} fit_config;

static const fit_config fit_configs[] = {
    /* losses */
    {"loss_mse", D_PLAIN, {NET_A}, {.lr = 1e-2}, {0}},
    {"loss_mae", D_PLAIN, {NET_A, .loss = REGNN_LOSS_MAE}, {.lr = 1e-2}, {0}},
    {"loss_huber", D_PLAIN, {NET_A, .loss = REGNN_LOSS_HUBER, .loss_param = 0.5}, {.lr = 1e-2},
     {0}},
    {"loss_log_cosh", D_PLAIN, {NET_A, .loss = REGNN_LOSS_LOG_COSH}, {.lr = 1e-2}, {0}},
    /* optimizers */
    {"opt_adam_default", D_PLAIN, {NET_A}, {0}, {0}},
    {"opt_adam_betas", D_PLAIN, {NET_A}, {.lr = 5e-3, .beta1 = 0.8, .beta2 = 0.99, .epsilon = 1e-5},
     {0}},
    {"opt_adam_weight_decay", D_PLAIN, {NET_A}, {.lr = 1e-2, .weight_decay = 0.05}, {0}},
    {"opt_sgd", D_PLAIN, {NET_A}, {.sgd = 1, .lr = 2e-2}, {0}},
    {"opt_sgd_momentum", D_PLAIN, {NET_A}, {.sgd = 1, .lr = 1e-2, .momentum = 0.9}, {0}},
    {"opt_sgd_nesterov", D_PLAIN, {NET_A}, {.sgd = 1, .lr = 1e-2, .momentum = 0.9, .nesterov = 1},
     {0}},
    {"opt_sgd_weight_decay", D_PLAIN, {NET_A},
     {.sgd = 1, .lr = 1e-2, .momentum = 0.5, .weight_decay = 0.1}, {0}},
    /* schedules */
    {"sched_exponential", D_PLAIN, {NET_A},
     {.schedule = REGNN_SCHEDULE_EXPONENTIAL, .sched = {1e-2, 10, 0.5}, .n_sched = 3}, {0}},
    {"sched_exponential_staircase", D_PLAIN, {NET_A},
     {.sgd = 1, .momentum = 0.9, .schedule = REGNN_SCHEDULE_EXPONENTIAL,
      .sched = {1e-2, 10, 0.5, 1}, .n_sched = 4},
     {0}},
    {"sched_piecewise", D_PLAIN, {NET_A},
     {.schedule = REGNN_SCHEDULE_PIECEWISE, .sched = {20, 35, 1e-2, 5e-3, 1e-3}, .n_sched = 5},
     {0}},
    {"sched_cosine", D_PLAIN, {NET_A},
     {.schedule = REGNN_SCHEDULE_COSINE, .sched = {1e-2, 40, 0.1}, .n_sched = 3}, {0}},
    {"sched_cosine_warmup", D_PLAIN, {NET_A},
     {.schedule = REGNN_SCHEDULE_COSINE, .sched = {1e-3, 40, 0.0, 1e-2, 10}, .n_sched = 5}, {0}},
    {"opt_rmsprop", D_PLAIN, {NET_A}, {.kind = REGNN_OPTIM_RMSPROP, .lr = 3e-3}, {0}},
    {"opt_adagrad", D_PLAIN, {NET_A}, {.kind = REGNN_OPTIM_ADAGRAD, .lr = 5e-2}, {0}},
    {"opt_adamax", D_PLAIN, {NET_A}, {.kind = REGNN_OPTIM_ADAMAX, .lr = 1e-2}, {0}},
    {"opt_nadam", D_PLAIN, {NET_A}, {.kind = REGNN_OPTIM_NADAM, .lr = 5e-3}, {0}},
    {"sched_inverse_time", D_PLAIN, {NET_A},
     {.schedule = REGNN_SCHEDULE_INVERSE_TIME, .sched = {1e-2, 10, 0.5, 1}, .n_sched = 4}, {0}},
    {"sched_polynomial_cycle", D_PLAIN, {NET_A},
     {.schedule = REGNN_SCHEDULE_POLYNOMIAL, .sched = {1e-2, 15, 1e-3, 2.0, 1}, .n_sched = 5},
     {0}},
    {"sched_cosine_restarts", D_PLAIN, {NET_A},
     {.schedule = REGNN_SCHEDULE_COSINE_RESTARTS, .sched = {1e-2, 5, 1.5, 0.8, 0.05},
      .n_sched = 5},
     {0}},
    /* penalties and dropout */
    {"pen_l2", D_PLAIN, {NET_A, .l2 = {1e-3, 1e-3, 1e-3}}, {.lr = 1e-2}, {0}},
    {"pen_l1", D_PLAIN, {NET_A, .l1 = {1e-3, 1e-3, 1e-3}}, {.lr = 1e-2}, {0}},
    {"pen_l1_l2_mixed", D_PLAIN, {NET_A, .l2 = {1e-2, 0, 1e-4}, .l1 = {0, 1e-3, 1e-4}},
     {.lr = 1e-2}, {0}},
    {"dropout", D_PLAIN, {NET_A, .dropout = {0.2, 0.1, 0}}, {.lr = 1e-2}, {0}},
    {"bias_activity_max_norm", D_PLAIN,
     {NET_A, .bias_l2 = {1e-3, 1e-3, 0}, .activity_l2 = {0, 1e-4, 0}, .max_norm = {0.5, 0, 0}},
     {.lr = 1e-2}, {0}},
    /* layers of other types: noise draws, batch and layer statistics */
    {"layers_noise", D_PLAIN, {NET_A, .extra = EXTRA_NOISE}, {.lr = 1e-2}, {0}},
    {"layers_norm", D_PLAIN, {NET_A, .extra = EXTRA_NORM}, {.lr = 1e-2}, {0}},
    {"layers_noise_norm_b96", D_PLAIN, {NET_A, .extra = EXTRA_NOISE | EXTRA_NORM}, {.lr = 1e-2},
     {.batch = 96}},
    /* sample weights */
    {"weights_mse", D_WEIGHTS, {NET_A}, {.lr = 1e-2}, {.eval_train = 1}},
    {"weights_huber_dropout_b64", D_WEIGHTS,
     {NET_A, .loss = REGNN_LOSS_HUBER, .loss_param = 1.0, .dropout = {0.1, 0, 0}}, {.lr = 1e-2},
     {.batch = 64}},
    /* sharded steps (batches of 64-512 rows) */
    {"shard_b64", D_PLAIN, {NET_A}, {.lr = 1e-2}, {.batch = 64, .eval_train = 1}},
    {"shard_b100", D_PLAIN, {NET_A, .l2 = {1e-3, 0, 0}}, {.lr = 1e-2}, {.batch = 100}},
    {"shard_b128_l1", D_PLAIN, {NET_A, .l1 = {1e-3, 1e-3, 0}}, {.lr = 1e-2}, {.batch = 128}},
    {"shard_b512", D_DOUBLE, {NET_A}, {.sgd = 1, .lr = 5e-2, .momentum = 0.9}, {.batch = 512}},
    {"shard_b96_dropout", D_PLAIN, {NET_A, .dropout = {0.1, 0.1, 0}}, {.lr = 1e-2}, {.batch = 96}},
    /* the wide network: owned kernel rows, layer by layer, sharded */
    {"wide_b32", D_PLAIN, {NET_W}, {.lr = 3e-3}, {.epochs = 3}},
    {"wide_b48_l2", D_PLAIN, {NET_W, .l2 = {1e-3, 1e-3, 0}}, {.lr = 3e-3},
     {.epochs = 3, .batch = 48}},
    {"wide_b600_layers", D_DOUBLE, {NET_W, .l1 = {0, 1e-4, 0}}, {.lr = 3e-3},
     {.epochs = 3, .batch = 600}},
    {"wide_b256_sharded", D_DOUBLE, {NET_W, .dropout = {0.1, 0, 0}}, {.lr = 3e-3},
     {.epochs = 3, .batch = 256}},
    /* two targets, sigmoid, He initialization */
    {"multi_target", D_MULTI, {NET_M}, {.lr = 1e-2}, {.eval_train = 1}},
    {"multi_target_b64_huber", D_MULTI, {NET_M, .loss = REGNN_LOSS_HUBER, .loss_param = 0.7},
     {.lr = 1e-2}, {.batch = 64}},
    /* early stopping, plateau, validation split, partial batches */
    {"early_stop_restore", D_PLAIN, {NET_A}, {.lr = 3e-2},
     {.epochs = 60, .early_stopping = 1, .patience = 3, .restore_best = 1, .min_delta = 1e-4,
      .validation_split = 0.25, .no_val = 1}},
    {"early_stop_val_mse", D_PLAIN, {NET_A, .l2 = {1e-3, 0, 0}}, {.lr = 3e-2},
     {.epochs = 60, .early_stopping = 1, .patience = 2, .monitor = REGNN_MONITOR_VAL_MSE}},
    {"reduce_lr_plateau", D_PLAIN, {NET_A}, {.lr = 3e-2},
     {.epochs = 15, .reduce_lr = 1, .reduce_lr_patience = 1, .reduce_lr_cooldown = 1,
      .reduce_lr_factor = 0.5, .reduce_lr_min_lr = 1e-3, .monitor = REGNN_MONITOR_TRAIN_LOSS}},
    {"no_shuffle_b50", D_PLAIN, {NET_A}, {.lr = 1e-2},
     {.batch = 50, .no_shuffle = 1, .eval_train = 1}},
    {"no_validation", D_PLAIN, {NET_A}, {.lr = 1e-2}, {.no_val = 1}},
};

/* The model, optimizer and options of one configuration. */
typedef struct {
    regnn_model *m;
    regnn_optimizer *o;
    regnn_fit_options *fo;
} fit_parts;

static void free_parts(fit_parts *p)
{
    regnn_fit_options_free(p->fo);
    regnn_optimizer_free(p->o);
    regnn_model_free(p->m);
    memset(p, 0, sizeof *p);
}

static regnn_status build_parts(const fit_config *c, const golden_data *d, size_t threads,
                                fit_parts *p)
{
    memset(p, 0, sizeof *p);
    regnn_status st = build_net(&c->net, regnn_dataset_features(d->train[c->data]), &p->m);
    if (st == REGNN_OK)
        st = regnn_model_set_threads(p->m, threads);
    if (st == REGNN_OK)
        st = build_opt(&c->opt, &p->o);
    if (st == REGNN_OK)
        st = build_fit_opts(&c->fit, &p->fo);
    if (st != REGNN_OK)
        free_parts(p);
    return st;
}

static const regnn_dataset *val_of(const fit_config *c, const golden_data *d)
{
    return c->fit.no_val || c->fit.validation_split > 0.0 ? NULL : d->val[c->data];
}

static void put_fit_result(text *t, const fit_config *c, const golden_data *d, fit_parts *p,
                           regnn_status st, const regnn_history *h)
{
    put(t, "fit.status %d\n", st);
    if (st != REGNN_OK) {
        put(t, "fit.message %s\n", regnn_errmsg());
        return;
    }
    put_history(t, "history", h);
    put_model(t, "model", p->m, d->val[c->data]);
    put(t, "optimizer.steps %" PRIu64 "\n", regnn_optimizer_steps(p->o));
    put_saved(t, "checkpoint", save_checkpoint, p->m, p->o);
}

static void run_fit(text *t, const fit_config *c, const golden_data *d, size_t threads)
{
    fit_parts p;
    regnn_history *h = NULL;
    put(t, "config %s\n", c->name);
    TRY(t, build_parts(c, d, threads, &p));
    regnn_status st = regnn_fit(p.m, p.o, d->train[c->data], val_of(c, d), p.fo, &h);
    put_fit_result(t, c, d, &p, st, h);
    regnn_history_free(h);
    free_parts(&p);
done:;
}

/* ---------------------------------------------------------------- data-parallel fits */

typedef struct {
    const char *name;
    size_t processes, threads;
    fit_config fit;
} dp_config;

static const dp_config dp_configs[] = {
    /* batches with one shard per process: the one-process step's shards */
    {"dp2_b64_l1", 2, 1, {NULL, D_PLAIN, {NET_A, .l1 = {1e-4, 1e-4, 1e-4}}, {.lr = 1e-2},
                          {.batch = 64, .eval_train = 1}}},
    {"dp3_b96", 3, 1, {NULL, D_PLAIN, {NET_A}, {.lr = 1e-2}, {.batch = 96}}},
    {"dp4_b128_sgd_cosine", 4, 1,
     {NULL, D_PLAIN, {NET_A, .l2 = {1e-3, 0, 0}},
      {.sgd = 1, .momentum = 0.9, .schedule = REGNN_SCHEDULE_COSINE, .sched = {2e-2, 40, 0.1},
       .n_sched = 3},
      {.batch = 128}}},
    /* other batches: rows split evenly between the processes */
    {"dp3_b50_rows", 3, 1, {NULL, D_PLAIN, {NET_A}, {.lr = 1e-2}, {.batch = 50, .eval_train = 1}}},
    {"dp2_wide_b64_threads2", 2, 2,
     {NULL, D_PLAIN, {NET_W}, {.lr = 3e-3}, {.epochs = 3, .batch = 64}}},
    {"dp2_noise_norm_b64", 2, 1,
     {NULL, D_PLAIN, {NET_A, .extra = EXTRA_NOISE | EXTRA_NORM}, {.lr = 1e-2}, {.batch = 64}}},
    {"dp2_early_stop", 2, 1,
     {NULL, D_PLAIN, {NET_A}, {.lr = 3e-2},
      {.epochs = 40, .batch = 64, .early_stopping = 1, .patience = 2, .restore_best = 1}}},
};

/* Every process's output: file 0 is the configuration's, the others its variants. */
static void run_dp(const char *dir, const dp_config *c, const golden_data *d)
{
    dp_shard sh[DP_MAX];
    fit_parts parts[DP_MAX];
    text t[DP_MAX];
    memset(sh, 0, sizeof sh);
    memset(parts, 0, sizeof parts);
    memset(t, 0, sizeof t);
    for (size_t i = 0; i < c->processes; i++) {
        put(&t[i], "config %s\n", c->name);
        if (build_parts(&c->fit, d, c->threads, &parts[i]) != REGNN_OK)
            die(regnn_errmsg());
        sh[i].m = parts[i].m;
        sh[i].o = parts[i].o;
        sh[i].opts = parts[i].fo;
        sh[i].train = d->train[c->fit.data];
        sh[i].val = val_of(&c->fit, d);
    }
    if (dp_run(sh, c->processes, regnn_model_param_count(parts[0].m)) != 0)
        die("dp_run: the threads could not run");
    for (size_t i = 0; i < c->processes; i++) {
        put_fit_result(&t[i], &c->fit, d, &parts[i], sh[i].st, sh[i].h);
        char variant[32];
        snprintf(variant, sizeof variant, "process%zu", i);
        write_file(dir, c->name, i ? variant : NULL, &t[i]);
        regnn_history_free(sh[i].h);
        free_parts(&parts[i]);
        free(t[i].s);
    }
}

/* ---------------------------------------------------------------- train_batch */

/* regnn_train_batch(_weighted) on slices of the training rows: one row, a few,
 * sharded sizes, with and without weights. */
static void run_train_batch(text *t, const golden_data *d, size_t threads)
{
    static const fit_config c = {"train_batch", D_PLAIN, {NET_A, .l2 = {1e-3, 0, 0}},
                                 {.lr = 1e-2}, {0}};
    static const size_t bounds[] = {0, 1, 8, 72, 172, 300};
    const regnn_dataset *tr = d->train[D_PLAIN];
    const size_t n = regnn_dataset_rows(tr), nf = regnn_dataset_features(tr);
    float *x = malloc(n * nf * sizeof *x), *y = malloc(n * sizeof *y), *w = malloc(n * sizeof *w);
    fit_parts p;
    memset(&p, 0, sizeof p);
    if (!x || !y || !w)
        die("out of memory");
    put(t, "config %s\n", c.name);
    TRY(t, regnn_dataset_get_features(tr, x, n * nf));
    TRY(t, regnn_dataset_get_targets(tr, y, n));
    for (size_t i = 0; i < n; i++)
        w[i] = 0.25f + (float)(i % 3) * 0.5f;
    TRY(t, build_parts(&c, d, threads, &p));
    for (size_t b = 0; b + 1 < sizeof bounds / sizeof bounds[0]; b++) {
        const size_t r0 = bounds[b], rows = bounds[b + 1] - r0;
        double loss = 0.0;
        char key[64];
        regnn_status st = b % 2 ? regnn_train_batch_weighted(p.m, p.o, x + r0 * nf, y + r0,
                                                             w + r0, rows, &loss)
                                : regnn_train_batch(p.m, p.o, x + r0 * nf, y + r0, rows, &loss);
        snprintf(key, sizeof key, "batch[%zu..%zu).loss", r0, r0 + rows);
        if (put_status(t, key, st) == 0)
            put_num(t, key, loss);
    }
    put_model(t, "model", p.m, d->val[D_PLAIN]);
    put_saved(t, "checkpoint", save_checkpoint, p.m, p.o);
done:
    free_parts(&p);
    free(x);
    free(y);
    free(w);
}

/* ---------------------------------------------------------------- paths */

typedef struct {
    const char *name;
    fit_config fit;
    double lambdas[4];
    size_t n_lambdas;
    int seeds, seed, penalty, folds, fold_seed;
    size_t layers[MAX_LAYERS], n_layers; /* 0: every layer */
    int no_eval_train;                   /* REGNN_PATH_EVAL_TRAIN 0 */
    int test;                            /* the validation rows as test data too */
    double refit_lambda;                 /* < 0: no refit; with folds: the 1SE lambda */
} path_config;

static const path_config path_configs[] = {
    {"path_l2", {NULL, D_PLAIN, {NET_A}, {.lr = 1e-2}, {.epochs = 5}},
     {0, 1e-4, 1e-3, 1e-2}, 4, .seeds = 2, .seed = 3, .test = 1, .refit_lambda = 1e-3},
    {"path_l1_layers",
     {NULL, D_PLAIN, {NET_A, .he_init = 1}, {.lr = 1e-2}, {.epochs = 4, .batch = 64}},
     {0, 1e-3, 1e-2}, 3, .seeds = 2, .penalty = REGNN_PENALTY_L1, .layers = {0, 2}, .n_layers = 2,
     .no_eval_train = 1, .refit_lambda = -1},
    {"path_weight_decay",
     {NULL, D_PLAIN, {NET_A}, {.sgd = 1, .lr = 1e-2, .momentum = 0.9},
      {.epochs = 4, .validation_split = 0.2}},
     {0, 1e-2, 1e-1}, 3, .seeds = 1, .seed = 5, .penalty = REGNN_PENALTY_WEIGHT_DECAY,
     .refit_lambda = -1},
    {"path_early_stop",
     {NULL, D_PLAIN, {NET_A, .dropout = {0.1, 0, 0}}, {.lr = 3e-2},
      {.epochs = 20, .early_stopping = 1, .patience = 1}},
     {0, 1e-2}, 2, .seeds = 2, .seed = 1, .refit_lambda = -1},
    {"cv_path_l2", {NULL, D_PLAIN, {NET_A}, {.lr = 1e-2}, {.epochs = 4, .no_val = 1}},
     {0, 1e-3, 1e-2}, 3, .seeds = 2, .folds = 3, .fold_seed = 5},
    {"cv_path_l1_b64",
     {NULL, D_PLAIN, {NET_A}, {.lr = 1e-2}, {.epochs = 3, .batch = 64, .no_val = 1}},
     {0, 1e-3}, 2, .seeds = 1, .seed = 2, .folds = 4, .fold_seed = 9, .penalty = REGNN_PENALTY_L1},
};

static const struct {
    int key;
    const char *name;
} run_values[] = {{REGNN_RUN_BEST_VAL_MSE, "best_val_mse"},
                  {REGNN_RUN_BEST_EPOCH, "best_epoch"},
                  {REGNN_RUN_TRAIN_MSE_AT_BEST, "train_mse_at_best"},
                  {REGNN_RUN_FINAL_VAL_MSE, "final_val_mse"},
                  {REGNN_RUN_FINAL_TRAIN_MSE, "final_train_mse"},
                  {REGNN_RUN_FINAL_GAP, "final_gap"},
                  {REGNN_RUN_EPOCHS, "epochs"},
                  {REGNN_RUN_VERDICT, "verdict"},
                  {REGNN_RUN_REASON, "reason"},
                  {REGNN_RUN_DIVERGED, "diverged"},
                  {REGNN_RUN_TEST_MSE, "test_mse"}}; /* all but the seconds */

static regnn_status build_path_opts(const path_config *c, const golden_data *d, size_t threads,
                                    regnn_path_options **out)
{
    const struct {
        int key;
        int64_t v;
    } ints[] = {{REGNN_PATH_SEEDS, c->seeds},        {REGNN_PATH_SEED, c->seed},
                {REGNN_PATH_PENALTY, c->penalty},    {REGNN_PATH_THREADS, (int64_t)threads},
                {REGNN_PATH_INIT, c->fit.net.he_init ? REGNN_INIT_HE_UNIFORM
                                                     : REGNN_INIT_GLOROT_UNIFORM},
                {REGNN_PATH_FOLDS, c->folds},        {REGNN_PATH_FOLD_SEED, c->fold_seed},
                {REGNN_PATH_EVAL_TRAIN, !c->no_eval_train}};
    regnn_path_options *po = NULL;
    regnn_status st = regnn_path_options_create(&po);
    if (st == REGNN_OK)
        st = regnn_path_options_set_lambdas(po, c->lambdas, c->n_lambdas);
    for (size_t i = 0; st == REGNN_OK && i < sizeof ints / sizeof ints[0]; i++)
        st = regnn_path_options_set_int(po, ints[i].key, ints[i].v);
    if (st == REGNN_OK && c->n_layers)
        st = regnn_path_options_set_layers(po, c->layers, c->n_layers);
    if (st == REGNN_OK && c->test)
        st = regnn_path_options_set_test(po, d->val[c->fit.data]);
    if (st != REGNN_OK) {
        regnn_path_options_free(po);
        po = NULL;
    }
    *out = po;
    return st;
}

static void put_path(text *t, const regnn_path *p, const regnn_dataset *train)
{
    const size_t nl = regnn_path_lambda_count(p), folds = regnn_path_fold_count(p);
    const size_t runs = nl * folds * regnn_path_seed_count(p);
    char key[96];
    put(t, "path.lambdas %zu seeds %zu folds %zu\n", nl, regnn_path_seed_count(p), folds);
    put_num(t, "path.baseline_mse", regnn_path_baseline_mse(p));
    double *v = malloc(runs * sizeof *v);
    if (!v)
        die("out of memory");
    for (size_t k = 0; k < sizeof run_values / sizeof run_values[0]; k++) {
        if (put_status(t, "regnn_path_get_runs",
                       regnn_path_get_runs(p, run_values[k].key, v, runs)))
            continue;
        for (size_t r = 0; r < runs; r++) {
            snprintf(key, sizeof key, "run[%zu].%s", r, run_values[k].name);
            put_num(t, key, v[r]);
        }
    }
    static const char *const aggs[] = {"mean", "sd", "se", "min", "max"};
    /* The summaries of the values lambdas are chosen by (the others are
     * summarized by the same code). */
    static const struct {
        int key;
        const char *name;
    } summarized[] = {{REGNN_RUN_BEST_VAL_MSE, "best_val_mse"},
                      {REGNN_RUN_FINAL_VAL_MSE, "final_val_mse"}};
    for (size_t k = 0; k < 2; k++)
        for (int a = REGNN_AGG_MEAN; a <= REGNN_AGG_MAX; a++) {
            if (put_status(t, "regnn_path_get", regnn_path_get(p, summarized[k].key, a, v, nl)))
                continue;
            for (size_t i = 0; i < nl; i++) {
                snprintf(key, sizeof key, "lambda[%zu].%s.%s", i, summarized[k].name, aggs[a]);
                put_num(t, key, v[i]);
            }
        }
    free(v);
    static const int select_stats[] = {REGNN_RUN_BEST_VAL_MSE, REGNN_RUN_FINAL_VAL_MSE};
    for (size_t k = 0; k < 2; k++)
        for (int rule = REGNN_SELECT_MIN; rule <= REGNN_SELECT_1SE; rule++) {
            size_t best = 0;
            if (put_status(t, "regnn_path_best_index",
                           regnn_path_best_index(p, select_stats[k], rule, &best)) == 0)
                put(t, "path.best_index stat=%d rule=%d %zu\n", select_stats[k], rule, best);
        }
    for (size_t i = 0; i < nl; i++)
        for (size_t s = 0; s < folds * regnn_path_seed_count(p); s++) {
            snprintf(key, sizeof key, "run[%zu].history", i * folds * regnn_path_seed_count(p) + s);
            const regnn_history *h = regnn_path_history(p, i, s);
            if (h)
                put_history_digest(t, key, h);
            else
                put(t, "%s none\n", key);
        }
    if (folds > 1) {
        const size_t n = regnn_dataset_rows(train);
        size_t *f = malloc(n * sizeof *f);
        if (!f)
            die("out of memory");
        if (put_status(t, "regnn_path_folds", regnn_path_folds(p, f, n)) == 0)
            for (size_t r = 0; r < n; r += 64) {
                put(t, "path.folds[%zu]", r);
                for (size_t j = r; j < n && j < r + 64; j++)
                    put(t, "%s%zu", j == r ? " " : "", f[j]);
                put(t, "\n");
            }
        free(f);
    }
}

static void run_path(text *t, const path_config *c, const golden_data *d, size_t threads)
{
    const fit_config *fc = &c->fit;
    regnn_model *m = NULL, *refit = NULL;
    regnn_optimizer *o = NULL;
    regnn_fit_options *fo = NULL;
    regnn_path_options *po = NULL;
    regnn_path *p = NULL;
    regnn_history *h = NULL;
    const regnn_dataset *train = d->train[fc->data];
    put(t, "config %s\n", c->name);
    TRY(t, build_net(&fc->net, regnn_dataset_features(train), &m));
    TRY(t, build_opt(&fc->opt, &o));
    TRY(t, build_fit_opts(&fc->fit, &fo));
    TRY(t, build_path_opts(c, d, threads, &po));
    regnn_status st = regnn_regularization_path(m, o, train, val_of(fc, d), fo, po, &p);
    put(t, "path.status %d\n", st);
    if (put_status(t, "regnn_regularization_path", st))
        goto done;
    put_path(t, p, train);
    double lambda = c->refit_lambda;
    if (c->folds > 1) {
        size_t best = 0;
        TRY(t, regnn_path_best_index(p, REGNN_RUN_FINAL_VAL_MSE, REGNN_SELECT_1SE, &best));
        lambda = c->lambdas[best];
    }
    if (lambda >= 0.0) {
        put_num(t, "refit.lambda", lambda);
        TRY(t, regnn_path_refit(m, o, train, fo, po, lambda, &refit, &h));
        put_history(t, "refit.history", h);
        put_model(t, "refit.model", refit, d->val[fc->data]);
    }
done:
    regnn_history_free(h);
    regnn_model_free(refit);
    regnn_path_free(p);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
}

/* ---------------------------------------------------------------- main */

#define MAX_THREADS 4

/* One configuration at 1..MAX_THREADS threads. */
typedef void (*run_fn)(text *t, const void *config, const golden_data *d, size_t threads);

static void run_fit_cb(text *t, const void *c, const golden_data *d, size_t th)
{
    run_fit(t, c, d, th);
}

static void run_path_cb(text *t, const void *c, const golden_data *d, size_t th)
{
    run_path(t, c, d, th);
}

static void run_tb_cb(text *t, const void *c, const golden_data *d, size_t th)
{
    (void)c;
    run_train_batch(t, d, th);
}

static size_t run_variants(const char *dir, const char *name, run_fn fn, const void *config,
                           const golden_data *d)
{
    size_t files = 0;
    for (size_t th = 1; th <= MAX_THREADS; th++) {
        char variant[64];
        text t = {0};
        snprintf(variant, sizeof variant, "threads%zu", th);
        fn(&t, config, d, th);
        write_file(dir, name, th == 1 ? NULL : variant, &t);
        free(t.s);
        files++;
    }
    return files;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--kernel") == 0) {
        printf("%s\n", rg_gemm_kernel_name());
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--kernels") == 0) {
        for (int kind = 1; kind <= 4; kind++)
            if (regnn__test_gemm_kernel(kind) == 0)
                printf("%s\n", rg_gemm_kernel_name());
        regnn__test_gemm_kernel(KERNEL_BY_CPU);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr,
                "usage: golden --kernel | golden --kernels | golden DIABETES_CSV OUT_DIR\n");
        return 2;
    }
    const char *dir = argv[2];
    golden_data d;
    load_data(argv[1], &d);
    if (regnn_set_blas_threads(1) != REGNN_OK)
        die(regnn_errmsg());
    size_t configs = 0, files = 0;
    for (size_t i = 0; i < sizeof fit_configs / sizeof fit_configs[0]; i++, configs++)
        files += run_variants(dir, fit_configs[i].name, run_fit_cb, &fit_configs[i], &d);
    files += run_variants(dir, "train_batch", run_tb_cb, NULL, &d);
    configs++;
    for (size_t i = 0; i < sizeof path_configs / sizeof path_configs[0]; i++, configs++)
        files += run_variants(dir, path_configs[i].name, run_path_cb, &path_configs[i], &d);
    for (size_t i = 0; i < sizeof dp_configs / sizeof dp_configs[0]; i++, configs++) {
        run_dp(dir, &dp_configs[i], &d);
        files += dp_configs[i].processes;
    }
    free_data(&d);
    printf("golden: %zu configurations, %zu outputs, kernel %s\n", configs, files,
           rg_gemm_kernel_name());
    return 0;
}
