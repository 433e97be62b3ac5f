"""The import graph keeps the rooms of docs/architecture.md: no upward arrow, no cycle.

Every module of the SRS packages is parsed with ``ast``; every import counts, at module
level or inside a function, and ``if TYPE_CHECKING:`` imports too (a type-only
import still couples the two modules: a cycle through one is still a knot).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("srs", "edge", "broker", "core", "gui")
COMPONENTS = ("edge", "broker", "core", "gui")
# Which components a component may use, besides the kernel (docs/architecture.md):
# core reads broker's users file; the dashboard reads the users file and the
# first-run code (broker) and draws the demo site file (core) in screenshots.
COMPONENT_USES: dict[str, frozenset[str]] = {
    "edge": frozenset(),
    "broker": frozenset(),
    "core": frozenset({"broker"}),
    "gui": frozenset({"broker", "core"}),
}
# Cycles tolerated for now, each named so it cannot grow; the test fails once one is
# gone, so its exception goes with it. None are left.
KNOWN_CYCLES: list[frozenset[str]] = []


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # alembic's scripts are loaded by alembic, not imported
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = modules()


def _owner(name: str) -> str | None:
    """The SRS module an imported name lives in (a module, or the package above it)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """(imported SRS module, line) for every import in ``module``, at any depth."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, *([node.module] if node.module else [])])
            # "from a import b": b is a module of a, or a name defined in a.
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            owner = _owner(name)
            if owner is not None and owner != module:
                yield owner, node.lineno


GRAPH: dict[str, dict[str, int]] = {
    m: {target: line for target, line in imports_of(m, p)} for m, p in MODULES.items()
}


def room(module: str) -> str:
    """kernel, app, or the component's name."""
    top = module.split(".")[0]
    if top == "srs":
        return "app" if module == "srs.app" or module.startswith("srs.app.") else "kernel"
    return top


def _in_wire(module: str) -> bool:
    return module == "srs.wire" or module.startswith("srs.wire.")


def breaks_rule(source: str, target: str) -> str | None:
    """Why ``source`` may not import ``target``, or None when it may."""
    src, dst = room(source), room(target)
    if _in_wire(source) and not _in_wire(target):
        return "the wire contract imports only itself"
    if src == dst or src == "app":
        return None
    if src == "kernel":
        return f"the kernel imports nothing from {dst}"
    if dst == "kernel":
        return None
    if dst == "app":
        return "components never import the application"
    if dst not in COMPONENT_USES[src]:
        return f"{src} may use only the kernel and {sorted(COMPONENT_USES[src]) or 'no component'}"
    return None


def test_every_package_was_parsed() -> None:
    found = {room(m) for m in MODULES}
    assert found == {"kernel", "app", *COMPONENTS}
    assert "srs.app.cli" in MODULES and "srs.wire.payloads" in MODULES


def test_no_import_breaks_a_layer_rule() -> None:
    broken = [
        f"{MODULES[source].relative_to(ROOT)}:{line}: {source} -> {target}: {why}"
        for source, targets in sorted(GRAPH.items())
        for target, line in sorted(targets.items())
        if (why := breaks_rule(source, target)) is not None
    ]
    assert not broken, "imports against docs/architecture.md:\n" + "\n".join(broken)


def cycles(graph: dict[str, dict[str, int]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.add(member)
                    if member == node:
                        break
                if len(members) > 1:
                    found.append(frozenset(members))
    return found


def test_no_import_cycle() -> None:
    found = cycles(GRAPH)
    new = [sorted(c) for c in found if c not in KNOWN_CYCLES]
    assert not new, f"import cycles: {new}"
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in found]
    assert not gone, f"cycle {gone} is gone: remove it from KNOWN_CYCLES"


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {}, "b": {"a": 1}}, []),
        ({"a": {"b": 1}, "b": {"a": 1}}, [frozenset({"a", "b"})]),
        ({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}, [frozenset("abc")]),
    ],
)
def test_cycles_are_found(graph: dict[str, dict[str, int]], expected: list[frozenset[str]]) -> None:
    assert cycles(graph) == expected


def test_rules_catch_upward_imports() -> None:
    assert breaks_rule("srs.config", "core.config") is not None
    assert breaks_rule("srs.wire.topics", "srs.config") is not None
    assert breaks_rule("core.service", "srs.app.config") is not None
    assert breaks_rule("broker.users", "core.store") is not None
    assert breaks_rule("gui.signin", "broker.users") is None
    assert breaks_rule("srs.app.init", "core.store.db") is None
    assert breaks_rule("core.service", "srs.mqtt") is None
