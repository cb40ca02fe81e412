"""LB-9: stale cleanup runs once, after the account loop, with whatever the last iteration left behind."""

from collections.abc import Callable
from typing import Any

from legacy_support import ACCOUNT_B, LAMBDA, LegacyRun, role_arn

Run = Callable[..., LegacyRun]

DENIED = {"kind": "error", "code": "AccessDenied"}


def _arn(account: str, server_id: str, region: str = "us-east-1") -> str:
    return f"arn:aws:drs:{region}:{account}:source-server/{server_id}"


def _row(account: str, server_id: str, region: str = "us-east-1", **extra: Any) -> dict[str, Any]:
    """An inventory record as an earlier sync would have written it."""
    return {
        "sourceServerArn": _arn(account, server_id, region),
        "stagingAccountId": account,
        "sourceAccountId": account,
        "sourceServerID": server_id,
        "replicationRegion": region,
        **extra,
    }


def _explicit(account: str, server_id: str, region: str) -> dict[str, Any]:
    return {"drs": {"sourceServerID": server_id, "arn": _arn(account, server_id, region)}}


def test_lb9_zero_accounts_raise_unbound_local_error(run_legacy: Run) -> None:
    """DEFECT: no response, and the region cache is left warm."""
    run = run_legacy({"tables": {"activeRegions": ["us-east-1"]}})
    assert isinstance(run.error, UnboundLocalError)
    assert "acct_id" in str(run.error)
    assert run.response is None
    assert run.region_cache == ["us-east-1"]
    assert "Region cache invalidated" not in run.out
    assert run.select("drs") == []
    assert run.select(table="inventory") == []


def test_lb9_every_account_skipped_raises_after_printing_the_cleanup_line(run_legacy: Run) -> None:
    """DEFECT: ``all_servers`` was never bound."""
    run = run_legacy(
        {
            "accounts": [{"accountId": ACCOUNT_B, "roleArn": role_arn(ACCOUNT_B), "assumeRole": DENIED}],
            "tables": {"activeRegions": ["us-east-1"], "inventory": [_row(ACCOUNT_B, "s-0000000000000000b")]},
        }
    )
    assert isinstance(run.error, UnboundLocalError)
    assert "all_servers" in str(run.error)
    assert run.lines[-1] == f"Cleaning up stale records for account {ACCOUNT_B}..."
    assert run.select(table="inventory") == []
    assert len(run.tables["inventory"]) == 1


def test_lb9_last_account_skipped_loses_all_its_records(run_legacy: Run) -> None:
    """DEFECT: the skipped last account is cleaned against the previous account's servers - every record goes."""
    b_rows = [_row(ACCOUNT_B, "s-000000000000000b1"), _row(ACCOUNT_B, "s-000000000000000b2", "eu-west-1")]
    run = run_legacy(
        {
            "accounts": [
                {"accountId": LAMBDA},
                {"accountId": ACCOUNT_B, "roleArn": role_arn(ACCOUNT_B), "assumeRole": DENIED},
            ],
            "tables": {"activeRegions": ["us-east-1"], "inventory": b_rows},
            "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 2, "ec2Instances": False}],
        }
    )
    assert f"Cleaning up stale records for account {ACCOUNT_B}..." in run.lines
    assert f"Deleted 2 stale records for account {ACCOUNT_B}" in run.lines
    assert run.body["staleRecordsDeleted"] == 2
    assert {item["sourceAccountId"] for item in run.tables["inventory"]} == {LAMBDA}
    assert len(run.tables["inventory"]) == 2


def test_lb9_records_of_a_throttled_region_are_deleted(run_legacy: Run) -> None:
    """DEFECT: a transient DRS fault in one region deletes that region's records."""
    eu = ["s-000000000000000e1", "s-000000000000000e2"]
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {
                "activeRegions": ["us-east-1", "eu-west-1"],
                "inventory": [_row(LAMBDA, sid, "eu-west-1") for sid in eu],
            },
            "servers": [
                {"account": LAMBDA, "region": "eu-west-1", "items": [_explicit(LAMBDA, s, "eu-west-1") for s in eu]},
                {"account": LAMBDA, "region": "us-east-1", "count": 1, "ec2Instances": False},
            ],
            "faults": [{"service": "drs", "region": "eu-west-1", "effect": {"code": "ThrottlingException"}}],
        }
    )
    assert run.region_rows()["eu-west-1"]["status"] == "THROTTLED"
    assert f"Deleted 2 stale records for account {LAMBDA}" in run.lines
    assert run.body["staleRecordsDeleted"] == 2
    assert not set(eu) & set(run.inventory())
    assert len(run.tables["inventory"]) == 1


def test_lb9_records_of_regions_not_scanned_are_deleted(run_legacy: Run) -> None:
    """DEFECT: an inactive region is not scanned, so its records count as stale."""
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {
                "activeRegions": ["us-east-1"],
                "inventory": [_row(LAMBDA, "s-000000000000000a5", "ap-south-1")],
            },
            "servers": [
                {
                    "account": LAMBDA,
                    "region": "ap-south-1",
                    "items": [_explicit(LAMBDA, "s-000000000000000a5", "ap-south-1")],
                }
            ],
        }
    )
    assert run.body["staleRecordsDeleted"] == 1
    assert run.tables["inventory"] == []


def test_lb9_only_the_last_account_is_cleaned(run_legacy: Run) -> None:
    """DEFECT: stale records of every account but the last survive."""
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}, {"accountId": ACCOUNT_B, "roleArn": role_arn(ACCOUNT_B)}],
            "tables": {
                "activeRegions": ["us-east-1"],
                "inventory": [_row(LAMBDA, "s-0000000000000a0a0"), _row(ACCOUNT_B, "s-0000000000000b0b0")],
            },
        }
    )
    assert run.lines[-4] == f"Cleaning up stale records for account {ACCOUNT_B}..."
    assert sorted(run.inventory()) == ["s-0000000000000a0a0"]
    (scan,) = run.select("dynamodb", "Scan", "inventory")
    assert scan.params == {
        "TableName": "drs-source-server-inventory",
        "FilterExpression": "sourceAccountId = :acct_id",
        "ExpressionAttributeValues": {":acct_id": {"S": ACCOUNT_B}},
    }
    (delete,) = run.select("dynamodb", "DeleteItem", "inventory")
    assert delete.params["Key"] == {
        "sourceServerArn": {"S": _arn(ACCOUNT_B, "s-0000000000000b0b0")},
        "stagingAccountId": {"S": ACCOUNT_B},
    }


def test_lb9_synced_keys_include_the_staging_account(run_legacy: Run) -> None:
    """A record of a synced server under another staging account does not match, so it is deleted."""
    sid = "s-000000000000000c1"
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {
                "activeRegions": ["us-east-1"],
                "inventory": [_row(LAMBDA, sid, stagingAccountId="999999999999")],
            },
            "servers": [{"account": LAMBDA, "region": "us-east-1", "items": [_explicit(LAMBDA, sid, "us-east-1")]}],
        }
    )
    assert run.body["staleRecordsDeleted"] == 1
    assert [(i["sourceServerID"], i["stagingAccountId"]) for i in run.tables["inventory"]] == [(sid, LAMBDA)]


def test_lb9_the_scan_follows_last_evaluated_key(run_legacy: Run) -> None:
    padding = "p" * 300_000
    rows = [_row(LAMBDA, f"s-00000000000000{n:03d}", padding=padding) for n in range(4)]
    run = run_legacy(
        {"accounts": [{"accountId": LAMBDA}], "tables": {"activeRegions": ["us-east-1"], "inventory": rows}}
    )
    scans = run.select("dynamodb", "Scan", "inventory")
    assert len(scans) == 2
    assert "ExclusiveStartKey" in scans[1].params
    assert run.body["staleRecordsDeleted"] == 4
    assert len(run.select("dynamodb", "DeleteItem", "inventory")) == 4
    assert run.tables["inventory"] == []


def test_lb9_delete_errors_are_printed_and_not_counted(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1"], "inventory": [_row(LAMBDA, "s-000000000000000d1")]},
            "faults": [{"service": "dynamodb", "operation": "DeleteItem", "effect": {"code": "ValidationException"}}],
        }
    )
    assert (
        "Error deleting stale record s-000000000000000d1: An error occurred (ValidationException) when calling the "
        "DeleteItem operation: One or more parameter values were invalid"
    ) in run.lines
    assert run.body["staleRecordsDeleted"] == 0
    assert not any(line.startswith("Deleted ") for line in run.lines)
    assert len(run.tables["inventory"]) == 1


def test_lb9_nothing_deleted_prints_no_deleted_line(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 2, "ec2Instances": False}],
        }
    )
    assert run.select("dynamodb", "DeleteItem") == []
    assert not any(line.startswith("Deleted ") for line in run.lines)


def test_lb9_synced_keys_keep_a_present_empty_staging_account(run_legacy: Run) -> None:
    """The synced key of a server whose ``stagingAccountID`` is "" is ``(arn, "")``, as its item's key is.

    Its item is rejected with the rest of its batch (25 puts: the flush runs inside the 25th ``put_item``, so one
    error is counted and the run goes on); its existing record, keyed by the account, no longer matches a synced
    key and is deleted as stale.
    """
    sid = "s-000000000000000e1"
    empty_staging = {"drs": {**_explicit(LAMBDA, sid, "us-east-1")["drs"], "stagingArea": {"stagingAccountID": ""}}}
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1"], "inventory": [_row(LAMBDA, sid)]},
            "servers": [
                {"account": LAMBDA, "region": "us-east-1", "items": [empty_staging], "count": 24, "ec2Instances": False}
            ],
        }
    )
    (write,) = run.select("dynamodb", "BatchWriteItem", "inventory")
    assert len(write.params["RequestItems"]["drs-source-server-inventory"]) == 25
    assert (run.body["totalSynced"], run.body["totalErrors"]) == (24, 1)
    (delete,) = run.select("dynamodb", "DeleteItem", "inventory")
    assert delete.params["Key"] == {"sourceServerArn": {"S": _arn(LAMBDA, sid)}, "stagingAccountId": {"S": LAMBDA}}
    assert run.body["staleRecordsDeleted"] == 1
    assert run.tables["inventory"] == []
