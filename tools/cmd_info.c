/* SPDX-License-Identifier: MIT */
/* regnn info: what a model file or checkpoint holds. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void info_help(FILE *f)
{
    fputs("Usage: regnn info MODEL.rgn\n"
          "Describe a model file or checkpoint (docs/format.md): format version, inputs\n"
          "and outputs, every layer (units, activation, L2, L1, dropout, parameters), the\n"
          "parameter count, the attached scaler's statistics, and for a checkpoint the\n"
          "optimizer (kind, hyperparameters, steps taken, state size).\n"
          "Exit status: 0 ok, 1 the file cannot be read or is not a model, 2 usage.\n",
          f);
}

/* "format 1.0" from the file header; the load already validated it. The
 * header is read only from a regular file, without waiting on a FIFO that
 * might have replaced it since. */
/* A layer's settings beyond the table's (bias and activity penalties, kernel
 * constraints), on one line, when any differs from its default. */
static void print_layer_extras(const regnn_layer *l, size_t i)
{
    static const struct {
        const char *name;
        int key;
    } extras[] = {{"bias_l2", REGNN_LAYER_BIAS_L2},         {"bias_l1", REGNN_LAYER_BIAS_L1},
                  {"activity_l2", REGNN_LAYER_ACTIVITY_L2}, {"activity_l1", REGNN_LAYER_ACTIVITY_L1},
                  {"max_norm", REGNN_LAYER_MAX_NORM},       {"min_norm", REGNN_LAYER_MIN_NORM},
                  {"norm_rate", REGNN_LAYER_NORM_RATE},     {"non_neg", REGNN_LAYER_NON_NEG},
                  {"unit_norm", REGNN_LAYER_UNIT_NORM}};
    int any = 0;
    for (size_t k = 0; k < sizeof extras / sizeof *extras; k++) {
        double v = 0;
        regnn_bounds b = {sizeof b, 0, 0, 0, 0};
        regnn_layer_get_double(l, extras[k].key, &v);
        if (regnn_option_bounds(REGNN_OPTION_LAYER, extras[k].key, &b) != REGNN_OK ||
            v == b.default_value)
            continue;
        if (!any)
            printf("  layer %zu:", i);
        printf("%s %s %g", any ? "," : "", extras[k].name, v);
        any = 1;
    }
    if (any)
        printf("\n");
}

static void print_format(const char *path, int checkpoint)
{
    unsigned char h[12];
    struct stat sb;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    int ok = fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
             read(fd, h, sizeof h) == (ssize_t)sizeof h;
    if (fd >= 0)
        close(fd);
    printf("%s: regnn %s", path, checkpoint ? "checkpoint (model and optimizer state)" : "model");
    if (ok)
        printf(", format %u.%u", (unsigned)(h[8] | h[9] << 8), (unsigned)(h[10] | h[11] << 8));
    printf("\n");
}

static void print_stats(const regnn_scaler *sc, int mean_key, int scale_key, size_t n,
                        const char *prefix)
{
    double *mean = malloc(n * sizeof *mean), *scale = malloc(n * sizeof *scale);
    if (mean && scale && regnn_scaler_get(sc, mean_key, mean, n) == REGNN_OK &&
        regnn_scaler_get(sc, scale_key, scale, n) == REGNN_OK) {
        for (size_t i = 0; i < n; i++)
            printf("    %s%-4zu mean %-14.7g scale %.7g\n", prefix, i, mean[i], scale[i]);
    }
    free(mean);
    free(scale);
}

static void print_optimizer(const regnn_optimizer *o)
{
    double v;
    int kind = regnn_optimizer_kind(o);
    printf("optimizer: %s", cli_optimizer_name(kind));
    static const struct { int key; const char *name; } keys[] = {
        {REGNN_OPT_LEARNING_RATE, "lr"}, {REGNN_OPT_BETA1, "beta1"},
        {REGNN_OPT_BETA2, "beta2"},      {REGNN_OPT_EPSILON, "epsilon"},
        {REGNN_OPT_WEIGHT_DECAY, "weight_decay"}, {REGNN_OPT_MOMENTUM, "momentum"},
        {REGNN_OPT_NESTEROV, "nesterov"}, {REGNN_OPT_RHO, "rho"},
        {REGNN_OPT_INITIAL_ACCUMULATOR, "initial_accumulator"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (regnn_optimizer_get_double(o, keys[i].key, &v) == REGNN_OK)
            printf(", %s %g", keys[i].name, v);
    printf("\n  %llu steps taken; state for %zu parameters\n",
           (unsigned long long)regnn_optimizer_steps(o), regnn_optimizer_state_size(o));
}

int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            info_help(stdout);
            return CLI_OK;
        }
        if (a[0] == '-' && a[1] != '\0')
            return cli_fail(CLI_USAGE, "unknown option '%s' (see regnn info --help)", a);
        if (path)
            return cli_fail(CLI_USAGE, "one model file at a time ('%s' and '%s')", path, a);
        path = a;
    }
    if (!path)
        return cli_fail(CLI_USAGE, "no model file given (usage: regnn info MODEL.rgn)");

    regnn_model *m = NULL, *cm = NULL;
    regnn_optimizer *o = NULL;
    regnn_scaler *sc = NULL;
    if (regnn_model_load(path, &m) != REGNN_OK)
        return cli_lib_fail("cannot load the model");
    /* A model file without optimizer state is not a checkpoint; that is the
     * only failure left once the model part loaded. */
    int checkpoint = regnn_checkpoint_load(path, &cm, &o) == REGNN_OK;
    print_format(path, checkpoint);

    size_t nl = regnn_model_layer_count(m);
    printf("inputs %zu, outputs %zu, %zu layer%s, %zu parameters\n", regnn_model_inputs(m),
           regnn_model_outputs(m), nl, nl == 1 ? "" : "s", regnn_model_param_count(m));
    printf("  %-5s %6s %6s  %-10s %10s %10s %8s %10s\n", "layer", "inputs", "units", "act", "L2",
           "L1", "dropout", "params");
    for (size_t i = 0; i < nl; i++) {
        const regnn_layer *l = regnn_model_layer(m, i);
        double l2 = 0, l1 = 0, dr = 0;
        regnn_layer_get_double(l, REGNN_LAYER_L2, &l2);
        regnn_layer_get_double(l, REGNN_LAYER_L1, &l1);
        regnn_layer_get_double(l, REGNN_LAYER_DROPOUT, &dr);
        if (regnn_layer_type(l) != REGNN_LAYERTYPE_DENSE) {
            const int t = regnn_layer_type(l);
            printf("  %-5zu %6zu %6zu  %s(%g)%*zu\n", i, regnn_layer_inputs(l), regnn_layer_units(l),
                   t == REGNN_LAYERTYPE_GAUSSIAN_NOISE     ? "GaussianNoise"
                   : t == REGNN_LAYERTYPE_GAUSSIAN_DROPOUT ? "GaussianDropout"
                   : t == REGNN_LAYERTYPE_BATCH_NORMALIZATION ? "BatchNormalization"
                                                           : "LayerNormalization",
                   regnn_layer_noise(l), 8, regnn_layer_param_count(l));
            continue;
        }
        printf("  %-5zu %6zu %6zu  %-10s %10g %10g %8g %10zu\n", i, regnn_layer_inputs(l),
               regnn_layer_units(l), cli_act_name(regnn_layer_activation(l)), l2, l1, dr,
               regnn_layer_param_count(l));
    }
    for (size_t i = 0; i < nl; i++)
        print_layer_extras(regnn_model_layer(m, i), i);

    regnn_status st = regnn_model_get_scaler(m, &sc);
    if (st == REGNN_OK) {
        size_t nf = regnn_scaler_features(sc), nt = regnn_scaler_targets(sc);
        printf("scaler: %zu features, %zu target%s (input = (x - mean) / scale; prediction = "
               "output * scale + mean)\n",
               nf, nt, nt == 1 ? "" : "s");
        print_stats(sc, REGNN_STAT_FEATURE_MEAN, REGNN_STAT_FEATURE_SCALE, nf, "feature ");
        print_stats(sc, REGNN_STAT_TARGET_MEAN, REGNN_STAT_TARGET_SCALE, nt, "target  ");
    } else {
        printf("scaler: none (inputs and predictions are in the model's own units)\n");
    }
    if (checkpoint)
        print_optimizer(o);
    else
        printf("optimizer: none (a model file, not a checkpoint)\n");
    regnn_scaler_free(sc);
    regnn_optimizer_free(o);
    regnn_model_free(cm);
    regnn_model_free(m);
    return CLI_OK;
}
