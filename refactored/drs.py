"""DRS source servers of one account: every active region queried in parallel (design functions 4 and 5).

Spec points: LB-5 (28 threads, the paginator without filters, all or nothing per region, failures classified in
LB-5's order with its messages), LB-3 step 4 (the region statuses are written once every region has answered, then
``Account {id}: found {n} source servers``). Approvals: none; the queries are legacy's call for call. Scans and
servers stay in completion order (why: ``docs/design-deviations.md`` section 7).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from lambda_shared.active_region_filter import get_active_regions
from lambda_shared.cross_account import create_drs_client
from lambda_shared.drs_regions import DRS_REGIONS
from refactored.model import DiscoveredServer, RegionScan
from refactored.region_status import write_region_statuses

logger = logging.getLogger(__name__)

#: One DRS query thread per region, as legacy runs them (the design's 10 would change nothing observable but speed).
DRS_MAX_WORKERS = 28


def _classify_client_error(error: ClientError) -> tuple[str, str]:
    """Map a DRS ``ClientError`` to (status, message), in LB-5's order."""
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    text = str(error)
    if code == "UninitializedAccountException" or "not initialized" in text.lower():
        return "NOT_INITIALIZED", "DRS not initialized in region"
    if "AccessDeniedException" in text or code == "AccessDeniedException":
        return "IAM_PERMISSION_DENIED", f"IAM permissions denied: {message}"
    if "service control policy" in text.lower() or "scp" in text.lower():
        return "SCP_DENIED", "Blocked by Service Control Policy"
    if code in ("ThrottlingException", "TooManyRequestsException"):
        return "THROTTLED", "API rate limit exceeded"
    if code == "OptInRequired":
        return "REGION_NOT_OPTED_IN", "Region not enabled in account"
    return "ERROR", f"{code}: {message}" if code else message[:500]


def _classify_exception(error: Exception) -> tuple[str, str]:
    """Map any other exception of a DRS query to (status, message), in LB-5's order."""
    text = str(error)
    if "UnrecognizedClientException" in text or "security token" in text.lower():
        return "REGION_NOT_ENABLED", "Region not enabled in account"
    if "Could not connect" in text or "EndpointConnectionError" in text:
        return "ENDPOINT_UNREACHABLE", "Cannot connect to DRS endpoint"
    return "ERROR", text[:500]


def _page_items(page: Any) -> list[dict[str, Any]] | None:
    """The servers of one ``DescribeSourceServers`` page, or ``None`` when the page is malformed (no ``items`` list:
    botocore parses a cut-off body into an answer without it)."""
    items = page.get("items") if isinstance(page, Mapping) else None
    return items if isinstance(items, list) else None


def query_drs_single_region(region: str, account_id: str, credentials: dict[str, Any] | None) -> RegionScan:
    """Page through ``DescribeSourceServers`` (no filters) in one region; never raises.

    A failure on any page discards the earlier pages: a region is all or nothing. A malformed page reads as a page
    without servers, as legacy reads it (``ACTIVE``), but the scan is then not :attr:`RegionScan.complete`.

    Args:
        region: The region to query.
        account_id: The account queried (for logs).
        credentials: STS credentials, or ``None`` for the Lambda's own.

    Returns:
        ``ACTIVE`` with the servers, or the LB-5 status and message with no servers; either way the ARNs every page
        reported.
    """
    reported: set[str] = set()
    try:
        client = create_drs_client(region, credentials)
        servers: list[dict[str, Any]] = []
        complete = True
        for page in client.get_paginator("describe_source_servers").paginate():
            items = _page_items(page)
            complete = complete and items is not None
            servers.extend(page.get("items", []))
            reported.update(
                server["arn"] for server in items or [] if isinstance(server, Mapping) and server.get("arn")
            )
        return RegionScan(region, "ACTIVE", servers, complete=complete, reported_arns=frozenset(reported))
    except ClientError as e:
        status, message = _classify_client_error(e)
    except Exception as e:
        status, message = _classify_exception(e)
    logger.warning(
        "DRS query failed",
        extra={"accountId": account_id, "region": region, "status": status, "errorMessage": message},
    )
    return RegionScan(region=region, status=status, error_message=message, reported_arns=frozenset(reported))


def query_drs_all_regions(
    account: dict[str, Any],
    credentials: dict[str, Any] | None,
    active_regions: list[str] | None = None,
    timestamp: str | None = None,
) -> tuple[list[DiscoveredServer], list[RegionScan]]:
    """Query DRS in every active region in parallel and record each region's status (LB-5, LB-6).

    Args:
        account: The account (``accountId`` is used).
        credentials: STS credentials, or ``None`` for the Lambda's own.
        active_regions: Regions to query; ``None`` asks :func:`get_active_regions` (all 28 when it is empty).
        timestamp: ``lastUpdated`` of the status rows; ``None`` means now.

    Returns:
        The servers found (regions in completion order, servers in page order) and one scan per region, in
        completion order.
    """
    account_id = account["accountId"]
    regions = active_regions if active_regions is not None else (get_active_regions() or list(DRS_REGIONS))
    scans: list[RegionScan] = []
    with ThreadPoolExecutor(max_workers=DRS_MAX_WORKERS) as executor:
        futures = [executor.submit(query_drs_single_region, region, account_id, credentials) for region in regions]
        scans.extend(future.result() for future in as_completed(futures))
    write_region_statuses(account_id, scans, timestamp or datetime.now(UTC).isoformat())
    servers = [DiscoveredServer(server, account_id, scan.region) for scan in scans for server in scan.servers]
    logger.info(
        f"Account {account_id}: found {len(servers)} source servers",
        extra={"accountId": account_id, "regionCount": len(scans), "serverCount": len(servers)},
    )
    return servers, scans
