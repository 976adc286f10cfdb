/* SPDX-License-Identifier: MIT */
/* One timed regnn_fit through the public API only, so that the same program
 * builds against any two versions of the library (scripts/ab-speed.sh runs
 * them interleaved). Prints the seconds of the timed fit and samples/s.
 *
 * Usage: bench_ab NET THREADS BATCH EPOCHS
 *   NET: study (10-128x6-1, 442 rows) or wide (64-512-512-512-1, 4096 rows)
 *   THREADS "predict": instead, EPOCHS calls of regnn_model_predict on BATCH
 *   rows each (the fitted model, one thread); prints seconds per call. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "regnn.h"

/* Seconds per regnn_model_predict call of `rows` rows, best of 5 runs of
 * `calls` calls (the rows cycle through 1024 inputs); prints it and calls/s. */
static void time_predict(const regnn_model *m, size_t n_in, size_t rows, long calls)
{
    enum { POOL = 1024 };
    float *x = malloc((POOL + rows) * n_in * sizeof *x), *y = malloc(rows * 4 * sizeof *y);
    if (!x || !y) {
        fprintf(stderr, "bench_ab: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < (POOL + rows) * n_in; i++)
        x[i] = (float)sin((double)i);
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = bench_now();
        for (long i = 0; i < calls; i++)
            CHECK(regnn_model_predict(m, x + (size_t)(i % POOL) * n_in, rows, y, rows * 4));
        double t = (bench_now() - t0) / (double)calls;
        best = t < best ? t : best;
    }
    printf("%.9f %.0f\n", best, 1.0 / best);
    free(x);
    free(y);
}

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[1], "study") && strcmp(argv[1], "wide"))) {
        fprintf(stderr, "usage: bench_ab study|wide THREADS BATCH EPOCHS\n");
        return 2;
    }
    int study = !strcmp(argv[1], "study");
    const int predict = !strcmp(argv[2], "predict");
    size_t threads = predict ? 1 : strtoul(argv[2], NULL, 10), batch = strtoul(argv[3], NULL, 10);
    long epochs = strtol(argv[4], NULL, 10);
    size_t n_in = study ? 10 : 64, rows = study ? 442 : 4096;
    size_t widths[6] = {128, 128, 128, 128, 128, 128}, n_w = study ? 6 : 3;
    if (!study)
        widths[0] = widths[1] = widths[2] = 512;

    regnn_dataset *ds = bench_make_data(rows, n_in);
    regnn_model *m;
    regnn_optimizer *o;
    regnn_fit_options *fo;
    CHECK(regnn_model_create(n_in, &m));
    for (size_t i = 0; i < n_w; i++)
        CHECK(regnn_model_add_dense(m, widths[i], REGNN_ACT_RELU, NULL));
    CHECK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CHECK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, 1e-3));
    CHECK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 7));
    CHECK(regnn_model_set_threads(m, threads));
    CHECK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    CHECK(regnn_fit_options_create(&fo));
    CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, (int64_t)batch));
    /* A one-epoch fit first: the timed fit measures training, not start-up. */
    CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 1));
    CHECK(regnn_fit(m, o, ds, NULL, fo, NULL));
    if (predict) {
        time_predict(m, n_in, batch, epochs);
    } else {
        CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, epochs));
        double t0 = bench_now();
        CHECK(regnn_fit(m, o, ds, NULL, fo, NULL));
        double t = bench_now() - t0;
        printf("%.6f %.0f\n", t, (double)rows * (double)epochs / t);
    }
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
    return 0;
}
