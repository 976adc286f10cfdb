/* SPDX-License-Identifier: MIT */
/* The model's loss: which one it trains with (Keras semantics, src/kernels/
 * loss.c) and its weighted evaluation on a dataset. */
#include "model_impl.h"

#include <math.h>

regnn_status regnn_model_set_loss(regnn_model *m, int kind, double param)
{
    static const char fn[] = "regnn_model_set_loss";
    if (!m)
        return rg_error(REGNN_E_INVALID_ARG, "%s: model is NULL", fn);
    if (!rg_loss_name(kind))
        return rg_error(REGNN_E_UNSUPPORTED, "%s: unknown loss %d (not a REGNN_LOSS_* value)", fn,
                        kind);
    char why[256];
    if (rg_option_problem(REGNN_OPTION_LOSS, kind, param, why, sizeof why))
        return rg_error(REGNN_E_INVALID_ARG, "%s: param (%s): %s", fn,
                        kind == REGNN_LOSS_HUBER ? "the Huber delta" : "unused by this loss", why);
    if (m->busy)
        return rg_error(REGNN_E_STATE, "%s: the loss cannot change while regnn_fit runs", fn);
    m->loss = kind;
    m->loss_param = param;
    return REGNN_OK;
}

regnn_status regnn_model_get_loss(const regnn_model *m, int *kind, double *param)
{
    if (!m || !kind || !param)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_model_get_loss: model, kind and param are required");
    *kind = m->loss;
    *param = m->loss_param;
    return REGNN_OK;
}

regnn_status regnn_model_evaluate_loss(const regnn_model *m, const regnn_dataset *ds, double *loss,
                                       double *mse, double *mae, double *penalty)
{
    static const char fn[] = "regnn_model_evaluate_loss";
    if (!m || !ds)
        return rg_error(REGNN_E_INVALID_ARG, "%s: model and dataset are required", fn);
    regnn_status st = rg_model_check_ready(m);
    if (st != REGNN_OK)
        return rg_error(st, "%s: %s", fn, regnn_errmsg());
    const rg_rows r = rg_dataset_view(ds);
    const size_t n_out = regnn_model_outputs(m);
    if (r.n_x != m->n_in || r.n_y != n_out)
        return rg_error(REGNN_E_SHAPE,
                        "%s: dataset has %zu features and %zu targets, model takes %zu inputs and "
                        "gives %zu outputs",
                        fn, r.n_x, r.n_y, m->n_in, n_out);
    rg_loss_sums s;
    st = rg_model_eval_sums(m, r.x, r.y, r.w, r.rows, &s, NULL, 0, NULL);
    if (st != REGNN_OK)
        return rg_error(st, "%s: %s", fn, regnn_errmsg());
    /* Keras: the loss divides by the row count, weighted metrics by the weight sum. */
    const double no = (double)n_out, wsum = s.w * no;
    if (loss)
        *loss = s.loss / ((double)r.rows * no);
    if (mse)
        *mse = wsum > 0.0 ? s.se / wsum : 0.0;
    if (mae)
        *mae = wsum > 0.0 ? s.ae / wsum : 0.0;
    if (penalty)
        *penalty = rg_model_penalty(m);
    return REGNN_OK;
}
