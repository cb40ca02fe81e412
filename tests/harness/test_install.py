"""Reproducible installs: the runtime dependencies cover every import of the shipped code, constraints pin them.

The check reads every ``import`` of ``harness/``, ``legacy/``, ``refactored/`` and ``lambda_shared/`` (lazy ones
included: the CLI imports moto and Hypothesis only when a command runs), maps each third-party module to the
distribution that provides it, and requires that distribution among ``[project] dependencies`` - not only in the
dev extra, where ``pip install .`` would not bring it (Hypothesis once was, and ``python -m harness fuzz`` failed).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("harness", "legacy", "refactored", "lambda_shared")
#: Top-level names of our own code (and of the test artifact's layer, never imported by shipped code).
FIRST_PARTY = {*SHIPPED, "shared"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def project() -> dict:
    """The ``[project]`` table of pyproject.toml."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def imported_modules(packages: tuple[str, ...] = SHIPPED) -> set[str]:
    """Top-level modules imported anywhere in ``packages`` (absolute imports, at any depth of the code)."""
    found = set()
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found


def undeclared(modules: set[str], declared: set[str]) -> dict[str, set[str]]:
    """Third-party modules whose distributions are not among ``declared``: module -> its distributions."""
    providers = importlib.metadata.packages_distributions()
    missing = {}
    for module in sorted(modules - FIRST_PARTY - set(sys.stdlib_module_names)):
        distributions = {_name(d) for d in providers.get(module, [module])}
        if not distributions & declared:
            missing[module] = distributions
    return missing


def test_every_third_party_import_is_a_declared_runtime_dependency() -> None:
    declared = {_name(requirement) for requirement in project()["dependencies"]}
    assert undeclared(imported_modules(), declared) == {}
    assert {"hypothesis", "botocore", "boto3", "moto", "deepdiff"} <= declared


def test_the_check_sees_a_dependency_left_in_the_dev_extra() -> None:
    declared = {_name(r) for r in project()["dependencies"]} - {"hypothesis"}
    assert undeclared(imported_modules(), declared) == {"hypothesis": {"hypothesis"}}


def test_majors_that_could_break_us_are_bounded() -> None:
    requirements = {_name(r): r for r in project()["dependencies"] + project()["optional-dependencies"]["dev"]}
    for name in ("deepdiff", "moto", "boto3", "botocore", "hypothesis", "ruff"):
        assert "<" in requirements[name], requirements[name]


def test_constraints_pin_every_declared_dependency_exactly() -> None:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            pins[_name(name)] = version
    for requirement in project()["dependencies"] + project()["optional-dependencies"]["dev"]:
        assert _name(requirement) in pins, requirement
    run = (ROOT / "run").read_text(encoding="utf-8")
    assert "--constraint constraints.txt" in run and "constraints.txt" in run.split("stamp=", 1)[1].split("\n")[0]
