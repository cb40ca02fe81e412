"""Coverage of the design's error types (from DRS faults) and legacy's failure states (from baseline runs)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.engine.coverage import (
    ERROR_TYPES,
    LEGACY_STATES,
    coverage,
    error_type_of,
    gate_blockers,
    scenario_coverage,
    states_of,
)
from harness.engine.model import ApprovalUse, Observation, ScenarioResult
from harness.scenario.model import fault_from_dict, scenario_from_dict


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"service": "drs", "effect": {"kind": "error", "code": "AccessDeniedException"}}, "AccessDeniedException"),
        ({"service": "drs", "effect": {"kind": "error", "code": "ThrottlingException"}}, "ThrottlingException"),
        ({"service": "drs", "effect": {"kind": "error", "code": "InternalServerException"}}, "InternalServerException"),
        ({"service": "drs", "effect": {"kind": "error", "code": "UninitializedAccountException"}}, "ClientError"),
        ({"service": "drs", "effect": {"kind": "error", "code": "OptInRequired"}}, "ClientError"),
        ({"service": "drs", "effect": {"kind": "connection"}}, "Exception"),
        ({"service": "drs", "effect": {"kind": "timeout"}}, "Exception"),
        ({"service": "drs", "effect": {"kind": "credentials"}}, "Exception"),
        ({"service": "drs", "effect": {"kind": "malformed"}}, None),
        ({"service": "sts", "effect": {"kind": "error", "code": "AccessDenied"}}, None),
        ({"service": "dynamodb", "effect": {"kind": "error", "code": "ThrottlingException"}}, None),
    ],
)
def test_each_drs_fault_maps_to_one_design_error_type(fault: dict[str, Any], expected: str | None) -> None:
    assert error_type_of(fault_from_dict(fault)) == expected


def _baseline(*statuses: str) -> Observation:
    writes = [
        {"via": "BatchWriteItem", "account": "1", "region": "r", "item": {"region": f"r{i}", "status": status}}
        for i, status in enumerate(statuses)
    ]
    writes.append({"via": "PutItem", "account": "1", "region": "r", "item": {"region": "x", "status": "ERROR"}})
    return Observation("x:y", region_status_writes=writes)


def test_states_come_from_the_baselines_region_status_batch_items_only() -> None:
    assert states_of(_baseline("ACTIVE", "THROTTLED", "SCP_DENIED")) == {"THROTTLED", "SCP_DENIED"}
    assert states_of(None) == set()


def test_coverage_lists_who_covers_what_and_what_nobody_covers() -> None:
    faults = [{"service": "drs", "effect": {"kind": "error", "code": code}} for code in ERROR_TYPES[:6]]
    wide = scenario_from_dict({"name": "wide", "faults": faults, "approvals": ["AD-2"]})
    narrow = scenario_from_dict({"name": "narrow", "faults": [{"service": "drs", "effect": {"kind": "timeout"}}]})
    results = [ScenarioResult("wide", baseline=_baseline(*LEGACY_STATES[:7])), ScenarioResult("narrow")]
    table = coverage([wide, narrow], results, ["AD-1", "AD-2"])
    assert table["errorTypes"]["AccessDeniedException"] == ["wide"]
    assert table["errorTypes"]["Exception"] == ["narrow"]
    assert table["missing"] == {
        "errorTypes": ["ClientError"],
        "legacyStates": ["ENDPOINT_UNREACHABLE"],
        "approvals": ["AD-1"],
    }
    assert table["scenarios"]["narrow"] == scenario_coverage(narrow)
    assert table["approvals"] == {"AD-1": [], "AD-2": ["wide"]}


def test_gate_blockers_name_every_gap_and_every_stale_approval() -> None:
    table = {"missing": {"errorTypes": ["ClientError"], "legacyStates": ["SCP_DENIED"], "approvals": ["AD-4"]}}
    stale = ApprovalUse(id="AD-2", referenced=True, applicable=True, candidate_ok=True, notes=["nothing matched"])
    result = ScenarioResult("s", approvals=[stale])
    assert gate_blockers(table, [result]) == [
        "no scenario exercises the DRS error type other ClientError",
        "no scenario's baseline reaches the legacy state SCP_DENIED",
        "approval AD-4 is referenced by no scenario (stale)",
        "approval AD-2 is stale in scenario s: nothing matched",
    ]
