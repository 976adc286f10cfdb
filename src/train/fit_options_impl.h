/* SPDX-License-Identifier: MIT */
/* The fit options' struct: included only by fit_options.c, which owns it,
 * and fit.c, which reads the settings of the fit it runs. */
#ifndef REGNN_FIT_OPTIONS_IMPL_H
#define REGNN_FIT_OPTIONS_IMPL_H

#include "train.h"

struct regnn_fit_options {
    int64_t epochs, batch_size, shuffle, early_stopping, patience, restore_best, monitor,
        eval_train;
    double validation_split, min_delta;
    int64_t reduce_lr, reduce_lr_patience, reduce_lr_cooldown; /* ReduceLROnPlateau */
    double reduce_lr_factor, reduce_lr_min_delta, reduce_lr_min_lr;
    regnn_epoch_fn callback;
    void *callback_user;
    int64_t shard_index, shard_count; /* rows of each batch this process computes */
    regnn_exchange_fn exchange;       /* NULL: one process */
    void *exchange_user;
};

/* Every key from the options table's defaults. */
void rg_fit_options_defaults(regnn_fit_options *o);

#endif
