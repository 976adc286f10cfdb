/* SPDX-License-Identifier: MIT */
/*
 * mpi_path - the diabetes study's L2 sweep (6 lambdas x 5 seeds x 100 epochs,
 * Dense(128, relu) x 6 -> Dense(1), batch 64, validation split 0.15) with its
 * runs spread over the MPI ranks by regnn_mpi_regularization_path. Every rank
 * ends with the whole result; rank 0 prints the table and the wall time.
 *
 *   mpirun -np 2 build/openblas/examples/mpi_path [DATA.csv] [--epochs E]
 *       [--seeds S] [--threads T]
 *
 * --threads: training threads per rank (default 1: one rank per core).
 * Build: make (when mpicc is installed); outside the tree:
 *   mpicc mpi_path.c $(pkg-config --cflags --libs regnn_mpi) -lm
 */
#include <regnn_mpi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double lambdas[] = {0, 1e-5, 1e-4, 1e-3, 1e-2, 3e-2};
#define N_LAMBDAS (sizeof lambdas / sizeof lambdas[0])

static int fail(int rank, const char *what)
{
    if (rank == 0)
        fprintf(stderr, "mpi_path: %s: %s%s\n", what, regnn_mpi_errmsg()[0] ? regnn_mpi_errmsg() : "",
                regnn_mpi_errmsg()[0] ? "" : regnn_errmsg());
    MPI_Finalize();
    return 1;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *data = "examples/data/diabetes.csv";
    long epochs = 100, seeds = 5, threads = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc)
            epochs = atol(argv[++i]);
        else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
            seeds = atol(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atol(argv[++i]);
        else
            data = argv[i];
    }
    regnn_set_blas_threads(1);

    /* Every rank reads the data and builds the same template. */
    const char *target = "y";
    regnn_dataset *raw = NULL, *train = NULL;
    regnn_scaler *sc = NULL;
    regnn_model *tm = NULL;
    regnn_fit_options *fo = NULL;
    regnn_path_options *po = NULL;
    regnn_path *p = NULL;
    if (regnn_dataset_from_csv(data, &target, NULL, 1, &raw) != REGNN_OK ||
        regnn_scaler_fit(raw, REGNN_SCALE_UNIT_NORM, REGNN_SCALE_ZSCORE, &sc) != REGNN_OK ||
        regnn_scaler_transform(sc, raw, &train) != REGNN_OK)
        return fail(rank, data);
    regnn_model_create(regnn_dataset_features(train), &tm);
    for (int i = 0; i < 6; i++)
        regnn_model_add_dense(tm, 128, REGNN_ACT_RELU, NULL);
    regnn_model_add_dense(tm, 1, REGNN_ACT_LINEAR, NULL);
    regnn_fit_options_create(&fo);
    regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, epochs);
    regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 64);
    regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.15);
    regnn_path_options_create(&po);
    regnn_path_options_set_lambdas(po, lambdas, N_LAMBDAS);
    regnn_path_options_set_int(po, REGNN_PATH_SEEDS, seeds);
    if (regnn_path_options_set_int(po, REGNN_PATH_THREADS, threads) != REGNN_OK)
        return fail(rank, "--threads");

    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    regnn_status st = regnn_mpi_regularization_path(MPI_COMM_WORLD, tm, NULL, train, NULL, fo, po, &p);
    double secs = MPI_Wtime() - t0;
    if (st != REGNN_OK)
        return fail(rank, "regnn_mpi_regularization_path");

    if (rank == 0) {
        double mean[N_LAMBDAS], sd[N_LAMBDAS];
        size_t best = 0, best1se = 0;
        regnn_path_get(p, REGNN_RUN_BEST_VAL_MSE, REGNN_AGG_MEAN, mean, N_LAMBDAS);
        regnn_path_get(p, REGNN_RUN_BEST_VAL_MSE, REGNN_AGG_SD, sd, N_LAMBDAS);
        regnn_path_best_index(p, REGNN_RUN_BEST_VAL_MSE, REGNN_SELECT_MIN, &best);
        regnn_path_best_index(p, REGNN_RUN_BEST_VAL_MSE, REGNN_SELECT_1SE, &best1se);
        printf("lambda      best val MSE (mean +- sd over %ld seeds)\n", seeds);
        for (size_t i = 0; i < N_LAMBDAS; i++)
            printf("%-10g  %.4f +- %.4f%s%s\n", lambdas[i], mean[i], sd[i], i == best ? "  min" : "",
                   i == best1se ? "  1se" : "");
        printf("%zu runs x %ld epochs on %d rank%s (%ld thread%s each): %.2f s\n",
               N_LAMBDAS * (size_t)seeds, epochs, size, size == 1 ? "" : "s", threads,
               threads == 1 ? "" : "s", secs);
    }
    regnn_path_free(p);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_model_free(tm);
    regnn_scaler_free(sc);
    regnn_dataset_free(train);
    regnn_dataset_free(raw);
    MPI_Finalize();
    return 0;
}
