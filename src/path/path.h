/* SPDX-License-Identifier: MIT */
/* Private declarations of the path layer: regularization paths and their files.
 * Included only by the files of src/path/ and the layers above (docs/architecture.md). */
#ifndef REGNN_PATH_H
#define REGNN_PATH_H

#include "../train/train.h"

/* ---- regularization path (path.c, path_io.c, path_file.c, path_diagnose.c; its struct is in
 * path_impl.h) ---- */
#define RG_RUN_N 12 /* REGNN_RUN_* keys 1..12 */
/* An empty path of the given size holding the runs of one shard (lambdas,
 * seed, baseline and folds not yet filled in; src/path_io.c); NULL when out
 * of memory. Memory follows the runs held, not the sweep's size. */
regnn_path *rg_path_new(size_t n_lambdas, size_t n_seeds, size_t n_folds, size_t shard_index,
                        size_t shard_count);

#endif
