/* SPDX-License-Identifier: MIT */
/* ONNX export: the bytes decoded by a small protobuf reader written here from
 * onnx.proto (not the library's writer), checked for structure (header,
 * nodes in order, initializers bit-equal to the parameters, scaler nodes only
 * with a scaler), run by an interpreter of the decoded graph against
 * regnn_model_predict, plus the size protocol, errors, atomic replacement and
 * allocation failures. */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include "testutil.h"
#include "model/model_impl.h" /* the model's fields, which this test reads or breaks */

#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a protobuf reader: just enough of the wire format ---- */

typedef struct span {
    const uint8_t *p;
    size_t n;
} span;

typedef struct field {
    unsigned num, wire;
    uint64_t v; /* varint value */
    span s;     /* length-delimited payload */
} field;

static uint64_t rd_varint(span m, size_t *pos)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        ck_assert_msg(*pos < m.n, "varint runs past the end");
        uint8_t b = m.p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    ck_abort_msg("varint longer than 10 bytes");
    return 0;
}

/* The next field of m at *pos; 0 at the end. Only varint, length-delimited
 * and (a float attribute's value) 32-bit fields may occur in this subset. */
static int next_field(span m, size_t *pos, field *f)
{
    memset(f, 0, sizeof *f);
    if (*pos >= m.n)
        return 0;
    uint64_t key = rd_varint(m, pos);
    f->num = (unsigned)(key >> 3);
    f->wire = (unsigned)(key & 7);
    ck_assert_uint_gt(f->num, 0);
    if (f->wire == 0) {
        f->v = rd_varint(m, pos);
    } else if (f->wire == 5) {
        ck_assert_uint_le(4, m.n - *pos);
        for (int i = 3; i >= 0; i--)
            f->v = f->v << 8 | m.p[*pos + (size_t)i];
        *pos += 4;
    } else {
        ck_assert_uint_eq(f->wire, 2);
        uint64_t len = rd_varint(m, pos);
        ck_assert_msg(len <= m.n - *pos, "field %u: length %llu past the end", f->num,
                      (unsigned long long)len);
        f->s.p = m.p + *pos;
        f->s.n = (size_t)len;
        *pos += (size_t)len;
    }
    return 1;
}

static void copy_str(char *dst, size_t cap, span s)
{
    ck_assert_uint_lt(s.n, cap);
    memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';
}

/* ---- the decoded model ---- */

#define MAX_NODES 96
#define MAX_INITS 40
#define NAME_CAP 64

typedef struct dnode {
    char op[NAME_CAP], name[NAME_CAP], out[NAME_CAP], in[5][NAME_CAP];
    int n_in, n_out;
    char attr_name[2][NAME_CAP]; /* float attributes */
    float attr[2];
    int n_attrs;
    int n_attr;
    int64_t axis; /* LayerNormalization's attributes */
    float epsilon;
} dnode;

typedef struct dtensor {
    char name[NAME_CAP];
    int64_t dims[4];
    int ndims;
    int64_t data_type;
    span raw;
} dtensor;

typedef struct dvalue {
    char name[NAME_CAP], dim_param[2][NAME_CAP];
    int64_t elem_type, dim_value[2];
    int ndims;
} dvalue;

typedef struct dmodel {
    int64_t ir_version, opset, n_opsets;
    int opset_domain_empty;
    char producer[NAME_CAP], graph_name[NAME_CAP];
    dnode nodes[MAX_NODES];
    int n_nodes;
    dtensor inits[MAX_INITS];
    int n_inits;
    dvalue inputs[2], outputs[2];
    int n_inputs, n_outputs;
} dmodel;

/* An attribute: a float one (an activation's constant, a normalization's
 * epsilon) or LayerNormalization's axis, the only int one. */
static void decode_attribute(span m, dnode *n)
{
    size_t pos = 0;
    field f;
    char name[NAME_CAP] = "";
    uint64_t i = 0, fl = 0, type = 0;
    while (next_field(m, &pos, &f)) {
        if (f.num == 1)
            copy_str(name, NAME_CAP, f.s);
        else if (f.num == 2)
            fl = f.v;
        else if (f.num == 3)
            i = f.v;
        else if (f.num == 20)
            type = f.v;
        else
            ck_abort_msg("unexpected AttributeProto field %u", f.num);
    }
    ck_assert_int_lt(n->n_attrs, 2);
    copy_str(n->attr_name[n->n_attrs], NAME_CAP, (span){(const uint8_t *)name, strlen(name)});
    if (!strcmp(name, "axis")) {
        ck_assert_uint_eq(type, 2);
        n->axis = (int64_t)i;
    } else {
        ck_assert_uint_eq(type, 1);
        const uint32_t u = (uint32_t)fl;
        memcpy(&n->attr[n->n_attrs], &u, sizeof u);
        if (!strcmp(name, "epsilon"))
            n->epsilon = n->attr[n->n_attrs];
    }
    n->n_attr = ++n->n_attrs;
}

static void decode_node(span m, dnode *n)
{
    size_t pos = 0;
    field f;
    memset(n, 0, sizeof *n);
    while (next_field(m, &pos, &f)) {
        if (f.num == 5) {
            decode_attribute(f.s, n);
        } else if (f.num == 1) {
            ck_assert_int_lt(n->n_in, 5);
            copy_str(n->in[n->n_in++], NAME_CAP, f.s);
        } else if (f.num == 2) {
            copy_str(n->out, NAME_CAP, f.s);
            n->n_out++;
        } else if (f.num == 3) {
            copy_str(n->name, NAME_CAP, f.s);
        } else if (f.num == 4) {
            copy_str(n->op, NAME_CAP, f.s);
        } else {
            ck_abort_msg("unexpected NodeProto field %u", f.num);
        }
    }
}

static void decode_tensor(span m, dtensor *t)
{
    size_t pos = 0;
    field f;
    memset(t, 0, sizeof *t);
    t->data_type = -1;
    while (next_field(m, &pos, &f)) {
        if (f.num == 1) {
            ck_assert_int_lt(t->ndims, 4);
            t->dims[t->ndims++] = (int64_t)f.v;
        } else if (f.num == 2) {
            t->data_type = (int64_t)f.v;
        } else if (f.num == 8) {
            copy_str(t->name, NAME_CAP, f.s);
        } else if (f.num == 9) {
            t->raw = f.s;
        } else {
            ck_abort_msg("unexpected TensorProto field %u", f.num);
        }
    }
}

/* ValueInfoProto { name, type: TypeProto { tensor_type { elem_type, shape { dim* } } } } */
static void decode_value(span m, dvalue *v)
{
    size_t pos = 0, p2, p3, p4, p5;
    field f, g, h, k, d;
    memset(v, 0, sizeof *v);
    v->elem_type = -1;
    while (next_field(m, &pos, &f)) {
        if (f.num == 1) {
            copy_str(v->name, NAME_CAP, f.s);
            continue;
        }
        ck_assert_uint_eq(f.num, 2);
        for (p2 = 0; next_field(f.s, &p2, &g);) {
            ck_assert_uint_eq(g.num, 1); /* tensor_type */
            for (p3 = 0; next_field(g.s, &p3, &h);) {
                if (h.num == 1) {
                    v->elem_type = (int64_t)h.v;
                    continue;
                }
                ck_assert_uint_eq(h.num, 2); /* shape */
                for (p4 = 0; next_field(h.s, &p4, &k);) {
                    ck_assert_uint_eq(k.num, 1);
                    ck_assert_int_lt(v->ndims, 2);
                    v->dim_value[v->ndims] = -1;
                    for (p5 = 0; next_field(k.s, &p5, &d);) {
                        if (d.num == 1)
                            v->dim_value[v->ndims] = (int64_t)d.v;
                        else if (d.num == 2)
                            copy_str(v->dim_param[v->ndims], NAME_CAP, d.s);
                        else
                            ck_abort_msg("unexpected Dimension field %u", d.num);
                    }
                    v->ndims++;
                }
            }
        }
    }
}

static void decode_graph(span m, dmodel *d)
{
    size_t pos = 0;
    field f;
    while (next_field(m, &pos, &f)) {
        switch (f.num) {
        case 1:
            ck_assert_int_lt(d->n_nodes, MAX_NODES);
            decode_node(f.s, &d->nodes[d->n_nodes++]);
            break;
        case 2: copy_str(d->graph_name, NAME_CAP, f.s); break;
        case 5:
            ck_assert_int_lt(d->n_inits, MAX_INITS);
            decode_tensor(f.s, &d->inits[d->n_inits++]);
            break;
        case 11:
            ck_assert_int_lt(d->n_inputs, 2);
            decode_value(f.s, &d->inputs[d->n_inputs++]);
            break;
        case 12:
            ck_assert_int_lt(d->n_outputs, 2);
            decode_value(f.s, &d->outputs[d->n_outputs++]);
            break;
        default: ck_abort_msg("unexpected GraphProto field %u", f.num);
        }
    }
}

static void decode_model(const uint8_t *p, size_t n, dmodel *d)
{
    span m = {p, n};
    size_t pos = 0, p2;
    field f, g;
    int graphs = 0;
    memset(d, 0, sizeof *d);
    while (next_field(m, &pos, &f)) {
        switch (f.num) {
        case 1: d->ir_version = (int64_t)f.v; break;
        case 2: copy_str(d->producer, NAME_CAP, f.s); break;
        case 3: break; /* producer_version */
        case 7:
            graphs++;
            decode_graph(f.s, d);
            break;
        case 8:
            d->n_opsets++;
            d->opset_domain_empty = 1;
            for (p2 = 0; next_field(f.s, &p2, &g);) {
                if (g.num == 1 && g.s.n > 0)
                    d->opset_domain_empty = 0;
                else if (g.num == 2)
                    d->opset = (int64_t)g.v;
            }
            break;
        default: ck_abort_msg("unexpected ModelProto field %u", f.num);
        }
    }
    ck_assert_int_eq(graphs, 1);
}

static const dtensor *find_init(const dmodel *d, const char *name)
{
    for (int i = 0; i < d->n_inits; i++)
        if (strcmp(d->inits[i].name, name) == 0)
            return &d->inits[i];
    return NULL;
}

static float raw_at(const dtensor *t, size_t i)
{
    const uint8_t *b = t->raw.p + 4 * i;
    uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static int64_t tensor_count(const dtensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndims; i++)
        n *= t->dims[i];
    return n;
}

/* ---- models and encodings ---- */

typedef struct blob {
    uint8_t *p;
    size_t n;
} blob;

static blob export_mem(const regnn_model *m)
{
    blob b = {NULL, 0};
    CK_OK(regnn_model_export_onnx_mem(m, NULL, 0, &b.n));
    ck_assert_uint_gt(b.n, 0);
    b.p = malloc(b.n);
    size_t n2 = 0;
    CK_OK(regnn_model_export_onnx_mem(m, b.p, b.n, &n2));
    ck_assert_uint_eq(n2, b.n);
    return b;
}

static blob read_all(const char *path)
{
    blob b = {NULL, 0};
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    b.n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    b.p = malloc(b.n ? b.n : 1);
    ck_assert_uint_eq(fread(b.p, 1, b.n, f), b.n);
    fclose(f);
    return b;
}

static const int ACTS[4] = {REGNN_ACT_RELU, REGNN_ACT_SIGMOID, REGNN_ACT_TANH, REGNN_ACT_LINEAR};

/* inputs -> one hidden layer per activation of ACTS (widths 7, 5, 6, 4) -> outputs linear */
static regnn_model *net(size_t inputs, size_t outputs, double dropout, uint64_t seed)
{
    static const size_t widths[4] = {7, 5, 6, 4};
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(inputs, &m));
    for (int i = 0; i < 4; i++)
        CK_OK(regnn_model_add_dense(m, widths[i], ACTS[i], NULL));
    CK_OK(regnn_model_add_dense(m, outputs, REGNN_ACT_LINEAR, NULL));
    if (dropout > 0)
        CK_OK(regnn_model_set_layers_double(m, REGNN_LAYER_DROPOUT, dropout));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    /* Non-zero biases, so that a dropped or misplaced bias shows. */
    size_t np = regnn_model_param_count(m);
    float *p = malloc(np * sizeof *p);
    CK_OK(regnn_model_get_params(m, p, np));
    for (size_t l = 0, off = 0; l < regnn_model_layer_count(m); l++) {
        const regnn_layer *ly = regnn_model_layer(m, l);
        off += regnn_layer_inputs(ly) * regnn_layer_units(ly);
        for (size_t j = 0; j < regnn_layer_units(ly); j++)
            p[off + j] = 0.1f * (float)((j + l) % 5) - 0.2f;
        off += regnn_layer_units(ly);
    }
    CK_OK(regnn_model_set_params(m, p, np));
    free(p);
    return m;
}

/* rows x cols values, deterministic, spread over roughly [-3, 3] * spread + shift */
static float *data(size_t rows, size_t cols, double spread, double shift, uint64_t seed)
{
    float *v = malloc(rows * cols * sizeof *v);
    rg_rng r;
    rg_rng_seed(&r, seed);
    for (size_t i = 0; i < rows * cols; i++)
        v[i] = (float)((6 * rg_rng_uniform(&r) - 3) * spread + shift * (double)(1 + i % cols));
    return v;
}

static regnn_scaler *scaler_for(size_t inputs, size_t outputs, uint64_t seed)
{
    const size_t rows = 40;
    float *x = data(rows, inputs, 5.0, 10.0, seed), *y = data(rows, outputs, 30.0, 100.0, seed + 1);
    regnn_dataset *ds = NULL;
    regnn_scaler *sc = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, rows, inputs, outputs, REGNN_COPY, &ds));
    CK_OK(regnn_scaler_fit(ds, REGNN_SCALE_ZSCORE, REGNN_SCALE_ZSCORE, &sc));
    regnn_dataset_free(ds);
    free(x);
    free(y);
    return sc;
}

/* ---- structure ---- */

/* The expected op sequence of net() with or without a scaler. */
static int expected_ops(int with_scaler, const char **ops)
{
    int n = 0;
    if (with_scaler) {
        ops[n++] = "Sub";
        ops[n++] = "Div";
    }
    static const char *act_ops[4] = {"Relu", "Sigmoid", "Tanh", NULL};
    for (int i = 0; i < 5; i++) {
        ops[n++] = "MatMul";
        ops[n++] = "Add";
        if (i < 4 && act_ops[i])
            ops[n++] = act_ops[i];
    }
    if (with_scaler) {
        ops[n++] = "Mul";
        ops[n++] = "Add";
    }
    return n;
}

static void check_stat(const dmodel *d, const char *name, const regnn_scaler *sc, int stat,
                       size_t n)
{
    const dtensor *t = find_init(d, name);
    ck_assert_msg(t != NULL, "no initializer %s", name);
    ck_assert_int_eq(t->data_type, 1);
    ck_assert_int_eq(t->ndims, 1);
    ck_assert_int_eq(t->dims[0], (int64_t)n);
    ck_assert_uint_eq(t->raw.n, 4 * n);
    double v[16];
    CK_OK(regnn_scaler_get(sc, stat, v, n));
    for (size_t i = 0; i < n; i++) {
        float want = (float)v[i], got = raw_at(t, i);
        ck_assert_msg(memcmp(&want, &got, 4) == 0, "%s[%zu]: %.9g, expected %.9g", name, i,
                      (double)got, (double)want);
    }
}

static void check_structure(const regnn_model *m, const regnn_scaler *sc, const blob *b)
{
    const size_t n_in = regnn_model_inputs(m), n_out = regnn_model_outputs(m);
    dmodel *d = malloc(sizeof *d);
    decode_model(b->p, b->n, d);

    ck_assert_int_eq(d->ir_version, 7);
    ck_assert_int_eq(d->n_opsets, 1);
    ck_assert_int_eq(d->opset, 13);
    ck_assert(d->opset_domain_empty);
    ck_assert_str_eq(d->producer, "libregnn");

    /* Nodes: the op sequence, one chain from "input" to "output". */
    const char *ops[MAX_NODES];
    int n_ops = expected_ops(sc != NULL, ops);
    ck_assert_int_eq(d->n_nodes, n_ops);
    const char *prev = "input";
    for (int i = 0; i < n_ops; i++) {
        const dnode *nd = &d->nodes[i];
        ck_assert_msg(strcmp(nd->op, ops[i]) == 0, "node %d is %s, expected %s", i, nd->op, ops[i]);
        ck_assert_int_eq(nd->n_out, 1);
        ck_assert_str_eq(nd->in[0], prev);
        int unary = !strcmp(nd->op, "Relu") || !strcmp(nd->op, "Sigmoid") || !strcmp(nd->op, "Tanh");
        ck_assert_int_eq(nd->n_in, unary ? 1 : 2);
        if (!unary)
            ck_assert_msg(find_init(d, nd->in[1]) != NULL, "node %d: no initializer %s", i,
                          nd->in[1]);
        ck_assert(nd->name[0] != '\0');
        for (int j = 0; j < i; j++) {
            ck_assert_str_ne(d->nodes[j].name, nd->name);
            ck_assert_str_ne(d->nodes[j].out, nd->out);
        }
        prev = nd->out;
    }
    ck_assert_str_eq(prev, "output");

    /* Initializers: each layer's kernel and bias, bit-equal to the parameters. */
    const size_t n_layers = regnn_model_layer_count(m), np = regnn_model_param_count(m);
    ck_assert_int_eq(d->n_inits, (int)(2 * n_layers + (sc ? 4 : 0)));
    float *params = malloc(np * sizeof *params);
    CK_OK(regnn_model_get_params(m, params, np));
    size_t off = 0;
    for (size_t l = 0; l < n_layers; l++) {
        const regnn_layer *ly = regnn_model_layer((regnn_model *)m, l);
        const size_t in = regnn_layer_inputs(ly), units = regnn_layer_units(ly);
        /* The layer's MatMul and Add name its kernel and bias. */
        const dnode *mm = NULL;
        int seen = 0;
        for (int i = 0; i < d->n_nodes; i++)
            if (!strcmp(d->nodes[i].op, "MatMul") && seen++ == (int)l)
                mm = &d->nodes[i];
        ck_assert_ptr_nonnull(mm);
        const dtensor *k = find_init(d, mm[0].in[1]), *bias = find_init(d, mm[1].in[1]);
        ck_assert_str_eq(mm[1].op, "Add");
        ck_assert_ptr_nonnull(k);
        ck_assert_ptr_nonnull(bias);
        ck_assert_int_eq(k->data_type, 1);
        ck_assert_int_eq(bias->data_type, 1);
        ck_assert_int_eq(k->ndims, 2);
        ck_assert_int_eq(k->dims[0], (int64_t)in);
        ck_assert_int_eq(k->dims[1], (int64_t)units);
        ck_assert_int_eq(bias->ndims, 1);
        ck_assert_int_eq(bias->dims[0], (int64_t)units);
        ck_assert_uint_eq(k->raw.n, 4 * in * units);
        ck_assert_uint_eq(bias->raw.n, 4 * units);
        ck_assert_int_eq(tensor_count(k), (int64_t)(in * units));
        for (size_t i = 0; i < in * units; i++, off++) {
            float got = raw_at(k, i);
            ck_assert_msg(memcmp(&got, &params[off], 4) == 0, "layer %zu kernel %zu differs", l, i);
        }
        for (size_t i = 0; i < units; i++, off++) {
            float got = raw_at(bias, i);
            ck_assert_msg(memcmp(&got, &params[off], 4) == 0, "layer %zu bias %zu differs", l, i);
        }
    }
    ck_assert_uint_eq(off, np);
    free(params);

    if (sc) {
        /* The scaler's nodes use its statistics, rounded to float32. */
        ck_assert_str_eq(d->nodes[0].in[1], "scaler/feature_mean");
        ck_assert_str_eq(d->nodes[1].in[1], "scaler/feature_scale");
        ck_assert_str_eq(d->nodes[n_ops - 2].in[1], "scaler/target_scale");
        ck_assert_str_eq(d->nodes[n_ops - 1].in[1], "scaler/target_mean");
        check_stat(d, "scaler/feature_mean", sc, REGNN_STAT_FEATURE_MEAN, n_in);
        check_stat(d, "scaler/feature_scale", sc, REGNN_STAT_FEATURE_SCALE, n_in);
        check_stat(d, "scaler/target_scale", sc, REGNN_STAT_TARGET_SCALE, n_out);
        check_stat(d, "scaler/target_mean", sc, REGNN_STAT_TARGET_MEAN, n_out);
    }

    /* Input and output: float [N, cols]. */
    ck_assert_int_eq(d->n_inputs, 1);
    ck_assert_int_eq(d->n_outputs, 1);
    const dvalue *io[2] = {&d->inputs[0], &d->outputs[0]};
    const char *names[2] = {"input", "output"};
    const size_t cols[2] = {n_in, n_out};
    for (int i = 0; i < 2; i++) {
        ck_assert_str_eq(io[i]->name, names[i]);
        ck_assert_int_eq(io[i]->elem_type, 1);
        ck_assert_int_eq(io[i]->ndims, 2);
        ck_assert_str_eq(io[i]->dim_param[0], "N");
        ck_assert_int_eq(io[i]->dim_value[0], -1);
        ck_assert_int_eq(io[i]->dim_value[1], (int64_t)cols[i]);
    }
    free(d);
}

START_TEST(test_structure)
{
    static const size_t shapes[3][2] = {{1, 1}, {4, 1}, {9, 3}};
    for (int s = 0; s < 3; s++) {
        regnn_model *m = net(shapes[s][0], shapes[s][1], 0.0, 10 + (uint64_t)s);
        blob b = export_mem(m);
        check_structure(m, NULL, &b);
        free(b.p);
        regnn_model_free(m);
    }
}
END_TEST

START_TEST(test_structure_scaler)
{
    static const size_t shapes[3][2] = {{1, 1}, {4, 1}, {9, 3}};
    for (int s = 0; s < 3; s++) {
        regnn_model *m = net(shapes[s][0], shapes[s][1], 0.0, 20 + (uint64_t)s);
        regnn_scaler *sc = scaler_for(shapes[s][0], shapes[s][1], 30 + (uint64_t)s);
        CK_OK(regnn_model_attach_scaler(m, sc));
        blob b = export_mem(m);
        check_structure(m, sc, &b);
        free(b.p);
        /* Detached again: no scaler nodes. */
        CK_OK(regnn_model_attach_scaler(m, NULL));
        b = export_mem(m);
        check_structure(m, NULL, &b);
        free(b.p);
        regnn_scaler_free(sc);
        regnn_model_free(m);
    }
}
END_TEST

/* Dropout is a training-time operation: the exported graph is the same. */
START_TEST(test_dropout_omitted)
{
    regnn_model *a = net(3, 2, 0.0, 5), *b = net(3, 2, 0.4, 5);
    blob ea = export_mem(a), eb = export_mem(b);
    ck_assert_uint_eq(ea.n, eb.n);
    ck_assert_mem_eq(ea.p, eb.p, ea.n);
    check_structure(b, NULL, &eb);
    free(ea.p);
    free(eb.p);
    regnn_model_free(a);
    regnn_model_free(b);
}
END_TEST

/* ---- semantics: an interpreter of the decoded graph ---- */

typedef struct tval {
    char name[NAME_CAP];
    float *v;
    size_t rows, cols;
} tval;

/* Runs the decoded graph on x (rows x n_in) by the ONNX definitions of its ops,
 * on float32 tensors (MatMul sums in double, then rounds), broadcasting a 1-D
 * initializer over the rows; returns rows x n_out. */
/* ONNX LayerNormalization over the last axis, from its definition, in double. */
static void run_layer_norm(const dmodel *d, const dnode *nd, const tval *a, tval *o)
{
    ck_assert_int_eq(nd->n_in, 3);
    ck_assert_int_eq(nd->axis, -1);
    const dtensor *sc = find_init(d, nd->in[1]), *b = find_init(d, nd->in[2]);
    ck_assert_ptr_nonnull(sc);
    ck_assert_ptr_nonnull(b);
    const size_t n = a->cols;
    o->cols = n;
    o->v = malloc(o->rows * n * sizeof(float));
    for (size_t r = 0; r < a->rows; r++) {
        const float *x = a->v + r * n;
        double mean = 0, var = 0;
        for (size_t k = 0; k < n; k++)
            mean += x[k] / (double)n;
        for (size_t k = 0; k < n; k++)
            var += (x[k] - mean) * (x[k] - mean) / (double)n;
        for (size_t k = 0; k < n; k++)
            o->v[r * n + k] = (float)((x[k] - mean) / sqrt(var + nd->epsilon) * raw_at(sc, k) +
                                      raw_at(b, k));
    }
}

/* ONNX BatchNormalization in inference: (x - mean) / sqrt(var + epsilon) * scale + B. */
static void run_batch_norm(const dmodel *d, const dnode *nd, const tval *a, tval *o)
{
    ck_assert_int_eq(nd->n_in, 5);
    ck_assert_int_eq(nd->n_attr, 1); /* epsilon only */
    const dtensor *t[4];
    for (int k = 0; k < 4; k++) {
        t[k] = find_init(d, nd->in[k + 1]);
        ck_assert_ptr_nonnull(t[k]);
    }
    const size_t n = a->cols;
    o->cols = n;
    o->v = malloc(o->rows * n * sizeof(float));
    for (size_t r = 0; r < a->rows; r++)
        for (size_t k = 0; k < n; k++)
            o->v[r * n + k] = (float)(((double)a->v[r * n + k] - raw_at(t[2], k)) /
                                          sqrt((double)raw_at(t[3], k) + nd->epsilon) *
                                          raw_at(t[0], k) +
                                      raw_at(t[1], k));
}

static float *run_graph(const dmodel *d, const float *x, size_t rows, size_t n_in, size_t *n_out)
{
    tval vals[MAX_NODES + 1];
    int nv = 0;
    strcpy(vals[0].name, "input");
    vals[0].v = malloc(rows * n_in * sizeof(float));
    memcpy(vals[0].v, x, rows * n_in * sizeof(float));
    vals[0].rows = rows;
    vals[0].cols = n_in;
    nv = 1;
    for (int i = 0; i < d->n_nodes; i++) {
        const dnode *nd = &d->nodes[i];
        const tval *a = NULL;
        for (int k = 0; k < nv; k++)
            if (!strcmp(vals[k].name, nd->in[0]))
                a = &vals[k];
        ck_assert_msg(a != NULL, "node %s: input %s not computed", nd->name, nd->in[0]);
        const dtensor *t = nd->n_in >= 2 ? find_init(d, nd->in[1]) : NULL;
        const tval *b = NULL; /* a second input computed by an earlier node */
        for (int k = 0; nd->n_in >= 2 && !t && k < nv; k++)
            if (!strcmp(vals[k].name, nd->in[1]))
                b = &vals[k];
        ck_assert_msg(nd->n_in < 2 || t || b, "node %s: input %s unknown", nd->name, nd->in[1]);
        tval *o = &vals[nv++];
        strcpy(o->name, nd->out);
        o->rows = a->rows;
        if (!strcmp(nd->op, "LayerNormalization")) {
            run_layer_norm(d, nd, a, o);
            continue;
        }
        if (!strcmp(nd->op, "BatchNormalization")) {
            run_batch_norm(d, nd, a, o);
            continue;
        }
        if (!strcmp(nd->op, "MatMul")) {
            ck_assert_ptr_nonnull(t);
            ck_assert_int_eq(t->dims[0], (int64_t)a->cols);
            o->cols = (size_t)t->dims[1];
            o->v = calloc(o->rows * o->cols, sizeof(float));
            for (size_t r = 0; r < o->rows; r++)
                for (size_t j = 0; j < o->cols; j++) {
                    double s = 0;
                    for (size_t k = 0; k < a->cols; k++)
                        s += (double)a->v[r * a->cols + k] * raw_at(t, k * o->cols + j);
                    o->v[r * o->cols + j] = (float)s;
                }
            continue;
        }
        o->cols = a->cols;
        o->v = malloc(o->rows * o->cols * sizeof(float));
        if (t && t->ndims == 0) {
            ck_assert_uint_eq(t->raw.n, 4); /* a scalar, broadcast everywhere */
        } else if (t) {
            ck_assert_int_eq(t->ndims, 1);
            ck_assert_int_eq(t->dims[0], (int64_t)a->cols);
        }
        if (b)
            ck_assert(b->rows == a->rows && b->cols == a->cols);
        for (size_t r = 0; r < o->rows; r++)
            for (size_t j = 0; j < o->cols; j++) {
                float u = a->v[r * a->cols + j], z;
                float w = t ? raw_at(t, t->ndims ? j : 0) : b ? b->v[r * b->cols + j] : 0.0f;
                const float al = nd->n_attrs ? nd->attr[0] : 0.0f;
                if (!strcmp(nd->op, "Add"))
                    z = u + w;
                else if (!strcmp(nd->op, "Sub"))
                    z = u - w;
                else if (!strcmp(nd->op, "Mul"))
                    z = u * w;
                else if (!strcmp(nd->op, "Div"))
                    z = u / w;
                else if (!strcmp(nd->op, "Relu"))
                    z = u > 0 ? u : 0;
                else if (!strcmp(nd->op, "Sigmoid"))
                    z = (float)(1 / (1 + exp(-(double)u)));
                else if (!strcmp(nd->op, "Tanh"))
                    z = (float)tanh((double)u);
                else if (!strcmp(nd->op, "Erf"))
                    z = (float)erf((double)u);
                else if (!strcmp(nd->op, "Softplus"))
                    z = (float)log(exp((double)u) + 1);
                else if (!strcmp(nd->op, "LeakyRelu"))
                    z = u < 0 ? al * u : u;
                else if (!strcmp(nd->op, "Elu"))
                    z = u < 0 ? (float)(al * (exp((double)u) - 1)) : u;
                else if (!strcmp(nd->op, "Selu"))
                    z = (float)(nd->attr[1] * (u > 0 ? u : al * exp((double)u) - al));
                else
                    ck_abort_msg("unknown op %s", nd->op);
                o->v[r * o->cols + j] = z;
            }
    }
    float *out = NULL;
    for (int k = 0; k < nv; k++) {
        if (!strcmp(vals[k].name, "output")) {
            out = vals[k].v;
            *n_out = vals[k].cols;
        } else {
            free(vals[k].v);
        }
    }
    ck_assert_ptr_nonnull(out);
    return out;
}

static double rel_diff(float a, float b)
{
    double d = fabs((double)a - (double)b), s = fmax(fabs((double)a), fabs((double)b));
    return s > 0 ? d / s : d;
}

/* The graph computes what the model predicts (in original units with a scaler). */
START_TEST(test_graph_matches_predict)
{
    static const size_t shapes[3][2] = {{1, 1}, {4, 1}, {9, 3}};
    const size_t rows = 64;
    double worst = 0;
    for (int s = 0; s < 3; s++) {
        for (int with_sc = 0; with_sc <= 1; with_sc++) {
            const size_t n_in = shapes[s][0], n_out = shapes[s][1];
            regnn_model *m = net(n_in, n_out, 0.0, 40 + (uint64_t)s);
            regnn_scaler *sc = with_sc ? scaler_for(n_in, n_out, 50 + (uint64_t)s) : NULL;
            if (sc)
                CK_OK(regnn_model_attach_scaler(m, sc));
            float *x = data(rows, n_in, with_sc ? 5.0 : 1.0, with_sc ? 10.0 : 0.0, 60 + (uint64_t)s);
            float *xs = malloc(rows * n_in * sizeof *xs), *y = malloc(rows * n_out * sizeof *y);
            if (sc)
                CK_OK(regnn_scaler_transform_features(sc, x, xs, rows));
            else
                memcpy(xs, x, rows * n_in * sizeof *xs);
            CK_OK(regnn_model_predict(m, xs, rows, y, rows * n_out));
            if (sc)
                CK_OK(regnn_scaler_inverse_targets(sc, y, y, rows));

            blob b = export_mem(m);
            dmodel *d = malloc(sizeof *d);
            decode_model(b.p, b.n, d);
            size_t got_out = 0;
            float *g = run_graph(d, x, rows, n_in, &got_out);
            ck_assert_uint_eq(got_out, n_out);
            for (size_t i = 0; i < rows * n_out; i++) {
                double r = rel_diff(g[i], y[i]);
                /* Near zero an absolute bound: the outputs are of order 1 (or the target scale). */
                double scale = sc ? 30.0 : 1.0;
                ck_assert_msg(r <= 1e-5 || fabs((double)g[i] - (double)y[i]) <= 1e-6 * scale,
                              "shape %d scaler %d: row %zu: graph %.9g, predict %.9g", s, with_sc,
                              i / n_out, (double)g[i], (double)y[i]);
                if (r > worst)
                    worst = r;
            }
            free(g);
            free(d);
            free(b.p);
            free(x);
            free(xs);
            free(y);
            regnn_scaler_free(sc);
            regnn_model_free(m);
        }
    }
    printf("onnx: largest relative difference graph vs predict: %.3g\n", worst);
}
END_TEST

/* The activations after format 1.0 as opset-13 nodes: Elu, Selu and
 * LeakyRelu with Keras' constants as attributes, Softplus, swish as
 * x * Sigmoid(x) and gelu as 0.5 * x * (1 + Erf(x / sqrt 2)); the graph
 * computes what the model predicts. */
START_TEST(test_new_activations)
{
    static const int acts[6] = {REGNN_ACT_ELU,   REGNN_ACT_SELU,       REGNN_ACT_GELU,
                                REGNN_ACT_SWISH, REGNN_ACT_LEAKY_RELU, REGNN_ACT_SOFTPLUS};
    static const char *ops[6][5] = {{"Elu"},     {"Selu"},      {"Div", "Erf", "Add", "Mul", "Mul"},
                                    {"Sigmoid", "Mul"}, {"LeakyRelu"}, {"Softplus"}};
    static const int n_ops[6] = {1, 1, 5, 2, 1, 1};
    const size_t n_in = 3, rows = 64;
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(n_in, &m));
    for (int a = 0; a < 6; a++)
        CK_OK(regnn_model_add_dense(m, 5 + (size_t)a, acts[a], NULL));
    CK_OK(regnn_model_add_dense(m, 2, REGNN_ACT_GELU, NULL)); /* on the output layer too */
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 8));
    blob b = export_mem(m);
    dmodel *d = malloc(sizeof *d);
    decode_model(b.p, b.n, d);
    ck_assert_int_eq(d->opset, 13);
    int k = 0;
    for (int l = 0; l < 7; l++) {
        const int a = l < 6 ? l : 2;
        ck_assert_str_eq(d->nodes[k++].op, "MatMul");
        const dnode *add = &d->nodes[k++];
        ck_assert_str_eq(add->op, "Add");
        for (int i = 0; i < n_ops[a]; i++, k++) {
            const dnode *nd = &d->nodes[k];
            ck_assert_str_eq(nd->op, ops[a][i]);
            ck_assert_str_eq(nd->in[0], d->nodes[k - 1].out);
            if (!strcmp(nd->op, "Mul") && i + 1 == (a == 2 ? 4 : 2))
                ck_assert_str_eq(nd->in[1], add->out); /* times the activation's input */
        }
    }
    ck_assert_int_eq(k, d->n_nodes);
    ck_assert_str_eq(d->nodes[k - 1].out, "output");
    /* Attributes: Keras' constants rounded to float. */
    ck_assert_int_eq(d->nodes[2].n_attrs, 1);
    ck_assert_str_eq(d->nodes[2].attr_name[0], "alpha");
    ck_assert(d->nodes[2].attr[0] == 1.0f);
    ck_assert_int_eq(d->nodes[5].n_attrs, 2);
    ck_assert_str_eq(d->nodes[5].attr_name[0], "alpha");
    ck_assert_str_eq(d->nodes[5].attr_name[1], "gamma");
    ck_assert(d->nodes[5].attr[0] == (float)1.6732632423543772848);
    ck_assert(d->nodes[5].attr[1] == (float)1.0507009873554804934);
    const dnode *lr = &d->nodes[k - 2 - 5 - 3 - 1];
    ck_assert_str_eq(lr->op, "LeakyRelu");
    ck_assert(lr->attr[0] == 0.2f);
    /* The constants gelu's nodes name, once each. */
    const dtensor *c2 = find_init(d, d->nodes[8].in[1]);
    ck_assert_ptr_nonnull(c2);
    ck_assert_int_eq(c2->ndims, 0);
    ck_assert(raw_at(c2, 0) == (float)sqrt(2.0));
    ck_assert_int_eq(d->n_inits, 2 * 7 + 3);

    float *x = data(rows, n_in, 2.0, 0.0, 70), *y = malloc(rows * 2 * sizeof *y);
    CK_OK(regnn_model_predict(m, x, rows, y, rows * 2));
    size_t got_out = 0;
    float *g = run_graph(d, x, rows, n_in, &got_out);
    ck_assert_uint_eq(got_out, 2);
    for (size_t i = 0; i < rows * 2; i++)
        ck_assert_msg(rel_diff(g[i], y[i]) <= 1e-5 || fabs((double)g[i] - (double)y[i]) <= 1e-6,
                      "row %zu: graph %.9g, predict %.9g", i / 2, (double)g[i], (double)y[i]);
    free(g);
    free(x);
    free(y);
    free(d);
    free(b.p);
    regnn_model_free(m);
}
END_TEST

/* LayerNormalization as the ONNX operator (opset 17, IR 8; axis -1, its epsilon),
 * its gamma and beta as initializers; a GaussianNoise layer left out; the graph
 * computes what the model predicts. */
START_TEST(test_layer_normalization)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(4, &m));
    CK_OK(regnn_model_add_dense(m, 6, REGNN_ACT_TANH, NULL));
    CK_OK(regnn_model_add_layer_normalization(m, 0.01, NULL));
    CK_OK(regnn_model_add_gaussian_noise(m, 0.3, NULL));
    CK_OK(regnn_model_add_dense(m, 2, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 8));
    float ln[12];
    for (int k = 0; k < 12; k++)
        ln[k] = (float)(k < 6 ? 0.5 + 0.2 * k : 0.1 * (k - 8));
    CK_OK(regnn_layer_set_params(regnn_model_layer(m, 1), ln, 12));
    blob b = export_mem(m);
    dmodel *d = malloc(sizeof *d);
    decode_model(b.p, b.n, d);
    ck_assert_int_eq(d->ir_version, 8);
    ck_assert_int_eq(d->opset, 17);
    ck_assert_int_eq(d->n_nodes, 3 + 1 + 2); /* MatMul Add Tanh, LayerNormalization, MatMul Add */
    const dnode *nd = &d->nodes[3];
    ck_assert_str_eq(nd->op, "LayerNormalization");
    ck_assert_str_eq(nd->in[1], "layer1/gamma");
    ck_assert_str_eq(nd->in[2], "layer1/beta");
    ck_assert_int_eq(nd->n_attr, 2);
    ck_assert_int_eq(nd->axis, -1);
    ck_assert(nd->epsilon == 0.01f);
    ck_assert(raw_at(find_init(d, "layer1/gamma"), 5) == ln[5]);
    ck_assert(raw_at(find_init(d, "layer1/beta"), 0) == ln[6]);
    const size_t rows = 32;
    float *x = data(rows, 4, 2.0, 0.5, 9), y[64];
    CK_OK(regnn_model_predict(m, x, rows, y, 64));
    size_t got_out = 0;
    float *g = run_graph(d, x, rows, 4, &got_out);
    ck_assert_uint_eq(got_out, 2);
    for (size_t i = 0; i < rows * 2; i++)
        ck_assert_msg(rel_diff(g[i], y[i]) <= 1e-5 || fabs((double)g[i] - y[i]) <= 1e-6,
                      "row %zu: graph %.9g, predict %.9g", i / 2, (double)g[i], (double)y[i]);
    free(g);
    free(x);
    free(d);
    free(b.p);
    regnn_model_free(m);
}
END_TEST

/* BatchNormalization as the ONNX operator with the moving statistics (opset 13
 * kept), after a fit moved them; the graph computes what the model predicts. */
START_TEST(test_batch_normalization)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(4, &m));
    CK_OK(regnn_model_add_dense(m, 6, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_batch_normalization(m, 0.5, 0.01, NULL));
    CK_OK(regnn_model_add_dense(m, 2, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 8));
    const size_t rows = 32;
    float *x = data(rows, 4, 2.0, 0.5, 9), y[64], yt[64];
    for (size_t i = 0; i < rows * 2; i++)
        yt[i] = (float)(0.1 * (double)i);
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    double loss;
    for (int s = 0; s < 3; s++)
        CK_OK(regnn_train_batch(m, o, x, yt, rows, &loss));
    float mean[6];
    CK_OK(regnn_layer_get_moving(regnn_model_layer(m, 1), mean, NULL, 6));
    blob b = export_mem(m);
    dmodel *d = malloc(sizeof *d);
    decode_model(b.p, b.n, d);
    ck_assert_int_eq(d->opset, 13);
    ck_assert_int_eq(d->n_nodes, 3 + 1 + 2);
    const dnode *nd = &d->nodes[3];
    ck_assert_str_eq(nd->op, "BatchNormalization");
    ck_assert_str_eq(nd->in[3], "layer1/moving_mean");
    ck_assert_str_eq(nd->in[4], "layer1/moving_variance");
    ck_assert(nd->epsilon == 0.01f);
    ck_assert(raw_at(find_init(d, "layer1/moving_mean"), 2) == mean[2]);
    CK_OK(regnn_model_predict(m, x, rows, y, 64));
    size_t got_out = 0;
    float *g = run_graph(d, x, rows, 4, &got_out);
    ck_assert_uint_eq(got_out, 2);
    for (size_t i = 0; i < rows * 2; i++)
        ck_assert_msg(rel_diff(g[i], y[i]) <= 1e-5 || fabs((double)g[i] - y[i]) <= 1e-6,
                      "row %zu: graph %.9g, predict %.9g", i / 2, (double)g[i], (double)y[i]);
    free(g);
    free(x);
    free(d);
    free(b.p);
    regnn_optimizer_free(o);
    regnn_model_free(m);
}
END_TEST

/* ---- size protocol, files, errors ---- */

START_TEST(test_mem_sizes)
{
    regnn_model *m = net(3, 2, 0.0, 7);
    size_t need = 0, n = 0;
    CK_OK(regnn_model_export_onnx_mem(m, NULL, 0, &need));
    uint8_t *buf = malloc(need + 8);
    memset(buf, 0xEE, need + 8);
    n = 1;
    CK_STATUS(regnn_model_export_onnx_mem(m, buf, need - 1, &n), REGNN_E_SHAPE);
    ck_assert_uint_eq(n, need);
    ck_assert_str_ne(regnn_errmsg(), "");
    CK_OK(regnn_model_export_onnx_mem(m, buf, need + 8, &n));
    ck_assert_uint_eq(n, need);
    ck_assert_uint_eq(buf[need], 0xEE); /* nothing past the encoding */
    /* Deterministic. */
    blob b = export_mem(m);
    ck_assert_uint_eq(b.n, need);
    ck_assert_mem_eq(b.p, buf, need);
    free(b.p);
    free(buf);
    regnn_model_free(m);
}
END_TEST

static void make_dir(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/regnn_onnxXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

START_TEST(test_file)
{
    char dir[64], path[128];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.onnx", dir);
    regnn_model *m = net(4, 1, 0.0, 8), *m2 = net(2, 2, 0.0, 9);
    regnn_scaler *sc = scaler_for(4, 1, 3);
    CK_OK(regnn_model_attach_scaler(m, sc));
    CK_OK(regnn_model_export_onnx(m, path));
    blob mem = export_mem(m), file = read_all(path);
    ck_assert_uint_eq(file.n, mem.n);
    ck_assert_mem_eq(file.p, mem.p, mem.n);
    free(file.p);
    free(mem.p);
    /* Replaces an existing file. */
    CK_OK(regnn_model_export_onnx(m2, path));
    mem = export_mem(m2);
    file = read_all(path);
    ck_assert_uint_eq(file.n, mem.n);
    ck_assert_mem_eq(file.p, mem.p, mem.n);
    free(file.p);
    free(mem.p);
    unlink(path);
    rmdir(dir);
    regnn_scaler_free(sc);
    regnn_model_free(m);
    regnn_model_free(m2);
}
END_TEST

START_TEST(test_errors)
{
    char dir[64], path[128], missing[160];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.onnx", dir);
    snprintf(missing, sizeof missing, "%s/no/such/folder/m.onnx", dir);
    regnn_model *m = net(3, 1, 0.0, 11);
    size_t n = 99;

    CK_STATUS(regnn_model_export_onnx(NULL, path), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_export_onnx(m, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_export_onnx(m, ""), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_export_onnx_mem(m, NULL, 0, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_export_onnx_mem(NULL, NULL, 0, &n), REGNN_E_INVALID_ARG);
    ck_assert_uint_eq(n, 0);

    /* Not ready: no layers, then layers but not initialized. */
    regnn_model *raw = NULL;
    CK_OK(regnn_model_create(3, &raw));
    n = 99;
    CK_STATUS(regnn_model_export_onnx_mem(raw, NULL, 0, &n), REGNN_E_STATE);
    ck_assert_uint_eq(n, 0);
    CK_OK(regnn_model_add_dense(raw, 2, REGNN_ACT_RELU, NULL));
    CK_STATUS(regnn_model_export_onnx(raw, path), REGNN_E_STATE);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_model_export_onnx"));
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "not initialized"));
    ck_assert_int_ne(access(path, F_OK), 0);

    /* Unwritable places: a missing folder, a folder in the way. */
    CK_STATUS(regnn_model_export_onnx(m, missing), REGNN_E_IO);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), missing));
    CK_STATUS(regnn_model_export_onnx(m, dir), REGNN_E_IO);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "not a regular file"));

    /* A failed export leaves the previous file as it was. */
    CK_OK(regnn_model_export_onnx(m, path));
    blob before = read_all(path);
    const float keep = m->params[3];
    m->params[3] = NAN; /* as a diverged step would leave them; set_params refuses NaN */
    CK_STATUS(regnn_model_export_onnx(m, path), REGNN_E_NUMERIC);
    m->params[3] = keep;
    blob after = read_all(path);
    ck_assert_uint_eq(after.n, before.n);
    ck_assert_mem_eq(after.p, before.p, before.n);
    free(after.p);

    /* Scaler statistics float32 cannot hold. */
    regnn_scaler *sc = scaler_for(3, 1, 12);
    CK_OK(regnn_model_attach_scaler(m, sc));
    /* the attached scaler's own storage, written to plant values */
    double *y_mean = (double *)rg_scaler_view(m->scaler).y_mean;
    double *x_scale = (double *)rg_scaler_view(m->scaler).x_scale;
    y_mean[0] = 1e300;
    CK_STATUS(regnn_model_export_onnx_mem(m, NULL, 0, &n), REGNN_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "target mean 0"));
    y_mean[0] = 0.0;
    x_scale[1] = 1e-60; /* rounds to 0 in float32 */
    CK_STATUS(regnn_model_export_onnx(m, path), REGNN_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "feature scale 1"));
    after = read_all(path);
    ck_assert_mem_eq(after.p, before.p, before.n);
    free(after.p);
    free(before.p);

    /* A scaler attached before the last layer changed the output count. */
    regnn_model *grown = NULL;
    CK_OK(regnn_model_create(3, &grown));
    CK_OK(regnn_model_add_dense(grown, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_attach_scaler(grown, sc));
    CK_OK(regnn_model_add_dense(grown, 2, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(grown, REGNN_INIT_GLOROT_UNIFORM, 1));
    CK_STATUS(regnn_model_export_onnx_mem(grown, NULL, 0, &n), REGNN_E_SHAPE);

    unlink(path);
    rmdir(dir);
    regnn_scaler_free(sc);
    regnn_model_free(grown);
    regnn_model_free(raw);
    regnn_model_free(m);
}
END_TEST

/* Every allocation of the file export fails in turn (once, then for good):
 * REGNN_E_NOMEM, no leak, the previous file intact; then it succeeds. The
 * memory variant allocates nothing. */
START_TEST(test_alloc_failures)
{
    char dir[64], path[128];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.onnx", dir);
    regnn_model *old = net(2, 1, 0.0, 1), *m = net(5, 2, 0.0, 2);
    regnn_scaler *sc = scaler_for(5, 2, 3);
    CK_OK(regnn_model_attach_scaler(m, sc));
    CK_OK(regnn_model_export_onnx(old, path));
    blob before = read_all(path), want = export_mem(m);
    int points = 0;
    for (int persistent = 0; persistent <= 1; persistent++) {
        for (long n = 1;; n++) {
            ck_assert_int_lt(n, 1000);
            long live = regnn__test_alloc_live();
            regnn__test_alloc_fail_at(n, persistent);
            regnn_status st = regnn_model_export_onnx(m, path);
            long tried = regnn__test_alloc_count();
            regnn__test_alloc_fail_at(0, 0);
            ck_assert_int_eq(regnn__test_alloc_live(), live);
            if (st == REGNN_OK) {
                ck_assert_int_lt(tried, n);
                break;
            }
            points++;
            ck_assert_msg(st == REGNN_E_NOMEM, "alloc %ld: status %d: %s", n, st, regnn_errmsg());
            blob now = read_all(path);
            ck_assert_uint_eq(now.n, before.n);
            ck_assert_mem_eq(now.p, before.p, before.n);
            free(now.p);
        }
        blob now = read_all(path);
        ck_assert_uint_eq(now.n, want.n);
        ck_assert_mem_eq(now.p, want.p, want.n);
        free(now.p);
        CK_OK(regnn_model_export_onnx(old, path));
    }
    ck_assert_int_ge(points, 4); /* the encoding buffer and the temporary name, twice */

    regnn__test_alloc_fail_at(1, 1);
    size_t n = 0;
    uint8_t *buf = malloc(want.n);
    regnn_status st = regnn_model_export_onnx_mem(m, buf, want.n, &n);
    long tried = regnn__test_alloc_count();
    regnn__test_alloc_fail_at(0, 0);
    CK_OK(st);
    ck_assert_int_eq(tried, 0);
    ck_assert_mem_eq(buf, want.p, want.n);

    free(buf);
    free(before.p);
    free(want.p);
    unlink(path);
    rmdir(dir);
    regnn_scaler_free(sc);
    regnn_model_free(old);
    regnn_model_free(m);
}
END_TEST

static Suite *onnx_suite(void)
{
    Suite *s = suite_create("onnx");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_structure);
    tcase_add_test(tc, test_structure_scaler);
    tcase_add_test(tc, test_dropout_omitted);
    tcase_add_test(tc, test_layer_normalization);
    tcase_add_test(tc, test_batch_normalization);
    tcase_add_test(tc, test_graph_matches_predict);
    tcase_add_test(tc, test_new_activations);
    tcase_add_test(tc, test_mem_sizes);
    tcase_add_test(tc, test_file);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_alloc_failures);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(onnx_suite)
