"""The region-status writes of one account: legacy's batched rows and ``update_region_status`` puts.

Spec points: LB-6 (per region in completion order a batched row, then an ``update_region_status`` put on the same
key, with the batch flushing every 25 rows and at the end; nothing when ``DRS_REGION_STATUS_TABLE`` is unset), LB-2
(``update_region_status`` from the shared layer). Approvals: none. The settling client exists only to reproduce
which of a region's two writes survives and where a failing flush raises (why: ``docs/design-deviations.md``
section 7).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from boto3.dynamodb.table import BatchWriter

from lambda_shared.active_region_filter import update_region_status
from lambda_shared.drs_regions import DRS_REGIONS
from lambda_shared.dynamodb_tables import TableNotConfiguredError, get_region_status_table
from refactored.model import RegionScan

#: Status puts in flight at once: at most one per region (the puts between two flushes go out together).
STATUS_PUT_WORKERS = len(DRS_REGIONS)


class _SettlingClient:
    """The DynamoDB client a ``BatchWriter`` sends through, made to wait first for the status puts issued so far.

    Args:
        client: The region-status table's client (``table.meta.client``).
        settle: Waits for every ``update_region_status`` put issued so far (and raises what one raised).
    """

    def __init__(self, client: Any, settle: Callable[[], None]) -> None:
        self._client = client
        self._settle = settle

    def batch_write_item(self, **kwargs: Any) -> dict[str, Any]:
        """Send one batch once the puts of the regions before it have landed."""
        self._settle()
        return self._client.batch_write_item(**kwargs)


def _region_status_item(account_id: str, scan: RegionScan, timestamp: str) -> dict[str, Any]:
    """The batched region-status row of one scan (LB-6)."""
    item: dict[str, Any] = {
        "region": scan.region,
        "accountId": account_id,
        "status": scan.status,
        "serverCount": scan.server_count,
        "lastUpdated": timestamp,
    }
    if scan.error_message:
        item["errorMessage"] = scan.error_message
    return item


def write_region_statuses(account_id: str, scans: list[RegionScan], timestamp: str) -> None:
    """Record every scan in the region-status table with legacy's writes, in an order with the same outcome (LB-6).

    Legacy sends, per region in completion order, a batched row and then an :func:`update_region_status` put, and
    the batch flushes (every 25 rows and at the end) land between them. Both writes of a region share its key, so
    which one survives depends only on whether the region's put lands before or after the flush that carries its
    row. The puts of the regions between two flushes are therefore sent concurrently, and every flush waits until
    the puts issued before it have landed: the same writes, the same survivors, and no put of a later region is
    sent before a flush that fails (legacy raises there). Nothing is written when ``DRS_REGION_STATUS_TABLE`` is
    unset.
    """
    try:
        table = get_region_status_table()
    except TableNotConfiguredError:
        return
    issued: list[Future[None]] = []

    def settle() -> None:
        while issued:
            issued.pop(0).result()

    with ThreadPoolExecutor(max_workers=STATUS_PUT_WORKERS) as executor:
        with BatchWriter(table.name, _SettlingClient(table.meta.client, settle)) as batch:
            for scan in scans:
                batch.put_item(Item=_region_status_item(account_id, scan, timestamp))
                issued.append(executor.submit(update_region_status, scan.region, scan.server_count, scan.error_message))
        settle()
