#!/usr/bin/env python3
"""The crate's import graph: which source file refers to which (`crate::`, `super::` paths).

Prints the number of files and arrows, every import circle (strongly connected set of files),
and every arrow that points back up the layering: the module map at the top of src/lib.rs's
docs, one table row per module, leaves first (`//! | \\`env\\` | ...`). A module that the map
does not list is reported. With --check, exits 1 on any circle or on more than --max-back
arrows pointing back up (issue 17's gate).

    python3 scripts/import-graph.py [--check] [--max-back 3] [--dot]
"""
import argparse
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def module_of(rel):
    """src-relative file path -> module path tuple ('cache', 'store')."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def strip_tests(text):
    """Drops a trailing `#[cfg(test)] mod tests { ... }` (test-only imports are not layering)."""
    m = re.search(r"\n#\[cfg\(test\)\]\s*\nmod \w+ \{", text)
    if m and text.rstrip().endswith("}"):
        return text[: m.start()]
    return text


def expand_use(tree):
    """Expands a use tree like `a::{b, c::{d, e}}` into paths."""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def rec(prefix, t):
        if not t:
            return
        depth, start, parts = 0, 0, []
        # split top-level commas
        for i, ch in enumerate(t):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(t[start:i])
                start = i + 1
        parts.append(t[start:])
        for p in parts:
            if not p:
                continue
            if "{" in p:
                head, rest = p.split("{", 1)
                rec(prefix + head, rest[:-1])
            else:
                out.append(prefix + p.split(" as ")[0])

    rec("", tree)
    return out


def references(text, me):
    """Module paths this file refers to (crate-absolute tuples)."""
    refs = []
    for m in re.finditer(r"\buse\s+((?:crate|super|self)[^;]*);", text, re.S):
        refs.extend(expand_use(m.group(1)))
    for m in re.finditer(r"\b((?:crate|super)(?:::[A-Za-z_][A-Za-z0-9_]*)+)", text):
        refs.append(m.group(1))
    out = []
    for r in refs:
        segs = [s for s in r.split("::") if s]
        base = list(me)
        if segs and segs[0] == "crate":
            base, segs = [], segs[1:]
        else:
            while segs and segs[0] in ("super", "self"):
                if segs[0] == "super":
                    base = base[:-1]
                segs = segs[1:]
        out.append(tuple(base + segs))
    return out


def load():
    files = {}
    for dirpath, _, names in os.walk(ROOT):
        for n in names:
            if n.endswith(".rs"):
                rel = os.path.relpath(os.path.join(dirpath, n), ROOT)
                if rel == "main.rs":
                    continue
                with open(os.path.join(dirpath, n), encoding="utf-8") as f:
                    files[module_of(rel)] = f.read()
    return files


def layers(lib_text):
    """The module map: `//! | \\`name\\` |` rows in order, leaves first."""
    order = []
    in_map = False
    for line in lib_text.splitlines():
        if line.startswith("//! # Module map"):
            in_map = True
            continue
        if in_map and line.startswith("//! #"):
            break
        m = re.match(r"//! \| `([a-z_:/]+)`", line) if in_map else None
        if m:
            for name in m.group(1).replace("/", "").split(","):
                order.append(tuple(name.strip().split("::")))
    return order


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--max-back", type=int, default=3)
    ap.add_argument("--dot", action="store_true")
    args = ap.parse_args()

    files = load()
    # Test-only modules (`#[cfg(test)] mod x;`) are not part of the layering.
    for parent, text in list(files.items()):
        for name in re.findall(r"#\[cfg\(test\)\]\s*(?:pub(?:\(crate\))? )?mod (\w+);", text):
            files.pop(parent + (name,), None)
    mods = set(files)
    edges = set()
    for me, text in files.items():
        for ref in references(strip_tests(text), me):
            # the longest module that is a prefix of the path
            target = None
            for k in range(len(ref), 0, -1):
                if ref[:k] in mods:
                    target = ref[:k]
                    break
            if target is None or target == me:
                continue
            # a module's own submodules and its parent's re-exports are not layering arrows
            if target[: len(me)] == me and me != ():
                continue
            if me[: len(target)] == target and target != ():
                continue
            if target == ():
                continue
            edges.add((me, target))

    name = lambda m: "::".join(m) or "lib"
    # Tarjan's strongly connected components
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
    graph = {m: sorted(t for (s, t) in edges if s == m) for m in mods}

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            comps.append(comp)

    sys.setrecursionlimit(10000)
    for m in sorted(mods):
        if m not in index:
            strong(m)
    circles = [sorted(c) for c in comps if len(c) > 1]

    order = layers(files.get((), ""))

    def rank(m):
        for k in range(len(m), 0, -1):
            if m[:k] in order:
                return order.index(m[:k])
        return None

    unmapped = sorted(m for m in mods if m != () and rank(m) is None)
    back = sorted(
        (s, t)
        for (s, t) in edges
        if rank(s) is not None and rank(t) is not None and rank(t) > rank(s)
    )

    if args.dot:
        print("digraph imports {")
        for s, t in sorted(edges):
            print(f'  "{name(s)}" -> "{name(t)}";')
        print("}")
        return 0
    print(f"files: {len(mods)}  arrows: {len(edges)}  circles: {len(circles)}  back arrows: {len(back)}")
    for c in circles:
        print(f"circle of {len(c)}: " + ", ".join(name(m) for m in c))
    for s, t in back:
        print(f"back arrow: {name(s)} -> {name(t)}")
    if order and unmapped:
        print("not in the module map: " + ", ".join(name(m) for m in unmapped))
    if not order:
        print("(no module map in src/lib.rs docs: back arrows not counted)")
    if args.check and (circles or len(back) > args.max_back or (order and unmapped) or not order):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
