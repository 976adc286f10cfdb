/* SPDX-License-Identifier: MIT */
/*
 * svgplot.h - a small, dependency-free SVG line-plot writer for the examples.
 *
 * A figure is one or more panels side by side. Each panel has linear or
 * log10 x, a linear y axis with labelled ticks, any number of line series
 * (optionally with markers and +-error bars), a legend placed in the emptiest
 * corner, and optional dashed reference lines. The output is a standalone
 * SVG 1.1 file with a viewBox, so it scales in browsers and on GitHub.
 *
 * A line never leaves its panel silently: where it runs off the axis range it
 * is clipped and an arrow at the edge says "off scale" with the extreme value.
 * Elements carry class names (panel, plot-area, series, line, errbar, point,
 * offscale, mark, vline, xtick, ytick, legend) so tests can check the figures.
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

/* A highlighted point, drawn as a ring (e.g. a run's best epoch). */
typedef struct {
    double x, y;
    const char *color; /* ring colour; NULL means "#222" */
} svgp_mark;

/* Optional extras of a panel for svgp_write_ex. */
typedef struct {
    const svgp_mark *marks;
    size_t n_marks;
    const char *marks_label; /* legend entry for the rings, or NULL */
    double dodge;            /* px > 0: series with error bars are shifted apart by this much at
                                each x, so their bars cannot overlap */
    int data_xticks;         /* 1: a labelled x tick at every x of the data as well */
    int legend_below;        /* 1: the legend goes under the axis (one or two columns) */
} svgp_panel_ext;

/* Extras with every field empty: svgp_write_ex then draws what svgp_write does. */
svgp_panel_ext svgp_panel_ext_init(void);

/* svgp_write with extras: ext is NULL or n_panels entries, one per panel. */
int svgp_write_ex(const char *path, const char *title, const svgp_panel *panels,
                  const svgp_panel_ext *ext, size_t n_panels, double panel_width,
                  double panel_height);

#endif
