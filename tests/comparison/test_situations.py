"""The scenarios built to reach a behaviour really produce the situation they name, in the baseline's own run.

A scenario that only claims its situation (a second scan page, a message over 500 characters, a per-id call that
cannot connect) would let the mutants it is meant to kill through; each test here reads the primary baseline run the
comparison suite already made (shared baselines) and checks the situation happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.engine.model import Observation
from harness.scenario import Scenario
from tests.comparison.conftest import BaselinePair


def baseline_of(name: str, library: dict[str, Scenario], baselines: Callable[..., BaselinePair]) -> Observation:
    observation = baselines(library[name])[0]
    assert observation.harness_error is None, observation.harness_error
    return observation


def failed(observation: Observation, operation: str, **matching: Any) -> list[dict[str, Any]]:
    return [
        call
        for call in observation.failed_calls
        if call["operation"] == operation and all(call.get(key) == value for key, value in matching.items())
    ]


def scans(observation: Observation, table: str) -> int:
    return sum(
        entry["count"] for entry in observation.reads if entry["operation"] == "Scan" and entry["table"] == table
    )


def test_the_warm_lambda_runs_twice_and_the_second_run_reads_the_regions_again(scenario_library, baselines):
    observation = baseline_of("warm-lambda-invoked-twice", scenario_library, baselines)
    assert observation.earlier_invocations["1"]["response"]["body"]["regionsScanned"] == 2
    assert observation.response["body"]["regionsScanned"] == 1
    region_scans = [e for e in observation.reads if e["operation"] == "Scan" and e["table"] == "regionStatus"]
    assert sorted(entry.get("invocation", 1) for entry in region_scans) == [1, 2]


def test_error_messages_are_long_enough_to_be_cut(scenario_library, baselines):
    rows = baseline_of("drs-long-error-messages", scenario_library, baselines).tables["regionStatus"]
    cut, whole = rows["eu-west-1"]["errorMessage"], rows["ap-southeast-2"]["errorMessage"]
    assert rows["eu-west-1"]["status"] == rows["ap-southeast-2"]["status"] == "ERROR"
    assert len(cut) == 500 and "END-OF-PROVIDER-ANSWER-MARKER" not in cut
    assert len(whole) > 500 and whole.endswith("would show.") and whole.startswith("InternalServerException: ")


def test_servers_report_several_cpus_of_different_models(scenario_library, baselines):
    items = baseline_of("servers-with-several-cpu-models", scenario_library, baselines).tables["inventory"].values()
    by_cores = {int(item["cpuCores"]): item["cpuModel"] for item in items}
    assert by_cores[12] == "Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz"  # 4 + 8 cores, the first CPU's model
    assert by_cores[18] == "AMD EPYC 7R13 Processor"  # 16 + 2 + a CPU without cores
    assert by_cores[0] == ""  # no CPUs


def test_the_target_accounts_table_answers_in_several_pages_and_legacy_reads_one(scenario_library, baselines):
    observation = baseline_of("target-accounts-beyond-one-scan-page", scenario_library, baselines)
    assert scans(observation, "targetAccounts") == 1
    # The first page holds the first account in scan order (docs/scenario-format.md, Scan order): 444444444444.
    assert {item["stagingAccountId"] for item in observation.tables["inventory"].values()} == {"444444444444"}
    assert len(scenario_library["target-accounts-beyond-one-scan-page"].accounts) == 3


def test_the_cleanup_scan_follows_several_pages(scenario_library, baselines):
    observation = baseline_of("stale-cleanup-scan-pages", scenario_library, baselines)
    pages = [e for e in observation.reads if e["operation"] == "Scan" and e["table"] == "inventory"]
    assert len(pages) == 4  # 11 records, 3 per page: the first request and three with ExclusiveStartKey
    assert sum("ExclusiveStartKey" in entry["params"] for entry in pages) == 3
    assert observation.response["body"]["staleRecordsDeleted"] == 7


def test_one_delete_of_the_cleanup_fails_on_every_attempt(scenario_library, baselines):
    observation = baseline_of("stale-cleanup-delete-fails", scenario_library, baselines)
    [refused] = failed(observation, "DeleteItem", table="inventory")
    assert set(refused["attempts"]) == {"HTTP 400"}
    assert observation.response["body"]["staleRecordsDeleted"] == 2


def test_role_assumptions_fail_without_a_client_error(scenario_library, baselines):
    observation = baseline_of("sts-assume-role-non-client-errors", scenario_library, baselines)
    outcomes = {call["params"]["RoleSessionName"]: set(call["attempts"]) for call in failed(observation, "AssumeRole")}
    assert outcomes == {"inventory-sync": {"EndpointConnectionError"}, "inventory-ec2-query": {"ReadTimeoutError"}}


def test_a_per_id_fallback_call_cannot_connect_and_the_next_ids_are_described(scenario_library, baselines):
    observation = baseline_of("ec2-fallback-connection-error", scenario_library, baselines)
    [unreachable] = failed(observation, "DescribeInstances", account="222222222222")[1:]
    assert list(unreachable["params"]) == ["InstanceId.1"]
    assert set(unreachable["attempts"]) == {"EndpointConnectionError"}
    enriched = [item for item in observation.tables["inventory"].values() if "networkConfig" in item]
    assert len(enriched) == 2


def test_throttling_outlasts_botocores_retries(scenario_library, baselines):
    status = baseline_of("dynamodb-region-status-writes-throttled", scenario_library, baselines)
    cleanup = baseline_of("dynamodb-cleanup-scan-throttled", scenario_library, baselines)
    writes = baseline_of("dynamodb-inventory-final-flush-fails", scenario_library, baselines)
    cases = (
        (status, "BatchWriteItem", "regionStatus"),
        (cleanup, "Scan", "inventory"),
        (writes, "BatchWriteItem", "inventory"),
    )
    for observation, operation, table in cases:
        [call] = failed(observation, operation, table=table)
        assert len(call["attempts"]) > 1 and set(call["attempts"]) == {"HTTP 400"}
        assert observation.exception["type"] == "ProvisionedThroughputExceededException"
    assert failed(status, "PutItem", table="regionStatus")  # update_region_status's puts fail too, only logged


def test_roles_refuse_a_missing_or_wrong_external_id(scenario_library, baselines):
    observation = baseline_of("external-id-variants", scenario_library, baselines)
    refused = {call["params"]["RoleArn"]: call["attempts"] for call in failed(observation, "AssumeRole")}
    assert refused == {
        "arn:aws:iam::333333333333:role/DRSOrchestrationRole": ["HTTP 403"],
        "arn:aws:iam::666666666666:role/DRSOrchestrationRole": ["HTTP 403"],
    }
