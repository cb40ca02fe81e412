"""Query handler: the source-server inventory sync, shaped like the deployed Lambda (a test artifact).

Written from ``specs/legacy-inventory-sync.md`` alone, independently of ``legacy/``, to stand in for the code a team
downloads from its Lambda (``aws lambda get-function``): configuration read from the environment when the module is
imported, a module-level DynamoDB resource, lazily created table globals and the layer imported as ``shared`` (partly
inside the handler, as production does). Output is ``print``; defects the spec describes are kept.
"""

import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timezone
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from shared.drs_regions import DRS_REGIONS
from shared.response_utils import response

SOURCE_SERVER_INVENTORY_TABLE = os.environ.get("SOURCE_SERVER_INVENTORY_TABLE")
TARGET_ACCOUNTS_TABLE = os.environ.get("TARGET_ACCOUNTS_TABLE")
DRS_REGION_STATUS_TABLE = os.environ.get("DRS_REGION_STATUS_TABLE")

dynamodb = boto3.resource("dynamodb")

_source_server_inventory_table = None
_target_accounts_table = None
_region_status_table = None

DEFAULT_ROLE_NAME = "DRSOrchestrationRole"
DEFAULT_EXTERNAL_ID = "drs-orchestration-cross-account"
EC2_BATCH_SIZE = 100


def get_source_server_inventory_table() -> Any:
    """The inventory table, or None when it is not configured."""
    global _source_server_inventory_table
    if _source_server_inventory_table is None and SOURCE_SERVER_INVENTORY_TABLE:
        _source_server_inventory_table = dynamodb.Table(SOURCE_SERVER_INVENTORY_TABLE)
    return _source_server_inventory_table


def get_target_accounts_table() -> Any:
    """The target-accounts table, or None when it is not configured."""
    global _target_accounts_table
    if _target_accounts_table is None and TARGET_ACCOUNTS_TABLE:
        _target_accounts_table = dynamodb.Table(TARGET_ACCOUNTS_TABLE)
    return _target_accounts_table


def get_region_status_table() -> Any:
    """The region-status table, or None when it is not configured."""
    global _region_status_table
    if _region_status_table is None and DRS_REGION_STATUS_TABLE:
        _region_status_table = dynamodb.Table(DRS_REGION_STATUS_TABLE)
    return _region_status_table


def _aws_config() -> Config:
    return Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})


def _regional_client(service: str, region: str, credentials: dict[str, Any] | None) -> Any:
    if credentials:
        return boto3.client(
            service,
            region_name=region,
            config=_aws_config(),
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    return boto3.client(service, region_name=region, config=_aws_config())


def _failed(status: str, message: str) -> dict[str, Any]:
    return {"status": status, "servers": [], "serverCount": 0, "errorMessage": message}


def _scan_drs_region(region: str, credentials: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """All source servers of one region, or why the region could not be read."""
    try:
        drs = _regional_client("drs", region, credentials)
        servers = []
        for page in drs.get_paginator("describe_source_servers").paginate():
            servers.extend(page.get("items", []))
        return region, {"status": "ACTIVE", "servers": servers, "serverCount": len(servers), "errorMessage": None}
    except ClientError as e:
        error = e.response.get("Error", {})
        code = error.get("Code", "")
        message = error.get("Message", "")
        text = str(e)
        if code == "UninitializedAccountException" or "not initialized" in text.lower():
            return region, _failed("NOT_INITIALIZED", "DRS not initialized in region")
        if "AccessDeniedException" in text or code == "AccessDeniedException":
            return region, _failed("IAM_PERMISSION_DENIED", f"IAM permissions denied: {message}")
        if "service control policy" in text.lower() or "scp" in text.lower():
            return region, _failed("SCP_DENIED", "Blocked by Service Control Policy")
        if code in ("ThrottlingException", "TooManyRequestsException"):
            return region, _failed("THROTTLED", "API rate limit exceeded")
        if code == "OptInRequired":
            return region, _failed("REGION_NOT_OPTED_IN", "Region not enabled in account")
        return region, _failed("ERROR", f"{code}: {message}" if code else message[:500])
    except Exception as e:
        text = str(e)
        if "UnrecognizedClientException" in text or "security token" in text.lower():
            return region, _failed("REGION_NOT_ENABLED", "Region not enabled in account")
        if "Could not connect" in text or "EndpointConnectionError" in text:
            return region, _failed("ENDPOINT_UNREACHABLE", "Cannot connect to DRS endpoint")
        return region, _failed("ERROR", text[:500])


def _read_instances(ec2: Any, instance_ids: list[str], details: dict[str, Any]) -> None:
    """Describe some instances and remember what the inventory keeps of each."""
    result = ec2.describe_instances(InstanceIds=instance_ids)
    for reservation in result.get("Reservations", []):
        for instance in reservation.get("Instances", []):
            details[instance["InstanceId"]] = {
                "vpcId": instance.get("VpcId", ""),
                "subnetId": instance.get("SubnetId", ""),
                "privateIp": instance.get("PrivateIpAddress", ""),
                "securityGroups": [group["GroupId"] for group in instance.get("SecurityGroups", [])],
                "instanceProfile": instance.get("IamInstanceProfile", {}).get("Arn", ""),
                "tags": {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])},
            }


def _inventory_item(
    server: dict[str, Any], account_id: str, region: str, now: str, ec2_details: dict[str, Any]
) -> dict[str, Any]:
    """One inventory record. Every field is ``.get(key, default)``: a present value is kept, even "" or None."""
    props = server.get("sourceProperties", {})
    hints = props.get("identificationHints", {})
    replication = server.get("dataReplicationInfo", {})
    cloud = server.get("sourceCloudProperties", {})
    cpus = props.get("cpus", [])
    disks = props.get("disks", [])
    nics = props.get("networkInterfaces", [])
    instance_id = hints.get("awsInstanceID", "")
    item = {
        "sourceServerArn": server.get("arn", ""),
        "stagingAccountId": server.get("stagingArea", {}).get("stagingAccountID", account_id),
        "sourceServerID": server.get("sourceServerID", ""),
        "sourceAccountId": cloud.get("originAccountID", account_id),
        "sourceRegion": cloud.get("originRegion", region),
        "hostname": hints.get("hostname", ""),
        "fqdn": hints.get("fqdn", ""),
        "instanceId": instance_id,
        "agentVersion": server.get("agentVersion", ""),
        "replicationRegion": region,
        "replicationState": replication.get("dataReplicationState", ""),
        "lagDuration": replication.get("lagDuration", ""),
        "lastSnapshot": replication.get("lastSnapshotDateTime", ""),
        "lastSeen": server.get("lifeCycle", {}).get("lastSeenByServiceDateTime", ""),
        "lastUpdated": now,
        "cpuModel": cpus[0].get("modelName", "") if cpus else "",
        "cpuCores": sum(cpu.get("cores", 0) for cpu in cpus),
        "ramBytes": int(props.get("ramBytes", 0)),
        "totalStorageBytes": sum(disk.get("bytes", 0) for disk in disks),
        "osName": props.get("os", {}).get("fullString", ""),
        "primaryIp": nics[0].get("ips", [""])[0] if nics else "",
        "macAddress": nics[0].get("macAddress", "") if nics else "",
        "disks": [{"deviceName": disk.get("deviceName", ""), "bytes": disk.get("bytes", 0)} for disk in disks],
    }
    ec2 = ec2_details.get(instance_id)
    if ec2:
        item["networkConfig"] = {
            "vpcId": ec2["vpcId"],
            "subnetId": ec2["subnetId"],
            "privateIp": ec2["privateIp"],
            "securityGroups": ec2["securityGroups"],
            "instanceProfile": ec2["instanceProfile"],
        }
        item["sourceTags"] = ec2["tags"]
    return item


def handle_sync_source_server_inventory() -> dict[str, Any]:
    """Sync every target account's DRS source servers into the inventory table."""
    from shared.active_region_filter import get_active_regions, invalidate_region_cache, update_region_status
    from shared.cross_account import get_current_account_id

    print("Starting source server inventory sync...")
    inventory_table = get_source_server_inventory_table()
    if inventory_table is None:
        return response(500, {"error": "SOURCE_SERVER_INVENTORY_TABLE not configured"})
    now = datetime.now(timezone.utc).isoformat()

    active_regions = get_active_regions()
    if not active_regions:
        active_regions = DRS_REGIONS
        print("Region status table empty, scanning all regions to populate")
    else:
        print(
            f"Active region filtering: scanning {len(active_regions)} regions "
            f"(skipping {len(DRS_REGIONS) - len(active_regions)} inactive)"
        )

    target_accounts_table = get_target_accounts_table()
    accounts = target_accounts_table.scan().get("Items", [])
    region_status_table = get_region_status_table()

    total_synced = 0
    total_errors = 0
    stale_deleted = 0

    for account in accounts:
        acct_id = account.get("accountId")

        credentials = None
        if acct_id != get_current_account_id() and account.get("roleArn"):
            try:
                assume_args = {
                    "RoleArn": account["roleArn"],
                    "RoleSessionName": "inventory-sync",
                    "DurationSeconds": 900,
                }
                if account.get("externalId"):
                    assume_args["ExternalId"] = account["externalId"]
                credentials = boto3.client("sts").assume_role(**assume_args)["Credentials"]
            except Exception as e:
                print(f"Cannot assume role for {acct_id}: {e}")
                continue

        region_results = {}
        with ThreadPoolExecutor(max_workers=28) as pool:
            futures = [pool.submit(_scan_drs_region, region, credentials) for region in active_regions]
            for future in as_completed(futures):
                region, result = future.result()
                region_results[region] = result

        all_servers = [(region, server) for region, result in region_results.items() for server in result["servers"]]

        if region_status_table:
            with region_status_table.batch_writer() as status_writer:
                for region, result in region_results.items():
                    row = {
                        "region": region,
                        "accountId": acct_id,
                        "status": result["status"],
                        "serverCount": result["serverCount"],
                        "lastUpdated": now,
                    }
                    if result["errorMessage"]:
                        row["errorMessage"] = result["errorMessage"]
                    status_writer.put_item(Item=row)
                    update_region_status(region, result["serverCount"], result["errorMessage"])

        print(f"Account {acct_id}: found {len(all_servers)} source servers")

        # EC2 details, one look-up per (origin account, origin region)
        groups: dict[tuple[str, str], list[str]] = {}
        for region, server in all_servers:
            instance_id = server.get("sourceProperties", {}).get("identificationHints", {}).get("awsInstanceID", "")
            if instance_id:
                cloud = server.get("sourceCloudProperties", {})
                origin = (cloud.get("originAccountID", acct_id), cloud.get("originRegion", region))
                groups.setdefault(origin, []).append(instance_id)

        ec2_details: dict[str, Any] = {}
        for (ec2_account, ec2_region), instance_ids in groups.items():
            try:
                if ec2_account == get_current_account_id():
                    ec2 = _regional_client("ec2", ec2_region, None)
                else:
                    role_arn = f"arn:aws:iam::{ec2_account}:role/{DEFAULT_ROLE_NAME}"
                    external_id = DEFAULT_EXTERNAL_ID
                    try:
                        target = target_accounts_table.get_item(Key={"accountId": ec2_account}).get("Item")
                        if target:
                            role_arn = target.get("roleArn", role_arn)
                            external_id = target.get("externalId", external_id)
                    except Exception:
                        pass
                    assumed = boto3.client("sts").assume_role(
                        RoleArn=role_arn,
                        RoleSessionName="inventory-ec2-query",
                        ExternalId=external_id,
                        DurationSeconds=900,
                    )
                    ec2 = _regional_client("ec2", ec2_region, assumed["Credentials"])
                for start in range(0, len(instance_ids), EC2_BATCH_SIZE):
                    batch_ids = instance_ids[start : start + EC2_BATCH_SIZE]
                    try:
                        _read_instances(ec2, batch_ids, ec2_details)
                    except ClientError:
                        for instance_id in batch_ids:
                            try:
                                _read_instances(ec2, [instance_id], ec2_details)
                            except Exception:
                                pass
            except Exception as e:
                print(f"EC2 query failed for account {ec2_account} region {ec2_region}: {e}")

        with inventory_table.batch_writer() as batch:
            for region, server in all_servers:
                try:
                    batch.put_item(Item=_inventory_item(server, acct_id, region, now, ec2_details))
                    total_synced += 1
                except Exception as e:
                    print(f"Error writing {server.get('sourceServerID') or '?'}: {e}")
                    total_errors += 1

    # Stale records (after the loop: the last account's)
    print(f"Cleaning up stale records for account {acct_id}...")
    synced_keys = {
        (server.get("arn", ""), server.get("stagingArea", {}).get("stagingAccountID", acct_id))
        for _, server in all_servers
    }
    scan_args: dict[str, Any] = {
        "FilterExpression": "sourceAccountId = :acct_id",
        "ExpressionAttributeValues": {":acct_id": acct_id},
    }
    while True:
        page = inventory_table.scan(**scan_args)
        for record in page.get("Items", []):
            if (record.get("sourceServerArn"), record.get("stagingAccountId")) in synced_keys:
                continue
            try:
                inventory_table.delete_item(
                    Key={"sourceServerArn": record["sourceServerArn"], "stagingAccountId": record["stagingAccountId"]}
                )
                stale_deleted += 1
            except Exception as e:
                print(f"Error deleting stale record {record.get('sourceServerID', '?')}: {e}")
        if "LastEvaluatedKey" not in page:
            break
        scan_args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    if stale_deleted:
        print(f"Deleted {stale_deleted} stale records for account {acct_id}")

    print(
        f"Inventory sync: {total_synced} synced, {total_errors} errors, {stale_deleted} stale deleted, "
        f"{len(active_regions)} regions scanned"
    )
    invalidate_region_cache()
    print("Region cache invalidated")
    return response(
        200,
        {
            "message": "Source server inventory sync complete",
            "totalSynced": total_synced,
            "totalErrors": total_errors,
            "staleRecordsDeleted": stale_deleted,
            "regionsScanned": len(active_regions),
            "regionsSkipped": 28 - len(active_regions),
            "timestamp": now,
        },
    )
