/* SPDX-License-Identifier: MIT */
/* A data-parallel fit of n shards in one process, one thread per shard, with
 * an exchange that sums in shard order (shard 0 + shard 1 + ...), the order
 * regnn_mpi's exchange uses: the reference the MPI tests compare bit for bit.
 * Public API and pthreads only. */
#ifndef REGNN_DP_EMULATE_H
#define REGNN_DP_EMULATE_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regnn.h"

#define DP_MAX 8

typedef struct dp_shared {
    size_t n;
    pthread_barrier_t bar;
    float *g[DP_MAX];
    double *s[DP_MAX];
    size_t ng, ns;
    float *gsum;
    double ssum[8];
} dp_shared;

typedef struct dp_shard {
    dp_shared *sh;
    size_t index;
    /* per shard inputs */
    regnn_model *m;
    regnn_optimizer *o;
    const regnn_dataset *train, *val;
    const regnn_fit_options *opts;
    regnn_status fail; /* not REGNN_OK: regnn_fit_exchange_failure(fail, why) instead of a fit */
    const char *why;
    /* outputs */
    regnn_status st;
    char msg[512]; /* regnn_errmsg() of the shard's thread after its fit */
    regnn_history *h;
} dp_shard;

static int dp_exchange(void *user, float *grad, size_t n, double *sums, size_t n_sums)
{
    dp_shard *me = user;
    dp_shared *sh = me->sh;
    sh->g[me->index] = grad;
    sh->s[me->index] = sums;
    if (me->index == 0) {
        sh->ng = n;
        sh->ns = n_sums;
    }
    pthread_barrier_wait(&sh->bar);
    if (me->index == 0) {
        for (size_t k = 0; k < sh->ng; k++) {
            float acc = sh->g[0][k];
            for (size_t r = 1; r < sh->n; r++)
                acc += sh->g[r][k];
            sh->gsum[k] = acc;
        }
        for (size_t k = 0; k < sh->ns; k++) {
            double acc = sh->s[0][k];
            for (size_t r = 1; r < sh->n; r++)
                acc += sh->s[r][k];
            sh->ssum[k] = acc;
        }
    }
    pthread_barrier_wait(&sh->bar);
    if (n)
        memcpy(grad, sh->gsum, n * sizeof *grad);
    memcpy(sums, sh->ssum, n_sums * sizeof *sums);
    pthread_barrier_wait(&sh->bar);
    return 0;
}

static void *dp_thread(void *arg)
{
    dp_shard *me = arg;
    regnn_fit_options *o = NULL;
    me->st = regnn_fit_options_copy(me->opts, &o);
    if (me->st == REGNN_OK)
        me->st = regnn_fit_options_set_int(o, REGNN_FIT_SHARD_INDEX, (int64_t)me->index);
    if (me->st == REGNN_OK)
        me->st = regnn_fit_options_set_int(o, REGNN_FIT_SHARD_COUNT, (int64_t)me->sh->n);
    if (me->st == REGNN_OK)
        me->st = regnn_fit_options_set_exchange(o, dp_exchange, me);
    if (me->st == REGNN_OK && me->fail != REGNN_OK)
        me->st = regnn_fit_exchange_failure(o, me->fail, me->why);
    else if (me->st == REGNN_OK)
        me->st = regnn_fit(me->m, me->o, me->train, me->val, o, &me->h);
    snprintf(me->msg, sizeof me->msg, "%s", regnn_errmsg());
    regnn_fit_options_free(o);
    return NULL;
}

/* Run the n shards (models, optimizers and datasets set by the caller in
 * shards[i]); returns 0, or -1 if the threads could not be run. */
static int dp_run(dp_shard *shards, size_t n, size_t n_params)
{
    dp_shared sh;
    memset(&sh, 0, sizeof sh);
    sh.n = n;
    sh.gsum = malloc((n_params ? n_params : 1) * sizeof *sh.gsum);
    if (!sh.gsum || n > DP_MAX || pthread_barrier_init(&sh.bar, NULL, (unsigned)n) != 0) {
        free(sh.gsum);
        return -1;
    }
    pthread_t th[DP_MAX];
    for (size_t i = 0; i < n; i++) {
        shards[i].sh = &sh;
        shards[i].index = i;
        pthread_create(&th[i], NULL, dp_thread, &shards[i]);
    }
    for (size_t i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&sh.bar);
    free(sh.gsum);
    return 0;
}

#endif
