"""LB-2: the shared-layer helpers the legacy sync relies on, as seen through its runs."""

from collections.abc import Callable

import pytest
from legacy_support import ACCOUNT_B, LAMBDA, LegacyRun, execute, role_arn, world_for

from lambda_shared.drs_regions import DRS_REGIONS
from lambda_shared.response_utils import RESPONSE_HEADERS

Run = Callable[..., LegacyRun]


def test_lb2_response_carries_the_six_shared_headers(run_legacy: Run) -> None:
    run = run_legacy({"accounts": [{"accountId": LAMBDA}]})
    assert run.response is not None
    assert run.response["statusCode"] == 200
    assert run.response["headers"] == RESPONSE_HEADERS
    assert len(RESPONSE_HEADERS) == 6


def test_lb2_drs_regions_are_the_28_in_production_order() -> None:
    assert len(DRS_REGIONS) == 28
    assert DRS_REGIONS[:4] == ["us-east-1", "us-east-2", "us-west-1", "us-west-2"]
    assert DRS_REGIONS[-4:] == ["af-south-1", "il-central-1", "ca-central-1", "sa-east-1"]


def test_lb2_only_regions_with_servers_in_the_status_table_are_scanned(run_legacy: Run) -> None:
    rows = [
        {"region": "eu-west-1", "serverCount": 3},
        {"region": "ap-south-1", "serverCount": 0, "status": "UNINITIALIZED"},
        {"region": "ca-central-1", "serverCount": 1},
    ]
    run = run_legacy({"accounts": [{"accountId": LAMBDA}], "tables": {"regionStatus": rows}})
    assert sorted(c.region for c in run.select("drs")) == ["ca-central-1", "eu-west-1"]
    assert run.body["regionsScanned"] == 2
    assert run.body["regionsSkipped"] == 26


def test_lb2_no_active_row_falls_back_to_all_28_regions(run_legacy: Run) -> None:
    rows = [{"region": "eu-west-1", "serverCount": 0}]
    run = run_legacy({"accounts": [{"accountId": LAMBDA}], "tables": {"regionStatus": rows}})
    assert len(run.select("drs")) == 28
    assert "Active region filtering: scanning 28 regions (skipping 0 inactive)" in run.lines


def test_lb2_current_account_is_asked_per_account_and_per_ec2_group(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}, {"accountId": ACCOUNT_B, "roleArn": role_arn(ACCOUNT_B)}],
            "tables": {"activeRegions": ["us-east-1", "eu-west-1"]},
            "servers": [
                {"account": LAMBDA, "region": "us-east-1", "count": 1},
                {"account": LAMBDA, "region": "eu-west-1", "count": 1},
                {"account": ACCOUNT_B, "region": "eu-west-1", "count": 1},
            ],
        }
    )
    # 2 accounts + 2 EC2 groups of the first account + 1 EC2 group of the second
    assert len(run.select("sts", "GetCallerIdentity")) == 5


def test_lb2_unknown_current_account_makes_the_own_account_assume_its_role(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA, "roleArn": role_arn(LAMBDA)}],
            "tables": {"activeRegions": ["us-east-1"]},
            "faults": [{"service": "sts", "operation": "GetCallerIdentity", "effect": {"code": "InternalFailure"}}],
        }
    )
    assert run.lines[2].startswith("Error getting account ID: An error occurred (InternalFailure)")
    assert [c.params["RoleSessionName"] for c in run.select("sts", "AssumeRole")] == ["inventory-sync"]
    assert run.body["totalSynced"] == 0


def test_lb2_region_status_rows_come_from_update_region_status_and_the_batch(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1", "eu-west-1"]},
            "servers": [{"account": LAMBDA, "region": "eu-west-1", "count": 2}],
        }
    )
    shared_writes = {c.params["Item"]["region"]["S"]: c.params["Item"] for c in run.select("dynamodb", "PutItem")}
    assert shared_writes["eu-west-1"]["status"] == {"S": "AVAILABLE"}
    assert shared_writes["eu-west-1"]["serverCount"] == {"N": "2"}
    assert shared_writes["us-east-1"]["status"] == {"S": "UNINITIALIZED"}
    assert shared_writes["us-east-1"]["errorMessage"] == {"NULL": True}
    assert shared_writes["us-east-1"]["lastChecked"] == {"S": "2026-01-15T12:00:00Z"}


def test_lb2_region_cache_is_invalidated_so_the_next_run_scans_again(capsys: pytest.CaptureFixture[str]) -> None:
    with world_for({"accounts": [{"accountId": LAMBDA}], "tables": {"activeRegions": ["us-east-1"]}}) as world:
        first = execute(world, capsys)
        second = execute(world, capsys)
        assert first.region_cache is None
        assert first.lines[-1] == "Region cache invalidated"
        assert len(first.select(operation="Scan", table="regionStatus")) == 1
        assert len(second.select(operation="Scan", table="regionStatus")) == 1
