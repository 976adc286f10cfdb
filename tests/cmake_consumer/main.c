/* SPDX-License-Identifier: MIT */
/* Trains a small network through regnn::regnn and checks what it gets back. */
#include <regnn.h>
#include <stdio.h>
#include <string.h>

#define CHECK(call) do { regnn_status s_ = (call); if (s_ != REGNN_OK) { \
    fprintf(stderr, "%s: %s\n", regnn_strerror(s_), regnn_errmsg()); return 1; } } while (0)

int main(void)
{
    if (regnn_abi_version() != REGNN_ABI_VERSION ||
        strcmp(regnn_version_string(), REGNN_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s does not match library %s\n", REGNN_VERSION_STRING,
                regnn_version_string());
        return 1;
    }
    float x[64], y[64];
    for (int i = 0; i < 64; i++) {
        x[i] = (float)i / 32.0f - 1.0f;
        y[i] = 2.0f * x[i] - 0.5f;
    }
    regnn_dataset *ds; regnn_model *m; regnn_optimizer *adam;
    regnn_fit_options *opts; regnn_history *hist;
    CHECK(regnn_dataset_from_arrays(x, y, 64, 1, 1, REGNN_BORROW, &ds));
    CHECK(regnn_model_create(1, &m));
    CHECK(regnn_model_add_dense(m, 8, REGNN_ACT_RELU, NULL));
    CHECK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CHECK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 7));
    CHECK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &adam));
    CHECK(regnn_optimizer_set_double(adam, REGNN_OPT_LEARNING_RATE, 0.02));
    CHECK(regnn_fit_options_create(&opts));
    CHECK(regnn_fit_options_set_int(opts, REGNN_FIT_EPOCHS, 150));
    CHECK(regnn_fit(m, adam, ds, NULL, opts, &hist));
    double loss[150];
    CHECK(regnn_history_get(hist, REGNN_METRIC_TRAIN_MSE, loss, 150));
    /* A refused call must come back as a status, not a crash. */
    regnn_model *bad = NULL;
    if (regnn_model_create(0, &bad) == REGNN_OK || bad != NULL) {
        fprintf(stderr, "regnn_model_create(0) was accepted\n");
        return 1;
    }
    printf("consumer via %s: libregnn %s, %s GEMM, loss %.9g -> %.9g\n", HOW,
           regnn_version_string(), regnn_blas_name(), loss[0], loss[149]);
    int ok = loss[149] < 0.1 * loss[0];
    regnn_history_free(hist); regnn_fit_options_free(opts); regnn_optimizer_free(adam);
    regnn_model_free(m); regnn_dataset_free(ds);
    if (!ok) {
        fprintf(stderr, "training did not reduce the loss tenfold\n");
        return 1;
    }
    return 0;
}
