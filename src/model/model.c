/* SPDX-License-Identifier: MIT */
/* Model handle: topology, the contiguous parameter and gradient buffers,
 * initialization, prediction, evaluation and one training step's gradients. */
#define _POSIX_C_SOURCE 200809L
#include "model.h"

#include <float.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* Dimensions stay below 2^24 so every GEMM size and product fits a 32-bit BLAS int
 * once multiplied by a bounded row count. */
#define RG_MAX_DIM ((size_t)1 << 24)
/* Rows per GEMM call in predict/evaluate, to bound scratch memory. */
#define RG_PREDICT_CHUNK 256
#define RG_STACK_FLOATS 4096

#define RG_SHARDS_MAX 4
static size_t shard_plan(const regnn_model *m, size_t rows, size_t bounds[RG_SHARDS_MAX + 1]);

regnn_status regnn_model_create(size_t n_inputs, regnn_model **out)
{
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_create: out is NULL");
    *out = NULL;
    if (n_inputs == 0 || n_inputs > RG_MAX_DIM)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_create: n_inputs must be in 1..%zu, got %zu",
                        RG_MAX_DIM, n_inputs);
    regnn_model *m = rg_calloc(1, sizeof *m);
    if (!m)
        return rg_error(REGNN_E_NOMEM, "regnn_model_create: out of memory");
    m->n_in = n_inputs;
    m->threads = 1;
    rg_rng_seed(&m->rng, 0);
    *out = m;
    return REGNN_OK;
}

static void free_workspace(regnn_model *m)
{
    if (m->ws) {
        for (size_t i = 0; i < m->n_layers; i++) {
            rg_free(m->ws[i].act);
            if (m->ws[i].out != m->ws[i].act)
                rg_free(m->ws[i].out);
            rg_free(m->ws[i].mask);
            rg_free(m->ws[i].delta);
        }
        rg_free(m->ws);
    }
    m->ws = NULL;
    m->ws_batch = 0;
}

void rg_model_drop_workspace(regnn_model *m)
{
    free_workspace(m);
    rg_free(m->params_next);
    m->params_next = NULL;
    rg_free(m->ws_pen);
    m->ws_pen = NULL;
    rg_free(m->ws_shard);
    m->ws_shard = NULL;
    m->ws_shards = 0;
    rg_free(m->own.seg);
    memset(&m->own, 0, sizeof m->own);
    memset(&m->flat, 0, sizeof m->flat);
    m->plan = NULL;
    rg_pool_free(m->pool);
    m->pool = NULL;
}

void regnn_model_free(regnn_model *m)
{
    if (!m)
        return;
    rg_model_drop_workspace(m);
    for (size_t i = 0; i < m->n_layers; i++)
        rg_free(m->layers[i]);
    rg_free(m->layers);
    rg_free(m->params);
    rg_free(m->grads);
    regnn_scaler_free(m->scaler);
    rg_free(m);
}

/* Parameters and gradients exist once the topology is frozen. */
static regnn_status ensure_params(regnn_model *m, const char *fn)
{
    if (m->params)
        return REGNN_OK;
    float *p = rg_calloc(m->n_params, sizeof *p);
    float *g = rg_calloc(m->n_params, sizeof *g);
    if (!p || !g) {
        rg_free(p);
        rg_free(g);
        return rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu parameters", fn, m->n_params);
    }
    m->params = p;
    m->grads = g;
    return REGNN_OK;
}

regnn_status regnn_model_copy(const regnn_model *m, regnn_model **out)
{
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_copy: out is NULL");
    *out = NULL;
    if (!m)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_copy: model is NULL");
    regnn_model *c = rg_calloc(1, sizeof *c);
    if (!c)
        return rg_error(REGNN_E_NOMEM, "regnn_model_copy: out of memory");
    c->n_in = m->n_in;
    c->threads = m->threads;
    c->rng = m->rng;
    c->initialized = m->initialized;
    c->n_params = m->n_params;
    c->loss = m->loss;
    c->loss_param = m->loss_param;
    if (m->n_layers) {
        c->layers = rg_calloc(m->n_layers, sizeof *c->layers);
        if (!c->layers)
            goto nomem;
        c->cap_layers = m->n_layers;
        for (size_t i = 0; i < m->n_layers; i++) {
            c->layers[i] = rg_malloc(sizeof *c->layers[i]);
            if (!c->layers[i])
                goto nomem;
            *c->layers[i] = *m->layers[i];
            c->layers[i]->model = c;
            c->n_layers = i + 1;
        }
    }
    if (m->params) {
        if (ensure_params(c, "regnn_model_copy") != REGNN_OK)
            goto nomem;
        memcpy(c->params, m->params, m->n_params * sizeof *c->params);
    }
    if (m->scaler && !(c->scaler = rg_scaler_copy(m->scaler)))
        goto nomem;
    *out = c;
    return REGNN_OK;
nomem:
    regnn_model_free(c);
    return rg_error(REGNN_E_NOMEM, "regnn_model_copy: out of memory");
}

regnn_status regnn_model_add_dense(regnn_model *m, size_t units, int activation,
                                   regnn_layer **layer_out)
{
    if (layer_out)
        *layer_out = NULL;
    if (!m)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_add_dense: model is NULL");
    if (m->params)
        return rg_error(REGNN_E_STATE,
                        "regnn_model_add_dense: the topology is frozen once parameters exist "
                        "(after regnn_model_init or regnn_model_set_params)");
    if (units == 0 || units > RG_MAX_DIM)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_add_dense: units must be in 1..%zu, got %zu",
                        RG_MAX_DIM, units);
    if (!rg_act_name(activation))
        return rg_error(REGNN_E_UNSUPPORTED, "regnn_model_add_dense: unknown activation %d",
                        activation);
    size_t n_in = m->n_layers ? m->layers[m->n_layers - 1]->units : m->n_in;
    size_t count = n_in * units + units; /* both < 2^24: no overflow */
    if (m->n_params > SIZE_MAX / sizeof(float) - count)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_add_dense: too many parameters");
    if (m->n_layers == m->cap_layers) {
        size_t cap = m->cap_layers ? 2 * m->cap_layers : 8;
        regnn_layer **nl = rg_calloc(cap, sizeof *nl);
        if (!nl)
            return rg_error(REGNN_E_NOMEM, "regnn_model_add_dense: out of memory");
        if (m->n_layers)
            memcpy(nl, m->layers, m->n_layers * sizeof *nl);
        rg_free(m->layers);
        m->layers = nl;
        m->cap_layers = cap;
    }
    regnn_layer *l = rg_calloc(1, sizeof *l);
    if (!l)
        return rg_error(REGNN_E_NOMEM, "regnn_model_add_dense: out of memory");
    l->model = m;
    l->index = m->n_layers;
    l->n_in = n_in;
    l->units = units;
    l->act = activation;
    l->offset = m->n_params;
    /* The workspace is laid out per layer; drop it so it is rebuilt for the new depth. */
    free_workspace(m);
    m->layers[m->n_layers++] = l;
    m->n_params += count;
    if (layer_out)
        *layer_out = l;
    return REGNN_OK;
}

size_t regnn_model_inputs(const regnn_model *m) { return m ? m->n_in : 0; }
size_t regnn_model_outputs(const regnn_model *m)
{
    return (m && m->n_layers) ? m->layers[m->n_layers - 1]->units : 0;
}
size_t regnn_model_layer_count(const regnn_model *m) { return m ? m->n_layers : 0; }
regnn_layer *regnn_model_layer(regnn_model *m, size_t index)
{
    return (m && index < m->n_layers) ? m->layers[index] : NULL;
}

static regnn_status check_layer_value(const char *fn, int key, double value)
{
    if (!regnn_option_name(REGNN_OPTION_LAYER, key))
        return rg_error(REGNN_E_UNSUPPORTED, "%s: unknown layer key %d (not a REGNN_LAYER_* value)",
                        fn, key);
    return rg_option_check(fn, REGNN_OPTION_LAYER, key, value);
}

static void set_layer_value(regnn_layer *l, int key, double value)
{
    if (key == REGNN_LAYER_L2)
        l->l2 = value;
    else if (key == REGNN_LAYER_L1)
        l->l1 = value;
    else
        l->dropout = value;
}

regnn_status regnn_layer_set_double(regnn_layer *l, int key, double value)
{
    if (!l)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_layer_set_double: layer is NULL");
    regnn_status st = check_layer_value("regnn_layer_set_double", key, value);
    if (st != REGNN_OK)
        return st;
    /* A dropout change alters the workspace layout (mask buffers). */
    if (key == REGNN_LAYER_DROPOUT && (l->dropout > 0.0) != (value > 0.0)) {
        if (l->model->busy)
            return rg_error(REGNN_E_STATE, "regnn_layer_set_double: dropout cannot be switched "
                                           "on or off while regnn_fit runs");
        free_workspace(l->model);
    }
    set_layer_value(l, key, value);
    return REGNN_OK;
}

regnn_status regnn_model_set_layers_double(regnn_model *m, int key, double value)
{
    if (!m)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_set_layers_double: model is NULL");
    regnn_status st = check_layer_value("regnn_model_set_layers_double", key, value);
    if (st != REGNN_OK)
        return st;
    if (key == REGNN_LAYER_DROPOUT) {
        if (m->busy)
            return rg_error(REGNN_E_STATE, "regnn_model_set_layers_double: dropout cannot be "
                                           "changed while regnn_fit runs");
        free_workspace(m);
    }
    for (size_t i = 0; i < m->n_layers; i++)
        set_layer_value(m->layers[i], key, value);
    return REGNN_OK;
}

regnn_status regnn_layer_get_double(const regnn_layer *l, int key, double *value)
{
    if (!l || !value)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_layer_get_double: layer and value are required");
    switch (key) {
    case REGNN_LAYER_L2: *value = l->l2; return REGNN_OK;
    case REGNN_LAYER_L1: *value = l->l1; return REGNN_OK;
    case REGNN_LAYER_DROPOUT: *value = l->dropout; return REGNN_OK;
    default: return rg_error(REGNN_E_UNSUPPORTED, "regnn_layer_get_double: unknown layer key %d", key);
    }
}

size_t regnn_layer_inputs(const regnn_layer *l) { return l ? l->n_in : 0; }
size_t regnn_layer_units(const regnn_layer *l) { return l ? l->units : 0; }
int regnn_layer_activation(const regnn_layer *l) { return l ? l->act : -1; }
size_t regnn_layer_param_count(const regnn_layer *l) { return l ? l->n_in * l->units + l->units : 0; }

regnn_status regnn_layer_get_params(const regnn_layer *l, float *buf, size_t len)
{
    if (!l || !buf)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_layer_get_params: layer and buf are required");
    size_t n = regnn_layer_param_count(l);
    if (len < n)
        return rg_error(REGNN_E_SHAPE, "regnn_layer_get_params: buffer holds %zu floats, layer has %zu",
                        len, n);
    if (!l->model->params)
        return rg_error(REGNN_E_STATE, "regnn_layer_get_params: the model is not initialized");
    memcpy(buf, l->model->params + l->offset, n * sizeof *buf);
    return REGNN_OK;
}

regnn_status regnn_layer_set_params(regnn_layer *l, const float *buf, size_t len)
{
    if (!l || !buf)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_layer_set_params: layer and buf are required");
    size_t n = regnn_layer_param_count(l);
    if (len != n)
        return rg_error(REGNN_E_SHAPE, "regnn_layer_set_params: got %zu floats, layer has %zu", len, n);
    if (!rg_all_finite(buf, n))
        return rg_error(REGNN_E_NUMERIC, "regnn_layer_set_params: parameters contain NaN or Inf");
    if (!l->model->params)
        return rg_error(REGNN_E_STATE,
                        "regnn_layer_set_params: initialize the model first (regnn_model_init)");
    memcpy(l->model->params + l->offset, buf, n * sizeof *buf);
    l->model->params_max_known = 0;
    return REGNN_OK;
}

regnn_status regnn_model_init(regnn_model *m, int scheme, uint64_t seed)
{
    if (!m)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_init: model is NULL");
    if (scheme != REGNN_INIT_GLOROT_UNIFORM && scheme != REGNN_INIT_HE_UNIFORM)
        return rg_error(REGNN_E_UNSUPPORTED, "regnn_model_init: unknown scheme %d", scheme);
    if (m->n_layers == 0)
        return rg_error(REGNN_E_STATE, "regnn_model_init: the model has no layers");
    regnn_status st = ensure_params(m, "regnn_model_init");
    if (st != REGNN_OK)
        return st;
    /* Weights and the training stream come from separate seeds, so the shuffle
     * order does not depend on the number of parameters drawn. */
    rg_rng init_rng;
    rg_rng_seed(&init_rng, seed);
    rg_rng_seed(&m->rng, seed ^ 0xA5A5A5A5DEADBEEFull);
    for (size_t i = 0; i < m->n_layers; i++) {
        const regnn_layer *l = m->layers[i];
        double fan = scheme == REGNN_INIT_HE_UNIFORM ? (double)l->n_in : (double)(l->n_in + l->units);
        double limit = sqrt(6.0 / fan);
        float *w = m->params + l->offset;
        size_t nw = l->n_in * l->units;
        for (size_t k = 0; k < nw; k++)
            w[k] = (float)((2.0 * rg_rng_uniform(&init_rng) - 1.0) * limit);
        memset(w + nw, 0, l->units * sizeof *w);
    }
    m->params_max_known = 0;
    m->initialized = 1;
    return REGNN_OK;
}

regnn_status regnn_model_seed(regnn_model *m, uint64_t seed)
{
    if (!m)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_seed: model is NULL");
    rg_rng_seed(&m->rng, seed ^ 0xA5A5A5A5DEADBEEFull);
    return REGNN_OK;
}

size_t regnn_model_param_count(const regnn_model *m) { return m ? m->n_params : 0; }

regnn_status regnn_model_get_params(const regnn_model *m, float *buf, size_t len)
{
    if (!m || !buf)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_get_params: model and buf are required");
    if (len < m->n_params)
        return rg_error(REGNN_E_SHAPE, "regnn_model_get_params: buffer holds %zu floats, model has %zu",
                        len, m->n_params);
    if (!m->initialized)
        return rg_error(REGNN_E_STATE, "regnn_model_get_params: the model is not initialized");
    memcpy(buf, m->params, m->n_params * sizeof *buf);
    return REGNN_OK;
}

regnn_status regnn_model_set_params(regnn_model *m, const float *buf, size_t len)
{
    if (!m || !buf)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_set_params: model and buf are required");
    if (m->n_layers == 0)
        return rg_error(REGNN_E_STATE, "regnn_model_set_params: the model has no layers");
    if (len != m->n_params)
        return rg_error(REGNN_E_SHAPE, "regnn_model_set_params: got %zu floats, model has %zu", len,
                        m->n_params);
    if (!rg_all_finite(buf, len))
        return rg_error(REGNN_E_NUMERIC, "regnn_model_set_params: parameters contain NaN or Inf");
    regnn_status st = ensure_params(m, "regnn_model_set_params");
    if (st != REGNN_OK)
        return st;
    memcpy(m->params, buf, len * sizeof *buf);
    m->params_max_known = 0;
    m->initialized = 1;
    return REGNN_OK;
}

regnn_status rg_model_check_ready(const regnn_model *m)
{
    if (m->n_layers == 0)
        return rg_error(REGNN_E_STATE, "the model has no layers");
    if (!m->initialized)
        return rg_error(REGNN_E_STATE, "the model is not initialized (call regnn_model_init)");
    return REGNN_OK;
}

size_t rg_model_max_width(const regnn_model *m)
{
    size_t w = 0;
    for (size_t i = 0; i < m->n_layers; i++)
        if (m->layers[i]->units > w)
            w = m->layers[i]->units;
    return w;
}

/* Forward rows of x through the model in chunks, with per-call scratch (stack
 * for small models, or the caller's `scratch` of 2 * scratch_rows * width
 * floats) so concurrent calls on one model never share memory. Writes
 * predictions to y_out if given; accumulates loss kind's sums against y_true
 * (weighted by wt, may be NULL) if given. */
/* One layer of forward_rows on the pool: a piece of the product, then its bias
 * and activation. */
typedef struct fwd_job {
    const regnn_layer *l;
    const float *params;
    rg_gemm g;
} fwd_job;

static void fwd_task(void *ctx, size_t t)
{
    const fwd_job *j = ctx;
    size_t r0, r1, c0, c1;
    rg_gemm_piece(&j->g, t, &r0, &r1, &c0, &c1);
    rg_dense_bias_act(j->l, j->params, j->g.c, r0, r1, c0, c1);
}

static regnn_status forward_rows(const regnn_model *m, const float *x, size_t rows, float *y_out,
                                 const float *y_true, int kind, const float *wt, rg_loss_sums *sums,
                                 float *scratch, size_t scratch_rows, rg_pool *pool)
{
    float stack_buf[RG_STACK_FLOATS];
    const size_t w = rg_model_max_width(m), n_out = regnn_model_outputs(m);
    size_t chunk = RG_STACK_FLOATS / (2 * w);
    float *heap = NULL, *buf = stack_buf;
    if (scratch && scratch_rows > chunk) {
        chunk = scratch_rows;
        buf = scratch;
    } else if (chunk == 0 || (rows > chunk && chunk < RG_PREDICT_CHUNK)) {
        chunk = rows < RG_PREDICT_CHUNK ? rows : RG_PREDICT_CHUNK;
        heap = rg_calloc(2 * chunk, w * sizeof(float));
        if (!heap)
            return rg_error(REGNN_E_NOMEM, "out of memory for prediction scratch");
        buf = heap;
    }
    float *ping = buf, *pong = buf + chunk * w;
    for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        size_t nr = rows - r0 < chunk ? rows - r0 : chunk;
        const float *in = x + r0 * m->n_in;
        float *cur = ping;
        for (size_t i = 0; i < m->n_layers; i++) {
            if (pool && nr > 1) {
                /* The same pieces' bits as rg_dense_forward (gemm.c's rule). */
                fwd_job j = {m->layers[i], m->params, {0}};
                rg_dense_gemm(&j.g, m->layers[i], m->params, in, nr, cur);
                rg_gemm_plan(&j.g, rg_pool_threads(pool), 0);
                rg_pool_run(pool, fwd_task, &j, j.g.pr * j.g.pc);
            } else {
                rg_dense_forward(m->layers[i], m->params, in, nr, cur);
            }
            in = cur;
            cur = cur == ping ? pong : ping;
        }
        size_t n = nr * n_out;
        if (y_out)
            memcpy(y_out + r0 * n_out, in, n * sizeof *in);
        if (y_true)
            rg_loss_accumulate(kind, m->loss_param, in, y_true + r0 * n_out, wt ? wt + r0 : NULL,
                               nr, n_out, sums);
    }
    rg_free(heap);
    return REGNN_OK;
}

regnn_status regnn_model_predict(const regnn_model *m, const float *x, size_t n_rows, float *y,
                                 size_t y_len)
{
    if (!m || !x || !y)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_predict: model, x and y are required");
    regnn_status st = rg_model_check_ready(m);
    if (st != REGNN_OK)
        return rg_error(st, "regnn_model_predict: %s", regnn_errmsg());
    size_t n_out = regnn_model_outputs(m), need, nx;
    if (n_rows == 0 || !rg_mul_ok(n_rows, n_out, &need) || !rg_mul_ok(n_rows, m->n_in, &nx) ||
        !rg_mul_ok(nx, sizeof(float), &nx))
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_predict: n_rows %zu is 0 or too large",
                        n_rows);
    if (y_len < need)
        return rg_error(REGNN_E_SHAPE, "regnn_model_predict: y holds %zu floats, need %zu rows x %zu",
                        y_len, n_rows, n_out);
    if (!rg_all_finite(x, n_rows * m->n_in))
        return rg_error(REGNN_E_NUMERIC, "regnn_model_predict: x contains NaN or Inf");
    st = forward_rows(m, x, n_rows, y, NULL, REGNN_LOSS_MSE, NULL, NULL, NULL, 0, NULL);
    if (st != REGNN_OK)
        return rg_error(st, "regnn_model_predict: %s", regnn_errmsg());
    return REGNN_OK;
}

regnn_status rg_model_eval_rows(const regnn_model *m, const float *x, const float *y, size_t rows,
                                double *mse, double *mae, float *scratch, size_t scratch_rows,
                                rg_pool *pool)
{
    rg_loss_sums sums = {0.0, 0.0, 0.0, 0.0};
    regnn_status st = forward_rows(m, x, rows, NULL, y, REGNN_LOSS_MSE, NULL, &sums, scratch,
                                   scratch_rows, pool);
    if (st != REGNN_OK)
        return st;
    double n = (double)rows * (double)regnn_model_outputs(m);
    if (mse)
        *mse = sums.se / n;
    if (mae)
        *mae = sums.ae / n;
    return REGNN_OK;
}

regnn_status rg_model_eval_sums(const regnn_model *m, const float *x, const float *y,
                                const float *w, size_t rows, rg_loss_sums *sums, float *scratch,
                                size_t scratch_rows, rg_pool *pool)
{
    sums->loss = sums->se = sums->ae = sums->w = 0.0;
    return forward_rows(m, x, rows, NULL, y, m->loss, w, sums, scratch, scratch_rows, pool);
}

double rg_model_penalty(const regnn_model *m)
{
    double p = 0.0;
    for (size_t i = 0; i < m->n_layers; i++)
        p += rg_dense_penalty(m->layers[i], m->params);
    return p;
}

regnn_status regnn_model_evaluate(const regnn_model *m, const regnn_dataset *ds, double *mse,
                                  double *mae, double *penalty)
{
    if (!m || !ds)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_evaluate: model and dataset are required");
    regnn_status st = rg_model_check_ready(m);
    if (st != REGNN_OK)
        return rg_error(st, "regnn_model_evaluate: %s", regnn_errmsg());
    const rg_rows r = rg_dataset_view(ds);
    if (r.n_x != m->n_in || r.n_y != regnn_model_outputs(m))
        return rg_error(REGNN_E_SHAPE,
                        "regnn_model_evaluate: dataset has %zu features and %zu targets, model "
                        "takes %zu inputs and gives %zu outputs",
                        r.n_x, r.n_y, m->n_in, regnn_model_outputs(m));
    double a, b;
    st = rg_model_eval_rows(m, r.x, r.y, r.rows, &a, &b, NULL, 0, NULL);
    if (st != REGNN_OK)
        return rg_error(st, "regnn_model_evaluate: %s", regnn_errmsg());
    if (mse)
        *mse = a;
    if (mae)
        *mae = b;
    if (penalty)
        *penalty = rg_model_penalty(m);
    return REGNN_OK;
}

regnn_status rg_model_reserve_next(regnn_model *m)
{
    if (!m->params_next)
        m->params_next = rg_malloc(m->n_params * sizeof(float));
    if (!m->params_next)
        return rg_error(REGNN_E_NOMEM, "out of memory for the training workspace");
    return REGNN_OK;
}

/* ---- parameter ownership ----
 * With T threads, each layer's kernel rows are cut into T ranges of whole
 * multiples of 8 rows (its bias into T ranges of multiples of 16), and task t
 * owns range t of every layer; a layer under RG_OWN_MIN parameters is not cut
 * (task 0 owns it). A thread computes its rows' kernel gradient and the matching
 * columns of the input gradient (which read the same kernel rows), adds its
 * rows' shard parts and updates them; so the kernel rows stay in one core's
 * cache from step to step. The plan decides where work runs, never what it
 * computes. */
#define RG_OWN_MIN 4096
#define RG_OWN_ROWS 256

static size_t own_step(size_t n, size_t parts, size_t align)
{
    return ((n + parts - 1) / parts + align - 1) / align * align;
}

/* Rows [lo, hi) of n in part t of parts, steps of align. */
static void own_cut(size_t n, size_t parts, size_t align, size_t t, size_t *lo, size_t *hi)
{
    const size_t st = own_step(n, parts, align);
    *lo = t * st < n ? t * st : n;
    *hi = (t + 1) * st < n ? (t + 1) * st : n;
}

static size_t own_parts(const regnn_layer *l, size_t nt)
{
    return l->n_in * l->units < RG_OWN_MIN ? 1 : nt;
}

/* The sharded steps' plan: task t owns the parameters in one contiguous
 * chunk (optimizer.c's), a kernel row going with its first element. */
static void flat_plan(regnn_model *m)
{
    const size_t nt = m->flat.tasks, chunk = rg_optimizer_chunk(m->n_params, nt);
    for (size_t t = 0; t < nt; t++) {
        const size_t e0 = t * chunk < m->n_params ? t * chunk : m->n_params;
        const size_t e1 = m->n_params - e0 < chunk ? m->n_params : e0 + chunk;
        for (size_t i = 0; i < m->n_layers; i++) {
            const regnn_layer *l = m->layers[i];
            const size_t off = l->offset, u = l->units, nk = l->n_in * u;
            size_t *seg = m->flat.seg + 2 * (t * m->flat.per + 2 * i);
            size_t r0 = e0 <= off ? 0 : (e0 - off + u - 1) / u;
            size_t r1 = e1 <= off ? 0 : (e1 - off + u - 1) / u;
            r0 = r0 < l->n_in ? r0 : l->n_in;
            r1 = r1 < l->n_in ? r1 : l->n_in;
            size_t b0 = off + nk, b1 = b0 + u;
            b0 = b0 < e0 ? e0 : b0;
            b1 = b1 > e1 ? e1 : b1;
            seg[0] = off + r0 * u;
            seg[1] = off + r1 * u;
            seg[2] = b0 < b1 ? b0 : b1;
            seg[3] = b1;
        }
    }
}

static void own_plan(regnn_model *m)
{
    const size_t nt = m->own.tasks;
    for (size_t t = 0; t < nt; t++)
        for (size_t i = 0; i < m->n_layers; i++) {
            const regnn_layer *l = m->layers[i];
            const size_t parts = own_parts(l, nt), nk = l->n_in * l->units;
            size_t *seg = m->own.seg + 2 * (t * m->own.per + 2 * i);
            size_t r0 = 0, r1 = 0, b0 = 0, b1 = 0;
            if (t < parts) {
                own_cut(l->n_in, parts, 8, t, &r0, &r1);
                own_cut(l->units, parts, 16, t, &b0, &b1);
            }
            seg[0] = l->offset + r0 * l->units;
            seg[1] = l->offset + r1 * l->units;
            seg[2] = l->offset + nk + b0;
            seg[3] = l->offset + nk + b1;
        }
}

const rg_plan *rg_model_plan(const regnn_model *m)
{
    return m->plan && m->plan->tasks == rg_pool_threads(m->pool) ? m->plan : NULL;
}

size_t rg_model_resolved_threads(const regnn_model *m)
{
    return m->threads_resolved ? m->threads_resolved : rg_threads_resolve(m->threads);
}

regnn_status regnn_model_set_threads(regnn_model *m, size_t n)
{
    if (!m)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_set_threads: model is NULL");
    if (n > RG_MAX_THREADS)
        return rg_error(REGNN_E_INVALID_ARG,
                        "regnn_model_set_threads: n must be in 0..%d (0 = one per usable CPU), got %zu",
                        RG_MAX_THREADS, n);
    if (m->busy)
        return rg_error(REGNN_E_STATE, "regnn_model_set_threads: the model is being trained by "
                                       "regnn_fit (called from an epoch callback?)");
    m->threads_resolved = 0;
    if (rg_threads_resolve(n) != rg_pool_threads(m->pool)) {
        /* The pool restarts at the next training call with the new count. */
        rg_pool_free(m->pool);
        m->pool = NULL;
    }
    m->threads = n;
    return REGNN_OK;
}

size_t regnn_model_threads(const regnn_model *m) { return m ? m->threads : 0; }

regnn_status rg_model_reserve(regnn_model *m, size_t batch)
{
    if (!m->ws_pen) {
        size_t rows = 0;
        for (size_t i = 0; i < m->n_layers; i++)
            rows += m->layers[i]->n_in;
        m->ws_pen = rg_calloc(rows, sizeof *m->ws_pen);
        if (!m->ws_pen)
            return rg_error(REGNN_E_NOMEM, "out of memory for the training workspace");
    }
    /* Resolved once per setting: 0 reads the CPUs (system calls) only then. */
    if (!m->threads_resolved)
        m->threads_resolved = rg_threads_resolve(m->threads);
    const size_t nt = m->threads_resolved;
    if (nt > 1 && !m->pool) {
        regnn_status st = rg_pool_create(nt, &m->pool);
        if (st != REGNN_OK)
            return st;
    }
    if (nt > 1 && m->own.tasks != nt) {
        const size_t per = 2 * m->n_layers;
        size_t *seg = rg_malloc(2 * 2 * nt * per * sizeof *seg);
        if (!seg)
            return rg_error(REGNN_E_NOMEM, "out of memory for the training workspace");
        rg_free(m->own.seg);
        m->own.seg = seg; /* one allocation holds both plans */
        m->flat.seg = seg + 2 * nt * per;
        m->own.tasks = m->flat.tasks = nt;
        m->own.per = m->flat.per = per;
        own_plan(m);
        flat_plan(m);
        m->plan = NULL;
    }
    if (nt > 1) {
        /* Buffers for the shard parts of any batch up to this size (shard_plan). */
        size_t need = 0, b[RG_SHARDS_MAX + 1];
        for (size_t r = batch < 512 ? batch : 512; r >= 64 && need < RG_SHARDS_MAX; r--) {
            size_t s = shard_plan(m, r, b);
            if (s > 1 && s > need)
                need = s;
        }
        if (need > m->ws_shards) {
            float *p = rg_malloc(need * m->n_params * sizeof *p);
            if (!p)
                return rg_error(REGNN_E_NOMEM, "out of memory for the training workspace");
            rg_free(m->ws_shard);
            m->ws_shard = p;
            m->ws_shards = need;
        }
    }
    if (m->ws && m->ws_batch >= batch)
        return REGNN_OK;
    rg_layer_ws *ws = rg_calloc(m->n_layers, sizeof *ws);
    if (!ws)
        return rg_error(REGNN_E_NOMEM, "out of memory for the training workspace");
    int ok = 1;
    for (size_t i = 0; i < m->n_layers && ok; i++) {
        size_t n = batch * m->layers[i]->units; /* batch <= 2^31 checked by callers */
        ws[i].act = rg_malloc(n * sizeof(float));
        ws[i].delta = rg_malloc(n * sizeof(float));
        ok = ws[i].act && ws[i].delta;
        if (ok && m->layers[i]->dropout > 0.0) {
            ws[i].out = rg_malloc(n * sizeof(float));
            ws[i].mask = rg_malloc(n * sizeof(float));
            ok = ws[i].out && ws[i].mask;
        } else {
            ws[i].out = ws[i].act;
        }
    }
    /* Swap in the new workspace only when complete, so failure keeps the old one. */
    rg_layer_ws *old = m->ws;
    size_t old_batch = m->ws_batch;
    m->ws = ws;
    m->ws_batch = batch;
    if (!ok) {
        free_workspace(m);
        m->ws = old;
        m->ws_batch = old_batch;
        return rg_error(REGNN_E_NOMEM, "out of memory for the training workspace");
    }
    if (old) {
        regnn_model tmp = *m;
        tmp.ws = old;
        free_workspace(&tmp);
    }
    return REGNN_OK;
}

/* g = 2*l2*w + l1*sign(w), or with add g = g + (2*l2*w + l1*sign(w)); returns
 * l2*sum(w^2) + l1*sum|w|. Sums run in float lanes over short blocks (so they
 * vectorize) and blocks add up in double. */
RG_SIMD_CLONES
static double penalty_grad(const float *restrict w, float *restrict g, size_t n, double l2,
                           double l1, int add)
{
    enum { LANES = 8, BLOCK = 256 };
    const float c2 = (float)(2.0 * l2), c1 = (float)l1;
    double q2 = 0.0, q1 = 0.0;
    size_t i = 0;
    if (l1 == 0.0) {
        /* The common L2-only case: half the arithmetic, no sign. */
        while (i < n) {
            size_t end = n - i > BLOCK ? i + BLOCK : n;
            float a2[LANES] = {0};
            for (; i + LANES <= end; i += LANES)
                for (size_t k = 0; k < LANES; k++) {
                    float v = w[i + k];
                    a2[k] += v * v;
                    g[i + k] = add ? g[i + k] + c2 * v : c2 * v;
                }
            for (; i < end; i++) {
                a2[0] += w[i] * w[i];
                g[i] = add ? g[i] + c2 * w[i] : c2 * w[i];
            }
            for (size_t k = 0; k < LANES; k++)
                q2 += a2[k];
        }
        return l2 * q2;
    }
    while (i < n) {
        size_t end = n - i > BLOCK ? i + BLOCK : n;
        float a2[LANES] = {0}, a1[LANES] = {0};
        for (; i + LANES <= end; i += LANES)
            for (size_t k = 0; k < LANES; k++) {
                float v = w[i + k];
                float sg = (float)(v > 0.0f) - (float)(v < 0.0f);
                a2[k] += v * v;
                a1[k] += sg * v;
                g[i + k] = add ? g[i + k] + (c2 * v + c1 * sg) : c2 * v + c1 * sg;
            }
        for (; i < end; i++) {
            float v = w[i];
            float sg = (float)(v > 0.0f) - (float)(v < 0.0f);
            a2[0] += v * v;
            a1[0] += sg * v;
            g[i] = add ? g[i] + (c2 * v + c1 * sg) : c2 * v + c1 * sg;
        }
        for (size_t k = 0; k < LANES; k++) {
            q2 += a2[k];
            q1 += a1[k];
        }
    }
    return l2 * q2 + l1 * q1;
}

/* ---- shards ----
 * A batch of 64 to 512 rows of a model whose every layer product is small
 * (rows * n_in * units <= RG_SMALL_MNK, so the built-in kernel computes all of
 * them in every build) is cut into S = min(4, rows / 32) shards of whole
 * multiples of 8 rows (at most RG_GEMM_ADD_K each). The rule looks at the
 * batch and the model only, never at the thread count. A sharded step's
 * gradients are, per element,
 *     kernel: ((P_0 + P_1) + ... + P_{S-1}) + (2*l2*w + l1*sign(w))
 *     bias:   (P_0 + P_1) + ... + P_{S-1}
 *     loss sums: shard sums from 0 in row order, added in shard order
 * where P_s is shard s's part (its rows, the batch's scale), summed from +0
 * over its rows ascending. One thread computes the batch layer by layer and
 * adds each P_s as it goes (rg_sgemm_builtin_add); several threads each run
 * whole shards, forward and backward, with no wait between layers, and then
 * add the parts up over kernel rows in the same order. Same bits either way. */
#define RG_SHARD_MIN_ROWS 32

static size_t shard_plan(const regnn_model *m, size_t rows, size_t bounds[RG_SHARDS_MAX + 1])
{
    size_t s = rows / RG_SHARD_MIN_ROWS;
    for (size_t i = 0; i < m->n_layers && s >= 2; i++)
        if ((double)rows * (double)m->layers[i]->n_in * (double)m->layers[i]->units > RG_SMALL_MNK)
            s = 1;
    if (s < 2 || rows > RG_SHARDS_MAX * RG_GEMM_ADD_K) {
        bounds[0] = 0;
        bounds[1] = rows;
        return 1;
    }
    if (s > RG_SHARDS_MAX)
        s = RG_SHARDS_MAX;
    const size_t per = ((rows + s - 1) / s + 7) / 8 * 8;
    size_t n = 0;
    for (size_t r = 0; r < rows; r += per)
        bounds[n++] = r;
    bounds[n] = rows;
    return n;
}

/* Bias part of rows r0..r1, columns c0..c1: from +0, rows ascending; stored
 * (add 0) or added to gb (add 1). */
static void bias_part(const float *delta, size_t units, size_t r0, size_t r1, size_t c0,
                      size_t c1, float *gb, int add)
{
    enum { COLS = 64 };
    for (size_t cb = c0; cb < c1; cb += COLS) {
        const size_t ce = c1 - cb < COLS ? c1 : cb + COLS;
        float acc[COLS];
        memset(acc, 0, sizeof acc);
        for (size_t r = r0; r < r1; r++) {
            const float *d = delta + r * units;
            for (size_t c = cb; c < ce; c++)
                acc[c - cb] += d[c];
        }
        for (size_t c = cb; c < ce; c++)
            gb[c] = add ? gb[c] + acc[c - cb] : acc[c - cb];
    }
}

/* ---- one training step as tasks ----
 * A step runs layer by layer; each layer is one job of independent tasks on
 * the model's pool: forward, the pieces of in * W with bias, activation and
 * dropout applied to each piece; backward, the pieces of the kernel gradient
 * (by kernel rows, with their rows' penalty gradient), the bias gradient by
 * columns, and the pieces of the input gradient with the lower layer's
 * dropout and activation derivative applied. Every value is computed by the
 * same operations in the same order whatever the number of pieces (gemm.c's
 * rule; the penalty is summed per kernel row, then rows in order; bias sums
 * run over rows in order), so the bits do not depend on the thread count.
 * Batches of up to RG_OWN_ROWS rows on several threads cut the backward
 * products of built-in layers by the kernel rows each thread owns instead
 * (own_backward_task). Sharded batches on several threads run as shards
 * (above).
 * Dropout masks are drawn before the step, in the order one thread would
 * draw them. */
typedef struct step_job {
    regnn_model *m;
    const float *x, *y, *wt;
    size_t rows, layer;
    int train;
    rg_gemm g1, g2;    /* forward: g1; backward: g1 = kernel gradient, g2 = input gradient */
    size_t n1, nb, n2; /* tasks: pieces of g1, bias column blocks, pieces of g2 */
    size_t bstep;      /* columns per bias block */
    size_t n_shards, shard[RG_SHARDS_MAX + 1];
    size_t total;  /* rows of the whole batch (the loss's scale) */
    int penalty;   /* add the penalty gradient (else the data gradient only) */
    rg_update *upd; /* the optimizer update the step's tasks run, or NULL */
    double sums[RG_SHARDS_MAX][3];
} step_job;

static size_t pen_row0(const regnn_model *m, size_t layer)
{
    size_t r = 0;
    for (size_t i = 0; i < layer; i++)
        r += m->layers[i]->n_in;
    return r;
}

static void forward_task(void *ctx, size_t t)
{
    const step_job *j = ctx;
    const regnn_layer *l = j->m->layers[j->layer];
    const rg_layer_ws *w = &j->m->ws[j->layer];
    size_t r0, r1, c0, c1;
    rg_gemm_piece(&j->g1, t, &r0, &r1, &c0, &c1);
    rg_dense_bias_act(l, j->m->params, w->act, r0, r1, c0, c1);
    if (w->mask)
        for (size_t r = r0; r < r1; r++)
            for (size_t k = r * l->units + c0; k < r * l->units + c1; k++)
                w->out[k] = w->act[k] * w->mask[k];
}

/* The lower layer's delta for rows r0..r1, columns c0..c1, once the product
 * is in it: its dropout mask, then its activation derivative. */
static void lower_delta(const regnn_model *m, size_t layer, size_t r0, size_t r1, size_t c0,
                        size_t c1)
{
    const regnn_layer *lo = m->layers[layer - 1];
    const rg_layer_ws *wl = &m->ws[layer - 1];
    for (size_t r = r0; r < r1; r++) {
        float *d = wl->delta + r * lo->units + c0;
        if (wl->mask) {
            const float *mk = wl->mask + r * lo->units + c0;
            for (size_t k = 0; k < c1 - c0; k++)
                d[k] *= mk[k];
        }
        rg_dense_act_backward(lo->act, wl->act + r * lo->units + c0, d, c1 - c0);
    }
}

/* Piece t of an unsharded step's kernel gradient (j->g1); with beta 1 its
 * kernel rows start from their penalty gradient (no extra pass over them). */
static void kernel_piece(const step_job *j, size_t t)
{
    const regnn_model *m = j->m;
    const regnn_layer *l = m->layers[j->layer];
    const rg_gemm *g = &j->g1;
    if (g->beta != 0.0f) {
        const size_t i0 = (t / g->pc) * g->rstep;
        const size_t i1 = i0 + g->rstep < g->m ? i0 + g->rstep : g->m;
        double *pen = m->ws_pen + pen_row0(m, j->layer);
        for (size_t i = i0; i < i1; i++)
            pen[i] = penalty_grad(m->params + l->offset + i * l->units,
                                  m->grads + l->offset + i * l->units, l->units, l->l2, l->l1, 0);
    }
    rg_gemm_piece(g, t, NULL, NULL, NULL, NULL);
}

static void backward_task(void *ctx, size_t t)
{
    const step_job *j = ctx;
    regnn_model *m = j->m;
    const regnn_layer *l = m->layers[j->layer];
    const rg_layer_ws *w = &m->ws[j->layer];
    size_t r0, r1, c0, c1;
    /* Input-gradient pieces first: piece k goes to thread k first (pool.c), the
     * thread that computed those batch rows going forward. */
    if (t < j->n2) {
        rg_gemm_piece(&j->g2, t, &r0, &r1, &c0, &c1);
        lower_delta(m, j->layer, r0, r1, c0, c1);
        return;
    }
    t -= j->n2;
    if (t < j->n1) {
        const rg_gemm *g = &j->g1;
        const size_t i0 = (t / g->pc) * g->rstep;
        const size_t i1 = i0 + g->rstep < g->m ? i0 + g->rstep : g->m;
        double *pen = m->ws_pen + pen_row0(m, j->layer);
        const float *wk = m->params + l->offset;
        float *gk = m->grads + l->offset;
        const int penalized = l->l2 > 0.0 || l->l1 > 0.0;
        if (j->n_shards > 1) {
            /* Rows i0..i1 of the kernel gradient, shard by shard, then the penalty. */
            for (size_t s = 0; s < j->n_shards; s++) {
                const size_t a0 = j->shard[s], k = j->shard[s + 1] - a0;
                const float *a = g->a + a0 * g->lda + i0;
                const float *b = g->b + a0 * g->ldb;
                float *c = gk + i0 * l->units;
                if (s == 0)
                    rg_sgemm_builtin(1, 0, i1 - i0, l->units, k, 1.0f, a, g->lda, b, g->ldb, 0.0f,
                                     c, l->units);
                else
                    rg_sgemm_builtin_add(1, 0, i1 - i0, l->units, k, a, g->lda, b, g->ldb, c,
                                         l->units);
            }
            if (penalized && j->penalty)
                for (size_t i = i0; i < i1; i++)
                    pen[i] = penalty_grad(wk + i * l->units, gk + i * l->units, l->units, l->l2,
                                          l->l1, 1);
            return;
        }
        kernel_piece(j, t);
        return;
    }
    t -= j->n1;
    float *gb = m->grads + l->offset + l->n_in * l->units;
    const size_t b0 = t * j->bstep, b1 = b0 + j->bstep < l->units ? b0 + j->bstep : l->units;
    for (size_t s = 0; s < j->n_shards; s++)
        bias_part(w->delta, l->units, j->shard[s], j->shard[s + 1], b0, b1, gb, s > 0);
}

/* Layer j->layer's backward on the threads' own rows (m->own): task t
 * computes the input-gradient columns and kernel-gradient rows of its kernel
 * rows and its bias columns. */
static void own_backward_task(void *ctx, size_t t)
{
    const step_job *j = ctx;
    regnn_model *m = j->m;
    const regnn_layer *l = m->layers[j->layer];
    const rg_layer_ws *w = &m->ws[j->layer];
    size_t r0, r1, c0, c1;
    if (j->n2 && t < j->g2.pc) {
        rg_gemm_piece(&j->g2, t, &r0, &r1, &c0, &c1);
        lower_delta(m, j->layer, r0, r1, c0, c1);
    }
    if (t < j->g1.pr)
        kernel_piece(j, t);
    /* The bias units task t owns (m->own). */
    const size_t *seg = m->own.seg + 2 * (t * m->own.per + 2 * j->layer);
    const size_t b = l->offset + l->n_in * l->units;
    bias_part(w->delta, l->units, 0, j->rows, seg[2] - b, seg[3] - b, m->grads + b, 0);
    if (j->upd) {
        /* Its own rows of this layer: nothing of the step reads them now. */
        rg_optimizer_update_range(j->upd, t, seg[0], seg[1] - seg[0]);
        rg_optimizer_update_range(j->upd, t, seg[2], seg[3] - seg[2]);
    }
}

/* The loss, its gradient at the top and its sums per shard. */
static void top_delta(step_job *j, size_t s)
{
    regnn_model *m = j->m;
    const size_t L = m->n_layers, r0 = j->shard[s], r1 = j->shard[s + 1];
    rg_layer_ws *top = &m->ws[L - 1];
    const regnn_layer *lt = m->layers[L - 1];
    const size_t no = lt->units, k0 = r0 * no, n = (r1 - r0) * no;
    rg_loss_delta_part(m->loss, m->loss_param, top->out + k0, j->y + k0, j->wt ? j->wt + r0 : NULL,
                       r1 - r0, no, j->total, top->delta + k0, j->sums[s]);
    if (top->mask)
        for (size_t k = k0; k < k0 + n; k++)
            top->delta[k] *= top->mask[k];
    rg_dense_act_backward(lt->act, top->act + k0, top->delta + k0, n);
}

/* Shard s's forward and backward on one thread, its parts into ws_shard's
 * buffer s (not the gradient buffer: its lines stay with the thread that
 * adds them up and updates them). */
static void shard_task(void *ctx, size_t s)
{
    step_job *j = ctx;
    regnn_model *m = j->m;
    const size_t L = m->n_layers, r0 = j->shard[s], r1 = j->shard[s + 1], nr = r1 - r0;
    const float *in = j->x + r0 * m->n_in;
    for (size_t i = 0; i < L; i++) {
        const regnn_layer *l = m->layers[i];
        rg_layer_ws *w = &m->ws[i];
        const size_t k0 = r0 * l->units;
        rg_dense_forward(l, m->params, in, nr, w->act + k0);
        if (w->mask)
            for (size_t k = k0; k < k0 + nr * l->units; k++)
                w->out[k] = w->act[k] * w->mask[k];
        in = w->out + k0;
    }
    top_delta(j, s);
    float *dst = m->ws_shard + s * m->n_params;
    for (size_t i = L; i-- > 0;) {
        const regnn_layer *l = m->layers[i];
        const rg_layer_ws *w = &m->ws[i];
        const float *lin = i ? m->ws[i - 1].out : j->x;
        const float *d = w->delta + r0 * l->units;
        rg_sgemm_builtin(1, 0, l->n_in, l->units, nr, 1.0f, lin + r0 * l->n_in, l->n_in, d,
                         l->units, 0.0f, dst + l->offset, l->units);
        bias_part(w->delta, l->units, r0, r1, 0, l->units, dst + l->offset + l->n_in * l->units, 0);
        if (i > 0) {
            rg_sgemm_builtin(0, 1, nr, l->n_in, l->units, 1.0f, d, l->units, m->params + l->offset,
                             l->units, 0.0f, m->ws[i - 1].delta + r0 * l->n_in, l->n_in);
            lower_delta(m, i, r0, r1, 0, l->n_in);
        }
    }
}

/* Adds the shard parts up in shard order, then the penalty, over the
 * ranges task t owns in a sharded step (m->flat): the ones its thread
 * updates next. */
static void reduce_task(void *ctx, size_t t)
{
    const step_job *j = ctx;
    regnn_model *m = j->m;
    float *g = m->grads;
    const float *p0 = m->ws_shard;
    const size_t *seg = m->flat.seg + 2 * t * m->flat.per;
    for (size_t i = 0; i < m->n_layers; i++, seg += 4) {
        const regnn_layer *l = m->layers[i];
        const size_t off = l->offset, u = l->units;
        for (int part = 0; part < 2; part++) {
            const size_t s0 = seg[2 * part], s1 = seg[2 * part + 1];
            for (size_t e = s0; e < s1; e++)
                g[e] = p0[e];
            for (size_t s = 1; s < j->n_shards; s++) {
                const float *p = p0 + s * m->n_params;
                for (size_t e = s0; e < s1; e++)
                    g[e] = g[e] + p[e];
            }
        }
        if ((l->l2 == 0.0 && l->l1 == 0.0) || !j->penalty)
            continue;
        double *pen = m->ws_pen + pen_row0(m, i);
        for (size_t r = (seg[0] - off) / u; r < (seg[1] - off) / u; r++)
            pen[r] = penalty_grad(m->params + off + r * u, g + off + r * u, u, l->l2, l->l1, 1);
    }
    if (j->upd)
        rg_optimizer_update_task(j->upd, t);
}

regnn_status rg_model_step_grads(regnn_model *m, const float *x, const float *y, size_t rows,
                                 int train, double *mse, double *mae, double *penalty)
{
    double loss;
    return rg_model_step_grads_w(m, x, y, NULL, rows, train, &loss, mse, mae, penalty);
}

static void draw_masks(regnn_model *m, size_t rows, int train)
{
    for (size_t i = 0; i < m->n_layers; i++) {
        const regnn_layer *l = m->layers[i];
        rg_layer_ws *w = &m->ws[i];
        if (!w->mask)
            continue;
        size_t n = rows * l->units;
        if (train && l->dropout > 0.0) {
            /* Inverted dropout: survivors are scaled so inference needs no change. */
            float keep = (float)(1.0 / (1.0 - l->dropout));
            for (size_t k = 0; k < n; k++)
                w->mask[k] = rg_rng_uniform(&m->rng) >= l->dropout ? keep : 0.0f;
        } else {
            for (size_t k = 0; k < n; k++)
                w->mask[k] = 1.0f;
        }
    }
}

/* The penalty of the rows' sums, layers from the top, rows in order. */
static double penalty_sum(const regnn_model *m)
{
    double pen = 0.0;
    for (size_t i = m->n_layers; i-- > 0;) {
        const regnn_layer *l = m->layers[i];
        if (l->l2 > 0.0 || l->l1 > 0.0) {
            const double *pr = m->ws_pen + pen_row0(m, i);
            for (size_t r = 0; r < l->n_in; r++)
                pen += pr[r];
        }
    }
    return pen;
}

/* Layer i's backward products in j (g1: kernel gradient, g2: input gradient)
 * cut for nt threads, with its task counts; 1 when both run on the built-in
 * kernel (so they may be cut by owned rows). */
static int backward_products(step_job *j, size_t i, size_t nt)
{
    const regnn_model *m = j->m;
    const regnn_layer *l = m->layers[i];
    const rg_layer_ws *w = &m->ws[i];
    const float *lin = i ? m->ws[i - 1].out : j->x;
    /* Kernel gradient lin^T * delta, unsharded starting from the penalty
     * gradient (no extra pass over it; sharded, the penalty comes last). */
    const int pen_first = j->n_shards == 1 && j->penalty && (l->l2 > 0.0 || l->l1 > 0.0);
    const rg_gemm g1 = {1, 0, l->n_in, l->units, j->rows, 1.0f, lin, l->n_in, w->delta, l->units,
                        pen_first ? 1.0f : 0.0f, m->grads + l->offset, l->units, 0, 1, 1, 0, 0};
    j->g1 = g1;
    rg_gemm_plan(&j->g1, nt, 1);
    j->n1 = j->g1.pr * j->g1.pc;
    j->bstep = l->units;
    if (nt > 1 && l->units >= 128)
        j->bstep = (l->units + nt - 1) / nt;
    j->nb = (l->units + j->bstep - 1) / j->bstep;
    j->n2 = 0;
    if (i > 0) {
        /* Input gradient delta * W^T, the lower layer's delta. */
        const rg_gemm g2 = {0, 1, j->rows, l->n_in, l->units, 1.0f, w->delta, l->units,
                            m->params + l->offset, l->units, 0.0f, m->ws[i - 1].delta, l->n_in,
                            0, 1, 1, 0, 0};
        j->g2 = g2;
        rg_gemm_plan(&j->g2, nt, 0);
        j->n2 = j->g2.pr * j->g2.pc;
    }
    return j->g1.builtin && (i == 0 || j->g2.builtin);
}

/* One step's gradient into m->grads: the data gradient of `rows` rows of a
 * batch of `total` (the loss's scale), plus the penalty gradient if
 * `penalty` (unsharded: the chain starts from it; sharded: added last); the
 * loss sums into sums (from 0, rows in order by shard, shards in order); the
 * penalty value into *pen_value when added. With upd (begun, in place) the
 * step's tasks also run the update when they own the ranges they finish (a
 * sharded step's last job; an owned-row step with every layer on owned rows,
 * layer by layer): returns 1 when they did (the loss and penalty are those
 * before the update). */
static int step(regnn_model *m, const float *x, const float *y, const float *wt, size_t rows,
                size_t total, int train, int penalty, double sums_out[3], double *pen_value,
                rg_update *upd)
{
    const size_t L = m->n_layers;
    const size_t nt = rg_pool_threads(m->pool);
    step_job j;
    memset(&j, 0, sizeof j);
    j.m = m;
    j.x = x;
    j.y = y;
    j.wt = wt;
    j.rows = rows;
    j.total = total;
    j.penalty = penalty;
    j.train = train;
    j.n_shards = shard_plan(m, rows, j.shard);
    draw_masks(m, rows, train);
    const int sharded =
        j.n_shards > 1 && nt > 1 && m->ws_shards >= j.n_shards && m->own.tasks == nt;
    int updated = 0;
    if (sharded) {
        rg_pool_run(m->pool, shard_task, &j, j.n_shards);
        m->plan = &m->flat;
        if (upd) {
            rg_optimizer_update_plan(upd, m->plan, m->plan->tasks);
            j.upd = upd;
            updated = 1;
        }
        rg_pool_run(m->pool, reduce_task, &j, m->flat.tasks);
    } else {
        const float *in = x;
        /* Up to RG_OWN_ROWS rows, a layer's products are cheap next to moving
         * its kernel between cores: cut them by the rows each thread owns. */
        const int own = nt > 1 && m->own.tasks == nt && j.n_shards == 1 && rows <= RG_OWN_ROWS;
        m->plan = own ? &m->own : NULL;
        for (size_t i = 0; i < L; i++) {
            const regnn_layer *l = m->layers[i];
            rg_layer_ws *w = &m->ws[i];
            j.layer = i;
            if (rows == 1) {
                rg_dense_forward(l, m->params, in, rows, w->act);
                if (w->mask)
                    for (size_t k = 0; k < l->units; k++)
                        w->out[k] = w->act[k] * w->mask[k];
            } else {
                rg_dense_gemm(&j.g1, l, m->params, in, rows, w->act);
                rg_gemm_plan(&j.g1, nt, 0);
                rg_pool_run(m->pool, forward_task, &j, j.g1.pr * j.g1.pc);
            }
            in = w->out;
        }
        for (size_t s = 0; s < j.n_shards; s++)
            top_delta(&j, s);
        if (own && upd) {
            /* When every layer runs on owned rows, each task updates a layer's
             * rows as soon as it has their gradient (nothing of the step reads
             * them after that), while they are still in its cache. */
            int all = 1;
            for (size_t i = 0; i < L && all; i++)
                all = backward_products(&j, i, nt);
            if (all) {
                rg_optimizer_update_plan(upd, m->plan, nt);
                j.upd = upd;
                updated = 1;
            }
        }
        for (size_t i = L; i-- > 0;) {
            const regnn_layer *l = m->layers[i];
            j.layer = i;
            const int builtin = backward_products(&j, i, nt);
            if (own && builtin) {
                /* Built-in pieces may follow the thread count (gemm.c): cut both
                 * products along the kernel rows each thread owns. */
                const size_t st = own_step(l->n_in, own_parts(l, nt), 8);
                j.g1.pr = (l->n_in + st - 1) / st;
                j.g1.rstep = st;
                j.g1.pc = 1;
                j.g1.cstep = l->units;
                j.g2.pr = 1;
                j.g2.rstep = rows;
                j.g2.pc = j.g1.pr;
                j.g2.cstep = st;
                rg_pool_run(m->pool, own_backward_task, &j, nt);
                continue;
            }
            rg_pool_run(m->pool, backward_task, &j, j.n1 + j.nb + j.n2);
        }
    }
    for (int k = 0; k < 3; k++) {
        sums_out[k] = j.sums[0][k];
        for (size_t s = 1; s < j.n_shards; s++)
            sums_out[k] += j.sums[s][k];
    }
    if (penalty)
        *pen_value = penalty_sum(m);
    return updated;
}

/* A whole batch's step with the penalty; the loss sums as means. */
static int step_means(regnn_model *m, const float *x, const float *y, const float *wt,
                      size_t rows, int train, double *loss, double *mse, double *mae,
                      double *penalty, rg_update *upd)
{
    double sums[3] = {0.0, 0.0, 0.0};
    const int updated = step(m, x, y, wt, rows, rows, train, 1, sums, penalty, upd);
    const double n = (double)rows * (double)m->layers[m->n_layers - 1]->units;
    *loss = sums[0] / n;
    *mse = sums[1] / n;
    *mae = sums[2] / n;
    return updated;
}

regnn_status rg_model_step_grads_w(regnn_model *m, const float *x, const float *y,
                                   const float *wt, size_t rows, int train, double *loss,
                                   double *mse, double *mae, double *penalty)
{
    step_means(m, x, y, wt, rows, train, loss, mse, mae, penalty, NULL);
    return REGNN_OK;
}

void rg_model_step_sums(regnn_model *m, const float *x, const float *y, const float *wt,
                        size_t rows, size_t total_rows, int train, int penalty, double sums[3],
                        double *pen)
{
    if (rows == 0) { /* -0 adds nothing to a sum over processes, not even to a -0 */
        for (size_t k = 0; k < m->n_params; k++)
            m->grads[k] = -0.0f;
        return;
    }
    step(m, x, y, wt, rows, total_rows, train, penalty, sums, pen, NULL);
}

double rg_model_add_penalty(regnn_model *m)
{
    for (size_t i = 0; i < m->n_layers; i++) {
        const regnn_layer *l = m->layers[i];
        if (l->l2 == 0.0 && l->l1 == 0.0)
            continue;
        double *pen = m->ws_pen + pen_row0(m, i);
        for (size_t r = 0; r < l->n_in; r++)
            pen[r] = penalty_grad(m->params + l->offset + r * l->units,
                                  m->grads + l->offset + r * l->units, l->units, l->l2, l->l1, 1);
    }
    return penalty_sum(m);
}

size_t rg_model_shards(const regnn_model *m, size_t rows, size_t *bounds)
{
    size_t b[RG_SHARDS_MAX + 1];
    const size_t n = shard_plan(m, rows, b);
    if (bounds)
        memcpy(bounds, b, (n + 1) * sizeof *b);
    return n;
}

/* ---- what training asks of the model (fit.c) ---- */

int rg_model_busy(const regnn_model *m) { return m->busy; }

void rg_model_set_busy(regnn_model *m, int busy) { m->busy = busy; }

size_t rg_model_first_dropout(const regnn_model *m)
{
    size_t i = 0;
    while (i < m->n_layers && !(m->layers[i]->dropout > 0.0))
        i++;
    return i;
}

int rg_model_has_workspace(const regnn_model *m, size_t rows)
{
    return m->ws && m->ws_batch >= rows;
}

void rg_model_permutation(regnn_model *m, size_t *idx, size_t n)
{
    rg_rng_permutation(&m->rng, idx, n);
}

regnn_status rg_model_eval_pooled(const regnn_model *m, const float *x, const float *y,
                                  const float *w, size_t rows, rg_loss_sums *sums, float *scratch,
                                  size_t scratch_rows)
{
    return rg_model_eval_sums(m, x, y, w, rows, sums, scratch, scratch_rows, m->pool);
}

size_t rg_model_eval_chunk(size_t rows) { return rows < RG_PREDICT_CHUNK ? rows : RG_PREDICT_CHUNK; }

size_t rg_model_shard_part(const regnn_model *m, size_t rows, size_t index, size_t *lo,
                           size_t *len)
{
    size_t b[RG_SHARDS_MAX + 1];
    const size_t n = shard_plan(m, rows, b);
    *lo = index < n ? b[index] : 0;
    *len = index < n ? b[index + 1] - b[index] : 0;
    return n;
}

float *rg_model_grads(regnn_model *m, size_t *n)
{
    *n = m->n_params;
    return m->grads;
}

void rg_model_params_save(const regnn_model *m, float *to)
{
    memcpy(to, m->params, m->n_params * sizeof *to);
}

void rg_model_params_load(regnn_model *m, const float *from)
{
    memcpy(m->params, from, m->n_params * sizeof *from);
    m->params_max_known = 0;
}

regnn_status rg_model_snapshot(const regnn_model *m, size_t batch, rg_model_snap *s)
{
    s->params = rg_malloc(m->n_params * sizeof *s->params);
    if (!s->params)
        return REGNN_E_NOMEM;
    rg_model_params_save(m, s->params);
    s->rng = m->rng;
    s->had_ws = rg_model_has_workspace(m, batch);
    return REGNN_OK;
}

void rg_model_release(regnn_model *m, rg_model_snap *s)
{
    if (!s->had_ws)
        rg_model_drop_workspace(m);
    rg_model_snapshot_free(s);
}

void rg_model_restore(regnn_model *m, rg_model_snap *s)
{
    rg_model_params_load(m, s->params);
    m->rng = s->rng;
    rg_model_release(m, s);
}

void rg_model_snapshot_free(rg_model_snap *s)
{
    rg_free(s->params);
    s->params = NULL;
}

int rg_model_predictions_bounded(const regnn_model *m, double xmax)
{
    float p = 0.0f;
    for (size_t i = 0; i < m->n_params; i++) {
        const float a = fabsf(m->params[i]);
        p = a > p ? a : p;
    }
    double bound = xmax;
    for (size_t l = 0; l < m->n_layers; l++) {
        bound = (double)p * ((double)m->layers[l]->n_in * bound + 1.0);
        bound = bound > 1.0 ? bound : 1.0;
    }
    return bound <= FLT_MAX / 4; /* isfinite too: NaN compares false */
}

int rg_model_update(regnn_model *m, regnn_optimizer *o)
{
    if (!rg_optimizer_step_inplace(o, m->params, m->grads, m->n_params, &m->params_max, m->pool,
                                   rg_model_plan(m)))
        return 0;
    m->params_max_known = 1;
    return 1;
}

int rg_model_fit_step(regnn_model *m, regnn_optimizer *o, const float *x, const float *y,
                      const float *w, size_t rows, double out[4])
{
    /* The step runs the update in its last job when it can: one wait less. */
    rg_update upd;
    rg_optimizer_update_begin(o, &upd, m->params, m->grads, m->n_params);
    const int updated = step_means(m, x, y, w, rows, 1, &out[0], &out[1], &out[2], &out[3], &upd);
    if (!isfinite(out[0] + out[3]))
        return RG_STEP_LOSS;
    if (!updated)
        return rg_model_update(m, o) ? RG_STEP_OK : RG_STEP_UPDATE;
    if (!rg_optimizer_update_end(o, &upd, &m->params_max))
        return RG_STEP_UPDATE;
    m->params_max_known = 1;
    return RG_STEP_OK;
}

int rg_model_train_step(regnn_model *m, regnn_optimizer *o, const float *x, const float *y,
                        const float *w, size_t rows, double *loss)
{
    const rg_rng saved = m->rng;
    double data_loss, mse, mae, pen;
    step_means(m, x, y, w, rows, 1, &data_loss, &mse, &mae, &pen, NULL);
    *loss = data_loss + pen;
    const int finite_loss = isfinite(*loss);
    const size_t np = m->n_params;
    if (finite_loss && m->params_max_known &&
        rg_optimizer_step_is_safe(o, m->params_max, m->grads, np)) {
        /* The bounds from the last step prove this one stays finite: in place. */
        if (rg_optimizer_step_inplace(o, m->params, m->grads, np, &m->params_max, m->pool,
                                      rg_model_plan(m)))
            return RG_STEP_OK;
        m->params_max_known = 0;
        rg_optimizer_forget_bounds(o);
        return RG_STEP_BROKEN;
    }
    /* Otherwise the new values go to spare buffers, swapped in only when all
     * are finite: a refused step leaves no trace. */
    if (finite_loss && rg_optimizer_step_into(o, m->params, m->params_next, m->grads, np,
                                              &m->params_max, m->pool, rg_model_plan(m))) {
        float *t = m->params;
        m->params = m->params_next;
        m->params_next = t;
        m->params_max_known = 1;
        return RG_STEP_OK;
    }
    m->rng = saved;
    return finite_loss ? RG_STEP_UPDATE : RG_STEP_LOSS;
}
