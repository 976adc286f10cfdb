/* SPDX-License-Identifier: MIT */
/* Where one-row prediction of the study network (10-128x6-1) spends its time:
 * regnn_model_predict of one row, the one-row products (rg_sgemv_t) of its
 * layers alone, and a plain read of the same weights (16 independent vector
 * sums, no arithmetic chain): the bound set by bringing the weights in from
 * the cache they live in. Best of 7 runs each, interleaved; prints
 * nanoseconds per call and the load average.
 *
 * Then the other way to go faster, at its best: each layer's output columns
 * split over two cores (the same bits: every output keeps its chain), each
 * reading half the weights from its own cache, with a second thread pinned
 * to another CPU and spinning between calls. The second core must be told to
 * start, and the halves of each layer's outputs must cross between the cores
 * before the next layer. Also printed: one trip of a counter from one core
 * to the other (half a round trip), and the bound that half the read plus
 * those trips would set.
 *
 * Usage: bench_predict [CALLS]   (default 100000) */
#define _GNU_SOURCE /* pthread_setaffinity_np */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "kernels/kernels.h"
#include "model/model_impl.h"

/* Sum of every float of w[0..n), in 16 independent chains: as fast as the
 * bytes arrive. */
static float read_all(const float *w, size_t n)
{
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++)
            acc[k] += w[i + k];
    for (; i < n; i++)
        acc[0] += w[i];
    float s = 0.0f;
    for (int k = 0; k < 16; k++)
        s += acc[k];
    return s;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#  include <immintrin.h>
/* read_all with 64-byte loads, on CPUs with AVX-512 (the kernel's width). */
__attribute__((target("avx512f"))) static float read_all_avx512(const float *w, size_t n)
{
    __m512 acc[8];
    for (int k = 0; k < 8; k++)
        acc[k] = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 128 <= n; i += 128)
        for (int k = 0; k < 8; k++)
            acc[k] = _mm512_add_ps(acc[k], _mm512_loadu_ps(w + i + 16 * k));
    for (int k = 1; k < 8; k++)
        acc[0] = _mm512_add_ps(acc[0], acc[k]);
    return _mm512_reduce_add_ps(acc[0]) + read_all(w + i, n - i);
}
static float read_weights(const float *w, size_t n)
{
    return __builtin_cpu_supports("avx512f") ? read_all_avx512(w, n) : read_all(w, n);
}
#else
static float read_weights(const float *w, size_t n) { return read_all(w, n); }
#endif

enum { TRIPS = 200000 };
static _Alignas(64) atomic_long ping;
static _Alignas(64) atomic_long pong;

/* The process's affinity mask and its first two CPUs (-1: none), read once
 * before any thread is pinned, since a thread inherits its creator's mask. */
static cpu_set_t usable;
static int cpus[2] = {-1, -1};

static void find_cpus(void)
{
    if (sched_getaffinity(0, sizeof usable, &usable) != 0)
        return;
    for (int c = 0, seen = 0; c < CPU_SETSIZE && seen < 2; c++)
        if (CPU_ISSET(c, &usable))
            cpus[seen++] = c;
}

static void pin_to(int cpu)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
}

static void unpin(void) { pthread_setaffinity_np(pthread_self(), sizeof usable, &usable); }

static void *answer(void *arg)
{
    (void)arg;
    pin_to(cpus[1]);
    for (long i = 1; i <= TRIPS; i++) {
        while (atomic_load_explicit(&ping, memory_order_acquire) < i)
            ;
        atomic_store_explicit(&pong, i, memory_order_release);
    }
    return NULL;
}

/* Nanoseconds of one trip from one core to another, or -1 with fewer than
 * two usable CPUs. */
static double trip_ns(void)
{
    if (cpus[1] < 0)
        return -1.0;
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        atomic_store(&ping, 0);
        atomic_store(&pong, 0);
        pthread_t t;
        if (pthread_create(&t, NULL, answer, NULL) != 0)
            return -1.0;
        pin_to(cpus[0]);
        double t0 = bench_now();
        for (long i = 1; i <= TRIPS; i++) {
            atomic_store_explicit(&ping, i, memory_order_release);
            while (atomic_load_explicit(&pong, memory_order_acquire) < i)
                ;
        }
        double t1 = bench_now();
        pthread_join(t, NULL);
        best = t1 - t0 < best ? t1 - t0 : best;
    }
    unpin();
    return best / TRIPS / 2 * 1e9;
}

/* One-row prediction with each layer's outputs split over two threads; the
 * two flags sit on their own cache lines. */
typedef struct split {
    const regnn_model *m;
    const float *x;
    _Alignas(64) float act[2][256];
    _Alignas(64) atomic_long go;
    struct {
        _Alignas(64) atomic_long mark;
    } done[2];
} split;

static void split_layers(split *s, int me, long call)
{
    const regnn_model *m = s->m;
    const float *in = s->x;
    for (size_t l = 0; l < m->n_layers; l++) {
        const regnn_layer *ly = m->layers[l];
        float *out = s->act[l & 1];
        const size_t half = (ly->units / 2 + 15) / 16 * 16;
        const size_t mid = half < ly->units ? half : ly->units;
        const size_t c0 = me ? mid : 0, c1 = me ? ly->units : mid;
        if (c1 > c0) {
            rg_sgemv_t(ly->n_in, c1 - c0, m->params + ly->offset + c0, ly->units, in, out + c0);
            rg_dense_bias_act(ly, m->params, out, NULL, 0, 1, c0, c1);
        }
        if (l + 1 == m->n_layers)
            break;
        const long mark = call * 64 + (long)l + 1;
        atomic_store_explicit(&s->done[me].mark, mark, memory_order_release);
        while (atomic_load_explicit(&s->done[1 - me].mark, memory_order_acquire) < mark)
            ;
        in = out;
    }
}

static void *split_worker(void *arg)
{
    split *s = arg;
    pin_to(cpus[1]);
    for (long call = 1;; call++) {
        long go;
        while ((go = atomic_load_explicit(&s->go, memory_order_acquire)) < call && go >= 0)
            ;
        if (go < 0)
            return NULL;
        split_layers(s, 1, call);
    }
}

/* Best nanoseconds per call of the split over `calls` calls of 7 runs, or -1
 * with fewer than two usable CPUs; its outputs must equal predict's bits. */
static double split_ns(const regnn_model *m, const float *x, long calls)
{
    if (cpus[1] < 0)
        return -1.0;
    static split s;
    s.m = m;
    atomic_store(&s.go, 0);
    atomic_store(&s.done[0].mark, 0);
    atomic_store(&s.done[1].mark, 0);
    pthread_t t;
    if (pthread_create(&t, NULL, split_worker, &s) != 0)
        return -1.0;
    pin_to(cpus[0]);
    long call = 0;
    for (long i = 0; i < 1024; i++) {
        s.x = x + i * 10;
        atomic_store_explicit(&s.go, ++call, memory_order_release);
        split_layers(&s, 0, call);
        float y;
        CHECK(regnn_model_predict(m, s.x, 1, &y, 1));
        if (memcmp(&y, s.act[(m->n_layers - 1) & 1], sizeof y) != 0) {
            fprintf(stderr, "bench_predict: the split's output differs from predict's\n");
            exit(1);
        }
    }
    double best = 1e30;
    for (int r = 0; r < 7; r++) {
        const double t0 = bench_now();
        for (long i = 0; i < calls; i++) {
            s.x = x + (i % 1024) * 10;
            atomic_store_explicit(&s.go, ++call, memory_order_release);
            split_layers(&s, 0, call);
        }
        const double t = bench_now() - t0;
        best = t < best ? t : best;
    }
    atomic_store(&s.go, -1);
    pthread_join(t, NULL);
    unpin();
    return best / (double)calls * 1e9;
}

int main(int argc, char **argv)
{
    const long calls = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    const size_t widths[] = {10, 128, 128, 128, 128, 128, 128, 1}, n_w = 8;
    regnn_model *m;
    CHECK(regnn_model_create(widths[0], &m));
    for (size_t i = 1; i < n_w; i++)
        CHECK(regnn_model_add_dense(m, widths[i], i + 1 < n_w ? REGNN_ACT_RELU : REGNN_ACT_LINEAR,
                                    NULL));
    CHECK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 7));
    float x[1024 * 10], y[1], a[128], b[128];
    for (size_t i = 0; i < 1024 * 10; i++)
        x[i] = (float)sin((double)i);
    double best[3] = {1e30, 1e30, 1e30};
    volatile float sink = 0.0f;
    for (int r = 0; r < 7; r++) {
        double t0 = bench_now();
        for (long i = 0; i < calls; i++)
            regnn_model_predict(m, x + (i % 1024) * 10, 1, y, 1);
        double t1 = bench_now();
        for (long i = 0; i < calls; i++) {
            const float *in = x + (i % 1024) * 10;
            for (size_t l = 0; l < m->n_layers; l++) {
                const regnn_layer *ly = m->layers[l];
                float *out = in == a ? b : a;
                rg_sgemv_t(ly->n_in, ly->units, m->params + ly->offset, ly->units, in, out);
                in = out;
            }
            sink += in[0];
        }
        double t2 = bench_now();
        for (long i = 0; i < calls; i++)
            sink += read_weights(m->params, m->n_params);
        double t3 = bench_now(), t[3] = {t1 - t0, t2 - t1, t3 - t2};
        for (int k = 0; k < 3; k++)
            best[k] = t[k] < best[k] ? t[k] : best[k];
    }
    double load[3] = {0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = -1;
        fclose(f);
    }
    printf("study net 10-128x6-1, %zu weights (%.0f KiB), kernel %s, load %.2f %.2f %.2f\n",
           m->n_params, (double)m->n_params * 4 / 1024, rg_gemm_kernel_name(), load[0], load[1],
           load[2]);
    printf("predict, one row:           %7.0f ns\n", best[0] / (double)calls * 1e9);
    printf("its one-row products alone: %7.0f ns\n", best[1] / (double)calls * 1e9);
    printf("reading its weights alone:  %7.0f ns\n", best[2] / (double)calls * 1e9);
    find_cpus();
    const double trip = trip_ns();
    if (trip < 0) {
        printf("two cores by output columns: fewer than two usable CPUs\n");
    } else {
        const size_t trips = m->n_layers; /* the start, and after each layer but the last */
        printf("one trip between two cores: %7.0f ns\n", trip);
        printf("half the read + %zu trips:   %7.0f ns\n", trips,
               best[2] / (double)calls * 1e9 / 2 + (double)trips * trip);
        printf("two cores by output columns: %6.0f ns (a pinned, spinning second thread)\n",
               split_ns(m, x, calls));
    }
    regnn_model_free(m);
    return sink == 12345.0f;
}
