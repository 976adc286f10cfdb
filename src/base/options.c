/* SPDX-License-Identifier: MIT */
/* Every enum-keyed option in one table: its range, default and whether it
 * changes results. The setters check values and word their refusals from it,
 * regnn_option_bounds hands it to callers (the Python binding, the regnn
 * program), and check_options proves each entry against its setter. */
#include "base.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum {
    MIN_OPEN = REGNN_BOUNDS_MIN_OPEN,
    MAX_OPEN = REGNN_BOUNDS_MAX_OPEN,
    INT = REGNN_BOUNDS_INTEGER,
    COUPLED = REGNN_BOUNDS_COUPLED
};

typedef struct rg_option {
    int kind, key;
    const char *name;    /* the enum constant, which messages name */
    const char *setting; /* its settings-fingerprint entry; NULL: results do not depend on it */
    double min, max, def;
    unsigned flags;
    const char *values; /* enum-valued options: the accepted names, for messages */
} rg_option;

#define FIT(key, setting, min, max, def, flags) \
    {REGNN_OPTION_FIT, key, #key, setting, min, max, def, flags, NULL}
#define FIT_ENUM(key, setting, min, max, def, values) \
    {REGNN_OPTION_FIT, key, #key, setting, min, max, def, INT, values}
#define PATH(key, setting, min, max, def, flags) \
    {REGNN_OPTION_PATH, key, #key, setting, min, max, def, INT | (flags), NULL}
#define PATH_ENUM(key, setting, min, max, def, values) \
    {REGNN_OPTION_PATH, key, #key, setting, min, max, def, INT, values}
#define LAYER(key, setting, max, def, flags) \
    {REGNN_OPTION_LAYER, key, #key, setting, 0.0, max, def, flags, NULL}
#define OPT(kind, key, setting, min, max, def, flags) \
    {kind, key, #key, setting, min, max, def, flags, NULL}
#define LOSS(key, min, max, def, flags) \
    {REGNN_OPTION_LOSS, key, #key, "model.loss_param", min, max, def, flags, NULL}

#define F32_LO (FLT_TRUE_MIN / 2.0)      /* above it, (float)v > 0 */
#define F32_HI ((double)FLT_MAX + 0x1p103) /* below it, (float)v is finite */

#define SCHED(kind, key, name, min, max, def, flags) \
    {kind, key, name, "optimizer.schedule", min, max, def, flags, NULL}

/* Flags 0 and 1 are integers in 0..1. "Finite and >= 0" is [0, inf). */
static const rg_option table[] = {
    FIT(REGNN_FIT_EPOCHS, "fit.epochs", 1, RG_MAX_EPOCHS, 1, INT),
    FIT(REGNN_FIT_BATCH_SIZE, "fit.batch_size", 1, RG_MAX_BATCH, 32, INT),
    FIT(REGNN_FIT_SHUFFLE, "fit.shuffle", 0, 1, 1, INT),
    FIT(REGNN_FIT_EARLY_STOPPING, "fit.early_stopping", 0, 1, 0, INT),
    FIT(REGNN_FIT_PATIENCE, "fit.patience", 0, INFINITY, 0, INT | MAX_OPEN),
    FIT(REGNN_FIT_RESTORE_BEST, "fit.restore_best", 0, 1, 0, INT),
    FIT_ENUM(REGNN_FIT_MONITOR, "fit.monitor", REGNN_MONITOR_VAL_LOSS, REGNN_MONITOR_TRAIN_LOSS,
             REGNN_MONITOR_VAL_LOSS,
             "REGNN_MONITOR_VAL_LOSS (0), REGNN_MONITOR_VAL_MSE (1) or REGNN_MONITOR_TRAIN_LOSS (2)"),
    FIT(REGNN_FIT_EVAL_TRAIN, "fit.eval_train", 0, 1, 0, INT),
    FIT(REGNN_FIT_SHARD_INDEX, NULL, 0, RG_MAX_SHARDS - 1, 0, INT | COUPLED),
    FIT(REGNN_FIT_SHARD_COUNT, "fit.shard_count", 1, RG_MAX_SHARDS, 1, INT | COUPLED),
    FIT(REGNN_FIT_REDUCE_LR, "fit.reduce_lr", 0, 1, 0, INT),
    /* keras.callbacks.ReduceLROnPlateau's defaults */
    FIT(REGNN_FIT_REDUCE_LR_PATIENCE, "fit.reduce_lr_patience", 0, INFINITY, 10, INT | MAX_OPEN),
    FIT(REGNN_FIT_REDUCE_LR_COOLDOWN, "fit.reduce_lr_cooldown", 0, INFINITY, 0, INT | MAX_OPEN),
    FIT(REGNN_FIT_VALIDATION_SPLIT, "fit.validation_split", 0, 1, 0, MAX_OPEN),
    FIT(REGNN_FIT_MIN_DELTA, "fit.min_delta", 0, INFINITY, 0, MAX_OPEN),
    FIT(REGNN_FIT_REDUCE_LR_FACTOR, "fit.reduce_lr_factor", 0, 1, 0.1, MIN_OPEN | MAX_OPEN),
    FIT(REGNN_FIT_REDUCE_LR_MIN_DELTA, "fit.reduce_lr_min_delta", 0, INFINITY, 1e-4, MAX_OPEN),
    FIT(REGNN_FIT_REDUCE_LR_MIN_LR, "fit.reduce_lr_min_lr", 0, INFINITY, 0, MAX_OPEN),

    PATH(REGNN_PATH_SEEDS, "path.seeds", 1, RG_PATH_MAX_COUNT, 1, 0),
    PATH(REGNN_PATH_SEED, "path.seed", 0, INFINITY, 0, MAX_OPEN),
    PATH_ENUM(REGNN_PATH_PENALTY, "path.penalty", REGNN_PENALTY_L2, REGNN_PENALTY_GAUSSIAN_NOISE,
              REGNN_PENALTY_L2,
              "REGNN_PENALTY_L2 (0), REGNN_PENALTY_L1 (1), REGNN_PENALTY_WEIGHT_DECAY (2), "
              "REGNN_PENALTY_DROPOUT (3), REGNN_PENALTY_MAX_NORM (4), "
              "REGNN_PENALTY_ACTIVITY_L2 (5), REGNN_PENALTY_BIAS_L2 (6) or "
              "REGNN_PENALTY_GAUSSIAN_NOISE (7)"),
    PATH(REGNN_PATH_THREADS, NULL, 0, RG_PATH_MAX_THREADS, 0, 0),
    PATH_ENUM(REGNN_PATH_INIT, "path.init", REGNN_INIT_GLOROT_UNIFORM, REGNN_INIT_HE_UNIFORM,
              REGNN_INIT_GLOROT_UNIFORM,
              "REGNN_INIT_GLOROT_UNIFORM (0) or REGNN_INIT_HE_UNIFORM (1)"),
    PATH(REGNN_PATH_FOLDS, "path.folds", 0, RG_PATH_MAX_COUNT, 0, 0),
    PATH(REGNN_PATH_FOLD_SEED, "path.fold_seed", 0, INFINITY, 0, MAX_OPEN),
    PATH(REGNN_PATH_SHARD_INDEX, NULL, 0, RG_PATH_MAX_COUNT - 1, 0, 0),
    PATH(REGNN_PATH_SHARD_COUNT, "path.shard_count", 1, RG_PATH_MAX_COUNT, 1, 0),
    PATH(REGNN_PATH_EVAL_TRAIN, "path.eval_train", 0, 1, 1, 0),

    LAYER(REGNN_LAYER_L2, "layer.l2", INFINITY, 0, MAX_OPEN),
    LAYER(REGNN_LAYER_L1, "layer.l1", INFINITY, 0, MAX_OPEN),
    LAYER(REGNN_LAYER_DROPOUT, "layer.dropout", 1, 0, MAX_OPEN),
    LAYER(REGNN_LAYER_BIAS_L2, "layer.bias_l2", INFINITY, 0, MAX_OPEN),
    LAYER(REGNN_LAYER_BIAS_L1, "layer.bias_l1", INFINITY, 0, MAX_OPEN),
    /* Kernel constraints: MIN_NORM <= MAX_NORM couples them; one kind per layer. */
    LAYER(REGNN_LAYER_MAX_NORM, "layer.max_norm", INFINITY, 0, MAX_OPEN | COUPLED),
    LAYER(REGNN_LAYER_MIN_NORM, "layer.min_norm", INFINITY, 0, MAX_OPEN | COUPLED),
    LAYER(REGNN_LAYER_NORM_RATE, "layer.norm_rate", 1, 1, 0),
    LAYER(REGNN_LAYER_NON_NEG, "layer.non_neg", 1, 0, INT | COUPLED),
    LAYER(REGNN_LAYER_UNIT_NORM, "layer.unit_norm", 1, 0, INT | COUPLED),
    LAYER(REGNN_LAYER_ACTIVITY_L2, "layer.activity_l2", INFINITY, 0, MAX_OPEN),
    LAYER(REGNN_LAYER_ACTIVITY_L1, "layer.activity_l1", INFINITY, 0, MAX_OPEN),

    /* The step runs in float32: a learning rate or epsilon that rounds to 0
     * or overflows there can only give NaN or Inf: the open bounds are the
     * midpoints where float32 rounding reaches 0 and inf. lr * wd <= 1 couples them
     * (the decay step multiplies weights by 1 - lr * wd). */
    OPT(REGNN_OPTION_ADAM, REGNN_OPT_LEARNING_RATE, "optimizer.learning_rate", F32_LO, F32_HI, 1e-3,
        MIN_OPEN | MAX_OPEN | COUPLED),
    OPT(REGNN_OPTION_ADAM, REGNN_OPT_BETA1, "optimizer.beta_1", 0, 1, 0.9, MAX_OPEN),
    OPT(REGNN_OPTION_ADAM, REGNN_OPT_BETA2, "optimizer.beta_2", 0, 1, 0.999, MAX_OPEN),
    OPT(REGNN_OPTION_ADAM, REGNN_OPT_EPSILON, "optimizer.epsilon", F32_LO, F32_HI, 1e-7,
        MIN_OPEN | MAX_OPEN),
    OPT(REGNN_OPTION_ADAM, REGNN_OPT_WEIGHT_DECAY, "optimizer.weight_decay", 0, INFINITY, 0,
        MAX_OPEN | COUPLED),
    OPT(REGNN_OPTION_SGD, REGNN_OPT_LEARNING_RATE, "optimizer.learning_rate", F32_LO, F32_HI, 1e-2,
        MIN_OPEN | MAX_OPEN | COUPLED),
    OPT(REGNN_OPTION_SGD, REGNN_OPT_WEIGHT_DECAY, "optimizer.weight_decay", 0, INFINITY, 0,
        MAX_OPEN | COUPLED),
    OPT(REGNN_OPTION_SGD, REGNN_OPT_MOMENTUM, "optimizer.momentum", 0, 1, 0, MAX_OPEN),
    OPT(REGNN_OPTION_SGD, REGNN_OPT_NESTEROV, "optimizer.nesterov", 0, 1, 0, INT),
    /* keras.optimizers.RMSprop, Adagrad, Adamax and Nadam's defaults */
    OPT(REGNN_OPTION_RMSPROP, REGNN_OPT_LEARNING_RATE, "optimizer.learning_rate", F32_LO, F32_HI,
        1e-3, MIN_OPEN | MAX_OPEN | COUPLED),
    OPT(REGNN_OPTION_RMSPROP, REGNN_OPT_RHO, "optimizer.rho", 0, 1, 0.9, MAX_OPEN),
    OPT(REGNN_OPTION_RMSPROP, REGNN_OPT_EPSILON, "optimizer.epsilon", F32_LO, F32_HI, 1e-7,
        MIN_OPEN | MAX_OPEN),
    OPT(REGNN_OPTION_RMSPROP, REGNN_OPT_WEIGHT_DECAY, "optimizer.weight_decay", 0, INFINITY, 0,
        MAX_OPEN | COUPLED),
    OPT(REGNN_OPTION_ADAGRAD, REGNN_OPT_LEARNING_RATE, "optimizer.learning_rate", F32_LO, F32_HI,
        1e-3, MIN_OPEN | MAX_OPEN | COUPLED),
    OPT(REGNN_OPTION_ADAGRAD, REGNN_OPT_INITIAL_ACCUMULATOR, "optimizer.initial_accumulator", 0,
        F32_HI, 0.1, MAX_OPEN),
    OPT(REGNN_OPTION_ADAGRAD, REGNN_OPT_EPSILON, "optimizer.epsilon", F32_LO, F32_HI, 1e-7,
        MIN_OPEN | MAX_OPEN),
    OPT(REGNN_OPTION_ADAGRAD, REGNN_OPT_WEIGHT_DECAY, "optimizer.weight_decay", 0, INFINITY, 0,
        MAX_OPEN | COUPLED),
    OPT(REGNN_OPTION_ADAMAX, REGNN_OPT_LEARNING_RATE, "optimizer.learning_rate", F32_LO, F32_HI,
        1e-3, MIN_OPEN | MAX_OPEN | COUPLED),
    OPT(REGNN_OPTION_ADAMAX, REGNN_OPT_BETA1, "optimizer.beta_1", 0, 1, 0.9, MAX_OPEN),
    OPT(REGNN_OPTION_ADAMAX, REGNN_OPT_BETA2, "optimizer.beta_2", 0, 1, 0.999, MAX_OPEN),
    OPT(REGNN_OPTION_ADAMAX, REGNN_OPT_EPSILON, "optimizer.epsilon", F32_LO, F32_HI, 1e-7,
        MIN_OPEN | MAX_OPEN),
    OPT(REGNN_OPTION_ADAMAX, REGNN_OPT_WEIGHT_DECAY, "optimizer.weight_decay", 0, INFINITY, 0,
        MAX_OPEN | COUPLED),
    OPT(REGNN_OPTION_NADAM, REGNN_OPT_LEARNING_RATE, "optimizer.learning_rate", F32_LO, F32_HI,
        1e-3, MIN_OPEN | MAX_OPEN | COUPLED),
    OPT(REGNN_OPTION_NADAM, REGNN_OPT_BETA1, "optimizer.beta_1", 0, 1, 0.9, MAX_OPEN),
    OPT(REGNN_OPTION_NADAM, REGNN_OPT_BETA2, "optimizer.beta_2", 0, 1, 0.999, MAX_OPEN),
    OPT(REGNN_OPTION_NADAM, REGNN_OPT_EPSILON, "optimizer.epsilon", F32_LO, F32_HI, 1e-7,
        MIN_OPEN | MAX_OPEN),
    OPT(REGNN_OPTION_NADAM, REGNN_OPT_WEIGHT_DECAY, "optimizer.weight_decay", 0, INFINITY, 0,
        MAX_OPEN | COUPLED),

    /* the param of regnn_model_set_loss: Huber's delta (Keras' default 1), 0 for the others */
    LOSS(REGNN_LOSS_MSE, 0, 0, 0, 0),
    LOSS(REGNN_LOSS_MAE, 0, 0, 0, 0),
    LOSS(REGNN_LOSS_HUBER, 0, INFINITY, 1, MIN_OPEN | MAX_OPEN),
    LOSS(REGNN_LOSS_LOG_COSH, 0, 0, 0, 0),

    /* Schedule parameters by position. A learning rate may be 0 here, as in
     * Keras (warm-up from 0, alpha = 0); its peak times the weight decay is
     * at most 1. */
    SCHED(REGNN_OPTION_EXPONENTIAL_DECAY, 0, "initial_learning_rate", 0, FLT_MAX, NAN, COUPLED),
    SCHED(REGNN_OPTION_EXPONENTIAL_DECAY, 1, "decay_steps", 0, INFINITY, NAN, MIN_OPEN | MAX_OPEN),
    SCHED(REGNN_OPTION_EXPONENTIAL_DECAY, 2, "decay_rate", 0, 1, NAN, 0), /* > 1 grows without bound */
    SCHED(REGNN_OPTION_EXPONENTIAL_DECAY, 3, "staircase", 0, 1, 0, INT),
    SCHED(REGNN_OPTION_PIECEWISE_DECAY, 0, "boundary", 0, (double)RG_MAX_STEPS, NAN, INT | COUPLED), /* increasing */
    SCHED(REGNN_OPTION_PIECEWISE_DECAY, 1, "value", 0, FLT_MAX, NAN, COUPLED),
    SCHED(REGNN_OPTION_COSINE_DECAY, 0, "initial_learning_rate", 0, FLT_MAX, NAN, COUPLED),
    SCHED(REGNN_OPTION_COSINE_DECAY, 1, "decay_steps", 0, INFINITY, NAN, MIN_OPEN | MAX_OPEN),
    SCHED(REGNN_OPTION_COSINE_DECAY, 2, "alpha", 0, 1, 0, 0),
    /* absent: no warm-up (the decay starts from initial_learning_rate) */
    SCHED(REGNN_OPTION_COSINE_DECAY, 3, "warmup_target", 0, FLT_MAX, NAN, COUPLED),
    SCHED(REGNN_OPTION_COSINE_DECAY, 4, "warmup_steps", 0, INFINITY, 0, MAX_OPEN),
    SCHED(REGNN_OPTION_INVERSE_TIME_DECAY, 0, "initial_learning_rate", 0, FLT_MAX, NAN, COUPLED),
    SCHED(REGNN_OPTION_INVERSE_TIME_DECAY, 1, "decay_steps", 0, INFINITY, NAN, MIN_OPEN | MAX_OPEN),
    /* < 0 would raise the rate and divide by 0 on the way */
    SCHED(REGNN_OPTION_INVERSE_TIME_DECAY, 2, "decay_rate", 0, INFINITY, NAN, MAX_OPEN),
    SCHED(REGNN_OPTION_INVERSE_TIME_DECAY, 3, "staircase", 0, 1, 0, INT),
    SCHED(REGNN_OPTION_POLYNOMIAL_DECAY, 0, "initial_learning_rate", 0, FLT_MAX, NAN, COUPLED),
    SCHED(REGNN_OPTION_POLYNOMIAL_DECAY, 1, "decay_steps", 0, INFINITY, NAN, MIN_OPEN | MAX_OPEN),
    SCHED(REGNN_OPTION_POLYNOMIAL_DECAY, 2, "end_learning_rate", 0, FLT_MAX, 1e-4, COUPLED),
    /* <= 0 would reach 0^power at the end of the decay */
    SCHED(REGNN_OPTION_POLYNOMIAL_DECAY, 3, "power", 0, INFINITY, 1, MIN_OPEN | MAX_OPEN),
    SCHED(REGNN_OPTION_POLYNOMIAL_DECAY, 4, "cycle", 0, 1, 0, INT),
    SCHED(REGNN_OPTION_COSINE_RESTARTS, 0, "initial_learning_rate", 0, FLT_MAX, NAN, COUPLED),
    SCHED(REGNN_OPTION_COSINE_RESTARTS, 1, "first_decay_steps", 0, INFINITY, NAN,
          MIN_OPEN | MAX_OPEN),
    /* < 1: the periods add up to a finite length, past which Keras's gives NaN */
    SCHED(REGNN_OPTION_COSINE_RESTARTS, 2, "t_mul", 1, INFINITY, 2, MAX_OPEN),
    SCHED(REGNN_OPTION_COSINE_RESTARTS, 3, "m_mul", 0, 1, 1, 0), /* > 1 grows without bound */
    SCHED(REGNN_OPTION_COSINE_RESTARTS, 4, "alpha", 0, 1, 0, 0),
};

#define TABLE_SIZE (sizeof table / sizeof table[0])

static const rg_option *find(int kind, int key)
{
    for (size_t i = 0; i < TABLE_SIZE; i++)
        if (table[i].kind == kind && table[i].key == key)
            return &table[i];
    return NULL;
}

double rg_option_default(int kind, int key)
{
    const rg_option *e = find(kind, key);
    return e ? e->def : 0.0;
}

const char *rg_option_setting(size_t i, int *kind, int *key)
{
    if (i >= TABLE_SIZE)
        return NULL;
    *kind = table[i].kind;
    *key = table[i].key;
    return table[i].setting ? table[i].setting : "";
}

static int in_range(const rg_option *e, double v)
{
    if (!(e->flags & MIN_OPEN ? v > e->min : v >= e->min))
        return 0;
    if (!(e->flags & MAX_OPEN ? v < e->max : v <= e->max))
        return 0;
    return !(e->flags & INT) || v == floor(v);
}

/* The range in words: "in 1..1048576", ">= 0", "0 or 1", "in (0, 1)", "finite and > 0". */
static void describe(const rg_option *e, char *buf, size_t len)
{
    char lo[40], hi[40];
    rg_format_double(lo, sizeof lo, e->min);
    rg_format_double(hi, sizeof hi, e->max);
    const int open_top = isinf(e->max);
    if (e->values)
        snprintf(buf, len, "%s", e->values);
    else if (e->min == e->max)
        snprintf(buf, len, "%s", lo);
    else if ((e->flags & INT) && e->min == 0 && e->max == 1)
        snprintf(buf, len, "0 or 1");
    else if ((e->flags & INT) && open_top)
        snprintf(buf, len, ">= %.0f", e->min);
    else if (e->flags & INT) /* whole numbers below 2^54: exact in %.0f */
        snprintf(buf, len, "in %.0f..%.0f", e->min, e->max);
    else if (open_top)
        snprintf(buf, len, "finite and %s %s", e->flags & MIN_OPEN ? ">" : ">=", lo);
    else
        snprintf(buf, len, "in %c%s, %s%c", e->flags & MIN_OPEN ? '(' : '[', lo, hi,
                 e->flags & MAX_OPEN ? ')' : ']');
}

const char *rg_option_problem(int kind, int key, double v, char *buf, size_t len)
{
    const rg_option *e = find(kind, key);
    if (!e) {
        snprintf(buf, len, "unknown key %d", key);
        return buf;
    }
    if (in_range(e, v))
        return NULL;
    char range[400], got[40];
    describe(e, range, sizeof range);
    rg_format_double(got, sizeof got, v);
    snprintf(buf, len, "%s must be %s, got %s", e->name, range, got);
    return buf;
}

regnn_status rg_option_check(const char *fn, int kind, int key, double v)
{
    char why[512];
    if (rg_option_problem(kind, key, v, why, sizeof why))
        return rg_error(REGNN_E_INVALID_ARG, "%s: %s", fn, why);
    return REGNN_OK;
}

regnn_status rg_option_check_int(const char *fn, int kind, int key, int64_t v)
{
    const rg_option *e = find(kind, key);
    /* Every finite bound is below 2^53, so it compares exactly as an integer;
     * an infinite max lets every int64 through. */
    if (e && v >= (int64_t)e->min && (isinf(e->max) || v <= (int64_t)e->max))
        return REGNN_OK;
    char why[512];
    snprintf(why, sizeof why, "unknown key %d", key);
    if (e) {
        char range[400];
        describe(e, range, sizeof range);
        snprintf(why, sizeof why, "%s must be %s, got %lld", e->name, range, (long long)v);
    }
    return rg_error(REGNN_E_INVALID_ARG, "%s: %s", fn, why);
}

regnn_status regnn_option_bounds(int kind, int key, regnn_bounds *out)
{
    static const char fn[] = "regnn_option_bounds";
    const size_t need = offsetof(regnn_bounds, flags) + sizeof out->flags;
    if (!out || out->size < need)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: out is NULL or out->size is below %zu (set it to sizeof(regnn_bounds))",
                        fn, need);
    const rg_option *e = find(kind, key);
    if (!e)
        return rg_error(REGNN_E_UNSUPPORTED, "%s: no option %d of kind %d (REGNN_OPTION_*)", fn, key,
                        kind);
    regnn_bounds b = {sizeof b, e->min, e->max, e->def, e->flags};
    if (e->setting)
        b.flags |= REGNN_BOUNDS_CHANGES_RESULTS;
    const size_t n = out->size < sizeof b ? out->size : sizeof b;
    b.size = n;
    memcpy(out, &b, n);
    return REGNN_OK;
}

const char *regnn_option_name(int kind, int key)
{
    const rg_option *e = find(kind, key);
    return e ? e->name : NULL;
}
