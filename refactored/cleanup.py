"""Stale inventory records: a record is deleted only when this run proved its server gone.

The rule (AD-2; ``docs/design-deviations.md`` says the same and why): after every account was written, a record may
be deleted only when all four hold, and anything less keeps it:

1. **Whose DRS holds it.** The record's ``sourceServerArn`` parses as a DRS source-server ARN,
   ``arn:<partition>:drs:<region>:<account>:source-server/<id>``, which names the account and region whose DRS holds
   the server, and the record's ``replicationRegion`` is that region. A record that does not say consistently where
   its server lives proves nothing and is kept. (Not its ``sourceAccountId``: that is the server's origin, and the
   servers of an origin account usually live in another account's DRS.)
2. **Asked with that account's own credentials.** This run queried DRS in that region with credentials STS says
   belong to that account: the Lambda's own (``GetCallerIdentity``) or an assumed role (``AssumedRoleUser.Arn``),
   never what a target row claims. A row without ``roleArn`` is queried with the Lambda's own credentials (LB-4),
   so it proves things about the Lambda's account, not its own; a ``roleArn`` of another account proves things
   about that other account.
3. **Answered completely.** Every page of that region's ``DescribeSourceServers`` succeeded and was well-formed
   (a mapping with an ``items`` list). The region's status is legacy's and is no proof: ``NOT_INITIALIZED`` also
   follows earlier pages that were discarded and any error whose text says "not initialized"; a malformed page reads
   as ``ACTIVE``.
4. **Reported by nobody.** No account reported a server with the record's ARN on any page this run (pages a later
   failure discarded included). The ARN, not the whole key: it is the server's identity, while the key's
   ``stagingAccountId`` depends on which account found it (LB-8's fallback), so a server found under another key
   still exists.

Which records are considered: those whose ``sourceAccountId`` is one of the target accounts read this run, skipped
ones included (legacy considers the last row's account even when it was skipped; since the proof comes from the
account that holds the server, a skipped origin account proves nothing either way). They are listed with legacy's
scan (``sourceAccountId = :acct_id``, following ``LastEvaluatedKey``); several accounts share one ``IN`` scan per 100
accounts. Nothing is scanned when no account was processed.

Spec points: LB-9 (legacy's filtered scan, one ``DeleteItem`` per record; its defects are what AD-2 replaces).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from lambda_shared.dynamodb_tables import get_source_server_inventory_table
from refactored.model import AccountSync

logger = logging.getLogger(__name__)

#: Most operands DynamoDB accepts in one ``IN`` comparison (the cleanup scan selects up to this many accounts).
MAX_IN_OPERANDS = 100
#: Attributes the cleanup reads of a record, when one scan selects several accounts.
CLEANUP_PROJECTION = "sourceServerArn, stagingAccountId, sourceAccountId, replicationRegion, sourceServerID"
#: A DRS source-server ARN: the region and account whose DRS holds the server.
SOURCE_SERVER_ARN = re.compile(r"arn:[a-z0-9-]+:drs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):source-server/.+")

#: (account, region) of a DRS.
Place = tuple[str, str]


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


def holder_of(record: dict[str, Any]) -> Place | None:
    """Rule 1: the (account, region) whose DRS holds a record's server, or ``None`` when the record does not say so
    consistently (its ARN is no DRS source-server ARN, or its ``replicationRegion`` is another region)."""
    arn = record.get("sourceServerArn")
    match = SOURCE_SERVER_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None or record.get("replicationRegion") != match["region"]:
        return None
    return match["account"], match["region"]


def proven_places(results: Iterable[AccountSync]) -> set[Place]:
    """Rules 2 and 3: the DRS (account, region) pairs this run read completely with that account's own credentials."""
    return {
        (result.identity, scan.region)
        for result in results
        if result.identity
        for scan in result.scans
        if scan.complete
    }


def reported_arns(results: Iterable[AccountSync]) -> set[str]:
    """Rule 4: the ARN of every server any account reported this run, on any page."""
    return {arn for result in results for scan in result.scans for arn in scan.reported_arns}


def is_proven_stale(record: dict[str, Any], proven: set[Place], reported: set[str]) -> bool:
    """Whether this run proved a record's server gone (all four rules of the module docstring)."""
    holder = holder_of(record)
    return holder is not None and holder in proven and record["sourceServerArn"] not in reported


def delete_stale_records(results: list[AccountSync], account_ids: list[str] | None = None) -> int:
    """Delete the records this run proved stale (the rule of the module docstring); keep every other.

    Args:
        results: The processed accounts, in account order.
        account_ids: The target accounts read this run (processed or skipped), whose records are considered;
            ``None`` means the processed ones.

    Returns:
        How many records were deleted (delete failures are logged).

    Raises:
        ClientError: The scan failed (as legacy's does).
    """
    if not results:
        return 0
    considered = list(dict.fromkeys(account_ids if account_ids is not None else [r.account_id for r in results]))
    proven, reported = proven_places(results), reported_arns(results)
    table = get_source_server_inventory_table()
    logger.info("Cleaning up stale records", extra={"accountIds": considered, "provenRegions": sorted(proven)})
    deleted: Counter[str] = Counter()
    for record in _records_of(considered, table):
        if not is_proven_stale(record, proven, reported):
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
