"""LB-8: inventory writes per account through one boto3 ``batch_writer`` - the item, and how failures count."""

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from legacy_support import LAMBDA, LegacyRun

Run = Callable[..., LegacyRun]

NOW = "2026-01-15T12:00:00+00:00"
SERVER_ID = "s-00000000000000001"
ARN = f"arn:aws:drs:us-east-1:{LAMBDA}:source-server/{SERVER_ID}"
FULL_SERVER: dict[str, Any] = {
    "sourceServerID": SERVER_ID,
    "arn": ARN,
    "agentVersion": "4.8.2",
    "dataReplicationInfo": {
        "dataReplicationState": "BACKLOG",
        "lagDuration": "PT5M",
        "lastSnapshotDateTime": "2026-01-15T11:00:00Z",
    },
    "lifeCycle": {"lastSeenByServiceDateTime": "2026-01-15T11:59:00Z"},
    "sourceProperties": {
        "identificationHints": {"hostname": "erp-db-prod-0001", "fqdn": "erp-db-prod-0001.corp.example.com"},
        "cpus": [{"cores": 4, "modelName": "AMD EPYC 7R13 Processor"}, {"cores": 2, "modelName": "Other"}],
        "ramBytes": 17179869184,
        "disks": [{"deviceName": "/dev/xvda", "bytes": 100}, {"deviceName": "/dev/xvdb", "bytes": 50}],
        "os": {"fullString": "Ubuntu 22.04.4 LTS"},
        "networkInterfaces": [
            {"macAddress": "0e:00:00:00:00:01", "ips": ["10.0.0.5", "10.0.0.6"], "isPrimary": True},
            {"macAddress": "0e:00:00:00:00:02", "ips": ["10.0.1.5"], "isPrimary": False},
        ],
    },
    "stagingArea": {"stagingAccountID": "999999999999"},
}


def _one_region(items: list[dict[str, Any]] | None = None, count: int = 0, **extra: Any) -> dict[str, Any]:
    group = {"account": LAMBDA, "region": "us-east-1", "count": count, "ec2Instances": False, "items": items or []}
    return {
        "accounts": [{"accountId": LAMBDA}],
        "tables": {"activeRegions": ["us-east-1"]},
        "servers": [group],
        **extra,
    }


def _inventory_fault(effect: dict[str, Any], when: Any = "always") -> dict[str, Any]:
    return {"service": "dynamodb", "operation": "BatchWriteItem", "table": "inventory", "effect": effect, "when": when}


def test_lb8_item_holds_every_field_from_the_source_server(run_legacy: Run) -> None:
    run = run_legacy(_one_region([{"drs": FULL_SERVER}]))
    assert run.tables["inventory"] == [
        {
            "sourceServerArn": ARN,
            "stagingAccountId": "999999999999",
            "sourceServerID": SERVER_ID,
            "sourceAccountId": LAMBDA,
            "sourceRegion": "us-east-1",
            "hostname": "erp-db-prod-0001",
            "fqdn": "erp-db-prod-0001.corp.example.com",
            "instanceId": "",
            "agentVersion": "4.8.2",
            "replicationRegion": "us-east-1",
            "replicationState": "BACKLOG",
            "lagDuration": "PT5M",
            "lastSnapshot": "",
            "lastSeen": "2026-01-15T11:59:00Z",
            "lastUpdated": NOW,
            "cpuModel": "AMD EPYC 7R13 Processor",
            "cpuCores": 6,
            "ramBytes": 17179869184,
            "totalStorageBytes": 150,
            "osName": "Ubuntu 22.04.4 LTS",
            "primaryIp": "10.0.0.5",
            "macAddress": "0e:00:00:00:00:01",
            "disks": [{"deviceName": "/dev/xvda", "bytes": 100}, {"deviceName": "/dev/xvdb", "bytes": 50}],
        }
    ]
    assert run.body["totalSynced"] == 1


def test_lb8_last_snapshot_is_an_empty_string_because_drs_does_not_model_it(run_legacy: Run) -> None:
    """``dataReplicationInfo.get("lastSnapshotDateTime", "")``: DRS has no such member, so the default applies."""
    run = run_legacy(_one_region([{"drs": FULL_SERVER}]))
    (write,) = run.select("dynamodb", "BatchWriteItem", "inventory")
    item = write.params["RequestItems"]["drs-source-server-inventory"][0]["PutRequest"]["Item"]
    assert item["lastSnapshot"] == {"S": ""}


def test_lb8_missing_source_fields_get_production_defaults(run_legacy: Run) -> None:
    sparse = {
        "sourceServerID": "s-0000000000000000e",
        "agentVersion": None,
        "stagingArea": None,
        "lifeCycle": None,
        "dataReplicationInfo": None,
        "sourceProperties": {
            "identificationHints": {"hostname": None, "fqdn": None},
            "cpus": [],
            "networkInterfaces": [],
            "disks": [],
            "ramBytes": None,
            "os": None,
        },
    }
    run = run_legacy(_one_region([{"drs": sparse}]))
    (item,) = run.tables["inventory"]
    assert {k: item[k] for k in item if k not in ("sourceServerArn", "sourceServerID", "lastUpdated")} == {
        "stagingAccountId": LAMBDA,
        "sourceAccountId": LAMBDA,
        "sourceRegion": "us-east-1",
        "hostname": "",
        "fqdn": "",
        "instanceId": "",
        "agentVersion": "",
        "replicationRegion": "us-east-1",
        "replicationState": "",
        "lagDuration": "",
        "lastSnapshot": "",
        "lastSeen": "",
        "cpuModel": "",
        "cpuCores": 0,
        "ramBytes": 0,
        "totalStorageBytes": 0,
        "osName": "",
        "primaryIp": "",
        "macAddress": "",
        "disks": [],
    }


def test_lb8_first_nic_with_empty_ips_is_counted_as_an_error(run_legacy: Run) -> None:
    """DEFECT: a server whose first NIC has no IP is not written at all."""
    nic = {"sourceProperties": {"networkInterfaces": [{"macAddress": "0e:00:00:00:00:09", "ips": []}]}}
    run = run_legacy(_one_region([{"drs": {"sourceServerID": "s-000000000000000a1", **nic}}], count=2))
    assert "Error writing s-000000000000000a1: list index out of range" in run.lines
    assert (run.body["totalSynced"], run.body["totalErrors"]) == (2, 1)
    assert "s-000000000000000a1" not in run.inventory()
    assert len(run.tables["inventory"]) == 2


def test_lb8_failing_flush_inside_put_item_loses_a_batch_counted_as_synced(run_legacy: Run) -> None:
    """DEFECT: the 25th put flushes, the flush fails: one error counted, 24 lost items counted as synced."""
    run = run_legacy(_one_region(count=30, faults=[_inventory_fault({"code": "ValidationException"}, "once")]))
    servers = run.servers(LAMBDA, "us-east-1")
    assert (run.body["totalSynced"], run.body["totalErrors"]) == (29, 1)
    assert (
        f"Error writing {servers[24]['sourceServerID']}: An error occurred (ValidationException) when calling the "
        "BatchWriteItem operation: One or more parameter values were invalid"
    ) in run.lines
    assert sorted(run.inventory()) == sorted(s["sourceServerID"] for s in servers[25:])
    assert [
        len(c.params["RequestItems"]["drs-source-server-inventory"])
        for c in run.select(table="inventory")
        if c.operation == "BatchWriteItem"
    ] == [25, 5]


def test_lb8_failing_final_flush_escapes_from_the_handler(run_legacy: Run) -> None:
    """DEFECT: an error on leaving the batch block is not caught; no response, the region cache stays warm."""
    run = run_legacy(_one_region(count=3, faults=[_inventory_fault({"code": "ValidationException"})]))
    assert isinstance(run.error, ClientError)
    assert run.error.response["Error"]["Code"] == "ValidationException"
    assert run.response is None
    assert run.tables["inventory"] == []
    assert not any(line.startswith("Inventory sync:") for line in run.lines)
    assert run.region_cache == ["us-east-1"]


def test_lb8_an_empty_key_fails_the_final_flush_and_escapes(run_legacy: Run) -> None:
    """DEFECT: a server without ``arn`` gets an empty hash key; DynamoDB rejects the whole batch."""
    run = run_legacy(_one_region([{"drs": {"arn": ""}}], count=1))
    assert isinstance(run.error, ClientError)
    assert run.error.response["Error"]["Code"] == "ValidationException"
    assert run.tables["inventory"] == []


def test_lb8_throttling_past_the_dynamodb_retries_escapes(run_legacy: Run) -> None:
    run = run_legacy(
        _one_region(count=2, faults=[_inventory_fault({"code": "ProvisionedThroughputExceededException"})])
    )
    assert isinstance(run.error, ClientError)
    assert run.error.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    (write,) = run.select("dynamodb", "BatchWriteItem", "inventory")
    # botocore 1.44 defaults to the "standard" retry mode, whose DynamoDB default is 4 attempts in all
    assert write.attempts == ["HTTP 400"] * 4


def test_lb8_unprocessed_items_are_resent_by_the_batch_writer(run_legacy: Run) -> None:
    run = run_legacy(_one_region(count=4, faults=[_inventory_fault({"kind": "unprocessed", "count": 2}, "once")]))
    writes = [c for c in run.select("dynamodb", "BatchWriteItem", "inventory")]
    assert [len(c.params["RequestItems"]["drs-source-server-inventory"]) for c in writes] == [4, 2]
    assert len(run.tables["inventory"]) == 4
    assert (run.body["totalSynced"], run.body["totalErrors"]) == (4, 0)


def test_lb8_first_nic_without_an_ips_key_syncs_with_an_empty_primary_ip(run_legacy: Run) -> None:
    """``nics[0].get("ips", [""])[0]``: only an *absent* key takes the default (a present empty list still fails)."""
    nic = {"sourceProperties": {"networkInterfaces": [{"macAddress": "0e:00:00:00:00:09", "isPrimary": True}]}}
    run = run_legacy(_one_region([{"drs": {"sourceServerID": "s-000000000000000a2", **nic}}]))
    item = run.inventory()["s-000000000000000a2"]
    assert (item["primaryIp"], item["macAddress"]) == ("", "0e:00:00:00:00:09")
    assert (run.body["totalSynced"], run.body["totalErrors"]) == (1, 0)
    assert not any(line.startswith("Error writing") for line in run.lines)


def test_lb8_a_present_empty_staging_account_is_kept_and_dynamodb_rejects_the_batch(run_legacy: Run) -> None:
    """``stagingArea.get("stagingAccountID", account)``: a present "" is the item's range key, which DynamoDB refuses.

    With one server the rejected batch is the final flush, so the error escapes (the LB-8 defect).
    """
    run = run_legacy(_one_region([{"drs": {"stagingArea": {"stagingAccountID": ""}}}]))
    (write,) = run.select("dynamodb", "BatchWriteItem", "inventory")
    item = write.params["RequestItems"]["drs-source-server-inventory"][0]["PutRequest"]["Item"]
    assert item["stagingAccountId"] == {"S": ""}
    assert isinstance(run.error, ClientError)
    assert run.error.response["Error"]["Code"] == "ValidationException"
    assert run.tables["inventory"] == []
