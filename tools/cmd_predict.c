/* SPDX-License-Identifier: MIT */
/* regnn predict: predictions of a saved model for the rows of a CSV file,
 * in the target's own units when the model carries its scaler. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include "exutil.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *model, *data, *out;
    cli_train_opts t; /* only --target and --quiet are used */
} predict_opts;

static void predict_help(FILE *f)
{
    fputs("Usage: regnn predict MODEL.rgn DATA.csv [--target NAMES] [-o PREDICTIONS.csv]\n"
          "Predict every row of DATA.csv with a model saved by `regnn fit` (or any\n"
          "regnn_model_save). When the model carries a scaler (regnn fit attaches it),\n"
          "the features are scaled as in training and the predictions are given in the\n"
          "target's own units.\n"
          "\n"
          "  --target NAMES        column(s) of DATA.csv that are not features (e.g. the\n"
          "                        target the model was trained on): left out of the inputs,\n"
          "                        and compared with the predictions (MSE, MAE, RMSE in the\n"
          "                        target's units, on stderr). Without it every column is a\n"
          "                        feature, in file order.\n"
          "  -o, --output FILE     write the predictions there [standard output]\n"
          "  --quiet, -q           no summary on stderr\n"
          "  --help, -h            this text\n"
          "\n"
          "The output is CSV: a header (the --target names, else prediction or\n"
          "prediction1..k), then one line per data row, in the file's order.\n"
          "Exit status: 0 ok, 1 error (model, data, shapes), 2 usage.\n",
          f);
}

static int parse(int argc, char **argv, predict_opts *o)
{
    memset(o, 0, sizeof *o);
    cli_train_defaults(&o->t);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            predict_help(stdout);
            return -1;
        }
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0 ||
            strncmp(a, "--target", 8) == 0) {
            int r = cli_train_option(argc, argv, &i, &o->t);
            if (r >= 0) {
                if (r != CLI_OK)
                    return r;
                continue;
            }
        }
        if (ex_option(argc, argv, &i, "-o", &v) || ex_option(argc, argv, &i, "--output", &v)) {
            if (!v || !*v)
                return cli_bad_option(a, v, "a file name");
            o->out = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_fail(CLI_USAGE, "unknown option '%s' (see regnn predict --help)", a);
        } else if (!o->model) {
            o->model = a;
        } else if (!o->data) {
            o->data = a;
        } else {
            return cli_fail(CLI_USAGE, "unexpected argument '%s': expected MODEL.rgn DATA.csv", a);
        }
    }
    if (!o->data)
        return cli_fail(CLI_USAGE, "expected a model file and a data file (usage: regnn predict "
                                   "MODEL.rgn DATA.csv [-o PREDICTIONS.csv])");
    return CLI_OK;
}

/* Features (rows x nf) and, with --target, targets (rows x nt) of the file. */
static int load_rows(const predict_opts *o, size_t inputs, size_t outputs, regnn_dataset **ds,
                     float **x, float **y)
{
    size_t rows, nf;
    *x = *y = NULL;
    if (o->t.n_targets > 0) {
        if (regnn_dataset_from_csv(o->data, o->t.targets, NULL, o->t.n_targets, ds) != REGNN_OK)
            return cli_lib_fail("cannot read the data");
        nf = regnn_dataset_features(*ds);
        if (nf != inputs)
            return cli_fail(CLI_ERR, "%s has %zu feature columns besides %s, but the model takes %zu "
                                     "inputs",
                            o->data, nf, o->t.target_list, inputs);
        if (o->t.n_targets != outputs)
            return cli_fail(CLI_ERR, "--target names %zu column%s, but the model has %zu output%s",
                            o->t.n_targets, o->t.n_targets > 1 ? "s" : "", outputs,
                            outputs > 1 ? "s" : "");
        rows = regnn_dataset_rows(*ds);
        *x = malloc(rows * nf * sizeof **x);
        *y = malloc(rows * outputs * sizeof **y);
        if (!*x || !*y)
            return cli_fail(CLI_ERR, "out of memory");
        if (regnn_dataset_get_features(*ds, *x, rows * nf) != REGNN_OK ||
            regnn_dataset_get_targets(*ds, *y, rows * outputs) != REGNN_OK)
            return cli_lib_fail("reading the data");
        return CLI_OK;
    }
    /* Every column is a feature. The CSV reader wants a target column: read
     * the first column as one and put it back in front of the others. */
    const size_t first = 0;
    if (regnn_dataset_from_csv(o->data, NULL, &first, 1, ds) != REGNN_OK)
        return cli_lib_fail("cannot read the data");
    nf = regnn_dataset_features(*ds) + 1;
    if (nf != inputs) {
        if (nf > inputs)
            return cli_fail(CLI_ERR, "%s has %zu columns, but the model takes %zu inputs: name the "
                                     "column(s) that are not features with --target (e.g. the "
                                     "target the model was trained on)",
                            o->data, nf, inputs);
        return cli_fail(CLI_ERR, "%s has %zu columns, but the model takes %zu inputs", o->data, nf,
                        inputs);
    }
    rows = regnn_dataset_rows(*ds);
    float *rest = malloc(rows * (nf - 1) * sizeof *rest), *col = malloc(rows * sizeof *col);
    *x = malloc(rows * nf * sizeof **x);
    int rc = CLI_OK;
    if (!rest || !col || !*x) {
        rc = cli_fail(CLI_ERR, "out of memory");
    } else if (regnn_dataset_get_features(*ds, rest, rows * (nf - 1)) != REGNN_OK ||
               regnn_dataset_get_targets(*ds, col, rows) != REGNN_OK) {
        rc = cli_lib_fail("reading the data");
    } else {
        for (size_t r = 0; r < rows; r++) {
            (*x)[r * nf] = col[r];
            memcpy(*x + r * nf + 1, rest + r * (nf - 1), (nf - 1) * sizeof *rest);
        }
    }
    free(rest);
    free(col);
    return rc;
}

/* The predictions as CSV: a header, then one line per row. */
static void write_predictions(FILE *out, const predict_opts *o, const float *p, size_t rows,
                              size_t outputs)
{
    for (size_t t = 0; t < outputs; t++) {
        if (o->t.n_targets)
            fprintf(out, "%s%s", t ? "," : "", o->t.targets[t]);
        else if (outputs == 1)
            fprintf(out, "prediction");
        else
            fprintf(out, "%sprediction%zu", t ? "," : "", t + 1);
    }
    fputc('\n', out);
    for (size_t r = 0; r < rows; r++)
        for (size_t t = 0; t < outputs; t++)
            fprintf(out, "%.9g%c", (double)p[r * outputs + t], t + 1 < outputs ? ',' : '\n');
}

/* The model, and its scaler when it carries one (a note says when not). */
static int load_model(const predict_opts *o, regnn_model **m, regnn_scaler **sc)
{
    if (regnn_model_load(o->model, m) != REGNN_OK)
        return cli_lib_fail("cannot load the model");
    regnn_status st = regnn_model_get_scaler(*m, sc);
    if (st != REGNN_OK && st != REGNN_E_STATE)
        return cli_lib_fail("reading the model's scaler");
    if (!*sc && !o->t.quiet)
        fprintf(stderr, "%s: note: %s has no scaler attached: the rows are used and the "
                        "predictions given as they are\n",
                cli_name(), o->model);
    return CLI_OK;
}

/* The predictions of m for the rows of x (scaled in place by sc) into a new
 * *p, in the target's units. */
static int predict_rows(const regnn_model *m, const regnn_scaler *sc, float *x, size_t rows,
                        size_t outputs, float **p)
{
    *p = malloc(rows * outputs * sizeof **p);
    if (!*p)
        return cli_fail(CLI_ERR, "out of memory");
    if ((sc && regnn_scaler_transform_features(sc, x, x, rows) != REGNN_OK) ||
        regnn_model_predict(m, x, rows, *p, rows * outputs) != REGNN_OK ||
        (sc && regnn_scaler_inverse_targets(sc, *p, *p, rows) != REGNN_OK))
        return cli_lib_fail("prediction");
    return CLI_OK;
}

/* The whole text first: to standard output, or staged and then renamed
 * over -o's file. */
static int emit_predictions(const predict_opts *o, cli_output *dest, const float *p, size_t rows,
                            size_t outputs)
{
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    if (!out)
        return cli_fail(CLI_ERR, "out of memory");
    write_predictions(out, o, p, rows, outputs);
    int bad = ferror(out);
    int rc = CLI_OK;
    if (fclose(out) != 0 || bad)
        rc = cli_fail(CLI_ERR, "out of memory");
    else if (o->out) {
        if (cli_output_stage(dest, text, text_len) != CLI_OK ||
            cli_outputs_commit(dest, 1) != CLI_OK)
            rc = CLI_ERR;
    } else if (fwrite(text, 1, text_len, stdout) != text_len || fflush(stdout) != 0) {
        rc = cli_fail(CLI_ERR, "cannot write the predictions: %s", strerror(errno));
    }
    free(text);
    return rc;
}

/* How many rows, and per target (when the data has them) the errors. */
static void print_summary(const predict_opts *o, const float *p, const float *y, size_t rows,
                          size_t outputs)
{
    fprintf(stderr, "%s: %zu rows predicted%s%s\n", cli_name(), rows, o->out ? " into " : "",
            o->out ? o->out : "");
    for (size_t t = 0; y && t < outputs; t++) {
        double se = 0, ae = 0;
        for (size_t r = 0; r < rows; r++) {
            double e = (double)p[r * outputs + t] - (double)y[r * outputs + t];
            se += e * e;
            ae += fabs(e);
        }
        fprintf(stderr, "%s: %s: MSE %.6g, RMSE %.6g, MAE %.6g (in its own units)\n", cli_name(),
                o->t.targets[t], se / (double)rows, sqrt(se / (double)rows), ae / (double)rows);
    }
}

int cmd_predict(int argc, char **argv)
{
    predict_opts o;
    int rc = parse(argc, argv, &o);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;

    regnn_model *m = NULL;
    regnn_scaler *sc = NULL;
    regnn_dataset *ds = NULL;
    float *x = NULL, *y = NULL, *p = NULL;
    cli_output dest = CLI_OUTPUT("-o", o.out);
    const char *in_files[] = {o.model, o.data};

    rc = o.out ? cli_outputs_check(in_files, 2, &dest, 1) : cli_stdout_check(in_files, 2);
    if (rc == CLI_OK) {
        regnn_set_blas_threads(1);
        rc = load_model(&o, &m, &sc);
    }
    if (rc == CLI_OK)
        rc = load_rows(&o, regnn_model_inputs(m), regnn_model_outputs(m), &ds, &x, &y);
    const size_t rows = ds ? regnn_dataset_rows(ds) : 0, outputs = m ? regnn_model_outputs(m) : 0;
    if (rc == CLI_OK)
        rc = predict_rows(m, sc, x, rows, outputs, &p);
    if (rc == CLI_OK)
        rc = emit_predictions(&o, &dest, p, rows, outputs);
    if (rc == CLI_OK && !o.t.quiet)
        print_summary(&o, p, y, rows, outputs);
    cli_outputs_free(&dest, 1);
    free(x);
    free(y);
    free(p);
    regnn_dataset_free(ds);
    regnn_scaler_free(sc);
    regnn_model_free(m);
    return rc;
}
