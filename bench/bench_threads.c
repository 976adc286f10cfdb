/* SPDX-License-Identifier: MIT */
/* Data-parallel training inside one process: samples/s of regnn_fit at 1 and
 * N threads (default 2) on the study network and on 64-512-512-512-1, the
 * study run (2 models x 100 epochs, one fit at a time) at each count, and a
 * check that every count gave the same bits. Ratios come from one run;
 * times are medians of --reps runs (default 5).
 *
 * Every row names the kernels of its products (benchreport.h). This is the
 * thread-scaling bench: the model's threads (regnn_model_set_threads),
 * OpenBLAS on one thread.
 *
 * Usage: bench_threads [--threads N] [--reps R] [--quick] [--csv-file PATH]
 *                      [--json PATH]
 * (--csv-file: the figures as key,value lines, for bench/thread_targets.py;
 * --json: the rows as JSON lines) */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchreport.h"
#include "benchutil.h"
#include "regnn.h"

static regnn_model *make_model(size_t n_in, const size_t *widths, size_t n_w, double l2,
                               size_t threads)
{
    regnn_model *m;
    CHECK(regnn_model_create(n_in, &m));
    for (size_t i = 0; i < n_w; i++)
        CHECK(regnn_model_add_dense(m, widths[i], REGNN_ACT_RELU, NULL));
    CHECK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CHECK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, l2));
    CHECK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 7));
    CHECK(regnn_model_set_threads(m, threads));
    return m;
}

/* Seconds of one fit; params (may be NULL) receives the trained parameters. */
static double time_fit(const regnn_dataset *ds, size_t n_in, const size_t *widths, size_t n_w,
                       size_t batch, size_t epochs, size_t threads, double l2, double val_split,
                       float *params, pthread_barrier_t *start)
{
    regnn_model *m = make_model(n_in, widths, n_w, l2, threads);
    regnn_optimizer *o;
    CHECK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    regnn_fit_options *fo;
    CHECK(regnn_fit_options_create(&fo));
    CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, (int64_t)epochs));
    CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, (int64_t)batch));
    if (val_split > 0.0)
        CHECK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, val_split));
    /* A first one-epoch fit starts the pool, sizes the workspace and touches
     * the optimizer state: the timed fit measures training, not start-up. */
    CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 1));
    CHECK(regnn_fit(m, o, ds, NULL, fo, NULL));
    CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, (int64_t)epochs));
    if (start)
        pthread_barrier_wait(start);
    double t0 = bench_now();
    CHECK(regnn_fit(m, o, ds, NULL, fo, NULL));
    double t = bench_now() - t0;
    if (params)
        CHECK(regnn_model_get_params(m, params, regnn_model_param_count(m)));
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    return t;
}

typedef struct {
    const regnn_dataset *ds;
    size_t n_in, n_w, batch, epochs;
    const size_t *widths;
    pthread_barrier_t *start;
    double seconds;
} pair_job;

static void *pair_thread(void *arg)
{
    pair_job *j = arg;
    j->seconds = time_fit(j->ds, j->n_in, j->widths, j->n_w, j->batch, j->epochs, 1, 1e-3, 0.0,
                          NULL, j->start);
    return NULL;
}

/* The machine's own ceiling for this workload: two independent one-thread
 * fits at once on two threads, against one alone (no shared work, no sync). */
static double pair_seconds(pair_job *j)
{
    pthread_t th;
    pthread_barrier_t start;
    if (pthread_barrier_init(&start, NULL, 2) != 0)
        exit(1);
    j->start = &start;
    pair_job other = *j;
    if (pthread_create(&th, NULL, pair_thread, &other) != 0)
        exit(1);
    pair_thread(j);
    pthread_join(th, NULL);
    pthread_barrier_destroy(&start);
    j->start = NULL;
    /* Both timed fits start together after their warm-ups. */
    return j->seconds > other.seconds ? j->seconds : other.seconds;
}

/* ---- cross-core data movement ----
 * One thread writes `bytes`, the other then reads them, in turns: the time per
 * turn minus the same turns without the writes is what moving those bytes from
 * one core's cache to the other's costs here. A sharded step on 2 threads must
 * move at least 4 x params bytes (params floats) into each core per step (half of the other
 * core's gradient part, and the half of the parameters it updated). */
typedef struct {
    uint64_t *buf;
    size_t n;
    int rounds, write;
    atomic_int turn;
    uint64_t sink;
} handoff;

static void *handoff_reader(void *arg)
{
    handoff *h = arg;
    uint64_t acc = 0;
    for (int r = 0; r < h->rounds; r++) {
        while (atomic_load(&h->turn) != 2 * r + 1)
            ;
        for (size_t i = 0; i < h->n; i++)
            acc ^= h->buf[i];
        atomic_store(&h->turn, 2 * r + 2);
    }
    h->sink = acc;
    return NULL;
}

static double handoff_seconds(size_t bytes, int write, int rounds)
{
    handoff h;
    h.n = bytes / sizeof(uint64_t);
    h.buf = calloc(h.n, sizeof *h.buf);
    h.rounds = rounds;
    h.write = write;
    atomic_init(&h.turn, 0);
    pthread_t th;
    if (!h.buf || pthread_create(&th, NULL, handoff_reader, &h) != 0)
        exit(1);
    double t0 = bench_now();
    for (int r = 0; r < rounds; r++) {
        while (atomic_load(&h.turn) != 2 * r)
            ;
        if (write)
            for (size_t i = 0; i < h.n; i++)
                h.buf[i] = (uint64_t)r + i;
        atomic_store(&h.turn, 2 * r + 1);
    }
    while (atomic_load(&h.turn) != 2 * rounds)
        ;
    double t = bench_now() - t0;
    pthread_join(th, NULL);
    free(h.buf);
    return t / rounds;
}

/* Microseconds to move `bytes` between the two cores (median of 5). */
static double handoff_us(size_t bytes)
{
    double d[5];
    for (int k = 0; k < 5; k++)
        d[k] = handoff_seconds(bytes, 1, 2000) - handoff_seconds(bytes, 0, 2000);
    qsort(d, 5, sizeof *d, bench_cmp_double);
    return d[2] * 1e6;
}

typedef struct {
    const char *name, *key;
    size_t n_in, widths[8], n_w, batch, rows, epochs;
    double target;
} workload;

static FILE *csv_fp; /* --csv-file: key,value lines for bench/thread_targets.py */

static void csv(const char *key, double v)
{
    if (csv_fp)
        fprintf(csv_fp, "%s,%.9g\n", key, v);
}

/* The line on the data a sharded 2-thread step of the study net (np
 * parameters, one 1-thread step of step_us) must move between cores, into
 * out; its time goes to the figures. */
static void describe_handoff(size_t np, double step_us, char *out, size_t cap)
{
    const double move_us = handoff_us(np * sizeof(float));
    csv("handoff_us", move_us);
    snprintf(out, cap,
             "study net: a sharded 2-thread step moves >= %.0f KB into each core: %.0f us "
             "here, against a 1-thread step of %.0f us;\n  so 2 threads can give at most "
             "about %.2fx on this machine, however the work is cut\n",
             (double)(np * sizeof(float)) / 1024, move_us, step_us,
             step_us / (step_us / 2 + move_us));
}

/* Workload x at 1 and nt threads (and the two-fit ceiling at 2): its table
 * line and figures. Whether the two counts gave the same bits. With move_s,
 * the study net's hand-off line goes there. */
static int run_workload(const workload *x, size_t nt, size_t reps, int quick, char *move_s,
                        size_t move_cap)
{
    size_t rows = quick ? x->rows / 4 : x->rows;
    regnn_dataset *ds = bench_make_data(rows, x->n_in);
    regnn_model *probe = make_model(x->n_in, x->widths, x->n_w, 1e-3, 1);
    size_t np = regnn_model_param_count(probe);
    regnn_model_free(probe);
    float *p1 = malloc(np * sizeof *p1), *pn = malloc(np * sizeof *pn);
    double t1[99], tn[99], tp[99];
    pair_job pj = {ds, x->n_in, x->n_w, x->batch, x->epochs, x->widths, NULL, 0.0};
    for (size_t r = 0; r < reps; r++) {
        /* Interleaved, so drift in the machine's speed hits all alike. */
        t1[r] = time_fit(ds, x->n_in, x->widths, x->n_w, x->batch, x->epochs, 1, 1e-3, 0.0, p1, NULL);
        tn[r] = time_fit(ds, x->n_in, x->widths, x->n_w, x->batch, x->epochs, nt, 1e-3, 0.0, pn, NULL);
        tp[r] = pair_seconds(&pj);
    }
    int same = memcmp(p1, pn, np * sizeof *p1) == 0;
    double samples = (double)rows * (double)x->epochs;
    double m1 = bench_median(t1, reps), mn = bench_median(tn, reps), mp = bench_median(tp, reps);
    char ceil_s[16] = "-", kt[160], kj[320];
    if (nt == 2)
        snprintf(ceil_s, sizeof ceil_s, "%.2fx", 2.0 * m1 / mp);
    size_t widths[10] = {x->n_in};
    memcpy(widths + 1, x->widths, x->n_w * sizeof *widths);
    widths[x->n_w + 1] = 1;
    bench_net_kernels(widths, x->n_w + 2, x->batch, kt, sizeof kt, kj, sizeof kj);
    printf("%-32s %12.0f %12.0f %7.2fx %8s %7.2fx %-9s %s\n", x->name, samples / m1, samples / mn,
           m1 / mn, ceil_s, x->target, same ? "yes" : "NO", kt);
    const char *keys[] = {"samples_per_s.t1", "samples_per_s.tn", "ratio", "ceiling", "target",
                          "same_bits", "threads_n", "rows", "epochs", "batch"};
    const double vals[] = {samples / m1, samples / mn, m1 / mn, nt == 2 ? 2.0 * m1 / mp : NAN,
                           x->target, same, (double)nt, (double)rows, (double)x->epochs,
                           (double)x->batch};
    bench_json_row(x->name, kj, nt, sizeof vals / sizeof vals[0], keys, vals);
    char key[96];
    snprintf(key, sizeof key, "kernels.%s", x->key);
    if (csv_fp)
        fprintf(csv_fp, "%s,%s\n", key, kt);
    snprintf(key, sizeof key, "ratio.%s", x->key);
    csv(key, m1 / mn);
    snprintf(key, sizeof key, "samples_per_s.%s.t1", x->key);
    csv(key, samples / m1);
    snprintf(key, sizeof key, "samples_per_s.%s.tn", x->key);
    csv(key, samples / mn);
    if (nt == 2) {
        snprintf(key, sizeof key, "ceiling.%s", x->key);
        csv(key, 2.0 * m1 / mp);
    }
    /* The study net's steps are sharded (api.md): the data they must move. */
    if (move_s && nt == 2)
        describe_handoff(np, 1e6 * m1 / (samples / (double)x->batch), move_s, move_cap);
    free(p1);
    free(pn);
    regnn_dataset_free(ds);
    return same;
}

/* The study run as the example trains it: 353 training rows, a 20 % tail
 * for validation, 2 models (lambda 0 and 1e-3) x 100 epochs, batch 64. */
static void study_run(size_t nt, size_t reps)
{
    regnn_dataset *ds = bench_make_data(353, 10);
    const size_t widths[6] = {128, 128, 128, 128, 128, 128};
    double t1[99], tn[99];
    for (size_t r = 0; r < reps; r++) {
        t1[r] = time_fit(ds, 10, widths, 6, 64, 100, 1, 0.0, 0.2, NULL, NULL) +
                time_fit(ds, 10, widths, 6, 64, 100, 1, 1e-3, 0.2, NULL, NULL);
        tn[r] = time_fit(ds, 10, widths, 6, 64, 100, nt, 0.0, 0.2, NULL, NULL) +
                time_fit(ds, 10, widths, 6, 64, 100, nt, 1e-3, 0.2, NULL, NULL);
    }
    double m1 = bench_median(t1, reps), mn = bench_median(tn, reps);
    const size_t net[8] = {10, 128, 128, 128, 128, 128, 128, 1};
    char kt[160], kj[320];
    bench_net_kernels(net, 8, 64, kt, sizeof kt, kj, sizeof kj);
    printf("%-32s %11.3fs %11.3fs %7.2fx %8s %8s %-9s %s\n", "study run (2 fits x 100 epochs)", m1,
           mn, m1 / mn, "", "", "", kt);
    const char *keys[] = {"seconds.t1", "seconds.tn", "ratio"};
    const double vals[] = {m1, mn, m1 / mn};
    bench_json_row("study run (2 fits x 100 epochs)", kj, nt, 3, keys, vals);
    csv("study_run_seconds.t1", m1);
    csv("study_run_seconds.tn", mn);
}

/* --threads N, --reps R, --quick, --csv-file PATH, --json PATH: -1, or the
 * exit status of bad arguments. */
static int parse_args(int argc, char **argv, size_t *nt, size_t *reps, int *quick,
                      const char **json)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            *nt = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            *reps = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--quick"))
            *quick = 1;
        else if (!strcmp(argv[i], "--csv-file") && i + 1 < argc) {
            csv_fp = fopen(argv[++i], "w");
            if (!csv_fp) {
                perror(argv[i]);
                return 1;
            }
        } else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            *json = argv[++i];
    }
    if (*reps < 1 || *reps > 99 || *nt < 2 || *nt > 256) {
        fprintf(stderr, "usage: bench_threads [--threads N>=2] [--reps 1..99] [--quick] "
                        "[--csv-file PATH] [--json PATH]\n");
        return 2;
    }
    return -1;
}

int main(int argc, char **argv)
{
    bench_clean_env(argv);
    size_t nt = 2, reps = 5;
    int quick = 0;
    const char *json = NULL;
    int rc = parse_args(argc, argv, &nt, &reps, &quick, &json);
    if (rc >= 0)
        return rc;
    if (regnn_set_blas_threads(1) != REGNN_OK && strcmp(regnn_blas_name(), "builtin") != 0)
        return 1;
    const workload w[] = {
        {"study net 10-128x6-1, batch 64", "10-128x6-1.b64", 10, {128, 128, 128, 128, 128, 128}, 6,
         64, 4096, 4, 1.4},
        {"64-512-512-512-1, batch 64", "64-512x3-1.b64", 64, {512, 512, 512}, 3, 64, 2048, 1, 1.5},
        {"64-512-512-512-1, batch 256", "64-512x3-1.b256", 64, {512, 512, 512}, 3, 256, 4096, 1,
         1.75},
        {"64-512-512-512-1, batch 1024", "64-512x3-1.b1024", 64, {512, 512, 512}, 3, 1024, 8192,
         1, 1.85},
    };
    bench_json_open(json, "bench_threads");
    const char *core = bench_openblas_core();
    printf("data-parallel training, %s build, 1 vs %zu model threads (regnn_model_set_threads; "
           "OpenBLAS: 1 thread), median of %zu fits each\n"
           "built-in kernel %s, OpenBLAS core %s; kernels: per layer when they differ\n",
           regnn_blas_name(), nt, reps, rg_gemm_kernel_name(), core ? core : "(none)");
    printf("(ceiling: two independent one-thread fits at once vs one alone, the most 2 threads\n"
           " can give on this machine; measured with 2 threads only)\n");
    printf("%-32s %12s %12s %8s %8s %8s %-9s %s\n", "workload", "1 thr smp/s", "N thr smp/s",
           "ratio", "ceiling", "target", "same bits", "kernels");
    int all_same = 1;
    char move_s[320] = "";
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        all_same &= run_workload(&w[i], nt, reps, quick, i == 0 ? move_s : NULL, sizeof move_s);
    study_run(nt, reps);
    printf("bits identical at 1 and %zu threads: %s\n", nt, all_same ? "yes" : "NO");
    csv("threads", (double)nt);
    csv("same_bits", all_same);
    if (csv_fp)
        fclose(csv_fp);
    fputs(move_s, stdout);
    if (bench_json_close() != 0)
        return 1;
    return all_same ? 0 : 1;
}
