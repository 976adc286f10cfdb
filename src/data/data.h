/* SPDX-License-Identifier: MIT */
/* Private declarations of the data layer: datasets, CSV numbers, scalers.
 * Included only by the files of src/data/ and the layers above (docs/architecture.md). */
#ifndef REGNN_DATA_H
#define REGNN_DATA_H

#include "../parallel/parallel.h"

/* ---- datasets (dataset.c) ---- */
/* Each names array is one block (the pointers, then the strings) released by
 * a single rg_free: create datasets only through rg_dataset_adopt or the
 * regnn_dataset_* calls. */
/* Build a dataset that owns x and y (taken over on success and on failure)
 * and names (copied; NULL = default names). */
regnn_status rg_dataset_adopt(float *x, float *y, size_t rows, size_t n_x, size_t n_y,
                              const char *const *x_names, const char *const *y_names,
                              regnn_dataset **out);
/* Give dst (same row count) a copy of src's weights, if any; on REGNN_E_NOMEM
 * dst is freed and *dst set to NULL. */
regnn_status rg_dataset_copy_weights(const char *fn, const regnn_dataset *src, regnn_dataset **dst);
/* A dataset's rows as read-only views: x (rows x n_x), y (rows x n_y) and
 * the weights (NULL = all 1). */
typedef struct rg_rows {
    const float *x, *y, *w;
    size_t rows, n_x, n_y;
} rg_rows;
rg_rows rg_dataset_view(const regnn_dataset *ds);
/* A dataset's feature (targets 0) or target (targets 1) names, as
 * rg_dataset_adopt takes them. */
const char *const *rg_dataset_names(const regnn_dataset *ds, int targets);

/* Numbers in CSV text (csv.c). */
enum {
    RG_NUM_OK = 0,
    RG_NUM_EMPTY = 1,     /* no characters */
    RG_NUM_SYNTAX = 2,    /* not a decimal number */
    RG_NUM_NONFINITE = 3, /* "nan", "inf" or "infinity" (any case, optional sign) */
    RG_NUM_RANGE = 4      /* magnitude rounds past FLT_MAX */
};
/* Parse exactly s[0..n) as a C-locale decimal number, correctly rounded to
 * the nearest float (ties to even), whatever LC_NUMERIC says. No surrounding
 * spaces are allowed. *out is written only on RG_NUM_OK. */
int rg_parse_float(const char *s, size_t n, float *out);

/* ---- scaler (scaler.c) ---- */
/* Deep copy (scaler.c); NULL when out of memory. */
regnn_scaler *rg_scaler_copy(const regnn_scaler *sc);
/* A scaler's statistics, read only: per feature x_mean, x_scale (n_x), per
 * target y_mean, y_scale (n_y). */
typedef struct rg_scaler_stats {
    size_t n_x, n_y;
    const double *x_mean, *x_scale, *y_mean, *y_scale;
} rg_scaler_stats;
rg_scaler_stats rg_scaler_view(const regnn_scaler *sc);
/* A scaler of n_x features and n_y targets whose statistics the caller fills
 * in: stat[0..3] receive x_mean, x_scale (n_x each), y_mean, y_scale (n_y
 * each). NULL when out of memory. */
regnn_scaler *rg_scaler_alloc(size_t n_x, size_t n_y, double *stat[4]);

#endif
