/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the path-results loader (regnn_path_load_mem) on
 * arbitrary bytes. Each input is tried as given, then with its CRC-32
 * repaired so that mutations reach the parser. Loading allocates at most a
 * small multiple of the input's length (counted through the allocator hook);
 * a path that loads encodes back to the same bytes, and one that holds every
 * run merges alone to the same bytes as shard 0 of 1. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "regnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bytes the library requested since the last reset; one thread loads. */
static size_t requested;

static void *count_malloc(void *user, size_t n)
{
    (void)user;
    requested += n;
    return malloc(n);
}

static void count_free(void *user, void *p)
{
    (void)user;
    free(p);
}

/* The loader's memory bound: bytes per input byte, plus the fixed objects. */
#define FUZZ_PATH_BYTES_PER_BYTE 4
#define FUZZ_PATH_FIXED_BYTES 512

/* p encodes to the input's bytes, but for the reserved header word (bytes
 * 20..23, written as 0 and not read) and so the CRC; whole: and for the shard
 * index and count (bytes 48..63), 0 and 1. */
static void same_bytes(const regnn_path *p, const uint8_t *data, size_t size, int whole)
{
    size_t n = 0;
    if (regnn_path_save_mem(p, NULL, 0, &n) != REGNN_OK || n != size)
        abort();
    uint8_t *b = malloc(n), *want = malloc(size);
    if (b && want) {
        memcpy(want, data, size);
        if (whole) {
            memset(want + 48, 0, 16);
            want[56] = 1;
        }
        fuzz_fix_crc(want, size);
        if (regnn_path_save_mem(p, b, n, &n) != REGNN_OK || memcmp(b, want, size) != 0)
            abort();
    }
    free(b);
    free(want);
}

static void exercise(const regnn_path *p, const uint8_t *data, size_t size)
{
    const size_t nl = regnn_path_lambda_count(p), ns = regnn_path_seed_count(p);
    if (nl == 0 || ns == 0 || nl > size)
        abort();
    same_bytes(p, data, size, 0);
    double *v = malloc(nl * sizeof *v);
    size_t best = 0;
    if (v && regnn_path_get(p, REGNN_RUN_BEST_VAL_MSE, REGNN_AGG_MEAN, v, nl) != REGNN_OK)
        abort();
    free(v);
    (void)regnn_path_best_index(p, REGNN_RUN_BEST_VAL_MSE, REGNN_SELECT_1SE, &best);
    (void)regnn_path_history(p, nl - 1, ns - 1);
    regnn_path *m = NULL;
    const regnn_path *parts[1] = {p};
    if (regnn_path_merge(parts, 1, &m) == REGNN_OK) {
        same_bytes(m, data, size, 1);
        regnn_path_free(m);
    } else if (m) {
        abort();
    }
}

static void try_load(const uint8_t *data, size_t size)
{
    regnn_path *p = NULL;
    requested = 0;
    regnn_status st = regnn_path_load_mem(data, size, &p);
    if (requested > FUZZ_PATH_BYTES_PER_BYTE * size + FUZZ_PATH_FIXED_BYTES)
        abort(); /* memory out of proportion to the input */
    if (st == REGNN_OK) {
        exercise(p, data, size);
        regnn_path_free(p);
    } else if (p) {
        abort(); /* out parameter is NULL on failure */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int hooked = 0;
    if (!hooked) {
        if (regnn_set_allocator(count_malloc, count_free, NULL) != REGNN_OK)
            abort();
        hooked = 1;
    }
    try_load(data, size);
    if (size < 8)
        return 0;
    uint8_t *p = malloc(size);
    if (!p)
        return 0;
    memcpy(p, data, size);
    fuzz_fix_crc(p, size);
    try_load(p, size);
    free(p);
    return 0;
}
