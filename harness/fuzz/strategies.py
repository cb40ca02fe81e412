"""Hypothesis strategies for whole scenario documents: small, valid, realistic worlds with odd corners.

:func:`scenario_documents` draws a document in the YAML format of ``docs/scenario-format.md`` (a plain dict, so a
failing example can be written out as a scenario file as is). The world is kept small so one example runs in about a
second: at most three target accounts, three active regions, a handful of servers and faults. Everything is drawn
from small pools (accounts, regions, server ids) so that parts of the world meet each other: an inventory record
that matches a server, a fault that hits an account that is really scanned, an origin account that is also a target.

Shrinking moves towards the plain case: the first element of every choice is the ordinary one (a target with its
own role, no fault, no odd server shape), so a shrunk example only keeps what the failure needs.

Faults with a bounded trigger (``once``, ``{first: N}``) only match calls the code under test makes one after
another (one region's pages, one account's role, one EC2 group, one table's batch writes): a bounded fault on calls
that run in parallel fires on whichever thread comes first, which is scheduling, not behaviour.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness.scenario.errors import CATALOGUE
from harness.scenario.model import DEFAULT_LAMBDA_ACCOUNT

LAMBDA_ACCOUNT = DEFAULT_LAMBDA_ACCOUNT
#: Accounts that may be target-account rows (the Lambda's own first: the simplest world).
ACCOUNTS = (LAMBDA_ACCOUNT, "222222222222", "333333333333", "444444444444")
#: An account that only ever appears as the origin of servers (never a target row).
OUTSIDER = "555555555555"
#: Regions that can be active; the last ones only appear as origins and inactive rows.
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
OTHER_REGIONS = ("us-west-2", "sa-east-1")
#: Server ids explicit servers and inventory records share, so records sometimes match a server.
SERVER_IDS = tuple(f"s-f0000000000000{n:03d}" for n in range(1, 5))
#: An instance id EC2 does not know (terminated and purged).
UNKNOWN_INSTANCE_IDS = ("i-0deadbeef0000001a", "i-0deadbeef0000002b")
ROLE_NAMES = ("DRSOrchestrationRole", "CustomDrsInventoryRole")
DEFAULT_EXTERNAL_ID = "drs-orchestration-cross-account"
#: An ExternalId a role may require that no row sends.
OTHER_EXTERNAL_ID = "tenant-other"
SESSION_NAMES = ("inventory-sync", "inventory-ec2-query")
TABLE_VARIABLES = ("SOURCE_SERVER_INVENTORY_TABLE", "TARGET_ACCOUNTS_TABLE", "DRS_REGION_STATUS_TABLE")
REGION_STATES = (
    "AVAILABLE",
    "UNINITIALIZED",
    "ERROR",
    "ACTIVE",
    "NOT_INITIALIZED",
    "IAM_PERMISSION_DENIED",
    "THROTTLED",
    "REGION_NOT_OPTED_IN",
)
REPLICATION_STATES = ("CONTINUOUS", "INITIAL_SYNC", "BACKLOG", "STALLED", "DISCONNECTED", "STOPPED", "PAUSED")
#: Error messages that steer legacy's DRS error classification (LB-5 matches on text as well as codes).
DRS_MESSAGES = (
    "User is not authorized to perform: drs:DescribeSourceServers with an explicit deny in a service control policy",
    "Account not initialized for Elastic Disaster Recovery",
    "Blocked by SCP",
)
#: (table, operation) pairs whose calls are made one after another, so a bounded fault is deterministic.
SEQUENTIAL_TABLE_OPERATIONS = (
    ("inventory", "BatchWriteItem"),
    ("inventory", "Scan"),
    ("inventory", "DeleteItem"),
    ("targetAccounts", "Scan"),
    ("regionStatus", "Scan"),
    ("regionStatus", "BatchWriteItem"),
)
TABLE_OPERATIONS = {
    "inventory": ("BatchWriteItem", "Scan", "DeleteItem", "Query", "PutItem"),
    "targetAccounts": ("Scan", "GetItem"),
    "regionStatus": ("PutItem", "BatchWriteItem", "Scan"),
}
MAX_ACCOUNTS = 3
MAX_GROUPS = 3
MAX_FAULTS = 3
MAX_STALE_RECORDS = 3

_ABSENT = object()


def _entry(**values: Any) -> dict[str, Any]:
    """A mapping without the keys whose value is the absent marker."""
    return {key: value for key, value in values.items() if value is not _ABSENT}


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Absent (the simplest) or a value of ``strategy``."""
    return st.one_of(st.just(_ABSENT), strategy)


def _rarely(strategy: st.SearchStrategy[Any], one_in: int = 10) -> st.SearchStrategy[Any]:
    """Absent most of the time, a value of ``strategy`` about once in ``one_in`` draws."""
    return st.integers(1, one_in).flatmap(lambda n: strategy if n == one_in else st.just(_ABSENT))


def role_arn(account: str, role: str = ROLE_NAMES[0]) -> str:
    """The IAM role ARN of ``role`` in ``account``."""
    return f"arn:aws:iam::{account}:role/{role}"


def server_arn(account: str, region: str, server_id: str) -> str:
    """The DRS source-server ARN of ``server_id`` replicating into ``account``/``region``."""
    return f"arn:aws:drs:{region}:{account}:source-server/{server_id}"


# -------------------------------------------------------------------------------------------------------- effects


#: Effect kinds in drawing order, errors (the richest: codes, statuses, messages) weighted up.
EFFECT_KINDS = ("error", "error", "error", "connection", "timeout", "malformed", "credentials")
EXPIRED_CREDENTIALS = "Unable to refresh credentials: the security token included in the request is expired"


@st.composite
def effects(draw: st.DrawFn, service: str) -> dict[str, Any]:
    """Every effect kind the world supports for ``service`` but ``unprocessed`` (see :func:`dynamodb_faults`).

    Errors take a code of the service's catalogue, sometimes a message legacy classifies by text (LB-5).
    """
    kind = draw(st.sampled_from(EFFECT_KINDS))
    if kind == "error":
        messages = st.sampled_from(DRS_MESSAGES) if service == "drs" else st.just("Injected by the fuzzer")
        return _entry(
            kind="error" if draw(st.booleans()) else _ABSENT,
            code=draw(st.sampled_from(sorted(CATALOGUE[service]))),
            message=draw(_rarely(messages, 4)),
        )
    if kind == "credentials":
        return _entry(kind=kind, message=draw(_optional(st.just(EXPIRED_CREDENTIALS))))
    return {"kind": kind}


def _bounded_triggers() -> st.SearchStrategy[Any]:
    return st.one_of(st.just("once"), st.builds(lambda n: {"first": n}, st.integers(1, 3)))


@st.composite
def triggers(draw: st.DrawFn, sequential: bool, paged: bool = False) -> Any:
    """``always`` (absent or explicit), a bounded trigger when the matched calls are sequential, or a page trigger."""
    choices = ["absent", "always"] + ["bounded"] * 2 * sequential + ["page"] * 2 * paged
    choice = draw(st.sampled_from(choices))
    if choice == "bounded":
        return draw(_bounded_triggers())
    if choice == "page":
        return {"page": draw(st.integers(1, 3))}
    return _ABSENT if choice == "absent" else "always"


# --------------------------------------------------------------------------------------------------------- faults


@st.composite
def drs_faults(draw: st.DrawFn) -> dict[str, Any]:
    """A DRS fault: on ``DescribeSourceServers`` (or any operation), optionally scoped to an account and region."""
    operation = draw(st.sampled_from(["DescribeSourceServers", _ABSENT]))
    account = draw(_optional(st.sampled_from(ACCOUNTS)))
    region = draw(_optional(st.sampled_from(REGIONS)))
    paged = operation == "DescribeSourceServers"
    when = draw(triggers(sequential=region is not _ABSENT, paged=paged))
    return _entry(
        service="drs", operation=operation, account=account, region=region, effect=draw(effects("drs")), when=when
    )


@st.composite
def sts_faults(draw: st.DrawFn) -> dict[str, Any]:
    """An STS fault on ``AssumeRole`` (per role account and session) or ``GetCallerIdentity``."""
    operation = draw(st.sampled_from(["AssumeRole", "AssumeRole", "GetCallerIdentity", _ABSENT]))
    role_account = session = _ABSENT
    if operation == "AssumeRole":
        role_account = draw(_optional(st.sampled_from(ACCOUNTS[1:] + (OUTSIDER,))))
        session = draw(st.sampled_from([*SESSION_NAMES, _ABSENT]))
    when = draw(triggers(sequential=session == SESSION_NAMES[0]))
    return _entry(
        service="sts",
        operation=operation,
        roleAccount=role_account,
        sessionName=session,
        effect=draw(effects("sts")),
        when=when,
    )


@st.composite
def ec2_faults(draw: st.DrawFn) -> dict[str, Any]:
    """An EC2 fault on ``DescribeInstances``; bounded only for one (origin account, region) group."""
    account = draw(_optional(st.sampled_from(ACCOUNTS + (OUTSIDER,))))
    region = draw(_optional(st.sampled_from(REGIONS + OTHER_REGIONS)))
    when = draw(triggers(sequential=account is not _ABSENT and region is not _ABSENT))
    return _entry(
        service="ec2",
        operation="DescribeInstances",
        account=account,
        region=region,
        effect=draw(effects("ec2")),
        when=when,
    )


#: (table, operation) targets of DynamoDB faults (``None``: any), inventory writes first.
DYNAMODB_TARGETS: tuple[tuple[str | None, str | None], ...] = (
    *((table, operation) for table, operation in SEQUENTIAL_TABLE_OPERATIONS),
    *((table, operation) for table, operations in TABLE_OPERATIONS.items() for operation in operations),
    *((table, None) for table in TABLE_OPERATIONS),
    (None, None),
    (None, "BatchWriteItem"),
    (None, "Scan"),
)


@st.composite
def dynamodb_faults(draw: st.DrawFn) -> dict[str, Any]:
    """A DynamoDB fault on one table (or all), including ``unprocessed`` batch writes with a bounded trigger."""
    table, operation = draw(st.sampled_from(DYNAMODB_TARGETS))
    sequential = (table, operation) in SEQUENTIAL_TABLE_OPERATIONS
    if sequential and operation == "BatchWriteItem" and not draw(st.booleans()):
        effect = {"kind": "unprocessed", "count": draw(st.integers(1, 3))}
        when = draw(_bounded_triggers())
    else:
        effect = draw(effects("dynamodb"))
        when = draw(triggers(sequential))
    return _entry(
        service="dynamodb",
        operation=_ABSENT if operation is None else operation,
        table=_ABSENT if table is None else table,
        effect=effect,
        when=when,
    )


def faults() -> st.SearchStrategy[list[dict[str, Any]]]:
    """Up to :data:`MAX_FAULTS` fault rules of every service."""
    return st.lists(st.one_of(drs_faults(), dynamodb_faults(), sts_faults(), ec2_faults()), max_size=MAX_FAULTS)


# ------------------------------------------------------------------------------------------------------- accounts


@st.composite
def account_rows(draw: st.DrawFn, account: str) -> dict[str, Any]:
    """One target-accounts row for ``account``: role ARN variants, external id variants, a failing role."""
    own = account == LAMBDA_ACCOUNT
    usual_role = _ABSENT if own else role_arn(account)
    other = ACCOUNTS[(ACCOUNTS.index(account) % (len(ACCOUNTS) - 1)) + 1]
    role = draw(st.sampled_from([usual_role, role_arn(account, ROLE_NAMES[1]), _ABSENT, "", None, role_arn(other)]))
    external = draw(st.sampled_from([DEFAULT_EXTERNAL_ID, _ABSENT, "tenant-7f3a9c", "", None]))
    name = draw(st.sampled_from([f"workload-{account[:3]}", _ABSENT]))
    failure = draw(_rarely(effects("sts"), 4))
    trust = _ABSENT
    if isinstance(role, str) and role:
        required = [external] if isinstance(external, str) and len(external) > 1 else []
        trust = draw(_rarely(st.sampled_from([*required, DEFAULT_EXTERNAL_ID, OTHER_EXTERNAL_ID]), 4))
    return _entry(
        accountId=account,
        accountName=name,
        roleArn=role,
        externalId=external,
        assumeRole=failure,
        role=_ABSENT if trust is _ABSENT else {"externalId": trust},
    )


@st.composite
def outsider_roles(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Rarely, the outsider's default role (the one LB-7's EC2 look-up assumes) requires an ExternalId."""
    required = draw(_rarely(st.sampled_from([DEFAULT_EXTERNAL_ID, OTHER_EXTERNAL_ID]), 4))
    return [] if required is _ABSENT else [{"arn": role_arn(OUTSIDER), "externalId": required}]


@st.composite
def dynamodb_page_sizes(draw: st.DrawFn) -> dict[str, int]:
    """Rarely, one table's scan pages hold one or two items (standing for 1 MB pages of larger rows); the target
    accounts' pages always one, as a world holds at most three rows (two-row pages almost never cut them)."""
    table = draw(_rarely(st.sampled_from(sorted(TABLE_OPERATIONS)), 5))
    if table is _ABSENT:
        return {}
    return {table: 1 if table == "targetAccounts" else draw(st.integers(1, 2))}


@st.composite
def target_accounts(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Zero to :data:`MAX_ACCOUNTS` distinct target-account rows, the Lambda's own account among the candidates."""
    ids = draw(st.lists(st.sampled_from(ACCOUNTS), min_size=1, max_size=MAX_ACCOUNTS, unique=True))
    if draw(_rarely(st.just(True), 12)) is True:
        ids = []
    return [draw(account_rows(account)) for account in ids]


# --------------------------------------------------------------------------------------------------------- tables


@st.composite
def region_status_rows(draw: st.DrawFn, region: str) -> dict[str, Any]:
    """An explicit region-status row: inactive (count 0) or active with an odd status or message."""
    count = draw(st.sampled_from([0, 3]))
    status = draw(_optional(st.sampled_from(REGION_STATES)))
    message = draw(_optional(st.sampled_from([None, "API rate limit exceeded"])))
    account = draw(_optional(st.sampled_from(ACCOUNTS)))
    return _entry(region=region, serverCount=count, status=status, errorMessage=message, accountId=account)


@st.composite
def inventory_rows(draw: st.DrawFn, known: tuple[tuple[str, str, str], ...] = ()) -> dict[str, Any]:
    """A pre-existing inventory record: of a server the world has (an update) or of one it has not (stale).

    Args:
        draw: Hypothesis's draw function.
        known: (account, region, server id) of the world's explicit servers.
    """
    if known and draw(st.booleans()):
        account, region, server_id = draw(st.sampled_from(known))
    else:
        account = draw(st.sampled_from(ACCOUNTS))
        region = draw(st.sampled_from(REGIONS))
        server_id = draw(st.sampled_from(SERVER_IDS))
    source_account = draw(st.sampled_from([account, _ABSENT, *ACCOUNTS, OUTSIDER]))
    return _entry(
        sourceServerArn=server_arn(account, region, server_id),
        stagingAccountId=account,
        sourceAccountId=source_account,
        sourceServerID=server_id,
        sourceRegion=region,
        replicationRegion=region,
        hostname=draw(st.sampled_from([f"legacy-app-{server_id[-3:]}", _ABSENT])),
        lastUpdated="2026-01-14T12:00:00+00:00",
        cpuCores=draw(_optional(st.integers(0, 16))),
    )


@st.composite
def tables(draw: st.DrawFn, known: tuple[tuple[str, str, str], ...] = ()) -> dict[str, Any]:
    """Active regions, explicit region-status rows and inventory records (of ``known`` servers, or stale).

    About one world in ten has no active region at all, so legacy scans all 28 regions (LB-2). About one world in
    two has a primed inventory (``primeInventory``): a record for every server, as an earlier full sync leaves it,
    so that a cleanup deleting records of live servers shows.
    """
    active = draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=len(REGIONS), unique=True))
    if draw(_rarely(st.just(True), 10)) is True:
        active = []
    row_regions = draw(st.lists(st.sampled_from(REGIONS + OTHER_REGIONS), max_size=2, unique=True))
    rows = [draw(region_status_rows(region)) for region in row_regions]
    if not active:
        rows = [{**row, "serverCount": 0} for row in rows]
    records = draw(
        st.lists(
            inventory_rows(known),
            max_size=MAX_STALE_RECORDS,
            unique_by=lambda row: (row["sourceServerArn"], row["stagingAccountId"]),
        )
    )
    return _entry(
        activeRegions=active if active else _ABSENT,
        regionStatus=rows if rows else _ABSENT,
        inventory=records if records else _ABSENT,
        primeInventory=True if draw(st.booleans()) else _ABSENT,
    )


# -------------------------------------------------------------------------------------------------------- servers


def _network_interfaces() -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [
            [],
            [{"macAddress": "0e:00:00:00:00:01", "ips": [], "isPrimary": True}],
            [
                {"macAddress": "0e:00:00:00:00:02", "ips": ["10.20.30.40", "10.20.30.41"], "isPrimary": True},
                {"macAddress": "0e:00:00:00:00:03", "ips": [], "isPrimary": False},
            ],
            [{"ips": ["192.168.7.9"]}],
            [{"macAddress": "0e:00:00:00:00:04", "isPrimary": True}],
        ]
    )


def _cpus() -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [
            [],
            [{"cores": 2, "modelName": "AMD EPYC 7R13 Processor"}, {"cores": 6, "modelName": "Intel(R) Xeon(R)"}],
            [{"cores": 4}],
        ]
    )


def _disks() -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [
            [],
            [{"deviceName": "/dev/sda1", "bytes": 32212254720}, {"deviceName": "/dev/sdb", "bytes": 107374182400}]
            + [{"deviceName": "/dev/sdc", "bytes": 1099511627776}],
            [{"deviceName": "/dev/xvda"}],
        ]
    )


def _identification_hints() -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [
            {"hostname": None},
            {"fqdn": None},
            {"hostname": None, "fqdn": None},
            {"awsInstanceID": UNKNOWN_INSTANCE_IDS[0]},
            {"awsInstanceID": UNKNOWN_INSTANCE_IDS[1], "hostname": "orphan-vm"},
        ]
    )


@st.composite
def source_properties(draw: st.DrawFn) -> dict[str, Any]:
    """Odd but valid ``sourceProperties``: no NICs, a first NIC with empty or no ips, no CPUs, several disks, no
    hostname."""
    return _entry(
        networkInterfaces=draw(_rarely(_network_interfaces(), 3)),
        cpus=draw(_rarely(_cpus(), 4)),
        disks=draw(_rarely(_disks(), 4)),
        identificationHints=draw(_rarely(_identification_hints(), 3)),
        ramBytes=draw(_rarely(st.sampled_from([None, 0, 1073741824]), 5)),
        os=draw(_rarely(st.just(None), 6)),
    )


@st.composite
def origins(draw: st.DrawFn, account: str, region: str) -> dict[str, Any]:
    """``sourceCloudProperties`` of a server that runs elsewhere: another account and/or another region."""
    origin_account = draw(st.sampled_from([account, OUTSIDER, *ACCOUNTS]))
    origin_region = draw(st.sampled_from([region, *OTHER_REGIONS, *REGIONS]))
    return {
        "originAccountID": origin_account,
        "originRegion": origin_region,
        "originAvailabilityZone": f"{origin_region}a",
    }


@st.composite
def drs_partials(draw: st.DrawFn, account: str, region: str) -> dict[str, Any]:
    """A partial ``SourceServer`` merged onto a generated one (null removes a generated key)."""
    server_id = draw(_rarely(st.sampled_from(SERVER_IDS), 2))
    identity: dict[str, Any] = {}
    if server_id is not _ABSENT:
        identity = {"sourceServerID": server_id, "arn": server_arn(account, region, server_id)}
    elif draw(_rarely(st.just(True), 12)) is True:
        identity = {"arn": ""}
    others = [other for other in ACCOUNTS if other != account]
    staging = draw(
        _rarely(st.sampled_from([None, {"stagingAccountID": ""}, *({"stagingAccountID": o} for o in others)]), 4)
    )
    replication = draw(
        _rarely(
            st.one_of(
                st.builds(lambda state: {"dataReplicationState": state}, st.sampled_from(REPLICATION_STATES)),
                st.just({"lagDuration": None}),
                st.just(None),
            ),
            4,
        )
    )
    properties = draw(source_properties())
    return _entry(
        **identity,
        sourceCloudProperties=draw(_rarely(origins(account, region), 3)),
        stagingArea=staging,
        dataReplicationInfo=replication,
        lifeCycle=draw(_rarely(st.sampled_from([None, {"lastSeenByServiceDateTime": None}]), 8)),
        agentVersion=draw(_rarely(st.just(None), 8)),
        sourceProperties=properties if properties else _ABSENT,
    )


def ec2_options() -> st.SearchStrategy[dict[str, Any]]:
    """EC2 instance options of one explicit server."""
    return st.builds(
        lambda create, tags, groups, profile, state: _entry(
            create=create, tags=tags, securityGroups=groups, instanceProfile=profile, state=state
        ),
        _rarely(st.booleans(), 4),
        _rarely(st.sampled_from([{}, {"Name": "app-01", "CostCenter": "42"}]), 4),
        _rarely(st.integers(1, 3), 4),
        _rarely(st.just(False), 5),
        _rarely(st.just("stopped"), 5),
    )


@st.composite
def server_items(draw: st.DrawFn, account: str, region: str) -> dict[str, Any]:
    """One explicit server: its DRS partial and EC2 options (either may be empty)."""
    drs = draw(drs_partials(account, region))
    ec2 = draw(ec2_options())
    return _entry(drs=drs if drs else _ABSENT, ec2=ec2 if ec2 else _ABSENT)


@st.composite
def server_groups(draw: st.DrawFn) -> dict[str, Any]:
    """The servers of one (account, region), at least one: a few generated ones and a few explicit odd ones.

    An explicit server without a partial or options is the generated server of its index, so it is counted as one.
    """
    account = draw(st.sampled_from(ACCOUNTS))
    region = draw(st.sampled_from(REGIONS))
    drawn = draw(st.lists(server_items(account, region), max_size=2))
    items = [item for item in drawn if item]
    count = draw(st.integers(0 if drawn else 1, 2)) + len(drawn) - len(items)
    with_ec2 = draw(st.booleans())
    return _entry(
        account=account,
        region=region,
        count=count if count else _ABSENT,
        items=items if items else _ABSENT,
        ec2Instances=_ABSENT if with_ec2 else False,
    )


# ------------------------------------------------------------------------------------------------------- document


@st.composite
def environments(draw: st.DrawFn) -> dict[str, Any]:
    """Usually nothing; rarely one table variable unset (LB-1, AD-4)."""
    unset = draw(_rarely(st.sampled_from(TABLE_VARIABLES), 15))
    return {} if unset is _ABSENT else {unset: None}


@st.composite
def scenario_documents(draw: st.DrawFn, name: str = "fuzz-example") -> dict[str, Any]:
    """A whole scenario document (the YAML format as a dict), small and valid.

    Args:
        draw: Hypothesis's draw function.
        name: The document's ``name`` (the scenario writer renames it after the file it writes).

    Returns:
        The document; :func:`harness.scenario.loading.document_scenario` accepts every one.
    """
    seed = draw(st.integers(0, 99))
    page_size = draw(st.sampled_from([_ABSENT, 1, 2]))
    accounts = draw(target_accounts())
    groups = draw(st.lists(server_groups(), max_size=MAX_GROUPS))
    world_tables = draw(tables(explicit_servers(groups)))
    rules = draw(faults())
    environment = draw(environments())
    roles = draw(outsider_roles())
    pages = draw(dynamodb_page_sizes())
    doc = _entry(
        name=name,
        seed=seed,
        drsPageSize=page_size,
        dynamodbPageSize=pages if pages else _ABSENT,
        accounts=accounts,
        roles=roles if roles else _ABSENT,
        tables=world_tables if world_tables else _ABSENT,
        servers=groups if groups else _ABSENT,
        faults=rules if rules else _ABSENT,
        environment=environment if environment else _ABSENT,
    )
    if may_scan_all_regions(doc) and rules:
        kept = [fault for fault in rules if not splits_region_status_batch(fault)]
        doc.pop("faults")
        doc.update({"faults": kept} if kept else {})
    return doc


def explicit_servers(groups: list[dict[str, Any]]) -> tuple[tuple[str, str, str], ...]:
    """(account, region, server id) of every explicit server that names its id."""
    return tuple(
        (group["account"], group["region"], item["drs"]["sourceServerID"])
        for group in groups
        for item in group.get("items", [])
        if "sourceServerID" in item.get("drs", {})
    )


def active_regions(world_tables: dict[str, Any]) -> list[str]:
    """The regions the region-status rows make active: ``activeRegions``, then explicit rows replacing theirs."""
    counts = {region: 1 for region in world_tables.get("activeRegions", [])}
    counts.update({row["region"]: row.get("serverCount", 0) for row in world_tables.get("regionStatus", [])})
    return [region for region, count in counts.items() if count > 0]


def may_scan_all_regions(doc: dict[str, Any]) -> bool:
    """Whether legacy may fall back to scanning all 28 regions in this world (LB-2).

    It does when no region is active, when the region-status variable is unset, and when a fault may break the
    region-status scan.
    """
    if not active_regions(doc.get("tables", {})):
        return True
    if "DRS_REGION_STATUS_TABLE" in doc.get("environment", {}):
        return True
    return any(
        fault["service"] == "dynamodb"
        and fault.get("table", "regionStatus") == "regionStatus"
        and fault.get("operation", "Scan") == "Scan"
        for fault in doc.get("faults", [])
    )


def splits_region_status_batch(fault: dict[str, Any]) -> bool:
    """Whether a fault may fail or hold back region-status ``BatchWriteItem`` calls while the run goes on.

    With all 28 regions scanned, legacy's region-status batch holds 28 items: boto3 sends the first 25 regions to
    complete in one call and the other 3 in another. Which regions a failing or partly processed call loses is then
    thread scheduling, so :func:`scenario_documents` leaves such faults out of worlds that may scan every region.
    A fault on every operation of every table is kept: it fails the target-accounts scan first, and the run ends.
    """
    if fault["service"] != "dynamodb":
        return False
    table, operation = fault.get("table"), fault.get("operation")
    hits_batch = table in (None, "regionStatus") and operation in (None, "BatchWriteItem")
    return hits_batch and not (table is None and operation is None)
