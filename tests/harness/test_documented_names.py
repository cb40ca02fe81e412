"""What the README and the docs name exists: every dotted Python name resolves, every repository path is there.

Names are read from the Markdown's code spans. A name rooted at one of our packages (``harness.world.World``,
``refactored.inventory_sync.query_drs_all_regions``) must import and resolve attribute by attribute; a short name
whose first part is a module of ``refactored`` or ``lambda_shared`` (``region_status.write_region_statuses``,
``cross_account.aws_client_config``) is resolved in that package; an implementation name
(``tests.comparison.mutants:lost_server``) must resolve as the harness resolves it; a path into the repository
(``harness/scenario/schema.json``) must exist.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest

import lambda_shared
import refactored
from harness.engine.implementations import resolve

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
PACKAGES = ("harness", "refactored", "legacy", "lambda_shared")
#: Short names are resolved in these packages, by their module's name.
SHORT_NAME_PACKAGES = {
    module.name: package.__name__
    for package in (refactored, lambda_shared)
    for module in pkgutil.iter_modules(package.__path__)
}
PATH_ROOTS = (*PACKAGES, "docs", "scenarios", "tests", ".github")
#: Examples that stand for a name or a file, not for one that exists.
PLACEHOLDERS = {"package.module:function", "scenarios/a.yaml", "scenarios/two-accounts-throttled-page.yaml"}
_SPAN = re.compile(r"`([^`]+)`")
_DOTTED = re.compile(r"(?<![\w./*:-])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?![\w*/-])")
_IMPLEMENTATION = re.compile(r"^([A-Za-z_]\w*(?:\.\w+)+:[A-Za-z_]\w*)$")
_PATH = re.compile(r"^([\w.-]+(?:/[\w.*-]+)+/?)$")
_FILE_SUFFIXES = (".py", ".md", ".json", ".yaml", ".yml", ".html", ".xml", ".toml")


def code_spans(path: Path) -> list[str]:
    """The text of every fenced code block and every inline code span (which may wrap) of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    fenced = re.compile(r"^```[^\n]*\n(.*?)^```", flags=re.M | re.S)
    return fenced.findall(text) + [" ".join(span.split()) for span in _SPAN.findall(fenced.sub("", text))]


def dotted_names(span: str) -> set[str]:
    """Dotted Python names in a code span that belong to our packages (file names excluded)."""
    found = set()
    for name in set(_DOTTED.findall(span)):
        if name.endswith(_FILE_SUFFIXES):
            continue
        first = name.split(".")[0]
        if first in PACKAGES:
            found.add(name)
        elif first in SHORT_NAME_PACKAGES:
            found.add(f"{SHORT_NAME_PACKAGES[first]}.{name}")
    return found


def resolve_dotted(name: str) -> Any:
    """Import the longest module prefix of ``name`` and resolve the rest as attributes; raise if anything is missing."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:end]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[end:]:
            value = getattr(value, attribute)
        return value
    raise ModuleNotFoundError(name)


def documented() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(dotted names, implementation names, repository paths) -> the document naming each first."""
    names: dict[str, str] = {}
    implementations: dict[str, str] = {}
    paths: dict[str, str] = {}
    for document in DOCUMENTS:
        where = str(document.relative_to(ROOT))
        for span in code_spans(document):
            for name in dotted_names(span):
                names.setdefault(name, where)
            for token in span.split():
                token = token.strip("()[],;")
                if token in PLACEHOLDERS:
                    continue
                if _IMPLEMENTATION.match(token):
                    implementations.setdefault(token, where)
                elif _PATH.match(token) and token.split("/")[0] in PATH_ROOTS and "*" not in token:
                    paths.setdefault(token, where)
    return names, implementations, paths


NAMES, IMPLEMENTATIONS, PATHS = documented()


def test_the_documents_name_enough_to_be_worth_checking() -> None:
    assert len(NAMES) > 60 and len(PATHS) > 10 and IMPLEMENTATIONS
    assert "harness.world.World" in NAMES and "refactored.inventory_sync.query_drs_all_regions" in NAMES
    assert "harness/scenario/schema.json" in PATHS


@pytest.mark.parametrize("name", sorted(NAMES))
def test_every_documented_python_name_resolves(name: str) -> None:
    try:
        resolve_dotted(name)
    except (ImportError, AttributeError) as error:
        pytest.fail(f"{NAMES[name]} names {name}, which does not resolve: {error}")


@pytest.mark.parametrize("name", sorted(IMPLEMENTATIONS))
def test_every_documented_implementation_name_resolves(name: str) -> None:
    assert callable(resolve(name)), f"{IMPLEMENTATIONS[name]} names {name}"


@pytest.mark.parametrize("path", sorted(PATHS))
def test_every_documented_repository_path_exists(path: str) -> None:
    assert (ROOT / path).exists(), f"{PATHS[path]} names {path}, which does not exist"


def test_the_reader_finds_our_names_and_a_missing_one_fails() -> None:
    assert dotted_names("`harness.world.World(scenario)` and cross_account.aws_client_config()") == {
        "harness.world.World",
        "lambda_shared.cross_account.aws_client_config",
    }
    assert dotted_names("model.py, harness/scenario/schema.json, world.calls") == set()
    with pytest.raises(AttributeError):
        resolve_dotted("harness.world.NoSuchThing")
    with pytest.raises(ModuleNotFoundError):
        resolve_dotted("nosuchpackage.module")
