/* SPDX-License-Identifier: MIT */
/* What the bench programs share: a clock, medians, a stop on a library
 * error, and the deterministic regression data of the thread benchmarks.
 * (benchreport.h: what ran and the results file.) */
#ifndef REGNN_BENCHUTIL_H
#define REGNN_BENCHUTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "regnn.h"

/* Stops the program with the library's message when call fails. */
#define CHECK(call)                                                                           \
    do {                                                                                      \
        regnn_status s_ = (call);                                                             \
        if (s_ != REGNN_OK) {                                                                 \
            fprintf(stderr, "%s:%d: %s: %s: %s\n", __FILE__, __LINE__, #call,                 \
                    regnn_strerror(s_), regnn_errmsg());                                      \
            exit(1);                                                                          \
        }                                                                                     \
    } while (0)

/* Seconds on the monotonic clock. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (sorted in place); the mean of the middle two for even n. */
static inline double bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* A deterministic regression problem of rows x n_in: features uniform in
 * [-1, 1) from a fixed LCG, target sum_k sin((k + 1) x_k). */
static inline regnn_dataset *bench_make_data(size_t rows, size_t n_in)
{
    float *x = malloc(rows * n_in * sizeof *x), *y = malloc(rows * sizeof *y);
    if (!x || !y)
        exit(1);
    uint64_t s = 12345;
    for (size_t i = 0; i < rows * n_in; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
    for (size_t r = 0; r < rows; r++) {
        double t = 0.0;
        for (size_t k = 0; k < n_in; k++)
            t += sin((double)(k + 1) * x[r * n_in + k]);
        y[r] = (float)t;
    }
    regnn_dataset *ds;
    CHECK(regnn_dataset_from_arrays(x, y, rows, n_in, 1, REGNN_COPY, &ds));
    free(x);
    free(y);
    return ds;
}

#endif
