/* SPDX-License-Identifier: MIT */
/* One timed regnn_fit through the public API only, so that the same program
 * builds against any two versions of the library (scripts/ab-speed.sh runs
 * them interleaved). Prints the seconds of the timed fit and samples/s.
 *
 * Usage: bench_ab NET THREADS BATCH EPOCHS
 *   NET: study (10-128x6-1, 442 rows) or wide (64-512-512-512-1, 4096 rows) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "benchutil.h"
#include "regnn.h"

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[1], "study") && strcmp(argv[1], "wide"))) {
        fprintf(stderr, "usage: bench_ab study|wide THREADS BATCH EPOCHS\n");
        return 2;
    }
    int study = !strcmp(argv[1], "study");
    size_t threads = strtoul(argv[2], NULL, 10), batch = strtoul(argv[3], NULL, 10);
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
    CHECK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, epochs));
    double t0 = bench_now();
    CHECK(regnn_fit(m, o, ds, NULL, fo, NULL));
    double t = bench_now() - t0;
    printf("%.6f %.0f\n", t, (double)rows * (double)epochs / t);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
    return 0;
}
