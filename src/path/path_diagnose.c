/* SPDX-License-Identifier: MIT */
/* The warning about a lambda grid whose results cannot be trusted
 * (docs/diagnosis.md); the warnings list is src/train/diagnose.c's. */
#include "path_impl.h"

#include <math.h>

#define RG_WARN_GRID_LEVEL 0.95 /* mean final train MSE / baseline: a constant prediction */

regnn_status regnn_path_diagnose(const regnn_path *p, regnn_warnings **out)
{
    static const char fn[] = "regnn_path_diagnose";
    if (out)
        *out = NULL;
    if (!p || !out)
        return rg_error(REGNN_E_INVALID_ARG, "%s: path and out are required", fn);
    const size_t nl = regnn_path_lambda_count(p);
    double *ft = rg_malloc(nl * sizeof *ft), *lam = rg_malloc(nl * sizeof *lam);
    regnn_warnings *w = rg_warnings_new(1);
    regnn_status st = REGNN_E_NOMEM;
    if (!ft || !lam || !w)
        goto fail;
    if ((st = regnn_path_get(p, REGNN_RUN_FINAL_TRAIN_MSE, REGNN_AGG_MEAN, ft, nl)) != REGNN_OK ||
        (st = regnn_path_lambdas(p, lam, nl)) != REGNN_OK)
        goto fail;
    /* Every lambda at or above the level (a diverged or missing run is NaN: not flat). */
    const double base = regnn_path_baseline_mse(p);
    size_t flat = 0;
    double level = INFINITY, lo = INFINITY;
    for (size_t i = 0; i < nl; i++) {
        const double r = ft[i] / base;
        flat += r >= RG_WARN_GRID_LEVEL;
        level = r < level ? r : level;
        lo = lam[i] < lo ? lam[i] : lo;
    }
    if (nl > 0 && flat == nl && base > 0.0) {
        double v[REGNN_WARNVAL_COUNT];
        rg_warnings_nan(v);
        v[REGNN_WARNVAL_VALUE] = level;
        v[REGNN_WARNVAL_THRESHOLD] = RG_WARN_GRID_LEVEL;
        v[REGNN_WARNVAL_REFERENCE] = base;
        v[REGNN_WARNVAL_LAMBDA] = lo;
        if ((st = rg_warnings_add(w, REGNN_WARN_CONSTANT_GRID, v,
                      "every lambda of the grid gives a model that predicts about a constant "
                      "(final training MSE >= %.0f%% of the baseline %.3f): the grid is too "
                      "large for this data; try lambdas below %g",
                      100 * RG_WARN_GRID_LEVEL, base, lo)) != REGNN_OK)
            goto fail;
    }
    rg_free(ft);
    rg_free(lam);
    *out = w;
    return REGNN_OK;
fail:
    rg_free(ft);
    rg_free(lam);
    regnn_warnings_free(w);
    return st == REGNN_E_NOMEM ? rg_error(st, "%s: out of memory", fn) : st;
}
