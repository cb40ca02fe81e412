"""Unit tests of the refactor's inventory item, inventory writes (LB-8, AD-3) and stale cleanup (AD-2)."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

import refactored.inventory as inventory_module
from harness.world.generate import generate_server
from refactored.cleanup import CLEANUP_PROJECTION, delete_stale_records, synced_keys
from refactored.inventory import build_inventory_item
from refactored.inventory_sync import AccountSync, DiscoveredServer, RegionScan, write_inventory_to_dynamodb

TARGET = "222222222222"
OTHER = "333333333333"
STAMP = "2026-01-15T12:00:00+00:00"
INVENTORY = "drs-source-server-inventory"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep AD-3's own back-off short in tests (botocore's is compressed by the world)."""
    monkeypatch.setattr(inventory_module, "WRITE_BACKOFF_SECONDS", 0.001)


def servers(count: int, region: str = "us-east-1", account: str = TARGET) -> list[DiscoveredServer]:
    return [DiscoveredServer(generate_server(7, account, region, i), account, region) for i in range(count)]


def calls_of(world: Any, operation: str, table: str = "inventory") -> list[Any]:
    return [c for c in world.calls if c.operation == operation and c.table == table]


def batch_sizes(world: Any) -> list[int]:
    return [len(c.params["RequestItems"][INVENTORY]) for c in calls_of(world, "BatchWriteItem")]


def inventory(world: Any) -> list[dict[str, Any]]:
    return world.table_snapshot()["inventory"]


# -- build_inventory_item --------------------------------------------------------------------------------------------


def full_server() -> dict[str, Any]:
    return {
        "arn": "arn:aws:drs:eu-west-1:222222222222:source-server/s-1",
        "sourceServerID": "s-1",
        "agentVersion": "4.8.0",
        "stagingArea": {"stagingAccountID": OTHER},
        "sourceCloudProperties": {"originAccountID": "444444444444", "originRegion": "eu-central-1"},
        "dataReplicationInfo": {"dataReplicationState": "CONTINUOUS", "lagDuration": "PT5S"},
        "lifeCycle": {"lastSeenByServiceDateTime": "2026-01-15T11:59:00Z"},
        "sourceProperties": {
            "identificationHints": {"hostname": "web-1", "fqdn": "web-1.corp", "awsInstanceID": "i-1"},
            "cpus": [{"cores": 2, "modelName": "Xeon"}, {"cores": 4, "modelName": "Other"}],
            "ramBytes": 8589934592,
            "disks": [{"deviceName": "/dev/xvda", "bytes": 100}, {"deviceName": "/dev/xvdb", "bytes": 50}],
            "os": {"fullString": "Amazon Linux 2"},
            "networkInterfaces": [{"ips": ["10.0.0.1", "10.0.0.2"], "macAddress": "0e:00"}, {"ips": ["10.0.0.9"]}],
        },
    }


def test_item_is_built_attribute_for_attribute_as_legacy():
    details = {
        "vpcId": "vpc-1",
        "subnetId": "subnet-1",
        "privateIp": "10.0.0.1",
        "securityGroups": ["sg-1"],
        "instanceProfile": "arn:profile",
        "tags": {"Name": "web-1"},
    }
    item = build_inventory_item(DiscoveredServer(full_server(), TARGET, "eu-west-1", {"i-1": details}), STAMP)
    assert item == {
        "sourceServerArn": "arn:aws:drs:eu-west-1:222222222222:source-server/s-1",
        "stagingAccountId": OTHER,
        "sourceServerID": "s-1",
        "sourceAccountId": "444444444444",
        "sourceRegion": "eu-central-1",
        "hostname": "web-1",
        "fqdn": "web-1.corp",
        "instanceId": "i-1",
        "agentVersion": "4.8.0",
        "replicationRegion": "eu-west-1",
        "replicationState": "CONTINUOUS",
        "lagDuration": "PT5S",
        "lastSnapshot": "",
        "lastSeen": "2026-01-15T11:59:00Z",
        "lastUpdated": STAMP,
        "cpuModel": "Xeon",
        "cpuCores": 6,
        "ramBytes": 8589934592,
        "totalStorageBytes": 150,
        "osName": "Amazon Linux 2",
        "primaryIp": "10.0.0.1",
        "macAddress": "0e:00",
        "disks": [{"deviceName": "/dev/xvda", "bytes": 100}, {"deviceName": "/dev/xvdb", "bytes": 50}],
        "networkConfig": {
            "vpcId": "vpc-1",
            "subnetId": "subnet-1",
            "privateIp": "10.0.0.1",
            "securityGroups": ["sg-1"],
            "instanceProfile": "arn:profile",
        },
        "sourceTags": {"Name": "web-1"},
    }


def test_item_of_an_empty_server_takes_legacy_defaults():
    item = build_inventory_item(DiscoveredServer({}, TARGET, "us-east-1"), STAMP)
    assert item["sourceServerArn"] == "" and item["stagingAccountId"] == TARGET
    assert (item["sourceAccountId"], item["sourceRegion"], item["replicationRegion"]) == (
        TARGET,
        "us-east-1",
        "us-east-1",
    )
    assert (item["primaryIp"], item["macAddress"], item["cpuModel"], item["instanceId"]) == ("", "", "", "")
    assert (item["cpuCores"], item["ramBytes"], item["totalStorageBytes"], item["disks"]) == (0, 0, 0, [])
    assert "networkConfig" not in item and "sourceTags" not in item


def test_item_reads_every_field_with_get_semantics():
    """``dict.get(key, default)``: a present value is kept even when empty or null; only an absent key defaults."""
    server = full_server()
    server["arn"] = None
    server["stagingArea"] = {"stagingAccountID": ""}
    server["dataReplicationInfo"]["lastSnapshotDateTime"] = None
    server["sourceProperties"]["networkInterfaces"] = [{"macAddress": "0e:01"}, {"ips": ["10.0.0.9"]}]
    item = build_inventory_item(DiscoveredServer(server, TARGET, "us-east-1"), STAMP)
    assert (item["sourceServerArn"], item["stagingAccountId"], item["lastSnapshot"]) == (None, "", None)
    assert (item["primaryIp"], item["macAddress"]) == ("", "0e:01")


def test_item_last_snapshot_defaults_to_an_empty_string():
    """DRS's model has no ``lastSnapshotDateTime``, so production always writes "" (never NULL)."""
    assert build_inventory_item(DiscoveredServer(full_server(), TARGET, "us-east-1"), STAMP)["lastSnapshot"] == ""
    assert build_inventory_item(DiscoveredServer({}, TARGET, "us-east-1"), STAMP)["lastSnapshot"] == ""


def test_item_with_a_first_nic_with_an_empty_ips_list_fails():
    server = full_server()
    server["sourceProperties"]["networkInterfaces"] = [{"ips": [], "macAddress": "0e:00"}]
    with pytest.raises(IndexError):
        build_inventory_item(DiscoveredServer(server, TARGET, "us-east-1"), STAMP)


# -- write_inventory_to_dynamodb -------------------------------------------------------------------------------------


def test_write_sends_batches_of_25_and_persists_every_item(world_factory):
    world = world_factory({})
    found = servers(30)
    assert write_inventory_to_dynamodb(found, STAMP) == (30, 0)
    assert batch_sizes(world) == [25, 5] and calls_of(world, "PutItem") == []
    stored = {item["sourceServerID"]: item for item in inventory(world)}
    assert len(stored) == 30
    expected = build_inventory_item(found[0], STAMP)
    got = stored[expected["sourceServerID"]]
    assert got["ramBytes"] == Decimal(expected["ramBytes"]) and got["lastSnapshot"] == ""
    wire_item = calls_of(world, "BatchWriteItem")[0].params["RequestItems"][INVENTORY][0]["PutRequest"]["Item"]
    assert wire_item["ramBytes"] == {"N": str(expected["ramBytes"])} and wire_item["lastSnapshot"] == {"S": ""}


def test_write_counts_a_server_whose_item_cannot_be_built_as_an_error(world_factory, caplog):
    world = world_factory({})
    found = servers(26)
    found[3].server["sourceProperties"]["networkInterfaces"] = [{"ips": []}]
    with caplog.at_level(logging.ERROR):
        assert write_inventory_to_dynamodb(found, STAMP) == (25, 1)
    assert batch_sizes(world) == [25]
    assert f"Error writing {found[3].server['sourceServerID']}" in caplog.text


def test_write_keeps_a_present_empty_staging_account_and_loses_its_batch(world_factory):
    """The item's range key is the present "" (not the account): DynamoDB rejects the batch holding it (AD-3)."""
    world = world_factory({})
    found = servers(3)
    found[1].server["stagingArea"] = {"stagingAccountID": ""}
    assert write_inventory_to_dynamodb(found, STAMP) == (0, 3)
    (write,) = calls_of(world, "BatchWriteItem")
    keys = [r["PutRequest"]["Item"]["stagingAccountId"] for r in write.params["RequestItems"][INVENTORY]]
    assert keys == [{"S": TARGET}, {"S": ""}, {"S": TARGET}]
    assert inventory(world) == []


def test_write_loses_the_batch_dynamodb_rejects_and_counts_it_as_errors(world_factory):
    """An empty key fails its whole batch, exactly the batch legacy's batch_writer sends; nothing escapes."""
    world = world_factory({})
    found = servers(30)
    found[3].server.pop("arn")
    assert write_inventory_to_dynamodb(found, STAMP) == (5, 25)
    assert len(inventory(world)) == 5 and batch_sizes(world) == [25, 5]


def test_write_of_duplicate_keys_in_one_batch_sends_them_in_order(world_factory):
    """Two servers with one key go in the same batch, in order, as legacy's batch_writer sends them."""
    world = world_factory({})
    found = servers(3)
    found[2].server["arn"] = found[0].server["arn"]
    synced, errors = write_inventory_to_dynamodb(found, STAMP)
    assert synced + errors == 3
    sent = calls_of(world, "BatchWriteItem")[0].params["RequestItems"][INVENTORY]
    assert [w["PutRequest"]["Item"]["sourceServerID"]["S"] for w in sent] == [f.server["sourceServerID"] for f in found]


def test_write_retries_unprocessed_items(world_factory):
    world = world_factory(
        {
            "faults": [
                {
                    "service": "dynamodb",
                    "operation": "BatchWriteItem",
                    "table": "inventory",
                    "effect": {"kind": "unprocessed", "count": 3},
                    "when": "once",
                }
            ]
        }
    )
    assert write_inventory_to_dynamodb(servers(10), STAMP) == (10, 0)
    assert batch_sizes(world) == [10, 3] and len(inventory(world)) == 10


def test_write_counts_items_left_unprocessed_as_errors(world_factory, caplog):
    world = world_factory(
        {
            "faults": [
                {
                    "service": "dynamodb",
                    "operation": "BatchWriteItem",
                    "effect": {"kind": "unprocessed", "count": 2},
                }
            ]
        }
    )
    with caplog.at_level(logging.ERROR):
        assert write_inventory_to_dynamodb(servers(10), STAMP) == (8, 2)
    assert len(inventory(world)) == 8 and len(batch_sizes(world)) == inventory_module.MAX_WRITE_ATTEMPTS
    assert "left unprocessed" in caplog.text


def test_write_retries_throttling_past_botocores_attempts(world_factory):
    world = world_factory(
        {
            "faults": [
                {
                    "service": "dynamodb",
                    "operation": "BatchWriteItem",
                    "effect": {"code": "ProvisionedThroughputExceededException"},
                    "when": {"first": 12},
                }
            ]
        }
    )
    assert write_inventory_to_dynamodb(servers(4), STAMP) == (4, 0)
    attempts = [c.attempts for c in calls_of(world, "BatchWriteItem")]
    assert len(attempts) > 1 and attempts[-1][-1] == "ok"
    assert sum(len(a) for a in attempts) == 13  # every attempt of botocore's and ours, the 13th succeeds


@pytest.mark.parametrize(
    "effect", [{"code": "ThrottlingException"}, {"code": "AccessDeniedException"}, {"kind": "connection"}]
)
def test_write_failures_never_escape(world_factory, effect):
    world = world_factory(
        {"faults": [{"service": "dynamodb", "operation": "BatchWriteItem", "effect": {"kind": "error", **effect}}]}
    )
    assert write_inventory_to_dynamodb(servers(3), STAMP) == (0, 3)
    assert inventory(world) == []


def test_write_of_nothing_makes_no_call(world_factory):
    world = world_factory({})
    assert write_inventory_to_dynamodb([]) == (0, 0) and world.calls == []


# -- stale cleanup (AD-2) --------------------------------------------------------------------------------------------


def record(arn: str, account: str = TARGET, region: Any = "us-east-1", **extra: Any) -> dict[str, Any]:
    row = {"sourceServerArn": arn, "stagingAccountId": account, "sourceAccountId": account, "sourceServerID": arn}
    if region is not None:
        row["replicationRegion"] = region
    return {**row, **extra}


def account_sync(
    scans: list[RegionScan], found: list[DiscoveredServer] | None = None, account: str = TARGET
) -> AccountSync:
    return AccountSync(account, found or [], scans, 0, 0)


SCANS = [
    RegionScan("us-east-1", "ACTIVE"),
    RegionScan("eu-west-1", "THROTTLED"),
    RegionScan("sa-east-1", "NOT_INITIALIZED"),
]


def legacy_scan(account: str) -> dict[str, Any]:
    return {
        "TableName": INVENTORY,
        "FilterExpression": "sourceAccountId = :acct_id",
        "ExpressionAttributeValues": {":acct_id": {"S": account}},
    }


def test_cleanup_deletes_only_unsynced_records_of_successfully_scanned_regions(world_factory):
    world = world_factory(
        {
            "tables": {
                "inventory": [
                    record("stale-active"),
                    record("stale-uninitialised", region="sa-east-1"),
                    record("kept-throttled", region="eu-west-1"),
                    record("kept-inactive", region="ap-south-1"),
                    record("kept-no-region", region=None),
                    record("kept-odd-region", region=["us-east-1"]),
                    record("kept-other-account", account=OTHER),
                    record("kept-synced"),
                ]
            }
        }
    )
    found = [DiscoveredServer({"arn": "kept-synced"}, TARGET, "us-east-1")]
    assert delete_stale_records([account_sync(SCANS, found)]) == 2
    assert sorted(r["sourceServerArn"] for r in inventory(world)) == [
        "kept-inactive",
        "kept-no-region",
        "kept-odd-region",
        "kept-other-account",
        "kept-synced",
        "kept-throttled",
    ]
    assert [c.params for c in calls_of(world, "Scan")] == [legacy_scan(TARGET)]  # one account: legacy's own scan
    assert sorted(c.params["Key"]["sourceServerArn"]["S"] for c in calls_of(world, "DeleteItem")) == [
        "stale-active",
        "stale-uninitialised",
    ]


def test_cleanup_of_several_accounts_reads_the_table_once_and_applies_each_accounts_regions(world_factory):
    world = world_factory(
        {
            "tables": {
                "inventory": [
                    record("t-stale"),
                    record("t-kept", region="eu-west-1"),
                    record("o-stale", account=OTHER, region="eu-west-1"),
                    record("o-kept", account=OTHER),
                    record("third", account="444444444444"),
                ]
            }
        }
    )
    other = account_sync([RegionScan("eu-west-1", "ACTIVE"), RegionScan("us-east-1", "ERROR")], account=OTHER)
    assert delete_stale_records([account_sync(SCANS), other]) == 2
    assert sorted(r["sourceServerArn"] for r in inventory(world)) == ["o-kept", "t-kept", "third"]
    (scan,) = calls_of(world, "Scan")
    assert scan.params["FilterExpression"] == "sourceAccountId IN (:acct_0, :acct_1)"
    assert scan.params["ExpressionAttributeValues"] == {":acct_0": {"S": TARGET}, ":acct_1": {"S": OTHER}}
    assert scan.params["ProjectionExpression"] == CLEANUP_PROJECTION


def test_cleanup_selects_at_most_100_accounts_per_scan(world_factory):
    world = world_factory({"tables": {"inventory": [record("stale-last", account="300000000100")]}})
    results = [account_sync(SCANS, account=f"{300000000000 + n:012d}") for n in range(101)]
    assert delete_stale_records(results) == 1
    scans = calls_of(world, "Scan")
    assert [len(c.params["ExpressionAttributeValues"]) for c in scans] == [100, 1]
    assert scans[1].params == legacy_scan("300000000100")


def test_cleanup_of_no_account_reads_nothing(world_factory):
    world = world_factory({"tables": {"inventory": [record("stale")]}})
    assert delete_stale_records([]) == 0 and world.calls == []


def test_cleanup_follows_last_evaluated_key(world_factory):
    padding = "x" * 50_000
    world = world_factory({"tables": {"inventory": [record(f"stale-{n:02d}", pad=padding) for n in range(30)]}})
    assert delete_stale_records([account_sync(SCANS)]) == 30
    scans = calls_of(world, "Scan")
    assert len(scans) >= 2 and "ExclusiveStartKey" in scans[1].params
    assert inventory(world) == []


def test_cleanup_logs_delete_failures_without_counting_them(world_factory, caplog):
    world_factory(
        {
            "tables": {"inventory": [record("stale-1"), record("stale-2")]},
            "faults": [{"service": "dynamodb", "operation": "DeleteItem", "effect": {"code": "AccessDeniedException"}}],
        }
    )
    with caplog.at_level(logging.ERROR):
        assert delete_stale_records([account_sync(SCANS)]) == 0
    assert "Error deleting stale record stale-1" in caplog.text


def test_cleanup_scan_failure_raises_as_legacy(world_factory):
    world_factory(
        {"faults": [{"service": "dynamodb", "operation": "Scan", "effect": {"code": "AccessDeniedException"}}]}
    )
    with pytest.raises(ClientError):
        delete_stale_records([account_sync(SCANS)])


def test_synced_keys_are_built_as_legacy_builds_them():
    found = [
        DiscoveredServer({"arn": "a", "stagingArea": {"stagingAccountID": OTHER}}, TARGET, "r"),
        DiscoveredServer({"arn": "b"}, TARGET, "r"),
        DiscoveredServer({"stagingArea": {"stagingAccountID": ""}}, TARGET, "r"),
    ]
    assert synced_keys(account_sync([], found)) == {("a", OTHER), ("b", TARGET), ("", "")}


def test_synced_keys_default_only_absent_keys():
    """A present empty ``stagingAccountID`` and a present null ``arn`` are kept, as in the item's key (LB-9)."""
    found = [
        DiscoveredServer({"arn": None, "stagingArea": {"stagingAccountID": ""}}, TARGET, "r"),
        DiscoveredServer({"arn": "c", "stagingArea": {}}, TARGET, "r"),
    ]
    assert synced_keys(account_sync([], found)) == {(None, ""), ("c", TARGET)}
