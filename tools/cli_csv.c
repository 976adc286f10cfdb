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

/* Tokenize text (RFC 4180 with delimiter delim); blank lines are skipped,
 * every record must have the header's field count. */
static int tokenize(const char *path, const char *text, size_t len, char delim, table *t)
{
    memset(t, 0, sizeof *t);
    t->arena = malloc(len + 1 + len + 1); /* each field's bytes plus a NUL, at most 2 per byte */
    size_t cap_off = 64, cap_rec = 16, n_off = 0, used = 0, line = 1;
    t->off = malloc(cap_off * sizeof *t->off);
    t->line = malloc(cap_rec * sizeof *t->line);
    if (!t->arena || !t->off || !t->line) {
        table_free(t);
        return cli_fail(CLI_ERR, "out of memory");
    }
    size_t i = 0;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        i = 3; /* a UTF-8 byte order mark */
    while (i < len) {
        if (text[i] == '\n' || text[i] == '\r') { /* blank line */
            if (text[i] == '\n')
                line++;
            i++;
            continue;
        }
        size_t rec_line = line, nf = 0;
        for (;;) { /* one field */
            if (n_off == cap_off) {
                size_t *no = realloc(t->off, 2 * cap_off * sizeof *no);
                if (!no) {
                    table_free(t);
                    return cli_fail(CLI_ERR, "out of memory");
                }
                t->off = no;
                cap_off *= 2;
            }
            t->off[n_off++] = used;
            nf++;
            if (i < len && text[i] == '"') {
                i++;
                for (;;) {
                    if (i >= len) {
                        table_free(t);
                        return cli_fail(CLI_ERR, "cannot read the data: '%s': line %zu: a quoted "
                                                 "field is not closed", path, rec_line);
                    }
                    if (text[i] == '"' && i + 1 < len && text[i + 1] == '"') {
                        t->arena[used++] = '"';
                        i += 2;
                    } else if (text[i] == '"') {
                        i++;
                        break;
                    } else {
                        if (text[i] == '\n')
                            line++;
                        t->arena[used++] = text[i++];
                    }
                }
            }
            while (i < len && text[i] != delim && text[i] != '\n' && text[i] != '\r')
                t->arena[used++] = text[i++];
            t->arena[used++] = '\0';
            if (i < len && text[i] == delim) {
                i++;
                continue;
            }
            break;
        }
        if (i < len && text[i] == '\r')
            i++;
        if (i < len && text[i] == '\n') {
            i++;
            line++;
        }
        if (t->nrec == 0) {
            t->ncols = nf;
        } else if (nf != t->ncols) {
            size_t cols = t->ncols;
            table_free(t);
            return cli_fail(CLI_ERR, "cannot read the data: '%s': line %zu has %zu field%s, the "
                                     "header %zu (is the delimiter '%c'? see --delimiter)",
                            path, rec_line, nf, nf == 1 ? "" : "s", cols, delim);
        }
        if (t->nrec == cap_rec) {
            size_t *nl = realloc(t->line, 2 * cap_rec * sizeof *nl);
            if (!nl) {
                table_free(t);
                return cli_fail(CLI_ERR, "out of memory");
            }
            t->line = nl;
            cap_rec *= 2;
        }
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

/* Checks the kept columns and writes the rewritten file; rows_dropped and
 * filled report what --na did. */
static int rewrite(const cli_train_opts *o, const table *t, const unsigned char *keep,
                   sbuf *out, size_t *rows_dropped, size_t *filled)
{
    const size_t nc = t->ncols, nr = t->nrec - 1;
    double *mean = calloc(nc, sizeof *mean);
    size_t *missing = calloc(nc, sizeof *missing), *present = calloc(nc, sizeof *present);
    unsigned char *drop_row = calloc(nr ? nr : 1, 1);
    int rc = CLI_ERR;
    if (!mean || !missing || !present || !drop_row) {
        cli_fail(CLI_ERR, "out of memory");
        goto out;
    }
    /* Classify: a text cell refuses its column; missing cells are counted. */
    for (size_t c = 0; c < nc; c++) {
        if (!keep[c])
            continue;
        for (size_t r = 1; r <= nr; r++) {
            const char *f = field(t, r, c);
            double v;
            if (cli_is_missing(f)) {
                missing[c]++;
            } else if (is_number(f, &v)) {
                mean[c] += v;
                present[c]++;
            } else if (listed(o->targets, o->n_targets, field(t, 0, c)) ||
                       (o->weight && strcmp(o->weight, field(t, 0, c)) == 0)) {
                cli_fail(CLI_ERR, "%s: column '%s' holds text (line %zu: '%.40s'), not numbers",
                         o->data, field(t, 0, c), t->line[r], f);
                goto out;
            } else {
                cli_fail(CLI_ERR,
                         "%s: column '%s' holds text (line %zu: '%.40s'), not numbers: leave "
                         "it out with --drop %s (an ID, a name or a category; encode a category "
                         "as numbers to use it)",
                         o->data, field(t, 0, c), t->line[r], f, field(t, 0, c));
                goto out;
            }
        }
        if (present[c])
            mean[c] /= (double)present[c];
    }
    for (size_t c = 0; c < nc; c++) {
        if (!keep[c] || !missing[c])
            continue;
        const char *name = field(t, 0, c);
        int special = listed(o->targets, o->n_targets, name) || (o->weight && !strcmp(o->weight, name));
        if (o->na == CLI_NA_ERROR) {
            size_t first = 0;
            for (size_t r = 1; r <= nr && !first; r++)
                if (cli_is_missing(field(t, r, c)))
                    first = t->line[r];
            cli_fail(CLI_ERR,
                     "%s: column '%s' has %zu missing value%s (of %zu rows; the first on line "
                     "%zu): --na drop leaves those rows out, --na mean fills them with the "
                     "column's mean%s, --drop %s leaves the column out",
                     o->data, name, missing[c], missing[c] == 1 ? "" : "s", nr, first,
                     special ? " (not for a target or weight: those rows are left out)" : "",
                     name);
            goto out;
        }
        if (present[c] == 0) {
            cli_fail(CLI_ERR, "%s: column '%s' has no values at all (%zu missing): leave it out "
                              "with --drop %s", o->data, name, missing[c], name);
            goto out;
        }
        for (size_t r = 1; r <= nr; r++)
            if (cli_is_missing(field(t, r, c)) && (o->na == CLI_NA_DROP || special))
                drop_row[r - 1] = 1;
    }
    size_t dropped = 0, fills = 0;
    const char *sep = "";
    for (size_t c = 0; c < nc; c++)
        if (keep[c]) {
            put_str(out, sep);
            put_name(out, field(t, 0, c));
            sep = ",";
        }
    put(out, "\n", 1);
    for (size_t r = 1; r <= nr; r++) {
        if (drop_row[r - 1]) {
            dropped++;
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
                snprintf(num, sizeof num, "%.17g", mean[c]);
                put_str(out, num);
                fills++;
            } else {
                put_str(out, f);
            }
        }
        put(out, "\n", 1);
    }
    if (out->oom) {
        cli_fail(CLI_ERR, "out of memory");
        goto out;
    }
    if (dropped == nr) {
        cli_fail(CLI_ERR, "%s: --na drop leaves no rows: every row has a missing value", o->data);
        goto out;
    }
    *rows_dropped = dropped;
    *filled = fills;
    rc = CLI_OK;
out:
    free(mean);
    free(missing);
    free(present);
    free(drop_row);
    return rc;
}

int cli_read_data(const cli_train_opts *o, regnn_dataset **out, size_t *dropped, size_t *filled)
{
    *out = NULL;
    *dropped = *filled = 0;
    char *text = NULL;
    size_t len = 0;
    table t;
    sbuf s = {NULL, 0, 0, 0};
    unsigned char *keep = NULL;
    int rc = read_file(o->data, &text, &len);
    if (rc != CLI_OK)
        return rc;
    rc = tokenize(o->data, text, len, o->delimiter, &t);
    free(text);
    if (rc != CLI_OK)
        return rc;
    rc = CLI_ERR;
    keep = malloc(t.ncols);
    if (!keep) {
        cli_fail(CLI_ERR, "out of memory");
        goto out;
    }
    for (size_t c = 0; c < t.ncols; c++)
        keep[c] = !listed(o->drops, o->n_drops, field(&t, 0, c));
    for (size_t k = 0; k < o->n_drops; k++) {
        size_t c = column_index(&t, o->drops[k]);
        if (c == (size_t)-1) {
            cli_fail(CLI_USAGE, "--drop %s: %s has no column named '%s'", o->drops[k], o->data,
                     o->drops[k]);
            rc = CLI_USAGE;
            goto out;
        }
        if (listed(o->targets, o->n_targets, o->drops[k]) ||
            (o->weight && strcmp(o->weight, o->drops[k]) == 0)) {
            cli_fail(CLI_USAGE, "--drop %s: that column is the target or the weight",
                     o->drops[k]);
            rc = CLI_USAGE;
            goto out;
        }
    }
    for (size_t k = 0; k < o->n_targets; k++)
        if (column_index(&t, o->targets[k]) == (size_t)-1) {
            /* the library's message: it lists the columns and near misses */
            sbuf h = {NULL, 0, 0, 0};
            for (size_t c = 0; c < t.ncols; c++) {
                put_str(&h, c ? "," : "");
                put_name(&h, field(&t, 0, c));
            }
            put(&h, "\n", 1);
            regnn_dataset *ds = NULL;
            if (!h.oom && regnn_dataset_parse_csv(h.b, h.n, o->targets, NULL, o->n_targets, &ds) !=
                              REGNN_OK)
                cli_lib_fail("cannot read the data");
            else
                cli_fail(CLI_ERR, "%s: no column named '%s'", o->data, o->targets[k]);
            regnn_dataset_free(ds);
            free(h.b);
            goto out;
        }
    size_t rows_dropped = 0, fills = 0;
    if (rewrite(o, &t, keep, &s, &rows_dropped, &fills) != CLI_OK)
        goto out;
    if (regnn_dataset_parse_csv(s.b, s.n, o->targets, NULL, o->n_targets, out) != REGNN_OK) {
        cli_lib_fail("cannot read the data");
        goto out;
    }
    *dropped = rows_dropped;
    *filled = fills;
    rc = CLI_OK;
out:
    free(keep);
    free(s.b);
    table_free(&t);
    return rc;
}
