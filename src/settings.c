/* The settings of a fit that change its result, as one table of named
 * entries, and a fingerprint of them: one hash per entry, so that processes
 * that must hold the same settings can say which one differs. */
#include "internal.h"

#include <stddef.h>
#include <string.h>

/* Where an entry's bytes live. */
enum { SRC_MODEL, SRC_LAYERS, SRC_OPTIMIZER, SRC_FIT, SRC_CUSTOM };

typedef struct rg_hash {
    uint64_t h, len;
} rg_hash;

typedef void (*feed_fn)(const rg_fit_setup *s, rg_hash *h);

typedef struct setting {
    const char *name;
    int src;
    size_t offset, size; /* the field's bytes in its struct (not SRC_CUSTOM) */
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

static void feed_floats(rg_hash *h, const float *v, size_t n)
{
    feed_size(h, n);
    if (v && n)
        feed(h, v, n * sizeof *v);
}

/* ---- entries read by a function ---- */

static void feed_topology(const rg_fit_setup *s, rg_hash *h)
{
    feed_size(h, s->m->n_layers);
    for (size_t i = 0; i < s->m->n_layers; i++)
        feed_size(h, s->m->layers[i]->units);
}

static void feed_params(const rg_fit_setup *s, rg_hash *h)
{
    feed_floats(h, s->m->params, s->m->n_params);
}

static void feed_state(const rg_fit_setup *s, rg_hash *h)
{
    const regnn_optimizer *o = s->o;
    feed_floats(h, o->m, o->m ? o->n : 0);
    feed_floats(h, o->v, o->v ? o->n : 0);
}

static void feed_schedule(const rg_fit_setup *s, rg_hash *h)
{
    const rg_schedule *sc = &s->o->sched;
    feed(h, &sc->kind, sizeof sc->kind);
    feed_size(h, sc->n);
    if (sc->n)
        feed(h, sc->p, sc->n * sizeof *sc->p);
}

static void feed_data(const regnn_dataset *d, rg_hash *h)
{
    feed_size(h, d != NULL);
    if (!d)
        return;
    feed_size(h, d->rows);
    feed_size(h, d->n_x);
    feed_floats(h, d->x, d->rows * d->n_x);
    feed_floats(h, d->y, d->rows * d->n_y);
}

static void feed_weights(const regnn_dataset *d, rg_hash *h)
{
    feed_size(h, d && d->w); /* presence, then the values */
    if (d && d->w)
        feed_floats(h, d->w, d->rows);
}

static void feed_train(const rg_fit_setup *s, rg_hash *h) { feed_data(s->train, h); }
static void feed_val(const rg_fit_setup *s, rg_hash *h) { feed_data(s->val, h); }
static void feed_train_w(const rg_fit_setup *s, rg_hash *h) { feed_weights(s->train, h); }
static void feed_val_w(const rg_fit_setup *s, rg_hash *h) { feed_weights(s->val, h); }

#define FIELD(src, type, name, field) {name, src, offsetof(type, field), sizeof(((type *)0)->field), NULL}
#define MODEL(name, field) FIELD(SRC_MODEL, regnn_model, name, field)
#define LAYER(name, field) FIELD(SRC_LAYERS, struct regnn_layer, name, field)
#define OPTIM(name, field) FIELD(SRC_OPTIMIZER, regnn_optimizer, name, field)
#define FIT(name, field) FIELD(SRC_FIT, regnn_fit_options, name, field)
#define CUSTOM(name, fn) {name, SRC_CUSTOM, 0, 0, fn}

/* Structure first, so that the first differing entry is the cause (other
 * layer sizes also change the parameters). Not here, as they do not change
 * the result: threads, the callback, the shard index, names, the scaler. */
static const setting table[] = {
    MODEL("model.inputs", n_in),
    CUSTOM("model.layers", feed_topology),
    LAYER("layer.activation", act),
    LAYER("layer.l2", l2),
    LAYER("layer.l1", l1),
    LAYER("layer.dropout", dropout),
    MODEL("model.loss", loss),
    MODEL("model.loss_param", loss_param),
    MODEL("model.seed", rng), /* the random stream: shuffling, dropout */
    CUSTOM("model.params", feed_params),
    OPTIM("optimizer.kind", kind),
    OPTIM("optimizer.learning_rate", lr),
    OPTIM("optimizer.beta_1", beta1),
    OPTIM("optimizer.beta_2", beta2),
    OPTIM("optimizer.epsilon", eps),
    OPTIM("optimizer.weight_decay", wd),
    OPTIM("optimizer.momentum", momentum),
    OPTIM("optimizer.nesterov", nesterov),
    CUSTOM("optimizer.schedule", feed_schedule),
    OPTIM("optimizer.steps", steps),
    CUSTOM("optimizer.state", feed_state),
    FIT("fit.epochs", epochs),
    FIT("fit.batch_size", batch_size),
    FIT("fit.shuffle", shuffle),
    FIT("fit.validation_split", validation_split),
    FIT("fit.eval_train", eval_train),
    FIT("fit.early_stopping", early_stopping),
    FIT("fit.patience", patience),
    FIT("fit.restore_best", restore_best),
    FIT("fit.monitor", monitor),
    FIT("fit.min_delta", min_delta),
    FIT("fit.reduce_lr", reduce_lr),
    FIT("fit.reduce_lr_patience", reduce_lr_patience),
    FIT("fit.reduce_lr_cooldown", reduce_lr_cooldown),
    FIT("fit.reduce_lr_factor", reduce_lr_factor),
    FIT("fit.reduce_lr_min_delta", reduce_lr_min_delta),
    FIT("fit.reduce_lr_min_lr", reduce_lr_min_lr),
    FIT("fit.shard_count", shard_count),
    CUSTOM("data.train", feed_train),
    CUSTOM("data.train_weights", feed_train_w),
    CUSTOM("data.val", feed_val),
    CUSTOM("data.val_weights", feed_val_w),
};

_Static_assert(sizeof table / sizeof table[0] == RG_SETTINGS_COUNT,
               "RG_SETTINGS_COUNT is the size of the settings table");

const char *rg_settings_name(size_t i)
{
    return i < RG_SETTINGS_COUNT ? table[i].name : NULL;
}

static void feed_entry(const setting *e, const rg_fit_setup *s, rg_hash *h)
{
    const unsigned char *base = NULL;
    switch (e->src) {
    case SRC_MODEL: base = (const unsigned char *)s->m; break;
    case SRC_OPTIMIZER: base = (const unsigned char *)s->o; break;
    case SRC_FIT: base = (const unsigned char *)s->opts; break;
    case SRC_LAYERS: /* the field of every layer, in order */
        for (size_t i = 0; i < s->m->n_layers; i++)
            feed(h, (const unsigned char *)s->m->layers[i] + e->offset, e->size);
        return;
    default: e->feed(s, h); return;
    }
    feed(h, base + e->offset, e->size);
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
