/* svgplot.c - see svgplot.h. Plain C11, no dependencies beyond libm. */
#include "svgplot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
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

/* How many sample points of the panel's lines fall into a box: used to put
 * the legend where it hides the least. */
static size_t points_in_box(const svgp_panel *p, const frame *fr, double bx0, double by0, double bx1,
                            double by1)
{
    size_t count = 0;
    for (size_t s = 0; s < p->n_series; s++) {
        const svgp_series *se = &p->series[s];
        double qx = 0, qy = 0;
        int have_prev = 0;
        for (size_t i = 0; i < se->n; i++) {
            double px, py;
            if (!point_px(fr, se->x[i], se->y[i], &px, &py)) {
                have_prev = 0;
                continue;
            }
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
} legend_box;

/* Put the legend in the corner that hides the fewest points and stays off
 * the vline label; returns that count. */
static size_t place_legend(const svgp_panel *p, const frame *fr, const double *lab, int has_lab,
                           legend_box *lg)
{
    size_t best_count = (size_t)-1;
    const int corners[4][2] = {{1, 0}, {0, 0}, {1, 1}, {0, 1}}; /* UR, UL, LR, LL */
    for (int c = 0; c < 4; c++) {
        double x0 = corners[c][0] ? fr->right - 8 - lg->w : fr->left + 8;
        double y0 = corners[c][1] ? fr->bottom - 8 - lg->h : fr->top + 8;
        size_t cnt = points_in_box(p, fr, x0, y0, x0 + lg->w, y0 + lg->h);
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

static void draw_panel(FILE *f, const svgp_panel *p, size_t idx, double ox, double oy, double pw,
                       double ph)
{
    frame fr;
    compute_frame(p, &fr);
    fr.left = ox + 66;
    fr.right = ox + pw - 18;
    fr.top = oy + (p->subtitle ? 54 : 40);
    fr.bottom = oy + ph - 50;

    /* Legend size, the vline label's box, and headroom: when the y range is
     * automatic, raise its top until the legend has an empty corner. */
    legend_box lg = {0, 0, 0, 0, 0};
    size_t maxlen = 0;
    for (size_t s = 0; s < p->n_series; s++) {
        if (p->series[s].label && *p->series[s].label) {
            lg.items++;
            size_t l = utf8_len(p->series[s].label);
            if (l > maxlen)
                maxlen = l;
        }
    }
    lg.w = 40 + 6.3 * (double)maxlen;
    lg.h = 8 + 17 * (double)lg.items;
    double lab[4] = {0, 0, 0, 0};
    int has_lab = 0;
    double vt;
    if (isfinite(p->vline) && p->vline_label && x_to_t(&fr, p->vline, &vt)) {
        double px = px_x(&fr, vt);
        has_lab = 1;
        lab[0] = px - 6 - 6.0 * (double)utf8_len(p->vline_label);
        lab[1] = fr.top;
        lab[2] = px + 2;
        lab[3] = fr.top + 17;
    }
    for (int tries = 0; lg.items > 0; tries++) {
        if (place_legend(p, &fr, lab, has_lab, &lg) == 0 || isfinite(p->ymax) || tries == 3)
            break;
        double grown = fr.y1 + nice_step(fr.y1 - fr.y0, 5);
        double st = nice_step(grown - fr.y0, 5);
        fr.y1 = ceil(grown / st - 1e-9) * st;
    }

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
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\"/>\n", fr.left,
            fr.top, fr.right - fr.left, fr.bottom - fr.top);
    double ys = nice_step(fr.y1 - fr.y0, 5);
    for (double y = ceil(fr.y0 / ys - 1e-9) * ys; y <= fr.y1 + ys * 1e-9; y += ys) {
        double py = px_y(&fr, y);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>\n",
                fr.left, py, fr.right, py);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n",
                fr.left - 5, py, fr.left, py);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">", fr.left - 8,
                py + 4);
        put_number(f, y, ys);
        fputs("</text>\n", f);
    }
    if (fr.logx) {
        for (int k = (int)ceil(fr.t0 - 1e-9); k <= (int)floor(fr.t1 + 1e-9); k++) {
            if (fr.has_zero && k <= fr.zero_t + 0.5)
                continue;
            double px = px_x(&fr, k);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>\n",
                    px, fr.top, px, fr.bottom);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n",
                    px, fr.bottom, px, fr.bottom + 5);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">", px,
                    fr.bottom + 19);
            if (k == 0)
                fputs("1", f);
            else if (k == 1)
                fputs("10", f);
            else
                fprintf(f, "10<tspan dy=\"-6\" font-size=\"9\">%s%d</tspan>",
                        k < 0 ? "\xE2\x88\x92" : "", k < 0 ? -k : k);
            fputs("</text>\n", f);
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
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">0</text>\n",
                    px, fr.bottom + 19);
        }
    } else {
        double xs = nice_step(fr.t1 - fr.t0, 5);
        for (double x = ceil(fr.t0 / xs - 1e-9) * xs; x <= fr.t1 + xs * 1e-9; x += xs) {
            double px = px_x(&fr, x);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>\n",
                    px, fr.top, px, fr.bottom);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n",
                    px, fr.bottom, px, fr.bottom + 5);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">", px,
                    fr.bottom + 19);
            put_number(f, x, xs);
            fputs("</text>\n", f);
        }
    }

    /* Axis labels. */
    if (p->xlabel) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12.5\">", cx,
                fr.bottom + 40);
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
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#777\" "
                   "stroke-dasharray=\"5 4\"/>\n", fr.left, py, fr.right, py);
        if (p->hline_label) {
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10.5\" "
                       "fill=\"#555\">", fr.right - 4, py - 4);
            put_escaped(f, p->hline_label);
            fputs("</text>\n", f);
        }
    }
    if (isfinite(p->vline) && x_to_t(&fr, p->vline, &vt)) {
        double px = px_x(&fr, vt);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#777\" "
                   "stroke-dasharray=\"5 4\"/>\n", px, fr.top, px, fr.bottom);
        if (p->vline_label) {
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10.5\" "
                       "fill=\"#555\">", px - 4, fr.top + 13);
            put_escaped(f, p->vline_label);
            fputs("</text>\n", f);
        }
    }

    /* Series: lines, error bars, markers. */
    for (size_t s = 0; s < p->n_series; s++) {
        const svgp_series *se = &p->series[s];
        const char *color = se->color ? se->color : "#333";
        double w = se->width > 0 ? se->width : 2;
        double op = se->opacity > 0 ? se->opacity : 1;
        int open = 0;
        for (size_t i = 0; i < se->n; i++) {
            double px, py;
            if (!point_px(&fr, se->x[i], se->y[i], &px, &py)) {
                if (open)
                    fputs("\"/>\n", f);
                open = 0;
                continue;
            }
            if (!open) {
                fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"%.2f\" "
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
        for (size_t i = 0; se->err && i < se->n; i++) {
            double px, py;
            double e = se->err[i];
            if (!isfinite(e) || !point_px(&fr, se->x[i], se->y[i], &px, &py))
                continue;
            double ya = px_y(&fr, se->y[i] - e), yb = px_y(&fr, se->y[i] + e);
            fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.3\" d=\"M%.1f %.1f "
                       "L%.1f %.1f M%.1f %.1f L%.1f %.1f M%.1f %.1f L%.1f %.1f\"/>\n",
                    color, px, ya, px, yb, px - 4, ya, px + 4, ya, px - 4, yb, px + 4, yb);
        }
        for (size_t i = 0; se->markers && i < se->n; i++) {
            double px, py;
            if (point_px(&fr, se->x[i], se->y[i], &px, &py))
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.6\" fill=\"%s\" stroke=\"#fff\" "
                           "stroke-width=\"1\"/>\n", px, py, color);
        }
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

    /* Legend, placed above. */
    if (lg.items == 0)
        return;
    double best_x = lg.x, best_y = lg.y, lw = lg.w, lh = lg.h;
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"3\" fill=\"#fff\" "
               "fill-opacity=\"0.9\" stroke=\"#bbb\"/>\n", best_x, best_y, lw, lh);
    size_t row = 0;
    for (size_t s = 0; s < p->n_series; s++) {
        const svgp_series *se = &p->series[s];
        if (!se->label || !*se->label)
            continue;
        double y = best_y + 12.5 + 17 * (double)row++;
        double w = se->width > 0 ? se->width : 2;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"%.2f\"", best_x + 7, y, best_x + 31, y,
                se->color ? se->color : "#333", w < 1.5 ? 1.5 : w);
        if (se->dash)
            fprintf(f, " stroke-dasharray=\"%s\"", se->dash);
        fputs("/>\n", f);
        if (se->markers)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.6\" fill=\"%s\"/>\n", best_x + 19, y,
                    se->color ? se->color : "#333");
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11.5\">", best_x + 36, y + 4);
        put_escaped(f, se->label);
        fputs("</text>\n", f);
    }
}

int svgp_write(const char *path, const char *title, const svgp_panel *panels, size_t n_panels,
               double panel_width, double panel_height)
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
        draw_panel(f, &panels[i], i, pw * (double)i, th, pw, ph);
    fputs("</svg>\n", f);
    int err = ferror(f);
    if (fclose(f) != 0 || err) {
        if (errno == 0)
            errno = EIO;
        return -1;
    }
    return 0;
}
