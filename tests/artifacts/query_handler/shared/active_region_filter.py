"""Active-region filtering: only scan the DRS regions the region-status table says have source servers."""

import logging
import os
import time
from datetime import datetime, timezone
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr

from shared.drs_regions import DRS_REGIONS

logger = logging.getLogger(__name__)

DRS_REGION_STATUS_TABLE = os.environ.get("DRS_REGION_STATUS_TABLE")
REGION_CACHE_TTL = 60  # seconds

_region_cache: dict[str, Any] = {"regions": None, "expires": 0.0}
_region_status_table = None


def _get_region_status_table() -> Any:
    global _region_status_table
    if not DRS_REGION_STATUS_TABLE:
        return None
    if _region_status_table is None:
        _region_status_table = boto3.resource("dynamodb").Table(DRS_REGION_STATUS_TABLE)
    return _region_status_table


def get_active_regions() -> list[str]:
    """Regions with ``serverCount > 0``, cached for a minute; every DRS region when that cannot be told.

    Returns:
        Region names in the order the scan returned them.
    """
    if _region_cache["regions"] is not None and time.time() < _region_cache["expires"]:
        return _region_cache["regions"]

    table = _get_region_status_table()
    if table is None:
        logger.info("DRS_REGION_STATUS_TABLE not set, scanning all regions")
        return DRS_REGIONS

    try:
        regions = []
        scan_kwargs: dict[str, Any] = {"FilterExpression": Attr("serverCount").gt(0)}
        while True:
            page = table.scan(**scan_kwargs)
            for item in page.get("Items", []):
                regions.append(item["region"])
            if "LastEvaluatedKey" not in page:
                break
            scan_kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    except Exception as e:
        logger.error(f"Error reading active regions, scanning all regions: {e}")
        return DRS_REGIONS

    if not regions:
        logger.info("No active regions recorded yet, scanning all regions")
        return DRS_REGIONS

    _region_cache["regions"] = regions
    _region_cache["expires"] = time.time() + REGION_CACHE_TTL
    return regions


def update_region_status(region: str, server_count: int, error_message: str | None = None) -> None:
    """Record what the last scan of a region found; failures are logged, never raised.

    Args:
        region: The region scanned.
        server_count: Source servers found there.
        error_message: Why the scan failed, if it did.
    """
    table = _get_region_status_table()
    if table is None:
        return
    if error_message:
        status = "ERROR"
    elif server_count > 0:
        status = "AVAILABLE"
    else:
        status = "UNINITIALIZED"
    try:
        table.put_item(
            Item={
                "region": region,
                "status": status,
                "serverCount": server_count,
                "lastChecked": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "errorMessage": error_message,
            }
        )
    except Exception as e:
        logger.error(f"Error updating region status for {region}: {e}")


def invalidate_region_cache() -> None:
    """Forget the cached active regions."""
    _region_cache["regions"] = None
    _region_cache["expires"] = 0.0
