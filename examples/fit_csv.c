/* SPDX-License-Identifier: MIT */
/*
 * fit_csv.c - train a dense regression network on any CSV file with
 * libregnn's public API, print the learning curve and the test error.
 *
 *   fit_csv --target y --layers 128x6 --l2 1e-2 --epochs 100 data.csv
 *
 * Run with --help for every option. Exit status: 0 on success, 1 when the
 * data or a library call fails (the message says why), 2 for bad options.
 */
#define _POSIX_C_SOURCE 200809L
#include <regnn.h>

#include "exutil.h"
#include "svgplot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYERS 64
#define MAX_TARGETS 64

typedef struct {
    const char *path, *targets, *history, *plot, *save;
    size_t units[MAX_LAYERS];
    size_t n_layers;
    int activation, feature_scale, target_scale, quiet;
    double l2, l1, dropout, lr, val_split, test_split;
    long epochs, batch, seed, patience, every, blas_threads;
} options;

static void usage(FILE *f)
{
    fputs(
        "Usage: fit_csv [options] FILE.csv\n"
        "Train a dense regression network (MSE, Adam) on a CSV file with libregnn,\n"
        "print the learning curve and the error on a held-out test part.\n"
        "\n"
        "The CSV has a header line of column names and numbers on every other line.\n"
        "\n"
        "Options (defaults in brackets):\n"
        "  --target NAMES        target column name(s), comma separated [the last column]\n"
        "  --layers SPEC         hidden layers: UNITSxCOUNT (128x6), a list (64,32), or a mix\n"
        "                        (128x2,16); 'none' for a linear model [64x2]\n"
        "  --activation NAME     relu, tanh or sigmoid for the hidden layers [relu]\n"
        "  --l2 L                L2 factor on every kernel: loss += L * sum(w^2) [0]\n"
        "  --l1 L                L1 factor on every kernel: loss += L * sum(|w|) [0]\n"
        "  --dropout R           dropout rate after each hidden layer [0]\n"
        "  --epochs E            [100]\n"
        "  --batch B             batch size [32]\n"
        "  --lr R                Adam learning rate [1e-3]\n"
        "  --val-split F         Keras validation_split: the last F of the training rows,\n"
        "                        unshuffled; 0 for none [0.2]\n"
        "  --test-split F        shuffled test fraction held out before training; 0 for none [0.1]\n"
        "  --seed S              seed of the split, the weights and the shuffling [1]\n"
        "  --early-stopping P    stop when val_loss has not improved for P epochs and restore\n"
        "                        the best weights [off]\n"
        "  --scale KIND          feature scaling: unit (sklearn diabetes style), zscore or\n"
        "                        none [unit]; the useful L2 lambda depends on it\n"
        "  --scale-target KIND   target scaling: zscore or none [zscore]\n"
        "  --every K             print every K-th epoch [about 20 lines]\n"
        "  --history FILE.csv    write the per-epoch history (regnn_history_write_csv)\n"
        "  --plot FILE.svg       draw the learning curve\n"
        "  --save FILE.rgn       save the trained model with its scaler (regnn_model_save)\n"
        "  --blas-threads N      threads of each matrix product (regnn_set_blas_threads); more\n"
        "                        than 1 only pays off for layers of thousands of units [1]\n"
        "  --quiet               only the final result\n"
        "  --help                this text\n"
        "\n"
        "Scaling statistics come from the training part only (training + validation\n"
        "rows), never from the test rows. Losses are in scaled target units; the test\n"
        "RMSE and MAE are also given in the target's own units.\n"
        "Columns: loss = Keras \"loss\" (mean over the epoch's batches of MSE + penalty),\n"
        "val_loss = validation MSE + penalty, val_mse = validation MSE alone.\n",
        f);
}

static int bad_option(const char *opt, const char *value, const char *what)
{
    fprintf(stderr, "fit_csv: %s %s: %s (see --help)\n", opt, value ? value : "(missing)", what);
    return 2;
}

static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->units[0] = o->units[1] = 64;
    o->n_layers = 2;
    o->activation = REGNN_ACT_RELU;
    /* unit, as the regnn program: the study's lambda (1e-2) fits this scaling */
    o->feature_scale = REGNN_SCALE_UNIT_NORM;
    o->target_scale = REGNN_SCALE_ZSCORE;
    o->lr = 1e-3;
    o->val_split = 0.2;
    o->test_split = 0.1;
    o->epochs = 100;
    o->batch = 32;
    o->seed = 1;
    o->patience = -1;
    o->blas_threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
        } else if (ex_option(argc, argv, &i, "--target", &v)) {
            if (!v || !*v)
                return bad_option(a, v, "a column name is required");
            o->targets = v;
        } else if (ex_option(argc, argv, &i, "--layers", &v)) {
            if (!v || ex_parse_layers(v, o->units, MAX_LAYERS, &o->n_layers) != 0)
                return bad_option(a, v, "expected e.g. 128x6, 64,32 or none (at most 64 layers)");
        } else if (ex_option(argc, argv, &i, "--activation", &v)) {
            if (v && strcmp(v, "relu") == 0)
                o->activation = REGNN_ACT_RELU;
            else if (v && strcmp(v, "tanh") == 0)
                o->activation = REGNN_ACT_TANH;
            else if (v && strcmp(v, "sigmoid") == 0)
                o->activation = REGNN_ACT_SIGMOID;
            else
                return bad_option(a, v, "expected relu, tanh or sigmoid");
        } else if (ex_option(argc, argv, &i, "--l2", &v)) {
            if (ex_parse_double(v, &o->l2) != 0 || o->l2 < 0)
                return bad_option(a, v, "expected a number >= 0");
        } else if (ex_option(argc, argv, &i, "--l1", &v)) {
            if (ex_parse_double(v, &o->l1) != 0 || o->l1 < 0)
                return bad_option(a, v, "expected a number >= 0");
        } else if (ex_option(argc, argv, &i, "--dropout", &v)) {
            if (ex_parse_double(v, &o->dropout) != 0 || o->dropout < 0 || o->dropout >= 1)
                return bad_option(a, v, "expected a rate in [0, 1)");
        } else if (ex_option(argc, argv, &i, "--lr", &v)) {
            if (ex_parse_double(v, &o->lr) != 0 || o->lr <= 0)
                return bad_option(a, v, "expected a number > 0");
        } else if (ex_option(argc, argv, &i, "--val-split", &v)) {
            if (ex_parse_double(v, &o->val_split) != 0 || o->val_split < 0 || o->val_split >= 1)
                return bad_option(a, v, "expected a fraction in [0, 1)");
        } else if (ex_option(argc, argv, &i, "--test-split", &v)) {
            if (ex_parse_double(v, &o->test_split) != 0 || o->test_split < 0 || o->test_split >= 1)
                return bad_option(a, v, "expected a fraction in [0, 1)");
        } else if (ex_option(argc, argv, &i, "--epochs", &v)) {
            if (ex_parse_long(v, 1, 10000000L, &o->epochs) != 0)
                return bad_option(a, v, "expected an integer >= 1");
        } else if (ex_option(argc, argv, &i, "--batch", &v)) {
            if (ex_parse_long(v, 1, 1000000L, &o->batch) != 0)
                return bad_option(a, v, "expected an integer >= 1");
        } else if (ex_option(argc, argv, &i, "--seed", &v)) {
            if (ex_parse_long(v, 0, 2000000000L, &o->seed) != 0)
                return bad_option(a, v, "expected an integer >= 0");
        } else if (ex_option(argc, argv, &i, "--early-stopping", &v)) {
            if (ex_parse_long(v, 0, 10000000L, &o->patience) != 0)
                return bad_option(a, v, "expected a patience >= 0");
        } else if (ex_option(argc, argv, &i, "--blas-threads", &v)) {
            if (ex_parse_long(v, 1, 4096, &o->blas_threads) != 0)
                return bad_option(a, v, "expected an integer in 1..4096");
        } else if (ex_option(argc, argv, &i, "--every", &v)) {
            if (ex_parse_long(v, 1, 10000000L, &o->every) != 0)
                return bad_option(a, v, "expected an integer >= 1");
        } else if (ex_option(argc, argv, &i, "--scale", &v)) {
            if (v && strcmp(v, "zscore") == 0)
                o->feature_scale = REGNN_SCALE_ZSCORE;
            else if (v && strcmp(v, "unit") == 0)
                o->feature_scale = REGNN_SCALE_UNIT_NORM;
            else if (v && strcmp(v, "none") == 0)
                o->feature_scale = REGNN_SCALE_NONE;
            else
                return bad_option(a, v, "expected zscore, unit or none");
        } else if (ex_option(argc, argv, &i, "--scale-target", &v)) {
            if (v && strcmp(v, "zscore") == 0)
                o->target_scale = REGNN_SCALE_ZSCORE;
            else if (v && strcmp(v, "none") == 0)
                o->target_scale = REGNN_SCALE_NONE;
            else
                return bad_option(a, v, "expected zscore or none");
        } else if (ex_option(argc, argv, &i, "--history", &v)) {
            if (!v || !*v)
                return bad_option(a, v, "a file name is required");
            o->history = v;
        } else if (ex_option(argc, argv, &i, "--plot", &v)) {
            if (!v || !*v)
                return bad_option(a, v, "a file name is required");
            o->plot = v;
        } else if (ex_option(argc, argv, &i, "--save", &v)) {
            if (!v || !*v)
                return bad_option(a, v, "a file name is required");
            o->save = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "fit_csv: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (o->path) {
            fprintf(stderr, "fit_csv: more than one input file ('%s' and '%s')\n", o->path, a);
            return 2;
        } else {
            o->path = a;
        }
    }
    if (!o->path) {
        fprintf(stderr, "fit_csv: no input file (usage: fit_csv [options] FILE.csv; see --help)\n");
        return 2;
    }
    if (o->patience >= 0 && o->val_split == 0) {
        fprintf(stderr, "fit_csv: --early-stopping needs validation data (--val-split > 0)\n");
        return 2;
    }
    if (o->every == 0)
        o->every = o->epochs > 20 ? o->epochs / 20 : 1;
    return 0;
}

/* Number of columns in the header line of path; 0 with errno if unreadable. */
static size_t header_columns(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = 1;
    int c, any = 0;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        any = 1;
        n += c == ',';
    }
    fclose(f);
    if (!any)
        errno = 0;
    return any ? n : 0;
}

typedef struct {
    const options *o;
    double *buf;
    int has_val;
} progress;

static int on_epoch(void *user, const regnn_history *h, size_t epoch)
{
    progress *p = user;
    size_t n = regnn_history_epochs(h), e1 = epoch + 1;
    if (p->o->quiet || !(e1 == 1 || e1 % (size_t)p->o->every == 0 || e1 == (size_t)p->o->epochs))
        return 0;
    double loss, val_loss = NAN, val_mse = NAN;
    if (regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, p->buf, n) != REGNN_OK)
        return 0;
    loss = p->buf[epoch];
    if (p->has_val) {
        regnn_history_get(h, REGNN_METRIC_VAL_LOSS, p->buf, n);
        val_loss = p->buf[epoch];
        regnn_history_get(h, REGNN_METRIC_VAL_MSE, p->buf, n);
        val_mse = p->buf[epoch];
        printf("%6zu  %12.5f  %12.5f  %12.5f\n", e1, loss, val_loss, val_mse);
    } else {
        printf("%6zu  %12.5f\n", e1, loss);
    }
    fflush(stdout);
    return 0;
}

static int write_plot(const options *o, const regnn_history *h, int has_val)
{
    size_t n = regnn_history_epochs(h);
    double *x = malloc(n * sizeof *x), *loss = malloc(n * sizeof *loss),
           *vl = malloc(n * sizeof *vl), *vm = malloc(n * sizeof *vm);
    int rc = -1;
    if (!x || !loss || !vl || !vm) {
        fprintf(stderr, "fit_csv: out of memory\n");
        goto out;
    }
    for (size_t e = 0; e < n; e++)
        x[e] = (double)(e + 1);
    if (regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, loss, n) != REGNN_OK ||
        regnn_history_get(h, REGNN_METRIC_VAL_LOSS, vl, n) != REGNN_OK ||
        regnn_history_get(h, REGNN_METRIC_VAL_MSE, vm, n) != REGNN_OK) {
        fprintf(stderr, "fit_csv: %s\n", regnn_errmsg());
        goto out;
    }
    /* With a penalty, loss and val_loss include it; the validation MSE alone
     * shows whether the model still generalizes. */
    const int pen = o->l2 > 0 || o->l1 > 0;
    svgp_series s[3] = {
        {pen ? "loss = training MSE + penalty" : "training loss (MSE)", x, loss, NULL, n, "#1f77b4", 2,
         NULL, 0, 0},
        {pen ? "val_loss = validation MSE + penalty" : "validation loss (MSE)", x, vl, NULL, n,
         "#ff7f0e", 2, NULL, 0, 0},
        {"validation MSE (no penalty)", x, vm, NULL, n, "#ff7f0e", 1.5, "6 4", 0, 0},
    };
    char sub[300];
    snprintf(sub, sizeof sub, "%s · loss = MSE%s (scaled target units)", o->path,
             o->l2 > 0 || o->l1 > 0 ? " + penalty" : "");
    svgp_panel p = svgp_panel_init();
    p.title = "Learning curve";
    p.subtitle = sub;
    p.xlabel = "epoch";
    p.ylabel = "loss";
    p.xmin = 0;
    p.ymin = 0;
    p.series = s;
    p.n_series = has_val ? (pen ? 3 : 2) : 1;
    if (svgp_write(o->plot, NULL, &p, 1, 640, 420) != 0) {
        fprintf(stderr, "fit_csv: cannot write %s: %s\n", o->plot, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(x);
    free(loss);
    free(vm);
    free(vl);
    return rc;
}

#define TRY(what, call)                                                                 \
    do {                                                                                \
        regnn_status st_ = (call);                                                      \
        if (st_ != REGNN_OK) {                                                          \
            fprintf(stderr, "fit_csv: %s: %s\n", what, regnn_errmsg());                 \
            goto cleanup;                                                               \
        }                                                                               \
    } while (0)

int main(int argc, char **argv)
{
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc;
    rc = 1;

    regnn_dataset *raw = NULL, *train_raw = NULL, *test_raw = NULL, *train = NULL, *test = NULL;
    regnn_scaler *sc = NULL;
    regnn_model *m = NULL;
    regnn_optimizer *opt = NULL;
    regnn_fit_options *fo = NULL;
    regnn_history *h = NULL;
    float *xt = NULL, *yt = NULL, *pred = NULL;
    progress prog = {&o, NULL, o.val_split > 0};

    TRY("--blas-threads", regnn_set_blas_threads((int)o.blas_threads));

    /* Targets by name, or the last column. */
    const char *names[MAX_TARGETS];
    char names_buf[4096];
    size_t n_names = 0;
    size_t last_col;
    if (o.targets) {
        if (strlen(o.targets) >= sizeof names_buf) {
            fprintf(stderr, "fit_csv: --target list too long\n");
            return 2;
        }
        strcpy(names_buf, o.targets);
        for (char *p = names_buf; p; ) {
            char *comma = strchr(p, ',');
            if (comma)
                *comma = '\0';
            if (!*p || n_names == MAX_TARGETS) {
                fprintf(stderr, "fit_csv: --target %s: expected 1 to 64 non-empty names\n",
                        o.targets);
                return 2;
            }
            names[n_names++] = p;
            p = comma ? comma + 1 : NULL;
        }
        TRY("cannot load the data", regnn_dataset_from_csv(o.path, names, NULL, n_names, &raw));
    } else {
        size_t cols = header_columns(o.path);
        if (cols == 0) {
            fprintf(stderr, "fit_csv: %s: %s\n", o.path,
                    errno ? strerror(errno) : "empty file (no header line)");
            return 1;
        }
        if (cols < 2) {
            fprintf(stderr, "fit_csv: %s: need at least two columns (features and a target)\n",
                    o.path);
            return 1;
        }
        last_col = cols - 1;
        TRY("cannot load the data", regnn_dataset_from_csv(o.path, NULL, &last_col, 1, &raw));
    }
    size_t rows = regnn_dataset_rows(raw), nf = regnn_dataset_features(raw),
           nt = regnn_dataset_targets(raw);
    if (nf == 0) {
        fprintf(stderr, "fit_csv: %s: no feature columns left besides the target(s)\n", o.path);
        goto cleanup;
    }
    if (!o.quiet) {
        printf("%s: %zu rows, %zu features, target%s", o.path, rows, nf, nt > 1 ? "s" : "");
        for (size_t t = 0; t < nt; t++)
            printf("%s%s", t ? ", " : " ", regnn_dataset_target_name(raw, t));
        printf("\n");
    }

    /* Test split, then scaling fitted on the training part only. */
    if (o.test_split > 0) {
        TRY("test split", regnn_dataset_split_shuffled(raw, o.test_split, (uint64_t)o.seed,
                                                       &train_raw, &test_raw));
    } else {
        /* No test split: train on every row (a full selection is a copy). */
        size_t *all = malloc(rows * sizeof *all);
        if (!all) {
            fprintf(stderr, "fit_csv: out of memory\n");
            goto cleanup;
        }
        for (size_t i = 0; i < rows; i++)
            all[i] = i;
        regnn_status st = regnn_dataset_select(raw, all, rows, &train_raw);
        free(all);
        TRY("copy", st);
    }
    TRY("scaling", regnn_scaler_fit(train_raw, o.feature_scale, o.target_scale, &sc));
    TRY("scaling", regnn_scaler_transform(sc, train_raw, &train));
    if (test_raw)
        TRY("scaling", regnn_scaler_transform(sc, test_raw, &test));

    /* Model. */
    TRY("model", regnn_model_create(nf, &m));
    for (size_t i = 0; i < o.n_layers; i++)
        TRY("model", regnn_model_add_dense(m, o.units[i], o.activation, NULL));
    TRY("model", regnn_model_add_dense(m, nt, REGNN_ACT_LINEAR, NULL));
    TRY("--l2", regnn_model_set_layers_double(m, REGNN_LAYER_L2, o.l2));
    TRY("--l1", regnn_model_set_layers_double(m, REGNN_LAYER_L1, o.l1));
    for (size_t i = 0; o.dropout > 0 && i < o.n_layers; i++)
        TRY("--dropout", regnn_layer_set_double(regnn_model_layer(m, i), REGNN_LAYER_DROPOUT,
                                                o.dropout));
    TRY("model", regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, (uint64_t)o.seed));
    TRY("optimizer", regnn_optimizer_create(REGNN_OPTIM_ADAM, &opt));
    TRY("--lr", regnn_optimizer_set_double(opt, REGNN_OPT_LEARNING_RATE, o.lr));

    TRY("options", regnn_fit_options_create(&fo));
    TRY("--epochs", regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, o.epochs));
    TRY("--batch", regnn_fit_options_set_int(fo, REGNN_FIT_BATCH_SIZE, o.batch));
    TRY("--val-split", regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, o.val_split));
    if (o.patience >= 0) {
        TRY("--early-stopping", regnn_fit_options_set_int(fo, REGNN_FIT_EARLY_STOPPING, 1));
        TRY("--early-stopping", regnn_fit_options_set_int(fo, REGNN_FIT_PATIENCE, o.patience));
        TRY("--early-stopping", regnn_fit_options_set_int(fo, REGNN_FIT_RESTORE_BEST, 1));
    }
    prog.buf = malloc((size_t)o.epochs * sizeof *prog.buf);
    if (!prog.buf) {
        fprintf(stderr, "fit_csv: out of memory\n");
        goto cleanup;
    }
    TRY("options", regnn_fit_options_set_callback(fo, on_epoch, &prog));

    if (!o.quiet) {
        printf("model: %zu", nf);
        for (size_t i = 0; i < o.n_layers; i++)
            printf("-%zu", o.units[i]);
        printf("-%zu, %zu parameters; %zu training rows (%.0f%% of them for validation), %zu test "
               "rows\n",
               nt, regnn_model_param_count(m), regnn_dataset_rows(train), 100 * o.val_split,
               test ? regnn_dataset_rows(test) : (size_t)0);
        if (prog.has_val)
            printf("%6s  %12s  %12s  %12s\n", "epoch", "loss", "val_loss", "val_mse");
        else
            printf("%6s  %12s\n", "epoch", "loss");
    }
    TRY("training", regnn_fit(m, opt, train, NULL, fo, &h));
    if (!o.quiet && regnn_history_stop_reason(h) == REGNN_STOP_EARLY) {
        size_t best = 0;
        regnn_history_best_epoch(h, &best);
        printf("early stopping after epoch %zu; restored the weights of epoch %zu\n",
               regnn_history_epochs(h), best + 1);
    }
    if (o.history)
        TRY(o.history, regnn_history_write_csv(h, o.history));
    if (o.plot && write_plot(&o, h, prog.has_val) != 0)
        goto cleanup;

    if (test) {
        double mse, mae;
        TRY("evaluate", regnn_model_evaluate(m, test, &mse, &mae, NULL));
        size_t n = regnn_dataset_rows(test);
        xt = malloc(n * nf * sizeof *xt);
        yt = malloc(n * nt * sizeof *yt);
        pred = malloc(n * nt * sizeof *pred);
        if (!xt || !yt || !pred) {
            fprintf(stderr, "fit_csv: out of memory\n");
            goto cleanup;
        }
        /* Predictions in the target's own units: inverse-scale them and
         * compare with the unscaled test targets. */
        TRY("evaluate", regnn_dataset_get_features(test, xt, n * nf));
        TRY("evaluate", regnn_model_predict(m, xt, n, pred, n * nt));
        TRY("evaluate", regnn_scaler_inverse_targets(sc, pred, pred, n));
        TRY("evaluate", regnn_dataset_get_targets(test_raw, yt, n * nt));
        printf("test (%zu rows): MSE %.5f, MAE %.5f in scaled units\n", n, mse, mae);
        for (size_t t = 0; t < nt; t++) {
            double se = 0, ae = 0;
            for (size_t i = 0; i < n; i++) {
                double d = (double)pred[i * nt + t] - (double)yt[i * nt + t];
                se += d * d;
                ae += fabs(d);
            }
            printf("test %s: RMSE %.5g, MAE %.5g in its own units\n",
                   regnn_dataset_target_name(raw, t), sqrt(se / (double)n), ae / (double)n);
        }
    } else {
        double mse;
        TRY("evaluate", regnn_model_evaluate(m, train, &mse, NULL, NULL));
        printf("no test part (--test-split 0); MSE on all training rows: %.5f (scaled units)\n",
               mse);
    }

    if (o.save) { /* the scaler goes with the model, to scale new inputs alike */
        TRY("--save", regnn_model_attach_scaler(m, sc));
        TRY(o.save, regnn_model_save(m, o.save));
        printf("saved the model and its scaler to %s\n", o.save);
    }
    rc = 0;

cleanup:
    free(xt);
    free(yt);
    free(pred);
    free(prog.buf);
    regnn_history_free(h);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(opt);
    regnn_model_free(m);
    regnn_scaler_free(sc);
    regnn_dataset_free(test);
    regnn_dataset_free(train);
    regnn_dataset_free(test_raw);
    regnn_dataset_free(train_raw);
    regnn_dataset_free(raw);
    return rc;
}
