"""The approval ids a scenario may reference: read from the approvals file, so ``validate`` checks references too.

The engine (:mod:`harness.engine.approvals`) reads the whole file into approvals with conditions and covers; the
scenario package needs only the declared ids, and reads them with the same bounded reader, so a scenario naming an
approval nobody declared is refused by ``validate`` as it is by ``run``: ``file:approvals[0]: unknown approval
'AD-9' (did you mean 'AD-2'?)``.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import yaml

from harness.scenario.limits import Limits
from harness.scenario.reading import DocPath, ReadingError, parse_yaml, read_text

#: The approvals file shipped with the harness.
DEFAULT_APPROVALS = Path(__file__).resolve().parents[1] / "approvals.yaml"


class ApprovalsFileError(Exception):
    """The approvals file cannot be read or has no top-level ``approvals`` list; the message names the file."""


def approval_entries(path: Path | str = DEFAULT_APPROVALS, limits: Limits | None = None) -> list[Any]:
    """The entries of the approvals file's top-level ``approvals`` list, as parsed (not checked further).

    Raises:
        ApprovalsFileError: The file cannot be read, is not YAML within the limits, or has no ``approvals`` list.
    """
    try:
        document, _node = parse_yaml(read_text(Path(path), limits or Limits.from_environment(), "YAML"))
    except (ReadingError, yaml.YAMLError) as error:
        raise ApprovalsFileError(f"{path}: cannot read approvals: {error}") from None
    entries = document.get("approvals") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ApprovalsFileError(f"{path}: expected a top-level 'approvals' list")
    return entries


def declared_ids(path: Path | str = DEFAULT_APPROVALS, limits: Limits | None = None) -> frozenset[str]:
    """The ids the approvals file declares."""
    return frozenset(str(e["id"]) for e in approval_entries(path, limits) if isinstance(e, dict) and "id" in e)


def _hint(reference: str, declared: Collection[str]) -> str:
    ranked = sorted(((difflib.SequenceMatcher(None, reference, d).ratio(), d) for d in declared), reverse=True)
    if ranked and ranked[0][0] >= 0.75 and (len(ranked) == 1 or ranked[1][0] < ranked[0][0]):
        return f" (did you mean {ranked[0][1]!r}?)"
    return f" (declared: {', '.join(sorted(declared))})" if declared else " (the approvals file declares none)"


def reference_problems(doc: dict[str, Any], declared: Collection[str]) -> Iterator[tuple[DocPath, str]]:
    """A problem for every entry of the scenario's ``approvals`` that no approval declares."""
    references = doc.get("approvals")
    for index, reference in enumerate(references if isinstance(references, list) else []):
        if isinstance(reference, str) and reference not in declared:
            yield ("approvals", index), f"unknown approval {reference!r}{_hint(reference, declared)}"
