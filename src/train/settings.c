/* SPDX-License-Identifier: MIT */
/* The settings that change the result of a fit or of a path's runs, as one
 * table of named entries, and a fingerprint of them: one hash per entry, so
 * that processes that must hold the same settings can say which differs. */
#include "train.h"

#include <stddef.h>
#include <string.h>

/* Where an entry's bytes live. */
enum { SRC_OPTIMIZER, SRC_FIT_INT, SRC_FIT_DOUBLE, SRC_PATH_INT, SRC_CUSTOM, SRC_LAYER };
/* What an entry changes: a fit, a path's runs (which start from fresh
 * weights and optimizer state, and set the penalty they sweep), or both. */
enum { USE_FIT = 1, USE_PATH = 2, USE_BOTH = 3 };

typedef struct rg_hash {
    uint64_t h, len;
} rg_hash;

typedef void (*feed_fn)(const rg_fit_setup *s, rg_hash *h);

typedef struct setting {
    const char *name;
    int src, uses;
    size_t offset, size; /* the field's bytes in its struct; SRC_FIT_*, SRC_PATH_INT, SRC_LAYER:
                            offset is the key */
    feed_fn feed;        /* SRC_CUSTOM */
} setting;

/* A word-at-a-time multiplicative hash: fast over data, and any change of a
 * byte or of the length changes it with overwhelming probability. */
static uint64_t mix(uint64_t h, uint64_t w)
{
    h ^= w;
    h *= 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 29);
}

static void feed(rg_hash *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    h->len += n;
    for (; n >= 8; n -= 8, b += 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h->h = mix(h->h, w);
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, b, n);
        h->h = mix(h->h, w ^ ((uint64_t)n << 56));
    }
}

static void feed_size(rg_hash *h, size_t v)
{
    uint64_t w = v;
    feed(h, &w, sizeof w);
}

/* An array of n elements of size bytes: its length, then its bytes. */
static void feed_array(rg_hash *h, const void *v, size_t n, size_t size)
{
    feed_size(h, n);
    if (v && n)
        feed(h, v, n * size);
}

static void feed_floats(rg_hash *h, const float *v, size_t n) { feed_array(h, v, n, sizeof *v); }

/* ---- entries read by a function ---- */

static void feed_inputs(const rg_fit_setup *s, rg_hash *h) { feed_size(h, regnn_model_inputs(s->m)); }

static void feed_topology(const rg_fit_setup *s, rg_hash *h)
{
    feed_size(h, regnn_model_layer_count(s->m));
    for (size_t i = 0; i < regnn_model_layer_count(s->m); i++) {
        const regnn_layer *l = rg_model_layer_at(s->m, i);
        feed_size(h, regnn_layer_units(l));
        const int type = regnn_layer_type(l);
        if (type != REGNN_LAYERTYPE_DENSE) { /* a dense layer hashes as it always did */
            const double v = regnn_layer_noise(l);
            feed(h, &type, sizeof type);
            feed(h, &v, sizeof v);
        }
        if (type == REGNN_LAYERTYPE_BATCH_NORMALIZATION) { /* its momentum and state */
            const double mo = regnn_layer_momentum(l);
            feed(h, &mo, sizeof mo);
            feed_floats(h, rg_layer_moving(l), 2 * regnn_layer_units(l));
        }
    }
}

/* A layer value of every layer, in order. */
static void feed_activation(const rg_fit_setup *s, rg_hash *h)
{
    for (size_t i = 0; i < regnn_model_layer_count(s->m); i++) {
        const int v = regnn_layer_activation(rg_model_layer_at(s->m, i));
        feed(h, &v, sizeof v);
    }
}

static void feed_layer_value(const rg_fit_setup *s, rg_hash *h, int key)
{
    for (size_t i = 0; i < regnn_model_layer_count(s->m); i++) {
        const double v = rg_layer_value(rg_model_layer_at(s->m, i), key);
        feed(h, &v, sizeof v);
    }
}

static void feed_l2(const rg_fit_setup *s, rg_hash *h) { feed_layer_value(s, h, REGNN_LAYER_L2); }
static void feed_l1(const rg_fit_setup *s, rg_hash *h) { feed_layer_value(s, h, REGNN_LAYER_L1); }
static void feed_dropout(const rg_fit_setup *s, rg_hash *h)
{
    feed_layer_value(s, h, REGNN_LAYER_DROPOUT);
}


static void feed_loss(const rg_fit_setup *s, rg_hash *h)
{
    int kind;
    double param;
    (void)regnn_model_get_loss(s->m, &kind, &param);
    feed(h, &kind, sizeof kind);
}

static void feed_loss_param(const rg_fit_setup *s, rg_hash *h)
{
    int kind;
    double param;
    (void)regnn_model_get_loss(s->m, &kind, &param);
    feed(h, &param, sizeof param);
}

static void feed_rng(const rg_fit_setup *s, rg_hash *h)
{
    const rg_rng *r = rg_model_rng(s->m);
    feed(h, r, sizeof *r);
}

static void feed_params(const rg_fit_setup *s, rg_hash *h)
{
    feed_floats(h, rg_model_params(s->m), regnn_model_param_count(s->m));
}

static void feed_state(const rg_fit_setup *s, rg_hash *h)
{
    const float *m, *v;
    const size_t n = rg_optimizer_state(s->o, &m, &v);
    feed_floats(h, m, m ? n : 0);
    feed_floats(h, v, v ? n : 0);
}

static void feed_schedule(const rg_fit_setup *s, rg_hash *h)
{
    const rg_schedule *sc = rg_optimizer_schedule(s->o);
    feed(h, &sc->kind, sizeof sc->kind);
    feed_array(h, sc->p, sc->n, sizeof *sc->p);
}

static void feed_data(const regnn_dataset *d, rg_hash *h)
{
    feed_size(h, d != NULL);
    if (!d)
        return;
    const rg_rows r = rg_dataset_view(d);
    feed_size(h, r.rows);
    feed_size(h, r.n_x);
    feed_floats(h, r.x, r.rows * r.n_x);
    feed_floats(h, r.y, r.rows * r.n_y);
}

static void feed_weights(const regnn_dataset *d, rg_hash *h)
{
    const float *w = d ? rg_dataset_view(d).w : NULL;
    feed_size(h, w != NULL); /* presence, then the values */
    if (w)
        feed_floats(h, w, regnn_dataset_rows(d));
}

static void feed_lambdas(const rg_fit_setup *s, rg_hash *h)
{
    size_t n;
    const double *v = rg_path_options_lambdas(s->po, &n);
    feed_array(h, v, n, sizeof *v);
}

static void feed_layers(const rg_fit_setup *s, rg_hash *h)
{
    size_t n;
    const size_t *v = rg_path_options_layers(s->po, &n);
    feed_size(h, n);
    for (size_t i = 0; i < n; i++)
        feed_size(h, v[i]);
}

static void feed_test(const rg_fit_setup *s, rg_hash *h)
{
    const regnn_dataset *d = rg_path_options_test(s->po);
    feed_data(d, h);
    feed_weights(d, h);
}

static void feed_train(const rg_fit_setup *s, rg_hash *h) { feed_data(s->train, h); }
static void feed_val(const rg_fit_setup *s, rg_hash *h) { feed_data(s->val, h); }
static void feed_train_w(const rg_fit_setup *s, rg_hash *h) { feed_weights(s->train, h); }
static void feed_val_w(const rg_fit_setup *s, rg_hash *h) { feed_weights(s->val, h); }

#define FIELD(src, uses, type, name, field) \
    {name, src, uses, offsetof(type, field), sizeof(((type *)0)->field), NULL}
#define OPTIM(name, field, uses) FIELD(SRC_OPTIMIZER, uses, rg_optimizer_settings, name, field)
#define FIT_INT(name, key, uses) {name, SRC_FIT_INT, uses, key, 0, NULL}
#define FIT_DOUBLE(name, key, uses) {name, SRC_FIT_DOUBLE, uses, key, 0, NULL}
#define PATH_INT(name, key) {name, SRC_PATH_INT, USE_PATH, key, 0, NULL}
#define CUSTOM(name, fn, uses) {name, SRC_CUSTOM, uses, 0, 0, fn}
#define LAYER_VALUE(name, key) {name, SRC_LAYER, USE_BOTH, key, 0, NULL} /* every layer's */

/* Structure first, so that the first differing entry is the cause (other
 * layer sizes also change the parameters). Not here, as they do not change
 * the result: threads, callbacks, shard indexes, names, the scaler. */
static const setting table[] = {
    CUSTOM("model.inputs", feed_inputs, USE_BOTH),
    CUSTOM("model.layers", feed_topology, USE_BOTH),
    CUSTOM("layer.activation", feed_activation, USE_BOTH),
    CUSTOM("layer.l2", feed_l2, USE_BOTH),
    CUSTOM("layer.l1", feed_l1, USE_BOTH),
    CUSTOM("layer.dropout", feed_dropout, USE_BOTH),
    LAYER_VALUE("layer.bias_l2", REGNN_LAYER_BIAS_L2),
    LAYER_VALUE("layer.bias_l1", REGNN_LAYER_BIAS_L1),
    LAYER_VALUE("layer.max_norm", REGNN_LAYER_MAX_NORM),
    LAYER_VALUE("layer.min_norm", REGNN_LAYER_MIN_NORM),
    LAYER_VALUE("layer.norm_rate", REGNN_LAYER_NORM_RATE),
    LAYER_VALUE("layer.non_neg", REGNN_LAYER_NON_NEG),
    LAYER_VALUE("layer.unit_norm", REGNN_LAYER_UNIT_NORM),
    LAYER_VALUE("layer.activity_l2", REGNN_LAYER_ACTIVITY_L2),
    LAYER_VALUE("layer.activity_l1", REGNN_LAYER_ACTIVITY_L1),
    CUSTOM("model.loss", feed_loss, USE_BOTH),
    CUSTOM("model.loss_param", feed_loss_param, USE_BOTH),
    CUSTOM("model.seed", feed_rng, USE_FIT), /* the random stream: shuffling, dropout */
    CUSTOM("model.params", feed_params, USE_FIT),
    OPTIM("optimizer.kind", kind, USE_BOTH),
    OPTIM("optimizer.learning_rate", lr, USE_BOTH),
    OPTIM("optimizer.beta_1", beta1, USE_BOTH),
    OPTIM("optimizer.beta_2", beta2, USE_BOTH),
    OPTIM("optimizer.epsilon", eps, USE_BOTH),
    OPTIM("optimizer.weight_decay", wd, USE_BOTH),
    OPTIM("optimizer.momentum", momentum, USE_BOTH),
    OPTIM("optimizer.nesterov", nesterov, USE_BOTH),
    OPTIM("optimizer.rho", rho, USE_BOTH),
    OPTIM("optimizer.initial_accumulator", iacc, USE_BOTH),
    CUSTOM("optimizer.schedule", feed_schedule, USE_BOTH),
    OPTIM("optimizer.steps", steps, USE_FIT),
    CUSTOM("optimizer.state", feed_state, USE_FIT),
    FIT_INT("fit.epochs", REGNN_FIT_EPOCHS, USE_BOTH),
    FIT_INT("fit.batch_size", REGNN_FIT_BATCH_SIZE, USE_BOTH),
    FIT_INT("fit.shuffle", REGNN_FIT_SHUFFLE, USE_BOTH),
    FIT_DOUBLE("fit.validation_split", REGNN_FIT_VALIDATION_SPLIT, USE_BOTH),
    FIT_INT("fit.eval_train", REGNN_FIT_EVAL_TRAIN, USE_BOTH),
    FIT_INT("fit.early_stopping", REGNN_FIT_EARLY_STOPPING, USE_BOTH),
    FIT_INT("fit.patience", REGNN_FIT_PATIENCE, USE_BOTH),
    FIT_INT("fit.restore_best", REGNN_FIT_RESTORE_BEST, USE_BOTH),
    FIT_INT("fit.monitor", REGNN_FIT_MONITOR, USE_BOTH),
    FIT_DOUBLE("fit.min_delta", REGNN_FIT_MIN_DELTA, USE_BOTH),
    FIT_INT("fit.reduce_lr", REGNN_FIT_REDUCE_LR, USE_BOTH),
    FIT_INT("fit.reduce_lr_patience", REGNN_FIT_REDUCE_LR_PATIENCE, USE_BOTH),
    FIT_INT("fit.reduce_lr_cooldown", REGNN_FIT_REDUCE_LR_COOLDOWN, USE_BOTH),
    FIT_DOUBLE("fit.reduce_lr_factor", REGNN_FIT_REDUCE_LR_FACTOR, USE_BOTH),
    FIT_DOUBLE("fit.reduce_lr_min_delta", REGNN_FIT_REDUCE_LR_MIN_DELTA, USE_BOTH),
    FIT_DOUBLE("fit.reduce_lr_min_lr", REGNN_FIT_REDUCE_LR_MIN_LR, USE_BOTH),
    FIT_INT("fit.shard_count", REGNN_FIT_SHARD_COUNT, USE_FIT),
    CUSTOM("path.lambdas", feed_lambdas, USE_PATH),
    CUSTOM("path.layers", feed_layers, USE_PATH),
    PATH_INT("path.penalty", REGNN_PATH_PENALTY),
    PATH_INT("path.seeds", REGNN_PATH_SEEDS),
    PATH_INT("path.seed", REGNN_PATH_SEED),
    PATH_INT("path.init", REGNN_PATH_INIT),
    PATH_INT("path.folds", REGNN_PATH_FOLDS),
    PATH_INT("path.fold_seed", REGNN_PATH_FOLD_SEED),
    PATH_INT("path.shard_count", REGNN_PATH_SHARD_COUNT),
    PATH_INT("path.eval_train", REGNN_PATH_EVAL_TRAIN),
    CUSTOM("data.train", feed_train, USE_BOTH),
    CUSTOM("data.train_weights", feed_train_w, USE_BOTH),
    CUSTOM("data.val", feed_val, USE_BOTH),
    CUSTOM("data.val_weights", feed_val_w, USE_BOTH),
    CUSTOM("data.test", feed_test, USE_PATH),
};

_Static_assert(sizeof table / sizeof table[0] == RG_SETTINGS_COUNT,
               "RG_SETTINGS_COUNT is the size of the settings table");

const char *rg_settings_name(size_t i)
{
    return i < RG_SETTINGS_COUNT ? table[i].name : NULL;
}

static void feed_entry(const setting *e, const rg_fit_setup *s, rg_hash *h)
{
    if (!(e->uses & (s->po ? USE_PATH : USE_FIT)))
        return; /* the same (empty) hash everywhere */
    switch (e->src) {
    case SRC_PATH_INT: {
        int64_t v = 0;
        (void)regnn_path_options_get_int(s->po, (int)e->offset, &v);
        feed(h, &v, sizeof v);
        return;
    }
    case SRC_FIT_INT: { /* the bytes of the int64_t field */
        int64_t v = 0;
        (void)regnn_fit_options_get_int(s->opts, (int)e->offset, &v);
        feed(h, &v, sizeof v);
        return;
    }
    case SRC_FIT_DOUBLE: {
        double v = 0.0;
        (void)regnn_fit_options_get_double(s->opts, (int)e->offset, &v);
        feed(h, &v, sizeof v);
        return;
    }
    case SRC_OPTIMIZER: { /* the field's bytes, as the optimizer holds them */
        const rg_optimizer_settings os = rg_optimizer_get_settings(s->o);
        feed(h, (const unsigned char *)&os + e->offset, e->size);
        return;
    }
    case SRC_LAYER: feed_layer_value(s, h, (int)e->offset); return;
    default: e->feed(s, h); return;
    }
}

void rg_settings_fingerprint(const rg_fit_setup *s, uint64_t out[RG_SETTINGS_COUNT])
{
    for (size_t i = 0; i < RG_SETTINGS_COUNT; i++) {
        rg_hash h = {0x6A09E667F3BCC909ULL ^ i, 0};
        feed_entry(&table[i], s, &h);
        uint64_t v = mix(h.h, h.len);
        out[i] = (v ^ (v >> 40)) & RG_SETTINGS_HASH_MASK;
    }
}

const char *regnn_settings_name(size_t i) { return rg_settings_name(i); }
