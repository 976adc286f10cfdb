/* SPDX-License-Identifier: MIT */
/* Losses and sample weights: elementwise values against the Keras formulas,
 * gradient checks by finite differences in double, weighted losses and
 * metrics against hand computations, all-ones weights against no weights bit
 * for bit, zero-weight rows, weights carried by datasets, bad input. */
#include "testutil.h"
#include "model/model_impl.h" /* the model's fields, which this test reads or breaks */

#include <math.h>
#include <string.h>

static const int KINDS[4] = {REGNN_LOSS_MSE, REGNN_LOSS_MAE, REGNN_LOSS_HUBER, REGNN_LOSS_LOG_COSH};

START_TEST(test_values)
{
    /* Keras: huber = 0.5 d^2 if |d| <= delta else delta |d| - 0.5 delta^2. */
    ck_assert_double_eq_tol(rg_loss_value(REGNN_LOSS_HUBER, 1.0, 0.5), 0.125, 1e-15);
    ck_assert_double_eq_tol(rg_loss_value(REGNN_LOSS_HUBER, 1.0, -1.0), 0.5, 1e-15);
    ck_assert_double_eq_tol(rg_loss_value(REGNN_LOSS_HUBER, 1.0, 2.0), 1.5, 1e-15);
    ck_assert_double_eq_tol(rg_loss_value(REGNN_LOSS_HUBER, 0.5, -3.0), 1.375, 1e-15);
    ck_assert_double_eq(rg_loss_value(REGNN_LOSS_MAE, 0, -2.5), 2.5);
    ck_assert_double_eq(rg_loss_value(REGNN_LOSS_MSE, 0, -2.5), 6.25);
    for (double d = -5.0; d <= 5.0; d += 0.25)
        ck_assert_double_eq_tol(rg_loss_value(REGNN_LOSS_LOG_COSH, 0, d), log(cosh(d)), 1e-14);
    /* Stable where cosh overflows: log cosh(d) -> |d| - log 2. */
    ck_assert_double_eq_tol(rg_loss_value(REGNN_LOSS_LOG_COSH, 0, 800.0), 800.0 - log(2.0), 1e-9);
    ck_assert_double_eq_tol(rg_loss_value(REGNN_LOSS_LOG_COSH, 0, -800.0), 800.0 - log(2.0), 1e-9);
    /* Near 0 the Keras form cancels to absolute, not relative, precision. */
    ck_assert_double_eq_tol(rg_loss_value(REGNN_LOSS_LOG_COSH, 0, 1e-5), 0.5e-10, 1e-15);
}
END_TEST

/* ---- gradient check: a 3-5-2 tanh network evaluated in double ---- */

enum { NI = 3, NH = 5, NO = 2, ROWS = 7 };

static regnn_model *net(int kind, double param)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(NI, &m));
    CK_OK(regnn_model_add_dense(m, NH, REGNN_ACT_TANH, NULL));
    CK_OK(regnn_model_add_dense(m, NO, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_L2, 0.01));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 5));
    CK_OK(regnn_model_set_loss(m, kind, param));
    return m;
}

static void data(float *x, float *y, float *w)
{
    for (int i = 0; i < ROWS * NI; i++)
        x[i] = (float)sin(1.3 * i + 0.2);
    for (int i = 0; i < ROWS * NO; i++)
        y[i] = (float)(2.5 * cos(0.7 * i) + 0.3);
    for (int i = 0; i < ROWS; i++)
        w[i] = i == 2 ? 0.0f : 0.25f * (float)(i + 1);
}

/* Loss (data loss + L2 penalty) at parameters p, all in double. */
static double loss_double(int kind, double param, const double *p, const float *x, const float *y,
                          const float *w)
{
    const double *k1 = p, *b1 = p + NI * NH, *k2 = b1 + NH, *b2 = k2 + NH * NO;
    double sum = 0.0, pen = 0.0;
    for (int r = 0; r < ROWS; r++) {
        double h[NH];
        for (int j = 0; j < NH; j++) {
            double z = b1[j];
            for (int i = 0; i < NI; i++)
                z += x[r * NI + i] * k1[i * NH + j];
            h[j] = tanh(z);
        }
        for (int j = 0; j < NO; j++) {
            double o = b2[j];
            for (int i = 0; i < NH; i++)
                o += h[i] * k2[i * NO + j];
            sum += (w ? w[r] : 1.0) * rg_loss_value(kind, param, o - y[r * NO + j]);
        }
    }
    for (int i = 0; i < NI * NH; i++)
        pen += k1[i] * k1[i];
    for (int i = 0; i < NH * NO; i++)
        pen += k2[i] * k2[i];
    return sum / (ROWS * NO) + 0.01 * pen;
}

static void grad_check(int kind, double param, int weighted)
{
    regnn_model *m = net(kind, param);
    float x[ROWS * NI], y[ROWS * NO], w[ROWS];
    data(x, y, w);
    const float *wp = weighted ? w : NULL;
    const size_t np = regnn_model_param_count(m);
    float pf[64];
    double p[64];
    ck_assert_uint_le(np, 64);
    CK_OK(regnn_model_get_params(m, pf, np));
    for (size_t i = 0; i < np; i++)
        p[i] = pf[i];
    CK_OK(rg_model_reserve(m, ROWS));
    double loss, mse, mae, pen;
    CK_OK(rg_model_step_grads_w(m, x, y, wp, ROWS, 1, &loss, &mse, &mae, &pen));
    const double ref = loss_double(kind, param, p, x, y, wp);
    ck_assert_msg(fabs(loss + pen - ref) <= 1e-5 * fabs(ref), "%s: loss %.9g, double %.9g",
                  rg_loss_name(kind), loss + pen, ref);
    const double h = 1e-5;
    for (size_t i = 0; i < np; i++) {
        double keep = p[i];
        p[i] = keep + h;
        double up = loss_double(kind, param, p, x, y, wp);
        p[i] = keep - h;
        double down = loss_double(kind, param, p, x, y, wp);
        p[i] = keep;
        double fd = (up - down) / (2 * h), g = m->grads[i];
        ck_assert_msg(fabs(g - fd) <= 1e-4 + 1e-3 * fabs(fd),
                      "%s (weighted %d): parameter %zu: analytic %.9g, finite difference %.9g",
                      rg_loss_name(kind), weighted, i, g, fd);
    }
    regnn_model_free(m);
}

START_TEST(test_gradients)
{
    for (int k = 0; k < 4; k++)
        for (int weighted = 0; weighted <= 1; weighted++) {
            grad_check(KINDS[k], KINDS[k] == REGNN_LOSS_HUBER ? 1.0 : 0.0, weighted);
            if (KINDS[k] == REGNN_LOSS_HUBER) /* most residuals beyond delta */
                grad_check(KINDS[k], 0.3, weighted);
        }
}
END_TEST

/* ---- hand computation: one input, one output, pred = 2 x + 0.5 ---- */

static regnn_model *line(int kind, double param)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(1, &m));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    float p[2] = {2.0f, 0.5f};
    CK_OK(regnn_model_set_params(m, p, 2));
    CK_OK(regnn_model_set_loss(m, kind, param));
    return m;
}

START_TEST(test_hand_computation)
{
    /* d = -0.5, 1.5, 3.5; w = 2, 0, 0.5 */
    const float x[3] = {0, 1, 2}, y[3] = {1, 1, 1}, w[3] = {2, 0, 0.5f};
    struct {
        int kind;
        double param, loss;
    } cases[] = {
        {REGNN_LOSS_MSE, 0, (2 * 0.25 + 0.5 * 12.25) / 3},
        {REGNN_LOSS_MAE, 0, (2 * 0.5 + 0.5 * 3.5) / 3},
        {REGNN_LOSS_HUBER, 1, (2 * 0.125 + 0.5 * 3.0) / 3},
        {REGNN_LOSS_LOG_COSH, 0, (2 * log(cosh(0.5)) + 0.5 * log(cosh(3.5))) / 3},
    };
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, 3, 1, 1, REGNN_COPY, &ds));
    CK_OK(regnn_dataset_set_weights(ds, w, 3));
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        regnn_model *m = line(cases[c].kind, cases[c].param);
        double loss, mse, mae, pen;
        CK_OK(regnn_model_evaluate_loss(m, ds, &loss, &mse, &mae, &pen));
        /* Keras: the loss divides by the 3 rows, weighted metrics by the weight sum 2.5. */
        ck_assert_double_eq_tol(loss, cases[c].loss, 1e-12);
        ck_assert_double_eq_tol(mse, (2 * 0.25 + 0.5 * 12.25) / 2.5, 1e-12);
        ck_assert_double_eq_tol(mae, (2 * 0.5 + 0.5 * 3.5) / 2.5, 1e-12);
        ck_assert_double_eq(pen, 0.0);

        /* The batch loss before the step, and one epoch's history. */
        regnn_optimizer *o = NULL;
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &o));
        double bl;
        CK_OK(regnn_train_batch_weighted(m, o, x, y, w, 3, &bl));
        ck_assert_double_eq_tol(bl, cases[c].loss, 1e-6);
        regnn_model_free(m);
        m = line(cases[c].kind, cases[c].param);
        regnn_fit_options *fo = NULL;
        CK_OK(regnn_fit_options_create(&fo));
        CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 3));
        CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_SHUFFLE, 0));
        regnn_history *h = NULL;
        CK_OK(regnn_fit(m, o, ds, ds, fo, &h));
        double v;
        CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, &v, 1));
        ck_assert_double_eq_tol(v, cases[c].loss, 1e-6);
        CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_MSE, &v, 1));
        ck_assert_double_eq_tol(v, 2.65, 1e-6);
        CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_MAE, &v, 1));
        ck_assert_double_eq_tol(v, 1.1, 1e-6);
        /* Validation at the end-of-epoch weights equals evaluate_loss there. */
        double vl, vm;
        CK_OK(regnn_model_evaluate_loss(m, ds, &loss, &mse, NULL, &pen));
        CK_OK(regnn_history_get(h, REGNN_METRIC_VAL_LOSS, &vl, 1));
        CK_OK(regnn_history_get(h, REGNN_METRIC_VAL_MSE, &vm, 1));
        ck_assert_double_eq(vl, loss + pen);
        ck_assert_double_eq(vm, mse);
        regnn_history_free(h);
        regnn_fit_options_free(fo);
        regnn_optimizer_free(o);
        regnn_model_free(m);
    }
    regnn_dataset_free(ds);
}
END_TEST

/* ---- all-ones weights: the same bits as no weights ---- */

static void fit_pair(int kind, double param, int ones, float *params, double *hist, size_t *n_hist)
{
    enum { N = 53 };
    float x[N * NI], y[N * NO], w[N];
    for (int i = 0; i < N * NI; i++)
        x[i] = (float)sin(0.37 * i);
    for (int i = 0; i < N * NO; i++)
        y[i] = (float)(3 * cos(0.11 * i));
    for (int i = 0; i < N; i++)
        w[i] = 1.0f;
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, N, NI, NO, REGNN_COPY, &ds));
    if (ones)
        CK_OK(regnn_dataset_set_weights(ds, w, N));
    regnn_model *m = net(kind, param);
    CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_DROPOUT, 0.2));
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 4));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 8));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EVAL_TRAIN, 1));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.2));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(m, o, ds, NULL, fo, &h));
    CK_OK(regnn_model_get_params(m, params, 64));
    *n_hist = 0;
    for (int metric = REGNN_METRIC_TRAIN_LOSS; metric <= REGNN_METRIC_TRAIN_EVAL_MSE; metric++) {
        if (metric == REGNN_METRIC_SECONDS)
            continue;
        CK_OK(regnn_history_get(h, metric, hist + *n_hist, 4));
        *n_hist += 4;
    }
    /* And one train_batch step. */
    double l1, l2;
    regnn_model *a = NULL, *b = NULL;
    CK_OK(regnn_model_copy(m, &a));
    CK_OK(regnn_model_copy(m, &b));
    regnn_optimizer *oa = NULL, *ob = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &oa));
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &ob));
    CK_OK(regnn_train_batch(a, oa, x, y, 10, &l1));
    CK_OK(regnn_train_batch_weighted(b, ob, x, y, w, 10, &l2));
    ck_assert(memcmp(&l1, &l2, sizeof l1) == 0);
    ck_assert(memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0);
    regnn_optimizer_free(oa);
    regnn_optimizer_free(ob);
    regnn_model_free(a);
    regnn_model_free(b);
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
}

START_TEST(test_ones_same_bits)
{
    for (int k = 0; k < 4; k++) {
        float pa[64] = {0}, pb[64] = {0};
        double ha[64], hb[64];
        size_t na, nb;
        double param = KINDS[k] == REGNN_LOSS_HUBER ? 0.7 : 0.0;
        fit_pair(KINDS[k], param, 0, pa, ha, &na);
        fit_pair(KINDS[k], param, 1, pb, hb, &nb);
        ck_assert_uint_eq(na, nb);
        ck_assert_msg(memcmp(pa, pb, sizeof pa) == 0, "%s: parameters differ", rg_loss_name(KINDS[k]));
        ck_assert_msg(memcmp(ha, hb, na * sizeof *ha) == 0, "%s: history differs",
                      rg_loss_name(KINDS[k]));
    }
}
END_TEST

START_TEST(test_zero_weight_rows)
{
    /* Rows of weight 0 may hold anything: the gradient keeps its bits. */
    for (int k = 0; k < 4; k++) {
        regnn_model *m = net(KINDS[k], KINDS[k] == REGNN_LOSS_HUBER ? 1.0 : 0.0);
        float x[ROWS * NI], y[ROWS * NO], w[ROWS], g[64];
        data(x, y, w);
        w[5] = 0.0f;
        CK_OK(rg_model_reserve(m, ROWS));
        double l1, l2, mse, mae, pen;
        CK_OK(rg_model_step_grads_w(m, x, y, w, ROWS, 1, &l1, &mse, &mae, &pen));
        memcpy(g, m->grads, m->n_params * sizeof *g);
        for (int i = 0; i < NI; i++) {
            x[2 * NI + i] = 40.0f * (float)(i + 1);
            x[5 * NI + i] = -7.0f;
        }
        for (int j = 0; j < NO; j++) {
            y[2 * NO + j] = 1e4f;
            y[5 * NO + j] = -300.0f;
        }
        CK_OK(rg_model_step_grads_w(m, x, y, w, ROWS, 1, &l2, &mse, &mae, &pen));
        ck_assert(memcmp(g, m->grads, m->n_params * sizeof *g) == 0);
        ck_assert(memcmp(&l1, &l2, sizeof l1) == 0);
        regnn_model_free(m);
    }
}
END_TEST

START_TEST(test_dataset_weights)
{
    const char csv[] = "a,wt,b,y\n1,0.5,2,3\n4,2,5,6\n7,0,8,9\n-1,1.5,0.5,2\n";
    const char *tn[] = {"y"};
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_parse_csv(csv, strlen(csv), tn, NULL, 1, &ds));
    ck_assert_int_eq(regnn_dataset_has_weights(ds), 0);
    float wb[4], xb[12];
    CK_OK(regnn_dataset_get_weights(ds, wb, 4));
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(wb[i], 1.0f);
    CK_STATUS(regnn_dataset_set_weight_column(ds, "nope"), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "\"nope\""));
    CK_OK(regnn_dataset_set_weight_column(ds, "wt"));
    ck_assert_int_eq(regnn_dataset_has_weights(ds), 1);
    ck_assert_uint_eq(regnn_dataset_features(ds), 2);
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 0), "a");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 1), "b");
    CK_OK(regnn_dataset_get_features(ds, xb, 8));
    const float xe[8] = {1, 2, 4, 5, 7, 8, -1, 0.5f}, we[4] = {0.5f, 2, 0, 1.5f};
    ck_assert(memcmp(xb, xe, sizeof xe) == 0);
    CK_STATUS(regnn_dataset_get_weights(ds, wb, 3), REGNN_E_SHAPE);
    CK_OK(regnn_dataset_get_weights(ds, wb, 4));
    ck_assert(memcmp(wb, we, sizeof we) == 0);

    /* select, splits and transform carry the weights with their rows. */
    size_t rows[3] = {3, 0, 3};
    regnn_dataset *s = NULL, *t = NULL;
    CK_OK(regnn_dataset_select(ds, rows, 3, &s));
    CK_OK(regnn_dataset_get_weights(s, wb, 3));
    ck_assert_float_eq(wb[0], 1.5f);
    ck_assert_float_eq(wb[1], 0.5f);
    ck_assert_float_eq(wb[2], 1.5f);
    regnn_dataset_free(s);
    CK_OK(regnn_dataset_split_tail(ds, 0.5, &s, &t));
    CK_OK(regnn_dataset_get_weights(t, wb, 2));
    ck_assert_float_eq(wb[0], 0.0f);
    ck_assert_float_eq(wb[1], 1.5f);
    regnn_dataset_free(s);
    regnn_dataset_free(t);
    CK_OK(regnn_dataset_split_shuffled(ds, 0.5, 3, &s, &t));
    float xs[4];
    CK_OK(regnn_dataset_get_features(t, xs, 4));
    CK_OK(regnn_dataset_get_weights(t, wb, 2));
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < 4; i++)
            if (xe[2 * i] == xs[2 * r])
                ck_assert_float_eq(wb[r], we[i]);
    regnn_dataset_free(s);
    regnn_dataset_free(t);
    regnn_scaler *sc = NULL;
    CK_OK(regnn_scaler_fit(ds, REGNN_SCALE_ZSCORE, REGNN_SCALE_ZSCORE, &sc));
    CK_OK(regnn_scaler_transform(sc, ds, &s));
    CK_OK(regnn_dataset_get_weights(s, wb, 4));
    ck_assert(memcmp(wb, we, sizeof we) == 0);
    regnn_dataset_free(s);
    regnn_scaler_free(sc);

    /* Removing the weights. */
    CK_OK(regnn_dataset_set_weights(ds, NULL, 0));
    ck_assert_int_eq(regnn_dataset_has_weights(ds), 0);
    regnn_dataset_free(ds);
}
END_TEST

static int set_loss_in_callback(void *user, const regnn_history *h, size_t epoch)
{
    (void)h;
    (void)epoch;
    *(regnn_status *)user = regnn_model_set_loss(NULL, REGNN_LOSS_MAE, 0) == REGNN_E_INVALID_ARG
                                ? REGNN_OK
                                : REGNN_E_INTERNAL;
    return 0;
}

typedef struct {
    regnn_model *m;
    regnn_status st;
} busy_probe;

static int busy_callback(void *user, const regnn_history *h, size_t epoch)
{
    (void)h;
    (void)epoch;
    busy_probe *b = user;
    b->st = regnn_model_set_loss(b->m, REGNN_LOSS_MAE, 0);
    return 0;
}

START_TEST(test_bad_input)
{
    regnn_model *m = net(REGNN_LOSS_MSE, 0);
    int kind;
    double param;
    CK_STATUS(regnn_model_set_loss(m, 9, 0), REGNN_E_UNSUPPORTED);
    CK_STATUS(regnn_model_set_loss(m, REGNN_LOSS_HUBER, 0), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "delta"));
    CK_STATUS(regnn_model_set_loss(m, REGNN_LOSS_HUBER, NAN), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_set_loss(m, REGNN_LOSS_HUBER, INFINITY), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_set_loss(m, REGNN_LOSS_MAE, 1.0), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_get_loss(m, NULL, &param), REGNN_E_INVALID_ARG);
    CK_OK(regnn_model_get_loss(m, &kind, &param));
    ck_assert_int_eq(kind, REGNN_LOSS_MSE); /* failed calls changed nothing */
    CK_OK(regnn_model_set_loss(m, REGNN_LOSS_HUBER, 2.5));
    regnn_model *c = NULL;
    CK_OK(regnn_model_copy(m, &c));
    CK_OK(regnn_model_get_loss(c, &kind, &param));
    ck_assert_int_eq(kind, REGNN_LOSS_HUBER);
    ck_assert_double_eq(param, 2.5);
    regnn_model_free(c);

    float x[ROWS * NI], y[ROWS * NO], w[ROWS];
    data(x, y, w);
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, ROWS, NI, NO, REGNN_BORROW, &ds));
    float bad[ROWS];
    memcpy(bad, w, sizeof bad);
    bad[3] = -1.0f;
    CK_STATUS(regnn_dataset_set_weights(ds, bad, ROWS), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "weight 3 is -1"));
    bad[3] = NAN;
    CK_STATUS(regnn_dataset_set_weights(ds, bad, ROWS), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "weight 3"));
    bad[3] = INFINITY;
    CK_STATUS(regnn_dataset_set_weights(ds, bad, ROWS), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_dataset_set_weights(ds, w, ROWS - 1), REGNN_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "6 weights for 7 rows"));
    CK_STATUS(regnn_dataset_set_weights(ds, NULL, 3), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_dataset_set_weights(NULL, w, ROWS), REGNN_E_INVALID_ARG);
    ck_assert_int_eq(regnn_dataset_has_weights(ds), 0);
    CK_STATUS(regnn_dataset_set_weight_column(ds, NULL), REGNN_E_INVALID_ARG);

    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    bad[3] = NAN;
    CK_STATUS(regnn_train_batch_weighted(m, o, x, y, bad, ROWS, NULL), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_train_batch_weighted: w[3]"));
    ck_assert_uint_eq(regnn_optimizer_steps(o), 0);

    /* All-zero weights leave no weighted metric defined: refused by fit. */
    float zero[ROWS] = {0};
    CK_OK(regnn_dataset_set_weights(ds, zero, ROWS));
    CK_STATUS(regnn_fit(m, o, ds, NULL, NULL, NULL), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "training sample weights are all 0"));
    double mse = -1;
    CK_OK(regnn_model_evaluate_loss(m, ds, NULL, &mse, NULL, NULL));
    ck_assert_double_eq(mse, 0.0);

    /* A weight column with a negative value; a sole feature column. */
    const char csv[] = "a,wt,y\n1,0.5,3\n4,-2,6\n";
    const char *tn[] = {"y"};
    regnn_dataset *cd = NULL;
    CK_OK(regnn_dataset_parse_csv(csv, strlen(csv), tn, NULL, 1, &cd));
    CK_STATUS(regnn_dataset_set_weight_column(cd, "wt"), REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "row 1 is -2"));
    ck_assert_uint_eq(regnn_dataset_features(cd), 2);
    regnn_dataset_free(cd);
    const char csv1[] = "wt,y\n1,3\n";
    CK_OK(regnn_dataset_parse_csv(csv1, strlen(csv1), tn, NULL, 1, &cd));
    CK_STATUS(regnn_dataset_set_weight_column(cd, "wt"), REGNN_E_INVALID_ARG);
    regnn_dataset_free(cd);

    /* The loss cannot change during a fit. */
    CK_OK(regnn_dataset_set_weights(ds, w, ROWS));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    busy_probe bp = {m, REGNN_OK};
    CK_OK(regnn_fit_options_set_callback(fo, busy_callback, &bp));
    CK_OK(regnn_fit(m, o, ds, NULL, fo, NULL));
    ck_assert_int_eq(bp.st, REGNN_E_STATE);
    regnn_status cb = REGNN_E_INTERNAL;
    CK_OK(regnn_fit_options_set_callback(fo, set_loss_in_callback, &cb));
    CK_OK(regnn_fit(m, o, ds, NULL, fo, NULL));
    ck_assert_int_eq(cb, REGNN_OK);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_dataset_free(ds);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_history_uses_loss)
{
    /* With MAE as the loss, the recorded losses are the MAE (+ penalty) and the
     * MSE metrics stay MSE. */
    enum { N = 40 };
    float x[N * NI], y[N * NO];
    for (int i = 0; i < N * NI; i++)
        x[i] = (float)cos(0.5 * i);
    for (int i = 0; i < N * NO; i++)
        y[i] = (float)(2 * sin(0.3 * i));
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, N, NI, NO, REGNN_COPY, &ds));
    regnn_model *m = net(REGNN_LOSS_MAE, 0);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    regnn_fit_options *fo = NULL;
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 3));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.25));
    regnn_history *h = NULL;
    CK_OK(regnn_fit(m, o, ds, NULL, fo, &h));
    double loss[3], mae[3], pen[3], mse[3], vloss[3], vmae[3], vmse[3];
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, loss, 3));
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_MAE, mae, 3));
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_MSE, mse, 3));
    CK_OK(regnn_history_get(h, REGNN_METRIC_TRAIN_PENALTY, pen, 3));
    CK_OK(regnn_history_get(h, REGNN_METRIC_VAL_LOSS, vloss, 3));
    CK_OK(regnn_history_get(h, REGNN_METRIC_VAL_MAE, vmae, 3));
    CK_OK(regnn_history_get(h, REGNN_METRIC_VAL_MSE, vmse, 3));
    for (int e = 0; e < 3; e++) {
        ck_assert_double_eq_tol(loss[e], mae[e] + pen[e], 1e-12);
        ck_assert(fabs(mse[e] - mae[e]) > 1e-3);
        ck_assert(pen[e] > 0);
    }
    double l, a, p;
    CK_OK(regnn_model_evaluate_loss(m, ds, &l, NULL, &a, &p));
    ck_assert_double_eq_tol(l, a, 1e-12);
    ck_assert(vloss[2] > vmae[2] && fabs(vloss[2] - vmae[2] - p) < 1e-12);
    ck_assert(fabs(vmse[2] - vmae[2]) > 1e-3);
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_robust_losses_resist_outliers)
{
    /* A line fitted with one gross outlier: MAE and Huber stay near the
     * inliers' line, MSE is pulled away. Judged on the inliers. */
    enum { N = 41 };
    float x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = (float)(i - 20) / 10.0f;
        y[i] = 1.5f * x[i] - 0.5f;
    }
    y[40] = 60.0f;
    regnn_dataset *ds = NULL, *in = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, N, 1, 1, REGNN_COPY, &ds));
    CK_OK(regnn_dataset_from_arrays(x, y, N - 1, 1, 1, REGNN_COPY, &in));
    double err[4];
    for (int k = 0; k < 4; k++) {
        regnn_model *m = NULL;
        CK_OK(regnn_model_create(1, &m));
        CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
        CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 1));
        CK_OK(regnn_model_set_loss(m, KINDS[k], KINDS[k] == REGNN_LOSS_HUBER ? 1.0 : 0.0));
        regnn_optimizer *o = NULL;
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
        CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.05));
        regnn_fit_options *fo = NULL;
        CK_OK(regnn_fit_options_create(&fo));
        CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 300));
        CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, N));
        CK_OK(regnn_fit(m, o, ds, NULL, fo, NULL));
        CK_OK(regnn_model_evaluate(m, in, &err[k], NULL, NULL));
        regnn_fit_options_free(fo);
        regnn_optimizer_free(o);
        regnn_model_free(m);
    }
    ck_assert_msg(err[1] < 0.1 * err[0] && err[2] < 0.1 * err[0] && err[3] < 0.1 * err[0],
                  "inlier MSE: mse-loss %g, mae %g, huber %g, log-cosh %g", err[0], err[1], err[2],
                  err[3]);
    regnn_dataset_free(in);
    regnn_dataset_free(ds);
}
END_TEST

static uint8_t *find_tag(uint8_t *buf, size_t len, const char *tag)
{
    for (size_t i = 20; i + 4 <= len; i++)
        if (memcmp(buf + i, tag, 4) == 0)
            return buf + i;
    return NULL;
}

static void reseal(uint8_t *buf, size_t len)
{
    uint32_t crc = rg_crc32(0, buf, len - 4);
    for (int i = 0; i < 4; i++)
        buf[len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

START_TEST(test_saved_with_model)
{
    static uint8_t buf[4096];
    size_t len;
    regnn_model *m = net(REGNN_LOSS_MSE, 0), *l = NULL;
    int kind;
    double param;
    /* The default loss writes no section. */
    CK_OK(regnn_model_save_mem(m, buf, sizeof buf, &len));
    ck_assert_ptr_null(find_tag(buf, len, "LOSS"));
    CK_OK(regnn_model_set_loss(m, REGNN_LOSS_HUBER, 0.75));
    CK_OK(regnn_model_save_mem(m, buf, sizeof buf, &len));
    uint8_t *sec = find_tag(buf, len, "LOSS");
    ck_assert_ptr_nonnull(sec);
    ck_assert_uint_eq(sec[4] | sec[5] | sec[6] | sec[7], 0); /* optional: not required */
    ck_assert_uint_eq(sec[8], 12);
    CK_OK(regnn_model_load_mem(buf, len, &l));
    CK_OK(regnn_model_get_loss(l, &kind, &param));
    ck_assert_int_eq(kind, REGNN_LOSS_HUBER);
    ck_assert_double_eq(param, 0.75);
    regnn_model_free(l);
    /* Checkpoints too. */
    regnn_optimizer *o = NULL, *lo = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_SGD, &o));
    CK_OK(regnn_model_set_loss(m, REGNN_LOSS_LOG_COSH, 0));
    CK_OK(regnn_checkpoint_save_mem(m, o, buf, sizeof buf, &len));
    CK_OK(regnn_checkpoint_load_mem(buf, len, &l, &lo));
    CK_OK(regnn_model_get_loss(l, &kind, &param));
    ck_assert_int_eq(kind, REGNN_LOSS_LOG_COSH);
    regnn_model_free(l);
    regnn_optimizer_free(lo);
    /* A bad kind or parameter is refused. */
    sec = find_tag(buf, len, "LOSS");
    sec[16] = 9;
    reseal(buf, len);
    CK_STATUS(regnn_model_load_mem(buf, len, &l), REGNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "unknown loss kind 9"));
    sec[16] = REGNN_LOSS_MAE;
    sec[27] = 0x3f; /* param 0 -> a positive double */
    reseal(buf, len);
    CK_STATUS(regnn_model_load_mem(buf, len, &l), REGNN_E_FORMAT);
    ck_assert_ptr_null(l);
    regnn_optimizer_free(o);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_threads_same_bits)
{
    /* The loss runs on the calling thread; the pooled step around it keeps
     * its bits for every thread count, weights and robust losses included. */
    enum { N = 300, H = 160 };
    static float x[N * NI], y[N * NO], w[N];
    for (int i = 0; i < N * NI; i++)
        x[i] = (float)sin(0.21 * i);
    for (int i = 0; i < N * NO; i++)
        y[i] = (float)(2 * cos(0.13 * i));
    for (int i = 0; i < N; i++)
        w[i] = (float)(i % 5) * 0.5f;
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, N, NI, NO, REGNN_COPY, &ds));
    CK_OK(regnn_dataset_set_weights(ds, w, N));
    static float p[2][NI * H + H + H * NO + NO];
    double vl[2][3];
    for (int run = 0; run < 2; run++) {
        regnn_model *m = NULL;
        CK_OK(regnn_model_create(NI, &m));
        CK_OK(regnn_model_add_dense(m, H, REGNN_ACT_RELU, NULL));
        CK_OK(regnn_model_add_dense(m, NO, REGNN_ACT_LINEAR, NULL));
        CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_DROPOUT, 0.1));
        CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 9));
        CK_OK(regnn_model_set_loss(m, REGNN_LOSS_HUBER, 0.5));
        CK_OK(regnn_model_set_threads(m, run ? 3 : 1));
        regnn_optimizer *o = NULL;
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
        regnn_fit_options *fo = NULL;
        CK_OK(regnn_fit_options_create(&fo));
        CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 3));
        CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, 64));
        CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.2));
        regnn_history *h = NULL;
        CK_OK(regnn_fit(m, o, ds, NULL, fo, &h));
        CK_OK(regnn_history_get(h, REGNN_METRIC_VAL_LOSS, vl[run], 3));
        CK_OK(regnn_model_get_params(m, p[run], sizeof p[run] / sizeof p[run][0]));
        regnn_history_free(h);
        regnn_fit_options_free(fo);
        regnn_optimizer_free(o);
        regnn_model_free(m);
    }
    ck_assert(memcmp(p[0], p[1], sizeof p[0]) == 0);
    ck_assert(memcmp(vl[0], vl[1], sizeof vl[0]) == 0);
    regnn_dataset_free(ds);
}
END_TEST

static Suite *loss_suite(void)
{
    Suite *s = suite_create("loss");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_values);
    tcase_add_test(tc, test_gradients);
    tcase_add_test(tc, test_hand_computation);
    tcase_add_test(tc, test_ones_same_bits);
    tcase_add_test(tc, test_zero_weight_rows);
    tcase_add_test(tc, test_dataset_weights);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_history_uses_loss);
    tcase_add_test(tc, test_robust_losses_resist_outliers);
    tcase_add_test(tc, test_saved_with_model);
    tcase_add_test(tc, test_threads_same_bits);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(loss_suite)
