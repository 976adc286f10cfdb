/* SPDX-License-Identifier: MIT */
/* Model files and checkpoints: round trips through memory and files, a
 * golden 1.0 file, bit-identical resumption of training, every kind of
 * malformed input, allocation failures and I/O failures. */
#define _XOPEN_SOURCE 700 /* mkdtemp, setrlimit */
#include "testutil.h"
#include "model/model_impl.h" /* the model's fields, which this test reads or breaks */

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---- */

/* y = sin(2 x0) + 0.5 x1^2 - x2 */
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

/* 3 -> width relu (L2, dropout) -> 4 tanh (L1) -> 1 linear, optionally with a scaler. */
static regnn_model *net(size_t width, double dropout, int with_scaler, uint64_t seed)
{
    regnn_model *m = NULL;
    regnn_layer *l = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_dense(m, width, REGNN_ACT_RELU, &l));
    CK_OK(regnn_layer_set_double(l, REGNN_LAYER_L2, 1e-3));
    CK_OK(regnn_layer_set_double(l, REGNN_LAYER_DROPOUT, dropout));
    CK_OK(regnn_model_add_dense(m, 4, REGNN_ACT_TANH, &l));
    CK_OK(regnn_layer_set_double(l, REGNN_LAYER_L1, 1e-4));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    if (with_scaler) {
        regnn_dataset *ds = synth(50, seed + 1);
        regnn_scaler *sc = NULL;
        CK_OK(regnn_scaler_fit(ds, REGNN_SCALE_ZSCORE, REGNN_SCALE_UNIT_NORM, &sc));
        CK_OK(regnn_model_attach_scaler(m, sc));
        regnn_scaler_free(sc);
        regnn_dataset_free(ds);
    }
    return m;
}

typedef struct blob {
    uint8_t *p;
    size_t n;
} blob;

static blob encode(const regnn_model *m, const regnn_optimizer *o)
{
    blob b = {NULL, 0};
    if (o) {
        CK_OK(regnn_checkpoint_save_mem(m, o, NULL, 0, &b.n));
        b.p = malloc(b.n);
        size_t n2 = 0;
        CK_OK(regnn_checkpoint_save_mem(m, o, b.p, b.n, &n2));
        ck_assert_uint_eq(n2, b.n);
    } else {
        CK_OK(regnn_model_save_mem(m, NULL, 0, &b.n));
        b.p = malloc(b.n);
        size_t n2 = 0;
        CK_OK(regnn_model_save_mem(m, b.p, b.n, &n2));
        ck_assert_uint_eq(n2, b.n);
    }
    return b;
}

static blob blob_copy(blob b)
{
    blob c = {malloc(b.n + 1), b.n};
    memcpy(c.p, b.p, b.n);
    return c;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}
static void put_f64le(uint8_t *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put_le(p, u, 8);
}
static void put_f32le(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_le(p, u, 4);
}

/* Make the header's body length and the trailing CRC agree with the content. */
static void blob_fix(blob *b)
{
    put_le(b->p + 12, b->n - 24, 8);
    put_le(b->p + b->n - 4, rg_crc32(0, b->p, b->n - 4), 4);
}

/* Offset of a section's header (tag), or 0 if absent. */
static size_t sec_find(const blob *b, const char *tag)
{
    size_t pos = 20;
    while (pos + 16 <= b->n - 4) {
        if (memcmp(b->p + pos, tag, 4) == 0)
            return pos;
        pos += 16 + (size_t)get_le(b->p + pos + 8, 8);
    }
    return 0;
}

/* Replace del bytes at `at` by n_ins bytes of ins (may be NULL: zeros). */
static void blob_splice(blob *b, size_t at, size_t del, const void *ins, size_t n_ins)
{
    size_t n = b->n - del + n_ins;
    uint8_t *p = calloc(n + 1, 1);
    memcpy(p, b->p, at);
    if (ins)
        memcpy(p + at, ins, n_ins);
    memcpy(p + at + n_ins, b->p + at + del, b->n - at - del);
    free(b->p);
    b->p = p;
    b->n = n;
}

static int has(const char *needle) { return strstr(regnn_errmsg(), needle) != NULL; }

/* Load b as a model, expecting failure with status `want` and a message containing `needle`. */
static void expect_model_fail(blob b, regnn_status want, const char *needle)
{
    regnn_model *m = (regnn_model *)1;
    regnn_status st = regnn_model_load_mem(b.p, b.n, &m);
    ck_assert_msg(st == want, "status %d, expected %d: %s", st, want, regnn_errmsg());
    ck_assert_ptr_null(m);
    ck_assert_msg(has(needle), "message '%s' does not mention '%s'", regnn_errmsg(), needle);
}

static void expect_ckpt_fail(blob b, regnn_status want, const char *needle)
{
    regnn_model *m = (regnn_model *)1;
    regnn_optimizer *o = (regnn_optimizer *)1;
    regnn_status st = regnn_checkpoint_load_mem(b.p, b.n, &m, &o);
    ck_assert_msg(st == want, "status %d, expected %d: %s", st, want, regnn_errmsg());
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(o);
    ck_assert_msg(has(needle), "message '%s' does not mention '%s'", regnn_errmsg(), needle);
}

static void assert_same_model(const regnn_model *a, const regnn_model *b)
{
    ck_assert_uint_eq(a->n_in, b->n_in);
    ck_assert_uint_eq(a->n_layers, b->n_layers);
    ck_assert_uint_eq(a->n_params, b->n_params);
    for (size_t i = 0; i < a->n_layers; i++) {
        const regnn_layer *x = a->layers[i], *y = b->layers[i];
        ck_assert_uint_eq(x->units, y->units);
        ck_assert_int_eq(x->act, y->act);
        ck_assert(x->l2 == y->l2 && x->l1 == y->l1 && x->dropout == y->dropout);
    }
    ck_assert_mem_eq(a->params, b->params, a->n_params * sizeof(float));
    ck_assert_mem_eq(a->rng.s, b->rng.s, sizeof a->rng.s);
    ck_assert_int_eq(a->scaler != NULL, b->scaler != NULL);
    if (a->scaler) {
        const rg_scaler_stats sv = rg_scaler_view(a->scaler), tv = rg_scaler_view(b->scaler);
        const rg_scaler_stats *s = &sv, *t = &tv;
        ck_assert_uint_eq(s->n_x, t->n_x);
        ck_assert_uint_eq(s->n_y, t->n_y);
        ck_assert_mem_eq(s->x_mean, t->x_mean, s->n_x * sizeof(double));
        ck_assert_mem_eq(s->x_scale, t->x_scale, s->n_x * sizeof(double));
        ck_assert_mem_eq(s->y_mean, t->y_mean, s->n_y * sizeof(double));
        ck_assert_mem_eq(s->y_scale, t->y_scale, s->n_y * sizeof(double));
    }
}

static void assert_same_predictions(const regnn_model *a, const regnn_model *b)
{
    regnn_dataset *ds = synth(64, 99);
    float ya[64], yb[64];
    CK_OK(regnn_model_predict(a, rg_dataset_view(ds).x, 64, ya, 64));
    CK_OK(regnn_model_predict(b, rg_dataset_view(ds).x, 64, yb, 64));
    ck_assert_mem_eq(ya, yb, sizeof ya);
    regnn_dataset_free(ds);
}

static void assert_same_optimizer(const regnn_optimizer *oa, const regnn_optimizer *ob)
{
    const rg_optimizer_settings sa = rg_optimizer_get_settings(oa),
                                sb = rg_optimizer_get_settings(ob), *a = &sa, *b = &sb;
    ck_assert_int_eq(a->kind, b->kind);
    ck_assert(a->lr == b->lr && a->beta1 == b->beta1 && a->beta2 == b->beta2 && a->eps == b->eps);
    ck_assert(a->wd == b->wd && a->momentum == b->momentum && a->nesterov == b->nesterov);
    ck_assert(a->rho == b->rho && a->iacc == b->iacc);
    ck_assert_uint_eq(a->steps, b->steps);
    const float *am, *av, *bm, *bv;
    const size_t n = rg_optimizer_state(oa, &am, &av);
    ck_assert_uint_eq(n, rg_optimizer_state(ob, &bm, &bv));
    if (n) {
        ck_assert_mem_eq(am, bm, n * sizeof(float));
        ck_assert_int_eq(av != NULL, bv != NULL);
        if (av)
            ck_assert_mem_eq(av, bv, n * sizeof(float));
    }
}

/* A fresh directory under TMPDIR (or /tmp); path is written into dir[256]. */
static void make_tmpdir(char dir[256])
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, 256, "%s/regnn_io_XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Number of entries in dir (without . and ..), and how many look like temporary files. */
static int count_entries(const char *dir, int *temps)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0, t = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        n++;
        if (strstr(e->d_name, ".tmp-"))
            t++;
    }
    closedir(d);
    if (temps)
        *temps = t;
    return n;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0)
            remove_tree(path);
    }
    closedir(d);
    rmdir(dir);
}

static blob read_path(const char *path)
{
    blob b = {NULL, 0};
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    b.n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    b.p = malloc(b.n + 1);
    ck_assert_uint_eq(fread(b.p, 1, b.n, f), b.n);
    fclose(f);
    return b;
}

static void write_path(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* ---- CRC ---- */

START_TEST(test_crc32)
{
    ck_assert_uint_eq(rg_crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(rg_crc32(0, "", 0), 0);
    ck_assert_uint_eq(rg_crc32(rg_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
    uint8_t zeros[32] = {0};
    ck_assert_uint_eq(rg_crc32(0, zeros, 32), 0x190A55ADu);
}
END_TEST

/* ---- the golden 1.0 file ---- */

/* The model behind golden_v1: exact parameters, seeded RNG, fitted scaler. */
static regnn_model *golden_model(void)
{
    static const float params[13] = {0.5f,   -1.25f, 2.0f,  0.75f, -0.5f, 1.5f, 0.125f,
                                     -0.25f, 0.0f,   1.0f,  -2.0f, 0.5f,  0.25f};
    static const float x[6] = {0, 1, 2, 3, 4, 8}, y[3] = {1, 3, 5};
    regnn_model *m = NULL;
    regnn_layer *l = NULL;
    regnn_dataset *ds = NULL;
    regnn_scaler *sc = NULL;
    CK_OK(regnn_model_create(2, &m));
    CK_OK(regnn_model_add_dense(m, 3, REGNN_ACT_RELU, &l));
    CK_OK(regnn_layer_set_double(l, REGNN_LAYER_L2, 0.01));
    CK_OK(regnn_layer_set_double(l, REGNN_LAYER_DROPOUT, 0.25));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, &l));
    CK_OK(regnn_layer_set_double(l, REGNN_LAYER_L1, 0.001));
    CK_OK(regnn_model_set_params(m, params, 13));
    CK_OK(regnn_model_seed(m, 42));
    CK_OK(regnn_dataset_from_arrays(x, y, 3, 2, 1, REGNN_COPY, &ds));
    CK_OK(regnn_scaler_fit(ds, REGNN_SCALE_ZSCORE, REGNN_SCALE_ZSCORE, &sc));
    CK_OK(regnn_model_attach_scaler(m, sc));
    regnn_scaler_free(sc);
    regnn_dataset_free(ds);
    return m;
}

/* Written by format version 1.0 (docs/format.md). A change here breaks every saved model. */
static const uint8_t golden_v1[332] = {
    0x89, 0x52, 0x47, 0x4E, 0x4E, 0x0D, 0x0A, 0x1A, 0x01, 0x00, 0x00, 0x00, 0x34, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x54, 0x4F, 0x50, 0x4F, 0x01, 0x00, 0x00, 0x00, 0x58, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x7B, 0x14, 0xAE, 0x47, 0xE1, 0x7A, 0x84, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xD0, 0x3F, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFC, 0xA9, 0xF1, 0xD2,
    0x4D, 0x62, 0x50, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50, 0x41, 0x52, 0x4D,
    0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0D, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0xA0, 0xBF, 0x00, 0x00, 0x00, 0x40,
    0x00, 0x00, 0x40, 0x3F, 0x00, 0x00, 0x00, 0xBF, 0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x00, 0x3E,
    0x00, 0x00, 0x80, 0xBE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0,
    0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x80, 0x3E, 0x53, 0x43, 0x41, 0x4C, 0x01, 0x00, 0x00, 0x00,
    0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x40, 0x3E, 0x2C, 0x0C, 0x70, 0xBD, 0x20, 0xFA, 0x3F,
    0xAF, 0x96, 0x92, 0x14, 0x26, 0x8D, 0x07, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x40,
    0x3E, 0x2C, 0x0C, 0x70, 0xBD, 0x20, 0xFA, 0x3F, 0x52, 0x4E, 0x47, 0x20, 0x01, 0x00, 0x00, 0x00,
    0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xD8, 0xF5, 0x25, 0x7C, 0x2B, 0x07, 0x8E,
    0x2D, 0xFE, 0xCB, 0x7F, 0x41, 0x11, 0xE8, 0x9D, 0x25, 0x66, 0x55, 0x7B, 0x78, 0x3C, 0xD8, 0x77,
    0xBD, 0x77, 0x0B, 0x87, 0x80, 0x04, 0x89, 0x76, 0xCB, 0x10, 0x34, 0x1F,
};

static blob golden(void)
{
    blob b = {malloc(sizeof golden_v1 + 1), sizeof golden_v1};
    memcpy(b.p, golden_v1, sizeof golden_v1);
    return b;
}

START_TEST(test_golden_v1)
{
    /* Loads, describes the model it was written from, and re-saves byte for byte. */
    regnn_model *g = NULL;
    CK_OK(regnn_model_load_mem(golden_v1, sizeof golden_v1, &g));
    regnn_model *ref = golden_model();
    assert_same_model(ref, g);
    ck_assert_uint_eq(regnn_model_inputs(g), 2);
    ck_assert_uint_eq(regnn_model_outputs(g), 1);
    double v;
    CK_OK(regnn_layer_get_double(regnn_model_layer(g, 0), REGNN_LAYER_DROPOUT, &v));
    ck_assert(v == 0.25);
    CK_OK(regnn_layer_get_double(regnn_model_layer(g, 1), REGNN_LAYER_L1, &v));
    ck_assert(v == 0.001);
    /* W1 = [[0.5, -1.25, 2], [0.75, -0.5, 1.5]], b1 = [0.125, -0.25, 0], W2 = [1, -2, 0.5],
     * b2 = 0.25: relu([1, 2] W1 + b1) = [2.125, 0, 5], then 2.125 + 2.5 + 0.25 = 4.875 */
    float x[2] = {1, 2}, y[1];
    CK_OK(regnn_model_predict(g, x, 1, y, 1));
    ck_assert_float_eq(y[0], 4.875f);
    regnn_scaler *sc = NULL;
    CK_OK(regnn_model_get_scaler(g, &sc));
    double mean[2], scale[1];
    CK_OK(regnn_scaler_get(sc, REGNN_STAT_FEATURE_MEAN, mean, 2));
    ck_assert(mean[0] == 2.0 && mean[1] == 4.0);
    CK_OK(regnn_scaler_get(sc, REGNN_STAT_TARGET_MEAN, scale, 1));
    ck_assert(scale[0] == 3.0);
    regnn_scaler_free(sc);
    blob b = encode(g, NULL);
    ck_assert_uint_eq(b.n, sizeof golden_v1);
    ck_assert_mem_eq(b.p, golden_v1, b.n);
    free(b.p);
    /* The same model built today writes the same bytes. */
    b = encode(ref, NULL);
    ck_assert_mem_eq(b.p, golden_v1, sizeof golden_v1);
    free(b.p);
    regnn_model_free(ref);
    regnn_model_free(g);
}
END_TEST

/* ---- scaler attachment ---- */

START_TEST(test_scaler_attach)
{
    regnn_model *m = net(8, 0.0, 0, 1);
    regnn_scaler *sc = (regnn_scaler *)1;
    CK_STATUS(regnn_model_get_scaler(m, &sc), REGNN_E_STATE);
    ck_assert_ptr_null(sc);
    ck_assert(has("no scaler"));
    regnn_dataset *ds = synth(40, 3);
    CK_OK(regnn_scaler_fit(ds, REGNN_SCALE_ZSCORE, REGNN_SCALE_ZSCORE, &sc));
    CK_OK(regnn_model_attach_scaler(m, sc));
    CK_OK(regnn_model_attach_scaler(m, sc)); /* replaces */
    regnn_scaler *got = NULL;
    CK_OK(regnn_model_get_scaler(m, &got));
    ck_assert_ptr_ne(got, sc);
    ck_assert_ptr_ne(got, m->scaler);
    ck_assert_uint_eq(regnn_scaler_features(got), 3);
    ck_assert_uint_eq(regnn_scaler_targets(got), 1);
    ck_assert_mem_eq(rg_scaler_view(got).x_scale, rg_scaler_view(sc).x_scale, 3 * sizeof(double));
    regnn_scaler_free(got);
    /* copies carry their own statistics */
    regnn_model *c = NULL;
    CK_OK(regnn_model_copy(m, &c));
    ck_assert_ptr_nonnull(c->scaler);
    ck_assert_ptr_ne(c->scaler, m->scaler);
    assert_same_model(m, c);
    regnn_model_free(c);
    /* detach */
    CK_OK(regnn_model_attach_scaler(m, NULL));
    ck_assert_ptr_null(m->scaler);
    CK_STATUS(regnn_model_get_scaler(m, &got), REGNN_E_STATE);
    /* shape and values are checked */
    regnn_model *wide = NULL;
    CK_OK(regnn_model_create(4, &wide));
    CK_STATUS(regnn_model_attach_scaler(wide, sc), REGNN_E_SHAPE);
    ck_assert(has("4 inputs"));
    regnn_model_free(wide);
    regnn_model *empty = NULL;
    CK_OK(regnn_model_create(3, &empty));
    CK_STATUS(regnn_model_attach_scaler(empty, sc), REGNN_E_SHAPE);
    regnn_model_free(empty);
    /* the scaler's own storage, written to plant bad values */
    double *x_scale = (double *)rg_scaler_view(sc).x_scale;
    double *y_mean = (double *)rg_scaler_view(sc).y_mean;
    x_scale[1] = 0.0;
    CK_STATUS(regnn_model_attach_scaler(m, sc), REGNN_E_NUMERIC);
    ck_assert(has("feature scale 1"));
    x_scale[1] = 1.0;
    y_mean[0] = NAN;
    CK_STATUS(regnn_model_attach_scaler(m, sc), REGNN_E_NUMERIC);
    ck_assert(has("target mean 0"));
    ck_assert_ptr_null(m->scaler);
    CK_STATUS(regnn_model_attach_scaler(NULL, sc), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_get_scaler(m, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_get_scaler(NULL, &got), REGNN_E_INVALID_ARG);
    regnn_scaler_free(sc);
    regnn_dataset_free(ds);
    regnn_model_free(m);
}
END_TEST

/* ---- round trips ---- */

START_TEST(test_mem_roundtrip)
{
    for (int with_scaler = 0; with_scaler <= 1; with_scaler++) {
        regnn_model *m = net(16, 0.2, with_scaler, 5);
        CK_OK(regnn_model_seed(m, 77));
        size_t need = 0;
        CK_OK(regnn_model_save_mem(m, NULL, 0, &need));
        ck_assert_uint_gt(need, regnn_model_param_count(m) * 4);
        uint8_t *buf = malloc(need + 8);
        size_t got = 0;
        /* too small: the needed size is still reported */
        CK_STATUS(regnn_model_save_mem(m, buf, need - 1, &got), REGNN_E_SHAPE);
        ck_assert_uint_eq(got, need);
        ck_assert(has("buffer"));
        CK_OK(regnn_model_save_mem(m, buf, need + 8, &got));
        ck_assert_uint_eq(got, need);
        /* little-endian header, whatever the host */
        static const uint8_t magic[8] = {0x89, 'R', 'G', 'N', 'N', '\r', '\n', 0x1A};
        ck_assert_mem_eq(buf, magic, 8);
        ck_assert_uint_eq(get_le(buf + 8, 2), REGNN_FORMAT_VERSION_MAJOR);
        ck_assert_uint_eq(get_le(buf + 10, 2), 0); /* nothing of 1.1: a 1.0 file */
        ck_assert_uint_eq(get_le(buf + 12, 8), need - 24);
        ck_assert_uint_eq(get_le(buf + need - 4, 4), rg_crc32(0, buf, need - 4));

        regnn_model *l = NULL;
        CK_OK(regnn_model_load_mem(buf, need, &l));
        assert_same_model(m, l);
        assert_same_predictions(m, l);
        blob again = encode(l, NULL);
        ck_assert_uint_eq(again.n, need);
        ck_assert_mem_eq(again.p, buf, need);
        /* the loaded model trains like the original (same RNG stream too) */
        regnn_dataset *ds = synth(64, 8);
        regnn_optimizer *o1 = NULL, *o2 = NULL;
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o1));
        CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o2));
        CK_OK(regnn_fit(m, o1, ds, NULL, NULL, NULL));
        CK_OK(regnn_fit(l, o2, ds, NULL, NULL, NULL));
        assert_same_model(m, l);
        regnn_optimizer_free(o1);
        regnn_optimizer_free(o2);
        regnn_dataset_free(ds);
        free(again.p);
        free(buf);
        regnn_model_free(l);
        regnn_model_free(m);
    }
}
END_TEST

START_TEST(test_file_roundtrip)
{
    char dir[256], p1[300], p2[300];
    make_tmpdir(dir);
    snprintf(p1, sizeof p1, "%s/model.rgn", dir);
    snprintf(p2, sizeof p2, "%s/again.rgn", dir);
    regnn_model *m = net(12, 0.1, 1, 9);
    CK_OK(regnn_model_save(m, p1));
    regnn_model *l = NULL;
    CK_OK(regnn_model_load(p1, &l));
    assert_same_model(m, l);
    assert_same_predictions(m, l);
    CK_OK(regnn_model_save(l, p2));
    blob a = read_path(p1), b = read_path(p2), c = encode(m, NULL);
    ck_assert_uint_eq(a.n, b.n);
    ck_assert_mem_eq(a.p, b.p, a.n);
    ck_assert_uint_eq(a.n, c.n);
    ck_assert_mem_eq(a.p, c.p, a.n);
    /* overwriting replaces the file and keeps its permissions; no temporary file is left */
    ck_assert_int_eq(chmod(p1, 0640), 0);
    regnn_model *other = net(5, 0.0, 0, 10);
    CK_OK(regnn_model_save(other, p1));
    struct stat st;
    ck_assert_int_eq(stat(p1, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
    regnn_model *l2 = NULL;
    CK_OK(regnn_model_load(p1, &l2));
    assert_same_model(other, l2);
    int temps = -1;
    ck_assert_int_eq(count_entries(dir, &temps), 2);
    ck_assert_int_eq(temps, 0);
    /* a path without a folder part saves into the working directory */
    char cwd[512];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(dir), 0);
    CK_OK(regnn_model_save(m, "plain.rgn"));
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert_int_eq(count_entries(dir, &temps), 3);
    free(a.p);
    free(b.p);
    free(c.p);
    regnn_model_free(l2);
    regnn_model_free(other);
    regnn_model_free(l);
    regnn_model_free(m);
    remove_tree(dir);
}
END_TEST

/* ---- checkpoints ---- */

static regnn_fit_options *fit_opts(int64_t epochs)
{
    regnn_fit_options *o = NULL;
    CK_OK(regnn_fit_options_create(&o));
    CK_OK(regnn_fit_options_set_int(o, REGNN_FIT_EPOCHS, epochs));
    CK_OK(regnn_fit_options_set_int(o, REGNN_FIT_BATCH_SIZE, 16));
    CK_OK(regnn_fit_options_set_int(o, REGNN_FIT_EVAL_TRAIN, 1));
    CK_OK(regnn_fit_options_set_double(o, REGNN_FIT_VALIDATION_SPLIT, 0.2));
    return o;
}

static regnn_optimizer *make_opt(int kind)
{
    regnn_optimizer *o = NULL;
    CK_OK(regnn_optimizer_create(kind, &o));
    if (kind == REGNN_OPTIM_SGD) {
        CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.05));
        CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_MOMENTUM, 0.9));
        CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_NESTEROV, 1));
    } else {
        CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_LEARNING_RATE, 0.01));
        if (kind == REGNN_OPTIM_RMSPROP)
            CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_RHO, 0.8));
        else if (kind == REGNN_OPTIM_ADAGRAD)
            CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_INITIAL_ACCUMULATOR, 0.05));
        else
            CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_BETA2, 0.99));
    }
    CK_OK(regnn_optimizer_set_double(o, REGNN_OPT_WEIGHT_DECAY, 1e-4));
    return o;
}

/* Fit N+M epochs in one go, and N epochs, checkpoint, load into new handles,
 * M epochs: parameters, optimizer, RNG and history must agree bit for bit. */
static void resume_case(int kind, int via_file, const char *dir)
{
    enum { N = 3, M = 4 };
    regnn_dataset *ds = synth(237, 21); /* 189 training rows: a partial last batch */
    regnn_model *a = net(16, 0.2, 0, 31), *b = net(16, 0.2, 1, 31);
    regnn_optimizer *oa = make_opt(kind), *ob = make_opt(kind);
    regnn_fit_options *f_all = fit_opts(N + M), *f_n = fit_opts(N), *f_m = fit_opts(M);
    regnn_history *ha = NULL, *h1 = NULL, *h2 = NULL;
    CK_OK(regnn_fit(a, oa, ds, NULL, f_all, &ha));
    CK_OK(regnn_fit(b, ob, ds, NULL, f_n, &h1));

    regnn_model *b2 = NULL;
    regnn_optimizer *ob2 = NULL;
    if (via_file) {
        char path[300];
        snprintf(path, sizeof path, "%s/ckpt-%d.rgn", dir, kind);
        CK_OK(regnn_checkpoint_save(b, ob, path));
        CK_OK(regnn_checkpoint_load(path, &b2, &ob2));
    } else {
        blob c = encode(b, ob);
        CK_OK(regnn_checkpoint_load_mem(c.p, c.n, &b2, &ob2));
        blob again = encode(b2, ob2);
        ck_assert_uint_eq(again.n, c.n);
        ck_assert_mem_eq(again.p, c.p, c.n);
        free(again.p);
        free(c.p);
    }
    assert_same_model(b, b2);
    assert_same_optimizer(ob, ob2);
    regnn_model_free(b);
    regnn_optimizer_free(ob);
    CK_OK(regnn_fit(b2, ob2, ds, NULL, f_m, &h2));

    ck_assert_mem_eq(a->params, b2->params, a->n_params * sizeof(float));
    ck_assert_mem_eq(a->rng.s, b2->rng.s, sizeof a->rng.s);
    assert_same_optimizer(oa, ob2);
    ck_assert_uint_eq(regnn_history_epochs(ha), N + M);
    ck_assert_uint_eq(regnn_history_epochs(h1), N);
    ck_assert_uint_eq(regnn_history_epochs(h2), M);
    for (int metric = 1; metric <= RG_N_METRICS; metric++) {
        if (metric == REGNN_METRIC_SECONDS)
            continue;
        double all[N + M], part[N + M];
        CK_OK(regnn_history_get(ha, metric, all, N + M));
        CK_OK(regnn_history_get(h1, metric, part, N));
        CK_OK(regnn_history_get(h2, metric, part + N, M));
        ck_assert_msg(memcmp(all, part, sizeof all) == 0, "metric %d differs (kind %d, file %d)",
                      metric, kind, via_file);
    }
    regnn_history_free(ha);
    regnn_history_free(h1);
    regnn_history_free(h2);
    regnn_fit_options_free(f_all);
    regnn_fit_options_free(f_n);
    regnn_fit_options_free(f_m);
    regnn_model_free(a);
    regnn_model_free(b2);
    regnn_optimizer_free(oa);
    regnn_optimizer_free(ob2);
    regnn_dataset_free(ds);
}

START_TEST(test_checkpoint_resume)
{
    char dir[256];
    make_tmpdir(dir);
    resume_case(REGNN_OPTIM_ADAM, 0, dir);
    resume_case(REGNN_OPTIM_ADAM, 1, dir);
    resume_case(REGNN_OPTIM_SGD, 0, dir);
    resume_case(REGNN_OPTIM_SGD, 1, dir);
    for (int kind = REGNN_OPTIM_RMSPROP; kind <= REGNN_OPTIM_NADAM; kind++) {
        resume_case(kind, 0, dir);
        resume_case(kind, 1, dir);
    }
    remove_tree(dir);
}
END_TEST

/* A checkpoint of an optimizer or schedule kind of version 1.1 carries the
 * required section OPTK (rho, initial accumulator), which a reader that does
 * not know it refuses with REGNN_E_VERSION; other checkpoints have none. */
START_TEST(test_optk_section)
{
    regnn_model *m = net(6, 0.0, 0, 2);
    regnn_optimizer *adam = make_opt(REGNN_OPTIM_ADAM), *rms = make_opt(REGNN_OPTIM_RMSPROP);
    const double ex[3] = {0.01, 10, 0.5};
    CK_OK(regnn_optimizer_set_schedule(adam, REGNN_SCHEDULE_EXPONENTIAL, ex, 3));
    blob a = encode(m, adam), r = encode(m, rms);
    ck_assert_uint_eq(sec_find(&a, "OPTK"), 0);
    const size_t at = sec_find(&r, "OPTK");
    ck_assert_uint_ne(at, 0);
    ck_assert_uint_eq(get_le(r.p + at + 4, 4), 1); /* required */
    ck_assert_uint_eq(get_le(r.p + at + 8, 8), 16);
    double rho;
    uint64_t u = get_le(r.p + at + 16, 8);
    memcpy(&rho, &u, 8);
    ck_assert_double_eq(rho, 0.8);
    /* a reader without OPTK among its sections (as 1.0) */
    blob b = blob_copy(r);
    memcpy(b.p + at, "OPTQ", 4);
    blob_fix(&b);
    expect_ckpt_fail(b, REGNN_E_VERSION, "unknown required section 'OPTQ'");
    free(b.p);
    /* OPTK out of range, missing, or where no kind needs it */
    b = blob_copy(r);
    put_f64le(b.p + at + 16, 1.0);
    blob_fix(&b);
    expect_ckpt_fail(b, REGNN_E_FORMAT, "section OPTK: rho 1");
    free(b.p);
    b = blob_copy(r);
    put_f64le(b.p + at + 24, -1.0);
    blob_fix(&b);
    expect_ckpt_fail(b, REGNN_E_FORMAT, "initial accumulator -1");
    free(b.p);
    b = blob_copy(r);
    blob_splice(&b, at, 32, NULL, 0);
    blob_fix(&b);
    expect_ckpt_fail(b, REGNN_E_FORMAT, "(RMSprop) needs section 'OPTK'");
    free(b.p);
    b = blob_copy(a);
    blob_splice(&b, b.n - 4, 0, r.p + at, 32);
    blob_fix(&b);
    expect_ckpt_fail(b, REGNN_E_FORMAT, "do not use it");
    free(b.p);
    free(a.p);
    free(r.p);
    regnn_optimizer_free(adam);
    regnn_optimizer_free(rms);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_checkpoint_kinds)
{
    regnn_model *m = net(6, 0.0, 0, 2);
    /* an optimizer that never stepped: kind and hyperparameters only */
    regnn_optimizer *o = make_opt(REGNN_OPTIM_SGD);
    blob c = encode(m, o);
    regnn_model *m2 = NULL;
    regnn_optimizer *o2 = NULL;
    CK_OK(regnn_checkpoint_load_mem(c.p, c.n, &m2, &o2));
    assert_same_optimizer(o, o2);
    ck_assert_uint_eq(regnn_optimizer_state_size(o2), 0);
    regnn_model_free(m2);
    regnn_optimizer_free(o2);
    /* a model file is not a checkpoint, but a checkpoint holds a model */
    blob f = encode(m, NULL);
    expect_ckpt_fail(f, REGNN_E_FORMAT, "OPTM");
    CK_OK(regnn_model_load_mem(c.p, c.n, &m2));
    assert_same_model(m, m2);
    regnn_model_free(m2);
    /* an optimizer bound to another model is refused */
    regnn_model *big = net(9, 0.0, 0, 2);
    regnn_dataset *ds = synth(20, 1);
    CK_OK(regnn_fit(big, o, ds, NULL, NULL, NULL));
    size_t n = 0;
    CK_STATUS(regnn_checkpoint_save_mem(m, o, NULL, 0, &n), REGNN_E_SHAPE);
    ck_assert_uint_eq(n, 0);
    ck_assert(has("optimizer"));
    CK_STATUS(regnn_checkpoint_save(m, o, "/nonexistent/x"), REGNN_E_SHAPE);
    free(c.p);
    free(f.p);
    regnn_dataset_free(ds);
    regnn_model_free(big);
    regnn_optimizer_free(o);
    regnn_model_free(m);
}
END_TEST

/* ---- malformed input ---- */

START_TEST(test_truncation)
{
    regnn_model *m = net(4, 0.1, 1, 3);
    regnn_optimizer *o = make_opt(REGNN_OPTIM_ADAM);
    regnn_dataset *ds = synth(20, 1);
    CK_OK(regnn_fit(m, o, ds, NULL, NULL, NULL));
    blob files[2] = {encode(m, NULL), encode(m, o)};
    for (int k = 0; k < 2; k++) {
        blob f = files[k];
        for (size_t len = 0; len < f.n; len++) {
            /* a fresh allocation of exactly len bytes, so ASan/valgrind see any over-read */
            uint8_t *p = malloc(len ? len : 1);
            memcpy(p, f.p, len);
            regnn_model *l = (regnn_model *)1;
            CK_STATUS(regnn_model_load_mem(p, len, &l), REGNN_E_FORMAT);
            ck_assert_ptr_null(l);
            ck_assert_msg(has("truncated"), "length %zu: %s", len, regnn_errmsg());
            regnn_optimizer *lo = (regnn_optimizer *)1;
            CK_STATUS(regnn_checkpoint_load_mem(p, len, &l, &lo), REGNN_E_FORMAT);
            ck_assert_ptr_null(l);
            ck_assert_ptr_null(lo);
            free(p);
        }
        /* and one byte too many */
        blob g = blob_copy(f);
        blob_splice(&g, g.n, 0, "x", 1);
        expect_model_fail(g, REGNN_E_FORMAT, "trailing");
        free(g.p);
    }
    free(files[0].p);
    free(files[1].p);
    regnn_dataset_free(ds);
    regnn_optimizer_free(o);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_bit_flips)
{
    /* every single-bit flip of the golden model and of a small checkpoint */
    regnn_model *m = net(3, 0.0, 0, 4);
    regnn_optimizer *o = make_opt(REGNN_OPTIM_ADAM);
    regnn_dataset *ds = synth(10, 1);
    CK_OK(regnn_fit(m, o, ds, NULL, NULL, NULL));
    blob files[2] = {golden(), encode(m, o)};
    long flips = 0;
    for (int k = 0; k < 2; k++) {
        blob f = files[k];
        for (size_t i = 0; i < f.n; i++)
            for (int bit = 0; bit < 8; bit++) {
                f.p[i] ^= (uint8_t)(1u << bit);
                regnn_model *l = (regnn_model *)1;
                regnn_optimizer *lo = (regnn_optimizer *)1;
                regnn_status st = regnn_model_load_mem(f.p, f.n, &l);
                ck_assert_msg(st == REGNN_E_FORMAT || st == REGNN_E_VERSION,
                              "flip of bit %d of byte %zu -> %d: %s", bit, i, st, regnn_errmsg());
                ck_assert_ptr_null(l);
                st = regnn_checkpoint_load_mem(f.p, f.n, &l, &lo);
                ck_assert(st == REGNN_E_FORMAT || st == REGNN_E_VERSION);
                ck_assert_ptr_null(l);
                ck_assert_ptr_null(lo);
                f.p[i] ^= (uint8_t)(1u << bit);
                flips++;
            }
    }
    ck_assert_int_eq(flips, 8 * (long)(files[0].n + files[1].n));
    free(files[0].p);
    free(files[1].p);
    regnn_dataset_free(ds);
    regnn_optimizer_free(o);
    regnn_model_free(m);
}
END_TEST

START_TEST(test_header_errors)
{
    blob b = golden();
    /* wrong checksum */
    b.p[b.n - 1] ^= 0x40;
    expect_model_fail(b, REGNN_E_FORMAT, "checksum");
    b.p[b.n - 1] ^= 0x40;
    /* a flipped bit in a parameter is caught by the checksum */
    b.p[150] ^= 0x01;
    expect_model_fail(b, REGNN_E_FORMAT, "checksum");
    b.p[150] ^= 0x01;
    /* wrong magic, e.g. a CSV file */
    blob csv = {(uint8_t *)"x0,x1,y\n1,2,3\n4,5,6\n7,8,9\n", 26};
    expect_model_fail(csv, REGNN_E_FORMAT, "magic");
    b.p[1] = 'r';
    expect_model_fail(b, REGNN_E_FORMAT, "magic");
    b.p[1] = 'R';
    /* a newer major version, with or without a valid checksum */
    put_le(b.p + 8, 2, 2);
    expect_model_fail(b, REGNN_E_VERSION, "2.0");
    blob_fix(&b);
    expect_model_fail(b, REGNN_E_VERSION, "version 2.0");
    expect_ckpt_fail(b, REGNN_E_VERSION, "newer");
    put_le(b.p + 8, 0, 2);
    blob_fix(&b);
    expect_model_fail(b, REGNN_E_FORMAT, "version 0");
    /* a newer minor version of major 1 is read */
    put_le(b.p + 8, 1, 2);
    put_le(b.p + 10, 7, 2);
    blob_fix(&b);
    regnn_model *m = NULL;
    CK_OK(regnn_model_load_mem(b.p, b.n, &m));
    regnn_model_free(m);
    /* the header's length disagrees with the file */
    blob c = golden();
    put_le(c.p + 12, 1000, 8);
    expect_model_fail(c, REGNN_E_FORMAT, "truncated");
    put_le(c.p + 12, (uint64_t)1 << 62, 8);
    expect_model_fail(c, REGNN_E_FORMAT, "truncated");
    put_le(c.p + 12, 100, 8);
    expect_model_fail(c, REGNN_E_FORMAT, "trailing");
    free(c.p);
    free(b.p);
}
END_TEST

/* Load with allocation counting: the input must be refused before any allocation. */
static void expect_refused_without_alloc(blob b, const char *needle)
{
    regnn__test_alloc_fail_at(0, 0); /* resets the attempt counter */
    long live = regnn__test_alloc_live();
    expect_model_fail(b, REGNN_E_FORMAT, needle);
    ck_assert_int_eq(regnn__test_alloc_count(), 0);
    regnn_model *m = (regnn_model *)1;
    regnn_optimizer *o = (regnn_optimizer *)1;
    ck_assert_int_ne(regnn_checkpoint_load_mem(b.p, b.n, &m, &o), REGNN_OK);
    ck_assert_int_eq(regnn__test_alloc_count(), 0);
    ck_assert_int_eq(regnn__test_alloc_live(), live);
}

/* Offsets in the golden file: TOPO payload at 36 (n_inputs), 44 (n_layers),
 * layer 0 at 52 (units 52, activation 60, l2 64, l1 72, dropout 80), layer 1 at 88;
 * PARM header at 124, count at 140, values from 148. */
START_TEST(test_absurd_sizes)
{
    const uint64_t big = (uint64_t)1 << 40;
    struct {
        size_t at;
        uint64_t v;
        const char *needle;
    } cases[] = {
        {36, big, "1099511627776 inputs"},       /* n_inputs */
        {44, big, "1099511627776 layers"},       /* n_layers */
        {44, UINT64_MAX, "layers announced"},    /* n_layers that overflows any product */
        {52, big, "layer 0 has 1099511627776 units"},
        {88, big, "layer 1 has 1099511627776 units"},
        {52, (uint64_t)1 << 24, "PARM holds 13"}, /* a legal width the parameters do not match */
        {140, big, "PARM holds 1099511627776"},  /* parameter count */
        {140, UINT64_MAX, "PARM holds"},
        {28, big, "announces 1099511627776 bytes"}, /* section lengths */
        {28, UINT64_MAX, "announces"},
        {132, big, "announces 1099511627776 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        blob b = golden();
        put_le(b.p + cases[i].at, cases[i].v, 8);
        blob_fix(&b);
        expect_refused_without_alloc(b, cases[i].needle);
        free(b.p);
    }
    /* 2^24 x 2^24 layers: each legal, together 2^48 parameters; refused by the count */
    blob b = golden();
    put_le(b.p + 36, (uint64_t)1 << 24, 8);
    put_le(b.p + 52, (uint64_t)1 << 24, 8);
    blob_fix(&b);
    expect_refused_without_alloc(b, "PARM holds 13 parameters, the topology has");
    free(b.p);
    /* 2^14 such layers: the parameter count itself would overflow 2^62 */
    const size_t layers = (size_t)1 << 14, topo = 16 + 36 * layers;
    uint8_t *t = calloc(topo, 1);
    put_le(t, (uint64_t)1 << 24, 8);
    put_le(t + 8, layers, 8);
    for (size_t i = 0; i < layers; i++)
        put_le(t + 16 + 36 * i, (uint64_t)1 << 24, 8);
    b = golden();
    blob_splice(&b, 36, 88, t, topo);
    put_le(b.p + 28, topo, 8);
    blob_fix(&b);
    expect_refused_without_alloc(b, "too many parameters");
    free(b.p);
    free(t);
}
END_TEST

/* Loading costs memory in proportion to the input: wide, deep and narrow
 * models and a checkpoint each allocate at most 4 bytes per byte loaded. */
START_TEST(test_load_memory_bounded)
{
    static const size_t shapes[][4] = {{1, 1, 1, 0}, {5000, 1, 0, 0}, {1, 1000, 1, 0}, {1, 1, 1, 1}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int ckpt = 0; ckpt < 2; ckpt++) {
            regnn_model *m = NULL, *q = NULL;
            regnn_optimizer *o = NULL, *qo = NULL;
            CK_OK(regnn_model_create(shapes[i][0], &m));
            for (int k = 1; k < 4 && shapes[i][k]; k++)
                CK_OK(regnn_model_add_dense(m, shapes[i][k], REGNN_ACT_RELU, NULL));
            CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 1));
            CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
            size_t n = 0;
            if (ckpt)
                CK_OK(regnn_checkpoint_save_mem(m, o, NULL, 0, &n));
            else
                CK_OK(regnn_model_save_mem(m, NULL, 0, &n));
            void *b = malloc(n);
            if (ckpt)
                CK_OK(regnn_checkpoint_save_mem(m, o, b, n, &n));
            else
                CK_OK(regnn_model_save_mem(m, b, n, &n));
            regnn__test_alloc_fail_at(0, 0);
            if (ckpt)
                CK_OK(regnn_checkpoint_load_mem(b, n, &q, &qo));
            else
                CK_OK(regnn_model_load_mem(b, n, &q));
            const size_t bytes = regnn__test_alloc_bytes();
            ck_assert_msg(bytes <= 4 * n, "shape %zu ckpt %d: %zu bytes for %zu", i, ckpt, bytes, n);
            free(b);
            regnn_model_free(q);
            regnn_optimizer_free(qo);
            regnn_model_free(m);
            regnn_optimizer_free(o);
        }
}
END_TEST

START_TEST(test_bad_values)
{
    struct {
        size_t at;
        int bytes;
        uint64_t v;
        int is_f64;
        double d;
        const char *needle;
    } cases[] = {
        {60, 4, 7, 0, 0, "unknown activation code 7"},
        {60, 4, 0xFFFFFFFFu, 0, 0, "unknown activation code 4294967295"},
        {64, 8, 0, 1, -1.0, "L2 -1"},
        {72, 8, 0, 1, INFINITY, "L1 inf"},
        {80, 8, 0, 1, 1.0, "dropout 1"},
        {80, 8, 0, 1, NAN, "dropout"},
        {36, 8, 0, 0, 0, "0 inputs"},
        {52, 8, 0, 0, 0, "layer 0 has 0 units"},
        {36, 8, 3, 0, 0, "PARM holds 13 parameters, the topology has 16"},
        {216, 8, 3, 0, 0, "SCAL has 3 features and 1 targets"},
        {224, 8, 5, 0, 0, "SCAL has 2 features and 5 targets"},
        {248, 8, 0, 1, 0.0, "feature scale 0 is 0"},
        {264, 8, 0, 1, -INFINITY, "target mean 0"},
        {24, 4, 0, 0, 0, ""}, /* required flag cleared on a known section: still read */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        blob b = golden();
        if (cases[i].is_f64)
            put_f64le(b.p + cases[i].at, cases[i].d);
        else
            put_le(b.p + cases[i].at, cases[i].v, cases[i].bytes);
        blob_fix(&b);
        if (cases[i].needle[0]) {
            expect_model_fail(b, REGNN_E_FORMAT, cases[i].needle);
        } else {
            regnn_model *m = NULL;
            CK_OK(regnn_model_load_mem(b.p, b.n, &m));
            regnn_model_free(m);
        }
        free(b.p);
    }
    /* non-finite parameters */
    blob b = golden();
    put_f32le(b.p + 148 + 4 * 5, NAN);
    blob_fix(&b);
    expect_model_fail(b, REGNN_E_FORMAT, "parameter 5 is NaN");
    put_f32le(b.p + 148 + 4 * 12, -INFINITY);
    put_f32le(b.p + 148 + 4 * 5, 1.0f);
    blob_fix(&b);
    expect_model_fail(b, REGNN_E_FORMAT, "parameter 12");
    free(b.p);
    /* an RNG state xoshiro can never reach */
    b = golden();
    size_t r = sec_find(&b, "RNG ");
    ck_assert_uint_gt(r, 0);
    memset(b.p + r + 16, 0, 32);
    blob_fix(&b);
    expect_model_fail(b, REGNN_E_FORMAT, "all zero");
    free(b.p);
}
END_TEST

/* A golden-like checkpoint: the golden model plus an Adam optimizer with state. */
static blob golden_checkpoint(void)
{
    regnn_model *m = golden_model();
    regnn_optimizer *o = make_opt(REGNN_OPTIM_ADAM);
    float x[4] = {1, 2, 3, 4}, y[2] = {1, -1};
    CK_OK(regnn_train_batch(m, o, x, y, 2, NULL));
    blob c = encode(m, o);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    return c;
}

START_TEST(test_bad_optimizer)
{
    blob ref = golden_checkpoint();
    size_t at = sec_find(&ref, "OPTM");
    ck_assert_uint_gt(at, 0);
    const size_t p = at + 16; /* payload: kind 0, nesterov 4, lr 8, beta1 16, beta2 24,
                                 eps 32, wd 40, momentum 48, steps 56, n 64, state 72 */
    struct {
        size_t off;
        int bytes;
        uint64_t v;
        int is_f;
        double d;
        const char *needle;
    } cases[] = {
        {0, 4, 9, 0, 0, "unknown optimizer kind 9"},
        {0, 4, 0, 0, 0, "unknown optimizer kind 0"},
        {4, 4, 2, 0, 0, "nesterov flag 2"},
        {8, 8, 0, 1, 0.0, "learning rate 0"},
        {8, 8, 0, 1, NAN, "learning rate"},
        {16, 8, 0, 1, 1.0, "beta1 1"},
        {24, 8, 0, 1, -0.5, "beta2 -0.5"},
        {32, 8, 0, 1, 0.0, "epsilon 0"},
        {40, 8, 0, 1, INFINITY, "weight decay inf"},
        {48, 8, 0, 1, 2.0, "momentum 2"},
        /* accepted by the old reader, but they can only give NaN: same ranges as the setters */
        {32, 8, 0, 1, 1e-50, "REGNN_OPT_EPSILON must be in"},
        {8, 8, 0, 1, 1e300, "REGNN_OPT_LEARNING_RATE must be in"},
        {40, 8, 0, 1, 1e308, "weight decay must be in [0, 1/learning rate]"},
        {56, 8, UINT64_MAX, 0, 0, "step count must be <= 2^53"},
        {56, 8, ((uint64_t)1 << 53) + 1, 0, 0, "step count must be <= 2^53"},
        {64, 8, 12, 0, 0, "state for 12 parameters"},
        {64, 8, (uint64_t)1 << 40, 0, 0, "state for 1099511627776"},
        {64, 8, 0, 0, 0, "OPTM has"}, /* unbound, but state bytes follow */
        {72, 4, 0x7FC00000u, 0, 0, "state value 0 is NaN"},
        {72 + 4 * 13, 4, 0xBF800000u, 0, 0, "second moment 0 is -1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        blob b = blob_copy(ref);
        if (cases[i].is_f)
            put_f64le(b.p + p + cases[i].off, cases[i].d);
        else
            put_le(b.p + p + cases[i].off, cases[i].v, cases[i].bytes);
        blob_fix(&b);
        expect_ckpt_fail(b, REGNN_E_FORMAT, cases[i].needle);
        /* the model loader validates the optimizer section too */
        expect_model_fail(b, REGNN_E_FORMAT, cases[i].needle);
        free(b.p);
    }
    /* steps may be anything up to 2^53, the setter's limit */
    blob b = blob_copy(ref);
    put_le(b.p + p + 56, (uint64_t)1 << 53, 8);
    blob_fix(&b);
    regnn_model *m = NULL;
    regnn_optimizer *o = NULL;
    CK_OK(regnn_checkpoint_load_mem(b.p, b.n, &m, &o));
    ck_assert_uint_eq(regnn_optimizer_steps(o), (uint64_t)1 << 53);
    regnn_model_free(m);
    regnn_optimizer_free(o);
    free(b.p);
    free(ref.p);
}
END_TEST

START_TEST(test_sections)
{
    /* zero layers in a consistent TOPO section */
    blob b = golden();
    put_le(b.p + 44, 0, 8);
    blob_splice(&b, 52, 72, NULL, 0);
    put_le(b.p + 28, 16, 8);
    blob_fix(&b);
    expect_refused_without_alloc(b, "no layers");
    free(b.p);
    /* TOPO cut to fewer bytes than its layers need */
    b = golden();
    blob_splice(&b, 120, 4, NULL, 0);
    put_le(b.p + 28, 84, 8);
    blob_fix(&b);
    expect_model_fail(b, REGNN_E_FORMAT, "2 layers announced");
    free(b.p);

    /* an unknown optional section is skipped wherever it is */
    uint8_t extra[16 + 5] = {'X', 'T', 'R', 'A', 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5};
    regnn_model *ref = NULL, *m = NULL;
    CK_OK(regnn_model_load_mem(golden_v1, sizeof golden_v1, &ref));
    size_t spots[3] = {20, 124, sizeof golden_v1 - 4};
    for (int i = 0; i < 3; i++) {
        b = golden();
        blob_splice(&b, spots[i], 0, extra, sizeof extra);
        blob_fix(&b);
        CK_OK(regnn_model_load_mem(b.p, b.n, &m));
        assert_same_model(ref, m);
        blob again = encode(m, NULL); /* and not written back */
        ck_assert_mem_eq(again.p, golden_v1, sizeof golden_v1);
        free(again.p);
        regnn_model_free(m);
        free(b.p);
    }
    /* an unknown required section means a newer writer */
    extra[4] = 1;
    b = golden();
    blob_splice(&b, 124, 0, extra, sizeof extra);
    blob_fix(&b);
    expect_model_fail(b, REGNN_E_VERSION, "unknown required section 'XTRA'");
    b.p[124] = 0x01; /* tags are shown printable */
    blob_fix(&b);
    expect_model_fail(b, REGNN_E_VERSION, "'\\x01TRA'");
    free(b.p);
    /* an empty optional section */
    uint8_t empty[16] = {'N', 'O', 'N', 'E', 0x02, 0, 0, 0, 0};
    b = golden();
    blob_splice(&b, 20, 0, empty, sizeof empty);
    blob_fix(&b);
    CK_OK(regnn_model_load_mem(b.p, b.n, &m));
    regnn_model_free(m);
    free(b.p);

    /* a missing required section */
    const char *req[3] = {"TOPO", "PARM", "RNG "};
    for (int i = 0; i < 3; i++) {
        b = golden();
        size_t at = sec_find(&b, req[i]);
        blob_splice(&b, at, 16 + (size_t)get_le(b.p + at + 8, 8), NULL, 0);
        blob_fix(&b);
        expect_model_fail(b, REGNN_E_FORMAT, "missing");
        ck_assert(has(req[i]));
        free(b.p);
    }
    /* no scaler section: loads without statistics */
    b = golden();
    size_t at = sec_find(&b, "SCAL");
    blob_splice(&b, at, 16 + 64, NULL, 0);
    blob_fix(&b);
    CK_OK(regnn_model_load_mem(b.p, b.n, &m));
    ck_assert_ptr_null(m->scaler);
    regnn_model_free(m);
    free(b.p);
    /* a section twice */
    b = golden();
    at = sec_find(&b, "RNG ");
    blob_splice(&b, at, 0, golden_v1 + at, 48);
    blob_fix(&b);
    expect_model_fail(b, REGNN_E_FORMAT, "'RNG ' appears twice");
    free(b.p);
    /* a section header cut short by the end of the body */
    b = golden();
    blob_splice(&b, b.n - 4, 0, "ABCDEFGH", 8);
    blob_fix(&b);
    expect_model_fail(b, REGNN_E_FORMAT, "cut short");
    free(b.p);
    /* the last section overruns the body by one byte */
    b = golden();
    at = sec_find(&b, "RNG ");
    put_le(b.p + at + 8, 33, 8);
    blob_fix(&b);
    expect_model_fail(b, REGNN_E_FORMAT, "announces 33 bytes, 32 remain");
    free(b.p);
    /* a wrong fixed-size section length */
    b = golden();
    at = sec_find(&b, "RNG ");
    blob_splice(&b, at + 16, 0, "12345678", 8);
    put_le(b.p + at + 8, 40, 8);
    blob_fix(&b);
    expect_model_fail(b, REGNN_E_FORMAT, "RNG has 40 bytes");
    free(b.p);
    b = golden();
    at = sec_find(&b, "PARM");
    blob_splice(&b, at + 16 + 8, 0, "1234", 4); /* 14 floats for 13 parameters */
    put_le(b.p + at + 8, 8 + 56, 8);
    blob_fix(&b);
    expect_model_fail(b, REGNN_E_FORMAT, "PARM has 64 bytes");
    free(b.p);
    regnn_model_free(ref);
}
END_TEST

/* 3 inputs -> a layer of 2 units for each activation, in code order -> 1 linear. */
static regnn_model *every_activation(void)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    for (int a = 0; a < RG_ACT_COUNT; a++)
        CK_OK(regnn_model_add_dense(m, 2, a, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 4));
    return m;
}

/* The activations after format 1.0 are in section ACTV (required): TOPO holds
 * 0 for their layers. The model round-trips; a reader that does not know
 * ACTV (1.0) refuses the file with REGNN_E_VERSION; bad ACTV contents are
 * REGNN_E_FORMAT. */
START_TEST(test_activation_section)
{
    enum { NEW = RG_ACT_COUNT - 1 - REGNN_ACT_TANH, TOPO_ACT = 60, LREC = 36 };
    regnn_model *m = every_activation(), *l = NULL;
    blob b = encode(m, NULL);
    const size_t at = sec_find(&b, "ACTV");
    ck_assert_uint_gt(at, 0);
    ck_assert_uint_eq(get_le(b.p + at + 4, 4), 1); /* required */
    ck_assert_uint_eq(get_le(b.p + at + 8, 8), 8 + 12 * NEW);
    ck_assert_uint_eq(get_le(b.p + at + 16, 8), NEW);
    for (int k = 0; k < NEW; k++) {
        ck_assert_uint_eq(get_le(b.p + at + 24 + 12 * (size_t)k, 8), REGNN_ACT_TANH + 1 + k);
        ck_assert_uint_eq(get_le(b.p + at + 32 + 12 * (size_t)k, 4), REGNN_ACT_TANH + 1 + k);
    }
    for (int i = 0; i <= RG_ACT_COUNT; i++)
        ck_assert_uint_eq(get_le(b.p + TOPO_ACT + LREC * (size_t)i, 4),
                          i <= REGNN_ACT_TANH ? (uint64_t)i : 0);
    CK_OK(regnn_model_load_mem(b.p, b.n, &l));
    assert_same_model(m, l);
    assert_same_predictions(m, l);
    blob again = encode(l, NULL);
    ck_assert_uint_eq(again.n, b.n);
    ck_assert_mem_eq(again.p, b.p, b.n);
    free(again.p);
    regnn_model_free(l);
    /* Without a later activation there is no ACTV (the 1.0 bytes). */
    regnn_model *old = net(4, 0.0, 0, 3);
    blob ob = encode(old, NULL);
    ck_assert_uint_eq(sec_find(&ob, "ACTV"), 0);
    free(ob.p);
    regnn_model_free(old);

    /* A reader without ACTV among its tags sees an unknown required section. */
    blob c = blob_copy(b);
    memcpy(c.p + at, "ACTW", 4);
    blob_fix(&c);
    expect_model_fail(c, REGNN_E_VERSION, "unknown required section 'ACTW'");
    free(c.p);

    const size_t rec = at + 24; /* the first record: layer 4 */
    struct {
        size_t at;
        int bytes;
        uint64_t v;
        const char *needle;
    } bad[] = {
        {TOPO_ACT + LREC * 4, 4, REGNN_ACT_RELU, "layer 4 has an activation in TOPO too"},
        {TOPO_ACT + LREC * 4, 4, REGNN_ACT_ELU, "TOPO: layer 4 has unknown activation code 4"},
        {rec + 8, 4, REGNN_ACT_TANH, "layer 4 has activation code 3"},
        {rec + 8, 4, RG_ACT_COUNT, "layer 4 has activation code 10"},
        {rec, 8, 99, "record 0 names layer 99"},
        {rec + 12, 8, 4, "record 1 names layer 4"},
        {at + 16, 8, 0, "section ACTV has 80 bytes for 0 layers"},
        {at + 16, 8, NEW + 1, "section ACTV has 80 bytes for 7 layers"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = blob_copy(b);
        put_le(c.p + bad[i].at, bad[i].v, bad[i].bytes);
        blob_fix(&c);
        expect_model_fail(c, REGNN_E_FORMAT, bad[i].needle);
        free(c.p);
    }
    free(b.p);
    regnn_model_free(m);
}
END_TEST

/* ---- allocation failures ---- */

typedef regnn_status (*load_fn)(blob b, regnn_model **m, regnn_optimizer **o);
static regnn_status load_model_op(blob b, regnn_model **m, regnn_optimizer **o)
{
    *o = NULL;
    return regnn_model_load_mem(b.p, b.n, m);
}
static regnn_status load_ckpt_op(blob b, regnn_model **m, regnn_optimizer **o)
{
    return regnn_checkpoint_load_mem(b.p, b.n, m, o);
}

static int oom_loop(load_fn op, blob b)
{
    int points = 0;
    const long base = regnn__test_alloc_live();
    for (int persistent = 0; persistent <= 1; persistent++) {
        for (long n = 1; n < 10000; n++) {
            regnn_model *m = (regnn_model *)1;
            regnn_optimizer *o = (regnn_optimizer *)1;
            regnn__test_alloc_fail_at(n, persistent);
            regnn_status st = op(b, &m, &o);
            long tried = regnn__test_alloc_count();
            regnn__test_alloc_fail_at(0, 0);
            if (st == REGNN_OK) {
                ck_assert_int_lt(tried, n);
                regnn_model_free(m);
                regnn_optimizer_free(o);
                ck_assert_int_eq(regnn__test_alloc_live(), base);
                break;
            }
            points++;
            ck_assert_msg(st == REGNN_E_NOMEM, "alloc #%ld: %d %s", n, st, regnn_errmsg());
            ck_assert(has("out of memory"));
            ck_assert_ptr_null(m);
            ck_assert_ptr_null(o);
            ck_assert_msg(regnn__test_alloc_live() == base, "leak after failing alloc #%ld (%d)", n,
                          persistent);
        }
    }
    return points;
}

START_TEST(test_alloc_failure_load)
{
    blob g = golden(), c = golden_checkpoint();
    ck_assert_int_ge(oom_loop(load_model_op, g), 2 * 8);
    ck_assert_int_ge(oom_loop(load_model_op, c), 2 * 8);
    ck_assert_int_ge(oom_loop(load_ckpt_op, c), 2 * 10);
    free(g.p);
    free(c.p);
}
END_TEST

START_TEST(test_alloc_failure_save)
{
    char dir[256], path[300];
    make_tmpdir(dir);
    snprintf(path, sizeof path, "%s/m.rgn", dir);
    regnn_model *m = golden_model();
    regnn_optimizer *o = make_opt(REGNN_OPTIM_SGD);
    const long base = regnn__test_alloc_live();
    int points = 0;
    for (int which = 0; which < 5; which++) {
        for (long n = 1; n < 1000; n++) {
            regnn__test_alloc_fail_at(n, 1);
            regnn_status st;
            regnn_model *c = (regnn_model *)1;
            regnn_scaler *sc = (regnn_scaler *)1;
            switch (which) {
            case 0: st = regnn_model_save(m, path); break;
            case 1: st = regnn_checkpoint_save(m, o, path); break;
            case 2: st = regnn_model_copy(m, &c); break;
            case 3: st = regnn_model_get_scaler(m, &sc); break;
            default: st = regnn_model_attach_scaler(m, m->scaler); break;
            }
            long tried = regnn__test_alloc_count();
            regnn__test_alloc_fail_at(0, 0);
            if (st == REGNN_OK) {
                ck_assert_int_lt(tried, n);
                if (which == 2)
                    regnn_model_free(c);
                if (which == 3)
                    regnn_scaler_free(sc);
                ck_assert_int_eq(regnn__test_alloc_live(), base);
                break;
            }
            points++;
            ck_assert_int_eq(st, REGNN_E_NOMEM);
            ck_assert_int_eq(regnn__test_alloc_live(), base);
            if (which == 2)
                ck_assert_ptr_null(c);
            if (which == 3)
                ck_assert_ptr_null(sc);
            ck_assert_ptr_nonnull(m->scaler); /* a failed attach keeps the old statistics */
        }
    }
    ck_assert_int_ge(points, 5);
    /* measuring and writing into a caller's buffer allocate nothing */
    regnn__test_alloc_fail_at(0, 0);
    blob b = encode(m, o);
    ck_assert_int_eq(regnn__test_alloc_count(), 0);
    free(b.p);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    remove_tree(dir);
}
END_TEST

/* ---- I/O failures ---- */

START_TEST(test_io_errors)
{
    char dir[256], path[300], bad[400];
    make_tmpdir(dir);
    snprintf(path, sizeof path, "%s/model.rgn", dir);
    regnn_model *m = golden_model(), *l = (regnn_model *)1;

    snprintf(bad, sizeof bad, "%s/no/such/dir/model.rgn", dir);
    CK_STATUS(regnn_model_save(m, bad), REGNN_E_IO);
    ck_assert(has("no/such/dir/model.rgn") && has("No such file"));
    /* the parent is a regular file */
    CK_OK(regnn_model_save(m, path));
    snprintf(bad, sizeof bad, "%s/child.rgn", path);
    CK_STATUS(regnn_model_save(m, bad), REGNN_E_IO);
    ck_assert(has("Not a directory"));
    /* a directory or a device is not replaced */
    CK_STATUS(regnn_model_save(m, dir), REGNN_E_IO);
    ck_assert(has("not a regular file"));
    CK_STATUS(regnn_model_save(m, "/dev/null"), REGNN_E_IO);
    ck_assert(has("not a regular file"));

    int temps = -1;
    ck_assert_int_eq(count_entries(dir, &temps), 1);
    ck_assert_int_eq(temps, 0);

    /* loading */
    snprintf(bad, sizeof bad, "%s/missing.rgn", dir);
    CK_STATUS(regnn_model_load(bad, &l), REGNN_E_IO);
    ck_assert_ptr_null(l);
    ck_assert(has("missing.rgn") && has("No such file"));
    CK_STATUS(regnn_model_load(dir, &l), REGNN_E_IO);
    ck_assert(has("not a regular file"));
    /* a FIFO is refused at once, without waiting for a writer */
    snprintf(bad, sizeof bad, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(bad, 0600), 0);
    CK_STATUS(regnn_model_load(bad, &l), REGNN_E_IO);
    ck_assert(has("not a regular file"));
    CK_STATUS(regnn_model_save(m, bad), REGNN_E_IO);
    unlink(bad);
    regnn_optimizer *o = (regnn_optimizer *)1;
    CK_STATUS(regnn_checkpoint_load(path, &l, &o), REGNN_E_FORMAT); /* a model, not a checkpoint */
    ck_assert_ptr_null(l);
    ck_assert_ptr_null(o);
    ck_assert(has("model.rgn") && has("OPTM"));
    snprintf(bad, sizeof bad, "%s/empty.rgn", dir);
    write_path(bad, "", 0);
    CK_STATUS(regnn_model_load(bad, &l), REGNN_E_FORMAT);
    ck_assert(has("truncated") && has("empty.rgn"));
    write_path(bad, golden_v1, 100);
    CK_STATUS(regnn_model_load(bad, &l), REGNN_E_FORMAT);
    ck_assert(has("truncated"));
    write_path(bad, golden_v1, 10);
    CK_STATUS(regnn_model_load(bad, &l), REGNN_E_FORMAT);
    ck_assert(has("truncated"));
    write_path(bad, "time,value\n1,2\n", 15);
    CK_STATUS(regnn_model_load(bad, &l), REGNN_E_FORMAT);
    ck_assert(has("magic"));
    blob g = golden();
    g.p[200] ^= 4;
    write_path(bad, g.p, g.n);
    CK_STATUS(regnn_model_load(bad, &l), REGNN_E_FORMAT);
    ck_assert(has("checksum"));
    put_le(g.p + 8, 3, 2);
    write_path(bad, g.p, g.n);
    CK_STATUS(regnn_model_load(bad, &l), REGNN_E_VERSION);
    free(g.p);
    ck_assert_ptr_null(l);

    /* a save that fails half-way (file size limit) leaves the previous file intact */
    blob before = read_path(path);
    regnn_model *big = net(256, 0.0, 1, 1); /* ~ 5 KB of parameters */
    regnn_optimizer *so = make_opt(REGNN_OPTIM_ADAM);
    /* No ck_assert while the limit holds: Check writes its messages to a file. */
    struct rlimit old_lim, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old_lim;
    lim.rlim_cur = 2048;
    int set = setrlimit(RLIMIT_FSIZE, &lim);
    /* the unnamed temporary file, then the named one used where O_TMPFILE is missing */
    regnn_status st1 = regnn_model_save(big, path);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", regnn_errmsg());
    regnn_status st2 = regnn_checkpoint_save(big, so, path);
    regnn__test_io_tmpfile(1);
    regnn_status st3 = regnn_model_save(big, path);
    char msg3[512];
    snprintf(msg3, sizeof msg3, "%s", regnn_errmsg());
    regnn__test_io_tmpfile(0);
    int reset = setrlimit(RLIMIT_FSIZE, &old_lim);
    signal(SIGXFSZ, old_sig);
    ck_assert_int_eq(set, 0);
    ck_assert_int_eq(reset, 0);
    ck_assert_msg(st1 == REGNN_E_IO, "%d: %s", st1, msg);
    ck_assert_msg(strstr(msg, "cannot write"), "%s", msg);
    ck_assert_int_eq(st2, REGNN_E_IO);
    ck_assert_msg(st3 == REGNN_E_IO, "%d: %s", st3, msg3);
    ck_assert_msg(strstr(msg3, "cannot write"), "%s", msg3);
    blob after = read_path(path);
    ck_assert_uint_eq(after.n, before.n);
    ck_assert_mem_eq(after.p, before.p, before.n);
    CK_OK(regnn_model_load(path, &l));
    regnn_model_free(l);
    ck_assert_int_eq(count_entries(dir, &temps), 2);
    ck_assert_int_eq(temps, 0);
    /* a failure before any I/O touches nothing either */
    regnn_model *fresh = NULL;
    CK_OK(regnn_model_create(3, &fresh));
    CK_OK(regnn_model_add_dense(fresh, 2, REGNN_ACT_LINEAR, NULL));
    CK_STATUS(regnn_model_save(fresh, path), REGNN_E_STATE);
    free(after.p);
    after = read_path(path);
    ck_assert_mem_eq(after.p, before.p, before.n);
    regnn_model_free(fresh);
    regnn_optimizer_free(so);
    free(before.p);
    free(after.p);
    regnn_model_free(big);
    regnn_model_free(m);
    remove_tree(dir);
}
END_TEST

START_TEST(test_arguments)
{
    regnn_model *m = golden_model(), *l = (regnn_model *)1;
    regnn_optimizer *o = make_opt(REGNN_OPTIM_ADAM), *lo = (regnn_optimizer *)1;
    uint8_t buf[16];
    size_t n = 123;
    CK_STATUS(regnn_model_save_mem(NULL, buf, sizeof buf, &n), REGNN_E_INVALID_ARG);
    ck_assert_uint_eq(n, 0);
    CK_STATUS(regnn_model_save_mem(m, buf, sizeof buf, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_checkpoint_save_mem(m, NULL, buf, sizeof buf, &n), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_save(NULL, "x"), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_save(m, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_checkpoint_save(m, NULL, "x"), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_load_mem(NULL, 10, &l), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(l);
    CK_STATUS(regnn_model_load_mem(buf, 10, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_load(NULL, &l), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_model_load("x", NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_checkpoint_load_mem(golden_v1, sizeof golden_v1, &l, NULL), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(l);
    CK_STATUS(regnn_checkpoint_load_mem(golden_v1, sizeof golden_v1, NULL, &lo), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(lo);
    CK_STATUS(regnn_checkpoint_load(NULL, &l, &lo), REGNN_E_INVALID_ARG);
    /* only a model ready to predict can be saved */
    regnn_model *e = NULL;
    CK_OK(regnn_model_create(2, &e));
    CK_STATUS(regnn_model_save_mem(e, NULL, 0, &n), REGNN_E_STATE);
    CK_OK(regnn_model_add_dense(e, 2, REGNN_ACT_LINEAR, NULL));
    CK_STATUS(regnn_model_save_mem(e, NULL, 0, &n), REGNN_E_STATE);
    ck_assert(has("not initialized"));
    regnn_model_free(e);
    /* values the reader would refuse are not written */
    m->params[3] = INFINITY;
    CK_STATUS(regnn_model_save_mem(m, NULL, 0, &n), REGNN_E_NUMERIC);
    m->params[3] = 0.0f;
    regnn_dataset *ds = synth(8, 1);
    regnn_model *m3 = net(4, 0.0, 0, 1);
    CK_OK(regnn_fit(m3, o, ds, NULL, NULL, NULL));
    const float *om, *ov;
    (void)rg_optimizer_state(o, &om, &ov);
    ((float *)ov)[2] = NAN; /* the optimizer's own storage, written to plant a bad value */
    CK_STATUS(regnn_checkpoint_save_mem(m3, o, NULL, 0, &n), REGNN_E_NUMERIC);
    ck_assert(has("optimizer state"));
    regnn_dataset_free(ds);
    regnn_model_free(m3);
    regnn_optimizer_free(o);
    regnn_model_free(m);
}
END_TEST

/* ---- crash safety of saving ---- */

/* ~4 MB of parameters: a save takes long enough to be interrupted mid-way. */
static regnn_model *big_net(uint64_t seed)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(16, &m));
    CK_OK(regnn_model_add_dense(m, 1000, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(m, 1000, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, seed));
    return m;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 1 if the file at path holds exactly one of the two encodings. */
static int holds_one_of(const char *path, const blob *x, const blob *y)
{
    blob b = read_path(path);
    int ok = (b.n == x->n && !memcmp(b.p, x->p, b.n)) || (b.n == y->n && !memcmp(b.p, y->p, b.n));
    free(b.p);
    return ok;
}

/* A child saves two models in turn to dir/m.rgnn until the parent SIGKILLs it
 * at a random moment. The target must always be whole; with the unnamed
 * temporary file (mode 0) any temporary file left behind must be a whole
 * model too (it only gets a name when complete). With at_temp the kill
 * comes as soon as a new temporary file shows up (or after three saves'
 * time), instead of at a random moment. Returns how many trials left new temporary files. */
static int crash_trials(const char *dir, int mode, int trials, int at_temp, const regnn_model *a,
                        const regnn_model *b, const blob *ea, const blob *eb)
{
    char path[300];
    snprintf(path, sizeof path, "%s/m.rgnn", dir);
    regnn__test_io_tmpfile(mode);
    double t0 = now_seconds();
    CK_OK(regnn_model_save(a, path));
    double span = now_seconds() - t0;
    regnn__test_io_tmpfile(0);
    rg_rng r;
    rg_rng_seed(&r, 42 + (uint64_t)mode);
    int left = 0;
    for (int t = 0; t < trials; t++) {
        int before = 0;
        count_entries(dir, &before);
        int ready[2];
        ck_assert_int_eq(pipe(ready), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            regnn__test_io_tmpfile(mode);
            close(ready[0]);
            if (write(ready[1], "x", 1) != 1)
                _exit(2);
            for (;;) {
                if (regnn_model_save(b, path) != REGNN_OK || regnn_model_save(a, path) != REGNN_OK)
                    _exit(3);
            }
        }
        close(ready[1]);
        char c;
        ck_assert_int_eq(read(ready[0], &c, 1), 1);
        close(ready[0]);
        if (at_temp) {
            int now = before;
            for (double t1 = now_seconds(); now <= before && now_seconds() - t1 < 3.0 * span + 0.1;)
                count_entries(dir, &now);
        } else {
            /* anywhere within the first three saves */
            double delay = 3.0 * span * rg_rng_uniform(&r);
            struct timespec d = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
            nanosleep(&d, NULL);
        }
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
        ck_assert_msg(holds_one_of(path, ea, eb), "trial %d: the target is not a whole model", t);
        DIR *dd = opendir(dir);
        ck_assert_ptr_nonnull(dd);
        struct dirent *e;
        int temps = 0;
        while ((e = readdir(dd))) {
            if (!strstr(e->d_name, ".tmp-"))
                continue;
            temps++;
            if (mode == 0) {
                char tp[600];
                snprintf(tp, sizeof tp, "%s/%s", dir, e->d_name);
                ck_assert_msg(holds_one_of(tp, ea, eb), "trial %d: partial temporary file %s", t,
                              e->d_name);
            }
        }
        closedir(dd);
        left += temps > before;
    }
    return left;
}

START_TEST(test_crash_mid_save)
{
    char dir[256], path[300];
    make_tmpdir(dir);
    snprintf(path, sizeof path, "%s/m.rgnn", dir);
    regnn_model *a = big_net(1), *b = big_net(2);
    blob ea = encode(a, NULL), eb = encode(b, NULL);
    crash_trials(dir, 0, 40, 0, a, b, &ea, &eb);
    crash_trials(dir, 0, 10, 1, a, b, &ea, &eb);
    /* Where O_TMPFILE is missing the data goes to a named file: a kill leaves it. */
    crash_trials(dir, 1, 10, 0, a, b, &ea, &eb);
    int left1 = crash_trials(dir, 1, 5, 1, a, b, &ea, &eb);
    ck_assert_int_ge(left1, 1);
    int temps = -1;
    count_entries(dir, &temps);
    ck_assert_int_ge(temps, 1);
    /* A fresh leftover may belong to a live save elsewhere: kept. */
    CK_OK(regnn_model_save(a, path));
    int temps2 = -1;
    count_entries(dir, &temps2);
    ck_assert_int_eq(temps2, temps);
    /* Once old enough, the next save of the same path removes them all. */
    regnn__test_io_stale_seconds(0);
    CK_OK(regnn_model_save(b, path));
    regnn__test_io_stale_seconds(-1);
    ck_assert_int_eq(count_entries(dir, &temps), 1);
    ck_assert_int_eq(temps, 0);
    ck_assert(holds_one_of(path, &eb, &eb));
    free(ea.p);
    free(eb.p);
    regnn_model_free(a);
    regnn_model_free(b);
    remove_tree(dir);
}
END_TEST

/* Set a file's modification time to secs ago. */
static void age_file(const char *path, long secs)
{
    struct timespec ts[2];
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= secs;
    ts[1] = ts[0];
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

START_TEST(test_stale_cleanup)
{
    char dir[256], path[300], p[400];
    make_tmpdir(dir);
    snprintf(path, sizeof path, "%s/m.rgnn", dir);
    regnn_model *m = golden_model();
    /* leftovers of m.rgnn: one fresh, one two hours old */
    snprintf(p, sizeof p, "%s.tmp-0123456789abcdef", path);
    write_path(p, "x", 1);
    snprintf(p, sizeof p, "%s.tmp-00000000deadbeef", path);
    write_path(p, "x", 1);
    age_file(p, 7200);
    /* old, but not ours: other targets, other name shapes, not regular files */
    static const char *const keep[] = {"m.rgnn.tmp-0123", "m.rgnn.tmp-0123456789ABCDEF",
                                       "m.rgnn.tmp-0123456789abcdef0", "n.rgnn.tmp-0123456789abcdef",
                                       "m.rgnn.tmp-0123456789abcdeg", "m.rgnn.bak"};
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, keep[i]);
        write_path(p, "x", 1);
        age_file(p, 7200);
    }
    snprintf(p, sizeof p, "%s.tmp-fedcba9876543210", path);
    ck_assert_int_eq(mkdir(p, 0700), 0);
    age_file(p, 7200);
    char link_to[400];
    snprintf(link_to, sizeof link_to, "%s.tmp-1111111111111111", path);
    ck_assert_int_eq(symlink("m.rgnn.bak", link_to), 0);

    for (int mode = 0; mode <= 2; mode++) {
        regnn__test_io_tmpfile(mode);
        CK_OK(regnn_model_save(m, path));
        regnn__test_io_tmpfile(0);
        snprintf(p, sizeof p, "%s.tmp-00000000deadbeef", path);
        ck_assert_int_ne(access(p, F_OK), 0); /* removed */
        snprintf(p, sizeof p, "%s.tmp-0123456789abcdef", path);
        ck_assert_int_eq(access(p, F_OK), 0); /* too young */
        for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
            snprintf(p, sizeof p, "%s/%s", dir, keep[i]);
            ck_assert_msg(access(p, F_OK) == 0, "%s was removed", keep[i]);
        }
        snprintf(p, sizeof p, "%s.tmp-fedcba9876543210", path);
        ck_assert_int_eq(access(p, F_OK), 0);
        struct stat st;
        ck_assert_int_eq(lstat(link_to, &st), 0);
        /* 1 model + 1 fresh leftover + 6 others + folder + link */
        ck_assert_int_eq(count_entries(dir, NULL), 10);
        /* the next round has an old leftover again */
        snprintf(p, sizeof p, "%s.tmp-00000000deadbeef", path);
        write_path(p, "x", 1);
        age_file(p, 7200);
    }
    regnn_model_free(m);
    remove_tree(dir);
}
END_TEST

START_TEST(test_tmpfile_fallbacks)
{
    /* the unnamed file, no O_TMPFILE, no way to link it (no /proc): same results */
    char dir[256], path[300];
    make_tmpdir(dir);
    snprintf(path, sizeof path, "%s/m.rgnn", dir);
    regnn_model *m = golden_model(), *other = net(5, 0.0, 0, 10);
    regnn_optimizer *o = make_opt(REGNN_OPTIM_SGD);
    blob em = encode(m, NULL), eo = encode(other, o);
    for (int mode = 0; mode <= 2; mode++) {
        regnn__test_io_tmpfile(mode);
        CK_OK(regnn_model_save(m, path)); /* new file */
        regnn__test_io_tmpfile(0);
        ck_assert(holds_one_of(path, &em, &em));
        ck_assert_int_eq(chmod(path, 0604), 0);
        regnn__test_io_tmpfile(mode);
        CK_OK(regnn_checkpoint_save(other, o, path)); /* replaced */
        regnn__test_io_tmpfile(0);
        ck_assert(holds_one_of(path, &eo, &eo));
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0604);
        int temps = -1;
        ck_assert_int_eq(count_entries(dir, &temps), 1);
        ck_assert_int_eq(temps, 0);
        ck_assert_int_eq(unlink(path), 0);
        /* a missing folder is reported the same way whichever scheme runs */
        char bad[400];
        snprintf(bad, sizeof bad, "%s/no/such/m.rgnn", dir);
        regnn__test_io_tmpfile(mode);
        regnn_status sst = regnn_model_save(m, bad);
        regnn__test_io_tmpfile(0);
        ck_assert_int_eq(sst, REGNN_E_IO);
        ck_assert(has("cannot create a temporary file next to") && has("No such file"));
    }
    free(em.p);
    free(eo.p);
    regnn_optimizer_free(o);
    regnn_model_free(other);
    regnn_model_free(m);
    remove_tree(dir);
}
END_TEST

START_TEST(test_empty_path)
{
    char dir[256], cwd[512];
    make_tmpdir(dir);
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(dir), 0);
    regnn_model *m = golden_model(), *l = (regnn_model *)1;
    regnn_optimizer *o = make_opt(REGNN_OPTIM_ADAM), *lo = (regnn_optimizer *)1;
    CK_STATUS(regnn_model_save(m, ""), REGNN_E_INVALID_ARG);
    ck_assert_str_eq(regnn_errmsg(), "regnn_model_save: path is empty");
    CK_STATUS(regnn_checkpoint_save(m, o, ""), REGNN_E_INVALID_ARG);
    ck_assert_str_eq(regnn_errmsg(), "regnn_checkpoint_save: path is empty");
    CK_STATUS(regnn_model_load("", &l), REGNN_E_INVALID_ARG);
    ck_assert_str_eq(regnn_errmsg(), "regnn_model_load: path is empty");
    ck_assert_ptr_null(l);
    l = (regnn_model *)1;
    CK_STATUS(regnn_checkpoint_load("", &l, &lo), REGNN_E_INVALID_ARG);
    ck_assert_str_eq(regnn_errmsg(), "regnn_checkpoint_load: path is empty");
    ck_assert_ptr_null(l);
    ck_assert_ptr_null(lo);
    ck_assert_int_eq(count_entries(".", NULL), 0); /* nothing was written */
    ck_assert_int_eq(chdir(cwd), 0);
    regnn_optimizer_free(o);
    regnn_model_free(m);
    remove_tree(dir);
}
END_TEST

/* The minor version a file says is the lowest whose reader reads it: 0
 * without the sections 1.1 added, 1 with any of them (an activation, a layer
 * type, an optimizer of 1.1), and the CRC covers it. */
START_TEST(test_minor_version_written)
{
    static const int features[4] = {0, 1, 2, 3};
    for (int f = 0; f < 4; f++) {
        regnn_model *m = NULL;
        regnn_optimizer *o = NULL;
        CK_OK(regnn_model_create(3, &m));
        CK_OK(regnn_model_add_dense(m, 4, features[f] == 1 ? REGNN_ACT_GELU : REGNN_ACT_RELU,
                                    NULL));
        if (features[f] == 2)
            CK_OK(regnn_model_add_gaussian_noise(m, 0.1, NULL));
        CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
        CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 3));
        CK_OK(regnn_optimizer_create(features[f] == 3 ? REGNN_OPTIM_NADAM : REGNN_OPTIM_ADAM, &o));
        size_t need = 0, got = 0;
        CK_OK(regnn_checkpoint_save_mem(m, o, NULL, 0, &need));
        uint8_t *buf = malloc(need);
        CK_OK(regnn_checkpoint_save_mem(m, o, buf, need, &got));
        ck_assert_uint_eq(get_le(buf + 8, 2), REGNN_FORMAT_VERSION_MAJOR);
        ck_assert_uint_eq(get_le(buf + 10, 2), features[f] ? 1u : 0u);
        ck_assert_uint_eq(get_le(buf + need - 4, 4), rg_crc32(0, buf, need - 4));
        regnn_model *l = NULL;
        regnn_optimizer *lo = NULL;
        CK_OK(regnn_checkpoint_load_mem(buf, need, &l, &lo));
        regnn_model_free(l);
        regnn_optimizer_free(lo);
        free(buf);
        regnn_optimizer_free(o);
        regnn_model_free(m);
    }
}
END_TEST

/* Every section of version 1.1 in one checkpoint: a new activation, a noise
 * layer, LayerNormalization, BatchNormalization (moved by training), layer
 * penalties and a constraint, Nadam with a polynomial schedule. It loads to the
 * same model, optimizer and predictions, re-encodes to the same bytes, and
 * training on from it equals training on from the original. */
START_TEST(test_all_sections_of_1_1)
{
    regnn_model *m = NULL;
    regnn_optimizer *o = NULL;
    CK_OK(regnn_model_create(3, &m)); /* synth()'s columns */
    CK_OK(regnn_model_add_dense(m, 8, REGNN_ACT_GELU, NULL));
    CK_OK(regnn_model_add_gaussian_noise(m, 0.2, NULL));
    CK_OK(regnn_model_add_layer_normalization(m, 1e-3, NULL));
    CK_OK(regnn_model_add_dense(m, 6, REGNN_ACT_SWISH, NULL));
    CK_OK(regnn_model_add_batch_normalization(m, 0.9, 1e-3, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_layer_set_double(regnn_model_layer(m, 0), REGNN_LAYER_MAX_NORM, 0.8));
    CK_OK(regnn_layer_set_double(regnn_model_layer(m, 3), REGNN_LAYER_BIAS_L2, 1e-3));
    CK_OK(regnn_layer_set_double(regnn_model_layer(m, 3), REGNN_LAYER_ACTIVITY_L1, 1e-4));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 5));
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_NADAM, &o));
    const double sched[2] = {1e-2, 50};
    CK_OK(regnn_optimizer_set_schedule(o, REGNN_SCHEDULE_POLYNOMIAL, sched, 2));
    float x[32 * 3], y[32];
    for (int i = 0; i < 32; i++) {
        for (int k = 0; k < 3; k++)
            x[i * 3 + k] = (float)sin(0.3 * i + k);
        y[i] = (float)cos(0.2 * i);
    }
    double loss;
    for (int s = 0; s < 3; s++)
        CK_OK(regnn_train_batch(m, o, x, y, 32, &loss));
    blob b = encode(m, o);
    ck_assert_uint_eq(get_le(b.p + 10, 2), 1);
    static const char *const tags[] = {"OPTK", "ACTV", "LTYP", "BNST", "LREG"};
    for (int t = 0; t < 5; t++)
        ck_assert_msg(sec_find(&b, tags[t]) != 0, "no section %s", tags[t]);
    regnn_model *l = NULL;
    regnn_optimizer *lo = NULL;
    CK_OK(regnn_checkpoint_load_mem(b.p, b.n, &l, &lo));
    assert_same_model(m, l);
    assert_same_predictions(m, l);
    blob again = encode(l, lo);
    ck_assert_uint_eq(again.n, b.n);
    ck_assert_mem_eq(again.p, b.p, b.n);
    double l1, l2;
    CK_OK(regnn_train_batch(m, o, x, y, 32, &l1));
    CK_OK(regnn_train_batch(l, lo, x, y, 32, &l2));
    ck_assert(l1 == l2);
    blob after_m = encode(m, o), after_l = encode(l, lo);
    ck_assert_uint_eq(after_m.n, after_l.n);
    ck_assert_mem_eq(after_m.p, after_l.p, after_m.n);
    free(after_m.p);
    free(after_l.p);
    free(again.p);
    free(b.p);
    regnn_optimizer_free(lo);
    regnn_model_free(l);
    regnn_optimizer_free(o);
    regnn_model_free(m);
}
END_TEST

static Suite *io_suite(void)
{
    Suite *s = suite_create("io");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_minor_version_written);
    tcase_add_test(tc, test_all_sections_of_1_1);
    tcase_add_test(tc, test_crc32);
    tcase_add_test(tc, test_golden_v1);
    tcase_add_test(tc, test_scaler_attach);
    tcase_add_test(tc, test_mem_roundtrip);
    tcase_add_test(tc, test_file_roundtrip);
    tcase_add_test(tc, test_checkpoint_resume);
    tcase_add_test(tc, test_optk_section);
    tcase_add_test(tc, test_checkpoint_kinds);
    tcase_add_test(tc, test_truncation);
    tcase_add_test(tc, test_bit_flips);
    tcase_add_test(tc, test_header_errors);
    tcase_add_test(tc, test_absurd_sizes);
    tcase_add_test(tc, test_load_memory_bounded);
    tcase_add_test(tc, test_bad_values);
    tcase_add_test(tc, test_bad_optimizer);
    tcase_add_test(tc, test_sections);
    tcase_add_test(tc, test_activation_section);
    tcase_add_test(tc, test_alloc_failure_load);
    tcase_add_test(tc, test_alloc_failure_save);
    tcase_add_test(tc, test_io_errors);
    tcase_add_test(tc, test_arguments);
    tcase_add_test(tc, test_crash_mid_save);
    tcase_add_test(tc, test_stale_cleanup);
    tcase_add_test(tc, test_tmpfile_fallbacks);
    tcase_add_test(tc, test_empty_path);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(io_suite)
