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
    o->lr = 1e-3;
    o->val_split = 0.15;
    o->test_split = 0.1;
    o->epochs = 100;
    o->batch = 64;
    o->seed = 1;
}

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

int cli_train_option(int argc, char **argv, int *i, cli_train_opts *o)
{
    const char *a = argv[*i], *v = NULL;
    if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
        o->quiet = 1;
    } else if (ex_option(argc, argv, i, "--target", &v)) {
        if (!v || parse_targets(v, o) != 0)
            return cli_bad_option(a, v, "expected 1 to 64 comma-separated column names");
    } else if (ex_option(argc, argv, i, "--layers", &v)) {
        if (!v || ex_parse_layers(v, o->units, CLI_MAX_LAYERS, &o->n_layers) != 0)
            return cli_bad_option(a, v,
                                  "expected hidden layer sizes such as 128,128 or 128x6, or none "
                                  "(at most 64 layers)");
    } else if (ex_option(argc, argv, i, "--activation", &v)) {
        if (v && strcmp(v, "relu") == 0)
            o->activation = REGNN_ACT_RELU;
        else if (v && strcmp(v, "tanh") == 0)
            o->activation = REGNN_ACT_TANH;
        else if (v && strcmp(v, "sigmoid") == 0)
            o->activation = REGNN_ACT_SIGMOID;
        else
            return cli_bad_option(a, v, "expected relu, tanh or sigmoid");
    } else if (ex_option(argc, argv, i, "--l2", &v)) {
        if (ex_parse_double(v, &o->l2) != 0 || o->l2 < 0)
            return cli_bad_option(a, v, "expected a number >= 0");
    } else if (ex_option(argc, argv, i, "--dropout", &v)) {
        if (ex_parse_double(v, &o->dropout) != 0 || o->dropout < 0 || o->dropout >= 1)
            return cli_bad_option(a, v, "expected a rate in [0, 1)");
    } else if (ex_option(argc, argv, i, "--lr", &v)) {
        if (ex_parse_double(v, &o->lr) != 0 || o->lr <= 0)
            return cli_bad_option(a, v, "expected a learning rate > 0");
    } else if (ex_option(argc, argv, i, "--val-split", &v)) {
        if (ex_parse_double(v, &o->val_split) != 0 || o->val_split <= 0 || o->val_split >= 1)
            return cli_bad_option(a, v, "expected a fraction in (0, 1)");
    } else if (ex_option(argc, argv, i, "--test-split", &v)) {
        if (ex_parse_double(v, &o->test_split) != 0 || o->test_split < 0 || o->test_split >= 1)
            return cli_bad_option(a, v, "expected a fraction in [0, 1); 0 for no test part");
    } else if (ex_option(argc, argv, i, "--epochs", &v)) {
        if (ex_parse_long(v, 1, 10000000L, &o->epochs) != 0)
            return cli_bad_option(a, v, "expected an integer in 1..10000000");
    } else if (ex_option(argc, argv, i, "--batch", &v)) {
        if (ex_parse_long(v, 1, 100000000L, &o->batch) != 0)
            return cli_bad_option(a, v, "expected an integer >= 1");
    } else if (ex_option(argc, argv, i, "--seed", &v)) {
        if (ex_parse_long(v, 0, 2000000000L, &o->seed) != 0)
            return cli_bad_option(a, v, "expected an integer in 0..2000000000");
    } else if (ex_option(argc, argv, i, "--scale", &v)) {
        if (v && strcmp(v, "unit") == 0)
            o->feature_scale = REGNN_SCALE_UNIT_NORM;
        else if (v && strcmp(v, "zscore") == 0)
            o->feature_scale = REGNN_SCALE_ZSCORE;
        else if (v && strcmp(v, "none") == 0)
            o->feature_scale = REGNN_SCALE_NONE;
        else
            return cli_bad_option(a, v, "expected unit, zscore or none");
    } else if (ex_option(argc, argv, i, "--scale-target", &v)) {
        if (v && strcmp(v, "zscore") == 0)
            o->target_scale = REGNN_SCALE_ZSCORE;
        else if (v && strcmp(v, "none") == 0)
            o->target_scale = REGNN_SCALE_NONE;
        else
            return cli_bad_option(a, v, "expected zscore or none");
    } else {
        return -1;
    }
    return CLI_OK;
}

int cli_train_finish(cli_train_opts *o)
{
    if (!o->data)
        return cli_fail(CLI_USAGE, "no data file given (see %s --help)", g_name);
    if (o->n_targets == 0)
        return cli_fail(CLI_USAGE, "--target is required: the name of the column to predict "
                                   "(see %s --help)", g_name);
    return CLI_OK;
}

void cli_train_help(FILE *f)
{
    fputs("Data and network (defaults in brackets: the regularization study's setup):\n"
          "  --target NAMES      column(s) to predict, comma separated (required)\n"
          "  --layers SPEC       hidden layers: 128,128 or 128x6 or 128x2,16; none for a\n"
          "                      linear model [128x6]\n"
          "  --activation NAME   relu, tanh or sigmoid for the hidden layers [relu]\n"
          "  --dropout R         dropout rate after each hidden layer [0]\n"
          "  --scale KIND        feature scaling: unit ((x - mean) / (std sqrt(n)), as\n"
          "                      sklearn's diabetes data), zscore or none [unit]\n"
          "  --scale-target KIND target scaling: zscore or none [zscore]\n"
          "  --test-split F      shuffled fraction of the rows held out as test data;\n"
          "                      0 for none [0.1]\n"
          "  --val-split F       Keras validation_split: the last F of the training rows,\n"
          "                      unshuffled [0.15]\n"
          "  --epochs N          [100]\n"
          "  --batch N           batch size [64]\n"
          "  --lr X              Adam learning rate [1e-3]\n"
          "  --seed N            seed of the test split, the weights and the shuffling [1]\n"
          "  --quiet, -q         no progress and no summary: fit prints nothing but\n"
          "                      errors, path only its table and choice\n"
          "The scaler is fitted on the training rows only; the L2 factor lambda acts on the\n"
          "weights, whose size depends on the feature scaling, so a good lambda for one\n"
          "--scale is not one for another. Errors (MSE) are in scaled target units: with\n"
          "z-scored targets 1.0 is no better than predicting the mean.\n",
          f);
}

static void print_summary(const cli_train_opts *o, const cli_data *d)
{
    size_t nf = regnn_dataset_features(d->raw), nt = regnn_dataset_targets(d->raw);
    printf("%s: %zu rows, %zu features, target%s", o->data, regnn_dataset_rows(d->raw), nf,
           nt > 1 ? "s" : "");
    for (size_t t = 0; t < nt; t++)
        printf("%s%s", t ? ", " : " ", regnn_dataset_target_name(d->raw, t));
    size_t n = regnn_dataset_rows(d->train);
    size_t fit_rows = (size_t)floor((double)n * (1.0 - o->val_split));
    printf("\nsplit: %zu training + %zu validation rows (last %g, unshuffled), %zu test rows\n",
           fit_rows, n - fit_rows, o->val_split, d->test ? regnn_dataset_rows(d->test) : 0);
}

int cli_load(const cli_train_opts *o, cli_data *d)
{
    memset(d, 0, sizeof *d);
    if (regnn_dataset_from_csv(o->data, o->targets, NULL, o->n_targets, &d->raw) != REGNN_OK)
        return cli_lib_fail("cannot read the data");
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
    if (regnn_scaler_fit(d->train_raw, o->feature_scale, o->target_scale, &d->scaler) != REGNN_OK ||
        regnn_scaler_transform(d->scaler, d->train_raw, &d->train) != REGNN_OK ||
        (d->test_raw && regnn_scaler_transform(d->scaler, d->test_raw, &d->test) != REGNN_OK))
        return cli_lib_fail("scaling");
    size_t n = regnn_dataset_rows(d->train);
    size_t fit_rows = (size_t)floor((double)n * (1.0 - o->val_split));
    if (fit_rows == 0 || fit_rows == n)
        return cli_fail(CLI_ERR,
                        "%zu training rows: --val-split %g leaves no %s rows (use more data or "
                        "another fraction)",
                        n, o->val_split, fit_rows == 0 ? "training" : "validation");
    if (!o->quiet)
        print_summary(o, d);
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

int cli_build_model(const cli_train_opts *o, size_t inputs, size_t outputs, regnn_model **out)
{
    regnn_model *m = NULL;
    *out = NULL;
    if (regnn_model_create(inputs, &m) != REGNN_OK)
        return cli_lib_fail("model");
    for (size_t i = 0; i < o->n_layers; i++) {
        regnn_layer *l = NULL;
        if (regnn_model_add_dense(m, o->units[i], o->activation, &l) != REGNN_OK ||
            (o->dropout > 0 && regnn_layer_set_double(l, REGNN_LAYER_DROPOUT, o->dropout) != REGNN_OK)) {
            regnn_model_free(m);
            return cli_lib_fail("model");
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
    *out = m;
    return CLI_OK;
}

static const char *act_name(int act)
{
    switch (act) {
    case REGNN_ACT_LINEAR: return "linear";
    case REGNN_ACT_RELU: return "relu";
    case REGNN_ACT_SIGMOID: return "sigmoid";
    case REGNN_ACT_TANH: return "tanh";
    default: return "?";
    }
}

void cli_describe_layers(const regnn_model *m, char *buf, size_t size)
{
    size_t n = regnn_model_layer_count(m), used = 0;
    regnn_model *mm = (regnn_model *)m; /* regnn_model_layer takes a non-const handle */
    int w = snprintf(buf, size, "%zu", regnn_model_inputs(m));
    used = w > 0 ? (size_t)w : 0;
    for (size_t i = 0; i < n && used < size; i++) {
        size_t units = regnn_layer_units(regnn_model_layer(mm, i)), run = 1;
        while (i + run < n - 1 && regnn_layer_units(regnn_model_layer(mm, i + run)) == units &&
               regnn_layer_activation(regnn_model_layer(mm, i + run)) ==
                   regnn_layer_activation(regnn_model_layer(mm, i)))
            run++;
        if (run > 1)
            w = snprintf(buf + used, size - used, "-%zux%zu", units, run);
        else
            w = snprintf(buf + used, size - used, "-%zu", units);
        used += w > 0 ? (size_t)w : 0;
        i += run - 1;
    }
    if (n > 1 && used < size)
        snprintf(buf + used, size - used, " %s",
                 act_name(regnn_layer_activation(regnn_model_layer(mm, 0))));
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
