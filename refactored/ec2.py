"""EC2 details of the servers that name an instance (design functions 6 and 7).

Spec points: LB-7 (servers grouped by origin account and region in first-seen order; per group an identity check,
the target-accounts look-up and a fresh ``AssumeRole`` with session ``inventory-ec2-query`` for another account;
``DescribeInstances`` in chunks of 100 with a per-id fallback; a failing group keeps what it read). Approvals: none.
The groups of an account run in parallel; their results are merged in group order (why:
``docs/design-deviations.md`` section 7).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from lambda_shared.cross_account import (
    DEFAULT_DURATION_SECONDS,
    StsClientFactory,
    create_ec2_client,
    get_current_account_id,
    new_sts_client,
)
from lambda_shared.dynamodb_tables import get_target_accounts_table
from refactored.model import DiscoveredServer

logger = logging.getLogger(__name__)

#: Upper bound of concurrent EC2 groups of one account (legacy runs them one at a time).
EC2_MAX_WORKERS = 32
#: ``describe_instances`` ids per call.
EC2_CHUNK_SIZE = 100
#: ``RoleSessionName`` of the per-EC2-group role assumption (LB-7).
EC2_SESSION_NAME = "inventory-ec2-query"
#: Role and external id the EC2 look-up falls back to when the target-accounts row does not name them (LB-7).
DEFAULT_EC2_ROLE_NAME = "DRSOrchestrationRole"
DEFAULT_EC2_EXTERNAL_ID = "drs-orchestration-cross-account"


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


def _ec2_role(account_id: str, accounts_table: Any) -> tuple[Any, Any]:
    """The role and external id to read EC2 of another account with (LB-7).

    A key the target-accounts row holds replaces its default even when ``""`` or ``None`` (``row.get(key,
    default)``, as production reads it); look-up errors fall back to the defaults.
    """
    role_arn = f"arn:aws:iam::{account_id}:role/{DEFAULT_EC2_ROLE_NAME}"
    external_id = DEFAULT_EC2_EXTERNAL_ID
    try:
        row = accounts_table.get_item(Key={"accountId": account_id}).get("Item")
        if row:
            role_arn = row.get("roleArn", role_arn)
            external_id = row.get("externalId", external_id)
    except Exception as e:
        logger.debug("Target account look-up failed, using defaults", extra={"accountId": account_id, "error": str(e)})
    return role_arn, external_id


def _assume_ec2_role(role_arn: Any, external_id: Any, sts_client: StsClientFactory) -> dict[str, Any]:
    """Assume the EC2 look-up role as legacy does: ``ExternalId`` always sent, whatever its value (LB-7).

    Unlike :func:`~lambda_shared.cross_account.assume_role_credentials` (LB-4's call, which drops a falsy
    ``ExternalId``), an empty or ``None`` value is passed on, so botocore rejects it before sending, as in legacy.
    """
    answer = sts_client().assume_role(
        RoleArn=role_arn,
        RoleSessionName=EC2_SESSION_NAME,
        ExternalId=external_id,
        DurationSeconds=DEFAULT_DURATION_SECONDS,
    )
    return answer["Credentials"]


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
            credentials = _assume_ec2_role(role_arn, external_id, sts_client)
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
