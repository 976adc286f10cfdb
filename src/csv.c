/* CSV input: a header of column names, then rows of C-locale decimal
 * numbers. strtod/strtof are not used because they follow LC_NUMERIC, which
 * a host application may have set to a decimal-comma locale. */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Numbers                                                              */
/* ------------------------------------------------------------------ */

/* Significant digits read into the fast-path mantissa (fits in uint64). */
#define FAST_DIGITS 19
/* Significant digits kept by the exact path. Float midpoints are multiples
 * of 2^-150, hence of 10^-150; a value below 2^128 has its first digit at
 * 10^38 or lower, so 200 digits reach past 10^-150 and every later digit can
 * only break a tie (the sticky flag). */
#define EXACT_DIGITS 200
/* Exponents are saturated here: no mantissa that fits in memory can bring
 * such a value back into the float range. */
#define EXP_SAT 1000000000000000000LL
#define EXP_CLAMP (LLONG_MAX / 2)

/* ---- a minimal unsigned bignum for the exact path ---- */
#define BIG_LIMBS 64 /* 2048 bits; both sides of a comparison stay near 670 */

typedef struct big {
    uint32_t d[BIG_LIMBS]; /* little-endian limbs */
    size_t n;              /* limbs in use; no leading zero limbs */
    int overflow;
} big;

static void big_set(big *b, uint64_t v)
{
    b->overflow = 0;
    b->n = 0;
    while (v) {
        b->d[b->n++] = (uint32_t)v;
        v >>= 32;
    }
}

static void big_mul_add(big *b, uint32_t mul, uint32_t add)
{
    uint64_t carry = add;
    for (size_t i = 0; i < b->n; i++) {
        uint64_t t = (uint64_t)b->d[i] * mul + carry;
        b->d[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry) {
        if (b->n == BIG_LIMBS)
            b->overflow = 1;
        else
            b->d[b->n++] = (uint32_t)carry;
    }
}

static void big_mul_pow5(big *b, long long e)
{
    while (e >= 13) {
        big_mul_add(b, 1220703125u, 0); /* 5^13, the largest power below 2^32 */
        e -= 13;
    }
    uint32_t p = 1;
    while (e-- > 0)
        p *= 5;
    big_mul_add(b, p, 0);
}

static void big_shl(big *b, long long bits)
{
    if (b->n == 0 || bits <= 0)
        return;
    size_t limbs = (size_t)bits / 32;
    unsigned r = (unsigned)bits % 32;
    if (b->n + limbs + 1 > BIG_LIMBS) {
        b->overflow = 1;
        return;
    }
    b->d[b->n + limbs] = 0;
    for (size_t i = b->n; i-- > 0;) {
        uint64_t v = (uint64_t)b->d[i] << r;
        b->d[i + limbs + 1] |= (uint32_t)(v >> 32);
        b->d[i + limbs] = (uint32_t)v;
    }
    for (size_t i = 0; i < limbs; i++)
        b->d[i] = 0;
    b->n += limbs + 1;
    while (b->n && b->d[b->n - 1] == 0)
        b->n--;
}

static int big_cmp(const big *a, const big *b)
{
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (size_t i = a->n; i-- > 0;)
        if (a->d[i] != b->d[i])
            return a->d[i] < b->d[i] ? -1 : 1;
    return 0;
}

/* ---- decimal scanning ---- */

/* A syntactically valid decimal: mantissa text (digits and at most one '.')
 * and the saturated exponent after e/E. */
typedef struct decimal {
    const char *mant;
    size_t mant_len;
    long long exp;
} decimal;

/* Kept significant digits of d as value = digits * 10^*dexp (+ a nonzero
 * remainder when *sticky). Digits go into *m (limit <= 19) or, when b is
 * given, into the bignum. Returns the number of digits kept. */
static int scan_digits(const decimal *d, int limit, uint64_t *m, big *b, long long *dexp, int *sticky)
{
    static const uint32_t p10[10] = {1,      10,      100,      1000,      10000,
                                     100000, 1000000, 10000000, 100000000, 1000000000};
    int nd = 0, point = 0, st = 0, chunk_len = 0;
    long long e = d->exp;
    uint64_t acc = 0;
    uint32_t chunk = 0;
    if (b)
        big_set(b, 0);
    for (size_t i = 0; i < d->mant_len; i++) {
        char c = d->mant[i];
        if (c == '.') {
            point = 1;
            continue;
        }
        unsigned dg = (unsigned)(c - '0');
        if (nd == 0 && dg == 0) {
            if (point && e > -EXP_CLAMP)
                e--;
            continue;
        }
        if (nd < limit) {
            nd++;
            if (point)
                e--;
            if (b) {
                chunk = chunk * 10 + dg;
                if (++chunk_len == 9) {
                    big_mul_add(b, p10[9], chunk);
                    chunk = 0;
                    chunk_len = 0;
                }
            } else {
                acc = acc * 10 + dg;
            }
        } else {
            if (!point && e < EXP_CLAMP)
                e++;
            st |= dg != 0;
        }
    }
    if (b && chunk_len)
        big_mul_add(b, p10[chunk_len], chunk);
    if (m)
        *m = acc;
    *dexp = e;
    *sticky = st;
    return nd;
}

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bitsf(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The float after bits u, as a double; 2^128 stands in for infinity. */
static double next_up(uint32_t u) { return u + 1 >= 0x7f800000u ? 0x1p128 : (double)bitsf(u + 1); }

/* Sign of (exact decimal value) - mid, where mid is a positive double. */
static int cmp_exact(const big *digits, long long e10, int sticky, double mid)
{
    int ex;
    double fr = frexp(mid, &ex);
    uint64_t mm = (uint64_t)ldexp(fr, 53);
    long long k = (long long)ex - 53; /* mid = mm * 2^k */
    big a = *digits, b;
    big_set(&b, mm);
    /* Compare digits * 10^e10 with mm * 2^k, both scaled to integers. */
    long long a2, b2;
    if (e10 >= 0) {
        big_mul_pow5(&a, e10);
        a2 = e10;
        b2 = k;
    } else {
        big_mul_pow5(&b, -e10);
        a2 = 0;
        b2 = k - e10;
    }
    if (a2 >= b2)
        big_shl(&a, a2 - b2);
    else
        big_shl(&b, b2 - a2);
    if (a.overflow || b.overflow)
        return 2; /* cannot happen for inputs that reach here; keep the fast result */
    int c = big_cmp(&a, &b);
    return (c == 0 && sticky) ? 1 : c;
}

/* Correct rounding of a value within a few ulps of a midpoint next to the
 * candidate float bits u. */
static int round_exact(const decimal *d, uint32_t u, uint32_t *res)
{
    big digits;
    long long e10;
    int sticky;
    scan_digits(d, EXACT_DIGITS, NULL, &digits, &e10, &sticky);
    double f = (double)bitsf(u);

    int c = cmp_exact(&digits, e10, sticky, (f + next_up(u)) / 2);
    if (c == 2) {
        *res = u;
        return RG_NUM_OK;
    }
    if (c > 0 || (c == 0 && (u & 1))) {
        if (u + 1 >= 0x7f800000u)
            return RG_NUM_RANGE;
        *res = u + 1;
        return RG_NUM_OK;
    }
    if (c < 0 && u > 0) {
        c = cmp_exact(&digits, e10, sticky, (f + (double)bitsf(u - 1)) / 2);
        if (c < 0 || (c == 0 && (u & 1))) {
            *res = u - 1;
            return RG_NUM_OK;
        }
    }
    *res = u;
    return RG_NUM_OK;
}

static int match_word(const char *s, size_t n, const char *w)
{
    size_t wl = strlen(w);
    if (n != wl)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != w[i])
            return 0;
    }
    return 1;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int rg_parse_float(const char *s, size_t n, float *out)
{
    static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    if (n == 0)
        return RG_NUM_EMPTY;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i = 1;
    }
    if (match_word(s + i, n - i, "nan") || match_word(s + i, n - i, "inf") ||
        match_word(s + i, n - i, "infinity"))
        return RG_NUM_NONFINITE;

    decimal d;
    d.mant = s + i;
    size_t digits = 0;
    while (i < n && is_digit(s[i])) {
        i++;
        digits++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i])) {
            i++;
            digits++;
        }
    }
    if (digits == 0)
        return RG_NUM_SYNTAX;
    d.mant_len = (size_t)(s + i - d.mant);
    d.exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i == n || !is_digit(s[i]))
            return RG_NUM_SYNTAX;
        while (i < n && is_digit(s[i])) {
            d.exp = d.exp < EXP_SAT / 10 ? d.exp * 10 + (s[i] - '0') : EXP_SAT;
            i++;
        }
        if (eneg)
            d.exp = -d.exp;
    }
    if (i != n)
        return RG_NUM_SYNTAX;

    uint64_t m;
    long long e;
    int sticky;
    int nd = scan_digits(&d, FAST_DIGITS, &m, NULL, &e, &sticky);
    if (m == 0) {
        *out = neg ? -0.0f : 0.0f;
        return RG_NUM_OK;
    }
    long long top = e + nd - 1; /* decimal place of the first significant digit */
    if (top > 38)
        return RG_NUM_RANGE; /* >= 1e39 */
    if (top < -46) {         /* < 1e-46, below half the smallest subnormal */
        *out = neg ? -0.0f : 0.0f;
        return RG_NUM_OK;
    }

    /* Fast path: at most four roundings in double, a relative error far
     * below the 1e-13 margin checked next. */
    double v = (double)m;
    while (e > 22) {
        v *= 1e22;
        e -= 22;
    }
    while (e < -22) {
        v /= 1e22;
        e += 22;
    }
    v = e >= 0 ? v * p10[e] : v / p10[-e];

    const double tol = v * 1e-13;
    float f = (float)v;
    uint32_t u = fbits(f);
    if (u >= 0x7f800000u) {
        if (v - (0x1p128 - 0x1p103) > tol)
            return RG_NUM_RANGE;
        u = 0x7f7fffffu; /* let the exact path decide between FLT_MAX and overflow */
    }
    double fd = (double)bitsf(u);
    double hi = (fd + next_up(u)) / 2;
    double lo = u > 0 ? (fd + (double)bitsf(u - 1)) / 2 : -1.0;
    if (fabs(hi - v) <= tol || fabs(v - lo) <= tol) {
        int st = round_exact(&d, u, &u);
        if (st != RG_NUM_OK)
            return st;
    }
    f = bitsf(u);
    *out = neg ? -f : f;
    return RG_NUM_OK;
}

/* ------------------------------------------------------------------ */
/* Lines and fields                                                     */
/* ------------------------------------------------------------------ */

static int is_space(char c) { return c == ' ' || c == '\t'; }

static void trim(const char **b, const char **e)
{
    while (*b < *e && is_space(**b))
        (*b)++;
    while (*e > *b && is_space((*e)[-1]))
        (*e)--;
}

/* Next line of [*p, end) without its terminator (\n, \r\n or \r). */
static int next_line(const char **p, const char *end, const char **ls, const char **le)
{
    if (*p >= end)
        return 0;
    const char *s = *p, *q = s;
    while (q < end && *q != '\n' && *q != '\r')
        q++;
    *ls = s;
    *le = q;
    if (q < end)
        q += (*q == '\r' && q + 1 < end && q[1] == '\n') ? 2 : 1;
    *p = q;
    return 1;
}

static int is_blank(const char *b, const char *e)
{
    trim(&b, &e);
    return b == e;
}

static size_t count_fields(const char *b, const char *e)
{
    size_t n = 1;
    while ((b = memchr(b, ',', (size_t)(e - b))) != NULL) {
        n++;
        b++;
    }
    return n;
}

/* Where an error message points. */
typedef struct csv_ctx {
    char where[256]; /* "regnn_dataset_parse_csv" or "regnn_dataset_from_csv: 'path'" */
} csv_ctx;


/* Header fields: names are trimmed; a name in double quotes may contain
 * commas and "" for a quote. With store == NULL only counts. */
static regnn_status header_fields(const csv_ctx *cx, size_t line, const char *b, const char *e,
                                  char **names, char *store, size_t *count)
{
    size_t col = 0;
    const char *p = b;
    for (;;) {
        col++;
        while (p < e && is_space(*p))
            p++;
        char *start = store;
        if (p < e && *p == '"') {
            p++;
            for (;;) {
                if (p == e)
                    return rg_error(REGNN_E_FORMAT, "%s: line %zu, column %zu: unterminated quote",
                                    cx->where, line, col);
                if (*p == '"') {
                    if (p + 1 < e && p[1] == '"') {
                        if (store)
                            *store++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (store)
                    *store++ = *p;
                p++;
            }
            while (p < e && is_space(*p))
                p++;
            if (p < e && *p != ',')
                return rg_error(REGNN_E_FORMAT,
                                "%s: line %zu, column %zu: unexpected '%c' after a closing quote",
                                cx->where, line, col, *p);
            if (store && store == start)
                return rg_error(REGNN_E_FORMAT, "%s: line %zu, column %zu: empty column name",
                                cx->where, line, col);
        } else {
            const char *fb = p;
            while (p < e && *p != ',')
                p++;
            const char *fe = p;
            trim(&fb, &fe);
            if (fb == fe)
                return rg_error(REGNN_E_FORMAT, "%s: line %zu, column %zu: empty column name",
                                cx->where, line, col);
            if (store) {
                memcpy(store, fb, (size_t)(fe - fb));
                store += fe - fb;
            }
        }
        if (store) {
            *store++ = '\0';
            names[col - 1] = start;
        }
        if (p == e)
            break;
        p++; /* the comma */
    }
    *count = col;
    return REGNN_OK;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

static regnn_status number_error(const csv_ctx *cx, int code, size_t line, size_t col,
                                 const char *name, const char *fb, size_t len)
{
    /* Quote at most 40 characters of the field. */
    int show = len > 40 ? 40 : (int)len;
    const char *more = len > 40 ? "..." : "";
    switch (code) {
    case RG_NUM_EMPTY:
        return rg_error(REGNN_E_FORMAT, "%s: line %zu, column %zu ('%.40s'): empty field",
                        cx->where, line, col, name);
    case RG_NUM_NONFINITE:
        return rg_error(REGNN_E_NUMERIC,
                        "%s: line %zu, column %zu ('%.40s'): '%.*s%s' is not a finite number",
                        cx->where, line, col, name, show, fb, more);
    case RG_NUM_RANGE:
        return rg_error(REGNN_E_NUMERIC,
                        "%s: line %zu, column %zu ('%.40s'): '%.*s%s' is out of the float range",
                        cx->where, line, col, name, show, fb, more);
    default:
        return rg_error(REGNN_E_FORMAT,
                        "%s: line %zu, column %zu ('%.40s'): expected a number, found '%.*s%s'",
                        cx->where, line, col, name, show, fb, more);
    }
}

static regnn_status parse_csv(const csv_ctx *cx, const char *text, size_t len,
                              const char *const *target_names, const size_t *target_cols,
                              size_t n_targets, regnn_dataset **out)
{
    if (!text)
        return rg_error(REGNN_E_INVALID_ARG, "%s: text must not be NULL", cx->where);
    if ((target_names == NULL) == (target_cols == NULL))
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: give exactly one of target_names and target_cols", cx->where);
    if (n_targets == 0)
        return rg_error(REGNN_E_INVALID_ARG, "%s: n_targets must be at least 1", cx->where);

    const char *p = text, *end = text + len, *ls = NULL, *le = NULL;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* UTF-8 byte order mark */
    size_t line = 0;
    int have = 0;
    while ((have = next_line(&p, end, &ls, &le)) != 0) {
        line++;
        if (!is_blank(ls, le))
            break;
    }
    if (!have)
        return rg_error(REGNN_E_FORMAT, "%s: no header line (the input is empty)", cx->where);
    const size_t header_line = line;

    size_t ncols = 0, store_len, block;
    regnn_status st = header_fields(cx, line, ls, le, NULL, NULL, &ncols);
    if (st != REGNN_OK)
        return st;
    /* Each name is at most its raw text, plus a terminator. */
    store_len = (size_t)(le - ls) + ncols;
    if (!rg_mul_ok(ncols, sizeof(char *), &block) || block > SIZE_MAX - store_len)
        return rg_error(REGNN_E_INVALID_ARG, "%s: header too large", cx->where);
    char **names = rg_malloc(block + store_len);
    size_t *map = names ? rg_calloc(ncols, sizeof *map) : NULL;
    const char **ordered = map ? rg_calloc(ncols, sizeof *ordered) : NULL;
    float *x = NULL, *y = NULL;
    if (!ordered) {
        st = rg_error(REGNN_E_NOMEM, "%s: out of memory for a header of %zu columns", cx->where,
                      ncols);
        goto done;
    }
    st = header_fields(cx, line, ls, le, names, (char *)(names + ncols), &ncols);
    if (st != REGNN_OK)
        goto done;

    if (n_targets >= ncols) {
        st = rg_error(REGNN_E_INVALID_ARG,
                      "%s: %zu target column(s) leave no feature column (the header has %zu)",
                      cx->where, n_targets, ncols);
        goto done;
    }
    /* map[c]: 0 = feature, else 1 + target index. */
    for (size_t t = 0; t < n_targets; t++) {
        size_t c = ncols;
        if (target_names) {
            if (!target_names[t]) {
                st = rg_error(REGNN_E_INVALID_ARG, "%s: target_names[%zu] is NULL", cx->where, t);
                goto done;
            }
            for (size_t j = 0; j < ncols; j++) {
                if (strcmp(names[j], target_names[t]) != 0)
                    continue;
                if (c != ncols) {
                    st = rg_error(REGNN_E_FORMAT,
                                  "%s: line %zu: column name '%.40s' appears twice (column "
                                  "indices %zu and %zu); select the target by index",
                                  cx->where, header_line, names[j], c, j);
                    goto done;
                }
                c = j;
            }
            if (c == ncols) {
                st = rg_error(REGNN_E_INVALID_ARG, "%s: no column named '%.40s' in the header",
                              cx->where, target_names[t]);
                goto done;
            }
        } else {
            c = target_cols[t];
            if (c >= ncols) {
                st = rg_error(REGNN_E_INVALID_ARG,
                              "%s: target_cols[%zu] = %zu is out of range (%zu columns)",
                              cx->where, t, c, ncols);
                goto done;
            }
        }
        if (map[c]) {
            st = rg_error(REGNN_E_INVALID_ARG, "%s: column index %zu ('%.40s') is chosen as a target twice",
                          cx->where, c, names[c]);
            goto done;
        }
        map[c] = t + 1;
        ordered[t] = names[c];
    }
    size_t n_x = ncols - n_targets, n_y = n_targets;
    for (size_t c = 0, f = 0; c < ncols; c++) {
        if (!map[c]) {
            ordered[n_y + f] = names[c];
            map[c] = n_y + 1 + f++;
        }
    }
    /* Now map[c] - 1 indexes targets [0, n_y) then features [n_y, ncols). */

    const char *body = p;
    size_t rows = 0;
    while (next_line(&p, end, &ls, &le))
        if (!is_blank(ls, le))
            rows++;
    if (rows == 0) {
        st = rg_error(REGNN_E_FORMAT, "%s: no data rows after the header", cx->where);
        goto done;
    }
    size_t nbx, nby;
    if (!rg_mul_ok(rows, n_x, &nbx) || !rg_mul_ok(nbx, sizeof(float), &nbx) ||
        !rg_mul_ok(rows, n_y, &nby) || !rg_mul_ok(nby, sizeof(float), &nby)) {
        st = rg_error(REGNN_E_INVALID_ARG, "%s: %zu rows of %zu columns is too large", cx->where,
                      rows, ncols);
        goto done;
    }
    x = rg_malloc(nbx);
    y = x ? rg_malloc(nby) : NULL;
    if (!y) {
        st = rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu rows of %zu columns", cx->where,
                      rows, ncols);
        goto done;
    }

    p = body;
    size_t r = 0;
    while (next_line(&p, end, &ls, &le)) {
        line++;
        if (is_blank(ls, le))
            continue;
        size_t nf = count_fields(ls, le);
        if (nf != ncols) {
            st = rg_error(REGNN_E_FORMAT, "%s: line %zu: expected %zu fields, found %zu",
                          cx->where, line, ncols, nf);
            goto done;
        }
        const char *q = ls;
        for (size_t c = 0; c < ncols; c++) {
            const char *fb = q, *fe = q;
            while (fe < le && *fe != ',')
                fe++;
            q = fe + 1;
            trim(&fb, &fe);
            float v;
            int code = rg_parse_float(fb, (size_t)(fe - fb), &v);
            if (code != RG_NUM_OK) {
                st = number_error(cx, code, line, c + 1, names[c], fb, (size_t)(fe - fb));
                goto done;
            }
            size_t k = map[c] - 1;
            if (k < n_y)
                y[r * n_y + k] = v;
            else
                x[r * n_x + (k - n_y)] = v;
        }
        r++;
    }

    st = rg_dataset_adopt(x, y, rows, n_x, n_y, ordered + n_y, ordered, out);
    x = y = NULL; /* taken over */
    if (st == REGNN_E_NOMEM)
        st = rg_error(REGNN_E_NOMEM, "%s: out of memory for a dataset of %zu rows", cx->where, rows);

done:
    rg_free(x);
    rg_free(y);
    rg_free(ordered);
    rg_free(map);
    rg_free(names);
    return st;
}

regnn_status regnn_dataset_parse_csv(const char *text, size_t len, const char *const *target_names,
                                     const size_t *target_cols, size_t n_targets,
                                     regnn_dataset **out)
{
    if (out)
        *out = NULL;
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_dataset_parse_csv: out must not be NULL");
    csv_ctx cx;
    snprintf(cx.where, sizeof cx.where, "regnn_dataset_parse_csv");
    return parse_csv(&cx, text, len, target_names, target_cols, n_targets, out);
}

regnn_status regnn_dataset_from_csv(const char *path, const char *const *target_names,
                                    const size_t *target_cols, size_t n_targets,
                                    regnn_dataset **out)
{
    static const char fn[] = "regnn_dataset_from_csv";
    if (out)
        *out = NULL;
    if (!out || !path)
        return rg_error(REGNN_E_INVALID_ARG, "%s: path and out must not be NULL", fn);
    /* Argument errors first, so that they do not depend on the file. */
    if ((target_names == NULL) == (target_cols == NULL))
        return rg_error(REGNN_E_INVALID_ARG, "%s: give exactly one of target_names and target_cols",
                        fn);
    if (n_targets == 0)
        return rg_error(REGNN_E_INVALID_ARG, "%s: n_targets must be at least 1", fn);

    FILE *f = fopen(path, "rb");
    if (!f)
        return rg_error(REGNN_E_IO, "%s: cannot open '%.200s': %s", fn, path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = rg_malloc(cap);
    regnn_status st = REGNN_OK;
    if (!buf)
        st = rg_error(REGNN_E_NOMEM, "%s: out of memory reading '%.200s'", fn, path);
    while (st == REGNN_OK) {
        if (len == cap) {
            /* No realloc in the allocator interface: grow by copying. */
            char *bigger = cap <= (size_t)PTRDIFF_MAX / 2 ? rg_malloc(cap * 2) : NULL;
            if (!bigger) {
                st = rg_error(REGNN_E_NOMEM, "%s: out of memory reading '%.200s' (%zu bytes so far)",
                              fn, path, len);
                break;
            }
            memcpy(bigger, buf, len);
            rg_free(buf);
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0 || len < cap) {
            if (ferror(f))
                st = rg_error(REGNN_E_IO, "%s: error reading '%.200s'", fn, path);
            else if (feof(f))
                break;
        }
    }
    fclose(f);
    if (st == REGNN_OK) {
        csv_ctx cx;
        snprintf(cx.where, sizeof cx.where, "%s: '%.200s'", fn, path);
        st = parse_csv(&cx, buf, len, target_names, target_cols, n_targets, out);
    }
    rg_free(buf);
    return st;
}
