/* SPDX-License-Identifier: MIT */
/* The training thread pool (src/parallel/pool.c) and its promise: a model trains to
 * the same bits at every thread count (parameters, histories, checkpoints,
 * losses), for Adam and SGD, L1 and L2, dropout, early stopping, partial
 * batches, products on either GEMM, train_batch and the path; the pool's
 * allocations and thread starts fail cleanly. Also built under
 * ThreadSanitizer (make tsan). */
#define _POSIX_C_SOURCE 200809L /* nanosleep, popen, readlink */
#include "testutil.h"
#include "model/model_impl.h" /* the model's fields, which this test reads or breaks */

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the pool itself ---- */

typedef struct {
    _Atomic int hits[1000];
    _Atomic int order_ok;
} count_ctx;

static void count_task(void *ctx, size_t t)
{
    count_ctx *c = ctx;
    atomic_fetch_add(&c->hits[t], 1);
}

START_TEST(test_pool_runs_every_task_once)
{
    rg_pool *p = NULL;
    CK_OK(rg_pool_create(4, &p));
    ck_assert_uint_eq(rg_pool_threads(p), 4);
    static count_ctx c;
    const size_t sizes[] = {1, 2, 3, 7, 64, 1000};
    for (int rep = 0; rep < 200; rep++) {
        size_t n = sizes[rep % 6];
        for (size_t t = 0; t < n; t++)
            atomic_store(&c.hits[t], 0);
        rg_pool_run(p, count_task, &c, n);
        for (size_t t = 0; t < n; t++)
            ck_assert_int_eq(atomic_load(&c.hits[t]), 1);
    }
    rg_pool_free(p);
    /* NULL pool: on the caller. */
    for (size_t t = 0; t < 5; t++)
        atomic_store(&c.hits[t], 0);
    rg_pool_run(NULL, count_task, &c, 5);
    for (size_t t = 0; t < 5; t++)
        ck_assert_int_eq(atomic_load(&c.hits[t]), 1);
    ck_assert_uint_eq(rg_pool_threads(NULL), 1);
}
END_TEST

static void slow_task(void *ctx, size_t t)
{
    count_ctx *c = ctx;
    struct timespec ts = {0, 2000000}; /* 2 ms: long enough for idle workers to sleep */
    if (t == 0)
        nanosleep(&ts, NULL);
    atomic_fetch_add(&c->hits[t], 1);
}

START_TEST(test_pool_wakes_sleeping_workers)
{
    rg_pool *p = NULL;
    CK_OK(rg_pool_create(3, &p));
    static count_ctx c;
    for (int rep = 0; rep < 20; rep++) {
        for (size_t t = 0; t < 8; t++)
            atomic_store(&c.hits[t], 0);
        rg_pool_run(p, slow_task, &c, 8);
        for (size_t t = 0; t < 8; t++)
            ck_assert_int_eq(atomic_load(&c.hits[t]), 1);
        /* Idle long past the spin: the next job must wake them. */
        struct timespec ts = {0, 3000000};
        nanosleep(&ts, NULL);
    }
    rg_pool_free(p);
}
END_TEST

START_TEST(test_pool_create_failures)
{
    for (long nth = 1; nth <= 3; nth++) {
        rg_pool *p = NULL;
        long live = regnn__test_alloc_live();
        regnn__test_alloc_fail_at(nth, 0);
        regnn_status st = rg_pool_create(3, &p);
        regnn__test_alloc_fail_at(0, 0);
        if (st == REGNN_OK) {
            rg_pool_free(p);
            continue;
        }
        ck_assert_int_eq(st, REGNN_E_NOMEM);
        ck_assert_ptr_null(p);
        ck_assert_int_eq(regnn__test_alloc_live(), live);
    }
    for (long nth = 1; nth <= 3; nth++) {
        rg_pool *p = NULL;
        long live = regnn__test_alloc_live();
        regnn__test_pool_refuse_thread(nth);
        regnn_status st = rg_pool_create(4, &p);
        regnn__test_pool_refuse_thread(0);
        ck_assert_int_eq(st, REGNN_E_NOMEM);
        ck_assert_ptr_null(p);
        ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "cannot start thread"));
        ck_assert_int_eq(regnn__test_alloc_live(), live);
    }
}
END_TEST

/* A pool of more threads than the process may use CPUs runs its tasks on as
 * many threads as CPUs (none spins for a CPU another holds), every task once. */
START_TEST(test_pool_caps_active_threads)
{
    static count_ctx c;
    const size_t cases[3][3] = {{8, 2, 2}, {4, 1, 1}, {4, RG_MAX_THREADS, 4}}; /* threads, cpus, active */
    for (int k = 0; k < 3; k++) {
        regnn__test_usable_cpus((long)cases[k][1]);
        rg_pool *p = NULL;
        CK_OK(rg_pool_create(cases[k][0], &p));
        regnn__test_usable_cpus(RG_MAX_THREADS);
        ck_assert_uint_eq(rg_pool_threads(p), cases[k][0]);
        ck_assert_uint_eq(rg_pool_active(p), cases[k][2]);
        const size_t sizes[] = {1, 2, 3, 7, 64, 1000};
        for (int rep = 0; rep < 60; rep++) {
            size_t n = sizes[rep % 6];
            for (size_t t = 0; t < n; t++)
                atomic_store(&c.hits[t], 0);
            rg_pool_run(p, count_task, &c, n);
            for (size_t t = 0; t < n; t++)
                ck_assert_int_eq(atomic_load(&c.hits[t]), 1);
        }
        rg_pool_free(p);
    }
    ck_assert_uint_eq(rg_pool_active(NULL), 1);
}
END_TEST

/* A job started on the workers alone: the caller returns at once and never
 * runs a task itself, each task runs once, and rg_pool_wait returns when all
 * are done. The tasks wait for the caller's go, so a caller that ran one
 * would never give it (they give up after 10 s and the test fails). */
typedef struct {
    _Atomic int hits[8], started, go, saw_go, on_caller;
    pthread_t caller;
} start_ctx;

static void gated_task(void *ctx, size_t t)
{
    start_ctx *c = ctx;
    atomic_fetch_add(&c->started, 1);
    if (pthread_equal(pthread_self(), c->caller))
        atomic_store(&c->on_caller, 1);
    for (int i = 0; i < 10000 && !atomic_load(&c->go); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    atomic_fetch_add(&c->saw_go, atomic_load(&c->go));
    atomic_fetch_add(&c->hits[t], 1);
}

START_TEST(test_pool_start_runs_on_workers)
{
    /* A pool for coarse tasks starts every worker, whatever the CPUs. */
    regnn__test_usable_cpus(1);
    rg_pool *p = NULL;
    CK_OK(rg_pool_create_all(4, &p));
    regnn__test_usable_cpus(RG_MAX_THREADS);
    ck_assert_uint_eq(rg_pool_threads(p), 4);
    ck_assert_uint_eq(rg_pool_active(p), 4);
    static start_ctx c;
    const size_t sizes[] = {3, 1, 2};
    for (int k = 0; k < 3; k++) {
        const size_t n = sizes[k];
        memset(&c, 0, sizeof c);
        c.caller = pthread_self();
        rg_pool_start(p, gated_task, &c, n);
        for (int i = 0; i < 10000 && (size_t)atomic_load(&c.started) < n; i++) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        ck_assert_int_eq(atomic_load(&c.started), (int)n);
        atomic_store(&c.go, 1);
        rg_pool_wait(p);
        for (size_t t = 0; t < n; t++)
            ck_assert_int_eq(atomic_load(&c.hits[t]), 1);
        ck_assert_int_eq(atomic_load(&c.saw_go), (int)n);
        ck_assert_int_eq(atomic_load(&c.on_caller), 0);
    }
    /* The pool still runs ordinary jobs afterwards. */
    static count_ctx cc;
    for (size_t t = 0; t < 64; t++)
        atomic_store(&cc.hits[t], 0);
    rg_pool_run(p, count_task, &cc, 64);
    for (size_t t = 0; t < 64; t++)
        ck_assert_int_eq(atomic_load(&cc.hits[t]), 1);
    rg_pool_free(p);
    /* Without a pool: on the caller, done on return. */
    for (size_t t = 0; t < 5; t++)
        atomic_store(&cc.hits[t], 0);
    rg_pool_start(NULL, count_task, &cc, 5);
    for (size_t t = 0; t < 5; t++)
        ck_assert_int_eq(atomic_load(&cc.hits[t]), 1);
    rg_pool_wait(NULL);
}
END_TEST

/* cgroup v2 cpu.max: QUOTA PERIOD rounded up to whole CPUs; "max" is no limit. */
START_TEST(test_cpu_quota_text)
{
    const struct {
        const char *text;
        size_t cpus;
    } cases[] = {{"max 100000\n", 0}, {"150000 100000\n", 2}, {"100000 100000\n", 1},
                 {"50000 100000", 1},  {"1 100000", 1},         {"400000 100000", 4},
                 {"0 100000", 0},      {"100000", 0},           {"100000 0", 0},
                 {"", 0},              {"abc 1", 0},            {"-5 100000", 0},
                 {"99999999999 1", RG_MAX_THREADS}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(rg_cpu_quota_cpus(cases[i].text) == cases[i].cpus, "'%s': %zu, expected %zu",
                      cases[i].text, rg_cpu_quota_cpus(cases[i].text), cases[i].cpus);
}
END_TEST

/* REGNN_TEST_PRINT_CPUS mode (main): what this process resolves threads = 0
 * to, and how many threads a pool of 4 runs on. */
static int print_cpus(void)
{
    regnn_model *m = NULL;
    rg_pool *p = NULL;
    if (regnn_model_create(3, &m) != REGNN_OK || regnn_model_set_threads(m, 0) != REGNN_OK ||
        rg_pool_create(4, &p) != REGNN_OK)
        return EXIT_FAILURE;
    /* shapes and a batch for which the automatic rule alone would pick many */
    if (regnn_model_add_dense(m, 4096, REGNN_ACT_RELU, NULL) != REGNN_OK)
        return EXIT_FAILURE;
    printf("usable %zu resolved %zu model %zu active %zu\n", rg_usable_cpus(),
           rg_threads_resolve(0, 1e15), rg_model_resolved_threads(m, 1u << 16), rg_pool_active(p));
    rg_pool_free(p);
    regnn_model_free(m);
    return EXIT_SUCCESS;
}

/* Under taskset -c 0 the process may use one CPU: threads = 0 resolves to 1
 * (not the online count) and a pool of 4 runs on one thread. */
START_TEST(test_threads_zero_under_taskset)
{
    if (system("command -v taskset >/dev/null 2>&1") != 0) {
        printf("check_pool: taskset is not installed; skipping the affinity test\n");
        return;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    ck_assert(n > 0);
    exe[n] = '\0';
    /* Under an emulator (make check-arm64's qemu-user) the binary is run through it. */
    const char *runner = getenv("REGNN_TEST_RUNNER");
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "REGNN_TEST_PRINT_CPUS=1 taskset -c 0 %.100s '%s'", runner ? runner : "",
             exe);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    size_t usable = 0, resolved = 0, model = 0, active = 0;
    int got = fscanf(f, "usable %zu resolved %zu model %zu active %zu", &usable, &resolved, &model,
                     &active);
    ck_assert_int_eq(pclose(f), 0);
    ck_assert_int_eq(got, 4);
    ck_assert_uint_eq(usable, 1);
    ck_assert_uint_eq(resolved, 1);
    ck_assert_uint_eq(model, 1);
    ck_assert_uint_eq(active, 1);
}
END_TEST

/* threads = 0: the automatic rule's decisions by step size and CPUs. */
START_TEST(test_threads_auto_rule)
{
    const size_t study = 10 * 128 + 5 * 128 * 128 + 128, wide = 64 * 512 + 2 * 512 * 512 + 512;
    ck_assert_uint_eq(rg_threads_auto(rg_step_macs(study, 64), 2), 1);
    ck_assert_uint_eq(rg_threads_auto(rg_step_macs(study, 64), 64), 1);
    ck_assert_uint_eq(rg_threads_auto(rg_step_macs(study, 1), 2), 1);
    ck_assert_uint_eq(rg_threads_auto(rg_step_macs(study, 320), 2), 1); /* docs/api.md's bound */
    ck_assert_uint_eq(rg_threads_auto(rg_step_macs(study, 321), 2), 2);
    ck_assert_uint_eq(rg_threads_auto(rg_step_macs(wide, 256), 2), 2);
    ck_assert_uint_eq(rg_threads_auto(rg_step_macs(wide, 256), 8), 8);
    ck_assert_uint_eq(rg_threads_auto(rg_step_macs(wide, 256), 64), 10); /* 428 M / 40 M */
    ck_assert_uint_eq(rg_threads_auto(rg_step_macs(wide, 256), 1), 1);
    ck_assert_uint_eq(rg_threads_auto(rg_step_macs(wide, 1), 2), 1);
    /* each thread gets at least RG_AUTO_MACS_PER_THREAD */
    ck_assert_uint_eq(rg_threads_auto(2 * RG_AUTO_MACS_PER_THREAD, 4), 2);
    ck_assert_uint_eq(rg_threads_auto(2 * RG_AUTO_MACS_PER_THREAD - 1, 4), 1);
    ck_assert_uint_eq(rg_threads_auto(1e300, 1000), RG_MAX_THREADS);
    ck_assert_uint_eq(rg_threads_auto(0.0, 4), 1);
    /* a set count is the count, capped by the CPUs, whatever the work */
    regnn__test_usable_cpus(2);
    ck_assert_uint_eq(rg_threads_resolve(0, rg_step_macs(study, 64)), 1);
    ck_assert_uint_eq(rg_threads_resolve(0, rg_step_macs(wide, 256)), 2);
    ck_assert_uint_eq(rg_threads_resolve(1, 1e15), 1);
    ck_assert_uint_eq(rg_threads_resolve(3, 0.0), 2);
    regnn__test_usable_cpus(0);
}
END_TEST

/* docs/api.md states RG_AUTO_MACS_PER_THREAD as a number: the two agree. */
START_TEST(test_threads_auto_rule_documented)
{
    FILE *f = fopen("docs/api.md", "r");
    ck_assert_ptr_nonnull(f);
    char line[1024], want[64];
    snprintf(want, sizeof want, "W / %.0f", RG_AUTO_MACS_PER_THREAD);
    /* the docs group thousands with commas */
    char grouped[64];
    size_t g = 0, n = strlen(want), digits = n - 4; /* after "W / " */
    for (size_t i = 0; i < n; i++) {
        grouped[g++] = want[i];
        if (i >= 4 && i + 1 < n && (n - 1 - i) % 3 == 0 && digits > 3)
            grouped[g++] = ',';
    }
    grouped[g] = '\0';
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, grouped) != NULL;
    fclose(f);
    ck_assert_msg(found, "docs/api.md does not say \"%s\" (RG_AUTO_MACS_PER_THREAD)", grouped);
}
END_TEST

/* A model with threads = 0 counts its dense kernels' weights (not noise
 * layers') and the batch, resolves again when a fit's batch changes, and
 * starts or stops its pool to match. */
START_TEST(test_threads_auto_model)
{
    regnn__test_usable_cpus(2);
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(64, &m));
    for (int i = 0; i < 3; i++) {
        CK_OK(regnn_model_add_dense(m, 512, REGNN_ACT_RELU, NULL));
        CK_OK(regnn_model_add_gaussian_noise(m, 0.1, NULL));
    }
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 1));
    CK_OK(regnn_model_set_threads(m, 0));
    ck_assert_uint_eq(rg_model_resolved_threads(m, 256), 2);
    ck_assert_uint_eq(rg_model_resolved_threads(m, 8), 1);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &o));
    const size_t rows[] = {256, 8, 256};
    for (int k = 0; k < 3; k++) {
        float *x = calloc(rows[k] * 64, sizeof *x), *y = calloc(rows[k], sizeof *y);
        ck_assert_ptr_nonnull(x);
        ck_assert_ptr_nonnull(y);
        CK_OK(regnn_train_batch(m, o, x, y, rows[k], NULL));
        ck_assert_uint_eq(rg_pool_threads(m->pool), rows[k] == 256 ? 2 : 1);
        free(x);
        free(y);
    }
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn__test_usable_cpus(0);
}
END_TEST

/* ---- the thread-count promise ---- */

static regnn_dataset *synth(size_t rows, size_t n_in, uint64_t seed)
{
    float *x = malloc(rows * n_in * sizeof *x), *y = malloc(rows * sizeof *y);
    rg_rng r;
    rg_rng_seed(&r, seed);
    for (size_t i = 0; i < rows; i++) {
        double t = 0.0;
        for (size_t k = 0; k < n_in; k++) {
            x[i * n_in + k] = (float)(2 * rg_rng_uniform(&r) - 1);
            t += sin((double)(k + 1) * x[i * n_in + k]);
        }
        y[i] = (float)t;
    }
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, rows, n_in, 1, REGNN_COPY, &ds));
    free(x);
    free(y);
    return ds;
}

typedef struct {
    size_t n_in, width, depth, batch, rows, epochs;
    int kind;        /* REGNN_OPTIM_* */
    double momentum; /* SGD */
    double l2, l1, dropout;
    int early;       /* early stopping + restore best, validation split */
    int act;
} config;

typedef struct {
    float *params;
    size_t np;
    double *metrics; /* every recorded metric but seconds, epoch-major */
    size_t n_metrics;
    unsigned char *ckpt;
    size_t ckpt_len;
    int stop;
} outcome;

static void outcome_free(outcome *o)
{
    free(o->params);
    free(o->metrics);
    free(o->ckpt);
}

static regnn_model *make_model(const config *c, size_t threads)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(c->n_in, &m));
    for (size_t i = 0; i < c->depth; i++)
        CK_OK(regnn_model_add_dense(m, c->width, c->act, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, c->l2));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L1, c->l1));
    for (size_t i = 0; i + 1 < c->depth; i++)
        CK_OK(regnn_layer_set_double(regnn_model_layer(m, i), REGNN_LAYER_DROPOUT, c->dropout));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 11));
    CK_OK(regnn_model_set_threads(m, threads));
    ck_assert_uint_eq(regnn_model_threads(m), threads);
    return m;
}

static regnn_optimizer *make_opt(const config *c)
{
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(c->kind, &o));
    if (c->kind == REGNN_OPTIM_SGD) {
        CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 1e-3));
        CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_MOMENTUM, c->momentum));
    }
    if (c->kind == REGNN_OPTIM_NADAM) /* with decoupled decay */
        CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_WEIGHT_DECAY, 1e-2));
    return o;
}

static outcome train(const config *c, size_t threads, const regnn_dataset *ds)
{
    regnn_model *m = make_model(c, threads);
    regnn_optimizer *o = make_opt(c);
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, (int64_t)c->epochs));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, (int64_t)c->batch));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EVAL_TRAIN, 1));
    if (c->early) {
        CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.25));
        CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EARLY_STOPPING, 1));
        CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_PATIENCE, 1));
        CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_RESTORE_BEST, 1));
    }
    regnn_history *h = NULL;
    CK_OK(regnn_fit(m, o, ds, NULL, fo, &h));
    outcome r;
    memset(&r, 0, sizeof r);
    r.np = regnn_model_param_count(m);
    r.params = malloc(r.np * sizeof *r.params);
    CK_OK(regnn_model_get_params(m, r.params, r.np));
    size_t ep = regnn_history_epochs(h);
    static const int metrics[] = {REGNN_METRIC_TRAIN_LOSS, REGNN_METRIC_TRAIN_MSE,
                                  REGNN_METRIC_TRAIN_PENALTY, REGNN_METRIC_TRAIN_MAE,
                                  REGNN_METRIC_VAL_LOSS, REGNN_METRIC_VAL_MSE,
                                  REGNN_METRIC_VAL_MAE, REGNN_METRIC_TRAIN_EVAL_MSE};
    r.n_metrics = ep * 8;
    r.metrics = malloc((r.n_metrics + 1) * sizeof *r.metrics);
    for (size_t k = 0; k < 8; k++)
        CK_OK(regnn_history_get(h, metrics[k], r.metrics + k * ep, ep));
    r.stop = regnn_history_stop_reason(h);
    CK_OK(regnn_checkpoint_save_mem(m, o, NULL, 0, &r.ckpt_len));
    r.ckpt = malloc(r.ckpt_len);
    CK_OK(regnn_checkpoint_save_mem(m, o, r.ckpt, r.ckpt_len, &r.ckpt_len));
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    return r;
}

static void same_outcome(const outcome *a, const outcome *b, size_t threads)
{
    ck_assert_uint_eq(a->np, b->np);
    ck_assert_msg(memcmp(a->params, b->params, a->np * sizeof *a->params) == 0,
                  "parameters differ at %zu threads", threads);
    ck_assert_uint_eq(a->n_metrics, b->n_metrics);
    /* NaN (unrecorded) metrics compare by bits too. */
    ck_assert_msg(memcmp(a->metrics, b->metrics, a->n_metrics * sizeof *a->metrics) == 0,
                  "history differs at %zu threads", threads);
    ck_assert_int_eq(a->stop, b->stop);
    ck_assert_uint_eq(a->ckpt_len, b->ckpt_len);
    ck_assert_msg(memcmp(a->ckpt, b->ckpt, a->ckpt_len) == 0, "checkpoint differs at %zu threads",
                  threads);
}

static void check_config(const config *c)
{
    regnn_dataset *ds = synth(c->rows, c->n_in, 5);
    outcome one = train(c, 1, ds);
    for (size_t t = 2; t <= 4; t++) {
        outcome other = train(c, t, ds);
        same_outcome(&one, &other, t);
        outcome_free(&other);
    }
    /* More threads than CPUs: the pool runs their split on fewer threads. */
    for (long cpus = 1; cpus <= 2; cpus++) {
        regnn__test_usable_cpus(cpus);
        outcome other = train(c, 5, ds);
        regnn__test_usable_cpus(RG_MAX_THREADS);
        same_outcome(&one, &other, 5);
        outcome_free(&other);
    }
    /* The training changed the model: the comparison is not between two
     * untouched initializations. */
    regnn_model *fresh = make_model(c, 1);
    float *p0 = malloc(one.np * sizeof *p0);
    CK_OK(regnn_model_get_params(fresh, p0, one.np));
    ck_assert(memcmp(p0, one.params, one.np * sizeof *p0) != 0);
    free(p0);
    regnn_model_free(fresh);
    outcome_free(&one);
    regnn_dataset_free(ds);
}

/* Widths that cut every product into pieces, a partial last batch (rows not
 * a multiple of batch), and ragged edges (width 77). */
START_TEST(test_same_bits_adam_l2)
{
    config c = {10, 128, 3, 64, 300, 3, REGNN_OPTIM_ADAM, 0, 1e-3, 0, 0, 0, REGNN_ACT_RELU};
    check_config(&c);
}
END_TEST

/* Batches of 100 rows: three shards of 40, 40 and 20 rows (model.c). */
START_TEST(test_same_bits_sgd_l1_dropout)
{
    config c = {7, 77, 3, 100, 230, 3, REGNN_OPTIM_SGD, 0.9, 0, 1e-4, 0.2, 0, REGNN_ACT_TANH};
    check_config(&c);
}
END_TEST

/* A table kind other than Adam and SGD: Nadam (two state buffers, the
 * per-step constants of its momentum cache) over 35k parameters, whose
 * update the threads share. */
START_TEST(test_same_bits_nadam)
{
    config c = {10, 128, 3, 64, 300, 3, REGNN_OPTIM_NADAM, 0, 1e-3, 0, 0, 0, REGNN_ACT_RELU};
    check_config(&c);
}
END_TEST

START_TEST(test_same_bits_plain_sgd_sigmoid)
{
    config c = {5, 96, 2, 33, 200, 2, REGNN_OPTIM_SGD, 0, 1e-3, 1e-4, 0, 0, REGNN_ACT_SIGMOID};
    check_config(&c);
}
END_TEST

START_TEST(test_same_bits_early_stopping)
{
    config c = {10, 64, 2, 32, 256, 12, REGNN_OPTIM_ADAM, 0, 1e-2, 0, 0.1, 1, REGNN_ACT_RELU};
    check_config(&c);
    /* batches of 128 and 64 rows: four and two shards */
    c.batch = 128;
    check_config(&c);
}
END_TEST

/* The activations whose derivative reads the output (elu, selu, leaky_relu,
 * softplus) or the kept pre-activation (gelu, swish), in each form of a step:
 * shards (batches of 100), pieces and owned rows (16), one row (1). */
START_TEST(test_same_bits_new_activations)
{
    static const size_t batches[3] = {100, 16, 1};
    for (int act = REGNN_ACT_ELU; act <= REGNN_ACT_SOFTPLUS; act++)
        for (int b = 0; b < 3; b++) {
            config c = {6, 128, 2, batches[b], 230, 1, REGNN_OPTIM_ADAM, 0, 1e-3, 0, 0.1, 0, act};
            check_config(&c);
        }
}
END_TEST

/* Owned rows (a batch of 40: one shard) with layers wide enough that the
 * forward product is cut by output columns at 2 and 3 threads (pieces of
 * 128 + 72 and 96 + 96 + 8 columns; at 4 threads by batch rows), with dropout. */
START_TEST(test_same_bits_owned_columns)
{
    config c = {8, 200, 2, 40, 120, 1, REGNN_OPTIM_ADAM, 0, 1e-3, 0, 0.1, 0, REGNN_ACT_RELU};
    check_config(&c);
}
END_TEST

/* The cut of a forward product on owned rows: output columns in whole
 * micro-tiles, one piece per part, for a layer cut into parts with at least
 * 64 columns a part; any other layer keeps rg_gemm_plan's cut. */
START_TEST(test_own_forward_cut)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(8, &m));
    CK_OK(regnn_model_add_dense(m, 200, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(m, 200, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 1)); /* the plan reads the parameters' place */
    static const size_t want_pc[5] = {0, 1, 2, 3, 0}, want_step[5] = {0, 200, 128, 96, 0};
    for (size_t nt = 1; nt <= 4; nt++)
        for (size_t i = 0; i < 3; i++) {
            const regnn_layer *l = m->layers[i];
            rg_gemm g, plain;
            rg_dense_gemm(&g, l, m->params, NULL, 40, NULL);
            rg_gemm_plan(&g, nt, 0);
            plain = g;
            rg_own_forward(&g, l, nt);
            if (i == 1 && want_pc[nt]) { /* 40,000 weights: cut into nt parts */
                ck_assert_uint_eq(g.pr, 1);
                ck_assert_uint_eq(g.rstep, 40);
                ck_assert_uint_eq(g.pc, want_pc[nt]);
                ck_assert_uint_eq(g.cstep, want_step[nt]);
            } else { /* 1,600 and 200 weights: one part; at 4 threads 50 columns a part */
                ck_assert_uint_eq(g.pr, plain.pr);
                ck_assert_uint_eq(g.pc, plain.pc);
                ck_assert_uint_eq(g.rstep, plain.rstep);
                ck_assert_uint_eq(g.cstep, plain.cstep);
            }
        }
    regnn_model_free(m);
}
END_TEST

/* Batches of 512 rows: four shards of 128 rows, the most one part sums. */
START_TEST(test_same_bits_largest_shards)
{
    config c = {16, 48, 2, 512, 1100, 1, REGNN_OPTIM_ADAM, 0, 1e-3, 1e-4, 0.1, 0, REGNN_ACT_RELU};
    check_config(&c);
}
END_TEST

/* The sharded gradient as documented: a batch of 64 rows is two shards of
 * 32; each shard's part is half (exactly: 2/64 = 2/32 / 2) the gradient of a
 * step on its rows alone, and the batch's gradient is, per element,
 * (part_0 + part_1) + (2*l2*w + l1*sign(w)). The same at 1 and 2 threads, and
 * on 2 threads the parts are the shard buffers' contents. */
START_TEST(test_sharded_gradient_is_documented_sum)
{
    config c = {10, 128, 2, 64, 64, 1, REGNN_OPTIM_ADAM, 0, 0, 0, 0, 0, REGNN_ACT_RELU};
    const double l2 = 1e-3, l1 = 2e-4;
    regnn_dataset *ds = synth(64, 10, 4);
    float x[64 * 10], y[64];
    CK_OK(regnn_dataset_get_features(ds, x, 640));
    CK_OK(regnn_dataset_get_targets(ds, y, 64));
    regnn_model *m = make_model(&c, 1);
    const size_t np = regnn_model_param_count(m);
    float *half[2], *want = malloc(np * 4);
    double mse_part[2], mae, pen, loss;
    for (int s = 0; s < 2; s++) {
        half[s] = malloc(np * 4);
        CK_OK(rg_model_reserve(m, 32));
        CK_OK(rg_model_step_grads_w(m, x + 32 * s * 10, y + 32 * s, NULL, 32, 1, &loss,
                                    &mse_part[s], &mae, &pen));
        for (size_t k = 0; k < np; k++)
            half[s][k] = m->grads[k] * 0.5f;
    }
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, l2));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L1, l1));
    for (size_t k = 0; k < np; k++)
        want[k] = half[0][k] + half[1][k];
    for (size_t i = 0; i < regnn_model_layer_count(m); i++) {
        const regnn_layer *l = regnn_model_layer(m, i);
        for (size_t k = l->offset; k < l->offset + l->n_in * l->units; k++) {
            const float w = m->params[k];
            const float sg = (float)(w > 0.0f) - (float)(w < 0.0f);
            want[k] = want[k] + ((float)(2.0 * l2) * w + (float)l1 * sg);
        }
    }
    for (size_t t = 1; t <= 2; t++) {
        double mse;
        CK_OK(regnn_model_set_threads(m, t));
        CK_OK(rg_model_reserve(m, 64));
        memset(m->grads, 0xff, np * 4); /* NaN: every element must be written */
        CK_OK(rg_model_step_grads_w(m, x, y, NULL, 64, 1, &loss, &mse, &mae, &pen));
        ck_assert_msg(memcmp(m->grads, want, np * 4) == 0, "gradient at %zu threads", t);
        /* the loss sums: each shard's from 0, added in shard order */
        ck_assert_double_eq_tol(mse, (mse_part[0] + mse_part[1]) / 2, 1e-14 * mse);
        if (t == 2) {
            ck_assert_uint_ge(m->ws_shards, 2);
            for (int s = 0; s < 2; s++)
                for (size_t k = 0; k < np; k++)
                    ck_assert(m->ws_shard[s * np + k] == half[s][k]);
        } else {
            ck_assert_uint_eq(m->ws_shards, 0);
        }
    }
    free(half[0]);
    free(half[1]);
    free(want);
    regnn_model_free(m);
    regnn_dataset_free(ds);
}
END_TEST

/* Products large enough for the build's BLAS (m*n*k over the shape rule's
 * limit), cut in fixed pieces. */
START_TEST(test_same_bits_blas_shapes)
{
    config c = {64, 512, 2, 256, 512, 1, REGNN_OPTIM_ADAM, 0, 1e-4, 0, 0, 0, REGNN_ACT_RELU};
    check_config(&c);
}
END_TEST

START_TEST(test_same_bits_train_batch)
{
    config c = {10, 128, 2, 64, 64, 1, REGNN_OPTIM_ADAM, 0, 1e-3, 0, 0.1, 0, REGNN_ACT_RELU};
    regnn_dataset *ds = synth(64, 10, 9);
    float x[64 * 10], y[64];
    CK_OK(regnn_dataset_get_features(ds, x, 640));
    CK_OK(regnn_dataset_get_targets(ds, y, 64));
    float *ref = NULL;
    double ref_loss[6];
    size_t np = 0;
    for (size_t t = 1; t <= 4; t++) {
        regnn_model *m = make_model(&c, t);
        regnn_optimizer *o = make_opt(&c);
        double loss[6];
        /* Batches of 64, 1 and 17 rows: the one-row path too. */
        const size_t rows[6] = {64, 1, 17, 64, 1, 17};
        for (int s = 0; s < 6; s++)
            CK_OK(regnn_train_batch(m, o, x, y, rows[s], &loss[s]));
        np = regnn_model_param_count(m);
        float *p = malloc(np * sizeof *p);
        CK_OK(regnn_model_get_params(m, p, np));
        if (!ref) {
            ref = p;
            memcpy(ref_loss, loss, sizeof loss);
        } else {
            ck_assert(memcmp(ref, p, np * sizeof *p) == 0);
            ck_assert(memcmp(ref_loss, loss, sizeof loss) == 0);
            free(p);
        }
        regnn_optimizer_free(o);
        regnn_model_free(m);
    }
    free(ref);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_same_bits_path)
{
    config c = {10, 64, 2, 32, 200, 4, REGNN_OPTIM_ADAM, 0, 0, 0, 0, 0, REGNN_ACT_RELU};
    regnn_dataset *ds = synth(200, 10, 3);
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 4));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.2));
    regnn_path_options *po = NULL;
    CK_OK(regnn_path_options_create(&po));
    const double lambdas[3] = {0, 1e-3, 1e-2};
    CK_OK(regnn_path_options_set_lambdas(po, lambdas, 3));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_SEEDS, 2));
    double ref[6];
    for (size_t fit_threads = 1; fit_threads <= 3; fit_threads++)
        for (int64_t run_threads = 1; run_threads <= 2; run_threads++) {
            regnn_model *m = make_model(&c, fit_threads);
            CK_OK(regnn_path_options_set_int(po, REGNN_PATH_THREADS, run_threads));
            regnn_path *p = NULL;
            CK_OK(regnn_regularization_path(m, NULL, ds, NULL, fo, po, &p));
            double v[6];
            CK_OK(regnn_path_get_runs(p, REGNN_RUN_FINAL_VAL_MSE, v, 6));
            if (fit_threads == 1 && run_threads == 1)
                memcpy(ref, v, sizeof v);
            else
                ck_assert(memcmp(ref, v, sizeof v) == 0);
            regnn_path_free(p);
            regnn_model_free(m);
        }
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_dataset_free(ds);
}
END_TEST

/* The caller's flush-to-zero mode reaches the workers: tiny values trained
 * with FTZ/DAZ on give the same bits at every thread count. */
#if defined(__x86_64__)
#include <immintrin.h>
START_TEST(test_same_bits_with_flush_to_zero)
{
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040u);
    config c = {10, 128, 2, 64, 128, 2, REGNN_OPTIM_ADAM, 0, 1e-3, 0, 0, 0, REGNN_ACT_RELU};
    regnn_dataset *ds0 = synth(128, 10, 4);
    /* Targets near the subnormal range make flushing matter. */
    float x[128 * 10], y[128];
    CK_OK(regnn_dataset_get_features(ds0, x, sizeof x / sizeof x[0]));
    CK_OK(regnn_dataset_get_targets(ds0, y, 128));
    for (size_t i = 0; i < 128 * 10; i++)
        x[i] *= 1e-19f;
    for (size_t i = 0; i < 128; i++)
        y[i] *= 1e-19f;
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, 128, 10, 1, REGNN_COPY, &ds));
    outcome one = train(&c, 1, ds), two = train(&c, 2, ds);
    same_outcome(&one, &two, 2);
    outcome_free(&one);
    outcome_free(&two);
    regnn_dataset_free(ds);
    regnn_dataset_free(ds0);
    _mm_setcsr(csr);
}
END_TEST
#endif

START_TEST(test_set_threads_contract)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    ck_assert_uint_eq(regnn_model_threads(m), 1);
    CK_STATUS(regnn_model_set_threads(m, 257), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "0..256"));
    ck_assert_uint_eq(regnn_model_threads(m), 1);
    CK_STATUS(regnn_model_set_threads(NULL, 2), REGNN_E_INVALID_ARG);
    ck_assert_uint_eq(regnn_model_threads(NULL), 0);
    CK_OK(regnn_model_set_threads(m, 0));
    ck_assert_uint_eq(regnn_model_threads(m), 0);
    CK_OK(regnn_model_set_threads(m, 3));
    regnn_model *c = NULL;
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_copy(m, &c));
    ck_assert_uint_eq(regnn_model_threads(c), 3);
    regnn_model_free(c);
    regnn_model_free(m);
}
END_TEST

static int set_threads_in_callback(void *user, const regnn_history *h, size_t epoch)
{
    (void)h;
    (void)epoch;
    int *st = user;
    *st = regnn_model_set_threads(*(regnn_model **)(st + 2), 1);
    return 0;
}

START_TEST(test_set_threads_refused_during_fit)
{
    config c = {3, 16, 1, 8, 32, 1, REGNN_OPTIM_ADAM, 0, 0, 0, 0, 0, REGNN_ACT_RELU};
    regnn_dataset *ds = synth(32, 3, 1);
    regnn_model *m = make_model(&c, 2);
    regnn_optimizer *o = make_opt(&c);
    struct {
        int st, pad;
        regnn_model *m;
    } u = {REGNN_OK, 0, m};
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_callback(fo, set_threads_in_callback, &u));
    CK_OK(regnn_fit(m, o, ds, NULL, fo, NULL));
    ck_assert_int_eq(u.st, REGNN_E_STATE);
    ck_assert_uint_eq(regnn_model_threads(m), 2);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
}
END_TEST

/* A pool that cannot start fails the call with nothing changed, and the
 * next call trains normally. */
START_TEST(test_training_when_threads_cannot_start)
{
    config c = {10, 64, 2, 32, 96, 1, REGNN_OPTIM_ADAM, 0, 1e-3, 0, 0, 0, REGNN_ACT_RELU};
    regnn_dataset *ds = synth(96, 10, 2);
    regnn_model *m = make_model(&c, 3);
    regnn_optimizer *o = make_opt(&c);
    size_t np = regnn_model_param_count(m);
    float *before = malloc(np * sizeof *before), *after = malloc(np * sizeof *after);
    CK_OK(regnn_model_get_params(m, before, np));
    long live = regnn__test_alloc_live();
    regnn__test_pool_refuse_thread(2);
    CK_STATUS(regnn_fit(m, o, ds, NULL, NULL, NULL), REGNN_E_NOMEM);
    regnn__test_pool_refuse_thread(0);
    ck_assert_int_eq(regnn__test_alloc_live(), live);
    CK_OK(regnn_model_get_params(m, after, np));
    ck_assert(memcmp(before, after, np * sizeof *before) == 0);
    ck_assert_uint_eq(regnn_optimizer_steps(o), 0);
    ck_assert_uint_eq(regnn_optimizer_state_size(o), 0);
    float x[10] = {0}, y[1] = {0};
    regnn__test_pool_refuse_thread(1);
    CK_STATUS(regnn_train_batch(m, o, x, y, 1, NULL), REGNN_E_NOMEM);
    regnn__test_pool_refuse_thread(0);
    ck_assert_uint_eq(regnn_optimizer_steps(o), 0);
    CK_OK(regnn_fit(m, o, ds, NULL, NULL, NULL));
    ck_assert_uint_eq(regnn_optimizer_steps(o), 3);
    free(before);
    free(after);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
}
END_TEST

/* Every allocation of a multithreaded fit (pool included) fails cleanly. */
START_TEST(test_fit_allocation_failures_with_threads)
{
    config c = {10, 64, 2, 64, 96, 1, REGNN_OPTIM_ADAM, 0, 1e-3, 0, 0.1, 0, REGNN_ACT_RELU};
    regnn_dataset *ds = synth(96, 10, 2);
    int failed = 0, succeeded = 0;
    for (long nth = 1; nth < 200 && !succeeded; nth++) {
        regnn_model *m = make_model(&c, 2);
        regnn_optimizer *o = make_opt(&c);
        long live = regnn__test_alloc_live();
        regnn__test_alloc_fail_at(nth, 0);
        regnn_status st = regnn_fit(m, o, ds, NULL, NULL, NULL);
        regnn__test_alloc_fail_at(0, 0);
        if (st == REGNN_OK) {
            succeeded = 1;
        } else {
            ck_assert_int_eq(st, REGNN_E_NOMEM);
            ck_assert_uint_eq(regnn_optimizer_steps(o), 0);
            ck_assert_int_eq(regnn__test_alloc_live(), live);
            failed++;
        }
        regnn_optimizer_free(o);
        regnn_model_free(m);
    }
    ck_assert(succeeded);
    ck_assert_int_ge(failed, 3);
    regnn_dataset_free(ds);
}
END_TEST

/* Every test sees all the threads it asks for, whatever CPUs this machine
 * has, unless it sets a count itself. */
static void all_cpus(void) { regnn__test_usable_cpus(RG_MAX_THREADS); }

static Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, all_cpus, NULL);
    tcase_add_test(tc, test_pool_runs_every_task_once);
    tcase_add_test(tc, test_pool_caps_active_threads);
    tcase_add_test(tc, test_pool_start_runs_on_workers);
    tcase_add_test(tc, test_cpu_quota_text);
    tcase_add_test(tc, test_threads_zero_under_taskset);
    tcase_add_test(tc, test_threads_auto_rule);
    tcase_add_test(tc, test_threads_auto_rule_documented);
    tcase_add_test(tc, test_pool_wakes_sleeping_workers);
    tcase_add_test(tc, test_pool_create_failures);
    tcase_add_test(tc, test_same_bits_sgd_l1_dropout);
    tcase_add_test(tc, test_same_bits_plain_sgd_sigmoid);
    tcase_add_test(tc, test_same_bits_largest_shards);
    tcase_add_test(tc, test_same_bits_owned_columns);
    tcase_add_test(tc, test_own_forward_cut);
    tcase_add_test(tc, test_sharded_gradient_is_documented_sum);
    tcase_add_test(tc, test_same_bits_train_batch);
#if defined(__x86_64__)
    tcase_add_test(tc, test_same_bits_with_flush_to_zero);
#endif
    tcase_add_test(tc, test_set_threads_contract);
    tcase_add_test(tc, test_set_threads_refused_during_fit);
    tcase_add_test(tc, test_training_when_threads_cannot_start);
    tcase_add_test(tc, test_fit_allocation_failures_with_threads);
    suite_add_tcase(s, tc);
    TCase *tl = rg_tcase_long(s, 300);
    tcase_add_checked_fixture(tl, all_cpus, NULL);
    tcase_add_test(tl, test_threads_auto_model);
    tcase_add_test(tl, test_same_bits_adam_l2);
    tcase_add_test(tl, test_same_bits_nadam);
    tcase_add_test(tl, test_same_bits_early_stopping);
    tcase_add_test(tl, test_same_bits_blas_shapes);
    tcase_add_test(tl, test_same_bits_path);
    tcase_add_test(tl, test_same_bits_new_activations);
    return s;
}

int main(void)
{
    if (getenv("REGNN_TEST_PRINT_CPUS"))
        return print_cpus();
    return rg_run_suite(pool_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
