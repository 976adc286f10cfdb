/* SPDX-License-Identifier: MIT */
/* The ReduceLROnPlateau rule of keras.callbacks, applied by fit at the end of
 * each epoch. Formulas: docs/api.md. */
#include "train.h"

#include <float.h>
#include <math.h>

void rg_plateau_start(rg_plateau *pl, const regnn_fit_options *opts)
{
    /* Valid keys of valid options: the getters cannot fail. */
    (void)regnn_fit_options_get_double(opts, REGNN_FIT_REDUCE_LR_FACTOR, &pl->factor);
    (void)regnn_fit_options_get_double(opts, REGNN_FIT_REDUCE_LR_MIN_DELTA, &pl->min_delta);
    (void)regnn_fit_options_get_double(opts, REGNN_FIT_REDUCE_LR_MIN_LR, &pl->min_lr);
    (void)regnn_fit_options_get_int(opts, REGNN_FIT_REDUCE_LR_PATIENCE, &pl->patience);
    (void)regnn_fit_options_get_int(opts, REGNN_FIT_REDUCE_LR_COOLDOWN, &pl->cooldown);
    pl->best = INFINITY;
    pl->wait = 0;
    pl->cooldown_counter = 0;
}

/* keras.callbacks.ReduceLROnPlateau.on_epoch_end, mode 'min'. */
int rg_plateau_update(rg_plateau *pl, double current, double *lr)
{
    if (pl->cooldown_counter > 0) {
        pl->cooldown_counter--;
        pl->wait = 0;
    }
    if (current < pl->best - pl->min_delta) { /* false for NaN, as np.less */
        pl->best = current;
        pl->wait = 0;
        return 0;
    }
    if (pl->cooldown_counter > 0)
        return 0;
    pl->wait++;
    if (pl->wait < pl->patience || !(*lr > pl->min_lr))
        return 0;
    /* Never below the smallest normal float: the float32 step needs lr > 0. */
    *lr = fmax(fmax(*lr * pl->factor, pl->min_lr), (double)FLT_MIN);
    pl->cooldown_counter = pl->cooldown;
    pl->wait = 0;
    return 1;
}
