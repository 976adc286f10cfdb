/* SPDX-License-Identifier: MIT */
/* regnn path: an L2 sweep (regnn_regularization_path) with the lambda to use. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include "exutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    cli_train_opts t;
    double lambdas[CLI_MAX_LAMBDAS];
    size_t n_lambdas;
    long seeds, threads;
    long shard_index, shard_count; /* --shard I/N */
    const char *out;               /* --out FILE */
    int penalty;                   /* --penalty: REGNN_PENALTY_* */
} path_opts;

/* --penalty's words and the REGNN_PENALTY_* each names. */
static const char *const penalty_words[] = {"l2",      "l1",       "weight-decay", "dropout",
                                            "max-norm", "activity-l2", "bias-l2"};
static const int penalty_values[] = {REGNN_PENALTY_L2,      REGNN_PENALTY_L1,
                                     REGNN_PENALTY_WEIGHT_DECAY, REGNN_PENALTY_DROPOUT,
                                     REGNN_PENALTY_MAX_NORM, REGNN_PENALTY_ACTIVITY_L2,
                                     REGNN_PENALTY_BIAS_L2};

static int parse_penalty(const char *v, int *out)
{
    for (size_t k = 0; v && k < sizeof penalty_words / sizeof *penalty_words; k++)
        if (strcmp(v, penalty_words[k]) == 0) {
            *out = penalty_values[k];
            return 0;
        }
    return -1;
}

static void path_help(FILE *f)
{
    fputs("Usage: regnn path DATA.csv --target NAME [--lambdas L1,L2,...] [options]\n"
          "Train the network once per (lambda, seed) with Keras l2(lambda) on every kernel\n"
          "(regnn_regularization_path, runs in parallel), and print per lambda the mean\n"
          "and standard error over the seeds of the best and final validation MSE, the\n"
          "final training MSE and gap, the test MSE, and the diagnosis of every run; then\n"
          "the lambda with the lowest mean final validation MSE and the one-standard-error\n"
          "choice (the largest lambda within one SE of that minimum).\n"
          "\n"
          "Sweep:\n"
          "  --lambdas LIST      comma-separated L2 factors >= 0, e.g. 0,1e-3,1e-2,3e-2\n"
          "                      [from the data: 0 and lambda_max x 1e-4, 1e-3, 1e-2, 1e-1,\n"
          "                      1, lambda_max = 2 max_j |x_j . (y - mean y)| / n on the\n"
          "                      scaled training rows, rounded up to 2 digits]\n"
          "  --penalty KIND      what lambda is: l2 (Keras l2 on every kernel), l1,\n"
          "                      weight-decay (Adam's decoupled decay), dropout (the rate\n"
          "                      of every hidden layer), max-norm (MaxNorm on every kernel;\n"
          "                      0: none), activity-l2, bias-l2 (every layer); all but l2\n"
          "                      and l1 need --lambdas [l2]\n"
          "  --folds K           K-fold cross-validation on the training rows instead of\n"
          "                      the validation split (cv.glmnet): lambda.min, lambda.1se\n"
          "  --seeds N           runs per lambda; run s uses seed --seed + s [1]\n"
          "  --threads N         worker threads; 0 = one per CPU [0]\n"
          "  --shard I/N         train only the runs r with r % N == I (runs numbered\n"
          "                      lambda-major: r = lambda index * seeds + seed index;\n"
          "                      with --folds K, (lambda index * K + fold) * seeds + seed),\n"
          "                      e.g. one batch job each; needs --out, prints no table\n"
          "  --out FILE          also write the results to FILE, for `regnn merge`\n"
          "\n",
          f);
    cli_train_help(f);
    fputs("\nEvery lambda starts from the same weights and sees the same batches for a\n"
          "given seed, and all runs share one test split (--seed). Progress (one line per\n"
          "finished run) goes to stderr. Exit status: 0 ok, 1 error, 2 usage.\n"
          "Example:\n"
          "  regnn path examples/data/diabetes.csv --target y --lambdas 0,1e-3,1e-2,3e-2 \\\n"
          "      --seeds 3\n"
          "Split over jobs (same arguments in every job), then the same table:\n"
          "  regnn path ... --shard 0/2 --out s0.rgp;  regnn path ... --shard 1/2 --out s1.rgp\n"
          "  regnn merge s0.rgp s1.rgp\n",
          f);
}

/* The library's largest value of an integer path option (regnn_option_bounds). */
static long path_option_max(int key)
{
    regnn_bounds b = {sizeof b, 0, 0, 0, 0};
    return regnn_option_bounds(REGNN_OPTION_PATH, key, &b) == REGNN_OK ? (long)b.max : 0;
}

static int parse(int argc, char **argv, path_opts *o)
{
    memset(o, 0, sizeof *o);
    cli_train_defaults(&o->t);
    o->seeds = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int r;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            path_help(stdout);
            return -1;
        }
        if (strncmp(a, "--l2", 4) == 0)
            return cli_fail(CLI_USAGE, "--l2 does not apply to a sweep: give the values with "
                                       "--lambdas");
        if ((r = cli_train_option(argc, argv, &i, &o->t)) >= 0) {
            if (r != CLI_OK)
                return r;
        } else if (ex_option(argc, argv, &i, "--lambdas", &v)) {
            int n = ex_parse_double_list(v, o->lambdas, CLI_MAX_LAMBDAS);
            if (n < 1)
                return cli_bad_option(a, v, "expected 1 to 256 comma-separated numbers >= 0");
            for (int k = 0; k < n; k++)
                if (o->lambdas[k] < 0)
                    return cli_bad_option(a, v, "every lambda must be >= 0");
            o->n_lambdas = (size_t)n;
        } else if (ex_option(argc, argv, &i, "--penalty", &v)) {
            if (parse_penalty(v, &o->penalty) != 0)
                return cli_bad_option(a, v, "expected l2, l1, weight-decay, dropout, max-norm, "
                                            "activity-l2 or bias-l2");
        } else if (ex_option(argc, argv, &i, "--folds", &v)) {
            if (ex_parse_long(v, 2, 1000, &o->t.folds) != 0)
                return cli_bad_option(a, v, "expected a number of folds in 2..1000");
        } else if (ex_option(argc, argv, &i, "--seeds", &v)) {
            if (ex_parse_long(v, 1, 1000, &o->seeds) != 0)
                return cli_bad_option(a, v, "expected an integer in 1..1000");
        } else if (ex_option(argc, argv, &i, "--shard", &v)) {
            if (!v)
                return cli_bad_option(a, v, "expected I/N, e.g. 0/4");
            char *end = NULL;
            errno = 0;
            long si = strtol(v, &end, 10), sc = 0;
            if (end != v && *end == '/' && end[1] >= '0' && end[1] <= '9') {
                const char *n = end + 1;
                sc = strtol(n, &end, 10);
            }
            const long max = path_option_max(REGNN_PATH_SHARD_COUNT);
            if (errno || *end || sc < 1 || sc > max || si < 0 || si >= sc) {
                char want[80];
                snprintf(want, sizeof want, "expected I/N with 0 <= I < N <= %ld, e.g. 0/4", max);
                return cli_bad_option(a, v, want);
            }
            o->shard_index = si;
            o->shard_count = sc;
        } else if (ex_option(argc, argv, &i, "--out", &v)) {
            if (!v || !*v)
                return cli_bad_option(a, v, "expected a file name");
            o->out = v;
        } else if (ex_option(argc, argv, &i, "--threads", &v)) {
            const long max = path_option_max(REGNN_PATH_THREADS);
            if (ex_parse_long(v, 0, max, &o->threads) != 0) {
                char want[64];
                snprintf(want, sizeof want, "expected an integer in 0..%ld", max);
                return cli_bad_option(a, v, want);
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_fail(CLI_USAGE, "unknown option '%s' (see regnn path --help)", a);
        } else if (o->t.data) {
            return cli_fail(CLI_USAGE, "more than one data file ('%s' and '%s')", o->t.data, a);
        } else {
            o->t.data = a;
        }
    }
    int rc = cli_train_finish(&o->t);
    if (rc == CLI_OK && o->n_lambdas == 0 && o->penalty != REGNN_PENALTY_L2 &&
        o->penalty != REGNN_PENALTY_L1)
        rc = cli_fail(CLI_USAGE, "--penalty %s needs --lambdas (the grid from the data is one "
                      "of L2 and L1 factors)", penalty_words[o->penalty]);
    if (rc == CLI_OK && o->shard_count > 0 && !o->out)
        rc = cli_fail(CLI_USAGE, "--shard needs --out FILE (merge the files with regnn merge)");
    return rc;
}

static int on_run(void *user, size_t done, size_t total, double lambda, uint64_t seed,
                  const regnn_history *h)
{
    cli_progress *p = user;
    char lb[32];
    double v = NAN;
    size_t n = regnn_history_epochs(h);
    if (h && n > 0) {
        double *buf = malloc(n * sizeof *buf);
        if (buf && regnn_history_get(h, REGNN_METRIC_VAL_MSE, buf, n) == REGNN_OK)
            v = buf[n - 1];
        free(buf);
    }
    if (h)
        cli_progress_line(p, "run %zu/%zu done: lambda %s, seed %llu, final val MSE %.4f", done,
                          total, cli_fmt_lambda(lambda, lb, sizeof lb), (unsigned long long)seed,
                          v);
    else
        cli_progress_line(p, "run %zu/%zu done: lambda %s, seed %llu, diverged", done, total,
                          cli_fmt_lambda(lambda, lb, sizeof lb), (unsigned long long)seed);
    return 0;
}

/* Mean and SE of a run value per lambda into mean[] and se[]. */
static int summary(const regnn_path *p, int stat, double *mean, double *se, size_t n)
{
    if (regnn_path_get(p, stat, REGNN_AGG_MEAN, mean, n) != REGNN_OK ||
        regnn_path_get(p, stat, REGNN_AGG_SE, se, n) != REGNN_OK)
        return cli_lib_fail("path results");
    return CLI_OK;
}

/* mean ± se, or the mean alone for one run per lambda; why (e.g. "none",
 * "diverged") in place of a value that is NaN, never "nan". */
static void cell(char *buf, size_t size, double mean, double se, size_t runs, const char *why)
{
    if (isnan(mean))
        snprintf(buf, size, "%s", why);
    else if (runs > 1 && !isnan(se))
        snprintf(buf, size, "%.3f ± %.3f", mean, se);
    else
        snprintf(buf, size, "%.3f", mean);
}

/* "%-*s" pads bytes: "±" is two bytes in UTF-8, so a cell holding one gets
 * one more. */
static int pad(const char *c, int w) { return strstr(c, "±") ? w + 1 : w; }

/* What the results table shows: per lambda the mean and SE of six run
 * values, and per run its verdict, reason and whether it diverged. */
typedef struct {
    size_t nl, ns, nk, rpl; /* lambdas, seeds, folds, runs per lambda */
    double *lambdas, *buf, *verdicts, *reasons, *div;
    double *bv, *bv_se, *fv, *fv_se, *ft, *ft_se, *gap, *gap_se, *te, *te_se, *be, *be_se;
} path_table;

static void table_free(path_table *t)
{
    free(t->lambdas);
    free(t->buf);
    free(t->verdicts);
    free(t->reasons);
    free(t->div);
}

/* Reads the table's values from p into t (table_free frees them). */
static int table_load(const regnn_path *p, path_table *t)
{
    const size_t nl = t->nl = regnn_path_lambda_count(p);
    t->ns = regnn_path_seed_count(p);
    t->nk = regnn_path_fold_count(p);
    const size_t runs = nl * (t->rpl = t->ns * t->nk);
    t->lambdas = malloc(nl * sizeof *t->lambdas);
    double *buf = t->buf = malloc(12 * nl * sizeof *buf);
    t->verdicts = malloc(runs * sizeof *t->verdicts);
    t->reasons = malloc(runs * sizeof *t->reasons);
    t->div = malloc(runs * sizeof *t->div);
    if (!t->lambdas || !buf || !t->verdicts || !t->reasons || !t->div ||
        regnn_path_lambdas(p, t->lambdas, nl) != REGNN_OK)
        return cli_fail(CLI_ERR, "out of memory");
    t->bv = buf, t->bv_se = buf + nl, t->fv = buf + 2 * nl, t->fv_se = buf + 3 * nl;
    t->ft = buf + 4 * nl, t->ft_se = buf + 5 * nl, t->gap = buf + 6 * nl, t->gap_se = buf + 7 * nl;
    t->te = buf + 8 * nl, t->te_se = buf + 9 * nl, t->be = buf + 10 * nl, t->be_se = buf + 11 * nl;
    if (summary(p, REGNN_RUN_BEST_VAL_MSE, t->bv, t->bv_se, nl) != CLI_OK ||
        summary(p, REGNN_RUN_FINAL_VAL_MSE, t->fv, t->fv_se, nl) != CLI_OK ||
        summary(p, REGNN_RUN_FINAL_TRAIN_MSE, t->ft, t->ft_se, nl) != CLI_OK ||
        summary(p, REGNN_RUN_FINAL_GAP, t->gap, t->gap_se, nl) != CLI_OK ||
        summary(p, REGNN_RUN_TEST_MSE, t->te, t->te_se, nl) != CLI_OK ||
        summary(p, REGNN_RUN_BEST_EPOCH, t->be, t->be_se, nl) != CLI_OK)
        return CLI_ERR;
    if (regnn_path_get_runs(p, REGNN_RUN_VERDICT, t->verdicts, runs) != REGNN_OK ||
        regnn_path_get_runs(p, REGNN_RUN_REASON, t->reasons, runs) != REGNN_OK ||
        regnn_path_get_runs(p, REGNN_RUN_DIVERGED, t->div, runs) != REGNN_OK)
        return cli_lib_fail("path results");
    return CLI_OK;
}

/* The baseline, what the numbers are, and the column heads. */
static void print_heading(const path_table *t, double base, int have_test)
{
    printf("baseline (predicting the training mean) on the validation rows: MSE %.3f\n", base);
    if (t->nk > 1)
        printf("MSE in scaled target units; %zu-fold cross-validation: the fold-size-weighted "
               "mean ± standard error over the folds (cv.glmnet's cvm ± cvsd)%s\n\n",
               t->nk, t->ns > 1 ? ", each fold's value the mean over its seeds" : "");
    else if (t->ns > 1)
        printf("MSE in scaled target units; mean ± standard error over %zu seeds\n\n", t->ns);
    else
        printf("MSE in scaled target units; one seed (--seeds N for means and errors)\n\n");
    printf("%-8s %-16s %-10s %-16s %-16s %-16s %-16s %s\n", "lambda", "best val MSE",
           "best epoch", "final train MSE", "final val MSE", "gap (val-train)",
           have_test ? "test MSE" : "test MSE (none)", "diagnosis");
}

/* Every verdict that occurred for lambda i, with its count and the first
 * run's reason; "diverged" when none did. */
static void print_verdicts(const path_table *t, size_t i)
{
    const size_t rpl = t->rpl;
    const char *sep = "";
    for (int v = 0; v < 4; v++) {
        size_t cnt = 0, first = 0;
        for (size_t s = rpl; s-- > 0;)
            if ((int)t->verdicts[i * rpl + s] == v) {
                cnt++;
                first = s;
            }
        if (cnt == 0)
            continue;
        printf("%s%s %zu/%zu (%s)", sep, regnn_verdict_name(v), cnt, rpl,
               cli_reason_name((int)t->reasons[i * rpl + first]));
        sep = ", ";
    }
    if (!*sep)
        printf("diverged");
    printf("\n");
}

/* The table's row of lambda i. */
static void print_row(const path_table *t, size_t i, int have_test)
{
    const size_t rpl = t->rpl;
    char c[6][48], lb[32];
    int diverged = 0;
    for (size_t r = 0; r < rpl; r++)
        diverged |= t->div[i * rpl + r] != 0;
    const char *why = diverged ? "diverged" : "n/a";
    cell(c[0], sizeof c[0], t->bv[i], t->bv_se[i], rpl, why);
    if (isnan(t->be[i]))
        snprintf(c[1], sizeof c[1], "%s", why);
    else
        snprintf(c[1], sizeof c[1], "%.1f", t->be[i] + 1);
    cell(c[2], sizeof c[2], t->ft[i], t->ft_se[i], rpl, why);
    cell(c[3], sizeof c[3], t->fv[i], t->fv_se[i], rpl, why);
    cell(c[4], sizeof c[4], t->gap[i], t->gap_se[i], rpl, why);
    cell(c[5], sizeof c[5], t->te[i], t->te_se[i], rpl, have_test ? why : "none");
    const int w = 16;
    printf("%-8s %-*s %-10s %-*s %-*s %-*s %-*s ", cli_fmt_lambda(t->lambdas[i], lb, sizeof lb),
           pad(c[0], w), c[0], c[1], pad(c[2], w), c[2], pad(c[3], w), c[3], pad(c[4], w), c[4],
           pad(c[5], w), c[5]);
    print_verdicts(t, i);
}

/* The two lambdas to choose from (lambda.min and lambda.1se with folds). */
static void print_choices(const regnn_path *p, const path_table *t)
{
    size_t i_min = 0, i_1se = 0;
    int have_choice = regnn_path_best_index(p, REGNN_RUN_FINAL_VAL_MSE, REGNN_SELECT_MIN, &i_min) ==
                          REGNN_OK &&
                      regnn_path_best_index(p, REGNN_RUN_FINAL_VAL_MSE, REGNN_SELECT_1SE, &i_1se) ==
                          REGNN_OK;
    char l1[32], l2[32];
    if (have_choice && t->nk > 1) {
        printf("\nlambda.min (lowest cross-validated MSE): lambda %s (%.3f ± %.3f)\n",
               cli_fmt_lambda(t->lambdas[i_min], l1, sizeof l1), t->fv[i_min], t->fv_se[i_min]);
        printf("lambda.1se (largest lambda within one standard error): lambda %s (%.3f)\n",
               cli_fmt_lambda(t->lambdas[i_1se], l2, sizeof l2), t->fv[i_1se]);
    } else if (have_choice) {
        printf("\nlowest mean final val MSE: lambda %s (%.3f)\n",
               cli_fmt_lambda(t->lambdas[i_min], l1, sizeof l1), t->fv[i_min]);
        printf("one-standard-error choice: lambda %s (%.3f%s)\n",
               cli_fmt_lambda(t->lambdas[i_1se], l2, sizeof l2), t->fv[i_1se],
               t->ns > 1 ? "" : "; one seed has no standard error, so it is the minimum");
    } else {
        printf("\nno lambda to recommend: every lambda has a diverged run\n");
    }
}

/* The results table, the two choices and the diagnoses. */
static int print_table(const regnn_path *p, int have_test, int quiet)
{
    path_table t;
    memset(&t, 0, sizeof t);
    int rc = table_load(p, &t);
    if (rc == CLI_OK) {
        print_heading(&t, regnn_path_baseline_mse(p), have_test);
        for (size_t i = 0; i < t.nl; i++)
            print_row(&t, i, have_test);
        if (!have_test)
            printf("\ntest MSE: none, as there are no test rows (--test-split 0)\n");
        print_choices(p, &t);
    }
    /* A grid under which every model predicts about the mean has nothing to
     * choose from. */
    if (rc == CLI_OK && !quiet) {
        regnn_warnings *w = NULL;
        if (regnn_path_diagnose(p, &w) != REGNN_OK)
            rc = cli_lib_fail("checking the lambda grid");
        else
            cli_warn_all(w);
        regnn_warnings_free(w);
    }
    table_free(&t);
    return rc;
}

/* Rounds v > 0 up to two significant digits: mantissa 10..99 into *m, the
 * power of ten of its last digit into *e. */
static void round_up_2(double v, double *m, int *e)
{
    int p = (int)floor(log10(v)) - 1;
    double mm = ceil(v / pow(10, p) * (1 - 1e-12));
    if (mm >= 100) {
        mm = 10;
        p++;
    }
    *m = mm;
    *e = p;
}

/* The lambda grid when --lambdas is not given (docs/cli.md): 0 and
 * lambda_max x 10^-k, k = 4..0, lambda_max = 2 max_j |x_j . (y - mean y)| / n
 * over the scaled training rows and the targets, rounded up to two digits:
 * the smallest L1 factor at which the lasso's weights are all 0 (glmnet's
 * lambda_max, in Keras' loss = MSE + lambda sum|w| convention). */
static int default_grid(path_opts *o, const regnn_dataset *train)
{
    size_t n = regnn_dataset_rows(train), nf = regnn_dataset_features(train),
           nt = regnn_dataset_targets(train);
    float *x = malloc(n * nf * sizeof *x), *y = malloc(n * nt * sizeof *y);
    int rc = CLI_ERR;
    if (!x || !y) {
        rc = cli_fail(CLI_ERR, "out of memory");
        goto out;
    }
    if (regnn_dataset_get_features(train, x, n * nf) != REGNN_OK ||
        regnn_dataset_get_targets(train, y, n * nt) != REGNN_OK) {
        rc = cli_lib_fail("lambda grid");
        goto out;
    }
    double lmax = 0;
    for (size_t t = 0; t < nt; t++) {
        double ym = 0;
        for (size_t i = 0; i < n; i++)
            ym += y[i * nt + t];
        ym /= (double)n;
        for (size_t j = 0; j < nf; j++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += (double)x[i * nf + j] * ((double)y[i * nt + t] - ym);
            s = 2 * fabs(s) / (double)n;
            lmax = s > lmax ? s : lmax;
        }
    }
    if (!(lmax > 0) || !isfinite(lmax)) {
        rc = cli_fail(CLI_ERR, "cannot derive a lambda grid: no feature is correlated with the "
                               "target on the training rows; give --lambdas");
        goto out;
    }
    double m;
    int e;
    round_up_2(lmax, &m, &e);
    o->lambdas[0] = 0;
    for (int k = 0; k <= 4; k++)
        o->lambdas[1 + k] = m * pow(10, e - 4 + k);
    o->n_lambdas = 6;
    if (!o->t.quiet) {
        char lb[32];
        printf("lambda grid from the data: lambda_max = 2 max_j |x_j . (y - mean)| / n = %s "
               "(rounded up); 0 and lambda_max x 1e-4 .. 1 (--lambdas to choose)\n",
               cli_fmt_lambda(o->lambdas[5], lb, sizeof lb));
    }
    rc = CLI_OK;
out:
    free(x);
    free(y);
    return rc;
}

/* p's encoding (regnn_path_save_mem) staged for dest and renamed over it. */
static int write_path(const regnn_path *p, cli_output *dest)
{
    size_t n = 0;
    if (regnn_path_save_mem(p, NULL, 0, &n) != REGNN_OK)
        return cli_lib_fail("--out");
    unsigned char *b = malloc(n);
    int rc;
    if (!b)
        rc = cli_fail(CLI_ERR, "out of memory");
    else if (regnn_path_save_mem(p, b, n, &n) != REGNN_OK)
        rc = cli_lib_fail("--out");
    else
        rc = cli_output_stage(dest, b, n);
    free(b);
    return rc == CLI_OK ? cli_outputs_commit(dest, 1) : rc;
}

/* What one sweep holds; sweep_free frees it. */
typedef struct {
    cli_data d;
    regnn_model *tmpl;
    regnn_optimizer *opt;
    regnn_fit_options *fo;
    regnn_path_options *po;
    regnn_path *p;
    cli_progress pr;
} sweep_run;

static void sweep_free(sweep_run *r)
{
    regnn_path_free(r->p);
    regnn_path_options_free(r->po);
    regnn_fit_options_free(r->fo);
    regnn_optimizer_free(r->opt);
    regnn_model_free(r->tmpl);
    cli_data_free(&r->d);
}

/* The path options: folds or the validation split, lambdas, seeds,
 * threads, the test rows, the shard, progress. */
static int set_path_options(const path_opts *o, sweep_run *r)
{
    if ((o->t.folds > 1 &&
         (regnn_fit_options_set_double(r->fo, REGNN_FIT_VALIDATION_SPLIT, 0) != REGNN_OK ||
          regnn_path_options_create(&r->po) != REGNN_OK ||
          regnn_path_options_set_int(r->po, REGNN_PATH_FOLDS, o->t.folds) != REGNN_OK ||
          regnn_path_options_set_int(r->po, REGNN_PATH_FOLD_SEED, o->t.seed) != REGNN_OK)) ||
        (!r->po && regnn_path_options_create(&r->po) != REGNN_OK) ||
        regnn_path_options_set_lambdas(r->po, o->lambdas, o->n_lambdas) != REGNN_OK ||
        regnn_path_options_set_int(r->po, REGNN_PATH_SEEDS, o->seeds) != REGNN_OK ||
        regnn_path_options_set_int(r->po, REGNN_PATH_PENALTY, o->penalty) != REGNN_OK ||
        regnn_path_options_set_int(r->po, REGNN_PATH_SEED, o->t.seed) != REGNN_OK ||
        regnn_path_options_set_int(r->po, REGNN_PATH_THREADS, o->threads) != REGNN_OK ||
        (r->d.test && regnn_path_options_set_test(r->po, r->d.test) != REGNN_OK) ||
        (o->shard_count > 0 &&
         (regnn_path_options_set_int(r->po, REGNN_PATH_SHARD_INDEX, o->shard_index) != REGNN_OK ||
          regnn_path_options_set_int(r->po, REGNN_PATH_SHARD_COUNT, o->shard_count) != REGNN_OK)) ||
        regnn_path_options_set_progress(r->po, on_run, &r->pr) != REGNN_OK)
        return cli_lib_fail("options");
    return CLI_OK;
}

/* The template, optimizer, options and lambda grid for the loaded data. */
static int setup_sweep(path_opts *o, sweep_run *r)
{
    if (cli_build_model(&o->t, regnn_dataset_features(r->d.train),
                        regnn_dataset_targets(r->d.train), &r->tmpl) != CLI_OK)
        return CLI_ERR;
    if (cli_optimizer(&o->t, &r->opt) != CLI_OK || cli_fit_options(&o->t, &r->fo) != CLI_OK)
        return CLI_ERR;
    if (o->n_lambdas == 0 && default_grid(o, r->d.train) != CLI_OK)
        return CLI_ERR;
    cli_progress_init(&r->pr, o->t.quiet);
    return set_path_options(o, r);
}

/* The line that says what is swept. */
static void describe_sweep(const path_opts *o, const regnn_model *tmpl)
{
    const size_t nl = o->n_lambdas, ns = (size_t)o->seeds;
    char desc[256];
    regnn_model *probe = NULL;
    /* Describe the template through a copy: describing needs layer handles. */
    if (regnn_model_copy(tmpl, &probe) == REGNN_OK) {
        cli_describe_layers(probe, desc, sizeof desc);
        printf("model: %s; %s lr %g, batch %ld, %ld epochs; %zu lambda%s x %zu seed%s\n", desc,
               cli_optimizer_name(o->t.optimizer), o->t.lr, o->t.batch, o->t.epochs, nl,
               nl > 1 ? "s" : "", ns, ns > 1 ? "s" : "");
    }
    regnn_model_free(probe);
    fflush(stdout);
}

/* The sweep, then its file (--out) and, unless it is one shard, the table. */
static int run_sweep(const path_opts *o, sweep_run *r, cli_output *dest)
{
    if (!o->t.quiet)
        describe_sweep(o, r->tmpl);
    regnn_status st = regnn_regularization_path(r->tmpl, r->opt, r->d.train, NULL, r->fo, r->po,
                                                &r->p);
    cli_progress_end(&r->pr);
    if (st != REGNN_OK)
        return cli_lib_fail("sweep");
    if (o->out && write_path(r->p, dest) != CLI_OK)
        return CLI_ERR;
    if (o->shard_count > 0) {
        if (!o->t.quiet)
            printf("shard %ld/%ld written to %s (regnn merge FILE... prints the table)\n",
                   o->shard_index, o->shard_count, o->out);
        return CLI_OK;
    }
    if (print_table(r->p, r->d.test != NULL, o->t.quiet) != CLI_OK)
        return CLI_ERR;
    return CLI_OK;
}

int cmd_path(int argc, char **argv)
{
    path_opts o;
    int rc = parse(argc, argv, &o);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;

    sweep_run r;
    memset(&r, 0, sizeof r);
    cli_output dest = CLI_OUTPUT("--out", o.out);
    rc = cli_open_data(&o.t, &dest, 1, &r.d);
    if (rc == CLI_OK)
        rc = setup_sweep(&o, &r);
    if (rc == CLI_OK)
        rc = run_sweep(&o, &r, &dest);
    cli_outputs_free(&dest, 1);
    sweep_free(&r);
    return rc;
}

/* regnn merge: the table of a sweep from the files of its shards. */
int cmd_merge(int argc, char **argv)
{
    const char *out = NULL;
    const char **files = calloc((size_t)argc, sizeof *files);
    int n = 0;
    if (!files)
        return cli_fail(CLI_ERR, "out of memory");
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs("Usage: regnn merge FILE... [--out FILE]\n"
                  "Merge the files that `regnn path ... --shard I/N --out FILE` wrote for every\n"
                  "I of one sweep and print the table `regnn path` prints for the whole sweep\n"
                  "(the same numbers, bit for bit); --out also writes the merged results.\n"
                  "Exit status: 0 ok, 1 error (a file is missing, damaged, from another sweep,\n"
                  "or a run is missing or twice), 2 usage.\n",
                  stdout);
            free(files);
            return CLI_OK;
        }
        int bad = 0;
        if (ex_option(argc, argv, &i, "--out", &v)) {
            out = v;
            bad = !v || !*v ? cli_bad_option("--out", v, "expected a file name") : 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            bad = cli_fail(CLI_USAGE, "unknown option '%s' (see regnn merge --help)", argv[i]);
        } else {
            files[n++] = argv[i];
        }
        if (bad) {
            free(files);
            return bad;
        }
    }
    if (n == 0) {
        free(files);
        return cli_fail(CLI_USAGE, "no files given (see regnn merge --help)");
    }
    cli_output dest = CLI_OUTPUT("--out", out);
    int rc = cli_outputs_check(files, (size_t)n, &dest, 1);
    regnn_path **parts = NULL, *p = NULL;
    if (rc == CLI_OK) {
        parts = calloc((size_t)n, sizeof *parts);
        rc = parts ? CLI_OK : cli_fail(CLI_ERR, "out of memory");
    }
    for (int k = 0; k < n && rc == CLI_OK; k++)
        if (regnn_path_load(files[k], &parts[k]) != REGNN_OK)
            rc = cli_lib_fail("cannot read a part");
    if (rc == CLI_OK && regnn_path_merge((const regnn_path *const *)parts, (size_t)n, &p) != REGNN_OK)
        rc = cli_lib_fail("merge");
    if (rc == CLI_OK && out)
        rc = write_path(p, &dest);
    if (rc == CLI_OK) {
        int have_test = 0;
        const size_t runs =
            regnn_path_lambda_count(p) * regnn_path_fold_count(p) * regnn_path_seed_count(p);
        double *t = malloc(runs * sizeof *t);
        if (t && regnn_path_get_runs(p, REGNN_RUN_TEST_MSE, t, runs) == REGNN_OK)
            for (size_t r = 0; r < runs; r++)
                have_test |= !isnan(t[r]);
        free(t);
        rc = print_table(p, have_test, 0);
    }
    cli_outputs_free(&dest, 1);
    regnn_path_free(p);
    for (int i = 0; parts && i < n; i++)
        regnn_path_free(parts[i]);
    free(parts);
    free(files);
    return rc;
}
