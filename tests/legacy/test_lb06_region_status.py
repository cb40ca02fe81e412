"""LB-6: region-status writes per account - the batch row, update_region_status, and which survives."""

from collections.abc import Callable

import pytest
from legacy_support import ACCOUNT_B, LAMBDA, LegacyRun, execute, role_arn, world_for

from lambda_shared.drs_regions import DRS_REGIONS

Run = Callable[..., LegacyRun]

BATCH_ROW_KEYS = {"region", "accountId", "status", "serverCount", "lastUpdated"}
SHARED_ROW_KEYS = {"region", "status", "serverCount", "lastChecked", "errorMessage"}


def _put_regions(run: LegacyRun) -> list[str]:
    """Regions of the update_region_status writes, in call order (= completion order of the region queries)."""
    return [c.params["Item"]["region"]["S"] for c in run.select("dynamodb", "PutItem", "regionStatus")]


def test_lb6_with_few_regions_the_batch_row_wins(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1", "eu-west-1", "ap-south-1"]},
            "servers": [{"account": LAMBDA, "region": "eu-west-1", "count": 2, "ec2Instances": False}],
            "faults": [{"service": "drs", "region": "ap-south-1", "effect": {"code": "AccessDeniedException"}}],
        }
    )
    rows = run.region_rows()
    assert rows["eu-west-1"] == {
        "region": "eu-west-1",
        "accountId": LAMBDA,
        "status": "ACTIVE",
        "serverCount": 2,
        "lastUpdated": "2026-01-15T12:00:00+00:00",
    }
    assert set(rows["us-east-1"]) == BATCH_ROW_KEYS
    assert set(rows["ap-south-1"]) == BATCH_ROW_KEYS | {"errorMessage"}
    assert rows["ap-south-1"]["status"] == "IAM_PERMISSION_DENIED"
    # update_region_status ran for each region before the batch was flushed on leaving the block
    assert len(_put_regions(run)) == 3
    status_calls = [c.operation for c in run.calls if c.table == "regionStatus" and c.operation != "Scan"]
    assert status_calls == ["PutItem", "PutItem", "PutItem", "BatchWriteItem"]


def test_lb6_batch_and_shared_writes_follow_completion_order(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1", "eu-west-1", "ap-south-1", "sa-east-1"]},
        }
    )
    (batch,) = run.select("dynamodb", "BatchWriteItem", "regionStatus")
    batch_regions = [w["PutRequest"]["Item"]["region"]["S"] for w in batch.params["RequestItems"]["drs-region-status"]]
    completion = _put_regions(run)
    assert sorted(completion) == sorted(["us-east-1", "eu-west-1", "ap-south-1", "sa-east-1"])
    # batch row and update_region_status are written region by region, in one (completion) order
    assert batch_regions == completion


def test_lb6_with_28_regions_the_25th_to_complete_keeps_the_update_region_status_row(run_legacy: Run) -> None:
    """Noise: which region keeps the shared helper's row depends on thread timing (the 25th to complete)."""
    run = run_legacy({"accounts": [{"accountId": LAMBDA}], "tables": {"activeRegions": "all"}})
    completion = _put_regions(run)
    assert sorted(completion) == sorted(DRS_REGIONS)
    batches = run.select("dynamodb", "BatchWriteItem", "regionStatus")
    assert [len(b.params["RequestItems"]["drs-region-status"]) for b in batches] == [25, 3]
    rows = run.region_rows()
    twenty_fifth = completion[24]
    assert set(rows[twenty_fifth]) == SHARED_ROW_KEYS
    assert rows[twenty_fifth]["status"] == "UNINITIALIZED"
    assert rows[twenty_fifth]["lastChecked"] == "2026-01-15T12:00:00Z"
    assert all(set(rows[region]) == BATCH_ROW_KEYS for region in DRS_REGIONS if region != twenty_fifth)


def test_lb6_last_account_wins_and_zero_servers_deactivate_a_region(capsys: pytest.CaptureFixture[str]) -> None:
    """DEFECT: the second account, without servers in eu-west-1, writes 0 there; the next run skips eu-west-1."""
    with world_for(
        {
            "accounts": [{"accountId": LAMBDA}, {"accountId": ACCOUNT_B, "roleArn": role_arn(ACCOUNT_B)}],
            "tables": {"activeRegions": ["us-east-1", "eu-west-1"]},
            "servers": [
                {"account": LAMBDA, "region": "eu-west-1", "count": 2, "ec2Instances": False},
                {"account": ACCOUNT_B, "region": "us-east-1", "count": 1, "ec2Instances": False},
            ],
        }
    ) as world:
        first = execute(world, capsys)
        scanned_accounts = [line.split()[1].rstrip(":") for line in first.lines if line.startswith("Account ")]
        last = scanned_accounts[-1]
        rows = first.region_rows()
        assert {row["accountId"] for row in rows.values()} == {last}
        empty_region = "eu-west-1" if last == ACCOUNT_B else "us-east-1"
        assert rows[empty_region]["serverCount"] == 0

        second = execute(world, capsys)
        assert second.body["regionsScanned"] == 1
        assert empty_region not in {c.region for c in second.select("drs")}


def test_lb6_a_throttled_region_writes_zero_and_drops_out_of_the_active_set(capsys: pytest.CaptureFixture[str]) -> None:
    """DEFECT: one throttled scan makes the region inactive for every later run."""
    with world_for(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1", "eu-west-1"]},
            "servers": [
                {"account": LAMBDA, "region": "eu-west-1", "count": 2, "ec2Instances": False},
                {"account": LAMBDA, "region": "us-east-1", "count": 1, "ec2Instances": False},
            ],
            "faults": [
                {
                    "service": "drs",
                    "region": "eu-west-1",
                    "effect": {"code": "ThrottlingException"},
                    "when": {"first": 2},
                }
            ],
        }
    ) as world:
        first = execute(world, capsys)
        row = first.region_rows()["eu-west-1"]
        assert (row["status"], row["serverCount"], row["errorMessage"]) == ("THROTTLED", 0, "API rate limit exceeded")

        second = execute(world, capsys)
        assert second.body["regionsScanned"] == 1
        assert {c.region for c in second.select("drs")} == {"us-east-1"}
