/* SPDX-License-Identifier: MIT */
/* libregnn_mpi: the two distributed jobs of libregnn on MPI, built only from
 * libregnn's public API (REGNN_PATH_SHARD_*, path save/load/merge, the fit's
 * exchange hook). Every call is collective, and every rank agrees on success
 * or failure (an MPI_Allreduce of the status) before and after the work, so a
 * rank that fails makes all return an error instead of leaving them waiting. */
#define REGNN_MPI_BUILDING
#include "regnn_mpi.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_LEN 512
#define MAX_SUMS 8 /* values a fit sums at once besides the gradient */

static _Thread_local char last_msg[MSG_LEN];

const char *regnn_mpi_errmsg(void) { return last_msg; }

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static regnn_status fail(regnn_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    return st;
}

/* Keep this rank's failure message (regnn_errmsg, or text) for agree(). */
static void keep(char *why, const char *text)
{
    snprintf(why, MSG_LEN, "%s", text ? text : regnn_errmsg());
}

/* Collective: REGNN_OK when no rank failed; otherwise this rank's own status,
 * or the status of the lowest failing rank, with a message naming it. */
static regnn_status agree(MPI_Comm comm, int rank, const char *fn, regnn_status st, const char *why)
{
    int mine = st != REGNN_OK ? rank : INT_MAX, lowest = INT_MAX;
    if (MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS)
        return fail(REGNN_E_IO, "%s: MPI_Allreduce failed", fn);
    if (lowest == INT_MAX)
        return REGNN_OK;
    int code = st;
    char text[MSG_LEN];
    memset(text, 0, sizeof text);
    if (rank == lowest)
        snprintf(text, sizeof text, "%s", why);
    if (MPI_Bcast(&code, 1, MPI_INT, lowest, comm) != MPI_SUCCESS ||
        MPI_Bcast(text, MSG_LEN, MPI_CHAR, lowest, comm) != MPI_SUCCESS)
        return fail(st != REGNN_OK ? st : REGNN_E_IO, "%s: rank %d failed; MPI_Bcast failed", fn,
                    lowest);
    text[MSG_LEN - 1] = 0;
    if (st != REGNN_OK)
        return fail(st, "%s: rank %d: %s", fn, rank, why);
    return fail(code, "%s: rank %d failed: %s", fn, lowest, text);
}

static regnn_status comm_info(MPI_Comm comm, int *rank, int *size)
{
    if (MPI_Comm_rank(comm, rank) != MPI_SUCCESS || MPI_Comm_size(comm, size) != MPI_SUCCESS)
        return REGNN_E_INVALID_ARG;
    return REGNN_OK;
}

/* ---- distributed regularization path ---- */

/* Collective: REGNN_OK when every rank's path settings fingerprint equals
 * rank 0's; else every rank fails naming the first differing setting (in the
 * library's table order) and the lowest rank that differs in it. */
static regnn_status path_settings_agree(MPI_Comm comm, int rank, int size, const char *fn,
                                        const regnn_model *tm, const regnn_optimizer *to,
                                        const regnn_dataset *train, const regnn_dataset *val,
                                        const regnn_fit_options *fo, const regnn_path_options *po)
{
    char why[MSG_LEN] = "";
    size_t n = 0;
    (void)regnn_path_settings_fingerprint(NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, &n);
    uint64_t *mine = calloc(n + 1, sizeof *mine), *all = calloc((size_t)size * (n + 1), sizeof *all);
    regnn_status st = mine && all ? REGNN_OK : REGNN_E_NOMEM;
    if (st != REGNN_OK)
        keep(why, "out of memory");
    if (st == REGNN_OK) {
        mine[0] = n; /* ranks with another library version differ here */
        st = regnn_path_settings_fingerprint(tm, to, train, val, fo, po, mine + 1, n, &n);
        if (st != REGNN_OK)
            keep(why, NULL);
    }
    st = agree(comm, rank, fn, st, why);
    if (st == REGNN_OK &&
        MPI_Allgather(mine, (int)(n + 1), MPI_UINT64_T, all, (int)(n + 1), MPI_UINT64_T, comm) !=
            MPI_SUCCESS)
        st = fail(REGNN_E_IO, "%s: MPI_Allgather failed", fn);
    size_t first = n + 1;
    int who = 0;
    for (int r = 1; st == REGNN_OK && r < size; r++) /* the same on every rank */
        for (size_t k = 0; k < first; k++)
            if (all[(size_t)r * (n + 1) + k] != all[k]) {
                first = k;
                who = r;
                break;
            }
    if (st == REGNN_OK && first <= n) {
        const char *name = first == 0 ? NULL : regnn_settings_name(first - 1);
        st = fail(REGNN_E_INVALID_ARG,
                  "%s: setting '%s' differs: rank 0 vs rank %d (every rank needs the same "
                  "template model, optimizer, options and the whole data)",
                  fn, name ? name : "library version", who);
    }
    free(all);
    free(mine);
    return st;
}

/* Collective: every rank has out and the path options, and the same settings. */
static regnn_status check_path_args(MPI_Comm comm, int rank, int size, const char *fn, int have_out,
                                    const regnn_model *tm, const regnn_optimizer *to,
                                    const regnn_dataset *train, const regnn_dataset *val,
                                    const regnn_fit_options *fo, const regnn_path_options *po)
{
    if (!have_out || !po) {
        char why[MSG_LEN] = "";
        keep(why, "out and the path options are required");
        return agree(comm, rank, fn, REGNN_E_INVALID_ARG, why);
    }
    return path_settings_agree(comm, rank, size, fn, tm, to, train, val, fo, po);
}

/* Collective: this rank's runs (shard rank of size) into *part. */
static regnn_status run_shard(MPI_Comm comm, int rank, int size, const char *fn,
                              const regnn_model *tm, const regnn_optimizer *to,
                              const regnn_dataset *train, const regnn_dataset *val,
                              const regnn_fit_options *fo, const regnn_path_options *popts,
                              regnn_path **part)
{
    char why[MSG_LEN] = "";
    regnn_path_options *po = NULL;
    regnn_status st = regnn_path_options_copy(popts, &po);
    if (st == REGNN_OK)
        st = regnn_path_options_set_int(po, REGNN_PATH_SHARD_INDEX, rank);
    if (st == REGNN_OK)
        st = regnn_path_options_set_int(po, REGNN_PATH_SHARD_COUNT, size);
    if (st == REGNN_OK)
        st = regnn_regularization_path(tm, to, train, val, fo, po, part);
    if (st != REGNN_OK)
        keep(why, NULL);
    regnn_path_options_free(po);
    return agree(comm, rank, fn, st, why);
}

/* Collective: part encoded into *mine (*n bytes), and room for every rank's
 * length and offset in *lens and *displs. */
static regnn_status encode_part(MPI_Comm comm, int rank, int size, const char *fn,
                                const regnn_path *part, unsigned char **mine, size_t *n,
                                int **lens, int **displs)
{
    char why[MSG_LEN] = "";
    regnn_status st = regnn_path_save_mem(part, NULL, 0, n);
    if (st == REGNN_OK && *n > INT_MAX) {
        st = REGNN_E_SHAPE;
        keep(why, "a part is larger than 2 GiB");
    }
    if (st == REGNN_OK) {
        *mine = malloc(*n);
        *lens = calloc((size_t)size, sizeof **lens);
        *displs = calloc((size_t)size, sizeof **displs);
        if (!*mine || !*lens || !*displs) {
            st = REGNN_E_NOMEM;
            keep(why, "out of memory");
        }
    }
    if (st == REGNN_OK)
        st = regnn_path_save_mem(part, *mine, *n, n);
    if (st != REGNN_OK && !why[0])
        keep(why, NULL);
    return agree(comm, rank, fn, st, why);
}

/* Collective: every rank's encoded part into *all, rank k's lens[k] bytes at
 * displs[k]. */
static regnn_status gather_parts(MPI_Comm comm, int rank, int size, const char *fn,
                                 const unsigned char *mine, size_t n, int *lens, int *displs,
                                 unsigned char **all)
{
    int len = (int)n;
    if (MPI_Allgather(&len, 1, MPI_INT, lens, 1, MPI_INT, comm) != MPI_SUCCESS)
        return fail(REGNN_E_IO, "%s: MPI_Allgather failed", fn);
    size_t total = 0;
    for (int k = 0; k < size; k++) {
        displs[k] = (int)total;
        total += (size_t)lens[k];
        if (total > INT_MAX) /* the same on every rank */
            return fail(REGNN_E_SHAPE, "%s: the parts add up to more than 2 GiB", fn);
    }
    char why[MSG_LEN] = "";
    *all = malloc(total);
    regnn_status st = *all ? REGNN_OK : REGNN_E_NOMEM;
    if (st != REGNN_OK)
        keep(why, "out of memory");
    st = agree(comm, rank, fn, st, why);
    if (st != REGNN_OK)
        return st;
    if (MPI_Allgatherv(mine, len, MPI_BYTE, *all, lens, displs, MPI_BYTE, comm) != MPI_SUCCESS)
        return fail(REGNN_E_IO, "%s: MPI_Allgatherv failed", fn);
    return REGNN_OK;
}

/* Collective: the parts decoded and merged, the same on every rank. */
static regnn_status merge_parts(MPI_Comm comm, int rank, int size, const char *fn,
                                const unsigned char *all, const int *lens, const int *displs,
                                regnn_path **merged)
{
    char why[MSG_LEN] = "";
    regnn_path **parts = calloc((size_t)size, sizeof *parts);
    regnn_status st = parts ? REGNN_OK : REGNN_E_NOMEM;
    if (!parts)
        keep(why, "out of memory");
    for (int k = 0; k < size && st == REGNN_OK; k++)
        st = regnn_path_load_mem(all + displs[k], (size_t)lens[k], &parts[k]);
    if (st == REGNN_OK)
        st = regnn_path_merge((const regnn_path *const *)parts, (size_t)size, merged);
    if (st != REGNN_OK && !why[0])
        keep(why, NULL);
    for (int k = 0; parts && k < size; k++)
        regnn_path_free(parts[k]);
    free(parts);
    st = agree(comm, rank, fn, st, why);
    if (st != REGNN_OK) {
        regnn_path_free(*merged);
        *merged = NULL;
    }
    return st;
}

regnn_status regnn_mpi_regularization_path(MPI_Comm comm, const regnn_model *template_model,
                                           const regnn_optimizer *template_optimizer,
                                           const regnn_dataset *train, const regnn_dataset *val,
                                           const regnn_fit_options *fit_opts,
                                           const regnn_path_options *popts, regnn_path **out)
{
    static const char fn[] = "regnn_mpi_regularization_path";
    int rank = 0, size = 1;
    if (out)
        *out = NULL;
    if (comm_info(comm, &rank, &size) != REGNN_OK)
        return fail(REGNN_E_INVALID_ARG, "%s: not a valid communicator", fn);
    regnn_path *part = NULL, *merged = NULL;
    unsigned char *mine = NULL, *all = NULL;
    int *lens = NULL, *displs = NULL;
    size_t n = 0;
    /* Every step ends in agreement, so all ranks go on or stop together. */
    regnn_status st = check_path_args(comm, rank, size, fn, out != NULL, template_model,
                                      template_optimizer, train, val, fit_opts, popts);
    if (st == REGNN_OK)
        st = run_shard(comm, rank, size, fn, template_model, template_optimizer, train, val,
                       fit_opts, popts, &part);
    if (st == REGNN_OK)
        st = encode_part(comm, rank, size, fn, part, &mine, &n, &lens, &displs);
    if (st == REGNN_OK)
        st = gather_parts(comm, rank, size, fn, mine, n, lens, displs, &all);
    if (st == REGNN_OK)
        st = merge_parts(comm, rank, size, fn, all, lens, displs, &merged);
    if (st == REGNN_OK)
        *out = merged;
    free(all);
    free(displs);
    free(lens);
    free(mine);
    regnn_path_free(part);
    return st;
}

/* ---- data-parallel fit ---- */

typedef struct xchg {
    MPI_Comm comm;
    int rank, size;
    size_t n;          /* gradient length */
    int *sc, *sd;      /* chunk k of the gradient: sc[k] floats at sd[k] (owned by rank k) */
    int *rc, *rd;      /* this rank's chunk from every rank */
    float *recv, *acc; /* size x chunk received, chunk summed */
    double *sbuf;      /* size x MAX_SUMS */
} xchg;

static void xchg_free(xchg *x)
{
    free(x->sc);
    free(x->sd);
    free(x->rc);
    free(x->rd);
    free(x->recv);
    free(x->acc);
    free(x->sbuf);
}

static regnn_status xchg_init(xchg *x, MPI_Comm comm, int rank, int size, size_t n)
{
    memset(x, 0, sizeof *x);
    x->comm = comm;
    x->rank = rank;
    x->size = size;
    x->n = n;
    const size_t s = (size_t)size;
    const size_t chunk = n * ((size_t)rank + 1) / s - n * (size_t)rank / s;
    if (n > INT_MAX || chunk * s > INT_MAX)
        return REGNN_E_SHAPE;
    x->sc = calloc(s, sizeof *x->sc);
    x->sd = calloc(s, sizeof *x->sd);
    x->rc = calloc(s, sizeof *x->rc);
    x->rd = calloc(s, sizeof *x->rd);
    x->recv = calloc(chunk * s + 1, sizeof *x->recv);
    x->acc = calloc(chunk + 1, sizeof *x->acc);
    x->sbuf = calloc(s * MAX_SUMS, sizeof *x->sbuf);
    if (!x->sc || !x->sd || !x->rc || !x->rd || !x->recv || !x->acc || !x->sbuf)
        return REGNN_E_NOMEM;
    for (size_t k = 0; k < s; k++) {
        x->sd[k] = (int)(n * k / s);
        x->sc[k] = (int)(n * (k + 1) / s) - x->sd[k];
        x->rc[k] = (int)chunk;
        x->rd[k] = (int)(k * chunk);
    }
    return REGNN_OK;
}

/* The sum over ranks in rank order (rank 0 + rank 1 + ...), the same bits on
 * every rank: each rank sums one chunk of the gradient (an all-to-all), then
 * all chunks go to all ranks (an all-gather); the traffic of a ring allreduce. */
static int mpi_exchange(void *user, float *g, size_t n, double *sums, size_t n_sums)
{
    xchg *x = user;
    if (n) {
        if (n != x->n)
            return 1;
        if (MPI_Alltoallv(g, x->sc, x->sd, MPI_FLOAT, x->recv, x->rc, x->rd, MPI_FLOAT, x->comm) !=
            MPI_SUCCESS)
            return 1;
        const size_t c = (size_t)x->rc[0];
        for (size_t j = 0; j < c; j++) {
            float acc = x->recv[j];
            for (int r = 1; r < x->size; r++)
                acc += x->recv[(size_t)x->rd[r] + j];
            x->acc[j] = acc;
        }
        if (MPI_Allgatherv(x->acc, (int)c, MPI_FLOAT, g, x->sc, x->sd, MPI_FLOAT, x->comm) !=
            MPI_SUCCESS)
            return 1;
    }
    if (n_sums) {
        if (n_sums > MAX_SUMS)
            return 1;
        if (MPI_Allgather(sums, (int)n_sums, MPI_DOUBLE, x->sbuf, (int)n_sums, MPI_DOUBLE,
                          x->comm) != MPI_SUCCESS)
            return 1;
        for (size_t k = 0; k < n_sums; k++) {
            double acc = x->sbuf[k];
            for (int r = 1; r < x->size; r++)
                acc += x->sbuf[(size_t)r * n_sums + k];
            sums[k] = acc;
        }
    }
    return 0;
}

regnn_status regnn_mpi_fit(MPI_Comm comm, regnn_model *m, regnn_optimizer *o,
                           const regnn_dataset *train, const regnn_dataset *val,
                           const regnn_fit_options *opts, regnn_history **history_out)
{
    static const char fn[] = "regnn_mpi_fit";
    int rank = 0, size = 1;
    if (history_out)
        *history_out = NULL;
    if (comm_info(comm, &rank, &size) != REGNN_OK)
        return fail(REGNN_E_INVALID_ARG, "%s: not a valid communicator", fn);
    char why[MSG_LEN] = "";
    regnn_fit_options *fo = NULL;
    xchg x;
    memset(&x, 0, sizeof x);

    /* 1. everything that can fail here, before any rank trains */
    regnn_status st = REGNN_OK;
    if (!m || !o || !train) {
        st = REGNN_E_INVALID_ARG;
        keep(why, "the model, optimizer and training data are required");
    }
    if (st == REGNN_OK)
        st = opts ? regnn_fit_options_copy(opts, &fo) : regnn_fit_options_create(&fo);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_int(fo, REGNN_FIT_SHARD_INDEX, rank);
    if (st == REGNN_OK)
        st = regnn_fit_options_set_int(fo, REGNN_FIT_SHARD_COUNT, size);
    if (st == REGNN_OK)
        st = xchg_init(&x, comm, rank, size, regnn_model_param_count(m));
    if (st == REGNN_OK)
        st = regnn_fit_options_set_exchange(fo, mpi_exchange, &x);
    if (st != REGNN_OK && !why[0])
        keep(why, st == REGNN_E_NOMEM ? "out of memory" : NULL);
    st = agree(comm, rank, fn, st, why);
    if (st != REGNN_OK)
        goto done;

    /* 2. train: through the exchange, regnn_fit agrees on failures and on every
     * setting that changes results (model, optimizer, options, data) before
     * training, naming the failing rank or the first differing setting */
    st = regnn_fit(m, o, train, val, fo, history_out);
    if (st != REGNN_OK)
        keep(why, NULL);
    st = agree(comm, rank, fn, st, why);
    if (st != REGNN_OK && history_out) {
        regnn_history_free(*history_out);
        *history_out = NULL;
    }
done:
    xchg_free(&x);
    regnn_fit_options_free(fo);
    return st;
}
