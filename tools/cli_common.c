/* SPDX-License-Identifier: MIT */
/* cli_common.c - see cli.h. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include "exutil.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *g_name = "regnn";

void cli_set_name(const char *name) { g_name = name; }
const char *cli_name(void) { return g_name; }

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", g_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int cli_lib_fail(const char *what)
{
    const char *msg = regnn_errmsg();
    return cli_fail(CLI_ERR, "%s: %s", what, *msg ? msg : "failed");
}

int cli_bad_option(const char *opt, const char *value, const char *expected)
{
    if (!value)
        return cli_fail(CLI_USAGE, "%s needs a value: %s (see %s --help)", opt, expected, g_name);
    return cli_fail(CLI_USAGE, "%s '%s': %s (see %s --help)", opt, value, expected, g_name);
}

void cli_train_defaults(cli_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_layers = 6;
    for (size_t i = 0; i < o->n_layers; i++)
        o->units[i] = 128;
    o->activation = REGNN_ACT_RELU;
    o->feature_scale = REGNN_SCALE_UNIT_NORM;
    o->target_scale = REGNN_SCALE_ZSCORE;
    o->optimizer = REGNN_OPTIM_ADAM;
    o->lr = NAN; /* the optimizer's default (cli_train_finish) */
    o->val_split = 0.15;
    o->test_split = 0.1;
    o->epochs = 100;
    o->batch = 64;
    o->seed = 1;
    o->patience = -1;
    o->loss = REGNN_LOSS_MSE;
    o->schedule = REGNN_SCHEDULE_CONSTANT;
    o->delimiter = ',';
    o->na = CLI_NA_ERROR;
}

/* "a,b,c" into o->drops. 0, or -1 if malformed. */
static int parse_drops(const char *s, cli_train_opts *o)
{
    size_t len = strlen(s);
    if (len == 0 || len >= sizeof o->drop_buf)
        return -1;
    memcpy(o->drop_buf, s, len + 1);
    o->n_drops = 0;
    for (char *p = o->drop_buf; p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p || o->n_drops == CLI_MAX_DROPS)
            return -1;
        o->drops[o->n_drops++] = p;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

/* mse, mae, huber, huber:DELTA or log-cosh. 0, or -1 if malformed. */
static int parse_loss(const char *s, cli_train_opts *o)
{
    o->loss_param = 0;
    if (strcmp(s, "mse") == 0)
        o->loss = REGNN_LOSS_MSE;
    else if (strcmp(s, "mae") == 0)
        o->loss = REGNN_LOSS_MAE;
    else if (strcmp(s, "log-cosh") == 0 || strcmp(s, "logcosh") == 0)
        o->loss = REGNN_LOSS_LOG_COSH;
    else if (strcmp(s, "huber") == 0) {
        o->loss = REGNN_LOSS_HUBER;
        o->loss_param = 1.0; /* Keras' default delta */
    } else if (strncmp(s, "huber:", 6) == 0) {
        o->loss = REGNN_LOSS_HUBER;
        if (ex_parse_double(s + 6, &o->loss_param) != 0 || !(o->loss_param > 0) ||
            !isfinite(o->loss_param))
            return -1;
    } else
        return -1;
    return 0;
}

/* The numbers of a comma-separated list s into out[0..cap); their count, or
 * -1 if malformed. */
static int number_list(const char *s, double *out, size_t cap)
{
    int n = ex_parse_double_list(s, out, cap);
    return n >= 1 ? n : -1;
}

/* The numbers f[1..nf) into o->sched[1..nf): the parameters after
 * initial_learning_rate of a schedule that takes min..max of them in all. 0,
 * or -1 if malformed. The word "staircase" or "cycle" as last field is 1. */
static int schedule_numbers(char **f, size_t nf, size_t min, size_t max, const char *flag,
                            cli_train_opts *o)
{
    if (nf < min || nf > max)
        return -1;
    for (size_t k = 1; k < nf; k++) {
        if (flag && k + 1 == max && strcmp(f[k], flag) == 0)
            o->sched[k] = 1;
        else if (ex_parse_double(f[k], &o->sched[k]) != 0)
            return -1;
    }
    o->n_sched = nf;
    return 0;
}

/* inverse:STEPS:RATE[:staircase], polynomial:STEPS[:END[:POWER[:cycle]]] or
 * restarts:STEPS[:T_MUL[:M_MUL[:ALPHA]]]: 0, -1 if malformed, 1 if none of them. */
static int parse_schedule_1_3(char **f, size_t nf, cli_train_opts *o)
{
    if (strcmp(f[0], "inverse") == 0) {
        o->schedule = REGNN_SCHEDULE_INVERSE_TIME;
        return schedule_numbers(f, nf, 3, 4, "staircase", o);
    }
    if (strcmp(f[0], "polynomial") == 0) {
        o->schedule = REGNN_SCHEDULE_POLYNOMIAL;
        return schedule_numbers(f, nf, 2, 5, "cycle", o);
    }
    if (strcmp(f[0], "restarts") == 0) {
        o->schedule = REGNN_SCHEDULE_COSINE_RESTARTS;
        return schedule_numbers(f, nf, 2, 5, NULL, o);
    }
    return 1;
}

/* exponential:STEPS:RATE[:staircase], cosine:STEPS[:ALPHA],
 * piecewise:B1,...,Bk:V0,...,Vk, those of parse_schedule_1_3 or constant; the
 * initial learning rate is --lr (filled in by cli_optimizer). 0, or -1 if
 * malformed. */
static int parse_schedule(const char *s, cli_train_opts *o)
{
    char buf[1024];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    char *f[6] = {buf, NULL, NULL, NULL, NULL, NULL};
    size_t nf = 1;
    for (char *p = buf; *p && nf < 6; p++)
        if (*p == ':') {
            *p = '\0';
            f[nf++] = p + 1;
        }
    o->n_sched = 0;
    if (strcmp(f[0], "constant") == 0 && nf == 1) {
        o->schedule = REGNN_SCHEDULE_CONSTANT;
        return 0;
    }
    if (strcmp(f[0], "exponential") == 0 && (nf == 3 || nf == 4)) {
        o->schedule = REGNN_SCHEDULE_EXPONENTIAL;
        if (ex_parse_double(f[1], &o->sched[1]) != 0 || ex_parse_double(f[2], &o->sched[2]) != 0)
            return -1;
        o->n_sched = 3;
        if (nf == 4) {
            if (strcmp(f[3], "staircase") != 0)
                return -1;
            o->sched[o->n_sched++] = 1;
        }
        return 0;
    }
    if (strcmp(f[0], "cosine") == 0 && (nf == 2 || nf == 3)) {
        o->schedule = REGNN_SCHEDULE_COSINE;
        if (ex_parse_double(f[1], &o->sched[1]) != 0)
            return -1;
        o->n_sched = 2;
        if (nf == 3 && ex_parse_double(f[2], &o->sched[o->n_sched++]) != 0)
            return -1;
        return 0;
    }
    if (strcmp(f[0], "piecewise") == 0 && nf == 3) {
        o->schedule = REGNN_SCHEDULE_PIECEWISE;
        double b[CLI_MAX_SCHEDULE], v[CLI_MAX_SCHEDULE];
        int nb = number_list(f[1], b, CLI_MAX_SCHEDULE / 2),
            nv = number_list(f[2], v, CLI_MAX_SCHEDULE / 2 + 1);
        if (nb < 1 || nv != nb + 1)
            return -1;
        memcpy(o->sched, b, (size_t)nb * sizeof *b);
        memcpy(o->sched + nb, v, (size_t)nv * sizeof *v);
        o->n_sched = (size_t)(nb + nv);
        return 0;
    }
    const int rc = nf <= 5 ? parse_schedule_1_3(f, nf, o) : -1;
    return rc == 1 ? -1 : rc;
}

/* --optimizer's names, their kinds and option groups (the defaults' home). */
static const char *const optim_names[] = {"adam", "sgd", "rmsprop", "adagrad", "adamax", "nadam"};
static const int optim_kinds[] = {REGNN_OPTIM_ADAM,    REGNN_OPTIM_SGD,    REGNN_OPTIM_RMSPROP,
                                  REGNN_OPTIM_ADAGRAD, REGNN_OPTIM_ADAMAX, REGNN_OPTIM_NADAM};
static const char *const optim_titles[] = {"Adam",    "SGD",    "RMSprop",
                                            "Adagrad", "Adamax", "Nadam"};
static const int optim_options[] = {REGNN_OPTION_ADAM,    REGNN_OPTION_SGD,
                                    REGNN_OPTION_RMSPROP, REGNN_OPTION_ADAGRAD,
                                    REGNN_OPTION_ADAMAX,  REGNN_OPTION_NADAM};

/* "128,128", "128x6", "128x2,16" or "none". 0, or -1 if malformed. */
static int parse_targets(const char *s, cli_train_opts *o)
{
    size_t len = strlen(s);
    if (len == 0 || len >= sizeof o->target_buf)
        return -1;
    memcpy(o->target_buf, s, len + 1);
    o->n_targets = 0;
    for (char *p = o->target_buf; p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p || o->n_targets == CLI_MAX_TARGETS)
            return -1;
        o->targets[o->n_targets++] = p;
        p = comma ? comma + 1 : NULL;
    }
    o->target_list = s;
    return 0;
}

/* One of words[0..n) into *out as values[i]: 0, or -1 (v NULL or none of
 * them). */
static int pick(const char *v, const char *const *words, const int *values, size_t n, int *out)
{
    for (size_t k = 0; v && k < n; k++)
        if (strcmp(v, words[k]) == 0) {
            *out = values[k];
            return 0;
        }
    return -1;
}

#define PICK(v, words, values, out) pick(v, words, values, sizeof words / sizeof *words, out)

/* The name of each REGNN_ACT_*, by code. */
static const char *const ACT_NAMES[] = {"linear", "relu",       "sigmoid", "tanh",
                                        "elu",    "selu",       "gelu",    "swish",
                                        "leaky_relu", "softplus"};
_Static_assert(sizeof ACT_NAMES / sizeof *ACT_NAMES == REGNN_ACT_SOFTPLUS + 1,
               "a name for every activation");

const char *cli_act_name(int act)
{
    return act >= 0 && act <= REGNN_ACT_SOFTPLUS ? ACT_NAMES[act] : "?";
}

/* --activation NAME: any activation but linear, or silu (swish). */
static int pick_activation(const char *v, int *out)
{
    for (int a = REGNN_ACT_LINEAR + 1; v && a <= REGNN_ACT_SOFTPLUS; a++)
        if (strcmp(v, ACT_NAMES[a]) == 0) {
            *out = a;
            return 0;
        }
    if (v && strcmp(v, "silu") == 0) {
        *out = REGNN_ACT_SWISH;
        return 0;
    }
    return -1;
}

/* Whether the library takes a noise layer of this type and value (its range
 * is written there). */
static int noise_ok(int type, double v)
{
    regnn_model *t = NULL;
    if (regnn_model_create(1, &t) != REGNN_OK)
        return 0;
    const regnn_status st = type == REGNN_LAYERTYPE_GAUSSIAN_NOISE
                                ? regnn_model_add_gaussian_noise(t, v, NULL)
                                : regnn_model_add_gaussian_dropout(t, v, NULL);
    regnn_model_free(t);
    return st == REGNN_OK;
}

/* The options of the network: --layers, --activation, --l2, --l1,
 * --dropout, --bias-l2, --activity-l2, --max-norm, --loss. CLI_OK, a usage error, or -1 when a is none of them. */
static int model_option(int argc, char **argv, int *i, cli_train_opts *o)
{
    const char *a = argv[*i], *v = NULL;
    if (strcmp(a, "--layer-norm") == 0) {
        o->layer_norm = 1;
    } else if (strcmp(a, "--batch-norm") == 0) {
        o->batch_norm = 1;
    } else if (ex_option(argc, argv, i, "--layers", &v)) {
        if (!v || ex_parse_layers(v, o->units, CLI_MAX_LAYERS, &o->n_layers) != 0)
            return cli_bad_option(a, v,
                                  "expected hidden layer sizes such as 128,128 or 128x6, or none "
                                  "(at most 64 layers)");
    } else if (ex_option(argc, argv, i, "--activation", &v)) {
        if (pick_activation(v, &o->activation) != 0)
            return cli_bad_option(a, v,
                                  "expected relu, tanh, sigmoid, elu, selu, gelu, swish (or "
                                  "silu), leaky_relu or softplus");
    } else if (ex_option(argc, argv, i, "--l2", &v)) {
        if (ex_parse_double(v, &o->l2) != 0 || o->l2 < 0)
            return cli_bad_option(a, v, "expected a number >= 0");
    } else if (ex_option(argc, argv, i, "--l1", &v)) {
        if (ex_parse_double(v, &o->l1) != 0 || o->l1 < 0)
            return cli_bad_option(a, v, "expected a number >= 0");
    } else if (ex_option(argc, argv, i, "--dropout", &v)) {
        if (ex_parse_double(v, &o->dropout) != 0 || o->dropout < 0 || o->dropout >= 1)
            return cli_bad_option(a, v, "expected a rate in [0, 1)");
    } else if (ex_option(argc, argv, i, "--gaussian-noise", &v)) {
        if (ex_parse_double(v, &o->gaussian_noise) != 0 ||
            !noise_ok(REGNN_LAYERTYPE_GAUSSIAN_NOISE, o->gaussian_noise))
            return cli_bad_option(a, v, "expected a standard deviation in [0, 1]");
    } else if (ex_option(argc, argv, i, "--gaussian-dropout", &v)) {
        if (ex_parse_double(v, &o->gaussian_dropout) != 0 ||
            !noise_ok(REGNN_LAYERTYPE_GAUSSIAN_DROPOUT, o->gaussian_dropout))
            return cli_bad_option(a, v, "expected a rate in [0, 1)");
    } else if (ex_option(argc, argv, i, "--bias-l2", &v)) {
        if (ex_parse_double(v, &o->bias_l2) != 0 || o->bias_l2 < 0)
            return cli_bad_option(a, v, "expected a number >= 0");
    } else if (ex_option(argc, argv, i, "--activity-l2", &v)) {
        if (ex_parse_double(v, &o->activity_l2) != 0 || o->activity_l2 < 0)
            return cli_bad_option(a, v, "expected a number >= 0");
    } else if (ex_option(argc, argv, i, "--max-norm", &v)) {
        if (ex_parse_double(v, &o->max_norm) != 0 || o->max_norm < 0)
            return cli_bad_option(a, v, "expected a number >= 0 (0: none)");
    } else if (ex_option(argc, argv, i, "--loss", &v)) {
        if (!v || parse_loss(v, o) != 0)
            return cli_bad_option(a, v, "expected mse, mae, huber, huber:DELTA (DELTA > 0) or "
                                        "log-cosh");
    } else {
        return -1;
    }
    return CLI_OK;
}

/* The options of training: --lr, --schedule, --epochs, --batch, --seed,
 * --shuffle, --restore-best, --early-stopping. As model_option. */
static int training_option(int argc, char **argv, int *i, cli_train_opts *o)
{
    const char *a = argv[*i], *v = NULL;
    if (strcmp(a, "--shuffle") == 0) {
        o->shuffle = 1;
    } else if (strcmp(a, "--restore-best") == 0) {
        o->restore_best = 1;
    } else if (ex_option(argc, argv, i, "--lr", &v)) {
        if (ex_parse_double(v, &o->lr) != 0 || o->lr <= 0)
            return cli_bad_option(a, v, "expected a learning rate > 0");
        o->lr_given = 1;
    } else if (ex_option(argc, argv, i, "--optimizer", &v)) {
        if (PICK(v, optim_names, optim_kinds, &o->optimizer) != 0)
            return cli_bad_option(a, v, "expected adam, sgd, rmsprop, adagrad, adamax or nadam");
    } else if (ex_option(argc, argv, i, "--schedule", &v)) {
        if (!v || parse_schedule(v, o) != 0)
            return cli_bad_option(a, v, "expected exponential:STEPS:RATE[:staircase], "
                                        "cosine:STEPS[:ALPHA], piecewise:B1,..,Bk:V0,..,Vk, "
                                        "inverse:STEPS:RATE[:staircase], "
                                        "polynomial:STEPS[:END[:POWER[:cycle]]], "
                                        "restarts:STEPS[:T_MUL[:M_MUL[:ALPHA]]] or constant");
    } else if (ex_option(argc, argv, i, "--epochs", &v)) {
        if (ex_parse_long(v, 1, 10000000L, &o->epochs) != 0)
            return cli_bad_option(a, v, "expected an integer in 1..10000000");
    } else if (ex_option(argc, argv, i, "--batch", &v)) {
        if (ex_parse_long(v, 1, 100000000L, &o->batch) != 0)
            return cli_bad_option(a, v, "expected an integer >= 1");
    } else if (ex_option(argc, argv, i, "--seed", &v)) {
        if (ex_parse_long(v, 0, 2000000000L, &o->seed) != 0)
            return cli_bad_option(a, v, "expected an integer in 0..2000000000");
    } else if (ex_option(argc, argv, i, "--early-stopping", &v)) {
        if (ex_parse_long(v, 0, 10000000L, &o->patience) != 0)
            return cli_bad_option(a, v, "expected a patience in epochs, 0..10000000");
    } else {
        return -1;
    }
    return CLI_OK;
}

/* How to scale: --scale and --scale-target. As model_option. */
static int scale_option(int argc, char **argv, int *i, cli_train_opts *o)
{
    static const char *const feature[] = {"unit", "zscore", "none"};
    static const int feature_values[] = {REGNN_SCALE_UNIT_NORM, REGNN_SCALE_ZSCORE,
                                         REGNN_SCALE_NONE};
    static const char *const target[] = {"zscore", "none"};
    static const int target_values[] = {REGNN_SCALE_ZSCORE, REGNN_SCALE_NONE};
    const char *a = argv[*i], *v = NULL;
    if (ex_option(argc, argv, i, "--scale", &v)) {
        if (PICK(v, feature, feature_values, &o->feature_scale) != 0)
            return cli_bad_option(a, v, "expected unit, zscore or none");
    } else if (ex_option(argc, argv, i, "--scale-target", &v)) {
        if (PICK(v, target, target_values, &o->target_scale) != 0)
            return cli_bad_option(a, v, "expected zscore or none");
    } else {
        return -1;
    }
    return CLI_OK;
}

/* The options of the data: --target, --weight, --val-split, --test-split,
 * --delimiter, --drop, --na. As model_option. */
static int data_option(int argc, char **argv, int *i, cli_train_opts *o)
{
    static const char *const na[] = {"error", "drop", "mean"};
    static const int na_values[] = {CLI_NA_ERROR, CLI_NA_DROP, CLI_NA_MEAN};
    const char *a = argv[*i], *v = NULL;
    if (ex_option(argc, argv, i, "--target", &v)) {
        if (!v || parse_targets(v, o) != 0)
            return cli_bad_option(a, v, "expected 1 to 64 comma-separated column names");
    } else if (ex_option(argc, argv, i, "--weight", &v)) {
        if (!v || !*v)
            return cli_bad_option(a, v, "expected a column name");
        o->weight = v;
    } else if (ex_option(argc, argv, i, "--val-split", &v)) {
        if (ex_parse_double(v, &o->val_split) != 0 || o->val_split <= 0 || o->val_split >= 1)
            return cli_bad_option(a, v, "expected a fraction in (0, 1)");
    } else if (ex_option(argc, argv, i, "--test-split", &v)) {
        if (ex_parse_double(v, &o->test_split) != 0 || o->test_split < 0 || o->test_split >= 1)
            return cli_bad_option(a, v, "expected a fraction in [0, 1); 0 for no test part");
    } else if (ex_option(argc, argv, i, "--delimiter", &v)) {
        if (v && strcmp(v, "tab") == 0)
            o->delimiter = '\t';
        else if (v && strlen(v) == 1 && v[0] != '"' && v[0] != '\n' && v[0] != '\r')
            o->delimiter = v[0];
        else
            return cli_bad_option(a, v, "expected one character, e.g. ';', or tab");
    } else if (ex_option(argc, argv, i, "--drop", &v)) {
        if (!v || parse_drops(v, o) != 0)
            return cli_bad_option(a, v, "expected comma-separated column names");
    } else if (ex_option(argc, argv, i, "--na", &v)) {
        if (PICK(v, na, na_values, &o->na) != 0)
            return cli_bad_option(a, v, "expected error, drop or mean");
    } else {
        return -1;
    }
    return CLI_OK;
}

/* Options match by their whole name, so the groups may be tried in any order. */
int cli_train_option(int argc, char **argv, int *i, cli_train_opts *o)
{
    const char *a = argv[*i];
    if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
        o->quiet = 1;
        return CLI_OK;
    }
    int rc = model_option(argc, argv, i, o);
    if (rc == -1)
        rc = training_option(argc, argv, i, o);
    if (rc == -1)
        rc = scale_option(argc, argv, i, o);
    if (rc == -1)
        rc = data_option(argc, argv, i, o);
    return rc;
}

int cli_train_finish(cli_train_opts *o)
{
    if (!o->data)
        return cli_fail(CLI_USAGE, "no data file given (see %s --help)", g_name);
    if (o->n_targets == 0)
        return cli_fail(CLI_USAGE, "--target is required: the name of the column to predict "
                                   "(see %s --help)", g_name);
    for (size_t k = 0; !o->lr_given && k < sizeof optim_kinds / sizeof *optim_kinds; k++) {
        regnn_bounds b = {sizeof b, 0, 0, 0, 0};
        if (optim_kinds[k] == o->optimizer &&
            regnn_option_bounds(optim_options[k], REGNN_OPT_LEARNING_RATE, &b) == REGNN_OK)
            o->lr = b.default_value; /* Keras's default of the optimizer */
    }
    return CLI_OK;
}

void cli_train_help(FILE *f)
{
    fputs("Data and network (defaults in brackets: the regularization study's setup):\n"
          "  --target NAMES      column(s) to predict, comma separated (required)\n"
          "  --layers SPEC       hidden layers: 128,128 or 128x6 or 128x2,16; none for a\n"
          "                      linear model [128x6]\n"
          "  --activation NAME   relu, tanh, sigmoid, elu, selu, gelu, swish (or silu),\n"
          "                      leaky_relu or softplus for the hidden layers [relu]\n"
          "  --dropout R         dropout rate after each hidden layer [0]\n"
          "  --layer-norm        a LayerNormalization layer (epsilon 1e-3) after each\n"
          "                      hidden layer [none]\n"
          "  --batch-norm        a BatchNormalization layer (momentum 0.99, epsilon 1e-3)\n"
          "                      after each hidden layer [none]\n"
          "  --gaussian-noise S  a GaussianNoise(S) layer after each hidden layer [none]\n"
          "  --gaussian-dropout R a GaussianDropout(R) layer after each hidden layer [none]\n"
          "  --l1 LAMBDA         Keras l1(LAMBDA) on every kernel: loss += LAMBDA sum|w| [0]\n"
          "  --bias-l2 LAMBDA    Keras bias_regularizer l2(LAMBDA) on every layer [0]\n"
          "  --activity-l2 LAMBDA Keras 3 activity_regularizer l2(LAMBDA) on each hidden\n"
          "                      layer's output: loss += LAMBDA sum over the batch of a^2 [0]\n"
          "  --max-norm C        Keras MaxNorm(C) on each hidden layer's kernel after every\n"
          "                      update; 0 for none [0]\n",
          f);
    fputs("  --loss KIND         training loss: mse, mae, huber (delta 1), huber:DELTA or\n"
          "                      log-cosh [mse]\n"
          "  --scale KIND        feature scaling: unit ((x - mean) / (std sqrt(n)), as\n"
          "                      sklearn's diabetes data), zscore or none [unit]\n"
          "  --scale-target KIND target scaling: zscore or none [zscore]\n"
          "  --test-split F      shuffled fraction of the rows held out as test data;\n"
          "                      0 for none [0.1]\n"
          "  --val-split F       Keras validation_split: the last F of the training rows,\n"
          "                      in their order (the file's with --test-split 0) [0.15]\n"
          "  --shuffle           shuffle the training rows (seeded by --seed) before the\n"
          "                      validation split [off: Keras' tail split]\n"
          "  --epochs N          [100]\n"
          "  --batch N           batch size [64]\n"
          "  --optimizer NAME    adam, sgd, rmsprop, adagrad, adamax or nadam, with Keras's\n"
          "                      defaults [adam]\n"
          "  --lr X              learning rate [the optimizer's: 1e-3, sgd 1e-2]\n"
          "  --schedule SPEC     learning-rate schedule starting at --lr, per step:\n"
          "                      exponential:STEPS:RATE[:staircase], cosine:STEPS[:ALPHA],\n"
          "                      piecewise:B1,..,Bk:V0,..,Vk (V0 replaces --lr),\n"
          "                      inverse:STEPS:RATE[:staircase],\n"
          "                      polynomial:STEPS[:END[:POWER[:cycle]]],\n"
          "                      restarts:STEPS[:T_MUL[:M_MUL[:ALPHA]]] [constant]\n"
          "  --early-stopping P  stop when val_loss has not improved for P epochs [off]\n"
          "  --restore-best      end with the weights of the best val_loss epoch [off]\n"
          "  --weight COLUMN     per-row sample weights (>= 0) from COLUMN, not a feature\n"
          "  --seed N            seed of the test split, the weights and the shuffling [1]\n"
          "  --quiet, -q         no progress, summary or warnings: fit prints nothing but\n"
          "                      errors, path only its table and choice\n"
          "CSV input:\n"
          "  --delimiter C       field delimiter: one character such as ';', or tab [,]\n"
          "  --drop COLS         comma-separated columns to leave out (IDs, names, text)\n"
          "  --na WHAT           missing values (empty, NA, N/A, NaN, nan, NULL, null, ?, .):\n"
          "                      error, drop (the rows) or mean (of the column, over the\n"
          "                      file's rows; a row missing a target or weight is dropped)\n"
          "                      [error]\n"
          "A column holding text is refused: leave it out with --drop. The scaler is\n"
          "fitted on the training rows only; the L2 factor lambda acts on the\n"
          "weights, whose size depends on the feature scaling, so a good lambda for one\n"
          "--scale is not one for another. Errors (MSE) are in scaled target units: with\n"
          "z-scored targets 1.0 is no better than predicting the mean. Warnings on stderr\n"
          "say when a split cannot be trusted: constant validation or test targets,\n"
          "targets that trend with the row order (no --shuffle), few validation rows.\n",
          f);
}

static void print_summary(const cli_train_opts *o, const cli_data *d, size_t dropped,
                          size_t filled)
{
    size_t nf = regnn_dataset_features(d->raw), nt = regnn_dataset_targets(d->raw);
    printf("%s: %zu rows, %zu features, target%s", o->data, regnn_dataset_rows(d->raw), nf,
           nt > 1 ? "s" : "");
    for (size_t t = 0; t < nt; t++)
        printf("%s%s", t ? ", " : " ", regnn_dataset_target_name(d->raw, t));
    if (o->weight)
        printf(", weights %s", o->weight);
    if (dropped)
        printf(" (%zu row%s with missing values left out)", dropped, dropped == 1 ? "" : "s");
    if (filled)
        printf(" (%zu missing value%s filled with column means)", filled,
               filled == 1 ? "" : "s");
    size_t n = regnn_dataset_rows(d->train);
    size_t fit_rows = (size_t)floor((double)n * (1.0 - o->val_split));
    if (o->folds > 1) {
        printf("\nsplit: %zu training rows in %ld shuffled folds (cross-validation), %zu test "
               "rows\n", n, o->folds, d->test ? regnn_dataset_rows(d->test) : 0);
        return;
    }
    printf("\nsplit: %zu training + %zu validation rows (last %g, %s), %zu test rows\n",
           fit_rows, n - fit_rows, o->val_split, o->shuffle ? "shuffled" : "unshuffled",
           d->test ? regnn_dataset_rows(d->test) : 0);
}

/* A seeded permutation of the n rows into d->train_raw's order (--shuffle):
 * Fisher-Yates with splitmix64, a stream of its own (the seed mixed with a
 * constant) so it does not repeat the test split's. */
static int shuffle_rows(const cli_train_opts *o, regnn_dataset **ds)
{
    size_t n = regnn_dataset_rows(*ds);
    size_t *perm = malloc(n * sizeof *perm);
    if (!perm)
        return cli_fail(CLI_ERR, "out of memory");
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    uint64_t x = (uint64_t)o->seed ^ 0x5bd1e995a1b2c3d4ULL;
    for (size_t i = n; i > 1; i--) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        size_t j = (size_t)(z % i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    regnn_dataset *out = NULL;
    regnn_status st = regnn_dataset_select(*ds, perm, n, &out);
    free(perm);
    if (st != REGNN_OK)
        return cli_lib_fail("--shuffle");
    regnn_dataset_free(*ds);
    *ds = out;
    return CLI_OK;
}

/* The data file: through the library's reader as it is, or through
 * cli_read_data when a CSV option is given; a format error of the former is
 * explained by the latter (a text column, a missing value). */
static int read_raw(const cli_train_opts *o, regnn_dataset **raw, size_t *dropped, size_t *filled)
{
    *dropped = *filled = 0;
    if (o->delimiter != ',' || o->n_drops > 0 || o->na != CLI_NA_ERROR)
        return cli_read_data(o, raw, dropped, filled);
    regnn_status st = regnn_dataset_from_csv(o->data, o->targets, NULL, o->n_targets, raw);
    if (st == REGNN_OK)
        return CLI_OK;
    if (st != REGNN_E_FORMAT)
        return cli_lib_fail("cannot read the data");
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", regnn_errmsg());
    regnn_dataset *again = NULL;
    int rc = cli_read_data(o, &again, dropped, filled);
    regnn_dataset_free(again);
    if (rc == CLI_OK) /* nothing to add: the library's own message */
        rc = cli_fail(CLI_ERR, "cannot read the data: %s", saved);
    return rc;
}

int cli_open_data(const cli_train_opts *o, cli_output *outs, size_t n_outs, cli_data *d)
{
    int rc = cli_outputs_check(&o->data, 1, outs, n_outs);
    if (rc != CLI_OK)
        return rc;
    /* fit's layers are small, so threads cost more than they give; path's
     * runs go to the cores instead */
    regnn_set_blas_threads(1);
    return cli_load(o, d);
}

int cli_load(const cli_train_opts *o, cli_data *d)
{
    memset(d, 0, sizeof *d);
    size_t dropped = 0, filled = 0;
    int rc = read_raw(o, &d->raw, &dropped, &filled);
    if (rc != CLI_OK)
        return rc;
    if (o->weight && regnn_dataset_set_weight_column(d->raw, o->weight) != REGNN_OK)
        return cli_lib_fail("--weight");
    size_t rows = regnn_dataset_rows(d->raw);
    if (regnn_dataset_features(d->raw) == 0)
        return cli_fail(CLI_ERR, "%s: no feature columns besides the target%s", o->data,
                        o->n_targets > 1 ? "s" : "");
    if (o->test_split > 0) {
        if (regnn_dataset_split_shuffled(d->raw, o->test_split, (uint64_t)o->seed, &d->train_raw,
                                         &d->test_raw) != REGNN_OK)
            return cli_lib_fail("--test-split");
    } else {
        size_t *all = malloc(rows * sizeof *all);
        if (!all)
            return cli_fail(CLI_ERR, "out of memory");
        for (size_t i = 0; i < rows; i++)
            all[i] = i;
        regnn_status st = regnn_dataset_select(d->raw, all, rows, &d->train_raw);
        free(all);
        if (st != REGNN_OK)
            return cli_lib_fail("copying the data");
    }
    if (o->shuffle && (rc = shuffle_rows(o, &d->train_raw)) != CLI_OK)
        return rc;
    if (regnn_scaler_fit(d->train_raw, o->feature_scale, o->target_scale, &d->scaler) != REGNN_OK ||
        regnn_scaler_transform(d->scaler, d->train_raw, &d->train) != REGNN_OK ||
        (d->test_raw && regnn_scaler_transform(d->scaler, d->test_raw, &d->test) != REGNN_OK))
        return cli_lib_fail("scaling");
    size_t n = regnn_dataset_rows(d->train);
    size_t fit_rows = (size_t)floor((double)n * (1.0 - o->val_split));
    if (o->folds <= 1 && (fit_rows == 0 || fit_rows == n))
        return cli_fail(CLI_ERR,
                        "%zu training rows: --val-split %g leaves no %s rows (use more data or "
                        "another fraction)",
                        n, o->val_split, fit_rows == 0 ? "training" : "validation");
    if (!o->quiet) {
        print_summary(o, d, dropped, filled);
        fflush(stdout);
        cli_warn_split(o, d);
    }
    return CLI_OK;
}

void cli_data_free(cli_data *d)
{
    regnn_scaler_free(d->scaler);
    regnn_dataset_free(d->test);
    regnn_dataset_free(d->train);
    regnn_dataset_free(d->test_raw);
    regnn_dataset_free(d->train_raw);
    regnn_dataset_free(d->raw);
    memset(d, 0, sizeof *d);
}

/* --layer-norm, --batch-norm, --gaussian-noise and --gaussian-dropout: their
 * layers after a hidden layer, in that order. */
static int add_noise_layers(const cli_train_opts *o, regnn_model *m)
{
    if (o->layer_norm && regnn_model_add_layer_normalization(m, 1e-3, NULL) != REGNN_OK)
        return cli_lib_fail("--layer-norm");
    if (o->batch_norm && regnn_model_add_batch_normalization(m, 0.99, 1e-3, NULL) != REGNN_OK)
        return cli_lib_fail("--batch-norm");
    if (o->gaussian_noise != 0 && regnn_model_add_gaussian_noise(m, o->gaussian_noise, NULL) != REGNN_OK)
        return cli_lib_fail("--gaussian-noise");
    if (o->gaussian_dropout != 0 &&
        regnn_model_add_gaussian_dropout(m, o->gaussian_dropout, NULL) != REGNN_OK)
        return cli_lib_fail("--gaussian-dropout");
    return CLI_OK;
}

int cli_build_model(const cli_train_opts *o, size_t inputs, size_t outputs, regnn_model **out)
{
    regnn_model *m = NULL;
    *out = NULL;
    if (regnn_model_create(inputs, &m) != REGNN_OK)
        return cli_lib_fail("model");
    for (size_t i = 0; i < o->n_layers; i++) {
        regnn_layer *l = NULL;
        if (regnn_model_add_dense(m, o->units[i], o->activation, &l) != REGNN_OK ||
            (o->dropout > 0 && regnn_layer_set_double(l, REGNN_LAYER_DROPOUT, o->dropout) != REGNN_OK) ||
            (o->activity_l2 > 0 &&
             regnn_layer_set_double(l, REGNN_LAYER_ACTIVITY_L2, o->activity_l2) != REGNN_OK) ||
            (o->max_norm > 0 && regnn_layer_set_double(l, REGNN_LAYER_MAX_NORM, o->max_norm) != REGNN_OK)) {
            regnn_model_free(m);
            return cli_lib_fail("model");
        }
        const int rc = add_noise_layers(o, m);
        if (rc != CLI_OK) {
            regnn_model_free(m);
            return rc;
        }
    }
    if (regnn_model_add_dense(m, outputs, REGNN_ACT_LINEAR, NULL) != REGNN_OK) {
        regnn_model_free(m);
        return cli_lib_fail("model");
    }
    if (regnn_model_set_layers_double(m, REGNN_LAYER_L2, o->l2) != REGNN_OK) {
        regnn_model_free(m);
        return cli_lib_fail("--l2");
    }
    if (o->l1 > 0 && regnn_model_set_layers_double(m, REGNN_LAYER_L1, o->l1) != REGNN_OK) {
        regnn_model_free(m);
        return cli_lib_fail("--l1");
    }
    if (o->bias_l2 > 0 && regnn_model_set_layers_double(m, REGNN_LAYER_BIAS_L2, o->bias_l2) != REGNN_OK) {
        regnn_model_free(m);
        return cli_lib_fail("--bias-l2");
    }
    if (o->loss != REGNN_LOSS_MSE && regnn_model_set_loss(m, o->loss, o->loss_param) != REGNN_OK) {
        regnn_model_free(m);
        return cli_lib_fail("--loss");
    }
    *out = m;
    return CLI_OK;
}

int cli_fit_options(const cli_train_opts *o, regnn_fit_options **out)
{
    regnn_fit_options *fo = NULL;
    *out = NULL;
    if (regnn_fit_options_create(&fo) != REGNN_OK ||
        regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, o->epochs) != REGNN_OK ||
        regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, o->batch) != REGNN_OK ||
        regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, o->val_split) != REGNN_OK ||
        (o->patience >= 0 &&
         (regnn_fit_options_set_int(fo, REGNN_FIT_EARLY_STOPPING, 1) != REGNN_OK ||
          regnn_fit_options_set_int(fo, REGNN_FIT_PATIENCE, o->patience) != REGNN_OK)) ||
        (o->restore_best && regnn_fit_options_set_int(fo, REGNN_FIT_RESTORE_BEST, 1) != REGNN_OK)) {
        regnn_fit_options_free(fo);
        return cli_lib_fail("options");
    }
    *out = fo;
    return CLI_OK;
}

const char *cli_optimizer_name(int kind)
{
    for (size_t k = 0; k < sizeof optim_kinds / sizeof *optim_kinds; k++)
        if (optim_kinds[k] == kind)
            return optim_titles[k];
    return "?";
}

int cli_optimizer(const cli_train_opts *o, regnn_optimizer **out)
{
    regnn_optimizer *opt = NULL;
    *out = NULL;
    if (regnn_optimizer_create(o->optimizer, &opt) != REGNN_OK ||
        regnn_optimizer_set_double(opt, REGNN_OPT_LEARNING_RATE, o->lr) != REGNN_OK) {
        regnn_optimizer_free(opt);
        return cli_lib_fail("--lr");
    }
    if (o->schedule != REGNN_SCHEDULE_CONSTANT) {
        double p[CLI_MAX_SCHEDULE];
        memcpy(p, o->sched, o->n_sched * sizeof *p);
        if (o->schedule != REGNN_SCHEDULE_PIECEWISE)
            p[0] = o->lr; /* initial_learning_rate */
        if (regnn_optimizer_set_schedule(opt, o->schedule, p, o->n_sched) != REGNN_OK) {
            regnn_optimizer_free(opt);
            return cli_lib_fail("--schedule");
        }
    }
    *out = opt;
    return CLI_OK;
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: warning: ", g_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* What the program adds to a library warning: the option that helps. */
static const char *warn_advice(int code)
{
    switch (code) {
    case REGNN_WARN_FEW_VALIDATION_ROWS: return "; use more data or a larger --val-split";
    case REGNN_WARN_FEW_FOLD_ROWS: return "; use more data or fewer --folds";
    case REGNN_WARN_CONSTANT_VALIDATION: return "; is the file sorted? try --shuffle";
    case REGNN_WARN_ROW_ORDER: return "; use --shuffle";
    case REGNN_WARN_CONSTANT_GRID: return ", or leave out --lambdas for a grid derived from the data";
    default: return "";
    }
}

void cli_warn_all(const regnn_warnings *w)
{
    for (size_t i = 0; i < regnn_warnings_count(w); i++) {
        int code = 0;
        regnn_warnings_get(w, i, &code, NULL, 0);
        cli_warn("%s%s", regnn_warnings_message(w, i), warn_advice(code));
    }
}

void cli_warn_split(const cli_train_opts *o, const cli_data *d)
{
    regnn_fit_options *fo = NULL;
    regnn_path_options *po = NULL;
    regnn_warnings *w = NULL;
    /* The split the fit or path will use: the tail, or the folds. */
    if (regnn_fit_options_create(&fo) == REGNN_OK && regnn_path_options_create(&po) == REGNN_OK &&
        (o->folds > 1 ? regnn_path_options_set_int(po, REGNN_PATH_FOLDS, o->folds)
                      : regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT,
                                                     o->val_split)) == REGNN_OK &&
        regnn_split_diagnose(d->train_raw, NULL, d->test_raw, fo, po,
                             o->shuffle ? REGNN_SPLIT_SHUFFLED : 0, &w) == REGNN_OK)
        cli_warn_all(w);
    else
        cli_lib_fail("checking the split");
    regnn_warnings_free(w);
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
}

/* The first dense layer at or after i; n if none (the others are not described). */
static size_t next_dense(regnn_model *m, size_t i)
{
    const size_t n = regnn_model_layer_count(m);
    while (i < n && regnn_layer_type(regnn_model_layer(m, i)) != REGNN_LAYERTYPE_DENSE)
        i++;
    return i;
}

void cli_describe_layers(const regnn_model *m, char *buf, size_t size)
{
    size_t n = regnn_model_layer_count(m), used = 0, dense = 0;
    regnn_model *mm = (regnn_model *)m; /* regnn_model_layer takes a non-const handle */
    int w = snprintf(buf, size, "%zu", regnn_model_inputs(m));
    used = w > 0 ? (size_t)w : 0;
    for (size_t i = next_dense(mm, 0); i < n && used < size;) {
        const regnn_layer *l = regnn_model_layer(mm, i);
        size_t units = regnn_layer_units(l), run = 1, j = next_dense(mm, i + 1);
        /* runs of equal hidden layers; the output layer stands alone */
        while (j < n && next_dense(mm, j + 1) < n &&
               regnn_layer_units(regnn_model_layer(mm, j)) == units &&
               regnn_layer_activation(regnn_model_layer(mm, j)) == regnn_layer_activation(l)) {
            run++;
            j = next_dense(mm, j + 1);
        }
        if (run > 1)
            w = snprintf(buf + used, size - used, "-%zux%zu", units, run);
        else
            w = snprintf(buf + used, size - used, "-%zu", units);
        used += w > 0 ? (size_t)w : 0;
        dense += run;
        i = j;
    }
    if (dense > 1 && used < size)
        snprintf(buf + used, size - used, " %s",
                 cli_act_name(regnn_layer_activation(regnn_model_layer(mm, next_dense(mm, 0)))));
}

double cli_tail_baseline(const regnn_dataset *train, double split)
{
    regnn_dataset *a = NULL, *b = NULL;
    double base = NAN;
    if (regnn_dataset_split_tail(train, split, &a, &b) != REGNN_OK)
        return NAN;
    size_t na = regnn_dataset_rows(a), nb = regnn_dataset_rows(b), nt = regnn_dataset_targets(a);
    float *ya = malloc(na * nt * sizeof *ya), *yb = malloc(nb * nt * sizeof *yb);
    if (ya && yb && regnn_dataset_get_targets(a, ya, na * nt) == REGNN_OK &&
        regnn_dataset_get_targets(b, yb, nb * nt) == REGNN_OK) {
        double s = 0;
        for (size_t t = 0; t < nt; t++) {
            double mu = 0;
            for (size_t i = 0; i < na; i++)
                mu += ya[i * nt + t];
            mu /= (double)na;
            for (size_t i = 0; i < nb; i++)
                s += ((double)yb[i * nt + t] - mu) * ((double)yb[i * nt + t] - mu);
        }
        base = s / ((double)nb * (double)nt);
    }
    free(ya);
    free(yb);
    regnn_dataset_free(a);
    regnn_dataset_free(b);
    return base;
}

const char *cli_reason_name(int reason)
{
    static const char *const names[] = {"none",    "too_short", "no_validation", "not_finite",
                                        "val_rose", "large_gap", "high_error",   "still_improving"};
    return reason >= 0 && reason < 8 ? names[reason] : "?";
}

void cli_print_diagnosis(FILE *f, const char *prefix, int verdict, int reason, const double *d)
{
    const char *name = regnn_verdict_name(verdict);
    fprintf(f, "%s%s", prefix, name ? name : "?");
    double k = d[REGNN_DIAG_WINDOW];
    switch (reason) {
    case REGNN_REASON_VAL_ROSE:
        fprintf(f, ": the validation MSE rose %.0f%% above its minimum (epoch %.0f) while the "
                   "gap to the training MSE widened\n",
                100 * d[REGNN_DIAG_VAL_RISE], d[REGNN_DIAG_BEST_EPOCH] + 1);
        break;
    case REGNN_REASON_LARGE_GAP:
        fprintf(f, ": over the last %.0f epochs the validation MSE is %.1f times the training "
                   "MSE\n",
                k, d[REGNN_DIAG_WINDOW_VAL_MSE] / d[REGNN_DIAG_WINDOW_TRAIN_MSE]);
        break;
    case REGNN_REASON_HIGH_ERROR:
        fprintf(f, ": the training MSE is still %.0f%% of the reference error (predicting the "
                   "mean)\n",
                100 * d[REGNN_DIAG_TRAIN_LEVEL]);
        break;
    case REGNN_REASON_STILL_IMPROVING:
        fprintf(f, ": both errors were still falling over the last %.0f epochs (train longer)\n",
                k);
        break;
    case REGNN_REASON_TOO_SHORT:
        fprintf(f, ": fewer than 10 epochs\n");
        break;
    case REGNN_REASON_NO_VALIDATION:
        fprintf(f, ": no validation data\n");
        break;
    case REGNN_REASON_NOT_FINITE:
        fprintf(f, ": the errors are not finite (training diverged)\n");
        break;
    default:
        fprintf(f, ": the validation MSE levelled off near its minimum\n");
        break;
    }
    if (verdict != REGNN_VERDICT_INSUFFICIENT || reason == REGNN_REASON_TOO_SHORT)
        fprintf(f, "%s  best val MSE %.4f at epoch %.0f; final train MSE %.4f, val MSE %.4f, "
                   "gap %.4f\n",
                prefix, d[REGNN_DIAG_BEST_VAL_MSE], d[REGNN_DIAG_BEST_EPOCH] + 1,
                d[REGNN_DIAG_FINAL_TRAIN_MSE], d[REGNN_DIAG_FINAL_VAL_MSE],
                d[REGNN_DIAG_FINAL_GAP]);
}

void cli_progress_init(cli_progress *p, int quiet)
{
    p->quiet = quiet;
    p->tty = isatty(fileno(stderr));
    p->open = 0;
    p->width = 0;
}

void cli_progress_line(cli_progress *p, const char *fmt, ...)
{
    if (p->quiet)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (p->tty) {
        /* Pad over the rest of a longer previous line. */
        fprintf(stderr, "\r%s%*s", line, p->width > len ? (int)(p->width - len) : 0, "");
        p->width = len;
        p->open = 1;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

void cli_progress_end(cli_progress *p)
{
    if (p->open) {
        fputc('\n', stderr);
        fflush(stderr);
    }
    p->open = 0;
    p->width = 0;
}

const char *cli_fmt_lambda(double v, char *buf, size_t size)
{
    if (v == 0) {
        snprintf(buf, size, "0");
        return buf;
    }
    int e = (int)floor(log10(fabs(v)) + 1e-9);
    double mant = v / pow(10, e);
    if (e >= -1 && e <= 3)
        snprintf(buf, size, "%g", v);
    else if (fabs(mant - floor(mant + 0.5)) < 1e-9)
        snprintf(buf, size, "%.0fe%d", mant, e);
    else
        snprintf(buf, size, "%.3ge%d", mant, e);
    return buf;
}
