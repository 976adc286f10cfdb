/* SPDX-License-Identifier: MIT */
/* regnn export-onnx: a saved model as an ONNX file, for ONNX runtimes. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void export_help(FILE *f)
{
    fputs("Usage: regnn export-onnx MODEL.rgn OUT.onnx [--quiet]\n"
          "Write a model file (or the model of a checkpoint) as an ONNX model (opset 13;\n"
          "17 with LayerNormalization) that ONNX runtimes can run: input \"input\" float\n"
          "[N, inputs], output \"output\" float [N, outputs]; per dense layer MatMul, Add\n"
          "and Relu/Sigmoid/Tanh, a LayerNormalization or BatchNormalization node per such\n"
          "layer;\n"
          "dropout and noise layers left out. When the model carries a scaler (regnn fit attaches it), the graph takes\n"
          "raw features and returns predictions in the target's own units, like\n"
          "regnn predict. OUT.onnx is replaced atomically.\n"
          "\n"
          "  --quiet, -q   no summary on standard output\n"
          "  --help, -h    this text\n"
          "\n"
          "Exit status: 0 ok, 1 error (the model cannot be read, OUT.onnx cannot be\n"
          "written), 2 usage.\n",
          f);
}

/* m's ONNX bytes staged for dest. */
static int stage_onnx(cli_output *dest, const regnn_model *m)
{
    size_t n = 0;
    if (regnn_model_export_onnx_mem(m, NULL, 0, &n) != REGNN_OK)
        return cli_lib_fail("cannot export the model");
    unsigned char *b = malloc(n);
    int rc;
    if (!b)
        rc = cli_fail(CLI_ERR, "out of memory");
    else if (regnn_model_export_onnx_mem(m, b, n, &n) != REGNN_OK)
        rc = cli_lib_fail("cannot export the model");
    else
        rc = cli_output_stage(dest, b, n);
    free(b);
    return rc;
}

int cmd_export_onnx(int argc, char **argv)
{
    const char *model = NULL, *out = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            export_help(stdout);
            return CLI_OK;
        }
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0)
            quiet = 1;
        else if (a[0] == '-' && a[1] != '\0')
            return cli_fail(CLI_USAGE, "unknown option '%s' (see regnn export-onnx --help)", a);
        else if (!model)
            model = a;
        else if (!out)
            out = a;
        else
            return cli_fail(CLI_USAGE, "unexpected argument '%s': expected MODEL.rgn OUT.onnx", a);
    }
    if (!out)
        return cli_fail(CLI_USAGE, "expected a model file and an output file (usage: regnn "
                                   "export-onnx MODEL.rgn OUT.onnx)");

    cli_output dest = CLI_OUTPUT("output", out);
    int rc = cli_outputs_check(&model, 1, &dest, 1);
    regnn_model *m = NULL;
    if (rc == CLI_OK && regnn_model_load(model, &m) != REGNN_OK)
        rc = cli_lib_fail("cannot load the model");
    if (rc == CLI_OK)
        rc = stage_onnx(&dest, m);
    if (rc == CLI_OK)
        rc = cli_outputs_commit(&dest, 1);
    cli_outputs_free(&dest, 1);
    if (rc != CLI_OK) {
        regnn_model_free(m);
        return rc;
    }
    if (!quiet) {
        regnn_scaler *sc = NULL;
        int scaled = regnn_model_get_scaler(m, &sc) == REGNN_OK;
        char layers[256];
        cli_describe_layers(m, layers, sizeof layers);
        int opset = 13; /* 17 with LayerNormalization (docs/api.md) */
        for (size_t i = 0; i < regnn_model_layer_count(m); i++)
            if (regnn_layer_type(regnn_model_layer(m, i)) == REGNN_LAYERTYPE_LAYER_NORMALIZATION)
                opset = 17;
        printf("%s: ONNX opset %d, network %s, input float [N, %zu], output float [N, %zu]\n",
               out, opset, layers, regnn_model_inputs(m), regnn_model_outputs(m));
        printf("%s\n", scaled ? "scaler included: the graph takes raw features and returns "
                                "predictions in the target's own units"
                              : "no scaler: inputs and outputs in the model's own units");
        regnn_scaler_free(sc);
    }
    regnn_model_free(m);
    return CLI_OK;
}
