"""Unit tests of the refactored orchestrator: legacy's observable behaviour and the approved divergences AD-1..AD-4.

Where a test compares with legacy it runs both implementations in fresh worlds of the same scenario and compares
what the harness compares: the response, every table, the mutating calls as a multiset (``BatchWriteItem`` per
write request) and the reads as a set.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest

from harness.scenario import scenario_from_dict
from harness.world import World
from lambda_shared.active_region_filter import get_active_regions
from lambda_shared.drs_regions import DRS_REGIONS
from legacy.inventory_sync import handle_sync_source_server_inventory_legacy
from refactored.inventory_sync import (
    collect_accounts_to_query,
    handle_sync_source_server_inventory_refactored,
    sync_account,
)

LAMBDA = "111111111111"
TARGET = "222222222222"
OTHER = "333333333333"
THIRD = "444444444444"
REGIONS = ["us-east-1", "eu-west-1", "ap-south-1"]
STAMP = "2026-01-15T12:00:00+00:00"


def account(account_id: str, external_id: str | None = "ext-id", **extra: Any) -> dict[str, Any]:
    row = {"accountId": account_id, "roleArn": f"arn:aws:iam::{account_id}:role/DRSOrchestrationRole", **extra}
    if external_id:
        row["externalId"] = external_id
    return row


def body(result: dict[str, Any]) -> dict[str, Any]:
    return json.loads(result["body"])


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def observe(doc: dict[str, Any], handler: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one implementation in a fresh world and keep what the harness compares."""
    with World(scenario_from_dict({"name": "unit", **doc})) as world:
        try:
            result, error = handler(), None
        except Exception as e:  # noqa: BLE001 - the exception is an observable
            result, error = None, type(e).__name__
        calls, tables = list(world.calls), world.table_snapshot()
    mutating: Counter[tuple[Any, ...]] = Counter()
    reads: set[tuple[Any, ...]] = set()
    for call in calls:
        where = (call.service, call.operation, call.account, call.region, call.table)
        if call.operation == "BatchWriteItem":
            for writes in call.params["RequestItems"].values():
                mutating.update((*where, _key(write)) for write in writes)
        elif call.mutating:
            mutating[(*where, _key(call.params))] += 1
        else:
            reads.add((*where, _key(call.params)))
    return {"response": result, "error": error, "tables": tables, "mutating": mutating, "reads": reads}


def differences(doc: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    legacy = observe(doc, handle_sync_source_server_inventory_legacy)
    refactored = observe(doc, handle_sync_source_server_inventory_refactored)
    return {k: (legacy[k], refactored[k]) for k in legacy if legacy[k] != refactored[k]}


# -- equivalence with legacy -----------------------------------------------------------------------------------------

EQUIVALENT_SCENARIOS = {
    "one-account-three-regions-with-ec2": {
        "accounts": [account(TARGET)],
        "tables": {"activeRegions": REGIONS},
        "servers": [{"account": TARGET, "region": r, "count": 3} for r in REGIONS],
    },
    "region-failures-and-pages": {
        "accounts": [account(TARGET, None)],
        "drsPageSize": 2,
        "tables": {"activeRegions": [*REGIONS, "sa-east-1", "ca-central-1"]},
        "servers": [{"account": TARGET, "region": r, "count": 3} for r in REGIONS],
        "faults": [
            {"service": "drs", "region": "us-east-1", "effect": {"code": "AccessDeniedException"}},
            {"service": "drs", "region": "eu-west-1", "effect": {"kind": "connection"}, "when": {"page": 2}},
            {"service": "drs", "region": "ap-south-1", "effect": {"code": "ThrottlingException"}, "when": "once"},
            {"service": "drs", "region": "sa-east-1", "effect": {"code": "UninitializedAccountException"}},
            {"service": "drs", "region": "ca-central-1", "effect": {"kind": "timeout"}},
        ],
    },
    "cross-account-ec2-with-failures": {
        "accounts": [account(TARGET)],
        "tables": {"activeRegions": REGIONS},
        "servers": [
            {"account": TARGET, "region": "us-east-1", "count": 2},
            {
                "account": TARGET,
                "region": "eu-west-1",
                "items": [
                    {"drs": {"sourceCloudProperties": {"originAccountID": OTHER, "originRegion": "eu-west-1"}}},
                    {"drs": {"sourceCloudProperties": {"originAccountID": LAMBDA, "originRegion": "us-east-1"}}},
                    {"drs": {"sourceProperties": {"identificationHints": {"awsInstanceID": "i-0000000000000dead"}}}},
                ],
            },
        ],
        "faults": [
            {
                "service": "sts",
                "operation": "AssumeRole",
                "sessionName": "inventory-ec2-query",
                "roleAccount": OTHER,
                "effect": {"code": "AccessDenied"},
            }
        ],
    },
    "own-account-and-account-without-role": {
        "accounts": [{"accountId": LAMBDA, "roleArn": f"arn:aws:iam::{LAMBDA}:role/R"}],
        "tables": {"activeRegions": REGIONS},
        "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 2}],
    },
    "odd-servers": {
        "accounts": [account(TARGET)],
        "tables": {"activeRegions": REGIONS},
        "servers": [
            {
                "account": TARGET,
                "region": "us-east-1",
                "count": 1,
                "items": [
                    {"drs": {"sourceProperties": {"networkInterfaces": [{"macAddress": "0e:00", "ips": []}]}}},
                    {"drs": {"sourceProperties": {"networkInterfaces": [], "cpus": []}, "stagingArea": None}},
                ],
            }
        ],
    },
    "region-status-table-unset": {
        "accounts": [account(TARGET)],
        "environment": {"DRS_REGION_STATUS_TABLE": None},
        "servers": [{"account": TARGET, "region": "eu-west-1", "count": 2}],
    },
    "inventory-table-unset": {"accounts": [account(TARGET)], "environment": {"SOURCE_SERVER_INVENTORY_TABLE": None}},
}


@pytest.mark.parametrize("name", list(EQUIVALENT_SCENARIOS))
def test_refactored_is_observably_identical_to_legacy(name):
    assert differences(EQUIVALENT_SCENARIOS[name]) == {}


def test_stale_records_of_one_fully_scanned_account_are_cleaned_as_legacy():
    doc = {
        "accounts": [account(TARGET)],
        "tables": {
            "activeRegions": REGIONS,
            "inventory": [
                {
                    "sourceServerArn": f"arn:aws:drs:us-east-1:{TARGET}:source-server/s-0000000000000gone",
                    "stagingAccountId": TARGET,
                    "sourceAccountId": TARGET,
                    "replicationRegion": "us-east-1",
                }
            ],
        },
        "servers": [{"account": TARGET, "region": "us-east-1", "count": 2}],
    }
    assert differences(doc) == {}


def _sts_clients_built(monkeypatch: pytest.MonkeyPatch, handler: Callable[[], Any]) -> tuple[int, Counter[str]]:
    """Run a handler in a world, counting the STS clients it builds and the STS calls it makes."""
    built: list[str] = []
    original = botocore.session.Session.create_client

    def counting(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        built.append(service_name)
        return original(self, service_name, *args, **kwargs)

    doc = {
        "accounts": [account(TARGET), account(OTHER)],
        "tables": {"activeRegions": REGIONS},
        "servers": [{"account": a, "region": r, "count": 2} for a in (TARGET, OTHER) for r in REGIONS],
    }
    with World(scenario_from_dict({"name": "sts-clients", **doc})) as world:
        monkeypatch.setattr(botocore.session.Session, "create_client", counting)
        handler()
        monkeypatch.undo()
        calls = Counter(call.operation for call in world.calls if call.service == "sts")
    return built.count("sts"), calls


def test_each_account_shares_one_sts_client_and_makes_legacy_sts_calls(monkeypatch):
    legacy_clients, legacy_calls = _sts_clients_built(monkeypatch, handle_sync_source_server_inventory_legacy)
    clients, calls = _sts_clients_built(monkeypatch, handle_sync_source_server_inventory_refactored)
    # Per account: one identity check and role assumption for DRS, then one of each per EC2 group (3 regions).
    assert calls == legacy_calls == Counter({"GetCallerIdentity": 8, "AssumeRole": 8})
    assert legacy_clients == 16
    assert clients == 2


# -- the response and the run ----------------------------------------------------------------------------------------


def test_response_has_legacy_body_and_headers(world_factory):
    world_factory(EQUIVALENT_SCENARIOS["one-account-three-regions-with-ec2"])
    result = handle_sync_source_server_inventory_refactored()
    assert result["statusCode"] == 200
    assert result["headers"]["X-Frame-Options"] == "DENY" and len(result["headers"]) == 6
    assert body(result) == {
        "message": "Source server inventory sync complete",
        "totalSynced": 9,
        "totalErrors": 0,
        "staleRecordsDeleted": 0,
        "regionsScanned": 3,
        "regionsSkipped": 25,
        "timestamp": STAMP,
    }


def test_an_accounts_result_keeps_what_cleanup_reads_not_its_servers(world_factory):
    """Once an account is written its servers are let go: the run holds one account's servers, as legacy does."""
    world_factory(EQUIVALENT_SCENARIOS["one-account-three-regions-with-ec2"])
    account = collect_accounts_to_query()[0]
    result = sync_account(account, REGIONS, STAMP)
    assert result is not None and (result.synced, result.errors) == (9, 0)
    assert all(scan.servers == [] and scan.complete for scan in result.scans)
    assert sum(len(scan.reported_arns) for scan in result.scans) == 9


def test_region_cache_is_invalidated_after_the_run(world_factory):
    world = world_factory(EQUIVALENT_SCENARIOS["one-account-three-regions-with-ec2"])
    handle_sync_source_server_inventory_refactored()
    world.calls.clear()
    get_active_regions()
    assert [c.operation for c in world.calls] == ["Scan"]  # a miss: the cache was emptied


def test_colliding_keys_of_two_accounts_land_in_account_order(world_factory):
    same = {"arn": "arn:shared", "stagingArea": {"stagingAccountID": THIRD}}
    world = world_factory(
        {
            "accounts": [account(TARGET), account(OTHER)],
            "tables": {"activeRegions": REGIONS},
            "servers": [
                {"account": TARGET, "region": "us-east-1", "items": [{"drs": same}]},
                {"account": OTHER, "region": "eu-west-1", "items": [{"drs": same}]},
            ],
        }
    )
    handle_sync_source_server_inventory_refactored()
    (item,) = world.table_snapshot()["inventory"]
    assert item["replicationRegion"] == "eu-west-1"  # the second account's write is the last one


def test_region_status_rows_last_account_wins(world_factory):
    world = world_factory(
        {
            "accounts": [account(TARGET), account(OTHER)],
            "tables": {"activeRegions": REGIONS},
            "servers": [{"account": TARGET, "region": "us-east-1", "count": 1}],
        }
    )
    handle_sync_source_server_inventory_refactored()
    rows = {row["region"]: row for row in world.table_snapshot()["regionStatus"]}
    assert {row["accountId"] for row in rows.values()} == {OTHER}
    assert rows["us-east-1"]["serverCount"] == 0


def test_region_status_write_failure_raises_as_legacy(world_factory):
    world_factory(
        {
            "accounts": [account(TARGET)],
            "tables": {"activeRegions": REGIONS},
            "faults": [
                {
                    "service": "dynamodb",
                    "operation": "BatchWriteItem",
                    "table": "regionStatus",
                    "effect": {"code": "ValidationException"},
                }
            ],
        }
    )
    with pytest.raises(Exception, match="ValidationException"):
        handle_sync_source_server_inventory_refactored()


BOTH_HANDLERS = [handle_sync_source_server_inventory_legacy, handle_sync_source_server_inventory_refactored]


def _all_regions_world(**extra: Any) -> dict[str, Any]:
    # Slow puts: a flush that did not wait for the puts issued before it would land first and lose its rows.
    return {
        "accounts": [account(TARGET)],
        "tables": {"activeRegions": list(DRS_REGIONS)},
        "latency": {"operations": {"dynamodb:PutItem": 40}},
        **extra,
    }


def _status_row_kinds(world: World) -> Counter[str]:
    rows = world.table_snapshot()["regionStatus"]
    return Counter("batch" if "accountId" in row else "put" for row in rows)


@pytest.mark.parametrize("handler", BOTH_HANDLERS, ids=["legacy", "refactored"])
def test_region_status_rows_survive_as_in_legacy_with_concurrent_puts(world_factory, handler):
    world = world_factory(_all_regions_world())
    handler()
    # Rows 1-24 and 26-28 are flushed after their region's put; the 25th region's put follows the flush of row 25.
    assert _status_row_kinds(world) == Counter({"batch": 27, "put": 1})
    writes = Counter(call.operation for call in world.calls if call.table == "regionStatus")
    assert writes == Counter({"PutItem": 28, "BatchWriteItem": 2, "Scan": 1})


@pytest.mark.parametrize("handler", BOTH_HANDLERS, ids=["legacy", "refactored"])
def test_a_failing_first_flush_raises_before_any_later_region_is_written(world_factory, handler):
    fault = {"service": "dynamodb", "operation": "BatchWriteItem", "table": "regionStatus"}
    world = world_factory(_all_regions_world(faults=[{**fault, "effect": {"code": "ValidationException"}}]))
    with pytest.raises(Exception, match="ValidationException"):
        handler()
    writes = Counter(call.operation for call in world.calls if call.table == "regionStatus")
    assert writes == Counter({"PutItem": 24, "BatchWriteItem": 1, "Scan": 1})


# -- approved divergences --------------------------------------------------------------------------------------------


def test_ad1_zero_accounts_answer_200_with_zero_counts(world_factory):
    world = world_factory({"tables": {"activeRegions": REGIONS}})
    result = handle_sync_source_server_inventory_refactored()
    assert result["statusCode"] == 200
    assert body(result) == {
        "message": "Source server inventory sync complete",
        "totalSynced": 0,
        "totalErrors": 0,
        "staleRecordsDeleted": 0,
        "regionsScanned": 3,
        "regionsSkipped": 25,
        "timestamp": STAMP,
    }
    world.calls.clear()
    get_active_regions()
    assert [c.operation for c in world.calls] == ["Scan"]


def test_ad2_every_account_skipped_answers_200_and_touches_nothing(world_factory):
    seeded = {"sourceServerArn": "arn:x", "stagingAccountId": TARGET, "sourceAccountId": TARGET}
    world = world_factory(
        {
            "accounts": [account(TARGET, assumeRole={"kind": "error", "code": "AccessDenied"})],
            "tables": {"activeRegions": REGIONS, "inventory": [{**seeded, "replicationRegion": "us-east-1"}]},
        }
    )
    assert body(handle_sync_source_server_inventory_refactored())["totalSynced"] == 0
    assert len(world.table_snapshot()["inventory"]) == 1
    assert not [c for c in world.calls if c.table == "inventory"]


def test_ad2_cleanup_deletes_only_what_the_run_proved_stale(world_factory):
    def stale(name: str, holder: str, region: str) -> dict[str, Any]:
        return {
            "sourceServerArn": f"arn:aws:drs:{region}:{holder}:source-server/s-{name}",
            "stagingAccountId": holder,
            "sourceAccountId": holder,
            "sourceServerID": name,
            "replicationRegion": region,
        }

    world = world_factory(
        {
            "accounts": [account(TARGET), account(OTHER), account(THIRD, assumeRole={"code": "AccessDenied"})],
            "tables": {
                "activeRegions": REGIONS,
                "inventory": [
                    stale("t-gone", TARGET, "us-east-1"),
                    stale("t-throttled", TARGET, "eu-west-1"),
                    stale("t-inactive", TARGET, "sa-east-1"),
                    stale("o-gone", OTHER, "ap-south-1"),
                    stale("skipped", THIRD, "us-east-1"),
                ],
            },
            "servers": [{"account": TARGET, "region": "us-east-1", "count": 1}],
            "faults": [{"service": "drs", "account": TARGET, "region": "eu-west-1", "effect": {"kind": "connection"}}],
        }
    )
    result = handle_sync_source_server_inventory_refactored()
    assert body(result)["staleRecordsDeleted"] == 2
    remaining = {row["sourceServerID"] for row in world.table_snapshot()["inventory"] if "sourceServerID" in row}
    assert {"t-throttled", "t-inactive", "skipped"} <= remaining
    assert not {"t-gone", "o-gone"} & remaining
    (cleanup_scan,) = [c for c in world.calls if c.operation == "Scan" and c.table == "inventory"]
    selected = cleanup_scan.params["ExpressionAttributeValues"].values()
    # every account is named, a skipped one too (its records are kept); the order is the accounts table's scan order
    assert sorted(value["S"] for value in selected) == sorted([TARGET, OTHER, THIRD])


def test_ad2_a_record_written_this_run_is_never_deleted(world_factory):
    """TARGET's server originates in OTHER, so its record is OTHER's: OTHER's cleanup must keep it."""
    world = world_factory(
        {
            "accounts": [account(TARGET), account(OTHER)],
            "tables": {"activeRegions": REGIONS},
            "servers": [
                {
                    "account": TARGET,
                    "region": "us-east-1",
                    "items": [
                        {"drs": {"sourceCloudProperties": {"originAccountID": OTHER, "originRegion": "us-east-1"}}}
                    ],
                }
            ],
        }
    )
    assert body(handle_sync_source_server_inventory_refactored())["staleRecordsDeleted"] == 0
    assert len(world.table_snapshot()["inventory"]) == 1


def test_ad3_a_failing_final_flush_is_counted_and_later_accounts_still_sync(world_factory):
    world = world_factory(
        {
            "accounts": [account(TARGET), account(OTHER)],
            "tables": {"activeRegions": REGIONS},
            "servers": [
                {"account": TARGET, "region": "us-east-1", "items": [{"drs": {"arn": None}}], "count": 2},
                {"account": OTHER, "region": "eu-west-1", "count": 2},
            ],
        }
    )
    result = handle_sync_source_server_inventory_refactored()
    assert (body(result)["totalSynced"], body(result)["totalErrors"]) == (2, 3)
    assert {row["sourceAccountId"] for row in world.table_snapshot()["inventory"]} == {OTHER}


def test_ad4_unset_inventory_table_answers_legacy_500_before_any_call(world_factory):
    world = world_factory({"accounts": [account(TARGET)], "environment": {"SOURCE_SERVER_INVENTORY_TABLE": None}})
    result = handle_sync_source_server_inventory_refactored()
    assert (result["statusCode"], body(result)) == (500, {"error": "SOURCE_SERVER_INVENTORY_TABLE not configured"})
    assert world.calls == []


def test_ad4_unset_target_accounts_table_answers_500_naming_it_without_writing(world_factory):
    world = world_factory({"tables": {"activeRegions": REGIONS}, "environment": {"TARGET_ACCOUNTS_TABLE": None}})
    result = handle_sync_source_server_inventory_refactored()
    assert (result["statusCode"], body(result)) == (500, {"error": "TARGET_ACCOUNTS_TABLE not configured"})
    assert [(c.operation, c.table) for c in world.calls] == [("Scan", "regionStatus")]


def test_ad4_unset_region_status_table_is_not_a_failure(world_factory):
    world = world_factory(EQUIVALENT_SCENARIOS["region-status-table-unset"])
    result = handle_sync_source_server_inventory_refactored()
    assert result["statusCode"] == 200 and body(result)["regionsScanned"] == 28
    assert not [c for c in world.calls if c.table == "regionStatus"]
