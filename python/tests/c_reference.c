/* SPDX-License-Identifier: MIT */
/* Reference results of the C API for python/tests/test_reference.py.
 *
 * Runs fixed, seeded computations and prints every result as "name v1 v2 ..."
 * with each float/double in C99 hex-float form ("%a": exact), so the Python
 * binding's results for the same calls can be compared bit for bit.
 * Built by mk/python.mk against lib/libregnn.so (-lregnn), as a user would.
 */
#include <regnn.h>

#include <stdio.h>
#include <stdlib.h>

#define ROWS 64
#define NX 4

static void die(regnn_status st, const char *what)
{
    fprintf(stderr, "c_reference: %s: %s (%s)\n", what, regnn_strerror(st), regnn_errmsg());
    exit(1);
}

#define OK(call)                      \
    do {                              \
        regnn_status st_ = (call);    \
        if (st_ != REGNN_OK)          \
            die(st_, #call);          \
    } while (0)

static void put_floats(const char *name, const float *v, size_t n)
{
    printf("%s", name);
    for (size_t i = 0; i < n; i++)
        printf(" %a", (double)v[i]);
    printf("\n");
}

static void put_doubles(const char *name, const double *v, size_t n)
{
    printf("%s", name);
    for (size_t i = 0; i < n; i++)
        printf(" %a", v[i]);
    printf("\n");
}

static void put_params(const char *name, const regnn_model *m)
{
    size_t n = regnn_model_param_count(m);
    float *p = malloc(n * sizeof *p);
    if (!p)
        exit(1);
    OK(regnn_model_get_params(m, p, n));
    put_floats(name, p, n);
    free(p);
}

/* Dyadic values, exact in float and double alike: the Python test builds the
 * same numbers. x[i][j] = ((37 i + 11 j) mod 64) / 32 - 1,
 * y[i] = x0 - x1 / 2 + x2 x3 / 4. */
static void make_data(float *x, float *y)
{
    for (int i = 0; i < ROWS; i++) {
        for (int j = 0; j < NX; j++)
            x[i * NX + j] = (float)((37 * i + 11 * j) % 64) / 32.0f - 1.0f;
        const float *r = x + i * NX;
        y[i] = r[0] - r[1] / 2.0f + r[2] * r[3] / 4.0f;
    }
}

static void history(const char *prefix, const regnn_history *h)
{
    static const struct { int metric; const char *name; } ms[] = {
        {REGNN_METRIC_TRAIN_LOSS, "loss"},       {REGNN_METRIC_TRAIN_MSE, "mse"},
        {REGNN_METRIC_TRAIN_PENALTY, "penalty"}, {REGNN_METRIC_TRAIN_MAE, "mae"},
        {REGNN_METRIC_VAL_LOSS, "val_loss"},     {REGNN_METRIC_VAL_MSE, "val_mse"},
        {REGNN_METRIC_VAL_MAE, "val_mae"},       {REGNN_METRIC_TRAIN_EVAL_MSE, "train_eval_mse"},
    };
    size_t n = regnn_history_epochs(h);
    double v[64];
    if (n > 64)
        exit(1);
    for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
        char name[64];
        OK(regnn_history_get(h, ms[k].metric, v, n));
        snprintf(name, sizeof name, "%s.%s", prefix, ms[k].name);
        put_doubles(name, v, n);
    }
    size_t best = 0;
    OK(regnn_history_best_epoch(h, &best));
    printf("%s.best_epoch %zu\n%s.stop_reason %d\n", prefix, best, prefix,
           regnn_history_stop_reason(h));
}

int main(void)
{
    float x[ROWS * NX], y[ROWS];
    make_data(x, y);
    regnn_dataset *ds = NULL;
    OK(regnn_dataset_from_arrays(x, y, ROWS, NX, 1, REGNN_COPY, &ds));

    /* 1. Adam, fit with a validation split, dropout, L1 and L2, shuffling. */
    regnn_model *m = NULL;
    regnn_layer *l0 = NULL, *l1 = NULL;
    OK(regnn_model_create(NX, &m));
    OK(regnn_model_add_dense(m, 8, REGNN_ACT_RELU, &l0));
    OK(regnn_model_add_dense(m, 6, REGNN_ACT_TANH, &l1));
    OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    OK(regnn_layer_set_double(l0, REGNN_LAYER_L2, 1e-3));
    OK(regnn_layer_set_double(l1, REGNN_LAYER_L1, 1e-4));
    OK(regnn_layer_set_double(l1, REGNN_LAYER_DROPOUT, 0.25));
    OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 1234));
    put_params("adam.init", m);
    regnn_optimizer *adam = NULL;
    OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &adam));
    OK(regnn_optimizer_set_double(adam, REGNN_OPT_LEARNING_RATE, 0.01));
    regnn_fit_options *fo = NULL;
    OK(regnn_fit_options_create(&fo));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 6));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 10));
    OK(regnn_fit_options_set_int(fo, REGNN_FIT_EVAL_TRAIN, 1));
    OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.25));
    regnn_history *h = NULL;
    OK(regnn_fit(m, adam, ds, NULL, fo, &h));
    put_params("adam.params", m);
    history("adam", h);
    printf("adam.steps %llu\n", (unsigned long long)regnn_optimizer_steps(adam));
    size_t ns = regnn_optimizer_state_size(adam);
    float *st = malloc(ns * sizeof *st);
    if (!st)
        return 1;
    OK(regnn_optimizer_get_state(adam, REGNN_STATE_V, st, ns));
    put_floats("adam.state_v", st, ns);
    free(st);
    float pred[5];
    OK(regnn_model_predict(m, x, 5, pred, 5));
    put_floats("adam.predict", pred, 5);
    double ev[3];
    OK(regnn_model_evaluate(m, ds, &ev[0], &ev[1], &ev[2]));
    put_doubles("adam.evaluate", ev, 3);
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(adam);
    regnn_model_free(m);

    /* 2. SGD with Nesterov momentum, He init, three train_batch steps. */
    OK(regnn_model_create(NX, &m));
    OK(regnn_model_add_dense(m, 5, REGNN_ACT_SIGMOID, NULL));
    OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, 0.01));
    OK(regnn_model_init(m, REGNN_INIT_HE_UNIFORM, 7));
    regnn_optimizer *sgd = NULL;
    OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &sgd));
    OK(regnn_optimizer_set_double(sgd, REGNN_OPT_LEARNING_RATE, 0.05));
    OK(regnn_optimizer_set_double(sgd, REGNN_OPT_MOMENTUM, 0.9));
    OK(regnn_optimizer_set_double(sgd, REGNN_OPT_NESTEROV, 1));
    double losses[3];
    for (int b = 0; b < 3; b++)
        OK(regnn_train_batch(m, sgd, x + b * 16 * NX, y + b * 16, 16, &losses[b]));
    put_doubles("sgd.losses", losses, 3);
    put_params("sgd.params", m);
    regnn_optimizer_free(sgd);
    regnn_model_free(m);

    /* 3. Splits and standardization. */
    regnn_dataset *tr = NULL, *te = NULL, *scaled = NULL;
    OK(regnn_dataset_split_shuffled(ds, 0.25, 99, &tr, &te));
    float tx[ROWS * NX], ty[ROWS];
    OK(regnn_dataset_get_features(te, tx, ROWS * NX));
    put_floats("split.test_x", tx, regnn_dataset_rows(te) * NX);
    OK(regnn_dataset_get_targets(tr, ty, ROWS));
    put_floats("split.train_y", ty, regnn_dataset_rows(tr));
    regnn_scaler *sc = NULL;
    OK(regnn_scaler_fit(ds, REGNN_SCALE_UNIT_NORM, REGNN_SCALE_ZSCORE, &sc));
    double stat[NX];
    OK(regnn_scaler_get(sc, REGNN_STAT_FEATURE_SCALE, stat, NX));
    put_doubles("scaler.feature_scale", stat, NX);
    OK(regnn_scaler_get(sc, REGNN_STAT_TARGET_MEAN, stat, 1));
    put_doubles("scaler.target_mean", stat, 1);
    OK(regnn_scaler_transform(sc, ds, &scaled));
    OK(regnn_dataset_get_features(scaled, tx, ROWS * NX));
    put_floats("scaler.x", tx, ROWS * NX);
    OK(regnn_dataset_get_targets(scaled, ty, ROWS));
    put_floats("scaler.y", ty, ROWS);
    regnn_dataset_free(scaled);
    regnn_scaler_free(sc);
    regnn_dataset_free(tr);
    regnn_dataset_free(te);
    regnn_dataset_free(ds);
    return 0;
}
