/* SPDX-License-Identifier: MIT */
/* The one place memory is obtained and released, so that a host can supply
 * its own allocator and tests can fail the Nth allocation. */
#include "base.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *default_malloc(void *user, size_t size)
{
    (void)user;
    return malloc(size);
}

static void default_free(void *user, void *p)
{
    (void)user;
    free(p);
}

/* Set-once hook: written only by regnn_set_allocator before the first allocation. */
static regnn_malloc_fn hook_malloc = default_malloc;
static regnn_free_fn hook_free = default_free;
static void *hook_user = NULL;
static atomic_int alloc_started = 0;
static atomic_int hook_set = 0;

regnn_status regnn_set_allocator(regnn_malloc_fn malloc_fn, regnn_free_fn free_fn, void *user)
{
    if (!malloc_fn || !free_fn)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_set_allocator: malloc_fn and free_fn are required");
    if (atomic_load(&alloc_started))
        return rg_error(REGNN_E_STATE,
                        "regnn_set_allocator: the library has already allocated memory");
    if (atomic_exchange(&hook_set, 1))
        return rg_error(REGNN_E_STATE, "regnn_set_allocator: an allocator is already set");
    hook_malloc = malloc_fn;
    hook_free = free_fn;
    hook_user = user;
    return REGNN_OK;
}

#ifdef REGNN_TESTING
static _Thread_local long test_fail_at = 0;
static _Thread_local int test_persistent = 0;
static _Thread_local long test_count = 0;
static _Thread_local size_t test_bytes = 0;
/* Process-wide: a block allocated by a worker thread and freed by the caller
 * (a path run's history) balances out. */
static atomic_long test_live = 0;

void regnn__test_alloc_fail_at(long nth, int persistent)
{
    test_fail_at = nth;
    test_persistent = persistent;
    test_count = 0;
    test_bytes = 0;
}
long regnn__test_alloc_count(void) { return test_count; }
size_t regnn__test_alloc_bytes(void) { return test_bytes; }
long regnn__test_alloc_live(void) { return atomic_load(&test_live); }
#endif

void *rg_malloc(size_t size)
{
    if (size == 0)
        return NULL;
#ifdef REGNN_TESTING
    test_count++;
    test_bytes += size;
    if (test_fail_at > 0 &&
        (test_count == test_fail_at || (test_persistent && test_count > test_fail_at)))
        return NULL;
#endif
    if (!atomic_load_explicit(&alloc_started, memory_order_relaxed))
        atomic_store(&alloc_started, 1);
    void *p = hook_malloc(hook_user, size);
#ifdef REGNN_TESTING
    if (p)
        atomic_fetch_add(&test_live, 1);
#endif
    return p;
}

void *rg_calloc(size_t n, size_t size)
{
    size_t total;
    if (!rg_mul_ok(n, size, &total))
        return NULL;
    void *p = rg_malloc(total);
    if (p)
        memset(p, 0, total);
    return p;
}

void rg_free(void *p)
{
    if (!p)
        return;
#ifdef REGNN_TESTING
    atomic_fetch_sub(&test_live, 1);
#endif
    hook_free(hook_user, p);
}

/* The hook's block holds up to `align` bytes of padding in front; the byte
 * just before the returned start says how many (1..align), so the block can
 * be found again. Whole cache lines keep every vector load within one line. */
void *rg_calloc_aligned(size_t n, size_t size, size_t align)
{
    size_t total;
    if (align == 0 || align > 128 || (align & (align - 1)) || !rg_mul_ok(n, size, &total) ||
        total > SIZE_MAX - align || total == 0)
        return NULL;
    unsigned char *raw = rg_malloc(total + align);
    if (!raw)
        return NULL;
    const size_t pad = align - (size_t)((uintptr_t)raw % align);
    unsigned char *p = raw + pad;
    p[-1] = (unsigned char)pad;
    memset(p, 0, total);
    return p;
}

void rg_free_aligned(void *p)
{
    if (!p)
        return;
    unsigned char *q = p;
    rg_free(q - q[-1]);
}

int rg_mul_ok(size_t n, size_t size, size_t *out)
{
    if (size != 0 && n > SIZE_MAX / size) {
        *out = 0;
        return 0;
    }
    *out = n * size;
    return 1;
}

char *rg_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = rg_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}
