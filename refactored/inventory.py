"""Inventory items and their writes, one account at a time (design function 8).

Spec points: LB-8 (the item attribute for attribute, in the order found; ``BatchWriteItem`` of the consecutive 25
items that could be built, legacy's ``batch_writer`` batches). Approvals: AD-3 (unprocessed items and throttling
retried with back-off; ``totalSynced`` counts only what DynamoDB accepted, ``totalErrors`` the rest; nothing
escapes; the batches of one account go out concurrently, so a fault counted in calls may hit another batch than in
legacy). The batch boundaries are legacy's so that a rejected batch loses the same items, and batches sharing a key
are written one after another so the later write lands last (why: ``docs/design-deviations.md`` section 7).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from lambda_shared.dynamodb_tables import get_dynamodb_client, get_source_server_inventory_table
from refactored.model import DiscoveredServer

logger = logging.getLogger(__name__)

#: Inventory batches of one account in flight at once (AD-3; one after another when two batches share a key).
INVENTORY_WRITE_WORKERS = 8
#: Write requests per ``BatchWriteItem`` (the DynamoDB limit, and the size boto3's ``batch_writer`` flushes at).
INVENTORY_BATCH_SIZE = 25
#: ``BatchWriteItem`` attempts per batch after botocore's own retries (AD-3), and the first back-off in seconds.
MAX_WRITE_ATTEMPTS = 5
WRITE_BACKOFF_SECONDS = 0.05
#: DynamoDB error codes worth another attempt (AD-3).
THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError"}
)
#: EC2 details copied into ``networkConfig``.
_NETWORK_KEYS = ("vpcId", "subnetId", "privateIp", "securityGroups", "instanceProfile")


def build_inventory_item(found: DiscoveredServer, timestamp: str) -> dict[str, Any]:
    """The inventory item of one server, attribute for attribute as legacy builds it (LB-8).

    Every field is read with ``dict.get(key, default)``: a present value is kept even when ``""`` or ``None`` (a
    present empty ``stagingAccountID`` becomes the item's key, which DynamoDB then rejects); only an absent key takes
    the default (``lastSnapshot`` ``""``, a first NIC without ``ips`` gives ``primaryIp`` ``""``).

    Args:
        found: The server, where it was found and its EC2 details.
        timestamp: ``lastUpdated``.

    Returns:
        The item (ints stay ints, ``None`` values are kept).

    Raises:
        Exception: On malformed server data, e.g. a first network interface with an empty ips list (``IndexError``).
    """
    server, account_id, region = found.server, found.account_id, found.region
    source_props = server.get("sourceProperties", {})
    hints = source_props.get("identificationHints", {})
    replication_info = server.get("dataReplicationInfo", {})
    life_cycle = server.get("lifeCycle", {})
    cloud_props = server.get("sourceCloudProperties", {})
    cpus = source_props.get("cpus", [])
    nics = source_props.get("networkInterfaces", [])
    disks = source_props.get("disks", [])
    item = {
        "sourceServerArn": server.get("arn", ""),
        "stagingAccountId": server.get("stagingArea", {}).get("stagingAccountID", account_id),
        "sourceServerID": server.get("sourceServerID", ""),
        "sourceAccountId": cloud_props.get("originAccountID", account_id),
        "sourceRegion": cloud_props.get("originRegion", region),
        "hostname": hints.get("hostname", ""),
        "fqdn": hints.get("fqdn", ""),
        "instanceId": hints.get("awsInstanceID", ""),
        "agentVersion": server.get("agentVersion", ""),
        "replicationRegion": region,
        "replicationState": replication_info.get("dataReplicationState", ""),
        "lagDuration": replication_info.get("lagDuration", ""),
        "lastSnapshot": replication_info.get("lastSnapshotDateTime", ""),
        "lastSeen": life_cycle.get("lastSeenByServiceDateTime", ""),
        "lastUpdated": timestamp,
        "cpuModel": cpus[0].get("modelName", "") if cpus else "",
        "cpuCores": sum(cpu.get("cores", 0) for cpu in cpus),
        "ramBytes": int(source_props.get("ramBytes", 0)),
        "totalStorageBytes": sum(disk.get("bytes", 0) for disk in disks),
        "osName": source_props.get("os", {}).get("fullString", ""),
        "primaryIp": nics[0].get("ips", [""])[0] if nics else "",
        "macAddress": nics[0].get("macAddress", "") if nics else "",
        "disks": [{"deviceName": d.get("deviceName", ""), "bytes": d.get("bytes", 0)} for d in disks],
    }
    details = found.ec2
    if details:
        item["networkConfig"] = {key: details[key] for key in _NETWORK_KEYS}
        item["sourceTags"] = details["tags"]
    return item


def _error_code(error: Exception) -> str:
    """The AWS error code of a ``ClientError``, else ``""``."""
    return error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""


_SERIALIZER = TypeSerializer()


def _put_request(item: dict[str, Any]) -> dict[str, Any]:
    """The write request of one item in DynamoDB's wire format, as the resource layer would serialise it."""
    return {"PutRequest": {"Item": {name: _SERIALIZER.serialize(value) for name, value in item.items()}}}


def _write_batch(table_name: str, items: list[dict[str, Any]]) -> int:
    """``BatchWriteItem`` one batch, retrying unprocessed items and throttling with back-off (AD-3).

    The items are serialised here and sent with the low-level client: the same request the table resource sends,
    without its second pass over every parameter. A value DynamoDB cannot hold (a float) fails the batch as it
    fails the resource's call.

    Returns:
        How many of the items were persisted; the rest are logged.
    """
    pending: list[Any] = items  # serialised by the first attempt, inside its error handling
    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            time.sleep(WRITE_BACKOFF_SECONDS * 2 ** (attempt - 1))
        try:
            if not attempt:
                pending = [_put_request(item) for item in items]
            answer = get_dynamodb_client().batch_write_item(RequestItems={table_name: pending})
        except Exception as e:
            if _error_code(e) in THROTTLING_CODES and attempt + 1 < MAX_WRITE_ATTEMPTS:
                continue
            logger.error("Inventory batch write failed", extra={"unwritten": len(pending), "error": str(e)})
            return len(items) - len(pending)
        pending = answer.get("UnprocessedItems", {}).get(table_name, [])
        if not pending:
            return len(items)
    logger.error("Inventory items left unprocessed", extra={"unwritten": len(pending)})
    return len(items) - len(pending)


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _batches_share_a_key(batches: list[list[dict[str, Any]]]) -> bool:
    """Whether an item key appears in two batches (then the later batch must land last, as in legacy); a key that
    cannot be hashed counts as shared."""
    seen: set[tuple[Any, Any]] = set()
    for batch in batches:
        keys = {(item.get("sourceServerArn"), item.get("stagingAccountId")) for item in batch}
        if not seen.isdisjoint(keys):
            return True
        seen |= keys
    return False


def _write_batches(table_name: str, batches: list[list[dict[str, Any]]]) -> int:
    """Write the batches, concurrently unless two share a key; return how many items were persisted."""
    try:
        sequential = len(batches) < 2 or _batches_share_a_key(batches)
    except TypeError:  # an unhashable key value: keep legacy's order
        sequential = True
    if sequential:
        return sum(_write_batch(table_name, batch) for batch in batches)
    with ThreadPoolExecutor(max_workers=min(len(batches), INVENTORY_WRITE_WORKERS)) as executor:
        return sum(executor.map(lambda batch: _write_batch(table_name, batch), batches))


def write_inventory_to_dynamodb(servers: list[DiscoveredServer], timestamp: str | None = None) -> tuple[int, int]:
    """Write one account's inventory items with ``BatchWriteItem``, 25 per batch, in the order found (LB-8, AD-3).

    The batches are the ones legacy's ``batch_writer`` sends (consecutive 25 of the items that could be built), so
    a batch DynamoDB rejects loses the same items. Unlike legacy, nothing escapes and nothing lost counts as synced,
    and up to :data:`INVENTORY_WRITE_WORKERS` batches are in flight at once unless two batches share a key.

    Args:
        servers: Enriched servers.
        timestamp: ``lastUpdated``; ``None`` means now.

    Returns:
        (items persisted, servers whose item could not be built or persisted); the two add up to ``len(servers)``.

    Raises:
        TableNotConfiguredError: ``SOURCE_SERVER_INVENTORY_TABLE`` is unset.
    """
    if not servers:
        return 0, 0
    table = get_source_server_inventory_table()
    stamp = timestamp or datetime.now(UTC).isoformat()
    items: list[dict[str, Any]] = []
    for found in servers:
        try:
            items.append(build_inventory_item(found, stamp))
        except Exception as e:
            server_id = found.server.get("sourceServerID") or "?"
            logger.error(
                f"Error writing {server_id}: {e}",
                extra={"accountId": found.account_id, "region": found.region, "serverId": server_id},
            )
    synced = _write_batches(table.name, list(_chunks(items, INVENTORY_BATCH_SIZE)))
    errors = len(servers) - synced
    logger.info("Inventory written", extra={"synced": synced, "errors": errors})
    return synced, errors
