/* SPDX-License-Identifier: MIT */
/*
 * regularizers - compare regularizers on the diabetes data, each at its
 * cross-validated strength.
 *
 * The network, data, scaling and splits are those of examples/diabetes (the
 * study's Dense(128, relu)x6 -> Dense(1), Adam, MSE, batch 64, 100 epochs).
 * For every seed s:
 *   1. the 442 rows are split 90/10 into training and test rows (seed s);
 *   2. for every regularizer and every strength of its grid, K-fold
 *      cross-validation on the training rows (regnn_regularization_path with
 *      REGNN_PATH_FOLDS, fold seed s) gives the mean final validation MSE;
 *      the strength with the lowest one is chosen (lower grid index on ties);
 *   3. the network at the chosen strength is trained on the training rows with
 *      the study's 15 % tail validation split and scored on the test rows.
 * The table reports, over the seeds, the test MSE, the gap (validation minus
 * training MSE at the last epoch), the epoch of the lowest validation MSE and
 * the strengths chosen. Run with --help for the options.
 */
#define _POSIX_C_SOURCE 200809L
#include <regnn.h>

#include "exutil.h"
#include "svgplot.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIDDEN_LAYERS 6
#define HIDDEN_UNITS 128
#define TEST_SIZE 0.1
#define VAL_SPLIT 0.15
#define MAX_GRID 4
#define MAX_SEEDS 100

/* How a regularizer changes the study's network and fit. Strengths are the
 * grid values; a regularizer without a strength has one grid value, unused.
 * When the regularization path can sweep the strength (penalty >= 0, a
 * REGNN_PENALTY_*), one path call trains the whole grid; otherwise each
 * strength is its own network or fit options (the hooks). */
typedef struct {
    const char *name;     /* table row */
    const char *strength; /* what the strength is; NULL when there is none */
    double grid[MAX_GRID];
    size_t n_grid;
    int penalty; /* REGNN_PENALTY_* the path sweeps, or -1 */
    int hidden_only; /* the path sets it on the hidden Dense layers only */
    /* after each hidden Dense layer l is added (set its options or append a layer) */
    regnn_status (*hidden)(regnn_model *m, regnn_layer *l, double s);
    /* on the finished network */
    regnn_status (*model)(regnn_model *m, double s);
    /* on the fit options */
    regnn_status (*fit)(regnn_fit_options *fo, double s);
} regularizer;

static regnn_status add_noise(regnn_model *m, regnn_layer *l, double stddev)
{
    (void)l;
    return regnn_model_add_gaussian_noise(m, stddev, NULL);
}

static regnn_status add_batch_norm(regnn_model *m, regnn_layer *l, double s)
{
    (void)l;
    (void)s;
    return regnn_model_add_batch_normalization(m, 0.99, 1e-3, NULL); /* Keras's defaults */
}

static regnn_status set_early_stopping(regnn_fit_options *fo, double patience)
{
    regnn_status st = regnn_fit_options_set_int(fo, REGNN_FIT_EARLY_STOPPING, 1);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_int(fo, REGNN_FIT_PATIENCE, (long)patience);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_int(fo, REGNN_FIT_MONITOR, REGNN_MONITOR_VAL_LOSS);
    return st;
}

/* The comparison, in table order. */
static const regularizer regularizers[] = {
    {"none", NULL, {0}, 1, -1, 0, NULL, NULL, NULL},
    {"L2 (kernel)", "λ", {1e-3, 1e-2, 3e-2}, 3, REGNN_PENALTY_L2, 0, NULL, NULL, NULL},
    {"L1 (kernel)", "λ", {1e-4, 1e-3, 1e-2}, 3, REGNN_PENALTY_L1, 0, NULL, NULL, NULL},
    {"dropout", "rate", {0.2, 0.4, 0.6}, 3, REGNN_PENALTY_DROPOUT, 0, NULL, NULL, NULL},
    {"max-norm", "max value", {0.12, 0.25, 0.5}, 3, REGNN_PENALTY_MAX_NORM, 1, NULL, NULL, NULL},
    {"Gaussian noise", "stddev", {0.03, 0.1, 0.3}, 3, REGNN_PENALTY_GAUSSIAN_NOISE, 0, add_noise,
     NULL, NULL},
    {"batch normalization", NULL, {0}, 1, -1, 0, add_batch_norm, NULL, NULL},
    {"early stopping", "patience", {2, 5, 10}, 3, -1, 0, NULL, NULL, set_early_stopping},
};
#define N_REG (sizeof regularizers / sizeof regularizers[0])

typedef struct {
    const char *data, *out;
    long seed, n_seeds, epochs, batch, folds, jobs;
    size_t first, last; /* the regularizers compared: first..last-1 */
} options;

/* One regularizer on one seed. */
typedef struct {
    size_t chosen;            /* grid index */
    double cv[MAX_GRID];      /* mean final validation MSE over the folds */
    double test, gap, best_epoch;
    size_t epochs;            /* epochs run by the final fit */
    double *train, *val;      /* its curves (epochs values each) */
} result;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: regularizers [--data CSV] [--out DIR] [--seed S] [--seeds N] [--epochs E]\n"
            "                    [--batch B] [--folds K] [--jobs J]\n"
            "Compares regularizers of the study's network on the diabetes data, each at the\n"
            "strength chosen by K-fold cross-validation on each seed's training rows.\n"
            "  --data CSV   data with target column y (default examples/data/diabetes.csv)\n"
            "  --out DIR    writes regularizers.md (table), regularizers.csv (each final fit),\n"
            "               regularizers_cv.csv (each CV MSE), regularizers.svg (default out)\n"
            "  --seed S     first seed (default 1); --seeds N seeds S..S+N-1 (default 5)\n"
            "  --epochs E   epochs of every fit (default 100); --batch B (default 64)\n"
            "  --folds K    cross-validation folds, 2..10 (default 4)\n"
            "  --jobs J     threads of each path call, 0 = one per CPU (default 0)\n"
            "  --only NAME  compare only the regularizer of that table row, e.g. --only dropout\n");
}

static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){"examples/data/diabetes.csv", "out", 1, 5, 100, 64, 4, 0, 0, N_REG};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL, *opt = argv[i];
        long *target = NULL, lo = 0, hi = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return -1;
        } else if (ex_option(argc, argv, &i, "--data", &v)) {
            o->data = v;
        } else if (ex_option(argc, argv, &i, "--out", &v)) {
            o->out = v;
        } else if (ex_option(argc, argv, &i, "--seed", &v)) {
            target = &o->seed, lo = 0, hi = 1000000;
        } else if (ex_option(argc, argv, &i, "--seeds", &v)) {
            target = &o->n_seeds, lo = 1, hi = MAX_SEEDS;
        } else if (ex_option(argc, argv, &i, "--epochs", &v)) {
            target = &o->epochs, lo = 1, hi = 100000;
        } else if (ex_option(argc, argv, &i, "--batch", &v)) {
            target = &o->batch, lo = 1, hi = 1000000;
        } else if (ex_option(argc, argv, &i, "--folds", &v)) {
            target = &o->folds, lo = 2, hi = 10;
        } else if (ex_option(argc, argv, &i, "--jobs", &v)) {
            target = &o->jobs, lo = 0, hi = 256;
        } else if (ex_option(argc, argv, &i, "--only", &v)) {
            for (o->first = 0; v && o->first < N_REG; o->first++)
                if (!strcmp(regularizers[o->first].name, v))
                    break;
            if (v && o->first == N_REG) {
                fprintf(stderr, "regularizers: --only: no regularizer named '%s'\n", v);
                return 2;
            }
            o->last = o->first + 1;
        } else {
            fprintf(stderr, "regularizers: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
        if (!v) {
            fprintf(stderr, "regularizers: %s needs a value\n", opt);
            return 2;
        }
        if (target && ex_parse_long(v, lo, hi, target) != 0) {
            fprintf(stderr, "regularizers: %s: '%s' is not an integer in [%ld, %ld]\n", opt, v,
                    lo, hi);
            return 2;
        }
    }
    return 0;
}

/* The study's network with regularizer r at strength s. */
static regnn_status build_model(const regularizer *r, double s, size_t n_features,
                                regnn_model **out)
{
    regnn_model *m = NULL;
    regnn_status st = regnn_model_create(n_features, &m);
    /* One thread per run: the path runs the runs on the cores. */
    if (st == REGNN_OK)
        st = regnn_model_set_threads(m, 1);
    for (int i = 0; i < HIDDEN_LAYERS && st == REGNN_OK; i++) {
        regnn_layer *l = NULL;
        st = regnn_model_add_dense(m, HIDDEN_UNITS, REGNN_ACT_RELU, &l);
        if (st == REGNN_OK && r->hidden)
            st = r->hidden(m, l, s);
    }
    if (st == REGNN_OK)
        st = regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL);
    if (st == REGNN_OK && r->model)
        st = r->model(m, s);
    if (st != REGNN_OK) {
        regnn_model_free(m);
        m = NULL;
    }
    *out = m;
    return st;
}

/* The study's fit options (no validation split when cross-validating). */
static regnn_status build_fit(const options *o, const regularizer *r, double s, int split,
                              regnn_fit_options **out)
{
    regnn_fit_options *fo = NULL;
    regnn_status st = regnn_fit_options_create(&fo);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, o->epochs);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, o->batch);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_int(fo, REGNN_FIT_SHUFFLE, 1);
    if (st == REGNN_OK && split)
        st = regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, VAL_SPLIT);
    if (st == REGNN_OK && r->fit)
        st = r->fit(fo, s);
    if (st != REGNN_OK) {
        regnn_fit_options_free(fo);
        fo = NULL;
    }
    *out = fo;
    return st;
}

/* One path call training r: at the n strengths s[] when the path sweeps
 * them, else at strength s[0] (n = 1; the path's lambda is then a weight
 * decay of 0, which changes nothing). K-fold cross-validation on train
 * (folds > 0), or one fit with the tail split scored on test. */
static regnn_status run_path(const options *o, const regularizer *r, const double *s, size_t n,
                             uint64_t seed, const regnn_dataset *train, const regnn_dataset *test,
                             long folds, size_t n_features, regnn_path **out)
{
    regnn_model *m = NULL;
    regnn_fit_options *fo = NULL;
    regnn_path_options *po = NULL;
    static const double zero = 0;
    int swept = r->penalty >= 0;
    regnn_status st = build_model(r, s[0], n_features, &m);
    if (st == REGNN_OK)
        st = build_fit(o, r, s[0], folds == 0, &fo);
    if (st == REGNN_OK)
        st = regnn_path_options_create(&po);
    if (st == REGNN_OK)
        st = regnn_path_options_set_lambdas(po, swept ? s : &zero, swept ? n : 1);
    if (st == REGNN_OK)
        st = regnn_path_options_set_int(po, REGNN_PATH_PENALTY,
                                        swept ? r->penalty : REGNN_PENALTY_WEIGHT_DECAY);
    if (st == REGNN_OK)
        st = regnn_path_options_set_int(po, REGNN_PATH_SEED, (long)seed);
    if (st == REGNN_OK)
        st = regnn_path_options_set_int(po, REGNN_PATH_THREADS, o->jobs);
    if (st == REGNN_OK && folds > 0)
        st = regnn_path_options_set_int(po, REGNN_PATH_FOLDS, folds);
    if (st == REGNN_OK && folds > 0)
        st = regnn_path_options_set_int(po, REGNN_PATH_FOLD_SEED, (long)seed);
    if (st == REGNN_OK && test)
        st = regnn_path_options_set_test(po, test);
    static const size_t hidden[HIDDEN_LAYERS] = {0, 1, 2, 3, 4, 5};
    if (st == REGNN_OK && swept && r->hidden_only)
        st = regnn_path_options_set_layers(po, hidden, HIDDEN_LAYERS);
    if (st == REGNN_OK)
        st = regnn_regularization_path(m, NULL, train, NULL, fo, po, out);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_model_free(m);
    return st;
}

static double run_value(const regnn_path *p, int key)
{
    double v = NAN;
    if (regnn_path_get_runs(p, key, &v, 1) != REGNN_OK)
        v = NAN;
    return v;
}

/* Step 2: the cross-validated strength of r on one seed's training rows. */
static regnn_status choose(const options *o, const regularizer *r, uint64_t seed,
                           const regnn_dataset *train, size_t nf, result *res)
{
    res->chosen = 0;
    for (size_t g = 0; g < MAX_GRID; g++)
        res->cv[g] = NAN;
    if (r->n_grid == 1)
        return REGNN_OK; /* nothing to choose */
    size_t calls = r->penalty >= 0 ? 1 : r->n_grid, per_call = r->n_grid / calls;
    for (size_t c = 0; c < calls; c++) {
        regnn_path *p = NULL;
        regnn_status st = run_path(o, r, r->grid + c, per_call, seed, train, NULL, o->folds, nf, &p);
        if (st == REGNN_OK)
            st = regnn_path_get(p, REGNN_RUN_FINAL_VAL_MSE, REGNN_AGG_MEAN, res->cv + c, per_call);
        regnn_path_free(p);
        if (st != REGNN_OK)
            return st;
    }
    /* The lowest mean, the lower index on ties (REGNN_SELECT_MIN's rule). */
    for (size_t g = 1; g < r->n_grid; g++)
        if (isfinite(res->cv[g]) && !(res->cv[g] >= res->cv[res->chosen]))
            res->chosen = g;
    return REGNN_OK;
}

/* Step 3: the final fit at the chosen strength, scored on the test rows. */
static regnn_status evaluate(const options *o, const regularizer *r, uint64_t seed,
                             const regnn_dataset *train, const regnn_dataset *test, size_t nf,
                             result *res)
{
    regnn_path *p = NULL;
    regnn_status st = run_path(o, r, &r->grid[res->chosen], 1, seed, train, test, 0, nf, &p);
    if (st != REGNN_OK)
        return st;
    res->test = run_value(p, REGNN_RUN_TEST_MSE);
    res->gap = run_value(p, REGNN_RUN_FINAL_GAP);
    res->best_epoch = run_value(p, REGNN_RUN_BEST_EPOCH) + 1;
    const regnn_history *h = regnn_path_history(p, 0, 0);
    size_t n = h ? regnn_history_epochs(h) : 0;
    res->train = n ? malloc(2 * n * sizeof(double)) : NULL;
    if (n && !res->train)
        st = REGNN_E_NOMEM;
    if (res->train) {
        res->epochs = n;
        res->val = res->train + n;
        st = regnn_history_get(h, REGNN_METRIC_TRAIN_EVAL_MSE, res->train, n);
        if (st == REGNN_OK)
            st = regnn_history_get(h, REGNN_METRIC_VAL_MSE, res->val, n);
    }
    regnn_path_free(p);
    return st;
}

/* Strengths as the table and the CSV print them. */
static void format_strength(char *buf, size_t size, const regularizer *r, double s)
{
    if (!r->strength)
        snprintf(buf, size, "—");
    else
        snprintf(buf, size, "%g", s);
}

/* "1e-3 ×3, 1e-2 ×2": how often each grid value was chosen, in grid order. */
static void format_choices(char *buf, size_t size, const regularizer *r, const result *res,
                           size_t ns)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t g = 0; g < r->n_grid && r->strength; g++) {
        size_t k = 0;
        for (size_t j = 0; j < ns; j++)
            k += res[j].chosen == g;
        if (k && used < size)
            used += (size_t)snprintf(buf + used, size - used, "%s%g ×%zu", used ? ", " : "",
                                     r->grid[g], k);
    }
    if (!r->strength)
        snprintf(buf, size, "—");
}

static void stats(const result *res, size_t ns, size_t off, double *mean, double *sd)
{
    double v[MAX_SEEDS];
    for (size_t j = 0; j < ns; j++)
        v[j] = *(const double *)((const char *)&res[j] + off);
    ex_mean_sd(v, ns, mean, sd);
}

static int write_table(const options *o, const result *all, size_t ns, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "| regularizer | strength | grid | chosen by %ld-fold CV (per seed) | test MSE | "
               "gap | best epoch |\n|---|---|---|---|---|---|---|\n",
            o->folds);
    for (size_t k = o->first; k < o->last; k++) {
        const regularizer *r = &regularizers[k];
        const result *res = all + k * ns;
        double t, tsd, g, gsd, b, bsd;
        char choices[256];
        stats(res, ns, offsetof(result, test), &t, &tsd);
        stats(res, ns, offsetof(result, gap), &g, &gsd);
        stats(res, ns, offsetof(result, best_epoch), &b, &bsd);
        format_choices(choices, sizeof choices, r, res, ns);
        char grid[128] = "—";
        for (size_t i = 0, used = 0; r->strength && i < r->n_grid && used < sizeof grid; i++)
            used += (size_t)snprintf(grid + used, sizeof grid - used, "%s%g", i ? ", " : "",
                                     r->grid[i]);
        fprintf(f, "| %s | %s | %s | %s | %.3f ± %.3f | %.3f ± %.3f | %.1f |\n", r->name,
                r->strength ? r->strength : "—", grid, choices, t, tsd, g, gsd, b);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* One row per regularizer and seed: the chosen strength and the final fit. */
static int write_csv(const result *all, size_t ns, const options *o, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "regularizer,seed,strength,test_mse,gap,best_epoch,epochs\n");
    for (size_t k = o->first; k < o->last; k++)
        for (size_t j = 0; j < ns; j++) {
            const regularizer *r = &regularizers[k];
            const result *res = &all[k * ns + j];
            char s[32];
            format_strength(s, sizeof s, r, r->grid[res->chosen]);
            fprintf(f, "%s,%ld,%s,%.17g,%.17g,%.0f,%zu\n", r->name, o->seed + (long)j, s,
                    res->test, res->gap, res->best_epoch, res->epochs);
        }
    return fclose(f) == 0 ? 0 : -1;
}

/* One row per regularizer, seed and grid strength: its cross-validated MSE. */
static int write_cv_csv(const result *all, size_t ns, const options *o, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "regularizer,seed,strength,cv_mse\n");
    for (size_t k = o->first; k < o->last; k++)
        for (size_t j = 0; j < ns; j++)
            for (size_t g = 0; g < regularizers[k].n_grid && regularizers[k].strength; g++)
                fprintf(f, "%s,%ld,%g,%.17g\n", regularizers[k].name, o->seed + (long)j,
                        regularizers[k].grid[g], all[k * ns + j].cv[g]);
    return fclose(f) == 0 ? 0 : -1;
}

/* Mean over the seeds of curve `which` (0 train, 1 val, 2 gap) at each epoch,
 * over the seeds that ran it; NaN where none did. */
static void mean_curve(const result *res, size_t ns, int which, double *out, size_t E)
{
    for (size_t e = 0; e < E; e++) {
        double sum = 0;
        size_t n = 0;
        for (size_t j = 0; j < ns; j++) {
            if (e >= res[j].epochs)
                continue;
            double t = res[j].train[e], v = res[j].val[e];
            sum += which == 0 ? t : which == 1 ? v : v - t;
            n++;
        }
        out[e] = n ? sum / (double)n : NAN;
    }
}

static int write_svg(const options *o, const result *all, size_t ns, const char *path)
{
    static const char *const colors[] = {"#222222", "#1f77b4", "#ff7f0e", "#2ca02c",
                                         "#d62728", "#9467bd", "#8c564b", "#e377c2"};
    size_t E = (size_t)o->epochs;
    double *xs = malloc(E * sizeof *xs), *curves = malloc(2 * N_REG * E * sizeof *curves);
    svgp_series se[2][N_REG];
    char labels[N_REG][96];
    int rc = -1;
    if (!xs || !curves)
        goto out;
    for (size_t e = 0; e < E; e++)
        xs[e] = (double)(e + 1);
    for (size_t k = o->first; k < o->last; k++) {
        double t, tsd;
        stats(all + k * ns, ns, offsetof(result, test), &t, &tsd);
        snprintf(labels[k], sizeof labels[k], "%s (test MSE %.3f)", regularizers[k].name, t);
        for (int p = 0; p < 2; p++) {
            double *c = curves + ((size_t)p * N_REG + k) * E;
            mean_curve(all + k * ns, ns, p == 0 ? 1 : 2, c, E);
            se[p][k - o->first] =
                (svgp_series){labels[k], xs, c, NULL, E, colors[k % 8], 2, NULL, 0, 0};
        }
    }
    svgp_panel panels[2];
    for (int p = 0; p < 2; p++) {
        panels[p] = svgp_panel_init();
        panels[p].title = p == 0 ? "Validation MSE" : "Gap: validation − training MSE";
        panels[p].xlabel = "epoch";
        panels[p].ylabel = "MSE (standardized target)";
        panels[p].xmin = 0;
        panels[p].series = se[p];
        panels[p].n_series = o->last - o->first;
    }
    panels[0].ymin = 0;
    char title[256];
    snprintf(title, sizeof title,
             "Diabetes, Dense(128, relu)×6 → Dense(1): each regularizer at its %ld-fold CV "
             "strength, mean of %ld seeds",
             o->folds, o->n_seeds);
    rc = svgp_write(path, title, panels, 2, 550, 420);
out:
    free(xs);
    free(curves);
    return rc;
}

/* Steps 2 and 3 for every regularizer on seed index j. */
static regnn_status run_seed(const options *o, const regnn_dataset *data, size_t j, result *all,
                             size_t ns)
{
    regnn_dataset *train = NULL, *test = NULL;
    uint64_t seed = (uint64_t)o->seed + j;
    size_t nf = regnn_dataset_features(data);
    regnn_status st = regnn_dataset_split_shuffled(data, TEST_SIZE, seed, &train, &test);
    for (size_t k = o->first; k < o->last && st == REGNN_OK; k++) {
        result *res = &all[k * ns + j];
        st = choose(o, &regularizers[k], seed, train, nf, res);
        if (st == REGNN_OK)
            st = evaluate(o, &regularizers[k], seed, train, test, nf, res);
        if (st == REGNN_OK) {
            char s[32];
            format_strength(s, sizeof s, &regularizers[k], regularizers[k].grid[res->chosen]);
            printf("seed %llu  %-16s strength %-8s test MSE %.3f  gap %.3f  best epoch %.0f\n",
                   (unsigned long long)seed, regularizers[k].name, s, res->test, res->gap,
                   res->best_epoch);
            fflush(stdout);
        }
    }
    regnn_dataset_free(train);
    regnn_dataset_free(test);
    return st;
}

static int write_outputs(const options *o, const result *all, size_t ns)
{
    static const char *const names[] = {"regularizers.md", "regularizers.csv",
                                        "regularizers_cv.csv", "regularizers.svg"};
    for (int i = 0; i < 4; i++) {
        char path[4096];
        int rc = ex_join(path, sizeof path, o->out, names[i]);
        if (rc == 0)
            rc = i == 0   ? write_table(o, all, ns, path)
                 : i == 1 ? write_csv(all, ns, o, path)
                 : i == 2 ? write_cv_csv(all, ns, o, path)
                          : write_svg(o, all, ns, path);
        if (rc != 0) {
            fprintf(stderr, "regularizers: cannot write %s/%s: %s\n", o->out, names[i],
                    strerror(errno));
            return 1;
        }
    }
    printf("regularizers: table in %s/regularizers.md, figure in %s/regularizers.svg\n", o->out,
           o->out);
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    size_t ns = (size_t)o.n_seeds;
    regnn_dataset *raw = NULL, *data = NULL;
    regnn_scaler *sc = NULL;
    result *all = calloc(N_REG * ns, sizeof *all);
    const char *target[] = {"y"};
    double t0 = ex_now();
    rc = 1;
    regnn_status st = all ? regnn_set_blas_threads(1) : REGNN_E_NOMEM;
    if (st == REGNN_OK)
        st = regnn_dataset_from_csv(o.data, target, NULL, 1, &raw);
    if (st == REGNN_OK)
        st = regnn_scaler_fit(raw, REGNN_SCALE_UNIT_NORM, REGNN_SCALE_ZSCORE, &sc);
    if (st == REGNN_OK)
        st = regnn_scaler_transform(sc, raw, &data);
    if (st != REGNN_OK) {
        fprintf(stderr, "regularizers: %s: %s\n", o.data, regnn_errmsg());
        goto out;
    }
    if (ex_mkdir_p(o.out) != 0) {
        fprintf(stderr, "regularizers: cannot create folder %s: %s\n", o.out, strerror(errno));
        goto out;
    }
    printf("libregnn %s - regularizers compared on %s, %ld seeds, %ld-fold CV, %ld epochs\n",
           regnn_version_string(), o.data, o.n_seeds, o.folds, o.epochs);
    for (size_t j = 0; j < ns && st == REGNN_OK; j++)
        st = run_seed(&o, data, j, all, ns);
    if (st != REGNN_OK) {
        fprintf(stderr, "regularizers: training failed: %s\n", regnn_errmsg());
        goto out;
    }
    rc = write_outputs(&o, all, ns);
    printf("regularizers: %.1f s\n", ex_now() - t0);
out:
    for (size_t i = 0; all && i < N_REG * ns; i++)
        free(all[i].train);
    free(all);
    regnn_dataset_free(raw);
    regnn_dataset_free(data);
    regnn_scaler_free(sc);
    return rc;
}
