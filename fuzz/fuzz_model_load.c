/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the model and checkpoint loaders (memory variants) on
 * arbitrary bytes. Each input is tried as given, then with its length field
 * and checksum repaired so that mutations reach the section parser. A model
 * that loads must be usable: its shape is sane and predict runs. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "regnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const regnn_model *m)
{
    size_t in = regnn_model_inputs(m), out = regnn_model_outputs(m);
    if (in == 0 || out == 0 || regnn_model_layer_count(m) == 0)
        abort();
    float *x = calloc(in, sizeof *x), *y = calloc(out, sizeof *y);
    if (x && y && regnn_model_predict(m, x, 1, y, out) != REGNN_OK)
        abort();
    free(x);
    free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    regnn_model *m = NULL;
    regnn_optimizer *o = NULL;
    if (regnn_model_load_mem(data, size, &m) == REGNN_OK) {
        exercise(m);
        regnn_model_free(m);
    }
    if (size < 24)
        return 0;
    uint8_t *p = malloc(size);
    if (!p)
        return 0;
    memcpy(p, data, size);
    fuzz_fix_model(p, size);
    regnn_status st = regnn_model_load_mem(p, size, &m);
    if (st == REGNN_OK) {
        exercise(m);
        regnn_model_free(m);
    } else if (m) {
        abort(); /* out parameters are NULL on failure */
    }
    st = regnn_checkpoint_load_mem(p, size, &m, &o);
    if (st == REGNN_OK) {
        exercise(m);
        regnn_model_free(m);
        regnn_optimizer_free(o);
    } else if (m || o) {
        abort();
    }
    free(p);
    return 0;
}
