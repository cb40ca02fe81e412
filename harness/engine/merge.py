"""The merge of a sharded gate: N partial verdicts (``gate --shard K/N``) judged as one library.

:func:`read_partials` reads each shard's ``verdict.json`` and refuses, with one clear message
(:class:`~harness.commandline.BadInputError`, exit 2), anything that is not the N shards of one gate: a whole verdict
instead of a partial one, shards of different counts, a shard missing or given twice, different scenario sets,
baselines, candidates, code under test, commits, approvals files or ExternalId settings, or a scenario held by no shard
or by two.

:func:`merge_partials` then decides what only the whole library can decide, with the functions the unsharded gate
uses: coverage from every shard's rows (:func:`harness.engine.coverage.coverage_table`), the gate's blockers (coverage
gaps and stale approvals, :func:`harness.engine.coverage.gate_blockers`) and the approvals' summary
(:func:`harness.engine.runner.summarise_approvals`). Scenario results are kept exactly as the shards wrote them
(:class:`RecordedScenario`), in library order, so the merged ``verdict.json`` and the reports written from it by the
gate's own writers are an unsharded gate's, apart from timings: ``started`` is the earliest shard's, ``durationS`` the
longest shard's (the wall time when the shards ran side by side).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema

from harness.commandline import BadInputError, read_json_report
from harness.engine.coverage import coverage_table, gate_blockers
from harness.engine.model import PARTIAL, VERDICT_SCHEMA_VERSION, ApprovalUse, RunResult
from harness.engine.provenance import VERDICT_SCHEMA
from harness.engine.runner import summarise_approvals

VERDICT_FILE = "verdict.json"
#: What an approval's entry in ``verdict.json`` adds to its declaration (recomputed by the merge).
_APPROVAL_USES = ("referencedBy", "appliedIn", "staleIn")


@dataclass(frozen=True)
class Partial:
    """One shard's partial verdict and where it was read from."""

    path: Path
    document: dict[str, Any]

    @property
    def shard(self) -> dict[str, Any]:
        """The partial verdict's ``shard`` section."""
        return self.document["shard"]

    def __str__(self) -> str:
        return f"{self.path} (shard {self.shard['index']} of {self.shard['count']})"


@dataclass
class RecordedScenario:
    """One scenario's result as a shard wrote it into ``verdict.json``, standing in for its ``ScenarioResult``.

    It offers what a :class:`~harness.engine.model.RunResult` and the gate's findings read of a result: the name, the
    status, the approval uses and ``to_dict()`` (the recorded entry itself; the observations' full detail stays with
    the shard, as in an unsharded ``verdict.json``).
    """

    data: dict[str, Any]

    @property
    def name(self) -> str:
        """The scenario's name."""
        return str(self.data["name"])

    @property
    def status(self) -> str:
        """Its outcome."""
        return str(self.data["status"])

    @property
    def approvals(self) -> list[ApprovalUse]:
        """Its approval uses, rebuilt from their JSON form."""
        return [
            ApprovalUse(
                id=use["id"],
                referenced=use["referenced"],
                applicable=use["applicable"],
                candidate_ok=use["candidateOk"],
                covered=use["covered"],
                notes=list(use["notes"]),
            )
            for use in self.data.get("approvals", [])
        ]

    def to_dict(self, full: bool = False) -> dict[str, Any]:
        """The entry the shard wrote (``full`` or not: the shard kept only the summaries, as ``verdict.json`` does)."""
        return self.data


def read_partial(path: Path) -> Partial:
    """A shard's partial verdict, from its report directory or its ``verdict.json``.

    Raises:
        BadInputError: Unreadable, not JSON, or not a partial verdict of this schema version.
    """
    file, document = read_json_report(path, VERDICT_FILE)
    if not isinstance(document, dict) or document.get("schemaVersion") != VERDICT_SCHEMA_VERSION:
        raise BadInputError(f"{file}: not a verdict.json of schema version {VERDICT_SCHEMA_VERSION}")
    if document.get("verdict") != PARTIAL or not isinstance(document.get("shard"), dict):
        raise BadInputError(
            f"{file}: not a shard's partial verdict (it says {document.get('verdict')!r}); merge combines the "
            "verdicts of `python -m harness gate --shard K/N`"
        )
    problem = next(iter(sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))), None)
    if problem is not None:
        where = "/".join(str(part) for part in problem.absolute_path) or "(top level)"
        raise BadInputError(f"{file}: {where}: {problem.message} (verdict.schema.json)")
    return Partial(file, document)


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(VERDICT_SCHEMA.read_text(encoding="utf-8")))


def _implementation(role: str) -> Callable[[dict[str, Any]], Any]:
    def key(document: dict[str, Any]) -> Any:
        sources = (document.get("provenance") or {}).get("implementations", {}).get(role, {})
        return document[role], sources.get("sha256"), sources.get("packageSha256")

    return key


#: What every shard of one gate shares: (what it is called in a refusal, how to read it from a partial verdict).
MUST_AGREE: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
    ("scenario sets", lambda d: (d["shard"]["scenarioSet"], d["shard"]["library"])),
    ("baselines", _implementation("baseline")),
    ("candidates", _implementation("candidate")),
    ("approvals files", lambda d: (d["shard"]["approvalsFile"].get("sha256"), d["approvalsApply"])),
    ("code under test", lambda d: (d.get("provenance") or {}).get("packages")),
    ("commits", lambda d: ((d.get("provenance") or {}).get("git") or {}).get("commit")),
    ("ExternalId settings (--show-external-ids)", lambda d: d["shard"]["showExternalIds"]),
)


def read_partials(paths: Sequence[Path]) -> list[Partial]:
    """Every shard's partial verdict, checked to be the N shards of one gate, in shard order.

    Raises:
        BadInputError: One sentence saying what does not fit (see the module docstring).
    """
    partials = [read_partial(path) for path in paths]
    first = partials[0]
    for other in partials[1:]:
        if other.shard["count"] != first.shard["count"]:
            raise BadInputError(f"{first} and {other} are shards of different counts: merge the shards of one gate")
        for label, key in MUST_AGREE:
            if key(other.document) != key(first.document):
                raise BadInputError(f"mixed {label}: {first} and {other} differ; merge only the shards of one gate")
    _check_shards(partials)
    _check_scenarios(partials)
    return sorted(partials, key=lambda partial: partial.shard["index"])


def _check_shards(partials: list[Partial]) -> None:
    count = partials[0].shard["count"]
    seen: dict[int, Partial] = {}
    for partial in partials:
        index = partial.shard["index"]
        if index > count:
            raise BadInputError(f"{partial.path} says it is shard {index} of {count}, which no gate makes")
        if index in seen:
            raise BadInputError(f"shard {index} of {count} is given twice: {seen[index].path} and {partial.path}")
        seen[index] = partial
    missing = [str(index) for index in range(1, count + 1) if index not in seen]
    if missing:
        raise BadInputError(
            f"shard(s) {', '.join(missing)} of {count} missing: give the report directory of every shard"
        )


def _check_scenarios(partials: list[Partial]) -> None:
    """Every scenario of the library held by exactly one shard, and each shard holding the results it names."""
    holder: dict[str, Partial] = {}
    for partial in partials:
        ran = [scenario["name"] for scenario in partial.document["scenarios"]]
        if ran != partial.shard["scenarios"] or set(ran) - set(partial.shard["library"]):
            raise BadInputError(f"{partial}: its results are not the scenarios it says it holds")
        if set(ran) - set(partial.document["coverage"]["scenarios"]):
            raise BadInputError(f"{partial}: it lacks the coverage rows of its scenarios, which the merge needs")
        for name in ran:
            if name in holder:
                raise BadInputError(
                    f"scenario {name!r} is in two shards, {holder[name]} and {partial}: were the shards planned "
                    "with the same --durations?"
                )
            holder[name] = partial
    unheld = [name for name in partials[0].shard["library"] if name not in holder]
    if unheld:
        shown = ", ".join(unheld[:5]) + (", ..." if len(unheld) > 5 else "")
        raise BadInputError(
            f"{len(unheld)} scenario(s) in no shard ({shown}): were the shards planned with the same --durations?"
        )


def merge_partials(partials: Sequence[Partial]) -> RunResult:
    """The whole gate's result from its shards' partial verdicts (checked by :func:`read_partials`)."""
    first = partials[0].document
    library = partials[0].shard["library"]
    position = {name: index for index, name in enumerate(library)}
    scenarios = sorted(
        (RecordedScenario(entry) for partial in partials for entry in partial.document["scenarios"]),
        key=lambda scenario: position[scenario.name],
    )
    rows: dict[str, Any] = {}
    for partial in partials:
        rows.update(partial.document["coverage"]["scenarios"])
    declarations = [{k: v for k, v in entry.items() if k not in _APPROVAL_USES} for entry in first["approvals"]]
    table = coverage_table({name: rows[name] for name in library}, [entry["id"] for entry in declarations])
    provenance = dict(first["provenance"])
    provenance["generated"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return RunResult(
        command="gate",
        baseline=first["baseline"],
        candidate=first["candidate"],
        scenarios=scenarios,  # type: ignore[arg-type] - recorded results stand in for ScenarioResult
        blockers=gate_blockers(table, scenarios),  # type: ignore[arg-type]
        approvals=summarise_approvals(scenarios, declarations) if first["approvalsApply"] else [],
        coverage=table,
        started=min(partial.document["started"] for partial in partials),
        duration_s=max(float(partial.document["durationS"]) for partial in partials),
        approvals_apply=first["approvalsApply"],
        provenance=provenance,
    )
