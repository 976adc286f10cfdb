/* SPDX-License-Identifier: MIT */
/* Standardization statistics attached to a model, so that a saved model
 * carries what is needed to feed it raw inputs and read its outputs in
 * original units. */
#include "model_impl.h"

#include <math.h>
#include <string.h>

/* Index of the first value that is not finite (or, for scales, not > 0); n if none. */
static size_t first_bad(const double *v, size_t n, int is_scale)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]) || (is_scale && !(v[i] > 0.0)))
            return i;
    return n;
}

regnn_status regnn_model_attach_scaler(regnn_model *m, const regnn_scaler *sc)
{
    static const char fn[] = "regnn_model_attach_scaler";
    if (!m)
        return rg_error(REGNN_E_INVALID_ARG, "%s: model is NULL", fn);
    if (!sc) {
        regnn_scaler_free(m->scaler);
        m->scaler = NULL;
        return REGNN_OK;
    }
    const size_t n_out = regnn_model_outputs(m);
    const rg_scaler_stats v = rg_scaler_view(sc);
    if (v.n_x != m->n_in || v.n_y != n_out)
        return rg_error(REGNN_E_SHAPE,
                        "%s: the scaler has %zu features and %zu targets, the model takes %zu "
                        "inputs and gives %zu outputs",
                        fn, v.n_x, v.n_y, m->n_in, n_out);
    /* Saved files must load again, and the loader refuses such values. */
    const struct {
        const double *v;
        size_t n;
        int is_scale;
        const char *name;
    } stats[4] = {{v.x_mean, v.n_x, 0, "feature mean"},
                  {v.x_scale, v.n_x, 1, "feature scale"},
                  {v.y_mean, v.n_y, 0, "target mean"},
                  {v.y_scale, v.n_y, 1, "target scale"}};
    for (int k = 0; k < 4; k++) {
        size_t i = first_bad(stats[k].v, stats[k].n, stats[k].is_scale);
        if (i < stats[k].n)
            return rg_error(REGNN_E_NUMERIC, "%s: %s %zu is %g (must be finite%s)", fn,
                            stats[k].name, i, stats[k].v[i], stats[k].is_scale ? " and > 0" : "");
    }
    regnn_scaler *c = rg_scaler_copy(sc);
    if (!c)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
    regnn_scaler_free(m->scaler);
    m->scaler = c;
    return REGNN_OK;
}

regnn_status regnn_model_get_scaler(const regnn_model *m, regnn_scaler **out)
{
    static const char fn[] = "regnn_model_get_scaler";
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!m)
        return rg_error(REGNN_E_INVALID_ARG, "%s: model is NULL", fn);
    if (!m->scaler)
        return rg_error(REGNN_E_STATE, "%s: no scaler is attached to the model", fn);
    regnn_scaler *c = rg_scaler_copy(m->scaler);
    if (!c)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
    *out = c;
    return REGNN_OK;
}
