"""The source-server inventory sync, decomposed into the design's seven focused functions and an orchestrator.

Behaviour follows the legacy handler (``specs/legacy-inventory-sync.md`` LB-1..LB-10) call for call, except for the
four approved divergences AD-1..AD-4 (see ``docs/design-deviations.md``):

* AD-1: zero target accounts answer 200 with zero counts (legacy raises).
* AD-2: stale cleanup runs for every processed account and deletes only records of regions scanned successfully.
* AD-3: inventory write failures are retried, counted in ``totalErrors`` and never escape.
* AD-4: an unset table variable answers 500 naming the variable.

Accounts are processed one after another, as legacy does, so every write to a shared key lands in the same order;
the EC2 look-ups of one account, which legacy runs one group at a time, run in parallel and are merged back in group
order, and the region-status puts between two batch flushes go out together (each flush waits for them).
"""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.table import BatchWriter
from botocore.exceptions import ClientError

from lambda_shared.active_region_filter import get_active_regions, invalidate_region_cache, update_region_status
from lambda_shared.cross_account import (
    StsClientFactory,
    assume_role_credentials,
    create_drs_client,
    create_ec2_client,
    get_current_account_id,
    new_sts_client,
)
from lambda_shared.drs_regions import DRS_REGIONS
from lambda_shared.dynamodb_tables import (
    TableNotConfiguredError,
    get_region_status_table,
    get_source_server_inventory_table,
    get_target_accounts_table,
)
from lambda_shared.response_utils import response

logger = logging.getLogger(__name__)

#: One DRS query thread per region, as legacy runs them (the design's 10 would change nothing observable but speed).
DRS_MAX_WORKERS = 28
#: Upper bound of concurrent EC2 groups of one account (legacy runs them one at a time).
EC2_MAX_WORKERS = 32
#: ``describe_instances`` ids per call.
EC2_CHUNK_SIZE = 100
#: Write requests per ``BatchWriteItem`` (the DynamoDB limit, and the size boto3's ``batch_writer`` flushes at).
INVENTORY_BATCH_SIZE = 25
#: ``RoleSessionName`` of the per-account role assumption (LB-4).
SYNC_SESSION_NAME = "inventory-sync"
#: ``RoleSessionName`` of the per-EC2-group role assumption (LB-7).
EC2_SESSION_NAME = "inventory-ec2-query"
#: Role and external id the EC2 look-up falls back to when the target-accounts row does not name them (LB-7).
DEFAULT_EC2_ROLE_NAME = "DRSOrchestrationRole"
DEFAULT_EC2_EXTERNAL_ID = "drs-orchestration-cross-account"
#: Region scan outcomes that prove the region's inventory is complete, so stale records there may go (AD-2).
SUCCESSFUL_SCAN_STATUSES = frozenset({"ACTIVE", "NOT_INITIALIZED"})
#: ``BatchWriteItem`` attempts per batch after botocore's own retries (AD-3), and the first back-off in seconds.
MAX_WRITE_ATTEMPTS = 5
WRITE_BACKOFF_SECONDS = 0.05
#: DynamoDB error codes worth another attempt (AD-3).
THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError"}
)
SUCCESS_MESSAGE = "Source server inventory sync complete"
#: Most operands DynamoDB accepts in one ``IN`` comparison (the cleanup scan selects up to this many accounts).
MAX_IN_OPERANDS = 100
#: Attributes the cleanup reads of a record, when one scan selects several accounts.
CLEANUP_PROJECTION = "sourceServerArn, stagingAccountId, sourceAccountId, replicationRegion, sourceServerID"
#: EC2 details copied into ``networkConfig``.
_NETWORK_KEYS = ("vpcId", "subnetId", "privateIp", "securityGroups", "instanceProfile")


class RoleAssumptionError(Exception):
    """The account's role could not be assumed, so the account is skipped (LB-4).

    Attributes:
        account_id: The skipped account.
    """

    def __init__(self, account_id: str, cause: Exception) -> None:
        """Create the error.

        Args:
            account_id: The skipped account.
            cause: What STS or botocore raised.
        """
        super().__init__(f"Cannot assume role for {account_id}: {cause}")
        self.account_id = account_id


@dataclass(frozen=True)
class RegionScan:
    """The outcome of querying DRS in one region for one account.

    Attributes:
        region: The region queried.
        status: ``ACTIVE`` on success, else the LB-5 classification (``THROTTLED``, ``ERROR``...).
        servers: The source servers found (empty on failure: a region is all or nothing).
        error_message: Why the query failed; ``None`` on success.
    """

    region: str
    status: str
    servers: list[dict[str, Any]] = field(default_factory=list)
    error_message: str | None = None

    @property
    def server_count(self) -> int:
        """How many source servers the region returned (0 on failure)."""
        return len(self.servers)

    @property
    def succeeded(self) -> bool:
        """Whether the scan proves the region's inventory complete (AD-2)."""
        return self.status in SUCCESSFUL_SCAN_STATUSES


@dataclass(frozen=True)
class DiscoveredServer:
    """A DRS source server, where it was found and, once enriched, the EC2 details of its account.

    Attributes:
        server: The DRS ``SourceServer`` exactly as DRS returned it (never modified).
        account_id: The target account queried.
        region: The region queried (the server's replication region).
        ec2_index: Instance id -> EC2 details read for the account (shared by its servers; empty before
            enrichment).
    """

    server: dict[str, Any]
    account_id: str
    region: str
    ec2_index: Mapping[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ec2(self) -> dict[str, Any] | None:
        """This server's EC2 details (``vpcId``, ``subnetId``, ``privateIp``, ``securityGroups``,
        ``instanceProfile``, ``tags``), or ``None``.

        Raises:
            TypeError: The instance id is not hashable (legacy's item build fails the same way).
        """
        hints = self.server.get("sourceProperties", {}).get("identificationHints", {})
        return self.ec2_index.get(hints.get("awsInstanceID", "")) or None


@dataclass(frozen=True)
class AccountSync:
    """What syncing one (not skipped) account produced.

    Attributes:
        account_id: The account.
        servers: Every server found, in the order found.
        scans: Every region scan, in completion order.
        synced: Inventory items persisted.
        errors: Servers whose item could not be built or persisted.
    """

    account_id: str
    servers: list[DiscoveredServer]
    scans: list[RegionScan]
    synced: int
    errors: int


# -- 1. accounts -----------------------------------------------------------------------------------------------------


def collect_accounts_to_query() -> list[dict[str, Any]]:
    """Read the target accounts to sync: one ``scan()`` of the target-accounts table, in scan order.

    Like legacy, the scan is not paginated (accounts past the first 1 MB page are not synced) and every item is an
    account, including the Lambda's own.

    Returns:
        ``{"accountId", "roleArn", "externalId"}`` per item, absent fields as ``None``.

    Raises:
        TableNotConfiguredError: ``TARGET_ACCOUNTS_TABLE`` is unset.
        ClientError: The scan failed.
    """
    table = get_target_accounts_table()
    items = table.scan().get("Items", [])
    accounts = [
        {"accountId": item.get("accountId"), "roleArn": item.get("roleArn"), "externalId": item.get("externalId")}
        for item in items
    ]
    logger.info("Collected target accounts", extra={"accountCount": len(accounts)})
    return accounts


# -- 2. credentials --------------------------------------------------------------------------------------------------


def get_account_credentials(
    account: dict[str, Any], sts_client: StsClientFactory = new_sts_client
) -> dict[str, Any] | None:
    """Return the credentials to query an account with (LB-4).

    The current account is asked from STS on every call. A role is assumed (session ``inventory-sync``, 900 s,
    ``ExternalId`` only when truthy) when the account is not the current one and names a ``roleArn``; otherwise the
    Lambda's own credentials are used.

    Args:
        account: ``{"accountId", "roleArn", "externalId"}`` as :func:`collect_accounts_to_query` returns it.
        sts_client: Supplies the STS client (a new one per call by default).

    Returns:
        The STS ``Credentials``, or ``None`` for the Lambda's own credentials.

    Raises:
        RoleAssumptionError: The role could not be assumed; the caller skips the account.
    """
    account_id = account["accountId"]
    if account_id == get_current_account_id(sts_client) or not account.get("roleArn"):
        return None
    try:
        return assume_role_credentials(
            account["roleArn"], SYNC_SESSION_NAME, account.get("externalId") or None, sts_client=sts_client
        )
    except Exception as e:
        logger.warning(
            f"Cannot assume role for {account_id}: {e}",
            extra={"accountId": account_id, "operation": "get_account_credentials", "error": str(e)},
        )
        raise RoleAssumptionError(account_id, e) from e


# -- 3. DRS ----------------------------------------------------------------------------------------------------------


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


def query_drs_single_region(region: str, account_id: str, credentials: dict[str, Any] | None) -> RegionScan:
    """Page through ``DescribeSourceServers`` (no filters) in one region; never raises.

    A failure on any page discards the earlier pages: a region is all or nothing.

    Args:
        region: The region to query.
        account_id: The account queried (for logs).
        credentials: STS credentials, or ``None`` for the Lambda's own.

    Returns:
        ``ACTIVE`` with the servers, or the LB-5 status and message with no servers.
    """
    try:
        client = create_drs_client(region, credentials)
        servers: list[dict[str, Any]] = []
        for page in client.get_paginator("describe_source_servers").paginate():
            servers.extend(page.get("items", []))
        return RegionScan(region=region, status="ACTIVE", servers=servers)
    except ClientError as e:
        status, message = _classify_client_error(e)
    except Exception as e:
        status, message = _classify_exception(e)
    logger.warning(
        "DRS query failed",
        extra={"accountId": account_id, "region": region, "status": status, "errorMessage": message},
    )
    return RegionScan(region=region, status=status, error_message=message)


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


def _write_region_statuses(account_id: str, scans: list[RegionScan], timestamp: str) -> None:
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

    with ThreadPoolExecutor(max_workers=DRS_MAX_WORKERS) as executor:
        with BatchWriter(table.name, _SettlingClient(table.meta.client, settle)) as batch:
            for scan in scans:
                batch.put_item(Item=_region_status_item(account_id, scan, timestamp))
                issued.append(executor.submit(update_region_status, scan.region, scan.server_count, scan.error_message))
        settle()


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
    _write_region_statuses(account_id, scans, timestamp or datetime.now(UTC).isoformat())
    servers = [DiscoveredServer(server, account_id, scan.region) for scan in scans for server in scan.servers]
    logger.info(
        f"Account {account_id}: found {len(servers)} source servers",
        extra={"accountId": account_id, "regionCount": len(scans), "serverCount": len(servers)},
    )
    return servers, scans


# -- 4. EC2 ----------------------------------------------------------------------------------------------------------


def _instance_details(instance: dict[str, Any]) -> dict[str, Any]:
    """The EC2 details the inventory keeps of one instance (LB-7)."""
    return {
        "vpcId": instance.get("VpcId", ""),
        "subnetId": instance.get("SubnetId", ""),
        "privateIp": instance.get("PrivateIpAddress", ""),
        "securityGroups": [sg["GroupId"] for sg in instance.get("SecurityGroups", [])],
        "instanceProfile": instance.get("IamInstanceProfile", {}).get("Arn", ""),
        "tags": {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])},
    }


def _describe_into(client: Any, instance_ids: list[str], details: dict[str, dict[str, Any]]) -> None:
    """One ``describe_instances`` call, recording each instance as soon as it is read."""
    answer = client.describe_instances(InstanceIds=instance_ids)
    for reservation in answer.get("Reservations", []):
        for instance in reservation.get("Instances", []):
            details[instance["InstanceId"]] = _instance_details(instance)


def query_ec2_instances(
    instance_ids: list[str],
    region: str,
    credentials: dict[str, Any] | None,
    details: dict[str, dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Describe EC2 instances in chunks of 100, in order (LB-7).

    A ``ClientError`` on a chunk (an id EC2 no longer knows) falls back to one call per id of that chunk,
    swallowing every error of those calls.

    Args:
        instance_ids: The ids to describe, in order (duplicates are asked again, as legacy asks them).
        region: The region the instances live in.
        credentials: STS credentials, or ``None`` for the Lambda's own.
        details: Where to record results; pass one to keep what was read before an exception.

    Returns:
        Instance id -> details (``vpcId``, ``subnetId``, ``privateIp``, ``securityGroups``, ``instanceProfile``,
        ``tags``); empty for no ids (no client is built).

    Raises:
        Exception: Anything but a ``ClientError`` of a chunk call (connection, malformed answer...); what was read
            before stays in ``details``.
    """
    found: dict[str, dict[str, Any]] = {} if details is None else details
    if not instance_ids:
        return found
    client = create_ec2_client(region, credentials)
    for start in range(0, len(instance_ids), EC2_CHUNK_SIZE):
        chunk = instance_ids[start : start + EC2_CHUNK_SIZE]
        try:
            _describe_into(client, chunk, found)
        except ClientError:
            for instance_id in chunk:
                try:
                    _describe_into(client, [instance_id], found)
                except Exception as e:
                    logger.debug("EC2 instance look-up failed", extra={"instanceId": instance_id, "error": str(e)})
    return found


def _ec2_role(account_id: str, accounts_table: Any) -> tuple[str, str]:
    """The role and external id to read EC2 of another account with; look-up errors fall back to defaults."""
    role_arn = f"arn:aws:iam::{account_id}:role/{DEFAULT_EC2_ROLE_NAME}"
    external_id = DEFAULT_EC2_EXTERNAL_ID
    try:
        row = accounts_table.get_item(Key={"accountId": account_id}).get("Item")
        if row:
            role_arn = row.get("roleArn") or role_arn
            external_id = row.get("externalId") or external_id
    except Exception as e:
        logger.debug("Target account look-up failed, using defaults", extra={"accountId": account_id, "error": str(e)})
    return role_arn, external_id


def _query_ec2_group(
    group: tuple[str, str],
    instance_ids: list[str],
    accounts_table: Any,
    sts_client: StsClientFactory = new_sts_client,
) -> dict[str, Any]:
    """Describe one (origin account, origin region) group, asking the caller identity and assuming the account's
    role afresh as legacy does.

    Returns:
        What was read; partial or empty when the group fails (the failure is logged, never raised).
    """
    ec2_account, ec2_region = group
    details: dict[str, dict[str, Any]] = {}
    try:
        credentials = None
        if ec2_account != get_current_account_id(sts_client):
            role_arn, external_id = _ec2_role(ec2_account, accounts_table)
            credentials = assume_role_credentials(role_arn, EC2_SESSION_NAME, external_id, sts_client=sts_client)
        query_ec2_instances(instance_ids, ec2_region, credentials, details)
    except Exception as e:
        logger.warning(
            f"EC2 query failed for account {ec2_account} region {ec2_region}: {e}",
            extra={"accountId": ec2_account, "region": ec2_region, "error": str(e)},
        )
    return details


def _instance_id(server: dict[str, Any]) -> Any:
    """The server's ``identificationHints.awsInstanceID`` (raising on a non-dict, as legacy's grouping does)."""
    return server.get("sourceProperties", {}).get("identificationHints", {}).get("awsInstanceID")


def _ec2_groups(servers: list[DiscoveredServer]) -> dict[tuple[str, str], list[str]]:
    """Instance ids grouped by (origin account, origin region), groups and ids in first-seen order (LB-7)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for found in servers:
        instance_id = _instance_id(found.server)
        if not instance_id:
            continue
        cloud = found.server.get("sourceCloudProperties", {})
        key = (cloud.get("originAccountID", found.account_id), cloud.get("originRegion", found.region))
        groups.setdefault(key, []).append(instance_id)
    return groups


def enrich_with_ec2_metadata(
    servers: list[DiscoveredServer], sts_client: StsClientFactory = new_sts_client
) -> list[DiscoveredServer]:
    """Attach EC2 instance details to the servers that name an instance (LB-7).

    Groups run in parallel; their results are merged in group order, so an instance id read by two groups keeps
    the later group's details, exactly as legacy's single dictionary does. The server dictionaries are not touched.

    Args:
        servers: The servers of one account, in the order found.
        sts_client: Supplies the STS client of the groups' identity checks and role assumptions.

    Returns:
        The same servers, same order and length, sharing the account's instance id -> details index (so ``ec2`` is
        set where details exist for the server's instance id).
    """
    groups = _ec2_groups(servers)
    if not groups:
        return list(servers)
    accounts_table = get_target_accounts_table()
    with ThreadPoolExecutor(max_workers=min(len(groups), EC2_MAX_WORKERS)) as executor:
        results = list(
            executor.map(lambda item: _query_ec2_group(item[0], item[1], accounts_table, sts_client), groups.items())
        )
    details: dict[str, dict[str, Any]] = {}
    for result in results:
        details.update(result)
    return [replace(found, ec2_index=details) for found in servers]


# -- 5. inventory ----------------------------------------------------------------------------------------------------


def build_inventory_item(found: DiscoveredServer, timestamp: str) -> dict[str, Any]:
    """The inventory item of one server, attribute for attribute as legacy builds it (LB-8).

    Args:
        found: The server, where it was found and its EC2 details.
        timestamp: ``lastUpdated``.

    Returns:
        The item (ints stay ints, ``None`` values are kept).

    Raises:
        Exception: On malformed server data, e.g. a first network interface with no ips (``IndexError``).
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
        "sourceServerArn": server.get("arn") or "",
        "stagingAccountId": server.get("stagingArea", {}).get("stagingAccountID") or account_id,
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
        "lastSnapshot": replication_info.get("lastSnapshotDateTime"),
        "lastSeen": life_cycle.get("lastSeenByServiceDateTime", ""),
        "lastUpdated": timestamp,
        "cpuModel": cpus[0].get("modelName", "") if cpus else "",
        "cpuCores": sum(cpu.get("cores", 0) for cpu in cpus),
        "ramBytes": int(source_props.get("ramBytes", 0)),
        "totalStorageBytes": sum(disk.get("bytes", 0) for disk in disks),
        "osName": source_props.get("os", {}).get("fullString", ""),
        "primaryIp": nics[0].get("ips", [])[0] if nics else "",
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


def _write_batch(table: Any, items: list[dict[str, Any]]) -> int:
    """``BatchWriteItem`` one batch, retrying unprocessed items and throttling with back-off (AD-3).

    Returns:
        How many of the items were persisted; the rest are logged.
    """
    pending = [{"PutRequest": {"Item": item}} for item in items]
    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            time.sleep(WRITE_BACKOFF_SECONDS * 2 ** (attempt - 1))
        try:
            answer = table.meta.client.batch_write_item(RequestItems={table.name: pending})
        except Exception as e:
            if _error_code(e) in THROTTLING_CODES and attempt + 1 < MAX_WRITE_ATTEMPTS:
                continue
            logger.error("Inventory batch write failed", extra={"unwritten": len(pending), "error": str(e)})
            return len(items) - len(pending)
        pending = answer.get("UnprocessedItems", {}).get(table.name, [])
        if not pending:
            return len(items)
    logger.error("Inventory items left unprocessed", extra={"unwritten": len(pending)})
    return len(items) - len(pending)


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write_inventory_to_dynamodb(servers: list[DiscoveredServer], timestamp: str | None = None) -> tuple[int, int]:
    """Write one account's inventory items with ``BatchWriteItem``, 25 per batch, in the order found (LB-8, AD-3).

    The batches are the ones legacy's ``batch_writer`` sends (consecutive 25 of the items that could be built), so
    a batch DynamoDB rejects loses the same items. Unlike legacy, nothing escapes and nothing lost counts as synced.

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
    synced = sum(_write_batch(table, batch) for batch in _chunks(items, INVENTORY_BATCH_SIZE))
    errors = len(servers) - synced
    logger.info("Inventory written", extra={"synced": synced, "errors": errors})
    return synced, errors


# -- 6. stale cleanup ------------------------------------------------------------------------------------------------


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
        (found.server.get("arn") or "", found.server.get("stagingArea", {}).get("stagingAccountID") or found.account_id)
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


# -- orchestration ---------------------------------------------------------------------------------------------------


def sync_account(account: dict[str, Any], active_regions: list[str], timestamp: str) -> AccountSync | None:
    """Credentials, DRS, region status, EC2 enrichment and inventory writes of one account (LB-4..LB-8).

    The account's identity checks and role assumptions share one STS client, built on first use (botocore clients
    are thread-safe); legacy builds one per call, which makes the same calls but costs about 5 ms of CPU each.

    Returns:
        The account's result, or ``None`` when its role could not be assumed (the account is skipped).
    """
    sts_client = functools.cache(new_sts_client)
    try:
        credentials = get_account_credentials(account, sts_client)
    except RoleAssumptionError:
        return None
    servers, scans = query_drs_all_regions(account, credentials, active_regions, timestamp)
    enriched = enrich_with_ec2_metadata(servers, sts_client)
    synced, errors = write_inventory_to_dynamodb(enriched, timestamp)
    return AccountSync(account["accountId"], enriched, scans, synced, errors)


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
    stale_deleted = delete_stale_records(results)
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
