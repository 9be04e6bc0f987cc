"""Structure report for functions/shoebox (issue 21): module sizes, functions above a cyclomatic
complexity (radon), and import cycles among shoebox modules.

    python scripts/report_structure.py [--json] [--complexity 15] [--lines 500]

Import cycles are found on the graph of *module-level* imports only (those under `if TYPE_CHECKING:`
are skipped: they never run). An import inside a function body runs when
the function is called, after both modules are loaded, so it cannot deadlock a load; it is listed
separately ("deferred imports that close a cycle") so a reader sees where a cycle was only postponed.
`import shoebox.a.b` and `from shoebox.a import b` both count as an edge to `shoebox.a.b` (and a
`from shoebox.a import name` to `shoebox.a`); a package's `__init__` is its own node.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "functions" / "shoebox"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(name: str, path: Path, known: set[str]) -> tuple[set[str], set[str]]:
    """(module-level targets, function-level targets) among `known`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    top: set[str] = set()
    deferred: set[str] = set()

    def targets(node: ast.AST) -> set[str]:
        found: set[str] = set()
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, is_package, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
        return {t for t in found if t in known and t != name}

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                (deferred if in_function else top).update(targets(child))
            walk(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    walk(tree, False)
    return top, deferred - top


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def complex_functions(paths: dict[str, Path], threshold: int) -> list[dict]:
    from radon.complexity import cc_visit

    found = []
    for name, path in paths.items():
        # cc_visit's blocks are the functions, methods and classes (a class's figure sums its methods).
        for block in cc_visit(path.read_text()):
            if block.complexity > threshold and block.letter != "C":
                found.append({"module": name, "function": block.fullname, "line": block.lineno,
                              "complexity": block.complexity})
    return sorted(found, key=lambda f: (-f["complexity"], f["module"], f["function"]))


def report(threshold: int, max_lines: int) -> dict:
    paths = modules()
    known = set(paths)
    graph: dict[str, set[str]] = {}
    deferred_edges: dict[str, set[str]] = {}
    for name, path in paths.items():
        graph[name], deferred_edges[name] = imports(name, path, known)
    sizes = sorted(({"module": n, "lines": len(p.read_text().splitlines())} for n, p in paths.items()),
                   key=lambda s: -s["lines"])
    module_cycles = cycles(graph)
    # A deferred import closes a cycle when its target already reaches the importer at module level.
    combined = {n: graph[n] | deferred_edges[n] for n in graph}
    deferred_cycles = [c for c in cycles(combined) if c not in module_cycles]
    return {
        "modules": len(paths),
        "total_lines": sum(s["lines"] for s in sizes),
        "max_lines": max_lines,
        "over_max_lines": [s for s in sizes if s["lines"] > max_lines],
        "largest": sizes[:15],
        "complexity_threshold": threshold,
        "complex_functions": complex_functions(paths, threshold),
        "import_cycles": module_cycles,
        "cycles_through_function_level_imports": deferred_cycles,
    }


def print_text(r: dict) -> None:
    print(f"shoebox: {r['modules']} modules, {r['total_lines']} lines")
    print(f"\nLargest modules (over {r['max_lines']} lines marked *):")
    for s in r["largest"]:
        mark = "*" if s["lines"] > r["max_lines"] else " "
        print(f"  {mark} {s['lines']:5d}  {s['module']}")
    print(f"\nFunctions above cyclomatic complexity {r['complexity_threshold']} "
          f"({len(r['complex_functions'])}):")
    for f in r["complex_functions"]:
        print(f"    {f['complexity']:3d}  {f['module']}:{f['line']} {f['function']}")
    print(f"\nImport cycles, module-level imports ({len(r['import_cycles'])}):")
    for c in r["import_cycles"]:
        print("    " + " <-> ".join(c))
    if not r["import_cycles"]:
        print("    none")
    print("\nCycles closed only by function-level (deferred) imports, not counted as cycles "
          f"({len(r['cycles_through_function_level_imports'])}):")
    for c in r["cycles_through_function_level_imports"]:
        print("    " + " <-> ".join(c))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the text report")
    parser.add_argument("--complexity", type=int, default=15, help="list functions above this (default 15)")
    parser.add_argument("--lines", type=int, default=500, help="mark modules above this many lines")
    args = parser.parse_args(argv)
    r = report(args.complexity, args.lines)
    if args.json:
        print(json.dumps(r))
    else:
        print_text(r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
