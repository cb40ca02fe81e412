"""Worlds invoked several times (a warm Lambda) and through the Lambda entry point, observed and compared."""

from __future__ import annotations

from typing import Any

import pytest

import refactored.inventory_sync as refactored_module
from harness.engine.implementations import ImplementationError, production_entry, resolve_entry
from harness.engine.model import APPROVED_DIVERGENCE, DIVERGENT, EQUIVALENT
from harness.engine.observe import Implementation, observe, resolve_implementation
from harness.engine.runner import run_scenario
from harness.scenario import Scenario, scenario_from_dict
from lambda_shared.response_utils import response
from refactored.routing import lambda_handler as refactored_lambda_handler

ACCOUNT = "222222222222"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/DRSOrchestrationRole"


def warm(**changes: Any) -> Scenario:
    """us-east-1 holds servers, eu-west-1 is recorded active but holds none: the first run makes it inactive."""
    doc: dict[str, Any] = {
        "name": "warm",
        "accounts": [{"accountId": ACCOUNT, "roleArn": ROLE}],
        "tables": {"activeRegions": ["us-east-1", "eu-west-1"]},
        "servers": [{"account": ACCOUNT, "region": "us-east-1", "count": 2}],
        "invocations": 2,
        "secondsBetweenInvocations": 30,
    }
    doc.update(changes)
    return scenario_from_dict(doc)


@pytest.fixture(scope="module")
def warm_legacy() -> Any:
    return observe(warm(), resolve_implementation("legacy"))


def test_every_invocation_is_observed_and_the_clock_moves_between_them(warm_legacy):
    first = warm_legacy.earlier_invocations["1"]
    assert list(warm_legacy.earlier_invocations) == ["1"] and first["exception"] is None
    assert first["response"]["body"]["regionsScanned"] == 2  # both regions were active
    assert warm_legacy.response["body"]["regionsScanned"] == 1  # eu-west-1 went inactive, the cache was invalidated
    assert first["response"]["body"]["timestamp"] == "2026-01-15T12:00:00+00:00"
    assert warm_legacy.response["body"]["timestamp"] == "2026-01-15T12:00:30+00:00"


def test_calls_of_later_invocations_are_tagged_and_the_first_invocations_are_not(warm_legacy):
    later = [write for write in warm_legacy.region_status_writes if write.get("invocation") == 2]
    first = [write for write in warm_legacy.region_status_writes if "invocation" not in write]
    assert sorted(w["item"]["region"] for w in first) == ["eu-west-1", "eu-west-1", "us-east-1", "us-east-1"]
    assert sorted(w["item"]["region"] for w in later) == ["us-east-1", "us-east-1"]
    assert {entry.get("invocation", 1) for entry in warm_legacy.reads} == {1, 2}


def test_a_single_invocation_observes_exactly_as_before():
    observation = observe(warm(invocations=1, secondsBetweenInvocations=0), resolve_implementation("legacy"))
    assert observation.earlier_invocations == {}
    assert all("invocation" not in entry for entry in observation.reads + observation.mutating_calls)


def test_a_candidate_that_keeps_the_region_cache_between_invocations_is_divergent(warm_legacy, monkeypatch):
    """The refactor without ``invalidate_region_cache()``: the second run scans the stale region list."""
    baselines = (warm_legacy, observe(warm(), resolve_implementation("legacy"), 1))
    assert run_scenario(warm(), "legacy", "refactored", baselines=baselines).status == EQUIVALENT
    monkeypatch.setattr(refactored_module, "invalidate_region_cache", lambda: None)
    result = run_scenario(warm(), "legacy", "refactored", baselines=baselines)
    assert result.status == DIVERGENT
    paths = {difference.path for difference in result.unapproved}
    assert "response.body.regionsScanned" in paths
    assert any(path.startswith("regionStatusWrites[") and path.endswith(" #2]") for path in paths)


def test_the_earlier_invocations_are_a_gating_section():
    answers = iter([response(200, {"n": 1}), response(200, {"n": 2}), response(200, {"n": 2}), response(200, {"n": 2})])
    candidate = Implementation("tests:answers", lambda: next(answers))
    baseline = Implementation("tests:same", lambda: response(200, {"n": 2}))
    scenario = warm(accounts=[], servers=[])
    result = run_scenario(scenario, baseline, candidate)
    assert result.status == DIVERGENT
    assert [d.path for d in result.unapproved] == ["earlierInvocations[1].response.body.n"]


# ------------------------------------------------------------------------------------------------- the entry point


def entry(flag: str | None, **changes: Any) -> Scenario:
    """Zero target accounts: legacy raises (LB-9), the refactor answers 200 (AD-1), so the route shows."""
    doc: dict[str, Any] = {
        "name": "entry",
        "tables": {"activeRegions": ["us-east-1"]},
        "entry": {"via": "lambda_handler", **({} if flag is None else {"flag": flag})},
        "approvals": ["AD-1"],
    }
    doc.update(changes)
    return scenario_from_dict(doc)


def test_the_refactor_is_invoked_through_its_own_lambda_handler():
    assert resolve_implementation("refactored").lambda_entry() is refactored_lambda_handler


def test_the_baseline_is_invoked_through_productions_entry_point_of_today():
    observation = observe(entry("true"), resolve_implementation("legacy"))
    assert observation.exception["type"] == "UnboundLocalError"  # the flag does not exist for legacy


@pytest.mark.parametrize(
    ("flag", "outcome"),
    [(None, APPROVED_DIVERGENCE), ("true", APPROVED_DIVERGENCE), ("TRUE", APPROVED_DIVERGENCE)],
)
def test_the_flag_routes_to_the_refactor(flag, outcome):
    result = run_scenario(entry(flag), "legacy", "refactored")
    assert result.status == outcome, result.explain()
    assert result.candidate.response["statusCode"] == 200


@pytest.mark.parametrize("flag", ["false", "False", "yes", ""])
def test_other_flag_values_route_to_legacy(flag):
    result = run_scenario(entry(flag, approvals=[]), "legacy", "refactored")
    assert result.status == EQUIVALENT, result.explain()
    assert result.candidate.exception["type"] == "UnboundLocalError"


def test_the_event_reaches_the_entry_point_as_written():
    events: list[Any] = []

    def recording_entry(event: Any, context: Any) -> Any:
        events.append((event, context))
        return response(200, {})

    event = {"operation": "sync_source_server_inventory", "x": 1}
    scenario = entry("true", entry={"via": "lambda_handler", "event": event})
    observe(scenario, Implementation("tests:entry", lambda: None, recording_entry))
    assert events == [(event, None)]


def test_a_handler_may_name_its_own_lambda_entry():
    def handler() -> Any:
        return None

    def own_entry(event: Any, context: Any) -> Any:
        return "own"

    handler.lambda_entry = own_entry  # type: ignore[attr-defined]
    assert resolve_entry("tests:handler", handler) is own_entry


def test_productions_entry_routes_only_the_sync_operation():
    dispatch = production_entry(lambda: "synced")
    assert dispatch({"operation": "sync_source_server_inventory"}, None) == "synced"
    with pytest.raises(ImplementationError, match="routes only 'sync_source_server_inventory'"):
        dispatch({"operation": "delete_everything"}, None)
