#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/svg_check.py - structural checks of the SVG figures written by
examples/svgplot.c (run by tests/test_examples.sh).

Usage: svg_check.py [--study] [--lambdas L1,L2,...] FILE.svg

Always, for every panel (<g class="panel">):
  * every point of every line (<path class="line">) outside the plot area
    (<rect class="plot-area">) belongs to a run of outside points that has
    its own off-scale marker (<g class="offscale">) in the same series group;
  * error bars (<path class="errbar">) of different series do not overlap.
--study: every panel has a best-epoch marker (<circle class="mark">), a
  vertical line (<line class="vline">) and legend entries for loss, val_loss
  and the MSE-only curves, and at least two dotted lines (loss, val_loss).
--lambdas: every panel has an x tick label (<text class="xtick">) for every
  listed value.
Prints one line per problem and exits 1 if there is any.
"""
import re
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
TOL = 0.06  # coordinates are written with one decimal


def classes(el):
    return (el.get("class") or "").split()


def find_class(el, cls, tag=None):
    return [e for e in el.iter() if cls in classes(e) and (tag is None or e.tag == NS + tag)]


def text_of(el):
    return "".join(el.itertext())


def path_points(d):
    """Points of an M/L path (the only commands svgplot writes for lines)."""
    nums = re.findall(r"[ML]\s*(-?[\d.]+)\s+(-?[\d.]+)", d)
    return [(float(x), float(y)) for x, y in nums]


def path_segments(d):
    """Segments of an 'M x y L x y' list (error bars)."""
    toks = re.findall(r"([ML])\s*(-?[\d.]+)\s+(-?[\d.]+)", d)
    segs, cur = [], None
    for cmd, x, y in toks:
        p = (float(x), float(y))
        if cmd == "L" and cur is not None:
            segs.append((cur, p))
        cur = p
    return segs


def tick_value(label):
    """'0', '1', '10', '10−3', '3×10−2' -> float, or None."""
    s = label.replace("\u2212", "-").replace(" ", "")
    m = re.fullmatch(r"(?:([\d.]+)\u00d7)?10(-?\d+)", s)
    if m:
        mant = float(m.group(1)) if m.group(1) else 1.0
        return mant * 10.0 ** int(m.group(2))
    try:
        return float(s)
    except ValueError:
        return None


def check(path, study, lambdas):
    problems = []
    root = ET.parse(path).getroot()
    panels = find_class(root, "panel", "g")
    if not panels:
        return ["no <g class=\"panel\"> in the figure"]
    for pi, panel in enumerate(panels):
        where = "panel %d" % pi
        areas = find_class(panel, "plot-area", "rect")
        if len(areas) != 1:
            problems.append("%s: %d plot-area rects" % (where, len(areas)))
            continue
        a = areas[0]
        x0, y0 = float(a.get("x")), float(a.get("y"))
        x1, y1 = x0 + float(a.get("width")), y0 + float(a.get("height"))

        def outside(pt):
            return not (x0 - TOL <= pt[0] <= x1 + TOL and y0 - TOL <= pt[1] <= y1 + TOL)

        series = find_class(panel, "series", "g")
        bars = []  # (series index, x lo, x hi, y lo, y hi)
        for si, se in enumerate(series):
            runs = 0
            n_out = 0
            for line in find_class(se, "line", "path"):
                prev_out = False
                for pt in path_points(line.get("d", "")):
                    out = outside(pt)
                    n_out += out
                    runs += out and not prev_out
                    prev_out = out
            marks = len(find_class(se, "offscale", "g"))
            if marks < runs:
                problems.append("%s, %s: %d points outside the plot area in %d run(s), but %d "
                                "off-scale marker(s)" % (where, se.get("id"), n_out, runs, marks))
            for eb in find_class(se, "errbar", "path"):
                segs = path_segments(eb.get("d", ""))
                xs = [p[0] for s in segs for p in s]
                ys = [p[1] for s in segs for p in s]
                if xs:
                    bars.append((si, min(xs), max(xs), min(ys), max(ys)))
        for i in range(len(bars)):
            for j in range(i + 1, len(bars)):
                a_, b_ = bars[i], bars[j]
                if a_[0] == b_[0]:
                    continue
                if a_[1] < b_[2] - TOL and b_[1] < a_[2] - TOL and a_[3] < b_[4] and b_[3] < a_[4]:
                    problems.append("%s: error bars of series %d and %d overlap at x %.1f..%.1f"
                                    % (where, a_[0], b_[0], max(a_[1], b_[1]), min(a_[2], b_[2])))
        if study:
            if not find_class(panel, "mark", "circle"):
                problems.append("%s: no best-epoch marker (circle.mark)" % where)
            if not find_class(panel, "vline", "line"):
                problems.append("%s: no vertical best-epoch line (line.vline)" % where)
            legend = [text_of(t) for lg in find_class(panel, "legend", "g")
                      for t in lg.iter(NS + "text")]
            for want in ("loss = ", "val_loss = ", "no penalty", "best epoch"):
                if not any(want in t for t in legend):
                    problems.append("%s: no legend entry containing %r" % (where, want))
            dotted = [p for p in find_class(panel, "line", "path") if p.get("stroke-dasharray")]
            if len(dotted) < 2:
                problems.append("%s: %d dotted lines, want loss and val_loss" % (where, len(dotted)))
        if lambdas:
            ticks = [tick_value(text_of(t)) for t in find_class(panel, "xtick", "text")]
            for lam in lambdas:
                # labels carry 3 significant digits
                if not any(v is not None and abs(v - lam) <= 5e-3 * abs(lam) for v in ticks):
                    problems.append("%s: no x tick label for lambda %g (labels: %s)" % (
                        where, lam, ", ".join(text_of(t) for t in find_class(panel, "xtick", "text"))))
    return problems


def main(argv):
    study = False
    lambdas = []
    args = argv[1:]
    files = []
    while args:
        a = args.pop(0)
        if a == "--study":
            study = True
        elif a == "--lambdas":
            lambdas = [float(v) for v in args.pop(0).split(",") if v]
        else:
            files.append(a)
    if len(files) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    problems = check(files[0], study, lambdas)
    for p in problems:
        print("%s: %s" % (files[0], p))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
