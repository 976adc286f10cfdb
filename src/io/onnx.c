/* SPDX-License-Identifier: MIT */
/* ONNX export: a trained model as an ONNX inference graph (opset 13; 17 with
 * LayerNormalization), so that
 * ONNX runtimes and converters can run it. The library writes the protobuf
 * itself: only the few messages of onnx/onnx.proto the graph needs (field
 * numbers below are that file's), with no dependency on protobuf. */
#include "io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* IR version 7 is that of ONNX 1.8, the release that introduced opset 13, so
 * every runtime that knows the opset reads the file. */
#define ONNX_IR_VERSION 7
#define ONNX_OPSET 13
/* LayerNormalization is an operator from opset 17 (ONNX 1.12, IR version 8):
 * a model with one is exported at that opset, the others as before. */
#define ONNX_IR_VERSION_LN 8
#define ONNX_OPSET_LN 17
#define ONNX_FLOAT 1 /* TensorProto.DataType.FLOAT */
/* The reference protobuf parser refuses messages of 2 GiB and more; larger
 * models need ONNX's external-data layout, which this writer does not produce. */
#define PB_MAX_MESSAGE ((size_t)0x7fffffff)

enum { WIRE_VARINT = 0, WIRE_LEN = 2, WIRE_FIXED32 = 5 };

/* Field numbers of onnx.proto. */
enum { MODEL_IR_VERSION = 1, MODEL_PRODUCER = 2, MODEL_PRODUCER_VERSION = 3, MODEL_GRAPH = 7,
       MODEL_OPSET = 8 };
enum { OPSET_VERSION = 2 };
enum { GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11,
       GRAPH_OUTPUT = 12 };
enum { NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5 };
enum { ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_TYPE = 20 };
enum { ATTR_TYPE_FLOAT = 1, ATTR_TYPE_INT = 2 }; /* AttributeProto.AttributeType */
enum { TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_NAME = 8, TENSOR_RAW_DATA = 9 };
enum { VALUE_NAME = 1, VALUE_TYPE = 2 };
enum { TYPE_TENSOR = 1 };
enum { TTYPE_ELEM = 1, TTYPE_SHAPE = 2 };
enum { SHAPE_DIM = 1 };
enum { DIM_VALUE = 1, DIM_PARAM = 2 };

/* Writer: with p == NULL it only counts, so measuring and writing share one path. */
typedef struct pb {
    uint8_t *p;
    size_t pos;
} pb;

static void pb_put(pb *w, const void *src, size_t n)
{
    if (w->p)
        memcpy(w->p + w->pos, src, n);
    w->pos += n;
}
static void pb_varint(pb *w, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            b[n] |= 0x80;
        n++;
    } while (v);
    pb_put(w, b, n);
}
static void pb_key(pb *w, unsigned field, unsigned wire) { pb_varint(w, (uint64_t)field << 3 | wire); }
static void pb_int(pb *w, unsigned field, uint64_t v)
{
    pb_key(w, field, WIRE_VARINT);
    pb_varint(w, v);
}
static void pb_str(pb *w, unsigned field, const char *s)
{
    size_t n = strlen(s);
    pb_key(w, field, WIRE_LEN);
    pb_varint(w, n);
    pb_put(w, s, n);
}
static void pb_float(pb *w, unsigned field, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    pb_key(w, field, WIRE_FIXED32);
    pb_put(w, b, 4);
}
/* A nested message: body runs once to measure its length, once to write it. */
typedef void (*pb_body)(pb *w, const void *ctx);
static void pb_msg(pb *w, unsigned field, pb_body body, const void *ctx)
{
    pb m = {NULL, 0};
    body(&m, ctx);
    pb_key(w, field, WIRE_LEN);
    pb_varint(w, m.pos);
    body(w, ctx);
}

/* ------------------------------------------------------------------ */
/* Messages                                                             */
/* ------------------------------------------------------------------ */

/* An initializer: float32 values, from floats or (scaler statistics) doubles. */
typedef struct tensor {
    const char *name;
    size_t dims[2], ndims, n;
    const float *f;
    const double *d;
} tensor;

static void tensor_body(pb *w, const void *ctx)
{
    const tensor *t = ctx;
    for (size_t i = 0; i < t->ndims; i++)
        pb_int(w, TENSOR_DIMS, t->dims[i]);
    pb_int(w, TENSOR_DATA_TYPE, ONNX_FLOAT);
    pb_str(w, TENSOR_NAME, t->name);
    /* raw_data: little-endian IEEE 754 binary32, whatever the host order. */
    pb_key(w, TENSOR_RAW_DATA, WIRE_LEN);
    pb_varint(w, (uint64_t)t->n * 4);
    if (!w->p) {
        w->pos += t->n * 4;
        return;
    }
    for (size_t i = 0; i < t->n; i++) {
        float v = t->f ? t->f[i] : (float)t->d[i];
        uint32_t u;
        memcpy(&u, &v, sizeof u);
        uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
        pb_put(w, b, 4);
    }
}

/* A graph input or output: float32 [N, cols], N the batch size left free. */
typedef struct value {
    const char *name;
    size_t cols;
} value;

static void dim_batch_body(pb *w, const void *ctx)
{
    (void)ctx;
    pb_str(w, DIM_PARAM, "N");
}
static void dim_cols_body(pb *w, const void *ctx)
{
    const value *v = ctx;
    pb_int(w, DIM_VALUE, v->cols);
}
static void shape_body(pb *w, const void *ctx)
{
    pb_msg(w, SHAPE_DIM, dim_batch_body, ctx);
    pb_msg(w, SHAPE_DIM, dim_cols_body, ctx);
}
static void tensor_type_body(pb *w, const void *ctx)
{
    pb_int(w, TTYPE_ELEM, ONNX_FLOAT);
    pb_msg(w, TTYPE_SHAPE, shape_body, ctx);
}
static void type_body(pb *w, const void *ctx) { pb_msg(w, TYPE_TENSOR, tensor_type_body, ctx); }
static void value_body(pb *w, const void *ctx)
{
    const value *v = ctx;
    pb_str(w, VALUE_NAME, v->name);
    pb_msg(w, VALUE_TYPE, type_body, v);
}

/* A float attribute of a node. */
typedef struct attr {
    const char *name;
    float value;
    int is_int; /* then the value is ivalue */
    int64_t ivalue;
} attr;

static void attr_body(pb *w, const void *ctx)
{
    const attr *a = ctx;
    pb_str(w, ATTR_NAME, a->name);
    if (a->is_int) {
        pb_int(w, ATTR_I, (uint64_t)a->ivalue); /* an int64 as a varint: -1 is 2^64 - 1 */
        pb_int(w, ATTR_TYPE, ATTR_TYPE_INT);
    } else {
        pb_float(w, ATTR_F, a->value);
        pb_int(w, ATTR_TYPE, ATTR_TYPE_FLOAT);
    }
}

typedef struct node {
    const char *op, *in0, *in1, *out, *name;
    const attr *attrs; /* n_attrs of them */
    size_t n_attrs;
    const char *in2, *in3, *in4; /* the normalizations' further inputs, or NULL */
} node;

static void node_body(pb *w, const void *ctx)
{
    const node *n = ctx;
    pb_str(w, NODE_INPUT, n->in0);
    const char *more[4] = {n->in1, n->in2, n->in3, n->in4};
    for (int i = 0; i < 4 && more[i]; i++)
        pb_str(w, NODE_INPUT, more[i]);
    pb_str(w, NODE_OUTPUT, n->out);
    pb_str(w, NODE_NAME, n->name);
    pb_str(w, NODE_OP_TYPE, n->op);
    for (size_t i = 0; i < n->n_attrs; i++)
        pb_msg(w, NODE_ATTRIBUTE, attr_body, &n->attrs[i]);
}

/* The nodes form one chain: each takes the previous node's output (the first
 * takes "input") and at most one initializer; the last writes "output".
 * Tensors are named after the node that produces them. */
typedef struct chain {
    pb *w;
    size_t done, total;
    char prev[96], cur[96];
} chain;

static void chain_node_attrs(chain *c, const char *op, const char *prefix, const char *param,
                             const attr *attrs, size_t n_attrs)
{
    snprintf(c->cur, sizeof c->cur, "%s/%s", prefix, op);
    node n = {op, c->prev, param, ++c->done == c->total ? "output" : c->cur, c->cur, attrs,
              n_attrs, NULL, NULL, NULL};
    pb_msg(c->w, GRAPH_NODE, node_body, &n);
    memcpy(c->prev, c->cur, sizeof c->prev);
}

static void chain_node(chain *c, const char *op, const char *prefix, const char *param)
{
    chain_node_attrs(c, op, prefix, param, NULL, 0);
}

/* A LayerNormalization node (axis -1) or, with bn, a BatchNormalization node
 * (inference: the moving statistics) of layer `prefix`. */
static void chain_norm(chain *c, const char *prefix, double epsilon, int bn)
{
    char sc[80], b[80], mean[80], var[80];
    snprintf(sc, sizeof sc, "%s/gamma", prefix);
    snprintf(b, sizeof b, "%s/beta", prefix);
    snprintf(mean, sizeof mean, "%s/moving_mean", prefix);
    snprintf(var, sizeof var, "%s/moving_variance", prefix);
    const char *op = bn ? "BatchNormalization" : "LayerNormalization";
    const attr ln[2] = {{"axis", 0.0f, 1, -1}, {"epsilon", (float)epsilon, 0, 0}};
    const attr *attrs = bn ? ln + 1 : ln; /* BatchNormalization has no axis */
    snprintf(c->cur, sizeof c->cur, "%s/%s", prefix, op);
    node n = {op, c->prev, sc, ++c->done == c->total ? "output" : c->cur, c->cur, attrs,
              bn ? 1 : 2, b, bn ? mean : NULL, bn ? var : NULL};
    pb_msg(c->w, GRAPH_NODE, node_body, &n);
    memcpy(c->prev, c->cur, sizeof c->prev);
}

static int is_bn(const regnn_model *m, size_t i)
{
    return regnn_layer_type(rg_model_layer_at(m, i)) == REGNN_LAYERTYPE_BATCH_NORMALIZATION;
}

static int is_ln(const regnn_model *m, size_t i)
{
    return regnn_layer_type(rg_model_layer_at(m, i)) == REGNN_LAYERTYPE_LAYER_NORMALIZATION;
}

static int has_ln(const regnn_model *m)
{
    for (size_t i = 0; i < regnn_model_layer_count(m); i++)
        if (is_ln(m, i))
            return 1;
    return 0;
}

/* Noise layers are the identity in inference: no node, as Keras exports them. */
static int skipped(const regnn_model *m, size_t i)
{
    const int type = regnn_layer_type(rg_model_layer_at(m, i));
    return type == REGNN_LAYERTYPE_GAUSSIAN_NOISE || type == REGNN_LAYERTYPE_GAUSSIAN_DROPOUT;
}

/* An activation as ONNX nodes (opset 13): each takes the previous node's
 * output and, as its second input, a scalar constant (ACT_CONSTS) or, with
 * ACT_INPUT, the activation's input z. Opset 13 has no Gelu (opset 20): gelu
 * is 0.5 * z * (1 + Erf(z / sqrt(2))), its exact form; swish is z * Sigmoid(z). */
#define ACT_INPUT "" /* in1: the activation's input z */
#define ACT_MAX_NODES 5
typedef struct act_node {
    const char *op, *in1; /* in1: NULL, a constant's name or ACT_INPUT */
    attr attrs[2];
    size_t n_attrs;
} act_node;
typedef struct act_nodes {
    size_t n;
    act_node node[ACT_MAX_NODES];
} act_nodes;

static const act_nodes ACT_NODES[RG_ACT_COUNT] = {
    [REGNN_ACT_LINEAR] = {0, {{NULL, NULL, {{NULL, 0, 0, 0}}, 0}}},
    [REGNN_ACT_RELU] = {1, {{"Relu", NULL, {{NULL, 0, 0, 0}}, 0}}},
    [REGNN_ACT_SIGMOID] = {1, {{"Sigmoid", NULL, {{NULL, 0, 0, 0}}, 0}}},
    [REGNN_ACT_TANH] = {1, {{"Tanh", NULL, {{NULL, 0, 0, 0}}, 0}}},
    [REGNN_ACT_ELU] = {1, {{"Elu", NULL, {{"alpha", (float)RG_ELU_ALPHA, 0, 0}}, 1}}},
    [REGNN_ACT_SELU] = {1, {{"Selu", NULL, {{"alpha", (float)RG_SELU_ALPHA, 0, 0},
                                             {"gamma", (float)RG_SELU_SCALE, 0, 0}}, 2}}},
    [REGNN_ACT_GELU] = {5, {{"Div", "gelu/sqrt2", {{NULL, 0, 0, 0}}, 0},
                            {"Erf", NULL, {{NULL, 0, 0, 0}}, 0},
                            {"Add", "gelu/one", {{NULL, 0, 0, 0}}, 0},
                            {"Mul", ACT_INPUT, {{NULL, 0, 0, 0}}, 0},
                            {"Mul", "gelu/half", {{NULL, 0, 0, 0}}, 0}}},
    [REGNN_ACT_SWISH] = {2, {{"Sigmoid", NULL, {{NULL, 0, 0, 0}}, 0},
                             {"Mul", ACT_INPUT, {{NULL, 0, 0, 0}}, 0}}},
    [REGNN_ACT_LEAKY_RELU] = {1, {{"LeakyRelu", NULL, {{"alpha", (float)RG_LEAKY_SLOPE, 0, 0}}, 1}}},
    [REGNN_ACT_SOFTPLUS] = {1, {{"Softplus", NULL, {{NULL, 0, 0, 0}}, 0}}},
};

/* The scalar constants the activations' nodes name. */
static const struct {
    const char *name;
    float value;
} ACT_CONSTS[] = {{"gelu/sqrt2", 1.41421356237309504880f}, {"gelu/one", 1.0f},
                  {"gelu/half", 0.5f}};
#define N_ACT_CONSTS (sizeof ACT_CONSTS / sizeof ACT_CONSTS[0])

static const act_nodes *layer_act(const regnn_model *m, size_t i)
{
    return &ACT_NODES[regnn_layer_activation(rg_model_layer_at(m, i))];
}

/* The activation's nodes of layer `prefix`: a single node is named
 * prefix/Op, several prefix/<act>_<k>/Op. */
static void chain_act(chain *c, int act, const char *prefix)
{
    const act_nodes *a = &ACT_NODES[act];
    char z[96], pre[64];
    memcpy(z, c->prev, sizeof z);
    for (size_t k = 0; k < a->n; k++) {
        const act_node *nd = &a->node[k];
        if (a->n > 1)
            snprintf(pre, sizeof pre, "%s/%s_%zu", prefix, rg_act_name(act), k);
        else
            snprintf(pre, sizeof pre, "%s", prefix);
        const char *in1 = nd->in1 && !*nd->in1 ? z : nd->in1;
        chain_node_attrs(c, nd->op, pre, in1, nd->attrs, nd->n_attrs);
    }
}

/* Whether a layer of m uses the constant `name`. */
static int uses_const(const regnn_model *m, const char *name)
{
    for (size_t i = 0; i < regnn_model_layer_count(m); i++) {
        const act_nodes *a = layer_act(m, i);
        for (size_t k = 0; k < a->n; k++)
            if (a->node[k].in1 && !strcmp(a->node[k].in1, name))
                return 1;
    }
    return 0;
}

static size_t node_count(const regnn_model *m)
{
    size_t n = rg_model_scaler(m) ? 4 : 0;
    for (size_t i = 0; i < regnn_model_layer_count(m); i++)
        if (is_ln(m, i) || is_bn(m, i))
            n += 1;
        else if (!skipped(m, i))
            n += 2 + layer_act(m, i)->n;
    return n;
}

/* A BatchNormalization layer's moving mean and variance as initializers. */
static void bn_stats(pb *w, size_t i, const float *moving, size_t u)
{
    char mean[64], var[64];
    snprintf(mean, sizeof mean, "layer%zu/moving_mean", i);
    snprintf(var, sizeof var, "layer%zu/moving_variance", i);
    tensor a = {mean, {u, 0}, 1, u, moving, NULL};
    tensor b = {var, {u, 0}, 1, u, moving + u, NULL};
    pb_msg(w, GRAPH_INITIALIZER, tensor_body, &a);
    pb_msg(w, GRAPH_INITIALIZER, tensor_body, &b);
}

static void graph_body(pb *w, const void *ctx)
{
    const regnn_model *m = ctx;
    const regnn_scaler *sc = rg_model_scaler(m);
    const size_t n_out = regnn_model_outputs(m), n_in = regnn_model_inputs(m);
    const size_t n_layers = regnn_model_layer_count(m);
    char kname[48], bname[48], prefix[32];

    chain c = {w, 0, node_count(m), "input", ""};
    if (sc) {
        chain_node(&c, "Sub", "scaler", "scaler/feature_mean");
        chain_node(&c, "Div", "scaler", "scaler/feature_scale");
    }
    for (size_t i = 0; i < n_layers; i++) {
        if (skipped(m, i))
            continue;
        snprintf(prefix, sizeof prefix, "layer%zu", i);
        if (is_bn(m, i) || is_ln(m, i)) {
            chain_norm(&c, prefix, regnn_layer_noise(rg_model_layer_at(m, i)), is_bn(m, i));
            continue;
        }
        snprintf(kname, sizeof kname, "%s/kernel", prefix);
        snprintf(bname, sizeof bname, "%s/bias", prefix);
        chain_node(&c, "MatMul", prefix, kname);
        chain_node(&c, "Add", prefix, bname);
        chain_act(&c, regnn_layer_activation(rg_model_layer_at(m, i)), prefix);
    }
    if (sc) {
        chain_node(&c, "Mul", "scaler", "scaler/target_scale");
        chain_node(&c, "Add", "scaler", "scaler/target_mean");
    }

    pb_str(w, GRAPH_NAME, "regnn");

    for (size_t i = 0; i < n_layers; i++) {
        const regnn_layer *l = rg_model_layer_at(m, i);
        if (skipped(m, i))
            continue;
        const size_t li = regnn_layer_inputs(l), lu = regnn_layer_units(l);
        if (is_ln(m, i) || is_bn(m, i)) {
            snprintf(kname, sizeof kname, "layer%zu/gamma", i);
            snprintf(bname, sizeof bname, "layer%zu/beta", i);
            tensor g = {kname, {lu, 0}, 1, lu, rg_layer_params(l), NULL};
            tensor be = {bname, {lu, 0}, 1, lu, g.f + lu, NULL};
            pb_msg(w, GRAPH_INITIALIZER, tensor_body, &g);
            pb_msg(w, GRAPH_INITIALIZER, tensor_body, &be);
            if (is_bn(m, i))
                bn_stats(w, i, rg_layer_moving(l), lu);
            continue;
        }
        snprintf(kname, sizeof kname, "layer%zu/kernel", i);
        snprintf(bname, sizeof bname, "layer%zu/bias", i);
        tensor k = {kname, {li, lu}, 2, li * lu, rg_layer_params(l), NULL};
        tensor b = {bname, {lu, 0}, 1, lu, k.f + k.n, NULL};
        pb_msg(w, GRAPH_INITIALIZER, tensor_body, &k);
        pb_msg(w, GRAPH_INITIALIZER, tensor_body, &b);
    }
    for (size_t k = 0; k < N_ACT_CONSTS; k++) {
        if (!uses_const(m, ACT_CONSTS[k].name))
            continue;
        tensor t = {ACT_CONSTS[k].name, {0, 0}, 0, 1, &ACT_CONSTS[k].value, NULL};
        pb_msg(w, GRAPH_INITIALIZER, tensor_body, &t);
    }
    if (sc) {
        const rg_scaler_stats s = rg_scaler_view(sc);
        const tensor stats[4] = {
            {"scaler/feature_mean", {n_in, 0}, 1, n_in, NULL, s.x_mean},
            {"scaler/feature_scale", {n_in, 0}, 1, n_in, NULL, s.x_scale},
            {"scaler/target_scale", {n_out, 0}, 1, n_out, NULL, s.y_scale},
            {"scaler/target_mean", {n_out, 0}, 1, n_out, NULL, s.y_mean}};
        for (int i = 0; i < 4; i++)
            pb_msg(w, GRAPH_INITIALIZER, tensor_body, &stats[i]);
    }

    const value in = {"input", n_in}, out = {"output", n_out};
    pb_msg(w, GRAPH_INPUT, value_body, &in);
    pb_msg(w, GRAPH_OUTPUT, value_body, &out);
}

static void opset_body(pb *w, const void *ctx)
{
    /* domain left empty: the default ai.onnx */
    pb_int(w, OPSET_VERSION, has_ln(ctx) ? ONNX_OPSET_LN : ONNX_OPSET);
}

static void model_body(pb *w, const void *ctx)
{
    pb_int(w, MODEL_IR_VERSION, has_ln(ctx) ? ONNX_IR_VERSION_LN : ONNX_IR_VERSION);
    pb_str(w, MODEL_PRODUCER, "libregnn");
    pb_str(w, MODEL_PRODUCER_VERSION, REGNN_VERSION_STRING);
    pb_msg(w, MODEL_GRAPH, graph_body, ctx);
    pb_msg(w, MODEL_OPSET, opset_body, ctx);
}

/* ------------------------------------------------------------------ */
/* Export                                                               */
/* ------------------------------------------------------------------ */

/* Index of the first statistic that float32 cannot hold (or, for a scale,
 * that rounds to 0); n if none. */
static size_t first_unfit(const double *v, size_t n, int is_scale)
{
    for (size_t i = 0; i < n; i++) {
        float f = (float)v[i];
        if (!isfinite(f) || (is_scale && !(f > 0.0f)))
            return i;
    }
    return n;
}

static regnn_status check_exportable(const char *fn, const regnn_model *m)
{
    regnn_status st = rg_model_check_ready(m);
    if (st != REGNN_OK)
        return rg_error(st, "%s: %s", fn, regnn_errmsg());
    if (!rg_all_finite(rg_model_params(m), regnn_model_param_count(m)))
        return rg_error(REGNN_E_NUMERIC, "%s: the parameters contain NaN or Inf", fn);
    const regnn_scaler *attached = rg_model_scaler(m);
    if (!attached)
        return REGNN_OK;
    const rg_scaler_stats s = rg_scaler_view(attached), *sc = &s;
    const size_t n_out = regnn_model_outputs(m), n_in = regnn_model_inputs(m);
    if (sc->n_x != n_in || sc->n_y != n_out)
        return rg_error(REGNN_E_SHAPE,
                        "%s: the attached scaler has %zu features and %zu targets, the model "
                        "takes %zu inputs and gives %zu outputs",
                        fn, sc->n_x, sc->n_y, n_in, n_out);
    const struct {
        const double *v;
        size_t n;
        int is_scale;
        const char *name;
    } stats[4] = {{sc->x_mean, sc->n_x, 0, "feature mean"},
                  {sc->x_scale, sc->n_x, 1, "feature scale"},
                  {sc->y_mean, sc->n_y, 0, "target mean"},
                  {sc->y_scale, sc->n_y, 1, "target scale"}};
    for (int k = 0; k < 4; k++) {
        size_t i = first_unfit(stats[k].v, stats[k].n, stats[k].is_scale);
        if (i < stats[k].n)
            return rg_error(REGNN_E_NUMERIC,
                            "%s: the attached scaler's %s %zu (%g) is out of float32 range", fn,
                            stats[k].name, i, stats[k].v[i]);
    }
    return REGNN_OK;
}

/* Check m and measure its encoding. */
static regnn_status measure(const char *fn, const regnn_model *m, size_t *need)
{
    regnn_status st = check_exportable(fn, m);
    if (st != REGNN_OK)
        return st;
    pb w = {NULL, 0};
    model_body(&w, m);
    if (w.pos > PB_MAX_MESSAGE)
        return rg_error(REGNN_E_UNSUPPORTED,
                        "%s: the ONNX encoding would take %zu bytes; protobuf allows less than "
                        "2 GiB",
                        fn, w.pos);
    *need = w.pos;
    return REGNN_OK;
}

regnn_status regnn_model_export_onnx_mem(const regnn_model *m, void *buf, size_t cap,
                                         size_t *size)
{
    static const char fn[] = "regnn_model_export_onnx_mem";
    if (!size)
        return rg_error(REGNN_E_INVALID_ARG, "%s: size is NULL", fn);
    *size = 0;
    if (!m)
        return rg_error(REGNN_E_INVALID_ARG, "%s: model is NULL", fn);
    size_t need = 0;
    regnn_status st = measure(fn, m, &need);
    if (st != REGNN_OK)
        return st;
    *size = need;
    if (!buf)
        return REGNN_OK;
    if (cap < need)
        return rg_error(REGNN_E_SHAPE, "%s: the buffer holds %zu bytes, the encoding needs %zu", fn,
                        cap, need);
    pb w = {buf, 0};
    model_body(&w, m);
    return REGNN_OK;
}

regnn_status regnn_model_export_onnx(const regnn_model *m, const char *path)
{
    static const char fn[] = "regnn_model_export_onnx";
    if (!m || !path)
        return rg_error(REGNN_E_INVALID_ARG, "%s: model and path are required", fn);
    if (!*path)
        return rg_error(REGNN_E_INVALID_ARG, "%s: path is empty", fn);
    size_t need = 0;
    regnn_status st = measure(fn, m, &need);
    if (st != REGNN_OK)
        return st;
    pb w = {rg_malloc(need), 0};
    if (!w.p)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu bytes", fn, need);
    model_body(&w, m);
    st = rg_write_atomic(fn, path, w.p, need);
    rg_free(w.p);
    return st;
}
