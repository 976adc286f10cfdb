/* SPDX-License-Identifier: MIT */
/* cli_csv.c - reading a real-world CSV file for fit and path (see cli.h):
 * another delimiter, columns to leave out, missing values, and a clear message
 * for a text column or a missing value. The file is tokenized here (RFC 4180
 * quoting), rewritten as the plain comma-separated numbers the library reads,
 * and parsed by regnn_dataset_parse_csv, so numbers go through the library's
 * own parser (same bits as regnn_dataset_from_csv). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Spellings of a missing value (R's NA, pandas' NaN and empty, ...). */
static const char *const na_words[] = {"", "NA", "N/A", "NaN", "nan", "NULL", "null", "?", "."};

int cli_is_missing(const char *s)
{
    for (size_t i = 0; i < sizeof na_words / sizeof na_words[0]; i++)
        if (strcmp(s, na_words[i]) == 0)
            return 1;
    return 0;
}

/* A field as a number: strtod's syntax, the whole field (blanks around it
 * allowed), finite. */
static int is_number(const char *s, double *v)
{
    char *end = NULL;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s)
        return 0;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end || !isfinite(x))
        return 0;
    *v = x;
    return 1;
}

/* Whole regular file into a NUL-terminated buffer; never blocks on a FIFO. */
static int read_file(const char *path, char **text, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return cli_fail(CLI_ERR, "cannot read the data: '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return cli_fail(CLI_ERR, "cannot read the data: '%s': not a regular file", path);
    }
    size_t cap = (size_t)sb.st_size + 1, n = 0;
    char *b = malloc(cap);
    if (!b) {
        close(fd);
        return cli_fail(CLI_ERR, "out of memory reading %s", path);
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                close(fd);
                return cli_fail(CLI_ERR, "out of memory reading %s", path);
            }
            b = nb;
            cap *= 2;
        }
        ssize_t k = read(fd, b + n, cap - 1 - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            free(b);
            close(fd);
            return cli_fail(CLI_ERR, "cannot read the data: '%s': %s", path, strerror(e));
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    b[n] = '\0';
    *text = b;
    *len = n;
    return CLI_OK;
}

/* The parsed file: every record's fields, unquoted, NUL-terminated in one
 * arena; field f of record r is at off[r * ncols + f]. */
typedef struct {
    char *arena;
    size_t *off;
    size_t *line; /* the file line each record starts on */
    size_t nrec, ncols;
} table;

static void table_free(table *t)
{
    free(t->arena);
    free(t->off);
    free(t->line);
    memset(t, 0, sizeof *t);
}

static const char *field(const table *t, size_t r, size_t c)
{
    return t->arena + t->off[r * t->ncols + c];
}

/* Tokenizer state: the text, where it is, and how full t's arrays are. */
typedef struct {
    const char *text;
    size_t len, i, line; /* line: the file line at i */
    char delim;
    size_t used, n_off, cap_off, cap_rec; /* arena bytes, offsets, capacities */
} tokens;

enum { TOK_OK, TOK_NOMEM, TOK_OPEN_QUOTE };

/* Room for one more element in *v (n used of *cap); 0, or -1 out of memory. */
static int grow(size_t **v, size_t *cap, size_t n)
{
    if (n < *cap)
        return 0;
    size_t *nv = realloc(*v, 2 * *cap * sizeof *nv);
    if (!nv)
        return -1;
    *v = nv;
    *cap *= 2;
    return 0;
}

/* One field at k->i into the arena: a quoted part ("" for a quote; it may
 * hold line breaks), then everything up to the delimiter or line end. */
static int read_field(tokens *k, table *t)
{
    const char *text = k->text;
    if (k->i < k->len && text[k->i] == '"') {
        k->i++;
        for (;;) {
            if (k->i >= k->len)
                return TOK_OPEN_QUOTE;
            if (text[k->i] == '"' && k->i + 1 < k->len && text[k->i + 1] == '"') {
                t->arena[k->used++] = '"';
                k->i += 2;
            } else if (text[k->i] == '"') {
                k->i++;
                break;
            } else {
                if (text[k->i] == '\n')
                    k->line++;
                t->arena[k->used++] = text[k->i++];
            }
        }
    }
    while (k->i < k->len && text[k->i] != k->delim && text[k->i] != '\n' && text[k->i] != '\r')
        t->arena[k->used++] = text[k->i++];
    t->arena[k->used++] = '\0';
    return TOK_OK;
}

/* The fields of one record into t; *nf is their count. k->i ends past the
 * record's line break. */
static int read_record(tokens *k, table *t, size_t *nf)
{
    *nf = 0;
    for (;;) {
        if (grow(&t->off, &k->cap_off, k->n_off) != 0)
            return TOK_NOMEM;
        t->off[k->n_off++] = k->used;
        ++*nf;
        int st = read_field(k, t);
        if (st != TOK_OK)
            return st;
        if (k->i < k->len && k->text[k->i] == k->delim) {
            k->i++;
            continue;
        }
        break;
    }
    if (k->i < k->len && k->text[k->i] == '\r')
        k->i++;
    if (k->i < k->len && k->text[k->i] == '\n') {
        k->i++;
        k->line++;
    }
    return TOK_OK;
}

/* Why tokenize stopped at the record on line rec_line: t is freed. */
static int tokenize_fail(const char *path, table *t, int st, size_t rec_line)
{
    table_free(t);
    if (st == TOK_OPEN_QUOTE)
        return cli_fail(CLI_ERR, "cannot read the data: '%s': line %zu: a quoted field is not "
                                 "closed", path, rec_line);
    return cli_fail(CLI_ERR, "out of memory");
}

/* Tokenize text (RFC 4180 with delimiter delim); blank lines are skipped,
 * every record must have the header's field count. */
static int tokenize(const char *path, const char *text, size_t len, char delim, table *t)
{
    memset(t, 0, sizeof *t);
    t->arena = malloc(len + 1 + len + 1); /* each field's bytes plus a NUL, at most 2 per byte */
    tokens k = {text, len, 0, 1, delim, 0, 0, 64, 16};
    t->off = malloc(k.cap_off * sizeof *t->off);
    t->line = malloc(k.cap_rec * sizeof *t->line);
    if (!t->arena || !t->off || !t->line)
        return tokenize_fail(path, t, TOK_NOMEM, 0);
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        k.i = 3; /* a UTF-8 byte order mark */
    while (k.i < len) {
        if (text[k.i] == '\n' || text[k.i] == '\r') { /* blank line */
            if (text[k.i] == '\n')
                k.line++;
            k.i++;
            continue;
        }
        size_t rec_line = k.line, nf;
        int st = read_record(&k, t, &nf);
        if (st != TOK_OK)
            return tokenize_fail(path, t, st, rec_line);
        if (t->nrec == 0) {
            t->ncols = nf;
        } else if (nf != t->ncols) {
            size_t cols = t->ncols;
            table_free(t);
            return cli_fail(CLI_ERR, "cannot read the data: '%s': line %zu has %zu field%s, the "
                                     "header %zu (is the delimiter '%c'? see --delimiter)",
                            path, rec_line, nf, nf == 1 ? "" : "s", cols, delim);
        }
        if (grow(&t->line, &k.cap_rec, t->nrec) != 0)
            return tokenize_fail(path, t, TOK_NOMEM, rec_line);
        t->line[t->nrec++] = rec_line;
    }
    if (t->nrec == 0) {
        table_free(t);
        return cli_fail(CLI_ERR, "cannot read the data: '%s': the file is empty", path);
    }
    return CLI_OK;
}

static size_t column_index(const table *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(field(t, 0, c), name) == 0)
            return c;
    return (size_t)-1;
}

static int listed(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], s) == 0)
            return 1;
    return 0;
}

/* A growing string for the rewritten file. */
typedef struct {
    char *b;
    size_t n, cap;
    int oom;
} sbuf;

static void put(sbuf *s, const char *p, size_t n)
{
    if (s->oom)
        return;
    if (s->n + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (s->n + n + 1 > cap)
            cap *= 2;
        char *nb = realloc(s->b, cap);
        if (!nb) {
            s->oom = 1;
            return;
        }
        s->b = nb;
        s->cap = cap;
    }
    memcpy(s->b + s->n, p, n);
    s->n += n;
    s->b[s->n] = '\0';
}

static void put_str(sbuf *s, const char *p) { put(s, p, strlen(p)); }

/* A header name for the rewritten file: quoted when it holds a comma, quote
 * or line break. */
static void put_name(sbuf *s, const char *name)
{
    if (!strpbrk(name, ",\"\r\n")) {
        put_str(s, name);
        return;
    }
    put(s, "\"", 1);
    for (const char *p = name; *p; p++)
        put(s, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
    put(s, "\"", 1);
}

/* Per kept column: the mean of its numbers, and its missing and present
 * cells; per row whether --na leaves it out. */
typedef struct {
    double *mean;
    size_t *missing, *present;
    unsigned char *drop_row;
} column_stats;

/* Whether name is a target or the weight column. */
static int is_special(const cli_train_opts *o, const char *name)
{
    return listed(o->targets, o->n_targets, name) || (o->weight && strcmp(o->weight, name) == 0);
}

/* Counts each kept column's missing cells and sums its numbers; a text cell
 * refuses its column. */
static int classify_columns(const cli_train_opts *o, const table *t, const unsigned char *keep,
                            column_stats *cs)
{
    const size_t nc = t->ncols, nr = t->nrec - 1;
    for (size_t c = 0; c < nc; c++) {
        if (!keep[c])
            continue;
        for (size_t r = 1; r <= nr; r++) {
            const char *f = field(t, r, c);
            double v;
            if (cli_is_missing(f)) {
                cs->missing[c]++;
            } else if (is_number(f, &v)) {
                cs->mean[c] += v;
                cs->present[c]++;
            } else if (is_special(o, field(t, 0, c))) {
                return cli_fail(CLI_ERR,
                                "%s: column '%s' holds text (line %zu: '%.40s'), not numbers",
                                o->data, field(t, 0, c), t->line[r], f);
            } else {
                return cli_fail(CLI_ERR,
                                "%s: column '%s' holds text (line %zu: '%.40s'), not numbers: "
                                "leave it out with --drop %s (an ID, a name or a category; "
                                "encode a category as numbers to use it)",
                                o->data, field(t, 0, c), t->line[r], f, field(t, 0, c));
            }
        }
        if (cs->present[c])
            cs->mean[c] /= (double)cs->present[c];
    }
    return CLI_OK;
}

/* The --na error for column c: how many cells miss and where the first is. */
static int missing_error(const cli_train_opts *o, const table *t, size_t c, size_t missing)
{
    const size_t nr = t->nrec - 1;
    const char *name = field(t, 0, c);
    size_t first = 0;
    for (size_t r = 1; r <= nr && !first; r++)
        if (cli_is_missing(field(t, r, c)))
            first = t->line[r];
    return cli_fail(CLI_ERR,
                    "%s: column '%s' has %zu missing value%s (of %zu rows; the first on line "
                    "%zu): --na drop leaves those rows out, --na mean fills them with the "
                    "column's mean%s, --drop %s leaves the column out",
                    o->data, name, missing, missing == 1 ? "" : "s", nr, first,
                    is_special(o, name) ? " (not for a target or weight: those rows are left out)"
                                        : "",
                    name);
}

/* Applies --na to the missing cells: an error, or the rows to leave out
 * (a missing target or weight always leaves its row out). */
static int handle_missing(const cli_train_opts *o, const table *t, const unsigned char *keep,
                          column_stats *cs)
{
    const size_t nc = t->ncols, nr = t->nrec - 1;
    for (size_t c = 0; c < nc; c++) {
        if (!keep[c] || !cs->missing[c])
            continue;
        const char *name = field(t, 0, c);
        int special = is_special(o, name);
        if (o->na == CLI_NA_ERROR)
            return missing_error(o, t, c, cs->missing[c]);
        if (cs->present[c] == 0)
            return cli_fail(CLI_ERR, "%s: column '%s' has no values at all (%zu missing): leave "
                                     "it out with --drop %s", o->data, name, cs->missing[c], name);
        for (size_t r = 1; r <= nr; r++)
            if (cli_is_missing(field(t, r, c)) && (o->na == CLI_NA_DROP || special))
                cs->drop_row[r - 1] = 1;
    }
    return CLI_OK;
}

/* The kept columns' header, then every row not left out, with each missing
 * cell filled by its column's mean. */
static void write_rows(const table *t, const unsigned char *keep, const column_stats *cs,
                       sbuf *out, size_t *dropped, size_t *fills)
{
    const size_t nc = t->ncols, nr = t->nrec - 1;
    const char *sep = "";
    for (size_t c = 0; c < nc; c++)
        if (keep[c]) {
            put_str(out, sep);
            put_name(out, field(t, 0, c));
            sep = ",";
        }
    put(out, "\n", 1);
    for (size_t r = 1; r <= nr; r++) {
        if (cs->drop_row[r - 1]) {
            ++*dropped;
            continue;
        }
        sep = "";
        for (size_t c = 0; c < nc; c++) {
            if (!keep[c])
                continue;
            const char *f = field(t, r, c);
            put_str(out, sep);
            sep = ",";
            if (cli_is_missing(f)) {
                char num[40];
                snprintf(num, sizeof num, "%.17g", cs->mean[c]);
                put_str(out, num);
                ++*fills;
            } else {
                put_str(out, f);
            }
        }
        put(out, "\n", 1);
    }
}

/* Checks the kept columns and writes the rewritten file; rows_dropped and
 * filled report what --na did. */
static int rewrite(const cli_train_opts *o, const table *t, const unsigned char *keep,
                   sbuf *out, size_t *rows_dropped, size_t *filled)
{
    const size_t nc = t->ncols, nr = t->nrec - 1;
    column_stats cs = {calloc(nc, sizeof *cs.mean), calloc(nc, sizeof *cs.missing),
                       calloc(nc, sizeof *cs.present), calloc(nr ? nr : 1, 1)};
    size_t dropped = 0, fills = 0;
    int rc;
    if (!cs.mean || !cs.missing || !cs.present || !cs.drop_row)
        rc = cli_fail(CLI_ERR, "out of memory");
    else
        rc = classify_columns(o, t, keep, &cs);
    if (rc == CLI_OK)
        rc = handle_missing(o, t, keep, &cs);
    if (rc == CLI_OK) {
        write_rows(t, keep, &cs, out, &dropped, &fills);
        if (out->oom)
            rc = cli_fail(CLI_ERR, "out of memory");
        else if (dropped == nr)
            rc = cli_fail(CLI_ERR, "%s: --na drop leaves no rows: every row has a missing value",
                          o->data);
    }
    if (rc == CLI_OK) {
        *rows_dropped = dropped;
        *filled = fills;
    }
    free(cs.mean);
    free(cs.missing);
    free(cs.present);
    free(cs.drop_row);
    return rc;
}

/* Which columns stay (all but --drop's, which must exist and not be a target
 * or the weight) into a new *keep. */
static int keep_columns(const cli_train_opts *o, const table *t, unsigned char **keep)
{
    *keep = malloc(t->ncols);
    if (!*keep)
        return cli_fail(CLI_ERR, "out of memory");
    for (size_t c = 0; c < t->ncols; c++)
        (*keep)[c] = !listed(o->drops, o->n_drops, field(t, 0, c));
    for (size_t k = 0; k < o->n_drops; k++) {
        if (column_index(t, o->drops[k]) == (size_t)-1)
            return cli_fail(CLI_USAGE, "--drop %s: %s has no column named '%s'", o->drops[k],
                            o->data, o->drops[k]);
        if (is_special(o, o->drops[k]))
            return cli_fail(CLI_USAGE, "--drop %s: that column is the target or the weight",
                            o->drops[k]);
    }
    return CLI_OK;
}

/* No column is named target: the library's message, which lists the
 * columns and near misses, from the header alone. */
static int no_target_column(const cli_train_opts *o, const table *t, const char *target)
{
    sbuf h = {NULL, 0, 0, 0};
    for (size_t c = 0; c < t->ncols; c++) {
        put_str(&h, c ? "," : "");
        put_name(&h, field(t, 0, c));
    }
    put(&h, "\n", 1);
    regnn_dataset *ds = NULL;
    if (!h.oom && regnn_dataset_parse_csv(h.b, h.n, o->targets, NULL, o->n_targets, &ds) !=
                      REGNN_OK)
        cli_lib_fail("cannot read the data");
    else
        cli_fail(CLI_ERR, "%s: no column named '%s'", o->data, target);
    regnn_dataset_free(ds);
    free(h.b);
    return CLI_ERR;
}

/* The checked columns of t rewritten as plain CSV, parsed by the library. */
static int table_dataset(const cli_train_opts *o, const table *t, regnn_dataset **out,
                         size_t *dropped, size_t *filled)
{
    unsigned char *keep = NULL;
    sbuf s = {NULL, 0, 0, 0};
    int rc = keep_columns(o, t, &keep);
    for (size_t k = 0; rc == CLI_OK && k < o->n_targets; k++)
        if (column_index(t, o->targets[k]) == (size_t)-1)
            rc = no_target_column(o, t, o->targets[k]);
    size_t rows_dropped = 0, fills = 0;
    if (rc == CLI_OK)
        rc = rewrite(o, t, keep, &s, &rows_dropped, &fills);
    if (rc == CLI_OK &&
        regnn_dataset_parse_csv(s.b, s.n, o->targets, NULL, o->n_targets, out) != REGNN_OK)
        rc = cli_lib_fail("cannot read the data");
    if (rc == CLI_OK) {
        *dropped = rows_dropped;
        *filled = fills;
    }
    free(keep);
    free(s.b);
    return rc;
}

int cli_read_data(const cli_train_opts *o, regnn_dataset **out, size_t *dropped, size_t *filled)
{
    *out = NULL;
    *dropped = *filled = 0;
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(o->data, &text, &len);
    if (rc != CLI_OK)
        return rc;
    table t;
    rc = tokenize(o->data, text, len, o->delimiter, &t);
    free(text);
    if (rc != CLI_OK)
        return rc;
    rc = table_dataset(o, &t, out, dropped, filled);
    table_free(&t);
    return rc;
}
