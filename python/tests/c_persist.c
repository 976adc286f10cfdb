/* SPDX-License-Identifier: MIT */
/* The C side of python/tests/test_persistence.py: writes model files and
 * checkpoints for the Python binding to read, and reads the ones it wrote.
 *
 *   c_persist save MODEL CKPT   build, train and save (the test repeats it in Python)
 *   c_persist load MODEL CKPT   print raw-unit predictions of MODEL, then resume CKPT
 *                               for one batch and print the parameters
 *
 * Values are printed in hex-float form ("%a") so the test compares bits.
 * Built by the test itself against the library the test loads.
 */
#include <regnn.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 64
#define NX 4

static void die(regnn_status st, const char *what)
{
    fprintf(stderr, "c_persist: %s: %s (%s)\n", what, regnn_strerror(st), regnn_errmsg());
    exit(1);
}

#define OK(call)                      \
    do {                              \
        regnn_status st_ = (call);    \
        if (st_ != REGNN_OK)          \
            die(st_, #call);          \
    } while (0)

static float X[ROWS * NX], Y[ROWS], XS[ROWS * NX], P[ROWS], R[ROWS];

/* Same dyadic data as c_reference.c and _support.make_data, y scaled to other units. */
static void make_data(void)
{
    for (int i = 0; i < ROWS; i++) {
        for (int j = 0; j < NX; j++)
            X[i * NX + j] = (float)((37 * i + 11 * j) % 64) / 32.0f - 1.0f;
        const float *r = X + i * NX;
        Y[i] = 100.0f * (r[0] - r[1] / 2.0f + r[2] * r[3] / 4.0f) + 50.0f;
    }
}

static void put(const char *name, const float *v, size_t n)
{
    printf("%s", name);
    for (size_t i = 0; i < n; i++)
        printf(" %a", (double)v[i]);
    printf("\n");
}

/* Predictions in raw units through the attached scaler. */
static void raw_predictions(const regnn_model *m)
{
    regnn_scaler *sc;
    OK(regnn_model_get_scaler(m, &sc));
    OK(regnn_scaler_transform_features(sc, X, XS, ROWS));
    OK(regnn_model_predict(m, XS, ROWS, P, ROWS));
    OK(regnn_scaler_inverse_targets(sc, P, R, ROWS));
    regnn_scaler_free(sc);
    put("pred", R, ROWS);
}

static void put_params(const char *name, const regnn_model *m)
{
    size_t n = regnn_model_param_count(m);
    float *p = malloc(n * sizeof *p);
    if (!p)
        exit(1);
    OK(regnn_model_get_params(m, p, n));
    put(name, p, n);
    free(p);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: c_persist save|load MODEL CKPT\n");
        return 2;
    }
    make_data();
    regnn_dataset *raw, *scaled;
    regnn_scaler *sc;
    OK(regnn_dataset_from_arrays(X, Y, ROWS, NX, 1, REGNN_COPY, &raw));
    OK(regnn_scaler_fit(raw, REGNN_SCALE_ZSCORE, REGNN_SCALE_ZSCORE, &sc));
    OK(regnn_scaler_transform(sc, raw, &scaled));
    static float sx[ROWS * NX], sy[ROWS];
    OK(regnn_dataset_get_features(scaled, sx, ROWS * NX));
    OK(regnn_dataset_get_targets(scaled, sy, ROWS));
    double loss;
    if (strcmp(argv[1], "save") == 0) {
        regnn_model *m;
        regnn_layer *l;
        regnn_optimizer *o;
        OK(regnn_model_create(NX, &m));
        OK(regnn_model_add_dense(m, 8, REGNN_ACT_RELU, &l));
        OK(regnn_layer_set_double(l, REGNN_LAYER_L2, 1e-3));
        OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, &l));
        OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 7));
        OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
        OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.01));
        for (int k = 0; k < 3; k++)
            OK(regnn_train_batch(m, o, sx, sy, ROWS, &loss));
        OK(regnn_model_attach_scaler(m, sc));
        OK(regnn_model_save(m, argv[2]));
        OK(regnn_checkpoint_save(m, o, argv[3]));
        raw_predictions(m);
        regnn_optimizer_free(o);
        regnn_model_free(m);
    } else {
        regnn_model *m, *cm;
        regnn_optimizer *o;
        OK(regnn_model_load(argv[2], &m));
        raw_predictions(m);
        OK(regnn_checkpoint_load(argv[3], &cm, &o));
        OK(regnn_train_batch(cm, o, sx, sy, ROWS, &loss));
        put_params("resumed", cm);
        regnn_optimizer_free(o);
        regnn_model_free(cm);
        regnn_model_free(m);
    }
    regnn_scaler_free(sc);
    regnn_dataset_free(scaled);
    regnn_dataset_free(raw);
    return 0;
}
