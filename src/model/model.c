/* SPDX-License-Identifier: MIT */
/* Model handle: topology, the contiguous parameter and gradient buffers,
 * initialization, the thread setting, and what training asks of the model. */
#define _POSIX_C_SOURCE 200809L
#include "model_impl.h"

#include <string.h>

/* Dimensions stay below 2^24 so every GEMM size and product fits a 32-bit BLAS int
 * once multiplied by a bounded row count. */
#define RG_MAX_DIM ((size_t)1 << 24)

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

void regnn_model_free(regnn_model *m)
{
    if (!m)
        return;
    rg_model_drop_workspace(m);
    for (size_t i = 0; i < m->n_layers; i++) {
        rg_free(m->layers[i]->moving);
        rg_free(m->layers[i]);
    }
    rg_free(m->layers);
    rg_free_aligned(m->params);
    rg_free_aligned(m->grads);
    regnn_scaler_free(m->scaler);
    rg_free(m);
}

/* Parameters and gradients exist once the topology is frozen. */
static regnn_status ensure_params(regnn_model *m, const char *fn)
{
    if (m->params)
        return REGNN_OK;
    if (m->n_params == 0) /* noise layers only */
        return rg_error(REGNN_E_STATE, "%s: the model has no parameters (noise layers only)", fn);
    float *p = rg_calloc_aligned(m->n_params, sizeof *p, RG_LINE);
    float *g = rg_calloc_aligned(m->n_params, sizeof *g, RG_LINE);
    if (!p || !g) {
        rg_free_aligned(p);
        rg_free_aligned(g);
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
            c->layers[i]->moving = NULL;
            c->n_layers = i + 1;
            const size_t nm = 2 * m->layers[i]->units;
            if (m->layers[i]->moving) {
                if (!(c->layers[i]->moving = rg_malloc(nm * sizeof(float))))
                    goto nomem;
                memcpy(c->layers[i]->moving, m->layers[i]->moving, nm * sizeof(float));
            }
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

/* Append a layer of n_in inputs, units outputs and count parameters (dense
 * by default); NULL with the error set when out of memory. */
static regnn_layer *push_layer(regnn_model *m, const char *fn, size_t n_in, size_t units,
                               size_t count)
{
    if (m->n_layers == m->cap_layers) {
        size_t cap = m->cap_layers ? 2 * m->cap_layers : 8;
        regnn_layer **nl = rg_calloc(cap, sizeof *nl);
        if (!nl) {
            rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
            return NULL;
        }
        if (m->n_layers)
            memcpy(nl, m->layers, m->n_layers * sizeof *nl);
        rg_free(m->layers);
        m->layers = nl;
        m->cap_layers = cap;
    }
    regnn_layer *l = rg_calloc(1, sizeof *l);
    if (!l) {
        rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    l->model = m;
    l->index = m->n_layers;
    l->n_in = n_in;
    l->units = units;
    /* Every layer holds the layer settings' defaults, so that a file's LREG
     * section is written only when a setting differs from them. */
    l->norm_rate = rg_option_default(REGNN_OPTION_LAYER, REGNN_LAYER_NORM_RATE);
    l->offset = m->n_params;
    /* The workspace is laid out per layer; drop it so it is rebuilt for the new depth. */
    rg_model_free_workspace(m);
    m->layers[m->n_layers++] = l;
    m->n_params += count;
    return l;
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
    regnn_layer *l = push_layer(m, "regnn_model_add_dense", n_in, units, count);
    if (!l)
        return REGNN_E_NOMEM;
    l->act = activation;
    if (layer_out)
        *layer_out = l;
    return REGNN_OK;
}

/* A layer of the previous layer's width that is not dense (noise,
 * LayerNormalization), after the checks common to these types; `value` was
 * checked against the type's range by the caller. */
static regnn_status add_noise(regnn_model *m, const char *fn, int type, double value,
                              regnn_layer **layer_out)
{
    if (layer_out)
        *layer_out = NULL;
    if (!m)
        return rg_error(REGNN_E_INVALID_ARG, "%s: model is NULL", fn);
    if (m->params)
        return rg_error(REGNN_E_STATE,
                        "%s: the topology is frozen once parameters exist (after regnn_model_init "
                        "or regnn_model_set_params)",
                        fn);
    const size_t width = m->n_layers ? m->layers[m->n_layers - 1]->units : m->n_in;
    const size_t count = type == REGNN_LAYERTYPE_GAUSSIAN_NOISE ||
                                 type == REGNN_LAYERTYPE_GAUSSIAN_DROPOUT
                             ? 0
                             : 2 * width;
    float *moving = NULL;
    if (type == REGNN_LAYERTYPE_BATCH_NORMALIZATION) {
        if (!(moving = rg_malloc(2 * width * sizeof *moving)))
            return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
        for (size_t k = 0; k < width; k++) { /* Keras: moving mean 0, variance 1 */
            moving[k] = 0.0f;
            moving[width + k] = 1.0f;
        }
    }
    if (m->n_params > SIZE_MAX / sizeof(float) - count) {
        rg_free(moving);
        return rg_error(REGNN_E_INVALID_ARG, "%s: too many parameters", fn);
    }
    regnn_layer *l = push_layer(m, fn, width, width, count);
    if (!l) {
        rg_free(moving);
        return REGNN_E_NOMEM;
    }
    l->moving = moving;
    l->type = type;
    l->act = REGNN_ACT_LINEAR;
    l->noise = value;
    if (layer_out)
        *layer_out = l;
    return REGNN_OK;
}

const char *rg_layer_value_range(int type, double value)
{
    if (type == REGNN_LAYERTYPE_GAUSSIAN_NOISE) /* Keras' range */
        return value >= 0.0 && value <= 1.0 ? NULL : "stddev must be in [0, 1]";
    if (type == REGNN_LAYERTYPE_GAUSSIAN_DROPOUT) /* rate / (1 - rate) is the variance */
        return value >= 0.0 && value < 1.0 ? NULL : "rate must be in [0, 1)";
    if (type == REGNN_LAYERTYPE_LAYER_NORMALIZATION || type == REGNN_LAYERTYPE_BATCH_NORMALIZATION)
        return value > 0.0 && isfinite(value) ? NULL : "epsilon must be finite and > 0";
    return "not a layer type with a value";
}

static regnn_status add_checked(regnn_model *m, const char *fn, int type, double value,
                                regnn_layer **layer_out)
{
    const char *bad = rg_layer_value_range(type, value);
    if (m && bad) {
        if (layer_out)
            *layer_out = NULL;
        return rg_error(REGNN_E_INVALID_ARG, "%s: %s, got %g", fn, bad, value);
    }
    return add_noise(m, fn, type, value, layer_out);
}

regnn_status regnn_model_add_gaussian_noise(regnn_model *m, double stddev, regnn_layer **layer_out)
{
    return add_checked(m, "regnn_model_add_gaussian_noise", REGNN_LAYERTYPE_GAUSSIAN_NOISE, stddev,
                       layer_out);
}

regnn_status regnn_model_add_gaussian_dropout(regnn_model *m, double rate, regnn_layer **layer_out)
{
    return add_checked(m, "regnn_model_add_gaussian_dropout", REGNN_LAYERTYPE_GAUSSIAN_DROPOUT,
                       rate, layer_out);
}

regnn_status regnn_model_add_layer_normalization(regnn_model *m, double epsilon,
                                                 regnn_layer **layer_out)
{
    return add_checked(m, "regnn_model_add_layer_normalization",
                       REGNN_LAYERTYPE_LAYER_NORMALIZATION, epsilon, layer_out);
}

regnn_status regnn_model_add_batch_normalization(regnn_model *m, double momentum, double epsilon,
                                                 regnn_layer **layer_out)
{
    static const char fn[] = "regnn_model_add_batch_normalization";
    if (m && !(momentum >= 0.0 && momentum <= 1.0)) {
        if (layer_out)
            *layer_out = NULL;
        return rg_error(REGNN_E_INVALID_ARG, "%s: momentum must be in [0, 1], got %g", fn,
                        momentum);
    }
    regnn_layer *l = NULL;
    regnn_status st = add_checked(m, fn, REGNN_LAYERTYPE_BATCH_NORMALIZATION, epsilon, &l);
    if (st == REGNN_OK && l)
        l->momentum = momentum;
    if (layer_out)
        *layer_out = l;
    return st;
}

double regnn_layer_momentum(const regnn_layer *l) { return l ? l->momentum : 0.0; }

regnn_status regnn_layer_get_moving(const regnn_layer *l, float *mean, float *variance,
                                    size_t len)
{
    static const char fn[] = "regnn_layer_get_moving";
    if (!l)
        return rg_error(REGNN_E_INVALID_ARG, "%s: layer is NULL", fn);
    if (!rg_layer_is_bn(l))
        return rg_error(REGNN_E_UNSUPPORTED, "%s: layer %zu is not a BatchNormalization layer",
                        fn, l->index);
    if (len < l->units)
        return rg_error(REGNN_E_SHAPE, "%s: buffers hold %zu floats, the layer has %zu units", fn,
                        len, l->units);
    if (mean)
        memcpy(mean, l->moving, l->units * sizeof *mean);
    if (variance)
        memcpy(variance, l->moving + l->units, l->units * sizeof *variance);
    return REGNN_OK;
}

int regnn_layer_type(const regnn_layer *l) { return l ? l->type : -1; }
double regnn_layer_noise(const regnn_layer *l) { return l ? l->noise : 0.0; }

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
    else if (key == REGNN_LAYER_BIAS_L2)
        l->bias_l2 = value;
    else if (key == REGNN_LAYER_BIAS_L1)
        l->bias_l1 = value;
    else if (key == REGNN_LAYER_MAX_NORM)
        l->max_norm = value;
    else if (key == REGNN_LAYER_MIN_NORM)
        l->min_norm = value;
    else if (key == REGNN_LAYER_NORM_RATE)
        l->norm_rate = value;
    else if (key == REGNN_LAYER_NON_NEG)
        l->non_neg = value;
    else if (key == REGNN_LAYER_UNIT_NORM)
        l->unit_norm = value;
    else if (key == REGNN_LAYER_ACTIVITY_L2)
        l->act_l2 = value;
    else if (key == REGNN_LAYER_ACTIVITY_L1)
        l->act_l1 = value;
    else
        l->dropout = value;
}

const char *rg_layer_constraint_problem(double max_norm, double min_norm, double non_neg,
                                        double unit_norm)
{
    if ((max_norm > 0.0) + (non_neg != 0.0) + (unit_norm != 0.0) > 1)
        return "a layer takes one kernel constraint (Keras's kernel_constraint): one of "
               "REGNN_LAYER_MAX_NORM, REGNN_LAYER_NON_NEG, REGNN_LAYER_UNIT_NORM; set the other "
               "to 0 first";
    if (max_norm > 0.0 && min_norm > max_norm)
        return "REGNN_LAYER_MIN_NORM is above REGNN_LAYER_MAX_NORM";
    return NULL;
}

/* The constraint keys' coupling, with key set to value. */
static regnn_status check_constraint(const char *fn, const regnn_layer *l, int key, double value)
{
    const char *why = rg_layer_constraint_problem(
        key == REGNN_LAYER_MAX_NORM ? value : l->max_norm,
        key == REGNN_LAYER_MIN_NORM ? value : l->min_norm,
        key == REGNN_LAYER_NON_NEG ? value : l->non_neg,
        key == REGNN_LAYER_UNIT_NORM ? value : l->unit_norm);
    if (why)
        return rg_error(REGNN_E_INVALID_ARG, "%s: layer %zu: %s", fn, l->index, why);
    return REGNN_OK;
}

regnn_status regnn_layer_set_double(regnn_layer *l, int key, double value)
{
    if (!l)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_layer_set_double: layer is NULL");
    regnn_status st = check_layer_value("regnn_layer_set_double", key, value);
    if (st == REGNN_OK)
        st = check_constraint("regnn_layer_set_double", l, key, value);
    if (st != REGNN_OK)
        return st;
    if (!rg_layer_is_dense(l))
        return rg_error(REGNN_E_UNSUPPORTED,
                        "regnn_layer_set_double: layer %zu is a %s layer (no kernel, no dropout)",
                        l->index,
                        l->type == REGNN_LAYERTYPE_GAUSSIAN_NOISE     ? "GaussianNoise"
                        : l->type == REGNN_LAYERTYPE_GAUSSIAN_DROPOUT ? "GaussianDropout"
                        : rg_layer_is_bn(l)                           ? "BatchNormalization"
                                                                      : "LayerNormalization");
    /* A dropout change alters the workspace layout (mask buffers). */
    if (key == REGNN_LAYER_DROPOUT && (l->dropout > 0.0) != (value > 0.0)) {
        if (l->model->busy)
            return rg_error(REGNN_E_STATE, "regnn_layer_set_double: dropout cannot be switched "
                                           "on or off while regnn_fit runs");
        rg_model_free_workspace(l->model);
    }
    set_layer_value(l, key, value);
    return REGNN_OK;
}

regnn_status regnn_model_set_layers_double(regnn_model *m, int key, double value)
{
    if (!m)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_set_layers_double: model is NULL");
    regnn_status st = check_layer_value("regnn_model_set_layers_double", key, value);
    for (size_t i = 0; st == REGNN_OK && i < m->n_layers; i++) /* all or none */
        st = check_constraint("regnn_model_set_layers_double", m->layers[i], key, value);
    if (st != REGNN_OK)
        return st;
    if (key == REGNN_LAYER_DROPOUT) {
        if (m->busy)
            return rg_error(REGNN_E_STATE, "regnn_model_set_layers_double: dropout cannot be "
                                           "changed while regnn_fit runs");
        rg_model_free_workspace(m);
    }
    for (size_t i = 0; i < m->n_layers; i++)
        if (rg_layer_is_dense(m->layers[i])) /* the others have no kernel, no dropout */
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
    case REGNN_LAYER_BIAS_L2: *value = l->bias_l2; return REGNN_OK;
    case REGNN_LAYER_BIAS_L1: *value = l->bias_l1; return REGNN_OK;
    case REGNN_LAYER_MAX_NORM: *value = l->max_norm; return REGNN_OK;
    case REGNN_LAYER_MIN_NORM: *value = l->min_norm; return REGNN_OK;
    case REGNN_LAYER_NORM_RATE: *value = l->norm_rate; return REGNN_OK;
    case REGNN_LAYER_NON_NEG: *value = l->non_neg; return REGNN_OK;
    case REGNN_LAYER_UNIT_NORM: *value = l->unit_norm; return REGNN_OK;
    case REGNN_LAYER_ACTIVITY_L2: *value = l->act_l2; return REGNN_OK;
    case REGNN_LAYER_ACTIVITY_L1: *value = l->act_l1; return REGNN_OK;
    default: return rg_error(REGNN_E_UNSUPPORTED, "regnn_layer_get_double: unknown layer key %d", key);
    }
}

size_t regnn_layer_inputs(const regnn_layer *l) { return l ? l->n_in : 0; }
size_t regnn_layer_units(const regnn_layer *l) { return l ? l->units : 0; }
int regnn_layer_activation(const regnn_layer *l) { return l ? l->act : -1; }
size_t regnn_layer_param_count(const regnn_layer *l)
{
    if (!l || rg_layer_is_noise(l))
        return 0;
    return rg_layer_is_dense(l) ? l->n_in * l->units + l->units : 2 * l->units;
}

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
        if (!rg_layer_is_dense(l) && !rg_layer_is_noise(l)) { /* gamma 1, beta 0 */
            for (size_t k = 0; k < l->units; k++) {
                m->params[l->offset + k] = 1.0f;
                m->params[l->offset + l->units + k] = 0.0f;
            }
        }
        if (rg_layer_is_bn(l)) /* moving mean 0, variance 1 */
            for (size_t k = 0; k < l->units; k++) {
                l->moving[k] = 0.0f;
                l->moving[l->units + k] = 1.0f;
            }
        if (!rg_layer_is_dense(l))
            continue;
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

regnn_status regnn_model_set_threads(regnn_model *m, size_t n)
{
    if (!m)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_set_threads: model is NULL");
    if (n > RG_MAX_THREADS)
        return rg_error(REGNN_E_INVALID_ARG,
                        "regnn_model_set_threads: n must be in 0..%d (0 = automatic), got %zu",
                        RG_MAX_THREADS, n);
    if (m->busy)
        return rg_error(REGNN_E_STATE, "regnn_model_set_threads: the model is being trained by "
                                       "regnn_fit (called from an epoch callback?)");
    m->threads_resolved = 0;
    /* With 0 the count waits for the batch: the next training call decides. */
    if (n == 0 || rg_threads_resolve(n, 0.0) != rg_pool_threads(m->pool)) {
        /* The pool restarts at the next training call with the new count. */
        rg_pool_free(m->pool);
        m->pool = NULL;
    }
    m->threads = n;
    return REGNN_OK;
}

size_t regnn_model_threads(const regnn_model *m) { return m ? m->threads : 0; }

/* ---- what training asks of the model (fit.c) ---- */

int rg_model_busy(const regnn_model *m) { return m->busy; }

void rg_model_set_busy(regnn_model *m, int busy) { m->busy = busy; }

void rg_model_permutation(regnn_model *m, size_t *idx, size_t n)
{
    rg_rng_permutation(&m->rng, idx, n);
}

float *rg_model_grads(regnn_model *m, size_t *n)
{
    *n = m->n_params;
    return m->grads;
}

size_t rg_model_saved_count(const regnn_model *m)
{
    size_t n = m->n_params;
    for (size_t i = 0; i < m->n_layers; i++)
        if (rg_layer_is_bn(m->layers[i]))
            n += 2 * m->layers[i]->units;
    return n;
}

void rg_model_params_save(const regnn_model *m, float *to)
{
    memcpy(to, m->params, m->n_params * sizeof *to);
    to += m->n_params;
    for (size_t i = 0; i < m->n_layers; i++)
        if (rg_layer_is_bn(m->layers[i])) {
            memcpy(to, m->layers[i]->moving, 2 * m->layers[i]->units * sizeof *to);
            to += 2 * m->layers[i]->units;
        }
}

void rg_model_params_load(regnn_model *m, const float *from)
{
    memcpy(m->params, from, m->n_params * sizeof *from);
    from += m->n_params;
    for (size_t i = 0; i < m->n_layers; i++)
        if (rg_layer_is_bn(m->layers[i])) {
            memcpy(m->layers[i]->moving, from, 2 * m->layers[i]->units * sizeof *from);
            from += 2 * m->layers[i]->units;
        }
    m->params_max_known = 0;
}

size_t rg_model_first_batch_norm(const regnn_model *m)
{
    size_t i = 0;
    while (i < m->n_layers && !rg_layer_is_bn(m->layers[i]))
        i++;
    return i;
}

const float *rg_layer_moving(const regnn_layer *l) { return l->moving; }

void rg_layer_set_moving(regnn_layer *l, const float *mean, const float *variance)
{
    memcpy(l->moving, mean, l->units * sizeof *mean);
    memcpy(l->moving + l->units, variance, l->units * sizeof *variance);
}

regnn_status rg_model_snapshot(const regnn_model *m, size_t batch, rg_model_snap *s)
{
    s->params = rg_malloc(rg_model_saved_count(m) * sizeof *s->params);
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

/* ---- what the layers above read and set (io, settings, path) ---- */

const regnn_layer *rg_model_layer_at(const regnn_model *m, size_t i) { return m->layers[i]; }

const float *rg_model_params(const regnn_model *m) { return m->params; }

const float *rg_layer_params(const regnn_layer *l) { return l->model->params + l->offset; }

void rg_model_set_noise(regnn_model *m, size_t i, double value) { m->layers[i]->noise = value; }

double rg_layer_value(const regnn_layer *l, int key)
{
    return key == REGNN_LAYER_L2        ? l->l2
           : key == REGNN_LAYER_L1      ? l->l1
           : key == REGNN_LAYER_DROPOUT ? l->dropout
           : key == REGNN_LAYER_BIAS_L2 ? l->bias_l2
           : key == REGNN_LAYER_BIAS_L1 ? l->bias_l1
           : key == REGNN_LAYER_MAX_NORM ? l->max_norm
           : key == REGNN_LAYER_MIN_NORM ? l->min_norm
           : key == REGNN_LAYER_NORM_RATE ? l->norm_rate
           : key == REGNN_LAYER_NON_NEG ? l->non_neg
           : key == REGNN_LAYER_UNIT_NORM ? l->unit_norm
           : key == REGNN_LAYER_ACTIVITY_L2 ? l->act_l2
           : key == REGNN_LAYER_ACTIVITY_L1 ? l->act_l1
                                        : 0.0;
}

const rg_rng *rg_model_rng(const regnn_model *m) { return &m->rng; }

void rg_model_set_rng(regnn_model *m, const rg_rng *r) { m->rng = *r; }

void rg_model_set_loss_checked(regnn_model *m, int kind, double param)
{
    m->loss = kind;
    m->loss_param = param;
}

const regnn_scaler *rg_model_scaler(const regnn_model *m) { return m->scaler; }

void rg_model_adopt_scaler(regnn_model *m, regnn_scaler *sc)
{
    regnn_scaler_free(m->scaler);
    m->scaler = sc;
}
