/* SPDX-License-Identifier: MIT */
/*
 * cli.h - shared parts of the regnn command-line program (tools/): options
 * common to the subcommands, data loading and scaling, the network, progress
 * display and messages. Not part of libregnn; uses only its public API.
 *
 * Exit codes of every subcommand: CLI_OK, CLI_ERR (a library or runtime
 * failure: the message comes from regnn_errmsg or strerror), CLI_USAGE.
 */
#ifndef REGNN_CLI_H
#define REGNN_CLI_H

#include <regnn.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

enum { CLI_OK = 0, CLI_ERR = 1, CLI_USAGE = 2 };

#define CLI_MAX_LAYERS 64
#define CLI_MAX_TARGETS 64
#define CLI_MAX_LAMBDAS 256
#define CLI_MAX_DROPS 256
#define CLI_MAX_SCHEDULE 65 /* a piecewise schedule of 32 boundaries */

/* --na: what a missing value (empty, NA, NaN, ...: cli_is_missing) does. */
enum { CLI_NA_ERROR = 0, CLI_NA_DROP = 1, CLI_NA_MEAN = 2 };

/* Settings shared by fit and path (defaults: the study's network and training). */
typedef struct {
    const char *data;                      /* DATA.csv */
    const char *target_list;               /* --target, as given */
    char target_buf[1024];                 /* --target split at the commas */
    const char *targets[CLI_MAX_TARGETS];
    size_t n_targets;
    size_t units[CLI_MAX_LAYERS];          /* hidden layers */
    size_t n_layers;
    int activation, feature_scale, target_scale;
    double l2, dropout, lr, val_split, test_split;
    long epochs, batch, seed;
    int quiet;
    int shuffle;                           /* --shuffle: before the validation split */
    long patience;                         /* --early-stopping PATIENCE; -1: off */
    int restore_best;
    double l1;
    double gaussian_noise, gaussian_dropout; /* after each hidden layer; 0: none */
    int layer_norm;                        /* --layer-norm: LayerNormalization after each */
    int batch_norm;                        /* --batch-norm: BatchNormalization after each */
    int loss;                              /* REGNN_LOSS_* and Huber's delta */
    double loss_param;
    const char *weight;                    /* --weight COLUMN */
    int optimizer;                         /* --optimizer: REGNN_OPTIM_* */
    int lr_given;                          /* --lr given; else the optimizer's default */
    int schedule;                          /* REGNN_SCHEDULE_* and its parameters */
    double sched[CLI_MAX_SCHEDULE];
    size_t n_sched;
    char delimiter;                        /* --delimiter */
    char drop_buf[4096];                   /* --drop split at the commas */
    const char *drops[CLI_MAX_DROPS];
    size_t n_drops;
    int na;                                /* CLI_NA_* */
    long folds;                            /* path --folds K: cross-validation; 0: off */
    double bias_l2, activity_l2, max_norm; /* --bias-l2, --activity-l2, --max-norm */
} cli_train_opts;

/* The data of a run: the raw file, its training (train + validation) and test
 * parts, the scaler fitted on the training part, and both parts scaled. */
typedef struct {
    regnn_dataset *raw, *train_raw, *test_raw, *train, *test;
    regnn_scaler *scaler;
} cli_data;

/* Program and subcommand name for messages, e.g. "regnn fit". */
void cli_set_name(const char *name);
const char *cli_name(void);

/* "regnn fit: <message>" on stderr; returns code. */
int cli_fail(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* "regnn fit: <what>: <regnn_errmsg()>" on stderr; returns CLI_ERR. */
int cli_lib_fail(const char *what);
/* A usage error about option opt with value (NULL: missing); returns CLI_USAGE. */
int cli_bad_option(const char *opt, const char *value, const char *expected);

/* Defaults of the training options. */
void cli_train_defaults(cli_train_opts *o);
/* If argv[*i] is a training option, parses it (advancing *i past its value)
 * and returns CLI_OK; CLI_USAGE after printing the error for a bad value; -1
 * when argv[*i] is not a training option. */
int cli_train_option(int argc, char **argv, int *i, cli_train_opts *o);
/* Checks after parsing (a data file and a target). */
int cli_train_finish(cli_train_opts *o);
/* The training options' help text (shared by fit and path). */
void cli_train_help(FILE *f);

/* Whether a CSV field is a missing value: empty, NA, N/A, NaN, nan, NULL,
 * null, ? or . */
int cli_is_missing(const char *s);
/* Read o->data with o's --delimiter, --drop and --na: a text column or a
 * missing value (with --na error) fails with a message naming the column and
 * the options. *dropped receives the rows --na left out, *filled the values
 * --na mean filled. Prints the message on failure. */
int cli_read_data(const cli_train_opts *o, regnn_dataset **out, size_t *dropped, size_t *filled);

/* Load o->data, split off the test part (shuffled by o->seed), fit the scaler
 * on the rest and scale both. Prints a summary unless quiet. */
int cli_load(const cli_train_opts *o, cli_data *d);
void cli_data_free(cli_data *d);

/* The fit options of o (epochs, batch, validation split, early stopping). */
int cli_fit_options(const cli_train_opts *o, regnn_fit_options **out);
/* Keras's name of optimizer kind REGNN_OPTIM_* ("Adam", "RMSprop"), "?" if unknown. */
const char *cli_optimizer_name(int kind);
/* The optimizer of o: --optimizer with --lr and --schedule. */
int cli_optimizer(const cli_train_opts *o, regnn_optimizer **out);
/* Warnings about a split that cannot be trusted (regnn_split_diagnose), on
 * stderr: constant validation or test targets, targets that trend with the
 * row order (without --shuffle), few validation rows. */
void cli_warn_split(const cli_train_opts *o, const cli_data *d);
/* Each of the library's warnings, with the option that helps. */
void cli_warn_all(const regnn_warnings *w);
/* "warning: <message>" on stderr, after the program name. */
void cli_warn(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* The network of o, uninitialized: hidden layers, then a linear output layer. */
int cli_build_model(const cli_train_opts *o, size_t inputs, size_t outputs, regnn_model **out);
/* "10-128x6-1 relu" style description into buf. */
void cli_describe_layers(const regnn_model *m, char *buf, size_t size);
/* The name of activation act (REGNN_ACT_*), "?" for none. */
const char *cli_act_name(int act);

/* MSE of predicting the mean of the first floor(n (1 - split)) rows' targets
 * on the remaining rows (the diagnosis baseline of a Keras tail split). */
double cli_tail_baseline(const regnn_dataset *train, double split);

/* The diagnosis in words: verdict, why, and the key numbers. */
void cli_print_diagnosis(FILE *f, const char *prefix, int verdict, int reason, const double *d);
/* One-word reason name ("val_rose", ...). */
const char *cli_reason_name(int reason);

/* Progress on stderr: on a terminal one line rewritten with \r, else one
 * line per call; nothing when quiet. cli_progress_end finishes a \r line. */
typedef struct {
    int quiet, tty, open;
    size_t width;
} cli_progress;
void cli_progress_init(cli_progress *p, int quiet);
void cli_progress_line(cli_progress *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void cli_progress_end(cli_progress *p);

/* "1e-2" style formatting of a lambda into buf. */
const char *cli_fmt_lambda(double v, char *buf, size_t size);

/* An output file of a command. Every output is written to a unique temporary
 * file next to its target, synced, and renamed over the target only when the
 * command has staged all of its outputs (cli_outputs_commit), so a failing
 * command leaves no new or changed output; SIGINT, SIGTERM, SIGHUP and SIGQUIT
 * are caught meanwhile, and a command stopped by one removes its temporary
 * files before it dies of the signal. A symbolic link is followed: the
 * file it leads to is replaced and the link stays. */
typedef struct {
    const char *opt;      /* the option naming it, for messages ("-o") */
    const char *path;     /* as given; NULL when not requested */
    char *target;         /* the file replaced: path with its links followed */
    char *tmp;            /* the staged temporary file, or NULL */
    int fd;               /* open on tmp while being written, else -1 */
    int exists;           /* target exists (dev, ino, mode are its) */
    dev_t dev, dir_dev;
    ino_t ino, dir_ino;   /* dir_*: the target's folder */
    mode_t mode;
} cli_output;
#define CLI_OUTPUT(option, file) {.opt = (option), .path = (file), .fd = -1}

/* Before any work: CLI_USAGE when an output is the same file as an input (same
 * device and inode after following links, so hard links too) or as another
 * output; CLI_ERR when an output's folder is missing or not writable, or the
 * output exists and is not a regular file. Outputs with a NULL path are
 * skipped; NULL inputs too. Prints the message. */
int cli_outputs_check(const char *const *inputs, size_t n_inputs, cli_output *outs, size_t n);
/* What fit and path do first: check the outputs against o->data (before
 * any work), then cli_load with one BLAS thread. */
int cli_open_data(const cli_train_opts *o, cli_output *outs, size_t n_outs, cli_data *d);
/* CLI_USAGE when standard output is a regular file that is one of the inputs
 * (e.g. `>> DATA.csv`); prints the message. */
int cli_stdout_check(const char *const *inputs, size_t n_inputs);
/* Write n bytes of data to a new temporary file for o, synced. */
int cli_output_stage(cli_output *o, const void *data, size_t n);
/* Create o's empty temporary file (o->tmp, open as o->fd) for a writer that
 * takes a file name; then cli_output_written_by with the writer's result. */
int cli_output_reserve(cli_output *o);
/* After a writer filled o->tmp: on rc == CLI_OK syncs it, else removes it;
 * returns the outcome. */
int cli_output_written_by(cli_output *o, int rc);
/* Sync o's temporary file and close it (CLI_ERR and the message on failure). */
int cli_output_sync(cli_output *o);
/* Rename every staged temporary over its target and sync the folders. */
int cli_outputs_commit(cli_output *outs, size_t n);
/* Remove temporaries not committed; free what the outputs hold. */
void cli_outputs_free(cli_output *outs, size_t n);

/* Subcommands: argv[0] is the subcommand name. */
int cmd_fit(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_path(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_export_onnx(int argc, char **argv);

#endif
