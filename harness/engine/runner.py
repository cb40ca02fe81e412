"""Running scenarios through baseline and candidate and deciding each outcome.

Per scenario: the baseline runs in world variant 0 (primary) and variant 1 (secondary), the candidate in variant 0,
each in a fresh world. Whatever differs between the two baseline runs is noise: it never gates, and the candidate
differences it explains are excused and listed with it (the two rules: :mod:`harness.engine.noise`). The rest is
compared, approvals are applied, the scenario's ``expect`` sanity checks are verified against the primary baseline,
and the outcome is decided.

:func:`run_scenario` is the entry point for one in-memory scenario (the fuzzer's); :func:`evaluate` does the
deciding on observations already made (so a test can run many candidates against one pair of baselines).
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from typing import Any

from harness.engine.approvals import Approval, ApprovalError, apply_approvals, default_approvals
from harness.engine.compare import compare
from harness.engine.implementations import approvals_apply
from harness.engine.isolation import Containment
from harness.engine.model import (
    APPROVED,
    APPROVED_DIVERGENCE,
    BASELINE_RUNS,
    DIVERGENT,
    EQUIVALENT,
    ERROR,
    EXCUSED,
    NOISE,
    Observation,
    RunResult,
    ScenarioResult,
    jsonable,
)
from harness.engine.noise import baseline_noise, needs_probe, split_noise
from harness.engine.observe import Implementation, named_implementation, observe, resolve_implementation
from harness.interruption import child_signals, raise_if_interrupted
from harness.scenario.model import Scenario

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, ScenarioResult], None]
PRIMARY, SECONDARY = 0, 1
#: Extra baseline variants run when a divergence might be hidden timing noise.
PROBE_VARIANTS = (2, 3)


def _implementation(value: Implementation | str, containment: Containment | None = None) -> Implementation:
    """A name resolved: imported here for runs made here, left to each child to import for contained runs."""
    if isinstance(value, Implementation):
        return value
    return named_implementation(value) if containment is not None else resolve_implementation(value)


def run_baselines(
    scenario: Scenario, baseline: Implementation | str = "legacy", containment: Containment | None = None
) -> tuple[Observation, Observation]:
    """Run the baseline twice, in the primary and the secondary world variant."""
    implementation = _implementation(baseline, containment)
    return (
        observe(scenario, implementation, PRIMARY, containment),
        observe(scenario, implementation, SECONDARY, containment),
    )


def run_scenario(
    scenario: Scenario,
    baseline: Implementation | str = "legacy",
    candidate: Implementation | str = "refactored",
    approvals: dict[str, Approval] | None = None,
    automatic: bool = False,
    baselines: tuple[Observation, Observation] | None = None,
    containment: Containment | None = None,
) -> ScenarioResult:
    """Run one scenario through baseline (twice) and candidate, and decide its outcome.

    When a difference remains on a table item the baseline wrote several values to and no noise has been seen in
    that table yet, the baseline runs in :data:`PROBE_VARIANTS` too, in case the last writer is timing (see
    :mod:`harness.engine.noise`); the outcome is then decided on all baseline runs.

    Args:
        scenario: The scenario, from a file or built in memory.
        baseline: The reference implementation (name or resolved).
        candidate: The implementation judged.
        approvals: Declared approvals (default: ``harness/approvals.yaml``); none applies between two versions of
            production (an artifact and ``legacy``, see :func:`~harness.engine.implementations.approvals_apply`).
        automatic: Apply every approval whose condition holds, not only those the scenario references (fuzzing).
        baselines: Primary and secondary baseline observations already made, to skip running them again.
        containment: Make every run in a child process of its own, with a timeout (see
            :mod:`harness.engine.isolation`); ``None`` runs them in this process.

    Returns:
        The scenario's result, with the observations.
    """
    started = _clock()
    baseline, candidate = _implementation(baseline, containment), _implementation(candidate, containment)
    primary, secondary = baselines or run_baselines(scenario, baseline, containment)
    observed = observe(scenario, candidate, PRIMARY, containment)
    approvals = default_approvals() if approvals is None else approvals
    apply = approvals_apply(baseline.name, candidate.name)
    result = judge(scenario, baseline, (primary, secondary), observed, approvals, automatic, apply, containment)
    result.duration_s = _clock() - started
    return result


def judge(
    scenario: Scenario,
    baseline: Implementation,
    baselines: tuple[Observation, Observation],
    candidate: Observation,
    approvals: dict[str, Approval],
    automatic: bool = False,
    apply: bool = True,
    containment: Containment | None = None,
) -> ScenarioResult:
    """Decide the outcome from two baseline runs, running the baseline in :data:`PROBE_VARIANTS` too when needed.

    Two baseline runs may land a last-writer race the same way; when a kept difference lies where that could hide
    (:func:`~harness.engine.noise.needs_probe`), the outcome is decided again on all baseline runs.

    Args:
        scenario: The scenario the baseline runs in (the probes run in it too).
        baseline: The baseline implementation, to run the probes.
        baselines: The primary and secondary baseline observations.
        candidate: The candidate observation.
        approvals: Declared approvals.
        automatic: Apply every applicable approval (fuzzing).
        apply: Whether approvals apply at all.
        containment: How the probes run (see :func:`run_scenario`).

    Returns:
        The scenario's result.
    """
    primary, secondary = baselines
    result = evaluate(scenario, primary, [secondary], candidate, approvals, automatic, apply)
    if result.status == DIVERGENT and needs_probe(result.unapproved, result.noise, primary):
        probes = [observe(scenario, baseline, variant, containment) for variant in PROBE_VARIANTS]
        result = evaluate(scenario, primary, [secondary, *probes], candidate, approvals, automatic, apply)
    return result


def _clock() -> float:
    from harness.world.world import wall_clock  # real time even under a frozen clock

    return wall_clock()


def evaluate(
    scenario: Scenario,
    baseline: Observation,
    secondaries: list[Observation],
    candidate: Observation,
    approvals: dict[str, Approval],
    automatic: bool = False,
    apply: bool = True,
) -> ScenarioResult:
    """Decide the outcome of a scenario from its observations (no world is entered).

    Args:
        scenario: The scenario.
        baseline: The primary baseline run.
        secondaries: The other baseline runs (at least one), in other world variants.
        candidate: The candidate run.
        approvals: Declared approvals.
        automatic: Apply every applicable approval (fuzzing) rather than only the referenced ones.
        apply: Whether approvals apply at all; ``False`` judges every difference unapproved and uses none.

    Returns:
        ``error`` when the harness failed or the baseline breaks the scenario's ``expect``; otherwise
        ``divergent`` when a non-noise difference is not approved, ``approved-divergence`` when every one is
        approved, ``equivalent`` when there are none.
    """
    result = ScenarioResult(
        name=scenario.name,
        source=scenario.source,
        baseline=baseline,
        baseline_secondary=secondaries[0],
        extra_baselines=list(secondaries[1:]),
        candidate=candidate,
        tags=scenario.tags,
    )
    result.errors = _harness_errors(baseline, *secondaries, candidate)
    if result.errors:
        result.status = ERROR
        return result
    result.errors = check_expectations(scenario, baseline)
    noise = baseline_noise(baseline, secondaries)
    result.differences, excused = split_noise(compare(baseline, candidate), noise, [baseline, *secondaries], candidate)
    for difference in noise:
        difference.status, difference.origin = NOISE, BASELINE_RUNS
    for difference in excused:
        difference.status, difference.origin = NOISE, EXCUSED
    result.noise = noise + excused
    try:
        if apply:
            result.approvals = apply_approvals(scenario, baseline, candidate, result.differences, approvals, automatic)
    except ApprovalError as error:
        result.errors.append(str(error))
    result.status = _status(result)
    return result


def _status(result: ScenarioResult) -> str:
    if result.errors:
        return ERROR
    if result.unapproved:
        return DIVERGENT
    if any(d.status == APPROVED for d in result.differences):
        return APPROVED_DIVERGENCE
    return EQUIVALENT


def _harness_errors(*observations: Observation) -> list[str]:
    return [
        f"harness failure in the {obs.implementation} run (variant {obs.variant}): {obs.harness_error}"
        for obs in observations
        if obs.harness_error
    ]


def check_expectations(scenario: Scenario, baseline: Observation) -> list[str]:
    """The scenario's ``expect`` sanity checks against the primary baseline; one message per failed check."""
    expect = scenario.expect
    problems: list[str] = []
    response = baseline.response if isinstance(baseline.response, dict) else {}
    raised = baseline.exception["type"] if baseline.exception else None
    if expect.raises is not None and raised != expect.raises:
        problems.append(f"expected the baseline to raise {expect.raises}, it {_outcome(baseline)}")
    if expect.status_code is not None and response.get("statusCode") != expect.status_code:
        problems.append(f"expected the baseline to answer {expect.status_code}, it {_outcome(baseline)}")
    body = response.get("body") if isinstance(response.get("body"), dict) else {}
    for key, wanted in expect.body.items():
        if key not in body or jsonable(body[key]) != wanted:
            problems.append(f"expected baseline body.{key} = {wanted!r}, got {jsonable(body.get(key))!r}")
    inventory = len(baseline.tables.get("inventory", {}))
    if expect.inventory_count is not None and inventory != expect.inventory_count:
        problems.append(f"expected {expect.inventory_count} inventory row(s) after the baseline, found {inventory}")
    return [f"expectation failed: {problem}" for problem in problems]


def _outcome(observation: Observation) -> str:
    if observation.exception:
        return f"raised {observation.exception['type']}: {observation.exception['message'][:200]}"
    status = observation.response.get("statusCode") if isinstance(observation.response, dict) else None
    return f"answered {status}"


def run_scenarios(
    scenarios: Iterable[Scenario],
    baseline: Implementation | str = "legacy",
    candidate: Implementation | str = "refactored",
    approvals: dict[str, Approval] | None = None,
    command: str = "run",
    progress: Progress | None = None,
    jobs: int = 1,
    containment: Containment | None = None,
) -> RunResult:
    """Run many scenarios and collect a :class:`RunResult` (no gate findings; see ``gate``).

    Args:
        scenarios: The scenarios.
        baseline: The reference implementation.
        candidate: The implementation judged.
        approvals: Declared approvals (default: the shipped file).
        command: ``run`` or ``gate``, recorded in the result.
        progress: Called after each scenario with (how many are done, total, result), in completion order.
        jobs: Worker processes; scenarios are independent, so with ``jobs > 1`` they run side by side (each worker
            still runs one world at a time). Results keep the scenarios' order either way.
        containment: Make every run in a child process of its own, with a timeout (the commands do); the worlds
            are then warmed up once here, before any worker or child is forked.

    Returns:
        The run's result; its verdict is NO-GO when a scenario is divergent or in error.
    """
    scenarios = list(scenarios)
    baseline, candidate = _implementation(baseline, containment), _implementation(candidate, containment)
    if containment is not None:
        from harness.world.world import warm_up

        warm_up()
    approvals = default_approvals() if approvals is None else approvals
    started = _clock()
    result = RunResult(
        command=command,
        baseline=baseline.name,
        candidate=candidate.name,
        started=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        approvals_apply=approvals_apply(baseline.name, candidate.name),
    )
    outcomes: dict[int, ScenarioResult] = {}
    for index, outcome in _outcomes(scenarios, baseline, candidate, approvals, jobs, containment):
        outcomes[index] = outcome
        logger.info("scenario %s: %s", outcome.name, outcome.status, extra={"scenario": outcome.name})
        if progress is not None:
            progress(len(outcomes), len(scenarios), outcome)
    result.scenarios = [outcomes[index] for index in range(len(scenarios))]
    result.approvals = approval_summary(result.scenarios, approvals) if result.approvals_apply else []
    result.duration_s = _clock() - started
    return result


def _outcomes(
    scenarios: list[Scenario],
    baseline: Implementation,
    candidate: Implementation,
    approvals: dict[str, Approval],
    jobs: int,
    containment: Containment | None,
) -> Iterator[tuple[int, ScenarioResult]]:
    """(index, result) per scenario, in completion order; in this process or in ``jobs`` forked workers.

    Workers only build worlds and judge: with containment, every run of the code under test is a child of a worker,
    so nothing a candidate does can break the pool. Workers leave SIGINT and SIGTERM to this process, which ends them
    (:mod:`harness.interruption`).
    """
    if jobs <= 1 or len(scenarios) <= 1:
        for index, scenario in enumerate(scenarios):
            outcome = run_scenario(scenario, baseline, candidate, approvals, containment=containment)
            raise_if_interrupted()  # the code under test may have swallowed the first raise
            yield index, outcome
        return
    context = multiprocessing.get_context("fork")
    workers = min(jobs, len(scenarios))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=child_signals) as pool:
        futures = {
            pool.submit(_run_in_worker, scenario, baseline, candidate, approvals, containment): index
            for index, scenario in enumerate(scenarios)
        }
        for future in as_completed(futures):
            yield futures[future], future.result()


def _run_in_worker(
    scenario: Scenario,
    baseline: Implementation,
    candidate: Implementation,
    approvals: dict[str, Approval],
    containment: Containment | None,
) -> ScenarioResult:
    """Worker-process entry: implementations travel by name (imported where they run) or as importable handlers."""
    return run_scenario(scenario, baseline, candidate, approvals, containment=containment)


def approval_summary(results: list[ScenarioResult], approvals: dict[str, Approval]) -> list[dict[str, Any]]:
    """Per declared approval: its declaration, the scenarios referencing it, where it applied, where it was stale."""
    return summarise_approvals(results, [approval.to_dict() for approval in approvals.values()])


def summarise_approvals(results: list[Any], declarations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`approval_summary` from the declarations as ``verdict.json`` holds them (what a merge of shards has).

    Args:
        results: The scenario results in library order (anything with ``name`` and ``approvals`` uses).
        declarations: Each approval's ``to_dict()``, in declaration order.
    """
    summary = []
    for declaration in declarations:
        uses = [(r.name, use) for r in results for use in r.approvals if use.id == declaration["id"]]
        summary.append(
            {
                **declaration,
                "referencedBy": [name for name, use in uses if use.referenced],
                "appliedIn": [name for name, use in uses if use.covered],
                "staleIn": {name: use.notes for name, use in uses if use.stale},
            }
        )
    return summary
