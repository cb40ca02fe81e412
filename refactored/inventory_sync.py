"""The source-server inventory sync, decomposed into the design's seven focused functions and an orchestrator.

Behaviour follows the legacy handler (``specs/legacy-inventory-sync.md`` LB-1..LB-10) call for call, except for the
four approved divergences AD-1..AD-4 (``harness/approvals.yaml``; interpretations in ``docs/design-deviations.md``).
One module per concern, each naming the spec points and approvals it carries:

* :mod:`refactored.accounts` - the accounts to sync and their credentials (LB-3, LB-4; AD-4).
* :mod:`refactored.drs` - DRS in every active region (LB-5), then :mod:`refactored.region_status` (LB-6).
* :mod:`refactored.ec2` - EC2 enrichment (LB-7).
* :mod:`refactored.inventory` - inventory items and writes (LB-8; AD-3).
* :mod:`refactored.cleanup` - stale records (LB-9; AD-2).
* :mod:`refactored.model` - what the steps pass between them.
* This module - the orchestrator: configuration, the order of work and the result (LB-1, LB-3, LB-10; AD-1 zero
  accounts answer 200 with zero counts, AD-4 an unset table variable answers 500 naming it).

The seven design functions are importable from here (``from refactored.inventory_sync import
query_drs_all_regions``), with the types of their signatures.

Some constructs exist only to reproduce the order in which legacy's writes land and where it raises: accounts and
their phases one after another, region scans in completion order, the settling client of the region-status writes,
the group-order merge of EC2 results, legacy's inventory batch boundaries. ``docs/design-deviations.md`` section 7
says why each must stay.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from lambda_shared.active_region_filter import get_active_regions, invalidate_region_cache
from lambda_shared.cross_account import new_sts_client
from lambda_shared.drs_regions import DRS_REGIONS
from lambda_shared.dynamodb_tables import TableNotConfiguredError, get_source_server_inventory_table
from lambda_shared.response_utils import response
from refactored.accounts import (
    AccountCredentials,
    RoleAssumptionError,
    collect_accounts_to_query,
    get_account_credentials,
    resolve_account_credentials,
)
from refactored.cleanup import delete_stale_records
from refactored.drs import query_drs_all_regions, query_drs_single_region
from refactored.ec2 import enrich_with_ec2_metadata, query_ec2_instances
from refactored.inventory import write_inventory_to_dynamodb
from refactored.model import AccountSync, DiscoveredServer, RegionScan

logger = logging.getLogger(__name__)

SUCCESS_MESSAGE = "Source server inventory sync complete"

__all__ = [
    "AccountCredentials",
    "AccountSync",
    "DiscoveredServer",
    "RegionScan",
    "RoleAssumptionError",
    "collect_accounts_to_query",
    "enrich_with_ec2_metadata",
    "get_account_credentials",
    "handle_sync_source_server_inventory_refactored",
    "query_drs_all_regions",
    "query_drs_single_region",
    "query_ec2_instances",
    "resolve_account_credentials",
    "sync_account",
    "write_inventory_to_dynamodb",
]


def sync_account(account: dict[str, Any], active_regions: list[str], timestamp: str) -> AccountSync | None:
    """Credentials, DRS, region status, EC2 enrichment and inventory writes of one account (LB-4..LB-8).

    The account's identity checks and role assumptions share one STS client, built on first use (botocore clients
    are thread-safe); legacy builds one per call, which makes the same calls but costs about 5 ms of CPU each.

    Returns:
        The account's result, or ``None`` when its role could not be assumed (the account is skipped).
    """
    sts_client = functools.cache(new_sts_client)
    try:
        resolved = resolve_account_credentials(account, sts_client)
    except RoleAssumptionError:
        return None
    servers, scans = query_drs_all_regions(account, resolved.credentials, active_regions, timestamp)
    enriched = enrich_with_ec2_metadata(servers, sts_client)
    synced, errors = write_inventory_to_dynamodb(enriched, timestamp)
    proofs = [replace(scan, servers=[]) for scan in scans]  # the servers are written: keep only what cleanup reads
    return AccountSync(account["accountId"], proofs, synced, errors, resolved.identity)


def handle_sync_source_server_inventory_refactored() -> dict[str, Any]:
    """Sync the DRS source servers of every target account into the inventory table.

    Returns:
        ``response(200, {...})`` with legacy's body fields, or ``response(500, {"error": "<VARIABLE> not
        configured"})`` when a required table variable is unset (AD-4).

    Raises:
        Exception: Where legacy raises too (a failing account scan, region-status write or cleanup scan).
    """
    logger.info("Starting source server inventory sync")
    try:
        get_source_server_inventory_table()
        timestamp = datetime.now(UTC).isoformat()
        active_regions = get_active_regions() or list(DRS_REGIONS)
        accounts = collect_accounts_to_query()
    except TableNotConfiguredError as e:
        logger.error("Inventory sync not configured", extra={"variable": e.variable})
        return response(500, {"error": str(e)})
    logger.info("Active region filtering", extra={"regionsScanned": len(active_regions)})
    results = [r for r in (sync_account(a, active_regions, timestamp) for a in accounts) if r is not None]
    stale_deleted = delete_stale_records(results, [account["accountId"] for account in accounts])
    body = {
        "message": SUCCESS_MESSAGE,
        "totalSynced": sum(result.synced for result in results),
        "totalErrors": sum(result.errors for result in results),
        "staleRecordsDeleted": stale_deleted,
        "regionsScanned": len(active_regions),
        "regionsSkipped": len(DRS_REGIONS) - len(active_regions),
        "timestamp": timestamp,
    }
    logger.info("Inventory sync complete", extra={key: value for key, value in body.items() if key != "message"})
    invalidate_region_cache()
    return response(200, body)
