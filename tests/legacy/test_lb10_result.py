"""LB-10: the result body, the summary line and the order of the last steps."""

import logging
from collections.abc import Callable

import pytest
from legacy_support import ACCOUNT_B, LAMBDA, LegacyRun, role_arn

from lambda_shared.response_utils import response

Run = Callable[..., LegacyRun]


def test_lb10_result_body_counts_and_summary_line(run_legacy: Run) -> None:
    stale = {
        "sourceServerArn": f"arn:aws:drs:us-east-1:{ACCOUNT_B}:source-server/s-00000000000000f00",
        "stagingAccountId": ACCOUNT_B,
        "sourceAccountId": ACCOUNT_B,
        "sourceServerID": "s-00000000000000f00",
    }
    nic = {"sourceProperties": {"networkInterfaces": [{"macAddress": "0e:00:00:00:00:09", "ips": []}]}}
    run = run_legacy(
        {
            "clock": "2026-02-01T08:30:00Z",
            "accounts": [{"accountId": LAMBDA}, {"accountId": ACCOUNT_B, "roleArn": role_arn(ACCOUNT_B)}],
            "tables": {"activeRegions": ["us-east-1", "eu-west-1", "ap-south-1"], "inventory": [stale]},
            "servers": [
                {"account": LAMBDA, "region": "us-east-1", "count": 2, "ec2Instances": False},
                {
                    "account": ACCOUNT_B,
                    "region": "eu-west-1",
                    "count": 1,
                    "items": [{"drs": nic}],
                    "ec2Instances": False,
                },
            ],
        }
    )
    expected_body = {
        "message": "Source server inventory sync complete",
        "totalSynced": 3,
        "totalErrors": 1,
        "staleRecordsDeleted": 1,
        "regionsScanned": 3,
        "regionsSkipped": 25,
        "timestamp": "2026-02-01T08:30:00+00:00",
    }
    assert run.response == response(200, expected_body)
    assert list(run.body) == list(expected_body)
    assert run.lines[-3:] == [
        f"Deleted 1 stale records for account {ACCOUNT_B}",
        "Inventory sync: 3 synced, 1 errors, 1 stale deleted, 3 regions scanned",
        "Region cache invalidated",
    ]
    assert {item["lastUpdated"] for item in run.tables["inventory"]} == {"2026-02-01T08:30:00+00:00"}
    assert run.region_cache is None


def test_lb10_output_goes_through_print_not_logging(run_legacy: Run, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    run = run_legacy({"accounts": [{"accountId": LAMBDA}], "tables": {"activeRegions": ["us-east-1"]}})
    assert run.lines[0] == "Starting source server inventory sync..."
    assert "Inventory sync: 0 synced, 0 errors, 0 stale deleted, 1 regions scanned" in run.lines
    assert not [r for r in caplog.records if r.name.startswith("legacy")]
