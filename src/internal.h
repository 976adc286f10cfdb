/* SPDX-License-Identifier: MIT */
/* Private declarations shared by the library's source files. Not installed. */
#ifndef REGNN_INTERNAL_H
#define REGNN_INTERNAL_H

#include "regnn.h"

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

/* ---- allocation (src/alloc.c): every allocation goes through these ---- */
void *rg_malloc(size_t size);            /* NULL on failure or size 0 */
void *rg_calloc(size_t n, size_t size);  /* zeroed; NULL on overflow */
void rg_free(void *p);
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
/* Saving (src/io.c), this thread: 1 = act as if O_TMPFILE were unsupported,
 * 2 = as if the unnamed file could not be linked (no /proc), 0 = normal. */
void regnn__test_io_tmpfile(int mode);
/* Age in seconds from which leftover temporary files are removed; -1 = default. */
void regnn__test_io_stale_seconds(long seconds);
#endif

/* ---- files (src/file.c) ---- */
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
/* Replace path with n bytes of data atomically (src/io.c: the old file or the
 * new one, never a mix); a symbolic link is followed and its target
 * replaced; REGNN_E_IO naming fn and path on failure. */
regnn_status rg_write_atomic(const char *fn, const char *path, const uint8_t *data, size_t n);

/* ---- CRC-32 (src/crc32.c): IEEE 802.3 / zlib, crc32("123456789") = 0xCBF43926 ---- */
/* Continue crc (0 to start) over n bytes of data. */
uint32_t rg_crc32(uint32_t crc, const void *data, size_t n);

/* ---- errors (src/error.c) ---- */
/* Record a message for this thread and return status. */
regnn_status rg_error(regnn_status status, const char *fmt, ...) RG_PRINTF(2, 3);
/* Format a double in C-locale syntax ("%.9g"), whatever LC_NUMERIC says. */
void rg_format_double(char *buf, size_t cap, double v);

/* ---- random numbers (src/rng.c): xoshiro256** seeded by splitmix64 ---- */
typedef struct rg_rng {
    uint64_t s[4];
} rg_rng;
void rg_rng_seed(rg_rng *r, uint64_t seed);
uint64_t rg_rng_next(rg_rng *r);
double rg_rng_uniform(rg_rng *r);             /* [0, 1), 53 bits */
uint64_t rg_rng_below(rg_rng *r, uint64_t n); /* unbiased in [0, n), n > 0 */
void rg_rng_permutation(rg_rng *r, size_t *idx, size_t n); /* Fisher-Yates of 0..n-1 */

/* ---- GEMM (src/gemm.c): row-major C = alpha*op(A)*op(B) + beta*C ---- */
void rg_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
              size_t ldc);
/* A product cut into pieces (rectangles of C) that threads compute; bits do
 * not depend on the cut (rule in gemm.c). Fill the first 13 fields, then plan. */
typedef struct rg_gemm {
    int ta, tb;
    size_t m, n, k;
    float alpha;
    const float *a;
    size_t lda;
    const float *b;
    size_t ldb;
    float beta;
    float *c;
    size_t ldc;
    int builtin;         /* the kernel, chosen by the shape */
    size_t pr, pc;       /* pieces along rows and columns of C */
    size_t rstep, cstep; /* rows and columns per piece (the last ones shorter) */
} rg_gemm;
/* Cut for threads (1: as few pieces as the rule allows); rows_only cuts C by rows. */
void rg_gemm_plan(rg_gemm *g, size_t threads, int rows_only);
/* Compute piece p (0 <= p < pr * pc); its rectangle goes to r0..c1 when r0 is not NULL. */
void rg_gemm_piece(const rg_gemm *g, size_t piece, size_t *r0, size_t *r1, size_t *c0, size_t *c1);
/* y = A^T x for row-major A (m x n): one row through a dense layer. */
void rg_sgemv_t(size_t m, size_t n, const float *a, size_t lda, const float *x, float *y);
const char *rg_blas_name(void);
/* Products with m*n*k up to this go to the built-in kernel in every build
 * (gemm.c's shape rule). */
#define RG_SMALL_MNK 4194304.0
/* The built-in GEMM (src/gemm_kernel.c): rg_sgemm of BLAS=builtin builds, also
 * compiled into OpenBLAS builds for tests and benches only. Each element of C
 * is one accumulator over k ascending whatever the blocking, so splitting a
 * product by rows or columns gives the same bits (rule in gemm_kernel.c). */
void rg_sgemm_builtin(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                      const float *a, size_t lda, const float *b, size_t ldb, float beta,
                      float *c, size_t ldc);
/* C = C + op(A)*op(B) where each element's sum runs from +0 over p ascending
 * and is added to C once, for k <= RG_GEMM_ADD_K (per block of RG_GEMM_ADD_K
 * beyond): a product split over p into such calls gives the same bits as
 * computing the parts separately from +0 and adding them in order. */
#define RG_GEMM_ADD_K 128
void rg_sgemm_builtin_add(int trans_a, int trans_b, size_t m, size_t n, size_t k, const float *a,
                          size_t lda, const float *b, size_t ldb, float *c, size_t ldc);
/* rg_sgemv_t of the built-in GEMM: the same bits as the row of a product by
 * rg_sgemm_builtin (one row through a layer = that row of a batch). */
void rg_sgemv_t_builtin(size_t m, size_t n, const float *a, size_t lda, const float *x, float *y);
/* The kernel rg_sgemm_builtin uses on this thread: "avx512-fma", "avx2-fma",
 * "neon-fma" or "portable". */
const char *rg_gemm_kernel_name(void);
/* 1 when that kernel is the AVX-512 one (gemm.c's shape rule). */
int rg_gemm_kernel_wide(void);
/* 1 when every product goes to the built-in kernels (no OpenBLAS, or
 * REGNN_OPENBLAS_LARGE unset, or the AVX-512 kernel): the one arithmetic. */
int rg_gemm_builtin_only(void);
/* 1 when the value of REGNN_OPENBLAS_LARGE opts in to OpenBLAS for large
 * products ("1"), else 0 (NULL: unset). */
int rg_openblas_large_parse(const char *value);
#ifdef REGNN_TESTING
/* This thread's built-in GEMM kernel: 0 = the CPU's best, 1 = portable C,
 * 2 = AVX2+FMA, 3 = AVX-512, 4 = NEON. Returns 0, or -1 (no change) for an
 * unknown kind or a kernel this CPU or build lacks. */
int regnn__test_gemm_kernel(int kind);
/* This thread's REGNN_OPENBLAS_LARGE: 0 or 1 forced, -1 = the environment's. */
void regnn__test_openblas_large(int on);
#endif

/* ---- thread pool (src/pool.c) ---- */
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
/* The one resolution of a thread setting: the threads training runs on.
 * 0 means rg_usable_cpus(), and so does any larger setting: the bits do not
 * depend on the count, and threads beyond the CPUs would only wait for one.
 * At most RG_MAX_THREADS. */
size_t rg_threads_resolve(size_t setting);
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

/* ---- datasets (src/dataset.c) ---- */
struct regnn_dataset {
    size_t rows, n_x, n_y;
    const float *x; /* rows x n_x */
    const float *y; /* rows x n_y */
    float *own_x, *own_y; /* non-NULL when the dataset owns the storage */
    char **x_names, **y_names;
    float *w; /* rows sample weights (owned), or NULL: all 1 */
};
/* Each names array is one block (the pointers, then the strings) released by
 * a single rg_free: create datasets only through rg_dataset_adopt or the
 * regnn_dataset_* calls. */
/* Build a dataset that owns x and y (taken over on success and on failure)
 * and names (copied; NULL = default names). */
regnn_status rg_dataset_adopt(float *x, float *y, size_t rows, size_t n_x, size_t n_y,
                              const char *const *x_names, const char *const *y_names,
                              regnn_dataset **out);
/* 1 if every value is finite. */
int rg_all_finite(const float *v, size_t n);
/* Give dst (same row count) a copy of src's weights, if any; on REGNN_E_NOMEM
 * dst is freed and *dst set to NULL. */
regnn_status rg_dataset_copy_weights(const char *fn, const regnn_dataset *src, regnn_dataset **dst);

/* Numbers in CSV text (src/csv.c). */
enum {
    RG_NUM_OK = 0,
    RG_NUM_EMPTY = 1,     /* no characters */
    RG_NUM_SYNTAX = 2,    /* not a decimal number */
    RG_NUM_NONFINITE = 3, /* "nan", "inf" or "infinity" (any case, optional sign) */
    RG_NUM_RANGE = 4      /* magnitude rounds past FLT_MAX */
};
/* Parse exactly s[0..n) as a C-locale decimal number, correctly rounded to
 * the nearest float (ties to even), whatever LC_NUMERIC says. No surrounding
 * spaces are allowed. *out is written only on RG_NUM_OK. */
int rg_parse_float(const char *s, size_t n, float *out);

/* ---- scaler (src/scaler.c) ---- */
struct regnn_scaler {
    size_t n_x, n_y;
    double *x_mean, *x_scale, *y_mean, *y_scale;
};
/* Deep copy (src/scaler_io.c); NULL when out of memory. */
regnn_scaler *rg_scaler_copy(const regnn_scaler *sc);

/* ---- losses (src/loss.c) ---- */
/* "mse", "mae", "huber", "log_cosh"; NULL if unknown. */
const char *rg_loss_name(int kind);
/* Elementwise loss of residual d = prediction - target. */
double rg_loss_value(int kind, double param, double d);
/* Training step: residuals out - y in float (rows x n_out), weights w (NULL
 * = all 1). delta receives d batch loss / d out; returns the batch loss
 * sum_i w_i loss_i / rows; *mse, *mae the same reduction of squared and
 * absolute errors. */
/* rg_loss_delta over rows of a batch of total_rows (the gradient's scale):
 * the weighted sums of loss, squared and absolute errors from 0 in row order. */
void rg_loss_delta_part(int kind, double param, const float *out, const float *y, const float *w,
                        size_t rows, size_t n_out, size_t total_rows, float *delta, double sums[3]);
double rg_loss_delta(int kind, double param, const float *out, const float *y, const float *w,
                     size_t rows, size_t n_out, float *delta, double *mse, double *mae);
/* Evaluation sums over elements (residuals in double): loss, se and ae are
 * sums of w_i * elementwise value, w the sum of the row weights. */
typedef struct rg_loss_sums {
    double loss, se, ae, w;
} rg_loss_sums;
void rg_loss_accumulate(int kind, double param, const float *out, const float *y, const float *w,
                        size_t rows, size_t n_out, rg_loss_sums *s);
/* 1 if every weight is finite and >= 0; else 0 and *bad = first bad index. */
int rg_weights_check(const float *w, size_t n, size_t *bad);

/* ---- model (src/model.c, src/dense.c) ---- */
typedef struct rg_layer_ws {
    float *act;  /* batch x units: output after activation (before dropout) */
    float *out;  /* batch x units: after dropout (== act when no dropout) */
    float *mask; /* batch x units: dropout multipliers, or NULL */
    float *delta;/* batch x units: d loss / d pre-activation */
} rg_layer_ws;

struct regnn_layer {
    struct regnn_model *model;
    size_t index;
    size_t n_in, units;
    int act;
    double l2, l1, dropout;
    size_t offset; /* kernel start in model->params; bias follows at offset + n_in*units */
};

struct regnn_model {
    size_t n_in;
    size_t n_layers, cap_layers;
    struct regnn_layer **layers;
    size_t n_params;
    float *params; /* all parameters, contiguous */
    float *grads;  /* same layout */
    float *params_next; /* regnn_train_batch's out-of-place step writes here, then swaps */
    uint32_t params_max; /* largest |parameter| (float bits) the last step wrote ... */
    int params_max_known; /* ... valid only while set: any other write clears it */
    int initialized;
    int busy; /* inside regnn_fit: calls that would reallocate the workspace are refused */
    rg_rng rng;
    /* training workspace, sized for ws_batch rows */
    size_t ws_batch;
    rg_layer_ws *ws;
    float *ws_dx; /* batch x widest layer input: gradient w.r.t. a layer's input */
    double *ws_pen; /* one penalty partial sum per kernel row, all layers */
    float *ws_shard; /* shard gradients of a sharded step on threads, each n_params */
    size_t ws_shards; /* how many ws_shard holds */
    rg_plan own;      /* the threads' parameter ranges by layer rows (threads >= 2) */
    rg_plan flat;     /* the same in contiguous chunks, for sharded steps */
    const rg_plan *plan; /* the one the last step used, for the optimizer */
    size_t threads; /* regnn_model_set_threads: 0 = one per usable CPU */
    size_t threads_resolved; /* threads with 0 resolved at the first training call; 0 = not yet */
    rg_pool *pool;  /* started by rg_model_reserve when threads resolve to 2 or more */
    regnn_scaler *scaler; /* attached statistics (owned, saved with the model), or NULL */
    int loss;          /* REGNN_LOSS_* */
    double loss_param; /* Huber delta, else 0 */
};

/* Dense kernels (src/dense.c) */
/* out = act(in * W + b), one fused pass after each piece of the GEMM. */
void rg_dense_forward(const struct regnn_layer *l, const float *params, const float *in,
                      size_t rows, float *out);
/* The product in * W of a layer, unplanned (rg_gemm_plan next). */
void rg_dense_gemm(rg_gemm *g, const struct regnn_layer *l, const float *params, const float *in,
                   size_t rows, float *out);
/* out += bias, then the activation, on rows [r0, r1) x columns [c0, c1) of out. */
void rg_dense_bias_act(const struct regnn_layer *l, const float *params, float *out, size_t r0,
                       size_t r1, size_t c0, size_t c1);
/* In place: delta *= act'(a) where a = act(z). */
void rg_dense_act_backward(int act, const float *a, float *delta, size_t n);
/* Kernel penalty L2*sum(w^2) + L1*sum|w| of one layer. */
double rg_dense_penalty(const struct regnn_layer *l, const float *params);
const char *rg_act_name(int act);

/* Model internals (src/model.c) */
regnn_status rg_model_check_ready(const regnn_model *m); /* layers and initialized */
/* The threads' parameter ranges for the optimizer, or NULL (one thread). */
const rg_plan *rg_model_plan(const regnn_model *m);
/* Make the training workspace hold batch rows; allocates only when it grows. */
regnn_status rg_model_reserve(regnn_model *m, size_t batch);
/* The buffer regnn_train_batch's out-of-place step writes (m->params_next). */
regnn_status rg_model_reserve_next(regnn_model *m);
/* Free the workspace and m->params_next. */
void rg_model_drop_workspace(regnn_model *m);
/* Forward (training mode when train != 0: dropout on) + MSE/MAE + backward
 * into m->grads (penalty gradient included). Returns data mse, mae and penalty. */
/* The gradient of `rows` rows of a batch of total_rows (the loss's scale)
 * into m->grads, with the penalty gradient if `penalty` (its value into
 * *pen), and the loss sums (loss, squared and absolute errors) from 0 in the
 * step's order: a part of a data-parallel step. Without the penalty,
 * rg_model_add_penalty then adds it as a sharded step does (last) and returns
 * the penalty. */
void rg_model_step_sums(regnn_model *m, const float *x, const float *y, const float *wt,
                        size_t rows, size_t total_rows, int train, int penalty, double sums[3],
                        double *pen);
double rg_model_add_penalty(regnn_model *m);
/* The shards of a step of `rows` rows (model.c): their count, and their
 * bounds into bounds[0..count] if bounds is not NULL (at most 5 values). */
size_t rg_model_shards(const regnn_model *m, size_t rows, size_t *bounds);
regnn_status rg_model_step_grads(regnn_model *m, const float *x, const float *y, size_t rows,
                                 int train, double *mse, double *mae, double *penalty);
/* The same with sample weights w (NULL = all 1) and the model's loss: *loss
 * receives the data loss (penalty excluded). */
regnn_status rg_model_step_grads_w(regnn_model *m, const float *x, const float *y,
                                   const float *w, size_t rows, int train, double *loss,
                                   double *mse, double *mae, double *penalty);
/* rg_model_step_grads_w (train, the model's loss) whose tasks also run upd,
 * an update begun in place (rg_optimizer_update_begin), when they own the
 * ranges they finish: returns 1 when they ran it (then the loss and penalty
 * are those before the update), 0 when the caller updates. */
struct rg_update;
int rg_model_step_update(regnn_model *m, const float *x, const float *y, const float *w,
                         size_t rows, double *loss, double *mse, double *mae, double *penalty,
                         struct rg_update *upd);
double rg_model_penalty(const regnn_model *m);
/* mse/mae of rows, concurrency-safe without a pool (fit passes the model's
 * pool: the same bits, on its threads). scratch (may be NULL) holds
 * 2 * scratch_rows * rg_model_max_width(m) floats; without it, small models use
 * the stack and wide ones allocate per call. */
regnn_status rg_model_eval_rows(const regnn_model *m, const float *x, const float *y, size_t rows,
                                double *mse, double *mae, float *scratch, size_t scratch_rows,
                                rg_pool *pool);
/* Weighted evaluation (w NULL = all 1) into sums (zeroed first); pool as
 * rg_model_eval_rows. */
regnn_status rg_model_eval_sums(const regnn_model *m, const float *x, const float *y,
                                const float *w, size_t rows, rg_loss_sums *sums, float *scratch,
                                size_t scratch_rows, rg_pool *pool);
size_t rg_model_max_width(const regnn_model *m);
/* Threads a fit of m runs on: its setting, with 0 resolved (rg_threads_resolve). */
size_t rg_model_resolved_threads(const regnn_model *m);

/* ---- learning-rate schedules (src/schedule.c) ---- */
typedef struct rg_schedule {
    int kind;  /* REGNN_SCHEDULE_* */
    size_t n;  /* parameters, as given to regnn_optimizer_set_schedule */
    double *p; /* owned; NULL when n == 0 */
} rg_schedule;
#define RG_SCHEDULE_MAX_BOUNDARIES 65536
/* The learning rate at 0-based step `step` (the step count before the
 * update, as Keras passes optimizer.iterations); base_lr without a schedule. */
double rg_schedule_lr(const rg_schedule *s, uint64_t step, double base_lr);
/* Why parameters are refused, or NULL. They come as doubles p or, from a
 * file, as n little-endian binary64 in le (the other pointer NULL). wd > 0:
 * the largest learning rate times wd must be <= 1. */
const char *rg_schedule_check(int kind, const double *p, const unsigned char *le, size_t n,
                              double wd, char *buf, size_t len);
/* The largest learning rate of valid parameters (base_lr for CONSTANT). */
double rg_schedule_peak(int kind, const double *p, const unsigned char *le, size_t n,
                        double base_lr);

/* ---- optimizer (src/optimizer.c) ---- */
struct regnn_optimizer {
    int kind;
    double lr, beta1, beta2, eps, wd, momentum;
    int nesterov;
    uint64_t steps;
    size_t n;     /* bound parameter count; 0 = unbound */
    float *m, *v; /* Adam moments, or SGD velocity in m */
    float *m2, *v2; /* spares rg_optimizer_step_into writes; swapped in when it succeeds */
    uint32_t m_max, v_max; /* largest |m|, |v| (float bits) the last step wrote ... */
    int bounds_known;      /* ... valid only while set: any other write clears it */
    int busy;     /* inside regnn_fit: reset (which frees the moments) is refused */
    rg_schedule sched; /* learning-rate schedule; kind CONSTANT = lr every step */
    double lr_now;     /* the learning rate of the last step (lr before any) */
};
/* Bind to n parameters if unbound (allocates), else check n matches. */
regnn_status rg_optimizer_bind(regnn_optimizer *o, size_t n);
/* Free the state and zero the step count. */
void rg_optimizer_unbind(regnn_optimizer *o);
/* One update of parameters p with gradients g, in place: returns 1 when every
 * new parameter and state value is finite; 0 otherwise, and then p and the
 * state hold the non-finite step (the caller restores them). *p_max receives
 * the largest |parameter| written (as float bits). No allocation. */
/* Parameters per task of an update on `threads` threads: the pool's task t
 * updates [t*chunk, (t+1)*chunk). */
size_t rg_optimizer_chunk(size_t n, size_t threads);
/* With a plan (rg_plan, model.c) instead, task t updates the plan's ranges of
 * task t: the parameters whose gradient the same thread computed. */
int rg_optimizer_step_inplace(regnn_optimizer *o, float *p, const float *g, size_t n,
                              uint32_t *p_max, rg_pool *pool, const rg_plan *plan);
/* The same update written to p_out and the spare state buffers (see
 * rg_optimizer_reserve_spares): on success the state is swapped in and 1 is
 * returned; a non-finite step returns 0 and leaves the optimizer unchanged. */
int rg_optimizer_step_into(regnn_optimizer *o, const float *p, float *p_out, const float *g,
                           size_t n, uint32_t *p_max, rg_pool *pool, const rg_plan *plan);
/* An in-place update run by another job's tasks (model.c runs it inside the
 * step, on the ranges whose gradient each task just finished):
 * rg_optimizer_update_begin; rg_optimizer_update_plan (the plan and its task
 * count); then every range of the plan exactly once, each after its gradient
 * is final and when nothing else of the step reads its parameters: task t's
 * all at once (rg_optimizer_update_task) or piece by piece
 * (rg_optimizer_update_range, by task t); rg_optimizer_update_end finishes
 * the step as rg_optimizer_step_inplace does. Same bits as
 * rg_optimizer_step_inplace. */
typedef struct rg_step_k {
    float alpha, c1, c2, eps; /* Adam */
    float lr, mu;             /* SGD */
    float f;                  /* decoupled decay: lr * wd */
    int decay, nesterov;
} rg_step_k;
typedef struct rg_update {
    const regnn_optimizer *o;
    rg_step_k k;
    float *p;          /* in place */
    const float *pin;  /* out of place: read from pin, written to out */
    float *out;
    const float *g;
    size_t n, chunk;
    const rg_plan *plan; /* or chunks */
    size_t tasks;
    uint32_t mx[RG_MAX_THREADS][3];
} rg_update;
void rg_optimizer_update_begin(const regnn_optimizer *o, rg_update *u, float *p, const float *g,
                               size_t n);
void rg_optimizer_update_plan(rg_update *u, const rg_plan *plan, size_t tasks);
void rg_optimizer_update_task(rg_update *u, size_t t);
void rg_optimizer_update_range(rg_update *u, size_t t, size_t i0, size_t len);
int rg_optimizer_update_end(regnn_optimizer *o, rg_update *u, uint32_t *p_max);
/* 1 when the next update of parameters whose largest |value| is p_max (float
 * bits, as the steps report it) with gradients g is certain to stay finite, so
 * that it can run in place; reads g once. */
int rg_optimizer_step_is_safe(const regnn_optimizer *o, uint32_t p_max, const float *g, size_t n);
/* Allocate the spare state buffers of rg_optimizer_step_into (bound optimizer). */
regnn_status rg_optimizer_reserve_spares(regnn_optimizer *o);
/* The first setting out of range (as the setters judge it) as a message, or NULL. */
const char *rg_optimizer_check(const regnn_optimizer *o, char *buf, size_t len);
/* Largest step count: Adam's bias correction uses it as an exact double. */
#define RG_MAX_STEPS ((uint64_t)1 << 53)

/* ---- fit options and history (src/fit.c, src/history.c) ---- */
struct regnn_fit_options {
    int64_t epochs, batch_size, shuffle, early_stopping, patience, restore_best, monitor,
        eval_train;
    double validation_split, min_delta;
    int64_t reduce_lr, reduce_lr_patience, reduce_lr_cooldown; /* ReduceLROnPlateau */
    double reduce_lr_factor, reduce_lr_min_delta, reduce_lr_min_lr;
    regnn_epoch_fn callback;
    void *callback_user;
    int64_t shard_index, shard_count; /* rows of each batch this process computes */
    regnn_exchange_fn exchange;       /* NULL: one process */
    void *exchange_user;
};

/* The first validation row of a REGNN_FIT_VALIDATION_SPLIT tail split of rows
 * (Keras's validation_split): rows before it train, the rest validate. */
static inline size_t rg_tail_split_at(size_t rows, double split)
{
    return (size_t)floor((double)rows * (1.0 - split));
}

#define RG_N_METRICS 10
struct regnn_history {
    size_t epochs, cap;
    double *v[RG_N_METRICS]; /* indexed by REGNN_METRIC_* - 1 */
    size_t best_epoch;
    int has_best;
    int stop_reason;
};
/* ---- regularization path (src/path.c, src/path_io.c) ---- */
#define RG_RUN_N 12 /* REGNN_RUN_* keys 1..12 */
struct regnn_path {
    size_t n_lambdas, n_seeds;
    double *lambdas;
    uint64_t seed;
    double baseline;
    size_t shard_index, shard_count; /* runs r with r % count == index are present */
    /* Only the present runs are stored, run r at slot r / shard_count, so a
     * shard's memory follows its own runs, not the whole sweep's. */
    regnn_history **hist; /* per present run */
    double *runv;         /* per present run, RG_RUN_N values indexed by REGNN_RUN_* - 1 */
    /* k-fold cross-validation (n_folds >= 2); else n_folds is 1 and the rest NULL/0 */
    size_t n_folds, n_rows;
    size_t *fold_of;    /* per training row: its fold */
    size_t *fold_rows;  /* per fold: held-out rows */
    double *fold_base;  /* per fold: baseline MSE on its held-out rows */
};

/* The number of runs r < runs with r % count == index. */
static inline size_t rg_path_held(size_t runs, size_t index, size_t count)
{
    return runs > index ? (runs - index - 1) / count + 1 : 0;
}
/* Whether run r is present in p (one of its shard's runs). */
static inline int rg_path_has(const regnn_path *p, size_t r) { return r % p->shard_count == p->shard_index; }
/* Where a present run r is kept: p->hist[slot], p->runv[slot * RG_RUN_N ...]. */
static inline size_t rg_path_slot(const regnn_path *p, size_t r) { return r / p->shard_count; }
/* Runs of the whole sweep, numbered lambda-major, then fold, then seed:
 * r = (lambda index * folds + fold) * seeds + seed index. */
static inline size_t rg_path_runs(const regnn_path *p) { return p->n_lambdas * p->n_folds * p->n_seeds; }
static inline size_t rg_path_run_lambda(const regnn_path *p, size_t r) { return r / (p->n_folds * p->n_seeds); }
static inline size_t rg_path_run_fold(const regnn_path *p, size_t r) { return (r / p->n_seeds) % p->n_folds; }
static inline size_t rg_path_run_seed(const regnn_path *p, size_t r) { return r % p->n_seeds; }
/* Whether lambda is a penalty a path takes: finite and >= 0. */
static inline int rg_path_lambda_ok(double lambda) { return lambda >= 0.0 && !isinf(lambda); }
/* An empty path of the given size holding the runs of one shard (lambdas,
 * seed, baseline and folds not yet filled in; src/path_io.c); NULL when out
 * of memory. Memory follows the runs held, not the sweep's size. */
regnn_path *rg_path_new(size_t n_lambdas, size_t n_seeds, size_t n_folds, size_t shard_index,
                        size_t shard_count);

/* An empty history with room for min(cap, RG_HISTORY_FIRST) epochs. */
regnn_status rg_history_create(size_t cap, regnn_history **out);
#define RG_HISTORY_FIRST 64
/* Append one epoch (metrics indexed by REGNN_METRIC_* - 1). Allocates only when
 * full (doubling); REGNN_E_NOMEM leaves the history unchanged. */
regnn_status rg_history_push(regnn_history *h, const double *metrics);

/* ReduceLROnPlateau state of one fit (src/schedule.c). */
typedef struct rg_plateau {
    double factor, min_delta, min_lr, best;
    int64_t patience, cooldown, wait, cooldown_counter;
} rg_plateau;
/* Keras's on_train_begin: settings from opts, best = +inf, counters 0. */
void rg_plateau_start(rg_plateau *pl, const regnn_fit_options *opts);
/* Keras's on_epoch_end (mode 'min') on the monitored value; returns 1 when
 * it lowered *lr. */
int rg_plateau_update(rg_plateau *pl, double current, double *lr);

/* ---- option limits and the options table (src/options.c) ---- */
#define RG_MAX_EPOCHS 100000000
#define RG_MAX_BATCH ((size_t)1 << 20) /* keeps rows x width inside a 32-bit BLAS int */
#define RG_MAX_SHARDS 65536
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

/* ---- the settings that change a fit's result (src/settings.c) ---- */
typedef struct rg_fit_setup {
    const regnn_model *m;
    const regnn_optimizer *o;
    const regnn_dataset *train, *val; /* val may be NULL */
    const regnn_fit_options *opts;
    const regnn_path_options *po; /* a path's runs; NULL: one fit */
} rg_fit_setup;
#define RG_SETTINGS_COUNT 53
#define RG_SETTINGS_HASH_MASK ((1ULL << 48) - 1) /* hashes are 48-bit */
/* Entry i's name ("optimizer.learning_rate"), NULL past the table. */
const char *rg_settings_name(size_t i);
/* One hash per entry of the table, in table order. */
void rg_settings_fingerprint(const rg_fit_setup *s, uint64_t out[RG_SETTINGS_COUNT]);

/* A path's test data (NULL: none), lambdas and penalized layers (none: all), from path.c. */
const regnn_dataset *rg_path_options_test(const regnn_path_options *opts);
const double *rg_path_options_lambdas(const regnn_path_options *opts, size_t *n);
const size_t *rg_path_options_layers(const regnn_path_options *opts, size_t *n);

/* ---- the start of a data-parallel fit (src/dp_sync.c) ---- */
/* Collective over opts's exchange: st is this process's status (REGNN_OK =
 * ready to train, s its settings; else regnn_errmsg() says why, s unused).
 * REGNN_OK when every process is ready and their settings agree; a failing
 * process keeps its status and message; the others fail naming the lowest
 * failing rank and its message (REGNN_E_STATE), or the first differing
 * setting and rank (REGNN_E_INVALID_ARG). */
regnn_status rg_dp_start(const regnn_fit_options *opts, regnn_status st, const rg_fit_setup *s);
#define RG_DP_MIN_ROUNDS 6 /* exchange calls of one minimum over the processes */
/* Exchange calls of rg_dp_start when every process is ready and agrees. */
#define RG_DP_START_CALLS (1 + (RG_SETTINGS_COUNT + 7) / 8 + RG_DP_MIN_ROUNDS)

#endif
