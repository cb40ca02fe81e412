"""Active-region filtering: which DRS regions hold source servers, cached for a minute.

The region-status table has one row per region (hash key ``region``). Regions whose ``serverCount`` is above zero
are "active"; the inventory sync scans only those. The table is resolved lazily from ``DRS_REGION_STATUS_TABLE``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr

from lambda_shared.drs_regions import DRS_REGIONS

logger = logging.getLogger(__name__)

#: Environment variable naming the region-status table.
REGION_STATUS_TABLE_VARIABLE = "DRS_REGION_STATUS_TABLE"
#: How long a scan result is reused, in wall-clock seconds.
CACHE_TTL_SECONDS = 60
#: ``lastChecked`` format (UTC).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_lock = threading.Lock()
_region_cache: dict[str, Any] = {"regions": None, "timestamp": 0.0}
_table_cache: dict[str, Any] = {"name": None, "table": None}


def _get_region_status_table() -> Any | None:
    """Return the region-status table resource, or ``None`` when the variable is unset (never cached)."""
    name = os.environ.get(REGION_STATUS_TABLE_VARIABLE)
    if not name:
        return None
    with _lock:
        if _table_cache["table"] is None or _table_cache["name"] != name:
            _table_cache["table"] = boto3.resource("dynamodb").Table(name)
            _table_cache["name"] = name
        return _table_cache["table"]


def _scan_active_regions(table: Any) -> list[str]:
    """Scan the whole table (following ``LastEvaluatedKey``) for regions with ``serverCount > 0``, in scan order."""
    regions: list[str] = []
    kwargs: dict[str, Any] = {"FilterExpression": Attr("serverCount").gt(0)}
    while True:
        page = table.scan(**kwargs)
        regions.extend(str(item["region"]) for item in page.get("Items", []))
        last_key = page.get("LastEvaluatedKey")
        if not last_key:
            return regions
        kwargs["ExclusiveStartKey"] = last_key


def get_active_regions() -> list[str]:
    """Return the regions that have DRS source servers.

    A result is cached for :data:`CACHE_TTL_SECONDS` of wall-clock time. The full :data:`DRS_REGIONS` list is
    returned, and not cached, when the table is not configured, when no row matches, or on any error.

    Returns:
        Region names in scan order (a fresh list the caller may keep).
    """
    with _lock:
        cached = _region_cache["regions"]
        if cached is not None and time.time() - _region_cache["timestamp"] < CACHE_TTL_SECONDS:
            return list(cached)
    table = _get_region_status_table()
    if table is None:
        logger.info("Region status table not configured, using all regions", extra={"regions": len(DRS_REGIONS)})
        return list(DRS_REGIONS)
    try:
        regions = _scan_active_regions(table)
    except Exception as e:
        logger.warning("Active region scan failed, using all regions", extra={"error": str(e)})
        return list(DRS_REGIONS)
    if not regions:
        logger.info("No active regions recorded, using all regions", extra={"regions": len(DRS_REGIONS)})
        return list(DRS_REGIONS)
    with _lock:
        _region_cache["regions"] = list(regions)
        _region_cache["timestamp"] = time.time()
    logger.info("Active regions loaded", extra={"regions": len(regions)})
    return list(regions)


def update_region_status(region: str, server_count: int, error_message: str | None = None) -> None:
    """Record the outcome of scanning one region with a single ``put_item``; errors are logged, never raised.

    Args:
        region: The region scanned.
        server_count: Source servers found (0 on failure).
        error_message: Why the scan failed; ``None`` on success.
    """
    table = _get_region_status_table()
    if table is None:
        logger.debug("Region status table not configured, status not written", extra={"region": region})
        return
    if error_message:
        status = "ERROR"
    elif server_count > 0:
        status = "AVAILABLE"
    else:
        status = "UNINITIALIZED"
    item = {
        "region": region,
        "status": status,
        "serverCount": server_count,
        "lastChecked": datetime.now(UTC).strftime(TIMESTAMP_FORMAT),
        "errorMessage": error_message,
    }
    try:
        table.put_item(Item=item)
    except Exception as e:
        logger.error("Failed to update region status", extra={"region": region, "error": str(e)})


def invalidate_region_cache() -> None:
    """Forget the cached active regions so the next call scans the table again."""
    with _lock:
        _region_cache["regions"] = None
        _region_cache["timestamp"] = 0.0


def reset() -> None:
    """Clear the region cache and the cached table resource (harness use)."""
    invalidate_region_cache()
    with _lock:
        _table_cache["name"] = None
        _table_cache["table"] = None
