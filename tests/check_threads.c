/* SPDX-License-Identifier: MIT */
/* The thread contract: independent handles train in parallel with the same
 * bits as alone, and many threads predict and evaluate on one shared model.
 * Built also under ThreadSanitizer (make tsan). */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

enum { ROWS = 120, FEAT = 4, T = 4, EPOCHS = 4 };

static float X[ROWS * FEAT], Y[ROWS];

static void make_data(void)
{
    for (size_t i = 0; i < ROWS; i++) {
        for (size_t k = 0; k < FEAT; k++)
            X[i * FEAT + k] = (float)sin(0.37 * (double)(i * FEAT + k));
        Y[i] = X[i * FEAT] * X[i * FEAT + 1] - 0.5f * X[i * FEAT + 2] + 0.1f;
    }
}

typedef struct {
    uint64_t seed;
    float params[1024];
    size_t np;
    double val_loss[EPOCHS];
    int status;
} train_job;

static void *train_thread(void *arg)
{
    train_job *j = arg;
    regnn_dataset *ds = NULL;
    regnn_model *m = NULL;
    regnn_optimizer *o = NULL;
    regnn_fit_options *fo = NULL;
    regnn_history *h = NULL;
    int st = regnn_dataset_from_arrays(X, Y, ROWS, FEAT, 1, REGNN_BORROW, &ds);
    if (!st)
        st = regnn_model_create(FEAT, &m);
    if (!st)
        st = regnn_model_add_dense(m, 16, REGNN_ACT_TANH, NULL);
    if (!st)
        st = regnn_model_add_dense(m, 16, REGNN_ACT_RELU, NULL);
    if (!st)
        st = regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL);
    if (!st)
        st = regnn_model_set_layers_double(m, REGNN_LAYER_L2, 1e-3);
    if (!st)
        st = regnn_layer_set_double(regnn_model_layer(m, 0), REGNN_LAYER_DROPOUT, 0.1);
    if (!st)
        st = regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, j->seed);
    if (!st)
        st = regnn_optimizer_create(REGNN_OPTIM_ADAM, &o);
    if (!st)
        st = regnn_fit_options_create(&fo);
    if (!st)
        st = regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, EPOCHS);
    if (!st)
        st = regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 16);
    if (!st)
        st = regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.2);
    if (!st)
        st = regnn_fit(m, o, ds, NULL, fo, &h);
    if (!st) {
        j->np = regnn_model_param_count(m);
        st = regnn_model_get_params(m, j->params, sizeof j->params / sizeof j->params[0]);
    }
    if (!st)
        st = regnn_history_get(h, REGNN_METRIC_VAL_LOSS, j->val_loss, EPOCHS);
    j->status = st;
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
    return NULL;
}

START_TEST(test_parallel_training_matches_serial)
{
    make_data();
    train_job serial[T], par[T];
    for (int t = 0; t < T; t++) {
        memset(&serial[t], 0, sizeof serial[t]);
        serial[t].seed = 100 + (uint64_t)t;
        par[t] = serial[t];
        train_thread(&serial[t]);
        ck_assert_int_eq(serial[t].status, REGNN_OK);
    }
    pthread_t th[T];
    for (int t = 0; t < T; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, train_thread, &par[t]), 0);
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        ck_assert_int_eq(par[t].status, REGNN_OK);
        ck_assert_uint_eq(par[t].np, serial[t].np);
        ck_assert_mem_eq(par[t].params, serial[t].params, serial[t].np * sizeof(float));
        ck_assert_mem_eq(par[t].val_loss, serial[t].val_loss, sizeof par[t].val_loss);
    }
    /* Different seeds really train different models. */
    ck_assert_int_ne(memcmp(serial[0].params, serial[1].params, serial[0].np * sizeof(float)), 0);
}
END_TEST

typedef struct {
    const regnn_model *m;
    const regnn_dataset *ds;
    float out[ROWS];
    double mse;
    int status;
} shared_job;

static void *shared_thread(void *arg)
{
    shared_job *j = arg;
    for (int it = 0; it < 25 && j->status == REGNN_OK; it++) {
        j->status = regnn_model_predict(j->m, X, ROWS, j->out, ROWS);
        if (j->status == REGNN_OK)
            j->status = regnn_model_evaluate(j->m, j->ds, &j->mse, NULL, NULL);
    }
    return NULL;
}

START_TEST(test_shared_model_concurrent_predict)
{
    make_data();
    regnn_dataset *ds = NULL;
    regnn_model *m = NULL;
    regnn_optimizer *o = NULL;
    CK_OK(regnn_dataset_from_arrays(X, Y, ROWS, FEAT, 1, REGNN_COPY, &ds));
    CK_OK(regnn_model_create(FEAT, &m));
    CK_OK(regnn_model_add_dense(m, 32, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 9));
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    CK_OK(regnn_fit(m, o, ds, NULL, NULL, NULL));
    float ref[ROWS];
    double ref_mse;
    CK_OK(regnn_model_predict(m, X, ROWS, ref, ROWS));
    CK_OK(regnn_model_evaluate(m, ds, &ref_mse, NULL, NULL));
    pthread_t th[T];
    shared_job jobs[T];
    for (int t = 0; t < T; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t].m = m;
        jobs[t].ds = ds;
        ck_assert_int_eq(pthread_create(&th[t], NULL, shared_thread, &jobs[t]), 0);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        ck_assert_int_eq(jobs[t].status, REGNN_OK);
        ck_assert_mem_eq(jobs[t].out, ref, sizeof ref);
        ck_assert(jobs[t].mse == ref_mse);
    }
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
}
END_TEST

static void *error_thread(void *arg)
{
    /* Each thread's failing call leaves its own message. */
    int *which = arg;
    regnn_model *m = NULL;
    char want[64];
    for (int it = 0; it < 200; it++) {
        if (*which) {
            regnn_model_create(0, &m);
            snprintf(want, sizeof want, "n_inputs");
        } else {
            regnn_optimizer_create(77, NULL);
            snprintf(want, sizeof want, "out is NULL");
        }
        if (!strstr(regnn_errmsg(), want))
            return (void *)1;
    }
    return NULL;
}

START_TEST(test_error_message_is_per_thread)
{
    pthread_t a, b;
    int wa = 0, wb = 1;
    void *ra, *rb;
    ck_assert_int_eq(pthread_create(&a, NULL, error_thread, &wa), 0);
    ck_assert_int_eq(pthread_create(&b, NULL, error_thread, &wb), 0);
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    ck_assert_ptr_null(ra);
    ck_assert_ptr_null(rb);
}
END_TEST

static Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_parallel_training_matches_serial);
    tcase_add_test(tc, test_shared_model_concurrent_predict);
    tcase_add_test(tc, test_error_message_is_per_thread);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(threads_suite)
