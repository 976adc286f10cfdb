/* SPDX-License-Identifier: MIT */
/* Regularization path: results equal to hand-made runs, bit-identical for
 * every thread count, summaries and lambda selection, penalty kinds and layer
 * choice, progress and cancellation, diverged runs, bad arguments, and
 * allocation failures on the calling thread and inside the workers. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include "testutil.h"
#include "model/model_impl.h" /* the model's fields, which this test reads or breaks */

#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* Test hook of src/path/path.c (test builds only): every worker thread fails its
 * nth allocation. */
void regnn__test_path_worker_alloc_fail(regnn_path_options *opts, long nth, int persistent);
/* Test hook of src/pool.c: the nth thread creation on this thread fails (0 = off). */
void regnn__test_pool_refuse_thread(long nth);

/* y = sin(2 x0) + x1 x2 - 0.5 x3 + noise. */
static regnn_dataset *synth(size_t rows, size_t features, double noise, uint64_t seed)
{
    float *x = malloc(rows * features * sizeof *x), *y = malloc(rows * sizeof *y);
    rg_rng r;
    rg_rng_seed(&r, seed);
    for (size_t i = 0; i < rows; i++) {
        float *xi = x + i * features;
        for (size_t k = 0; k < features; k++)
            xi[k] = (float)(2 * rg_rng_uniform(&r) - 1);
        y[i] = (float)(sin(2 * xi[0]) + xi[1] * xi[2] - 0.5 * xi[3] +
                       noise * (2 * rg_rng_uniform(&r) - 1));
    }
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, rows, features, 1, REGNN_COPY, &ds));
    free(x);
    free(y);
    return ds;
}

/* 4 -> width (dropout 0.1) -> width -> 1; the template keeps L2 1e-3 on the last layer. */
static regnn_model *template_net(size_t width)
{
    regnn_model *m = NULL;
    regnn_layer *l0 = NULL, *l2 = NULL;
    CK_OK(regnn_model_create(4, &m));
    CK_OK(regnn_model_add_dense(m, width, REGNN_ACT_RELU, &l0));
    CK_OK(regnn_model_add_dense(m, width, REGNN_ACT_TANH, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, &l2));
    CK_OK(regnn_layer_set_double(l0, REGNN_LAYER_DROPOUT, 0.1));
    CK_OK(regnn_layer_set_double(l2, REGNN_LAYER_L2, 1e-3));
    return m;
}

static regnn_fit_options *fit_opts(int64_t epochs, int64_t batch, double split)
{
    regnn_fit_options *o = NULL;
    CK_OK(regnn_fit_options_create(&o));
    CK_OK(regnn_fit_options_set_int(o, REGNN_FIT_EPOCHS, epochs));
    CK_OK(regnn_fit_options_set_int(o, REGNN_FIT_BATCH_SIZE, batch));
    if (split > 0)
        CK_OK(regnn_fit_options_set_double(o, REGNN_FIT_VALIDATION_SPLIT, split));
    return o;
}

static regnn_path_options *path_opts(const double *lambdas, size_t n, int64_t seeds, int64_t threads)
{
    regnn_path_options *o = NULL;
    CK_OK(regnn_path_options_create(&o));
    CK_OK(regnn_path_options_set_lambdas(o, lambdas, n));
    CK_OK(regnn_path_options_set_int(o, REGNN_PATH_SEEDS, seeds));
    CK_OK(regnn_path_options_set_int(o, REGNN_PATH_SEED, 11));
    CK_OK(regnn_path_options_set_int(o, REGNN_PATH_THREADS, threads));
    return o;
}

/* Every metric but the wall-clock seconds, bit for bit. */
static void assert_same_history(const regnn_history *a, const regnn_history *b)
{
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    size_t n = regnn_history_epochs(a);
    ck_assert_uint_eq(n, regnn_history_epochs(b));
    ck_assert_int_eq(regnn_history_stop_reason(a), regnn_history_stop_reason(b));
    double *x = malloc((n + 1) * sizeof *x), *y = malloc((n + 1) * sizeof *y);
    for (int k = 1; k <= RG_N_METRICS; k++) {
        if (k == REGNN_METRIC_SECONDS)
            continue;
        CK_OK(regnn_history_get(a, k, x, n));
        CK_OK(regnn_history_get(b, k, y, n));
        ck_assert_msg(memcmp(x, y, n * sizeof *x) == 0, "metric %d differs", k);
    }
    free(x);
    free(y);
}

/* Every summary and per-run value but the seconds, bit for bit. */
static void assert_same_path(const regnn_path *a, const regnn_path *b)
{
    size_t nl = regnn_path_lambda_count(a), nf = regnn_path_fold_count(a);
    size_t ns = regnn_path_seed_count(a) * nf; /* runs per lambda */
    ck_assert_uint_eq(nl, regnn_path_lambda_count(b));
    ck_assert_uint_eq(ns / nf, regnn_path_seed_count(b));
    ck_assert_uint_eq(nf, regnn_path_fold_count(b));
    ck_assert_uint_le(nl * ns, 256);
    double x[256], y[256];
    for (int stat = REGNN_RUN_BEST_VAL_MSE; stat <= REGNN_RUN_DIVERGED; stat++) {
        if (stat == REGNN_RUN_SECONDS)
            continue;
        CK_OK(regnn_path_get_runs(a, stat, x, 256));
        CK_OK(regnn_path_get_runs(b, stat, y, 256));
        ck_assert_msg(memcmp(x, y, nl * ns * sizeof *x) == 0, "run values of %d differ", stat);
        if (stat == REGNN_RUN_VERDICT || stat == REGNN_RUN_REASON)
            continue;
        for (int agg = REGNN_AGG_MEAN; agg <= REGNN_AGG_MAX; agg++) {
            CK_OK(regnn_path_get(a, stat, agg, x, 256));
            CK_OK(regnn_path_get(b, stat, agg, y, 256));
            ck_assert_msg(memcmp(x, y, nl * sizeof *x) == 0, "summary %d/%d differs", stat, agg);
        }
    }
    for (size_t li = 0; li < nl; li++)
        for (size_t si = 0; si < ns; si++)
            assert_same_history(regnn_path_history(a, li, si), regnn_path_history(b, li, si));
    ck_assert(regnn_path_baseline_mse(a) == regnn_path_baseline_mse(b));
}

/* One run by hand, as the path documents it. */
static regnn_history *manual_run(const regnn_model *tmpl, const regnn_optimizer *topt, int penalty,
                                 const size_t *layers, size_t n_layers, double lambda,
                                 uint64_t seed, const regnn_dataset *train,
                                 const regnn_dataset *val, const regnn_fit_options *fo_in,
                                 const regnn_dataset *test, double *test_mse)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_copy(tmpl, &m));
    int key = penalty == REGNN_PENALTY_L1 ? REGNN_LAYER_L1 : REGNN_LAYER_L2;
    if (penalty != REGNN_PENALTY_WEIGHT_DECAY) {
        if (n_layers == 0)
            CK_OK(regnn_model_set_layers_double(m, key, lambda));
        for (size_t i = 0; i < n_layers; i++)
            CK_OK(regnn_layer_set_double(regnn_model_layer(m, layers[i]), key, lambda));
    }
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(topt ? regnn_optimizer_kind(topt) : REGNN_OPTIM_ADAM, &o));
    if (topt) {
        double lr;
        CK_OK(regnn_optimizer_get_double(topt, REGNN_OPT_LEARNING_RATE, &lr));
        CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, lr));
    }
    if (penalty == REGNN_PENALTY_WEIGHT_DECAY)
        CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_WEIGHT_DECAY, lambda));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    int64_t v;
    double dv;
    for (int k = REGNN_FIT_EPOCHS; k <= REGNN_FIT_EVAL_TRAIN; k++) {
        CK_OK(regnn_fit_options_get_int(fo_in, k, &v));
        CK_OK(regnn_fit_options_set_int(fo, k, v));
    }
    CK_OK(regnn_fit_options_get_double(fo_in, REGNN_FIT_VALIDATION_SPLIT, &dv));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, dv));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EVAL_TRAIN, 1));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(m, o, train, val, fo, &h));
    if (test)
        CK_OK(regnn_model_evaluate(m, test, test_mse, NULL, NULL));
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    return h;
}

START_TEST(test_matches_manual_runs_and_threads)
{
    regnn_dataset *ds = synth(96, 4, 0.2, 1);
    regnn_model *tm = template_net(12);
    regnn_optimizer *to = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &to));
    CK_OK(regnn_optimizer_set_double(to, REGNN_OPT_LEARNING_RATE, 0.01));
    regnn_fit_options *fo = fit_opts(6, 16, 0.25);
    const double lambdas[] = {1e-2, 0.0, 1e-3};
    regnn_path *p[3] = {NULL, NULL, NULL};
    const int64_t threads[3] = {1, 2, 3};
    for (int t = 0; t < 3; t++) {
        regnn_path_options *po = path_opts(lambdas, 3, 3, threads[t]);
        CK_OK(regnn_regularization_path(tm, to, ds, NULL, fo, po, &p[t]));
        regnn_path_options_free(po);
    }
    ck_assert_uint_eq(regnn_path_lambda_count(p[0]), 3);
    ck_assert_uint_eq(regnn_path_seed_count(p[0]), 3);
    double l[3];
    CK_OK(regnn_path_lambdas(p[0], l, 3));
    ck_assert_mem_eq(l, lambdas, sizeof l);
    assert_same_path(p[0], p[1]);
    assert_same_path(p[0], p[2]);
    /* Each run is the documented recipe: copy, set lambda, init with seed 11 + s, fit. */
    for (size_t li = 0; li < 3; li++)
        for (size_t si = 0; si < 3; si++) {
            regnn_history *h = manual_run(tm, to, REGNN_PENALTY_L2, NULL, 0, lambdas[li], 11 + si,
                                          ds, NULL, fo, NULL, NULL);
            assert_same_history(h, regnn_path_history(p[1], li, si));
            regnn_history_free(h);
        }
    /* Different seeds differ; the same seed under different lambdas starts alike
     * (checked by the manual runs) but ends differently. */
    double v[9];
    CK_OK(regnn_path_get_runs(p[0], REGNN_RUN_FINAL_VAL_MSE, v, 9));
    ck_assert(v[0] != v[1] && v[0] != v[3]);
    /* The template and optimizer were only read. */
    ck_assert_int_eq(tm->initialized, 0);
    ck_assert_uint_eq(regnn_optimizer_steps(to), 0);
    ck_assert_uint_eq(regnn_optimizer_state_size(to), 0);
    for (int t = 0; t < 3; t++)
        regnn_path_free(p[t]);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(to);
    regnn_model_free(tm);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_summaries_and_selection)
{
    regnn_dataset *tr = synth(160, 4, 0.3, 2), *va = synth(200, 4, 0.3, 3);
    regnn_model *tm = template_net(32);
    CK_OK(regnn_layer_set_double(regnn_model_layer(tm, 0), REGNN_LAYER_DROPOUT, 0.0));
    regnn_optimizer *to = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &to));
    CK_OK(regnn_optimizer_set_double(to, REGNN_OPT_LEARNING_RATE, 0.01));
    regnn_fit_options *fo = fit_opts(60, 16, 0.0);
    const double lambdas[] = {0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
    enum { NL = 6, NS = 3 };
    regnn_path_options *po = path_opts(lambdas, NL, NS, 0);
    regnn_path *p = NULL;
    CK_OK(regnn_regularization_path(tm, to, tr, va, fo, po, &p));

    /* The baseline: the validation targets' MSE around the training mean. */
    float ty[160], vy[200];
    CK_OK(regnn_dataset_get_targets(tr, ty, 160));
    CK_OK(regnn_dataset_get_targets(va, vy, 200));
    double mu = 0, base = 0;
    for (int i = 0; i < 160; i++)
        mu += ty[i];
    mu /= 160;
    for (int i = 0; i < 200; i++)
        base += (vy[i] - mu) * (vy[i] - mu);
    base /= 200;
    ck_assert_double_eq_tol(regnn_path_baseline_mse(p), base, 1e-12);

    /* Summaries against the per-run values. */
    double runs[NL * NS], mean[NL], sd[NL], se[NL], lo[NL], hi[NL];
    CK_OK(regnn_path_get_runs(p, REGNN_RUN_BEST_VAL_MSE, runs, NL * NS));
    CK_OK(regnn_path_get(p, REGNN_RUN_BEST_VAL_MSE, REGNN_AGG_MEAN, mean, NL));
    CK_OK(regnn_path_get(p, REGNN_RUN_BEST_VAL_MSE, REGNN_AGG_SD, sd, NL));
    CK_OK(regnn_path_get(p, REGNN_RUN_BEST_VAL_MSE, REGNN_AGG_SE, se, NL));
    CK_OK(regnn_path_get(p, REGNN_RUN_BEST_VAL_MSE, REGNN_AGG_MIN, lo, NL));
    CK_OK(regnn_path_get(p, REGNN_RUN_BEST_VAL_MSE, REGNN_AGG_MAX, hi, NL));
    for (int li = 0; li < NL; li++) {
        const double *r = runs + li * NS;
        double m = (r[0] + r[1] + r[2]) / 3;
        double s = sqrt(((r[0] - m) * (r[0] - m) + (r[1] - m) * (r[1] - m) + (r[2] - m) * (r[2] - m)) / 2);
        ck_assert_double_eq_tol(mean[li], m, 1e-12);
        ck_assert_double_eq_tol(sd[li], s, 1e-12);
        ck_assert_double_eq_tol(se[li], s / sqrt(3.0), 1e-12);
        ck_assert(lo[li] <= mean[li] && mean[li] <= hi[li]);
        for (int s_ = 0; s_ < NS; s_++)
            ck_assert(r[s_] >= lo[li] && r[s_] <= hi[li]);
    }
    double epochs[NL * NS], best_epoch[NL * NS], diverged[NL];
    CK_OK(regnn_path_get_runs(p, REGNN_RUN_EPOCHS, epochs, NL * NS));
    CK_OK(regnn_path_get_runs(p, REGNN_RUN_BEST_EPOCH, best_epoch, NL * NS));
    CK_OK(regnn_path_get(p, REGNN_RUN_DIVERGED, REGNN_AGG_MAX, diverged, NL));
    for (int i = 0; i < NL * NS; i++) {
        ck_assert_double_eq(epochs[i], 60);
        ck_assert(best_epoch[i] >= 0 && best_epoch[i] < 60);
    }
    for (int li = 0; li < NL; li++)
        ck_assert_double_eq(diverged[li], 0);
    /* Per-run values are those of the diagnosis of the run's history. */
    double gap[NL * NS], d[REGNN_DIAG_COUNT];
    CK_OK(regnn_path_get_runs(p, REGNN_RUN_FINAL_GAP, gap, NL * NS));
    int verdict;
    CK_OK(regnn_history_diagnose(regnn_path_history(p, 2, 1), base, &verdict, NULL, d,
                                 REGNN_DIAG_COUNT));
    ck_assert(gap[2 * NS + 1] == d[REGNN_DIAG_FINAL_GAP]);
    ck_assert(runs[2 * NS + 1] == d[REGNN_DIAG_BEST_VAL_MSE]);

    /* lambda = 1 pulls every weight to 0: the net predicts about the mean and
     * every seed is diagnosed as underfitting. */
    double verdicts[NL * NS];
    CK_OK(regnn_path_get_runs(p, REGNN_RUN_VERDICT, verdicts, NL * NS));
    for (int s_ = 0; s_ < NS; s_++)
        ck_assert_double_eq(verdicts[5 * NS + s_], REGNN_VERDICT_UNDERFITTING);
    ck_assert(mean[5] > 0.8 * base);
    /* The lowest mean validation MSE is at a small lambda, far below the baseline. */
    size_t best = 99, best_1se = 99, best_final = 99;
    CK_OK(regnn_path_best_index(p, REGNN_RUN_BEST_VAL_MSE, REGNN_SELECT_MIN, &best));
    for (int li = 0; li < NL; li++)
        ck_assert(mean[best] <= mean[li]);
    ck_assert_msg(best <= 3, "best lambda index %zu", best);
    ck_assert(mean[best] < 0.5 * base);
    /* One standard error: the largest lambda within mean[best] + se[best]. */
    CK_OK(regnn_path_best_index(p, REGNN_RUN_BEST_VAL_MSE, REGNN_SELECT_1SE, &best_1se));
    ck_assert(lambdas[best_1se] >= lambdas[best]);
    ck_assert(mean[best_1se] <= mean[best] + se[best]);
    for (int li = 0; li < NL; li++)
        if (lambdas[li] > lambdas[best_1se])
            ck_assert(mean[li] > mean[best] + se[best]);
    CK_OK(regnn_path_best_index(p, REGNN_RUN_FINAL_VAL_MSE, REGNN_SELECT_MIN, &best_final));
    ck_assert(best_final < NL);

    /* Getter arguments. */
    CK_STATUS(regnn_path_get(p, REGNN_RUN_BEST_VAL_MSE, REGNN_AGG_MEAN, mean, NL - 1), REGNN_E_SHAPE);
    CK_STATUS(regnn_path_get(p, 0, REGNN_AGG_MEAN, mean, NL), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_path_get(p, 13, REGNN_AGG_MEAN, mean, NL), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_path_get(p, REGNN_RUN_VERDICT, REGNN_AGG_MEAN, mean, NL), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_path_get(p, REGNN_RUN_BEST_VAL_MSE, 5, mean, NL), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_path_get(NULL, REGNN_RUN_BEST_VAL_MSE, REGNN_AGG_MEAN, mean, NL),
              REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_get_runs(p, REGNN_RUN_BEST_VAL_MSE, runs, NL * NS - 1), REGNN_E_SHAPE);
    CK_STATUS(regnn_path_get_runs(p, 99, runs, NL * NS), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_path_lambdas(p, mean, NL - 1), REGNN_E_SHAPE);
    CK_STATUS(regnn_path_best_index(p, REGNN_RUN_FINAL_GAP, REGNN_SELECT_MIN, &best), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_path_best_index(p, REGNN_RUN_BEST_VAL_MSE, 2, &best), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_path_best_index(p, REGNN_RUN_BEST_VAL_MSE, REGNN_SELECT_MIN, NULL),
              REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(regnn_path_history(p, NL, 0));
    ck_assert_ptr_null(regnn_path_history(p, 0, NS));
    ck_assert_ptr_null(regnn_path_history(NULL, 0, 0));
    ck_assert_uint_eq(regnn_path_lambda_count(NULL), 0);
    ck_assert_uint_eq(regnn_path_seed_count(NULL), 0);
    ck_assert(isnan(regnn_path_baseline_mse(NULL)));
    regnn_path_free(NULL);

    regnn_path_free(p);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(to);
    regnn_model_free(tm);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
}
END_TEST

START_TEST(test_penalty_kinds_and_layers)
{
    regnn_dataset *ds = synth(80, 4, 0.2, 4);
    regnn_model *tm = template_net(8);
    regnn_fit_options *fo = fit_opts(4, 16, 0.25);
    const double lambdas[] = {0.0, 3e-3};
    const size_t layers[] = {0, 1};
    /* L1 on layers 0 and 1 only (layer 2 keeps the template's L2 1e-3), SGD. */
    regnn_optimizer *sgd = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &sgd));
    CK_OK(regnn_optimizer_set_double(sgd, REGNN_OPT_LEARNING_RATE, 0.05));
    regnn_path_options *po = path_opts(lambdas, 2, 2, 2);
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_PENALTY, REGNN_PENALTY_L1));
    CK_OK(regnn_path_options_set_layers(po, layers, 2));
    regnn_path *p = NULL;
    CK_OK(regnn_regularization_path(tm, sgd, ds, NULL, fo, po, &p));
    for (size_t li = 0; li < 2; li++)
        for (size_t si = 0; si < 2; si++) {
            regnn_history *h = manual_run(tm, sgd, REGNN_PENALTY_L1, layers, 2, lambdas[li],
                                          11 + si, ds, NULL, fo, NULL, NULL);
            assert_same_history(h, regnn_path_history(p, li, si));
            regnn_history_free(h);
        }
    regnn_path_free(p);
    /* Layer choice is only for L1/L2, and indices are checked against the model. */
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_PENALTY, REGNN_PENALTY_WEIGHT_DECAY));
    p = (regnn_path *)&p;
    CK_STATUS(regnn_regularization_path(tm, sgd, ds, NULL, fo, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "weight decay"));
    const size_t bad_layer[] = {3};
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_PENALTY, REGNN_PENALTY_L2));
    CK_OK(regnn_path_options_set_layers(po, bad_layer, 1));
    CK_STATUS(regnn_regularization_path(tm, sgd, ds, NULL, fo, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "layer index 3"));
    CK_STATUS(regnn_path_options_set_layers(po, NULL, 2), REGNN_E_INVALID_ARG);
    CK_OK(regnn_path_options_set_layers(po, NULL, 0));

    /* Decoupled weight decay: lambda is the optimizer's decay (Adam template). */
    regnn_optimizer *adam = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &adam));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_PENALTY, REGNN_PENALTY_WEIGHT_DECAY));
    /* A decay above 1/lr is refused as the optimizer's setter refuses it. */
    const double too_big[] = {0.0, 2000.0};
    CK_OK(regnn_path_options_set_lambdas(po, too_big, 2));
    p = (regnn_path *)&p;
    CK_STATUS(regnn_regularization_path(tm, adam, ds, NULL, fo, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "lambda[1] = 2000"));
    CK_OK(regnn_path_options_set_lambdas(po, lambdas, 2));
    CK_OK(regnn_regularization_path(tm, adam, ds, NULL, fo, po, &p));
    for (size_t li = 0; li < 2; li++)
        for (size_t si = 0; si < 2; si++) {
            regnn_history *h = manual_run(tm, adam, REGNN_PENALTY_WEIGHT_DECAY, NULL, 0,
                                          lambdas[li], 11 + si, ds, NULL, fo, NULL, NULL);
            assert_same_history(h, regnn_path_history(p, li, si));
            regnn_history_free(h);
        }
    regnn_path_free(p);
    /* No template optimizer: Adam with its defaults, the same as the one above. */
    regnn_path *q = NULL;
    CK_OK(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &q));
    CK_OK(regnn_regularization_path(tm, adam, ds, NULL, fo, po, &p));
    assert_same_path(p, q);
    regnn_path_free(p);
    regnn_path_free(q);

    regnn_path_options_free(po);
    regnn_optimizer_free(adam);
    regnn_optimizer_free(sgd);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(ds);
}
END_TEST

/* Epochs counted by a fit callback. Once the progress callback has decided to
 * cancel, every further epoch sleeps, so the caller's thread gets a CPU to
 * publish the stop even on a loaded or emulated machine. */
struct epoch_count {
    atomic_long n;
    atomic_int slow;
};

typedef struct {
    size_t calls, total, cancel_after;
    size_t last_done;
    int order_ok, history_ok;
    const double *lambdas;
    size_t n_seeds;
    struct epoch_count *epochs; /* epochs run so far (counted by a fit callback) */
    long epochs_at_cancel;
    const regnn_history *seen[64];
} progress_ctx;

static int on_progress(void *user, size_t done, size_t total, double lambda, uint64_t seed,
                       const regnn_history *h)
{
    progress_ctx *c = user;
    if (done != c->last_done + 1 || total != c->total)
        c->order_ok = 0;
    c->last_done = done;
    /* Serial runs finish in lambda-major order. */
    size_t r = c->calls;
    if (c->n_seeds && (lambda != c->lambdas[r / c->n_seeds] || seed != 11 + r % c->n_seeds))
        c->order_ok = 0;
    if (!h || regnn_history_epochs(h) == 0)
        c->history_ok = 0;
    if (c->calls < 64)
        c->seen[c->calls] = h;
    c->calls++;
    if (c->cancel_after && c->calls >= c->cancel_after) {
        if (c->epochs) {
            atomic_store(&c->epochs->slow, 1);
            c->epochs_at_cancel = atomic_load(&c->epochs->n);
        }
        return 1;
    }
    return 0;
}

static int count_epochs(void *user, const regnn_history *h, size_t epoch)
{
    (void)h;
    (void)epoch;
    struct epoch_count *e = user;
    atomic_fetch_add(&e->n, 1);
    if (atomic_load(&e->slow)) {
        const struct timespec ms2 = {0, 2000000};
        nanosleep(&ms2, NULL);
    }
    return 0;
}

START_TEST(test_progress_and_cancel)
{
    regnn_dataset *ds = synth(64, 4, 0.2, 5);
    regnn_model *tm = template_net(8);
    regnn_fit_options *fo = fit_opts(3, 16, 0.25);
    const double lambdas[] = {0.0, 1e-3, 1e-2};

    /* Serial: one call per run, in order, with the run's history. */
    regnn_path_options *po = path_opts(lambdas, 3, 2, 1);
    progress_ctx c;
    memset(&c, 0, sizeof c);
    c.total = 6;
    c.order_ok = c.history_ok = 1;
    c.lambdas = lambdas;
    c.n_seeds = 2;
    CK_OK(regnn_path_options_set_progress(po, on_progress, &c));
    regnn_path *p = NULL;
    CK_OK(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p));
    ck_assert_uint_eq(c.calls, 6);
    ck_assert(c.order_ok && c.history_ok);
    for (size_t r = 0; r < 6; r++)
        ck_assert_ptr_eq(c.seen[r], regnn_path_history(p, r / 2, r % 2));
    regnn_path_free(p);

    /* Cancel after the second run: nothing leaks, nothing is returned. */
    long live = regnn__test_alloc_live();
    memset(&c, 0, sizeof c);
    c.total = 6;
    c.order_ok = c.history_ok = 1;
    c.lambdas = lambdas;
    c.n_seeds = 2;
    c.cancel_after = 2;
    p = (regnn_path *)&c;
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p), REGNN_E_CANCELLED);
    ck_assert_ptr_null(p);
    ck_assert_uint_eq(c.calls, 2);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "cancelled"));
    ck_assert_int_eq(regnn__test_alloc_live(), live);

    /* Parallel: callbacks come one at a time from this thread; cancelling stops the
     * running fits within an epoch each (long runs, cancelled at the first result). */
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    fo = fit_opts(400, 16, 0.25);
    struct epoch_count epochs;
    atomic_init(&epochs.n, 0);
    atomic_init(&epochs.slow, 0);
    CK_OK(regnn_fit_options_set_callback(fo, count_epochs, &epochs));
    po = path_opts(lambdas, 3, 2, 2);
    memset(&c, 0, sizeof c);
    c.total = 6;
    c.order_ok = c.history_ok = 1;
    c.cancel_after = 1;
    c.epochs = &epochs;
    CK_OK(regnn_path_options_set_progress(po, on_progress, &c));
    live = regnn__test_alloc_live();
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p), REGNN_E_CANCELLED);
    ck_assert_ptr_null(p);
    ck_assert_uint_eq(c.calls, 1);
    ck_assert(c.order_ok && c.history_ok);
    long after = atomic_load(&epochs.n);
    /* Each worker ends its current epoch and starts no new run: one more epoch
     * per worker once the stop is published. The stop follows the callback's
     * return after a scheduling delay, so allow a few slept epochs; a fit that
     * ignored the stop would run on to its 400th epoch. How many ran before the
     * cancel depends on scheduling (under valgrind the workers may finish first). */
    ck_assert_msg(after - c.epochs_at_cancel <= 40,
                  "%ld epochs after the cancel (%ld before)", after - c.epochs_at_cancel,
                  c.epochs_at_cancel);
    ck_assert_int_eq(regnn__test_alloc_live(), live);

    /* Without cancelling, the user's fit callback runs for every epoch of every run. */
    atomic_store(&epochs.n, 0);
    atomic_store(&epochs.slow, 0);
    regnn_fit_options_free(fo);
    fo = fit_opts(5, 16, 0.25);
    CK_OK(regnn_fit_options_set_callback(fo, count_epochs, &epochs));
    c.cancel_after = 0;
    c.calls = c.last_done = 0;
    CK_OK(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p));
    ck_assert_int_eq(atomic_load(&epochs.n), 6 * 5);
    ck_assert_uint_eq(c.calls, 6);
    ck_assert(c.order_ok && c.history_ok);
    regnn_path_free(p);

    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(ds);
}
END_TEST

static int stop_at_3(void *user, const regnn_history *h, size_t epoch)
{
    (void)user;
    (void)h;
    return epoch >= 2;
}

START_TEST(test_user_callback_stops_runs)
{
    /* A fit callback that ends each run early is the caller's choice, not a cancel. */
    regnn_dataset *ds = synth(64, 4, 0.2, 6);
    regnn_model *tm = template_net(8);
    regnn_fit_options *fo = fit_opts(50, 16, 0.25);
    CK_OK(regnn_fit_options_set_callback(fo, stop_at_3, NULL));
    const double lambdas[] = {0.0, 1e-2};
    regnn_path_options *po = path_opts(lambdas, 2, 2, 2);
    regnn_path *p = NULL;
    CK_OK(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p));
    double e[4], verdict[4], reason[4];
    CK_OK(regnn_path_get_runs(p, REGNN_RUN_EPOCHS, e, 4));
    CK_OK(regnn_path_get_runs(p, REGNN_RUN_VERDICT, verdict, 4));
    CK_OK(regnn_path_get_runs(p, REGNN_RUN_REASON, reason, 4));
    for (int i = 0; i < 4; i++) {
        ck_assert_double_eq(e[i], 3);
        ck_assert_double_eq(verdict[i], REGNN_VERDICT_INSUFFICIENT);
        ck_assert_double_eq(reason[i], REGNN_REASON_TOO_SHORT);
        ck_assert_int_eq(regnn_history_stop_reason(regnn_path_history(p, (size_t)i / 2, (size_t)i % 2)),
                         REGNN_STOP_CALLBACK);
    }
    regnn_path_free(p);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_diverged_runs)
{
    /* SGD with L2: the penalty step multiplies weights by 1 - 2 lr lambda, which
     * blows up for lambda = 50 (factor -4) but not for small lambdas. */
    regnn_dataset *ds = synth(64, 4, 0.2, 7);
    regnn_model *tm = template_net(8);
    regnn_optimizer *sgd = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &sgd));
    CK_OK(regnn_optimizer_set_double(sgd, REGNN_OPT_LEARNING_RATE, 0.05));
    regnn_fit_options *fo = fit_opts(20, 16, 0.25);
    const double lambdas[] = {50.0, 0.0, 1e-3};
    regnn_path_options *po = path_opts(lambdas, 3, 2, 2);
    regnn_path *p = NULL;
    CK_OK(regnn_regularization_path(tm, sgd, ds, NULL, fo, po, &p));
    double div[6], mean[3], dmean[3];
    CK_OK(regnn_path_get_runs(p, REGNN_RUN_DIVERGED, div, 6));
    ck_assert(div[0] == 1 && div[1] == 1 && div[2] == 0 && div[3] == 0 && div[4] == 0 && div[5] == 0);
    ck_assert_ptr_null(regnn_path_history(p, 0, 0));
    ck_assert_ptr_nonnull(regnn_path_history(p, 1, 0));
    CK_OK(regnn_path_get(p, REGNN_RUN_BEST_VAL_MSE, REGNN_AGG_MEAN, mean, 3));
    ck_assert(isnan(mean[0]) && isfinite(mean[1]) && isfinite(mean[2]));
    CK_OK(regnn_path_get(p, REGNN_RUN_DIVERGED, REGNN_AGG_MEAN, dmean, 3));
    ck_assert(dmean[0] == 1 && dmean[1] == 0);
    size_t best = 9;
    CK_OK(regnn_path_best_index(p, REGNN_RUN_BEST_VAL_MSE, REGNN_SELECT_MIN, &best));
    ck_assert(best == 1 || best == 2);
    CK_OK(regnn_path_best_index(p, REGNN_RUN_BEST_VAL_MSE, REGNN_SELECT_1SE, &best));
    ck_assert(best == 1 || best == 2);
    regnn_path_free(p);
    /* Every lambda diverging: a result, but nothing to select. */
    CK_OK(regnn_path_options_set_lambdas(po, lambdas, 1));
    CK_OK(regnn_regularization_path(tm, sgd, ds, NULL, fo, po, &p));
    CK_STATUS(regnn_path_best_index(p, REGNN_RUN_BEST_VAL_MSE, REGNN_SELECT_MIN, &best),
              REGNN_E_NUMERIC);
    regnn_path_free(p);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(sgd);
    regnn_model_free(tm);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_bad_arguments)
{
    regnn_dataset *ds = synth(40, 4, 0.2, 8), *wide = synth(40, 5, 0.2, 8);
    regnn_model *tm = template_net(4);
    regnn_fit_options *fo = fit_opts(2, 16, 0.25);
    regnn_path_options *po = NULL;
    CK_OK(regnn_path_options_create(&po));
    regnn_path *p = (regnn_path *)&po;

    /* Options: defaults and ranges. */
    int64_t v;
    CK_OK(regnn_path_options_get_int(po, REGNN_PATH_SEEDS, &v));
    ck_assert_int_eq(v, 1);
    CK_OK(regnn_path_options_get_int(po, REGNN_PATH_SEED, &v));
    ck_assert_int_eq(v, 0);
    CK_OK(regnn_path_options_get_int(po, REGNN_PATH_PENALTY, &v));
    ck_assert_int_eq(v, REGNN_PENALTY_L2);
    CK_OK(regnn_path_options_get_int(po, REGNN_PATH_THREADS, &v));
    ck_assert_int_eq(v, 0);
    CK_OK(regnn_path_options_get_int(po, REGNN_PATH_INIT, &v));
    ck_assert_int_eq(v, REGNN_INIT_GLOROT_UNIFORM);
    CK_STATUS(regnn_path_options_set_int(po, REGNN_PATH_SEEDS, 0), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "REGNN_PATH_SEEDS must be in 1.."));
    CK_STATUS(regnn_path_options_set_int(po, REGNN_PATH_SEED, -1), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_options_set_int(po, REGNN_PATH_PENALTY, -1), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_options_set_int(po, REGNN_PATH_THREADS, -1), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_options_set_int(po, REGNN_PATH_THREADS, 257), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_options_set_int(po, REGNN_PATH_INIT, 2), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_options_set_int(po, 99, 1), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_path_options_get_int(po, 99, &v), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_path_options_set_int(NULL, REGNN_PATH_SEEDS, 1), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_options_get_int(po, REGNN_PATH_SEEDS, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_options_create(NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_options_set_progress(NULL, NULL, NULL), REGNN_E_INVALID_ARG);
    regnn_path_options_free(NULL);

    /* Lambdas: never set, empty, negative, NaN, Inf. */
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "empty"));
    const double good[] = {0.0, 1e-3}, neg[] = {1e-3, -1e-4}, nan_[] = {NAN}, inf[] = {INFINITY};
    CK_STATUS(regnn_path_options_set_lambdas(po, good, 0), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "empty"));
    CK_STATUS(regnn_path_options_set_lambdas(po, NULL, 2), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_options_set_lambdas(po, neg, 2), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "lambda[1]"));
    CK_STATUS(regnn_path_options_set_lambdas(po, nan_, 1), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "lambda[0] is nan"));
    CK_STATUS(regnn_path_options_set_lambdas(po, inf, 1), REGNN_E_INVALID_ARG);
    size_t n = 9;
    CK_OK(regnn_path_options_get_lambdas(po, NULL, 0, &n));
    ck_assert_uint_eq(n, 0); /* failed calls changed nothing */
    CK_OK(regnn_path_options_set_lambdas(po, good, 2));
    double got[2];
    CK_STATUS(regnn_path_options_get_lambdas(po, got, 1, &n), REGNN_E_SHAPE);
    CK_OK(regnn_path_options_get_lambdas(po, got, 2, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_mem_eq(got, good, sizeof got);
    CK_STATUS(regnn_path_options_get_lambdas(po, got, 2, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_options_set_lambdas(po, neg, 2), REGNN_E_INVALID_ARG);
    CK_OK(regnn_path_options_get_lambdas(po, got, 2, &n));
    ck_assert_mem_eq(got, good, sizeof got);

    /* Required handles. */
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_regularization_path(NULL, NULL, ds, NULL, fo, po, &p), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_regularization_path(tm, NULL, NULL, NULL, fo, po, &p), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, NULL, fo, NULL, &p), REGNN_E_INVALID_ARG);
    /* Shapes. */
    CK_STATUS(regnn_regularization_path(tm, NULL, wide, NULL, fo, po, &p), REGNN_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "training data has 5 features"));
    regnn_fit_options *nosplit = fit_opts(2, 16, 0.0);
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, wide, nosplit, po, &p), REGNN_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "validation data has 5 features"));
    /* Validation: none, or both kinds. */
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, NULL, nosplit, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "validation"));
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, NULL, NULL, po, &p), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, ds, fo, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "not both"));
    regnn_fit_options *tiny_split = fit_opts(2, 16, 1e-18); /* 1 - 1e-18 == 1: no validation row */
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, NULL, tiny_split, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "empty"));
    /* A template without layers. */
    regnn_model *empty = NULL;
    CK_OK(regnn_model_create(4, &empty));
    CK_STATUS(regnn_regularization_path(empty, NULL, ds, NULL, fo, po, &p), REGNN_E_STATE);
    ck_assert_ptr_null(p);
    /* With val given and no split, it works (and an initialized template is fine). */
    CK_OK(regnn_model_init(tm, REGNN_INIT_HE_UNIFORM, 5));
    CK_OK(regnn_regularization_path(tm, NULL, ds, ds, nosplit, po, &p));
    ck_assert_ptr_nonnull(p);
    regnn_path_free(p);

    regnn_model_free(empty);
    regnn_fit_options_free(tiny_split);
    regnn_fit_options_free(nosplit);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(ds);
    regnn_dataset_free(wide);
}
END_TEST

/* A tiny path, for the allocation-failure loops. */
static regnn_status tiny_path(regnn_model *tm, regnn_dataset *ds, regnn_fit_options *fo,
                              regnn_path_options *po, regnn_path **out)
{
    return regnn_regularization_path(tm, NULL, ds, NULL, fo, po, out);
}

/* The runs' workers come from the library's pool: when it cannot start
 * them (the first or a later thread refused), the runs go on the calling
 * thread with the same results, and nothing leaks. */
START_TEST(test_threads_cannot_start)
{
    regnn_dataset *ds = synth(40, 4, 0.2, 12);
    regnn_model *tm = template_net(4);
    regnn_fit_options *fo = fit_opts(3, 16, 0.25);
    const double lambdas[] = {0.0, 1e-2};
    regnn_path_options *po = path_opts(lambdas, 2, 2, 1);
    regnn_path *ref = NULL;
    CK_OK(tiny_path(tm, ds, fo, po, &ref));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_THREADS, 3));
    for (long nth = 1; nth <= 3; nth++) {
        long live = regnn__test_alloc_live();
        regnn_path *p = NULL;
        regnn__test_pool_refuse_thread(nth);
        regnn_status st = tiny_path(tm, ds, fo, po, &p);
        regnn__test_pool_refuse_thread(0);
        CK_OK(st);
        assert_same_path(ref, p);
        regnn_path_free(p);
        ck_assert_int_eq(regnn__test_alloc_live(), live);
    }
    regnn_path_free(ref);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(ds);
}
END_TEST

/* REGNN_PATH_EVAL_TRAIN 0: the runs train exactly as with 1 (evaluation
 * changes nothing), but no end-of-epoch training evaluation is recorded and
 * the training MSEs in the results are the epochs' running means. */
START_TEST(test_eval_train_off)
{
    regnn_dataset *ds = synth(96, 4, 0.2, 3);
    regnn_model *tm = template_net(12);
    regnn_fit_options *fo = fit_opts(5, 16, 0.25);
    const double lambdas[] = {1e-2, 0.0};
    regnn_path *p[2] = {NULL, NULL};
    for (int e = 0; e < 2; e++) {
        regnn_path_options *po = path_opts(lambdas, 2, 2, 2);
        int64_t v = -1;
        CK_OK(regnn_path_options_get_int(po, REGNN_PATH_EVAL_TRAIN, &v));
        ck_assert_int_eq(v, 1);
        CK_OK(regnn_path_options_set_int(po, REGNN_PATH_EVAL_TRAIN, e));
        CK_OK(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p[e]));
        regnn_path_options_free(po);
    }
    double a[4], b[4];
    CK_OK(regnn_path_get_runs(p[0], REGNN_RUN_FINAL_VAL_MSE, a, 4));
    CK_OK(regnn_path_get_runs(p[1], REGNN_RUN_FINAL_VAL_MSE, b, 4));
    ck_assert_mem_eq(a, b, sizeof a);
    CK_OK(regnn_path_get_runs(p[0], REGNN_RUN_FINAL_TRAIN_MSE, a, 4));
    CK_OK(regnn_path_get_runs(p[1], REGNN_RUN_FINAL_TRAIN_MSE, b, 4));
    for (size_t r = 0; r < 4; r++) {
        const regnn_history *h0 = regnn_path_history(p[0], r / 2, r % 2);
        const regnn_history *h1 = regnn_path_history(p[1], r / 2, r % 2);
        const size_t n = regnn_history_epochs(h0);
        ck_assert_uint_eq(n, 5);
        double run[5], ev0[5], ev1[5];
        CK_OK(regnn_history_get(h0, REGNN_METRIC_TRAIN_MSE, run, 5));
        CK_OK(regnn_history_get(h0, REGNN_METRIC_TRAIN_EVAL_MSE, ev0, 5));
        CK_OK(regnn_history_get(h1, REGNN_METRIC_TRAIN_EVAL_MSE, ev1, 5));
        for (size_t k = 0; k < 5; k++) {
            ck_assert(isnan(ev0[k]));
            ck_assert(isfinite(ev1[k]));
        }
        ck_assert(a[r] == run[4]); /* the running mean */
        ck_assert(b[r] == ev1[4]);  /* end-of-epoch weights */
        ck_assert(a[r] != b[r]);
    }
    regnn_path_free(p[0]);
    regnn_path_free(p[1]);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_option_messages)
{
    regnn_path_options *po = NULL;
    CK_OK(regnn_path_options_create(&po));
    static const struct {
        int key;
        int64_t value;
        const char *msg;
    } cases[] = {
        {REGNN_PATH_SEEDS, 0, "REGNN_PATH_SEEDS must be in 1..1048576, got 0"},
        {REGNN_PATH_SEEDS, 1048577, "REGNN_PATH_SEEDS must be in 1..1048576, got 1048577"},
        {REGNN_PATH_SEED, -5, "REGNN_PATH_SEED must be >= 0, got -5"},
        {REGNN_PATH_PENALTY, 8,
         "REGNN_PATH_PENALTY must be REGNN_PENALTY_L2 (0), REGNN_PENALTY_L1 (1), "
         "REGNN_PENALTY_WEIGHT_DECAY (2), REGNN_PENALTY_DROPOUT (3), REGNN_PENALTY_MAX_NORM (4), "
         "REGNN_PENALTY_ACTIVITY_L2 (5), REGNN_PENALTY_BIAS_L2 (6) or "
         "REGNN_PENALTY_GAUSSIAN_NOISE (7), got 8"},
        {REGNN_PATH_THREADS, 257, "REGNN_PATH_THREADS must be in 0..256, got 257"},
        {REGNN_PATH_INIT, -1,
         "REGNN_PATH_INIT must be REGNN_INIT_GLOROT_UNIFORM (0) or REGNN_INIT_HE_UNIFORM (1), got -1"},
        {REGNN_PATH_EVAL_TRAIN, 2, "REGNN_PATH_EVAL_TRAIN must be 0 or 1, got 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char want[512];
        snprintf(want, sizeof want, "regnn_path_options_set_int: %s", cases[i].msg);
        CK_STATUS(regnn_path_options_set_int(po, cases[i].key, cases[i].value), REGNN_E_INVALID_ARG);
        ck_assert_str_eq(regnn_errmsg(), want);
    }
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_SEEDS, 1048576));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_THREADS, 256));
    CK_STATUS(regnn_path_options_set_int(po, 42, 1), REGNN_E_UNSUPPORTED);
    ck_assert_str_eq(regnn_errmsg(),
                     "regnn_path_options_set_int: unknown key 42 (not a REGNN_PATH_* value)");
    int64_t v;
    CK_STATUS(regnn_path_options_get_int(po, 42, &v), REGNN_E_UNSUPPORTED);
    ck_assert_str_eq(regnn_errmsg(),
                     "regnn_path_options_get_int: unknown key 42 (not a REGNN_PATH_* value)");
    regnn_path_options_free(po);
}
END_TEST

START_TEST(test_alloc_failure_caller_thread)
{
    regnn_dataset *ds = synth(40, 4, 0.2, 9);
    regnn_model *tm = template_net(4);
    regnn_fit_options *fo = fit_opts(3, 16, 0.25);
    const double lambdas[] = {0.0, 1e-2};
    regnn_path_options *po = path_opts(lambdas, 2, 2, 1);
    regnn_path *ref = NULL;
    CK_OK(tiny_path(tm, ds, fo, po, &ref));
    for (int persistent = 0; persistent <= 1; persistent++) {
        int ok = 0;
        long nth;
        for (nth = 1; nth < 2000 && !ok; nth++) {
            long live = regnn__test_alloc_live();
            regnn_path *p = (regnn_path *)&ok;
            regnn__test_alloc_fail_at(nth, persistent);
            regnn_status st = tiny_path(tm, ds, fo, po, &p);
            regnn__test_alloc_fail_at(0, 0);
            if (st == REGNN_OK) {
                ok = 1;
                assert_same_path(ref, p);
                regnn_path_free(p);
            } else {
                ck_assert_msg(st == REGNN_E_NOMEM, "nth %ld: status %d: %s", nth, st, regnn_errmsg());
                ck_assert_ptr_null(p);
                ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_regularization_path"));
            }
            ck_assert_int_eq(regnn__test_alloc_live(), live);
        }
        ck_assert_msg(ok && nth > 50, "nth %ld", nth);
    }
    regnn_path_free(ref);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_alloc_failure_in_workers)
{
    /* Failures inside worker threads reach the caller as REGNN_E_NOMEM with
     * the worker's message; the caller's thread frees all it allocated
     * (valgrind checks the workers' side). */
    regnn_dataset *ds = synth(40, 4, 0.2, 10);
    regnn_model *tm = template_net(4);
    regnn_fit_options *fo = fit_opts(3, 16, 0.25);
    const double lambdas[] = {0.0, 1e-2};
    regnn_path_options *po = path_opts(lambdas, 2, 2, 2);
    regnn_path *ref = NULL;
    CK_OK(tiny_path(tm, ds, fo, po, &ref));
    for (int persistent = 0; persistent <= 1; persistent++) {
        int ok = 0;
        long nth;
        for (nth = 1; nth < 2000 && !ok; nth++) {
            long live = regnn__test_alloc_live();
            regnn_path *p = (regnn_path *)&ok;
            regnn__test_path_worker_alloc_fail(po, nth, persistent);
            regnn_status st = tiny_path(tm, ds, fo, po, &p);
            if (st == REGNN_OK) {
                ok = 1;
                assert_same_path(ref, p);
                regnn_path_free(p);
            } else {
                ck_assert_msg(st == REGNN_E_NOMEM, "nth %ld: status %d: %s", nth, st, regnn_errmsg());
                ck_assert_ptr_null(p);
                ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_regularization_path: lambda"));
                ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "out of memory"));
            }
            ck_assert_int_eq(regnn__test_alloc_live(), live);
        }
        ck_assert_msg(ok && nth > 20, "nth %ld", nth);
    }
    regnn__test_path_worker_alloc_fail(po, 0, 0);
    regnn_path_free(ref);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(ds);
}
END_TEST

/* Results are bit-identical across thread counts when the BLAS uses one thread. */
static void one_blas_thread(void) { regnn_set_blas_threads(1); }

START_TEST(test_test_mse)
{
    /* With test data, every run reports its final model's test MSE, equal to
     * scoring a hand-made run, for any thread count. */
    regnn_dataset *ds = synth(96, 4, 0.2, 21), *test = synth(40, 4, 0.2, 22);
    regnn_model *tm = template_net(10);
    regnn_fit_options *fo = fit_opts(5, 16, 0.25);
    const double lambdas[] = {0.0, 1e-2};
    double got[2][4];
    for (int t = 0; t < 2; t++) {
        regnn_path_options *po = path_opts(lambdas, 2, 2, t + 1);
        CK_OK(regnn_path_options_set_test(po, test));
        regnn_path *p = NULL;
        CK_OK(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p));
        CK_OK(regnn_path_get_runs(p, REGNN_RUN_TEST_MSE, got[t], 4));
        double mean[2];
        CK_OK(regnn_path_get(p, REGNN_RUN_TEST_MSE, REGNN_AGG_MEAN, mean, 2));
        ck_assert_double_eq_tol(mean[1], 0.5 * (got[t][2] + got[t][3]), 1e-12);
        regnn_path_free(p);
        regnn_path_options_free(po);
    }
    ck_assert_mem_eq(got[0], got[1], sizeof got[0]);
    for (size_t r = 0; r < 4; r++) {
        double mse = -1;
        regnn_history *h = manual_run(tm, NULL, REGNN_PENALTY_L2, NULL, 0, lambdas[r / 2], 11 + r % 2,
                                      ds, NULL, fo, test, &mse);
        ck_assert(mse == got[0][r]);
        regnn_history_free(h);
    }
    /* Without test data the value is NaN; a test set of the wrong shape is refused. */
    regnn_path_options *po = path_opts(lambdas, 2, 1, 1);
    regnn_path *p = NULL;
    CK_OK(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p));
    CK_OK(regnn_path_get_runs(p, REGNN_RUN_TEST_MSE, got[0], 2));
    ck_assert(isnan(got[0][0]));
    regnn_path_free(p);
    regnn_dataset *wrong = synth(10, 5, 0.2, 23);
    CK_OK(regnn_path_options_set_test(po, wrong));
    p = (regnn_path *)1;
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p), REGNN_E_SHAPE);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "test data"));
    CK_STATUS(regnn_path_options_set_test(NULL, test), REGNN_E_INVALID_ARG);
    regnn_dataset_free(wrong);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(test);
    regnn_dataset_free(ds);
}
END_TEST

/* ---- k-fold cross-validation ---- */

/* A path on ds with k folds (fold seed fseed), no validation data. */
static regnn_path *cv_path(const regnn_model *tm, const regnn_optimizer *to, const regnn_dataset *ds,
                           const regnn_fit_options *fo, const double *lambdas, size_t nl,
                           int64_t seeds, int64_t threads, int64_t k, int64_t fseed)
{
    regnn_path_options *po = path_opts(lambdas, nl, seeds, threads);
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_FOLDS, k));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_FOLD_SEED, fseed));
    regnn_path *p = NULL;
    CK_OK(regnn_regularization_path(tm, to, ds, NULL, fo, po, &p));
    regnn_path_options_free(po);
    return p;
}

START_TEST(test_folds_assignment)
{
    /* 50 rows in 3 folds: every row in exactly one fold 0..2, sizes 16 or 17
     * summing to 50, the assignment the documented rule gives (row perm[i] of
     * the fold seed's permutation in fold i*k/n), the same for the same fold
     * seed and another for another seed. */
    regnn_dataset *ds = synth(50, 4, 0.2, 31);
    regnn_model *tm = template_net(4);
    regnn_fit_options *fo = fit_opts(1, 16, 0.0);
    const double lambdas[] = {0.0};
    size_t fold[3][50];
    const int64_t fseeds[3] = {7, 7, 8};
    for (int t = 0; t < 3; t++) {
        regnn_path *p = cv_path(tm, NULL, ds, fo, lambdas, 1, 1, 1, 3, fseeds[t]);
        ck_assert_uint_eq(regnn_path_fold_count(p), 3);
        CK_STATUS(regnn_path_folds(p, fold[t], 49), REGNN_E_SHAPE);
        CK_STATUS(regnn_path_folds(p, NULL, 50), REGNN_E_INVALID_ARG);
        CK_OK(regnn_path_folds(p, fold[t], 50));
        regnn_path_free(p);
    }
    ck_assert_mem_eq(fold[0], fold[1], sizeof fold[0]);
    ck_assert(memcmp(fold[0], fold[2], sizeof fold[0]) != 0);
    for (int t = 0; t < 3; t += 2) {
        size_t count[3] = {0, 0, 0}, perm[50];
        for (int i = 0; i < 50; i++) {
            ck_assert_uint_lt(fold[t][i], 3);
            count[fold[t][i]]++;
        }
        ck_assert_uint_eq(count[0] + count[1] + count[2], 50);
        for (int f = 0; f < 3; f++)
            ck_assert(count[f] == 16 || count[f] == 17);
        rg_rng r;
        rg_rng_seed(&r, (uint64_t)fseeds[t]);
        rg_rng_permutation(&r, perm, 50);
        for (size_t i = 0; i < 50; i++)
            ck_assert_uint_eq(fold[t][perm[i]], i * 3 / 50);
    }
    /* k = n: leave-one-out, one row per fold. */
    regnn_path *p = cv_path(tm, NULL, ds, fo, lambdas, 1, 1, 2, 50, 0);
    CK_OK(regnn_path_folds(p, fold[0], 50));
    int seen[50] = {0};
    for (int i = 0; i < 50; i++)
        seen[fold[0][i]]++;
    for (int f = 0; f < 50; f++)
        ck_assert_int_eq(seen[f], 1);
    ck_assert_uint_eq(regnn_path_fold_count(p), 50);
    regnn_path_free(p);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_folds_runs_and_threads)
{
    /* Every (lambda, fold, seed) run is a hand-made run trained on the other
     * folds' rows (ascending) and validated on the fold's rows, stored
     * lambda-major over (fold, seed); the same bits for 1, 2 and 3 threads. */
    regnn_dataset *ds = synth(70, 4, 0.2, 32), *test = synth(20, 4, 0.2, 33);
    regnn_model *tm = template_net(8);
    regnn_optimizer *to = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &to));
    CK_OK(regnn_optimizer_set_double(to, REGNN_OPT_LEARNING_RATE, 0.01));
    regnn_fit_options *fo = fit_opts(4, 16, 0.0);
    const double lambdas[] = {1e-2, 0.0};
    enum { NL = 2, K = 3, NS = 2 };
    regnn_path *p[3];
    for (int t = 0; t < 3; t++) {
        regnn_path_options *po = path_opts(lambdas, NL, NS, t + 1);
        CK_OK(regnn_path_options_set_int(po, REGNN_PATH_FOLDS, K));
        CK_OK(regnn_path_options_set_int(po, REGNN_PATH_FOLD_SEED, 4));
        CK_OK(regnn_path_options_set_test(po, test));
        CK_OK(regnn_regularization_path(tm, to, ds, NULL, fo, po, &p[t]));
        regnn_path_options_free(po);
    }
    assert_same_path(p[0], p[1]);
    assert_same_path(p[0], p[2]);
    ck_assert_uint_eq(regnn_path_seed_count(p[0]), NS);
    size_t fold[70];
    CK_OK(regnn_path_folds(p[0], fold, 70));
    double test_mse[NL * K * NS], tmp[NL * K * NS];
    CK_OK(regnn_path_get_runs(p[0], REGNN_RUN_TEST_MSE, test_mse, NL * K * NS));
    CK_STATUS(regnn_path_get_runs(p[0], REGNN_RUN_TEST_MSE, tmp, NL * K * NS - 1), REGNN_E_SHAPE);
    for (size_t f = 0; f < K; f++) {
        size_t in[70], out[70], n_in = 0, n_out = 0;
        for (size_t i = 0; i < 70; i++) {
            if (fold[i] == f)
                out[n_out++] = i;
            else
                in[n_in++] = i;
        }
        regnn_dataset *tr = NULL, *va = NULL;
        CK_OK(regnn_dataset_select(ds, in, n_in, &tr));
        CK_OK(regnn_dataset_select(ds, out, n_out, &va));
        for (size_t li = 0; li < NL; li++)
            for (size_t si = 0; si < NS; si++) {
                double mse = -1;
                regnn_history *h = manual_run(tm, to, REGNN_PENALTY_L2, NULL, 0, lambdas[li],
                                              11 + si, tr, va, fo, test, &mse);
                assert_same_history(h, regnn_path_history(p[1], li, f * NS + si));
                ck_assert(mse == test_mse[(li * K + f) * NS + si]);
                regnn_history_free(h);
            }
        regnn_dataset_free(tr);
        regnn_dataset_free(va);
    }
    ck_assert_ptr_null(regnn_path_history(p[0], 0, K * NS));
    ck_assert_ptr_nonnull(regnn_path_history(p[0], NL - 1, K * NS - 1));
    for (int t = 0; t < 3; t++)
        regnn_path_free(p[t]);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(to);
    regnn_model_free(tm);
    regnn_dataset_free(test);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_folds_summaries_and_1se)
{
    /* 4 folds of 90 rows (sizes 22 and 23): the summaries are cv.glmnet's,
     * computed by hand from the per-run values and the fold sizes; the
     * baseline is the pooled one; min and 1se follow glmnet's rules. */
    regnn_dataset *ds = synth(90, 4, 0.3, 34);
    regnn_model *tm = template_net(16);
    CK_OK(regnn_layer_set_double(regnn_model_layer(tm, 0), REGNN_LAYER_DROPOUT, 0.0));
    regnn_optimizer *to = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &to));
    CK_OK(regnn_optimizer_set_double(to, REGNN_OPT_LEARNING_RATE, 0.01));
    regnn_fit_options *fo = fit_opts(15, 16, 0.0);
    const double lambdas[] = {0.0, 1e-3, 1e-2, 1e-1, 1.0};
    enum { NL = 5, K = 4, NS = 2 };
    regnn_path *p = cv_path(tm, to, ds, fo, lambdas, NL, NS, 0, K, 3);
    size_t fold[90], nf[K] = {0};
    CK_OK(regnn_path_folds(p, fold, 90));
    for (int i = 0; i < 90; i++)
        nf[fold[i]]++;
    ck_assert(nf[0] != nf[K - 1] || nf[1] != nf[2]); /* unequal sizes: the weights matter */

    /* The baseline: each fold's rows around the other folds' mean, pooled. */
    float y[90];
    CK_OK(regnn_dataset_get_targets(ds, y, 90));
    double sse = 0, fold_base[K];
    for (size_t f = 0; f < K; f++) {
        double mu = 0, s = 0;
        for (int i = 0; i < 90; i++)
            if (fold[i] != f)
                mu += y[i];
        mu /= (double)(90 - nf[f]);
        for (int i = 0; i < 90; i++)
            if (fold[i] == f)
                s += (y[i] - mu) * (y[i] - mu);
        sse += s;
        fold_base[f] = s / (double)nf[f];
    }
    ck_assert_double_eq_tol(regnn_path_baseline_mse(p), sse / 90, 1e-9);
    /* Each run's verdict used its own fold's baseline. */
    double verdicts[NL * K * NS];
    CK_OK(regnn_path_get_runs(p, REGNN_RUN_VERDICT, verdicts, NL * K * NS));
    for (size_t f = 0; f < K; f++) {
        int v;
        CK_OK(regnn_history_diagnose(regnn_path_history(p, 4, f * NS + 1), fold_base[f], &v, NULL,
                                     NULL, 0));
        ck_assert_double_eq(verdicts[(4 * K + f) * NS + 1], v);
    }

    const int stats[] = {REGNN_RUN_BEST_VAL_MSE, REGNN_RUN_FINAL_VAL_MSE, REGNN_RUN_EPOCHS};
    for (size_t k_ = 0; k_ < 3; k_++) {
        double runs[NL * K * NS], mean[NL], sd[NL], se[NL], lo[NL], hi[NL];
        CK_OK(regnn_path_get_runs(p, stats[k_], runs, NL * K * NS));
        CK_OK(regnn_path_get(p, stats[k_], REGNN_AGG_MEAN, mean, NL));
        CK_OK(regnn_path_get(p, stats[k_], REGNN_AGG_SD, sd, NL));
        CK_OK(regnn_path_get(p, stats[k_], REGNN_AGG_SE, se, NL));
        CK_OK(regnn_path_get(p, stats[k_], REGNN_AGG_MIN, lo, NL));
        CK_OK(regnn_path_get(p, stats[k_], REGNN_AGG_MAX, hi, NL));
        for (size_t li = 0; li < NL; li++) {
            double e[K], cvm = 0, ss = 0, mn = INFINITY, mx = -INFINITY;
            for (size_t f = 0; f < K; f++) {
                const double *r = runs + (li * K + f) * NS;
                e[f] = (r[0] + r[1]) / 2;
                cvm += (double)nf[f] * e[f] / 90;
                for (int s_ = 0; s_ < NS; s_++) {
                    mn = fmin(mn, r[s_]);
                    mx = fmax(mx, r[s_]);
                }
            }
            for (size_t f = 0; f < K; f++)
                ss += (double)nf[f] * (e[f] - cvm) * (e[f] - cvm) / 90;
            double cvsd = sqrt(ss / (K - 1));
            ck_assert_double_eq_tol(mean[li], cvm, 1e-12);
            ck_assert_double_eq_tol(se[li], cvsd, 1e-12);
            ck_assert_double_eq_tol(sd[li], cvsd * 2.0, 1e-12); /* sqrt(4) */
            ck_assert(lo[li] == mn && hi[li] == mx);
        }
        if (stats[k_] == REGNN_RUN_EPOCHS)
            continue;
        /* lambda.min: the lowest cvm; lambda.1se: the largest lambda with
         * cvm <= cvm(min) + cvsd(min). */
        size_t imin = 0, i1se = 0, got = 99;
        for (size_t li = 1; li < NL; li++)
            if (mean[li] < mean[imin])
                imin = li;
        for (size_t li = 0; li < NL; li++)
            if (mean[li] <= mean[imin] + se[imin] && lambdas[li] > lambdas[i1se])
                i1se = li;
        if (!(mean[i1se] <= mean[imin] + se[imin]))
            i1se = imin;
        CK_OK(regnn_path_best_index(p, stats[k_], REGNN_SELECT_MIN, &got));
        ck_assert_uint_eq(got, imin);
        CK_OK(regnn_path_best_index(p, stats[k_], REGNN_SELECT_1SE, &got));
        ck_assert_uint_eq(got, i1se);
        ck_assert(lambdas[i1se] >= lambdas[imin]);
        /* lambda = 1 underfits: its CV error is near the baseline, not the best. */
        ck_assert(imin != 4);
        ck_assert(mean[4] > 0.8 * regnn_path_baseline_mse(p));
    }
    regnn_path_free(p);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(to);
    regnn_model_free(tm);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_folds_bad_options)
{
    regnn_dataset *ds = synth(12, 4, 0.2, 35);
    regnn_model *tm = template_net(4);
    regnn_fit_options *fo = fit_opts(2, 16, 0.0), *split = fit_opts(2, 16, 0.25);
    const double lambdas[] = {0.0, 1e-2};
    regnn_path_options *po = path_opts(lambdas, 2, 1, 1);
    int64_t v = -1;
    CK_OK(regnn_path_options_get_int(po, REGNN_PATH_FOLDS, &v));
    ck_assert_int_eq(v, 0);
    CK_OK(regnn_path_options_get_int(po, REGNN_PATH_FOLD_SEED, &v));
    ck_assert_int_eq(v, 0);
    CK_STATUS(regnn_path_options_set_int(po, REGNN_PATH_FOLDS, -1), REGNN_E_INVALID_ARG);
    ck_assert_str_eq(regnn_errmsg(),
                     "regnn_path_options_set_int: REGNN_PATH_FOLDS must be in 0..1048576, got -1");
    CK_STATUS(regnn_path_options_set_int(po, REGNN_PATH_FOLDS, 1048577), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_options_set_int(po, REGNN_PATH_FOLD_SEED, -1), REGNN_E_INVALID_ARG);
    ck_assert_str_eq(regnn_errmsg(),
                     "regnn_path_options_set_int: REGNN_PATH_FOLD_SEED must be >= 0, got -1");
    CK_OK(regnn_path_options_get_int(po, REGNN_PATH_FOLDS, &v));
    ck_assert_int_eq(v, 0); /* unchanged by the failed calls */

    /* Folds 1 is the default behaviour: the tail split, no fold accessor. */
    regnn_path *a = NULL, *b = NULL;
    CK_OK(regnn_regularization_path(tm, NULL, ds, NULL, split, po, &a));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_FOLDS, 1));
    CK_OK(regnn_regularization_path(tm, NULL, ds, NULL, split, po, &b));
    assert_same_path(a, b);
    ck_assert_uint_eq(regnn_path_fold_count(a), 1);
    ck_assert_uint_eq(regnn_path_fold_count(NULL), 0);
    size_t fold[12];
    CK_STATUS(regnn_path_folds(a, fold, 12), REGNN_E_STATE);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "not cross-validated"));
    CK_STATUS(regnn_path_folds(NULL, fold, 12), REGNN_E_INVALID_ARG);
    regnn_path_free(a);
    regnn_path_free(b);

    /* Folds with validation data or a validation split; more folds than rows. */
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_FOLDS, 3));
    regnn_path *p = (regnn_path *)&v;
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, NULL, split, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "REGNN_PATH_FOLDS 3 validates on the held-out "
                                                 "folds; give no validation data and no "
                                                 "REGNN_FIT_VALIDATION_SPLIT"));
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, ds, fo, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "held-out folds"));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_FOLDS, 13));
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "REGNN_PATH_FOLDS 13 is more than the 12 training rows"));
    /* Too many runs: lambdas x folds x seeds. */
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_FOLDS, 12));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_SEEDS, 1048576 / 12));
    CK_STATUS(regnn_regularization_path(tm, NULL, ds, NULL, fo, po, &p), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "2 lambdas x 12 folds x 87381 seeds"));
    /* k = n works (leave-one-out) and the fit options need no validation. */
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_SEEDS, 1));
    CK_OK(regnn_regularization_path(tm, NULL, ds, NULL, NULL, po, &p));
    ck_assert_uint_eq(regnn_path_fold_count(p), 12);
    regnn_path_free(p);

    regnn_path_options_free(po);
    regnn_fit_options_free(split);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_refit)
{
    /* The refit is a hand-made run on every training row without validation,
     * with the path options' penalty, layers and first seed; the fit options'
     * validation split is ignored. */
    regnn_dataset *ds = synth(60, 4, 0.2, 36), *test = synth(20, 4, 0.2, 37);
    regnn_model *tm = template_net(8);
    regnn_optimizer *to = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &to));
    CK_OK(regnn_optimizer_set_double(to, REGNN_OPT_LEARNING_RATE, 0.05));
    regnn_fit_options *fo = fit_opts(5, 16, 0.0), *split = fit_opts(5, 16, 0.25);
    const double lambdas[] = {0.0};
    const size_t layers[] = {1};
    regnn_path_options *po = path_opts(lambdas, 1, 3, 1);
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_PENALTY, REGNN_PENALTY_L1));
    CK_OK(regnn_path_options_set_layers(po, layers, 1));
    regnn_model *m = NULL, *m2 = NULL;
    regnn_history *h = NULL;
    CK_OK(regnn_path_refit(tm, to, ds, split, po, 3e-3, &m, &h));
    CK_OK(regnn_path_refit(tm, to, ds, fo, po, 3e-3, &m2, NULL));
    double mse_a, mse_b, mse_c = -1;
    regnn_history *ref = manual_run(tm, to, REGNN_PENALTY_L1, layers, 1, 3e-3, 11, ds, NULL, fo,
                                    test, &mse_c);
    assert_same_history(ref, h);
    ck_assert_uint_eq(regnn_history_epochs(h), 5);
    CK_OK(regnn_model_evaluate(m, test, &mse_a, NULL, NULL));
    CK_OK(regnn_model_evaluate(m2, test, &mse_b, NULL, NULL));
    ck_assert(mse_a == mse_c && mse_b == mse_c);
    double l1;
    CK_OK(regnn_layer_get_double(regnn_model_layer(m, 1), REGNN_LAYER_L1, &l1));
    ck_assert_double_eq(l1, 3e-3);
    CK_OK(regnn_layer_get_double(regnn_model_layer(m, 0), REGNN_LAYER_L1, &l1));
    ck_assert_double_eq(l1, 0.0);
    regnn_history_free(ref);
    regnn_history_free(h);
    regnn_model_free(m);
    regnn_model_free(m2);

    /* Bad arguments write nothing. */
    m = (regnn_model *)&l1;
    h = (regnn_history *)&l1;
    CK_STATUS(regnn_path_refit(tm, to, ds, fo, po, -1.0, &m, &h), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(h);
    CK_STATUS(regnn_path_refit(tm, to, ds, fo, po, NAN, &m, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_refit(tm, to, ds, fo, po, 0.0, NULL, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_refit(NULL, to, ds, fo, po, 0.0, &m, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_refit(tm, to, ds, fo, NULL, 0.0, &m, NULL), REGNN_E_INVALID_ARG);
    const size_t bad_layer[] = {3};
    CK_OK(regnn_path_options_set_layers(po, bad_layer, 1));
    CK_STATUS(regnn_path_refit(tm, to, ds, fo, po, 0.0, &m, NULL), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "layer index 3 out of range"));
    CK_OK(regnn_path_options_set_layers(po, NULL, 0));
    /* Early stopping on val_loss needs validation data, which a refit has none of. */
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EARLY_STOPPING, 1));
    m = (regnn_model *)&l1;
    CK_STATUS(regnn_path_refit(tm, to, ds, fo, po, 0.0, &m, NULL), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_path_refit: lambda 0: "));
    /* Allocation failures: REGNN_E_NOMEM and nothing leaked, until it succeeds. */
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EARLY_STOPPING, 0));
    int ok = 0;
    long nth;
    for (nth = 1; nth < 500 && !ok; nth++) {
        long live = regnn__test_alloc_live();
        m = NULL;
        regnn__test_alloc_fail_at(nth, 0);
        regnn_status st = regnn_path_refit(tm, to, ds, fo, po, 1e-3, &m, &h);
        regnn__test_alloc_fail_at(0, 0);
        if (st == REGNN_OK) {
            ok = 1;
            regnn_model_free(m);
            regnn_history_free(h);
        } else {
            ck_assert_int_eq(st, REGNN_E_NOMEM);
            ck_assert_ptr_null(m);
        }
        ck_assert_int_eq(regnn__test_alloc_live(), live);
    }
    ck_assert_msg(ok && nth > 5, "nth %ld", nth);
    regnn_path_options_free(po);
    regnn_fit_options_free(split);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(to);
    regnn_model_free(tm);
    regnn_dataset_free(test);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_folds_alloc_failures)
{
    /* The fold assignment (calling thread) and each run's fold data (workers)
     * fail cleanly with REGNN_E_NOMEM, leaking nothing, until they succeed
     * with the reference result. */
    regnn_dataset *ds = synth(30, 4, 0.2, 38);
    regnn_model *tm = template_net(4);
    regnn_fit_options *fo = fit_opts(2, 16, 0.0);
    const double lambdas[] = {0.0, 1e-2};
    for (int threads = 1; threads <= 2; threads++) {
        regnn_path_options *po = path_opts(lambdas, 2, 1, threads);
        CK_OK(regnn_path_options_set_int(po, REGNN_PATH_FOLDS, 3));
        regnn_path *ref = NULL;
        CK_OK(tiny_path(tm, ds, fo, po, &ref));
        for (int persistent = 0; persistent <= 1; persistent++) {
            int ok = 0;
            long nth;
            for (nth = 1; nth < 3000 && !ok; nth++) {
                long live = regnn__test_alloc_live();
                regnn_path *p = (regnn_path *)&ok;
                if (threads == 1)
                    regnn__test_alloc_fail_at(nth, persistent);
                else
                    regnn__test_path_worker_alloc_fail(po, nth, persistent);
                regnn_status st = tiny_path(tm, ds, fo, po, &p);
                regnn__test_alloc_fail_at(0, 0);
                regnn__test_path_worker_alloc_fail(po, 0, 0);
                if (st == REGNN_OK) {
                    ok = 1;
                    assert_same_path(ref, p);
                    regnn_path_free(p);
                } else {
                    ck_assert_msg(st == REGNN_E_NOMEM, "nth %ld: status %d: %s", nth, st,
                                  regnn_errmsg());
                    ck_assert_ptr_null(p);
                    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_regularization_path"));
                }
                ck_assert_int_eq(regnn__test_alloc_live(), live);
            }
            ck_assert_msg(ok && nth > 20, "nth %ld", nth);
        }
        regnn_path_free(ref);
        regnn_path_options_free(po);
    }
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(ds);
}
END_TEST

/* The settings fingerprint of a path call: every path key (threads and the
 * shard index aside), the lambdas, layers and test data change their entry
 * first; what a run re-initializes or takes by default does not. */
static void path_fp(const regnn_model *tm, const regnn_optimizer *to, const regnn_dataset *ds,
                    const regnn_fit_options *fo, const regnn_path_options *po, uint64_t *out)
{
    size_t n = 0;
    CK_OK(regnn_path_settings_fingerprint(tm, to, ds, NULL, fo, po, out, RG_SETTINGS_COUNT, &n));
    ck_assert_uint_eq(n, RG_SETTINGS_COUNT);
}

static size_t first_difference(const uint64_t *a, const uint64_t *b)
{
    size_t k = 0;
    while (k < RG_SETTINGS_COUNT && a[k] == b[k])
        k++;
    return k;
}

static size_t entry(const char *name)
{
    for (size_t k = 0; regnn_settings_name(k); k++)
        if (!strcmp(regnn_settings_name(k), name))
            return k;
    ck_abort_msg("no setting '%s'", name);
    return 0;
}

START_TEST(test_settings_fingerprint)
{
    static const double lambdas[] = {0.0, 1e-3}, other[] = {0.0, 2e-3};
    regnn_model *tm = template_net(8);
    regnn_dataset *ds = synth(60, 4, 0.1, 1), *test = synth(20, 4, 0.1, 2);
    regnn_fit_options *fo = fit_opts(2, 16, 0.25);
    uint64_t a[RG_SETTINGS_COUNT], b[RG_SETTINGS_COUNT];
    size_t n = 0;
    CK_OK(regnn_path_settings_fingerprint(NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, &n));
    ck_assert_uint_eq(n, RG_SETTINGS_COUNT);
    ck_assert_ptr_null(regnn_settings_name(n));
    ck_assert_str_eq(regnn_settings_name(0), "model.inputs");
    regnn_path_options *po = path_opts(lambdas, 2, 2, 1);
    path_fp(tm, NULL, ds, fo, po, a);
    int found = 0;
    for (int key = 0; key < 64; key++) {
        regnn_path_options *q = NULL;
        int64_t v;
        CK_OK(regnn_path_options_copy(po, &q));
        if (regnn_path_options_get_int(q, key, &v) != REGNN_OK) {
            regnn_path_options_free(q);
            continue;
        }
        found++;
        int set = 0;
        for (int64_t c = 0; c <= 3 && !set; c++)
            set = c != v && regnn_path_options_set_int(q, key, c) == REGNN_OK;
        ck_assert_msg(set, "key %d: no other value accepted", key);
        path_fp(tm, NULL, ds, fo, q, b);
        if (key == REGNN_PATH_THREADS || key == REGNN_PATH_SHARD_INDEX)
            ck_assert_msg(memcmp(a, b, sizeof a) == 0, "key %d changed the fingerprint", key);
        else
            ck_assert_msg(first_difference(a, b) < RG_SETTINGS_COUNT, "key %d", key);
        regnn_path_options_free(q);
    }
    ck_assert_int_ge(found, 10);
    /* lambdas, penalized layers, test data: their own entry first */
    regnn_path_options *q = path_opts(other, 2, 2, 1);
    path_fp(tm, NULL, ds, fo, q, b);
    ck_assert_uint_eq(first_difference(a, b), entry("path.lambdas"));
    static const size_t last[] = {2};
    CK_OK(regnn_path_options_set_layers(po, last, 1));
    path_fp(tm, NULL, ds, fo, po, b);
    ck_assert_uint_eq(first_difference(a, b), entry("path.layers"));
    CK_OK(regnn_path_options_set_layers(po, NULL, 0));
    CK_OK(regnn_path_options_set_test(po, test));
    path_fp(tm, NULL, ds, fo, po, b);
    ck_assert_uint_eq(first_difference(a, b), entry("data.test"));
    CK_OK(regnn_path_options_set_test(po, NULL));
    /* the template's weights, an explicit default optimizer or fit options: no change */
    CK_OK(regnn_model_init(tm, REGNN_INIT_GLOROT_UNIFORM, 77));
    regnn_optimizer *adam = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &adam));
    path_fp(tm, adam, ds, fo, po, b);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    regnn_fit_options *d = NULL;
    CK_OK(regnn_fit_options_create(&d));
    path_fp(tm, NULL, ds, d, po, a);
    path_fp(tm, NULL, ds, NULL, po, b);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    /* a setting of the optimizer does change it */
    CK_OK(regnn_optimizer_set_double(adam, REGNN_OPT_LEARNING_RATE, 0.01));
    path_fp(tm, adam, ds, NULL, po, a);
    ck_assert_uint_eq(first_difference(a, b), entry("optimizer.learning_rate"));
    CK_STATUS(regnn_path_settings_fingerprint(NULL, NULL, ds, NULL, fo, po, a, RG_SETTINGS_COUNT,
                                              NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_settings_fingerprint(tm, NULL, ds, NULL, fo, po, a, 3, &n),
              REGNN_E_SHAPE);
    ck_assert_uint_eq(n, RG_SETTINGS_COUNT);
    regnn_optimizer_free(adam);
    regnn_fit_options_free(d);
    regnn_path_options_free(q);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_dataset_free(test);
    regnn_dataset_free(ds);
    regnn_model_free(tm);
}
END_TEST

static Suite *path_suite(void)
{
    Suite *s = suite_create("path");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, one_blas_thread, NULL);
    tcase_add_test(tc, test_matches_manual_runs_and_threads);
    tcase_add_test(tc, test_test_mse);
    tcase_add_test(tc, test_penalty_kinds_and_layers);
    tcase_add_test(tc, test_progress_and_cancel);
    tcase_add_test(tc, test_user_callback_stops_runs);
    tcase_add_test(tc, test_diverged_runs);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_eval_train_off);
    tcase_add_test(tc, test_option_messages);
    tcase_add_test(tc, test_alloc_failure_caller_thread);
    tcase_add_test(tc, test_alloc_failure_in_workers);
    tcase_add_test(tc, test_threads_cannot_start);
    tcase_add_test(tc, test_folds_assignment);
    tcase_add_test(tc, test_folds_runs_and_threads);
    tcase_add_test(tc, test_folds_summaries_and_1se);
    tcase_add_test(tc, test_folds_bad_options);
    tcase_add_test(tc, test_refit);
    tcase_add_test(tc, test_folds_alloc_failures);
    tcase_add_test(tc, test_settings_fingerprint);
    suite_add_tcase(s, tc);
    TCase *tl = rg_tcase_long(s, 300);
    tcase_add_checked_fixture(tl, one_blas_thread, NULL);
    tcase_add_test(tl, test_summaries_and_selection);
    return s;
}

RG_TEST_MAIN(path_suite)
