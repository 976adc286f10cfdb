/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the CSV dataset parser (regnn_dataset_parse_csv) on
 * arbitrary text, with targets chosen by index and by name. A dataset that
 * parses must be consistent: non-empty, named columns, finite values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "regnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const regnn_dataset *ds, size_t n_targets)
{
    size_t rows = regnn_dataset_rows(ds), nx = regnn_dataset_features(ds),
           ny = regnn_dataset_targets(ds);
    if (rows == 0 || ny != n_targets)
        abort();
    for (size_t j = 0; j < nx; j++)
        if (!regnn_dataset_feature_name(ds, j))
            abort();
    for (size_t j = 0; j < ny; j++)
        if (!regnn_dataset_target_name(ds, j))
            abort();
    if (regnn_dataset_feature_name(ds, nx) || regnn_dataset_target_name(ds, ny))
        abort();
    float *y = malloc(rows * ny * sizeof *y);
    if (!y)
        return;
    if (regnn_dataset_get_targets(ds, y, rows * ny) != REGNN_OK)
        abort();
    for (size_t i = 0; i < rows * ny; i++)
        if (!isfinite(y[i]))
            abort();
    free(y);
    if (nx) {
        float *x = malloc(rows * nx * sizeof *x);
        if (!x)
            return;
        if (regnn_dataset_get_features(ds, x, rows * nx) != REGNN_OK)
            abort();
        for (size_t i = 0; i < rows * nx; i++)
            if (!isfinite(x[i]))
                abort();
        free(x);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t col0[1] = {0}, col10[2] = {1, 0};
    static const char *const name_y[1] = {"y"};
    static const char *const names2[2] = {"y", "x0"};
    const char *text = (const char *)data;
    regnn_dataset *ds = NULL;
    if (regnn_dataset_parse_csv(text, size, NULL, col0, 1, &ds) == REGNN_OK) {
        check(ds, 1);
        regnn_dataset_free(ds);
    }
    if (regnn_dataset_parse_csv(text, size, NULL, col10, 2, &ds) == REGNN_OK) {
        check(ds, 2);
        regnn_dataset_free(ds);
    }
    if (regnn_dataset_parse_csv(text, size, name_y, NULL, 1, &ds) == REGNN_OK) {
        check(ds, 1);
        regnn_dataset_free(ds);
    }
    if (regnn_dataset_parse_csv(text, size, names2, NULL, 2, &ds) == REGNN_OK) {
        check(ds, 2);
        regnn_dataset_free(ds);
    }
    return 0;
}
