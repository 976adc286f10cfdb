#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The table of contents of a Markdown file, generated and checked.

Usage: scripts/docs-toc.py [--update] [--links FILE...] DOC

The contents list every `##` and `###` heading of DOC (outside fenced code
blocks) with GitHub's anchor for it, between `<!-- regnn:begin toc -->` and
`<!-- regnn:end toc -->`. Without --update: exit 1 when that list is not the
one the headings give (`make docs-toc` rewrites it), or when a link
`DOC#anchor` in one of the --links files names no heading of DOC. Python 3
standard library only.
"""

import argparse
import os
import re
import sys

BLOCK_RE = re.compile(r"(<!-- regnn:begin toc -->\n)(.*?)(<!-- regnn:end toc -->)", re.S)


def headings(text):
    """(level, title, anchor) of each heading, anchors as GitHub makes them."""
    out, seen, fenced = [], {}, False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = None if fenced else re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        title = m.group(2)
        base = re.sub(r"[^\w\- ]", "", title.replace("`", "").lower()).replace(" ", "-")
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append((len(m.group(1)), title, base if n == 0 else "%s-%d" % (base, n)))
    return out


def toc(text):
    lines = []
    for level, title, anchor in headings(text):
        if level in (2, 3):
            lines.append("%s- [%s](#%s)" % ("  " * (level - 2), title, anchor))
    return "\n".join(lines) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("doc")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--links", nargs="*", default=[],
                    help="Markdown files whose links to DOC#anchor must resolve")
    args = ap.parse_args(argv)
    with open(args.doc, encoding="utf-8") as f:
        text = f.read()
    m = BLOCK_RE.search(text)
    if not m:
        print("docs-toc: %s has no <!-- regnn:begin toc --> ... <!-- regnn:end toc --> block"
              % args.doc)
        return 1
    want = toc(text)
    if args.update:
        if m.group(2) != want:
            with open(args.doc, "w", encoding="utf-8") as f:
                f.write(text[:m.start(2)] + want + text[m.end(2):])
            print("docs-toc: rewrote the contents of %s" % args.doc)
        return 0
    problems = []
    if m.group(2) != want:
        problems.append("the contents differ from the headings (make docs-toc rewrites them)")
    anchors = {a for _, _, a in headings(text)}
    name = os.path.basename(args.doc)
    for path in args.links:
        with open(path, encoding="utf-8") as f:
            for no, line in enumerate(f, 1):
                for frag in re.findall(r"\(" + r"(?:[^)\s]*/)?" + re.escape(name) + r"#([^)\s]+)\)", line):
                    if frag not in anchors:
                        problems.append("%s:%d: link to %s#%s, a heading it does not have"
                                        % (path, no, name, frag))
    for no, line in enumerate(text.split("\n"), 1):
        for frag in re.findall(r"\]\(#([^)\s]+)\)", line):
            if frag not in anchors:
                problems.append("%s:%d: link to #%s, a heading it does not have" % (args.doc, no, frag))
    if problems:
        print("docs-toc: %s:" % args.doc)
        for p in problems:
            print("  " + p)
        return 1
    print("docs-toc: the contents of %s list its %d headings; the links of %d files to it resolve"
          % (args.doc, sum(1 for h in headings(text) if h[0] in (2, 3)), len(args.links)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
