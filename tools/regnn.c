/* SPDX-License-Identifier: MIT */
/*
 * regnn - command-line front end of libregnn: train a regression network on
 * a CSV file, predict with a saved model, sweep the L2 factor, describe a
 * model file, export it to ONNX. Run `regnn --help` or `regnn COMMAND
 * --help`; the manual is docs/regnn.1 and docs/cli.md.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <string.h>

static void help(FILE *f)
{
    fputs("Usage: regnn COMMAND [arguments]\n"
          "Train and use dense regression networks on CSV files with libregnn.\n"
          "\n"
          "Commands:\n"
          "  fit DATA.csv --target Y [-o MODEL.rgn]   train a network, print its learning\n"
          "                                           progress, diagnosis and test error\n"
          "  predict MODEL.rgn DATA.csv [-o OUT.csv]  predictions in the target's own units\n"
          "  path DATA.csv --target Y --lambdas LIST  L2 sweep: table, 1-SE choice, diagnoses\n"
          "  merge FILE...                            the path table of shards (path --shard)\n"
          "  info MODEL.rgn                           what a model file or checkpoint holds\n"
          "  export-onnx MODEL.rgn OUT.onnx           the model as an ONNX file (opset 13)\n"
          "\n"
          "Options:\n"
          "  --help, -h      this text; `regnn COMMAND --help` for a command's options\n"
          "  --version       the program's and the library's version\n"
          "\n"
          "Exit status: 0 ok, 1 error (data, files, training; the message says why),\n"
          "2 usage error. Manual: man regnn.\n",
          f);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name, *full;
        int (*fn)(int, char **);
    } cmds[] = {{"fit", "regnn fit", cmd_fit},
                {"predict", "regnn predict", cmd_predict},
                {"path", "regnn path", cmd_path},
                {"merge", "regnn merge", cmd_merge},
                {"info", "regnn info", cmd_info},
                {"export-onnx", "regnn export-onnx", cmd_export_onnx}};
    if (argc < 2)
        return cli_fail(CLI_USAGE, "no command given: expected fit, predict, path, merge, info or "
                                   "export-onnx (see regnn --help)");
    const char *c = argv[1];
    if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0 || strcmp(c, "help") == 0) {
        help(stdout);
        return CLI_OK;
    }
    if (strcmp(c, "--version") == 0) {
        printf("regnn %s (libregnn %s, %s GEMM)\n", REGNN_VERSION_STRING, regnn_version_string(),
               regnn_blas_name());
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(c, cmds[i].name) == 0) {
            cli_set_name(cmds[i].full);
            return cmds[i].fn(argc - 1, argv + 1);
        }
    if (c[0] == '-')
        return cli_fail(CLI_USAGE, "unknown option '%s' (see regnn --help)", c);
    return cli_fail(CLI_USAGE, "unknown command '%s': expected fit, predict, path, merge, info "
                               "or export-onnx (see regnn --help)", c);
}
