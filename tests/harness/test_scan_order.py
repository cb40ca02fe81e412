"""A simulated table's Scan comes back in DynamoDB's order, by the hash of the partition key, and pages in it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from harness.scenario.model import TABLES
from harness.world.scan_order import key_hash, scan_order

ACCOUNTS = [f"{digit}" * 12 for digit in "98765432"]
SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def _scan(table: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a Scan, following LastEvaluatedKey."""
    resource = boto3.resource("dynamodb").Table(TABLES[table][1])
    items: list[dict[str, Any]] = []
    while True:
        page = resource.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_the_order_is_the_md5_of_the_key_not_the_listing_nor_the_id() -> None:
    assert key_hash("S", "abc") == hashlib.md5(b"abc").digest()  # noqa: S324 - an ordering, not security
    assert key_hash("N", 12) == hashlib.md5(b"12").digest()  # noqa: S324
    assert key_hash("B", "AAE=") == key_hash("B", b"\x00\x01")
    order = scan_order(ACCOUNTS)
    assert sorted(order) == sorted(ACCOUNTS) and order not in (ACCOUNTS, sorted(ACCOUNTS))
    assert scan_order(reversed(ACCOUNTS)) == order


@pytest.mark.parametrize("limit", [None, 1, 3])
def test_the_target_accounts_scan_follows_the_key_hash_on_every_page(world_factory: Any, limit: int | None) -> None:
    world_factory({"name": "order", "accounts": [{"accountId": account} for account in ACCOUNTS]})
    kwargs = {"Limit": limit} if limit else {}
    assert [item["accountId"] for item in _scan("targetAccounts", **kwargs)] == scan_order(ACCOUNTS)


def test_items_sharing_a_partition_key_come_in_sort_key_order_and_query_pages_both_ways(world_factory: Any) -> None:
    rows = [
        {"sourceServerArn": arn, "stagingAccountId": staging}
        for arn in ("arn:b", "arn:a", "arn:c")
        for staging in ("333333333333", "222222222222")
    ]
    world_factory({"name": "order", "tables": {"inventory": rows}})
    expected = sorted(
        ((item["sourceServerArn"], item["stagingAccountId"]) for item in rows),
        key=lambda key: (hashlib.md5(key[0].encode()).digest(), key[1]),  # noqa: S324
    )
    scanned = [(i["sourceServerArn"], i["stagingAccountId"]) for i in _scan("inventory", Limit=2)]
    assert scanned == expected
    table = boto3.resource("dynamodb").Table(TABLES["inventory"][1])
    for forward in (True, False):
        query = {"KeyConditionExpression": "sourceServerArn = :a", "ExpressionAttributeValues": {":a": "arn:a"}}
        first = table.query(Limit=1, ScanIndexForward=forward, **query)
        rest = table.query(ExclusiveStartKey=first["LastEvaluatedKey"], ScanIndexForward=forward, **query)
        stagings = [item["stagingAccountId"] for item in first["Items"] + rest["Items"]]
        assert stagings == sorted(stagings, reverse=not forward)


def test_the_shipped_scenarios_list_their_accounts_in_scan_order() -> None:
    """So that the last account listed is the last one scanned (docs/scenario-format.md, Scan order)."""
    out_of_order = {}
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        listed = [account["accountId"] for account in yaml.safe_load(path.read_text()).get("accounts", [])]
        if listed != scan_order(listed):
            out_of_order[path.name] = scan_order(listed)
    assert out_of_order == {}
