"""The engine's result model: what one run observed, how two runs differ, and what the engine concluded.

Everything here is a plain dataclass with a ``to_dict()`` that returns JSON-serialisable data (``verdict.json`` is
built from it, and so are the HTML/Markdown/JUnit reports). The shapes, from the inside out:

``Observation`` -- one run of one implementation in one fresh world. Gating sections (compared):

* ``response``: the handler's return value, ``{"statusCode", "headers", "body"}`` with ``body`` parsed as JSON
  (kept as a string when it is not JSON), or ``None`` when the handler raised;
* ``exception``: ``{"type", "message"}`` of what the handler raised, or ``None``;
* ``earlierInvocations``: in a world invoked several times (``invocations: N``), the ``response`` and ``exception``
  of every invocation but the last (``response``/``exception`` are the last one's), keyed by number from 1: paths read
  ``earlierInvocations[1].response.body.regionsScanned``; empty for one invocation;
* ``tables``: logical table -> item key label -> item, DynamoDB types preserved (``Decimal``, sets, bytes);
* ``region_status_writes``: every write to the region-status table (each ``PutItem`` -- the ``update_region_status``
  calls -- and each ``PutRequest`` of a ``BatchWriteItem``), a multiset of ``{"via", "account", "region", "item"}``;
* ``mutating_calls``: every other ``PutItem``/``DeleteItem``/``UpdateItem``/``AssumeRole`` call, and each single
  write request of a ``BatchWriteItem``, a multiset of ``{"service", "operation", "account", "region", "table",
  "params"}`` (``table`` is the logical table name; the physical ``TableName`` is dropped);
* ``reads``: every other (idempotent) call, compared as a *set*; each entry carries its ``count``, which is shown
  but never gates.

Informational sections (shown, never compared): ``output`` (``print`` lines and log records), ``wall_time_ms``,
``failed_calls`` (calls with a non-``ok`` attempt: faults, retries) and ``read_count``. In a world invoked several
times, every call entry of a later invocation carries ``"invocation": n`` (the first invocation's entries look
exactly like a single run's).

``world_truth`` is neither compared nor shown: what the world knows about the run independently of the code under
test (its servers, which DRS listings it answered completely, the inventory before the run...;
:mod:`harness.world.truth`). The approvals' oracles judge outcomes by it.

``Difference`` -- one difference between the baseline and the candidate (or between the two baseline runs, for
noise), with a readable ``path`` such as ``response.body.totalSynced`` or
``mutatingCalls[sts:AssumeRole arn:aws:iam::222222222222:role/R].params.RoleSessionName``.

``ScenarioResult`` -- the outcome of one scenario (``equivalent``, ``approved-divergence``, ``divergent`` or
``error``), its differences (approved ones included, marked), the noise found, approvals applied or stale, and the
three observations. ``RunResult`` -- a whole ``run``/``gate``: every scenario result, approval and coverage
findings, and the verdict (``GO``/``NO-GO``) with the reasons that block it.

Values inside differences and observations are converted for JSON by :func:`jsonable` (``Decimal`` -> int or
float, sets -> sorted lists, bytes -> base64); when a difference is a type change the two type names are kept in
``baseline_type``/``candidate_type`` so ``Decimal('5')`` vs ``5`` stays visible.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

EQUIVALENT = "equivalent"
APPROVED_DIVERGENCE = "approved-divergence"
DIVERGENT = "divergent"
ERROR = "error"
#: Every scenario outcome, from best to worst.
OUTCOMES = (EQUIVALENT, APPROVED_DIVERGENCE, DIVERGENT, ERROR)

#: Difference status: not covered by any approval (fails the scenario).
UNAPPROVED = "unapproved"
#: Difference status: covered by an applicable approval.
APPROVED = "approved"
#: Difference status: the two baseline runs differ at the same place, so it is timing noise and never gates.
NOISE = "noise"

#: Noise origin: a difference between two baseline runs (``baseline`` is run 1, ``candidate`` holds run 2's value).
BASELINE_RUNS = "baseline-runs"
#: Noise origin: a candidate difference excused because legacy itself varies at that place.
EXCUSED = "excused"

GO = "GO"
NO_GO = "NO-GO"
#: The version of verdict.json's shape (harness/engine/verdict.schema.json); raised when a field changes meaning.
VERDICT_SCHEMA_VERSION = "1.0"

#: Gating sections of an observation, in report order (camelCase as in paths and JSON).
SECTIONS = ("response", "exception", "earlierInvocations", "tables", "regionStatusWrites", "mutatingCalls", "reads")


@dataclass(frozen=True)
class Opaque:
    """A returned value that is not plain data, kept as its type name and ``repr`` (see :func:`portable`).

    Attributes:
        type_name: The value's type, qualified.
        text: Its ``repr`` (shortened).
    """

    type_name: str
    text: str

    def __str__(self) -> str:
        return f"<{self.type_name}: {self.text}>"


#: Types :func:`portable` keeps as they are (exactly these types, not subclasses).
PLAIN_TYPES = (str, int, float, bool, type(None), Decimal, bytes, bytearray)
_PORTABLE_DEPTH = 64
_OPAQUE_TEXT = 500


def portable(value: Any, depth: int = 0) -> Any:
    """A returned value as plain data: containers and :data:`PLAIN_TYPES` kept, anything else an :class:`Opaque`.

    Observations hold only plain data, so that a contained run can send its observation back without the harness
    ever building an object the code under test chose (and so that equal values compare equal however they travel).

    Args:
        value: What the handler returned (after :func:`harness.engine.normalise.normalise_return`).
        depth: Nesting level so far; deeper than 64 levels the value is kept as an :class:`Opaque`.

    Returns:
        The same value with every non-plain part replaced.
    """
    kind = type(value)
    if kind in PLAIN_TYPES:
        return value
    if depth < _PORTABLE_DEPTH:
        if kind is dict:
            return {portable(key, depth + 1): portable(item, depth + 1) for key, item in value.items()}
        if kind in (list, tuple, set, frozenset):
            return kind(portable(item, depth + 1) for item in value)
    try:
        text = repr(value)
    except Exception as error:  # noqa: BLE001 - a broken __repr__ is part of what was returned
        text = f"<repr raised {type(error).__name__}>"
    name = f"{kind.__module__}.{kind.__qualname__}"
    return Opaque(name, text if len(text) <= _OPAQUE_TEXT else text[: _OPAQUE_TEXT - 3] + "...")


def jsonable(value: Any) -> Any:
    """Convert a recorded value to plain JSON data (lossy for types; see :class:`Difference` for type changes).

    Args:
        value: Any value an observation may hold.

    Returns:
        The same value made of dicts, lists, strings, numbers, booleans and ``None``.
    """
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((jsonable(item) for item in value), key=repr)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass
class Observation:
    """Everything one implementation did in one fresh world (see the module docstring for each section).

    Attributes:
        implementation: ``package.module:function`` that ran.
        variant: The world variant (0 primary, 1 secondary baseline).
        response: The handler's return value (body parsed), or ``None`` when it raised (the last invocation's).
        exception: ``{"type", "message"}`` of the exception the handler raised, or ``None`` (the last invocation's).
        earlier_invocations: ``{"1": {"response", "exception"}, ...}`` of every invocation before the last.
        tables: Logical table -> item key label -> item, types preserved.
        region_status_writes: Multiset of writes to the region-status table.
        mutating_calls: Multiset of the other mutating calls (batch writes split per request).
        reads: Distinct idempotent calls, each with its ``count``.
        output: ``{"stream": "stdout", "text"}`` and ``{"stream": "log", "level", "logger", "message"}`` entries.
        wall_time_ms: Real time the handler took.
        failed_calls: Calls with at least one attempt that was not ``ok`` (faults, retries).
        harness_error: Set when the harness itself failed around this run (the observation is then incomplete).
        world_truth: What the world knows about the run (:func:`harness.world.truth.world_truth`); empty when the
            observation was not made in a world (tests building observations by hand).
    """

    implementation: str
    variant: int = 0
    response: Any = None
    exception: dict[str, str] | None = None
    earlier_invocations: dict[str, dict[str, Any]] = field(default_factory=dict)
    tables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    region_status_writes: list[dict[str, Any]] = field(default_factory=list)
    mutating_calls: list[dict[str, Any]] = field(default_factory=list)
    reads: list[dict[str, Any]] = field(default_factory=list)
    output: list[dict[str, str]] = field(default_factory=list)
    wall_time_ms: float = 0.0
    failed_calls: list[dict[str, Any]] = field(default_factory=list)
    harness_error: str | None = None
    world_truth: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Observation(implementation={self.implementation!r}, variant={self.variant})"

    def section(self, name: str) -> Any:
        """The gating section ``name`` (one of :data:`SECTIONS`) as compared; reads without their counts."""
        if name == "reads":
            return [{k: v for k, v in entry.items() if k != "count"} for entry in self.reads]
        attribute = {
            "regionStatusWrites": "region_status_writes",
            "mutatingCalls": "mutating_calls",
            "earlierInvocations": "earlier_invocations",
        }.get(name, name)
        return getattr(self, attribute)

    @property
    def read_count(self) -> int:
        """How many idempotent calls were made in total (informational)."""
        return sum(int(entry.get("count", 1)) for entry in self.reads)

    def summary(self) -> dict[str, Any]:
        """A compact JSON view for ``verdict.json``: what it returned or raised, output and call counts."""
        return {
            "implementation": self.implementation,
            "variant": self.variant,
            "response": jsonable(self.response),
            "exception": self.exception,
            "earlierInvocations": jsonable(self.earlier_invocations),
            "wallTimeMs": round(self.wall_time_ms, 1),
            "tableItems": {name: len(items) for name, items in self.tables.items()},
            "regionStatusWrites": len(self.region_status_writes),
            "mutatingCalls": len(self.mutating_calls),
            "distinctReads": len(self.reads),
            "readCalls": self.read_count,
            "failedCalls": jsonable(self.failed_calls),
            "output": self.output,
            "harnessError": self.harness_error,
        }

    def to_dict(self) -> dict[str, Any]:
        """The whole observation as JSON data."""
        return {
            **self.summary(),
            "tables": jsonable(self.tables),
            "regionStatusWriteItems": jsonable(self.region_status_writes),
            "mutatingCallItems": jsonable(self.mutating_calls),
            "reads": jsonable(self.reads),
        }


@dataclass
class Difference:
    """One difference between two observations.

    Attributes:
        section: The gating section it lies in (one of :data:`SECTIONS`).
        path: Readable location, e.g. ``tables.inventory[<key>].hostname``.
        kind: ``changed``, ``type-changed``, ``added`` (only the candidate has it), ``removed`` (only the
            baseline has it) or ``count-changed`` (a multiset element occurs a different number of times).
        baseline: The baseline's value (JSON data; ``None`` when absent).
        candidate: The candidate's value (JSON data; ``None`` when absent).
        baseline_type: Python type name of the baseline value, for type changes.
        candidate_type: Python type name of the candidate value, for type changes.
        status: :data:`UNAPPROVED`, :data:`APPROVED` or :data:`NOISE`.
        approval: Id of the approval covering it, when approved.
        anchor: Where noise is matched: the element or item the difference lies in (not serialised).
        origin: For noise, :data:`BASELINE_RUNS` (legacy against itself: ``baseline`` is its run 1, ``candidate``
            its run 2) or :data:`EXCUSED` (a candidate difference excused by that noise); empty otherwise.
    """

    section: str
    path: str
    kind: str
    baseline: Any = None
    candidate: Any = None
    baseline_type: str | None = None
    candidate_type: str | None = None
    status: str = UNAPPROVED
    approval: str | None = None
    anchor: str = ""
    origin: str = ""

    def describe(self) -> str:
        """One readable line: path, what changed, and the two values (named after the runs they come from)."""
        before, after = _short(self.baseline), _short(self.candidate)
        first, second = (
            ("baseline run 1", "baseline run 2") if self.origin == BASELINE_RUNS else ("baseline", "candidate")
        )
        if self.kind == "added":
            text = f"{self.path}: only in {second}: {after}"
        elif self.kind == "removed":
            text = f"{self.path}: only in {first}: {before}"
        elif self.kind == "count-changed":
            text = f"{self.path}: occurs {before} time(s) in {first}, {after} in {second}"
        elif self.kind == "type-changed":
            text = f"{self.path}: {first} {before} ({self.baseline_type}) -> {second} {after} ({self.candidate_type})"
        else:
            text = f"{self.path}: {first} {before} -> {second} {after}"
        if self.status == APPROVED:
            text += f"  [approved: {self.approval}]"
        elif self.origin == EXCUSED:
            text += "  [noise: legacy itself varies here]"
        elif self.status == NOISE:
            text += "  [noise]"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON data, with a one-line ``description``."""
        data: dict[str, Any] = {
            "section": self.section,
            "path": self.path,
            "kind": self.kind,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "status": self.status,
            "description": self.describe(),
        }
        if self.baseline_type or self.candidate_type:
            data["baselineType"] = self.baseline_type
            data["candidateType"] = self.candidate_type
        if self.approval:
            data["approval"] = self.approval
        if self.origin:
            data["origin"] = self.origin
        return data


def _short(value: Any, limit: int = 200) -> str:
    if isinstance(value, dict) and {"params", "item"} & set(value):
        value = value.get("params", value.get("item"))
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class ApprovalUse:
    """How one approval fared in one scenario.

    Attributes:
        id: The approval id (``AD-1``...).
        referenced: Whether the scenario references it (otherwise it was applied automatically, e.g. by the fuzzer).
        applicable: Whether its condition holds for this scenario and baseline.
        candidate_ok: Whether the candidate satisfies what the approval promises it does instead.
        covered: How many differences it approved.
        notes: Why it did not apply, when it did not.
    """

    id: str
    referenced: bool
    applicable: bool
    candidate_ok: bool
    covered: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        """A referenced approval that approved nothing here is stale."""
        return self.referenced and self.covered == 0

    def to_dict(self) -> dict[str, Any]:
        """JSON data."""
        return {
            "id": self.id,
            "referenced": self.referenced,
            "applicable": self.applicable,
            "candidateOk": self.candidate_ok,
            "covered": self.covered,
            "stale": self.stale,
            "notes": list(self.notes),
        }


@dataclass
class ScenarioResult:
    """The outcome of one scenario.

    Attributes:
        name: Scenario name.
        source: Scenario file (or ``<memory>``).
        status: One of :data:`OUTCOMES`.
        differences: Baseline-vs-candidate differences that are not noise (approved ones marked).
        noise: Differences between the two baseline runs, and candidate differences excused by them.
        approvals: One :class:`ApprovalUse` per approval referenced or applied.
        errors: Why the status is ``error`` (harness failures, failed expectations).
        baseline: The primary baseline observation.
        baseline_secondary: The second baseline observation (noise detection).
        candidate: The candidate observation.
        extra_baselines: Further baseline runs in other variants, made when a divergence might be timing noise.
        duration_s: Real time the scenario took (all three runs and the comparison).
        tags: The scenario's tags.
    """

    name: str
    source: str = "<memory>"
    status: str = EQUIVALENT
    differences: list[Difference] = field(default_factory=list)
    noise: list[Difference] = field(default_factory=list)
    approvals: list[ApprovalUse] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    baseline: Observation | None = None
    baseline_secondary: Observation | None = None
    candidate: Observation | None = None
    extra_baselines: list[Observation] = field(default_factory=list)
    duration_s: float = 0.0
    tags: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"ScenarioResult(name={self.name!r}, status={self.status!r}, differences={len(self.differences)})"

    @property
    def unapproved(self) -> list[Difference]:
        """The differences that fail the scenario."""
        return [d for d in self.differences if d.status == UNAPPROVED]

    @property
    def stale_approvals(self) -> list[str]:
        """Ids of referenced approvals that matched nothing in this scenario."""
        return [use.id for use in self.approvals if use.stale]

    def explain(self) -> str:
        """A readable multi-line account of the outcome (used by pytest failures and the terminal)."""
        lines = [f"{self.name}: {self.status}"]
        lines += [f"  error: {message}" for message in self.errors]
        lines += [f"  {d.describe()}" for d in self.differences]
        lines += [
            f"  stale approval {use.id}: {'; '.join(use.notes) or 'matched nothing'}"
            for use in self.approvals
            if use.stale
        ]
        if self.noise:
            lines.append(f"  ({len(self.noise)} noise difference(s) between the two baseline runs ignored)")
        return "\n".join(lines)

    def to_dict(self, full: bool = False) -> dict[str, Any]:
        """JSON data; ``full`` includes the whole observations (tables, calls), otherwise their summaries."""
        runs = {"baseline": self.baseline, "baselineSecondary": self.baseline_secondary, "candidate": self.candidate}
        return {
            "name": self.name,
            "source": self.source,
            "status": self.status,
            "differences": [d.to_dict() for d in self.differences],
            "noise": [d.to_dict() for d in self.noise],
            "approvals": [use.to_dict() for use in self.approvals],
            "staleApprovals": self.stale_approvals,
            "errors": list(self.errors),
            "durationS": round(self.duration_s, 3),
            "tags": list(self.tags),
            "extraBaselineRuns": len(self.extra_baselines),
            "runs": {
                key: (None if obs is None else obs.to_dict() if full else obs.summary()) for key, obs in runs.items()
            },
        }


@dataclass
class RunResult:
    """A whole ``run`` or ``gate``: every scenario and the verdict.

    Attributes:
        command: ``run`` or ``gate``.
        baseline: The baseline implementation (``package.module:function``).
        candidate: The candidate implementation.
        scenarios: One result per scenario, in the order run.
        blockers: Gate findings beyond the scenarios (stale approvals, coverage gaps), one sentence each.
        approvals: Per approval id: reason, owner, scenarios referencing it, scenarios where it applied, stale flag.
        coverage: The coverage computation (gate only; see :mod:`harness.engine.coverage`).
        started: ISO-8601 UTC time the run started.
        duration_s: Real time the whole run took.
        approvals_apply: ``False`` when baseline and candidate are both versions of production (a deployed artifact
            and ``legacy``): no approval applied, every difference counted.
        provenance: What the verdict was made from (:func:`harness.engine.provenance.build_provenance`); filled in
            when the verdict is written if not set before.
        run_id: Unique per run; the gate checks that the verdict on disk carries it before it exits 0.
    """

    command: str
    baseline: str
    candidate: str
    scenarios: list[ScenarioResult] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    coverage: dict[str, Any] | None = None
    started: str = ""
    duration_s: float = 0.0
    approvals_apply: bool = True
    provenance: dict[str, Any] | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def counts(self) -> dict[str, int]:
        """How many scenarios ended in each outcome."""
        return {outcome: sum(1 for s in self.scenarios if s.status == outcome) for outcome in OUTCOMES}

    @property
    def failing(self) -> list[ScenarioResult]:
        """Scenarios that are divergent or in error."""
        return [s for s in self.scenarios if s.status in (DIVERGENT, ERROR)]

    @property
    def verdict(self) -> str:
        """``GO`` when no scenario is divergent or in error and nothing else blocks; ``NO-GO`` otherwise."""
        return GO if not self.failing and not self.blockers else NO_GO

    def reasons(self) -> list[str]:
        """Everything that blocks the flip, most important first (empty when GO)."""
        return [f"scenario {s.name} is {s.status}" for s in self.failing] + list(self.blockers)

    def to_dict(self, full: bool = False) -> dict[str, Any]:
        """The ``verdict.json`` document (its shape: ``harness/engine/verdict.schema.json``)."""
        return {
            "schemaVersion": VERDICT_SCHEMA_VERSION,
            "verdict": self.verdict,
            "runId": self.run_id,
            "command": self.command,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "approvalsApply": self.approvals_apply,
            "started": self.started,
            "durationS": round(self.duration_s, 3),
            "counts": self.counts,
            "reasons": self.reasons(),
            "blockers": list(self.blockers),
            "approvals": self.approvals,
            "coverage": self.coverage,
            "provenance": self.provenance,
            "scenarios": [s.to_dict(full=full) for s in self.scenarios],
        }
