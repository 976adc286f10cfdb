/* SPDX-License-Identifier: MIT */
/*
 * diabetes.c - reproduces the study "Impact of regularization on deep neural
 * networks" (TensorFlow 2 / Keras) with libregnn's public API only.
 *
 * The data are the 442 rows of the diabetes study (Efron et al. 2004). The
 * network is Dense(128, relu) x 6 -> Dense(1), Glorot-uniform, Adam with Keras
 * defaults, MSE, batch 64, 100 epochs, Keras validation_split 0.15. The program
 *   1. trains every (lambda, seed) pair of an L2 sweep with
 *      regnn_regularization_path, one call per seed (each seed has its own
 *      train/test split), one line per run; the path scores each trained
 *      network on the seed's test rows (regnn_path_options_set_test,
 *      REGNN_RUN_TEST_MSE), so every run is trained once;
 *   2. prints the lambda table (mean +- sd over seeds, and the majority
 *      regnn_history_diagnose verdict) and marks the lambda with the lowest
 *      validation MSE;
 *   3. compares the unregularized model with the regularized one per epoch;
 *   4. writes each run's history as CSV, a summary CSV, a Markdown table and
 *      two SVG figures (study.svg, lambda_sweep.svg) into the output folder;
 *   5. chooses lambda on the first seed's training rows by 5-fold
 *      cross-validation (REGNN_PATH_FOLDS, cv.glmnet's lambda.min and
 *      lambda.1se) and by the tail split, refits on all training rows at each
 *      choice (regnn_path_refit) and reports the test MSE of each.
 * Run with --help for the options and the exact definitions.
 */
#define _POSIX_C_SOURCE 200809L
#include <regnn.h>

#include "exutil.h"
#include "svgplot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAMBDAS 32
#define MAX_SEEDS 1000
#define HIDDEN_LAYERS 6
#define HIDDEN_UNITS 128
#define TEST_SIZE 0.1
#define VAL_SPLIT 0.15

/* The study's expected result with the defaults (standardized units). */
#define EXPECT_UNREG_BEST_EPOCH_MAX 30.0
#define EXPECT_UNREG_GAP_MIN 0.5
#define EXPECT_REG_GAP_MAX 0.2

static const double default_lambdas[] = {0, 1e-5, 1e-4, 1e-3, 1e-2, 3e-2};

typedef struct {
    const char *data;
    const char *out;
    long seed, n_seeds, epochs, batch, jobs, every, patience, blas_threads, cv_folds, cv_seeds;
    double lambdas[MAX_LAMBDAS];
    size_t n_lambdas;
    double reg_lambda;
    int have_reg_lambda;
    double dropout;
    int verbose;
    int self_check; /* hidden --self-check: retrain one run by hand, compare */
} options;

/* One model setting; every setting is trained once per seed. */
typedef struct {
    double lambda, dropout;
    long patience;  /* < 0: no early stopping */
    int in_sweep;   /* a row of the lambda sweep (else: the extra plain baseline) */
    char name[80];  /* file-name stem */
    char label[80]; /* table label */
} config;

typedef struct {
    size_t cfg;
    uint64_t seed;
    size_t epochs;                      /* epochs actually run */
    double *train, *val, *loss, *val_loss; /* per epoch, from the path's history */
    size_t best_epoch;                  /* 1-based epoch of the lowest validation MSE */
    double train_last, val_last, gap, test_mse, seconds;
    int stop_reason;
    int verdict, reason;                /* regnn_history_diagnose with the path's baseline */
    regnn_status status;
    char err[600];
} run;

#define N_VERDICTS 4 /* REGNN_VERDICT_INSUFFICIENT .. REGNN_VERDICT_UNDERFITTING */

typedef struct {
    double best_epoch, best_epoch_sd, epochs, epochs_sd, train, train_sd, val, val_sd, gap,
        gap_sd, test, test_sd;
    size_t verdicts[N_VERDICTS]; /* runs per REGNN_VERDICT_* */
    int verdict;                 /* the most common one */
} summary;

/* Settings shared by the runs of one group: the sweep (lambda varies) or the
 * plain unregularized reference added when the sweep uses dropout or early
 * stopping. */
enum { GROUP_SWEEP = 0, GROUP_REFERENCE = 1, N_GROUPS = 2 };

typedef struct {
    const options *o;
    const config *cfgs;
    run *runs;
    size_t n_runs;
    regnn_dataset **train; /* per seed index: the 90 % part (fit splits off validation) */
    regnn_dataset **test;  /* per seed index: the 10 % test part */
    size_t n_features;
    regnn_model *tmpl[N_GROUPS]; /* template networks (lambda is set per run); NULL if unused */
    size_t reported;             /* runs reported by the path's progress callback */
    int label_w; /* width of the setting column */
    double t0;
} sweep;

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fputs(
        "Usage: diabetes [options]\n"
        "Reproduces \"Impact of regularization on deep neural networks\" (Keras) on the\n"
        "diabetes data with libregnn: an L2 (weight decay) sweep over several seeds,\n"
        "a lambda table, learning-curve CSVs and SVG figures.\n"
        "\n"
        "Options (defaults in brackets):\n"
        "  --data PATH        CSV with a header and target column y [examples/data/diabetes.csv]\n"
        "  --out DIR          folder for CSVs and SVGs, created if missing [out]\n"
        "  --seed S           first seed [1]\n"
        "  --seeds N          number of seeds: S, S+1, ..., S+N-1 [5]\n"
        "  --epochs E         epochs per run [100]\n"
        "  --batch B          batch size [64]\n"
        "  --lambdas LIST     comma-separated L2 factors of the sweep [0,1e-5,1e-4,1e-3,1e-2,3e-2]\n"
        "  --lambda L         L2 factor of the regularized model in the comparison and in\n"
        "                     study.svg; added to the sweep if missing [the sweep's best]\n"
        "  --dropout R        Dropout(R) after each hidden layer of every sweep model [0]\n"
        "  --early-stopping P Keras EarlyStopping(patience=P) on val_loss for every sweep\n"
        "                     model, without restoring the best weights [off]\n"
        "  --jobs J           runs trained in parallel threads (REGNN_PATH_THREADS)\n"
        "                     [number of CPUs; 1 when --blas-threads > 1]\n"
        "  --blas-threads N   threads of each matrix product, regnn_set_blas_threads [1]\n"
        "  --every K          print the comparison's learning curves every K epochs [10]\n"
        "  --cv K             choose lambda by K-fold cross-validation too, and compare\n"
        "                     it with the tail split on the test rows (0 = off) [5]\n"
        "  --cv-seeds N       do that on the first N seeds' splits [1]\n"
        "  --verbose          also print every epoch of every run, from the run's\n"
        "                     history once its seed's regularization path has finished\n"
        "                     (not live: the path reports whole runs)\n"
        "  --help             this text\n"
        "\n",
        f);
    fputs(
        "What it does, exactly:\n"
        "  Data: regnn_dataset_from_csv(path, target \"y\"); features scaled the sklearn\n"
        "    load_diabetes way, (x - mean) / (std * sqrt(n)) per column, and the target\n"
        "    z-scored, (y - mean) / std; std with divisor n; statistics over ALL rows,\n"
        "    as the study did (REGNN_SCALE_UNIT_NORM, REGNN_SCALE_ZSCORE).\n"
        "  Split: regnn_dataset_split_shuffled(test_size 0.1, seed) -> 397 train / 45 test,\n"
        "    then Keras validation_split 0.15 of the 397: the last 60 rows, unshuffled\n"
        "    -> 337 train / 60 validation.\n"
        "  Model: Dense(128, relu) x 6 -> Dense(1, linear), Glorot-uniform kernels, zero\n"
        "    biases; L2 penalty lambda * sum(kernel^2) on every layer (Keras\n"
        "    kernel_regularizer=l2(lambda); biases not penalized); Adam (lr 1e-3, beta1\n"
        "    0.9, beta2 0.999, eps 1e-7); MSE; training rows reshuffled every epoch.\n"
        "  Seeds: run with seed s uses s for the test split, for the weights and for the\n"
        "    shuffling/dropout RNG (regnn_model_init(m, GLOROT_UNIFORM, s)).\n"
        "  Sweep: for each seed s, one regnn_regularization_path call (REGNN_PATH_SEEDS 1,\n"
        "    REGNN_PATH_SEED s, the lambda list, --jobs threads) on that seed's 397 rows\n"
        "    trains every lambda: a copy of the network with REGNN_LAYER_L2 = lambda,\n"
        "    regnn_model_init(copy, GLOROT_UNIFORM, s), regnn_fit, and scores the trained\n"
        "    network on that seed's 45 test rows (regnn_path_options_set_test). The\n"
        "    curves, every table column and the verdicts come from the path\n"
        "    (REGNN_RUN_TEST_MSE for the test MSE); each run is trained once.\n"
        "  Table (mean +- sample sd over seeds), in standardized target units:\n"
        "    best val epoch  1-based epoch with the lowest validation MSE\n"
        "    train MSE       MSE on the 337 training rows at the last epoch's weights,\n"
        "                    no dropout, no penalty (REGNN_METRIC_TRAIN_EVAL_MSE)\n"
        "    val MSE         MSE on the 60 validation rows, last epoch (REGNN_METRIC_VAL_MSE)\n"
        "    gap             val MSE - train MSE, both data-only and at the same weights\n"
        "    test MSE        MSE on the 45 test rows after training (the last epoch's\n"
        "                    weights; REGNN_RUN_TEST_MSE)\n"
        "    verdict         the most common regnn_history_diagnose verdict over the\n"
        "                    seeds (overfitting, underfitting, good fit), with the\n"
        "                    path's baseline (the MSE of predicting the training mean)\n"
        "  The Keras \"loss\" (running mean over the epoch's batches plus the L2 penalty)\n"
        "  and \"val_loss\" (validation MSE plus the L2 penalty) are saved in the CSVs\n"
        "  (columns loss, val_loss) and drawn dotted in study.svg; they are not used for\n"
        "  the gap because they mix the penalty (and, for loss, changing weights) in.\n"
        "  The lambda with the lowest mean validation MSE is marked 'best'.\n",
        f);
    fputs(
        "  Choosing lambda (--cv K): on a seed's 397 training rows, (a) the tail split:\n"
        "    the lambda with the lowest last-epoch validation MSE of that seed's sweep;\n"
        "    (b) K-fold CV: one regnn_regularization_path with REGNN_PATH_FOLDS K\n"
        "    (REGNN_PATH_FOLD_SEED = the seed, no validation split), every lambda\n"
        "    trained on K-1 folds and scored on the held-out fold at the last epoch;\n"
        "    lambda.min = the lowest CV MSE (cv.glmnet's cvm, fold-size-weighted mean),\n"
        "    lambda.1se = the largest lambda within one standard error (cvsd) of it\n"
        "    (regnn_path_best_index on REGNN_RUN_FINAL_VAL_MSE). Each chosen lambda is\n"
        "    refit on all 397 rows (regnn_path_refit: the same network, seed and\n"
        "    epochs, no validation, no early stopping) and scored on the 45 test rows.\n"
        "\n"
        "Output in DIR: study.svg (unregularized vs regularized learning curves, each\n"
        "  seed's best epoch ringed, the mean best epoch dashed),\n"
        "  lambda_sweep.svg (gap and MSEs against lambda), sweep.csv (the table),\n"
        "  lambda_table.md (the table in Markdown), runs.csv (one line per run),\n"
        "  runs/<setting>_seed<s>.csv (each run's history, regnn_history_write_csv),\n"
        "  cv.csv (with --cv: per seed and rule the chosen lambda, its CV MSE and se,\n"
        "  its tail-split val MSE and the refit's test MSE).\n"
        "\n"
        "Speed: these matrices are too small for BLAS threads. With OpenBLAS's own\n"
        "default (one thread per core) one run is about 2x slower, and parallel runs\n"
        "fighting over the BLAS threads 20-30x slower; so the program calls\n"
        "regnn_set_blas_threads(1) and uses the cores for independent runs (--jobs).\n"
        "Results do not depend on --jobs; they can change in the last digits with\n"
        "--blas-threads or another BLAS (the order of float sums changes).\n"
        "Exit status: 0 on success, 1 if a step failed, 2 for bad options.\n",
        f);
}

static int bad_option(const char *opt, const char *value, const char *what)
{
    fprintf(stderr, "diabetes: %s %s: %s (see --help)\n", opt, value ? value : "(missing)", what);
    return 2;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->data = "examples/data/diabetes.csv";
    o->out = "out";
    o->seed = 1;
    o->n_seeds = 5;
    o->epochs = 100;
    o->batch = 64;
    o->jobs = 0;
    o->every = 10;
    o->patience = -1;
    o->blas_threads = 1;
    o->cv_folds = 5;
    o->cv_seeds = 1;
    o->n_lambdas = sizeof default_lambdas / sizeof default_lambdas[0];
    memcpy(o->lambdas, default_lambdas, sizeof default_lambdas);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--verbose") == 0) {
            o->verbose = 1;
        } else if (strcmp(a, "--self-check") == 0) {
            o->self_check = 1; /* undocumented: for tests/test_examples.sh */
        } else if (ex_option(argc, argv, &i, "--data", &v)) {
            if (!v || !*v)
                return bad_option(a, v, "a file name is required");
            o->data = v;
        } else if (ex_option(argc, argv, &i, "--out", &v)) {
            if (!v || !*v)
                return bad_option(a, v, "a folder name is required");
            o->out = v;
        } else if (ex_option(argc, argv, &i, "--seed", &v)) {
            if (ex_parse_long(v, 0, 1000000000L, &o->seed) != 0)
                return bad_option(a, v, "expected an integer in 0..1e9");
        } else if (ex_option(argc, argv, &i, "--seeds", &v)) {
            if (ex_parse_long(v, 1, MAX_SEEDS, &o->n_seeds) != 0)
                return bad_option(a, v, "expected an integer in 1..1000");
        } else if (ex_option(argc, argv, &i, "--epochs", &v)) {
            if (ex_parse_long(v, 1, 100000, &o->epochs) != 0)
                return bad_option(a, v, "expected an integer in 1..100000");
        } else if (ex_option(argc, argv, &i, "--batch", &v)) {
            if (ex_parse_long(v, 1, 100000, &o->batch) != 0)
                return bad_option(a, v, "expected an integer in 1..100000");
        } else if (ex_option(argc, argv, &i, "--jobs", &v)) {
            if (ex_parse_long(v, 1, 256, &o->jobs) != 0)
                return bad_option(a, v, "expected an integer in 1..256");
        } else if (ex_option(argc, argv, &i, "--blas-threads", &v)) {
            if (ex_parse_long(v, 1, 4096, &o->blas_threads) != 0)
                return bad_option(a, v, "expected an integer in 1..4096");
        } else if (ex_option(argc, argv, &i, "--every", &v)) {
            if (ex_parse_long(v, 1, 100000, &o->every) != 0)
                return bad_option(a, v, "expected an integer >= 1");
        } else if (ex_option(argc, argv, &i, "--cv", &v)) {
            if (ex_parse_long(v, 0, 100, &o->cv_folds) != 0 || o->cv_folds == 1)
                return bad_option(a, v, "expected 0 (off) or a fold count in 2..100");
        } else if (ex_option(argc, argv, &i, "--cv-seeds", &v)) {
            if (ex_parse_long(v, 1, MAX_SEEDS, &o->cv_seeds) != 0)
                return bad_option(a, v, "expected an integer in 1..1000");
        } else if (ex_option(argc, argv, &i, "--early-stopping", &v)) {
            if (ex_parse_long(v, 0, 100000, &o->patience) != 0)
                return bad_option(a, v, "expected a patience >= 0");
        } else if (ex_option(argc, argv, &i, "--dropout", &v)) {
            if (ex_parse_double(v, &o->dropout) != 0 || o->dropout < 0 || o->dropout >= 1)
                return bad_option(a, v, "expected a rate in [0, 1)");
        } else if (ex_option(argc, argv, &i, "--lambda", &v)) {
            if (ex_parse_double(v, &o->reg_lambda) != 0 || o->reg_lambda < 0)
                return bad_option(a, v, "expected a number >= 0");
            o->have_reg_lambda = 1;
        } else if (ex_option(argc, argv, &i, "--lambdas", &v)) {
            int n = ex_parse_double_list(v, o->lambdas, MAX_LAMBDAS);
            if (n <= 0)
                return bad_option(a, v, "expected up to 32 comma-separated numbers");
            o->n_lambdas = (size_t)n;
            for (size_t k = 0; k < o->n_lambdas; k++)
                if (o->lambdas[k] < 0)
                    return bad_option(a, v, "lambdas must be >= 0");
        } else {
            fprintf(stderr, "diabetes: unknown argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (o->have_reg_lambda) {
        int found = 0;
        for (size_t k = 0; k < o->n_lambdas; k++)
            found |= o->lambdas[k] == o->reg_lambda;
        if (!found) {
            if (o->n_lambdas == MAX_LAMBDAS)
                return bad_option("--lambda", "", "the sweep is full (32 values)");
            o->lambdas[o->n_lambdas++] = o->reg_lambda;
        }
    }
    if (o->cv_seeds > o->n_seeds)
        o->cv_seeds = o->n_seeds;
    qsort(o->lambdas, o->n_lambdas, sizeof o->lambdas[0], cmp_double);
    size_t w = 0; /* drop duplicates */
    for (size_t k = 0; k < o->n_lambdas; k++)
        if (w == 0 || o->lambdas[k] != o->lambdas[w - 1])
            o->lambdas[w++] = o->lambdas[k];
    o->n_lambdas = w;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The sweep: one regularization path per seed                          */
/* ------------------------------------------------------------------ */

#define TRY(call)                                                                 \
    do {                                                                          \
        st = (call);                                                              \
        if (st != REGNN_OK) {                                                     \
            snprintf(r->err, sizeof r->err, "%s (%s)", regnn_errmsg(),            \
                     regnn_strerror(st));                                         \
            goto done;                                                            \
        }                                                                         \
    } while (0)

/* The network of a group, without lambda and uninitialized: Dense(128, relu) x 6
 * -> Dense(1), with dropout after each hidden layer if given. */
static regnn_status make_template(size_t n_features, double dropout, regnn_model **out)
{
    regnn_model *m = NULL;
    regnn_status st = regnn_model_create(n_features, &m);
    for (int i = 0; i < HIDDEN_LAYERS && st == REGNN_OK; i++)
        st = regnn_model_add_dense(m, HIDDEN_UNITS, REGNN_ACT_RELU, NULL);
    if (st == REGNN_OK)
        st = regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL);
    for (size_t i = 0; dropout > 0 && i < HIDDEN_LAYERS && st == REGNN_OK; i++)
        st = regnn_layer_set_double(regnn_model_layer(m, i), REGNN_LAYER_DROPOUT, dropout);
    if (st != REGNN_OK) {
        regnn_model_free(m);
        m = NULL;
    }
    *out = m;
    return st;
}

/* The fit options of every run: Keras-style split, train MSE at end-of-epoch
 * weights (the path turns it on anyway), early stopping if patience >= 0. */
static regnn_status make_fit_options(const options *o, long patience, regnn_fit_options **out)
{
    regnn_fit_options *fo = NULL;
    regnn_status st = regnn_fit_options_create(&fo);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, o->epochs);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, o->batch);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_int(fo, REGNN_FIT_SHUFFLE, 1);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_int(fo, REGNN_FIT_EVAL_TRAIN, 1);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, VAL_SPLIT);
    if (st == REGNN_OK && patience >= 0) {
        st = regnn_fit_options_set_int(fo, REGNN_FIT_EARLY_STOPPING, 1);
        if (st == REGNN_OK)
            st = regnn_fit_options_set_int(fo, REGNN_FIT_PATIENCE, patience);
        if (st == REGNN_OK)
            st = regnn_fit_options_set_int(fo, REGNN_FIT_MONITOR, REGNN_MONITOR_VAL_LOSS);
    }
    if (st != REGNN_OK) {
        regnn_fit_options_free(fo);
        fo = NULL;
    }
    *out = fo;
    return st;
}

/* The setting (config index) of a group's lambda. */
static size_t config_of(const sweep *S, int group, double lambda)
{
    const options *o = S->o;
    if (group == GROUP_REFERENCE)
        return o->n_lambdas; /* the extra setting after the sweep's */
    for (size_t c = 0; c < o->n_lambdas; c++)
        if (S->cfgs[c].lambda == lambda)
            return c;
    return (size_t)-1;
}

typedef struct {
    sweep *S;
    int group;
    double *buf; /* epochs doubles */
} progress_ctx;

/* regnn_path_progress_fn: one line per finished run (on the main thread). */
static int on_run(void *user, size_t done, size_t total, double lambda, uint64_t seed,
                  const regnn_history *h)
{
    progress_ctx *pc = user;
    sweep *S = pc->S;
    (void)done;
    (void)total;
    size_t c = config_of(S, pc->group, lambda);
    const char *label = c != (size_t)-1 ? S->cfgs[c].label : "?";
    S->reported++;
    if (!h) {
        printf("[%3zu/%zu] %-*s seed %-3llu diverged\n", S->reported, S->n_runs, S->label_w,
               label, (unsigned long long)seed);
        fflush(stdout);
        return 0;
    }
    /* The descriptive values do not depend on the baseline; the verdict is
     * taken later, with the path's baseline. */
    double d[REGNN_DIAG_COUNT], secs = 0;
    int verdict;
    size_t n = regnn_history_epochs(h);
    if (regnn_history_diagnose(h, NAN, &verdict, NULL, d, REGNN_DIAG_COUNT) != REGNN_OK ||
        regnn_history_get(h, REGNN_METRIC_SECONDS, pc->buf, n) != REGNN_OK)
        return 0; /* only the progress line is lost; the results are read after the call */
    for (size_t e = 0; e < n; e++)
        secs += pc->buf[e];
    printf("[%3zu/%zu] %-*s seed %-3llu best val epoch %3.0f   train MSE %.3f   val MSE %.3f   "
           "gap %6.3f   (%.1f s)\n",
           S->reported, S->n_runs, S->label_w, label, (unsigned long long)seed,
           d[REGNN_DIAG_BEST_EPOCH] + 1, d[REGNN_DIAG_FINAL_TRAIN_MSE], d[REGNN_DIAG_FINAL_VAL_MSE],
           d[REGNN_DIAG_FINAL_GAP], secs);
    fflush(stdout);
    return 0;
}

/* Copy run r's results out of the path p (lambda index li, its only seed):
 * curves, summary values, verdict; write its history CSV. */
static regnn_status take_run(sweep *S, run *r, const regnn_path *p, size_t li)
{
    const options *o = S->o;
    const config *c = &S->cfgs[r->cfg];
    regnn_status st = REGNN_OK;
    const regnn_history *h = regnn_path_history(p, li, 0);
    if (!h) {
        st = REGNN_E_NUMERIC;
        snprintf(r->err, sizeof r->err,
                 "training diverged: the loss became NaN or Inf (REGNN_RUN_DIVERGED)");
        goto done;
    }
    size_t n = regnn_history_epochs(h);
    if (n == 0) {
        st = REGNN_E_INTERNAL;
        snprintf(r->err, sizeof r->err, "regnn_fit recorded no epoch");
        goto done;
    }
    /* One block per run, owned by r->train (freed by main): the four curves. */
    r->train = malloc(4 * n * sizeof(double));
    if (!r->train) {
        st = REGNN_E_NOMEM;
        snprintf(r->err, sizeof r->err, "out of memory");
        goto done;
    }
    r->epochs = n;
    r->val = r->train + n;
    r->loss = r->train + 2 * n;
    r->val_loss = r->train + 3 * n;
    TRY(regnn_history_get(h, REGNN_METRIC_TRAIN_EVAL_MSE, r->train, n));
    TRY(regnn_history_get(h, REGNN_METRIC_VAL_MSE, r->val, n));
    TRY(regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, r->loss, n));
    TRY(regnn_history_get(h, REGNN_METRIC_VAL_LOSS, r->val_loss, n));
    r->stop_reason = regnn_history_stop_reason(h);

    /* The per-run values of the path (lambda-major; one seed per call). */
    static const int keys[] = {REGNN_RUN_BEST_EPOCH,    REGNN_RUN_FINAL_TRAIN_MSE,
                               REGNN_RUN_FINAL_VAL_MSE, REGNN_RUN_FINAL_GAP,
                               REGNN_RUN_SECONDS,       REGNN_RUN_TEST_MSE};
    enum { N_KEYS = sizeof keys / sizeof keys[0] };
    double v[N_KEYS][MAX_LAMBDAS];
    size_t nl = regnn_path_lambda_count(p);
    if (nl > MAX_LAMBDAS) {
        st = REGNN_E_INTERNAL;
        snprintf(r->err, sizeof r->err, "the path has %zu lambdas", nl);
        goto done;
    }
    for (size_t k = 0; k < N_KEYS; k++)
        TRY(regnn_path_get_runs(p, keys[k], v[k], MAX_LAMBDAS));
    r->best_epoch = (size_t)v[0][li] + 1;
    r->train_last = v[1][li];
    r->val_last = v[2][li];
    r->gap = v[3][li];
    r->seconds = v[4][li];
    r->test_mse = v[5][li]; /* the path scored the trained network on S->test[seed] */
    TRY(regnn_history_diagnose(h, regnn_path_baseline_mse(p), &r->verdict, &r->reason, NULL, 0));

    char name[160], path[4096];
    snprintf(name, sizeof name, "runs/%s_seed%llu.csv", c->name, (unsigned long long)r->seed);
    if (ex_join(path, sizeof path, o->out, name) != 0) {
        st = REGNN_E_INVALID_ARG;
        snprintf(r->err, sizeof r->err, "output path too long");
        goto done;
    }
    TRY(regnn_history_write_csv(h, path));
done:
    return st;
}

/* --verbose: run r's epochs, from the path's history (after the path call). */
static void print_epochs(const sweep *S, const run *r)
{
    const config *c = &S->cfgs[r->cfg];
    for (size_t e = 0; e < r->epochs; e++)
        printf("  [%s seed %llu] epoch %3zu/%ld  loss %.4f  val_loss %.4f  train MSE %.4f  "
               "val MSE %.4f\n",
               c->label, (unsigned long long)r->seed, e + 1, S->o->epochs, r->loss[e],
               r->val_loss[e], r->train[e], r->val[e]);
    printf("  [%s seed %llu] test MSE %.4f\n", c->label, (unsigned long long)r->seed, r->test_mse);
    fflush(stdout);
}

/* Every run of the sweep: for each seed and group, one regularization path on
 * that seed's training part, its trained networks scored on the seed's test
 * part. Returns 0, or -1 after printing the error. */
static int run_paths(sweep *S, long jobs)
{
    const options *o = S->o;
    const size_t ns = (size_t)o->n_seeds;
    regnn_path_options *po[N_GROUPS] = {NULL, NULL};
    regnn_fit_options *fo[N_GROUPS] = {NULL, NULL};
    progress_ctx pc[N_GROUPS];
    double *buf = malloc((size_t)o->epochs * sizeof *buf);
    const double zero = 0.0;
    int rc = -1;
    regnn_status st = buf ? REGNN_OK : REGNN_E_NOMEM;
    for (int g = 0; g < N_GROUPS && st == REGNN_OK; g++) {
        if (!S->tmpl[g])
            continue;
        pc[g] = (progress_ctx){S, g, buf};
        st = make_fit_options(o, g == GROUP_SWEEP ? o->patience : -1, &fo[g]);
        if (st == REGNN_OK)
            st = regnn_path_options_create(&po[g]);
        if (st == REGNN_OK)
            st = g == GROUP_SWEEP ? regnn_path_options_set_lambdas(po[g], o->lambdas, o->n_lambdas)
                                  : regnn_path_options_set_lambdas(po[g], &zero, 1);
        if (st == REGNN_OK)
            st = regnn_path_options_set_int(po[g], REGNN_PATH_SEEDS, 1);
        if (st == REGNN_OK)
            st = regnn_path_options_set_int(po[g], REGNN_PATH_THREADS, jobs);
        if (st == REGNN_OK)
            st = regnn_path_options_set_progress(po[g], on_run, &pc[g]);
    }
    if (st != REGNN_OK) {
        fprintf(stderr, "diabetes: setting up the sweep failed: %s\n",
                buf ? regnn_errmsg() : "out of memory");
        goto out;
    }
    for (size_t k = 0; k < ns; k++) {
        for (int g = 0; g < N_GROUPS; g++) {
            if (!S->tmpl[g])
                continue;
            uint64_t seed = (uint64_t)o->seed + k;
            regnn_path *p = NULL;
            st = regnn_path_options_set_int(po[g], REGNN_PATH_SEED, (int64_t)seed);
            if (st == REGNN_OK) /* borrowed until the path call returns */
                st = regnn_path_options_set_test(po[g], S->test[k]);
            if (st == REGNN_OK)
                st = regnn_regularization_path(S->tmpl[g], NULL, S->train[k], NULL, fo[g], po[g],
                                               &p);
            if (st != REGNN_OK) {
                fprintf(stderr, "diabetes: the regularization path of seed %llu failed: %s\n",
                        (unsigned long long)seed, regnn_errmsg());
                goto out;
            }
            size_t nl = regnn_path_lambda_count(p);
            double lam[MAX_LAMBDAS];
            if (nl > MAX_LAMBDAS || regnn_path_lambdas(p, lam, MAX_LAMBDAS) != REGNN_OK) {
                fprintf(stderr, "diabetes: the path of seed %llu has %zu lambdas\n",
                        (unsigned long long)seed, nl);
                regnn_path_free(p);
                goto out;
            }
            for (size_t li = 0; li < nl && st == REGNN_OK; li++) {
                size_t c = config_of(S, g, lam[li]);
                if (c == (size_t)-1) {
                    fprintf(stderr, "diabetes: the path returned lambda %g, not in the sweep\n",
                            lam[li]);
                    st = REGNN_E_INTERNAL;
                    break;
                }
                run *r = &S->runs[c * ns + k];
                st = r->status = take_run(S, r, p, li);
                if (st != REGNN_OK)
                    fprintf(stderr, "diabetes: run %s seed %llu failed: %s\n", S->cfgs[c].label,
                            (unsigned long long)seed, r->err);
                else if (o->verbose)
                    print_epochs(S, r);
            }
            regnn_path_free(p);
            if (st != REGNN_OK)
                goto out;
        }
    }
    rc = 0;
out:
    for (int g = 0; g < N_GROUPS; g++) {
        regnn_path_options_free(po[g]);
        regnn_fit_options_free(fo[g]);
    }
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Choosing lambda: tail split vs k-fold cross-validation               */
/* ------------------------------------------------------------------ */

static void format_lambda(char *buf, size_t size, double l);
static int close_file(FILE **f);

enum { PICK_TAIL = 0, PICK_CV_MIN = 1, PICK_CV_1SE = 2, N_PICKS = 3 };
static const char *const pick_names[N_PICKS] = {"tail split, lowest val MSE", "CV, lambda.min",
                                                "CV, lambda.1se"};

/* Seed index k: the k-fold path on its training rows, the three choices, a
 * refit at each (on all training rows) scored on the test rows. Prints the
 * per-lambda CV table and the choices; pick[] and test[] receive the lambda
 * indices and test MSEs. Returns 0, or -1 after printing the error. */
static int cv_compare(const sweep *S, size_t k, long jobs, FILE *csv, size_t pick[N_PICKS],
                      double test[N_PICKS])
{
    const options *o = S->o;
    const size_t nl = o->n_lambdas, ns = (size_t)o->n_seeds;
    const uint64_t seed = (uint64_t)o->seed + k;
    regnn_path_options *po = NULL;
    regnn_fit_options *fo = NULL;
    regnn_path *p = NULL;
    double cvm[MAX_LAMBDAS], cvsd[MAX_LAMBDAS];
    int rc = -1;
    /* The sweep's fit options without the validation split; the refit also
     * without early stopping (it has no validation rows to monitor). */
    regnn_status st = make_fit_options(o, o->patience, &fo);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.0);
    if (st == REGNN_OK)
        st = regnn_path_options_create(&po);
    if (st == REGNN_OK)
        st = regnn_path_options_set_lambdas(po, o->lambdas, nl);
    if (st == REGNN_OK)
        st = regnn_path_options_set_int(po, REGNN_PATH_SEED, (int64_t)seed);
    if (st == REGNN_OK)
        st = regnn_path_options_set_int(po, REGNN_PATH_THREADS, jobs);
    if (st == REGNN_OK)
        st = regnn_path_options_set_int(po, REGNN_PATH_FOLDS, o->cv_folds);
    if (st == REGNN_OK)
        st = regnn_path_options_set_int(po, REGNN_PATH_FOLD_SEED, (int64_t)seed);
    if (st == REGNN_OK)
        st = regnn_regularization_path(S->tmpl[GROUP_SWEEP], NULL, S->train[k], NULL, fo, po, &p);
    if (st == REGNN_OK)
        st = regnn_path_get(p, REGNN_RUN_FINAL_VAL_MSE, REGNN_AGG_MEAN, cvm, MAX_LAMBDAS);
    if (st == REGNN_OK)
        st = regnn_path_get(p, REGNN_RUN_FINAL_VAL_MSE, REGNN_AGG_SE, cvsd, MAX_LAMBDAS);
    if (st == REGNN_OK)
        st = regnn_path_best_index(p, REGNN_RUN_FINAL_VAL_MSE, REGNN_SELECT_MIN, &pick[PICK_CV_MIN]);
    if (st == REGNN_OK)
        st = regnn_path_best_index(p, REGNN_RUN_FINAL_VAL_MSE, REGNN_SELECT_1SE, &pick[PICK_CV_1SE]);
    if (st != REGNN_OK) {
        fprintf(stderr, "diabetes: cross-validation on seed %llu failed: %s\n",
                (unsigned long long)seed, regnn_errmsg());
        goto out;
    }
    /* The tail split's choice: this seed's sweep runs (no refit needed to choose). */
    pick[PICK_TAIL] = 0;
    for (size_t c = 1; c < nl; c++)
        if (S->runs[c * ns + k].val_last < S->runs[pick[PICK_TAIL] * ns + k].val_last)
            pick[PICK_TAIL] = c;

    printf("\nseed %llu: %ld-fold CV on the %zu training rows (fold sizes %zu..%zu) vs the tail "
           "split\n", (unsigned long long)seed, o->cv_folds, regnn_dataset_rows(S->train[k]),
           regnn_dataset_rows(S->train[k]) / (size_t)o->cv_folds,
           (regnn_dataset_rows(S->train[k]) + (size_t)o->cv_folds - 1) / (size_t)o->cv_folds);
    printf("  %-10s %-18s %-14s\n", "lambda", "CV MSE ± se", "tail val MSE");
    for (size_t c = 0; c < nl; c++) {
        char lam[32];
        format_lambda(lam, sizeof lam, o->lambdas[c]);
        printf("  %-10s %.3f ± %.3f      %.3f%s%s%s\n", lam, cvm[c], cvsd[c],
               S->runs[c * ns + k].val_last, c == pick[PICK_CV_MIN] ? "   <- lambda.min" : "",
               c == pick[PICK_CV_1SE] ? "   <- lambda.1se" : "",
               c == pick[PICK_TAIL] ? "   <- tail split" : "");
    }
    /* Refit at each distinct choice on all training rows, without early stopping. */
    st = regnn_fit_options_set_int(fo, REGNN_FIT_EARLY_STOPPING, 0);
    for (int i = 0; i < N_PICKS && st == REGNN_OK; i++) {
        int j;
        for (j = 0; j < i && pick[j] != pick[i]; j++)
            ;
        if (j < i) {
            test[i] = test[j];
            continue;
        }
        regnn_model *m = NULL;
        st = regnn_path_refit(S->tmpl[GROUP_SWEEP], NULL, S->train[k], fo, po,
                              o->lambdas[pick[i]], &m, NULL);
        if (st == REGNN_OK)
            st = regnn_model_evaluate(m, S->test[k], &test[i], NULL, NULL);
        regnn_model_free(m);
    }
    if (st != REGNN_OK) {
        fprintf(stderr, "diabetes: the refit on seed %llu failed: %s\n", (unsigned long long)seed,
                regnn_errmsg());
        goto out;
    }
    for (int i = 0; i < N_PICKS; i++) {
        char lam[32];
        format_lambda(lam, sizeof lam, o->lambdas[pick[i]]);
        printf("  %-28s lambda %-8s test MSE %.3f (refit on all %zu rows)\n", pick_names[i], lam,
               test[i], regnn_dataset_rows(S->train[k]));
        fprintf(csv, "%llu,%s,%.9g,%.9g,%.9g,%.9g,%.9g\n", (unsigned long long)seed,
                i == PICK_TAIL ? "tail" : i == PICK_CV_MIN ? "cv_min" : "cv_1se",
                o->lambdas[pick[i]], cvm[pick[i]], cvsd[pick[i]], S->runs[pick[i] * ns + k].val_last,
                test[i]);
    }
    rc = 0;
out:
    regnn_path_free(p);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    return rc;
}

/* --cv: the comparison on the first --cv-seeds seeds, and the mean test MSE
 * of each rule over them. */
static int cv_section(const sweep *S, long jobs)
{
    const options *o = S->o;
    if (o->cv_folds < 2)
        return 0;
    double t = ex_now(), sum[N_PICKS] = {0, 0, 0};
    char path[4096];
    FILE *csv = NULL;
    if (ex_join(path, sizeof path, o->out, "cv.csv") == 0)
        csv = fopen(path, "w");
    if (!csv) {
        fprintf(stderr, "diabetes: cannot write %s/cv.csv: %s\n", o->out, strerror(errno));
        return -1;
    }
    fprintf(csv, "seed,rule,lambda,cv_mse,cv_se,tail_val_mse,test_mse\n");
    printf("\nChoosing lambda on one training set: %ld-fold cross-validation vs the tail split\n"
           "(CV MSE: last-epoch MSE on the held-out fold, fold-size-weighted mean ± standard "
           "error,\n cv.glmnet's cvm ± cvsd; every choice refit on all training rows and scored "
           "on the test rows)\n", o->cv_folds);
    for (size_t k = 0; k < (size_t)o->cv_seeds; k++) {
        size_t pick[N_PICKS];
        double test[N_PICKS];
        if (cv_compare(S, k, jobs, csv, pick, test) != 0) {
            fclose(csv);
            return -1;
        }
        for (int i = 0; i < N_PICKS; i++)
            sum[i] += test[i];
    }
    if (o->cv_seeds > 1) {
        printf("\nmean test MSE over %ld seeds:", o->cv_seeds);
        for (int i = 0; i < N_PICKS; i++)
            printf("  %s %.3f%s", pick_names[i], sum[i] / (double)o->cv_seeds,
                   i + 1 < N_PICKS ? ";" : "\n");
    }
    printf("(cross-validation and refits: %.1f s; the choices in %s/cv.csv)\n", ex_now() - t,
           o->out);
    if (close_file(&csv) != 0) {
        fprintf(stderr, "diabetes: cannot write %s/cv.csv: %s\n", o->out, strerror(errno));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* --self-check: one run trained by hand                                */
/* ------------------------------------------------------------------ */

/* 1 if metric `key` of h equals the curve v (n epochs) bit for bit. */
static int same_curve(const regnn_history *h, int key, const double *v, size_t n, double *buf)
{
    if (regnn_history_get(h, key, buf, n) != REGNN_OK)
        return 0;
    return memcmp(buf, v, n * sizeof *buf) == 0;
}

/* Train run r as the path does (copy of the template, L2 = lambda, init with
 * the run's seed, a fresh Adam, the same fit options), evaluate it on the
 * seed's test rows, and compare with what the path reported: the test MSE
 * (REGNN_RUN_TEST_MSE) and the four curves, bit for bit. Returns 0 if all
 * match, -1 (after printing why) otherwise. */
static int self_check(const sweep *S, const run *r)
{
    const options *o = S->o;
    const config *c = &S->cfgs[r->cfg];
    const size_t seed_idx = (size_t)(r->seed - (uint64_t)o->seed);
    regnn_model *m = NULL;
    regnn_optimizer *opt = NULL;
    regnn_fit_options *fo = NULL;
    regnn_history *h = NULL;
    double test_mse = NAN, *buf = malloc((size_t)o->epochs * sizeof *buf);
    int rc = -1;
    regnn_status st = buf ? REGNN_OK : REGNN_E_NOMEM;
    if (st == REGNN_OK)
        st = regnn_model_copy(S->tmpl[c->in_sweep ? GROUP_SWEEP : GROUP_REFERENCE], &m);
    if (st == REGNN_OK)
        st = regnn_model_set_layers_double(m, REGNN_LAYER_L2, c->lambda);
    if (st == REGNN_OK)
        st = regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, r->seed);
    if (st == REGNN_OK)
        st = regnn_optimizer_create(REGNN_OPTIM_ADAM, &opt); /* Keras defaults */
    if (st == REGNN_OK)
        st = make_fit_options(o, c->patience, &fo);
    if (st == REGNN_OK)
        st = regnn_fit(m, opt, S->train[seed_idx], NULL, fo, &h);
    if (st == REGNN_OK)
        st = regnn_model_evaluate(m, S->test[seed_idx], &test_mse, NULL, NULL);
    if (st != REGNN_OK) {
        fprintf(stderr, "diabetes: self-check: retraining %s seed %llu failed: %s\n", c->label,
                (unsigned long long)r->seed, buf ? regnn_errmsg() : "out of memory");
        goto out;
    }
    size_t n = regnn_history_epochs(h);
    int curves = n == r->epochs && same_curve(h, REGNN_METRIC_TRAIN_EVAL_MSE, r->train, n, buf) &&
                 same_curve(h, REGNN_METRIC_VAL_MSE, r->val, n, buf) &&
                 same_curve(h, REGNN_METRIC_TRAIN_LOSS, r->loss, n, buf) &&
                 same_curve(h, REGNN_METRIC_VAL_LOSS, r->val_loss, n, buf);
    if (!curves || memcmp(&test_mse, &r->test_mse, sizeof test_mse) != 0) {
        fprintf(stderr,
                "diabetes: self-check FAILED: %s seed %llu trained by hand gives test MSE %.17g,\n"
                "  the path reported %.17g; the curves %s\n",
                c->label, (unsigned long long)r->seed, test_mse, r->test_mse,
                curves ? "match" : "differ");
        goto out;
    }
    printf("self-check: %s seed %llu trained by hand (copy, L2, init, fit, evaluate) gives the\n"
           "  path's curves and test MSE %.9g, bit for bit\n",
           c->label, (unsigned long long)r->seed, test_mse);
    rc = 0;
out:
    free(buf);
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(opt);
    regnn_model_free(m);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Summaries, table, files                                              */
/* ------------------------------------------------------------------ */

static void summarize(const sweep *S, size_t cfg, summary *s)
{
    size_t ns = (size_t)S->o->n_seeds;
    double be[MAX_SEEDS], ep[MAX_SEEDS], tr[MAX_SEEDS], va[MAX_SEEDS], ga[MAX_SEEDS], te[MAX_SEEDS];
    for (size_t k = 0; k < ns; k++) {
        const run *r = &S->runs[cfg * ns + k];
        be[k] = (double)r->best_epoch;
        ep[k] = (double)r->epochs;
        tr[k] = r->train_last;
        va[k] = r->val_last;
        ga[k] = r->gap;
        te[k] = r->test_mse;
    }
    ex_mean_sd(be, ns, &s->best_epoch, &s->best_epoch_sd);
    ex_mean_sd(ep, ns, &s->epochs, &s->epochs_sd);
    ex_mean_sd(tr, ns, &s->train, &s->train_sd);
    ex_mean_sd(va, ns, &s->val, &s->val_sd);
    ex_mean_sd(ga, ns, &s->gap, &s->gap_sd);
    ex_mean_sd(te, ns, &s->test, &s->test_sd);
    /* The most common verdict; on a tie the first of overfitting, underfitting,
     * good fit, insufficient. */
    static const int order[N_VERDICTS] = {REGNN_VERDICT_OVERFITTING, REGNN_VERDICT_UNDERFITTING,
                                          REGNN_VERDICT_GOOD_FIT, REGNN_VERDICT_INSUFFICIENT};
    memset(s->verdicts, 0, sizeof s->verdicts);
    for (size_t k = 0; k < ns; k++) {
        int v = S->runs[cfg * ns + k].verdict;
        if (v >= 0 && v < N_VERDICTS)
            s->verdicts[v]++;
    }
    s->verdict = order[0];
    for (int i = 1; i < N_VERDICTS; i++)
        if (s->verdicts[order[i]] > s->verdicts[s->verdict])
            s->verdict = order[i];
}

/* "overfitting 5/5": the most common verdict and its count. */
static void format_verdict(char *buf, size_t size, const summary *s, long n_seeds)
{
    const char *name = regnn_verdict_name(s->verdict);
    snprintf(buf, size, "%s %zu/%ld", name ? name : "?", s->verdicts[s->verdict], n_seeds);
}

/* Reason names for runs.csv (REGNN_REASON_*). */
static const char *reason_name(int reason)
{
    static const char *const names[] = {"none",      "too_short", "no_validation",
                                        "not_finite", "val_rose",  "large_gap",
                                        "high_error", "still_improving"};
    return reason >= 0 && reason < (int)(sizeof names / sizeof names[0]) ? names[reason] : "?";
}

static void format_lambda(char *buf, size_t size, double l)
{
    if (l == 0)
        snprintf(buf, size, "0");
    else
        snprintf(buf, size, "%.0e", l);
    if (l != 0 && fabs(strtod(buf, NULL) - l) > 1e-12 * l)
        snprintf(buf, size, "%g", l);
}

/* fclose that also forgets the handle, so the error path cannot close it twice. */
static int close_file(FILE **f)
{
    int bad = ferror(*f);
    int rc = fclose(*f);
    *f = NULL;
    if (bad && rc == 0)
        errno = EIO;
    return bad || rc != 0 ? -1 : 0;
}

static int write_tables(const sweep *S, const config *cfgs, size_t n_cfg, const summary *sum,
                        size_t best_cfg)
{
    const options *o = S->o;
    char path[4096];
    int es = o->patience >= 0;

    /* sweep.csv */
    if (ex_join(path, sizeof path, o->out, "sweep.csv") != 0)
        return -1;
    FILE *f = fopen(path, "w");
    if (!f)
        goto io_error;
    fprintf(f, "setting,lambda,dropout,patience,seeds,epochs_mean,best_epoch_mean,best_epoch_sd,"
               "train_mse_mean,train_mse_sd,val_mse_mean,val_mse_sd,gap_mean,gap_sd,"
               "test_mse_mean,test_mse_sd,in_sweep,unregularized,best,verdict,overfitting_runs,"
               "underfitting_runs,good_fit_runs,insufficient_runs\n");
    for (size_t c = 0; c < n_cfg; c++) {
        const summary *s = &sum[c];
        int unreg = cfgs[c].lambda == 0 && cfgs[c].dropout == 0 && cfgs[c].patience < 0;
        fprintf(f, "%s,%.9g,%.9g,%ld,%ld,%.6g,%.6g,%.6g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,"
                   "%d,%d,%d,%s,%zu,%zu,%zu,%zu\n",
                cfgs[c].name, cfgs[c].lambda, cfgs[c].dropout, cfgs[c].patience, o->n_seeds,
                s->epochs, s->best_epoch, s->best_epoch_sd, s->train, s->train_sd, s->val, s->val_sd,
                s->gap, s->gap_sd, s->test, s->test_sd, cfgs[c].in_sweep, unreg, c == best_cfg,
                regnn_verdict_name(s->verdict), s->verdicts[REGNN_VERDICT_OVERFITTING],
                s->verdicts[REGNN_VERDICT_UNDERFITTING], s->verdicts[REGNN_VERDICT_GOOD_FIT],
                s->verdicts[REGNN_VERDICT_INSUFFICIENT]);
    }
    if (close_file(&f) != 0)
        goto io_error;

    /* runs.csv */
    if (ex_join(path, sizeof path, o->out, "runs.csv") != 0)
        return -1;
    f = fopen(path, "w");
    if (!f)
        goto io_error;
    fprintf(f, "setting,lambda,dropout,patience,seed,epochs,best_epoch,train_mse,val_mse,gap,"
               "test_mse,seconds,history,verdict,reason\n");
    for (size_t i = 0; i < S->n_runs; i++) {
        const run *r = &S->runs[i];
        const config *c = &cfgs[r->cfg];
        const char *verdict = regnn_verdict_name(r->verdict);
        fprintf(f, "%s,%.9g,%.9g,%ld,%llu,%zu,%zu,%.9g,%.9g,%.9g,%.9g,%.3f,runs/%s_seed%llu.csv,"
                   "%s,%s\n",
                c->name, c->lambda, c->dropout, c->patience, (unsigned long long)r->seed, r->epochs,
                r->best_epoch, r->train_last, r->val_last, r->gap, r->test_mse, r->seconds, c->name,
                (unsigned long long)r->seed, verdict ? verdict : "?", reason_name(r->reason));
    }
    if (close_file(&f) != 0)
        goto io_error;

    /* lambda_table.md */
    if (ex_join(path, sizeof path, o->out, "lambda_table.md") != 0)
        return -1;
    f = fopen(path, "w");
    if (!f)
        goto io_error;
    fprintf(f, "| λ | best val epoch |%s train MSE | val MSE | gap (val − train) | test MSE | "
               "verdict |\n",
            es ? " epochs run |" : "");
    fprintf(f, "|---|---:|%s---:|---:|---:|---:|---|\n", es ? "---:|" : "");
    for (size_t c = 0; c < n_cfg; c++) {
        const summary *s = &sum[c];
        const char *b = c == best_cfg ? "**" : "";
        fprintf(f, "| %s%s%s%s | %.1f ± %.1f |", b, cfgs[c].label, b,
                c == best_cfg ? " (lowest val MSE)" : "", s->best_epoch, s->best_epoch_sd);
        if (es)
            fprintf(f, " %.1f ± %.1f |", s->epochs, s->epochs_sd);
        char verdict[64];
        format_verdict(verdict, sizeof verdict, s, o->n_seeds);
        fprintf(f, " %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f | %s |\n", s->train,
                s->train_sd, s->val, s->val_sd, s->gap, s->gap_sd, s->test, s->test_sd, verdict);
    }
    fprintf(f, "\nMeans ± sample sd over %ld seeds (%ld..%ld), %ld epochs, standardized target "
               "units. train MSE: training rows at the last epoch's weights (no dropout, no "
               "penalty); val MSE: validation rows, last epoch; test MSE: 45 held-out rows; "
               "verdict: the most common regnn_history_diagnose verdict over the seeds "
               "(docs/diagnosis.md).\n",
            o->n_seeds, o->seed, o->seed + o->n_seeds - 1, o->epochs);
    if (close_file(&f) != 0)
        goto io_error;
    return 0;

io_error:
    fprintf(stderr, "diabetes: cannot write %s: %s\n", path, strerror(errno));
    if (f)
        fclose(f);
    return -1;
}

/* Mean over seeds of one per-epoch curve (runs that stopped early count
 * only for the epochs they ran); NaN where no run has the epoch. */
static void mean_curve(const sweep *S, size_t cfg, int which, double *out, size_t epochs)
{
    size_t ns = (size_t)S->o->n_seeds;
    for (size_t e = 0; e < epochs; e++) {
        double s = 0;
        size_t k = 0;
        for (size_t j = 0; j < ns; j++) {
            const run *r = &S->runs[cfg * ns + j];
            if (e >= r->epochs)
                continue;
            const double *v = which == 0 ? r->train : which == 1 ? r->val
                              : which == 2 ? r->loss : r->val_loss;
            s += v[e];
            k++;
        }
        out[e] = k ? s / (double)k : NAN;
    }
}

#define C_TRAIN "#1f77b4"
#define C_VAL "#ff7f0e"
#define C_TEST "#2ca02c"
#define C_GAP "#d62728"

static int write_study_svg(const sweep *S, const config *cfgs, size_t unreg, size_t reg,
                           const summary *sum)
{
    const options *o = S->o;
    size_t ns = (size_t)o->n_seeds, E = (size_t)o->epochs;
    size_t per_panel = 2 * ns + 4;
    double *xs = malloc(E * sizeof *xs);
    double *curves = malloc(2 * 4 * E * sizeof *curves);
    svgp_series *series = calloc(2 * per_panel, sizeof *series);
    svgp_mark *marks = calloc(2 * ns, sizeof *marks);
    int rc = -1;
    if (!xs || !curves || !series || !marks) {
        fprintf(stderr, "diabetes: out of memory\n");
        goto out;
    }
    for (size_t e = 0; e < E; e++)
        xs[e] = (double)(e + 1);

    svgp_panel panels[2];
    svgp_panel_ext ext[2];
    char titles[2][128], subs[2][200], vlabels[2][64];
    double ymax = 0;
    for (int p = 0; p < 2; p++) {
        size_t cfg = p == 0 ? unreg : reg;
        svgp_series *se = series + (size_t)p * per_panel;
        svgp_mark *mk = marks + (size_t)p * ns;
        size_t k = 0, nm = 0;
        for (size_t j = 0; j < ns; j++) {
            const run *r = &S->runs[cfg * ns + j];
            se[k++] = (svgp_series){NULL, xs, r->train, NULL, r->epochs, C_TRAIN, 1, NULL, 0.28, 0};
            se[k++] = (svgp_series){NULL, xs, r->val, NULL, r->epochs, C_VAL, 1, NULL, 0.28, 0};
            for (size_t e = 0; e < r->epochs; e++)
                ymax = fmax(ymax, fmax(r->train[e], r->val[e]));
            if (r->best_epoch >= 1 && r->best_epoch <= r->epochs)
                mk[nm++] = (svgp_mark){(double)r->best_epoch, r->val[r->best_epoch - 1], "#222"};
        }
        double *mt = curves + (size_t)p * 4 * E, *mv = mt + E, *ml = mv + E, *mvl = ml + E;
        mean_curve(S, cfg, 0, mt, E);
        mean_curve(S, cfg, 1, mv, E);
        mean_curve(S, cfg, 2, ml, E);
        mean_curve(S, cfg, 3, mvl, E);
        /* Row by row in the legend: each MSE beside the Keras value that adds
         * the penalty to it. */
        se[k++] = (svgp_series){"training MSE (no penalty)", xs, mt, NULL, E, C_TRAIN, 2.4, NULL, 0, 0};
        se[k++] = (svgp_series){"loss = train MSE (batch mean) + L2 penalty", xs, ml, NULL, E,
                                C_TRAIN, 1.4, "2 3", 0, 0};
        se[k++] = (svgp_series){"validation MSE (no penalty)", xs, mv, NULL, E, C_VAL, 2.4, NULL, 0, 0};
        se[k++] = (svgp_series){"val_loss = validation MSE + L2 penalty", xs, mvl, NULL, E, C_VAL,
                                1.4, "2 3", 0, 0};

        char lam[32];
        format_lambda(lam, sizeof lam, cfgs[cfg].lambda);
        if (cfgs[cfg].lambda == 0 && cfgs[cfg].dropout == 0)
            snprintf(titles[p], sizeof titles[p], "Unregularized (L2 penalty 0)");
        else if (cfgs[cfg].dropout > 0)
            snprintf(titles[p], sizeof titles[p], "L2 λ = %s, dropout %.2g", lam, cfgs[cfg].dropout);
        else
            snprintf(titles[p], sizeof titles[p], "L2 regularized, λ = %s", lam);
        const summary *s = &sum[cfg];
        snprintf(subs[p], sizeof subs[p],
                 "gap at epoch %ld: %.2f ± %.2f · best val epoch %.1f · test MSE %.2f ± %.2f",
                 o->epochs, s->gap, s->gap_sd, s->best_epoch, s->test, s->test_sd);
        snprintf(vlabels[p], sizeof vlabels[p], "mean best epoch %.1f", s->best_epoch);
        panels[p] = svgp_panel_init();
        panels[p].title = titles[p];
        panels[p].subtitle = subs[p];
        panels[p].xlabel = "epoch";
        panels[p].ylabel = "MSE (standardized target)";
        panels[p].xmin = 0;
        panels[p].ymin = 0;
        panels[p].vline = s->best_epoch;
        panels[p].vline_label = vlabels[p];
        panels[p].series = se;
        panels[p].n_series = k;
        ext[p] = svgp_panel_ext_init();
        ext[p].marks = mk;
        ext[p].n_marks = nm;
        ext[p].marks_label = "best epoch of each seed (lowest validation MSE)";
        ext[p].legend_below = 1;
    }
    /* One y scale for both panels, so the gaps compare at a glance; the
     * Keras loss curves above it get off-scale arrows. */
    double step = ymax > 2 ? 0.5 : 0.2; /* the tick steps svgplot picks for such ranges */
    ymax = ceil(ymax / step) * step;
    panels[0].ymax = panels[1].ymax = ymax;

    char title[256], path[4096];
    snprintf(title, sizeof title,
             "Diabetes, Dense(128, relu)×6 → Dense(1), Adam, batch 64: mean of %ld seeds (thin: "
             "each seed)",
             o->n_seeds);
    if (ex_join(path, sizeof path, o->out, "study.svg") != 0 ||
        svgp_write_ex(path, title, panels, ext, 2, 550, 470) != 0) {
        fprintf(stderr, "diabetes: cannot write %s/study.svg: %s\n", o->out, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(xs);
    free(curves);
    free(series);
    free(marks);
    return rc;
}

static int write_sweep_svg(const sweep *S, const config *cfgs, const summary *sum,
                           size_t best_cfg)
{
    const options *o = S->o;
    double lam[MAX_LAMBDAS], gap[MAX_LAMBDAS], gsd[MAX_LAMBDAS], tr[MAX_LAMBDAS], trsd[MAX_LAMBDAS],
        va[MAX_LAMBDAS], vasd[MAX_LAMBDAS], te[MAX_LAMBDAS], tesd[MAX_LAMBDAS];
    size_t n = 0;
    for (size_t c = 0; c < o->n_lambdas; c++) { /* sweep configs come first */
        lam[n] = cfgs[c].lambda;
        gap[n] = sum[c].gap;
        gsd[n] = sum[c].gap_sd;
        tr[n] = sum[c].train;
        trsd[n] = sum[c].train_sd;
        va[n] = sum[c].val;
        vasd[n] = sum[c].val_sd;
        te[n] = sum[c].test;
        tesd[n] = sum[c].test_sd;
        n++;
    }
    svgp_series s1[1] = {{"gap = validation − training MSE", lam, gap, gsd, n, C_GAP, 2, NULL, 0, 1}};
    svgp_series s2[3] = {
        {"training MSE", lam, tr, trsd, n, C_TRAIN, 2, NULL, 0, 1},
        {"validation MSE", lam, va, vasd, n, C_VAL, 2, NULL, 0, 1},
        {"test MSE", lam, te, tesd, n, C_TEST, 2, NULL, 0, 1},
    };
    char sub1[160], sub2[160], title[256];
    snprintf(sub1, sizeof sub1, "at epoch %ld, mean ± sd over %ld seeds", o->epochs, o->n_seeds);
    snprintf(sub2, sizeof sub2, "training/validation at epoch %ld; test after training", o->epochs);
    svgp_panel p[2];
    p[0] = svgp_panel_init();
    p[0].title = "Generalization gap";
    p[0].subtitle = sub1;
    p[0].xlabel = "L2 factor λ (log scale; 0 = unregularized)";
    p[0].ylabel = "MSE difference (standardized)";
    p[0].logx = 1;
    p[0].hline = 0;
    p[0].series = s1;
    p[0].n_series = 1;
    p[1] = svgp_panel_init();
    p[1].title = "Training, validation and test MSE";
    p[1].subtitle = sub2;
    p[1].xlabel = p[0].xlabel;
    p[1].ylabel = "MSE (standardized target)";
    p[1].logx = 1;
    p[1].ymin = 0;
    p[1].series = s2;
    p[1].n_series = 3;
    if (best_cfg < o->n_lambdas) {
        p[0].vline = p[1].vline = cfgs[best_cfg].lambda;
        p[0].vline_label = p[1].vline_label = "lowest val MSE";
    }
    snprintf(title, sizeof title,
             "λ sweep: L2 on every Dense kernel, %ld seeds × %ld epochs (error bars: ± 1 sd)",
             o->n_seeds, o->epochs);
    char path[4096];
    /* A labelled tick at every lambda; the three series' error bars side by side. */
    svgp_panel_ext ext[2] = {svgp_panel_ext_init(), svgp_panel_ext_init()};
    ext[0].data_xticks = ext[1].data_xticks = 1;
    ext[1].dodge = 9;
    if (ex_join(path, sizeof path, o->out, "lambda_sweep.svg") != 0 ||
        svgp_write_ex(path, title, p, ext, 2, 520, 400) != 0) {
        fprintf(stderr, "diabetes: cannot write %s/lambda_sweep.svg: %s\n", o->out,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */

static void print_table(const options *o, const config *cfgs, size_t n_cfg, const summary *sum,
                        size_t best_cfg)
{
    int es = o->patience >= 0, w = 6, vw = 7;
    char verdict[MAX_LAMBDAS + 1][64];
    for (size_t c = 0; c < n_cfg; c++) {
        if ((int)strlen(cfgs[c].label) > w)
            w = (int)strlen(cfgs[c].label);
        format_verdict(verdict[c], sizeof verdict[c], &sum[c], o->n_seeds);
        if ((int)strlen(verdict[c]) > vw)
            vw = (int)strlen(verdict[c]);
    }
    printf("\nlambda table: mean ± sd over %ld seeds (%ld..%ld), %ld epochs, standardized units\n",
           o->n_seeds, o->seed, o->seed + o->n_seeds - 1, o->epochs);
    printf("  train MSE = training rows at the last epoch's weights (no dropout, no penalty);\n"
           "  val MSE = validation rows, last epoch; gap = val - train; test = 45 held-out rows;\n"
           "  verdict = the most common regnn_history_diagnose verdict over the seeds\n\n");
    printf("  %-*s  %-15s%s %-15s %-15s %-16s %-15s %s\n", w, "lambda", "best val epoch",
           es ? " epochs run     " : "", "train MSE", "val MSE", "gap", "test MSE", "verdict");
    for (size_t c = 0; c < n_cfg; c++) {
        const summary *s = &sum[c];
        printf("  %-*s  %5.1f ± %-5.1f  ", w, cfgs[c].label, s->best_epoch, s->best_epoch_sd);
        if (es)
            printf("%5.1f ± %-5.1f  ", s->epochs, s->epochs_sd);
        printf("%.3f ± %.3f   %.3f ± %.3f   %6.3f ± %.3f   %.3f ± %.3f   %-*s%s\n", s->train,
               s->train_sd, s->val, s->val_sd, s->gap, s->gap_sd, s->test, s->test_sd,
               c == best_cfg ? vw : 0, verdict[c],
               c == best_cfg ? "   <- best (lowest val MSE)" : "");
    }
}

static void print_comparison(const sweep *S, const config *cfgs, size_t unreg, size_t reg,
                             const summary *sum)
{
    const options *o = S->o;
    size_t E = (size_t)o->epochs;
    double *c = malloc(4 * E * sizeof *c);
    if (!c)
        return;
    mean_curve(S, unreg, 0, c, E);
    mean_curve(S, unreg, 1, c + E, E);
    mean_curve(S, reg, 0, c + 2 * E, E);
    mean_curve(S, reg, 1, c + 3 * E, E);
    printf("\nLearning curves, mean of %ld seeds (train MSE at end-of-epoch weights / val MSE):\n",
           o->n_seeds);
    printf("  %-6s %-22s %-22s\n", "", cfgs[unreg].label, cfgs[reg].label);
    printf("  %-6s %-10s %-11s %-10s %-10s\n", "epoch", "train", "val", "train", "val");
    for (size_t e = 0; e < E; e++) {
        if (!(e == 0 || (e + 1) % (size_t)o->every == 0 || e + 1 == E))
            continue;
        printf("  %-6zu %-10.4f %-11.4f %-10.4f %-10.4f\n", e + 1, c[e], c[E + e], c[2 * E + e],
               c[3 * E + e]);
    }
    free(c);

    const summary *u = &sum[unreg], *r = &sum[reg];
    int w = (int)strlen(cfgs[unreg].label) + 2; /* first value column */
    if (w < 22)
        w = 22;
    w -= 8; /* printed as "%5.1f ± " or "%.3f ± " (8 columns) then %-*f */
    printf("\nComparison (mean ± sd over %ld seeds):\n", o->n_seeds);
    printf("  %-26s %-*s %s\n", "", w + 8, cfgs[unreg].label, cfgs[reg].label);
    printf("  %-26s %5.1f ± %-*.1f %5.1f ± %.1f\n", "best validation epoch", u->best_epoch, w,
           u->best_epoch_sd, r->best_epoch, r->best_epoch_sd);
    printf("  %-26s %.3f ± %-*.3f %.3f ± %.3f\n", "train MSE (last epoch)", u->train, w,
           u->train_sd, r->train, r->train_sd);
    printf("  %-26s %.3f ± %-*.3f %.3f ± %.3f\n", "val MSE (last epoch)", u->val, w, u->val_sd,
           r->val, r->val_sd);
    printf("  %-26s %.3f ± %-*.3f %.3f ± %.3f\n", "gap val - train", u->gap, w, u->gap_sd, r->gap,
           r->gap_sd);
    printf("  %-26s %.3f ± %-*.3f %.3f ± %.3f\n", "test MSE", u->test, w, u->test_sd, r->test,
           r->test_sd);
}

static void fill_configs(const options *o, config *cfgs, size_t *n_cfg, size_t *unreg)
{
    size_t n = 0;
    *unreg = (size_t)-1;
    for (size_t k = 0; k < o->n_lambdas; k++) {
        config *c = &cfgs[n++];
        c->lambda = o->lambdas[k];
        c->dropout = o->dropout;
        c->patience = o->patience;
        c->in_sweep = 1;
        char lam[32];
        format_lambda(lam, sizeof lam, c->lambda);
        snprintf(c->label, sizeof c->label, "%s", lam);
        if (o->dropout > 0)
            snprintf(c->label + strlen(c->label), sizeof c->label - strlen(c->label), " +drop %.2g",
                     o->dropout);
        if (o->patience >= 0)
            snprintf(c->label + strlen(c->label), sizeof c->label - strlen(c->label), " +es%ld",
                     o->patience);
        snprintf(c->name, sizeof c->name, "lambda%s", lam);
        if (o->dropout > 0)
            snprintf(c->name + strlen(c->name), sizeof c->name - strlen(c->name), "_dropout%g",
                     o->dropout);
        if (o->patience >= 0)
            snprintf(c->name + strlen(c->name), sizeof c->name - strlen(c->name), "_patience%ld",
                     o->patience);
        if (c->lambda == 0 && o->dropout == 0 && o->patience < 0) {
            *unreg = n - 1;
            snprintf(c->label, sizeof c->label, "0 (unregularized)");
        }
    }
    if (*unreg == (size_t)-1) { /* the plain network as the reference */
        config *c = &cfgs[n++];
        memset(c, 0, sizeof *c);
        c->patience = -1;
        c->in_sweep = 0;
        snprintf(c->label, sizeof c->label, "unregularized");
        snprintf(c->name, sizeof c->name, "unregularized");
        *unreg = n - 1;
    }
    *n_cfg = n;
}

int main(int argc, char **argv)
{
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc;
    double t0 = ex_now();

    config cfgs[MAX_LAMBDAS + 1];
    size_t n_cfg, unreg;
    fill_configs(&o, cfgs, &n_cfg, &unreg);

    regnn_dataset *raw = NULL, *scaled = NULL;
    regnn_scaler *sc = NULL;
    sweep S;
    memset(&S, 0, sizeof S);
    S.o = &o;
    S.cfgs = cfgs;
    S.t0 = t0;
    S.label_w = 6;
    for (size_t c = 0; c < n_cfg; c++)
        if ((int)strlen(cfgs[c].label) > S.label_w)
            S.label_w = (int)strlen(cfgs[c].label);
    rc = 1;

    printf("libregnn %s - regularization study on the diabetes data\n", regnn_version_string());
    const char *target[] = {"y"};
    regnn_status st = regnn_dataset_from_csv(o.data, target, NULL, 1, &raw);
    if (st != REGNN_OK) {
        fprintf(stderr, "diabetes: cannot load %s: %s\n", o.data, regnn_errmsg());
        goto cleanup;
    }
    st = regnn_scaler_fit(raw, REGNN_SCALE_UNIT_NORM, REGNN_SCALE_ZSCORE, &sc);
    if (st == REGNN_OK)
        st = regnn_scaler_transform(sc, raw, &scaled);
    if (st != REGNN_OK) {
        fprintf(stderr, "diabetes: scaling failed: %s\n", regnn_errmsg());
        goto cleanup;
    }
    S.n_features = regnn_dataset_features(scaled);
    size_t n_rows = regnn_dataset_rows(scaled);

    if (ex_mkdir_p(o.out) != 0) {
        fprintf(stderr, "diabetes: cannot create folder %s: %s\n", o.out, strerror(errno));
        goto cleanup;
    }
    char runs_dir[4096];
    if (ex_join(runs_dir, sizeof runs_dir, o.out, "runs") != 0 || ex_mkdir_p(runs_dir) != 0) {
        fprintf(stderr, "diabetes: cannot create folder %s/runs: %s\n", o.out, strerror(errno));
        goto cleanup;
    }

    size_t ns = (size_t)o.n_seeds;
    S.train = calloc(ns, sizeof *S.train);
    S.test = calloc(ns, sizeof *S.test);
    if (!S.train || !S.test) {
        fprintf(stderr, "diabetes: out of memory\n");
        goto cleanup;
    }
    for (size_t k = 0; k < ns; k++) {
        st = regnn_dataset_split_shuffled(scaled, TEST_SIZE, (uint64_t)o.seed + k, &S.train[k],
                                          &S.test[k]);
        if (st != REGNN_OK) {
            fprintf(stderr, "diabetes: split failed: %s\n", regnn_errmsg());
            goto cleanup;
        }
    }
    size_t n_train = regnn_dataset_rows(S.train[0]), n_test = regnn_dataset_rows(S.test[0]);
    size_t n_fit = (size_t)floor((double)n_train * (1 - VAL_SPLIT));
    printf("data: %s, %zu rows x %zu features, target y; features scaled (x-mean)/(std*sqrt(n)),\n"
           "      target (y-mean)/std, over all rows\n",
           o.data, n_rows, S.n_features);
    printf("split: %zu train (%zu fit + %zu validation, Keras tail split) / %zu test per seed\n",
           n_train, n_fit, n_train - n_fit, n_test);
    printf("model: %zu-%dx%d-1 relu MLP, Glorot-uniform, Adam (Keras defaults), MSE, batch %ld, "
           "%ld epochs\n",
           S.n_features, HIDDEN_UNITS, HIDDEN_LAYERS, o.batch, o.epochs);
    if (o.dropout > 0 || o.patience >= 0)
        printf("sweep models also use %s%s%s (the unregularized reference does not)\n",
               o.dropout > 0 ? "dropout after each hidden layer" : "",
               o.dropout > 0 && o.patience >= 0 ? " and " : "",
               o.patience >= 0 ? "early stopping on val_loss" : "");

    S.n_runs = n_cfg * ns;
    S.runs = calloc(S.n_runs, sizeof *S.runs);
    if (!S.runs) {
        fprintf(stderr, "diabetes: out of memory\n");
        goto cleanup;
    }
    for (size_t c = 0; c < n_cfg; c++)
        for (size_t k = 0; k < ns; k++) {
            run *r = &S.runs[c * ns + k];
            r->cfg = c;
            r->seed = (uint64_t)o.seed + k;
        }

    /* One BLAS thread per run, parallel runs on the cores (see --help). */
    st = regnn_set_blas_threads((int)o.blas_threads);
    if (st != REGNN_OK) {
        fprintf(stderr, "diabetes: --blas-threads %ld: %s\n", o.blas_threads, regnn_errmsg());
        goto cleanup;
    }
    long jobs = o.jobs > 0 ? o.jobs : o.blas_threads == 1 ? ex_cpu_count() : 1;
    if ((size_t)jobs > S.n_runs)
        jobs = (long)S.n_runs;

    /* The networks every run copies: the sweep's, and the plain reference. */
    st = make_template(S.n_features, o.dropout, &S.tmpl[GROUP_SWEEP]);
    if (st == REGNN_OK && n_cfg > o.n_lambdas)
        st = make_template(S.n_features, 0.0, &S.tmpl[GROUP_REFERENCE]);
    if (st != REGNN_OK) {
        fprintf(stderr, "diabetes: cannot build the network: %s\n", regnn_errmsg());
        goto cleanup;
    }

    /* 1. The sweep: one regularization path per seed. */
    printf("training %zu runs (%zu settings x %zu seeds): regnn_regularization_path per seed on "
           "%ld thread%s, %s GEMM with %d thread%s each...\n\n",
           S.n_runs, n_cfg, ns, jobs, jobs == 1 ? "" : "s", regnn_blas_name(), regnn_blas_threads(),
           regnn_blas_threads() == 1 ? "" : "s");
    fflush(stdout);
    double t_path = ex_now();
    if (run_paths(&S, jobs) != 0)
        goto cleanup;
    t_path = ex_now() - t_path;

    summary sum[MAX_LAMBDAS + 1] = {{0}};
    for (size_t c = 0; c < n_cfg; c++)
        summarize(&S, c, &sum[c]);
    size_t best = 0; /* lowest mean validation MSE among the sweep settings */
    for (size_t c = 1; c < o.n_lambdas; c++)
        if (sum[c].val < sum[best].val)
            best = c;
    size_t reg = best;
    if (o.have_reg_lambda)
        for (size_t c = 0; c < o.n_lambdas; c++)
            if (cfgs[c].lambda == o.reg_lambda)
                reg = c;

    print_table(&o, cfgs, n_cfg, sum, best);
    print_comparison(&S, cfgs, unreg, reg, sum);
    if (reg == unreg)
        printf("\nnote: the regularized setting is the unregularized one (lambda 0 was best)\n");

    /* The study's expected result (informational; tests/test_examples.sh asserts it). */
    const summary *u = &sum[unreg], *b = &sum[best];
    printf("\nExpected result (the study's, with the defaults):\n");
    printf("  unregularized: mean best val epoch %.1f <= %.0f: %s\n", u->best_epoch,
           EXPECT_UNREG_BEST_EPOCH_MAX, u->best_epoch <= EXPECT_UNREG_BEST_EPOCH_MAX ? "yes" : "NO");
    printf("  unregularized: mean gap at the last epoch %.3f >= %.1f: %s\n", u->gap,
           EXPECT_UNREG_GAP_MIN, u->gap >= EXPECT_UNREG_GAP_MIN ? "yes" : "NO");
    printf("  best lambda %s: mean gap %.3f <= %.1f: %s\n", cfgs[best].label, b->gap,
           EXPECT_REG_GAP_MAX, b->gap <= EXPECT_REG_GAP_MAX ? "yes" : "NO");
    printf("  best lambda %s: mean test MSE %.3f < unregularized %.3f: %s\n", cfgs[best].label,
           b->test, u->test, b->test < u->test ? "yes" : "NO");

    if (cv_section(&S, jobs) != 0)
        goto cleanup;

    if (write_tables(&S, cfgs, n_cfg, sum, best) != 0 ||
        write_study_svg(&S, cfgs, unreg, reg, sum) != 0 ||
        write_sweep_svg(&S, cfgs, sum, best) != 0)
        goto cleanup;
    printf("\nwrote %s/study.svg, %s/lambda_sweep.svg, %s/sweep.csv, %s/lambda_table.md,\n"
           "      %s/runs.csv and %zu histories in %s/runs/\n",
           o.out, o.out, o.out, o.out, o.out, S.n_runs, o.out);
    printf("done in %.1f s (%zu runs on %ld thread%s: %.1f s in the regularization paths)\n",
           ex_now() - t0, S.n_runs, jobs, jobs == 1 ? "" : "s", t_path);
    rc = 0;
    /* Hidden --self-check (tests/test_examples.sh): the regularized setting's
     * first-seed run, trained once more by hand, must match the path. */
    if (o.self_check && self_check(&S, &S.runs[reg * ns]) != 0)
        rc = 1;

cleanup:
    for (size_t i = 0; S.runs && i < S.n_runs; i++)
        free(S.runs[i].train); /* the run's whole block */
    free(S.runs);
    for (size_t k = 0; k < (size_t)o.n_seeds; k++) {
        if (S.train)
            regnn_dataset_free(S.train[k]);
        if (S.test)
            regnn_dataset_free(S.test[k]);
    }
    free(S.train);
    free(S.test);
    for (int g = 0; g < N_GROUPS; g++)
        regnn_model_free(S.tmpl[g]);
    regnn_dataset_free(scaled);
    regnn_dataset_free(raw);
    regnn_scaler_free(sc);
    return rc;
}
