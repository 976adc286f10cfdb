/*
 * svgplot.h - a small, dependency-free SVG line-plot writer for the examples.
 *
 * A figure is one or more panels side by side. Each panel has linear or
 * log10 x, a linear y axis with labelled ticks, any number of line series
 * (optionally with markers and +-error bars), a legend placed in the emptiest
 * corner, and optional dashed reference lines. The output is a standalone
 * SVG 1.1 file with a viewBox, so it scales in browsers and on GitHub.
 */
#ifndef SVGPLOT_H
#define SVGPLOT_H

#include <stddef.h>

typedef struct {
    const char *label;  /* legend entry; NULL or "" keeps the series out of the legend */
    const double *x;    /* n values */
    const double *y;    /* n values; a non-finite y breaks the line */
    const double *err;  /* NULL, or n half-widths drawn as vertical error bars */
    size_t n;
    const char *color;  /* any SVG colour, e.g. "#1f77b4" */
    double width;       /* stroke width in px; 0 means 2 */
    const char *dash;   /* NULL for a solid line, else an SVG dash array such as "6 4" */
    double opacity;     /* 0 means 1 */
    int markers;        /* 1: a dot at every point */
} svgp_series;

typedef struct {
    const char *title;
    const char *subtitle; /* smaller line under the title, or NULL */
    const char *xlabel;
    const char *ylabel;
    int logx;             /* 1: log10 x axis. x == 0 is then drawn one decade left of the
                             smallest positive x, behind a break mark, with the tick label 0 */
    double xmin, xmax;    /* NaN: from the data (linear x only) */
    double ymin, ymax;    /* NaN: from the data, widened to whole ticks */
    double vline;         /* NaN, or x of a dashed vertical marker */
    const char *vline_label;
    double hline;         /* NaN, or y of a dashed horizontal reference line */
    const char *hline_label;
    const svgp_series *series;
    size_t n_series;
} svgp_panel;

/* A panel with every field empty (NaN limits, no lines, no series). */
svgp_panel svgp_panel_init(void);

/* Write the figure: title (may be NULL) above n_panels panels of
 * panel_width x panel_height px each (0 means 500 x 360). Returns 0, or -1
 * with errno set when the file cannot be written. */
int svgp_write(const char *path, const char *title, const svgp_panel *panels, size_t n_panels,
               double panel_width, double panel_height);

#endif
