/* SPDX-License-Identifier: MIT */
/* Training: train_batch, fit, history, early stopping, callbacks,
 * determinism, zero allocations per step, and failures. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include "testutil.h"
#include "model/model_impl.h" /* the model's fields, which this test reads or breaks */

#include "dp_emulate.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

/* y = sin(x0) + 0.5 x1^2 - x2, a smooth target a small MLP learns well. */
static regnn_dataset *synth(size_t rows, uint64_t seed)
{
    float *x = malloc(rows * 3 * sizeof *x), *y = malloc(rows * sizeof *y);
    rg_rng r;
    rg_rng_seed(&r, seed);
    for (size_t i = 0; i < rows; i++) {
        for (int k = 0; k < 3; k++)
            x[i * 3 + k] = (float)(2 * rg_rng_uniform(&r) - 1);
        y[i] = (float)(sin(2 * x[i * 3]) + 0.5 * x[i * 3 + 1] * x[i * 3 + 1] - x[i * 3 + 2]);
    }
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, rows, 3, 1, REGNN_COPY, &ds));
    free(x);
    free(y);
    return ds;
}

static regnn_model *net(size_t width, size_t depth, double l2, uint64_t seed)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    for (size_t i = 0; i < depth; i++)
        CK_OK(regnn_model_add_dense(m, width, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, l2));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    return m;
}

static regnn_fit_options *opts(int64_t epochs, int64_t batch)
{
    regnn_fit_options *o = NULL;
    CK_OK(regnn_fit_options_create(&o));
    CK_OK(regnn_fit_options_set_int(o, REGNN_FIT_EPOCHS, epochs));
    CK_OK(regnn_fit_options_set_int(o, REGNN_FIT_BATCH_SIZE, batch));
    return o;
}

START_TEST(test_learns_regression)
{
    regnn_dataset *tr = synth(512, 1), *te = synth(256, 2);
    regnn_model *m = net(32, 2, 0.0, 3);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.01));
    double before;
    CK_OK(regnn_model_evaluate(m, te, &before, NULL, NULL));
    regnn_fit_options *fo = opts(150, 32);
    regnn_history *h = NULL;
    CK_OK(regnn_fit(m, o, tr, NULL, fo, &h));
    double after;
    CK_OK(regnn_model_evaluate(m, te, &after, NULL, NULL));
    ck_assert_msg(after < 0.02 && after < before / 20, "test mse %g -> %g", before, after);
    ck_assert_uint_eq(regnn_history_epochs(h), 150);
    ck_assert_int_eq(regnn_history_stop_reason(h), REGNN_STOP_COMPLETED);
    /* 512 rows / 32 = 16 steps per epoch. */
    ck_assert_uint_eq(regnn_optimizer_steps(o), 150 * 16);
    double loss[150], vl[150];
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, loss, 150));
    ck_assert(loss[149] < loss[0] / 10);
    CK_OK(regnn_history_get(h, REGNN_METRIC_VAL_LOSS, vl, 150));
    ck_assert(isnan(vl[0])); /* no validation data: NaN */
    CK_STATUS(regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, loss, 149), REGNN_E_SHAPE);
    CK_STATUS(regnn_history_get(h, 0, loss, 150), REGNN_E_UNSUPPORTED);
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(tr);
    regnn_dataset_free(te);
}
END_TEST

START_TEST(test_history_semantics)
{
    /* loss = mse + penalty (running means); val_loss = val mse + penalty at the end
     * of the epoch; validation = the last floor-split rows. */
    regnn_dataset *ds = synth(100, 4);
    regnn_model *m = net(8, 1, 0.01, 5);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    regnn_fit_options *fo = opts(3, 16);
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.2));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EVAL_TRAIN, 1));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(m, o, ds, NULL, fo, &h));
    /* 80 training rows, batch 16: 5 steps per epoch. */
    ck_assert_uint_eq(regnn_optimizer_steps(o), 15);
    double loss[3], mse[3], pen[3], vl[3], vm[3], sec[3], te[3];
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, loss, 3));
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_MSE, mse, 3));
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_PENALTY, pen, 3));
    CK_OK(regnn_history_get(h, REGNN_METRIC_VAL_LOSS, vl, 3));
    CK_OK(regnn_history_get(h, REGNN_METRIC_VAL_MSE, vm, 3));
    CK_OK(regnn_history_get(h, REGNN_METRIC_SECONDS, sec, 3));
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_EVAL_MSE, te, 3));
    for (int e = 0; e < 3; e++) {
        ck_assert_double_eq_tol(loss[e], mse[e] + pen[e], 1e-12);
        ck_assert(pen[e] > 0);
        ck_assert(sec[e] >= 0);
        ck_assert(isfinite(te[e]));
    }
    /* The final epoch's validation numbers are those of the final weights on rows 80..99. */
    size_t rows[20];
    for (int i = 0; i < 20; i++)
        rows[i] = 80 + (size_t)i;
    regnn_dataset *tail = NULL;
    CK_OK(regnn_dataset_select(ds, rows, 20, &tail));
    double emse, epen;
    CK_OK(regnn_model_evaluate(m, tail, &emse, NULL, &epen));
    ck_assert_double_eq_tol(vm[2], emse, 1e-9);
    ck_assert_double_eq_tol(vl[2], emse + epen, 1e-9);
    size_t first80[80];
    for (int i = 0; i < 80; i++)
        first80[i] = (size_t)i;
    regnn_dataset *head = NULL;
    CK_OK(regnn_dataset_select(ds, first80, 80, &head));
    CK_OK(regnn_model_evaluate(m, head, &emse, NULL, NULL));
    ck_assert_double_eq_tol(te[2], emse, 1e-9);

    char path[] = "/tmp/regnn_histXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    CK_OK(regnn_history_write_csv(h, path));
    FILE *f = fopen(path, "r");
    char line[512];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "epoch,loss,mse,penalty,mae,val_loss,val_mse,val_mae,seconds,train_eval_mse,"
                           "learning_rate\n");
    int count = 0;
    double first_loss = 0;
    while (fgets(line, sizeof line, f)) {
        if (count == 0)
            ck_assert_int_eq(sscanf(line, "1,%lf", &first_loss), 1);
        count++;
    }
    fclose(f);
    unlink(path);
    ck_assert_int_eq(count, 3);
    ck_assert_double_eq_tol(first_loss, loss[0], 1e-6 * loss[0]);
    CK_STATUS(regnn_history_write_csv(h, "/nonexistent-dir/x.csv"), REGNN_E_IO);
    CK_STATUS(regnn_history_write_csv(h, ""), REGNN_E_INVALID_ARG);
    ck_assert_str_eq(regnn_errmsg(), "regnn_history_write_csv: path is empty");
    regnn_history_free(h);
    regnn_dataset_free(head);
    regnn_dataset_free(tail);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
}
END_TEST

static void run_once(uint64_t seed, float *params, size_t np, double *loss, size_t epochs)
{
    regnn_dataset *ds = synth(200, 6);
    regnn_model *m = net(16, 2, 1e-3, seed);
    regnn_layer *l = regnn_model_layer(m, 0);
    CK_OK(regnn_layer_set_double(l, REGNN_LAYER_DROPOUT, 0.2));
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    regnn_fit_options *fo = opts((int64_t)epochs, 24);
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.15));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(m, o, ds, NULL, fo, &h));
    CK_OK(regnn_model_get_params(m, params, np));
    CK_OK(regnn_history_get(h, REGNN_METRIC_VAL_LOSS, loss, epochs));
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
}

START_TEST(test_determinism)
{
    enum { E = 5 };
    size_t np = 3 * 16 + 16 + 16 * 16 + 16 + 16 + 1;
    float *a = malloc(np * sizeof *a), *b = malloc(np * sizeof *b), *c = malloc(np * sizeof *c);
    double la[E], lb[E], lc[E];
    run_once(77, a, np, la, E);
    run_once(77, b, np, lb, E);
    run_once(78, c, np, lc, E);
    ck_assert_mem_eq(a, b, np * sizeof *a);
    ck_assert_mem_eq(la, lb, sizeof la);
    ck_assert_int_ne(memcmp(a, c, np * sizeof *a), 0);
    free(a);
    free(b);
    free(c);
}
END_TEST

START_TEST(test_shuffle_off_and_partial_batch)
{
    /* 10 rows, batch 4: batches of 4, 4, 2 -> 3 steps per epoch. With shuffling
     * off, fit equals the same train_batch calls made by hand. */
    regnn_dataset *ds = synth(10, 8);
    regnn_model *a = net(4, 1, 0.0, 9), *b = NULL;
    CK_OK(regnn_model_copy(a, &b));
    regnn_optimizer *oa = NULL, *ob = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &oa));
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &ob));
    regnn_fit_options *fo = opts(2, 4);
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_SHUFFLE, 0));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(a, oa, ds, NULL, fo, &h));
    ck_assert_uint_eq(regnn_optimizer_steps(oa), 6);
    float x[30], y[10];
    CK_OK(regnn_dataset_get_features(ds, x, 30));
    CK_OK(regnn_dataset_get_targets(ds, y, 10));
    double l[3], first_epoch = 0;
    for (int e = 0; e < 2; e++)
        for (int s = 0; s < 3; s++) {
            size_t r0 = (size_t)s * 4, nr = s < 2 ? 4 : 2;
            CK_OK(regnn_train_batch(b, ob, x + r0 * 3, y + r0, nr, &l[s]));
            if (e == 0)
                first_epoch += l[s] * (double)nr;
        }
    float pa[64], pb[64];
    size_t np = regnn_model_param_count(a);
    CK_OK(regnn_model_get_params(a, pa, np));
    CK_OK(regnn_model_get_params(b, pb, np));
    ck_assert_mem_eq(pa, pb, np * sizeof(float));
    double loss[2];
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, loss, 2));
    ck_assert_double_eq_tol(loss[0], first_epoch / 10.0, 1e-9); /* weighted by batch rows */
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(oa);
    regnn_optimizer_free(ob);
    regnn_model_free(a);
    regnn_model_free(b);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_early_stopping_and_restore)
{
    /* Big net on 40 noisy-free rows, validation on different data: validation
     * loss stops improving at some point; patience 2 stops training after two
     * non-improving epochs and restore-best puts back the best epoch's weights. */
    regnn_dataset *tr = synth(40, 10), *va = synth(40, 11);
    regnn_model *m = net(64, 3, 0.0, 12);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.02));
    regnn_fit_options *fo = opts(500, 8);
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EARLY_STOPPING, 1));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_PATIENCE, 2));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_RESTORE_BEST, 1));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(m, o, tr, va, fo, &h));
    size_t n = regnn_history_epochs(h), best;
    ck_assert_int_eq(regnn_history_stop_reason(h), REGNN_STOP_EARLY);
    ck_assert_uint_lt(n, 500);
    CK_OK(regnn_history_best_epoch(h, &best));
    ck_assert_uint_eq(best, n - 3); /* two epochs after the best, training stopped */
    double *vl = malloc(n * sizeof *vl);
    CK_OK(regnn_history_get(h, REGNN_METRIC_VAL_LOSS, vl, n));
    for (size_t e = 0; e < n; e++)
        ck_assert(vl[e] >= vl[best]);
    double now;
    CK_OK(regnn_model_evaluate(m, va, &now, NULL, NULL));
    ck_assert_double_eq_tol(now, vl[best], 1e-9); /* best weights restored */
    free(vl);
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
}
END_TEST

typedef struct {
    size_t calls, stop_at;
    size_t seen_epochs;
} cb_state;

static int on_epoch(void *user, const regnn_history *h, size_t epoch)
{
    cb_state *s = user;
    s->calls++;
    s->seen_epochs = regnn_history_epochs(h);
    ck_assert_uint_eq(s->seen_epochs, epoch + 1);
    return epoch + 1 == s->stop_at;
}

START_TEST(test_callback_stops)
{
    regnn_dataset *ds = synth(64, 13);
    regnn_model *m = net(8, 1, 0.0, 14);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &o));
    regnn_fit_options *fo = opts(50, 16);
    cb_state s = {0, 7, 0};
    CK_OK(regnn_fit_options_set_callback(fo, on_epoch, &s));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(m, o, ds, NULL, fo, &h));
    ck_assert_uint_eq(s.calls, 7);
    ck_assert_uint_eq(regnn_history_epochs(h), 7);
    ck_assert_int_eq(regnn_history_stop_reason(h), REGNN_STOP_CALLBACK);
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_options)
{
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    int64_t v;
    double d;
    CK_OK(regnn_fit_options_get_int(fo, REGNN_FIT_EPOCHS, &v));
    ck_assert_int_eq(v, 1);
    CK_OK(regnn_fit_options_get_int(fo, REGNN_FIT_BATCH_SIZE, &v));
    ck_assert_int_eq(v, 32);
    CK_OK(regnn_fit_options_get_int(fo, REGNN_FIT_SHUFFLE, &v));
    ck_assert_int_eq(v, 1);
    CK_OK(regnn_fit_options_get_int(fo, REGNN_FIT_MONITOR, &v));
    ck_assert_int_eq(v, REGNN_MONITOR_VAL_LOSS);
    CK_OK(regnn_fit_options_get_double(fo, REGNN_FIT_VALIDATION_SPLIT, &d));
    ck_assert_double_eq(d, 0.0);
    CK_STATUS(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 0), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, -5), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_int(fo, REGNN_FIT_SHUFFLE, 2), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_int(fo, REGNN_FIT_MONITOR, 9), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_int(fo, REGNN_FIT_PATIENCE, -1), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_int(fo, 555, 1), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_fit_options_set_int(fo, REGNN_FIT_VALIDATION_SPLIT, 1), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 1.0), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, NAN), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_double(fo, REGNN_FIT_MIN_DELTA, -1), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_double(fo, REGNN_FIT_EPOCHS, 1), REGNN_E_UNSUPPORTED);
    CK_OK(regnn_fit_options_get_int(fo, REGNN_FIT_BATCH_SIZE, &v));
    ck_assert_int_eq(v, 32);
    CK_STATUS(regnn_fit_options_create(NULL), REGNN_E_INVALID_ARG);
    regnn_fit_options_free(fo);
    regnn_fit_options_free(NULL);
}
END_TEST

/* The message names the key and its valid range, or the setter to use. */
#define CK_MSG(call, expect, msg)                                                         \
    do {                                                                                  \
        CK_STATUS(call, expect);                                                          \
        ck_assert_str_eq(regnn_errmsg(), msg);                                            \
    } while (0)

START_TEST(test_option_messages)
{
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_MSG(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, -5), REGNN_E_INVALID_ARG,
           "regnn_fit_options_set_int: REGNN_FIT_EPOCHS must be in 1..100000000, got -5");
    CK_MSG(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 100000001), REGNN_E_INVALID_ARG,
           "regnn_fit_options_set_int: REGNN_FIT_EPOCHS must be in 1..100000000, got 100000001");
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 100000000));
    CK_MSG(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 1048577), REGNN_E_INVALID_ARG,
           "regnn_fit_options_set_int: REGNN_FIT_BATCH_SIZE must be in 1..1048576, got 1048577");
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 1048576));
    CK_MSG(regnn_fit_options_set_int(fo, REGNN_FIT_PATIENCE, -1), REGNN_E_INVALID_ARG,
           "regnn_fit_options_set_int: REGNN_FIT_PATIENCE must be >= 0, got -1");
    CK_MSG(regnn_fit_options_set_int(fo, REGNN_FIT_MONITOR, 3), REGNN_E_INVALID_ARG,
           "regnn_fit_options_set_int: REGNN_FIT_MONITOR must be REGNN_MONITOR_VAL_LOSS (0), "
           "REGNN_MONITOR_VAL_MSE (1) or REGNN_MONITOR_TRAIN_LOSS (2), got 3");
    static const struct {
        int key;
        const char *name;
    } flags[] = {{REGNN_FIT_SHUFFLE, "REGNN_FIT_SHUFFLE"},
                 {REGNN_FIT_EARLY_STOPPING, "REGNN_FIT_EARLY_STOPPING"},
                 {REGNN_FIT_RESTORE_BEST, "REGNN_FIT_RESTORE_BEST"},
                 {REGNN_FIT_EVAL_TRAIN, "REGNN_FIT_EVAL_TRAIN"}};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        char want[160];
        snprintf(want, sizeof want, "regnn_fit_options_set_int: %s must be 0 or 1, got 2",
                 flags[i].name);
        CK_MSG(regnn_fit_options_set_int(fo, flags[i].key, 2), REGNN_E_INVALID_ARG, want);
        snprintf(want, sizeof want,
                 "regnn_fit_options_set_double: %s is an integer option: use "
                 "regnn_fit_options_set_int",
                 flags[i].name);
        CK_MSG(regnn_fit_options_set_double(fo, flags[i].key, 1.0), REGNN_E_UNSUPPORTED, want);
    }
    CK_MSG(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 1.5), REGNN_E_INVALID_ARG,
           "regnn_fit_options_set_double: REGNN_FIT_VALIDATION_SPLIT must be in [0, 1), got 1.5");
    CK_MSG(regnn_fit_options_set_double(fo, REGNN_FIT_MIN_DELTA, -0.25), REGNN_E_INVALID_ARG,
           "regnn_fit_options_set_double: REGNN_FIT_MIN_DELTA must be finite and >= 0, got -0.25");
    CK_MSG(regnn_fit_options_set_double(fo, REGNN_FIT_MIN_DELTA, NAN), REGNN_E_INVALID_ARG,
           "regnn_fit_options_set_double: REGNN_FIT_MIN_DELTA must be finite and >= 0, got nan");
    /* a key of the other type */
    CK_MSG(regnn_fit_options_set_int(fo, REGNN_FIT_VALIDATION_SPLIT, 0), REGNN_E_UNSUPPORTED,
           "regnn_fit_options_set_int: REGNN_FIT_VALIDATION_SPLIT is a double option: use "
           "regnn_fit_options_set_double");
    CK_MSG(regnn_fit_options_set_int(fo, REGNN_FIT_MIN_DELTA, 0), REGNN_E_UNSUPPORTED,
           "regnn_fit_options_set_int: REGNN_FIT_MIN_DELTA is a double option: use "
           "regnn_fit_options_set_double");
    CK_MSG(regnn_fit_options_set_double(fo, REGNN_FIT_EPOCHS, 10), REGNN_E_UNSUPPORTED,
           "regnn_fit_options_set_double: REGNN_FIT_EPOCHS is an integer option: use "
           "regnn_fit_options_set_int");
    int64_t v;
    double d;
    CK_MSG(regnn_fit_options_get_int(fo, REGNN_FIT_MIN_DELTA, &v), REGNN_E_UNSUPPORTED,
           "regnn_fit_options_get_int: REGNN_FIT_MIN_DELTA is a double option: use "
           "regnn_fit_options_get_double");
    CK_MSG(regnn_fit_options_get_double(fo, REGNN_FIT_PATIENCE, &d), REGNN_E_UNSUPPORTED,
           "regnn_fit_options_get_double: REGNN_FIT_PATIENCE is an integer option: use "
           "regnn_fit_options_get_int");
    /* unknown keys */
    CK_MSG(regnn_fit_options_set_int(fo, 555, 1), REGNN_E_UNSUPPORTED,
           "regnn_fit_options_set_int: unknown integer key 555 (not a REGNN_FIT_* value)");
    CK_MSG(regnn_fit_options_set_double(fo, -3, 1), REGNN_E_UNSUPPORTED,
           "regnn_fit_options_set_double: unknown double key -3 (not a REGNN_FIT_* value)");
    CK_MSG(regnn_fit_options_get_double(fo, 0, &d), REGNN_E_UNSUPPORTED,
           "regnn_fit_options_get_double: unknown double key 0 (not a REGNN_FIT_* value)");
    CK_STATUS(regnn_fit_options_set_int(NULL, REGNN_FIT_EPOCHS, 1), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_double(NULL, REGNN_FIT_MIN_DELTA, 0), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_get_int(fo, REGNN_FIT_EPOCHS, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_get_double(NULL, REGNN_FIT_MIN_DELTA, &d), REGNN_E_INVALID_ARG);
    /* refused values change nothing */
    CK_OK(regnn_fit_options_get_int(fo, REGNN_FIT_EPOCHS, &v));
    ck_assert_int_eq(v, 100000000);
    CK_OK(regnn_fit_options_get_double(fo, REGNN_FIT_MIN_DELTA, &d));
    ck_assert_double_eq(d, 0.0);
    regnn_fit_options_free(fo);
}
END_TEST

START_TEST(test_fit_errors_leave_state)
{
    regnn_dataset *ds = synth(20, 15), *wide = NULL;
    regnn_model *m = net(4, 1, 0.0, 16);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    regnn_history *h = (regnn_history *)1;
    CK_STATUS(regnn_fit(NULL, o, ds, NULL, NULL, &h), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(h);
    CK_STATUS(regnn_fit(m, NULL, ds, NULL, NULL, &h), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit(m, o, NULL, NULL, NULL, &h), REGNN_E_INVALID_ARG);
    float x[20 * 5] = {0}, y[20] = {0};
    CK_OK(regnn_dataset_from_arrays(x, y, 20, 5, 1, REGNN_BORROW, &wide));
    CK_STATUS(regnn_fit(m, o, wide, NULL, NULL, &h), REGNN_E_SHAPE);
    CK_STATUS(regnn_fit(m, o, ds, wide, NULL, &h), REGNN_E_SHAPE);
    regnn_fit_options *fo = opts(2, 4);
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.5));
    CK_STATUS(regnn_fit(m, o, ds, ds, fo, &h), REGNN_E_INVALID_ARG); /* both */
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.999));
    CK_STATUS(regnn_fit(m, o, ds, NULL, fo, &h), REGNN_E_INVALID_ARG); /* empty train part */
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.0));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EARLY_STOPPING, 1));
    CK_STATUS(regnn_fit(m, o, ds, NULL, fo, &h), REGNN_E_INVALID_ARG); /* nothing to monitor */
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "validation"));
    ck_assert_uint_eq(regnn_optimizer_steps(o), 0);
    ck_assert_uint_eq(regnn_optimizer_state_size(o), 0);

    /* An optimizer bound to another model's size is refused. */
    regnn_model *other = net(5, 1, 0.0, 1);
    CK_OK(regnn_fit(other, o, ds, NULL, NULL, NULL));
    CK_STATUS(regnn_fit(m, o, ds, NULL, NULL, NULL), REGNN_E_SHAPE);
    CK_STATUS(regnn_train_batch(m, o, x, y, 1, NULL), REGNN_E_SHAPE);

    /* Not initialized */
    regnn_model *raw = NULL;
    CK_OK(regnn_model_create(3, &raw));
    CK_OK(regnn_model_add_dense(raw, 1, REGNN_ACT_LINEAR, NULL));
    regnn_optimizer *o2 = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o2));
    CK_STATUS(regnn_fit(raw, o2, ds, NULL, NULL, NULL), REGNN_E_STATE);
    regnn_model_free(raw);
    regnn_optimizer_free(o2);
    regnn_model_free(other);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(wide);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_divergence_restores)
{
    /* A huge learning rate on SGD blows the loss up: fit fails with
     * REGNN_E_NUMERIC and the model and optimizer are as before the call. */
    regnn_dataset *ds = synth(64, 17);
    regnn_model *m = net(16, 2, 0.0, 18);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &o));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 1e6));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_MOMENTUM, 0.9));
    size_t np = regnn_model_param_count(m);
    float *before = malloc(np * sizeof *before), *after = malloc(np * sizeof *after);
    CK_OK(regnn_model_get_params(m, before, np));
    regnn_fit_options *fo = opts(20, 8);
    regnn_history *h = (regnn_history *)1;
    CK_STATUS(regnn_fit(m, o, ds, NULL, fo, &h), REGNN_E_NUMERIC);
    ck_assert_ptr_null(h);
    CK_OK(regnn_model_get_params(m, after, np));
    ck_assert_mem_eq(before, after, np * sizeof *before);
    ck_assert_uint_eq(regnn_optimizer_steps(o), 0);
    ck_assert_uint_eq(regnn_optimizer_state_size(o), 0);
    /* train_batch with non-finite inputs is refused without change. */
    float x[3] = {1, NAN, 0}, y = 1;
    CK_STATUS(regnn_train_batch(m, o, x, &y, 1, NULL), REGNN_E_NUMERIC);
    x[1] = 0;
    CK_STATUS(regnn_train_batch(m, o, x, &y, 0, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_train_batch(m, o, NULL, &y, 1, NULL), REGNN_E_INVALID_ARG);
    free(before);
    free(after);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
}
END_TEST

/* Features up to `scale` and y = 3 x0 + 1, for the overflow tests. */
static regnn_dataset *wide_range(size_t rows, double scale, uint64_t seed)
{
    float *x = malloc(rows * 3 * sizeof *x), *y = malloc(rows * sizeof *y);
    rg_rng r;
    rg_rng_seed(&r, seed);
    for (size_t i = 0; i < rows * 3; i++)
        x[i] = (float)((2 * rg_rng_uniform(&r) - 1) * scale);
    for (size_t i = 0; i < rows; i++)
        y[i] = 3 * x[i * 3] + 1;
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, rows, 3, 1, REGNN_COPY, &ds));
    free(x);
    free(y);
    return ds;
}

/* One full-batch SGD step per epoch at learning rate lr on a linear 3-8-1 net:
 * the status of regnn_fit, with the model and optimizer checked unchanged
 * when it fails. */
static regnn_status overflow_fit(double lr, double scale, uint64_t seed, double split, int eval_train)
{
    regnn_dataset *ds = wide_range(64, scale, seed);
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_dense(m, 8, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &o));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, lr));
    regnn_fit_options *fo = opts(2, 64);
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, split));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EVAL_TRAIN, eval_train));
    const size_t np = regnn_model_param_count(m);
    float *before = malloc(np * sizeof *before), *after = malloc(np * sizeof *after);
    CK_OK(regnn_model_get_params(m, before, np));
    regnn_history *h = (regnn_history *)1;
    regnn_status st = regnn_fit(m, o, ds, NULL, fo, &h);
    if (st == REGNN_OK) {
        /* an OK fit's model predicts finite values on its training data */
        double mse = NAN;
        CK_OK(regnn_model_evaluate(m, ds, &mse, NULL, NULL));
        ck_assert_msg(isfinite(mse), "lr %g: fit OK but training mse %g", lr, mse);
        regnn_history_free(h);
    } else {
        ck_assert_ptr_null(h);
        CK_OK(regnn_model_get_params(m, after, np));
        ck_assert_mem_eq(before, after, np * sizeof *before);
        ck_assert_uint_eq(regnn_optimizer_steps(o), 0);
    }
    free(before);
    free(after);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
    return st;
}

START_TEST(test_overflow_is_numeric)
{
    /* Every step's loss is finite, but the last step leaves weights whose
     * predictions overflow: caught by the validation metrics, the train-eval
     * metric, or (with neither) the final check of the training predictions. */
    CK_STATUS(overflow_fit(1.0, 1000.0, 3, 0.25, 0), REGNN_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "not finite"));
    CK_STATUS(overflow_fit(1000.0, 1000.0, 23, 0.0, 1), REGNN_E_NUMERIC);
    CK_STATUS(overflow_fit(1000.0, 1000.0, 23, 0.0, 0), REGNN_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "final weights"));
    /* a learning rate that trains gives OK in each mode */
    CK_OK(overflow_fit(1e-7, 1000.0, 3, 0.25, 0));
    CK_OK(overflow_fit(1e-7, 1000.0, 23, 0.0, 1));
    CK_OK(overflow_fit(1e-7, 1000.0, 23, 0.0, 0));
}
END_TEST

START_TEST(test_zero_allocations_per_step)
{
    regnn_dataset *ds = synth(256, 19);
    regnn_model *m = net(128, 6, 1e-3, 20);
    CK_OK(regnn_layer_set_double(regnn_model_layer(m, 2), REGNN_LAYER_DROPOUT, 0.3));
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    float x[256 * 3], y[256];
    CK_OK(regnn_dataset_get_features(ds, x, 256 * 3));
    CK_OK(regnn_dataset_get_targets(ds, y, 256));
    CK_OK(regnn_train_batch(m, o, x, y, 64, NULL)); /* first step sizes the workspace */
    regnn__test_alloc_fail_at(0, 0);
    for (int s = 0; s < 20; s++)
        CK_OK(regnn_train_batch(m, o, x, y, s % 2 ? 64 : 17, NULL));
    ck_assert_int_eq(regnn__test_alloc_count(), 0);
    /* fit: the allocations do not depend on the number of epochs, so every step
     * and every epoch is allocation-free. */
    long counts[2];
    for (int i = 0; i < 2; i++) {
        regnn_fit_options *fo = opts(i == 0 ? 1 : 4, 64);
        CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.25));
        regnn__test_alloc_fail_at(0, 0);
        CK_OK(regnn_fit(m, o, ds, NULL, fo, NULL));
        counts[i] = regnn__test_alloc_count();
        regnn_fit_options_free(fo);
    }
    ck_assert_int_eq(counts[0], counts[1]);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_alloc_failure_fit)
{
    regnn_dataset *ds = synth(50, 21);
    long base = regnn__test_alloc_live();
    int points = 0;
    for (int persistent = 0; persistent <= 1; persistent++) {
        for (long n = 1; n < 1000; n++) {
            regnn_model *m = net(8, 2, 0.0, 22);
            regnn_optimizer *o = NULL;
            CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
            regnn_fit_options *fo = opts(2, 16);
            CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_RESTORE_BEST, 1));
            CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.2));
            size_t np = regnn_model_param_count(m);
            float before[256], after[256];
            CK_OK(regnn_model_get_params(m, before, np));
            long live = regnn__test_alloc_live();
            regnn_history *h = (regnn_history *)1;
            regnn__test_alloc_fail_at(n, persistent);
            regnn_status st = regnn_fit(m, o, ds, NULL, fo, &h);
            long tried = regnn__test_alloc_count();
            regnn__test_alloc_fail_at(0, 0);
            if (st == REGNN_OK) {
                ck_assert_int_lt(tried, n);
                regnn_history_free(h);
            } else {
                points++;
                ck_assert_int_eq(st, REGNN_E_NOMEM);
                ck_assert_ptr_null(h);
                ck_assert_int_eq(regnn__test_alloc_live(), live);
                CK_OK(regnn_model_get_params(m, after, np));
                ck_assert_mem_eq(before, after, np * sizeof(float));
                ck_assert_uint_eq(regnn_optimizer_state_size(o), 0);
                /* still usable */
                CK_OK(regnn_fit(m, o, ds, NULL, fo, NULL));
            }
            regnn_fit_options_free(fo);
            regnn_optimizer_free(o);
            regnn_model_free(m);
            ck_assert_int_eq(regnn__test_alloc_live(), base);
            if (st == REGNN_OK)
                break;
        }
    }
    ck_assert_int_ge(points, 10);
    regnn_dataset_free(ds);
}
END_TEST

typedef struct {
    regnn_model *m;
    regnn_optimizer *o;
    regnn_dataset *ds;
    int statuses[5];
} meddler;

/* An epoch callback that tries every call that would free buffers the running
 * fit uses: each must be refused, and a learning-rate change must work. */
static int meddle(void *user, const regnn_history *h, size_t epoch)
{
    (void)h;
    meddler *d = user;
    if (epoch != 0)
        return 0;
    d->statuses[0] = regnn_layer_set_double(regnn_model_layer(d->m, 0), REGNN_LAYER_DROPOUT, 0.5);
    d->statuses[1] = regnn_model_set_layers_double(d->m, REGNN_LAYER_DROPOUT, 0.5);
    d->statuses[2] = regnn_optimizer_reset(d->o);
    d->statuses[3] = regnn_fit(d->m, d->o, d->ds, NULL, NULL, NULL);
    d->statuses[4] = regnn_optimizer_set_double(d->o, REGNN_OPT_LEARNING_RATE, 1e-4);
    return 0;
}

START_TEST(test_callback_cannot_pull_the_rug)
{
    meddler d;
    d.ds = synth(64, 23);
    d.m = net(8, 1, 0.0, 24);
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &d.o));
    regnn_fit_options *fo = opts(3, 16);
    CK_OK(regnn_fit_options_set_callback(fo, meddle, &d));
    CK_OK(regnn_fit(d.m, d.o, d.ds, NULL, fo, NULL));
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(d.statuses[i], REGNN_E_STATE);
    ck_assert_int_eq(d.statuses[4], REGNN_OK);
    ck_assert_uint_eq(regnn_optimizer_steps(d.o), 12);
    double lr, v;
    CK_OK(regnn_optimizer_get_double(d.o, REGNN_OPT_LEARNING_RATE, &lr));
    ck_assert_double_eq(lr, 1e-4);
    CK_OK(regnn_layer_get_double(regnn_model_layer(d.m, 0), REGNN_LAYER_DROPOUT, &v));
    ck_assert_double_eq(v, 0.0);
    /* After fit the same calls work again. */
    CK_OK(regnn_model_set_layers_double(d.m, REGNN_LAYER_DROPOUT, 0.5));
    CK_OK(regnn_optimizer_reset(d.o));
    regnn_fit_options_free(fo);
    regnn_optimizer_free(d.o);
    regnn_model_free(d.m);
    regnn_dataset_free(d.ds);
}
END_TEST

/* The whole state a failed call must leave alone: parameters, RNG, optimizer
 * settings, step count and moments, as checkpoint bytes. */
static unsigned char *state_bytes(const regnn_model *m, const regnn_optimizer *o, size_t *n)
{
    CK_OK(regnn_checkpoint_save_mem(m, o, NULL, 0, n));
    unsigned char *b = malloc(*n);
    CK_OK(regnn_checkpoint_save_mem(m, o, b, *n, n));
    return b;
}

static void assert_state_is(const regnn_model *m, const regnn_optimizer *o, const unsigned char *b,
                            size_t n)
{
    size_t n2 = 0;
    unsigned char *b2 = state_bytes(m, o, &n2);
    ck_assert_uint_eq(n2, n);
    ck_assert_mem_eq(b2, b, n);
    free(b2);
}

/* 64 rows with targets around 1e4: the loss stays finite while a huge
 * learning rate makes the update overflow. */
static regnn_dataset *big_targets(float *x, float *y)
{
    regnn_dataset *ds = synth(64, 31);
    CK_OK(regnn_dataset_get_features(ds, x, 64 * 3));
    CK_OK(regnn_dataset_get_targets(ds, y, 64));
    regnn_dataset_free(ds);
    for (int i = 0; i < 64; i++)
        y[i] = 1e4f + 1e3f * y[i];
    ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, 64, 3, 1, REGNN_COPY, &ds));
    return ds;
}

START_TEST(test_update_overflow_fit)
{
    /* SGD, lr 1e38, 64 rows, one batch of 64, one epoch: the loss is finite
     * before the step and the update overflows. fit must not return OK over
     * Inf weights; model, optimizer and RNG are as before the call, for an
     * unbound optimizer and for one that already holds state. */
    float x[64 * 3], y[64];
    regnn_dataset *ds = big_targets(x, y);
    for (int bound = 0; bound <= 1; bound++) {
        for (int momentum = 0; momentum <= 1; momentum++) {
            regnn_model *m = net(16, 2, 0.0, 32);
            CK_OK(regnn_layer_set_double(regnn_model_layer(m, 0), REGNN_LAYER_DROPOUT, 0.2));
            regnn_optimizer *o = NULL;
            CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &o));
            if (momentum)
                CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_MOMENTUM, 0.5));
            if (bound) {
                CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 1e-6));
                CK_OK(regnn_train_batch(m, o, x, y, 64, NULL)); /* workspace sized for fit's batch */
            }
            CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 1e38));
            size_t n = 0;
            unsigned char *before = state_bytes(m, o, &n);
            regnn_fit_options *fo = opts(1, 64);
            regnn_history *h = (regnn_history *)1;
            long live = regnn__test_alloc_live();
            CK_STATUS(regnn_fit(m, o, ds, NULL, fo, &h), REGNN_E_NUMERIC);
            ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "NaN or Inf"));
            ck_assert_ptr_null(h);
            ck_assert_int_eq(regnn__test_alloc_live(), live);
            assert_state_is(m, o, before, n);
            ck_assert_uint_eq(regnn_optimizer_state_size(o), bound ? regnn_model_param_count(m) : 0);
            free(before);
            regnn_fit_options_free(fo);
            regnn_optimizer_free(o);
            regnn_model_free(m);
        }
    }
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_update_overflow_train_batch)
{
    /* train_batch: "no update made" when the update would go non-finite, for
     * plain SGD, SGD with momentum and Adam (first moments near FLT_MAX, second
     * moments 0: m / (sqrt(v) + eps) overflows). */
    float x[64 * 3], y[64];
    regnn_dataset *ds = big_targets(x, y);
    for (int c = 0; c < 5; c++) {
        regnn_model *m = net(16, 2, 0.0, 33);
        CK_OK(regnn_layer_set_double(regnn_model_layer(m, 0), REGNN_LAYER_DROPOUT, 0.2));
        regnn_optimizer *o = NULL;
        size_t np = regnn_model_param_count(m);
        if (c < 2) {
            CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &o));
            CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 1e38));
            if (c == 1)
                CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_MOMENTUM, 0.5));
        } else if (c >= 3) {
            /* A good step first, so the next one has known bounds; then a
             * learning rate that makes it overflow: the bound test must send it
             * out of place. */
            CK_OK(regnn_optimizer_create(c == 3 ? REGNN_OPTIM_ADAM : REGNN_OPTIM_SGD, &o));
            float ys[64];
            for (int i = 0; i < 64; i++)
                ys[i] = y[i] * 1e-4f;
            CK_OK(regnn_train_batch(m, o, x, ys, 64, NULL));
            CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, c == 3 ? 1e37 : 1e38));
        } else {
            CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
            float *mm = malloc(np * sizeof *mm);
            for (size_t i = 0; i < np; i++)
                mm[i] = 3e38f;
            CK_OK(regnn_optimizer_set_state(o, REGNN_STATE_M, mm, np));
            free(mm);
        }
        size_t n = 0;
        unsigned char *before = state_bytes(m, o, &n);
        double loss = -1.0;
        CK_STATUS(regnn_train_batch(m, o, x, y, 64, &loss), REGNN_E_NUMERIC);
        ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "no update made"));
        ck_assert_double_eq(loss, -1.0);
        assert_state_is(m, o, before, n);
        ck_assert_uint_eq(regnn_optimizer_state_size(o), c >= 2 ? np : 0);
        free(before);
        regnn_optimizer_free(o);
        regnn_model_free(m);
    }
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_nonfinite_loss_leaves_optimizer_unbound)
{
    /* A refused step (non-finite loss) must not bind a fresh optimizer. */
    regnn_model *m = net(8, 1, 0.0, 34);
    size_t np = regnn_model_param_count(m);
    float *p = malloc(np * sizeof *p);
    for (size_t i = 0; i < np; i++)
        p[i] = 1e30f;
    CK_OK(regnn_model_set_params(m, p, np));
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    float x[3] = {1, 1, 1}, y = 1;
    CK_STATUS(regnn_train_batch(m, o, x, &y, 1, NULL), REGNN_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "loss is not finite"));
    ck_assert_uint_eq(regnn_optimizer_state_size(o), 0);
    ck_assert_uint_eq(regnn_optimizer_steps(o), 0);
    free(p);
    regnn_optimizer_free(o);
    regnn_model_free(m);
}
END_TEST

static int stop_after_three(void *user, const regnn_history *h, size_t epoch)
{
    (void)user;
    (void)h;
    return epoch >= 2;
}

START_TEST(test_history_follows_epochs_run)
{
    /* 10^7 and 10^8 requested epochs, three run: memory follows the three
     * (it was 708 MB and 7.2 GB reserved up front). */
    regnn_dataset *ds = synth(32, 35);
    for (int k = 0; k < 2; k++) {
        regnn_model *m = net(4, 1, 0.0, 36);
        regnn_optimizer *o = NULL;
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
        regnn_fit_options *fo = opts(k == 0 ? 10000000 : 100000000, 16);
        CK_OK(regnn_fit_options_set_callback(fo, stop_after_three, NULL));
        regnn_history *h = NULL;
        regnn__test_alloc_fail_at(0, 0);
        CK_OK(regnn_fit(m, o, ds, NULL, fo, &h));
        ck_assert_uint_lt(regnn__test_alloc_bytes(), 256 * 1024);
        ck_assert_uint_eq(regnn_history_epochs(h), 3);
        ck_assert_int_eq(regnn_history_stop_reason(h), REGNN_STOP_CALLBACK);
        regnn_history_free(h);
        regnn_fit_options_free(fo);
        regnn_optimizer_free(o);
        regnn_model_free(m);
    }
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_history_growth)
{
    /* 150 epochs cross two growths of the history; every value is kept, and a
     * failed growth gives REGNN_E_NOMEM with the model and optimizer restored. */
    regnn_dataset *ds = synth(16, 37);
    regnn_fit_options *fo = opts(150, 16);
    regnn_model *m = net(4, 1, 0.0, 38);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    double losses[150];
    size_t n = 0;
    unsigned char *before = state_bytes(m, o, &n);
    regnn_history *h = NULL;
    regnn__test_alloc_fail_at(0, 0);
    CK_OK(regnn_fit(m, o, ds, NULL, fo, &h));
    const long total = regnn__test_alloc_count();
    ck_assert_uint_eq(regnn_history_epochs(h), 150);
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, losses, 150));
    for (int e = 0; e < 150; e++)
        ck_assert(isfinite(losses[e]) && losses[e] > 0.0);
    ck_assert(losses[149] < losses[0]);
    regnn_history_free(h);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    int nomem = 0;
    for (long nth = 1; nth <= total; nth++) {
        m = net(4, 1, 0.0, 38);
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
        long live = regnn__test_alloc_live();
        regnn__test_alloc_fail_at(nth, 0);
        h = NULL;
        regnn_status st = regnn_fit(m, o, ds, NULL, fo, &h);
        regnn__test_alloc_fail_at(0, 0);
        if (st == REGNN_OK) {
            ck_assert_uint_eq(regnn_history_epochs(h), 150);
            regnn_history_free(h);
        } else {
            CK_STATUS(st, REGNN_E_NOMEM);
            ck_assert_ptr_null(h);
            ck_assert_int_eq(regnn__test_alloc_live(), live);
            assert_state_is(m, o, before, n);
            nomem++;
        }
        regnn_optimizer_free(o);
        regnn_model_free(m);
    }
    ck_assert_int_eq(nomem, total);
    free(before);
    regnn_fit_options_free(fo);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_step_count_limit)
{
    /* Steps count up to 2^53 (exact in Adam's double bias correction); no
     * setter, step or fit takes them further, so the count never wraps. */
    const uint64_t lim = (uint64_t)1 << 53;
    regnn_model *m = net(4, 1, 0.0, 39);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    CK_STATUS(regnn_optimizer_set_steps(o, UINT64_MAX), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "0..2^53"));
    CK_STATUS(regnn_optimizer_set_steps(o, lim + 1), REGNN_E_INVALID_ARG);
    ck_assert_uint_eq(regnn_optimizer_steps(o), 0);
    CK_OK(regnn_optimizer_set_steps(o, lim - 1));
    float x[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, y[2] = {1, 2};
    CK_OK(regnn_train_batch(m, o, x, y, 2, NULL));
    ck_assert_uint_eq(regnn_optimizer_steps(o), lim);
    CK_STATUS(regnn_train_batch(m, o, x, y, 2, NULL), REGNN_E_STATE);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "2^53"));
    ck_assert_uint_eq(regnn_optimizer_steps(o), lim);
    regnn_dataset *ds = synth(16, 40);
    regnn_fit_options *fo = opts(2, 8); /* 4 steps */
    CK_OK(regnn_optimizer_set_steps(o, lim - 3));
    CK_STATUS(regnn_fit(m, o, ds, NULL, fo, NULL), REGNN_E_STATE);
    ck_assert_uint_eq(regnn_optimizer_steps(o), lim - 3);
    CK_OK(regnn_optimizer_set_steps(o, lim - 4));
    CK_OK(regnn_fit(m, o, ds, NULL, fo, NULL));
    ck_assert_uint_eq(regnn_optimizer_steps(o), lim);
    regnn_fit_options_free(fo);
    regnn_dataset_free(ds);
    regnn_optimizer_free(o);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_restore_best_without_early_stopping)
{
    enum { EP = 150 };
    /* Restore-best acts at the end of every fit, stopped early or not (as in
     * Keras 3): after all epochs the weights are the best epoch's. */
    regnn_dataset *tr = synth(40, 10), *va = synth(40, 11);
    regnn_model *m = net(64, 3, 0.0, 12);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.02));
    regnn_fit_options *fo = opts(EP, 8);
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_RESTORE_BEST, 1));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(m, o, tr, va, fo, &h));
    ck_assert_int_eq(regnn_history_stop_reason(h), REGNN_STOP_COMPLETED);
    ck_assert_uint_eq(regnn_history_epochs(h), EP);
    size_t best;
    CK_OK(regnn_history_best_epoch(h, &best));
    double vl[EP];
    CK_OK(regnn_history_get(h, REGNN_METRIC_VAL_LOSS, vl, EP));
    ck_assert_uint_lt(best, EP - 1);
    ck_assert(vl[EP - 1] > vl[best]); /* the last epoch's weights are worse: restoring matters */
    double now;
    CK_OK(regnn_model_evaluate(m, va, &now, NULL, NULL));
    ck_assert_double_eq_tol(now, vl[best], 1e-9);
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
}
END_TEST

START_TEST(test_min_delta_best_epoch_rule)
{
    /* With min_delta > 0 the best epoch is the last one that beat the best so
     * far by more than min_delta (Keras's rule), not the lowest value: later
     * small improvements do not move it. */
    regnn_dataset *tr = synth(64, 41), *va = synth(64, 42);
    regnn_model *m = net(16, 2, 0.0, 43);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.01));
    regnn_fit_options *fo = opts(40, 16);
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_MIN_DELTA, 0.01));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(m, o, tr, va, fo, &h));
    double vl[40];
    CK_OK(regnn_history_get(h, REGNN_METRIC_VAL_LOSS, vl, 40));
    size_t best, keras = 0, lowest = 0;
    double b = INFINITY;
    for (size_t e = 0; e < 40; e++) {
        if (vl[e] < b - 0.01) {
            b = vl[e];
            keras = e;
        }
        if (vl[e] < vl[lowest])
            lowest = e;
    }
    CK_OK(regnn_history_best_epoch(h, &best));
    ck_assert_uint_eq(best, keras);
    ck_assert_uint_ne(best, lowest); /* the case the rule is about */
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
}
END_TEST

/* ---- data-parallel fit through the exchange hook ---- */

static int sum_of_one(void *user, float *grad, size_t n, double *sums, size_t n_sums)
{
    (void)grad;
    (void)n;
    (void)sums;
    (void)n_sums;
    ++*(long *)user;
    return 0;
}

static void params_of(const regnn_model *m, float **out, size_t *np)
{
    *np = regnn_model_param_count(m);
    *out = malloc(*np * sizeof **out);
    CK_OK(regnn_model_get_params(m, *out, *np));
}

/* One process with an exchange is the plain fit, bit for bit. */
START_TEST(test_exchange_one_shard_is_plain_fit)
{
    regnn_dataset *tr = synth(203, 1), *va = synth(41, 2);
    regnn_model *a = net(16, 2, 1e-3, 5), *b = net(16, 2, 1e-3, 5);
    regnn_optimizer *oa = NULL, *ob = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &oa));
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &ob));
    regnn_fit_options *fo = opts(6, 32), *fx = NULL;
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EVAL_TRAIN, 1));
    CK_OK(regnn_fit_options_copy(fo, &fx));
    long calls = 0;
    CK_OK(regnn_fit_options_set_exchange(fx, sum_of_one, &calls));
    regnn_history *ha = NULL, *hb = NULL;
    CK_OK(regnn_fit(a, oa, tr, va, fo, &ha));
    CK_OK(regnn_fit(b, ob, tr, va, fx, &hb));
    /* the start + 7 steps and 3 end-of-epoch exchanges per epoch */
    ck_assert_int_eq(calls, RG_DP_START_CALLS + 6 * (7 + 3));
    float *pa, *pb;
    size_t np;
    params_of(a, &pa, &np);
    params_of(b, &pb, &np);
    ck_assert(memcmp(pa, pb, np * sizeof *pa) == 0);
    double x[8], y[8];
    for (int k = 1; k <= RG_N_METRICS; k++) {
        if (k == REGNN_METRIC_SECONDS)
            continue;
        CK_OK(regnn_history_get(ha, k, x, 8));
        CK_OK(regnn_history_get(hb, k, y, 8));
        ck_assert_msg(memcmp(x, y, 6 * sizeof *x) == 0, "metric %d", k);
    }
    free(pa);
    free(pb);
    regnn_history_free(ha);
    regnn_history_free(hb);
    regnn_fit_options_free(fo);
    regnn_fit_options_free(fx);
    regnn_optimizer_free(oa);
    regnn_optimizer_free(ob);
    regnn_model_free(a);
    regnn_model_free(b);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
}
END_TEST

static int stop_shard1_at_2(void *user, const regnn_history *h, size_t epoch)
{
    (void)h;
    return *(size_t *)user == 1 && epoch == 2;
}

/* n shards in threads: every shard ends with the same bits, close to the
 * one-process fit; the loss and metrics are the global means. */
START_TEST(test_shards_agree_and_match_plain_fit)
{
    const size_t n = (size_t)_i + 2; /* 2, 3, 4 shards */
    regnn_dataset *tr = synth(250, 3), *va = synth(37, 4);
    regnn_fit_options *fo = opts(8, 64);
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EVAL_TRAIN, 1));
    regnn_model *ref = net(24, 2, 1e-3, 9);
    regnn_optimizer *oref = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &oref));
    regnn_history *href = NULL;
    CK_OK(regnn_fit(ref, oref, tr, va, fo, &href));
    float *pref;
    size_t np;
    params_of(ref, &pref, &np);

    dp_shard sh[DP_MAX];
    memset(sh, 0, sizeof sh);
    for (size_t i = 0; i < n; i++) {
        sh[i].m = net(24, 2, 1e-3, 9);
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &sh[i].o));
        sh[i].train = tr;
        sh[i].val = va;
        sh[i].opts = fo;
    }
    ck_assert_int_eq(dp_run(sh, n, np), 0);
    float *p0 = NULL;
    for (size_t i = 0; i < n; i++) {
        CK_OK(sh[i].st);
        float *pi;
        params_of(sh[i].m, &pi, &np);
        if (i == 0) {
            p0 = pi;
            continue;
        }
        ck_assert_msg(memcmp(p0, pi, np * sizeof *pi) == 0, "shard %zu differs from shard 0", i);
        for (int k = 1; k <= RG_N_METRICS; k++) {
            double x[8], y[8];
            if (k == REGNN_METRIC_SECONDS)
                continue;
            CK_OK(regnn_history_get(sh[0].h, k, x, 8));
            CK_OK(regnn_history_get(sh[i].h, k, y, 8));
            ck_assert_msg(memcmp(x, y, 8 * sizeof *x) == 0, "metric %d of shard %zu", k, i);
        }
        free(pi);
    }
    /* Another summation order of the same global mean: close, not equal. */
    double num = 0.0, den = 0.0;
    for (size_t k = 0; k < np; k++) {
        num += ((double)p0[k] - pref[k]) * ((double)p0[k] - pref[k]);
        den += (double)pref[k] * pref[k];
    }
    ck_assert_msg(sqrt(num / den) < 1e-4, "relative difference %g", sqrt(num / den));
    double x[8], y[8];
    CK_OK(regnn_history_get(href, REGNN_METRIC_VAL_MSE, x, 8));
    CK_OK(regnn_history_get(sh[0].h, REGNN_METRIC_VAL_MSE, y, 8));
    ck_assert_msg(fabs(x[7] - y[7]) < 1e-4 * x[7], "val mse %.9g vs %.9g", x[7], y[7]);
    CK_OK(regnn_history_get(href, REGNN_METRIC_TRAIN_LOSS, x, 8));
    CK_OK(regnn_history_get(sh[0].h, REGNN_METRIC_TRAIN_LOSS, y, 8));
    ck_assert_msg(fabs(x[7] - y[7]) < 1e-4 * x[7], "train loss %.9g vs %.9g", x[7], y[7]);
    free(p0);

    /* One shard's callback stops every shard after the same epoch. */
    for (size_t i = 0; i < n; i++) {
        regnn_history_free(sh[i].h);
        sh[i].h = NULL;
    }
    regnn_fit_options *fc[DP_MAX];
    size_t idx[DP_MAX];
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
        CK_OK(regnn_fit_options_copy(fo, &fc[i]));
        CK_OK(regnn_fit_options_set_callback(fc[i], stop_shard1_at_2, &idx[i]));
        sh[i].opts = fc[i];
    }
    ck_assert_int_eq(dp_run(sh, n, np), 0);
    for (size_t i = 0; i < n; i++) {
        CK_OK(sh[i].st);
        ck_assert_uint_eq(regnn_history_epochs(sh[i].h), 3);
        ck_assert_int_eq(regnn_history_stop_reason(sh[i].h), REGNN_STOP_CALLBACK);
        regnn_history_free(sh[i].h);
        regnn_optimizer_free(sh[i].o);
        regnn_model_free(sh[i].m);
        regnn_fit_options_free(fc[i]);
    }
    free(pref);
    regnn_history_free(href);
    regnn_optimizer_free(oref);
    regnn_model_free(ref);
    regnn_fit_options_free(fo);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
}
END_TEST

/* A batch size with one shard per process (32 n rows for n processes): the
 * processes' sum is the one-process step's sum of shards, so the fit is the
 * plain regnn_fit bit for bit, short last batches (fewer shards, idle
 * processes) included; validation metrics sum in another order. */
START_TEST(test_shards_reproduce_one_process_fit)
{
    const size_t n = (size_t)_i + 2; /* 2, 3, 4 shards */
    const size_t batch = 32 * n;
    regnn_dataset *tr = synth(250, 3), *va = synth(37, 4);
    regnn_fit_options *fo = opts(6, (int64_t)batch);
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EVAL_TRAIN, 1));
    regnn_model *ref = net(24, 2, 1e-3, 9);
    CK_OK(regnn_model_set_layers_double(ref, REGNN_LAYER_L1, 1e-4));
    CK_OK(regnn_model_set_layers_double(ref, REGNN_LAYER_BIAS_L2, 1e-3));
    CK_OK(regnn_layer_set_double(regnn_model_layer(ref, 0), REGNN_LAYER_MAX_NORM, 0.3));
    CK_OK(regnn_layer_set_double(regnn_model_layer(ref, 1), REGNN_LAYER_ACTIVITY_L2, 1e-3));
    ck_assert_uint_eq(rg_model_shards(ref, batch, NULL), n);
    regnn_optimizer *oref = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &oref));
    regnn_history *href = NULL;
    CK_OK(regnn_fit(ref, oref, tr, va, fo, &href));
    float *pref;
    size_t np;
    params_of(ref, &pref, &np);
    dp_shard sh[DP_MAX];
    memset(sh, 0, sizeof sh);
    for (size_t i = 0; i < n; i++) {
        sh[i].m = net(24, 2, 1e-3, 9);
        CK_OK(regnn_model_set_layers_double(sh[i].m, REGNN_LAYER_L1, 1e-4));
        CK_OK(regnn_model_set_layers_double(sh[i].m, REGNN_LAYER_BIAS_L2, 1e-3));
        CK_OK(regnn_layer_set_double(regnn_model_layer(sh[i].m, 0), REGNN_LAYER_MAX_NORM, 0.3));
        CK_OK(regnn_layer_set_double(regnn_model_layer(sh[i].m, 1), REGNN_LAYER_ACTIVITY_L2, 1e-3));
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &sh[i].o));
        sh[i].train = tr;
        sh[i].val = va;
        sh[i].opts = fo;
    }
    ck_assert_int_eq(dp_run(sh, n, np), 0);
    for (size_t i = 0; i < n; i++) {
        CK_OK(sh[i].st);
        float *pi;
        params_of(sh[i].m, &pi, &np);
        ck_assert_msg(memcmp(pref, pi, np * sizeof *pi) == 0, "%zu shards: shard %zu differs from "
                      "regnn_fit", n, i);
        free(pi);
        static const int exact[] = {REGNN_METRIC_TRAIN_LOSS, REGNN_METRIC_TRAIN_MSE,
                                    REGNN_METRIC_TRAIN_PENALTY, REGNN_METRIC_TRAIN_MAE};
        static const int close[] = {REGNN_METRIC_VAL_LOSS, REGNN_METRIC_VAL_MSE,
                                    REGNN_METRIC_VAL_MAE, REGNN_METRIC_TRAIN_EVAL_MSE};
        double x[6], y[6];
        for (size_t k = 0; k < 4; k++) {
            CK_OK(regnn_history_get(href, exact[k], x, 6));
            CK_OK(regnn_history_get(sh[i].h, exact[k], y, 6));
            ck_assert_msg(memcmp(x, y, sizeof x) == 0, "%zu shards: metric %d", n, exact[k]);
            CK_OK(regnn_history_get(href, close[k], x, 6));
            CK_OK(regnn_history_get(sh[i].h, close[k], y, 6));
            for (size_t e = 0; e < 6; e++)
                ck_assert_msg(fabs(x[e] - y[e]) <= 1e-12 * fabs(x[e]), "%zu shards: metric %d",
                              n, close[k]);
        }
        regnn_history_free(sh[i].h);
        regnn_optimizer_free(sh[i].o);
        regnn_model_free(sh[i].m);
    }
    free(pref);
    regnn_history_free(href);
    regnn_optimizer_free(oref);
    regnn_model_free(ref);
    regnn_fit_options_free(fo);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
}
END_TEST

/* 3 -> dense 24 relu -> [GaussianNoise | GaussianDropout] -> dense 24 relu
 * -> dense 1, kind 0 with dropout 0.3 on the dense layers instead; `rate`
 * is the dropout rate, the noise's stddev or the GaussianDropout rate. */
static regnn_model *drawing_net(int kind, double rate)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_dense(m, 24, REGNN_ACT_RELU, NULL));
    if (kind == 1)
        CK_OK(regnn_model_add_gaussian_noise(m, rate, NULL));
    if (kind == 2)
        CK_OK(regnn_model_add_gaussian_dropout(m, rate, NULL));
    CK_OK(regnn_model_add_dense(m, 24, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    if (kind == 0)
        for (size_t i = 0; i < 2; i++)
            CK_OK(regnn_layer_set_double(regnn_model_layer(m, i), REGNN_LAYER_DROPOUT, rate));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 9));
    return m;
}

static void state_of(const regnn_optimizer *o, int which, float **out, size_t *n)
{
    *n = regnn_optimizer_state_size(o);
    *out = malloc(*n * sizeof **out);
    CK_OK(regnn_optimizer_get_state(o, which, *out, *n));
}

/* Dropout and the noise layers in 2, 3 and 4 processes: each draws the whole
 * batch's masks or noise in one process's order and uses its rows' part, so
 * the parameters, optimizer state and training metrics are regnn_fit's bit
 * for bit (short last batches and idle processes included). */
START_TEST(test_shards_reproduce_draws)
{
    const int kind = _i / 3;              /* dropout, GaussianNoise, GaussianDropout */
    const size_t n = (size_t)(_i % 3) + 2; /* 2, 3, 4 processes */
    const size_t batch = 32 * n;
    const double rate = kind == 1 ? 0.2 : 0.3;
    regnn_dataset *tr = synth(250, 3), *va = synth(37, 4);
    regnn_fit_options *fo = opts(4, (int64_t)batch);
    regnn_model *ref = drawing_net(kind, rate);
    CK_OK(regnn_model_set_threads(ref, 1));
    ck_assert_uint_eq(rg_model_shards(ref, batch, NULL), n);
    regnn_optimizer *oref = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &oref));
    regnn_history *href = NULL;
    CK_OK(regnn_fit(ref, oref, tr, va, fo, &href));
    float *pref, *mref;
    size_t np, ns;
    params_of(ref, &pref, &np);
    state_of(oref, REGNN_STATE_V, &mref, &ns);
    dp_shard sh[DP_MAX];
    memset(sh, 0, sizeof sh);
    for (size_t i = 0; i < n; i++) {
        sh[i].m = drawing_net(kind, rate);
        CK_OK(regnn_model_set_threads(sh[i].m, i % 2 ? 3 : 1)); /* the same bits on any */
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &sh[i].o));
        sh[i].train = tr;
        sh[i].val = va;
        sh[i].opts = fo;
    }
    ck_assert_int_eq(dp_run(sh, n, np), 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(sh[i].st == REGNN_OK, "kind %d, shard %zu: %s", kind, i, sh[i].msg);
        float *pi, *mi;
        params_of(sh[i].m, &pi, &np);
        state_of(sh[i].o, REGNN_STATE_V, &mi, &ns);
        ck_assert_msg(memcmp(pref, pi, np * sizeof *pi) == 0,
                      "kind %d, %zu shards: shard %zu's parameters differ", kind, n, i);
        ck_assert_msg(memcmp(mref, mi, ns * sizeof *mi) == 0,
                      "kind %d, %zu shards: shard %zu's optimizer state differs", kind, n, i);
        ck_assert_uint_eq(regnn_optimizer_steps(sh[i].o), regnn_optimizer_steps(oref));
        static const int exact[] = {REGNN_METRIC_TRAIN_LOSS, REGNN_METRIC_TRAIN_MSE,
                                    REGNN_METRIC_TRAIN_MAE, REGNN_METRIC_TRAIN_PENALTY};
        for (size_t k = 0; k < 4; k++) {
            double x[4], y[4];
            CK_OK(regnn_history_get(href, exact[k], x, 4));
            CK_OK(regnn_history_get(sh[i].h, exact[k], y, 4));
            ck_assert_msg(memcmp(x, y, sizeof x) == 0, "kind %d, %zu shards: metric %d", kind,
                          n, exact[k]);
        }
        free(pi);
        free(mi);
        regnn_history_free(sh[i].h);
        regnn_optimizer_free(sh[i].o);
        regnn_model_free(sh[i].m);
    }
    /* The draws matter: without them the fit ends elsewhere. */
    regnn_model *plain = drawing_net(kind, 0.0);
    regnn_optimizer *op = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &op));
    CK_OK(regnn_fit(plain, op, tr, va, fo, NULL));
    float *pp;
    params_of(plain, &pp, &np);
    ck_assert(memcmp(pref, pp, np * sizeof *pp) != 0);
    free(pp);
    regnn_optimizer_free(op);
    regnn_model_free(plain);
    free(pref);
    free(mref);
    regnn_history_free(href);
    regnn_optimizer_free(oref);
    regnn_model_free(ref);
    regnn_fit_options_free(fo);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
}
END_TEST

/* 3 -> BatchNormalization -> dense 24 relu (dropout 0.2) -> BatchNormalization
 * -> dense 16 tanh -> BatchNormalization -> dense 1: a first layer whose
 * input gradient is not needed, and layers whose gathers take several calls. */
static regnn_model *bn_net(void)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_batch_normalization(m, 0.9, 1e-3, NULL));
    CK_OK(regnn_model_add_dense(m, 24, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_batch_normalization(m, 0.8, 1e-2, NULL));
    CK_OK(regnn_model_add_dense(m, 16, REGNN_ACT_TANH, NULL));
    CK_OK(regnn_model_add_batch_normalization(m, 0.95, 1e-3, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_layer_set_double(regnn_model_layer(m, 1), REGNN_LAYER_DROPOUT, 0.2));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 9));
    return m;
}

/* Every BatchNormalization layer's moving mean then variance, into a new array. */
static float *moving_of(regnn_model *m, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < regnn_model_layer_count(m); i++)
        if (regnn_layer_type(regnn_model_layer(m, i)) == REGNN_LAYERTYPE_BATCH_NORMALIZATION)
            *n += 2 * regnn_layer_units(regnn_model_layer(m, i));
    float *v = malloc(*n * sizeof *v), *at = v;
    for (size_t i = 0; i < regnn_model_layer_count(m); i++) {
        const regnn_layer *l = regnn_model_layer(m, i);
        if (regnn_layer_type(l) != REGNN_LAYERTYPE_BATCH_NORMALIZATION)
            continue;
        const size_t u = regnn_layer_units(l);
        CK_OK(regnn_layer_get_moving(l, at, at + u, u));
        at += 2 * u;
    }
    return v;
}

/* The model's parameters, moving statistics, Adam state and step count
 * against ref's, bit for bit (what says who). */
static void same_state(regnn_model *ref, const regnn_optimizer *oref, regnn_model *m,
                       const regnn_optimizer *o, const char *what)
{
    float *a, *b;
    size_t n;
    params_of(ref, &a, &n);
    params_of(m, &b, &n);
    ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "%s: parameters differ", what);
    free(a);
    free(b);
    a = moving_of(ref, &n);
    b = moving_of(m, &n);
    ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "%s: moving statistics differ", what);
    free(a);
    free(b);
    for (int which = REGNN_STATE_M; which <= REGNN_STATE_V; which++) {
        state_of(oref, which, &a, &n);
        state_of(o, which, &b, &n);
        ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "%s: optimizer state %d differs", what,
                      which);
        free(a);
        free(b);
    }
    ck_assert_uint_eq(regnn_optimizer_steps(o), regnn_optimizer_steps(oref));
}

/* BatchNormalization in 2, 3 and 4 processes: each layer's statistics and
 * input gradient from the whole batch gathered through the exchange, so the
 * parameters, moving statistics, optimizer state and training metrics are
 * regnn_fit's bit for bit (short last batches and idle processes included);
 * validation metrics sum in another order. */
START_TEST(test_shards_reproduce_batch_norm)
{
    const size_t n = (size_t)_i + 2; /* 2, 3, 4 processes */
    const size_t batch = 32 * n;     /* 250 rows: last batch 58, 58, 122 rows (1, 1, 3 shards) */
    regnn_dataset *tr = synth(250, 3), *va = synth(37, 4);
    regnn_fit_options *fo = opts(4, (int64_t)batch);
    regnn_model *ref = bn_net();
    CK_OK(regnn_model_set_threads(ref, 1));
    ck_assert_uint_eq(rg_model_shards(ref, batch, NULL), n);
    regnn_optimizer *oref = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &oref));
    regnn_history *href = NULL;
    CK_OK(regnn_fit(ref, oref, tr, va, fo, &href));
    dp_shard sh[DP_MAX];
    memset(sh, 0, sizeof sh);
    for (size_t i = 0; i < n; i++) {
        sh[i].m = bn_net();
        CK_OK(regnn_model_set_threads(sh[i].m, i % 2 ? 3 : 1)); /* the same bits on any */
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &sh[i].o));
        sh[i].train = tr;
        sh[i].val = va;
        sh[i].opts = fo;
    }
    ck_assert_int_eq(dp_run(sh, n, regnn_model_param_count(ref)), 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(sh[i].st == REGNN_OK, "shard %zu: %s", i, sh[i].msg);
        char what[64];
        snprintf(what, sizeof what, "%zu processes, process %zu", n, i);
        same_state(ref, oref, sh[i].m, sh[i].o, what);
        static const int exact[] = {REGNN_METRIC_TRAIN_LOSS, REGNN_METRIC_TRAIN_MSE,
                                    REGNN_METRIC_TRAIN_MAE, REGNN_METRIC_TRAIN_PENALTY};
        double x[4], y[4];
        for (size_t k = 0; k < 4; k++) {
            CK_OK(regnn_history_get(href, exact[k], x, 4));
            CK_OK(regnn_history_get(sh[i].h, exact[k], y, 4));
            ck_assert_msg(memcmp(x, y, sizeof x) == 0, "%s: metric %d", what, exact[k]);
        }
        CK_OK(regnn_history_get(href, REGNN_METRIC_VAL_LOSS, x, 4));
        CK_OK(regnn_history_get(sh[i].h, REGNN_METRIC_VAL_LOSS, y, 4));
        for (size_t e = 0; e < 4; e++)
            ck_assert_msg(fabs(x[e] - y[e]) <= 1e-12 * fabs(x[e]), "%s: val loss", what);
        regnn_history_free(sh[i].h);
        regnn_optimizer_free(sh[i].o);
        regnn_model_free(sh[i].m);
    }
    /* The statistics moved: not the initial 0 and 1. */
    size_t nm;
    float *mv = moving_of(ref, &nm);
    ck_assert(mv[0] != 0.0f && mv[3] != 1.0f);
    free(mv);
    regnn_history_free(href);
    regnn_optimizer_free(oref);
    regnn_model_free(ref);
    regnn_fit_options_free(fo);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
}
END_TEST

/* One process with an exchange: regnn_fit's moving statistics too. */
START_TEST(test_exchange_one_shard_batch_norm)
{
    regnn_dataset *tr = synth(150, 3);
    regnn_fit_options *fo = opts(3, 40), *fx = NULL;
    CK_OK(regnn_fit_options_copy(fo, &fx));
    long calls = 0;
    CK_OK(regnn_fit_options_set_exchange(fx, sum_of_one, &calls));
    regnn_model *a = bn_net(), *b = bn_net();
    regnn_optimizer *oa = NULL, *ob = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &oa));
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &ob));
    CK_OK(regnn_fit(a, oa, tr, NULL, fo, NULL));
    CK_OK(regnn_fit(b, ob, tr, NULL, fx, NULL));
    ck_assert_int_gt(calls, 0);
    same_state(a, oa, b, ob, "one process with an exchange");
    regnn_optimizer_free(oa);
    regnn_optimizer_free(ob);
    regnn_model_free(a);
    regnn_model_free(b);
    regnn_fit_options_free(fo);
    regnn_fit_options_free(fx);
    regnn_dataset_free(tr);
}
END_TEST

/* Process 0 of 2 alone: its exchange returns the values as they are (the
 * other process's part -0 or 0), counts the gradient-sized calls and fails
 * the fail-th of them (0: none). */
typedef struct lone_exchange {
    size_t np, float_calls, fail;
} lone_exchange;

static int lone(void *user, float *grad, size_t n, double *sums, size_t n_sums)
{
    lone_exchange *x = user;
    (void)grad;
    (void)sums;
    (void)n_sums;
    if (n == 0)
        return 0;
    ck_assert_uint_eq(n, x->np);
    return ++x->float_calls == x->fail;
}

/* The gathers of one step of `rows` rows of bn_net: each BatchNormalization
 * layer's input, and the output gradient of those above the first layer,
 * in parameter-count calls. */
static size_t bn_gathers(size_t rows, size_t np)
{
    const size_t units[3] = {3, 24, 16}, backward[3] = {0, 1, 1};
    size_t c = 0;
    for (size_t k = 0; k < 3; k++)
        c += (1 + backward[k]) * ((rows * units[k] + np - 1) / np);
    return c;
}

/* The exchange's calls of a BatchNormalization fit, and a failure in a
 * gather of the forward or the backward: REGNN_E_IO, the model and optimizer
 * as they were, no call after it. */
START_TEST(test_shard_batch_norm_exchange)
{
    regnn_dataset *tr = synth(150, 3);
    regnn_fit_options *fo = opts(2, 64);
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_SHARD_COUNT, 2));
    regnn_model *m = bn_net();
    const size_t np = regnn_model_param_count(m);
    lone_exchange x = {np, 0, 0};
    CK_OK(regnn_fit_options_set_exchange(fo, lone, &x));
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    CK_OK(regnn_fit(m, o, tr, NULL, fo, NULL));
    /* per epoch: batches of 64, 64, 22 rows; each a gradient call and the gathers */
    ck_assert_uint_eq(x.float_calls, 2 * (3 + 2 * bn_gathers(64, np) + bn_gathers(22, np)));
    ck_assert_uint_gt(bn_gathers(64, np), 4); /* a gather of several calls */
    float *before, *after;
    size_t n;
    params_of(m, &before, &n);
    float *mv_before = moving_of(m, &n);
    const size_t forward = (64 * 3 + np - 1) / np + (64 * 24 + np - 1) / np +
                           (64 * 16 + np - 1) / np;
    const size_t fail_at[2] = {1, 1 + forward};
    for (size_t k = 0; k < 2; k++) { /* the first call; the first of the backward */
        x.float_calls = 0;
        x.fail = fail_at[k];
        CK_STATUS(regnn_fit(m, o, tr, NULL, fo, NULL), REGNN_E_IO);
        ck_assert_msg(strstr(regnn_errmsg(), "the exchange failed in epoch 1"), "%s",
                      regnn_errmsg());
        ck_assert_uint_eq(x.float_calls, fail_at[k]);
        params_of(m, &after, &n);
        ck_assert(memcmp(before, after, np * sizeof *after) == 0);
        free(after);
        float *mv = moving_of(m, &n);
        ck_assert(memcmp(mv_before, mv, n * sizeof *mv) == 0);
        free(mv);
        ck_assert_uint_eq(regnn_optimizer_steps(o), 6);
    }
    free(before);
    free(mv_before);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_fit_options_free(fo);
    regnn_dataset_free(tr);
}
END_TEST

/* A process whose noise layer has another rate: every process fails before
 * training, naming the layers' setting. */
START_TEST(test_shards_noise_rate_must_agree)
{
    regnn_dataset *tr = synth(60, 3);
    regnn_fit_options *fo = opts(2, 16);
    dp_shard sh[DP_MAX];
    memset(sh, 0, sizeof sh);
    for (size_t i = 0; i < 3; i++) {
        sh[i].m = drawing_net(1, i == 2 ? 0.25 : 0.2);
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &sh[i].o));
        sh[i].train = tr;
        sh[i].opts = fo;
    }
    ck_assert_int_eq(dp_run(sh, 3, regnn_model_param_count(sh[0].m)), 0);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(sh[i].st, REGNN_E_INVALID_ARG);
        ck_assert_msg(strstr(sh[i].msg, "setting 'model.layers' differs: rank 0 vs rank 2"),
                      "shard %zu: %s", i, sh[i].msg);
        ck_assert_uint_eq(regnn_optimizer_steps(sh[i].o), 0);
        regnn_optimizer_free(sh[i].o);
        regnn_model_free(sh[i].m);
    }
    regnn_fit_options_free(fo);
    regnn_dataset_free(tr);
}
END_TEST

/* A shard that fails before training makes every shard fail, none hangs. */
START_TEST(test_shard_failure_reaches_all)
{
    regnn_dataset *tr = synth(100, 3), *va = synth(20, 4), *bad = NULL;
    float x[8] = {0}, y[2] = {0};
    CK_OK(regnn_dataset_from_arrays(x, y, 2, 4, 1, REGNN_COPY, &bad)); /* 4 features, not 3 */
    regnn_fit_options *fo = opts(3, 16);
    dp_shard sh[DP_MAX];
    memset(sh, 0, sizeof sh);
    for (size_t i = 0; i < 3; i++) {
        sh[i].m = net(8, 1, 0.0, 9);
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &sh[i].o));
        sh[i].train = tr;
        sh[i].val = i == 2 ? bad : va;
        sh[i].opts = fo;
    }
    float *before;
    size_t np;
    params_of(sh[0].m, &before, &np);
    ck_assert_int_eq(dp_run(sh, 3, np), 0);
    ck_assert_int_eq(sh[0].st, REGNN_E_STATE);
    ck_assert_int_eq(sh[1].st, REGNN_E_STATE);
    ck_assert_int_eq(sh[2].st, REGNN_E_SHAPE);
    /* every message names the failing rank and its reason */
    ck_assert_msg(strstr(sh[2].msg, "validation data has 4 features") != NULL, "%s", sh[2].msg);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_msg(strstr(sh[i].msg, "rank 2 of the data-parallel fit failed before training "
                                        "(shape mismatch): regnn_fit: validation data has 4 "
                                        "features") != NULL, "shard %zu: %s", i, sh[i].msg);
    }
    for (size_t i = 0; i < 3; i++) {
        float *after;
        params_of(sh[i].m, &after, &np);
        ck_assert(memcmp(before, after, np * sizeof *after) == 0);
        free(after);
        ck_assert_ptr_null(sh[i].h);
        regnn_optimizer_free(sh[i].o);
        regnn_model_free(sh[i].m);
    }
    free(before);
    regnn_fit_options_free(fo);
    regnn_dataset_free(tr);
    regnn_dataset_free(va);
    regnn_dataset_free(bad);
}
END_TEST

START_TEST(test_shard_option_errors)
{
    regnn_dataset *tr = synth(50, 3);
    regnn_model *m = net(8, 1, 0.0, 1);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    regnn_fit_options *fo = opts(1, 16);
    CK_STATUS(regnn_fit_options_set_int(fo, REGNN_FIT_SHARD_COUNT, 0), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_int(fo, REGNN_FIT_SHARD_COUNT, 65537), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_options_set_int(fo, REGNN_FIT_SHARD_INDEX, -1), REGNN_E_INVALID_ARG);
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_SHARD_COUNT, 2));
    CK_STATUS(regnn_fit(m, o, tr, NULL, fo, NULL), REGNN_E_INVALID_ARG); /* no exchange */
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "needs an exchange"));
    long calls = 0;
    CK_OK(regnn_fit_options_set_exchange(fo, sum_of_one, &calls));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_SHARD_INDEX, 2));
    CK_STATUS(regnn_fit(m, o, tr, NULL, fo, NULL), REGNN_E_INVALID_ARG);
    ck_assert_int_gt(calls, 0); /* the failure was still announced */
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_SHARD_INDEX, 1));
    int64_t v = 0;
    regnn_fit_options *c = NULL;
    CK_OK(regnn_fit_options_copy(fo, &c));
    CK_OK(regnn_fit_options_get_int(c, REGNN_FIT_SHARD_INDEX, &v));
    ck_assert_int_eq(v, 1);
    regnn_fit_options_free(c);
    CK_STATUS(regnn_fit_options_copy(NULL, &c), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(c);
    CK_STATUS(regnn_fit_options_set_exchange(NULL, NULL, NULL), REGNN_E_INVALID_ARG);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(tr);
}
END_TEST

/* ---- the settings fingerprint (src/train/settings.c) and the start of a
 * data-parallel fit (src/train/dp_sync.c) ---- */

typedef struct fp_parts {
    regnn_model *m;
    regnn_optimizer *o;
    regnn_dataset *tr, *va;
    regnn_fit_options *fo;
} fp_parts;

static void fp_build(fp_parts *p, int kind)
{
    p->m = net(8, 1, 1e-3, 5);
    CK_OK(regnn_model_set_loss(p->m, REGNN_LOSS_HUBER, 1.0));
    CK_OK(regnn_optimizer_create(kind, &p->o));
    p->tr = synth(40, 1);
    p->va = synth(20, 2);
    p->fo = opts(2, 16);
}

static void fp_free(fp_parts *p)
{
    regnn_model_free(p->m);
    regnn_optimizer_free(p->o);
    regnn_dataset_free(p->tr);
    regnn_dataset_free(p->va);
    regnn_fit_options_free(p->fo);
}

static void fp_of(const fp_parts *p, uint64_t out[RG_SETTINGS_COUNT])
{
    const rg_fit_setup s = {p->m, p->o, p->tr, p->va, p->fo, NULL};
    rg_settings_fingerprint(&s, out);
}

static void fp_layer(fp_parts *p, int key, double v)
{
    CK_OK(regnn_layer_set_double(regnn_model_layer(p->m, 1), key, v));
}
static void fp_fit_int(fp_parts *p, int key, int64_t v) { CK_OK(regnn_fit_options_set_int(p->fo, key, v)); }
static void fp_fit_dbl(fp_parts *p, int key, double v) { CK_OK(regnn_fit_options_set_double(p->fo, key, v)); }
static void fp_opt(fp_parts *p, int key, double v) { CK_OK(regnn_optimizer_set_double(p->o, key, v)); }

/* One change per entry of the table, made as a caller would where the API can. */
static void fp_change(fp_parts *p, const char *name)
{
    if (!strcmp(name, "model.inputs")) {
        p->m->n_in++; /* no public way without other changes */
    } else if (!strcmp(name, "model.layers")) {
        regnn_model_free(p->m);
        p->m = net(9, 1, 1e-3, 5);
        CK_OK(regnn_model_set_loss(p->m, REGNN_LOSS_HUBER, 1.0));
    } else if (!strcmp(name, "layer.activation")) {
        p->m->layers[0]->act = REGNN_ACT_TANH; /* set only when a layer is added */
    } else if (!strcmp(name, "layer.l2")) {
        fp_layer(p, REGNN_LAYER_L2, 0.5);
    } else if (!strcmp(name, "layer.l1")) {
        fp_layer(p, REGNN_LAYER_L1, 0.5);
    } else if (!strcmp(name, "layer.dropout")) {
        fp_layer(p, REGNN_LAYER_DROPOUT, 0.25);
    } else if (!strcmp(name, "layer.bias_l2")) {
        fp_layer(p, REGNN_LAYER_BIAS_L2, 0.5);
    } else if (!strcmp(name, "layer.bias_l1")) {
        fp_layer(p, REGNN_LAYER_BIAS_L1, 0.5);
    } else if (!strcmp(name, "layer.max_norm")) {
        fp_layer(p, REGNN_LAYER_MAX_NORM, 2.0);
    } else if (!strcmp(name, "layer.min_norm")) {
        fp_layer(p, REGNN_LAYER_MIN_NORM, 0.5);
    } else if (!strcmp(name, "layer.norm_rate")) {
        fp_layer(p, REGNN_LAYER_NORM_RATE, 0.5);
    } else if (!strcmp(name, "layer.non_neg")) {
        fp_layer(p, REGNN_LAYER_NON_NEG, 1.0);
    } else if (!strcmp(name, "layer.unit_norm")) {
        fp_layer(p, REGNN_LAYER_UNIT_NORM, 1.0);
    } else if (!strcmp(name, "layer.activity_l2")) {
        fp_layer(p, REGNN_LAYER_ACTIVITY_L2, 0.5);
    } else if (!strcmp(name, "layer.activity_l1")) {
        fp_layer(p, REGNN_LAYER_ACTIVITY_L1, 0.5);
    } else if (!strcmp(name, "model.loss")) {
        CK_OK(regnn_model_set_loss(p->m, REGNN_LOSS_MAE, 0.0));
    } else if (!strcmp(name, "model.loss_param")) {
        CK_OK(regnn_model_set_loss(p->m, REGNN_LOSS_HUBER, 2.0));
    } else if (!strcmp(name, "model.seed")) {
        CK_OK(regnn_model_init(p->m, REGNN_INIT_GLOROT_UNIFORM, 6));
    } else if (!strcmp(name, "model.params")) {
        float w[256];
        size_t n = regnn_model_param_count(p->m);
        ck_assert_uint_le(n, 256);
        CK_OK(regnn_model_get_params(p->m, w, n));
        w[n - 1] += 0.25f;
        CK_OK(regnn_model_set_params(p->m, w, n));
    } else if (!strcmp(name, "optimizer.kind")) {
        regnn_optimizer_free(p->o);
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &p->o));
    } else if (!strcmp(name, "optimizer.learning_rate")) {
        fp_opt(p, REGNN_OPT_LEARNING_RATE, 0.5);
    } else if (!strcmp(name, "optimizer.beta_1")) {
        fp_opt(p, REGNN_OPT_BETA1, 0.5);
    } else if (!strcmp(name, "optimizer.beta_2")) {
        fp_opt(p, REGNN_OPT_BETA2, 0.5);
    } else if (!strcmp(name, "optimizer.epsilon")) {
        fp_opt(p, REGNN_OPT_EPSILON, 1e-3);
    } else if (!strcmp(name, "optimizer.weight_decay")) {
        fp_opt(p, REGNN_OPT_WEIGHT_DECAY, 1e-3);
    } else if (!strcmp(name, "optimizer.momentum")) {
        fp_opt(p, REGNN_OPT_MOMENTUM, 0.5);
    } else if (!strcmp(name, "optimizer.nesterov")) {
        fp_opt(p, REGNN_OPT_NESTEROV, 1.0);
    } else if (!strcmp(name, "optimizer.rho")) {
        fp_opt(p, REGNN_OPT_RHO, 0.5);
    } else if (!strcmp(name, "optimizer.initial_accumulator")) {
        fp_opt(p, REGNN_OPT_INITIAL_ACCUMULATOR, 0.5);
    } else if (!strcmp(name, "optimizer.schedule")) {
        static const double ex[] = {0.01, 100.0, 0.9};
        CK_OK(regnn_optimizer_set_schedule(p->o, REGNN_SCHEDULE_EXPONENTIAL, ex, 3));
    } else if (!strcmp(name, "optimizer.steps")) {
        CK_OK(regnn_optimizer_set_steps(p->o, 5));
    } else if (!strcmp(name, "optimizer.state")) {
        CK_OK(rg_optimizer_bind(p->o, regnn_model_param_count(p->m)));
        const float *om, *ov;
        (void)rg_optimizer_state(p->o, &om, &ov);
        ((float *)om)[0] = 0.5f; /* the optimizer's own storage */
    } else if (!strcmp(name, "fit.epochs")) {
        fp_fit_int(p, REGNN_FIT_EPOCHS, 3);
    } else if (!strcmp(name, "fit.batch_size")) {
        fp_fit_int(p, REGNN_FIT_BATCH_SIZE, 8);
    } else if (!strcmp(name, "fit.shuffle")) {
        fp_fit_int(p, REGNN_FIT_SHUFFLE, 0);
    } else if (!strcmp(name, "fit.validation_split")) {
        fp_fit_dbl(p, REGNN_FIT_VALIDATION_SPLIT, 0.25);
    } else if (!strcmp(name, "fit.eval_train")) {
        fp_fit_int(p, REGNN_FIT_EVAL_TRAIN, 1);
    } else if (!strcmp(name, "fit.early_stopping")) {
        fp_fit_int(p, REGNN_FIT_EARLY_STOPPING, 1);
    } else if (!strcmp(name, "fit.patience")) {
        fp_fit_int(p, REGNN_FIT_PATIENCE, 3);
    } else if (!strcmp(name, "fit.restore_best")) {
        fp_fit_int(p, REGNN_FIT_RESTORE_BEST, 1);
    } else if (!strcmp(name, "fit.monitor")) {
        fp_fit_int(p, REGNN_FIT_MONITOR, REGNN_MONITOR_TRAIN_LOSS);
    } else if (!strcmp(name, "fit.min_delta")) {
        fp_fit_dbl(p, REGNN_FIT_MIN_DELTA, 0.01);
    } else if (!strcmp(name, "fit.reduce_lr")) {
        fp_fit_int(p, REGNN_FIT_REDUCE_LR, 1);
    } else if (!strcmp(name, "fit.reduce_lr_patience")) {
        fp_fit_int(p, REGNN_FIT_REDUCE_LR_PATIENCE, 3);
    } else if (!strcmp(name, "fit.reduce_lr_cooldown")) {
        fp_fit_int(p, REGNN_FIT_REDUCE_LR_COOLDOWN, 2);
    } else if (!strcmp(name, "fit.reduce_lr_factor")) {
        fp_fit_dbl(p, REGNN_FIT_REDUCE_LR_FACTOR, 0.5);
    } else if (!strcmp(name, "fit.reduce_lr_min_delta")) {
        fp_fit_dbl(p, REGNN_FIT_REDUCE_LR_MIN_DELTA, 0.01);
    } else if (!strcmp(name, "fit.reduce_lr_min_lr")) {
        fp_fit_dbl(p, REGNN_FIT_REDUCE_LR_MIN_LR, 1e-5);
    } else if (!strcmp(name, "fit.shard_count")) {
        fp_fit_int(p, REGNN_FIT_SHARD_COUNT, 2);
    } else if (!strcmp(name, "data.train")) {
        regnn_dataset_free(p->tr);
        p->tr = synth(40, 9);
    } else if (!strcmp(name, "data.train_weights")) {
        float w[40];
        for (size_t i = 0; i < 40; i++)
            w[i] = 1.0f;
        CK_OK(regnn_dataset_set_weights(p->tr, w, 40));
    } else if (!strcmp(name, "data.val")) {
        regnn_dataset_free(p->va);
        p->va = synth(20, 9);
    } else if (!strcmp(name, "data.val_weights")) {
        float w[20];
        for (size_t i = 0; i < 20; i++)
            w[i] = (float)(i % 3);
        CK_OK(regnn_dataset_set_weights(p->va, w, 20));
    } else {
        ck_abort_msg("no change for the setting '%s': add one to fp_change", name);
    }
}

/* SGD, RMSprop or Adagrad for the settings only they have, else Adam. */
static int fp_kind(const char *name)
{
    if (!strcmp(name, "optimizer.rho"))
        return REGNN_OPTIM_RMSPROP;
    if (!strcmp(name, "optimizer.initial_accumulator"))
        return REGNN_OPTIM_ADAGRAD;
    return !strcmp(name, "optimizer.momentum") || !strcmp(name, "optimizer.nesterov")
               ? REGNN_OPTIM_SGD
               : REGNN_OPTIM_ADAM;
}

/* Each entry's hash changes with its setting, and it is the first that does
 * (so a mismatch names it); what does not change results changes nothing. */
START_TEST(test_settings_fingerprint_entries)
{
    ck_assert_ptr_null(rg_settings_name(RG_SETTINGS_COUNT));
    for (size_t i = 0; i < RG_SETTINGS_COUNT; i++) {
        const char *name = rg_settings_name(i);
        ck_assert_ptr_nonnull(name);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(rg_settings_name(j), name);
        if (!strncmp(name, "path.", 5) || !strcmp(name, "data.test"))
            continue; /* a path's settings: check_path */
        fp_parts a, b;
        uint64_t fa[RG_SETTINGS_COUNT], fb[RG_SETTINGS_COUNT];
        fp_build(&a, fp_kind(name));
        fp_build(&b, fp_kind(name));
        fp_of(&a, fa);
        fp_change(&b, name);
        fp_of(&b, fb);
        size_t first = 0;
        while (first < RG_SETTINGS_COUNT && fa[first] == fb[first])
            first++;
        ck_assert_msg(first == i, "changing '%s' changed '%s' first", name,
                      first < RG_SETTINGS_COUNT ? rg_settings_name(first) : "nothing");
        if (!strcmp(name, "model.inputs"))
            b.m->n_in--;
        fp_free(&a);
        fp_free(&b);
    }
    fp_parts a, b;
    uint64_t fa[RG_SETTINGS_COUNT], fb[RG_SETTINGS_COUNT];
    fp_build(&a, REGNN_OPTIM_ADAM);
    fp_build(&b, REGNN_OPTIM_ADAM);
    fp_of(&a, fa);
    CK_OK(regnn_model_set_threads(b.m, 3));
    fp_fit_int(&b, REGNN_FIT_SHARD_INDEX, 1);
    CK_OK(regnn_fit_options_set_callback(b.fo, stop_shard1_at_2, NULL));
    fp_of(&b, fb);
    ck_assert(memcmp(fa, fb, sizeof fa) == 0);
    fp_free(&a);
    fp_free(&b);
}
END_TEST

/* Every key the public setters take changes the fingerprint (the shard index
 * aside), so a setting added to the API but not to the table fails here. */
enum { FP_FIT_INT, FP_FIT_DOUBLE, FP_OPTIMIZER, FP_LAYER };

static int fp_try(fp_parts *p, int where, int key, int *is_key)
{
    static const double cand[] = {0.5, 0.25, 1.0, 2.0, 3.0, 1e-3, 0.0};
    double v = 0.0;
    int64_t iv = 0;
    regnn_layer *l = regnn_model_layer(p->m, 1);
    switch (where) {
    case FP_FIT_INT: *is_key = regnn_fit_options_get_int(p->fo, key, &iv) == REGNN_OK; break;
    case FP_FIT_DOUBLE: *is_key = regnn_fit_options_get_double(p->fo, key, &v) == REGNN_OK; break;
    case FP_OPTIMIZER: *is_key = regnn_optimizer_get_double(p->o, key, &v) == REGNN_OK; break;
    default: *is_key = regnn_layer_get_double(l, key, &v) == REGNN_OK; break;
    }
    if (!*is_key)
        return 0;
    for (size_t k = 0; k < sizeof cand / sizeof cand[0]; k++) {
        regnn_status st;
        if (where == FP_FIT_INT) {
            if ((int64_t)cand[k] == iv || cand[k] != (double)(int64_t)cand[k])
                continue;
            st = regnn_fit_options_set_int(p->fo, key, (int64_t)cand[k]);
        } else {
            if (cand[k] == v)
                continue;
            st = where == FP_FIT_DOUBLE ? regnn_fit_options_set_double(p->fo, key, cand[k])
                 : where == FP_OPTIMIZER ? regnn_optimizer_set_double(p->o, key, cand[k])
                                         : regnn_layer_set_double(l, key, cand[k]);
        }
        if (st == REGNN_OK)
            return 1;
    }
    return 0;
}

START_TEST(test_settings_fingerprint_public_keys)
{
    static const struct {
        int where, kind;
    } sets[] = {{FP_FIT_INT, REGNN_OPTIM_ADAM},   {FP_FIT_DOUBLE, REGNN_OPTIM_ADAM},
                {FP_OPTIMIZER, REGNN_OPTIM_ADAM}, {FP_OPTIMIZER, REGNN_OPTIM_SGD},
                {FP_LAYER, REGNN_OPTIM_ADAM}};
    size_t found = 0;
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        for (int key = 0; key < 256; key++) {
            fp_parts a, b;
            uint64_t fa[RG_SETTINGS_COUNT], fb[RG_SETTINGS_COUNT];
            fp_build(&a, sets[s].kind);
            fp_build(&b, sets[s].kind);
            fp_of(&a, fa);
            int is_key = 0;
            const int changed = fp_try(&b, sets[s].where, key, &is_key);
            if (is_key) {
                found++;
                ck_assert_msg(changed, "set %zu key %d: no other value accepted", s, key);
                fp_of(&b, fb);
                const int same = memcmp(fa, fb, sizeof fa) == 0;
                if (sets[s].where == FP_FIT_INT && key == REGNN_FIT_SHARD_INDEX)
                    ck_assert_msg(same, "the shard index changed the fingerprint");
                else
                    ck_assert_msg(!same, "set %zu key %d does not change the fingerprint", s, key);
            }
            fp_free(&a);
            fp_free(&b);
        }
    }
    ck_assert_uint_ge(found, 16 + 5 + 5 + 3); /* the keys of regnn.h today, at least */
}
END_TEST

/* One shard of three holds another setting: every shard fails before
 * training, naming the setting and the ranks; nothing changes. */
static const char *const dp_differs[] = {
    "optimizer.learning_rate", "layer.l2", "optimizer.schedule", "model.loss", "layer.activation",
    "data.train_weights", "model.seed", "data.train", "fit.epochs", "layer.dropout"};

START_TEST(test_shard_settings_must_agree)
{
    const char *name = dp_differs[_i];
    fp_parts p[3];
    dp_shard sh[DP_MAX];
    memset(sh, 0, sizeof sh);
    for (size_t i = 0; i < 3; i++) {
        fp_build(&p[i], REGNN_OPTIM_ADAM);
        if (i == 2)
            fp_change(&p[i], name);
        sh[i].m = p[i].m;
        sh[i].o = p[i].o;
        sh[i].train = p[i].tr;
        sh[i].val = p[i].va;
        sh[i].opts = p[i].fo;
    }
    float *before;
    size_t np;
    params_of(p[0].m, &before, &np);
    ck_assert_int_eq(dp_run(sh, 3, np), 0);
    char want[128];
    snprintf(want, sizeof want, "setting '%s' differs: rank 0 vs rank 2", name);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(sh[i].st, REGNN_E_INVALID_ARG);
        ck_assert_msg(strstr(sh[i].msg, want) != NULL, "shard %zu: %s", i, sh[i].msg);
        ck_assert_ptr_null(sh[i].h);
        ck_assert_uint_eq(regnn_optimizer_steps(p[i].o), 0);
        ck_assert_uint_eq(regnn_optimizer_state_size(p[i].o), 0);
        if (i < 2) {
            float *after;
            params_of(p[i].m, &after, &np);
            ck_assert(memcmp(before, after, np * sizeof *after) == 0);
            free(after);
        }
        fp_free(&p[i]);
    }
    free(before);
}
END_TEST

/* A process that fails before it can call regnn_fit tells the others, whose
 * fits fail naming its rank, status and message. */
START_TEST(test_exchange_failure_before_fit)
{
    fp_parts p[3];
    dp_shard sh[DP_MAX];
    memset(sh, 0, sizeof sh);
    for (size_t i = 0; i < 3; i++) {
        fp_build(&p[i], REGNN_OPTIM_ADAM);
        sh[i].m = p[i].m;
        sh[i].o = p[i].o;
        sh[i].train = p[i].tr;
        sh[i].val = p[i].va;
        sh[i].opts = p[i].fo;
    }
    sh[1].fail = REGNN_E_NOMEM;
    sh[1].why = "loader: out of memory for 12 GB of rows";
    ck_assert_int_eq(dp_run(sh, 3, regnn_model_param_count(p[0].m)), 0);
    CK_OK(sh[1].st);
    for (size_t i = 0; i < 3; i += 2) {
        ck_assert_int_eq(sh[i].st, REGNN_E_STATE);
        ck_assert_msg(strstr(sh[i].msg, "rank 1 of the data-parallel fit failed before training "
                                        "(out of memory): loader: out of memory for 12 GB of rows"),
                      "shard %zu: %s", i, sh[i].msg);
        ck_assert_uint_eq(regnn_optimizer_steps(p[i].o), 0);
    }
    for (size_t i = 0; i < 3; i++)
        fp_free(&p[i]);
    /* refused: no options, no exchange, a status that is not a failure */
    regnn_fit_options *fo = opts(1, 8);
    CK_STATUS(regnn_fit_exchange_failure(NULL, REGNN_E_NOMEM, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_fit_exchange_failure(fo, REGNN_E_NOMEM, NULL), REGNN_E_INVALID_ARG);
    long calls = 0;
    CK_OK(regnn_fit_options_set_exchange(fo, sum_of_one, &calls));
    CK_STATUS(regnn_fit_exchange_failure(fo, REGNN_OK, NULL), REGNN_E_INVALID_ARG);
    ck_assert_int_eq(calls, 0);
    regnn_fit_options_free(fo);
}
END_TEST

/* Two shards differ from rank 0 in different settings: the first setting of
 * the table is named, with the lowest rank that differs in it. */
START_TEST(test_shard_settings_first_difference)
{
    fp_parts p[4];
    dp_shard sh[DP_MAX];
    memset(sh, 0, sizeof sh);
    for (size_t i = 0; i < 4; i++) {
        fp_build(&p[i], REGNN_OPTIM_ADAM);
        if (i == 1)
            fp_change(&p[i], "data.train");
        if (i >= 2)
            fp_change(&p[i], "optimizer.learning_rate");
        sh[i].m = p[i].m;
        sh[i].o = p[i].o;
        sh[i].train = p[i].tr;
        sh[i].val = p[i].va;
        sh[i].opts = p[i].fo;
    }
    ck_assert_int_eq(dp_run(sh, 4, regnn_model_param_count(p[0].m)), 0);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(sh[i].st, REGNN_E_INVALID_ARG);
        ck_assert_msg(strstr(sh[i].msg, "'optimizer.learning_rate' differs: rank 0 vs rank 2"),
                      "shard %zu: %s", i, sh[i].msg);
        fp_free(&p[i]);
    }
}
END_TEST

/* Counts the exchange's calls and adds 1 to every value (a stand-in for the
 * sum over processes). */
static int plus_one_exchange(void *user, float *g, size_t n, double *sums, size_t n_sums)
{
    ++*(int *)user;
    for (size_t i = 0; i < n; i++)
        g[i] += 1.0f;
    for (size_t i = 0; i < n_sums; i++)
        sums[i] += 1.0;
    return 0;
}

/* The exchange interface: in one process every part is the whole and no sum
 * changes a value; with an exchange, a process's share and the sums. */
START_TEST(test_dp_interface)
{
    regnn_model *m = net(8, 1, 0.0, 1);
    regnn_fit_options *fo;
    CK_OK(regnn_fit_options_create(&fo));
    rg_dp d;
    rg_dp_init(&d, fo, m, 32);
    ck_assert_int_eq(rg_dp_active(&d), 0);
    size_t lo = 9, n = 9;
    rg_dp_share(&d, 10, &lo, &n);
    ck_assert_uint_eq(lo, 0);
    ck_assert_uint_eq(n, 10);
    ck_assert_uint_eq(rg_dp_batch_part(&d, m, 10, &lo, &n), 0);
    ck_assert_uint_eq(n, 10);
    double v[2] = {1.5, -0.0};
    float g[1] = {2.0f};
    ck_assert_int_eq(rg_dp_sum(&d, g, 1, v, 2), 0);
    ck_assert(v[0] == 1.5 && signbit(v[1]) && g[0] == 2.0f);
    ck_assert_int_eq(rg_dp_any(&d, 0), 0);
    ck_assert_int_eq(rg_dp_any(&d, 1), 1);

    int calls = 0;
    CK_OK(regnn_fit_options_set_exchange(fo, plus_one_exchange, &calls));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_SHARD_COUNT, 3));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_SHARD_INDEX, 2));
    rg_dp_init(&d, fo, m, 32);
    ck_assert_int_eq(rg_dp_active(&d), 1);
    rg_dp_share(&d, 10, &lo, &n);
    ck_assert_uint_eq(lo, 6);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(rg_dp_sum(&d, g, 1, v, 2), 0);
    ck_assert(v[0] == 2.5 && v[1] == 1.0 && g[0] == 3.0f);
    ck_assert_int_eq(rg_dp_any(&d, 0), 1); /* the stand-in's +1: another process's vote */
    ck_assert_int_eq(calls, 2);
    regnn_fit_options_free(fo);
    regnn_model_free(m);
}
END_TEST

static Suite *fit_suite(void)
{
    Suite *s = suite_create("fit");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_learns_regression);
    tcase_add_test(tc, test_history_semantics);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_shuffle_off_and_partial_batch);
    tcase_add_test(tc, test_early_stopping_and_restore);
    tcase_add_test(tc, test_callback_stops);
    tcase_add_test(tc, test_options);
    tcase_add_test(tc, test_option_messages);
    tcase_add_test(tc, test_fit_errors_leave_state);
    tcase_add_test(tc, test_divergence_restores);
    tcase_add_test(tc, test_overflow_is_numeric);
    tcase_add_test(tc, test_zero_allocations_per_step);
    tcase_add_test(tc, test_alloc_failure_fit);
    tcase_add_test(tc, test_callback_cannot_pull_the_rug);
    tcase_add_test(tc, test_update_overflow_fit);
    tcase_add_test(tc, test_update_overflow_train_batch);
    tcase_add_test(tc, test_nonfinite_loss_leaves_optimizer_unbound);
    tcase_add_test(tc, test_history_follows_epochs_run);
    tcase_add_test(tc, test_history_growth);
    tcase_add_test(tc, test_step_count_limit);
    tcase_add_test(tc, test_restore_best_without_early_stopping);
    tcase_add_test(tc, test_min_delta_best_epoch_rule);
    tcase_add_test(tc, test_exchange_one_shard_is_plain_fit);
    tcase_add_loop_test(tc, test_shards_agree_and_match_plain_fit, 0, 3);
    tcase_add_loop_test(tc, test_shards_reproduce_one_process_fit, 0, 3);
    tcase_add_loop_test(tc, test_shards_reproduce_draws, 0, 9);
    tcase_add_test(tc, test_shards_noise_rate_must_agree);
    tcase_add_loop_test(tc, test_shards_reproduce_batch_norm, 0, 3);
    tcase_add_test(tc, test_exchange_one_shard_batch_norm);
    tcase_add_test(tc, test_shard_batch_norm_exchange);
    tcase_add_test(tc, test_shard_failure_reaches_all);
    tcase_add_test(tc, test_shard_option_errors);
    tcase_add_test(tc, test_settings_fingerprint_entries);
    tcase_add_test(tc, test_settings_fingerprint_public_keys);
    tcase_add_loop_test(tc, test_shard_settings_must_agree, 0,
                        (int)(sizeof dp_differs / sizeof dp_differs[0]));
    tcase_add_test(tc, test_shard_settings_first_difference);
    tcase_add_test(tc, test_exchange_failure_before_fit);
    tcase_add_test(tc, test_dp_interface);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(fit_suite)
