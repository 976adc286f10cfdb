/* SPDX-License-Identifier: MIT */
/* regnn fit: train a network on a CSV file, save it with its scaler. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include "exutil.h"
#include "svgplot.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    cli_train_opts t;
    const char *out, *checkpoint, *history, *plot;
} fit_opts;

static void fit_help(FILE *f)
{
    fputs("Usage: regnn fit DATA.csv --target NAME [options] [-o MODEL.rgn]\n"
          "Train a dense regression network (Adam; MSE or --loss) on a CSV file, print\n"
          "the learning progress, the diagnosis (overfitting, underfitting or good fit) and the test\n"
          "error, and save the model with its scaler so that `regnn predict` works in the\n"
          "data's own units.\n"
          "\n"
          "Output:\n"
          "  -o, --output FILE   save the trained model and its scaler (regnn_model_save)\n"
          "  --checkpoint FILE   also save a checkpoint: the model plus the optimizer state\n"
          "  --history FILE.csv  the per-epoch learning curve (regnn_history_write_csv)\n"
          "  --plot FILE.svg     the learning curve: training loss, val_loss and the\n"
          "                      validation and training MSE\n"
          "\n"
          "Regularization:\n"
          "  --l2 LAMBDA         Keras l2(LAMBDA) on every kernel: loss += LAMBDA sum(w^2) [0]\n"
          "                      (--l1, --dropout, --early-stopping: below)\n"
          "\n",
          f);
    cli_train_help(f);
    fputs("\nProgress goes to stderr: one line rewritten in place on a terminal, one line\n"
          "per epoch otherwise. Exit status: 0 ok, 1 error (data, file, training), 2 usage.\n"
          "Example:\n"
          "  regnn fit examples/data/diabetes.csv --target y --l2 1e-2 -o model.rgn \\\n"
          "      --plot curves.svg\n",
          f);
}

static int parse(int argc, char **argv, fit_opts *o)
{
    memset(o, 0, sizeof *o);
    cli_train_defaults(&o->t);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int r;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fit_help(stdout);
            return -1;
        }
        if ((r = cli_train_option(argc, argv, &i, &o->t)) >= 0) {
            if (r != CLI_OK)
                return r;
        } else if (ex_option(argc, argv, &i, "-o", &v) ||
                   ex_option(argc, argv, &i, "--output", &v)) {
            if (!v || !*v)
                return cli_bad_option(a, v, "a file name");
            o->out = v;
        } else if (ex_option(argc, argv, &i, "--checkpoint", &v)) {
            if (!v || !*v)
                return cli_bad_option(a, v, "a file name");
            o->checkpoint = v;
        } else if (ex_option(argc, argv, &i, "--history", &v)) {
            if (!v || !*v)
                return cli_bad_option(a, v, "a file name");
            o->history = v;
        } else if (ex_option(argc, argv, &i, "--plot", &v)) {
            if (!v || !*v)
                return cli_bad_option(a, v, "a file name");
            o->plot = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_fail(CLI_USAGE, "unknown option '%s' (see regnn fit --help)", a);
        } else if (o->t.data) {
            return cli_fail(CLI_USAGE, "more than one data file ('%s' and '%s')", o->t.data, a);
        } else {
            o->t.data = a;
        }
    }
    return cli_train_finish(&o->t);
}

typedef struct {
    cli_progress pr;
    long epochs;
    double *buf;
} progress;

static double metric_at(const regnn_history *h, int metric, size_t epoch, double *buf)
{
    size_t n = regnn_history_epochs(h);
    return regnn_history_get(h, metric, buf, n) == REGNN_OK ? buf[epoch] : NAN;
}

static int on_epoch(void *user, const regnn_history *h, size_t epoch)
{
    progress *p = user;
    double loss = metric_at(h, REGNN_METRIC_TRAIN_LOSS, epoch, p->buf);
    double vl = metric_at(h, REGNN_METRIC_VAL_LOSS, epoch, p->buf);
    double vm = metric_at(h, REGNN_METRIC_VAL_MSE, epoch, p->buf);
    cli_progress_line(&p->pr, "epoch %zu/%ld  loss %.4f  val_loss %.4f  val_mse %.4f", epoch + 1,
                      p->epochs, loss, vl, vm);
    return 0;
}

static int write_plot(const fit_opts *o, const char *path, const regnn_history *h,
                      const char *model_desc)
{
    size_t n = regnn_history_epochs(h);
    double *buf = malloc(5 * n * sizeof *buf);
    if (!buf)
        return cli_fail(CLI_ERR, "out of memory");
    double *x = buf, *loss = buf + n, *vl = buf + 2 * n, *vm = buf + 3 * n, *tm = buf + 4 * n;
    for (size_t e = 0; e < n; e++)
        x[e] = (double)(e + 1);
    if (regnn_history_get(h, REGNN_METRIC_TRAIN_LOSS, loss, n) != REGNN_OK ||
        regnn_history_get(h, REGNN_METRIC_VAL_LOSS, vl, n) != REGNN_OK ||
        regnn_history_get(h, REGNN_METRIC_VAL_MSE, vm, n) != REGNN_OK ||
        regnn_history_get(h, REGNN_METRIC_TRAIN_EVAL_MSE, tm, n) != REGNN_OK) {
        free(buf);
        return cli_lib_fail("--plot");
    }
    svgp_series s[4] = {
        {"training loss (MSE + penalty)", x, loss, NULL, n, "#1f77b4", 2, NULL, 0, 0},
        {"val_loss (MSE + penalty)", x, vl, NULL, n, "#ff7f0e", 2, NULL, 0, 0},
        {"training MSE", x, tm, NULL, n, "#1f77b4", 1.5, "6 4", 0, 0},
        {"validation MSE", x, vm, NULL, n, "#ff7f0e", 1.5, "6 4", 0, 0},
    };
    char sub[400];
    snprintf(sub, sizeof sub, "%s, target %s · %s, L2 %g · MSE in scaled target units",
             o->t.data, o->t.target_list, model_desc, o->t.l2);
    svgp_panel p = svgp_panel_init();
    p.title = "Learning curve";
    p.subtitle = sub;
    p.xlabel = "epoch";
    p.ylabel = "loss / MSE";
    p.xmin = 0;
    p.ymin = 0;
    p.series = s;
    p.n_series = 4;
    int rc = CLI_OK;
    if (svgp_write(path, NULL, &p, 1, 720, 440) != 0)
        rc = cli_fail(CLI_ERR, "cannot write %s: %s", o->plot, strerror(errno));
    free(buf);
    return rc;
}

/* Test error in scaled units and, per target, in the target's own units. */
static int report_test(const regnn_model *m, const cli_data *d)
{
    size_t n = regnn_dataset_rows(d->test), nf = regnn_dataset_features(d->test),
           nt = regnn_dataset_targets(d->test);
    double mse;
    if (regnn_model_evaluate(m, d->test, &mse, NULL, NULL) != REGNN_OK)
        return cli_lib_fail("test error");
    float *x = malloc(n * nf * sizeof *x), *y = malloc(n * nt * sizeof *y),
          *p = malloc(n * nt * sizeof *p);
    int rc = CLI_ERR;
    if (!x || !y || !p) {
        rc = cli_fail(CLI_ERR, "out of memory");
        goto out;
    }
    if (regnn_dataset_get_features(d->test, x, n * nf) != REGNN_OK ||
        regnn_model_predict(m, x, n, p, n * nt) != REGNN_OK ||
        regnn_scaler_inverse_targets(d->scaler, p, p, n) != REGNN_OK ||
        regnn_dataset_get_targets(d->test_raw, y, n * nt) != REGNN_OK) {
        rc = cli_lib_fail("test error");
        goto out;
    }
    printf("test MSE %.4f (%zu rows, scaled target units)", mse, n);
    for (size_t t = 0; t < nt; t++) {
        double se = 0;
        for (size_t i = 0; i < n; i++) {
            double e = (double)p[i * nt + t] - (double)y[i * nt + t];
            se += e * e;
        }
        printf("; %s RMSE %.4g", regnn_dataset_target_name(d->test_raw, t), sqrt(se / (double)n));
    }
    printf("\n");
    rc = CLI_OK;
out:
    free(x);
    free(y);
    free(p);
    return rc;
}

enum { OUT_MODEL, OUT_CHECKPOINT, OUT_HISTORY, OUT_PLOT, N_OUTS };

/* An encoding of m (save_mem style: measure, then fill) staged into out: the
 * model, or with opt the checkpoint. */
static int stage_encoded(cli_output *out, const regnn_model *m, const regnn_optimizer *opt)
{
    const char *what = opt ? "saving the checkpoint" : "saving the model";
    size_t n = 0;
    regnn_status st = opt ? regnn_checkpoint_save_mem(m, opt, NULL, 0, &n)
                          : regnn_model_save_mem(m, NULL, 0, &n);
    unsigned char *b = st == REGNN_OK ? malloc(n) : NULL;
    int rc;
    if (st != REGNN_OK)
        rc = cli_lib_fail(what);
    else if (!b)
        rc = cli_fail(CLI_ERR, "out of memory");
    else if ((opt ? regnn_checkpoint_save_mem(m, opt, b, n, &n)
                  : regnn_model_save_mem(m, b, n, &n)) != REGNN_OK)
        rc = cli_lib_fail(what);
    else
        rc = cli_output_stage(out, b, n);
    free(b);
    return rc;
}

/* Every requested output into its temporary file. */
static int stage_outputs(const fit_opts *o, cli_output *outs, const regnn_model *m,
                         const regnn_optimizer *opt, const regnn_history *h, const char *desc)
{
    int rc = CLI_OK;
    cli_output *hist = &outs[OUT_HISTORY], *plot = &outs[OUT_PLOT];
    if (hist->path && (rc = cli_output_reserve(hist)) == CLI_OK) {
        rc = regnn_history_write_csv(h, hist->tmp) == REGNN_OK
                 ? CLI_OK
                 : cli_fail(CLI_ERR, "cannot write %s: %s", hist->path, regnn_errmsg());
        rc = cli_output_written_by(hist, rc);
    }
    if (rc == CLI_OK && plot->path && (rc = cli_output_reserve(plot)) == CLI_OK)
        rc = cli_output_written_by(plot, write_plot(o, plot->tmp, h, desc));
    if (rc == CLI_OK && outs[OUT_MODEL].path)
        rc = stage_encoded(&outs[OUT_MODEL], m, NULL);
    if (rc == CLI_OK && outs[OUT_CHECKPOINT].path)
        rc = stage_encoded(&outs[OUT_CHECKPOINT], m, opt);
    return rc;
}

/* What one fit holds; run_free frees it. */
typedef struct {
    cli_data d;
    regnn_model *m;
    regnn_optimizer *opt;
    regnn_fit_options *fo;
    regnn_history *h;
    progress prog;
    char desc[256]; /* the layers, for the summary line and the plot */
} fit_run;

static void run_free(fit_run *r)
{
    free(r->prog.buf);
    regnn_history_free(r->h);
    regnn_fit_options_free(r->fo);
    regnn_optimizer_free(r->opt);
    regnn_model_free(r->m);
    cli_data_free(&r->d);
}

/* The model, its optimizer and the fit options for the loaded data. */
static int setup_training(const fit_opts *o, fit_run *r)
{
    if (cli_build_model(&o->t, regnn_dataset_features(r->d.train),
                        regnn_dataset_targets(r->d.train), &r->m) != CLI_OK)
        return CLI_ERR;
    /* threads 0: the library picks the count from the shapes and the batch */
    if (regnn_model_init(r->m, REGNN_INIT_GLOROT_UNIFORM, (uint64_t)o->t.seed) != REGNN_OK ||
        regnn_model_set_threads(r->m, 0) != REGNN_OK)
        return cli_lib_fail("model");
    if (cli_optimizer(&o->t, &r->opt) != CLI_OK)
        return CLI_ERR;
    r->prog.buf = malloc((size_t)o->t.epochs * sizeof *r->prog.buf);
    if (!r->prog.buf)
        return cli_fail(CLI_ERR, "out of memory");
    cli_progress_init(&r->prog.pr, o->t.quiet);
    if (cli_fit_options(&o->t, &r->fo) != CLI_OK)
        return CLI_ERR;
    if (regnn_fit_options_set_int(r->fo, REGNN_FIT_EVAL_TRAIN, 1) != REGNN_OK ||
        regnn_fit_options_set_callback(r->fo, on_epoch, &r->prog) != REGNN_OK)
        return cli_lib_fail("options");
    return CLI_OK;
}

/* The training, between a line that says what is trained and, when it
 * stopped early, a line that says so. */
static int train(const fit_opts *o, fit_run *r)
{
    cli_describe_layers(r->m, r->desc, sizeof r->desc);
    if (!o->t.quiet)
        printf("model: %s, L2 %g, %zu parameters; %s lr %g, batch %ld, %ld epochs\n", r->desc,
               o->t.l2, regnn_model_param_count(r->m), cli_optimizer_name(o->t.optimizer),
               o->t.lr, o->t.batch, o->t.epochs);
    fflush(stdout);
    regnn_status st = regnn_fit(r->m, r->opt, r->d.train, NULL, r->fo, &r->h);
    cli_progress_end(&r->prog.pr);
    if (st != REGNN_OK)
        return cli_lib_fail("training");
    if (!o->t.quiet && regnn_history_stop_reason(r->h) == REGNN_STOP_EARLY) {
        size_t best = 0;
        regnn_history_best_epoch(r->h, &best);
        printf("early stopping after epoch %zu (best val_loss at epoch %zu%s)\n",
               regnn_history_epochs(r->h), best + 1,
               o->t.restore_best ? ", whose weights were restored" : "");
    }
    return CLI_OK;
}

/* The diagnosis of the history and the test error. */
static int report(const fit_opts *o, const fit_run *r)
{
    int verdict, reason;
    double dv[REGNN_DIAG_COUNT];
    double base = cli_tail_baseline(r->d.train, o->t.val_split);
    if (regnn_history_diagnose(r->h, base, &verdict, &reason, dv, REGNN_DIAG_COUNT) != REGNN_OK)
        return cli_lib_fail("diagnosis");
    if (!o->t.quiet) {
        cli_print_diagnosis(stdout, "diagnosis: ", verdict, reason, dv);
        if (r->d.test && report_test(r->m, &r->d) != CLI_OK)
            return CLI_ERR;
    }
    return CLI_OK;
}

/* Every requested output, all or none, and what was saved. */
static int save_outputs(const fit_opts *o, const fit_run *r, cli_output *outs)
{
    if ((o->out || o->checkpoint) && regnn_model_attach_scaler(r->m, r->d.scaler) != REGNN_OK)
        /* The scaler travels with the model: predict scales new rows alike
         * and maps predictions back to the target's units. */
        return cli_lib_fail("attaching the scaler");
    if (stage_outputs(o, outs, r->m, r->opt, r->h, r->desc) != CLI_OK ||
        cli_outputs_commit(outs, N_OUTS) != CLI_OK)
        return CLI_ERR;
    if (!o->t.quiet && o->out)
        printf("saved the model and its scaler to %s\n", o->out);
    if (!o->t.quiet && o->checkpoint)
        printf("saved a checkpoint (model, scaler, optimizer state) to %s\n", o->checkpoint);
    return CLI_OK;
}

int cmd_fit(int argc, char **argv)
{
    fit_opts o;
    int rc = parse(argc, argv, &o);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;

    fit_run r;
    memset(&r, 0, sizeof r);
    r.prog.epochs = o.t.epochs;
    /* Every output is checked before the work and written after it, all or none. */
    cli_output outs[N_OUTS] = {CLI_OUTPUT("-o", o.out), CLI_OUTPUT("--checkpoint", o.checkpoint),
                               CLI_OUTPUT("--history", o.history), CLI_OUTPUT("--plot", o.plot)};
    rc = cli_open_data(&o.t, outs, N_OUTS, &r.d);
    if (rc == CLI_OK)
        rc = setup_training(&o, &r);
    if (rc == CLI_OK)
        rc = train(&o, &r);
    if (rc == CLI_OK)
        rc = report(&o, &r);
    if (rc == CLI_OK)
        rc = save_outputs(&o, &r, outs);
    cli_outputs_free(outs, N_OUTS);
    run_free(&r);
    return rc;
}
