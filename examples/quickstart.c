/* SPDX-License-Identifier: MIT */
/* The README's example: learn y = 3x0 - 2x1 + 1 with a small MLP. */
#include <regnn.h>
#include <stdio.h>

#define CHECK(call) do { regnn_status s_ = (call); if (s_ != REGNN_OK) { \
    fprintf(stderr, "%s: %s\n", regnn_strerror(s_), regnn_errmsg()); return 1; } } while (0)

int main(void)
{
    float x[200 * 2], y[200];
    for (int i = 0; i < 200; i++) {
        x[2 * i] = (float)(i % 20) / 10.0f - 1.0f;
        x[2 * i + 1] = (float)(i / 20) / 5.0f - 1.0f;
        y[i] = 3.0f * x[2 * i] - 2.0f * x[2 * i + 1] + 1.0f;
    }
    regnn_dataset *ds; regnn_model *m; regnn_optimizer *adam;
    regnn_fit_options *opts; regnn_history *hist;
    CHECK(regnn_dataset_from_arrays(x, y, 200, 2, 1, REGNN_BORROW, &ds));
    CHECK(regnn_model_create(2, &m));
    CHECK(regnn_model_add_dense(m, 16, REGNN_ACT_RELU, NULL));
    CHECK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CHECK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, 1e-4)); /* Keras l2(1e-4) */
    CHECK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 42));
    CHECK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &adam));
    CHECK(regnn_optimizer_set_double(adam, REGNN_OPT_LEARNING_RATE, 0.01));
    CHECK(regnn_fit_options_create(&opts));
    CHECK(regnn_fit_options_set_int(opts, REGNN_FIT_EPOCHS, 200));
    CHECK(regnn_fit_options_set_double(opts, REGNN_FIT_VALIDATION_SPLIT, 0.2));
    CHECK(regnn_fit(m, adam, ds, NULL, opts, &hist));
    double val[200];
    CHECK(regnn_history_get(hist, REGNN_METRIC_VAL_MSE, val, 200));
    float q[2] = {0.5f, -0.5f}, pred;
    CHECK(regnn_model_predict(m, q, 1, &pred, 1));
    printf("val MSE %.5f after 200 epochs; f(0.5, -0.5) = %.3f (exact 3.5)\n", val[199], pred);
    regnn_history_free(hist); regnn_fit_options_free(opts); regnn_optimizer_free(adam);
    regnn_model_free(m); regnn_dataset_free(ds);
    return 0;
}
