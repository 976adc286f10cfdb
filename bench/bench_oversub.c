/* SPDX-License-Identifier: MIT */
/* Oversubscription: a fit of the study network (10-128x6-1) with more threads
 * than the process may use CPUs, against as many threads as usable CPUs,
 * at batch 32 and batch 1. The target is a ratio of at most 1.25; the bits
 * must be the same at every count. Times are medians of --reps fits.
 *
 * Usage: bench_oversub [--threads N] [--reps R]  (N default 64) */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchreport.h"
#include "benchutil.h"
#include "parallel/parallel.h" /* rg_usable_cpus: threads = 0 would pick 1 for this net */
#include "regnn.h"

#define TARGET_RATIO 1.25

/* Seconds of one epoch at the given threads (after a warm-up epoch that
 * starts the pool); params receives the trained parameters. */
static double time_fit(const regnn_dataset *ds, size_t batch, size_t threads, float *params,
                       size_t np)
{
    regnn_model *m;
    CHECK(regnn_model_create(10, &m));
    for (int i = 0; i < 6; i++)
        CHECK(regnn_model_add_dense(m, 128, REGNN_ACT_RELU, NULL));
    CHECK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CHECK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 7));
    CHECK(regnn_model_set_threads(m, threads));
    regnn_optimizer *o;
    CHECK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    regnn_fit_options *fo;
    CHECK(regnn_fit_options_create(&fo));
    CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, (int64_t)batch));
    CHECK(regnn_fit(m, o, ds, NULL, fo, NULL));
    double t0 = bench_now();
    CHECK(regnn_fit(m, o, ds, NULL, fo, NULL));
    double t = bench_now() - t0;
    CHECK(regnn_model_get_params(m, params, np));
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    return t;
}

int main(int argc, char **argv)
{
    bench_clean_env(argv);
    size_t nt = 64, reps = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            nt = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = (size_t)atol(argv[++i]);
        else
            nt = 0;
    }
    if (nt < 2 || nt > 256 || reps < 1 || reps > 99) {
        fprintf(stderr, "usage: bench_oversub [--threads 2..256] [--reps 1..99]\n");
        return 2;
    }
    if (regnn_set_blas_threads(1) != REGNN_OK && strcmp(regnn_blas_name(), "builtin") != 0)
        return 1;
    const size_t np = 10 * 128 + 128 + 5 * (128 * 128 + 128) + 128 + 1;
    float *pa = malloc(np * sizeof *pa), *pb = malloc(np * sizeof *pb);
    double *ta = malloc(reps * sizeof *ta), *tb = malloc(reps * sizeof *tb);
    if (!pa || !pb || !ta || !tb)
        return 1;
    const struct {
        size_t batch, rows;
    } w[2] = {{32, 4096}, {1, 512}};
    const size_t cpus = rg_usable_cpus();
    printf("oversubscription, %s build: study net 10-128x6-1, one epoch, %zu threads (the usable\n"
           "CPUs) vs %zu threads (median of %zu; target ratio <= %.2f)\n",
           regnn_blas_name(), cpus, nt, reps, TARGET_RATIO);
    printf("%-10s %12s %12s %8s %-6s %s\n", "batch", "CPUs s", "N threads s", "ratio", "bits",
           "kernels");
    const size_t net[8] = {10, 128, 128, 128, 128, 128, 128, 1};
    int same = 1;
    for (int k = 0; k < 2; k++) {
        regnn_dataset *ds = bench_make_data(w[k].rows, 10);
        for (size_t r = 0; r < reps; r++) {
            ta[r] = time_fit(ds, w[k].batch, cpus, pa, np);
            tb[r] = time_fit(ds, w[k].batch, nt, pb, np);
        }
        const int eq = memcmp(pa, pb, np * sizeof *pa) == 0;
        same &= eq;
        qsort(ta, reps, sizeof *ta, bench_cmp_double);
        qsort(tb, reps, sizeof *tb, bench_cmp_double);
        const double a = ta[reps / 2], b = tb[reps / 2];
        char kt[256];
        bench_net_kernels(net, 8, w[k].batch, kt, sizeof kt, NULL, 0);
        printf("%-10zu %12.3f %12.3f %7.2fx %-6s %s\n", w[k].batch, a, b, b / a,
               eq ? "same" : "DIFFER", kt);
        regnn_dataset_free(ds);
    }
    free(pa);
    free(pb);
    free(ta);
    free(tb);
    return same ? 0 : 1;
}
