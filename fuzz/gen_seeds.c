/* SPDX-License-Identifier: MIT */
/* Writes the seed model files and checkpoints of the fuzz corpora into the
 * folder given, or with --path the seed path results (make fuzz-seeds).
 * Small models and sweeps, so mutations stay cheap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "regnn.h"

static int failed = 0;

static void ok(regnn_status st, const char *what)
{
    if (st != REGNN_OK) {
        fprintf(stderr, "gen_seeds: %s: %s\n", what, regnn_errmsg());
        failed = 1;
    }
}

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        perror(path);
        failed = 1;
    }
    if (f)
        fclose(f);
}

static void save(const char *dir, const char *name, const regnn_model *m, const regnn_optimizer *o)
{
    size_t n = 0;
    ok(o ? regnn_checkpoint_save_mem(m, o, NULL, 0, &n) : regnn_model_save_mem(m, NULL, 0, &n),
       name);
    uint8_t *b = malloc(n + 32);
    if (!b)
        return;
    ok(o ? regnn_checkpoint_save_mem(m, o, b, n, &n) : regnn_model_save_mem(m, b, n, &n), name);
    write_file(dir, name, b, n);
    if (!o) {
        /* the same model with an unknown optional section, and as version 1.1 */
        static const uint8_t extra[20] = {'X', 'T', 'R', 'A', 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
        char name2[256];
        memmove(b + 20 + sizeof extra, b + 20, n - 20);
        memcpy(b + 20, extra, sizeof extra);
        b[10] = 1;
        fuzz_fix_model(b, n + sizeof extra);
        snprintf(name2, sizeof name2, "v1.1-extra-%s", name);
        write_file(dir, name2, b, n + sizeof extra);
    }
    free(b);
}

static regnn_model *model(size_t n_in, const size_t *units, const int *acts, size_t layers,
                          double l2, double l1, double dropout, uint64_t seed)
{
    regnn_model *m = NULL;
    ok(regnn_model_create(n_in, &m), "create");
    for (size_t i = 0; i < layers; i++)
        ok(regnn_model_add_dense(m, units[i], acts[i], NULL), "add_dense");
    ok(regnn_model_set_layers_double(m, REGNN_LAYER_L2, l2), "l2");
    ok(regnn_model_set_layers_double(m, REGNN_LAYER_L1, l1), "l1");
    ok(regnn_model_set_layers_double(m, REGNN_LAYER_DROPOUT, dropout), "dropout");
    ok(regnn_model_init(m, REGNN_INIT_HE_UNIFORM, seed), "init");
    return m;
}

static void save_path(const char *dir, const char *name, const regnn_path *p)
{
    size_t n = 0;
    ok(regnn_path_save_mem(p, NULL, 0, &n), name);
    uint8_t *b = malloc(n);
    if (!b)
        return;
    ok(regnn_path_save_mem(p, b, n, &n), name);
    write_file(dir, name, b, n);
    free(b);
}

static void put_le(uint8_t *b, size_t *at, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        b[(*at)++] = (uint8_t)(v >> (8 * i));
}

/* One run of a sweep of 2^20 runs (shard 0 of 2^20): a small file that
 * declares a huge sweep. */
static void huge_sweep_seed(const char *dir)
{
    uint8_t b[181];
    size_t at = 0;
    memcpy(b, "RGNNPATH", 8);
    at = 8;
    put_le(b, &at, 1, 4);  /* version */
    put_le(b, &at, 12, 4); /* values per run */
    put_le(b, &at, 10, 4); /* metrics */
    put_le(b, &at, 0, 4);
    put_le(b, &at, 1, 8);                  /* lambdas */
    put_le(b, &at, (uint64_t)1 << 20, 8);  /* seeds */
    put_le(b, &at, 7, 8);                  /* seed */
    put_le(b, &at, 0, 8);                  /* shard index */
    put_le(b, &at, (uint64_t)1 << 20, 8);  /* shard count */
    put_le(b, &at, 0x3ff0000000000000, 8); /* baseline 1.0 */
    put_le(b, &at, 0, 8);                  /* lambda 0.0 */
    for (int k = 0; k < 12; k++)
        put_le(b, &at, 0, 8);
    b[at++] = 0; /* no history */
    fuzz_fix_crc(b, at + 4);
    write_file(dir, "huge-sweep-one-run.rgp", b, sizeof b);
}

/* Path results of a tiny sweep: whole, and shards of it. */
static int path_seeds(const char *dir)
{
    static const float x[16] = {0, 1, 1, 0, 2, 1, 1, 2, 3, 0, 0, 3, 2, 2, 1, 3},
                       y[8] = {1, 1, 3, 3, 3, 3, 4, 4};
    static const double lambdas[2] = {0.0, 0.01};
    regnn_dataset *ds = NULL;
    regnn_model *m = NULL;
    regnn_fit_options *fo = NULL;
    regnn_path_options *po = NULL;
    ok(regnn_dataset_from_arrays(x, y, 8, 2, 1, REGNN_COPY, &ds), "dataset");
    ok(regnn_model_create(2, &m), "create");
    ok(regnn_model_add_dense(m, 3, REGNN_ACT_RELU, NULL), "add_dense");
    ok(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL), "add_dense");
    ok(regnn_fit_options_create(&fo), "fit options");
    ok(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 3), "epochs");
    ok(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 4), "batch");
    ok(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.25), "split");
    ok(regnn_path_options_create(&po), "path options");
    ok(regnn_path_options_set_lambdas(po, lambdas, 2), "lambdas");
    ok(regnn_path_options_set_int(po, REGNN_PATH_SEEDS, 2), "seeds");
    ok(regnn_path_options_set_int(po, REGNN_PATH_THREADS, 1), "threads");
    static const int shards[3][2] = {{0, 1}, {0, 2}, {2, 3}};
    for (int i = 0; i < 3 && !failed; i++) {
        char name[64];
        regnn_path *p = NULL;
        ok(regnn_path_options_set_int(po, REGNN_PATH_SHARD_INDEX, shards[i][0]), "shard");
        ok(regnn_path_options_set_int(po, REGNN_PATH_SHARD_COUNT, shards[i][1]), "shards");
        ok(regnn_regularization_path(m, NULL, ds, NULL, fo, po, &p), "path");
        snprintf(name, sizeof name, "shard-%d-of-%d.rgp", shards[i][0], shards[i][1]);
        if (p)
            save_path(dir, name, p);
        regnn_path_free(p);
    }
    huge_sweep_seed(dir);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_model_free(m);
    regnn_dataset_free(ds);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--path") == 0)
        return path_seeds(argv[2]);
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR | --path DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    static const size_t u1[1] = {1}, u3[3] = {3, 2, 1}, u2[2] = {4, 2};
    static const int a1[1] = {REGNN_ACT_LINEAR},
                     a3[3] = {REGNN_ACT_RELU, REGNN_ACT_SIGMOID, REGNN_ACT_TANH},
                     a2[2] = {REGNN_ACT_TANH, REGNN_ACT_LINEAR};
    static const float x[8] = {0, 1, 2, 3, 4, 5, 6, 7}, y[8] = {1, 0, 2, 1, 3, 2, 4, 3};

    regnn_model *lin = model(1, u1, a1, 1, 0.0, 0.0, 0.0, 1);
    regnn_model *deep = model(2, u3, a3, 3, 0.01, 0.001, 0.0, 2);
    regnn_model *reg = model(2, u2, a2, 2, 0.1, 0.0, 0.5, 3);
    save(dir, "linear.rgn", lin, NULL);
    save(dir, "deep.rgn", deep, NULL);

    /* with standardization statistics */
    regnn_dataset *ds = NULL;
    regnn_scaler *sc = NULL;
    ok(regnn_dataset_from_arrays(x, y, 4, 2, 2, REGNN_COPY, &ds), "dataset");
    ok(regnn_scaler_fit(ds, REGNN_SCALE_ZSCORE, REGNN_SCALE_UNIT_NORM, &sc), "scaler");
    ok(regnn_model_attach_scaler(reg, sc), "attach");
    save(dir, "scaled.rgn", reg, NULL);

    /* checkpoints: unbound SGD, trained Adam, trained SGD with Nesterov momentum */
    regnn_optimizer *sgd = NULL, *adam = NULL, *nest = NULL;
    ok(regnn_optimizer_create(REGNN_OPTIM_SGD, &sgd), "sgd");
    save(dir, "ckpt-unbound.rgn", lin, sgd);
    ok(regnn_optimizer_create(REGNN_OPTIM_ADAM, &adam), "adam");
    ok(regnn_optimizer_set_double(adam, REGNN_OPT_WEIGHT_DECAY, 0.01), "wd");
    ok(regnn_train_batch(reg, adam, x, y, 4, NULL), "train adam");
    save(dir, "ckpt-adam.rgn", reg, adam);
    ok(regnn_optimizer_create(REGNN_OPTIM_SGD, &nest), "sgd");
    ok(regnn_optimizer_set_double(nest, REGNN_OPT_MOMENTUM, 0.9), "momentum");
    ok(regnn_optimizer_set_double(nest, REGNN_OPT_NESTEROV, 1), "nesterov");
    ok(regnn_train_batch(deep, nest, x, y, 4, NULL), "train sgd");
    ok(regnn_train_batch(deep, nest, x, y, 4, NULL), "train sgd");
    save(dir, "ckpt-sgd.rgn", deep, nest);

    regnn_optimizer_free(sgd);
    regnn_optimizer_free(adam);
    regnn_optimizer_free(nest);
    regnn_scaler_free(sc);
    regnn_dataset_free(ds);
    regnn_model_free(lin);
    regnn_model_free(deep);
    regnn_model_free(reg);
    return failed;
}
