"""Differential fuzzing: generated worlds through baseline and candidate, shrunk to a scenario file on divergence.

:func:`fuzz` drives Hypothesis over :func:`harness.fuzz.strategies.scenario_documents`, seeded so a run is
reproducible. Each example is judged by the equivalence engine with every approval whose condition holds for it
(``automatic=True``: the engine decides applicability, see :func:`harness.engine.approvals.applicable_approvals`).
A divergence no approval covers, or a harness error, fails the example; Hypothesis then shrinks it and the smallest
failing document is written out as a scenario file (:mod:`harness.fuzz.writer`) that ``python -m harness run``
reproduces. The written file is run again through the engine, the way ``run`` does, to confirm it.

Judging an example costs two worlds when it passes: the primary baseline and the candidate are compared without
noise detection first. Noise only ever excuses differences, so an example that is clean without it is clean with
it; only when that quick look finds an unapproved difference does the engine's full :func:`run_scenario` run
(second baseline, probes), which decides. Results are cached by document, and shrinking is bounded by a budget of
engine runs: when it is spent, Hypothesis is stopped and the smallest failure found so far is the one written.

With ``FuzzOptions.timeout_s`` set (``python -m harness fuzz`` always sets it, ``--timeout``), every run is contained
as in ``run`` and ``gate``: a child process of its own, killed after the timeout, so a candidate that hangs, exits or
crashes on a generated world fails that example (an error outcome, shrunk and written like a divergence) instead of
stopping the fuzzer. Without it (the API's default, which the fuzzer's own tests use with trusted candidates) runs
are made in this process and nothing times out.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given
from hypothesis import seed as hypothesis_seed
from hypothesis import settings as hypothesis_settings

from harness.engine.approvals import Approval, applicable_approvals, load_approvals
from harness.engine.implementations import approvals_apply
from harness.engine.isolation import Containment
from harness.engine.model import DIVERGENT, ERROR, OUTCOMES, ScenarioResult
from harness.engine.observe import Implementation, named_implementation, observe, resolve_implementation
from harness.engine.runner import PRIMARY, SECONDARY, evaluate, run_scenario
from harness.fuzz.strategies import active_regions, scenario_documents
from harness.fuzz.writer import write_failure
from harness.scenario.loading import document_scenario, load_scenario
from harness.world.world import wall_clock

logger = logging.getLogger(__name__)

DEFAULT_EXAMPLES = 100
#: Engine runs allowed after the first failure, while Hypothesis shrinks it.
DEFAULT_SHRINK_BUDGET = 150
DEFAULT_SAVE_DIR = Path("reports/fuzz")
GENERATE, SHRINK = "generate", "shrink"
FAILING = (DIVERGENT, ERROR)


class UnapprovedDivergence(AssertionError):
    """Raised inside the Hypothesis property when an example fails (divergent or harness error)."""


class ShrinkBudgetSpent(BaseException):  # noqa: N818 - a signal, not an error
    """Raised inside the property when the shrink budget is spent: it ends Hypothesis's run at once.

    It is not an ``Exception``, so Hypothesis does not take it for a test failure and stops instead of shrinking
    on. The smallest failure so far is the last one judged: the shrinker only tries documents smaller than its
    current best, and every failing one becomes the new best.
    """


@dataclass(frozen=True)
class FuzzOptions:
    """What to fuzz and how.

    Attributes:
        examples: Examples Hypothesis generates (``max_examples``).
        seed: Hypothesis seed; the same seed, code and options give the same examples.
        baseline: Reference implementation name.
        candidate: Implementation judged.
        save_dir: Where a failing example is written (``None``: not written).
        shrink_budget: Engine runs allowed while shrinking.
        approvals: Declared approvals (default: ``harness/approvals.yaml``).
        timeout_s: Contain every run in a child process killed after this many seconds; ``None`` runs them here.
    """

    examples: int = DEFAULT_EXAMPLES
    seed: int = 0
    baseline: str = "legacy"
    candidate: str = "refactored"
    save_dir: Path | None = DEFAULT_SAVE_DIR
    shrink_budget: int = DEFAULT_SHRINK_BUDGET
    approvals: dict[str, Approval] | None = None
    timeout_s: float | None = None

    @property
    def containment(self) -> Containment | None:
        """How runs are contained (``None``: in this process)."""
        return None if self.timeout_s is None else Containment(self.timeout_s)

    def implementation(self, name: str) -> Implementation:
        """An implementation named in the options: by name only when runs are contained, else imported here."""
        return resolve_implementation(name) if self.timeout_s is None else named_implementation(name)


@dataclass(frozen=True)
class ExampleRecord:
    """One example the engine judged, for progress reporting.

    Attributes:
        number: 1-based count of engine runs in its phase.
        phase: ``generate`` or ``shrink``.
        status: The engine's outcome.
        duration_s: Real time judging took.
        summary: A short description of the world.
        approvals: Ids of the approvals that approved a difference.
        result: The engine's result.
        document: The generated document.
    """

    number: int
    phase: str
    status: str
    duration_s: float
    summary: str
    approvals: tuple[str, ...]
    result: ScenarioResult
    document: dict[str, Any]


Progress = Callable[[ExampleRecord], None]


@dataclass
class FuzzReport:
    """What a fuzz run found, with the figures worth quoting.

    Attributes:
        options: The options it ran with.
        outcomes: Engine outcome -> distinct examples (generation phase only).
        approvals_applied: Approval id -> examples in which it approved a difference (generation phase).
        features: World feature (``fault:drs:error``, ``stale-records``...) -> examples that had it.
        examples_run: Distinct examples judged in the generation phase.
        shrink_runs: Engine runs spent shrinking.
        failure: The engine's result for the shrunk failing example, if any.
        failure_doc: The shrunk failing document.
        failure_path: The scenario file written for it.
        reproduced: Whether the written file, rerun as ``run`` does, fails again.
        duration_s: Real time of the whole run.
    """

    options: FuzzOptions
    outcomes: Counter[str] = field(default_factory=Counter)
    approvals_applied: Counter[str] = field(default_factory=Counter)
    features: Counter[str] = field(default_factory=Counter)
    examples_run: int = 0
    shrink_runs: int = 0
    failure: ScenarioResult | None = None
    failure_doc: dict[str, Any] | None = None
    failure_path: Path | None = None
    reproduced: bool | None = None
    duration_s: float = 0.0

    @property
    def found(self) -> bool:
        """Whether an unapproved divergence (or a harness error) was found."""
        return self.failure is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON data for tooling."""
        return {
            "seed": self.options.seed,
            "examples": self.options.examples,
            "baseline": self.options.baseline,
            "candidate": self.options.candidate,
            "examplesRun": self.examples_run,
            "outcomes": {outcome: self.outcomes.get(outcome, 0) for outcome in OUTCOMES},
            "approvalsApplied": dict(sorted(self.approvals_applied.items())),
            "features": dict(sorted(self.features.items())),
            "shrinkRuns": self.shrink_runs,
            "found": self.found,
            "failure": self.failure.explain() if self.failure else None,
            "failurePath": str(self.failure_path) if self.failure_path else None,
            "reproduced": self.reproduced,
            "durationS": round(self.duration_s, 1),
        }


def world_features(doc: dict[str, Any]) -> list[str]:
    """The notable features of a generated world, for the run's figures."""
    features = [f"fault:{f['service']}:{f['effect'].get('kind', 'error')}" for f in doc.get("faults", [])]
    accounts = doc.get("accounts", [])
    features += ["assume-role-failure" for a in accounts if "assumeRole" in a]
    features += ["account-without-role-arn" for a in accounts if not a.get("roleArn")]
    tables = doc.get("tables", {})
    features += ["stale-records"] if tables.get("inventory") else []
    features += ["primed-inventory"] if tables.get("primeInventory") else []
    features += ["all-regions-scan"] if not active_regions(tables) else []
    features += ["table-variable-unset"] if doc.get("environment") else []
    features += ["no-target-accounts"] if not accounts else []
    features += ["role-requiring-external-id" for a in accounts if "role" in a]
    features += ["origin-role-requiring-external-id"] if doc.get("roles") else []
    features += [f"scan-pages:{table}" for table in doc.get("dynamodbPageSize", {})]
    items = [item.get("drs", {}) for group in doc.get("servers", []) for item in group.get("items", [])]
    features += ["cross-origin-server" for drs in items if drs.get("sourceCloudProperties")]
    features += ["odd-server-shape" for drs in items if drs.get("sourceProperties") or "stagingArea" in drs]
    return sorted(set(features))


def describe_world(doc: dict[str, Any]) -> str:
    """One line: accounts, active regions, servers and fault rules of a generated world."""
    groups = doc.get("servers", [])
    servers = sum(group.get("count", 0) + len(group.get("items", [])) for group in groups)
    active = active_regions(doc.get("tables", {})) or ["all 28"]
    faults = ", ".join(f"{f['service']}:{f['effect'].get('kind', 'error')}" for f in doc.get("faults", []))
    return f"{len(doc.get('accounts', []))} account(s), regions {'/'.join(active)}, {servers} server(s)" + (
        f", faults {faults}" if faults else ""
    )


class Judge:
    """The Hypothesis property: judges one document with the engine, caching by document, within a shrink budget.

    Args:
        baseline: Reference implementation.
        candidate: Implementation judged.
        approvals: Declared approvals.
        shrink_budget: Engine runs allowed after the first failure.
        progress: Called after every engine run.
        containment: How runs are contained (``None``: in this process).
    """

    def __init__(
        self,
        baseline: Implementation,
        candidate: Implementation,
        approvals: dict[str, Approval],
        shrink_budget: int,
        progress: Progress | None = None,
        containment: Containment | None = None,
    ) -> None:
        self.baseline = baseline
        self.candidate = candidate
        self.approvals = approvals
        self.shrink_budget = shrink_budget
        self.progress = progress
        self.containment = containment
        self.cache: dict[str, str] = {}
        self.failures: dict[str, ScenarioResult] = {}
        self.last_failure: tuple[dict[str, Any], ScenarioResult] | None = None
        self.generated: list[ExampleRecord] = []
        self.features: Counter[str] = Counter()
        self.shrink_runs = 0

    @property
    def phase(self) -> str:
        """``generate`` until the first failure, ``shrink`` after it."""
        return SHRINK if self.failures else GENERATE

    def __call__(self, doc: dict[str, Any]) -> None:
        """Judge ``doc``; raise :class:`UnapprovedDivergence` when it fails."""
        key = json.dumps(doc, sort_keys=True)
        if key in self.failures:
            self._fail(doc, self.failures[key])
        if key in self.cache:
            return
        if self.phase == SHRINK and self.shrink_runs >= self.shrink_budget:
            raise ShrinkBudgetSpent
        phase = self.phase
        started = wall_clock()
        result = self.judge(doc)
        record = ExampleRecord(
            number=len(self.generated) + 1 if phase == GENERATE else self.shrink_runs + 1,
            phase=phase,
            status=result.status,
            duration_s=wall_clock() - started,
            summary=describe_world(doc),
            approvals=tuple(use.id for use in result.approvals if use.covered),
            result=result,
            document=doc,
        )
        self._record(record, doc)
        if result.status in FAILING:
            self.failures[key] = result
            self._fail(doc, result)
        self.cache[key] = result.status

    def judge(self, doc: dict[str, Any]) -> ScenarioResult:
        """The engine's outcome for one document: a quick look without noise detection, the full run if it fails."""
        scenario = document_scenario(doc, source="<fuzz>")
        primary = observe(scenario, self.baseline, PRIMARY, self.containment)
        candidate = observe(scenario, self.candidate, PRIMARY, self.containment)
        quick = evaluate(scenario, primary, [primary], candidate, self.approvals, automatic=True)
        if quick.status not in FAILING:
            return quick
        secondary = observe(scenario, self.baseline, SECONDARY, self.containment)
        return run_scenario(
            scenario,
            self.baseline,
            self.candidate,
            self.approvals,
            automatic=True,
            baselines=(primary, secondary),
            containment=self.containment,
        )

    def _record(self, record: ExampleRecord, doc: dict[str, Any]) -> None:
        if record.phase == GENERATE:
            self.generated.append(record)
            self.features.update(world_features(doc))
        else:
            self.shrink_runs += 1
        if self.progress is not None:
            self.progress(record)

    def _fail(self, doc: dict[str, Any], result: ScenarioResult) -> None:
        self.last_failure = (doc, result)
        raise UnapprovedDivergence(result.explain())


def search(judge: Callable[[dict[str, Any]], None], examples: int, seed: int) -> None:
    """Run Hypothesis over generated documents until ``examples`` pass or one fails and is shrunk.

    Args:
        judge: Called with each document; raises :class:`UnapprovedDivergence` when the document fails.
        examples: Hypothesis's ``max_examples``.
        seed: Hypothesis's seed: the same seed (and the same judgements) give the same documents.
    """

    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        report_multiple_bugs=False,
        print_blob=False,
        verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=(
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.filter_too_much,
        ),
    )
    @hypothesis_seed(seed)
    @given(scenario_documents())
    def property_holds(doc: dict[str, Any]) -> None:
        judge(doc)

    try:
        property_holds()
    except UnapprovedDivergence:
        logger.info("fuzzing found a failing example; Hypothesis shrank it")
    except ShrinkBudgetSpent:
        logger.info("fuzzing found a failing example; the shrink budget ended shrinking")


def fuzz(options: FuzzOptions, progress: Progress | None = None) -> FuzzReport:
    """Fuzz the candidate against the baseline; write the shrunk failing example, if any, as a scenario file.

    Args:
        options: What to run.
        progress: Called after every engine run (generation and shrinking).

    Returns:
        The report; ``found`` tells whether an unapproved divergence or a harness error turned up.

    Raises:
        ImplementationError: An implementation name does not resolve.
        ApprovalError: The approvals file is malformed.
    """
    started = wall_clock()
    baseline = options.implementation(options.baseline)
    candidate = options.implementation(options.candidate)
    approvals = load_approvals() if options.approvals is None else options.approvals
    if not approvals_apply(baseline.name, candidate.name):
        approvals = {}  # two versions of production: every difference counts
    judge = Judge(baseline, candidate, approvals, options.shrink_budget, progress, options.containment)
    search(judge, options.examples, options.seed)
    report = FuzzReport(options=options, features=judge.features, shrink_runs=judge.shrink_runs)
    report.examples_run = len(judge.generated)
    for record in judge.generated:
        report.outcomes[record.status] += 1
        report.approvals_applied.update(record.approvals)
    if judge.last_failure is not None:
        report.failure_doc, report.failure = judge.last_failure
        if options.save_dir is not None:
            report.failure_path = _save(report.failure_doc, report.failure, options, options.save_dir, approvals)
            report.reproduced = reproduces(report.failure_path, baseline, candidate, approvals, options.containment)
    report.duration_s = wall_clock() - started
    return report


def _save(
    doc: dict[str, Any],
    result: ScenarioResult,
    options: FuzzOptions,
    directory: Path,
    approvals: dict[str, Approval],
) -> Path:
    """Write the failing example with the approvals that apply to it, so ``run`` judges it as the fuzzer did."""
    scenario = document_scenario(doc, source="<fuzz>")
    applicable = [a.id for a in applicable_approvals(scenario, result.baseline, approvals)]
    names = (options.baseline, options.candidate)
    return write_failure(doc, result, directory, options.seed, applicable, names)


def reproduces(
    path: Path,
    baseline: Implementation,
    candidate: Implementation,
    approvals: dict[str, Approval],
    containment: Containment | None = None,
) -> bool:
    """Whether the scenario file fails again when run as ``python -m harness run`` runs it (referenced approvals)."""
    scenario = load_scenario(path)
    result = run_scenario(scenario, baseline, candidate, approvals, containment=containment)
    return result.status in FAILING
