/* SPDX-License-Identifier: MIT */
/* Per-epoch training metrics. Storage grows geometrically as epochs are
 * recorded, so memory follows the epochs run, not the epochs requested. */
#include "train.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct regnn_history {
    size_t epochs, cap;
    double *v[RG_N_METRICS]; /* indexed by REGNN_METRIC_* - 1 */
    size_t best_epoch;
    int has_best;
    int stop_reason;
};

regnn_status rg_history_create(size_t cap, regnn_history **out)
{
    *out = NULL;
    regnn_history *h = rg_calloc(1, sizeof *h);
    if (!h)
        return rg_error(REGNN_E_NOMEM, "out of memory for the history");
    h->cap = cap < RG_HISTORY_FIRST ? cap : RG_HISTORY_FIRST;
    for (int i = 0; i < RG_N_METRICS; i++) {
        h->v[i] = rg_calloc(h->cap ? h->cap : 1, sizeof(double));
        if (!h->v[i]) {
            regnn_history_free(h);
            return rg_error(REGNN_E_NOMEM, "out of memory for the history");
        }
    }
    *out = h;
    return REGNN_OK;
}

regnn_status rg_history_push(regnn_history *h, const double *metrics)
{
    if (h->epochs >= h->cap) {
        /* Double all columns at once; on failure the history is unchanged. */
        size_t cap = h->cap ? 2 * h->cap : RG_HISTORY_FIRST;
        double *nv[RG_N_METRICS];
        for (int i = 0; i < RG_N_METRICS; i++) {
            nv[i] = rg_calloc(cap, sizeof(double));
            if (!nv[i]) {
                while (i-- > 0)
                    rg_free(nv[i]);
                return rg_error(REGNN_E_NOMEM, "out of memory for the history (%zu epochs)", cap);
            }
        }
        for (int i = 0; i < RG_N_METRICS; i++) {
            if (h->epochs)
                memcpy(nv[i], h->v[i], h->epochs * sizeof(double));
            rg_free(h->v[i]);
            h->v[i] = nv[i];
        }
        h->cap = cap;
    }
    for (int i = 0; i < RG_N_METRICS; i++)
        h->v[i][h->epochs] = metrics[i];
    h->epochs++;
    return REGNN_OK;
}

void regnn_history_free(regnn_history *h)
{
    if (!h)
        return;
    for (int i = 0; i < RG_N_METRICS; i++)
        rg_free(h->v[i]);
    rg_free(h);
}

size_t regnn_history_epochs(const regnn_history *h) { return h ? h->epochs : 0; }

regnn_status regnn_history_get(const regnn_history *h, int metric, double *buf, size_t len)
{
    if (!h || !buf)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_history_get: history and buf are required");
    if (metric < 1 || metric > RG_N_METRICS)
        return rg_error(REGNN_E_UNSUPPORTED, "regnn_history_get: unknown metric %d", metric);
    if (len < h->epochs)
        return rg_error(REGNN_E_SHAPE, "regnn_history_get: buffer holds %zu values, history has %zu epochs",
                        len, h->epochs);
    if (h->epochs)
        memcpy(buf, h->v[metric - 1], h->epochs * sizeof *buf);
    return REGNN_OK;
}

regnn_status regnn_history_best_epoch(const regnn_history *h, size_t *epoch)
{
    if (!h || !epoch)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_history_best_epoch: history and epoch are required");
    if (!h->has_best)
        return rg_error(REGNN_E_STATE, "regnn_history_best_epoch: no epoch has a finite monitored value");
    *epoch = h->best_epoch;
    return REGNN_OK;
}

int regnn_history_stop_reason(const regnn_history *h) { return h ? h->stop_reason : -1; }

regnn_status regnn_history_write_csv(const regnn_history *h, const char *path)
{
    static const char header[] = "epoch,loss,mse,penalty,mae,val_loss,val_mse,val_mae,seconds,"
                                 "train_eval_mse,learning_rate\n";
    static const int order[] = {REGNN_METRIC_TRAIN_LOSS, REGNN_METRIC_TRAIN_MSE,
                                REGNN_METRIC_TRAIN_PENALTY, REGNN_METRIC_TRAIN_MAE,
                                REGNN_METRIC_VAL_LOSS, REGNN_METRIC_VAL_MSE,
                                REGNN_METRIC_VAL_MAE, REGNN_METRIC_SECONDS,
                                REGNN_METRIC_TRAIN_EVAL_MSE, REGNN_METRIC_LEARNING_RATE};
    /* Eleven fields of at most 16 characters ("%.9g", "nan") and commas fit easily. */
    enum { LINE_MAX_LEN = 512 };
    if (!h || !path)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_history_write_csv: history and path are required");
    if (!*path)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_history_write_csv: path is empty");
    /* The whole text first, then one atomic write: a failure leaves the
     * previous file, never a partial one. */
    if (h->epochs > (SIZE_MAX - sizeof header) / LINE_MAX_LEN)
        return rg_error(REGNN_E_NOMEM, "regnn_history_write_csv: out of memory");
    const size_t cap = sizeof header + h->epochs * LINE_MAX_LEN;
    char *text = rg_malloc(cap);
    if (!text)
        return rg_error(REGNN_E_NOMEM, "regnn_history_write_csv: out of memory for %zu bytes", cap);
    size_t len = sizeof header - 1;
    memcpy(text, header, len);
    char num[64];
    for (size_t e = 0; e < h->epochs; e++) {
        char *line = text + len;
        size_t n = (size_t)snprintf(line, LINE_MAX_LEN, "%zu", e + 1);
        for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
            rg_format_double(num, sizeof num, h->v[order[k] - 1][e]);
            n += (size_t)snprintf(line + n, LINE_MAX_LEN - n, ",%s", num);
        }
        line[n++] = '\n';
        len += n;
    }
    regnn_status st = rg_write_atomic("regnn_history_write_csv", path, (const uint8_t *)text, len);
    rg_free(text);
    return st;
}

void rg_history_set_best(regnn_history *h, size_t epoch)
{
    h->best_epoch = epoch;
    h->has_best = 1;
}

void rg_history_set_stop(regnn_history *h, int reason) { h->stop_reason = reason; }

const double *rg_history_metric(const regnn_history *h, int metric) { return h->v[metric - 1]; }

rg_history_marks rg_history_get_marks(const regnn_history *h)
{
    rg_history_marks mk = {h->best_epoch, h->has_best, h->stop_reason};
    return mk;
}

void rg_history_set_marks(regnn_history *h, rg_history_marks mk)
{
    h->best_epoch = mk.best_epoch;
    h->has_best = mk.has_best;
    h->stop_reason = mk.stop_reason;
}
