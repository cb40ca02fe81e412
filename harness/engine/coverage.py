"""What the scenario library exercises: the design's eight DRS error types and legacy's eight failure states.

Error types are derived from the DRS faults a scenario declares (static: no run needed). Legacy failure states are
what the baseline actually recorded: the ``status`` of the region-status batch items it wrote (a state is only
covered when legacy really reached it). :func:`coverage` builds the matrices the gate checks and the reports and
``docs/scenarios.md`` show; :func:`scenario_coverage` gives one scenario's row. A shard of a sharded gate carries its
scenarios' rows (:func:`coverage_rows`) and the merge builds the library's table from all of them
(:func:`coverage_table`): coverage is only judged on the whole library.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness.engine.model import Observation, ScenarioResult
from harness.scenario.model import Fault, Scenario

#: The design's eight DRS error types (``query_drs_single_region``), in its order.
ERROR_TYPES = (
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidRequestException",
    "ThrottlingException",
    "ServiceQuotaExceededException",
    "InternalServerException",
    "ClientError",
    "Exception",
)
#: What the last two stand for, for people.
ERROR_TYPE_LABELS = {"ClientError": "other ClientError", "Exception": "non-ClientError exception"}
#: Legacy's eight failure states of a region scan (LB-5), in the spec's order.
LEGACY_STATES = (
    "NOT_INITIALIZED",
    "IAM_PERMISSION_DENIED",
    "SCP_DENIED",
    "THROTTLED",
    "REGION_NOT_OPTED_IN",
    "ERROR",
    "REGION_NOT_ENABLED",
    "ENDPOINT_UNREACHABLE",
)


def error_type_of(fault: Fault) -> str | None:
    """The design error type a fault produces, or ``None`` when it is not a DRS failure.

    ``error`` faults with one of the six named codes are that type, other codes are ``ClientError``; connection
    errors, timeouts and credential failures reach the caller as non-``ClientError`` exceptions. A malformed DRS
    answer raises nothing (botocore reads a cut-off JSON body as an empty page), so it is no error type at all.
    """
    if fault.service != "drs":
        return None
    if fault.effect.kind == "error":
        return fault.effect.code if fault.effect.code in ERROR_TYPES[:6] else "ClientError"
    if fault.effect.kind in ("connection", "timeout", "credentials"):
        return "Exception"
    return None


def error_types_of(scenario: Scenario) -> set[str]:
    """The design error types a scenario's DRS faults exercise."""
    return {kind for kind in (error_type_of(fault) for fault in scenario.faults) if kind}


def states_of(baseline: Observation | None) -> set[str]:
    """The legacy failure states a baseline run recorded in its region-status batch items."""
    if baseline is None:
        return set()
    return {
        str(write["item"].get("status"))
        for write in baseline.region_status_writes
        if write["via"] == "BatchWriteItem" and write["item"].get("status") in LEGACY_STATES
    }


def scenario_coverage(scenario: Scenario, baseline: Observation | None = None) -> dict[str, list[str]]:
    """One scenario's row: the error types it exercises, the states its baseline reached, its approvals."""
    return {
        "errorTypes": [kind for kind in ERROR_TYPES if kind in error_types_of(scenario)],
        "legacyStates": [state for state in LEGACY_STATES if state in states_of(baseline)],
        "approvals": list(scenario.approvals),
    }


def coverage_rows(scenarios: Iterable[Scenario], results: Iterable[ScenarioResult] = ()) -> dict[str, Any]:
    """Each scenario's row (:func:`scenario_coverage`), in the scenarios' order: what a shard carries to the merge."""
    baselines = {result.name: result.baseline for result in results}
    return {s.name: scenario_coverage(s, baselines.get(s.name)) for s in scenarios}


def coverage(
    scenarios: Iterable[Scenario], results: Iterable[ScenarioResult] = (), approval_ids: Iterable[str] = ()
) -> dict[str, Any]:
    """Which scenarios cover each error type, legacy state and approval, and what nobody covers.

    Args:
        scenarios: The scenario library.
        results: Their results (for the baselines' states); scenarios without a result cover no state.
        approval_ids: Every declared approval id (so unreferenced ones show up with no scenarios).

    Returns:
        ``{"errorTypes": {type: [scenario...]}, "legacyStates": {state: [...]}, "approvals": {id: [...]},
        "scenarios": {name: row}, "missing": {"errorTypes": [...], "legacyStates": [...], "approvals": [...]}}``.
    """
    return coverage_table(coverage_rows(scenarios, results), approval_ids)


def coverage_table(rows: dict[str, dict[str, list[str]]], approval_ids: Iterable[str] = ()) -> dict[str, Any]:
    """:func:`coverage` from the library's rows (scenario name -> :func:`scenario_coverage`), in library order.

    The merge of a sharded gate calls it with every shard's rows, so that coverage is judged on the whole library.
    """
    error_types = {kind: [n for n, row in rows.items() if kind in row["errorTypes"]] for kind in ERROR_TYPES}
    states = {state: [n for n, row in rows.items() if state in row["legacyStates"]] for state in LEGACY_STATES}
    ids = list(dict.fromkeys([*approval_ids, *(a for row in rows.values() for a in row["approvals"])]))
    approvals = {i: [n for n, row in rows.items() if i in row["approvals"]] for i in ids}
    return {
        "errorTypes": error_types,
        "legacyStates": states,
        "approvals": approvals,
        "scenarios": rows,
        "missing": {
            "errorTypes": [kind for kind, names in error_types.items() if not names],
            "legacyStates": [state for state, names in states.items() if not names],
            "approvals": [i for i, names in approvals.items() if not names],
        },
    }


def gate_blockers(table: dict[str, Any], results: Iterable[ScenarioResult]) -> list[str]:
    """The gate's findings beyond the scenario outcomes: coverage gaps and stale approvals, one sentence each."""
    missing = table["missing"]
    blockers = [
        f"no scenario exercises the DRS error type {ERROR_TYPE_LABELS.get(kind, kind)}"
        for kind in missing["errorTypes"]
    ]
    blockers += [f"no scenario's baseline reaches the legacy state {state}" for state in missing["legacyStates"]]
    blockers += [f"approval {i} is referenced by no scenario (stale)" for i in missing["approvals"]]
    for result in results:
        for use in result.approvals:
            if use.stale:
                why = "; ".join(use.notes) or "it approved no difference"
                blockers.append(f"approval {use.id} is stale in scenario {result.name}: {why}")
    return blockers
