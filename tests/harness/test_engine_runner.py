"""The runner in real simulated worlds: what an observation holds, outcomes, errors, redaction, noise."""

from __future__ import annotations

import itertools
import json
import os
import socket
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest

import harness.world.world
import legacy.inventory_sync as legacy_module
from harness.engine.approvals import load_approvals
from harness.engine.implementations import ImplementationError
from harness.engine.model import APPROVED_DIVERGENCE, DIVERGENT, EQUIVALENT, ERROR, EXCUSED, NOISE, Observation
from harness.engine.noise import needs_probe, split_noise
from harness.engine.observe import Implementation, observe, resolve_implementation
from harness.engine.runner import evaluate, judge, run_scenario, run_scenarios
from harness.scenario import Scenario, scenario_from_dict
from lambda_shared.response_utils import response

#: The scenario clock as the handler's timestamp (the frozen clock of every world).
CLOCK = "2026-01-15T12:00:00+00:00"

ACCOUNT = "222222222222"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/DRSOrchestrationRole"
STALE_ARN = f"arn:aws:drs:us-east-1:{ACCOUNT}:source-server/s-stale"


def _scenario(**changes: Any) -> Scenario:
    doc: dict[str, Any] = {
        "name": "runner",
        "accounts": [{"accountId": ACCOUNT, "roleArn": ROLE, "externalId": "ext"}],
        "tables": {
            "activeRegions": ["us-east-1", "eu-west-1"],
            "inventory": [{"sourceServerArn": STALE_ARN, "stagingAccountId": ACCOUNT, "sourceAccountId": ACCOUNT}],
        },
        "servers": [{"account": ACCOUNT, "region": "us-east-1", "count": 2}],
        "faults": [
            {"service": "drs", "region": "eu-west-1", "effect": {"kind": "error", "code": "ThrottlingException"}}
        ],
    }
    doc.update(changes)
    return scenario_from_dict(doc)


@pytest.fixture(scope="module")
def legacy_runs() -> tuple[Observation, Observation]:
    implementation = resolve_implementation("legacy")
    return observe(_scenario(), implementation, 0), observe(_scenario(), implementation, 1)


def test_an_observation_records_every_section(legacy_runs: tuple[Observation, Observation]) -> None:
    observation = legacy_runs[0]
    assert observation.harness_error is None and observation.exception is None
    assert observation.response["statusCode"] == 200
    assert observation.response["body"]["totalSynced"] == 2 and observation.response["body"]["staleRecordsDeleted"] == 1
    assert len(observation.tables["inventory"]) == 2 and STALE_ARN not in str(list(observation.tables["inventory"]))
    assert observation.tables["regionStatus"]["eu-west-1"]["status"] == "THROTTLED"
    assert isinstance(observation.tables["regionStatus"]["us-east-1"]["serverCount"], Decimal)
    assert sorted((w["via"], w["item"]["region"]) for w in observation.region_status_writes) == [
        ("BatchWriteItem", "eu-west-1"),
        ("BatchWriteItem", "us-east-1"),
        ("PutItem", "eu-west-1"),
        ("PutItem", "us-east-1"),
    ]
    operations = sorted({(c["operation"], c["table"]) for c in observation.mutating_calls}, key=str)
    assert operations == [("AssumeRole", None), ("BatchWriteItem", "inventory"), ("DeleteItem", "inventory")]
    sessions = sorted(c["params"]["RoleSessionName"] for c in observation.mutating_calls if c["service"] == "sts")
    assert sessions == ["inventory-ec2-query", "inventory-sync"]
    reads = {(r["service"], r["operation"], r["region"]) for r in observation.reads}
    assert ("drs", "DescribeSourceServers", "eu-west-1") in reads
    [throttled] = [c for c in observation.failed_calls if c["service"] == "drs"]
    assert throttled["region"] == "eu-west-1" and set(throttled["attempts"]) == {"HTTP 429"}
    assert {"stream": "stdout", "text": "Starting source server inventory sync..."} in observation.output
    assert observation.wall_time_ms > 0


def test_legacy_is_equivalent_to_itself(legacy_runs: tuple[Observation, Observation]) -> None:
    result = run_scenario(_scenario(), "legacy", "legacy", baselines=legacy_runs)
    assert result.status == EQUIVALENT, result.explain()
    assert result.differences == [] and result.baseline is legacy_runs[0]


def test_a_divergent_candidate_is_reported_with_readable_differences(
    legacy_runs: tuple[Observation, Observation],
) -> None:
    def float_errors() -> dict[str, Any]:
        answer = legacy_module.handle_sync_source_server_inventory_legacy()
        body = json.loads(answer["body"])
        return response(answer["statusCode"], {**body, "totalErrors": float(body["totalErrors"])})

    candidate = Implementation("test:float_errors", float_errors)
    result = run_scenario(_scenario(), "legacy", candidate, baselines=legacy_runs)
    assert result.status == DIVERGENT
    [difference] = result.unapproved
    assert (difference.path, difference.kind) == ("response.body.totalErrors", "type-changed")
    assert "response.body.totalErrors: baseline 0 (int) -> candidate 0.0 (float)" in result.explain()


def test_a_handler_exception_is_an_observation_and_legacy_still_matches_itself() -> None:
    scenario = _scenario(accounts=[], approvals=[])
    result = run_scenario(scenario, "legacy", "legacy")
    assert result.baseline.exception["type"] == "UnboundLocalError"
    assert result.baseline.response is None and result.status == EQUIVALENT


def test_a_request_the_harness_refuses_is_an_error_not_a_divergence(
    legacy_runs: tuple[Observation, Observation],
) -> None:
    def phones_home() -> dict[str, Any]:
        socket.create_connection(("198.51.100.1", 443), timeout=1)
        return response(200, {})

    result = run_scenario(_scenario(), "legacy", Implementation("test:phones_home", phones_home), baselines=legacy_runs)
    assert result.status == ERROR
    assert "refused" in result.errors[0]


def test_a_world_that_cannot_be_built_is_an_error(
    legacy_runs: tuple[Observation, Observation], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> None:
        raise RuntimeError("EC2 placement exploded")

    monkeypatch.setattr(harness.world.world, "build_servers", broken)
    result = run_scenario(_scenario(), "legacy", "legacy", baselines=legacy_runs)
    assert result.status == ERROR
    assert result.errors[0].startswith("harness failure in the legacy.inventory_sync:")
    assert "RuntimeError: EC2 placement exploded" in result.errors[0]


def test_a_failed_expectation_is_an_error_with_a_clear_message(legacy_runs: tuple[Observation, Observation]) -> None:
    scenario = _scenario(expect={"statusCode": 500, "body": {"totalSynced": 9}, "inventoryCount": 7})
    result = run_scenario(scenario, "legacy", "legacy", baselines=legacy_runs)
    assert result.status == ERROR
    assert result.errors == [
        "expectation failed: expected the baseline to answer 500, it answered 200",
        "expectation failed: expected baseline body.totalSynced = 9, got 2",
        "expectation failed: expected 7 inventory row(s) after the baseline, found 2",
    ]


def test_credentials_never_reach_an_observation_or_the_verdict(legacy_runs: tuple[Observation, Observation]) -> None:
    leaked: dict[str, str] = {}

    def leaky() -> dict[str, Any]:
        answer = legacy_module.handle_sync_source_server_inventory_legacy()
        credentials = boto3.client("sts").assume_role(RoleArn=ROLE, RoleSessionName="leak")["Credentials"]
        leaked.update(AccessKeyId=credentials["AccessKeyId"], SecretAccessKey=credentials["SecretAccessKey"])
        print(f"assumed {credentials['AccessKeyId']} secret={credentials['SecretAccessKey']}")
        body = {**json.loads(answer["body"]), "Credentials": {k: str(v) for k, v in credentials.items()}}
        return response(200, {**body, "note": f"key {credentials['AccessKeyId']}"})

    result = run_scenario(_scenario(), "legacy", Implementation("test:leaky", leaky), baselines=legacy_runs)
    assert result.status == DIVERGENT
    document = json.dumps(result.to_dict(full=True), default=str)
    assert leaked and all(value not in document for value in leaked.values())
    assert "<redacted:" in document


def test_bad_implementation_names_are_refused_with_the_reason() -> None:
    with pytest.raises(ImplementationError, match="cannot import module 'no_such_module'"):
        resolve_implementation("no_such_module:handler")
    with pytest.raises(ImplementationError, match="has no attribute 'missing'"):
        resolve_implementation("legacy.inventory_sync:missing")
    with pytest.raises(ImplementationError, match="package.module:function"):
        resolve_implementation("not-a-path")


def test_parallel_runs_keep_order_and_outcomes() -> None:
    scenarios = [_scenario(name="a"), _scenario(name="b", accounts=[])]
    serial = run_scenarios(scenarios, "legacy", "legacy", jobs=1)
    parallel = run_scenarios(scenarios, "legacy", "legacy", jobs=2)
    assert [(s.name, s.status) for s in parallel.scenarios] == [(s.name, s.status) for s in serial.scenarios]
    assert [s.name for s in parallel.scenarios] == ["a", "b"] and parallel.verdict == "GO"


# -- noise on hand-made observations ------------------------------------------------------------------------------


def _status(region: str, status: str, via: str = "BatchWriteItem") -> dict[str, Any]:
    item = {"region": region, "status": status}
    return {"via": via, "account": "1", "region": "us-east-1", "item": item}


def _race(winner_a: str, winner_b: str, candidate: str) -> tuple[list[Observation], Observation]:
    """Three runs writing ACTIVE (batch) and AVAILABLE (put) to regions a and b; which one wins varies."""
    writes = [
        _status("a", "ACTIVE"),
        _status("a", "AVAILABLE", "PutItem"),
        _status("b", "ACTIVE"),
        _status("b", "AVAILABLE", "PutItem"),
    ]

    def run(a: str, b: str) -> Observation:
        tables = {"regionStatus": {"a": {"region": "a", "status": a}, "b": {"region": "b", "status": b}}}
        return Observation("x:y", tables=tables, region_status_writes=writes)

    return [run(winner_a, "ACTIVE"), run("ACTIVE", winner_b)], run("ACTIVE", candidate)


def test_a_final_item_some_baseline_write_could_leave_is_noise_where_the_baseline_races() -> None:
    baselines, candidate = _race("AVAILABLE", "AVAILABLE", "AVAILABLE")
    result = evaluate(scenario_from_dict({"name": "t"}), baselines[0], baselines[1:], candidate, {})
    assert result.status == EQUIVALENT
    assert {d.path for d in result.noise if d.status == NOISE} >= {"tables.regionStatus[b].status"}


def test_a_final_item_no_baseline_run_wrote_is_kept_even_in_a_racing_table() -> None:
    baselines, candidate = _race("AVAILABLE", "AVAILABLE", "DELETED")
    result = evaluate(scenario_from_dict({"name": "t"}), baselines[0], baselines[1:], candidate, {})
    assert result.status == DIVERGENT
    # b holds a value no run wrote; and with it, the table is no state a baseline ordering produces (a too is kept)
    assert [d.path for d in result.unapproved] == ["tables.regionStatus[a].status", "tables.regionStatus[b].status"]


def test_per_key_outcomes_that_no_baseline_run_produces_together_are_kept() -> None:
    """Each region may keep its put, but only one region does in any baseline run: puts winning everywhere is no
    baseline state, although each value is one a baseline run wrote there."""
    baselines, _ = _race("AVAILABLE", "AVAILABLE", "ACTIVE")
    writes = baselines[0].region_status_writes
    tables = {"regionStatus": {r: {"region": r, "status": "AVAILABLE"} for r in ("a", "b")}}
    everywhere = Observation("x:y", tables=tables, region_status_writes=writes)
    result = evaluate(scenario_from_dict({"name": "t"}), baselines[0], baselines[1:], everywhere, {})
    assert result.status == DIVERGENT
    assert [d.path for d in result.unapproved] == ["tables.regionStatus[b].status"]


def test_a_key_the_baseline_wrote_one_value_to_is_not_contested_even_in_a_racing_table() -> None:
    baselines, candidate = _race("AVAILABLE", "AVAILABLE", "ACTIVE")
    for run in (*baselines, candidate):
        run.tables["regionStatus"]["c"] = {"region": "c", "status": "ACTIVE"}
        run.region_status_writes = [*run.region_status_writes, _status("c", "ACTIVE")]
    candidate.tables["regionStatus"]["c"] = {"region": "c", "status": "ERROR"}
    candidate.region_status_writes = [*candidate.region_status_writes[:-1], _status("c", "ERROR")]
    result = evaluate(scenario_from_dict({"name": "t"}), baselines[0], baselines[1:], candidate, {})
    assert "tables.regionStatus[c].status" in [d.path for d in result.unapproved]


def test_without_baseline_disagreement_the_last_writer_is_exact_and_a_probe_is_wanted() -> None:
    baselines, candidate = _race("ACTIVE", "ACTIVE", "AVAILABLE")
    kept, excused = split_noise(
        [
            d
            for d in evaluate(scenario_from_dict({"name": "t"}), baselines[0], baselines[1:], candidate, {}).differences
        ],
        [],
        baselines,
        candidate,
    )
    assert [d.path for d in kept] == ["tables.regionStatus[b].status"] and not excused
    assert needs_probe(kept, [], baselines[0])


def _last_writer(put_last: Callable[[], bool]) -> Implementation:
    """A sync writing one region's status twice, a batched row and a put; ``put_last`` says which lands last."""

    def sync() -> dict[str, Any]:
        table = boto3.resource("dynamodb").Table(os.environ["DRS_REGION_STATUS_TABLE"])
        last = put_last()
        with table.batch_writer() as batch:
            batch.put_item(Item={"region": "us-east-1", "accountId": ACCOUNT, "status": "ACTIVE"})
            if not last:
                table.put_item(Item={"region": "us-east-1", "status": "AVAILABLE"})
        if last:
            table.put_item(Item={"region": "us-east-1", "status": "AVAILABLE"})
        return response(200, {})

    return Implementation("test:last_writer", sync)


def test_a_race_the_two_baseline_runs_land_alike_is_probed_before_the_difference_is_kept() -> None:
    """Two baseline runs may land a last-writer race the same way; the judgement then runs more baseline variants
    (here they land it the other way, as the candidate does) before it keeps the difference."""
    runs = itertools.count()
    baseline = _last_writer(lambda: next(runs) >= 2)  # the first two runs keep the batched row, the probes the put
    scenario = _scenario(accounts=[], servers=[], faults=[])
    baselines = observe(scenario, baseline, 0), observe(scenario, baseline, 1)
    candidate = observe(scenario, _last_writer(lambda: True), 0)
    assert evaluate(scenario, baselines[0], [baselines[1]], candidate, {}).status == DIVERGENT
    result = judge(scenario, baseline, baselines, candidate, {})
    assert result.status == EQUIVALENT and next(runs) == 4
    excused = [d.path for d in result.noise if d.origin == EXCUSED]
    assert excused == ["tables.regionStatus[us-east-1].accountId", "tables.regionStatus[us-east-1].status"]


def test_approved_divergence_outcome_needs_every_difference_approved() -> None:
    baseline = Observation("x:y", response=None, exception={"type": "UnboundLocalError", "message": "acct_id"})
    body = {"message": "Source server inventory sync complete", "totalSynced": 0, "totalErrors": 0}
    body |= {"staleRecordsDeleted": 0, "regionsScanned": 28, "regionsSkipped": 0, "timestamp": CLOCK}
    ok = {**response(200, {}), "body": body}
    candidate = Observation("x:y", response=ok)
    scenario = scenario_from_dict({"name": "t", "approvals": ["AD-1"]})
    result = evaluate(scenario, baseline, [baseline], candidate, load_approvals())
    assert result.status == APPROVED_DIVERGENCE and not result.stale_approvals
