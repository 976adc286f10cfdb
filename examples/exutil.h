/* SPDX-License-Identifier: MIT */
/*
 * exutil.h - small helpers shared by the example programs (not part of
 * libregnn): option parsing, folders, timing and statistics.
 */
#ifndef EXUTIL_H
#define EXUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Whole string is a finite number / an integer in [lo, hi]. 0 on success, -1 otherwise. */
int ex_parse_double(const char *s, double *out);
int ex_parse_long(const char *s, long lo, long hi, long *out);
/* Comma separated finite numbers, at most cap of them. Returns the count, or -1. */
int ex_parse_double_list(const char *s, double *out, size_t cap);

/* Hidden layer widths such as "128x6", "64,32" or "128x2,16" ("none": no
 * hidden layer) into units[0..cap); *n receives the count. 0 or -1. */
int ex_parse_layers(const char *s, size_t *units, size_t cap, size_t *n);

/* Option matcher for "--name value" and "--name=value". If argv[*i] is the
 * option `name`, sets *value (NULL when the value is missing), advances *i
 * past a separate value and returns 1; returns 0 for any other argument. */
int ex_option(int argc, char **argv, int *i, const char *name, const char **value);

/* mkdir -p. 0 on success, -1 with errno set. */
int ex_mkdir_p(const char *path);
/* dir + "/" + name into buf; -1 if it does not fit. */
int ex_join(char *buf, size_t size, const char *dir, const char *name);

/* Monotonic wall clock in seconds. */
double ex_now(void);

/* Mean and sample standard deviation (divisor n - 1; 0 for n = 1) of the
 * finite values among v[0..n). Both NaN when none is finite. */
void ex_mean_sd(const double *v, size_t n, double *mean, double *sd);

/* Online processors, at least 1. */
int ex_cpu_count(void);

#endif
