/* SPDX-License-Identifier: MIT */
/* libFuzzer target: whatever loads must save, load again and save to the
 * same bytes, and predict identically (model files and checkpoints). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "regnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *save(const regnn_model *m, const regnn_optimizer *o, size_t *n)
{
    regnn_status st = o ? regnn_checkpoint_save_mem(m, o, NULL, 0, n)
                        : regnn_model_save_mem(m, NULL, 0, n);
    if (st != REGNN_OK)
        abort(); /* a loaded model must be saveable */
    uint8_t *b = malloc(*n);
    if (!b)
        abort();
    size_t n2 = 0;
    st = o ? regnn_checkpoint_save_mem(m, o, b, *n, &n2) : regnn_model_save_mem(m, b, *n, &n2);
    if (st != REGNN_OK || n2 != *n)
        abort();
    return b;
}

static void same_predictions(const regnn_model *a, const regnn_model *b)
{
    size_t in = regnn_model_inputs(a), out = regnn_model_outputs(a);
    if (in != regnn_model_inputs(b) || out != regnn_model_outputs(b))
        abort();
    float *x = malloc(2 * in * sizeof *x), *ya = malloc(2 * out * sizeof *ya),
          *yb = malloc(2 * out * sizeof *yb);
    if (!x || !ya || !yb)
        abort();
    for (size_t i = 0; i < 2 * in; i++)
        x[i] = i < in ? 0.0f : 1.0f;
    if (regnn_model_predict(a, x, 2, ya, 2 * out) != REGNN_OK ||
        regnn_model_predict(b, x, 2, yb, 2 * out) != REGNN_OK ||
        memcmp(ya, yb, 2 * out * sizeof *ya) != 0)
        abort();
    free(x);
    free(ya);
    free(yb);
}

static void roundtrip(const uint8_t *p, size_t size, int checkpoint)
{
    regnn_model *m1 = NULL, *m2 = NULL;
    regnn_optimizer *o1 = NULL, *o2 = NULL;
    regnn_status st = checkpoint ? regnn_checkpoint_load_mem(p, size, &m1, &o1)
                                 : regnn_model_load_mem(p, size, &m1);
    if (st != REGNN_OK)
        return;
    size_t n1, n2;
    uint8_t *b1 = save(m1, o1, &n1);
    st = checkpoint ? regnn_checkpoint_load_mem(b1, n1, &m2, &o2) : regnn_model_load_mem(b1, n1, &m2);
    if (st != REGNN_OK)
        abort(); /* what was saved must load */
    uint8_t *b2 = save(m2, o2, &n2);
    if (n1 != n2 || memcmp(b1, b2, n1) != 0)
        abort();
    same_predictions(m1, m2);
    free(b1);
    free(b2);
    regnn_model_free(m1);
    regnn_model_free(m2);
    regnn_optimizer_free(o1);
    regnn_optimizer_free(o2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    roundtrip(data, size, 0);
    if (size < 24)
        return 0;
    uint8_t *p = malloc(size);
    if (!p)
        return 0;
    memcpy(p, data, size);
    fuzz_fix_model(p, size);
    roundtrip(p, size, 0);
    roundtrip(p, size, 1);
    free(p);
    return 0;
}
