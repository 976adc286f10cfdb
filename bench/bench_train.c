/* SPDX-License-Identifier: MIT */
/* The benchmark suite behind `make bench`: GEMM ceiling, training throughput,
 * the study run, inference latency, allocations and peak memory, each printed
 * with its target. GEMM ceilings: median of 5 runs of >= 0.25 s each. Every ratio is measured in the same run; times are medians.
 * Every row names the kernels of its products (the library's rule,
 * benchreport.h). One model thread throughout, except the study run's
 * 2-thread line: thread scaling is bench_threads' (docs/bench.md).
 *
 * Usage: bench_train [--quick] [--csv] [--csv-file PATH] [--json PATH]
 *   --csv: machine-readable key,value lines only; --csv-file: the table on
 *   stdout and the key,value lines into PATH; --json: the figures as JSON
 *   lines into PATH. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "benchreport.h"
#include "benchutil.h"
#include "regnn.h"

static int csv_mode;
static FILE *csv_fp;
/* The kernels (text and JSON, one per layer) and model threads of the rows
 * being printed (set_kernels). */
static char cur_kernels[160] = "-", cur_kernels_json[320] = "[]";
static size_t cur_threads = 1;

/* ---- counting allocator: peak live bytes ---- */
static size_t live_bytes, peak_bytes, n_allocs;

static void *count_malloc(void *user, size_t size)
{
    (void)user;
    size_t *p = malloc(size + 16);
    if (!p)
        return NULL;
    p[0] = size;
    live_bytes += size;
    n_allocs++;
    if (live_bytes > peak_bytes)
        peak_bytes = live_bytes;
    return (char *)p + 16;
}

static void count_free(void *user, void *q)
{
    (void)user;
    size_t *p = (size_t *)((char *)q - 16);
    live_bytes -= p[0];
    free(p);
}

typedef struct {
    const char *name;
    size_t widths[8], n_widths;
} net_spec;

static const net_spec STUDY = {"10-128x6-1", {10, 128, 128, 128, 128, 128, 128, 1}, 8};
static const net_spec LARGE = {"64-512x3-1", {64, 512, 512, 512, 1}, 5};

static double weights_of(const net_spec *ns)
{
    double w = 0;
    for (size_t i = 1; i < ns->n_widths; i++)
        w += (double)ns->widths[i - 1] * (double)ns->widths[i];
    return w;
}

static regnn_model *build(const net_spec *ns, double l2, uint64_t seed)
{
    regnn_model *m;
    CHECK(regnn_model_create(ns->widths[0], &m));
    for (size_t i = 1; i < ns->n_widths; i++)
        CHECK(regnn_model_add_dense(m, ns->widths[i],
                                    i + 1 < ns->n_widths ? REGNN_ACT_RELU : REGNN_ACT_LINEAR, NULL));
    CHECK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, l2));
    CHECK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    return m;
}

static regnn_dataset *synthetic(size_t rows, size_t n_in, uint64_t seed)
{
    float *x = malloc(rows * n_in * sizeof *x), *y = malloc(rows * sizeof *y);
    rg_rng r;
    rg_rng_seed(&r, seed);
    for (size_t i = 0; i < rows; i++) {
        double s = 0;
        for (size_t k = 0; k < n_in; k++) {
            x[i * n_in + k] = (float)(2 * rg_rng_uniform(&r) - 1);
            s += sin((double)(k + 1) * x[i * n_in + k]);
        }
        y[i] = (float)(s / sqrt((double)n_in));
    }
    regnn_dataset *ds;
    CHECK(regnn_dataset_from_arrays(x, y, rows, n_in, 1, REGNN_COPY, &ds));
    free(x);
    free(y);
    return ds;
}

/* Seconds for the GEMMs of one training step (forward, weight gradient, input
 * gradient of every layer but the first): median of reps runs of at least
 * min_s seconds each (short runs of 2 threads swing with thread wake-ups). */
static double gemm_ceiling_step(const net_spec *ns, size_t batch, int reps, double min_s)
{
    size_t maxw = 0;
    for (size_t i = 0; i < ns->n_widths; i++)
        maxw = ns->widths[i] > maxw ? ns->widths[i] : maxw;
    float *a = calloc(batch * maxw, 4), *w = calloc(maxw * maxw, 4), *c = calloc(batch * maxw + maxw * maxw, 4);
    float *d = calloc(batch * maxw, 4);
    for (size_t i = 0; i < batch * maxw; i++)
        a[i] = d[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < maxw * maxw; i++)
        w[i] = (float)(i % 5) * 0.01f;
    double t[64];
    int iters = 1;
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        for (int it = 0; it < iters; it++)
            for (size_t l = 1; l < ns->n_widths; l++) {
                size_t in = ns->widths[l - 1], out = ns->widths[l];
                rg_sgemm(0, 0, batch, out, in, 1, a, in, w, out, 0, c, out);
                rg_sgemm(1, 0, in, out, batch, 1, a, in, d, out, 0, c, out);
                if (l > 1)
                    rg_sgemm(0, 1, batch, in, out, 1, d, out, w, out, 0, c, in);
            }
        double el = bench_now() - t0;
        if (r < 0) { /* calibration: double until 20 ms, then scale to min_s */
            if (el < 0.02) {
                iters *= 2;
                r--;
            } else
                iters = (int)(min_s / (el / iters)) + 1;
            continue;
        }
        t[r] = el / iters;
    }
    free(a);
    free(w);
    free(c);
    free(d);
    return bench_median(t, reps);
}

/* Seconds per training epoch through regnn_fit (shuffling on), median of reps. */
static double fit_epoch_seconds(const net_spec *ns, const regnn_dataset *ds, size_t batch,
                                int epochs_per_rep, int reps)
{
    regnn_model *m = build(ns, 1e-4, 1);
    regnn_optimizer *o;
    regnn_fit_options *fo;
    CHECK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    CHECK(regnn_fit_options_create(&fo));
    CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, epochs_per_rep));
    CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, (int64_t)batch));
    CHECK(regnn_fit(m, o, ds, NULL, fo, NULL)); /* warm-up: workspace, optimizer state */
    double t[64];
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        CHECK(regnn_fit(m, o, ds, NULL, fo, NULL));
        t[r] = (bench_now() - t0) / epochs_per_rep;
    }
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    return bench_median(t, reps);
}

/* The rows that follow run network ns at batch rows on threads model threads. */
static void set_kernels(const net_spec *ns, size_t rows, size_t threads)
{
    bench_net_kernels(ns->widths, ns->n_widths, rows, cur_kernels, sizeof cur_kernels,
                      cur_kernels_json, sizeof cur_kernels_json);
    cur_threads = threads;
}

static void row(const char *figure, const char *value, const char *target, int met)
{
    if (!csv_mode)
        printf("| %-58s | %-28s | %-22s | %-4s | %s |\n", figure, value, target,
               met < 0 ? "" : met ? "yes" : "NO", cur_kernels);
}

/* A figure: a key,value line (--csv, --csv-file) and a JSON row (--json). */
static void csv(const char *key, double v)
{
    if (csv_mode)
        printf("%s,%.9g\n", key, v);
    if (csv_fp)
        fprintf(csv_fp, "%s,%.9g\n", key, v);
    const char *keys[] = {"value"};
    bench_json_row(key, cur_kernels_json, cur_threads, 1, keys, &v);
}

/* A key,text line (what ran), for bench/targets.py. */
static void csv_text(const char *key, const char *text)
{
    if (csv_mode)
        printf("%s,%s\n", key, text);
    if (csv_fp)
        fprintf(csv_fp, "%s,%s\n", key, text);
}

/* The study: unregularized and L2 l2 runs (1e-2; 0 for the figure without
 * the penalty term), 100 epochs each, 15 % validation. */
static double study_run_seconds(const regnn_dataset *train, double l2, size_t threads)
{
    double t0 = bench_now();
    for (int k = 0; k < 2; k++) {
        regnn_model *m = build(&STUDY, k ? l2 : 0.0, 1);
        CHECK(regnn_model_set_threads(m, threads));
        regnn_optimizer *o;
        regnn_fit_options *fo;
        CHECK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
        CHECK(regnn_fit_options_create(&fo));
        CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 100));
        CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 64));
        CHECK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.15));
        regnn_history *h;
        CHECK(regnn_fit(m, o, train, NULL, fo, &h));
        regnn_history_free(h);
        regnn_fit_options_free(fo);
        regnn_optimizer_free(o);
        regnn_model_free(m);
    }
    return bench_now() - t0;
}

/* One throughput case on one thread: its GEMM ceiling, training speed and
 * their ratio against the target; the samples per second. */
typedef struct {
    const net_spec *ns;
    const regnn_dataset *ds;
    size_t batch;
    int epochs, reps;
    double target;
} train_case;

static double throughput_case(const train_case *tc)
{
    char fig[96], v[128], tgt[64], key[96];
    const net_spec *ns = tc->ns;
    size_t rows = regnn_dataset_rows(tc->ds), b = tc->batch;
    const int th = 1;
    set_kernels(ns, b, 1);
    double w = weights_of(ns);
    double step_flops = 6.0 * w * (double)b;
    double ceil_s = gemm_ceiling_step(ns, b, 5, 0.25);
    double ceil_gf = step_flops / ceil_s * 1e-9;
    double ep = fit_epoch_seconds(ns, tc->ds, b, tc->epochs, tc->reps);
    double samples = (double)rows / ep, gf = 6.0 * w * samples * 1e-9;
    double frac = gf / ceil_gf;
    const char *s = th > 1 ? "s" : "";
    snprintf(fig, sizeof fig, "%s batch %zu, %d thread%s: GEMM ceiling", ns->name, b, th, s);
    snprintf(v, sizeof v, "%.1f GFLOP/s", ceil_gf);
    row(fig, v, "", -1);
    snprintf(fig, sizeof fig, "%s batch %zu, %d thread%s: training", ns->name, b, th, s);
    snprintf(v, sizeof v, "%.0f samples/s, %.1f GFLOP/s", samples, gf);
    row(fig, v, "", -1);
    snprintf(fig, sizeof fig, "%s batch %zu, %d thread%s: training / ceiling", ns->name, b, th, s);
    snprintf(v, sizeof v, "%.0f %%", 100 * frac);
    snprintf(tgt, sizeof tgt, ">= %.0f %%", 100 * tc->target);
    row(fig, v, tgt, frac >= tc->target);
    snprintf(key, sizeof key, "train_samples_per_s.%s.b%zu.t%d", ns->name, b, th);
    csv(key, samples);
    snprintf(key, sizeof key, "ceiling_fraction.%s.b%zu.t%d", ns->name, b, th);
    csv(key, frac);
    snprintf(key, sizeof key, "kernels.%s.b%zu", ns->name, b);
    csv_text(key, cur_kernels);
    return samples;
}

/* 1 + 2: GEMM ceiling and training throughput, one thread (the model's
 * and OpenBLAS's). */
static void bench_throughput(int quick)
{
    regnn_dataset *diab = synthetic(337, 10, 5);
    regnn_dataset *big = synthetic(quick ? 8192 : 65536, 64, 6);
    const train_case cases[] = {
        {&STUDY, diab, 64, 20, 7, 0.75},
        {&LARGE, big, 64, 1, 3, 0.75},
        {&LARGE, big, 256, 1, 3, 0.90},
        {&LARGE, big, 1024, 1, 3, 0.90},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        throughput_case(&cases[c]);
    regnn_dataset_free(diab);
    regnn_dataset_free(big);
}

/* 3: the study run on the real data (train: its scaled training rows). */
static void bench_study(const regnn_dataset *train, int quick)
{
    char v[128];
    double st[5], st0[5], st2[5];
    int n_study = quick ? 1 : 5;
    for (int r = 0; r < n_study; r++) {
        st[r] = study_run_seconds(train, 1e-2, 1);
        st0[r] = study_run_seconds(train, 0.0, 1);
        st2[r] = study_run_seconds(train, 1e-2, 2);
    }
    double study_s = bench_median(st, n_study), study0_s = bench_median(st0, n_study);
    double study2_s = bench_median(st2, n_study);
    set_kernels(&STUDY, 64, 1);
    snprintf(v, sizeof v, "%.3f s", study_s);
    row("study run: 2 x 100 epochs, 10-128x6-1, 337+60 rows, 1 thread", v, "4x faster than PyTorch",
        -1);
    snprintf(v, sizeof v, "%.3f s", study0_s);
    row("the same, both runs without the L2 term", v, "", -1);
    csv("study_run_seconds", study_s);
    csv_text("kernels.study_run", cur_kernels);
    csv("study_run_seconds.no_l2", study0_s);
    set_kernels(&STUDY, 64, 2);
    snprintf(v, sizeof v, "%.3f s", study2_s);
    row("the study run on 2 threads (regnn_model_set_threads)", v, "", -1);
    csv("study_run_seconds.t2", study2_s);
}

/* 4: inference latency of the study network m, one row and a batch. */
static void bench_latency(const regnn_model *m, int quick)
{
    char v[128];
    float x[1024 * 10], y[1024];
    for (size_t i = 0; i < 1024 * 10; i++)
        x[i] = (float)sin((double)i);
    double lat[7];
    int calls = quick ? 20000 : 100000;
    for (int r = 0; r < 7; r++) {
        double t0 = bench_now();
        for (int i = 0; i < calls; i++)
            regnn_model_predict(m, x + (i % 1024) * 10, 1, y, 1);
        lat[r] = (bench_now() - t0) / calls;
    }
    double one = bench_median(lat, 7);
    set_kernels(&STUDY, 1, 1);
    snprintf(v, sizeof v, "%.2f us", one * 1e6);
    row("predict, one row, study network", v, "<= 4 us", one <= 4e-6);
    csv("predict_one_row_us", one * 1e6);
    csv_text("kernels.predict_one_row", cur_kernels);
    for (int r = 0; r < 7; r++) {
        double t0 = bench_now();
        for (int i = 0; i < 20; i++)
            CHECK(regnn_model_predict(m, x, 1024, y, 1024));
        lat[r] = (bench_now() - t0) / (20.0 * 1024);
    }
    double per_row = bench_median(lat, 7);
    set_kernels(&STUDY, 1024, 1);
    snprintf(v, sizeof v, "%.3f us/row", per_row * 1e6);
    row("predict, batch of 1024 rows, study network", v, "", -1);
    csv("predict_batch_us_per_row", per_row * 1e6);
}

/* Peak memory of the study fit against what it must hold. */
static void report_peak(const regnn_model *m, size_t base_live)
{
    char v[128];
    size_t np = regnn_model_param_count(m), width_sum = 0;
    for (size_t i = 1; i < STUDY.n_widths; i++)
        width_sum += STUDY.widths[i];
    double model_bytes = (double)np * 4 * 2;       /* parameters + gradients */
    double moment_bytes = (double)np * 4 * 2;      /* Adam m and v */
    double ws_bytes = 64.0 * (double)width_sum * 4 * 2; /* activations + deltas */
    double need = model_bytes + moment_bytes + ws_bytes;
    double peak = (double)(peak_bytes - base_live + model_bytes);
    snprintf(v, sizeof v, "%.0f kB (params+grads %.0f, moments %.0f, workspace %.0f)",
             peak / 1024, model_bytes / 1024, moment_bytes / 1024, ws_bytes / 1024);
    row("peak memory of a study fit", v, "", -1);
    snprintf(v, sizeof v, "%.2fx", peak / need);
    row("peak / (params+grads + moments + workspace)", v, "~1x (+ restore snapshot)", -1);
    csv("peak_bytes", peak);
    csv("peak_over_minimum", peak / need);
}

/* 5: allocations per step and peak memory of a fit of m on train. */
static void bench_memory(regnn_model *m, const regnn_dataset *train)
{
    char v[128];
    regnn_optimizer *o;
    regnn_fit_options *fo;
    CHECK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    CHECK(regnn_fit_options_create(&fo));
    CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 64));
    CHECK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.15));
    size_t counts[2];
    size_t base_live = live_bytes;
    set_kernels(&STUDY, 64, 1);
    peak_bytes = live_bytes;
    CHECK(regnn_fit(m, o, train, NULL, fo, NULL)); /* binds the optimizer, sizes the workspace */
    for (int k = 0; k < 2; k++) {
        CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, k ? 11 : 1));
        size_t before = n_allocs;
        CHECK(regnn_fit(m, o, train, NULL, fo, NULL));
        counts[k] = n_allocs - before;
    }
    /* 10 more epochs = 60 more steps with no more allocations. */
    double per_step = (double)((long)counts[1] - (long)counts[0]) / 60.0;
    snprintf(v, sizeof v, "%.0f (fit: %zu allocations, any epochs)", per_step, counts[1]);
    row("heap allocations per training step", v, "0", per_step == 0.0);
    csv("allocations_per_step", per_step);
    report_peak(m, base_live);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
}

/* --quick, --csv, --csv-file PATH, --json PATH: 0, or the exit status of a
 * bad argument. */
static int parse_args(int argc, char **argv, int *quick, const char **json)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            *quick = 1;
        else if (!strcmp(argv[i], "--csv"))
            csv_mode = 1;
        else if (!strcmp(argv[i], "--csv-file") && i + 1 < argc) {
            csv_fp = fopen(argv[++i], "w");
            if (!csv_fp) {
                perror(argv[i]);
                return 1;
            }
        } else if (!strcmp(argv[i], "--json") && i + 1 < argc) {
            *json = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_train [--quick] [--csv] [--csv-file PATH] [--json PATH]\n");
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench_clean_env(argv);
    int quick = 0;
    const char *json = NULL;
    int rc = parse_args(argc, argv, &quick, &json);
    if (rc != 0)
        return rc;
    CHECK(regnn_set_allocator(count_malloc, count_free, NULL));
    if (strcmp(regnn_blas_name(), "openblas") == 0)
        CHECK(regnn_set_blas_threads(1));
    if (!csv_mode) {
        const char *core = bench_openblas_core();
        printf("libregnn %s, %s build, built-in kernel %s, OpenBLAS core %s, REGNN_OPENBLAS_LARGE=%s;"
               "\none model thread unless a row says otherwise (thread scaling: bench_threads);"
               " medians of repeated runs; ratios from this run\n",
               regnn_version_string(), regnn_blas_name(), rg_gemm_kernel_name(),
               core ? core : "(none)", getenv("REGNN_OPENBLAS_LARGE") ? getenv("REGNN_OPENBLAS_LARGE") : "unset");
    }
    bench_json_open(json, "bench_train");
    csv_text("openblas_core", bench_openblas_core() ? bench_openblas_core() : "none");
    if (!csv_mode) {
        printf("\n| %-58s | %-28s | %-22s | %-4s | %s |\n", "figure", "value", "target", "met",
               "kernels (per layer when they differ)");
        printf("|%s|%s|%s|%s|%s|\n", "------------------------------------------------------------",
               "------------------------------", "------------------------", "------", "----");
    }
    bench_throughput(quick);

    regnn_dataset *raw, *scaled, *train, *test;
    const char *names[] = {"y"};
    CHECK(regnn_dataset_from_csv("examples/data/diabetes.csv", names, NULL, 1, &raw));
    regnn_scaler *sc;
    CHECK(regnn_scaler_fit(raw, REGNN_SCALE_UNIT_NORM, REGNN_SCALE_ZSCORE, &sc));
    CHECK(regnn_scaler_transform(sc, raw, &scaled));
    CHECK(regnn_dataset_split_shuffled(scaled, 0.1, 1, &train, &test));
    bench_study(train, quick);
    regnn_model *m = build(&STUDY, 0.0, 1);
    bench_latency(m, quick);
    bench_memory(m, train);

    regnn_model_free(m);
    regnn_scaler_free(sc);
    regnn_dataset_free(raw);
    regnn_dataset_free(scaled);
    regnn_dataset_free(train);
    regnn_dataset_free(test);
    if (csv_fp && fclose(csv_fp) != 0) {
        perror("bench_train: --csv-file");
        return 1;
    }
    return bench_json_close();
}
