"""LB-1: table names come from the environment, read lazily; what each unset variable does."""

from collections.abc import Callable

import pytest
from legacy_support import LAMBDA, LegacyRun, execute, world_for

from lambda_shared.drs_regions import DRS_REGIONS
from lambda_shared.response_utils import response
from legacy import inventory_sync

Run = Callable[..., LegacyRun]


def test_lb1_inventory_table_unset_returns_500_before_any_aws_call(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 1}],
            "environment": {"SOURCE_SERVER_INVENTORY_TABLE": None},
        }
    )
    assert run.response == response(500, {"error": "SOURCE_SERVER_INVENTORY_TABLE not configured"})
    assert run.calls == []
    assert run.out == "Starting source server inventory sync...\n"


def test_lb1_target_accounts_table_unset_raises_attribute_error(run_legacy: Run) -> None:
    """DEFECT: a crash out of the handler, not a response."""
    run = run_legacy(
        {
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 1}],
            "environment": {"TARGET_ACCOUNTS_TABLE": None},
        }
    )
    assert isinstance(run.error, AttributeError)
    assert "'NoneType' object has no attribute 'scan'" in str(run.error)
    assert [(c.operation, c.table) for c in run.calls] == [("Scan", "regionStatus")]
    assert run.lines == [
        "Starting source server inventory sync...",
        "Active region filtering: scanning 1 regions (skipping 27 inactive)",
    ]
    assert run.tables["inventory"] == []


def test_lb1_region_status_table_unset_scans_all_regions_and_writes_no_status(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [{"account": LAMBDA, "region": "sa-east-1", "count": 2, "ec2Instances": False}],
            "environment": {"DRS_REGION_STATUS_TABLE": None},
        }
    )
    assert run.body["regionsScanned"] == 28
    assert run.body["regionsSkipped"] == 0
    assert sorted(c.region for c in run.select("drs")) == sorted(DRS_REGIONS)
    assert run.select(table="regionStatus") == []
    assert [row["region"] for row in run.tables["regionStatus"]] == ["us-east-1"]
    assert run.body["totalSynced"] == 2
    assert "Active region filtering: scanning 28 regions (skipping 0 inactive)" in run.lines


def test_lb1_inventory_key_schema_holds_arn_and_staging_account(run_legacy: Run) -> None:
    run = run_legacy(
        {"accounts": [{"accountId": LAMBDA}], "servers": [{"account": LAMBDA, "region": "eu-west-1", "count": 2}]}
    )
    servers = run.servers(LAMBDA, "eu-west-1")
    keys = {(item["sourceServerArn"], item["stagingAccountId"]) for item in run.tables["inventory"]}
    assert keys == {(s["arn"], s["stagingArea"]["stagingAccountID"]) for s in servers}


def test_lb1_environment_is_read_lazily_and_reset_between_worlds(capsys: pytest.CaptureFixture[str]) -> None:
    with world_for({"accounts": [{"accountId": LAMBDA}]}) as world:
        first = execute(world, capsys)
        assert first.response is not None and first.response["statusCode"] == 200
        assert inventory_sync._inventory_table is not None
        assert inventory_sync._target_accounts_table is not None
        assert inventory_sync._region_status_table is not None
    assert inventory_sync._inventory_table is None

    with world_for({"environment": {"SOURCE_SERVER_INVENTORY_TABLE": None}}) as world:
        second = execute(world, capsys)
    assert second.response is not None and second.response["statusCode"] == 500


def test_lb1_reset_state_forgets_every_lazy_table() -> None:
    with world_for({}):
        assert inventory_sync.get_inventory_table().name == "drs-source-server-inventory"
        assert inventory_sync.get_target_accounts_table().name == "drs-target-accounts"
        assert inventory_sync.get_region_status_table().name == "drs-region-status"
        inventory_sync.reset_state()
        assert inventory_sync._dynamodb is None
        assert inventory_sync._inventory_table is None
        assert inventory_sync._target_accounts_table is None
        assert inventory_sync._region_status_table is None
