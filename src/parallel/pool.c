/* SPDX-License-Identifier: MIT */
/* A persistent pool of worker threads for one model's training steps. The
 * calling thread publishes a job of n tasks and takes tasks itself; workers
 * claim tasks with one compare-and-swap each. Between jobs a worker spins
 * briefly (the next job of a step follows within microseconds) and then
 * sleeps on a condition variable, so an idle pool burns no CPU. What a task
 * computes never depends on which thread runs it: results are the caller's
 * business (see model.c for the rule that keeps them thread-count free).
 * So a pool of more threads than the process may use CPUs starts only as
 * many threads as it has CPUs: the jobs keep their n_threads-way split (the
 * same bits), and no thread spins for a CPU another of its own holds.
 * A pool for coarse tasks (a whole training run each: the regularization
 * path) starts every thread it is asked for, and its caller may start a job
 * on the workers alone and wait for it later (rg_pool_start, rg_pool_wait). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT_S */
#include "parallel.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#  include <immintrin.h>
#  define rg_pause() _mm_pause()
#  define RG_HAVE_CSR 1
#else
#  define rg_pause() ((void)0)
#endif

/* How long an idle worker spins before it sleeps. */
#define RG_SPIN_NS 100000L

/* Most tasks of one job (larger jobs run on the caller alone). */
#define RG_POOL_TASKS 1024

typedef struct rg_worker {
    struct rg_pool *p;
    size_t id;
} rg_worker;

struct rg_pool {
    size_t n_threads; /* including the caller: the jobs' split */
    size_t active;    /* threads that run tasks, the caller included: min(n_threads, CPUs) */
    pthread_t *th;
    size_t started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct rg_worker *workers; /* their arguments: the pool and a thread index */
    /* A task of job g is free while its stamp is below g; taking it writes g.
     * 64 bits never wrap, so a thread still looking at an older job can never
     * take a task of a newer one. */
    _Atomic uint64_t stamp[RG_POOL_TASKS];
    /* The job word: generation << 16 | task count, read in one load so a
     * thread never pairs one job's generation with another's count. */
    _Atomic uint64_t gen;
    _Atomic size_t done;
    _Atomic int sleepers;
    _Atomic int stop;
    uint64_t gen_count; /* the caller's copy of gen */
    size_t pending;     /* tasks of a job rg_pool_start published, until rg_pool_wait */
    /* Read by a worker only while it holds a task of the current job, and
     * rewritten by the caller only after every task of the job is done. */
    rg_task_fn fn;
    void *ctx;
    /* cppcheck-suppress unusedStructMember ; used where RG_HAVE_CSR (x86) */
    unsigned csr; /* the caller's SSE control word (flush-to-zero, rounding) */
};

#ifdef REGNN_TESTING
/* Test hook: refuse the nth thread creation on this thread (0 = off). */
static _Thread_local long refuse_at, creations;
static int refuse_thread(void) { return refuse_at > 0 && ++creations == refuse_at; }
void regnn__test_pool_refuse_thread(long nth)
{
    refuse_at = nth;
    creations = 0;
}
/* Test hook: the usable CPUs for rg_usable_cpus on this thread (0 = the real count). */
static _Thread_local long usable_override;
void regnn__test_usable_cpus(long n) { usable_override = n; }
#else
#  define refuse_thread() 0
#endif

/* ---- the CPUs this process may use ---- */

size_t rg_cpu_quota_cpus(const char *text)
{
    /* "QUOTA PERIOD" in microseconds, or "max PERIOD" for no limit */
    char *end = NULL, *end2 = NULL;
    if (text[0] < '0' || text[0] > '9')
        return 0;
    const unsigned long long quota = strtoull(text, &end, 10);
    if (*end != ' ' || end[1] < '0' || end[1] > '9')
        return 0;
    const unsigned long long period = strtoull(end + 1, &end2, 10);
    if (quota == 0 || period == 0 || quota == ULLONG_MAX || period == ULLONG_MAX)
        return 0;
    const unsigned long long n = quota / period + (quota % period != 0);
    return n > RG_MAX_THREADS ? RG_MAX_THREADS : (size_t)n;
}

/* CPUs in the affinity mask; 0 if unknown. A stack mask covers 1024 CPUs;
 * beyond that, masks from the allocator. */
static size_t affinity_cpus(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return (size_t)CPU_COUNT(&set);
    int err = errno; /* EINVAL: the kernel's mask is larger */
    for (size_t cpus = 2 * CPU_SETSIZE; err == EINVAL && cpus <= ((size_t)1 << 20); cpus *= 2) {
        const size_t bytes = CPU_ALLOC_SIZE(cpus);
        cpu_set_t *big = rg_malloc(bytes);
        if (!big)
            return 0;
        CPU_ZERO_S(bytes, big);
        const int ok = sched_getaffinity(0, bytes, big) == 0;
        err = errno;
        const size_t n = ok ? (size_t)CPU_COUNT_S(bytes, big) : 0;
        rg_free(big);
        if (ok)
            return n;
    }
    return 0;
}

/* The cgroup v2 CPU limit of this process's cgroup, rounded up; 0 for none. */
static size_t quota_cpus(void)
{
    char buf[64];
    const int fd = open("/sys/fs/cgroup/cpu.max", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    const ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return rg_cpu_quota_cpus(buf);
}

size_t rg_usable_cpus(void)
{
#ifdef REGNN_TESTING
    if (usable_override > 0)
        return (size_t)usable_override;
#endif
    size_t n = affinity_cpus();
    if (n == 0) {
        const long nc = sysconf(_SC_NPROCESSORS_ONLN);
        n = nc > 0 ? (size_t)nc : 1;
    }
    const size_t q = quota_cpus();
    if (q > 0 && q < n)
        n = q;
    return n > 0 ? n : 1;
}

double rg_step_macs(size_t weights, size_t batch) { return 3.0 * (double)weights * (double)batch; }

size_t rg_threads_auto(double step_macs, size_t cpus)
{
    const double by_work = step_macs / RG_AUTO_MACS_PER_THREAD;
    size_t n = by_work < (double)RG_MAX_THREADS ? (size_t)by_work : RG_MAX_THREADS;
    n = n < cpus ? n : cpus;
    return n > 1 ? n : 1;
}

size_t rg_threads_resolve(size_t setting, double step_macs)
{
    const size_t cpus = rg_usable_cpus();
    if (setting == 0)
        return rg_threads_auto(step_macs, cpus);
    const size_t n = setting < cpus ? setting : cpus;
    return n > RG_MAX_THREADS ? RG_MAX_THREADS : n;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int claim(rg_pool *p, size_t t, uint64_t g)
{
    uint64_t v = atomic_load_explicit(&p->stamp[t], memory_order_relaxed);
    while (v < g)
        if (atomic_compare_exchange_weak_explicit(&p->stamp[t], &v, g, memory_order_acq_rel,
                                                  memory_order_relaxed))
            return 1;
    return 0;
}

/* Run tasks of job g: first this thread's own (t = id, id + n, ...), so a
 * thread keeps working on the rows it produced in the job before, then any
 * left (a late or descheduled thread's). A worker takes the caller's
 * floating-point mode first: a caller that flushes subnormals to zero must
 * get the same bits from every thread. */
static void run_tasks(rg_pool *p, uint64_t word, size_t id)
{
    const uint64_t g = word >> 16;
    const size_t n = (size_t)(word & 0xffffu);
    int first = 1;
    for (int pass = 0; pass < 2; pass++) {
        const size_t t0 = pass ? 0 : id, dt = pass ? 1 : p->active;
        for (size_t t = t0; t < n; t += dt) {
            if (atomic_load_explicit(&p->gen, memory_order_acquire) != word)
                return;
            /* Every task below n of an older job is done before a newer job is
             * published, so a late thread finds nothing left to take. */
            if (!claim(p, t, g))
                continue;
#ifdef RG_HAVE_CSR
            if (first && id != 0 && _mm_getcsr() != p->csr)
                _mm_setcsr(p->csr);
#endif
            first = 0;
            p->fn(p->ctx, t);
            atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
        }
    }
    (void)first;
}

/* Wait until the generation differs from seen (or stop); returns it. */
static uint64_t wait_job(rg_pool *p, uint64_t seen)
{
    long long t0 = now_ns();
    unsigned i = 0;
    uint64_t g;
    while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
           !atomic_load_explicit(&p->stop, memory_order_relaxed)) {
        rg_pause();
        if ((++i & 63u) == 0 && now_ns() - t0 > RG_SPIN_NS)
            break;
    }
    if (g != seen)
        return g;
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->sleepers, 1);
    /* seq_cst: either the caller sees this sleeper and signals, or this
     * thread sees the caller's new generation (see rg_pool_run). */
    while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->stop))
        pthread_cond_wait(&p->cv, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *worker(void *arg)
{
    const rg_worker *w = arg;
    rg_pool *p = w->p;
    uint64_t seen = 0;
    for (;;) {
        seen = wait_job(p, seen);
        if (atomic_load(&p->stop))
            return NULL;
        run_tasks(p, seen, w->id);
    }
}

static void wake_all(rg_pool *p)
{
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void rg_pool_free(rg_pool *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, 1);
    wake_all(p);
    for (size_t i = 0; i < p->started; i++)
        pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    rg_free(p->th);
    rg_free(p->workers);
    rg_free(p);
}

/* A pool of n_threads whose first n_active threads (the caller included) run tasks. */
static regnn_status pool_create(size_t n_threads, size_t n_active, rg_pool **out)
{
    *out = NULL;
    rg_pool *p = rg_calloc(1, sizeof *p);
    if (!p)
        return rg_error(REGNN_E_NOMEM, "out of memory for the thread pool");
    p->n_threads = n_threads;
    p->active = n_active;
    p->th = rg_calloc(n_threads - 1, sizeof *p->th);
    p->workers = rg_calloc(n_threads, sizeof *p->workers);
    if (!p->th || !p->workers || pthread_mutex_init(&p->mu, NULL) != 0) {
        rg_free(p->th);
        rg_free(p->workers);
        rg_free(p);
        return rg_error(REGNN_E_NOMEM, "out of memory for the thread pool");
    }
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        rg_free(p->th);
        rg_free(p->workers);
        rg_free(p);
        return rg_error(REGNN_E_NOMEM, "out of memory for the thread pool");
    }
    for (size_t t = 0; t < RG_POOL_TASKS; t++)
        atomic_init(&p->stamp[t], 0);
    atomic_init(&p->gen, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->stop, 0);
    for (size_t i = 0; i + 1 < p->active; i++) {
        p->workers[i + 1].p = p;
        p->workers[i + 1].id = i + 1;
        int err = refuse_thread() ? EAGAIN
                                  : pthread_create(&p->th[i], NULL, worker, &p->workers[i + 1]);
        if (err != 0) {
            char msg[96];
            rg_errno_text(err, msg, sizeof msg);
            const size_t active = p->active;
            rg_pool_free(p);
            return rg_error(REGNN_E_NOMEM, "cannot start thread %zu of %zu for training: %s",
                            i + 2, active, msg);
        }
        p->started++;
    }
    *out = p;
    return REGNN_OK;
}

regnn_status rg_pool_create(size_t n_threads, rg_pool **out)
{
    const size_t cpus = rg_usable_cpus();
    return pool_create(n_threads, n_threads < cpus ? n_threads : cpus, out);
}

regnn_status rg_pool_create_all(size_t n_threads, rg_pool **out)
{
    return pool_create(n_threads, n_threads, out);
}

size_t rg_pool_threads(const rg_pool *p) { return p ? p->n_threads : 1; }

size_t rg_pool_active(const rg_pool *p) { return p ? p->active : 1; }

/* Publish a job of n_tasks (1..RG_POOL_TASKS) on a pool with workers; returns its job word. */
static uint64_t publish(rg_pool *p, rg_task_fn fn, void *ctx, size_t n_tasks)
{
    p->fn = fn;
    p->ctx = ctx;
#ifdef RG_HAVE_CSR
    p->csr = _mm_getcsr();
#endif
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    const uint64_t g = ++p->gen_count;
    const uint64_t word = g << 16 | (uint64_t)n_tasks;
    atomic_store(&p->gen, word);
    if (atomic_load(&p->sleepers) > 0)
        wake_all(p);
    return word;
}

/* A worker still on a task is usually microseconds away; past that (a
 * descheduled or oversubscribed thread) give it the CPU. */
static void wait_done(rg_pool *p, size_t n_tasks)
{
    for (unsigned i = 0; atomic_load_explicit(&p->done, memory_order_acquire) < n_tasks; i++) {
        rg_pause();
        if (i >= 4096)
            sched_yield();
    }
}

void rg_pool_run(rg_pool *p, rg_task_fn fn, void *ctx, size_t n_tasks)
{
    if (!p || p->active < 2 || n_tasks < 2 || n_tasks > RG_POOL_TASKS) {
        for (size_t t = 0; t < n_tasks; t++)
            fn(ctx, t);
        return;
    }
    run_tasks(p, publish(p, fn, ctx, n_tasks), 0);
    wait_done(p, n_tasks);
}

void rg_pool_start(rg_pool *p, rg_task_fn fn, void *ctx, size_t n_tasks)
{
    if (!p || p->active < 2 || n_tasks > RG_POOL_TASKS) {
        for (size_t t = 0; t < n_tasks; t++)
            fn(ctx, t);
        return;
    }
    /* One task is a job too: the workers' second pass takes it. */
    p->pending = n_tasks;
    if (n_tasks)
        publish(p, fn, ctx, n_tasks);
}

void rg_pool_wait(rg_pool *p)
{
    if (!p || !p->pending)
        return;
    wait_done(p, p->pending);
    p->pending = 0;
}
