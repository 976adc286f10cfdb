/* SPDX-License-Identifier: MIT */
/* svgplot.c - see svgplot.h. Plain C11, no dependencies beyond libm. */
#include "svgplot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FONT "DejaVu Sans, Helvetica, Arial, sans-serif"

svgp_panel svgp_panel_init(void)
{
    svgp_panel p;
    memset(&p, 0, sizeof p);
    p.xmin = p.xmax = p.ymin = p.ymax = NAN;
    p.vline = p.hline = NAN;
    return p;
}

svgp_panel_ext svgp_panel_ext_init(void)
{
    svgp_panel_ext e;
    memset(&e, 0, sizeof e);
    return e;
}

static void put_escaped(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* Characters (not bytes) of a UTF-8 string: for width estimates. */
static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* A 1, 2 or 5 times 10^k step giving about `want` intervals over span. */
static double nice_step(double span, double want)
{
    if (!(span > 0))
        span = 1;
    double raw = span / want;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double m = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    return m * mag;
}

/* "1.25", "-0.5", "100": decimals implied by the step; U+2212 for minus. */
static void put_number(FILE *f, double v, double step)
{
    int dec = 0;
    if (step < 1)
        dec = (int)ceil(-log10(step) - 1e-9);
    if (dec > 8)
        dec = 8;
    if (fabs(v) < step * 1e-6)
        v = 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%.*f", dec, fabs(v));
    if (v < 0)
        fputs("\xE2\x88\x92", f);
    fputs(buf, f);
}

typedef struct {
    double left, right, top, bottom; /* plot area in px */
    double t0, t1;                   /* x range in axis units (log10 x for log axes) */
    double y0, y1;
    int logx, has_zero;
    double zero_t;                   /* axis position of x == 0 on a log axis */
} frame;

static int x_to_t(const frame *fr, double x, double *t)
{
    if (!isfinite(x))
        return 0;
    if (!fr->logx) {
        *t = x;
        return 1;
    }
    if (x > 0) {
        *t = log10(x);
        return 1;
    }
    if (x == 0 && fr->has_zero) {
        *t = fr->zero_t;
        return 1;
    }
    return 0;
}

static double px_x(const frame *fr, double t)
{
    return fr->left + (t - fr->t0) / (fr->t1 - fr->t0) * (fr->right - fr->left);
}

static double px_y(const frame *fr, double y)
{
    return fr->bottom - (y - fr->y0) / (fr->y1 - fr->y0) * (fr->bottom - fr->top);
}

static int point_px(const frame *fr, double x, double y, double *px, double *py)
{
    double t;
    if (!isfinite(y) || !x_to_t(fr, x, &t))
        return 0;
    *px = px_x(fr, t);
    *py = px_y(fr, y);
    return 1;
}

static void compute_frame(const svgp_panel *p, frame *fr)
{
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    int zero = 0;
    for (size_t s = 0; s < p->n_series; s++) {
        const svgp_series *se = &p->series[s];
        for (size_t i = 0; i < se->n; i++) {
            double x = se->x[i], y = se->y[i];
            if (!isfinite(x) || !isfinite(y))
                continue;
            if (p->logx && x <= 0) {
                if (x == 0)
                    zero = 1;
            } else {
                xlo = fmin(xlo, x);
                xhi = fmax(xhi, x);
            }
            double e = se->err && isfinite(se->err[i]) ? fabs(se->err[i]) : 0;
            ylo = fmin(ylo, y - e);
            yhi = fmax(yhi, y + e);
        }
    }
    if (isfinite(p->hline)) {
        ylo = fmin(ylo, p->hline);
        yhi = fmax(yhi, p->hline);
    }
    if (!isfinite(ylo)) {
        ylo = 0;
        yhi = 1;
    }
    if (isfinite(p->ymin))
        ylo = p->ymin;
    if (isfinite(p->ymax))
        yhi = p->ymax;
    if (!(yhi > ylo))
        yhi = ylo + 1;
    double ys = nice_step(yhi - ylo, 5);
    fr->y0 = isfinite(p->ymin) ? p->ymin : floor(ylo / ys + 1e-9) * ys;
    fr->y1 = isfinite(p->ymax) ? p->ymax : ceil(yhi / ys - 1e-9) * ys;
    if (!(fr->y1 > fr->y0))
        fr->y1 = fr->y0 + ys;

    fr->logx = p->logx;
    fr->has_zero = 0;
    if (p->logx) {
        double a = isfinite(xlo) ? log10(xlo) : -3, b = isfinite(xhi) ? log10(xhi) : 0;
        if (b - a < 1) { /* at least one decade wide */
            a -= 0.5;
            b += 0.5;
        }
        fr->t1 = b + 0.3;
        if (zero) {
            fr->has_zero = 1;
            fr->zero_t = floor(a + 1e-9) - 1;
            fr->t0 = fr->zero_t - 0.4;
        } else {
            fr->t0 = a - 0.3;
        }
    } else {
        if (!isfinite(xlo)) {
            xlo = 0;
            xhi = 1;
        }
        if (!(xhi > xlo))
            xhi = xlo + 1;
        double xs = nice_step(xhi - xlo, 5);
        fr->t0 = isfinite(p->xmin) ? p->xmin : floor(xlo / xs + 1e-9) * xs;
        fr->t1 = isfinite(p->xmax) ? p->xmax : ceil(xhi / xs - 1e-9) * xs;
    }
}

/* Horizontal shift of series s: series with error bars are spread around
 * each x by ex->dodge px, in their order. */
static double series_dx(const svgp_panel *p, const svgp_panel_ext *ex, size_t s)
{
    if (!ex || !(ex->dodge > 0) || !p->series[s].err)
        return 0;
    size_t k = 0, m = 0;
    for (size_t i = 0; i < p->n_series; i++) {
        if (p->series[i].err) {
            if (i < s)
                k++;
            m++;
        }
    }
    return ((double)k - (double)(m - 1) / 2) * ex->dodge;
}

/* How many sample points of the panel's lines fall into a box: used to put
 * the legend where it hides the least. */
static size_t points_in_box(const svgp_panel *p, const svgp_panel_ext *ex, const frame *fr,
                            double bx0, double by0, double bx1, double by1)
{
    size_t count = 0;
    for (size_t s = 0; s < p->n_series; s++) {
        const svgp_series *se = &p->series[s];
        double dx = series_dx(p, ex, s);
        double qx = 0, qy = 0;
        int have_prev = 0;
        for (size_t i = 0; i < se->n; i++) {
            double px, py;
            if (!point_px(fr, se->x[i], se->y[i], &px, &py)) {
                have_prev = 0;
                continue;
            }
            px += dx;
            int steps = have_prev ? 8 : 1;
            for (int k = 1; k <= steps; k++) {
                double u = (double)k / steps;
                double sx = have_prev ? qx + u * (px - qx) : px;
                double sy = have_prev ? qy + u * (py - qy) : py;
                if (sx >= bx0 && sx <= bx1 && sy >= by0 && sy <= by1)
                    count++;
            }
            qx = px;
            qy = py;
            have_prev = 1;
            /* The ends of an error bar count as points too. */
            if (se->err && isfinite(se->err[i])) {
                double ya = px_y(fr, se->y[i] - se->err[i]), yb = px_y(fr, se->y[i] + se->err[i]);
                count += (px >= bx0 && px <= bx1 && ya >= by0 && ya <= by1);
                count += (px >= bx0 && px <= bx1 && yb >= by0 && yb <= by1);
            }
        }
    }
    for (size_t k = 0; ex && k < ex->n_marks; k++) {
        double px, py;
        if (point_px(fr, ex->marks[k].x, ex->marks[k].y, &px, &py) && px >= bx0 && px <= bx1 &&
            py >= by0 && py <= by1)
            count++;
    }
    return count;
}

static int boxes_overlap(double ax0, double ay0, double ax1, double ay1, double bx0, double by0,
                         double bx1, double by1)
{
    return ax0 < bx1 && bx0 < ax1 && ay0 < by1 && by0 < ay1;
}

typedef struct {
    double w, h, x, y; /* size and chosen top-left corner */
    size_t items;
    size_t rows;         /* legend_below: 1 column (rows == items) or 2 filled row by row */
    double col_w;        /* legend_below: x offset of the second column */
} legend_box;

/* Put the legend in the corner that hides the fewest points and stays off
 * the vline label; returns that count. */
static size_t place_legend(const svgp_panel *p, const svgp_panel_ext *ex, const frame *fr,
                           const double *lab, int has_lab, legend_box *lg)
{
    size_t best_count = (size_t)-1;
    const int corners[4][2] = {{1, 0}, {0, 0}, {1, 1}, {0, 1}}; /* UR, UL, LR, LL */
    for (int c = 0; c < 4; c++) {
        double x0 = corners[c][0] ? fr->right - 8 - lg->w : fr->left + 8;
        double y0 = corners[c][1] ? fr->bottom - 8 - lg->h : fr->top + 8;
        size_t cnt = points_in_box(p, ex, fr, x0, y0, x0 + lg->w, y0 + lg->h);
        if (has_lab && boxes_overlap(x0, y0, x0 + lg->w, y0 + lg->h, lab[0], lab[1], lab[2], lab[3]))
            cnt += 100000;
        if (cnt < best_count) {
            best_count = cnt;
            lg->x = x0;
            lg->y = y0;
        }
    }
    return best_count;
}

/* Boxes of text already placed in the plot area, so later notes avoid them. */
#define MAX_TAKEN 128
typedef struct {
    double b[MAX_TAKEN][4];
    size_t n;
} taken_boxes;

static int box_free(const taken_boxes *t, double x0, double y0, double x1, double y1)
{
    if (t->n >= MAX_TAKEN) /* cannot tell any more: better no note than one on top of another */
        return 0;
    for (size_t i = 0; i < t->n; i++)
        if (boxes_overlap(x0, y0, x1, y1, t->b[i][0], t->b[i][1], t->b[i][2], t->b[i][3]))
            return 0;
    return 1;
}

static void box_take(taken_boxes *t, double x0, double y0, double x1, double y1)
{
    if (t->n < MAX_TAKEN) {
        t->b[t->n][0] = x0;
        t->b[t->n][1] = y0;
        t->b[t->n][2] = x1;
        t->b[t->n][3] = y1;
        t->n++;
    }
}

enum { EDGE_TOP, EDGE_BOTTOM, EDGE_LEFT, EDGE_RIGHT };

/* Which edge a point lies beyond, or -1 inside the plot area. */
static int outside_edge(const frame *fr, double px, double py)
{
    const double tol = 0.01;
    if (py < fr->top - tol)
        return EDGE_TOP;
    if (py > fr->bottom + tol)
        return EDGE_BOTTOM;
    if (px < fr->left - tol)
        return EDGE_LEFT;
    if (px > fr->right + tol)
        return EDGE_RIGHT;
    return -1;
}

/* One arrow at the plot edge for every run of consecutive points that lie
 * outside the plot area: at the point where the line leaves (or enters) the
 * area, pointing outwards, with a note giving the run's extreme value. */
static void draw_offscale(FILE *f, const svgp_panel *p, const svgp_panel_ext *ex, const frame *fr,
                          const svgp_series *se, double dx, const char *color, taken_boxes *taken)
{
    size_t i = 0;
    while (i < se->n) {
        double px, py;
        int edge;
        if (!point_px(fr, se->x[i], se->y[i], &px, &py) ||
            (edge = outside_edge(fr, px + dx, py)) < 0) {
            i++;
            continue;
        }
        /* The run: consecutive drawable points beyond the same edge. */
        size_t j = i;
        double extreme = se->y[i];
        double ox = 0, oy = 0;
        while (j < se->n && point_px(fr, se->x[j], se->y[j], &ox, &oy) &&
               outside_edge(fr, ox + dx, oy) == edge) {
            extreme = edge == EDGE_BOTTOM ? fmin(extreme, se->y[j]) : fmax(extreme, se->y[j]);
            j++;
        }
        /* Where the line crosses the edge: towards the inside neighbour. */
        double ax, ay, bx = px + dx, by = py, cx, cy;
        int have_in = 0;
        if (i > 0 && point_px(fr, se->x[i - 1], se->y[i - 1], &ax, &ay) &&
            outside_edge(fr, ax + dx, ay) < 0) {
            have_in = 1;
        } else if (j < se->n && point_px(fr, se->x[j], se->y[j], &ax, &ay) &&
                   outside_edge(fr, ax + dx, ay) < 0) {
            have_in = 1;
            point_px(fr, se->x[j - 1], se->y[j - 1], &bx, &by);
            bx += dx;
        }
        if (have_in) {
            ax += dx;
            double edge_v = edge == EDGE_TOP ? fr->top : edge == EDGE_BOTTOM ? fr->bottom
                            : edge == EDGE_LEFT ? fr->left : fr->right;
            double u = edge == EDGE_TOP || edge == EDGE_BOTTOM ? (edge_v - ay) / (by - ay)
                                                                : (edge_v - ax) / (bx - ax);
            if (!(u >= 0 && u <= 1))
                u = 1;
            cx = ax + u * (bx - ax);
            cy = ay + u * (by - ay);
        } else {
            cx = bx;
            cy = by;
        }
        cx = fmin(fmax(cx, fr->left), fr->right);
        cy = fmin(fmax(cy, fr->top), fr->bottom);

        /* Arrow with its tip on the edge, moved along it off earlier arrows. */
        double tx = cx, ty = cy, l = 9, h = 5;
        double p1x, p1y, p2x, p2y;
        int vertical = edge == EDGE_TOP || edge == EDGE_BOTTOM;
        for (int k = 0; k < 9; k++) {
            double shift = (k % 2 ? -1 : 1) * ((k + 1) / 2) * (2 * h + 1); /* 0, -11, 11, -22, .. */
            if (vertical) {
                tx = fmin(fmax(cx + shift, fr->left + h + 1), fr->right - h - 1);
                ty = edge == EDGE_TOP ? fr->top + 1 : fr->bottom - 1;
            } else {
                ty = fmin(fmax(cy + shift, fr->top + h + 1), fr->bottom - h - 1);
                tx = edge == EDGE_LEFT ? fr->left + 1 : fr->right - 1;
            }
            if (box_free(taken, tx - h, ty - l, tx + h, ty + l))
                break;
        }
        box_take(taken, tx - h, ty - l, tx + h, ty + l);
        if (vertical) {
            double sg = edge == EDGE_TOP ? 1 : -1;
            p1x = tx - h;
            p2x = tx + h;
            p1y = p2y = ty + sg * l;
        } else {
            double sg = edge == EDGE_LEFT ? 1 : -1;
            p1y = ty - h;
            p2y = ty + h;
            p1x = p2x = tx + sg * l;
        }
        fprintf(f, "<g class=\"offscale\"><path fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.8\" "
                   "d=\"M%.1f %.1f L%.1f %.1f L%.1f %.1f Z\"/>\n", color, tx, ty, p1x, p1y, p2x,
                p2y);

        /* The note beside the arrow: the first place, moving away from it,
         * that covers no line and no earlier note; left out only when there
         * is none. */
        char note[64];
        if (edge == EDGE_TOP || edge == EDGE_BOTTOM) {
            char v[32];
            snprintf(v, sizeof v, "%.3g", extreme);
            snprintf(note, sizeof note, "off scale, %s %s%s", edge == EDGE_TOP ? "max" : "min",
                     extreme < 0 ? "\xE2\x88\x92" : "", v[0] == '-' ? v + 1 : v);
        } else {
            snprintf(note, sizeof note, "off scale");
        }
        double tw = 5.6 * (double)utf8_len(note), th = 12;
        double best_x = 0, best_y = 0;
        size_t best_cnt = (size_t)-1;
        for (int k = 0; k < 6 && best_cnt > 0; k++) {
            for (int sh = 0; sh < 8 && best_cnt > 0; sh++) {
                double x0, y0, off = 8 + 16 * sh;
                if (vertical) {
                    x0 = sh % 2 == 0 ? tx + off : tx - off - tw;
                    y0 = edge == EDGE_TOP ? fr->top + 2 + k * th : fr->bottom - 2 - th - k * th;
                } else {
                    x0 = edge == EDGE_LEFT ? fr->left + 12 + 16 * sh : fr->right - 12 - tw - 16 * sh;
                    y0 = ty - th / 2 + (ty < (fr->top + fr->bottom) / 2 ? 1 : -1) * k * th;
                }
                if (x0 < fr->left + 2 || x0 + tw > fr->right - 2 || y0 < fr->top ||
                    y0 + th > fr->bottom || !box_free(taken, x0, y0, x0 + tw, y0 + th))
                    continue;
                size_t cnt = points_in_box(p, ex, fr, x0, y0, x0 + tw, y0 + th);
                if (cnt < best_cnt) {
                    best_cnt = cnt;
                    best_x = x0;
                    best_y = y0;
                }
            }
        }
        if (best_cnt != (size_t)-1) {
            box_take(taken, best_x, best_y, best_x + tw, best_y + th);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"%s\">", best_x,
                    best_y + 9.5, color);
            put_escaped(f, note);
            fputs("</text>\n", f);
        }
        fputs("</g>\n", f);
        i = j;
    }
}

/* Tick label of a log axis at 10^t: "1", "10", "10^k", or "m×10^k" off the decades. */
static void put_log_label(FILE *f, double t)
{
    int k = (int)floor(t + 1e-9);
    double m = pow(10, t - k);
    if (fabs(m - 1) < 1e-6) {
        if (k == 0)
            fputs("1", f);
        else if (k == 1)
            fputs("10", f);
        else
            fprintf(f, "10<tspan dy=\"-6\" font-size=\"9\">%s%d</tspan>", k < 0 ? "\xE2\x88\x92" : "",
                    k < 0 ? -k : k);
        return;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%.3g", m);
    fprintf(f, "%s\xC3\x97" "10<tspan dy=\"-6\" font-size=\"9\">%s%d</tspan>", buf,
            k < 0 ? "\xE2\x88\x92" : "", k < 0 ? -k : k);
}

/* Rough width in px of a tick label at font size 11. */
static double log_label_width(double t)
{
    int k = (int)floor(t + 1e-9);
    double m = pow(10, t - k);
    double w = (k == 0 || k == 1) ? 6.5 * (k + 1) : 13 + 5.5 * (k < 0 ? 2 : 1) * (abs(k) >= 10 ? 2 : 1);
    if (fabs(m - 1) >= 1e-6) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.3g", m);
        w += 6.5 * (double)(strlen(buf) + 1);
    }
    return w;
}

static void draw_xtick(FILE *f, const frame *fr, double t, int log_label, double step,
                       int second_row)
{
    double px = px_x(fr, t);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", px,
            fr->bottom, px, fr->bottom + (second_row ? 15 : 5));
    fprintf(f, "<text class=\"xtick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
               "font-size=\"11\">", px, fr->bottom + (second_row ? 31 : 19));
    if (log_label)
        put_log_label(f, t);
    else
        put_number(f, t, step);
    fputs("</text>\n", f);
}

typedef struct {
    const svgp_series *se; /* NULL: the marks entry */
    const char *label;
    const char *mark_color;
} legend_entry;

static void draw_legend_entry(FILE *f, const legend_entry *e, double x, double y)
{
    if (!e->se) {
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"none\" stroke=\"%s\" "
                   "stroke-width=\"1.6\"/>\n", x + 19, y, e->mark_color ? e->mark_color : "#222");
    } else {
        const svgp_series *se = e->se;
        double w = se->width > 0 ? se->width : 2;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"%.2f\"", x + 7, y, x + 31, y,
                se->color ? se->color : "#333", w < 1.5 ? 1.5 : w);
        if (se->dash)
            fprintf(f, " stroke-dasharray=\"%s\"", se->dash);
        fputs("/>\n", f);
        if (se->markers)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.6\" fill=\"%s\"/>\n", x + 19, y,
                    se->color ? se->color : "#333");
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11.5\">", x + 36, y + 4);
    put_escaped(f, e->label);
    fputs("</text>\n", f);
}

#define LEGEND_ROW 17.0

static void draw_panel(FILE *f, const svgp_panel *p, const svgp_panel_ext *ex, size_t idx, double ox,
                       double oy, double pw, double ph)
{
    frame fr;
    compute_frame(p, &fr);

    /* Legend entries: the labelled series, then the marks. */
    size_t n_entries = 0;
    for (size_t s = 0; s < p->n_series; s++)
        n_entries += p->series[s].label && *p->series[s].label;
    int has_marks_entry = ex && ex->n_marks > 0 && ex->marks_label && *ex->marks_label;
    n_entries += (size_t)has_marks_entry;
    legend_entry entries_buf[16];
    legend_entry *entries = entries_buf;
    if (n_entries > 16) {
        entries = malloc(n_entries * sizeof *entries);
        if (!entries)
            n_entries = 0; /* no memory: the figure without its legend */
    }
    size_t ne = 0;
    for (size_t s = 0; s < p->n_series && ne < n_entries; s++) {
        if (p->series[s].label && *p->series[s].label) {
            entries[ne].se = &p->series[s];
            entries[ne].label = p->series[s].label;
            entries[ne++].mark_color = NULL;
        }
    }
    if (has_marks_entry && ne < n_entries) {
        entries[ne].se = NULL;
        entries[ne].label = ex->marks_label;
        entries[ne++].mark_color = ex->marks[0].color;
    }

    legend_box lg = {0, 0, 0, 0, ne, 0, 0};
    int below = ex && ex->legend_below && ne > 0;
    double avail = pw - 20;
    if (below) {
        /* Two columns filled row by row when they fit side by side, else one;
         * an odd last entry may use the width of both. */
        size_t rows = (ne + 1) / 2;
        double w0 = 0, w1 = 0, wl = 0;
        for (size_t k = 0; k < ne; k++) {
            double w = 40 + 6.3 * (double)utf8_len(entries[k].label);
            if (k + 1 == ne && ne % 2 == 1)
                wl = w;
            else if (k % 2 == 0)
                w0 = fmax(w0, w);
            else
                w1 = fmax(w1, w);
        }
        if (ne > 1 && w0 + w1 + 12 <= avail && wl <= avail) {
            lg.rows = rows;
            lg.col_w = w0 + 12;
            lg.w = fmax(w0 + w1 + 12, wl);
        } else {
            lg.rows = ne;
            lg.col_w = 0;
            lg.w = fmax(fmax(w0, w1), wl);
        }
        lg.h = 8 + LEGEND_ROW * (double)lg.rows;
    }
    fr.left = ox + 66;
    fr.right = ox + pw - 18;
    fr.top = oy + (p->subtitle ? 54 : 40);
    fr.bottom = oy + ph - 50 - (below ? lg.h + 8 : 0);

    /* Labels of data x ticks that would collide with their neighbours go to
     * a second row; the axis label then moves down. */
    int second_row_used = 0;

    /* Legend size, the vline label's box, and headroom: when the y range is
     * automatic, raise its top until the legend has an empty corner. */
    if (!below) {
        size_t maxlen = 0;
        for (size_t k = 0; k < ne; k++) {
            size_t l = utf8_len(entries[k].label);
            if (l > maxlen)
                maxlen = l;
        }
        lg.w = 40 + 6.3 * (double)maxlen;
        lg.h = 8 + LEGEND_ROW * (double)ne;
    }
    double lab[4] = {0, 0, 0, 0};
    int has_lab = 0, lab_right = 0;
    double vt;
    if (isfinite(p->vline) && p->vline_label && x_to_t(&fr, p->vline, &vt)) {
        double px = px_x(&fr, vt);
        double lw = 6.0 * (double)utf8_len(p->vline_label);
        has_lab = 1;
        lab_right = px - 6 - lw < fr.left; /* no room on the left: put it right of the line */
        lab[0] = lab_right ? px + 2 : px - 6 - lw;
        lab[1] = fr.top;
        lab[2] = lab_right ? px + 6 + lw : px + 2;
        lab[3] = fr.top + 17;
    }
    for (int tries = 0; !below && ne > 0; tries++) {
        if (place_legend(p, ex, &fr, lab, has_lab, &lg) == 0 || isfinite(p->ymax) || tries == 3)
            break;
        double grown = fr.y1 + nice_step(fr.y1 - fr.y0, 5);
        double st = nice_step(grown - fr.y0, 5);
        fr.y1 = ceil(grown / st - 1e-9) * st;
    }
    taken_boxes taken;
    taken.n = 0;
    if (has_lab)
        box_take(&taken, lab[0], lab[1], lab[2], lab[3]);
    if (!below && ne > 0)
        box_take(&taken, lg.x, lg.y, lg.x + lg.w, lg.y + lg.h);

    fprintf(f, "<g class=\"panel\" id=\"panel%zu\">\n", idx);
    /* Title and subtitle. */
    double cx = (fr.left + fr.right) / 2;
    if (p->title) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"15\" "
                   "font-weight=\"bold\">", cx, oy + 20);
        put_escaped(f, p->title);
        fputs("</text>\n", f);
    }
    if (p->subtitle) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11.5\" "
                   "fill=\"#555\">", cx, oy + 38);
        put_escaped(f, p->subtitle);
        fputs("</text>\n", f);
    }

    /* Background, grid and ticks. */
    fprintf(f, "<rect class=\"plot-area\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
               "fill=\"#fff\"/>\n", fr.left, fr.top, fr.right - fr.left, fr.bottom - fr.top);
    double ys = nice_step(fr.y1 - fr.y0, 5);
    for (double y = ceil(fr.y0 / ys - 1e-9) * ys; y <= fr.y1 + ys * 1e-9; y += ys) {
        double py = px_y(&fr, y);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>\n",
                fr.left, py, fr.right, py);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n",
                fr.left - 5, py, fr.left, py);
        fprintf(f, "<text class=\"ytick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                   "font-size=\"11\">", fr.left - 8, py + 4);
        put_number(f, y, ys);
        fputs("</text>\n", f);
    }
    /* Labelled x ticks: positions (axis units) and label half-widths, for the
     * collision test of the data ticks. */
    double tick_t[64], tick_hw[64];
    size_t n_ticks = 0;
    if (fr.logx) {
        for (int k = (int)ceil(fr.t0 - 1e-9); k <= (int)floor(fr.t1 + 1e-9); k++) {
            if (fr.has_zero && k <= fr.zero_t + 0.5)
                continue;
            double px = px_x(&fr, k);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>\n",
                    px, fr.top, px, fr.bottom);
            draw_xtick(f, &fr, k, 1, 0, 0);
            if (n_ticks < 64) {
                tick_t[n_ticks] = k;
                tick_hw[n_ticks++] = log_label_width(k) / 2;
            }
        }
        /* Minor ticks at 2..9 x 10^k. */
        for (int k = (int)floor(fr.t0) - 1; k <= (int)ceil(fr.t1); k++) {
            for (int m = 2; m <= 9; m++) {
                double t = k + log10((double)m);
                if (t < fr.t0 || t > fr.t1 || (fr.has_zero && t < fr.zero_t + 0.5))
                    continue;
                double px = px_x(&fr, t);
                fprintf(f,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n",
                        px, fr.bottom, px, fr.bottom + 3);
            }
        }
        if (fr.has_zero) {
            double px = px_x(&fr, fr.zero_t);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n",
                    px, fr.bottom, px, fr.bottom + 5);
            fprintf(f, "<text class=\"xtick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                       "font-size=\"11\">0</text>\n", px, fr.bottom + 19);
            if (n_ticks < 64) {
                tick_t[n_ticks] = fr.zero_t;
                tick_hw[n_ticks++] = 4;
            }
        }
    } else {
        double xs = nice_step(fr.t1 - fr.t0, 5);
        for (double x = ceil(fr.t0 / xs - 1e-9) * xs; x <= fr.t1 + xs * 1e-9; x += xs) {
            double px = px_x(&fr, x);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>\n",
                    px, fr.top, px, fr.bottom);
            draw_xtick(f, &fr, x, 0, xs, 0);
            if (n_ticks < 64) {
                tick_t[n_ticks] = x;
                tick_hw[n_ticks++] = 3.5 * 6.5;
            }
        }
    }
    if (ex && ex->data_xticks) {
        /* A labelled tick at every x of the data that has none yet. */
        double xs = fr.logx ? 0 : nice_step(fr.t1 - fr.t0, 5);
        for (size_t s = 0; s < p->n_series; s++) {
            const svgp_series *se = &p->series[s];
            for (size_t i = 0; i < se->n; i++) {
                double t;
                if (!x_to_t(&fr, se->x[i], &t) || t < fr.t0 || t > fr.t1)
                    continue;
                int dup = 0;
                double hw = fr.logx ? log_label_width(t) / 2 : 3.5 * 6.5;
                if (!fr.logx)
                    xs = fmin(xs, pow(10, floor(log10(fabs(t) + 1e-300)) - 2));
                for (size_t k = 0; k < n_ticks && !dup; k++)
                    dup = fabs(tick_t[k] - t) < 1e-9 * (1 + fabs(t));
                if (dup)
                    continue;
                double px = px_x(&fr, t);
                int clash = 0;
                for (size_t k = 0; k < n_ticks && !clash; k++)
                    clash = fabs(px_x(&fr, tick_t[k]) - px) < tick_hw[k] + hw + 3;
                draw_xtick(f, &fr, t, fr.logx, fr.logx ? 0 : fmax(xs, 1e-8), clash);
                second_row_used |= clash;
                if (n_ticks < 64) {
                    tick_t[n_ticks] = t;
                    tick_hw[n_ticks++] = clash ? 0 : hw;
                }
            }
        }
    }

    /* Axis labels. */
    if (p->xlabel) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12.5\">", cx,
                fr.bottom + (second_row_used ? 46 : 40));
        put_escaped(f, p->xlabel);
        fputs("</text>\n", f);
    }
    if (p->ylabel) {
        double ly = (fr.top + fr.bottom) / 2;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12.5\" "
                   "transform=\"rotate(-90 %.1f %.1f)\">", ox + 18, ly, ox + 18, ly);
        put_escaped(f, p->ylabel);
        fputs("</text>\n", f);
    }

    /* Reference lines. */
    fprintf(f, "<clipPath id=\"clip%zu\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
               "height=\"%.1f\"/></clipPath>\n",
            idx, fr.left, fr.top, fr.right - fr.left, fr.bottom - fr.top);
    fprintf(f, "<g clip-path=\"url(#clip%zu)\">\n", idx);
    if (isfinite(p->hline)) {
        double py = px_y(&fr, p->hline);
        fprintf(f, "<line class=\"hline\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#777\" stroke-dasharray=\"5 4\"/>\n", fr.left, py, fr.right, py);
        if (p->hline_label) {
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10.5\" "
                       "fill=\"#555\">", fr.right - 4, py - 4);
            put_escaped(f, p->hline_label);
            fputs("</text>\n", f);
        }
    }
    if (isfinite(p->vline) && x_to_t(&fr, p->vline, &vt)) {
        double px = px_x(&fr, vt);
        fprintf(f, "<line class=\"vline\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#777\" stroke-dasharray=\"5 4\"/>\n", px, fr.top, px, fr.bottom);
        if (p->vline_label) {
            fprintf(f, "<text class=\"vline-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
                       "font-size=\"10.5\" fill=\"#555\">", lab_right ? px + 4 : px - 4,
                    fr.top + 13, lab_right ? "start" : "end");
            put_escaped(f, p->vline_label);
            fputs("</text>\n", f);
        }
    }

    /* Series: lines, error bars, markers, off-scale arrows. */
    for (size_t s = 0; s < p->n_series; s++) {
        const svgp_series *se = &p->series[s];
        const char *color = se->color ? se->color : "#333";
        double w = se->width > 0 ? se->width : 2;
        double op = se->opacity > 0 ? se->opacity : 1;
        double dx = series_dx(p, ex, s);
        int open = 0;
        fprintf(f, "<g class=\"series\" id=\"panel%zu-series%zu\">\n", idx, s);
        for (size_t i = 0; i < se->n; i++) {
            double px, py;
            if (!point_px(&fr, se->x[i], se->y[i], &px, &py)) {
                if (open)
                    fputs("\"/>\n", f);
                open = 0;
                continue;
            }
            px += dx;
            if (!open) {
                fprintf(f, "<path class=\"line\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.2f\" "
                           "stroke-linejoin=\"round\" stroke-linecap=\"round\"", color, w);
                if (op < 1)
                    fprintf(f, " stroke-opacity=\"%.2f\"", op);
                if (se->dash)
                    fprintf(f, " stroke-dasharray=\"%s\"", se->dash);
                fprintf(f, " d=\"M%.1f %.1f", px, py);
                open = 1;
            } else {
                fprintf(f, " L%.1f %.1f", px, py);
            }
        }
        if (open)
            fputs("\"/>\n", f);
        /* Caps narrower than the dodge, so neighbouring bars stay apart. */
        double cap = ex && ex->dodge > 0 ? fmin(4, ex->dodge / 2 - 1) : 4;
        if (cap < 1)
            cap = 1;
        for (size_t i = 0; se->err && i < se->n; i++) {
            double px, py;
            double e = se->err[i];
            if (!isfinite(e) || !point_px(&fr, se->x[i], se->y[i], &px, &py))
                continue;
            px += dx;
            double ya = px_y(&fr, se->y[i] - e), yb = px_y(&fr, se->y[i] + e);
            fprintf(f, "<path class=\"errbar\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.3\" "
                       "d=\"M%.1f %.1f L%.1f %.1f M%.1f %.1f L%.1f %.1f M%.1f %.1f L%.1f %.1f\"/>\n",
                    color, px, ya, px, yb, px - cap, ya, px + cap, ya, px - cap, yb, px + cap, yb);
        }
        for (size_t i = 0; se->markers && i < se->n; i++) {
            double px, py;
            if (point_px(&fr, se->x[i], se->y[i], &px, &py))
                fprintf(f, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.6\" fill=\"%s\" "
                           "stroke=\"#fff\" stroke-width=\"1\"/>\n", px + dx, py, color);
        }
        draw_offscale(f, p, ex, &fr, se, dx, color, &taken);
        fputs("</g>\n", f);
    }
    if (ex && ex->n_marks > 0) {
        fputs("<g class=\"marks\">\n", f);
        for (size_t k = 0; k < ex->n_marks; k++) {
            double px, py;
            const svgp_mark *m = &ex->marks[k];
            if (point_px(&fr, m->x, m->y, &px, &py))
                fprintf(f, "<circle class=\"mark\" cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"none\" "
                           "stroke=\"%s\" stroke-width=\"1.6\"/>\n", px, py,
                        m->color ? m->color : "#222");
        }
        fputs("</g>\n", f);
    }
    fputs("</g>\n", f);

    /* Frame, and the break mark between 0 and the first decade of a log axis. */
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
               "stroke=\"#444\"/>\n", fr.left, fr.top, fr.right - fr.left, fr.bottom - fr.top);
    if (fr.has_zero) {
        double bx = px_x(&fr, fr.zero_t + 0.5);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"6\" height=\"10\" fill=\"#fff\"/>\n", bx - 3,
                fr.bottom - 5);
        fprintf(f, "<path fill=\"none\" stroke=\"#444\" d=\"M%.1f %.1f L%.1f %.1f M%.1f %.1f L%.1f "
                   "%.1f\"/>\n", bx - 6, fr.bottom + 5, bx - 1, fr.bottom - 5, bx + 1, fr.bottom + 5,
                bx + 6, fr.bottom - 5);
    }

    /* Legend: in the chosen corner, or under the axis label. */
    if (ne > 0) {
        if (below) {
            lg.x = fmax(ox + 10, ox + (pw - lg.w) / 2);
            lg.y = fr.bottom + 50;
        }
        fprintf(f, "<g class=\"legend\">\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                   "height=\"%.1f\" rx=\"3\" fill=\"#fff\" fill-opacity=\"0.9\" stroke=\"#bbb\"/>\n",
                lg.x, lg.y, lg.w, lg.h);
        for (size_t k = 0; k < ne; k++) {
            int two = below && lg.rows < ne;
            size_t row = two ? k / 2 : k;
            double x = lg.x + (two && k % 2 == 1 ? lg.col_w : 0);
            draw_legend_entry(f, &entries[k], x, lg.y + 12.5 + LEGEND_ROW * (double)row);
        }
        fputs("</g>\n", f);
    }
    fputs("</g>\n", f);
    if (entries != entries_buf)
        free(entries);
}

int svgp_write(const char *path, const char *title, const svgp_panel *panels, size_t n_panels,
               double panel_width, double panel_height)
{
    return svgp_write_ex(path, title, panels, NULL, n_panels, panel_width, panel_height);
}

int svgp_write_ex(const char *path, const char *title, const svgp_panel *panels,
                  const svgp_panel_ext *ext, size_t n_panels, double panel_width,
                  double panel_height)
{
    double pw = panel_width > 0 ? panel_width : 500;
    double ph = panel_height > 0 ? panel_height : 360;
    double th = title ? 34 : 0;
    double w = pw * (double)n_panels, h = ph + th;
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
               "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\" fill=\"#222\">\n",
            w, h, w, h, FONT);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n");
    if (title) {
        fprintf(f, "<text x=\"%.1f\" y=\"24\" text-anchor=\"middle\" font-size=\"17\" "
                   "font-weight=\"bold\">", w / 2);
        put_escaped(f, title);
        fputs("</text>\n", f);
    }
    for (size_t i = 0; i < n_panels; i++)
        draw_panel(f, &panels[i], ext ? &ext[i] : NULL, i, pw * (double)i, th, pw, ph);
    fputs("</svg>\n", f);
    int err = ferror(f);
    if (fclose(f) != 0 || err) {
        if (errno == 0)
            errno = EIO;
        return -1;
    }
    return 0;
}
