/* SPDX-License-Identifier: MIT */
/*
 * mpi_fit - data-parallel training with regnn_mpi_fit: every rank holds the
 * whole (synthetic) dataset and computes its share of each global batch; the
 * gradient sums are exchanged before every step, so all ranks end with the
 * same model. Rank 0 saves a checkpoint from the epoch callback.
 *
 *   mpirun -np 2 build/openblas/examples/mpi_fit [--rows N] [--width W]
 *       [--batch B] [--epochs E] [--checkpoint FILE]
 *
 * Defaults: 8192 rows of 64 features, 64-512-512-512-1 (relu), global batch
 * 1024, 3 epochs. Rank 0 prints the loss per epoch and the wall time.
 */
#include <regnn_mpi.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int rank;
    const regnn_model *m;
    const regnn_optimizer *o;
    const char *checkpoint;
} epoch_ctx;

/* Runs on every rank with the same history; only rank 0 writes. */
static int on_epoch(void *user, const regnn_history *h, size_t epoch)
{
    const epoch_ctx *c = user;
    if (c->rank != 0)
        return 0;
    double loss = NAN, val = NAN;
    size_t n = epoch + 1;
    double *v = malloc(n * sizeof *v);
    if (v && regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, v, n) == REGNN_OK)
        loss = v[epoch];
    if (v && regnn_history_get(h, REGNN_METRIC_VAL_MSE, v, n) == REGNN_OK)
        val = v[epoch];
    free(v);
    printf("epoch %zu: loss %.6f, val mse %.6f\n", epoch + 1, loss, val);
    if (c->checkpoint && regnn_checkpoint_save(c->m, c->o, c->checkpoint) != REGNN_OK)
        fprintf(stderr, "mpi_fit: checkpoint: %s\n", regnn_errmsg());
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long rows = 8192, width = 512, batch = 1024, epochs = 3;
    const char *checkpoint = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--rows") == 0)
            rows = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--width") == 0)
            width = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--batch") == 0)
            batch = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--epochs") == 0)
            epochs = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--checkpoint") == 0)
            checkpoint = argv[i + 1];
    }
    if (rows < 16 || width < 1) {
        if (rank == 0)
            fprintf(stderr, "mpi_fit: --rows >= 16 and --width >= 1\n");
        MPI_Finalize();
        return 2;
    }
    regnn_set_blas_threads(1);

    /* The same data on every rank: a fixed generator, no communication. */
    const size_t nx = 64, n = (size_t)rows;
    float *x = malloc(n * nx * sizeof *x), *y = malloc(n * sizeof *y);
    unsigned long s = 12345;
    for (size_t i = 0; i < n; i++) {
        double t = 0;
        for (size_t k = 0; k < nx; k++) {
            s = s * 6364136223846793005UL + 1442695040888963407UL;
            x[i * nx + k] = (float)((double)(s >> 11) / 9007199254740992.0 * 2 - 1);
            t += (k % 3 == 0 ? 1.0 : -0.5) * x[i * nx + k] * x[i * nx + (k * 7 + 1) % nx];
        }
        y[i] = (float)tanh(t / 8);
    }
    regnn_dataset *all = NULL, *train = NULL, *val = NULL;
    regnn_dataset_from_arrays(x, y, n, nx, 1, REGNN_COPY, &all);
    free(x);
    free(y);
    regnn_dataset_split_tail(all, 0.1, &train, &val);

    regnn_model *m = NULL;
    regnn_optimizer *o = NULL;
    regnn_fit_options *fo = NULL;
    regnn_history *h = NULL;
    regnn_model_create(nx, &m);
    for (int i = 0; i < 3; i++)
        regnn_model_add_dense(m, (size_t)width, REGNN_ACT_RELU, NULL);
    regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL);
    regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 7);
    regnn_optimizer_create(REGNN_OPTIM_ADAM, &o);
    regnn_fit_options_create(&fo);
    regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, epochs);
    regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, batch);
    epoch_ctx ctx = {rank, m, o, checkpoint};
    regnn_fit_options_set_callback(fo, on_epoch, &ctx);

    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    regnn_status st = regnn_mpi_fit(MPI_COMM_WORLD, m, o, train, val, fo, &h);
    double secs = MPI_Wtime() - t0;
    if (st != REGNN_OK && rank == 0)
        fprintf(stderr, "mpi_fit: %s\n", regnn_mpi_errmsg());
    if (st == REGNN_OK && rank == 0) {
        size_t nt = regnn_dataset_rows(train), steps = regnn_history_epochs(h) *
                                                     ((nt + (size_t)batch - 1) / (size_t)batch);
        printf("%zu params, %zu training rows, global batch %ld, %zu steps (%.2f ms each) on "
               "%d rank%s: %.2f s\n", regnn_model_param_count(m), nt, batch, steps,
               1e3 * secs / (double)steps, size, size == 1 ? "" : "s", secs);
    }
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(train);
    regnn_dataset_free(val);
    regnn_dataset_free(all);
    MPI_Finalize();
    return st == REGNN_OK ? 0 : 1;
}
