"""Run metadata for the reports: what exactly was compared, with what, and when.

The provenance itself (git commit and dirty flag, content hashes, tool versions, scenario-set hash) is built by
:func:`harness.engine.provenance.build_provenance` and carried by ``verdict.json``; this module lays it out for the
reports, adding the frozen scenario clock(s) the worlds ran at.
"""

from __future__ import annotations

from typing import Any

from harness.engine.provenance import (
    SCHEMA_VERSION,
    SHARED_PACKAGE,
    build_provenance,
    file_sha256,
    git_state,
    implementation_sources,
    module_sources,
    repository_root,
    tool_versions,
    tree_sha256,
)

__all__ = [
    "SCHEMA_VERSION",
    "collect_metadata",
    "file_sha256",
    "git_state",
    "implementation_sources",
    "module_sources",
    "repository_root",
    "tool_versions",
    "tree_sha256",
]


def collect_metadata(run: dict[str, Any], clocks: list[str]) -> dict[str, Any]:
    """Everything the Run metadata section shows.

    Args:
        run: The run's ``to_dict()`` (for the implementation names and timings).
        clocks: The distinct frozen clocks the scenarios ran at.

    Returns:
        ``{"generated", "started", "durationS", "command", "git", "sources", "packages", "tools", "scenarioSet",
        "clocks"}``; the provenance comes from the run's own (``verdict.json``) when it has one.
    """
    root = repository_root()
    provenance = run.get("provenance") or build_provenance(
        str(run.get("baseline") or ""), str(run.get("candidate") or ""), [s.get("source", "") for s in run["scenarios"]]
    )
    sources = [provenance["implementations"][role] for role in ("baseline", "candidate")]
    sources.append(module_sources("shared layer", SHARED_PACKAGE, root))
    return {
        "generated": provenance["generated"],
        "started": run.get("started", ""),
        "durationS": run.get("durationS", 0),
        "command": run.get("command", ""),
        "git": provenance["git"],
        "sources": sources,
        "packages": provenance["packages"],
        "tools": provenance["tools"],
        "scenarioSet": provenance["scenarioSet"],
        "clocks": clocks,
    }
