/* SPDX-License-Identifier: MIT */
/* CSV input: a header of column names, then rows of C-locale decimal
 * numbers. strtod/strtof are not used because they follow LC_NUMERIC, which
 * a host application may have set to a decimal-comma locale. */
#define _POSIX_C_SOURCE 200809L /* open, fstat, O_CLOEXEC, strerror_r */
#include "data.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

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

/* Reads the digits at s[*i..n) into *count more digits; advances *i. */
static void skip_digits(const char *s, size_t n, size_t *i, size_t *count)
{
    while (*i < n && is_digit(s[*i])) {
        (*i)++;
        (*count)++;
    }
}

/* The syntax of an unsigned decimal s[i..n): digits with at most one '.',
 * then an optional exponent. Fills *d; RG_NUM_OK or RG_NUM_SYNTAX. */
static int scan_decimal(const char *s, size_t n, size_t i, decimal *d)
{
    d->mant = s + i;
    size_t digits = 0;
    skip_digits(s, n, &i, &digits);
    if (i < n && s[i] == '.') {
        i++;
        skip_digits(s, n, &i, &digits);
    }
    if (digits == 0)
        return RG_NUM_SYNTAX;
    d->mant_len = (size_t)(s + i - d->mant);
    d->exp = 0;
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
            d->exp = d->exp < EXP_SAT / 10 ? d->exp * 10 + (s[i] - '0') : EXP_SAT;
            i++;
        }
        if (eneg)
            d->exp = -d->exp;
    }
    return i == n ? RG_NUM_OK : RG_NUM_SYNTAX;
}

/* m * 10^e in double: at most four roundings, a relative error far below
 * the 1e-13 margin that round_float checks. */
static double fast_value(uint64_t m, long long e)
{
    static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    double v = (double)m;
    while (e > 22) {
        v *= 1e22;
        e -= 22;
    }
    while (e < -22) {
        v /= 1e22;
        e += 22;
    }
    return e >= 0 ? v * p10[e] : v / p10[-e];
}

/* The float nearest d, given its fast approximation v: the exact path
 * decides when v lies within the margin of a midpoint. */
static int round_float(const decimal *d, double v, float *out)
{
    const double tol = v * 1e-13;
    uint32_t u = fbits((float)v);
    if (u >= 0x7f800000u) {
        if (v - (0x1p128 - 0x1p103) > tol)
            return RG_NUM_RANGE;
        u = 0x7f7fffffu; /* let the exact path decide between FLT_MAX and overflow */
    }
    double fd = (double)bitsf(u);
    double hi = (fd + next_up(u)) / 2;
    double lo = u > 0 ? (fd + (double)bitsf(u - 1)) / 2 : -1.0;
    if (fabs(hi - v) <= tol || fabs(v - lo) <= tol) {
        int st = round_exact(d, u, &u);
        if (st != RG_NUM_OK)
            return st;
    }
    *out = bitsf(u);
    return RG_NUM_OK;
}

/* The magnitude of d as a float (0 below half the smallest subnormal). */
static int decimal_to_float(const decimal *d, float *out)
{
    uint64_t m;
    long long e;
    int sticky;
    int nd = scan_digits(d, FAST_DIGITS, &m, NULL, &e, &sticky);
    if (m == 0) {
        *out = 0.0f;
        return RG_NUM_OK;
    }
    long long top = e + nd - 1; /* decimal place of the first significant digit */
    if (top > 38)
        return RG_NUM_RANGE; /* >= 1e39 */
    if (top < -46) {         /* < 1e-46, below half the smallest subnormal */
        *out = 0.0f;
        return RG_NUM_OK;
    }
    return round_float(d, fast_value(m, e), out);
}

int rg_parse_float(const char *s, size_t n, float *out)
{
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
    int st = scan_decimal(s, n, i, &d);
    float f;
    if (st == RG_NUM_OK)
        st = decimal_to_float(&d, &f);
    if (st == RG_NUM_OK)
        *out = neg ? -f : f;
    return st;
}

/* ------------------------------------------------------------------ */
/* Bytes, lines and quoting                                             */
/* ------------------------------------------------------------------ */

static int is_space(char c) { return c == ' ' || c == '\t'; }
static int is_break(char c) { return c == '\n' || c == '\r'; }

/* Past the line break at p (\n, \r\n or \r). */
static const char *skip_break(const char *p, const char *end)
{
    return (*p == '\r' && p + 1 < end && p[1] == '\n') ? p + 2 : p + 1;
}

/* Line breaks in [b, e), counted as skip_break does. */
static size_t count_breaks(const char *b, const char *e)
{
    size_t n = 0;
    while (b < e) {
        if (is_break(*b)) {
            b = skip_break(b, e);
            n++;
        } else {
            b++;
        }
    }
    return n;
}

#define ONES ((uint64_t)0x0101010101010101u)
/* Nonzero iff one of the eight bytes of w equals the byte repeated in pat. */
static uint64_t has_byte(uint64_t w, uint64_t pat)
{
    uint64_t x = w ^ pat;
    return (x - ONES) & ~x & (ONES * 0x80);
}

/* The first line break or double quote in [p, end), or end; eight bytes a
 * step, since this scan sees every byte of the body. */
static const char *find_special(const char *p, const char *end)
{
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, sizeof w);
        if (has_byte(w, ONES * '\n') | has_byte(w, ONES * '\r') | has_byte(w, ONES * '"'))
            break;
        p += 8;
    }
    while (p < end && *p != '\n' && *p != '\r' && *p != '"')
        p++;
    return p;
}

/* Bytes that end an unquoted data field (or make it malformed). */
static const unsigned char field_stop[256] = {['\n'] = 1, ['\r'] = 1, [','] = 1, ['"'] = 1};

/* s[0, n) as printable text for a message: tab, line breaks and backslash
 * as \t \n \r \\, other control bytes and bytes that are not UTF-8 as \xNN;
 * cut with "..." to fit cap (>= 8). Returns out. */
static const char *show(char *out, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        char tmp[4];
        size_t k = 0, used = 1;
        if (c == '\t' || c == '\n' || c == '\r' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
            k = 2;
        } else if (c >= 0x20 && c < 0x7f) {
            tmp[0] = (char)c;
            k = 1;
        } else if (c >= 0xc2 && c <= 0xf4) {
            size_t len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
            size_t j = 1;
            while (j < len && i + j < n && ((unsigned char)s[i + j] & 0xc0) == 0x80)
                j++;
            if (j == len) {
                memcpy(tmp, s + i, len);
                k = used = len;
            }
        }
        if (k == 0) {
            tmp[0] = '\\';
            tmp[1] = 'x';
            tmp[2] = hex[c >> 4];
            tmp[3] = hex[c & 15];
            k = 4;
        }
        if (o + k + 3 >= cap && (i + used < n || o + k >= cap)) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, tmp, k);
        o += k;
        i += used;
    }
    out[o] = '\0';
    return out;
}

#define SHOW_CAP 48 /* room for one quoted piece of input in a message */

static const char *show_str(char *out, const char *s) { return show(out, SHOW_CAP, s, strlen(s)); }

/* Where an error message points. */
typedef struct csv_ctx {
    char where[256]; /* "regnn_dataset_parse_csv" or "regnn_dataset_from_csv: 'path'" */
    const char *text; /* start of the input, for byte offsets */
} csv_ctx;

/* 1-based line of position p. */
static size_t line_of(const csv_ctx *cx, const char *p) { return 1 + count_breaks(cx->text, p); }

/* ------------------------------------------------------------------ */
/* Header                                                               */
/* ------------------------------------------------------------------ */

/* Parses the header record at p: names trimmed; a name that starts with a
 * double quote may hold commas, line breaks and "" for a quote (RFC 4180);
 * elsewhere a quote is an ordinary character. With store == NULL only
 * counts. *rec_end is set past the record's line break. */
static regnn_status header_fields(const csv_ctx *cx, size_t line, const char *p, const char *end,
                                  char **names, char *store, size_t *count, const char **rec_end)
{
    size_t col = 0;
    char buf[SHOW_CAP];
    for (;;) {
        col++;
        while (p < end && is_space(*p))
            p++;
        char *start = store;
        if (p < end && *p == '"') {
            const char *open = p++;
            for (;;) {
                if (p == end)
                    return rg_error(REGNN_E_FORMAT,
                                    "%s: line %zu, column %zu: unterminated quote (opened at byte "
                                    "offset %zu)",
                                    cx->where, line, col, (size_t)(open - cx->text));
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
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
            while (p < end && is_space(*p))
                p++;
            if (p < end && *p != ',' && !is_break(*p))
                return rg_error(REGNN_E_FORMAT,
                                "%s: line %zu, column %zu: unexpected '%s' after a closing quote",
                                cx->where, line, col, show(buf, sizeof buf, p, 1));
            if (store && store == start)
                return rg_error(REGNN_E_FORMAT, "%s: line %zu, column %zu: empty column name",
                                cx->where, line, col);
        } else {
            const char *fb = p;
            while (p < end && *p != ',' && !is_break(*p))
                p++;
            const char *fe = p;
            while (fe > fb && is_space(fe[-1]))
                fe--;
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
        if (p == end || is_break(*p))
            break;
        p++; /* the comma */
    }
    *count = col;
    *rec_end = p == end ? p : skip_break(p, end);
    return REGNN_OK;
}

/* A header of one column: most likely another delimiter. */
static regnn_status one_column_error(const csv_ctx *cx, size_t line, const char *b, const char *e)
{
    static const char delims[3] = {';', '\t', '|'};
    static const char *const delim_names[3] = {"';'", "tab", "'|'"};
    size_t best = 3, best_n = 0;
    for (size_t d = 0; d < 3; d++) {
        size_t n = 0;
        for (const char *q = b; q < e; q++)
            n += *q == delims[d];
        if (n > best_n) {
            best = d;
            best_n = n;
        }
    }
    char buf[SHOW_CAP];
    show(buf, sizeof buf, b, (size_t)(e - b));
    if (best < 3)
        return rg_error(REGNN_E_FORMAT,
                        "%s: line %zu: the header has one column ('%s'); the file seems to use %s "
                        "as the delimiter, but columns must be separated by ','",
                        cx->where, line, buf, delim_names[best]);
    return rg_error(REGNN_E_FORMAT,
                    "%s: line %zu: the header has one column ('%s'); a dataset needs at least a "
                    "feature and a target column, separated by ','",
                    cx->where, line, buf);
}

/* By name, then by address, which is column order (see check_duplicates). */
static int cmp_names(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int c = strcmp(x, y);
    return c ? c : (x < y ? -1 : x > y);
}

static size_t column_of(char **names, size_t ncols, const char *s)
{
    size_t lo = 0, hi = ncols;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (names[mid] <= s)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Column names are unique. sorted: ncols scratch pointers. names[] point
 * into one block in column order, so addresses give column numbers. */
static regnn_status check_duplicates(const csv_ctx *cx, size_t line, char **names, size_t ncols,
                                     const char **sorted)
{
    memcpy(sorted, names, ncols * sizeof *sorted);
    qsort(sorted, ncols, sizeof *sorted, cmp_names);
    size_t first = ncols, second = ncols;
    for (size_t i = 1; i < ncols; i++) {
        if (strcmp(sorted[i - 1], sorted[i]) != 0)
            continue;
        size_t b = column_of(names, ncols, sorted[i]);
        if (b < second) {
            first = column_of(names, ncols, sorted[i - 1]);
            second = b;
        }
        while (i + 1 < ncols && strcmp(sorted[i], sorted[i + 1]) == 0)
            i++; /* later copies of the same name come after the second */
    }
    if (second == ncols)
        return REGNN_OK;
    char buf[SHOW_CAP];
    return rg_error(REGNN_E_FORMAT,
                    "%s: line %zu: columns %zu and %zu have the same name '%s'; column names must "
                    "be unique",
                    cx->where, line, first + 1, second + 1, show_str(buf, names[first]));
}

/* ------------------------------------------------------------------ */
/* Target names                                                         */
/* ------------------------------------------------------------------ */

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

#define NAME_CMP_MAX 64

/* Case-insensitive edit distance; SIZE_MAX for names too long to compare. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > NAME_CMP_MAX || lb > NAME_CMP_MAX)
        return SIZE_MAX;
    size_t row[NAME_CMP_MAX + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (lower(a[i - 1]) != lower(b[j - 1]));
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* Equal up to ASCII case and surrounding spaces. */
static int loosely_equal(const char *a, const char *b)
{
    while (is_space(*a))
        a++;
    while (is_space(*b))
        b++;
    size_t la = strlen(a), lb = strlen(b);
    while (la && is_space(a[la - 1]))
        la--;
    while (lb && is_space(b[lb - 1]))
        lb--;
    if (la != lb)
        return 0;
    for (size_t i = 0; i < la; i++)
        if (lower(a[i]) != lower(b[i]))
            return 0;
    return 1;
}

#define LIST_CAP 128 /* room for the column list in a message */

static regnn_status unknown_target(const csv_ctx *cx, size_t line, const char *target,
                                   char **names, size_t ncols)
{
    /* Closest: a loose match, else an edit distance within a third of the length. */
    size_t best = ncols, best_d = SIZE_MAX;
    for (size_t j = 0; j < ncols && best_d > 0; j++) {
        if (loosely_equal(names[j], target)) {
            best = j;
            best_d = 0;
            continue;
        }
        size_t d = distance(names[j], target), l = strlen(names[j]), lt = strlen(target);
        if (d < best_d && d * 3 <= (l > lt ? l : lt)) {
            best = j;
            best_d = d;
        }
    }
    char tbuf[SHOW_CAP], list[LIST_CAP];
    size_t o = 0, j = 0;
    for (; j < ncols; j++) {
        char nbuf[SHOW_CAP];
        show_str(nbuf, names[j]);
        size_t need = strlen(nbuf) + 4; /* ", '" ... "'" */
        if (o + need + 4 >= sizeof list)
            break;
        o += (size_t)snprintf(list + o, sizeof list - o, "%s'%s'", j ? ", " : "", nbuf);
    }
    if (j < ncols)
        snprintf(list + o, sizeof list - o, "%s...", j ? ", " : "");
    char hint[SHOW_CAP + 24] = "";
    if (best < ncols) {
        char bbuf[SHOW_CAP];
        snprintf(hint, sizeof hint, " (did you mean '%s'?)", show_str(bbuf, names[best]));
    }
    return rg_error(REGNN_E_INVALID_ARG,
                    "%s: no column named '%s' in the header%s; line %zu has %zu columns: %s",
                    cx->where, show_str(tbuf, target), hint, line, ncols, list);
}

/* ------------------------------------------------------------------ */
/* Data rows                                                            */
/* ------------------------------------------------------------------ */

/* Non-blank records from p on; a record ends at a line break outside double
 * quotes. Agrees with parse_rows on every input parse_rows accepts, and
 * parse_rows stops at the first quote where they could disagree. */
static size_t count_rows(const char *p, const char *end)
{
    size_t rows = 0;
    while (p < end) {
        while (p < end && is_space(*p))
            p++;
        if (p == end)
            break;
        if (is_break(*p)) {
            p++; /* blank line; the \n of a \r\n reads as another */
            continue;
        }
        rows++;
        for (;;) {
            p = find_special(p, end);
            if (p == end)
                break;
            if (*p == '"') {
                const char *close = memchr(p + 1, '"', (size_t)(end - p - 1));
                p = close ? close + 1 : end;
                continue;
            }
            p++;
            break;
        }
    }
    return rows;
}

/* Fields of the record starting at p, by the rules of count_rows. */
static size_t record_fields(const char *p, const char *end)
{
    size_t n = 1;
    int quoted = 0;
    for (; p < end && (quoted || !is_break(*p)); p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == ',' && !quoted)
            n++;
    }
    return n;
}

static regnn_status number_error(const csv_ctx *cx, int code, size_t line, size_t col,
                                 const char *name, const char *fb, size_t len)
{
    char nbuf[SHOW_CAP], fbuf[SHOW_CAP];
    show_str(nbuf, name);
    show(fbuf, sizeof fbuf, fb, len);
    switch (code) {
    case RG_NUM_EMPTY:
        return rg_error(REGNN_E_FORMAT, "%s: line %zu, column %zu ('%s'): empty field", cx->where,
                        line, col, nbuf);
    case RG_NUM_NONFINITE:
        return rg_error(REGNN_E_NUMERIC,
                        "%s: line %zu, column %zu ('%s'): '%s' is not a finite number", cx->where,
                        line, col, nbuf, fbuf);
    case RG_NUM_RANGE:
        return rg_error(REGNN_E_NUMERIC,
                        "%s: line %zu, column %zu ('%s'): '%s' is out of the float range",
                        cx->where, line, col, nbuf, fbuf);
    default:
        return rg_error(REGNN_E_FORMAT,
                        "%s: line %zu, column %zu ('%s'): expected a number, found '%s'",
                        cx->where, line, col, nbuf, fbuf);
    }
}

/* Where parse_rows puts a record's values: column c goes to target or
 * feature map[c] - 1 (targets [0, n_y), then features). */
typedef struct row_dest {
    char **names;
    const size_t *map;
    size_t ncols, n_x, n_y;
    float *x, *y;
} row_dest;

static regnn_status field_count_error(const csv_ctx *cx, size_t line, const char *rs,
                                      const char *end, size_t ncols)
{
    return rg_error(REGNN_E_FORMAT, "%s: line %zu: expected %zu fields, found %zu", cx->where,
                    line, ncols, record_fields(rs, end));
}

/* A quoted field at *pp (on its opening quote) of the record starting at
 * rs: [*fb, *fe) is its trimmed content, and *pp moves past the closing
 * quote and the spaces after it. *code is RG_NUM_SYNTAX when the content
 * holds a "": a number has no quote in it. */
static regnn_status quoted_field(const csv_ctx *cx, const char **pp, const char *end,
                                 const char *rs, size_t line, size_t col, const char **fb,
                                 const char **fe, int *code)
{
    const char *p = *pp, *open = p++;
    int doubled = 0;
    for (;;) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q)
            return rg_error(REGNN_E_FORMAT,
                            "%s: line %zu, column %zu: unterminated quote (opened at "
                            "byte offset %zu)",
                            cx->where, line, col, (size_t)(open - cx->text));
        if (q + 1 < end && q[1] == '"') {
            doubled = 1;
            p = q + 2;
            continue;
        }
        *fb = open + 1;
        *fe = q;
        p = q + 1;
        break;
    }
    while (p < end && is_space(*p))
        p++;
    if (p < end && *p != ',' && !is_break(*p)) {
        char buf[SHOW_CAP];
        return rg_error(REGNN_E_FORMAT,
                        "%s: line %zu, column %zu: unexpected '%s' after a closing "
                        "quote",
                        cx->where, line + count_breaks(rs, p), col, show(buf, sizeof buf, p, 1));
    }
    while (*fb < *fe && is_space(**fb))
        (*fb)++;
    while (*fe > *fb && is_space((*fe)[-1]))
        (*fe)--;
    *code = doubled ? RG_NUM_SYNTAX : RG_NUM_OK;
    *pp = p;
    return REGNN_OK;
}

/* An unquoted field at *pp, named name: [*fb, *fe) without trailing
 * spaces; *pp moves to the comma, line break or end after it. */
static regnn_status plain_field(const csv_ctx *cx, const char **pp, const char *end, size_t line,
                                size_t col, const char *name, const char **fb, const char **fe)
{
    const char *p = *pp;
    *fb = p;
    while (p < end && !field_stop[(unsigned char)*p])
        p++;
    if (p < end && *p == '"') {
        char buf[SHOW_CAP];
        return rg_error(REGNN_E_FORMAT,
                        "%s: line %zu, column %zu ('%s'): a double quote inside an "
                        "unquoted field (a quoted field starts with it)",
                        cx->where, line, col, show_str(buf, name));
    }
    *fe = p;
    while (*fe > *fb && is_space((*fe)[-1]))
        (*fe)--;
    *pp = p;
    return REGNN_OK;
}

/* The record at *pp (its line starts at rs, on line `line`) into row r;
 * *pp moves to the line break or end after it. */
static regnn_status parse_record(const csv_ctx *cx, const char **pp, const char *end,
                                 const char *rs, size_t line, const row_dest *d, size_t r)
{
    const char *p = *pp;
    size_t c = 0;
    for (;;) {
        if (c == d->ncols)
            return field_count_error(cx, line, rs, end, d->ncols);
        const char *fb = NULL, *fe = NULL;
        int code = RG_NUM_OK;
        regnn_status st = (p < end && *p == '"')
                              ? quoted_field(cx, &p, end, rs, line, c + 1, &fb, &fe, &code)
                              : plain_field(cx, &p, end, line, c + 1, d->names[c], &fb, &fe);
        if (st != REGNN_OK)
            return st;
        float v = 0.0f;
        if (code == RG_NUM_OK)
            code = rg_parse_float(fb, (size_t)(fe - fb), &v);
        if (code != RG_NUM_OK) {
            if (record_fields(rs, end) != d->ncols)
                return field_count_error(cx, line, rs, end, d->ncols);
            return number_error(cx, code, line + count_breaks(rs, fb), c + 1, d->names[c], fb,
                                (size_t)(fe - fb));
        }
        size_t k = d->map[c] - 1;
        if (k < d->n_y)
            d->y[r * d->n_y + k] = v;
        else
            d->x[r * d->n_x + (k - d->n_y)] = v;
        c++;
        if (p == end || is_break(*p))
            break;
        p++; /* the comma */
        while (p < end && is_space(*p))
            p++;
    }
    if (c != d->ncols)
        return field_count_error(cx, line, rs, end, d->ncols);
    *pp = p;
    return REGNN_OK;
}

/* The data rows from p: rows records of d->ncols fields into d. line is
 * the line p starts on. */
static regnn_status parse_rows(const csv_ctx *cx, const char *p, const char *end, size_t line,
                               const row_dest *d, size_t rows)
{
    size_t r = 0;
    while (p < end) {
        const char *rs = p;
        while (p < end && is_space(*p))
            p++;
        if (p == end)
            break;
        if (is_break(*p)) {
            p = skip_break(p, end);
            line++;
            continue;
        }
        if (r == rows) /* count_rows and this loop disagree */
            return rg_error(REGNN_E_INTERNAL, "%s: line %zu: row count mismatch", cx->where, line);
        regnn_status st = parse_record(cx, &p, end, rs, line, d, r);
        if (st != REGNN_OK)
            return st;
        if (p < end)
            p = skip_break(p, end);
        line++;
        r++;
    }
    return REGNN_OK;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

/* Input that is not text: a NUL byte anywhere, or a control byte in the
 * header (tab and line breaks aside). */
static regnn_status not_text(const csv_ctx *cx, const char *at)
{
    char buf[SHOW_CAP];
    return rg_error(REGNN_E_FORMAT,
                    "%s: line %zu, byte offset %zu: %s '%s'; the input is not text (binary "
                    "data, or UTF-16?)",
                    cx->where, line_of(cx, at), (size_t)(at - cx->text),
                    *at ? "control byte" : "NUL byte", show(buf, sizeof buf, at, 1));
}

/* The first control byte in [b, e) other than tab and line breaks, or NULL. */
static const char *first_control(const char *b, const char *e)
{
    for (; b < e; b++) {
        unsigned char c = (unsigned char)*b;
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
            return b;
    }
    return NULL;
}

static const char *find_break(const char *p, const char *end)
{
    while (p < end && !is_break(*p))
        p++;
    return p;
}

static regnn_status check_parse_args(const csv_ctx *cx, const char *text,
                                     const char *const *target_names, const size_t *target_cols,
                                     size_t n_targets)
{
    if (!text)
        return rg_error(REGNN_E_INVALID_ARG, "%s: text must not be NULL", cx->where);
    if ((target_names == NULL) == (target_cols == NULL))
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: give exactly one of target_names and target_cols", cx->where);
    if (n_targets == 0)
        return rg_error(REGNN_E_INVALID_ARG, "%s: n_targets must be at least 1", cx->where);
    return REGNN_OK;
}

/* Past a byte order mark and blank lines to the header of cx->text, which
 * has len bytes: *hb is where it starts and *line its line. */
static regnn_status find_header(const csv_ctx *cx, size_t len, const char **hb, size_t *line)
{
    const char *p = cx->text, *end = cx->text + len;
    const char *nul = memchr(p, '\0', len);
    if (nul)
        return not_text(cx, nul);
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* UTF-8 byte order mark */
    size_t ln = 1;
    for (;;) {
        while (p < end && is_space(*p))
            p++;
        if (p == end)
            return rg_error(REGNN_E_FORMAT, "%s: no header line (the input is empty)", cx->where);
        if (!is_break(*p))
            break;
        p = skip_break(p, end);
        ln++;
    }
    *hb = p;
    *line = ln;
    return REGNN_OK;
}

/* The header record at hb: its column count and end (past its line
 * break). The first line is checked for control bytes before its syntax, so
 * that binary input is called so; the whole header (quoted names may span
 * lines) after it. */
static regnn_status scan_header(const csv_ctx *cx, size_t line, const char *hb, const char *end,
                                size_t *ncols, const char **he)
{
    const char *ctl = first_control(hb, find_break(hb, end));
    if (ctl)
        return not_text(cx, ctl);
    regnn_status st = header_fields(cx, line, hb, end, NULL, NULL, ncols, he);
    if (st != REGNN_OK)
        return st;
    if ((ctl = first_control(hb, *he)) != NULL)
        return not_text(cx, ctl);
    if (*ncols == 1) {
        const char *e = *he;
        while (e > hb && is_break(e[-1]))
            e--;
        return one_column_error(cx, line, hb, e);
    }
    return REGNN_OK;
}

/* The header's names and where each column goes. */
typedef struct csv_header {
    char **names;         /* ncols names; their text is stored after the pointers */
    size_t *map;          /* map[c] - 1 indexes ordered; 0 while unplaced */
    const char **ordered; /* the target names, then the feature names */
    size_t ncols;
} csv_header;

static void header_free(csv_header *h)
{
    rg_free(h->ordered);
    rg_free(h->map);
    rg_free(h->names);
}

/* The header record at hb (on line `line`) into h, which the caller frees
 * whatever this returns; *he is set past the record. */
static regnn_status read_header(const csv_ctx *cx, size_t line, const char *hb, const char *end,
                                csv_header *h, const char **he)
{
    regnn_status st = scan_header(cx, line, hb, end, &h->ncols, he);
    if (st != REGNN_OK)
        return st;
    size_t ncols = h->ncols, block;
    /* Each name is at most its raw text, plus a terminator. */
    size_t store_len = (size_t)(*he - hb) + ncols;
    if (!rg_mul_ok(ncols, sizeof(char *), &block) || block > SIZE_MAX - store_len)
        return rg_error(REGNN_E_INVALID_ARG, "%s: header too large", cx->where);
    h->names = rg_malloc(block + store_len);
    h->map = h->names ? rg_calloc(ncols, sizeof *h->map) : NULL;
    h->ordered = h->map ? rg_calloc(ncols, sizeof *h->ordered) : NULL;
    if (!h->ordered)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory for a header of %zu columns", cx->where,
                        ncols);
    st = header_fields(cx, line, hb, end, h->names, (char *)(h->names + ncols), &h->ncols, he);
    if (st != REGNN_OK)
        return st;
    return check_duplicates(cx, line, h->names, h->ncols, h->ordered);
}

/* The column of target t, chosen by name or by index. */
static regnn_status target_column(const csv_ctx *cx, size_t line, const csv_header *h,
                                  const char *const *target_names, const size_t *target_cols,
                                  size_t t, size_t *col)
{
    size_t ncols = h->ncols, c = ncols;
    if (target_names) {
        if (!target_names[t])
            return rg_error(REGNN_E_INVALID_ARG, "%s: target_names[%zu] is NULL", cx->where, t);
        for (size_t j = 0; j < ncols && c == ncols; j++)
            if (strcmp(h->names[j], target_names[t]) == 0)
                c = j;
        if (c == ncols)
            return unknown_target(cx, line, target_names[t], h->names, ncols);
    } else {
        c = target_cols[t];
        if (c >= ncols)
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: target_cols[%zu] = %zu is out of range (%zu columns)", cx->where,
                            t, c, ncols);
    }
    *col = c;
    return REGNN_OK;
}

/* Fills h->map and h->ordered: the targets in the order given, then the
 * other columns in header order. line is the header's line. */
static regnn_status map_columns(const csv_ctx *cx, size_t line, csv_header *h,
                                const char *const *target_names, const size_t *target_cols,
                                size_t n_targets)
{
    size_t ncols = h->ncols;
    if (n_targets >= ncols)
        return rg_error(REGNN_E_INVALID_ARG,
                        "%s: %zu target column(s) leave no feature column (the header has %zu)",
                        cx->where, n_targets, ncols);
    for (size_t t = 0; t < n_targets; t++) {
        size_t c = 0;
        regnn_status st = target_column(cx, line, h, target_names, target_cols, t, &c);
        if (st != REGNN_OK)
            return st;
        if (h->map[c]) {
            char buf[SHOW_CAP];
            return rg_error(REGNN_E_INVALID_ARG,
                            "%s: column index %zu ('%s') is chosen as a target twice", cx->where,
                            c, show_str(buf, h->names[c]));
        }
        h->map[c] = t + 1;
        h->ordered[t] = h->names[c];
    }
    for (size_t c = 0, f = 0; c < ncols; c++) {
        if (!h->map[c]) {
            h->ordered[n_targets + f] = h->names[c];
            h->map[c] = n_targets + 1 + f++;
        }
    }
    return REGNN_OK;
}

/* The data rows from p (on line `line`) into a new dataset of h's columns,
 * the first n_y of h->ordered its targets. */
static regnn_status read_dataset(const csv_ctx *cx, const char *p, const char *end, size_t line,
                                 const csv_header *h, size_t n_y, regnn_dataset **out)
{
    size_t ncols = h->ncols, n_x = ncols - n_y;
    size_t rows = count_rows(p, end);
    if (rows == 0)
        return rg_error(REGNN_E_FORMAT, "%s: no data rows after the header", cx->where);
    size_t nbx, nby;
    if (!rg_mul_ok(rows, n_x, &nbx) || !rg_mul_ok(nbx, sizeof(float), &nbx) ||
        !rg_mul_ok(rows, n_y, &nby) || !rg_mul_ok(nby, sizeof(float), &nby))
        return rg_error(REGNN_E_INVALID_ARG, "%s: %zu rows of %zu columns is too large",
                        cx->where, rows, ncols);
    float *x = rg_malloc(nbx);
    float *y = x ? rg_malloc(nby) : NULL;
    regnn_status st = REGNN_OK;
    if (!y)
        st = rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu rows of %zu columns", cx->where,
                      rows, ncols);
    if (st == REGNN_OK) {
        const row_dest d = {h->names, h->map, ncols, n_x, n_y, x, y};
        st = parse_rows(cx, p, end, line, &d, rows);
    }
    if (st != REGNN_OK) {
        rg_free(x);
        rg_free(y);
        return st;
    }
    st = rg_dataset_adopt(x, y, rows, n_x, n_y, h->ordered + n_y, h->ordered, out);
    if (st == REGNN_E_NOMEM)
        st = rg_error(REGNN_E_NOMEM, "%s: out of memory for a dataset of %zu rows", cx->where, rows);
    return st;
}

static regnn_status parse_csv(csv_ctx *cx, const char *text, size_t len,
                              const char *const *target_names, const size_t *target_cols,
                              size_t n_targets, regnn_dataset **out)
{
    regnn_status st = check_parse_args(cx, text, target_names, target_cols, n_targets);
    if (st != REGNN_OK)
        return st;
    cx->text = text;
    const char *hb = text, *he = NULL, *end = text + len;
    size_t line = 1;
    st = find_header(cx, len, &hb, &line);
    if (st != REGNN_OK)
        return st;
    csv_header h = {NULL, NULL, NULL, 0};
    st = read_header(cx, line, hb, end, &h, &he);
    if (st == REGNN_OK)
        st = map_columns(cx, line, &h, target_names, target_cols, n_targets);
    if (st == REGNN_OK)
        st = read_dataset(cx, he, end, line + count_breaks(hb, he), &h, n_targets, out);
    header_free(&h);
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

/* ------------------------------------------------------------------ */
/* Files                                                                */
/* ------------------------------------------------------------------ */

/* The whole of a regular file. Anything else is refused before reading: a
 * FIFO would block and a device such as /dev/zero never ends. */
static regnn_status read_text(const char *where, const char *path, char **data, size_t *len)
{
    char why[128];
    *data = NULL;
    *len = 0;
    int fd;
    size_t size;
    regnn_status st = rg_open_regular(where, path, &fd, &size);
    if (st != REGNN_OK)
        return st;
    /* One byte more than the size, so that a file that has grown shows it. */
    size_t cap = size + 1, n = 0;
    char *buf = rg_malloc(cap);
    if (!buf)
        st = rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu bytes", where, cap);
    while (st == REGNN_OK) {
        if (n == cap) {
            /* No realloc in the allocator interface: grow by copying. */
            char *bigger = cap <= SIZE_MAX / 4 ? rg_malloc(cap * 2) : NULL;
            if (!bigger) {
                st = rg_error(REGNN_E_NOMEM, "%s: out of memory reading (%zu bytes so far)",
                              where, n);
                break;
            }
            memcpy(bigger, buf, n);
            rg_free(buf);
            buf = bigger;
            cap *= 2;
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            rg_errno_text(errno, why, sizeof why);
            st = rg_error(REGNN_E_IO, "%s: cannot read: %s", where, why);
        } else if (k == 0) {
            break;
        } else {
            n += (size_t)k;
        }
    }
    close(fd);
    if (st != REGNN_OK) {
        rg_free(buf);
        return st;
    }
    *data = buf;
    *len = n;
    return REGNN_OK;
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
    if (!*path)
        return rg_error(REGNN_E_INVALID_ARG, "%s: path is empty", fn);
    /* Argument errors first, so that they do not depend on the file. */
    if ((target_names == NULL) == (target_cols == NULL))
        return rg_error(REGNN_E_INVALID_ARG, "%s: give exactly one of target_names and target_cols",
                        fn);
    if (n_targets == 0)
        return rg_error(REGNN_E_INVALID_ARG, "%s: n_targets must be at least 1", fn);

    csv_ctx cx;
    snprintf(cx.where, sizeof cx.where, "%s: '%.200s'", fn, path);
    char *buf;
    size_t len;
    regnn_status st = read_text(cx.where, path, &buf, &len);
    if (st != REGNN_OK)
        return st;
    st = parse_csv(&cx, buf, len, target_names, target_cols, n_targets, out);
    rg_free(buf);
    return st;
}
