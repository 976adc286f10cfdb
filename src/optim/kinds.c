/* SPDX-License-Identifier: MIT */
/* The kinds of optimizer, one table entry each (the options table holds their
 * keys, ranges and defaults): the constants of a step, the per-parameter
 * update in Keras's form and its loops, and when a step is certain to stay
 * finite. Formulas: docs/api.md. A new optimizer is an entry, its element
 * function and loops here, and its REGNN_OPTION_* group in src/base/options.c. */
#include "optim.h"

#include <float.h>
#include <math.h>

typedef rg_step_k step_k;

typedef struct step_val {
    float p, m, v;
} step_val;

/* Decoupled decay (AdamW / Keras weight_decay) before the gradient step. */
static inline float decayed(float p, const step_k *k) { return k->decay ? p - p * k->f : p; }

/* One parameter's update, written once for the in-place and the out-of-place
 * loops: both do the same IEEE operations in the same order (no FMA
 * contraction), so they and the SIMD clones give the same bits. */
static inline step_val adam_elem(float p, float g, float m, float v, const step_k *k)
{
    if (k->decay)
        p -= p * k->f;
    step_val r;
    r.m = m + (g - m) * k->c1;
    r.v = v + (g * g - v) * k->c2;
    r.p = p - k->alpha * r.m / (sqrtf(r.v) + k->eps);
    return r;
}

static inline step_val sgd_elem(float p, float g, float vel, const step_k *k)
{
    if (k->decay)
        p -= p * k->f;
    step_val r;
    /* Keras: v = mu*v - lr*g; p += v, or p += mu*v - lr*g with Nesterov. */
    r.m = k->mu * vel - k->lr * g;
    r.p = p + (k->nesterov ? k->mu * r.m - k->lr * g : r.m);
    r.v = 0.0f;
    return r;
}

static inline step_val plain_elem(float p, float g, const step_k *k)
{
    if (k->decay)
        p -= p * k->f;
    step_val r = {p - k->lr * g, 0.0f, 0.0f};
    return r;
}

static inline step_val rmsprop_elem(float p, float g, float ms, float unused, const step_k *k)
{
    (void)unused;
    p = decayed(p, k);
    step_val r;
    r.m = k->rho * ms + k->c * (g * g);
    r.p = p - k->lr * g / sqrtf(r.m + k->eps);
    r.v = 0.0f;
    return r;
}

static inline step_val adagrad_elem(float p, float g, float acc, float unused, const step_k *k)
{
    (void)unused;
    p = decayed(p, k);
    step_val r;
    r.m = acc + g * g;
    r.p = p - k->lr * g / sqrtf(r.m + k->eps);
    r.v = 0.0f;
    return r;
}

static inline step_val adamax_elem(float p, float g, float m, float u, const step_k *k)
{
    p = decayed(p, k);
    step_val r;
    r.m = m + (g - m) * k->c1;
    const float bu = k->b2 * u, ag = fabsf(g);
    r.v = bu >= ag ? bu : ag; /* a NaN gradient stays NaN */
    r.p = p - k->alpha * r.m / (r.v + k->eps);
    return r;
}

static inline step_val nadam_elem(float p, float g, float m, float v, const step_k *k)
{
    p = decayed(p, k);
    step_val r;
    r.m = m + (g - m) * k->c1;
    r.v = v + (g * g - v) * k->c2;
    const float m_hat = k->a1 * r.m + k->a2 * g;
    r.p = p - k->lr * m_hat / (sqrtf(r.v / k->bc2) + k->eps);
    return r;
}

/* The Adam loops are the largest cost outside GEMM; on x86-64 they get AVX2
 * clones chosen at load time. mx receives the maxima of |p|, |m|, |v| written. */
RG_SIMD_CLONES
static void adam_inplace(float *restrict p, const float *restrict g, float *restrict m,
                         float *restrict v, size_t n, step_k k, uint32_t *restrict mx)
{
    uint32_t a = 0, b = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        step_val r = adam_elem(p[i], g[i], m[i], v[i], &k);
        p[i] = r.p;
        m[i] = r.m;
        v[i] = r.v;
        a = rg_max_u32(a, rg_abs_bits(r.p));
        b = rg_max_u32(b, rg_abs_bits(r.m));
        c = rg_max_u32(c, rg_abs_bits(r.v));
    }
    mx[0] = a;
    mx[1] = b;
    mx[2] = c;
}

RG_SIMD_CLONES
static void adam_into(const float *restrict p, float *restrict po, const float *restrict g,
                      const float *restrict m, float *restrict mo, const float *restrict v,
                      float *restrict vo, size_t n, step_k k, uint32_t *restrict mx)
{
    uint32_t a = 0, b = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        step_val r = adam_elem(p[i], g[i], m[i], v[i], &k);
        po[i] = r.p;
        mo[i] = r.m;
        vo[i] = r.v;
        a = rg_max_u32(a, rg_abs_bits(r.p));
        b = rg_max_u32(b, rg_abs_bits(r.m));
        c = rg_max_u32(c, rg_abs_bits(r.v));
    }
    mx[0] = a;
    mx[1] = b;
    mx[2] = c;
}

static void sgd_momentum_inplace(float *restrict p, const float *restrict g,
                                 float *restrict vel, size_t n, step_k k, uint32_t *restrict mx)
{
    uint32_t a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        step_val r = sgd_elem(p[i], g[i], vel[i], &k);
        p[i] = r.p;
        vel[i] = r.m;
        a = rg_max_u32(a, rg_abs_bits(r.p));
        b = rg_max_u32(b, rg_abs_bits(r.m));
    }
    mx[0] = a;
    mx[1] = b;
}

static void sgd_momentum_into(const float *restrict p, float *restrict po,
                              const float *restrict g, const float *restrict vel,
                              float *restrict vo, size_t n, step_k k, uint32_t *restrict mx)
{
    uint32_t a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        step_val r = sgd_elem(p[i], g[i], vel[i], &k);
        po[i] = r.p;
        vo[i] = r.m;
        a = rg_max_u32(a, rg_abs_bits(r.p));
        b = rg_max_u32(b, rg_abs_bits(r.m));
    }
    mx[0] = a;
    mx[1] = b;
}

static void plain_inplace(float *restrict p, const float *restrict g, size_t n, step_k k,
                          uint32_t *restrict mx)
{
    uint32_t a = 0;
    for (size_t i = 0; i < n; i++) {
        p[i] = plain_elem(p[i], g[i], &k).p;
        a = rg_max_u32(a, rg_abs_bits(p[i]));
    }
    mx[0] = a;
}

static void plain_into(const float *restrict p, float *restrict po, const float *restrict g,
                       size_t n, step_k k, uint32_t *restrict mx)
{
    uint32_t a = 0;
    for (size_t i = 0; i < n; i++) {
        po[i] = plain_elem(p[i], g[i], &k).p;
        a = rg_max_u32(a, rg_abs_bits(po[i]));
    }
    mx[0] = a;
}

/* SGD has state only with momentum (k.stateful). */
static void sgd_inplace(float *restrict p, const float *restrict g, float *restrict vel,
                        float *restrict unused, size_t n, step_k k, uint32_t *restrict mx)
{
    (void)unused;
    if (k.stateful)
        sgd_momentum_inplace(p, g, vel, n, k, mx);
    else
        plain_inplace(p, g, n, k, mx);
}

static void sgd_into(const float *restrict p, float *restrict po, const float *restrict g,
                     const float *restrict vel, float *restrict vo, const float *restrict u1,
                     float *restrict u2, size_t n, step_k k, uint32_t *restrict mx)
{
    (void)u1;
    (void)u2;
    if (k.stateful)
        sgd_momentum_into(p, po, g, vel, vo, n, k, mx);
    else
        plain_into(p, po, g, n, k, mx);
}

/* The loops of a kind with one state buffer (s1 unused) and of one with two,
 * from its element function. */
#define LOOPS_1(name, elem)                                                                    \
    static void name##_inplace(float *restrict p, const float *restrict g, float *restrict s, \
                               float *restrict unused, size_t n, step_k k,                   \
                               uint32_t *restrict mx)                                        \
    {                                                                                         \
        (void)unused;                                                                         \
        uint32_t a = 0, b = 0;                                                                \
        for (size_t i = 0; i < n; i++) {                                                      \
            step_val r = elem(p[i], g[i], s[i], 0.0f, &k);                                    \
            p[i] = r.p;                                                                       \
            s[i] = r.m;                                                                       \
            a = rg_max_u32(a, rg_abs_bits(r.p));                                              \
            b = rg_max_u32(b, rg_abs_bits(r.m));                                              \
        }                                                                                     \
        mx[0] = a;                                                                            \
        mx[1] = b;                                                                            \
    }                                                                                         \
    static void name##_into(const float *restrict p, float *restrict po,                     \
                            const float *restrict g, const float *restrict s,                \
                            float *restrict so, const float *restrict u1, float *restrict u2, \
                            size_t n, step_k k, uint32_t *restrict mx)                       \
    {                                                                                         \
        (void)u1;                                                                             \
        (void)u2;                                                                             \
        uint32_t a = 0, b = 0;                                                                \
        for (size_t i = 0; i < n; i++) {                                                      \
            step_val r = elem(p[i], g[i], s[i], 0.0f, &k);                                    \
            po[i] = r.p;                                                                      \
            so[i] = r.m;                                                                      \
            a = rg_max_u32(a, rg_abs_bits(r.p));                                              \
            b = rg_max_u32(b, rg_abs_bits(r.m));                                              \
        }                                                                                     \
        mx[0] = a;                                                                            \
        mx[1] = b;                                                                            \
    }

#define LOOPS_2(name, elem)                                                                   \
    static void name##_inplace(float *restrict p, const float *restrict g, float *restrict m, \
                               float *restrict v, size_t n, step_k k, uint32_t *restrict mx) \
    {                                                                                         \
        uint32_t a = 0, b = 0, c = 0;                                                         \
        for (size_t i = 0; i < n; i++) {                                                      \
            step_val r = elem(p[i], g[i], m[i], v[i], &k);                                    \
            p[i] = r.p;                                                                       \
            m[i] = r.m;                                                                       \
            v[i] = r.v;                                                                       \
            a = rg_max_u32(a, rg_abs_bits(r.p));                                              \
            b = rg_max_u32(b, rg_abs_bits(r.m));                                              \
            c = rg_max_u32(c, rg_abs_bits(r.v));                                              \
        }                                                                                     \
        mx[0] = a;                                                                            \
        mx[1] = b;                                                                            \
        mx[2] = c;                                                                            \
    }                                                                                         \
    static void name##_into(const float *restrict p, float *restrict po,                     \
                            const float *restrict g, const float *restrict m,                \
                            float *restrict mo, const float *restrict v, float *restrict vo, \
                            size_t n, step_k k, uint32_t *restrict mx)                       \
    {                                                                                         \
        uint32_t a = 0, b = 0, c = 0;                                                         \
        for (size_t i = 0; i < n; i++) {                                                      \
            step_val r = elem(p[i], g[i], m[i], v[i], &k);                                    \
            po[i] = r.p;                                                                      \
            mo[i] = r.m;                                                                      \
            vo[i] = r.v;                                                                      \
            a = rg_max_u32(a, rg_abs_bits(r.p));                                              \
            b = rg_max_u32(b, rg_abs_bits(r.m));                                              \
            c = rg_max_u32(c, rg_abs_bits(r.v));                                              \
        }                                                                                     \
        mx[0] = a;                                                                            \
        mx[1] = b;                                                                            \
        mx[2] = c;                                                                            \
    }

LOOPS_1(rmsprop, rmsprop_elem)
LOOPS_1(adagrad, adagrad_elem)
LOOPS_2(adamax, adamax_elem)
LOOPS_2(nadam, nadam_elem)

/* ---- the constants of step t (Keras evaluates them at iterations + 1 = t) ---- */

static void adam_constants(const rg_optimizer_settings *s, double lr, uint64_t t, step_k *k)
{
    /* Keras: alpha = lr * sqrt(1 - b2^t) / (1 - b1^t); p -= alpha * m / (sqrt(v) + eps). */
    const double bc1 = 1.0 - pow(s->beta1, (double)t), bc2 = 1.0 - pow(s->beta2, (double)t);
    k->alpha = (float)(lr * sqrt(bc2) / bc1);
    k->c1 = (float)(1.0 - s->beta1);
    k->c2 = (float)(1.0 - s->beta2);
    k->eps = (float)s->eps;
    k->stateful = 1;
}

static void sgd_constants(const rg_optimizer_settings *s, double lr, uint64_t t, step_k *k)
{
    (void)t;
    k->lr = (float)lr;
    k->mu = (float)s->momentum;
    k->nesterov = s->nesterov;
    k->stateful = s->momentum > 0.0;
}

static void rmsprop_constants(const rg_optimizer_settings *s, double lr, uint64_t t, step_k *k)
{
    (void)t;
    k->lr = (float)lr;
    k->rho = (float)s->rho;
    k->c = (float)(1.0 - s->rho);
    k->eps = (float)s->eps;
    k->stateful = 1;
}

static void adagrad_constants(const rg_optimizer_settings *s, double lr, uint64_t t, step_k *k)
{
    (void)t;
    k->lr = (float)lr;
    k->eps = (float)s->eps;
    k->stateful = 1;
}

static void adamax_constants(const rg_optimizer_settings *s, double lr, uint64_t t, step_k *k)
{
    /* Keras: p -= lr * m / ((1 - b1^t) * (u + eps)) */
    k->alpha = (float)(lr / (1.0 - pow(s->beta1, (double)t)));
    k->c1 = (float)(1.0 - s->beta1);
    k->b2 = (float)s->beta2;
    k->eps = (float)s->eps;
    k->stateful = 1;
}

/* Nadam's momentum schedule u_i = beta1 * (1 - 0.5 * 0.96^i) (Keras 3), and
 * the product of u_1 .. u_t as beta1^t times the product of the brackets:
 * from i = 900 on, 0.5 * 0.96^i < 2^-54 and the bracket is exactly 1 in
 * double, so the loop ends there (at most 900 multiplications a step) and
 * the product is a function of t alone. */
static double nadam_u(double beta1, uint64_t i) { return beta1 * (1.0 - 0.5 * pow(0.96, (double)i)); }

static double nadam_u_product(double beta1, uint64_t t)
{
    double prod = 1.0, q = 1.0; /* q = 0.96^i by multiplication: no pow in the loop */
    for (uint64_t i = 1; i <= t; i++) {
        q *= 0.96;
        const double b = 1.0 - 0.5 * q;
        if (b == 1.0)
            break;
        prod *= b;
    }
    return pow(beta1, (double)t) * prod;
}

static void nadam_constants(const rg_optimizer_settings *s, double lr, uint64_t t, step_k *k)
{
    const double u_t = nadam_u(s->beta1, t), u_next = nadam_u(s->beta1, t + 1);
    const double prod = nadam_u_product(s->beta1, t), prod_next = prod * u_next;
    k->a1 = (float)(u_next / (1.0 - prod_next));
    k->a2 = (float)((1.0 - u_t) / (1.0 - prod));
    k->bc2 = (float)(1.0 - pow(s->beta2, (double)t));
    k->c1 = (float)(1.0 - s->beta1);
    k->c2 = (float)(1.0 - s->beta2);
    k->lr = (float)lr;
    k->eps = (float)s->eps;
    k->stateful = 1;
}

/* ---- sufficient conditions for a finite step: every intermediate is
 * bounded by sums and products of the maxima (moments are convex
 * combinations, the decay factor 1 - lr*wd is in [0, 1]) ---- */

/* A division by eps needs a normal eps (a subnormal one may be read as 0
 * when the host flushes subnormals), and G^2 must stay far from overflow. */
static int eps_ok(const step_k *k, double G) { return k->eps >= FLT_MIN && G <= 1e18; }

static int adam_safe(const step_k *k, double P, double G, double M, double V, double lim)
{
    if (!eps_ok(k, G))
        return 0;
    const double mm = 2.0 * M + G;
    return mm <= lim && V + G * G <= lim && P + (double)k->alpha * mm / (double)k->eps <= lim;
}

static int sgd_safe(const step_k *k, double P, double G, double M, double V, double lim)
{
    (void)V;
    if (k->stateful) {
        const double vel = M + (double)k->lr * G;
        return vel <= lim && P + vel + 2.0 * (double)k->lr * G <= lim;
    }
    return P + (double)k->lr * G <= lim;
}

/* RMSprop and Adagrad: |g| / sqrt(s + eps) <= |g| / sqrt(eps). */
static int rms_safe(const step_k *k, double P, double G, double S, double V, double lim)
{
    (void)V;
    if (!eps_ok(k, G))
        return 0;
    return S + G * G <= lim && P + (double)k->lr * G / sqrt((double)k->eps) <= lim;
}

static int adamax_safe(const step_k *k, double P, double G, double M, double U, double lim)
{
    if (!eps_ok(k, G))
        return 0;
    const double mm = 2.0 * M + G;
    return mm <= lim && U + G <= lim && P + (double)k->alpha * mm / (double)k->eps <= lim;
}

static int nadam_safe(const step_k *k, double P, double G, double M, double V, double lim)
{
    if (!eps_ok(k, G) || !(k->bc2 >= FLT_MIN))
        return 0;
    const double mm = 2.0 * M + G, vv = V + G * G;
    const double mh = (double)k->a1 * mm + (double)k->a2 * G;
    return mm <= lim && vv / (double)k->bc2 <= lim && mh <= lim &&
           P + (double)k->lr * mh / (double)k->eps <= lim;
}

#define V1 (1u << 1) /* buffer 1 >= 0 */
#define V0 (1u << 0) /* buffer 0 >= 0 */

static const rg_optim_kind kinds[] = {
    {REGNN_OPTIM_ADAM, "Adam", REGNN_OPTION_ADAM, 2, {REGNN_STATE_M, REGNN_STATE_V}, V1, 0,
     adam_constants, adam_inplace, adam_into, adam_safe},
    {REGNN_OPTIM_SGD, "SGD", REGNN_OPTION_SGD, 1, {REGNN_STATE_VELOCITY, 0}, 0, 0, sgd_constants,
     sgd_inplace, sgd_into, sgd_safe},
    {REGNN_OPTIM_RMSPROP, "RMSprop", REGNN_OPTION_RMSPROP, 1, {REGNN_STATE_VELOCITY, 0}, V0, 0,
     rmsprop_constants, rmsprop_inplace, rmsprop_into, rms_safe},
    {REGNN_OPTIM_ADAGRAD, "Adagrad", REGNN_OPTION_ADAGRAD, 1, {REGNN_STATE_ACCUMULATOR, 0}, V0, 1,
     adagrad_constants, adagrad_inplace, adagrad_into, rms_safe},
    {REGNN_OPTIM_ADAMAX, "Adamax", REGNN_OPTION_ADAMAX, 2, {REGNN_STATE_M, REGNN_STATE_NORM}, V1,
     0, adamax_constants, adamax_inplace, adamax_into, adamax_safe},
    {REGNN_OPTIM_NADAM, "Nadam", REGNN_OPTION_NADAM, 2, {REGNN_STATE_M, REGNN_STATE_V}, V1, 0,
     nadam_constants, nadam_inplace, nadam_into, nadam_safe},
};

const rg_optim_kind *rg_optim_kind_at(size_t i)
{
    return i < sizeof kinds / sizeof kinds[0] ? &kinds[i] : NULL;
}

const rg_optim_kind *rg_optim_kind_of(int kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].kind == kind)
            return &kinds[i];
    return NULL;
}
