"""The shape of ``refactored/``: one small module per concern, short functions, the design's names where it put them.

Read from the source with ``ast``, so the limits hold for every function, nested and private ones included.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import refactored.inventory_sync as sync

PACKAGE = Path(__file__).resolve().parents[2] / "refactored"
MODULES = sorted(path for path in PACKAGE.glob("*.py") if path.name != "__init__.py")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
MAX_ORCHESTRATOR_LINES = 50
#: The design's seven focused functions (design sections 2-8) and its orchestrator, by name.
DESIGN_FUNCTIONS = (
    "collect_accounts_to_query",
    "get_account_credentials",
    "query_drs_all_regions",
    "query_drs_single_region",
    "enrich_with_ec2_metadata",
    "query_ec2_instances",
    "write_inventory_to_dynamodb",
)
ORCHESTRATOR = "handle_sync_source_server_inventory_refactored"


def functions_of(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function and method defined in a module, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def length(node: ast.AST) -> int:
    """Lines of a definition, decorators and docstring included."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return node.end_lineno - first + 1


def test_the_package_is_split_by_concern() -> None:
    names = {path.stem for path in MODULES}
    expected = {"model", "accounts", "drs", "region_status", "ec2", "inventory", "cleanup", "inventory_sync"}
    assert expected | {"routing"} == names


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_no_module_is_over_300_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name}: {lines} lines"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_no_function_is_over_60_lines(path: Path) -> None:
    functions = functions_of(path)
    assert functions
    too_long = [f"{path.name}:{f.lineno} {f.name}: {length(f)}" for f in functions if length(f) > MAX_FUNCTION_LINES]
    assert not too_long


def test_the_orchestrator_is_at_most_50_lines() -> None:
    (orchestrator,) = [f for f in functions_of(PACKAGE / "inventory_sync.py") if f.name == ORCHESTRATOR]
    assert length(orchestrator) <= MAX_ORCHESTRATOR_LINES


def test_the_length_measure_counts_decorators_and_docstrings() -> None:
    source = '@decorator\ndef f():\n    """Doc.\n\n    More.\n    """\n    return 1\n'
    (function,) = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)]
    assert length(function) == 7


@pytest.mark.parametrize("name", DESIGN_FUNCTIONS)
def test_the_design_functions_are_importable_from_inventory_sync(name: str) -> None:
    function = getattr(sync, name)
    assert inspect.isfunction(function) and function.__name__ == name
    assert name in sync.__all__


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_every_module_says_which_spec_points_and_approvals_it_carries(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert re.search(r"\bLB-\d+|Spec points: none", docstring), f"{path.name} names no spec point"
    assert re.search(r"\bAD-\d|Approvals: none", docstring), f"{path.name} names no approval (or 'Approvals: none')"
