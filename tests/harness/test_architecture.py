"""The harness's import structure, read statically from the source: no import cycle, and packages follow the pipeline.

Every ``import`` statement counts, including those inside functions (the CLI and the engine import heavy modules
lazily; a lazy import is still a dependency). Importing ``harness.a.b`` also runs the ``__init__`` of ``harness.a``,
so that package counts as imported too, except from inside ``harness.a`` itself. Imports by name at run time
(``importlib.import_module``) are not seen: the engine's report hook (:mod:`harness.engine.reports`) finds
:mod:`harness.report` that way on purpose, so the engine never depends on the reports that depend on it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: The harness's top-level parts in pipeline order: each may import only the parts before it (and itself).
PIPELINE = (
    "harness.redaction",
    "harness.interruption",
    "harness.commandline",
    "harness.scenario",
    "harness.world",
    "harness.engine",
    "harness.report",
    "harness.fuzz",
    "harness.bench",
    "harness.capture",
    "harness.mutation",
    "harness.cli",
    "harness.__main__",
)

Edge = tuple[str, str, int]  # importer, imported, line


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` under ``root``: dotted name -> file (a package is its ``__init__.py``)."""
    modules = {}
    for path in sorted((root / package.replace(".", "/")).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _targets(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """The modules one import statement loads, as far as they belong to ``known``."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        anchor = importer.split(".")[: len(importer.split(".")) - node.level + (1 if is_package else 0)]
        base = ".".join([*anchor, base] if base else anchor)
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        yield submodule if submodule in known else base


def import_edges(root: Path, package: str) -> list[Edge]:
    """Every import of a module of ``package`` by a module of ``package``, with the packages it initialises."""
    modules = module_names(root, package)
    known = set(modules)
    edges = []
    for importer, path in modules.items():
        is_package = path.name == "__init__.py"
        own_packages = {".".join(importer.split(".")[:n]) for n in range(1, importer.count(".") + 1 + is_package)}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _targets(node, importer, is_package, known):
                parts = target.split(".")
                loaded = {".".join(parts[:n]) for n in range(1, len(parts) + 1)} - own_packages - {importer}
                edges.extend((importer, module, node.lineno) for module in sorted(loaded & known))
    return edges


def find_cycle(edges: list[Edge]) -> list[str] | None:
    """One import cycle (``[a, b, ..., a]``) if there is any, else ``None``."""
    graph: dict[str, set[str]] = {}
    for importer, imported, _ in edges:
        graph.setdefault(importer, set()).add(imported)
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        stack.append(module)
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == "open":
                return [*stack[stack.index(imported) :], imported]
            if imported not in state and (cycle := visit(imported)):
                return cycle
        state[module] = "done"
        stack.pop()
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def part_of(module: str) -> str:
    """The top-level part of the harness a module belongs to (``harness.engine.runner`` -> ``harness.engine``)."""
    return ".".join(module.split(".")[:2])


@pytest.fixture(scope="module")
def harness_edges() -> list[Edge]:
    return import_edges(ROOT, "harness")


def test_the_walk_sees_eager_lazy_and_package_imports(harness_edges: list[Edge]) -> None:
    pairs = {(importer, imported) for importer, imported, _ in harness_edges}
    assert ("harness.cli", "harness.engine.commands") in pairs  # module level
    assert ("harness.engine.observe", "harness.world.world") in pairs  # inside a function
    assert ("harness.engine.normalise", "harness.world") in pairs  # the package a submodule import initialises
    assert ("harness.report.markdown", "harness.report.signoff") in pairs  # from a package import a submodule
    assert ("harness.report.markdown", "harness.report") not in pairs  # a module's own package is not an import
    assert len(pairs) > 100


def test_no_import_cycle_between_harness_modules(harness_edges: list[Edge]) -> None:
    cycle = find_cycle(harness_edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_every_part_of_the_harness_is_in_the_pipeline() -> None:
    parts = {part_of(module) for module in module_names(ROOT, "harness")} - {"harness"}
    assert parts == set(PIPELINE)


def test_packages_import_only_the_parts_before_them_in_the_pipeline(harness_edges: list[Edge]) -> None:
    rank = {part: index for index, part in enumerate(PIPELINE)}
    upward = [
        f"{module_names(ROOT, 'harness')[importer].relative_to(ROOT)}:{line}: {importer} imports {imported}"
        for importer, imported, line in harness_edges
        if imported != "harness" and rank[part_of(imported)] > rank[part_of(importer)]
    ]
    assert not upward, "imports against the pipeline:\n" + "\n".join(upward)


def test_the_walk_resolves_relative_lazy_and_package_imports_and_finds_a_cycle(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "inner" / "__init__.py").write_text("from pkg.inner.b import thing\n")
    (package / "a.py").write_text("def f():\n    from pkg.inner import b\n")
    (package / "inner" / "b.py").write_text("from . import c\nthing = 1\n")
    (package / "inner" / "c.py").write_text("import pkg.a\n")
    edges = import_edges(tmp_path, "pkg")
    assert ("pkg.a", "pkg.inner", 2) in edges and ("pkg.a", "pkg.inner.b", 2) in edges
    assert ("pkg.inner.b", "pkg.inner.c", 1) in edges
    assert find_cycle(edges) == ["pkg.a", "pkg.inner", "pkg.inner.b", "pkg.inner.c", "pkg.a"]
    assert find_cycle([e for e in edges if e[0] != "pkg.inner.c"]) is None
