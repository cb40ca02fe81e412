"""Unit tests of the refactor's inventory item, inventory writes (LB-8, AD-3) and stale cleanup (AD-2)."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

import refactored.inventory as inventory_module
from harness.world.generate import generate_server
from refactored.cleanup import CLEANUP_PROJECTION, delete_stale_records, holder_of
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
    """The sizes of the inventory batches sent, largest first (batches go out concurrently, in no fixed order)."""
    return sorted((len(c.params["RequestItems"][INVENTORY]) for c in calls_of(world, "BatchWriteItem")), reverse=True)


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
    first_batch = next(c for c in calls_of(world, "BatchWriteItem") if len(c.params["RequestItems"][INVENTORY]) == 25)
    wire_item = first_batch.params["RequestItems"][INVENTORY][0]["PutRequest"]["Item"]
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


def test_write_loses_a_batch_holding_a_value_dynamodb_cannot_store(world_factory, caplog):
    """A float fails serialisation of its whole batch before anything is sent, as the table resource's call does."""
    world = world_factory({})
    found = servers(30)
    found[27].server["agentVersion"] = 2.5  # copied into the item as is
    with caplog.at_level(logging.ERROR):
        assert write_inventory_to_dynamodb(found, STAMP) == (25, 5)
    assert batch_sizes(world) == [25] and len(inventory(world)) == 25
    assert "Inventory batch write failed" in caplog.text


def test_write_sends_an_accounts_batches_concurrently(world_factory):
    world = world_factory({"latency": {"services": {"dynamodb": 50}}})
    assert write_inventory_to_dynamodb(servers(100), STAMP) == (100, 0)
    writes = calls_of(world, "BatchWriteItem")
    assert batch_sizes(world) == [25, 25, 25, 25] and len({call.thread for call in writes}) > 1
    assert len(inventory(world)) == 100


def test_write_of_one_key_in_two_batches_lands_in_legacy_order(world_factory):
    """A key in two batches: the batches go out one after another, so the later item survives, as in legacy."""
    world = world_factory({"latency": {"services": {"dynamodb": 50}}})
    found = servers(60)
    found[55].server["arn"] = found[0].server["arn"]
    assert write_inventory_to_dynamodb(found, STAMP) == (60, 0)
    writes = calls_of(world, "BatchWriteItem")
    assert len({call.thread for call in writes}) == 1
    assert [len(call.params["RequestItems"][INVENTORY]) for call in writes] == [25, 25, 10]
    survivor = next(item for item in inventory(world) if item["sourceServerArn"] == found[0].server["arn"])
    assert survivor["sourceServerID"] == found[55].server["sourceServerID"]


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

LAMBDA = "111111111111"


def arn(server_id: str, account: str = TARGET, region: str = "us-east-1") -> str:
    return f"arn:aws:drs:{region}:{account}:source-server/{server_id}"


def record(
    server_id: str, account: str = TARGET, region: Any = "us-east-1", origin: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The record an earlier sync left for a server of ``account``'s DRS in ``region`` (origin: sourceAccountId)."""
    row = {
        "sourceServerArn": arn(server_id, account, region if isinstance(region, str) else "us-east-1"),
        "stagingAccountId": account,
        "sourceAccountId": origin or account,
        "sourceServerID": server_id,
    }
    if region is not None:
        row["replicationRegion"] = region
    return {**row, **extra}


def account_sync(scans: list[RegionScan], account: str = TARGET, identity: Any = "") -> AccountSync:
    return AccountSync(account, scans, 0, 0, account if identity == "" else identity)


def complete(region: str, *reported: str) -> RegionScan:
    return RegionScan(region, "ACTIVE", complete=True, reported_arns=frozenset(reported))


SCANS = [
    complete("us-east-1", arn("reported")),
    RegionScan("eu-west-1", "THROTTLED", error_message="API rate limit exceeded"),
    RegionScan(
        "sa-east-1", "NOT_INITIALIZED", reported_arns=frozenset({arn("seen-before-failure", region="sa-east-1")})
    ),
    RegionScan("us-west-2", "ACTIVE", complete=False),
]


def legacy_scan(account: str) -> dict[str, Any]:
    return {
        "TableName": INVENTORY,
        "FilterExpression": "sourceAccountId = :acct_id",
        "ExpressionAttributeValues": {":acct_id": {"S": account}},
    }


def remaining(world: Any) -> list[str]:
    return sorted(r["sourceServerID"] for r in inventory(world))


def test_cleanup_deletes_only_what_this_run_proved_stale(world_factory):
    world = world_factory(
        {
            "tables": {
                "inventory": [
                    record("stale"),
                    record("reported"),
                    record("kept-throttled", region="eu-west-1"),
                    record("kept-not-initialized", region="sa-east-1"),
                    record("seen-before-failure", region="sa-east-1"),
                    record("kept-malformed", region="us-west-2"),
                    record("kept-inactive", region="ap-south-1"),
                    record("kept-no-region", region=None),
                    record("kept-region-disagrees", replicationRegion="eu-west-1"),
                    record("kept-odd-region", region=["us-east-1"]),
                    {**record("kept-not-a-drs-arn"), "sourceServerArn": "legacy-id-123"},
                    record("kept-other-holder", account=OTHER, origin=TARGET),
                    record("kept-other-origin", origin=OTHER),
                ]
            }
        }
    )
    assert delete_stale_records([account_sync(SCANS)]) == 1
    assert "stale" not in remaining(world) and len(remaining(world)) == 12
    assert [c.params for c in calls_of(world, "Scan")] == [legacy_scan(TARGET)]  # one account: legacy's own scan
    assert [c.params["Key"]["sourceServerArn"]["S"] for c in calls_of(world, "DeleteItem")] == [arn("stale")]


def test_a_record_is_judged_by_the_drs_holding_its_server_not_by_its_origin(world_factory):
    """Cross-origin records (issue 13, case 1): OTHER's DRS holds servers originating in TARGET; only OTHER's complete
    listing can prove them gone, and a record of TARGET's DRS originating in OTHER is proven by TARGET's."""
    world = world_factory(
        {
            "tables": {
                "inventory": [
                    record("held-by-other", account=OTHER, origin=TARGET),
                    record("held-by-target", origin=OTHER),
                ]
            }
        }
    )
    throttled = account_sync([RegionScan("us-east-1", "THROTTLED")], account=OTHER)
    assert delete_stale_records([account_sync([complete("us-east-1")]), throttled], [TARGET, OTHER]) == 1
    assert remaining(world) == ["held-by-other"]


def test_a_listing_proves_things_about_the_account_whose_credentials_made_it(world_factory):
    """Someone else's credentials (issue 13, case 2): a row queried with the Lambda's credentials (no roleArn) or
    another account's role lists that account's DRS, never the row's own."""
    world = world_factory(
        {
            "tables": {
                "inventory": [
                    record("row-own"),
                    record("lambda-held", account=LAMBDA, origin=TARGET),
                    record("other-row", account=OTHER),
                ]
            }
        }
    )
    as_lambda = account_sync([complete("us-east-1")], identity=LAMBDA)
    as_nobody = account_sync([complete("us-east-1")], account=OTHER, identity=None)
    assert delete_stale_records([as_lambda, as_nobody], [TARGET, OTHER]) == 1
    assert remaining(world) == ["other-row", "row-own"]


def test_records_of_a_skipped_account_are_considered_and_kept_unless_proven(world_factory):
    world = world_factory(
        {"tables": {"inventory": [record("skipped-own", account=OTHER), record("skipped-origin", origin=OTHER)]}}
    )
    assert delete_stale_records([account_sync([complete("us-east-1")])], [TARGET, OTHER]) == 1
    assert remaining(world) == ["skipped-own"]
    (scan,) = calls_of(world, "Scan")
    assert scan.params["ExpressionAttributeValues"] == {":acct_0": {"S": TARGET}, ":acct_1": {"S": OTHER}}


def test_cleanup_of_several_accounts_reads_the_table_once(world_factory):
    world = world_factory(
        {
            "tables": {
                "inventory": [record("t-stale"), record("o-stale", account=OTHER), record("third", account=LAMBDA)]
            }
        }
    )
    other = account_sync([complete("us-east-1")], account=OTHER)
    assert delete_stale_records([account_sync([complete("us-east-1")]), other]) == 2
    assert remaining(world) == ["third"]
    (scan,) = calls_of(world, "Scan")
    assert scan.params["FilterExpression"] == "sourceAccountId IN (:acct_0, :acct_1)"
    assert scan.params["ExpressionAttributeValues"] == {":acct_0": {"S": TARGET}, ":acct_1": {"S": OTHER}}
    assert scan.params["ProjectionExpression"] == CLEANUP_PROJECTION


def test_cleanup_selects_at_most_100_accounts_per_scan(world_factory):
    last = "300000000100"
    world = world_factory({"tables": {"inventory": [record("stale-last", account=last)]}})
    results = [account_sync([complete("us-east-1")], account=f"{300000000000 + n:012d}") for n in range(101)]
    assert delete_stale_records(results) == 1
    scans = calls_of(world, "Scan")
    assert [len(c.params["ExpressionAttributeValues"]) for c in scans] == [100, 1]
    assert scans[1].params == legacy_scan(last)


def test_cleanup_of_no_account_reads_nothing(world_factory):
    world = world_factory({"tables": {"inventory": [record("stale")]}})
    assert delete_stale_records([], [TARGET]) == 0 and world.calls == []


def test_cleanup_follows_last_evaluated_key(world_factory):
    padding = "x" * 50_000
    world = world_factory({"tables": {"inventory": [record(f"stale-{n:02d}", pad=padding) for n in range(30)]}})
    assert delete_stale_records([account_sync([complete("us-east-1")])]) == 30
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
        assert delete_stale_records([account_sync([complete("us-east-1")])]) == 0
    assert "Error deleting stale record stale-1" in caplog.text


def test_cleanup_scan_failure_raises_as_legacy(world_factory):
    world_factory(
        {"faults": [{"service": "dynamodb", "operation": "Scan", "effect": {"code": "AccessDeniedException"}}]}
    )
    with pytest.raises(ClientError):
        delete_stale_records([account_sync(SCANS)])


@pytest.mark.parametrize(
    ("value", "holder"),
    [
        (arn("s-1"), (TARGET, "us-east-1")),
        ("arn:aws-us-gov:drs:us-gov-west-1:222222222222:source-server/s-1", (TARGET, "us-gov-west-1")),
        ("arn:aws:drs:us-east-1:222222222222:recovery-instance/i-1", None),
        ("arn:aws:drs:us-east-1:2222:source-server/s-1", None),
        ("arn:aws:ec2:us-east-1:222222222222:source-server/s-1", None),
        ("", None),
        (None, None),
    ],
)
def test_the_holder_of_a_record_is_read_from_its_drs_arn(value, holder):
    region = holder[1] if holder else "us-east-1"
    assert holder_of({"sourceServerArn": value, "replicationRegion": region}) == holder
