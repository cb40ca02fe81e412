"""What the world knows, independently of any code under test: the truth the engine's oracles judge outcomes by.

A run's :func:`world_truth` is a plain JSON-able mapping (it travels in the observation, outside the compared
sections):

* ``lambdaAccount``: the account the Lambda runs in.
* ``targetAccounts``: the target-account rows in the order a ``Scan`` returns them, each with the account whose
  credentials a sync of that row uses (LB-4: the Lambda's own for its own account and for a row without a truthy
  ``roleArn``, else the account the role ARN names) and its ``roleArn`` as stored (absent when the row has none).
* ``servers``: every DRS source server of the world: the account and region whose DRS holds it, its ``arn``, its
  ``stagingArea.stagingAccountID``, its origin (``sourceCloudProperties``), the attributes of its inventory item
  that follow from its data alone (:func:`item_identity`) and, when LB-8 cannot build an item from its data, why
  (:func:`item_problem`).
* ``inventoryBefore``: the inventory records the table held before the run (the scenario's rows and the primed
  ones), as stored.
* ``drsAnswers``: per DRS (account, region) the run asked, whether the world answered a complete listing: every
  page of one unfiltered pagination served by the DRS fake itself (a fault's answer, an error or a cut-off body,
  never reaches the fake). The fake answers a caller from the DRS of the account its credentials belong to, so an
  answer for (account, region) is always an answer to that account's own credentials.
* ``inventoryPutsApplied``: how many inventory item writes the table applied during the run (the put requests of
  every call the service answered with success, less those a fault left unprocessed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from harness.world.aws.calls import AwsCall
from harness.world.aws.drs_fake import ServedPage

#: How long before the scenario clock a primed record was last synced.
PRIMED_AGE = timedelta(days=1)


def item_problem(server: Mapping[str, Any]) -> str | None:
    """Why LB-8 cannot build an inventory item from a server's data, or ``None`` when it can.

    Every attribute is read as the spec reads it (``dict.get(key, default)``: a default only for an absent key), so
    a present ``null`` where a mapping or a number is read, or a first network interface with an empty ``ips``
    list, makes the item unbuildable, which LB-8 counts as a per-server error.
    """
    try:
        props = server.get("sourceProperties", {})
        hints = props.get("identificationHints", {})
        for key in ("hostname", "fqdn", "awsInstanceID"):
            hints.get(key, "")
        replication = server.get("dataReplicationInfo", {})
        for key in ("dataReplicationState", "lagDuration", "lastSnapshotDateTime"):
            replication.get(key, "")
        server.get("lifeCycle", {}).get("lastSeenByServiceDateTime", "")
        cloud = server.get("sourceCloudProperties", {})
        cloud.get("originAccountID"), cloud.get("originRegion")
        server.get("stagingArea", {}).get("stagingAccountID")
        cpus = props.get("cpus", [])
        _ = (cpus[0].get("modelName", "") if cpus else "", sum(cpu.get("cores", 0) for cpu in cpus))
        int(props.get("ramBytes", 0))
        disks = props.get("disks", [])
        _ = (sum(disk.get("bytes", 0) for disk in disks), [(d.get("deviceName", ""), d.get("bytes", 0)) for d in disks])
        props.get("os", {}).get("fullString", "")
        nics = props.get("networkInterfaces", [])
        if nics:
            _ = (nics[0].get("ips", [""])[0], nics[0].get("macAddress", ""))
    except Exception as error:  # noqa: BLE001 - any failure is the answer
        return f"{type(error).__name__}: {error}"
    return None


def inventory_key(server: Mapping[str, Any], account: str) -> tuple[Any, Any]:
    """The inventory key LB-8 gives a server found by ``account``: (``arn``, ``stagingArea.stagingAccountID``), the
    account when the staging account is absent (a present empty value is kept, as LB-8 reads it)."""
    staging = server.get("stagingArea", {})
    return server.get("arn"), staging.get("stagingAccountID", account) if isinstance(staging, Mapping) else None


def primed_record(server: Mapping[str, Any], account: str, region: str, clock: str) -> dict[str, Any] | None:
    """The record an earlier full sync left for a server of ``account``/``region``, or ``None`` when its key is
    empty (DynamoDB would not have stored it)."""
    arn, staging = inventory_key(server, account)
    if not isinstance(arn, str) or not arn or not isinstance(staging, str) or not staging:
        return None
    cloud = server.get("sourceCloudProperties")
    cloud = cloud if isinstance(cloud, Mapping) else {}
    props = server.get("sourceProperties")
    hints = props.get("identificationHints") if isinstance(props, Mapping) else None
    hints = hints if isinstance(hints, Mapping) else {}
    synced = datetime.fromisoformat(clock.replace("Z", "+00:00")) - PRIMED_AGE
    record = {
        "sourceServerArn": arn,
        "stagingAccountId": staging,
        "sourceServerID": server.get("sourceServerID") or "",
        "sourceAccountId": cloud.get("originAccountID", account),
        "sourceRegion": cloud.get("originRegion", region),
        "hostname": hints.get("hostname") or "",
        "instanceId": hints.get("awsInstanceID") or "",
        "replicationRegion": region,
        "lastUpdated": synced.isoformat(),
    }
    return {key: value for key, value in record.items() if value is not None}


def primed_records(servers: Mapping[tuple[str, str], list[dict[str, Any]]], clock: str) -> list[dict[str, Any]]:
    """One primed record per server with a non-empty key; a later server with the same key replaces an earlier."""
    records: dict[tuple[str, str], dict[str, Any]] = {}
    for (account, region), group in servers.items():
        for server in group:
            record = primed_record(server, account, region, clock)
            if record is not None:
                records[(record["sourceServerArn"], record["stagingAccountId"])] = record
    return list(records.values())


def credentials_account(row: Mapping[str, Any], lambda_account: str) -> str | None:
    """The account whose credentials LB-4 queries a target row with (``None``: a role ARN naming no account)."""
    role = row.get("roleArn")
    if str(row.get("accountId")) == lambda_account or not role:
        return lambda_account
    parts = str(role).split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() and len(parts[4]) == 12 else None


def complete_answers(served: Iterable[ServedPage]) -> set[tuple[str, str]]:
    """The DRS (account, region) pairs some unfiltered pagination read to its end, every page served by the fake."""
    offsets: dict[tuple[str, str, int], set[int]] = defaultdict(set)
    totals: dict[tuple[str, str, int], int] = {}
    for page in served:
        if page.filtered:
            continue
        offsets[(page.account, page.region, page.size)].add(page.offset)
        totals[(page.account, page.region, page.size)] = page.total
    return {
        (account, region)
        for (account, region, size), seen in offsets.items()
        if set(range(0, max(totals[(account, region, size)], 1), size)) <= seen
    }


def applied_puts(calls: Iterable[AwsCall], table: str) -> int:
    """How many item writes to a (logical) table the service applied: put requests of successful calls, less the
    ones a fault held back as unprocessed."""
    applied = 0
    for call in calls:
        if call.service != "dynamodb" or call.table != table or not call.applied:
            continue
        if call.operation == "PutItem":
            applied += 1
        elif call.operation == "BatchWriteItem":
            requests = [r for writes in (call.params.get("RequestItems") or {}).values() for r in writes]
            applied += sum(1 for request in requests if "PutRequest" in request) - call.held_back
    return applied


def item_identity(server: Mapping[str, Any], region: str) -> dict[str, Any] | None:
    """The attributes of a server's inventory item that follow from its data and its region alone (LB-8), whoever
    lists it; ``None`` when LB-8 cannot build the item."""
    if item_problem(server) is not None:
        return None
    hints = server.get("sourceProperties", {}).get("identificationHints", {})
    return {
        "sourceServerID": server.get("sourceServerID", ""),
        "hostname": hints.get("hostname", ""),
        "fqdn": hints.get("fqdn", ""),
        "instanceId": hints.get("awsInstanceID", ""),
        "agentVersion": server.get("agentVersion", ""),
        "replicationRegion": region,
        "replicationState": server.get("dataReplicationInfo", {}).get("dataReplicationState", ""),
        "osName": server.get("sourceProperties", {}).get("os", {}).get("fullString", ""),
    }


def _server_truth(account: str, region: str, server: Mapping[str, Any]) -> dict[str, Any]:
    staging = server.get("stagingArea")
    cloud = server.get("sourceCloudProperties")
    return {
        "account": account,
        "region": region,
        "arn": server.get("arn"),
        "sourceServerID": server.get("sourceServerID"),
        "stagingAccountId": staging.get("stagingAccountID") if isinstance(staging, Mapping) else None,
        "origin": [cloud.get("originAccountID"), cloud.get("originRegion")] if isinstance(cloud, Mapping) else None,
        "itemProblem": item_problem(server),
        "item": item_identity(server, region),
    }


def world_truth(
    *,
    lambda_account: str,
    target_rows: Iterable[Mapping[str, Any]],
    servers: Mapping[tuple[str, str], list[dict[str, Any]]],
    inventory_before: Iterable[Mapping[str, Any]],
    served: Iterable[ServedPage],
    calls: Iterable[AwsCall],
) -> dict[str, Any]:
    """The truth of one run (the module docstring describes each part).

    Args:
        lambda_account: The Lambda's account.
        target_rows: The target-accounts table's rows, in scan order.
        servers: The world's DRS source servers per (account, region).
        inventory_before: The inventory records before the run.
        served: The pages the DRS fake answered during the run.
        calls: The run's recorded calls (for the DRS pairs it asked).
    """
    calls = list(calls)
    complete = complete_answers(served)
    asked = {(call.account, call.region) for call in calls if call.service == "drs"}
    return {
        "lambdaAccount": lambda_account,
        "targetAccounts": [
            {
                "accountId": str(row.get("accountId")),
                "credentialsAccount": credentials_account(row, lambda_account),
                **{key: row[key] for key in ("roleArn",) if key in row},
            }
            for row in target_rows
        ],
        "servers": [_server_truth(account, region, s) for (account, region), group in servers.items() for s in group],
        "inventoryBefore": [dict(record) for record in inventory_before],
        "drsAnswers": [
            {"account": account, "region": region, "complete": (account, region) in complete}
            for account, region in sorted(asked)
        ],
        "inventoryPutsApplied": applied_puts(calls, "inventory"),
    }
