/* SPDX-License-Identifier: MIT */
/* The study's lambda sweep as one regnn_regularization_path call, serial
 * (1 thread) and parallel (one thread per online CPU) in the same process:
 * wall times, their ratio, a check that both give the same bits, and the table.
 * Usage: bench_path [diabetes.csv] [epochs] [seeds]   defaults: tests/data/diabetes.csv 100 5
 * Setup: features REGNN_SCALE_UNIT_NORM and target ZSCORE over all 442 rows,
 * split_shuffled(0.1, seed 1) -> 397 rows (337 fit + 60 validation, Keras tail
 * split 0.15), Dense(128, relu) x 6 -> Dense(1), Glorot, Adam defaults, batch 64,
 * L2 on every kernel, seeds 1..N. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchreport.h"
#include "benchutil.h"
#include "regnn.h"

static int progress(void *user, size_t done, size_t total, double lambda, uint64_t seed,
                    const regnn_history *h)
{
    (void)lambda;
    (void)seed;
    (void)h;
    if (*(int *)user)
        fprintf(stderr, "\r  %zu/%zu runs", done, total);
    if (done == total && *(int *)user)
        fprintf(stderr, "\n");
    return 0;
}

enum { NL = 6 };
static const double lambdas[NL] = {0, 1e-5, 1e-4, 1e-3, 1e-2, 3e-2};

static regnn_path *sweep(const regnn_model *tm, const regnn_dataset *train,
                         const regnn_fit_options *fo, long seeds, int threads, int eval_train,
                         double *seconds)
{
    regnn_path_options *po;
    CHECK(regnn_path_options_create(&po));
    CHECK(regnn_path_options_set_lambdas(po, lambdas, NL));
    CHECK(regnn_path_options_set_int(po, REGNN_PATH_SEEDS, seeds));
    CHECK(regnn_path_options_set_int(po, REGNN_PATH_SEED, 1));
    CHECK(regnn_path_options_set_int(po, REGNN_PATH_THREADS, threads));
    CHECK(regnn_path_options_set_int(po, REGNN_PATH_EVAL_TRAIN, eval_train));
    int show = isatty(2);
    CHECK(regnn_path_options_set_progress(po, progress, &show));
    regnn_path *p;
    double t0 = bench_now();
    CHECK(regnn_regularization_path(tm, NULL, train, NULL, fo, po, &p));
    *seconds = bench_now() - t0;
    regnn_path_options_free(po);
    return p;
}

static int same_results(const regnn_path *a, const regnn_path *b, size_t runs)
{
    double *x = malloc(runs * sizeof *x), *y = malloc(runs * sizeof *y);
    int same = 1;
    for (int stat = REGNN_RUN_BEST_VAL_MSE; stat <= REGNN_RUN_DIVERGED; stat++) {
        if (stat == REGNN_RUN_SECONDS)
            continue;
        CHECK(regnn_path_get_runs(a, stat, x, runs));
        CHECK(regnn_path_get_runs(b, stat, y, runs));
        same &= memcmp(x, y, runs * sizeof *x) == 0;
    }
    free(x);
    free(y);
    return same;
}

/* The study's data: the file scaled (features unit norm, target z-score)
 * and split 90/10 with seed 1. */
typedef struct {
    regnn_dataset *raw, *scaled, *train, *test;
    regnn_scaler *sc;
} study_data;

static void study_load(const char *csv, study_data *d)
{
    const char *target = "y";
    CHECK(regnn_dataset_from_csv(csv, &target, NULL, 1, &d->raw));
    CHECK(regnn_scaler_fit(d->raw, REGNN_SCALE_UNIT_NORM, REGNN_SCALE_ZSCORE, &d->sc));
    CHECK(regnn_scaler_transform(d->sc, d->raw, &d->scaled));
    CHECK(regnn_dataset_split_shuffled(d->scaled, 0.1, 1, &d->train, &d->test));
}

static void study_free(study_data *d)
{
    regnn_dataset_free(d->test);
    regnn_dataset_free(d->train);
    regnn_dataset_free(d->scaled);
    regnn_dataset_free(d->raw);
    regnn_scaler_free(d->sc);
}

/* The study network, Dense(128, relu) x 6 -> Dense(1), as the path's template. */
static regnn_model *study_model(size_t n_in)
{
    regnn_model *tm;
    CHECK(regnn_model_create(n_in, &tm));
    for (int i = 0; i < 6; i++)
        CHECK(regnn_model_add_dense(tm, 128, REGNN_ACT_RELU, NULL));
    CHECK(regnn_model_add_dense(tm, 1, REGNN_ACT_LINEAR, NULL));
    return tm;
}

/* The parallel sweep again without the end-of-epoch pass over the training
 * rows: its time against t_par (pp's), and whether the training is the same. */
static void compare_eval_train(const regnn_model *tm, const regnn_dataset *train,
                               const regnn_fit_options *fo, long seeds, const regnn_path *pp,
                               double t_par)
{
    const size_t runs = (size_t)NL * (size_t)seeds;
    double t_fast;
    regnn_path *pf = sweep(tm, train, fo, seeds, 0, 0, &t_fast);
    double *x = malloc(runs * sizeof *x), *y = malloc(runs * sizeof *y);
    CHECK(regnn_path_get_runs(pp, REGNN_RUN_FINAL_VAL_MSE, x, runs));
    CHECK(regnn_path_get_runs(pf, REGNN_RUN_FINAL_VAL_MSE, y, runs));
    printf("parallel, REGNN_PATH_EVAL_TRAIN 0: %8.2f s (%.2fx the time with it on); "
           "validation results bit-identical: %s\n",
           t_fast, t_fast / t_par, memcmp(x, y, runs * sizeof *x) == 0 ? "yes" : "NO");
    free(x);
    free(y);
    regnn_path_free(pf);
}

/* Mean and sample sd over the seeds of a run value, per lambda. */
static void mean_sd(const regnn_path *p, int stat, double *mean, double *sd)
{
    CHECK(regnn_path_get(p, stat, REGNN_AGG_MEAN, mean, NL));
    CHECK(regnn_path_get(p, stat, REGNN_AGG_SD, sd, NL));
}

/* The study's table of pp: per lambda the means and sds, the verdicts per
 * seed, and which lambdas are chosen. */
static void print_results(const regnn_path *pp, long seeds)
{
    const size_t runs = (size_t)NL * (size_t)seeds;
    double bv[NL], bvsd[NL], be[NL], besd[NL], tr[NL], trsd[NL], va[NL], vasd[NL], gap[NL], gapsd[NL];
    mean_sd(pp, REGNN_RUN_BEST_VAL_MSE, bv, bvsd);
    mean_sd(pp, REGNN_RUN_BEST_EPOCH, be, besd);
    mean_sd(pp, REGNN_RUN_FINAL_TRAIN_MSE, tr, trsd);
    mean_sd(pp, REGNN_RUN_FINAL_VAL_MSE, va, vasd);
    mean_sd(pp, REGNN_RUN_FINAL_GAP, gap, gapsd);
    double *verdict = malloc(runs * sizeof *verdict);
    CHECK(regnn_path_get_runs(pp, REGNN_RUN_VERDICT, verdict, runs));
    size_t best, best1se;
    CHECK(regnn_path_best_index(pp, REGNN_RUN_BEST_VAL_MSE, REGNN_SELECT_MIN, &best));
    CHECK(regnn_path_best_index(pp, REGNN_RUN_BEST_VAL_MSE, REGNN_SELECT_1SE, &best1se));

    printf("\nbaseline (predict the training mean) val MSE: %.3f\n", regnn_path_baseline_mse(pp));
    printf("| λ | best val MSE | best epoch (1-based) | final train MSE | final val MSE | gap (val − train) "
           "| verdicts (O/U/G/I) | |\n|---|---|---|---|---|---|---|---|\n");
    for (int li = 0; li < NL; li++) {
        int cnt[4] = {0, 0, 0, 0};
        for (long s = 0; s < seeds; s++) {
            int v = (int)verdict[(size_t)li * (size_t)seeds + (size_t)s];
            if (v >= 0 && v < 4)
                cnt[v]++;
        }
        printf("| %g | %.3f ± %.3f | %.1f ± %.1f | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f | "
               "%d/%d/%d/%d | %s%s |\n",
               lambdas[li], bv[li], bvsd[li], be[li] + 1, besd[li], tr[li], trsd[li], va[li],
               vasd[li], gap[li], gapsd[li], cnt[REGNN_VERDICT_OVERFITTING],
               cnt[REGNN_VERDICT_UNDERFITTING], cnt[REGNN_VERDICT_GOOD_FIT],
               cnt[REGNN_VERDICT_INSUFFICIENT], (size_t)li == best ? "min" : "",
               (size_t)li == best1se ? ((size_t)li == best ? ", 1se" : "1se") : "");
    }
    printf("\nmean ± sample sd over seeds 1..%ld, standardized target units; verdicts per seed: "
           "overfitting/underfitting/good fit/insufficient (docs/diagnosis.md)\n", seeds);
    free(verdict);
}

int main(int argc, char **argv)
{
    bench_clean_env(argv);
    const char *csv = argc > 1 ? argv[1] : "tests/data/diabetes.csv";
    long epochs = argc > 2 ? atol(argv[2]) : 100;
    long seeds = argc > 3 ? atol(argv[3]) : 5;
    if (epochs < 1 || seeds < 1) {
        fprintf(stderr, "usage: bench_path [diabetes.csv] [epochs >= 1] [seeds >= 1]\n");
        return 2;
    }
    CHECK(regnn_set_blas_threads(1)); /* one BLAS thread per run; the runs are the parallelism */
    study_data d;
    study_load(csv, &d);
    regnn_model *tm = study_model(regnn_dataset_features(d.train));
    regnn_fit_options *fo;
    CHECK(regnn_fit_options_create(&fo));
    CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, epochs));
    CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 64));
    CHECK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.15));

    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    const size_t net[8] = {regnn_dataset_features(d.train), 128, 128, 128, 128, 128, 128, 1};
    char kt[256];
    bench_net_kernels(net, 8, 64, kt, sizeof kt, NULL, 0);
    printf("blas=%s  %zu training rows (%.0f %% validation)  %d lambdas x %ld seeds x %ld epochs  "
           "%ld online CPUs  kernels %s\n",
           regnn_blas_name(), regnn_dataset_rows(d.train), 15.0, NL, seeds, epochs, cpus, kt);
    double t_serial, t_par;
    regnn_path *ps = sweep(tm, d.train, fo, seeds, 1, 1, &t_serial);
    regnn_path *pp = sweep(tm, d.train, fo, seeds, 0, 1, &t_par);
    int same = same_results(ps, pp, (size_t)NL * (size_t)seeds);
    printf("serial   (1 thread):   %8.2f s\n", t_serial);
    printf("parallel (%ld threads): %8.2f s\n", cpus, t_par);
    printf("parallel / serial = %.3f  (speed-up %.2fx); results bit-identical: %s\n",
           t_par / t_serial, t_serial / t_par, same ? "yes" : "NO");
    compare_eval_train(tm, d.train, fo, seeds, pp, t_par);
    print_results(pp, seeds);

    regnn_path_free(ps);
    regnn_path_free(pp);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    study_free(&d);
    return same ? 0 : 1;
}
