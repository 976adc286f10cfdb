/* SPDX-License-Identifier: MIT */
/* Model files and checkpoints: the binary format of docs/format.md (writer
 * and validating reader) and atomic saving. The reader checks every count
 * against the bytes that remain and validates the whole input before it
 * allocates anything, so a hostile file costs at most a few times its own
 * size in memory. */
/* open, fstat, fsync, linkat, O_CLOEXEC, strerror_r; O_TMPFILE and AT_EMPTY_PATH (Linux) */
#define _GNU_SOURCE
#include "io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Floats travel as their IEEE 754 bit patterns. */
_Static_assert(sizeof(float) == 4 && sizeof(double) == 8, "binary32 and binary64 floats expected");

#define HDR_SIZE 20u  /* magic, major, minor, body length */
#define CRC_SIZE 4u
#define SEC_HDR 16u   /* tag, flags, payload length */
#define LAYER_REC 36u /* units, activation, l2, l1, dropout */
#define TOPO_FIXED 16u
#define OPTM_FIXED 72u
#define FLAG_REQUIRED 1u
/* TOPO holds format 1.0's activation codes; a layer with a later one holds 0
 * there and its code in ACTV, which a 1.0 reader refuses with REGNN_E_VERSION. */
#define TOPO_ACT_MAX REGNN_ACT_TANH
#define ACTV_REC 12u /* layer index, activation */
/* Same bound as regnn_model_create / regnn_model_add_dense. */
#define MAX_DIM ((uint64_t)1 << 24)

static const uint8_t MAGIC[8] = {0x89, 'R', 'G', 'N', 'N', '\r', '\n', 0x1A};

enum { SEC_TOPO, SEC_PARM, SEC_SCAL, SEC_RNG, SEC_OPTM, SEC_SCHD, SEC_LOSS, SEC_OPTK, SEC_ACTV,
       SEC_LTYP, SEC_BNST, SEC_LREG, N_SEC };
static const char SEC_TAG[N_SEC][5] = {"TOPO", "PARM", "SCAL", "RNG ", "OPTM", "SCHD",
                                       "LOSS", "OPTK", "ACTV", "LTYP", "BNST", "LREG"};
/* The sections that version 1.1 added: a file with one of them is written as
 * version 1.1, any other as 1.0 (which every 1.x reader reads). */
#define SEC_FIRST_1_1 SEC_OPTK
_Static_assert(REGNN_FORMAT_VERSION_MINOR == 1, "the sections of each minor version");
#define LTYP_REC 24u /* layer index, type, zero, value */
#define LREG_FIXED 12u /* layer count, key count */
/* The layer settings of section LREG (version 1.1), in the order written:
 * one more setting is one more entry. */
static const int LREG_KEYS[] = {
    REGNN_LAYER_BIAS_L2,   REGNN_LAYER_BIAS_L1, REGNN_LAYER_MAX_NORM,      REGNN_LAYER_MIN_NORM,
    REGNN_LAYER_NORM_RATE, REGNN_LAYER_NON_NEG, REGNN_LAYER_UNIT_NORM,     REGNN_LAYER_ACTIVITY_L2,
    REGNN_LAYER_ACTIVITY_L1};
#define N_LREG_KEYS (sizeof LREG_KEYS / sizeof LREG_KEYS[0])
#define SCHD_FIXED 8u
#define OPTK_SIZE 16u /* rho, initial accumulator */
/* The optimizer and schedule kinds a 1.0 reader knows; a file with a later
 * one carries the required section OPTK, which such a reader refuses. */
#define OPTK_FIRST_OPTIM REGNN_OPTIM_RMSPROP
#define OPTK_FIRST_SCHEDULE REGNN_SCHEDULE_INVERSE_TIME

/* ------------------------------------------------------------------ */
/* Little-endian encoding, byte by byte whatever the host order         */
/* ------------------------------------------------------------------ */

static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (unsigned)p[1] << 8); }
static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const uint8_t *p) { return get_u32(p) | (uint64_t)get_u32(p + 4) << 32; }
static float get_f32(const uint8_t *p)
{
    uint32_t u = get_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static double get_f64(const uint8_t *p)
{
    uint64_t u = get_u64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}
static void set_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void set_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void set_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Reading cursor over a span whose length was validated beforehand; a read
 * past the end yields zeros instead of touching memory outside the span. */
typedef struct cur {
    const uint8_t *p;
    size_t left;
} cur;

static const uint8_t *take(cur *c, size_t n)
{
    static const uint8_t zeros[8] = {0};
    if (n > c->left) {
        c->left = 0;
        return zeros;
    }
    const uint8_t *p = c->p;
    c->p += n;
    c->left -= n;
    return p;
}
static uint32_t rd_u32(cur *c) { return get_u32(take(c, 4)); }
static uint64_t rd_u64(cur *c) { return get_u64(take(c, 8)); }
static float rd_f32(cur *c) { return get_f32(take(c, 4)); }
static double rd_f64(cur *c) { return get_f64(take(c, 8)); }

/* Writer: with p == NULL it only counts, so measuring and writing share one path. */
typedef struct wr {
    uint8_t *p;
    size_t pos;
    unsigned minor; /* the lowest minor version whose reader reads what was written */
} wr;

static void put(wr *w, const void *src, size_t n)
{
    if (w->p)
        memcpy(w->p + w->pos, src, n);
    w->pos += n;
}
static void put_u16(wr *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(w, b, 2);
}
static void put_u32(wr *w, uint32_t v)
{
    uint8_t b[4];
    set_u32(b, v);
    put(w, b, 4);
}
static void put_u64(wr *w, uint64_t v)
{
    uint8_t b[8];
    set_u64(b, v);
    put(w, b, 8);
}
static void put_f32(wr *w, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    put_u32(w, u);
}
static void put_f64(wr *w, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    put_u64(w, u);
}
static void put_f32s(wr *w, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_f32(w, v[i]);
}
static void put_f64s(wr *w, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_f64(w, v[i]);
}

/* Section header with a length patched in by end_section. */
static size_t begin_section(wr *w, int sec)
{
    if (sec >= SEC_FIRST_1_1)
        w->minor = 1;
    put(w, SEC_TAG[sec], 4);
    /* SCHD and LOSS are optional: a 1.0 reader still loads the model and
     * optimizer, and predicts the same. */
    put_u32(w, sec == SEC_SCHD || sec == SEC_LOSS ? 0u : FLAG_REQUIRED); /* 1.1's: required */
    size_t at = w->pos;
    put_u64(w, 0);
    return at;
}
static void end_section(wr *w, size_t at)
{
    if (w->p)
        set_u64(w->p + at, (uint64_t)(w->pos - at - 8));
}

/* ------------------------------------------------------------------ */
/* Writer                                                               */
/* ------------------------------------------------------------------ */

/* Refuse what the reader would refuse, so every saved file loads again. */
static regnn_status check_saveable(const char *fn, const regnn_model *m, const regnn_optimizer *o)
{
    regnn_status st = rg_model_check_ready(m);
    if (st != REGNN_OK)
        return rg_error(st, "%s: %s", fn, regnn_errmsg());
    if (!rg_all_finite(rg_model_params(m), regnn_model_param_count(m)))
        return rg_error(REGNN_E_NUMERIC, "%s: the parameters contain NaN or Inf", fn);
    const size_t n_out = regnn_model_outputs(m), n_in = regnn_model_inputs(m);
    const regnn_scaler *sc = rg_model_scaler(m);
    const size_t sc_x = regnn_scaler_features(sc), sc_y = regnn_scaler_targets(sc);
    if (sc && (sc_x != n_in || sc_y != n_out))
        return rg_error(REGNN_E_SHAPE,
                        "%s: the attached scaler has %zu features and %zu targets, the model "
                        "takes %zu inputs and gives %zu outputs",
                        fn, sc_x, sc_y, n_in, n_out);
    const float *om = NULL, *ov = NULL;
    const size_t on = o ? rg_optimizer_state(o, &om, &ov) : 0;
    if (on != 0) {
        if (on != regnn_model_param_count(m))
            return rg_error(REGNN_E_SHAPE,
                            "%s: the optimizer holds state for %zu parameters, the model has %zu",
                            fn, on, regnn_model_param_count(m));
        if (!rg_all_finite(om, on) || (ov && !rg_all_finite(ov, on)))
            return rg_error(REGNN_E_NUMERIC, "%s: the optimizer state contains NaN or Inf", fn);
    }
    return REGNN_OK;
}

/* The layers that are not dense, in a required section of their own, so that
 * a reader that does not know it refuses the file instead of reading them as
 * dense layers; none, no section (the file of a dense model is unchanged). */
static void put_layer_types(wr *w, const regnn_model *m)
{
    const size_t L = regnn_model_layer_count(m);
    size_t k = 0;
    for (size_t i = 0; i < L; i++)
        k += regnn_layer_type(rg_model_layer_at(m, i)) != REGNN_LAYERTYPE_DENSE;
    if (k == 0)
        return;
    size_t at = begin_section(w, SEC_LTYP);
    put_u64(w, k);
    for (size_t i = 0; i < L; i++) {
        const regnn_layer *l = rg_model_layer_at(m, i);
        if (regnn_layer_type(l) == REGNN_LAYERTYPE_DENSE)
            continue;
        put_u64(w, i);
        put_u32(w, (uint32_t)regnn_layer_type(l));
        put_u32(w, 0);
        put_f64(w, regnn_layer_noise(l));
    }
    end_section(w, at);
}

/* The BatchNormalization layers' momentum and moving statistics (section
 * BNST, required; none, no section). */
static void put_bn_state(wr *w, const regnn_model *m)
{
    const size_t L = regnn_model_layer_count(m);
    size_t k = 0;
    for (size_t i = 0; i < L; i++)
        k += regnn_layer_type(rg_model_layer_at(m, i)) == REGNN_LAYERTYPE_BATCH_NORMALIZATION;
    if (k == 0)
        return;
    size_t at = begin_section(w, SEC_BNST);
    put_u64(w, k);
    for (size_t i = 0; i < L; i++) {
        const regnn_layer *l = rg_model_layer_at(m, i);
        if (regnn_layer_type(l) != REGNN_LAYERTYPE_BATCH_NORMALIZATION)
            continue;
        const size_t u = regnn_layer_units(l);
        put_u64(w, i);
        put_f64(w, regnn_layer_momentum(l));
        put_f32s(w, rg_layer_moving(l), 2 * u); /* mean, then variance */
    }
    end_section(w, at);
}

/* The topology section: inputs, then per layer units, activation and penalties. */
static void put_topology(wr *w, const regnn_model *m)
{
    size_t at = begin_section(w, SEC_TOPO);
    put_u64(w, regnn_model_inputs(m));
    put_u64(w, regnn_model_layer_count(m));
    for (size_t i = 0; i < regnn_model_layer_count(m); i++) {
        const regnn_layer *l = rg_model_layer_at(m, i);
        const int act = regnn_layer_activation(l);
        put_u64(w, regnn_layer_units(l));
        put_u32(w, act > TOPO_ACT_MAX ? (uint32_t)REGNN_ACT_LINEAR : (uint32_t)act);
        put_f64(w, rg_layer_value(l, REGNN_LAYER_L2));
        put_f64(w, rg_layer_value(l, REGNN_LAYER_L1));
        put_f64(w, rg_layer_value(l, REGNN_LAYER_DROPOUT));
    }
    end_section(w, at);
    put_layer_types(w, m);
    put_bn_state(w, m);
}

/* The activation section: the layers whose activation is newer than format
 * 1.0, each as its index and code; none when there is no such layer. */
static void put_activations(wr *w, const regnn_model *m)
{
    const size_t L = regnn_model_layer_count(m);
    uint64_t n = 0;
    for (size_t i = 0; i < L; i++)
        n += regnn_layer_activation(rg_model_layer_at(m, i)) > TOPO_ACT_MAX;
    if (n == 0)
        return;
    size_t at = begin_section(w, SEC_ACTV);
    put_u64(w, n);
    for (size_t i = 0; i < L; i++) {
        const int act = regnn_layer_activation(rg_model_layer_at(m, i));
        if (act > TOPO_ACT_MAX) {
            put_u64(w, i);
            put_u32(w, (uint32_t)act);
        }
    }
    end_section(w, at);
}

static void put_scaler(wr *w, const regnn_scaler *scaler)
{
    const rg_scaler_stats s = rg_scaler_view(scaler), *sc = &s;
    size_t at = begin_section(w, SEC_SCAL);
    put_u64(w, sc->n_x);
    put_u64(w, sc->n_y);
    put_f64s(w, sc->x_mean, sc->n_x);
    put_f64s(w, sc->x_scale, sc->n_x);
    put_f64s(w, sc->y_mean, sc->n_y);
    put_f64s(w, sc->y_scale, sc->n_y);
    end_section(w, at);
}

/* The optimizer section (settings, step count, moments) and, when it has
 * one, the schedule's. */
static void put_optimizer(wr *w, const regnn_optimizer *opt)
{
    const rg_optimizer_settings s = rg_optimizer_get_settings(opt);
    const float *om, *ov;
    const size_t n = rg_optimizer_state(opt, &om, &ov);
    size_t at = begin_section(w, SEC_OPTM);
    put_u32(w, (uint32_t)s.kind);
    put_u32(w, s.nesterov ? 1u : 0u);
    put_f64(w, s.lr);
    put_f64(w, s.beta1);
    put_f64(w, s.beta2);
    put_f64(w, s.eps);
    put_f64(w, s.wd);
    put_f64(w, s.momentum);
    put_u64(w, s.steps);
    put_u64(w, n);
    if (n) {
        put_f32s(w, om, n);
        if (ov)
            put_f32s(w, ov, n);
    }
    end_section(w, at);
    const rg_schedule *sched = rg_optimizer_schedule(opt);
    if (sched->kind != REGNN_SCHEDULE_CONSTANT) {
        at = begin_section(w, SEC_SCHD);
        put_u32(w, (uint32_t)sched->kind);
        put_u32(w, (uint32_t)sched->n);
        put_f64s(w, sched->p, sched->n);
        end_section(w, at);
    }
}

/* OPTK, only for an optimizer or schedule kind of version 1.1. */
static void put_optk(wr *w, const regnn_optimizer *opt)
{
    const rg_optimizer_settings s = rg_optimizer_get_settings(opt);
    if (s.kind < OPTK_FIRST_OPTIM && rg_optimizer_schedule(opt)->kind < OPTK_FIRST_SCHEDULE)
        return;
    size_t at = begin_section(w, SEC_OPTK);
    put_f64(w, s.rho);
    put_f64(w, s.iacc);
    end_section(w, at);
}

/* Section LREG when a layer has a setting of LREG_KEYS other than its default: the
 * layer count, the key count, the keys, then each layer's values. */
static void put_layer_settings(wr *w, const regnn_model *m)
{
    const size_t L = regnn_model_layer_count(m);
    int any = 0;
    for (size_t i = 0; i < L; i++)
        for (size_t k = 0; k < N_LREG_KEYS; k++)
            any |= rg_layer_value(rg_model_layer_at(m, i), LREG_KEYS[k]) !=
                   rg_option_default(REGNN_OPTION_LAYER, LREG_KEYS[k]);
    if (!any)
        return; /* a file without them is what a 1.0 writer wrote */
    size_t at = begin_section(w, SEC_LREG);
    put_u64(w, L);
    put_u32(w, (uint32_t)N_LREG_KEYS);
    for (size_t k = 0; k < N_LREG_KEYS; k++)
        put_u32(w, (uint32_t)LREG_KEYS[k]);
    for (size_t i = 0; i < L; i++)
        for (size_t k = 0; k < N_LREG_KEYS; k++)
            put_f64(w, rg_layer_value(rg_model_layer_at(m, i), LREG_KEYS[k]));
    end_section(w, at);
}

/* Encode m (and o for a checkpoint) into w; returns the total size. */
static size_t encode(wr *w, const regnn_model *m, const regnn_optimizer *o)
{
    put(w, MAGIC, sizeof MAGIC);
    put_u16(w, REGNN_FORMAT_VERSION_MAJOR);
    put_u16(w, 0); /* the minor version, patched below */
    put_u64(w, 0); /* body length, patched below */

    put_topology(w, m);
    put_activations(w, m);
    size_t at = begin_section(w, SEC_PARM);
    put_u64(w, regnn_model_param_count(m));
    put_f32s(w, rg_model_params(m), regnn_model_param_count(m));
    end_section(w, at);
    if (rg_model_scaler(m))
        put_scaler(w, rg_model_scaler(m));
    at = begin_section(w, SEC_RNG);
    for (int i = 0; i < 4; i++)
        put_u64(w, rg_model_rng(m)->s[i]);
    end_section(w, at);
    if (o)
        put_optimizer(w, o);
    int loss;
    double loss_param;
    (void)regnn_model_get_loss(m, &loss, &loss_param);
    if (loss != REGNN_LOSS_MSE) {
        at = begin_section(w, SEC_LOSS);
        put_u32(w, (uint32_t)loss);
        put_f64(w, loss_param);
        end_section(w, at);
    }
    if (o)
        put_optk(w, o);
    put_layer_settings(w, m);

    if (w->p) {
        set_u16(w->p + 10, (uint16_t)w->minor);
        set_u64(w->p + 12, (uint64_t)(w->pos - HDR_SIZE));
        uint32_t crc = rg_crc32(0, w->p, w->pos);
        put_u32(w, crc);
    } else {
        w->pos += CRC_SIZE;
    }
    return w->pos;
}

static regnn_status save_mem(const char *fn, const regnn_model *m, const regnn_optimizer *o,
                             void *buf, size_t cap, size_t *size)
{
    if (!size)
        return rg_error(REGNN_E_INVALID_ARG, "%s: size is NULL", fn);
    *size = 0;
    regnn_status st = check_saveable(fn, m, o);
    if (st != REGNN_OK)
        return st;
    wr w = {NULL, 0, 0};
    size_t need = encode(&w, m, o);
    *size = need;
    if (!buf)
        return REGNN_OK;
    if (cap < need)
        return rg_error(REGNN_E_SHAPE, "%s: the buffer holds %zu bytes, the encoding needs %zu", fn,
                        cap, need);
    w.p = buf;
    w.pos = 0;
    encode(&w, m, o);
    return REGNN_OK;
}

regnn_status regnn_model_save_mem(const regnn_model *m, void *buf, size_t cap, size_t *size)
{
    if (!m) {
        if (size)
            *size = 0;
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_save_mem: model is NULL");
    }
    return save_mem("regnn_model_save_mem", m, NULL, buf, cap, size);
}

regnn_status regnn_checkpoint_save_mem(const regnn_model *m, const regnn_optimizer *o, void *buf,
                                       size_t cap, size_t *size)
{
    if (!m || !o) {
        if (size)
            *size = 0;
        return rg_error(REGNN_E_INVALID_ARG,
                        "regnn_checkpoint_save_mem: model and optimizer are required");
    }
    return save_mem("regnn_checkpoint_save_mem", m, o, buf, cap, size);
}

static regnn_status save_file(const char *fn, const regnn_model *m, const regnn_optimizer *o,
                              const char *path)
{
    regnn_status st = check_saveable(fn, m, o);
    if (st != REGNN_OK)
        return st;
    wr w = {NULL, 0, 0};
    size_t need = encode(&w, m, o);
    w.p = rg_malloc(need);
    if (!w.p)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu bytes", fn, need);
    w.pos = 0;
    encode(&w, m, o);
    st = rg_write_atomic(fn, path, w.p, need);
    rg_free(w.p);
    return st;
}

regnn_status regnn_model_save(const regnn_model *m, const char *path)
{
    if (!m || !path)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_save: model and path are required");
    if (!*path)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_save: path is empty");
    return save_file("regnn_model_save", m, NULL, path);
}

regnn_status regnn_checkpoint_save(const regnn_model *m, const regnn_optimizer *o, const char *path)
{
    if (!m || !o || !path)
        return rg_error(REGNN_E_INVALID_ARG,
                        "regnn_checkpoint_save: model, optimizer and path are required");
    if (!*path)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_checkpoint_save: path is empty");
    return save_file("regnn_checkpoint_save", m, o, path);
}

/* ------------------------------------------------------------------ */
/* Reader: validation (no allocation)                                   */
/* ------------------------------------------------------------------ */

typedef struct span {
    const uint8_t *p;
    size_t n;
    int present;
} span;

/* Everything the loader builds from, validated and pointing into the input. */
typedef struct parsed {
    size_t n_in, n_layers, n_params, n_out;
    const uint8_t *layers, *params;
    size_t n_types;
    const uint8_t *types; /* n_types LTYP records, layer indexes increasing */
    const uint8_t *bnst;  /* BNST records (after the count), in LTYP's order of BN layers */
    int has_scaler;
    const uint8_t *scal; /* the four statistics, n_in and n_out doubles each */
    uint64_t rng[4];
    int has_opt;
    int kind, nesterov;
    double lr, beta1, beta2, eps, wd, momentum;
    uint64_t steps;
    int has_optk;
    double rho, iacc; /* from OPTK; 0 without it */
    size_t n_state;
    const uint8_t *state; /* m (or velocity), then v for Adam */
    int sched_kind;       /* REGNN_SCHEDULE_CONSTANT without a SCHD section */
    size_t sched_n;
    const uint8_t *sched; /* sched_n little-endian doubles */
    int loss;
    double loss_param;
    size_t n_actv;
    const uint8_t *actv; /* n_actv ACTV records */
    size_t lreg_keys;    /* section LREG: its key count (0 without it) */
    const uint8_t *lreg; /* its keys (u32 each), then the layers' values */
} parsed;

/* A tag as printable text: bytes outside ASCII 32..126 as \xNN. */
static const char *tag_text(const uint8_t *t, char out[17])
{
    size_t k = 0;
    for (int i = 0; i < 4; i++) {
        if (t[i] >= 32 && t[i] < 127 && t[i] != '\\')
            out[k++] = (char)t[i];
        else
            k += (size_t)snprintf(out + k, 17 - k, "\\x%02X", t[i]);
    }
    out[k] = '\0';
    return out;
}

/* Magic, version and total length, from the first avail bytes of a total-byte input. */
static regnn_status check_header(const char *where, const uint8_t *p, size_t avail, uint64_t total)
{
    size_t nm = avail < sizeof MAGIC ? avail : sizeof MAGIC;
    /* p may be NULL when nothing was read; memcmp must not see it then. */
    /* cppcheck-suppress knownConditionTrueFalse */
    if (nm > 0 && memcmp(p, MAGIC, nm) != 0)
        return rg_error(REGNN_E_FORMAT, "%s: not a libregnn model file (bad magic number)", where);
    if (avail < 12)
        return rg_error(REGNN_E_FORMAT, "%s: truncated: %llu bytes, a file has at least %u", where,
                        (unsigned long long)total, HDR_SIZE + CRC_SIZE);
    unsigned major = get_u16(p + 8), minor = get_u16(p + 10);
    if (major == 0)
        return rg_error(REGNN_E_FORMAT, "%s: invalid format version 0.%u", where, minor);
    if (major > REGNN_FORMAT_VERSION_MAJOR)
        return rg_error(REGNN_E_VERSION,
                        "%s: written in format version %u.%u by a newer libregnn; this library "
                        "reads version %d.x",
                        where, major, minor, REGNN_FORMAT_VERSION_MAJOR);
    if (total < HDR_SIZE + CRC_SIZE || avail < HDR_SIZE)
        return rg_error(REGNN_E_FORMAT, "%s: truncated: %llu bytes, a file has at least %u", where,
                        (unsigned long long)total, HDR_SIZE + CRC_SIZE);
    uint64_t body = get_u64(p + 12), have = total - HDR_SIZE - CRC_SIZE;
    if (body > have)
        return rg_error(REGNN_E_FORMAT,
                        "%s: truncated: the header announces %llu bytes of sections, %llu are present",
                        where, (unsigned long long)body, (unsigned long long)have);
    if (body < have)
        return rg_error(REGNN_E_FORMAT, "%s: %llu trailing bytes after the checksum", where,
                        (unsigned long long)(have - body));
    return REGNN_OK;
}

static int finite_nonneg(double v) { return isfinite(v) && v >= 0.0; }

static regnn_status check_ltyp(const char *where, span s, parsed *P)
{
    if (s.n < 8)
        return rg_error(REGNN_E_FORMAT, "%s: section LTYP has %zu bytes, fewer than 8", where, s.n);
    cur c = {s.p, s.n};
    uint64_t k = rd_u64(&c);
    if (k == 0 || k > (s.n - 8) / LTYP_REC || s.n != 8 + (size_t)k * LTYP_REC)
        return rg_error(REGNN_E_FORMAT,
                        "%s: section LTYP: %llu layers announced, the section has %zu bytes "
                        "(8 + %u per layer)",
                        where, (unsigned long long)k, s.n, LTYP_REC);
    P->n_types = (size_t)k;
    P->types = c.p;
    uint64_t prev = 0;
    for (size_t i = 0; i < P->n_types; i++) {
        const uint64_t at = rd_u64(&c);
        const uint32_t type = rd_u32(&c), zero = rd_u32(&c);
        const double v = rd_f64(&c);
        if (i > 0 && at <= prev)
            return rg_error(REGNN_E_FORMAT,
                            "%s: section LTYP: layer indexes must increase (%llu after %llu)", where,
                            (unsigned long long)at, (unsigned long long)prev);
        const char *bad = rg_layer_value_range((int)type, v);
        if (type > 255 || zero != 0 || bad)
            return rg_error(REGNN_E_FORMAT, "%s: section LTYP: layer %llu (type %lu, value %g): %s",
                            where, (unsigned long long)at, (unsigned long)type, v,
                            zero != 0 ? "the reserved field is not 0" : bad);
        prev = at;
    }
    return REGNN_OK;
}

/* The LTYP record of layer i: its type and value; REGNN_LAYERTYPE_DENSE if none. */
static int layer_type(const parsed *P, size_t i, double *value)
{
    cur c = {P->types, P->n_types * LTYP_REC};
    for (size_t k = 0; k < P->n_types; k++) {
        const uint64_t at = rd_u64(&c);
        const uint32_t type = rd_u32(&c);
        (void)rd_u32(&c);
        const double v = rd_f64(&c);
        if (at == i) {
            *value = v;
            return (int)type;
        }
    }
    *value = 0.0;
    return REGNN_LAYERTYPE_DENSE;
}

/* The TOPO record of a layer listed in LTYP: the previous width, linear, no
 * penalty or dropout. */
static regnn_status check_typed_record(const char *where, size_t i, size_t fan_in, uint64_t units,
                                       uint32_t act, double l2, double l1, double drop)
{
    if (units != fan_in || act != REGNN_ACT_LINEAR || l2 != 0.0 || l1 != 0.0 || drop != 0.0)
        return rg_error(REGNN_E_FORMAT,
                        "%s: section TOPO: layer %zu (section LTYP) must keep its %zu units, a linear "
                        "activation and no penalty or dropout",
                        where, i, fan_in);
    return REGNN_OK;
}

/* Units of layer i (its TOPO record). */
static size_t layer_units(const parsed *P, size_t i)
{
    cur c = {P->layers + i * LAYER_REC, 8};
    return (size_t)rd_u64(&c);
}

/* Section BNST against the BatchNormalization layers of LTYP: one record
 * each, in layer order: index, momentum in [0, 1], finite moving means,
 * finite moving variances >= 0. */
static regnn_status check_bnst(const char *where, const span *s, parsed *P)
{
    size_t want = 0;
    for (size_t i = 0; i < P->n_layers; i++) {
        double v;
        want += layer_type(P, i, &v) == REGNN_LAYERTYPE_BATCH_NORMALIZATION;
    }
    if (!s->present && want == 0)
        return REGNN_OK;
    if (!s->present || s->n < 8)
        return rg_error(REGNN_E_FORMAT,
                        "%s: %zu BatchNormalization layers, section BNST %s", where, want,
                        s->present ? "is cut short" : "is missing");
    cur c = {s->p, s->n};
    if (rd_u64(&c) != want)
        return rg_error(REGNN_E_FORMAT, "%s: section BNST: its count is not the %zu "
                        "BatchNormalization layers", where, want);
    P->bnst = c.p;
    for (size_t i = 0; i < P->n_layers; i++) {
        double v;
        if (layer_type(P, i, &v) != REGNN_LAYERTYPE_BATCH_NORMALIZATION)
            continue;
        const size_t u = layer_units(P, i);
        if (c.left < 16 + 8 * u)
            return rg_error(REGNN_E_FORMAT, "%s: section BNST: layer %zu's record is cut short",
                            where, i);
        const uint64_t at = rd_u64(&c);
        const double mo = rd_f64(&c);
        int bad = at != i || !(mo >= 0.0 && mo <= 1.0);
        for (size_t k = 0; k < 2 * u; k++) {
            const float f = rd_f32(&c);
            bad |= !isfinite(f) || (k >= u && f < 0.0f);
        }
        if (bad)
            return rg_error(REGNN_E_FORMAT,
                            "%s: section BNST: the record of layer %zu (index %llu, momentum %g) "
                            "is out of range (momentum in [0, 1], finite statistics, variances "
                            ">= 0)",
                            where, i, (unsigned long long)at, mo);
    }
    if (c.left != 0)
        return rg_error(REGNN_E_FORMAT, "%s: section BNST: %zu bytes after the last record",
                        where, c.left);
    return REGNN_OK;
}

static regnn_status check_topo(const char *where, span s, parsed *P)
{
    if (s.n < TOPO_FIXED)
        return rg_error(REGNN_E_FORMAT, "%s: section TOPO has %zu bytes, fewer than %u", where, s.n,
                        TOPO_FIXED);
    cur c = {s.p, s.n};
    uint64_t n_in = rd_u64(&c), L = rd_u64(&c);
    if (n_in == 0 || n_in > MAX_DIM)
        return rg_error(REGNN_E_FORMAT, "%s: section TOPO: %llu inputs, must be in 1..%llu", where,
                        (unsigned long long)n_in, (unsigned long long)MAX_DIM);
    if (L == 0)
        return rg_error(REGNN_E_FORMAT, "%s: section TOPO: the model has no layers", where);
    size_t room = (s.n - TOPO_FIXED) / LAYER_REC;
    if (L > room || s.n != TOPO_FIXED + (size_t)L * LAYER_REC)
        return rg_error(REGNN_E_FORMAT,
                        "%s: section TOPO: %llu layers announced, the section has %zu bytes "
                        "(%u + %u per layer)",
                        where, (unsigned long long)L, s.n, TOPO_FIXED, LAYER_REC);
    P->n_in = (size_t)n_in;
    P->n_layers = (size_t)L;
    P->layers = c.p;
    size_t fan_in = P->n_in, total = 0;
    for (size_t i = 0; i < P->n_layers; i++) {
        uint64_t units = rd_u64(&c);
        uint32_t act = rd_u32(&c);
        double l2 = rd_f64(&c), l1 = rd_f64(&c), drop = rd_f64(&c);
        if (units == 0 || units > MAX_DIM)
            return rg_error(REGNN_E_FORMAT, "%s: section TOPO: layer %zu has %llu units, must be in 1..%llu",
                            where, i, (unsigned long long)units, (unsigned long long)MAX_DIM);
        if (act > TOPO_ACT_MAX)
            return rg_error(REGNN_E_FORMAT,
                            "%s: section TOPO: layer %zu has unknown activation code %lu (TOPO "
                            "holds 0 to %d, later ones are in section ACTV)",
                            where, i, (unsigned long)act, TOPO_ACT_MAX);
        if (!finite_nonneg(l2) || !finite_nonneg(l1))
            return rg_error(REGNN_E_FORMAT,
                            "%s: section TOPO: layer %zu has L2 %g and L1 %g (must be finite and >= 0)",
                            where, i, l2, l1);
        if (!(drop >= 0.0 && drop < 1.0))
            return rg_error(REGNN_E_FORMAT, "%s: section TOPO: layer %zu has dropout %g, must be in [0, 1)",
                            where, i, drop);
        double nv;
        const int type = layer_type(P, i, &nv);
        if (type != REGNN_LAYERTYPE_DENSE) {
            regnn_status st = check_typed_record(where, i, fan_in, units, act, l2, l1, drop);
            if (st != REGNN_OK)
                return st;
        }
        /* Both factors < 2^25, so each count fits; the sum is bounded like add_dense's. */
        size_t count = type == REGNN_LAYERTYPE_DENSE ? fan_in * (size_t)units + (size_t)units
                       : type == REGNN_LAYERTYPE_LAYER_NORMALIZATION ||
                               type == REGNN_LAYERTYPE_BATCH_NORMALIZATION
                           ? 2 * (size_t)units
                           : 0;
        if (total > SIZE_MAX / sizeof(float) - count)
            return rg_error(REGNN_E_FORMAT, "%s: section TOPO: too many parameters", where);
        total += count;
        fan_in = (size_t)units;
    }
    if (P->n_types) {
        cur lc = {P->types + (P->n_types - 1) * LTYP_REC, 8};
        const uint64_t last = rd_u64(&lc);
        if (last >= L)
            return rg_error(REGNN_E_FORMAT, "%s: section LTYP: layer %llu, the model has %llu layers",
                            where, (unsigned long long)last, (unsigned long long)L);
    }
    if (total == 0)
        return rg_error(REGNN_E_FORMAT, "%s: section TOPO: no layer with parameters", where);
    P->n_params = total;
    P->n_out = fan_in;
    return REGNN_OK;
}

/* ACTV: a count, then that many (layer index, activation) records, layers
 * ascending, each activation newer than 1.0 and 0 in TOPO for that layer. */
static regnn_status check_actv(const char *where, span s, parsed *P)
{
    cur c = {s.p, s.n};
    const uint64_t n = s.n >= 8 ? rd_u64(&c) : 0;
    if (s.n < 8 || n == 0 || n > P->n_layers || s.n != 8 + (size_t)n * ACTV_REC)
        return rg_error(REGNN_E_FORMAT,
                        "%s: section ACTV has %zu bytes for %llu layers (8 + %u per layer, "
                        "1 to %zu layers)",
                        where, s.n, (unsigned long long)n, ACTV_REC, P->n_layers);
    P->n_actv = (size_t)n;
    P->actv = c.p;
    uint64_t next = 0;
    for (size_t k = 0; k < P->n_actv; k++) {
        const uint64_t i = rd_u64(&c);
        const uint32_t act = rd_u32(&c);
        if (i < next || i >= P->n_layers)
            return rg_error(REGNN_E_FORMAT,
                            "%s: section ACTV: record %zu names layer %llu (layers ascending, "
                            "below %zu)",
                            where, k, (unsigned long long)i, P->n_layers);
        if (act <= TOPO_ACT_MAX || act > 255 || !rg_act_name((int)act))
            return rg_error(REGNN_E_FORMAT, "%s: section ACTV: layer %llu has activation code %lu",
                            where, (unsigned long long)i, (unsigned long)act);
        if (get_u32(P->layers + (size_t)i * LAYER_REC + 8) != REGNN_ACT_LINEAR)
            return rg_error(REGNN_E_FORMAT,
                            "%s: section ACTV: layer %llu has an activation in TOPO too", where,
                            (unsigned long long)i);
        next = i + 1;
    }
    return REGNN_OK;
}

static regnn_status check_parm(const char *where, span s, parsed *P)
{
    if (s.n < 8)
        return rg_error(REGNN_E_FORMAT, "%s: section PARM has %zu bytes, fewer than 8", where, s.n);
    cur c = {s.p, s.n};
    uint64_t count = rd_u64(&c);
    if (count != P->n_params)
        return rg_error(REGNN_E_FORMAT, "%s: section PARM holds %llu parameters, the topology has %zu",
                        where, (unsigned long long)count, P->n_params);
    if ((s.n - 8) % 4 != 0 || (s.n - 8) / 4 != P->n_params)
        return rg_error(REGNN_E_FORMAT,
                        "%s: section PARM has %zu bytes, %zu parameters need 8 + 4 per parameter",
                        where, s.n, P->n_params);
    P->params = c.p;
    for (size_t i = 0; i < P->n_params; i++)
        if (!isfinite(rd_f32(&c)))
            return rg_error(REGNN_E_FORMAT, "%s: section PARM: parameter %zu is NaN or infinite",
                            where, i);
    return REGNN_OK;
}

static regnn_status check_scal(const char *where, span s, parsed *P)
{
    if (s.n < 16)
        return rg_error(REGNN_E_FORMAT, "%s: section SCAL has %zu bytes, fewer than 16", where, s.n);
    cur c = {s.p, s.n};
    uint64_t nx = rd_u64(&c), ny = rd_u64(&c);
    if (nx != P->n_in || ny != P->n_out)
        return rg_error(REGNN_E_FORMAT,
                        "%s: section SCAL has %llu features and %llu targets, the model takes %zu "
                        "inputs and gives %zu outputs",
                        where, (unsigned long long)nx, (unsigned long long)ny, P->n_in, P->n_out);
    /* n_in, n_out <= 2^24: no overflow. */
    if (s.n != 16 + 16 * (P->n_in + P->n_out))
        return rg_error(REGNN_E_FORMAT, "%s: section SCAL has %zu bytes, expected %zu", where, s.n,
                        16 + 16 * (P->n_in + P->n_out));
    P->scal = c.p;
    static const char *const names[4] = {"feature mean", "feature scale", "target mean",
                                         "target scale"};
    for (int k = 0; k < 4; k++) {
        size_t n = k < 2 ? P->n_in : P->n_out;
        for (size_t i = 0; i < n; i++) {
            double v = rd_f64(&c);
            if (!isfinite(v) || (k % 2 == 1 && !(v > 0.0)))
                return rg_error(REGNN_E_FORMAT, "%s: section SCAL: %s %zu is %g (must be finite%s)",
                                where, names[k], i, v, k % 2 ? " and > 0" : "");
        }
    }
    P->has_scaler = 1;
    return REGNN_OK;
}

static regnn_status check_rng(const char *where, span s, parsed *P)
{
    if (s.n != 32)
        return rg_error(REGNN_E_FORMAT, "%s: section RNG has %zu bytes, expected 32", where, s.n);
    cur c = {s.p, s.n};
    uint64_t any = 0;
    for (int i = 0; i < 4; i++)
        any |= P->rng[i] = rd_u64(&c);
    /* xoshiro256** never leaves the all-zero state, so no generator produced it. */
    if (!any)
        return rg_error(REGNN_E_FORMAT, "%s: section RNG: the generator state is all zero", where);
    return REGNN_OK;
}

static int lreg_known(uint32_t key)
{
    for (size_t k = 0; k < N_LREG_KEYS; k++)
        if ((uint32_t)LREG_KEYS[k] == key)
            return 1;
    return 0;
}

/* Section LREG: a layer count that matches TOPO's, known keys, each once,
 * and each value in its range (the options table's). */
static regnn_status check_lreg(const char *where, span s, parsed *P)
{
    if (s.n < LREG_FIXED)
        return rg_error(REGNN_E_FORMAT, "%s: section LREG has %zu bytes, fewer than %u", where, s.n,
                        LREG_FIXED);
    cur c = {s.p, s.n};
    const uint64_t L = rd_u64(&c);
    const uint32_t K = rd_u32(&c);
    if (L != P->n_layers || K == 0 || K > 64 ||
        s.n != LREG_FIXED + 4u * K + 8u * (size_t)K * P->n_layers)
        return rg_error(REGNN_E_FORMAT,
                        "%s: section LREG: %llu layers and %lu settings in %zu bytes, for a model "
                        "of %zu layers",
                        where, (unsigned long long)L, (unsigned long)K, s.n, P->n_layers);
    const uint8_t *keys = c.p;
    for (uint32_t k = 0; k < K; k++) {
        const uint32_t key = get_u32(keys + 4 * k);
        if (!lreg_known(key))
            return rg_error(REGNN_E_VERSION,
                            "%s: section LREG: unknown layer setting %lu (written by a newer "
                            "libregnn?)",
                            where, (unsigned long)key);
        for (uint32_t q = 0; q < k; q++)
            if (get_u32(keys + 4 * q) == key)
                return rg_error(REGNN_E_FORMAT, "%s: section LREG: layer setting %lu appears twice",
                                where, (unsigned long)key);
    }
    const uint8_t *v = keys + 4 * K;
    for (size_t i = 0; i < P->n_layers; i++) {
        /* The constraint settings as the layer will hold them: defaults, then the file's. */
        double cons[4] = {0.0, 0.0, 0.0, 0.0};
        static const int ckeys[4] = {REGNN_LAYER_MAX_NORM, REGNN_LAYER_MIN_NORM,
                                     REGNN_LAYER_NON_NEG, REGNN_LAYER_UNIT_NORM};
        for (uint32_t k = 0; k < K; k++) {
            const int key = (int)get_u32(keys + 4 * k);
            const double val = get_f64(v + 8 * (i * K + k));
            if (rg_option_check("section LREG", REGNN_OPTION_LAYER, key, val) != REGNN_OK)
                return rg_error(REGNN_E_FORMAT, "%s: layer %zu: %s", where, i, regnn_errmsg());
            for (int q = 0; q < 4; q++)
                if (ckeys[q] == key)
                    cons[q] = val;
        }
        const char *why = rg_layer_constraint_problem(cons[0], cons[1], cons[2], cons[3]);
        if (why)
            return rg_error(REGNN_E_FORMAT, "%s: section LREG: layer %zu: %s", where, i, why);
    }
    P->lreg_keys = K;
    P->lreg = keys;
    return REGNN_OK;
}

static regnn_status check_loss(const char *where, span s, parsed *P)
{
    if (s.n != 12)
        return rg_error(REGNN_E_FORMAT, "%s: section LOSS has %zu bytes, expected 12", where, s.n);
    cur c = {s.p, s.n};
    uint32_t kind = rd_u32(&c);
    double param = rd_f64(&c);
    if (kind > 255 || !rg_loss_name((int)kind))
        return rg_error(REGNN_E_FORMAT, "%s: section LOSS: unknown loss kind %lu", where,
                        (unsigned long)kind);
    if (kind == REGNN_LOSS_HUBER ? !(param > 0.0 && isfinite(param)) : param != 0.0)
        return rg_error(REGNN_E_FORMAT, "%s: section LOSS: parameter %g is out of range for %s",
                        where, param, rg_loss_name((int)kind));
    P->loss = (int)kind;
    P->loss_param = param;
    return REGNN_OK;
}

/* The optimizer settings of OPTM in P. */
static rg_optimizer_settings settings_of(const parsed *P)
{
    rg_optimizer_settings s = {P->kind,     P->lr,       P->beta1, P->beta2, P->eps, P->wd,
                               P->momentum, P->nesterov, P->steps, P->rho,   P->iacc};
    return s;
}

/* The optimizer settings of OPTM in P against the ranges the setters
 * enforce. */
static regnn_status check_optm_settings(const char *where, const parsed *P)
{
    const char *bad = NULL;
    double badv = 0.0;
    if (!(isfinite(P->lr) && P->lr > 0.0))
        bad = "learning rate", badv = P->lr;
    else if (!(P->beta1 >= 0.0 && P->beta1 < 1.0))
        bad = "beta1", badv = P->beta1;
    else if (!(P->beta2 >= 0.0 && P->beta2 < 1.0))
        bad = "beta2", badv = P->beta2;
    else if (!finite_nonneg(P->eps) || (P->kind != REGNN_OPTIM_SGD && !(P->eps > 0.0)))
        bad = "epsilon", badv = P->eps;
    else if (!finite_nonneg(P->wd))
        bad = "weight decay", badv = P->wd;
    else if (!(P->momentum >= 0.0 && P->momentum < 1.0))
        bad = "momentum", badv = P->momentum;
    if (bad)
        return rg_error(REGNN_E_FORMAT, "%s: section OPTM: %s %g is out of range", where, bad, badv);
    /* The same ranges the setters enforce (ε and lr usable in float32,
     * lr * weight decay <= 1, steps <= 2^53). */
    const rg_optimizer_settings chk = settings_of(P);
    char why[256];
    if (rg_optimizer_check(&chk, why, sizeof why))
        return rg_error(REGNN_E_FORMAT, "%s: section OPTM: %s", where, why);
    return REGNN_OK;
}

/* The state buffers at c, P->n_state finite values each: those of a buffer
 * of squares or magnitudes (Adam's second moment, ...) also >= 0. */
static regnn_status check_optm_state(const char *where, cur *c, const parsed *P)
{
    const rg_optim_kind *k = rg_optim_kind_of(P->kind);
    for (int b = 0; b < k->buffers; b++)
        for (size_t i = 0; i < P->n_state; i++) {
            const float v = rd_f32(c);
            const int nonneg = k->nonneg >> b & 1u;
            if (!nonneg && !isfinite(v))
                return rg_error(REGNN_E_FORMAT,
                                "%s: section OPTM: state value %zu is NaN or infinite", where,
                                (size_t)b * P->n_state + i);
            if (nonneg && !(isfinite(v) && v >= 0.0f))
                return rg_error(REGNN_E_FORMAT,
                                "%s: section OPTM: %s %zu is %g (must be finite and >= 0)", where,
                                b == 1 ? "second moment" : "state value", i, (double)v);
        }
    return REGNN_OK;
}

static regnn_status check_optm(const char *where, span s, parsed *P)
{
    if (s.n < OPTM_FIXED)
        return rg_error(REGNN_E_FORMAT, "%s: section OPTM has %zu bytes, fewer than %u", where, s.n,
                        OPTM_FIXED);
    cur c = {s.p, s.n};
    uint32_t kind = rd_u32(&c), nest = rd_u32(&c);
    const rg_optim_kind *ok = kind <= INT32_MAX ? rg_optim_kind_of((int)kind) : NULL;
    if (!ok)
        return rg_error(REGNN_E_FORMAT, "%s: section OPTM: unknown optimizer kind %lu", where,
                        (unsigned long)kind);
    if (kind >= OPTK_FIRST_OPTIM && !P->has_optk)
        return rg_error(REGNN_E_FORMAT,
                        "%s: section OPTM: optimizer kind %lu (%s) needs section 'OPTK'", where,
                        (unsigned long)kind, ok->name);
    if (nest > 1)
        return rg_error(REGNN_E_FORMAT, "%s: section OPTM: nesterov flag %lu, must be 0 or 1", where,
                        (unsigned long)nest);
    P->kind = (int)kind;
    P->nesterov = (int)nest;
    P->lr = rd_f64(&c);
    P->beta1 = rd_f64(&c);
    P->beta2 = rd_f64(&c);
    P->eps = rd_f64(&c);
    P->wd = rd_f64(&c);
    P->momentum = rd_f64(&c);
    P->steps = rd_u64(&c);
    regnn_status st = check_optm_settings(where, P);
    if (st != REGNN_OK)
        return st;
    uint64_t n = rd_u64(&c);
    if (n != 0 && n != P->n_params)
        return rg_error(REGNN_E_FORMAT,
                        "%s: section OPTM: state for %llu parameters, the model has %zu", where,
                        (unsigned long long)n, P->n_params);
    const size_t per = (size_t)ok->buffers * sizeof(float);
    if ((s.n - OPTM_FIXED) % per != 0 || (s.n - OPTM_FIXED) / per != n)
        return rg_error(REGNN_E_FORMAT,
                        "%s: section OPTM has %zu bytes, %llu parameters need %u + %zu per parameter",
                        where, s.n, (unsigned long long)n, OPTM_FIXED, per);
    P->n_state = (size_t)n;
    P->state = c.p;
    st = check_optm_state(where, &c, P);
    if (st != REGNN_OK)
        return st;
    P->has_opt = 1;
    return REGNN_OK;
}

static regnn_status check_schd(const char *where, span s, parsed *P)
{
    if (s.n < SCHD_FIXED)
        return rg_error(REGNN_E_FORMAT, "%s: section SCHD has %zu bytes, fewer than %u", where, s.n,
                        SCHD_FIXED);
    cur c = {s.p, s.n};
    uint32_t kind = rd_u32(&c), n = rd_u32(&c);
    if (kind < REGNN_SCHEDULE_EXPONENTIAL || kind > REGNN_SCHEDULE_COSINE_RESTARTS)
        return rg_error(REGNN_E_FORMAT, "%s: section SCHD: unknown schedule kind %lu", where,
                        (unsigned long)kind);
    if (kind >= OPTK_FIRST_SCHEDULE && !P->has_optk)
        return rg_error(REGNN_E_FORMAT, "%s: section SCHD: schedule kind %lu needs section 'OPTK'",
                        where, (unsigned long)kind);
    if ((s.n - SCHD_FIXED) % 8 != 0 || (s.n - SCHD_FIXED) / 8 != n)
        return rg_error(REGNN_E_FORMAT, "%s: section SCHD has %zu bytes, %lu parameters need %u + 8 each",
                        where, s.n, (unsigned long)n, SCHD_FIXED);
    char why[240];
    if (rg_schedule_check((int)kind, NULL, c.p, n, P->wd, why, sizeof why))
        return rg_error(REGNN_E_FORMAT, "%s: section SCHD: %s", where, why);
    P->sched_kind = (int)kind;
    P->sched_n = n;
    P->sched = c.p;
    return REGNN_OK;
}

/* OPTK: RMSprop's rho and Adagrad's initial accumulator, in a required
 * section that only files with a kind of version 1.1 carry. */
static regnn_status check_optk(const char *where, span s, parsed *P)
{
    if (s.n != OPTK_SIZE)
        return rg_error(REGNN_E_FORMAT, "%s: section OPTK has %zu bytes, must have %u", where, s.n,
                        OPTK_SIZE);
    cur c = {s.p, s.n};
    P->rho = rd_f64(&c);
    P->iacc = rd_f64(&c);
    if (!(P->rho >= 0.0 && P->rho < 1.0))
        return rg_error(REGNN_E_FORMAT, "%s: section OPTK: rho %g is out of range [0, 1)", where,
                        P->rho);
    if (!finite_nonneg(P->iacc))
        return rg_error(REGNN_E_FORMAT,
                        "%s: section OPTK: initial accumulator %g must be finite and >= 0", where,
                        P->iacc);
    P->has_optk = 1;
    return REGNN_OK;
}

/* The optimizer's sections: OPTK first (OPTM's check reads it), then OPTM and
 * SCHD; OPTK only where a kind needs it. */
static regnn_status check_optimizer(const char *where, const span *sec, parsed *P)
{
    regnn_status st;
    if (sec[SEC_OPTK].present && !sec[SEC_OPTM].present)
        return rg_error(REGNN_E_FORMAT, "%s: section 'OPTK' without optimizer state", where);
    if (sec[SEC_OPTK].present && (st = check_optk(where, sec[SEC_OPTK], P)) != REGNN_OK)
        return st;
    if (sec[SEC_OPTM].present && (st = check_optm(where, sec[SEC_OPTM], P)) != REGNN_OK)
        return st;
    if (sec[SEC_SCHD].present && !sec[SEC_OPTM].present)
        return rg_error(REGNN_E_FORMAT,
                        "%s: a learning-rate schedule (section 'SCHD') without optimizer state", where);
    if (sec[SEC_SCHD].present && (st = check_schd(where, sec[SEC_SCHD], P)) != REGNN_OK)
        return st;
    if (P->has_optk && P->kind < OPTK_FIRST_OPTIM && P->sched_kind < OPTK_FIRST_SCHEDULE)
        return rg_error(REGNN_E_FORMAT,
                        "%s: section 'OPTK' with an optimizer and schedule that do not use it", where);
    return REGNN_OK;
}

/* Validate a whole input; on success P describes it. */
static regnn_status parse(const char *where, const uint8_t *p, size_t len, int want_opt, parsed *P)
{
    memset(P, 0, sizeof *P);
    regnn_status st = check_header(where, p, len, len);
    if (st != REGNN_OK)
        return st;
    uint32_t stored = get_u32(p + len - CRC_SIZE), crc = rg_crc32(0, p, len - CRC_SIZE);
    if (stored != crc)
        return rg_error(REGNN_E_FORMAT,
                        "%s: checksum mismatch (stored 0x%08lX, computed 0x%08lX): the data is corrupt",
                        where, (unsigned long)stored, (unsigned long)crc);

    span sec[N_SEC];
    memset(sec, 0, sizeof sec);
    const size_t end = len - CRC_SIZE;
    size_t pos = HDR_SIZE;
    char tt[17];
    while (pos < end) {
        if (end - pos < SEC_HDR)
            return rg_error(REGNN_E_FORMAT, "%s: the section header at offset %zu is cut short",
                            where, pos);
        const uint8_t *tag = p + pos;
        uint32_t flags = get_u32(p + pos + 4);
        uint64_t n = get_u64(p + pos + 8);
        pos += SEC_HDR;
        if (n > end - pos)
            return rg_error(REGNN_E_FORMAT,
                            "%s: section '%s' at offset %zu announces %llu bytes, %zu remain", where,
                            tag_text(tag, tt), pos - SEC_HDR, (unsigned long long)n, end - pos);
        int k = 0;
        while (k < N_SEC && memcmp(tag, SEC_TAG[k], 4) != 0)
            k++;
        if (k < N_SEC) {
            if (sec[k].present)
                return rg_error(REGNN_E_FORMAT, "%s: section '%s' appears twice", where, SEC_TAG[k]);
            sec[k].p = p + pos;
            sec[k].n = (size_t)n;
            sec[k].present = 1;
        } else if (flags & FLAG_REQUIRED) {
            return rg_error(REGNN_E_VERSION,
                            "%s: unknown required section '%s' (written by a newer libregnn?)", where,
                            tag_text(tag, tt));
        }
        pos += (size_t)n;
    }
    static const int needed[3] = {SEC_TOPO, SEC_PARM, SEC_RNG};
    for (int i = 0; i < 3; i++)
        if (!sec[needed[i]].present)
            return rg_error(REGNN_E_FORMAT, "%s: the required section '%s' is missing", where,
                            SEC_TAG[needed[i]]);
    if (want_opt && !sec[SEC_OPTM].present)
        return rg_error(REGNN_E_FORMAT,
                        "%s: no optimizer state (section 'OPTM'): this is a model file, not a "
                        "checkpoint",
                        where);
    if ((sec[SEC_LTYP].present && (st = check_ltyp(where, sec[SEC_LTYP], P)) != REGNN_OK) ||
        (st = check_topo(where, sec[SEC_TOPO], P)) != REGNN_OK ||
        (sec[SEC_ACTV].present && (st = check_actv(where, sec[SEC_ACTV], P)) != REGNN_OK) ||
        (st = check_bnst(where, &sec[SEC_BNST], P)) != REGNN_OK ||
        (st = check_parm(where, sec[SEC_PARM], P)) != REGNN_OK ||
        (sec[SEC_SCAL].present && (st = check_scal(where, sec[SEC_SCAL], P)) != REGNN_OK) ||
        (st = check_rng(where, sec[SEC_RNG], P)) != REGNN_OK ||
        (sec[SEC_LOSS].present && (st = check_loss(where, sec[SEC_LOSS], P)) != REGNN_OK) ||
        (sec[SEC_LREG].present && (st = check_lreg(where, sec[SEC_LREG], P)) != REGNN_OK))
        return st;
    return check_optimizer(where, sec, P);
}

/* ------------------------------------------------------------------ */
/* Reader: building the objects                                         */
/* ------------------------------------------------------------------ */

static void decode_f32s(const uint8_t *p, float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = get_f32(p + 4 * i);
}

static void decode_f64s(const uint8_t *p, double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = get_f64(p + 8 * i);
}

/* Failures after validation can only be allocation failures; anything else is a bug. */
static regnn_status build_fail(const char *where, regnn_status st)
{
    if (st == REGNN_E_NOMEM)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", where);
    return rg_error(REGNN_E_INTERNAL, "%s: %s", where, regnn_errmsg());
}

/* BNST's record of layer i (a BatchNormalization layer): its momentum, and
 * its moving statistics into mean and var when not NULL. */
static double bn_record(const parsed *P, size_t i, float *mean, float *var)
{
    cur c = {P->bnst, SIZE_MAX};
    for (size_t j = 0;; j++) {
        double v;
        if (layer_type(P, j, &v) != REGNN_LAYERTYPE_BATCH_NORMALIZATION)
            continue;
        const size_t u = layer_units(P, j);
        (void)rd_u64(&c);
        const double mo = rd_f64(&c);
        if (j == i) {
            for (size_t k = 0; k < 2 * u; k++) {
                const float f = rd_f32(&c);
                if (mean && k < u)
                    mean[k] = f;
                if (var && k >= u)
                    var[k - u] = f;
            }
            return mo;
        }
        (void)take(&c, 8 * u);
    }
}

static double bn_momentum(const parsed *P, size_t i) { return bn_record(P, i, NULL, NULL); }

/* The layers of P onto the model m (which has none yet). */
static regnn_status build_layers(const parsed *P, regnn_model *m)
{
    regnn_status st = REGNN_OK;
    cur c = {P->layers, P->n_layers * LAYER_REC};
    cur a = {P->actv, P->n_actv * ACTV_REC};
    uint64_t a_next = P->n_actv ? rd_u64(&a) : UINT64_MAX; /* the next layer ACTV names */
    for (size_t i = 0; st == REGNN_OK && i < P->n_layers; i++) {
        uint64_t units = rd_u64(&c);
        int act = (int)rd_u32(&c);
        double l2 = rd_f64(&c), l1 = rd_f64(&c), drop = rd_f64(&c), nv;
        if (i == a_next) {
            act = (int)rd_u32(&a);
            a_next = a.left ? rd_u64(&a) : UINT64_MAX;
        }
        regnn_layer *l = NULL;
        const int type = layer_type(P, i, &nv);
        if (type == REGNN_LAYERTYPE_GAUSSIAN_NOISE) {
            st = regnn_model_add_gaussian_noise(m, nv, NULL);
            continue;
        }
        if (type == REGNN_LAYERTYPE_GAUSSIAN_DROPOUT) {
            st = regnn_model_add_gaussian_dropout(m, nv, NULL);
            continue;
        }
        if (type == REGNN_LAYERTYPE_LAYER_NORMALIZATION) {
            st = regnn_model_add_layer_normalization(m, nv, NULL);
            continue;
        }
        if (type == REGNN_LAYERTYPE_BATCH_NORMALIZATION) {
            st = regnn_model_add_batch_normalization(m, bn_momentum(P, i), nv, NULL);
            continue;
        }
        st = regnn_model_add_dense(m, (size_t)units, act, &l);
        if (st == REGNN_OK)
            st = regnn_layer_set_double(l, REGNN_LAYER_L2, l2);
        if (st == REGNN_OK)
            st = regnn_layer_set_double(l, REGNN_LAYER_L1, l1);
        if (st == REGNN_OK)
            st = regnn_layer_set_double(l, REGNN_LAYER_DROPOUT, drop);
        /* Layer i's values follow the keys; no section: no keys, and no pointer to offset. */
        for (size_t k = 0; st == REGNN_OK && k < P->lreg_keys; k++)
            st = regnn_layer_set_double(l, (int)get_u32(P->lreg + 4 * k),
                                        get_f64(P->lreg + 4 * P->lreg_keys +
                                                8 * (i * P->lreg_keys + k)));
    }
    return st;
}

/* P's scaler, attached to m (which frees it with itself). */
static regnn_status build_scaler(const parsed *P, regnn_model *m)
{
    double *stat[4];
    regnn_scaler *sc = rg_scaler_alloc(P->n_in, P->n_out, stat);
    if (!sc)
        return REGNN_E_NOMEM;
    rg_model_adopt_scaler(m, sc);
    const uint8_t *q = P->scal;
    decode_f64s(q, stat[0], P->n_in);
    q += 8 * P->n_in;
    decode_f64s(q, stat[1], P->n_in);
    q += 8 * P->n_in;
    decode_f64s(q, stat[2], P->n_out);
    q += 8 * P->n_out;
    decode_f64s(q, stat[3], P->n_out);
    return REGNN_OK;
}

/* P's optimizer state (its kind's buffers in order) into o, through tmp
 * (room for P->n_state floats). */
static regnn_status build_optimizer_state(const parsed *P, regnn_optimizer *o, float *tmp)
{
    const rg_optim_kind *k = rg_optim_kind_of(P->kind);
    regnn_status st = REGNN_OK;
    for (int b = 0; b < k->buffers && st == REGNN_OK; b++) {
        decode_f32s(P->state + (size_t)b * 4 * P->n_state, tmp, P->n_state);
        st = regnn_optimizer_set_state(o, k->state[b], tmp, P->n_state);
    }
    return st;
}

/* P's optimizer into *o_out, which the caller frees even on failure. */
static regnn_status build_optimizer(const parsed *P, float *tmp, regnn_optimizer **o_out)
{
    regnn_status st = regnn_optimizer_create(P->kind, o_out);
    regnn_optimizer *o = *o_out;
    if (st == REGNN_OK) {
        /* All at once: setters refuse keys that do not apply to the kind. */
        const rg_optimizer_settings s = settings_of(P);
        rg_optimizer_set_settings(o, &s);
    }
    if (st == REGNN_OK && P->sched_n) {
        double *sp = rg_malloc(P->sched_n * sizeof *sp);
        st = sp ? REGNN_OK : REGNN_E_NOMEM;
        if (sp) {
            decode_f64s(P->sched, sp, P->sched_n);
            st = regnn_optimizer_set_schedule(o, P->sched_kind, sp, P->sched_n);
            rg_free(sp);
        }
    }
    if (o)
        rg_optimizer_sync_lr_now(o);
    if (st == REGNN_OK && P->n_state)
        st = build_optimizer_state(P, o, tmp);
    return st;
}

/* P's parameters (through tmp, room for P->n_params floats), scaler,
 * generator state and loss into m, which has P's layers. */
static regnn_status build_state(const parsed *P, float *tmp, regnn_model *m)
{
    decode_f32s(P->params, tmp, P->n_params);
    regnn_status st = regnn_model_set_params(m, tmp, P->n_params);
    for (size_t i = 0; st == REGNN_OK && i < P->n_layers; i++) {
        double v;
        if (layer_type(P, i, &v) != REGNN_LAYERTYPE_BATCH_NORMALIZATION)
            continue;
        const size_t u = layer_units(P, i); /* tmp holds n_params >= 2u floats */
        (void)bn_record(P, i, tmp, tmp + u);
        rg_layer_set_moving(regnn_model_layer(m, i), tmp, tmp + u);
    }
    if (st == REGNN_OK && P->has_scaler)
        st = build_scaler(P, m);
    if (st == REGNN_OK) {
        rg_rng r;
        for (int i = 0; i < 4; i++)
            r.s[i] = P->rng[i];
        rg_model_set_rng(m, &r);
        rg_model_set_loss_checked(m, P->loss, P->loss_param);
    }
    return st;
}

static regnn_status build(const char *where, const parsed *P, int want_opt, regnn_model **m_out,
                          regnn_optimizer **o_out)
{
    regnn_model *m = NULL;
    regnn_optimizer *o = NULL;
    float *tmp = NULL;
    regnn_status st = regnn_model_create(P->n_in, &m);
    if (st == REGNN_OK)
        st = build_layers(P, m);
    if (st == REGNN_OK) {
        tmp = rg_malloc(P->n_params * sizeof *tmp);
        st = tmp ? REGNN_OK : REGNN_E_NOMEM;
    }
    if (st == REGNN_OK)
        st = build_state(P, tmp, m);
    if (st == REGNN_OK && want_opt)
        st = build_optimizer(P, tmp, &o);
    rg_free(tmp);
    if (st != REGNN_OK) {
        regnn_model_free(m);
        regnn_optimizer_free(o);
        return build_fail(where, st);
    }
    *m_out = m;
    if (o_out)
        *o_out = o;
    return REGNN_OK;
}

static regnn_status load_mem(const char *where, const uint8_t *p, size_t len, regnn_model **m_out,
                             regnn_optimizer **o_out)
{
    parsed P;
    regnn_status st = parse(where, p, len, o_out != NULL, &P);
    if (st != REGNN_OK)
        return st;
    return build(where, &P, o_out != NULL, m_out, o_out);
}

regnn_status regnn_model_load_mem(const void *buf, size_t len, regnn_model **out)
{
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_load_mem: out is NULL");
    *out = NULL;
    if (!buf)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_load_mem: buf is NULL");
    return load_mem("regnn_model_load_mem", buf, len, out, NULL);
}

regnn_status regnn_checkpoint_load_mem(const void *buf, size_t len, regnn_model **m_out,
                                       regnn_optimizer **o_out)
{
    if (m_out)
        *m_out = NULL;
    if (o_out)
        *o_out = NULL;
    if (!m_out || !o_out || !buf)
        return rg_error(REGNN_E_INVALID_ARG,
                        "regnn_checkpoint_load_mem: buf, m_out and o_out are required");
    return load_mem("regnn_checkpoint_load_mem", buf, len, m_out, o_out);
}

/* ------------------------------------------------------------------ */
/* Reading files                                                        */
/* ------------------------------------------------------------------ */

/* Read a whole model file, after checking from its header and size that it
 * is one, so a wrong or huge file is refused before the big allocation. */
static regnn_status read_file(const char *where, const char *path, uint8_t **data, size_t *len)
{
    char why[128];
    *data = NULL;
    *len = 0;
    int fd;
    size_t total;
    regnn_status os = rg_open_regular(where, path, &fd, &total);
    if (os != REGNN_OK)
        return os;
    uint8_t hdr[HDR_SIZE];
    long long got = rg_read_full(fd, hdr, total < HDR_SIZE ? total : HDR_SIZE);
    regnn_status rs = REGNN_OK;
    if (got < 0) {
        rg_errno_text(errno, why, sizeof why);
        rs = rg_error(REGNN_E_IO, "%s: cannot read: %s", where, why);
    } else {
        rs = check_header(where, hdr, (size_t)got, (size_t)got < HDR_SIZE ? (uint64_t)got : total);
    }
    uint8_t *buf = NULL;
    if (rs == REGNN_OK) {
        buf = rg_malloc(total);
        if (!buf)
            rs = rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu bytes", where, total);
    }
    if (rs == REGNN_OK) {
        memcpy(buf, hdr, HDR_SIZE);
        got = rg_read_full(fd, buf + HDR_SIZE, total - HDR_SIZE);
        if (got < 0) {
            rg_errno_text(errno, why, sizeof why);
            rs = rg_error(REGNN_E_IO, "%s: cannot read: %s", where, why);
        } else {
            /* A file that shrank meanwhile reads as truncated. */
            total = HDR_SIZE + (size_t)got;
        }
    }
    close(fd);
    if (rs != REGNN_OK) {
        rg_free(buf);
        return rs;
    }
    *data = buf;
    *len = total;
    return REGNN_OK;
}

static regnn_status load_file(const char *fn, const char *path, regnn_model **m_out,
                              regnn_optimizer **o_out)
{
    char where[320];
    snprintf(where, sizeof where, "%s: '%s'", fn, path);
    uint8_t *data;
    size_t len;
    regnn_status st = read_file(where, path, &data, &len);
    if (st != REGNN_OK)
        return st;
    st = load_mem(where, data, len, m_out, o_out);
    rg_free(data);
    return st;
}

regnn_status regnn_model_load(const char *path, regnn_model **out)
{
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_load: out is NULL");
    *out = NULL;
    if (!path)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_load: path is NULL");
    if (!*path)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_load: path is empty");
    return load_file("regnn_model_load", path, out, NULL);
}

regnn_status regnn_checkpoint_load(const char *path, regnn_model **m_out, regnn_optimizer **o_out)
{
    if (m_out)
        *m_out = NULL;
    if (o_out)
        *o_out = NULL;
    if (!path || !m_out || !o_out)
        return rg_error(REGNN_E_INVALID_ARG,
                        "regnn_checkpoint_load: path, m_out and o_out are required");
    if (!*path)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_checkpoint_load: path is empty");
    return load_file("regnn_checkpoint_load", path, m_out, o_out);
}
