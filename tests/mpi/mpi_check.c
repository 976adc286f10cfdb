/* SPDX-License-Identifier: MIT */
/* Run under mpirun by tests/test_mpi.sh: `mpi_check path|fit|fail|settings` (and
 * `study DATA.csv [EPOCHS]` by scripts/measure-mpi.sh). Every rank
 * compares the MPI result with the one-process result it computes itself, bit
 * for bit; exits 0 when every check on every rank passed. Public API only. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regnn_mpi.h"
#include "../dp_emulate.h"

static int rank, size, failures;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "rank %d: %s:%d: ", rank, __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
            failures++;                                                    \
        }                                                                  \
    } while (0)
#define OK(call) CHECK((call) == REGNN_OK, "%s: %s | %s", #call, regnn_errmsg(), regnn_mpi_errmsg())

/* y = sin(2 x0) + x1 x2 - 0.5 x3, from a fixed LCG: the same on every rank. */
static regnn_dataset *synth(size_t rows, size_t features, unsigned seed)
{
    float *x = malloc(rows * features * sizeof *x), *y = malloc(rows * sizeof *y);
    unsigned long s = seed * 2654435761UL + 1;
    for (size_t i = 0; i < rows; i++) {
        for (size_t k = 0; k < features; k++) {
            s = s * 6364136223846793005UL + 1442695040888963407UL;
            x[i * features + k] = (float)((double)(s >> 11) / 9007199254740992.0 * 2 - 1);
        }
        const float *xi = x + i * features;
        y[i] = (float)(sin(2 * xi[0]) + xi[1] * xi[2] - 0.5 * xi[3]);
    }
    regnn_dataset *ds = NULL;
    regnn_dataset_from_arrays(x, y, rows, features, 1, REGNN_COPY, &ds);
    free(x);
    free(y);
    return ds;
}

static regnn_model *net(size_t in, size_t width, double l2, uint64_t seed)
{
    regnn_model *m = NULL;
    regnn_model_create(in, &m);
    regnn_model_add_dense(m, width, REGNN_ACT_RELU, NULL);
    regnn_model_add_dense(m, width, REGNN_ACT_TANH, NULL);
    regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL);
    regnn_model_set_layers_double(m, REGNN_LAYER_L2, l2);
    regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed);
    return m;
}

static void same_history(const regnn_history *a, const regnn_history *b, const char *what)
{
    CHECK(a && b, "%s: missing history", what);
    if (!a || !b)
        return;
    size_t n = regnn_history_epochs(a);
    CHECK(n == regnn_history_epochs(b), "%s: epochs %zu vs %zu", what, n, regnn_history_epochs(b));
    CHECK(regnn_history_stop_reason(a) == regnn_history_stop_reason(b), "%s: stop reason", what);
    double *x = calloc(n + 1, sizeof *x), *y = calloc(n + 1, sizeof *y);
    for (int k = REGNN_METRIC_TRAIN_LOSS; k <= REGNN_METRIC_TRAIN_EVAL_MSE; k++) {
        if (k == REGNN_METRIC_SECONDS || regnn_history_get(a, k, x, n) != REGNN_OK ||
            regnn_history_get(b, k, y, n) != REGNN_OK)
            continue;
        CHECK(memcmp(x, y, n * sizeof *x) == 0, "%s: metric %d differs", what, k);
    }
    free(x);
    free(y);
}

static void same_path(const regnn_path *a, const regnn_path *b)
{
    const size_t nf = regnn_path_fold_count(a) > 1 ? regnn_path_fold_count(a) : 1;
    size_t nl = regnn_path_lambda_count(a), ns = regnn_path_seed_count(a) * nf; /* per lambda */
    CHECK(nl == regnn_path_lambda_count(b) && regnn_path_seed_count(a) == regnn_path_seed_count(b) &&
              regnn_path_fold_count(a) == regnn_path_fold_count(b) && nl * ns <= 256,
          "path sizes");
    double x[256], y[256];
    for (int stat = REGNN_RUN_BEST_VAL_MSE; stat <= REGNN_RUN_TEST_MSE; stat++) {
        if (stat == REGNN_RUN_SECONDS)
            continue;
        OK(regnn_path_get_runs(a, stat, x, 256));
        OK(regnn_path_get_runs(b, stat, y, 256));
        CHECK(memcmp(x, y, nl * ns * sizeof *x) == 0, "run values of %d differ", stat);
    }
    for (size_t li = 0; li < nl; li++)
        for (size_t si = 0; si < ns; si++)
            same_history(regnn_path_history(a, li, si), regnn_path_history(b, li, si), "path run");
    size_t ia = 0, ib = 1;
    OK(regnn_path_best_index(a, REGNN_RUN_BEST_VAL_MSE, REGNN_SELECT_1SE, &ia));
    OK(regnn_path_best_index(b, REGNN_RUN_BEST_VAL_MSE, REGNN_SELECT_1SE, &ib));
    CHECK(ia == ib, "best index %zu vs %zu", ia, ib);
    CHECK(regnn_path_baseline_mse(a) == regnn_path_baseline_mse(b), "baseline");
}

static void test_path(void)
{
    static const double lambdas[] = {0.0, 1e-4, 1e-3, 1e-2, 3e-2};
    regnn_dataset *tr = synth(150, 4, 1), *te = synth(40, 4, 2);
    regnn_model *tm = net(4, 12, 0.0, 0);
    regnn_fit_options *fo = NULL;
    regnn_path_options *po = NULL;
    OK(regnn_fit_options_create(&fo));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 8));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 16));
    OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.2));
    OK(regnn_path_options_create(&po));
    OK(regnn_path_options_set_lambdas(po, lambdas, 5));
    OK(regnn_path_options_set_int(po, REGNN_PATH_SEEDS, 3));
    OK(regnn_path_options_set_int(po, REGNN_PATH_THREADS, 1));
    OK(regnn_path_options_set_test(po, te));
    regnn_path *one = NULL, *dist = NULL;
    OK(regnn_regularization_path(tm, NULL, tr, NULL, fo, po, &one));
    OK(regnn_mpi_regularization_path(MPI_COMM_WORLD, tm, NULL, tr, NULL, fo, po, &dist));
    if (one && dist)
        same_path(one, dist);
    /* the caller's options are untouched */
    int64_t v = -1;
    OK(regnn_path_options_get_int(po, REGNN_PATH_SHARD_COUNT, &v));
    CHECK(v == 1, "shard count changed to %lld", (long long)v);
    regnn_path_free(one);
    regnn_path_free(dist);
    /* cross-validated: folds x lambdas x seeds over the ranks, the same bits */
    one = dist = NULL;
    OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.0));
    OK(regnn_path_options_set_int(po, REGNN_PATH_FOLDS, 3));
    OK(regnn_path_options_set_int(po, REGNN_PATH_SEEDS, 2));
    OK(regnn_regularization_path(tm, NULL, tr, NULL, fo, po, &one));
    OK(regnn_mpi_regularization_path(MPI_COMM_WORLD, tm, NULL, tr, NULL, fo, po, &dist));
    if (one && dist) {
        same_path(one, dist);
        size_t fa[150], fb[150];
        OK(regnn_path_folds(one, fa, 150));
        OK(regnn_path_folds(dist, fb, 150));
        CHECK(memcmp(fa, fb, sizeof fa) == 0, "fold assignment");
    }
    regnn_path_free(one);
    regnn_path_free(dist);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_dataset_free(tr);
    regnn_dataset_free(te);
}

static void params(const regnn_model *m, float **p, size_t *n)
{
    *n = regnn_model_param_count(m);
    *p = malloc(*n * sizeof **p);
    regnn_model_get_params(m, *p, *n);
}

/* net(4, 32, 1e-3, 6), with `drawing` 1: dropout 0.2 on layer 0 and a
 * GaussianNoise(0.1) layer after it (every rank draws the whole batch's);
 * 2: a BatchNormalization layer there instead (the whole batch's statistics,
 * gathered through the exchange). */
static regnn_model *exact_net(int drawing)
{
    regnn_model *m = net(4, 32, 1e-3, 6);
    if (!drawing)
        return m;
    regnn_model_free(m);
    m = NULL;
    OK(regnn_model_create(4, &m));
    OK(regnn_model_add_dense(m, 32, REGNN_ACT_RELU, NULL));
    if (drawing == 2)
        OK(regnn_model_add_batch_normalization(m, 0.9, 1e-3, NULL));
    else
        OK(regnn_model_add_gaussian_noise(m, 0.1, NULL));
    OK(regnn_model_add_dense(m, 32, REGNN_ACT_TANH, NULL));
    OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, 1e-3));
    if (drawing == 1)
        OK(regnn_layer_set_double(regnn_model_layer(m, 0), REGNN_LAYER_DROPOUT, 0.2));
    OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 6));
    return m;
}

/* A batch with one shard per rank (32 x ranks rows): regnn_fit bit for bit. */
static void exact_fit(const regnn_dataset *tr, const regnn_dataset *va,
                      const regnn_fit_options *fo, size_t epochs, int drawing)
{
    const int64_t bs = 32 * (size > 1 ? size : 2);
    regnn_fit_options *fx = NULL;
    OK(regnn_fit_options_copy(fo, &fx));
    OK(regnn_fit_options_set_int(fx, REGNN_FIT_BATCH_SIZE, bs));
    OK(regnn_fit_options_set_int(fx, REGNN_FIT_EARLY_STOPPING, 0));
    regnn_model *mx = exact_net(drawing), *rx = exact_net(drawing);
    regnn_optimizer *ox = NULL, *rox = NULL;
    regnn_history *hx = NULL, *rhx = NULL;
    OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &ox));
    OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &rox));
    OK(regnn_mpi_fit(MPI_COMM_WORLD, mx, ox, tr, va, fx, &hx));
    OK(regnn_fit(rx, rox, tr, va, fx, &rhx));
    float *a, *c;
    size_t np;
    params(mx, &a, &np);
    params(rx, &c, &np);
    static const char *const with[] = {"", ", dropout and GaussianNoise", ", BatchNormalization"};
    CHECK(memcmp(a, c, np * sizeof *a) == 0, "batch %lld on %d ranks%s differs from regnn_fit",
          (long long)bs, size, with[drawing]);
    if (drawing == 2) {
        float mv[2][64];
        OK(regnn_layer_get_moving(regnn_model_layer(mx, 1), mv[0], mv[0] + 32, 32));
        OK(regnn_layer_get_moving(regnn_model_layer(rx, 1), mv[1], mv[1] + 32, 32));
        CHECK(memcmp(mv[0], mv[1], sizeof mv[0]) == 0, "moving statistics differ from regnn_fit");
    }
    double x[12], y[12];
    OK(regnn_history_get(hx, REGNN_METRIC_TRAIN_LOSS, x, epochs));
    OK(regnn_history_get(rhx, REGNN_METRIC_TRAIN_LOSS, y, epochs));
    CHECK(memcmp(x, y, epochs * sizeof *x) == 0, "training loss history differs");
    if (rank == 0)
        printf("mpi fit, %d ranks, batch %lld%s: bit-identical to regnn_fit (parameters and "
               "training loss over %zu epochs)\n", size, (long long)bs, with[drawing], epochs);
    free(a);
    free(c);
    regnn_history_free(hx);
    regnn_history_free(rhx);
    regnn_optimizer_free(ox);
    regnn_optimizer_free(rox);
    regnn_model_free(mx);
    regnn_model_free(rx);
    regnn_fit_options_free(fx);
}

static void test_fit(void)
{
    const size_t epochs = 12;
    regnn_dataset *tr = synth(333, 4, 3), *va = synth(61, 4, 4);
    regnn_fit_options *fo = NULL;
    OK(regnn_fit_options_create(&fo));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, (int64_t)epochs));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 50));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_EVAL_TRAIN, 1));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_EARLY_STOPPING, 1));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_PATIENCE, 3));

    /* MPI */
    regnn_model *m = net(4, 32, 1e-3, 5);
    regnn_optimizer *o = NULL;
    regnn_history *h = NULL;
    OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    OK(regnn_mpi_fit(MPI_COMM_WORLD, m, o, tr, va, fo, &h));
    float *pm;
    size_t np;
    params(m, &pm, &np);

    /* the same shards in threads of this process, summed in rank order */
    dp_shard sh[DP_MAX];
    memset(sh, 0, sizeof sh);
    for (int i = 0; i < size; i++) {
        sh[i].m = net(4, 32, 1e-3, 5);
        regnn_optimizer_create(REGNN_OPTIM_ADAM, &sh[i].o);
        sh[i].train = tr;
        sh[i].val = va;
        sh[i].opts = fo;
    }
    CHECK(dp_run(sh, (size_t)size, np) == 0, "threads");
    OK(sh[0].st);
    float *pe;
    params(sh[0].m, &pe, &np);
    CHECK(memcmp(pm, pe, np * sizeof *pm) == 0, "MPI fit differs from the in-process shards");
    same_history(h, sh[0].h, "fit vs shards");

    /* the plain one-process fit: equal for one rank, close otherwise */
    regnn_model *r = net(4, 32, 1e-3, 5);
    regnn_optimizer *ro = NULL;
    regnn_history *rh = NULL;
    OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &ro));
    OK(regnn_fit(r, ro, tr, va, fo, &rh));
    float *pr;
    params(r, &pr, &np);
    double num = 0, den = 0;
    for (size_t k = 0; k < np; k++) {
        num += ((double)pm[k] - pr[k]) * ((double)pm[k] - pr[k]);
        den += (double)pr[k] * pr[k];
    }
    double rel = sqrt(num / den);
    if (size == 1) {
        CHECK(rel == 0.0, "one rank differs from regnn_fit (relative %g)", rel);
        same_history(h, rh, "one rank vs regnn_fit");
    } else {
        CHECK(rel < 1e-4, "relative difference from regnn_fit %g", rel);
    }
    if (rank == 0)
        printf("mpi fit, %d ranks: bit-identical to the in-process shards; relative L2 "
               "difference from regnn_fit %.3g after %zu epochs\n", size, rel,
               regnn_history_epochs(h));

    /* every rank holds the same bits */
    double sum = 0;
    for (size_t k = 0; k < np; k++)
        sum += pm[k] * (double)(k % 7 + 1);
    double lo, hi;
    MPI_Allreduce(&sum, &lo, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&sum, &hi, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    CHECK(lo == hi, "ranks hold different parameters");

    /* a batch with one shard per rank (32 x ranks rows): regnn_fit bit for bit */
    if (size <= 4) {
        exact_fit(tr, va, fo, epochs, 0);
        exact_fit(tr, va, fo, epochs, 1);
        exact_fit(tr, va, fo, epochs, 2);
    }

    for (int i = 0; i < size; i++) {
        regnn_history_free(sh[i].h);
        regnn_optimizer_free(sh[i].o);
        regnn_model_free(sh[i].m);
    }
    free(pm);
    free(pe);
    free(pr);
    regnn_history_free(h);
    regnn_history_free(rh);
    regnn_optimizer_free(o);
    regnn_optimizer_free(ro);
    regnn_model_free(m);
    regnn_model_free(r);
    regnn_fit_options_free(fo);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
}

/* The study's network and schedule on the diabetes data (Dense(128, relu) x 6,
 * batch 64, 100 epochs, validation split 0.15, L2 1e-3): the MPI fit against
 * regnn_fit in this process; prints the relative differences (scaling.md). */
static void study(const char *csv, long epochs)
{
    const char *target = "y";
    regnn_dataset *raw = NULL, *ds = NULL;
    regnn_scaler *sc = NULL;
    OK(regnn_dataset_from_csv(csv, &target, NULL, 1, &raw));
    OK(regnn_scaler_fit(raw, REGNN_SCALE_UNIT_NORM, REGNN_SCALE_ZSCORE, &sc));
    OK(regnn_scaler_transform(sc, raw, &ds));
    regnn_fit_options *fo = NULL;
    OK(regnn_fit_options_create(&fo));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, epochs));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 64));
    OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.15));
    regnn_model *m[2];
    regnn_optimizer *o[2];
    regnn_history *h[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        regnn_model_create(regnn_dataset_features(ds), &m[k]);
        for (int i = 0; i < 6; i++)
            regnn_model_add_dense(m[k], 128, REGNN_ACT_RELU, NULL);
        regnn_model_add_dense(m[k], 1, REGNN_ACT_LINEAR, NULL);
        regnn_model_set_layers_double(m[k], REGNN_LAYER_L2, 1e-3);
        regnn_model_init(m[k], REGNN_INIT_GLOROT_UNIFORM, 42);
        regnn_optimizer_create(REGNN_OPTIM_ADAM, &o[k]);
    }
    OK(regnn_mpi_fit(MPI_COMM_WORLD, m[0], o[0], ds, NULL, fo, &h[0]));
    OK(regnn_fit(m[1], o[1], ds, NULL, fo, &h[1]));
    float *a, *b;
    size_t np;
    params(m[0], &a, &np);
    params(m[1], &b, &np);
    double num = 0, den = 0, worst = 0;
    for (size_t k = 0; k < np; k++) {
        double d = fabs((double)a[k] - b[k]);
        num += d * d;
        den += (double)b[k] * b[k];
        if (d > worst)
            worst = d;
    }
    double *va = calloc((size_t)epochs, sizeof *va), *vb = calloc((size_t)epochs, sizeof *vb);
    OK(regnn_history_get(h[0], REGNN_METRIC_VAL_MSE, va, (size_t)epochs));
    OK(regnn_history_get(h[1], REGNN_METRIC_VAL_MSE, vb, (size_t)epochs));
    const size_t last = (size_t)epochs - 1;
    if (rank == 0)
        printf("study fit, %d ranks vs regnn_fit after %ld epochs: parameters relative L2 %.3g, "
               "largest |difference| %.3g; final val MSE %.9g vs %.9g (relative %.3g)\n",
               size, epochs, sqrt(num / den), worst, va[last], vb[last],
               fabs(va[last] - vb[last]) / vb[last]);
    free(va);
    free(vb);
    free(a);
    free(b);
    for (int k = 0; k < 2; k++) {
        regnn_history_free(h[k]);
        regnn_optimizer_free(o[k]);
        regnn_model_free(m[k]);
    }
    regnn_fit_options_free(fo);
    regnn_scaler_free(sc);
    regnn_dataset_free(ds);
    regnn_dataset_free(raw);
}

/* Allocation failure on demand: the public allocator hook, armed on one rank. */
static long alloc_budget = -1; /* -1: unlimited */
static void *budget_malloc(void *user, size_t n)
{
    (void)user;
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    return malloc(n);
}
static void budget_free(void *user, void *p)
{
    (void)user;
    free(p);
}

static void test_fail(void)
{
    const int bad = size - 1;
    regnn_dataset *tr = synth(120, 4, 5), *va = synth(30, 4, 6), *wrong = synth(30, 3, 6);
    regnn_fit_options *fo = NULL;
    OK(regnn_fit_options_create(&fo));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 3));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 16));
    regnn_model *m = net(4, 8, 0.0, 1);
    regnn_optimizer *o = NULL;
    OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    regnn_history *h = NULL;

    /* bad data on the last rank */
    regnn_status st = regnn_mpi_fit(MPI_COMM_WORLD, m, o, tr, rank == bad ? wrong : va, fo, &h);
    CHECK(st != REGNN_OK && !h, "fit with bad data on rank %d: status %d", bad, st);
    CHECK(strstr(regnn_mpi_errmsg(), "rank") != NULL, "message: %s", regnn_mpi_errmsg());
    if (rank == 0)
        printf("bad data on rank %d -> rank 0: %s\n", bad, regnn_mpi_errmsg());

    /* rank-local rows: refused on every rank when the ranks' rows differ */
    regnn_dataset *mine = synth(120, 4, 100 + (unsigned)rank);
    st = regnn_mpi_fit(MPI_COMM_WORLD, m, o, mine, va, fo, &h);
    if (size > 1) {
        CHECK(st == REGNN_E_INVALID_ARG, "rank-local rows: status %d", st);
        CHECK(strstr(regnn_mpi_errmsg(), "setting 'data.train' differs: rank 0 vs rank 1") != NULL,
              "message: %s", regnn_mpi_errmsg());
    } else {
        OK(st);
    }
    regnn_history_free(h);
    h = NULL;
    regnn_dataset_free(mine);

    /* allocation failure on the last rank, at several depths */
    int in_fit = 0;
    for (long budget = 0; budget < 12; budget += 3) {
        if (rank == bad)
            alloc_budget = budget;
        st = regnn_mpi_fit(MPI_COMM_WORLD, m, o, tr, va, fo, &h);
        alloc_budget = -1;
        int any;
        int mine_failed = st != REGNN_OK;
        MPI_Allreduce(&mine_failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        CHECK(mine_failed == any, "budget %ld: ranks disagree (status %d)", budget, st);
        CHECK(any, "budget %ld: no rank failed", budget);
        /* every rank's message names the failing rank and its reason */
        char who[32];
        snprintf(who, sizeof who, "rank %d", bad);
        const char *msg = regnn_mpi_errmsg();
        CHECK(strstr(msg, who) && strstr(msg, "out of memory"), "budget %ld: message: %s", budget,
              msg);
        in_fit += strstr(msg, "regnn_fit: out of memory") != NULL;
        if (rank == 0)
            printf("out of memory on rank %d (budget %ld) -> rank 0: %s\n", bad, budget, msg);
        regnn_history_free(h);
        h = NULL;
    }

    CHECK(in_fit > 0, "no allocation failure reached regnn_fit");

    /* the path: bad data on one rank, then an allocation failure */
    static const double lambdas[] = {0.0, 1e-3};
    regnn_path_options *po = NULL;
    OK(regnn_path_options_create(&po));
    OK(regnn_path_options_set_lambdas(po, lambdas, 2));
    OK(regnn_path_options_set_int(po, REGNN_PATH_SEEDS, 2));
    OK(regnn_path_options_set_int(po, REGNN_PATH_THREADS, 1));
    regnn_path *p = NULL;
    st = regnn_mpi_regularization_path(MPI_COMM_WORLD, m, NULL, tr, rank == bad ? wrong : va, fo,
                                       po, &p);
    CHECK(st != REGNN_OK && !p, "path with bad data: status %d", st);
    if (rank == bad)
        alloc_budget = 2;
    st = regnn_mpi_regularization_path(MPI_COMM_WORLD, m, NULL, tr, va, fo, po, &p);
    alloc_budget = -1;
    CHECK(st != REGNN_OK && !p, "path with an allocation failure: status %d", st);
    st = regnn_mpi_regularization_path(MPI_COMM_WORLD, m, NULL, tr, va, fo, po, &p);
    OK(st);
    regnn_path_free(p);

    regnn_path_options_free(po);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_fit_options_free(fo);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
    regnn_dataset_free(wrong);
}

/* One setting that changes results differs on the last rank: regnn_mpi_fit
 * fails on every rank with REGNN_E_INVALID_ARG naming it and the ranks (with
 * one rank nothing differs and the fit runs). */
static void change(const char *name, regnn_model **m, regnn_optimizer *o, regnn_dataset **tr)
{
    if (!strcmp(name, "optimizer.learning_rate")) {
        OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.05));
    } else if (!strcmp(name, "layer.l2")) {
        OK(regnn_layer_set_double(regnn_model_layer(*m, 1), REGNN_LAYER_L2, 1e-2));
    } else if (!strcmp(name, "optimizer.schedule")) {
        static const double ex[] = {1e-3, 50.0, 0.5};
        OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_EXPONENTIAL, ex, 3));
    } else if (!strcmp(name, "model.loss")) {
        OK(regnn_model_set_loss(*m, REGNN_LOSS_HUBER, 1.0));
    } else if (!strcmp(name, "layer.activation")) { /* tanh then relu: same shape, other act */
        regnn_model_free(*m);
        OK(regnn_model_create(4, m));
        OK(regnn_model_add_dense(*m, 8, REGNN_ACT_TANH, NULL));
        OK(regnn_model_add_dense(*m, 8, REGNN_ACT_TANH, NULL));
        OK(regnn_model_add_dense(*m, 1, REGNN_ACT_LINEAR, NULL));
        OK(regnn_model_init(*m, REGNN_INIT_GLOROT_UNIFORM, 3));
    } else if (!strcmp(name, "data.train_weights")) {
        float w[120];
        for (size_t i = 0; i < 120; i++)
            w[i] = 1.0f + (float)(i % 2);
        OK(regnn_dataset_set_weights(*tr, w, 120));
    } else if (!strcmp(name, "model.seed")) {
        OK(regnn_model_init(*m, REGNN_INIT_GLOROT_UNIFORM, 4));
    } else if (!strcmp(name, "data.train")) {
        regnn_dataset_free(*tr);
        *tr = synth(120, 4, 99);
    }
}

static void test_settings(void)
{
    static const char *const names[] = {"optimizer.learning_rate", "layer.l2", "optimizer.schedule",
                                        "model.loss", "layer.activation", "data.train_weights",
                                        "model.seed", "data.train"};
    const int last = size - 1;
    regnn_fit_options *fo = NULL;
    OK(regnn_fit_options_create(&fo));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 2));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 16));
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        regnn_dataset *tr = synth(120, 4, 5), *va = synth(30, 4, 6);
        regnn_model *m = NULL;
        OK(regnn_model_create(4, &m));
        OK(regnn_model_add_dense(m, 8, REGNN_ACT_RELU, NULL));
        OK(regnn_model_add_dense(m, 8, REGNN_ACT_TANH, NULL));
        OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
        OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 3));
        regnn_optimizer *o = NULL;
        OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
        if (rank == last)
            change(names[k], &m, o, &tr);
        regnn_history *h = NULL;
        regnn_status st = regnn_mpi_fit(MPI_COMM_WORLD, m, o, tr, va, fo, &h);
        if (size == 1) {
            CHECK(st == REGNN_OK, "%s, one rank: %s", names[k], regnn_mpi_errmsg());
        } else {
            char want[160];
            snprintf(want, sizeof want, "setting '%s' differs: rank 0 vs rank %d", names[k], last);
            CHECK(st == REGNN_E_INVALID_ARG && !h, "%s: status %d", names[k], st);
            CHECK(strstr(regnn_mpi_errmsg(), want) != NULL, "%s: message: %s", names[k],
                  regnn_mpi_errmsg());
            CHECK(regnn_optimizer_steps(o) == 0, "%s: the optimizer took steps", names[k]);
            if (rank == 0)
                printf("%s on rank %d -> rank 0: %s\n", names[k], last, regnn_mpi_errmsg());
        }
        regnn_history_free(h);
        regnn_optimizer_free(o);
        regnn_model_free(m);
        regnn_dataset_free(tr);
        regnn_dataset_free(va);
    }

    /* the distributed path: the same for its settings */
    static const char *const path_names[] = {"path.lambdas", "path.seeds", "fit.epochs",
                                             "optimizer.learning_rate", "data.train"};
    static const double lambdas[] = {0.0, 1e-3}, others[] = {0.0, 2e-3};
    for (size_t k = 0; k < sizeof path_names / sizeof path_names[0]; k++) {
        const char *name = path_names[k];
        const int mine = rank == last;
        regnn_dataset *tr = synth(120, 4, mine && !strcmp(name, "data.train") ? 98 : 5),
                      *va = synth(30, 4, 6);
        regnn_model *m = net(4, 8, 0.0, 1);
        regnn_optimizer *o = NULL;
        OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
        if (mine && !strcmp(name, "optimizer.learning_rate"))
            OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.05));
        regnn_fit_options *pf = NULL;
        OK(regnn_fit_options_copy(fo, &pf));
        OK(regnn_fit_options_set_int(pf, REGNN_FIT_EPOCHS, mine && !strcmp(name, "fit.epochs") ? 3 : 2));
        regnn_path_options *po = NULL;
        OK(regnn_path_options_create(&po));
        OK(regnn_path_options_set_lambdas(po, mine && !strcmp(name, "path.lambdas") ? others : lambdas, 2));
        OK(regnn_path_options_set_int(po, REGNN_PATH_SEEDS, mine && !strcmp(name, "path.seeds") ? 3 : 2));
        OK(regnn_path_options_set_int(po, REGNN_PATH_THREADS, 1));
        regnn_path *p = NULL;
        regnn_status st = regnn_mpi_regularization_path(MPI_COMM_WORLD, m, o, tr, va, pf, po, &p);
        if (size == 1) {
            CHECK(st == REGNN_OK && p, "path %s, one rank: %s", name, regnn_mpi_errmsg());
        } else {
            char want[160];
            snprintf(want, sizeof want, "setting '%s' differs: rank 0 vs rank %d", name, last);
            CHECK(st == REGNN_E_INVALID_ARG && !p, "path %s: status %d", name, st);
            CHECK(strstr(regnn_mpi_errmsg(), want) != NULL, "path %s: message: %s", name,
                  regnn_mpi_errmsg());
            if (rank == 0)
                printf("path: %s on rank %d -> rank 0: %s\n", name, last, regnn_mpi_errmsg());
        }
        regnn_path_free(p);
        regnn_path_options_free(po);
        regnn_fit_options_free(pf);
        regnn_optimizer_free(o);
        regnn_model_free(m);
        regnn_dataset_free(tr);
        regnn_dataset_free(va);
    }
    regnn_fit_options_free(fo);
}

int main(int argc, char **argv)
{
    regnn_set_allocator(budget_malloc, budget_free, NULL);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    regnn_set_blas_threads(1);
    const char *what = argc > 1 ? argv[1] : "";
    if (strcmp(what, "path") == 0)
        test_path();
    else if (strcmp(what, "fit") == 0)
        test_fit();
    else if (strcmp(what, "fail") == 0)
        test_fail();
    else if (strcmp(what, "settings") == 0)
        test_settings();
    else if (strcmp(what, "study") == 0 && argc > 2)
        study(argv[2], argc > 3 ? atol(argv[3]) : 100);
    else {
        fprintf(stderr, "usage: mpi_check path|fit|fail|settings|study DATA.csv [EPOCHS]\n");
        failures++;
    }
    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("mpi_check %s, %d ranks: %s\n", what, size, total ? "FAILED" : "ok");
    MPI_Finalize();
    return total ? 1 : 0;
}
