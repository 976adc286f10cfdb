/* SPDX-License-Identifier: MIT */
/* exutil.c - see exutil.h. */
#define _POSIX_C_SOURCE 200809L
#include "exutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int ex_parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int ex_parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int ex_parse_double_list(const char *s, double *out, size_t cap)
{
    if (!s || !*s)
        return -1;
    size_t n = 0;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char buf[64];
        if (len == 0 || len >= sizeof buf || n >= cap)
            return -1;
        memcpy(buf, p, len);
        buf[len] = '\0';
        if (ex_parse_double(buf, &out[n]) != 0)
            return -1;
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    return (int)n;
}

int ex_option(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    size_t len = strlen(name);
    if (strncmp(a, name, len) != 0)
        return 0;
    if (a[len] == '=') {
        *value = a + len + 1;
        return 1;
    }
    if (a[len] != '\0')
        return 0;
    if (*i + 1 < argc) {
        *value = argv[++*i];
    } else {
        *value = NULL;
    }
    return 1;
}

int ex_mkdir_p(const char *path)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        buf[i] = c;
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int ex_join(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

double ex_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void ex_mean_sd(const double *v, size_t n, double *mean, double *sd)
{
    double s = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            s += v[i];
            k++;
        }
    if (k == 0) {
        *mean = *sd = NAN;
        return;
    }
    double m = s / (double)k, q = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            q += (v[i] - m) * (v[i] - m);
    *mean = m;
    *sd = k > 1 ? sqrt(q / (double)(k - 1)) : 0;
}

int ex_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

int ex_parse_layers(const char *s, size_t *units, size_t cap, size_t *n_out)
{
    size_t n = 0;
    if (strcmp(s, "none") != 0) {
        const char *p = s;
        for (;;) {
            char *end;
            errno = 0;
            long width = strtol(p, &end, 10);
            if (end == p || errno || width < 1 || width > 1000000)
                return -1;
            long count = 1;
            if (*end == 'x' || *end == 'X') {
                const char *q = end + 1;
                count = strtol(q, &end, 10);
                if (end == q || errno || count < 1)
                    return -1;
            }
            if ((size_t)count > cap - n)
                return -1;
            for (long i = 0; i < count; i++)
                units[n++] = (size_t)width;
            if (*end == '\0')
                break;
            if (*end != ',')
                return -1;
            p = end + 1;
        }
    }
    *n_out = n;
    return 0;
}
