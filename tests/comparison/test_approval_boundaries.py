"""Every approval covers exactly what its reason explains: in the very scenario where it approves the refactor, a
candidate that differs once more, in a way the reason does not explain, is divergent.

Each candidate is the refactor with one unexplained change: an extra write, an extra read, a wrong status row
before legacy's crash, a deleted record whose server exists, a wrong item after legacy's crash, a different message.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import boto3
import pytest

import refactored.region_status as region_status_module
from harness.engine.approvals import Approval
from harness.engine.model import APPROVED_DIVERGENCE, DIVERGENT
from harness.engine.observe import Implementation
from harness.engine.runner import run_scenario
from harness.scenario import Scenario
from lambda_shared.active_region_filter import update_region_status
from refactored.inventory_sync import handle_sync_source_server_inventory_refactored
from tests.comparison.conftest import BaselinePair
from tests.comparison.mutants import _replaced, intercept_calls

Handler = Callable[[], Any]


def _inventory() -> Any:
    return boto3.resource("dynamodb").Table(os.environ["SOURCE_SERVER_INVENTORY_TABLE"])


def extra_status_write() -> Any:
    """The refactor, then one more region-status put."""
    answer = handle_sync_source_server_inventory_refactored()
    update_region_status("us-east-1", 7)
    return answer


def extra_drs_read() -> Any:
    """One more ``DescribeSourceServers`` with the Lambda's credentials, then the refactor."""
    boto3.client("drs", region_name="us-east-1").describe_source_servers(maxResults=1)
    return handle_sync_source_server_inventory_refactored()


def renamed_message() -> Any:
    """The refactor, answering a different success message."""
    answer = handle_sync_source_server_inventory_refactored()
    return {**answer, "body": answer["body"].replace("sync complete", "sync completed")}


def deletes_a_live_record() -> Any:
    """The refactor, then one more delete: a primed record of 222222222222's, whose server exists."""
    answer = handle_sync_source_server_inventory_refactored()
    live = [r for r in _inventory().scan()["Items"] if r["stagingAccountId"] == "222222222222"]
    live = [r for r in live if not str(r.get("hostname", "")).startswith("decommissioned")]
    _inventory().delete_item(Key={k: live[0][k] for k in ("sourceServerArn", "stagingAccountId")})
    return answer


def wrong_status_before_the_crash() -> Any:
    """The refactor, with 222222222222's batched status rows (written before legacy's crash) saying THROTTLED."""
    original = region_status_module._region_status_item

    def throttled(account_id: str, scan: Any, timestamp: str) -> dict[str, Any]:
        item = original(account_id, scan, timestamp)
        return {**item, "status": "THROTTLED"} if account_id == "222222222222" else item

    with _replaced(region_status_module, "_region_status_item", throttled):
        return handle_sync_source_server_inventory_refactored()


def wrong_item_after_the_crash() -> Any:
    """The refactor, with the items of 333333333333 (the account legacy never reached) given another hostname."""

    def rename(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation != "BatchWriteItem":
            return params
        requests = {table: [_renamed(r) for r in writes] for table, writes in params["RequestItems"].items()}
        return {**params, "RequestItems": requests}

    with intercept_calls(request=rename):
        return handle_sync_source_server_inventory_refactored()


def _renamed(request: dict[str, Any]) -> dict[str, Any]:
    """The write with another hostname when it is an item of 333333333333 (plain values, as the table resource takes
    them, or DynamoDB's attribute values, as the refactor sends them with the low-level client)."""
    item = (request.get("PutRequest") or {}).get("Item") or {}
    staging = item.get("stagingAccountId")
    wire = isinstance(staging, dict)
    if (staging.get("S") if wire else staging) != "333333333333":
        return request
    return {"PutRequest": {"Item": {**item, "hostname": {"S": "renamed"} if wire else "renamed"}}}


#: approval -> (scenario it approves the refactor in, unexplained candidates there).
BOUNDARIES: dict[str, tuple[str, tuple[Handler, ...]]] = {
    "AD-1": ("zero-target-accounts", (extra_status_write, extra_drs_read, renamed_message)),
    "AD-2": (
        "cross-origin-records-kept-when-the-holding-account-is-throttled",
        (deletes_a_live_record, extra_status_write, extra_drs_read),
    ),
    "AD-3": (
        "inventory-write-crash-before-later-accounts",
        (wrong_status_before_the_crash, wrong_item_after_the_crash, deletes_a_live_record, extra_drs_read),
    ),
    "AD-4": ("target-accounts-table-variable-unset", (extra_drs_read, extra_status_write)),
}
CASES = [(approval, candidate) for approval, (_, candidates) in BOUNDARIES.items() for candidate in candidates]


@pytest.mark.parametrize("approval", sorted(BOUNDARIES))
def test_the_approval_approves_the_refactor_in_its_scenario(
    approval: str,
    scenario_library: dict[str, Scenario],
    baselines: Callable[..., BaselinePair],
    approvals: dict[str, Approval],
) -> None:
    scenario = scenario_library[BOUNDARIES[approval][0]]
    result = run_scenario(scenario, "legacy", "refactored", approvals, baselines=baselines(scenario))
    assert result.status == APPROVED_DIVERGENCE, result.explain()
    assert any(use.id == approval and use.covered for use in result.approvals), result.explain()


@pytest.mark.parametrize(("approval", "candidate"), CASES, ids=[f"{a}-{c.__name__}" for a, c in CASES])
def test_an_unexplained_difference_in_the_same_scenario_is_divergent(
    approval: str,
    candidate: Handler,
    scenario_library: dict[str, Scenario],
    baselines: Callable[..., BaselinePair],
    approvals: dict[str, Approval],
) -> None:
    scenario = scenario_library[BOUNDARIES[approval][0]]
    implementation = Implementation(f"tests:{candidate.__name__}", candidate)
    result = run_scenario(scenario, "legacy", implementation, approvals, baselines=baselines(scenario))
    assert result.status == DIVERGENT and result.unapproved, result.explain()
