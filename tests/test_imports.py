"""The packages import one way: a walk of every module's imports finds no cycle.

Every ``import`` and ``from ... import`` counts, at module level or inside a function (a lazy import
still couples the two modules). ``from package import name`` is an edge to ``package.name`` when that
is a module, else to ``package``. Importing ``a.b.c`` from outside package ``a.b`` runs ``a.b``'s
``__init__`` first, so it is also an edge to ``a.b`` (and to ``a``): a package whose ``__init__``
gathers its submodules is part of every import of them from outside.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("comparisons", "scratch", "reference", "dlparity")


def modules() -> dict[str, Path]:
    """Every module of the packages, by dotted name (a package by its own name)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules that module ``name`` imports."""
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for target in targets:
            parts = target.split(".")
            for k in range(1, len(parts) + 1):
                module = ".".join(parts[:k])
                inside = name == module or name.startswith(module + ".")
                if module in known and (k == len(parts) or not inside) and module != name:
                    out.add(module)
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of module names (first == last), or None."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_walk_sees_the_imports():
    edges = graph()
    assert "comparisons.table.spec" in edges["comparisons.table.layers"]
    assert "comparisons.studies.numgrad.check" in edges["comparisons.studies.numgrad.study"]
    assert len(edges) > 60


def test_find_cycle_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("module", ["comparisons.table", "comparisons.table.layers", "comparisons.table.spec"])
def test_the_table_never_imports_the_harness(module):
    edges = graph()
    seen, todo = set(), [module]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(edges[m])
    roles = ("comparisons.harness", "comparisons.report", "comparisons.studies")
    later = sorted(m for m in seen if m.startswith(roles))
    assert not later, f"{module} reaches {later}: the table is data and never imports the code that runs it"
