/* SPDX-License-Identifier: MIT */
/* What a benchmark row says about what ran: the environment OpenBLAS runs
 * in, the kernel that runs each product (the library's own rule), and the
 * machine-readable results file (JSON lines, one object a line). Needs the
 * library's internal headers (-Isrc). */
#ifndef REGNN_BENCHREPORT_H
#define REGNN_BENCHREPORT_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/kernels.h"
#include "benchutil.h"
#include "regnn.h"

#ifdef REGNN_USE_CBLAS
#include <cblas.h>
#endif

/* ---- the environment OpenBLAS runs in ----
 * OPENBLAS_CORETYPE pins OpenBLAS to the kernels of another core (a machine
 * can set it globally, e.g. to Haswell), and OPENBLAS_L2_SIZE changes its
 * blocking; OpenBLAS reads both when the program is loaded. A benchmark
 * measures OpenBLAS at its best kernels for this CPU: when either is set, it
 * is removed and the program starts again (execv), so that OpenBLAS picks
 * its core itself. BENCH_CORETYPE_WAS keeps the removed value for the
 * results file. Call first thing in main. */
#define BENCH_CORETYPE_WAS "REGNN_BENCH_CORETYPE_WAS"
static inline void bench_clean_env(char **argv)
{
    const char *ct = getenv("OPENBLAS_CORETYPE"), *l2 = getenv("OPENBLAS_L2_SIZE");
    if (!ct && !l2)
        return;
    if (setenv(BENCH_CORETYPE_WAS, ct ? ct : "", 1) != 0 || unsetenv("OPENBLAS_CORETYPE") != 0 ||
        unsetenv("OPENBLAS_L2_SIZE") != 0)
        return;
    execv("/proc/self/exe", argv);
    perror("bench: could not restart without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE");
    exit(1);
}

/* The core OpenBLAS runs its kernels for ("SkylakeX", "Haswell", ...), NULL
 * when the build has no OpenBLAS. */
static inline const char *bench_openblas_core(void)
{
#ifdef REGNN_USE_CBLAS
    return openblas_get_corename();
#else
    return NULL;
#endif
}

/* ---- which kernel runs a product ----
 * The library's own rule (rg_gemm_plan, gemm.c), asked for the shape: the
 * built-in kernel's variant ("avx512-fma", "avx2-fma", "neon-fma",
 * "portable") or "openblas:CORE". Every product of a dense layer (forward,
 * kernel gradient, input gradient) has the same m*n*k, so the same kernel. */
static inline void bench_product_kernel(size_t m, size_t n, size_t k, char *out, size_t cap)
{
    rg_gemm g;
    memset(&g, 0, sizeof g);
    g.m = m;
    g.n = n;
    g.k = k;
    rg_gemm_plan(&g, 1, 0);
    if (g.builtin)
        snprintf(out, cap, "%s", rg_gemm_kernel_name());
    else
        snprintf(out, cap, "openblas:%s", bench_openblas_core() ? bench_openblas_core() : "?");
}

/* The kernels of a training step of the network widths[0..nw) at batch
 * rows: text for a table ("avx512-fma", or the layers' kernels joined by
 * '/' when they differ) into text, and a JSON array, one per layer, into
 * json (either may be NULL). */
static inline void bench_net_kernels(const size_t *widths, size_t nw, size_t rows, char *text,
                                     size_t text_cap, char *json, size_t json_cap)
{
    char k[64], first[64] = "";
    int same = 1;
    size_t tl = 0, jl = 0;
    if (text && text_cap)
        text[0] = '\0';
    if (json)
        jl = (size_t)snprintf(json, json_cap, "[");
    for (size_t l = 1; l < nw; l++) {
        bench_product_kernel(rows, widths[l], widths[l - 1], k, sizeof k);
        if (l == 1)
            snprintf(first, sizeof first, "%s", k);
        same &= strcmp(k, first) == 0;
        if (text && tl < text_cap)
            tl += (size_t)snprintf(text + tl, text_cap - tl, "%s%s", l > 1 ? "/" : "", k);
        if (json && jl < json_cap)
            jl += (size_t)snprintf(json + jl, json_cap - jl, "%s\"%s\"", l > 1 ? "," : "", k);
    }
    if (json && jl < json_cap)
        snprintf(json + jl, json_cap - jl, "]");
    if (text && same)
        snprintf(text, text_cap, "%s", first);
}

/* ---- the results file: JSON lines ----
 * {"type":"run", ...}: the program, the machine, the kernels, the OpenBLAS
 * core and threads, the load average at the start; {"type":"row", ...} per
 * figure with its kernels, threads and values; {"type":"end", ...}: the load
 * average at the end. One file per program run, named by --json PATH. */
static FILE *bench_json_fp;

static inline void bench_json_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(fp, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(fp, "\\u%04x", (unsigned)(unsigned char)*s);
        else
            fputc(*s, fp);
    }
    fputc('"', fp);
}

/* The load average over 1, 5 and 15 minutes as a JSON array (null without
 * /proc/loadavg). */
static inline void bench_json_loadavg(FILE *fp)
{
    double l[3];
    FILE *f = fopen("/proc/loadavg", "r");
    int ok = f && fscanf(f, "%lf %lf %lf", &l[0], &l[1], &l[2]) == 3;
    if (f)
        fclose(f);
    if (ok)
        fprintf(fp, "[%.2f,%.2f,%.2f]", l[0], l[1], l[2]);
    else
        fputs("null", fp);
}

/* The CPU's model name from /proc/cpuinfo into out ("unknown" without it). */
static inline void bench_cpu_model(char *out, size_t cap)
{
    char line[512];
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            colon += 1 + (colon[1] == ' ');
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(out, cap, "%s", colon);
            break;
        }
    }
    fclose(f);
}

/* Opens path for the results of program, writes the run line and says where
 * the results go. Exits when the file cannot be written. */
static inline void bench_json_open(const char *path, const char *program)
{
    if (!path)
        return;
    bench_json_fp = fopen(path, "w");
    if (!bench_json_fp) {
        perror(path);
        exit(1);
    }
    char cpu[256];
    bench_cpu_model(cpu, sizeof cpu);
    FILE *fp = bench_json_fp;
    fputs("{\"type\":\"run\",\"program\":", fp);
    bench_json_str(fp, program);
    fputs(",\"version\":", fp);
    bench_json_str(fp, regnn_version_string());
    fputs(",\"blas\":", fp);
    bench_json_str(fp, regnn_blas_name());
    fputs(",\"cpu\":", fp);
    bench_json_str(fp, cpu);
    fprintf(fp, ",\"online_cpus\":%ld,\"builtin_kernel\":", sysconf(_SC_NPROCESSORS_ONLN));
    bench_json_str(fp, rg_gemm_kernel_name());
    fprintf(fp, ",\"builtin_only\":%s,\"openblas_core\":", rg_gemm_builtin_only() ? "true" : "false");
    if (bench_openblas_core())
        bench_json_str(fp, bench_openblas_core());
    else
        fputs("null", fp);
    fprintf(fp, ",\"openblas_threads\":%d,\"openblas_coretype_removed\":", regnn_blas_threads());
    if (getenv(BENCH_CORETYPE_WAS))
        bench_json_str(fp, getenv(BENCH_CORETYPE_WAS));
    else
        fputs("null", fp);
    const char *env[] = {"REGNN_OPENBLAS_LARGE", "REGNN_GEMM_KERNEL"};
    for (size_t i = 0; i < 2; i++) {
        fprintf(fp, ",\"%s\":", env[i]);
        if (getenv(env[i]))
            bench_json_str(fp, getenv(env[i]));
        else
            fputs("null", fp);
    }
    fputs(",\"loadavg_start\":", fp);
    bench_json_loadavg(fp);
    fputs("}\n", fp);
    fprintf(stderr, "results (JSON lines): %s\n", path);
}

/* One row: its name, the kernels (a JSON array, e.g. from bench_net_kernels),
 * the threads it ran on, and n named values. */
static inline void bench_json_row(const char *name, const char *kernels_json, size_t threads,
                                  size_t n, const char *const *keys, const double *vals)
{
    FILE *fp = bench_json_fp;
    if (!fp)
        return;
    fputs("{\"type\":\"row\",\"name\":", fp);
    bench_json_str(fp, name);
    fprintf(fp, ",\"kernels\":%s,\"threads\":%zu,\"values\":{", kernels_json, threads);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? "," : "", fp);
        bench_json_str(fp, keys[i]);
        if (isfinite(vals[i]))
            fprintf(fp, ":%.9g", vals[i]);
        else
            fputs(":null", fp);
    }
    fputs("}}\n", fp);
}

/* The end line (the load average now); 0, or 1 when the file failed. */
static inline int bench_json_close(void)
{
    FILE *fp = bench_json_fp;
    if (!fp)
        return 0;
    fputs("{\"type\":\"end\",\"loadavg_end\":", fp);
    bench_json_loadavg(fp);
    fputs("}\n", fp);
    bench_json_fp = NULL;
    if (ferror(fp) | fclose(fp)) {
        perror("bench: results file");
        return 1;
    }
    return 0;
}

#endif
