/* SPDX-License-Identifier: MIT */
/* Private declarations of the base layer: allocation, errors, files and atomic
 * writes, CRC-32, random numbers, the options table.
 * Included only by the files of src/base/ and the layers above (docs/architecture.md). */
#ifndef REGNN_BASE_H
#define REGNN_BASE_H

#include "regnn.h"

#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>

#if defined(__GNUC__)
#  define RG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define RG_PRINTF(a, b)
#endif

/* Hot loops get an AVX2 clone picked at load time (glibc ifunc) on x86-64. */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(REGNN_NO_CLONES) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#  define RG_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#  define RG_SIMD_CLONES
#endif

/* ---- allocation (alloc.c): every allocation goes through these ---- */
void *rg_malloc(size_t size);            /* NULL on failure or size 0 */
void *rg_calloc(size_t n, size_t size);  /* zeroed; NULL on overflow */
void rg_free(void *p);
/* Blocks the kernels stream through (parameters, gradients, optimizer state)
 * start on a cache line, so that no vector load spans two lines: a 128-wide
 * layer's one-row product reads its kernel from L2 4 % faster. */
#define RG_LINE 64
/* zeroed, starting at a multiple of align (a power of two, at most 128);
 * released only by rg_free_aligned */
void *rg_calloc_aligned(size_t n, size_t size, size_t align);
void rg_free_aligned(void *p);
/* n*size without overflow; 0 in *out and returns 0 on overflow. */
int rg_mul_ok(size_t n, size_t size, size_t *out);
char *rg_strdup(const char *s);

#ifdef REGNN_TESTING
/* Test hooks, built only with -DREGNN_TESTING (counts and failures per thread;
 * the live-block count is process-wide). */
void regnn__test_alloc_fail_at(long nth, int persistent); /* 0 = off; resets the count */
long regnn__test_alloc_count(void);                       /* attempts since the last fail_at */
size_t regnn__test_alloc_bytes(void);                     /* bytes requested since the last fail_at */
long regnn__test_alloc_live(void);                        /* blocks allocated minus freed, all threads */
/* Saving (write_atomic.c), this thread: 1 = act as if O_TMPFILE were unsupported,
 * 2 = as if the unnamed file could not be linked (no /proc), 0 = normal. */
void regnn__test_io_tmpfile(int mode);
/* Age in seconds from which leftover temporary files are removed; -1 = default. */
void regnn__test_io_stale_seconds(long seconds);
#endif

/* ---- files (file.c) ---- */
/* strerror_r's text for err, or "error N". */
void rg_errno_text(int err, char *buf, size_t cap);
/* Open path for reading if it is a regular file (a FIFO or device is refused
 * without blocking): *fd and its size on success, REGNN_E_IO naming `where`
 * otherwise. The caller closes *fd. */
regnn_status rg_open_regular(const char *where, const char *path, int *fd, size_t *size);
/* read() until n bytes, end of file or an error (-1, errno set); EINTR retried. */
long long rg_read_full(int fd, void *buf, size_t n);
/* When path is a symbolic link, its final target (every link followed) in
 * *real, to free(); else *real = NULL. A dangling link or a loop is
 * REGNN_E_IO naming fn and path. */
regnn_status rg_follow_link(const char *fn, const char *path, char **real);
/* Replace path with n bytes of data atomically (write_atomic.c: the old file or the
 * new one, never a mix); a symbolic link is followed and its target
 * replaced; REGNN_E_IO naming fn and path on failure. */
regnn_status rg_write_atomic(const char *fn, const char *path, const uint8_t *data, size_t n);

/* ---- CRC-32 (crc32.c): IEEE 802.3 / zlib, crc32("123456789") = 0xCBF43926 ---- */
/* Continue crc (0 to start) over n bytes of data. */
uint32_t rg_crc32(uint32_t crc, const void *data, size_t n);

/* ---- errors (error.c) ---- */
/* Record a message for this thread and return status. */
regnn_status rg_error(regnn_status status, const char *fmt, ...) RG_PRINTF(2, 3);
/* The same with the arguments as a va_list. */
regnn_status rg_verror(regnn_status status, const char *fmt, va_list ap) RG_PRINTF(2, 0);
/* Format a double in C-locale syntax ("%.9g"), whatever LC_NUMERIC says. */
void rg_format_double(char *buf, size_t cap, double v);

/* ---- random numbers (rng.c): xoshiro256** seeded by splitmix64 ---- */
typedef struct rg_rng {
    uint64_t s[4];
} rg_rng;
void rg_rng_seed(rg_rng *r, uint64_t seed);
uint64_t rg_rng_next(rg_rng *r);
double rg_rng_uniform(rg_rng *r);             /* [0, 1), 53 bits */
double rg_rng_normal(rg_rng *r);              /* N(0, 1), from two uniform draws */
uint64_t rg_rng_below(rg_rng *r, uint64_t n); /* unbiased in [0, n), n > 0 */
void rg_rng_permutation(rg_rng *r, size_t *idx, size_t n); /* Fisher-Yates of 0..n-1 */

/* ---- option limits and the options table (options.c) ---- */
#define RG_MAX_EPOCHS 100000000
#define RG_MAX_BATCH ((size_t)1 << 20) /* keeps rows x width inside a 32-bit BLAS int */
#define RG_MAX_SHARDS 65536
/* Largest step count: Adam's bias correction uses it as an exact double. */
#define RG_MAX_STEPS ((uint64_t)1 << 53)
#define RG_PATH_MAX_THREADS 256
#define RG_PATH_MAX_COUNT ((size_t)1 << 20) /* lambdas, seeds and runs */
/* Why v is refused for option key of kind (REGNN_OPTION_*), naming the option, or NULL. */
const char *rg_option_problem(int kind, int key, double v, char *buf, size_t len);
/* REGNN_E_INVALID_ARG with "fn: <the problem>" if the table refuses v. */
regnn_status rg_option_check(const char *fn, int kind, int key, double v);
regnn_status rg_option_check_int(const char *fn, int kind, int key, int64_t v);
/* The option's default from the table (0 for an unknown key). */
double rg_option_default(int kind, int key);
/* Entry i's kind, key and fingerprint entry name ("" if it does not change
 * results); NULL past the table. */
const char *rg_option_setting(size_t i, int *kind, int *key);

#endif
