/* SPDX-License-Identifier: MIT */
/* Fault injection over every public function that allocates: allocation
 * 1, 2, ... N fails in turn (once, then persistently) until the call succeeds.
 * Each failure must return REGNN_E_NOMEM, set outputs to NULL, leak nothing,
 * and leave the caller's objects bit-identical and usable. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "testutil.h"
#include "model/model_impl.h" /* the model's fields, which this test reads or breaks */

#include <string.h>
#include <unistd.h>

typedef struct {
    /* caller-owned objects shared by all operations (never changed on success) */
    regnn_dataset *ds;
    regnn_scaler *sc;
    regnn_model *m, *wide;
    regnn_optimizer *o;
    regnn_fit_options *fo;
    regnn_path_options *po;
    unsigned char *ckpt;
    size_t ckpt_len;
    char dir[64], csv_path[128], model_path[128], ckpt_path[128], out_path[128];
    /* per-attempt scratch objects that a successful call may change */
    regnn_model *sm;
    regnn_optimizer *so;
    regnn_path_options *spo;
    regnn_dataset *sds;
    /* outputs of the operation under test */
    void *out[3];
} fixture;

static const char CSV[] = "a,b,y\n1,2,3\n4,5,6\n7,8,9.5\n-1,0.5,2\n";

static regnn_model *small_model(uint64_t seed)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(2, &m));
    CK_OK(regnn_model_add_dense(m, 6, REGNN_ACT_TANH, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, 1e-3));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    return m;
}

static void setup(fixture *f)
{
    memset(f, 0, sizeof *f);
    float x[40], y[20];
    for (int i = 0; i < 20; i++) {
        x[2 * i] = (float)i / 10;
        x[2 * i + 1] = (float)(i % 3);
        y[i] = x[2 * i] - x[2 * i + 1];
    }
    CK_OK(regnn_dataset_from_arrays(x, y, 20, 2, 1, REGNN_COPY, &f->ds));
    float w[20];
    for (int i = 0; i < 20; i++)
        w[i] = 0.5f * (float)(i % 4);
    CK_OK(regnn_dataset_set_weights(f->ds, w, 20));
    CK_OK(regnn_scaler_fit(f->ds, REGNN_SCALE_ZSCORE, REGNN_SCALE_ZSCORE, &f->sc));
    f->m = small_model(1);
    CK_OK(regnn_model_attach_scaler(f->m, f->sc));
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &f->o));
    CK_OK(regnn_fit_options_create(&f->fo));
    CK_OK(regnn_fit_options_set_int(f->fo, REGNN_FIT_EPOCHS, 2));
    CK_OK(regnn_fit_options_set_int(f->fo, REGNN_FIT_BATCH_SIZE, 8));
    CK_OK(regnn_fit_options_set_double(f->fo, REGNN_FIT_VALIDATION_SPLIT, 0.25));
    CK_OK(regnn_fit(f->m, f->o, f->ds, NULL, f->fo, NULL));
    CK_OK(regnn_model_create(2, &f->wide));
    CK_OK(regnn_model_add_dense(f->wide, 3000, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(f->wide, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(f->wide, REGNN_INIT_GLOROT_UNIFORM, 2));
    CK_OK(regnn_path_options_create(&f->po));
    double lambdas[2] = {0.0, 1e-2};
    CK_OK(regnn_path_options_set_lambdas(f->po, lambdas, 2));
    CK_OK(regnn_path_options_set_int(f->po, REGNN_PATH_THREADS, 1));
    CK_OK(regnn_checkpoint_save_mem(f->m, f->o, NULL, 0, &f->ckpt_len));
    f->ckpt = malloc(f->ckpt_len);
    CK_OK(regnn_checkpoint_save_mem(f->m, f->o, f->ckpt, f->ckpt_len, &f->ckpt_len));
    strcpy(f->dir, "/tmp/regnn_faultsXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(f->dir));
    snprintf(f->csv_path, sizeof f->csv_path, "%s/d.csv", f->dir);
    snprintf(f->model_path, sizeof f->model_path, "%s/m.rgn", f->dir);
    snprintf(f->ckpt_path, sizeof f->ckpt_path, "%s/c.rgn", f->dir);
    snprintf(f->out_path, sizeof f->out_path, "%s/out.rgn", f->dir);
    FILE *fp = fopen(f->csv_path, "w");
    fputs(CSV, fp);
    fclose(fp);
    CK_OK(regnn_model_save(f->m, f->model_path));
    CK_OK(regnn_checkpoint_save(f->m, f->o, f->ckpt_path));
}

static void teardown(fixture *f)
{
    unlink(f->csv_path);
    unlink(f->model_path);
    unlink(f->ckpt_path);
    unlink(f->out_path);
    rmdir(f->dir);
    free(f->ckpt);
    regnn_path_options_free(f->po);
    regnn_fit_options_free(f->fo);
    regnn_optimizer_free(f->o);
    regnn_model_free(f->m);
    regnn_model_free(f->wide);
    regnn_scaler_free(f->sc);
    regnn_dataset_free(f->ds);
}

/* Everything the caller owns, as bytes: the trained model and optimizer (with
 * RNG and scaler) through the checkpoint writer, plus the scratch pair. */
static size_t fingerprint(const fixture *f, unsigned char *buf, size_t cap)
{
    size_t n = 0, len = 0;
    CK_OK(regnn_checkpoint_save_mem(f->m, f->o, buf, cap, &len));
    n += len;
    if (f->sm) {
        regnn_optimizer *o = f->so;
        regnn_optimizer *tmp = NULL;
        if (!o) {
            CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &tmp));
            o = tmp;
        }
        /* An unbound optimizer and an uninitialized model still fingerprint. */
        const float *om, *ov;
        const size_t on = rg_optimizer_state(o, &om, &ov);
        if (f->sm->initialized && (on == 0 || on == f->sm->n_params)) {
            CK_OK(regnn_checkpoint_save_mem(f->sm, o, buf + n, cap - n, &len));
            n += len;
        }
        memcpy(buf + n, &f->sm->n_layers, sizeof f->sm->n_layers);
        n += sizeof f->sm->n_layers;
        if (f->so) {
            const uint64_t steps = regnn_optimizer_steps(f->so);
            const size_t bound = rg_optimizer_state(f->so, &om, &ov);
            memcpy(buf + n, &steps, sizeof steps);
            n += sizeof steps;
            memcpy(buf + n, &bound, sizeof bound);
            n += sizeof bound;
        }
        regnn_optimizer_free(tmp);
    }
    if (f->spo) {
        double l[8];
        size_t nl = 0;
        CK_OK(regnn_path_options_get_lambdas(f->spo, l, 8, &nl));
        memcpy(buf + n, &nl, sizeof nl);
        n += sizeof nl;
        memcpy(buf + n, l, nl * sizeof *l);
        n += nl * sizeof *l;
    }
    float feats[40];
    CK_OK(regnn_dataset_get_features(f->ds, feats, 40));
    memcpy(buf + n, feats, sizeof feats);
    n += sizeof feats;
    CK_OK(regnn_dataset_get_weights(f->ds, feats, 20));
    memcpy(buf + n, feats, 20 * sizeof *feats);
    n += 20 * sizeof *feats;
    if (f->sds) {
        size_t nx = regnn_dataset_features(f->sds);
        memcpy(buf + n, &nx, sizeof nx);
        n += sizeof nx;
        CK_OK(regnn_dataset_get_features(f->sds, feats, 40));
        CK_OK(regnn_dataset_get_weights(f->sds, feats + 3 * 4, 4));
        memcpy(buf + n, feats, (nx * 4 + 4) * sizeof *feats);
        n += (nx * 4 + 4) * sizeof *feats;
        buf[n++] = (unsigned char)regnn_dataset_has_weights(f->sds);
    }
    return n;
}

typedef struct {
    const char *name;
    void (*prepare)(fixture *f);          /* scratch objects, outside the fault window */
    regnn_status (*run)(fixture *f);      /* the call under test */
} op;

static void prep_copy(fixture *f)
{
    CK_OK(regnn_model_copy(f->m, &f->sm));
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &f->so));
}
static void prep_eight_layers(fixture *f)
{
    CK_OK(regnn_model_create(2, &f->sm));
    for (int i = 0; i < 8; i++)
        CK_OK(regnn_model_add_dense(f->sm, 3, REGNN_ACT_TANH, NULL));
}
static void prep_path_options(fixture *f)
{
    double l[2] = {0.5, 0.25};
    CK_OK(regnn_path_options_create(&f->spo));
    CK_OK(regnn_path_options_set_lambdas(f->spo, l, 2));
}
static void prep_raw(fixture *f)
{
    CK_OK(regnn_model_create(2, &f->sm));
    CK_OK(regnn_model_add_dense(f->sm, 5, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &f->so));
}

static void prep_dataset(fixture *f)
{
    float x[12] = {1, 0.5f, 2, 3, 1, 4, 5, 0, 6, 7, 2, 8}, y[4] = {1, 2, 3, 4};
    CK_OK(regnn_dataset_from_arrays(x, y, 4, 3, 1, REGNN_COPY, &f->sds));
}

#define OUT(i, T) ((T **)&f->out[i])

static regnn_status op_from_arrays(fixture *f)
{
    float x[4] = {1, 2, 3, 4}, y[2] = {5, 6};
    return regnn_dataset_from_arrays(x, y, 2, 2, 1, REGNN_COPY, OUT(0, regnn_dataset));
}
static regnn_status op_parse_csv(fixture *f)
{
    const char *names[] = {"y"};
    return regnn_dataset_parse_csv(CSV, strlen(CSV), names, NULL, 1, OUT(0, regnn_dataset));
}
static regnn_status op_from_csv(fixture *f)
{
    size_t cols[] = {2};
    return regnn_dataset_from_csv(f->csv_path, NULL, cols, 1, OUT(0, regnn_dataset));
}
static regnn_status op_select(fixture *f)
{
    size_t rows[] = {3, 1, 3};
    return regnn_dataset_select(f->ds, rows, 3, OUT(0, regnn_dataset));
}
static regnn_status op_split_shuffled(fixture *f)
{
    return regnn_dataset_split_shuffled(f->ds, 0.25, 7, OUT(0, regnn_dataset), OUT(1, regnn_dataset));
}
static regnn_status op_split_tail(fixture *f)
{
    return regnn_dataset_split_tail(f->ds, 0.25, OUT(0, regnn_dataset), OUT(1, regnn_dataset));
}
static regnn_status op_scaler_fit(fixture *f)
{
    return regnn_scaler_fit(f->ds, REGNN_SCALE_UNIT_NORM, REGNN_SCALE_ZSCORE, OUT(2, regnn_scaler));
}
static regnn_status op_scaler_transform(fixture *f)
{
    return regnn_scaler_transform(f->sc, f->ds, OUT(0, regnn_dataset));
}
static regnn_status op_model_create(fixture *f) { return regnn_model_create(4, OUT(0, regnn_model)); }
static regnn_status op_add_dense(fixture *f)
{
    /* The ninth layer grows the layer array. */
    return regnn_model_add_dense(f->sm, 3, REGNN_ACT_TANH, NULL);
}
static regnn_status op_init(fixture *f) { return regnn_model_init(f->sm, REGNN_INIT_HE_UNIFORM, 3); }
static regnn_status op_set_params(fixture *f)
{
    float p[64] = {0};
    return regnn_model_set_params(f->sm, p, regnn_model_param_count(f->sm));
}
static regnn_status op_copy(fixture *f) { return regnn_model_copy(f->m, OUT(0, regnn_model)); }
static regnn_status op_predict_wide(fixture *f)
{
    float x[600], y[300];
    for (int i = 0; i < 600; i++)
        x[i] = (float)i / 600;
    return regnn_model_predict(f->wide, x, 300, y, 300);
}
static regnn_status op_evaluate_wide(fixture *f)
{
    double mse;
    return regnn_model_evaluate(f->wide, f->ds, &mse, NULL, NULL);
}
static regnn_status op_optimizer_create(fixture *f)
{
    return regnn_optimizer_create(REGNN_OPTIM_SGD, OUT(0, regnn_optimizer));
}
static regnn_status op_set_state(fixture *f)
{
    float s[10] = {0};
    return regnn_optimizer_set_state(f->so, REGNN_STATE_M, s, 10);
}
static regnn_status op_set_schedule(fixture *f)
{
    const double p[5] = {10, 20, 0.1, 0.01, 0.001};
    return regnn_optimizer_set_schedule(f->so, REGNN_SCHEDULE_PIECEWISE, p, 5);
}
static regnn_status op_train_batch(fixture *f)
{
    float x[6] = {1, 2, 3, 4, 5, 6}, y[3] = {1, 0, 1};
    return regnn_train_batch(f->sm, f->so, x, y, 3, NULL);
}
static regnn_status op_train_batch_weighted(fixture *f)
{
    float x[6] = {1, 2, 3, 4, 5, 6}, y[3] = {1, 0, 1}, w[3] = {0.5f, 0, 2};
    return regnn_train_batch_weighted(f->sm, f->so, x, y, w, 3, NULL);
}
static regnn_status op_set_weights(fixture *f)
{
    float w[4] = {1, 2, 0, 0.25f};
    return regnn_dataset_set_weights(f->sds, w, 4);
}
static regnn_status op_set_weight_column(fixture *f)
{
    return regnn_dataset_set_weight_column(f->sds, "x1");
}
static regnn_status op_evaluate_loss_wide(fixture *f)
{
    double loss;
    return regnn_model_evaluate_loss(f->wide, f->ds, &loss, NULL, NULL, NULL);
}
static regnn_status op_fit(fixture *f)
{
    return regnn_fit(f->sm, f->so, f->ds, NULL, f->fo, OUT(0, regnn_history));
}
static regnn_status op_fit_options_create(fixture *f)
{
    return regnn_fit_options_create(OUT(0, regnn_fit_options));
}
static regnn_status op_attach_scaler(fixture *f) { return regnn_model_attach_scaler(f->sm, f->sc); }
static regnn_status op_get_scaler(fixture *f) { return regnn_model_get_scaler(f->m, OUT(2, regnn_scaler)); }
static regnn_status op_model_save(fixture *f) { return regnn_model_save(f->m, f->out_path); }
static regnn_status op_model_load(fixture *f) { return regnn_model_load(f->model_path, OUT(0, regnn_model)); }
static regnn_status op_model_load_mem(fixture *f)
{
    return regnn_model_load_mem(f->ckpt, f->ckpt_len, OUT(0, regnn_model));
}
static regnn_status op_checkpoint_save(fixture *f) { return regnn_checkpoint_save(f->m, f->o, f->out_path); }
static regnn_status op_export_onnx(fixture *f) { return regnn_model_export_onnx(f->m, f->out_path); }
static regnn_status op_checkpoint_load(fixture *f)
{
    return regnn_checkpoint_load(f->ckpt_path, OUT(0, regnn_model), OUT(1, regnn_optimizer));
}
static regnn_status op_checkpoint_load_mem(fixture *f)
{
    return regnn_checkpoint_load_mem(f->ckpt, f->ckpt_len, OUT(0, regnn_model), OUT(1, regnn_optimizer));
}
static regnn_status op_path_options(fixture *f)
{
    return regnn_path_options_create(OUT(0, regnn_path_options));
}
static regnn_status op_path_lambdas(fixture *f)
{
    double l[3] = {0, 1e-3, 1e-2};
    return regnn_path_options_set_lambdas(f->spo, l, 3);
}
static regnn_status op_path_layers(fixture *f)
{
    size_t layers[1] = {0};
    return regnn_path_options_set_layers(f->spo, layers, 1);
}
static regnn_status op_path(fixture *f)
{
    return regnn_regularization_path(f->m, f->o, f->ds, NULL, f->fo, f->po, OUT(0, regnn_path));
}

static void free_outputs(fixture *f, const op *o)
{
    const char *n = o->name;
    if (!strcmp(n, "model_create") || !strcmp(n, "copy") || !strcmp(n, "model_load") ||
        !strcmp(n, "model_load_mem") || !strcmp(n, "checkpoint_load") || !strcmp(n, "checkpoint_load_mem"))
        regnn_model_free(f->out[0]);
    else if (!strcmp(n, "optimizer_create"))
        regnn_optimizer_free(f->out[0]);
    else if (!strcmp(n, "fit"))
        regnn_history_free(f->out[0]);
    else if (!strcmp(n, "fit_options_create"))
        regnn_fit_options_free(f->out[0]);
    else if (!strcmp(n, "path_options"))
        regnn_path_options_free(f->out[0]);
    else if (!strcmp(n, "path"))
        regnn_path_free(f->out[0]);
    else
        regnn_dataset_free(f->out[0]);
    if (!strncmp(n, "checkpoint_load", 15))
        regnn_optimizer_free(f->out[1]);
    else
        regnn_dataset_free(f->out[1]);
    regnn_scaler_free(f->out[2]);
    memset(f->out, 0, sizeof f->out);
}

static const op OPS[] = {
    {"from_arrays", NULL, op_from_arrays},
    {"parse_csv", NULL, op_parse_csv},
    {"from_csv", NULL, op_from_csv},
    {"select", NULL, op_select},
    {"split_shuffled", NULL, op_split_shuffled},
    {"split_tail", NULL, op_split_tail},
    {"scaler_fit", NULL, op_scaler_fit},
    {"scaler_transform", NULL, op_scaler_transform},
    {"model_create", NULL, op_model_create},
    {"add_dense", prep_eight_layers, op_add_dense},
    {"init", prep_raw, op_init},
    {"set_params", prep_raw, op_set_params},
    {"copy", NULL, op_copy},
    {"predict_wide", NULL, op_predict_wide},
    {"evaluate_wide", NULL, op_evaluate_wide},
    {"optimizer_create", NULL, op_optimizer_create},
    {"set_state", prep_copy, op_set_state},
    {"set_schedule", prep_copy, op_set_schedule},
    {"train_batch", prep_copy, op_train_batch},
    {"fit", prep_copy, op_fit},
    {"train_batch_weighted", prep_copy, op_train_batch_weighted},
    {"set_weights", prep_dataset, op_set_weights},
    {"set_weight_column", prep_dataset, op_set_weight_column},
    {"evaluate_loss_wide", NULL, op_evaluate_loss_wide},
    {"fit_options_create", NULL, op_fit_options_create},
    {"attach_scaler", prep_copy, op_attach_scaler},
    {"get_scaler", NULL, op_get_scaler},
    {"model_save", NULL, op_model_save},
    {"model_load", NULL, op_model_load},
    {"model_load_mem", NULL, op_model_load_mem},
    {"checkpoint_save", NULL, op_checkpoint_save},
    {"export_onnx", NULL, op_export_onnx},
    {"checkpoint_load", NULL, op_checkpoint_load},
    {"checkpoint_load_mem", NULL, op_checkpoint_load_mem},
    {"path_options", NULL, op_path_options},
    {"path_lambdas", prep_path_options, op_path_lambdas},
    {"path_layers", prep_path_options, op_path_layers},
    {"path", NULL, op_path},
};
enum { N_OPS = sizeof OPS / sizeof OPS[0] };

static int points_total;

static void run_op(int i)
{
    const op *o = &OPS[i];
    fixture fx, *f = &fx;
    setup(f);
    static unsigned char before[1 << 16], after[1 << 16];
    long base = regnn__test_alloc_live();
    int points = 0;
    for (int persistent = 0; persistent <= 1; persistent++) {
        for (long n = 1;; n++) {
            ck_assert_msg(n < 100000, "%s: never succeeded", o->name);
            if (o->prepare)
                o->prepare(f);
            size_t nb = fingerprint(f, before, sizeof before);
            long live = regnn__test_alloc_live();
            memset(f->out, 0x5A, sizeof f->out); /* poison: a failure must NULL these */
            regnn__test_alloc_fail_at(n, persistent);
            regnn_status st = o->run(f);
            long tried = regnn__test_alloc_count();
            regnn__test_alloc_fail_at(0, 0);
            int done = st == REGNN_OK;
            if (!done) {
                points++;
                ck_assert_msg(st == REGNN_E_NOMEM, "%s: alloc %ld (%s): status %d: %s", o->name, n,
                              persistent ? "persistent" : "once", st, regnn_errmsg());
                for (int k = 0; k < 3; k++)
                        ck_assert_msg(f->out[k] == NULL || f->out[k] == (void *)0x5A5A5A5A5A5A5A5Aull,
                                      "%s: out %d not reset", o->name, k);
                ck_assert_msg(regnn__test_alloc_live() == live,
                              "%s: leak after failing alloc %ld (%s)", o->name, n,
                              persistent ? "persistent" : "once");
                size_t na = fingerprint(f, after, sizeof after);
                ck_assert_msg(na == nb && memcmp(before, after, nb) == 0,
                              "%s: caller's objects changed by a failed call (alloc %ld)", o->name, n);
                /* Still usable: the trained model predicts. */
                float x[2] = {0.5f, 1}, y;
                CK_OK(regnn_model_predict(f->m, x, 1, &y, 1));
            } else {
                ck_assert_int_lt(tried, n);
            }
            for (int k = 0; k < 3; k++)
                if (f->out[k] == (void *)0x5A5A5A5A5A5A5A5Aull)
                    f->out[k] = NULL;
            free_outputs(f, o);
            regnn_model_free(f->sm);
            regnn_optimizer_free(f->so);
            regnn_path_options_free(f->spo);
            regnn_dataset_free(f->sds);
            f->sds = NULL;
            f->sm = NULL;
            f->so = NULL;
            f->spo = NULL;
            ck_assert_int_eq(regnn__test_alloc_live(), base);
            if (done)
                break;
        }
    }
    ck_assert_msg(points >= 2, "%s: only %d fault points", o->name, points);
    points_total += points;
    teardown(f);
}

START_TEST(test_every_allocating_call)
{
    run_op(_i);
}
END_TEST

START_TEST(test_report)
{
    /* Runs last in the same process only with CK_FORK=no; the count is for the record. */
    if (points_total)
        printf("fault injection: %d failing allocations across %d calls\n", points_total, N_OPS);
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_every_allocating_call, 0, N_OPS);
    tcase_add_test(tc, test_report);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(faults_suite)
