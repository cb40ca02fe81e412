"""LB-3: the order of work, the progress prints and the single un-paginated target-accounts scan."""

from collections.abc import Callable

import pytest
from legacy_support import ACCOUNT_B, ACCOUNT_C, ACCOUNT_D, LAMBDA, LegacyRun, execute, role_arn, world_for

from legacy import inventory_sync

Run = Callable[..., LegacyRun]

TWO_ACCOUNTS = {
    "accounts": [{"accountId": LAMBDA}, {"accountId": ACCOUNT_B, "roleArn": role_arn(ACCOUNT_B), "externalId": "ext"}],
    "tables": {"activeRegions": ["us-east-1", "eu-west-1"]},
    "servers": [
        {"account": LAMBDA, "region": "us-east-1", "count": 2},
        {"account": ACCOUNT_B, "region": "eu-west-1", "count": 3},
    ],
}


def test_lb3_prints_progress_in_production_order(run_legacy: Run) -> None:
    run = run_legacy(TWO_ACCOUNTS)
    assert run.lines == [
        "Starting source server inventory sync...",
        "Active region filtering: scanning 2 regions (skipping 26 inactive)",
        f"Account {LAMBDA}: found 2 source servers",
        f"Account {ACCOUNT_B}: found 3 source servers",
        f"Cleaning up stale records for account {ACCOUNT_B}...",
        "Inventory sync: 5 synced, 0 errors, 0 stale deleted, 2 regions scanned",
        "Region cache invalidated",
    ]


def test_lb3_work_is_sequential_per_account_then_one_cleanup(run_legacy: Run) -> None:
    run = run_legacy(TWO_ACCOUNTS)
    steps: list[str] = []
    for call in run.calls:
        step = f"{call.service}:{call.operation}" + (f":{call.table}" if call.table else "")
        if call.service == "drs":
            step = f"drs:{call.account}"
        if not steps or steps[-1] != step:
            steps.append(step)
    assert steps == [
        "dynamodb:Scan:regionStatus",
        "dynamodb:Scan:targetAccounts",
        # first account: own credentials
        "sts:GetCallerIdentity",
        f"drs:{LAMBDA}",
        "dynamodb:PutItem:regionStatus",
        "dynamodb:BatchWriteItem:regionStatus",
        "sts:GetCallerIdentity",
        "ec2:DescribeInstances",
        "dynamodb:BatchWriteItem:inventory",
        # second account: assumed role
        "sts:GetCallerIdentity",
        "sts:AssumeRole",
        f"drs:{ACCOUNT_B}",
        "dynamodb:PutItem:regionStatus",
        "dynamodb:BatchWriteItem:regionStatus",
        "sts:GetCallerIdentity",
        "dynamodb:GetItem:targetAccounts",
        "sts:AssumeRole",
        "ec2:DescribeInstances",
        "dynamodb:BatchWriteItem:inventory",
        # once, after the loop
        "dynamodb:Scan:inventory",
    ]


def test_lb3_target_accounts_scan_is_single_and_unpaginated(run_legacy: Run) -> None:
    """DEFECT: accounts past the first 1 MB page of the scan are never synced."""
    padding = "p" * 300_000
    accounts = [
        {"accountId": account, "roleArn": role_arn(account), "padding": padding}
        for account in (ACCOUNT_B, ACCOUNT_C, ACCOUNT_D, "999999999999")
    ]
    run = run_legacy({"accounts": accounts, "tables": {"activeRegions": ["us-east-1"]}})
    (scan,) = run.select("dynamodb", "Scan", "targetAccounts")
    assert scan.params == {"TableName": "drs-target-accounts"}
    assumed = {c.params["RoleArn"] for c in run.select("sts", "AssumeRole")}
    assert len(assumed) == 3
    assert len(assumed) < len(accounts)
    assert len(run.select("sts", "GetCallerIdentity")) == 3


def test_lb3_accounts_are_queried_in_scan_order(capsys: pytest.CaptureFixture[str]) -> None:
    accounts = [{"accountId": a, "roleArn": role_arn(a)} for a in (ACCOUNT_D, ACCOUNT_B, ACCOUNT_C, "999999999999")]
    with world_for({"accounts": accounts, "tables": {"activeRegions": ["us-east-1"]}}) as world:
        run = execute(world, capsys)
        raw = world.session(LAMBDA).client("dynamodb").scan(TableName="drs-target-accounts")["Items"]
        scan_order = [item["accountId"]["S"] for item in raw]
        found = [line.split(":")[0].removeprefix("Account ") for line in run.lines if line.startswith("Account ")]
        assumed = [c.params["RoleArn"].split(":")[4] for c in run.select("sts", "AssumeRole")]
        assert found == scan_order
        assert assumed == scan_order


def test_lb3_empty_active_region_list_scans_all_regions(run_legacy: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """The branch the shared helper's own fallback makes unreachable; forced by patching the helper to []."""
    monkeypatch.setattr(inventory_sync, "get_active_regions", lambda: [])
    run = run_legacy({"accounts": [{"accountId": LAMBDA}]})
    assert run.lines[1] == "Region status table empty, scanning all regions to populate"
    assert len(run.select("drs")) == 28
    assert run.body["regionsScanned"] == 28
