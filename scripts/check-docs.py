#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that docs/api.md documents everything public in include/regnn.h.

Usage: scripts/check-docs.py [--header include/regnn.h] [--doc docs/api.md]
                              [--api-macro REGNN_API]
(the MPI companion: --header include/regnn_mpi.h --doc docs/scaling.md
--api-macro REGNN_MPI_API, where REGNN_MPI_API takes REGNN_API's place below)

Python 3 standard library only. Exit status 0 when the reference is complete,
1 (with a list of what is wrong) otherwise, 2 on a usage or parse error.

What the header exports, and so what the reference must name:

- functions: every declaration that starts with REGNN_API;
- enum constants: every REGNN_* enumerator of an enum block;
- macros: every `#define REGNN_*`, except the include guard (the macro of the
  leading `#ifndef X` / `#define X` pair) and REGNN_API, the export
  decoration every declaration carries (it is set from REGNN_STATIC /
  REGNN_BUILDING and is not something a program uses);
- types: every regnn_* typedef name (handles, callbacks, regnn_status).

Rules for docs/api.md:

1. Each of those names occurs in it as a whole word (e.g. `regnn_model_save`).
2. Each function has a prototype in a fenced code block: a line starting with
   its return type followed by the name and `(`, up to the closing `);`. After
   dropping REGNN_API from the header's declaration, the two must be equal
   once whitespace is normalised. A prototype of an unknown function fails.
3. Each call written in the text, `name(a, b, ...)` in inline code or in a
   fenced block, has as many arguments as the prototype, unless it elides
   them with "..." or "…" (shorthand that shows a wrong argument list would
   mislead).
"""

import argparse
import os
import re
import sys

NAME_RE = re.compile(r"\b(regnn_[a-z0-9_]+|REGNN_[A-Z0-9_]+)\b")
DECL_START_RE = re.compile(
    r"^\s*(?:const\s+)?(?:unsigned\s+|signed\s+)?[A-Za-z_][A-Za-z0-9_]*(?:\s+|\s*\*+\s*)"
    r"(regnn_[a-z0-9_]+)\s*\(")
CALL_RE = re.compile(r"\b(regnn_[a-z0-9_]+)\(")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def normalise(decl):
    """One canonical spelling of a C declaration: single spaces, none around
    punctuation, no trailing semicolon."""
    d = re.sub(r"\s+", " ", decl).strip().rstrip(";").strip()
    d = re.sub(r"\s*([(),*])\s*", r"\1", d)
    # keep a space between a type word and a following '*name' / name
    d = re.sub(r"([A-Za-z0-9_])\*", r"\1 *", d)
    return d


def split_args(text):
    """Top-level comma-separated pieces of an argument list."""
    args, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            args.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip() or args:
        args.append(cur)
    return [a.strip() for a in args]


def param_count(proto):
    inner = proto[proto.index("(") + 1:proto.rindex(")")]
    params = split_args(inner)
    if params == ["void"] or params == []:
        return 0
    return len(params)


def parse_header(path, api="REGNN_API"):
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    src = strip_comments(raw)

    guard = None
    m = re.search(r"^\s*#\s*ifndef\s+(\w+)\s*\n\s*#\s*define\s+\1\b", src, flags=re.M)
    if m:
        guard = m.group(1)
    excluded = {"REGNN_API", api}
    if guard:
        excluded.add(guard)
    macros = []
    for m in re.finditer(r"^\s*#\s*define\s+(REGNN_[A-Z0-9_]+)", src, flags=re.M):
        if m.group(1) not in excluded and m.group(1) not in macros:
            macros.append(m.group(1))

    constants = []
    for body in re.findall(r"\benum\s*(?:\w+\s*)?\{(.*?)\}", src, flags=re.S):
        for m in re.finditer(r"(?:^|,)\s*(REGNN_[A-Z0-9_]+)\s*(?:=|,|$)", body.strip()):
            constants.append(m.group(1))

    types = []
    for m in re.finditer(r"\btypedef\b[^;]*?\b(regnn_[a-z0-9_]+)\b\s*(?:\)\s*\(|;)", src, flags=re.S):
        types.append(m.group(1))

    # Declarations are preprocessor-free statements ending in ';'.
    functions = {}
    flat = re.sub(r"^\s*#.*$", "", src, flags=re.M)
    for m in re.finditer(r"\b" + re.escape(api) + r"\b([^;{}]*;)", flat):
        decl = normalise(m.group(1))
        nm = re.search(r"(regnn_[a-z0-9_]+)\(", decl)
        if not nm:
            raise ValueError("cannot read the declaration: " + decl)
        functions[nm.group(1)] = decl
    if not functions:
        raise ValueError("no " + api + " declarations found in " + path)
    return functions, constants, macros, types


def fenced_blocks(lines):
    """(start line number, list of lines) of every ``` fenced block."""
    blocks, cur, start = [], None, 0
    for i, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            if cur is None:
                cur, start = [], i + 1
            else:
                blocks.append((start, cur))
                cur = None
        elif cur is not None:
            cur.append(line)
    return blocks


def doc_prototypes(blocks):
    """name -> list of (line, normalised declaration) found in fenced blocks."""
    found = {}
    for start, lines in blocks:
        i = 0
        while i < len(lines):
            m = DECL_START_RE.match(lines[i])
            if m and "=" not in lines[i].split("(")[0] and not lines[i].lstrip().startswith("return"):
                text, j = lines[i], i
                while ";" not in text and j + 1 < len(lines) and j - i < 20:
                    j += 1
                    text += " " + lines[j]
                if text.rstrip().endswith(";") and text.count("(") == text.count(")"):
                    found.setdefault(m.group(1), []).append((start + i, normalise(text)))
                    i = j + 1
                    continue
            i += 1
    return found


def doc_calls(text, blocks_text):
    """(line, name, argument text) of every call in inline code and fenced blocks."""
    calls = []
    lines = text.split("\n")
    in_block = False
    for no, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            in_block = not in_block
            continue
        spans = [line] if in_block else re.findall(r"`([^`]*)`", line)
        # inline code may wrap onto the next line
        if not in_block and line.count("`") % 2 == 1 and no < len(lines):
            tail = line[line.rindex("`") + 1:] + " " + lines[no].split("`")[0]
            spans.append(tail)
        for span in spans:
            for m in CALL_RE.finditer(span):
                depth, k = 1, m.end()
                while k < len(span) and depth:
                    depth += {"(": 1, ")": -1}.get(span[k], 0)
                    k += 1
                if depth:
                    continue  # argument list runs on: not checked
                calls.append((no, m.group(1), span[m.end():k - 1]))
    return calls


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description="check docs/api.md against include/regnn.h")
    ap.add_argument("--header", default=os.path.join(root, "include", "regnn.h"))
    ap.add_argument("--doc", default=os.path.join(root, "docs", "api.md"))
    ap.add_argument("--api-macro", default="REGNN_API",
                    help="the export decoration that marks the header's functions "
                         "(REGNN_MPI_API for include/regnn_mpi.h)")
    args = ap.parse_args(argv)
    try:
        functions, constants, macros, types = parse_header(args.header, args.api_macro)
        with open(args.doc, encoding="utf-8") as f:
            doc = f.read()
    except (OSError, ValueError) as e:
        print("check-docs: %s" % e, file=sys.stderr)
        return 2

    words = set(NAME_RE.findall(doc))
    problems = []
    for kind, names in (("function", sorted(functions)), ("enum constant", constants),
                        ("macro", macros), ("type", types)):
        for n in names:
            if n not in words:
                problems.append("%s %s is not mentioned" % (kind, n))

    blocks = fenced_blocks(doc.split("\n"))
    protos = doc_prototypes(blocks)
    for name in sorted(functions):
        if name not in protos:
            problems.append("function %s has no prototype in a code block" % name)
            continue
        for line, p in protos[name]:
            if p != functions[name]:
                problems.append("line %d: prototype of %s differs from the header:\n    doc:    %s\n"
                                "    header: %s" % (line, name, p, functions[name]))
    for name in sorted(protos):
        if name not in functions:
            for line, _ in protos[name]:
                problems.append("line %d: prototype of %s, which the header does not declare"
                                % (line, name))

    for line, name, argtext in doc_calls(doc, blocks):
        if name not in functions or "..." in argtext or "\u2026" in argtext:
            continue
        want = param_count(functions[name])
        got = 0 if argtext.strip() in ("", "void") else len(split_args(argtext))
        if got != want:
            problems.append("line %d: %s(%s) has %d argument%s, the function takes %d"
                            % (line, name, argtext, got, "" if got == 1 else "s", want))

    total = len(functions) + len(constants) + len(macros) + len(types)
    if problems:
        print("check-docs: %s does not match %s:" % (args.doc, args.header))
        for p in problems:
            print("  " + p)
        print("check-docs: %d problem%s" % (len(problems), "" if len(problems) == 1 else "s"))
        return 1
    print("check-docs: %d functions (with prototypes), %d enum constants, %d macros and %d types "
          "documented in %s" % (len(functions), len(constants), len(macros), len(types),
                                os.path.relpath(args.doc)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
