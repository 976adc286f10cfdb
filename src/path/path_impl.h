/* SPDX-License-Identifier: MIT */
/* The path's struct and its run numbering: included only by the .c files of
 * src/path/, the module that owns the struct. */
#ifndef REGNN_PATH_IMPL_H
#define REGNN_PATH_IMPL_H

#include "path.h"

struct regnn_path {
    size_t n_lambdas, n_seeds;
    double *lambdas;
    uint64_t seed;
    double baseline;
    /* The penalty swept when it is REGNN_PENALTY_DROPOUT or a later kind
     * (files say so from version 3 on); 0 for the first three kinds, which
     * files of version 1 and 2 do not tell apart. */
    int penalty;
    size_t shard_index, shard_count; /* runs r with r % count == index are present */
    /* Only the present runs are stored, run r at slot r / shard_count, so a
     * shard's memory follows its own runs, not the whole sweep's. */
    regnn_history **hist; /* per present run */
    double *runv;         /* per present run, RG_RUN_N values indexed by REGNN_RUN_* - 1 */
    /* k-fold cross-validation (n_folds >= 2); else n_folds is 1 and the rest NULL/0 */
    size_t n_folds, n_rows;
    size_t *fold_of;    /* per training row: its fold */
    size_t *fold_rows;  /* per fold: held-out rows */
    double *fold_base;  /* per fold: baseline MSE on its held-out rows */
};

/* The number of runs r < runs with r % count == index. */
static inline size_t rg_path_held(size_t runs, size_t index, size_t count)
{
    return runs > index ? (runs - index - 1) / count + 1 : 0;
}
/* Whether run r is present in p (one of its shard's runs). */
static inline int rg_path_has(const regnn_path *p, size_t r) { return r % p->shard_count == p->shard_index; }
/* Where a present run r is kept: p->hist[slot], p->runv[slot * RG_RUN_N ...]. */
static inline size_t rg_path_slot(const regnn_path *p, size_t r) { return r / p->shard_count; }
/* Runs of the whole sweep, numbered lambda-major, then fold, then seed:
 * r = (lambda index * folds + fold) * seeds + seed index. */
static inline size_t rg_path_runs(const regnn_path *p) { return p->n_lambdas * p->n_folds * p->n_seeds; }
static inline size_t rg_path_run_lambda(const regnn_path *p, size_t r) { return r / (p->n_folds * p->n_seeds); }
static inline size_t rg_path_run_fold(const regnn_path *p, size_t r) { return (r / p->n_seeds) % p->n_folds; }
static inline size_t rg_path_run_seed(const regnn_path *p, size_t r) { return r % p->n_seeds; }
/* The runs p holds: its shard's. */
static inline size_t rg_path_held_runs(const regnn_path *p)
{
    return rg_path_held(rg_path_runs(p), p->shard_index, p->shard_count);
}

#endif
