/* SPDX-License-Identifier: MIT */
/* Private declarations of the parallel layer: the thread pool and the parameter plans of threaded steps.
 * Included only by the files of src/parallel/ and the layers above (docs/architecture.md). */
#ifndef REGNN_PARALLEL_H
#define REGNN_PARALLEL_H

#include "../kernels/kernels.h"

/* ---- thread pool (pool.c) ---- */
#define RG_MAX_THREADS 256
typedef struct rg_pool rg_pool;
typedef void (*rg_task_fn)(void *ctx, size_t task);
/* n_threads >= 2 threads in all, the caller included (n_threads - 1 workers). */
regnn_status rg_pool_create(size_t n_threads, rg_pool **out);
void rg_pool_free(rg_pool *p);
/* Threads in the pool, the caller included; 1 for NULL. Jobs are split for
 * this many, whatever rg_pool_active says. */
size_t rg_pool_threads(const rg_pool *p);
/* Threads that run its tasks, the caller included: rg_pool_threads capped at
 * rg_usable_cpus when the pool started (no spinning for a CPU); 1 for NULL. */
size_t rg_pool_active(const rg_pool *p);
/* The CPUs this process may use: its affinity mask's count (online CPUs if
 * unknown), capped by the cgroup v2 quota in /sys/fs/cgroup/cpu.max rounded
 * up; at least 1. */
size_t rg_usable_cpus(void);
/* CPUs of a cgroup v2 cpu.max text ("QUOTA PERIOD"), rounded up and at most
 * RG_MAX_THREADS; 0 for "max" (no limit) or anything unreadable. */
size_t rg_cpu_quota_cpus(const char *text);
/* The automatic thread count (threads = 0): one thread per
 * RG_AUTO_MACS_PER_THREAD multiply-adds of a training step (forward and
 * backward), at least 1, at most the usable CPUs. Below it a second thread
 * costs more in handing over work and moving weights between cores than it
 * saves. The study net (10-128x6-1) at batch 64 has 16 M: one thread; the
 * wide net (64-512x3-1) at batch 256 has 428 M: every CPU. */
#define RG_AUTO_MACS_PER_THREAD 40e6
/* Multiply-adds of one training step of `batch` rows through dense kernels
 * holding `weights` weights in all: the forward product and the backward
 * pass's two (the inputs' gradient and the kernel's). */
double rg_step_macs(size_t weights, size_t batch);
/* The threads of the automatic rule for a step of step_macs multiply-adds
 * on `cpus` usable CPUs (at most RG_MAX_THREADS). */
size_t rg_threads_auto(double step_macs, size_t cpus);
/* The one resolution of a thread setting: the threads training runs on.
 * 0 is the automatic rule for a step of step_macs multiply-adds
 * (rg_threads_auto); a larger setting than rg_usable_cpus() means
 * rg_usable_cpus(): the bits do not depend on the count, and threads beyond
 * the CPUs would only wait for one. At most RG_MAX_THREADS. */
size_t rg_threads_resolve(size_t setting, double step_macs);
/* Run fn(ctx, t) for t in [0, n_tasks) on the pool and the caller; returns when
 * all are done. NULL pool: on the caller, in order. */
void rg_pool_run(rg_pool *p, rg_task_fn fn, void *ctx, size_t n_tasks);
/* A pool for coarse tasks: like rg_pool_create, but every one of the
 * n_threads - 1 workers is started, even beyond rg_usable_cpus (a task is a
 * whole training run with threads of its own, so none spins for a CPU). */
regnn_status rg_pool_create_all(size_t n_threads, rg_pool **out);
/* Run fn(ctx, t) for t in [0, n_tasks) on the pool's workers only, and return
 * at once, so the caller can do other work meanwhile; rg_pool_wait must
 * follow before the next job or rg_pool_free. A pool without workers (or
 * NULL) runs them on the caller, in order, before returning. */
void rg_pool_start(rg_pool *p, rg_task_fn fn, void *ctx, size_t n_tasks);
/* Return when every task of the job rg_pool_start published is done. It
 * spins (yielding the CPU): call it once the tasks are known to be ending. */
void rg_pool_wait(rg_pool *p);
#ifdef REGNN_TESTING
/* Make the nth thread creation on this thread fail (0 = off). */
void regnn__test_pool_refuse_thread(long nth);
/* rg_usable_cpus on this thread returns n (0 = the real count). */
void regnn__test_usable_cpus(long n);
#endif
/* Which parameters each task of a threaded step owns: task t holds the
 * ranges [seg[2k], seg[2k+1]) for k in [t*per, (t+1)*per); ranges may be
 * empty. The tasks that compute a layer's gradient, add up its shard parts and
 * update it cover the same ranges, so each thread keeps its lines. */
typedef struct rg_plan {
    size_t tasks, per;
    size_t *seg;
} rg_plan;

#endif
