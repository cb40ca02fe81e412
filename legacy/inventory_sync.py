"""The production source-server inventory sync, recreated faithfully as the equivalence baseline.

This is ``handle_sync_source_server_inventory()`` of the query handler as it runs today (after active-region
filtering landed), per ``specs/legacy-inventory-sync.md`` LB-1..LB-10. It is deliberately *not* tidied: one long
function, ``print`` for output, and every defect the spec lists (an un-paginated account scan, stale cleanup
outside the account loop, a ``batch_writer`` whose failures are miscounted or escape, ...). Do not fix anything
here; the refactor lives in ``refactored/``.

The only concession to the harness is that the module's lazy table getters read the environment when first used
and :func:`reset_state` forgets them, so the baseline can run many times in one process.

Every field production reads is read with ``dict.get(key, default)`` (spec amended 2026-11-30): the default applies
only when the key is *absent*; a present value is kept even when it is ``""`` or ``None``. Choices the spec leaves
open, fixed here so the refactor can match them exactly:

* Inventory item (LB-8): ``sourceServerArn`` = ``server.get("arn", "")``; ``stagingAccountId`` =
  ``stagingArea.get("stagingAccountID", acct_id)`` (a present ``""`` is kept, and DynamoDB rejects its batch);
  ``sourceAccountId``/``sourceRegion`` = ``sourceCloudProperties.get("originAccountID", acct_id)`` /
  ``.get("originRegion", region)`` (the same ``.get`` semantics as the EC2 grouping); ``sourceServerID``,
  ``hostname``, ``fqdn``, ``instanceId``, ``agentVersion``, ``replicationState``, ``lagDuration``, ``lastSeen``,
  ``osName``, ``cpuModel``, ``macAddress`` default to ``""``; ``lastSnapshot`` is
  ``dataReplicationInfo.get("lastSnapshotDateTime", "")`` (always ``""``: DRS's model has no such member);
  ``cpuModel`` is ``""`` without CPUs; disks are ``{"deviceName": d.get("deviceName", ""), "bytes": d.get("bytes",
  0)}``; ``primaryIp`` is ``nics[0].get("ips", [""])[0]`` (``""`` when the first NIC has no ``ips`` key, IndexError
  when it has an empty list) and ``""`` without NICs.
* EC2 role look-up (LB-7): ``row.get("roleArn", default)`` and ``row.get("externalId", default)``, so a present
  ``""``/``None`` reaches ``AssumeRole`` (``ExternalId`` always sent), where botocore rejects it and the group fails.
* Stale cleanup keys (LB-9): ``(server.get("arn", ""), stagingArea.get("stagingAccountID", acct_id))``, built as the
  item's key is.
* Stale delete error line: ``Error deleting stale record {item.get("sourceServerID", "?")}: {e}``.
"""

import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timezone
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from lambda_shared.active_region_filter import get_active_regions, invalidate_region_cache, update_region_status
from lambda_shared.cross_account import get_current_account_id
from lambda_shared.drs_regions import DRS_REGIONS
from lambda_shared.response_utils import response

# Lazily initialised module globals, as the production handler keeps them.
_dynamodb: Any = None
_inventory_table: Any = None
_target_accounts_table: Any = None
_region_status_table: Any = None


def reset_state() -> None:
    """Forget the lazily created DynamoDB resource and tables (harness use; production never resets)."""
    global _dynamodb, _inventory_table, _target_accounts_table, _region_status_table
    _dynamodb = None
    _inventory_table = None
    _target_accounts_table = None
    _region_status_table = None


def _get_dynamodb() -> Any:
    global _dynamodb
    if _dynamodb is None:
        _dynamodb = boto3.resource("dynamodb")
    return _dynamodb


def get_inventory_table() -> Any:
    """Return the inventory table, or None when ``SOURCE_SERVER_INVENTORY_TABLE`` is unset."""
    global _inventory_table
    if _inventory_table is None:
        table_name = os.environ.get("SOURCE_SERVER_INVENTORY_TABLE")
        if table_name:
            _inventory_table = _get_dynamodb().Table(table_name)
    return _inventory_table


def get_target_accounts_table() -> Any:
    """Return the target-accounts table, or None when ``TARGET_ACCOUNTS_TABLE`` is unset."""
    global _target_accounts_table
    if _target_accounts_table is None:
        table_name = os.environ.get("TARGET_ACCOUNTS_TABLE")
        if table_name:
            _target_accounts_table = _get_dynamodb().Table(table_name)
    return _target_accounts_table


def get_region_status_table() -> Any:
    """Return the region-status table, or None when ``DRS_REGION_STATUS_TABLE`` is unset."""
    global _region_status_table
    if _region_status_table is None:
        table_name = os.environ.get("DRS_REGION_STATUS_TABLE")
        if table_name:
            _region_status_table = _get_dynamodb().Table(table_name)
    return _region_status_table


def handle_sync_source_server_inventory_legacy() -> dict[str, Any]:
    """Sync DRS source servers of every target account into the inventory table (production behaviour).

    Returns:
        An API response dict. Raises in the cases the spec marks as defects (zero accounts, unset target-accounts
        table, a failing final inventory flush, ...).
    """
    print("Starting source server inventory sync...")

    inventory_table = get_inventory_table()
    if not inventory_table:
        return response(500, {"error": "SOURCE_SERVER_INVENTORY_TABLE not configured"})

    now = datetime.now(timezone.utc).isoformat()  # noqa: UP017 - production code

    # Active region filtering
    active_regions = get_active_regions()
    if not active_regions:
        active_regions = DRS_REGIONS
        print("Region status table empty, scanning all regions to populate")
    else:
        skipped = len(DRS_REGIONS) - len(active_regions)
        print(f"Active region filtering: scanning {len(active_regions)} regions (skipping {skipped} inactive)")

    # Collect accounts to query
    accounts_to_query = []
    target_accounts_table = get_target_accounts_table()
    accounts_result = target_accounts_table.scan()
    for account_item in accounts_result.get("Items", []):
        accounts_to_query.append(
            {
                "accountId": account_item.get("accountId"),
                "roleArn": account_item.get("roleArn"),
                "externalId": account_item.get("externalId"),
            }
        )

    region_status_table = get_region_status_table()

    total_synced = 0
    total_errors = 0
    stale_deleted = 0

    def query_region(region: str, credentials: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        """Page through DescribeSourceServers in one region; classify any failure."""
        try:
            if credentials:
                drs_client = boto3.client(
                    "drs",
                    region_name=region,
                    config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}),
                    aws_access_key_id=credentials["AccessKeyId"],
                    aws_secret_access_key=credentials["SecretAccessKey"],
                    aws_session_token=credentials["SessionToken"],
                )
            else:
                drs_client = boto3.client(
                    "drs",
                    region_name=region,
                    config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}),
                )

            region_servers = []
            paginator = drs_client.get_paginator("describe_source_servers")
            for page in paginator.paginate():
                region_servers.extend(page.get("items", []))

            return region, {
                "status": "ACTIVE",
                "servers": region_servers,
                "serverCount": len(region_servers),
                "errorMessage": None,
            }
        except ClientError as e:
            error_code = e.response.get("Error", {}).get("Code", "")
            error_msg = e.response.get("Error", {}).get("Message", "")
            error_text = str(e)
            if error_code == "UninitializedAccountException" or "not initialized" in error_text.lower():
                status = "NOT_INITIALIZED"
                message = "DRS not initialized in region"
            elif "AccessDeniedException" in error_text or error_code == "AccessDeniedException":
                status = "IAM_PERMISSION_DENIED"
                message = f"IAM permissions denied: {error_msg}"
            elif "service control policy" in error_text.lower() or "scp" in error_text.lower():
                status = "SCP_DENIED"
                message = "Blocked by Service Control Policy"
            elif error_code in ("ThrottlingException", "TooManyRequestsException"):
                status = "THROTTLED"
                message = "API rate limit exceeded"
            elif error_code == "OptInRequired":
                status = "REGION_NOT_OPTED_IN"
                message = "Region not enabled in account"
            else:
                status = "ERROR"
                message = f"{error_code}: {error_msg}" if error_code else error_msg[:500]
            return region, {"status": status, "servers": [], "serverCount": 0, "errorMessage": message}
        except Exception as e:
            error_text = str(e)
            if "UnrecognizedClientException" in error_text or "security token" in error_text.lower():
                status = "REGION_NOT_ENABLED"
                message = "Region not enabled in account"
            elif "Could not connect" in error_text or "EndpointConnectionError" in error_text:
                status = "ENDPOINT_UNREACHABLE"
                message = "Cannot connect to DRS endpoint"
            else:
                status = "ERROR"
                message = error_text[:500]
            return region, {"status": status, "servers": [], "serverCount": 0, "errorMessage": message}

    def describe_instance_details(ec2_client: Any, instance_ids: list[str], ec2_details: dict[str, Any]) -> None:
        """DescribeInstances for some ids, recording network config and tags per instance id."""
        ec2_response = ec2_client.describe_instances(InstanceIds=instance_ids)
        for reservation in ec2_response.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                ec2_details[instance["InstanceId"]] = {
                    "vpcId": instance.get("VpcId", ""),
                    "subnetId": instance.get("SubnetId", ""),
                    "privateIp": instance.get("PrivateIpAddress", ""),
                    "securityGroups": [sg["GroupId"] for sg in instance.get("SecurityGroups", [])],
                    "instanceProfile": instance.get("IamInstanceProfile", {}).get("Arn", ""),
                    "tags": {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])},
                }

    for account in accounts_to_query:
        acct_id = account["accountId"]

        # Credentials for this account
        current_account_id = get_current_account_id()
        credentials = None
        if acct_id != current_account_id and account.get("roleArn"):
            try:
                sts_client = boto3.client("sts")
                assume_params = {
                    "RoleArn": account["roleArn"],
                    "RoleSessionName": "inventory-sync",
                    "DurationSeconds": 900,
                }
                if account.get("externalId"):
                    assume_params["ExternalId"] = account["externalId"]
                assumed = sts_client.assume_role(**assume_params)
                credentials = assumed["Credentials"]
            except Exception as e:
                print(f"Cannot assume role for {acct_id}: {e}")
                continue

        # Query DRS in every active region in parallel
        region_results = {}
        with ThreadPoolExecutor(max_workers=28) as executor:
            futures = {executor.submit(query_region, region, credentials): region for region in active_regions}
            for future in as_completed(futures):
                region, result = future.result()
                region_results[region] = result

        all_servers = []
        for region, result in region_results.items():
            for server in result["servers"]:
                all_servers.append((region, server))

        # Region status, per account
        if region_status_table:
            with region_status_table.batch_writer() as status_batch:
                for region, result in region_results.items():
                    status_item = {
                        "region": region,
                        "accountId": acct_id,
                        "status": result["status"],
                        "serverCount": result["serverCount"],
                        "lastUpdated": now,
                    }
                    if result["errorMessage"]:
                        status_item["errorMessage"] = result["errorMessage"]
                    status_batch.put_item(Item=status_item)
                    update_region_status(region, result["serverCount"], result["errorMessage"])

        print(f"Account {acct_id}: found {len(all_servers)} source servers")

        # EC2 enrichment, grouped by (origin account, origin region)
        ec2_groups = {}
        for region, server in all_servers:
            instance_id = server.get("sourceProperties", {}).get("identificationHints", {}).get("awsInstanceID")
            if not instance_id:
                continue
            cloud_props = server.get("sourceCloudProperties", {})
            group_key = (cloud_props.get("originAccountID", acct_id), cloud_props.get("originRegion", region))
            ec2_groups.setdefault(group_key, []).append(instance_id)

        ec2_details = {}
        for (ec2_acct, ec2_region), instance_ids in ec2_groups.items():
            try:
                current_account_id = get_current_account_id()
                if ec2_acct == current_account_id:
                    ec2_client = boto3.client(
                        "ec2",
                        region_name=ec2_region,
                        config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}),
                    )
                else:
                    role_arn = f"arn:aws:iam::{ec2_acct}:role/DRSOrchestrationRole"
                    external_id = "drs-orchestration-cross-account"
                    try:
                        acct_lookup = target_accounts_table.get_item(Key={"accountId": ec2_acct})
                        acct_row = acct_lookup.get("Item")
                        if acct_row:
                            role_arn = acct_row.get("roleArn", role_arn)
                            external_id = acct_row.get("externalId", external_id)
                    except Exception:  # noqa: S110 - production ignores look-up errors
                        pass
                    sts_client = boto3.client("sts")
                    ec2_assumed = sts_client.assume_role(
                        RoleArn=role_arn,
                        RoleSessionName="inventory-ec2-query",
                        ExternalId=external_id,
                        DurationSeconds=900,
                    )
                    ec2_creds = ec2_assumed["Credentials"]
                    ec2_client = boto3.client(
                        "ec2",
                        region_name=ec2_region,
                        config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}),
                        aws_access_key_id=ec2_creds["AccessKeyId"],
                        aws_secret_access_key=ec2_creds["SecretAccessKey"],
                        aws_session_token=ec2_creds["SessionToken"],
                    )

                for i in range(0, len(instance_ids), 100):
                    chunk = instance_ids[i : i + 100]
                    try:
                        describe_instance_details(ec2_client, chunk, ec2_details)
                    except ClientError:
                        # Some ids may be gone: fall back to one call per id, ignoring failures
                        for single_id in chunk:
                            try:
                                describe_instance_details(ec2_client, [single_id], ec2_details)
                            except Exception:  # noqa: S110 - production swallows per-id errors
                                pass
            except Exception as e:
                print(f"EC2 query failed for account {ec2_acct} region {ec2_region}: {e}")

        # Write inventory, per account
        with inventory_table.batch_writer() as batch:
            for region, server in all_servers:
                try:
                    source_props = server.get("sourceProperties", {})
                    hints = source_props.get("identificationHints", {})
                    replication_info = server.get("dataReplicationInfo", {})
                    life_cycle = server.get("lifeCycle", {})
                    cloud_props = server.get("sourceCloudProperties", {})
                    cpus = source_props.get("cpus", [])
                    nics = source_props.get("networkInterfaces", [])
                    disks = source_props.get("disks", [])
                    instance_id = hints.get("awsInstanceID", "")

                    item = {
                        "sourceServerArn": server.get("arn", ""),
                        "stagingAccountId": server.get("stagingArea", {}).get("stagingAccountID", acct_id),
                        "sourceServerID": server.get("sourceServerID", ""),
                        "sourceAccountId": cloud_props.get("originAccountID", acct_id),
                        "sourceRegion": cloud_props.get("originRegion", region),
                        "hostname": hints.get("hostname", ""),
                        "fqdn": hints.get("fqdn", ""),
                        "instanceId": instance_id,
                        "agentVersion": server.get("agentVersion", ""),
                        "replicationRegion": region,
                        "replicationState": replication_info.get("dataReplicationState", ""),
                        "lagDuration": replication_info.get("lagDuration", ""),
                        "lastSnapshot": replication_info.get("lastSnapshotDateTime", ""),
                        "lastSeen": life_cycle.get("lastSeenByServiceDateTime", ""),
                        "lastUpdated": now,
                        "cpuModel": cpus[0].get("modelName", "") if cpus else "",
                        "cpuCores": sum(cpu.get("cores", 0) for cpu in cpus),
                        "ramBytes": int(source_props.get("ramBytes", 0)),
                        "totalStorageBytes": sum(disk.get("bytes", 0) for disk in disks),
                        "osName": source_props.get("os", {}).get("fullString", ""),
                        "primaryIp": nics[0].get("ips", [""])[0] if nics else "",
                        "macAddress": nics[0].get("macAddress", "") if nics else "",
                        "disks": [{"deviceName": d.get("deviceName", ""), "bytes": d.get("bytes", 0)} for d in disks],
                    }

                    details = ec2_details.get(instance_id)
                    if details:
                        item["networkConfig"] = {
                            "vpcId": details["vpcId"],
                            "subnetId": details["subnetId"],
                            "privateIp": details["privateIp"],
                            "securityGroups": details["securityGroups"],
                            "instanceProfile": details["instanceProfile"],
                        }
                        item["sourceTags"] = details["tags"]

                    batch.put_item(Item=item)
                    total_synced += 1
                except Exception as e:
                    print(f"Error writing {server.get('sourceServerID') or '?'}: {e}")
                    total_errors += 1

    # Clean up stale records (runs once, after the account loop)
    print(f"Cleaning up stale records for account {acct_id}...")
    synced_keys = set()
    for _region, server in all_servers:
        synced_keys.add((server.get("arn", ""), server.get("stagingArea", {}).get("stagingAccountID", acct_id)))

    scan_kwargs = {
        "FilterExpression": "sourceAccountId = :acct_id",
        "ExpressionAttributeValues": {":acct_id": acct_id},
    }
    while True:
        scan_result = inventory_table.scan(**scan_kwargs)
        for existing in scan_result.get("Items", []):
            existing_key = (existing.get("sourceServerArn"), existing.get("stagingAccountId"))
            if existing_key not in synced_keys:
                try:
                    inventory_table.delete_item(
                        Key={
                            "sourceServerArn": existing["sourceServerArn"],
                            "stagingAccountId": existing["stagingAccountId"],
                        }
                    )
                    stale_deleted += 1
                except Exception as e:
                    print(f"Error deleting stale record {existing.get('sourceServerID', '?')}: {e}")
        if "LastEvaluatedKey" not in scan_result:
            break
        scan_kwargs["ExclusiveStartKey"] = scan_result["LastEvaluatedKey"]

    if stale_deleted:
        print(f"Deleted {stale_deleted} stale records for account {acct_id}")

    result = {
        "message": "Source server inventory sync complete",
        "totalSynced": total_synced,
        "totalErrors": total_errors,
        "staleRecordsDeleted": stale_deleted,
        "regionsScanned": len(active_regions),
        "regionsSkipped": len(DRS_REGIONS) - len(active_regions),
        "timestamp": now,
    }
    print(
        f"Inventory sync: {total_synced} synced, {total_errors} errors, "
        f"{stale_deleted} stale deleted, {len(active_regions)} regions scanned"
    )

    invalidate_region_cache()
    print("Region cache invalidated")

    return response(200, result)
