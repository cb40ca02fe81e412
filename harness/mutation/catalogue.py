"""The mutant catalogue: single-change mutants of ``refactored/``, declared as data in ``catalogue.yaml``.

Each mutant names one file of ``refactored/``, the exact original text (it must occur there exactly once, or the
entry is stale: the code moved on and the mutant no longer means what it says), its replacement, a category, what it
breaks (or, for a behaviour-preserving mutant, ``equivalent: true`` and why it preserves behaviour) and optionally
the scenarios that reach it, which the gate stage tries first. The catalogue also lists the unit-test files that
cover the refactor, run before the gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

#: The shipped catalogue.
DEFAULT_CATALOGUE = Path(__file__).with_name("catalogue.yaml")
#: The only directory a mutant may change: the refactor (legacy and the shared layer are the baseline's).
MUTABLE_ROOT = "refactored/"

_TEXT = {"type": "string", "minLength": 1}
_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["unit_tests", "mutants"],
    "properties": {
        "unit_tests": {"type": "array", "minItems": 1, "items": _TEXT},
        "mutants": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "file", "category", "original", "replacement", "description"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
                    "file": {"type": "string", "pattern": r"^refactored/[a-z0-9_]+\.py$"},
                    "category": _TEXT,
                    "original": _TEXT,
                    "replacement": {"type": "string"},
                    "description": _TEXT,
                    "equivalent": {"type": "boolean"},
                    "reason": _TEXT,
                    "scenarios": {"type": "array", "items": _TEXT},
                },
            },
        },
    },
}


class CatalogueError(Exception):
    """The catalogue cannot be used; each problem names the file, the place in it and the reason.

    Attributes:
        problems: One ``file: place: reason`` line per problem.
    """

    def __init__(self, problems: list[str]) -> None:
        """Create the error from its problems."""
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Mutant:
    """One single-change mutant of the refactor.

    Attributes:
        id: Unique, kebab-case.
        file: The file changed, relative to the repository root (under ``refactored/``).
        category: What kind of behaviour it touches (``error mapping``, ``pagination``...).
        original: The exact text replaced; it occurs exactly once in ``file``.
        replacement: What replaces it.
        description: What the change breaks (or, for an equivalent mutant, what it changes).
        equivalent: Declared behaviour-preserving: it must pass the unit tests and stay GO.
        reason: Why an equivalent mutant preserves behaviour (required when ``equivalent``).
        scenarios: Scenarios built to reach the change, tried first by the gate stage.
    """

    id: str
    file: str
    category: str
    original: str
    replacement: str
    description: str
    equivalent: bool = False
    reason: str = ""
    scenarios: tuple[str, ...] = ()

    def mutated(self, text: str) -> str:
        """``text`` (the file's content) with the change applied.

        Raises:
            StaleMutantError: The original text does not occur exactly once.
        """
        found = text.count(self.original)
        if found != 1:
            raise StaleMutantError(self, found)
        return text.replace(self.original, self.replacement)

    def apply(self, root: Path) -> None:
        """Apply the change to the copy of the repository at ``root`` (in place)."""
        path = root / self.file
        path.write_text(self.mutated(path.read_text(encoding="utf-8")), encoding="utf-8")


class StaleMutantError(Exception):
    """A mutant's original text is not found exactly once in its file: the catalogue entry is stale."""

    def __init__(self, mutant: Mutant, found: int) -> None:
        """Create the error for ``mutant``, whose original text occurs ``found`` times."""
        where = "not found" if found == 0 else f"found {found} times"
        super().__init__(f"mutant {mutant.id}: its original text is {where} in {mutant.file} (stale entry)")
        self.mutant = mutant


@dataclass(frozen=True)
class Catalogue:
    """The mutants and the unit tests that cover the refactor.

    Attributes:
        mutants: In catalogue order.
        unit_tests: Test files (relative to the repository root) the unit stage runs, in order.
        source: The catalogue file.
    """

    mutants: tuple[Mutant, ...]
    unit_tests: tuple[str, ...]
    source: Path

    def select(self, ids: list[str] | None) -> list[Mutant]:
        """The mutants named by ``ids`` (all when ``None``), in catalogue order.

        Raises:
            CatalogueError: An id the catalogue does not declare.
        """
        if not ids:
            return list(self.mutants)
        known = {mutant.id for mutant in self.mutants}
        unknown = [mutant_id for mutant_id in ids if mutant_id not in known]
        if unknown:
            raise CatalogueError([f"{self.source}: no mutant with id {mutant_id!r}" for mutant_id in unknown])
        return [mutant for mutant in self.mutants if mutant.id in ids]

    def stale(self, root: Path, mutants: list[Mutant] | None = None) -> list[str]:
        """Why each of ``mutants`` (default: all) cannot be applied to the repository at ``root``; empty when none."""
        problems = []
        for mutant in self.mutants if mutants is None else mutants:
            path = root / mutant.file
            if not path.is_file():
                problems.append(f"mutant {mutant.id}: {mutant.file} does not exist (stale entry)")
                continue
            try:
                mutant.mutated(path.read_text(encoding="utf-8"))
            except StaleMutantError as error:
                problems.append(str(error))
        return problems


def load_catalogue(path: Path = DEFAULT_CATALOGUE) -> Catalogue:
    """Read and check a catalogue file (shape, unique ids, a reason for every equivalent mutant).

    Whether each original text still matches is :meth:`Catalogue.stale`'s question (it needs the source tree).

    Raises:
        CatalogueError: Naming the file, the place in it and the reason of every problem.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CatalogueError([f"{path}: cannot be read: {error}"]) from None
    validator = jsonschema.Draft202012Validator(_SCHEMA)
    problems = [
        f"{path}: {'.'.join(str(part) for part in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if problems:
        raise CatalogueError(problems)
    mutants = [_mutant(entry) for entry in document["mutants"]]
    seen: set[str] = set()
    for index, mutant in enumerate(mutants):
        place = f"{path}: mutants.{index} ({mutant.id})"
        if mutant.id in seen:
            problems.append(f"{place}: duplicate id")
        seen.add(mutant.id)
        if mutant.original == mutant.replacement:
            problems.append(f"{place}: the replacement is the original (no change)")
        if mutant.equivalent and not mutant.reason:
            problems.append(f"{place}: an equivalent mutant needs a reason saying why it preserves behaviour")
        if not mutant.equivalent and mutant.reason:
            problems.append(f"{place}: reason is for equivalent mutants; say what it breaks in description")
    if problems:
        raise CatalogueError(problems)
    return Catalogue(tuple(mutants), tuple(document["unit_tests"]), path)


def _mutant(entry: dict[str, Any]) -> Mutant:
    return Mutant(
        id=entry["id"],
        file=entry["file"],
        category=entry["category"],
        original=entry["original"],
        replacement=entry["replacement"],
        description=entry["description"],
        equivalent=entry.get("equivalent", False),
        reason=entry.get("reason", ""),
        scenarios=tuple(entry.get("scenarios", ())),
    )
