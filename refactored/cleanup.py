"""Stale inventory records: deleted only where this run proves them stale.

Spec points: LB-9 (legacy's filtered scan following ``LastEvaluatedKey``, its synced keys, one ``DeleteItem`` per
record; its defects are what AD-2 replaces). Approvals: AD-2 (after every account was written, per processed account,
only records of regions that account scanned successfully and whose key no account found this run; with several
accounts one ``IN`` scan per 100 accounts).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

from lambda_shared.dynamodb_tables import get_source_server_inventory_table
from refactored.model import AccountSync

logger = logging.getLogger(__name__)

#: Most operands DynamoDB accepts in one ``IN`` comparison (the cleanup scan selects up to this many accounts).
MAX_IN_OPERANDS = 100
#: Attributes the cleanup reads of a record, when one scan selects several accounts.
CLEANUP_PROJECTION = "sourceServerArn, stagingAccountId, sourceAccountId, replicationRegion, sourceServerID"


def _cleanup_filter(account_ids: list[str]) -> dict[str, Any]:
    """The scan selecting the records of some accounts: legacy's own request for one account; for several, one
    filter for all of them, reading only the attributes the cleanup uses."""
    if len(account_ids) == 1:
        return {
            "FilterExpression": "sourceAccountId = :acct_id",
            "ExpressionAttributeValues": {":acct_id": account_ids[0]},
        }
    values = {f":acct_{index}": account_id for index, account_id in enumerate(account_ids)}
    return {
        "FilterExpression": f"sourceAccountId IN ({', '.join(values)})",
        "ExpressionAttributeValues": values,
        "ProjectionExpression": CLEANUP_PROJECTION,
    }


def _records_of(account_ids: list[str], table: Any) -> Iterator[dict[str, Any]]:
    """Every inventory record of the accounts: one filtered scan (per 100 accounts), following ``LastEvaluatedKey``."""
    for start in range(0, len(account_ids), MAX_IN_OPERANDS):
        scan_kwargs = _cleanup_filter(account_ids[start : start + MAX_IN_OPERANDS])
        while True:
            page = table.scan(**scan_kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                break
            scan_kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def synced_keys(synced: AccountSync) -> set[tuple[str, str]]:
    """The inventory keys of every server an account found this run, built as legacy builds them (LB-9).

    Servers whose item could not be built or written count too: their existing record is not stale.
    """
    return {
        (found.server.get("arn", ""), found.server.get("stagingArea", {}).get("stagingAccountID", found.account_id))
        for found in synced.servers
    }


def _is_stale(record: dict[str, Any], regions: dict[str, set[str]], keep: set[tuple[str, str]]) -> bool:
    """Whether a record's region was scanned successfully for its account and its server was not found (AD-2)."""
    region = record.get("replicationRegion")
    scanned = regions.get(record.get("sourceAccountId"), set())
    key = (record.get("sourceServerArn"), record.get("stagingAccountId"))
    return isinstance(region, str) and region in scanned and key not in keep


def delete_stale_records(results: list[AccountSync]) -> int:
    """Delete the processed accounts' records whose server was not found this run, in regions scanned successfully.

    AD-2: per processed account (never a skipped one), a record is deleted only when its ``replicationRegion`` was
    scanned successfully (``ACTIVE`` or ``NOT_INITIALIZED``) for that account in this run and its key is not among
    the keys of the servers found this run (by any account). The records are listed with legacy's filtered scan
    (``sourceAccountId = :acct_id``, following ``LastEvaluatedKey``); with several accounts one scan selects them
    all (``sourceAccountId IN (...)``), so the table is read once rather than once per account.

    Args:
        results: The processed accounts, in account order.

    Returns:
        How many records were deleted (delete failures are logged).

    Raises:
        ClientError: The scan failed (as legacy's does).
    """
    if not results:
        return 0
    keep: set[tuple[str, str]] = set().union(*(synced_keys(result) for result in results))
    regions = {result.account_id: {scan.region for scan in result.scans if scan.succeeded} for result in results}
    table = get_source_server_inventory_table()
    logger.info("Cleaning up stale records", extra={"accountIds": list(regions)})
    deleted: Counter[str] = Counter()
    for record in _records_of(list(regions), table):
        if not _is_stale(record, regions, keep):
            continue
        try:
            table.delete_item(
                Key={"sourceServerArn": record["sourceServerArn"], "stagingAccountId": record["stagingAccountId"]}
            )
            deleted[record["sourceAccountId"]] += 1
        except Exception as e:
            record_id = record.get("sourceServerID", "?")
            logger.error(
                f"Error deleting stale record {record_id}: {e}", extra={"accountId": record["sourceAccountId"]}
            )
    for account_id, count in deleted.items():
        logger.info(f"Deleted {count} stale records for account {account_id}", extra={"accountId": account_id})
    return sum(deleted.values())
