/* SPDX-License-Identifier: MIT */
/* The start of a data-parallel fit: the processes agree that every one is
 * ready and holds the same settings (rg_settings_fingerprint), or all fail
 * with a message naming the process and the cause. The only channel is the
 * fit's exchange, a sum over the processes of at most 8 doubles a call; a
 * value only one process contributes (the others give 0) arrives exactly,
 * which is how a process's numbers are sent to all. Every process makes the
 * same calls in the same order, whatever its settings.
 *
 * Then the exchange during training (rg_dp_*): which rows each process
 * computes, and the sums over the processes; with no exchange, one process,
 * these do nothing, so regnn_fit has one loop. */
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CHUNK 8                              /* doubles per exchange call */
#define MIN_BITS 3                           /* bits of a value decided per call: 2^3 = CHUNK */
#define NONE ((1u << (MIN_BITS * RG_DP_MIN_ROUNDS)) - 1) /* above every rank and index */
#define MSG_BYTES 240                        /* of a failing process's message */
#define BYTES_PER_DOUBLE 6                   /* 48-bit integers: exact in a double */
#define MSG_DOUBLES (MSG_BYTES / BYTES_PER_DOUBLE)

_Static_assert(RG_SETTINGS_COUNT < NONE && 65535 < NONE, "values rg_dp_min can order");
_Static_assert(RG_SETTINGS_HASH_MASK < (1ULL << 53), "hashes travel exactly as doubles");

static int sum(const regnn_fit_options *opts, double *v, size_t n)
{
    return rg_fit_options_exchange(opts, NULL, 0, v, n);
}

/* An integer setting of valid options (the getter cannot fail). */
static int64_t opt_int(const regnn_fit_options *opts, int key)
{
    int64_t v = 0;
    (void)regnn_fit_options_get_int(opts, key, &v);
    return v;
}

/* The smallest v over the processes (v < 2^(MIN_BITS*RG_DP_MIN_ROUNDS)), a
 * few bits a call: each process still in the running counts itself in the
 * bucket of its next bits; the lowest non-empty bucket wins. */
static int dp_min(const regnn_fit_options *opts, uint32_t v, uint32_t *out)
{
    uint32_t best = 0;
    int alive = 1;
    for (int r = RG_DP_MIN_ROUNDS - 1; r >= 0; r--) {
        const unsigned shift = (unsigned)r * MIN_BITS, mine = (v >> shift) & (CHUNK - 1);
        double buckets[CHUNK] = {0};
        if (alive)
            buckets[mine] = 1.0;
        if (sum(opts, buckets, CHUNK))
            return 1;
        unsigned b = 0;
        while (b < CHUNK - 1 && !(buckets[b] > 0.0))
            b++;
        alive = alive && mine == b;
        best |= (uint32_t)b << shift;
    }
    *out = best;
    return 0;
}

/* The owner's n values to every process (the others' v are overwritten). */
static int dp_share(const regnn_fit_options *opts, int owner, double *v, size_t n)
{
    for (size_t at = 0; at < n; at += CHUNK) {
        const size_t k = n - at < CHUNK ? n - at : CHUNK;
        double part[CHUNK] = {0};
        if (owner)
            memcpy(part, v + at, k * sizeof *part);
        if (sum(opts, part, k))
            return 1;
        memcpy(v + at, part, k * sizeof *part);
    }
    return 0;
}

static uint32_t my_index(const regnn_fit_options *opts)
{
    const int64_t i = opt_int(opts, REGNN_FIT_SHARD_INDEX);
    return i >= 0 && i < (int64_t)NONE ? (uint32_t)i : NONE - 1;
}

/* Some process failed (failing: this one did, why says why): the lowest
 * failing one sends its status and message to all, into *st_out and text.
 * Non-zero when the exchange failed. */
static int share_failure(const regnn_fit_options *opts, regnn_status failing, const char *why,
                         uint32_t *who, regnn_status *st_out, char text[MSG_BYTES + 1])
{
    memset(text, 0, MSG_BYTES + 1);
    if (failing != REGNN_OK)
        snprintf(text, MSG_BYTES + 1, "%s", why);
    if (dp_min(opts, failing != REGNN_OK ? my_index(opts) : NONE, who))
        return 1;
    double buf[1 + MSG_DOUBLES] = {(double)failing};
    for (size_t i = 0; i < MSG_DOUBLES; i++) {
        uint64_t w = 0;
        for (size_t b = 0; b < BYTES_PER_DOUBLE; b++)
            w |= (uint64_t)(unsigned char)text[i * BYTES_PER_DOUBLE + b] << (8 * b);
        buf[1 + i] = (double)w;
    }
    if (dp_share(opts, failing != REGNN_OK && my_index(opts) == *who, buf, 1 + MSG_DOUBLES))
        return 1;
    for (size_t i = 0; i < MSG_DOUBLES; i++) {
        const uint64_t w = (uint64_t)buf[1 + i];
        for (size_t b = 0; b < BYTES_PER_DOUBLE; b++)
            text[i * BYTES_PER_DOUBLE + b] = (char)(unsigned char)(w >> (8 * b));
    }
    text[MSG_BYTES] = 0;
    *st_out = (regnn_status)(int)buf[0];
    return 0;
}

/* Every process ready: compare the fingerprints with rank 0's, and name the
 * first setting that differs and the lowest rank that differs in it. */
static regnn_status compare_settings(const regnn_fit_options *opts, const rg_fit_setup *s)
{
    static const char fn[] = "regnn_fit";
    uint64_t mine[RG_SETTINGS_COUNT];
    double first[RG_SETTINGS_COUNT];
    rg_settings_fingerprint(s, mine);
    for (size_t i = 0; i < RG_SETTINGS_COUNT; i++)
        first[i] = (double)mine[i];
    uint32_t differs = RG_SETTINGS_COUNT, which, who;
    if (dp_share(opts, my_index(opts) == 0, first, RG_SETTINGS_COUNT))
        return rg_error(REGNN_E_IO, "%s: the exchange failed before training", fn);
    for (uint32_t i = 0; i < RG_SETTINGS_COUNT && differs == RG_SETTINGS_COUNT; i++)
        if ((double)mine[i] != first[i])
            differs = i;
    if (dp_min(opts, differs, &which))
        return rg_error(REGNN_E_IO, "%s: the exchange failed before training", fn);
    if (which == RG_SETTINGS_COUNT)
        return REGNN_OK;
    if (dp_min(opts, differs == which ? my_index(opts) : NONE, &who))
        return rg_error(REGNN_E_IO, "%s: the exchange failed before training", fn);
    return rg_error(REGNN_E_INVALID_ARG,
                    "%s: setting '%s' differs: rank 0 vs rank %u (every process of a "
                    "data-parallel fit needs the same model, optimizer, options and the whole "
                    "data, not only its own rows)",
                    fn, rg_settings_name(which), (unsigned)who);
}

/* This process's part of the start, failing (st and why) or ready (s).
 * Non-zero when the exchange failed; else *out is the outcome, with the
 * message set when it is a failure this process did not have. */
static int start(const regnn_fit_options *opts, regnn_status st, const char *why,
                 const rg_fit_setup *s, regnn_status *out)
{
    double failed = st != REGNN_OK;
    if (sum(opts, &failed, 1))
        return 1;
    if (failed == 0.0) {
        if (st != REGNN_OK) /* this process's own flag went missing */
            return 1;
        *out = compare_settings(opts, s);
        return *out == REGNN_E_IO;
    }
    uint32_t who;
    regnn_status theirs;
    char text[MSG_BYTES + 1];
    if (share_failure(opts, st, why, &who, &theirs, text))
        return 1;
    *out = st != REGNN_OK ? st
                          : rg_error(REGNN_E_STATE,
                                     "regnn_fit: rank %u of the data-parallel fit failed before "
                                     "training (%s): %s",
                                     (unsigned)who, regnn_strerror(theirs), text);
    return 0;
}

regnn_status rg_dp_start(const regnn_fit_options *opts, regnn_status st, const rg_fit_setup *s)
{
    char why[MSG_BYTES + 1] = "";
    if (st != REGNN_OK)
        snprintf(why, sizeof why, "%s", regnn_errmsg());
    regnn_status out = st;
    if (start(opts, st, why, s, &out) && st == REGNN_OK)
        return rg_error(REGNN_E_IO, "regnn_fit: the exchange failed before training");
    return out;
}

regnn_status regnn_fit_exchange_failure(const regnn_fit_options *opts, regnn_status status,
                                        const char *message)
{
    static const char fn[] = "regnn_fit_exchange_failure";
    if (!opts || !rg_fit_options_has_exchange(opts))
        return rg_error(REGNN_E_INVALID_ARG, "%s: the options have no exchange", fn);
    if (status == REGNN_OK)
        return rg_error(REGNN_E_INVALID_ARG, "%s: the status is REGNN_OK, not a failure", fn);
    regnn_status out;
    if (start(opts, status, message ? message : regnn_strerror(status), NULL, &out))
        return rg_error(REGNN_E_IO, "%s: the exchange failed", fn);
    return REGNN_OK;
}

/* ---- the exchange during training ---- */

/* One gather of BatchNormalization (rg_gather_fn): n floats summed. */
static int gather(void *ctx, float *buf, size_t n)
{
    double none = 0.0;
    return rg_dp_sum(ctx, buf, n, &none, 0);
}

int rg_dp_reserve(rg_dp *d, const regnn_fit_options *opts, const regnn_model *m, size_t batch)
{
    d->bn = NULL;
    if (!rg_fit_options_has_exchange(opts) || opt_int(opts, REGNN_FIT_SHARD_COUNT) < 2 ||
        rg_model_first_batch_norm(m) == regnn_model_layer_count(m))
        return 1;
    d->bn = rg_bn_dp_new(m, batch, gather, d);
    return d->bn != NULL;
}

void rg_dp_free(rg_dp *d)
{
    rg_bn_dp_free(d->bn);
    d->bn = NULL;
}

void rg_dp_init(rg_dp *d, const regnn_fit_options *opts, const regnn_model *m, size_t batch)
{
    d->opts = rg_fit_options_has_exchange(opts) ? opts : NULL;
    d->index = (size_t)opt_int(opts, REGNN_FIT_SHARD_INDEX);
    d->count = (size_t)opt_int(opts, REGNN_FIT_SHARD_COUNT);
    d->exact = d->opts && d->count > 1 && rg_model_shards(m, batch, NULL) == d->count;
}

void rg_dp_share(const rg_dp *d, size_t rows, size_t *lo, size_t *n)
{
    *lo = rows * d->index / d->count;
    *n = rows * (d->index + 1) / d->count - *lo;
}

size_t rg_dp_batch_part(const rg_dp *d, const regnn_model *m, size_t rows, size_t *lo, size_t *n)
{
    if (!d->exact) {
        rg_dp_share(d, rows, lo, n);
        return 0;
    }
    return rg_model_shard_part(m, rows, d->index, lo, n);
}

int rg_dp_sum(const rg_dp *d, float *g, size_t n, double *sums, size_t n_sums)
{
    return d->opts && rg_fit_options_exchange(d->opts, g, n, sums, n_sums);
}

int rg_dp_any(const rg_dp *d, int flag)
{
    double v = flag != 0;
    if (rg_dp_sum(d, NULL, 0, &v, 1))
        return 1;
    return v != 0.0;
}

int rg_dp_step(const rg_dp *d, regnn_model *m, regnn_optimizer *o, const float *x,
               const float *y, const float *w, size_t first, size_t rows, size_t total_rows,
               size_t shards, double out[4])
{
    if (!d->opts)
        return rg_model_fit_step(m, o, x, y, w, rows, out);
    /* Each process's gradient and loss sums at the global batch's scale; -0
     * (which adds nothing, not even to a -0) from a process without rows;
     * summed over processes in order. The penalty: in the step of the one
     * process with rows when the batch is not split (one process, or a short
     * batch of one shard: the one-process step's order), else added by every
     * process after the sum, as a sharded step adds it. */
    const int pen_in_step = d->count == 1 || shards == 1;
    double sums[4] = {-0.0, -0.0, -0.0, -0.0};
    if (rg_model_step_sums(m, x, y, w, first, rows, total_rows, 1, pen_in_step, sums, &sums[3],
                           d->bn))
        return RG_STEP_EXCHANGE;
    size_t np;
    float *g = rg_model_grads(m, &np);
    if (rg_dp_sum(d, g, np, sums, 4))
        return RG_STEP_EXCHANGE;
    const double n = (double)total_rows * (double)regnn_model_outputs(m);
    out[0] = sums[0] / n;
    out[1] = sums[1] / n;
    out[2] = sums[2] / n;
    /* Not in the step, sums[3] is the activity penalty of the rows (-0 without one). */
    out[3] = pen_in_step ? sums[3] : rg_model_add_penalty(m) + sums[3];
    if (!isfinite(out[0] + out[3]))
        return RG_STEP_LOSS;
    if (!rg_model_update(m, o))
        return RG_STEP_UPDATE;
    rg_model_commit_stats(m); /* the batch's statistics: the same on every process */
    return RG_STEP_OK;
}
