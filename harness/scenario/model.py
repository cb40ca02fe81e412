"""The scenario model: one simulated AWS world, as the harness builds it.

A scenario file is YAML validated against ``schema.json`` (see :mod:`harness.scenario.loading`). This module
turns a validated document into immutable dataclasses with every default applied, so the world builder never has
to guess. The format is documented for people in ``docs/scenario-format.md``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_shared.drs_regions import DRS_REGIONS

DEFAULT_LAMBDA_ACCOUNT = "111111111111"
DEFAULT_LAMBDA_REGION = "us-east-1"
DEFAULT_CLOCK = "2026-01-15T12:00:00Z"
DEFAULT_SEED = 20260115
DEFAULT_PAGE_SIZE = 100

#: Logical table name -> (environment variable, physical name the world gives it).
TABLES: dict[str, tuple[str, str]] = {
    "inventory": ("SOURCE_SERVER_INVENTORY_TABLE", "drs-source-server-inventory"),
    "targetAccounts": ("TARGET_ACCOUNTS_TABLE", "drs-target-accounts"),
    "regionStatus": ("DRS_REGION_STATUS_TABLE", "drs-region-status"),
}

#: Table variables of the design's other shared getters; set so lazy getters resolve, never created.
OTHER_TABLE_VARIABLES: dict[str, str] = {
    "PROTECTION_GROUPS_TABLE": "drs-protection-groups",
    "RECOVERY_PLANS_TABLE": "drs-recovery-plans",
    "EXECUTION_HISTORY_TABLE": "drs-execution-history",
    "EXECUTIONS_TABLE": "drs-executions",
    "TAG_SYNC_CONFIG_TABLE": "drs-tag-sync-config",
}

SERVICES = ("drs", "sts", "ec2", "dynamodb")
#: An IAM role ARN the world can create (``roles[].arn``, a row's ``roleArn`` with a ``role``): path and name.
ROLE_ARN = re.compile(r"^arn:aws:iam::[0-9]{12}:role/(?:[A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]+$")

#: The feature flag an ``entry`` scenario sets, and the operation production's Lambda dispatches to the sync.
FEATURE_FLAG_VARIABLE = "USE_REFACTORED_INVENTORY_SYNC"
SYNC_OPERATION = "sync_source_server_inventory"
#: Entry points a scenario can invoke the implementation through.
VIA_HANDLER, VIA_LAMBDA_HANDLER = "handler", "lambda_handler"
#: Most invocations one world may see.
MAX_INVOCATIONS = 10


@dataclass(frozen=True)
class FaultEffect:
    """What a matching call gets instead of a normal answer.

    Attributes:
        kind: ``error`` (an AWS error response), ``connection`` (EndpointConnectionError), ``timeout``
            (ReadTimeoutError), ``malformed`` (a truncated body with status 200), ``unprocessed``
            (BatchWriteItem answers with some items in ``UnprocessedItems``) or ``credentials`` (the client's
            credentials cannot be refreshed: ``CredentialRetrievalError``, which is not a ``ClientError``).
        code: AWS error code, for ``error``.
        message: Error message, for ``error`` and ``credentials``; ``None`` takes the default message.
        status: HTTP status, for ``error``; ``None`` takes the catalogue's status for the service.
        count: Items left unprocessed per call, for ``unprocessed``.
    """

    kind: str
    code: str | None = None
    message: str | None = None
    status: int | None = None
    count: int = 1


@dataclass(frozen=True)
class FaultWhen:
    """When a fault fires among the calls it matches.

    Attributes:
        mode: ``always``, ``once`` (the first matching attempt), ``first`` (the first ``n`` attempts), ``call``
            (every attempt of the ``n``-th matching API call: retries of one call are attempts of it) or ``page``
            (every attempt that requests page ``page`` of a DRS pagination, counting from 1).
        n: Number of attempts for ``first``; the call's number (from 1) for ``call``.
        page: Page number for ``page``.
    """

    mode: str = "always"
    n: int = 1
    page: int = 1


@dataclass(frozen=True)
class Fault:
    """A fault rule: a matcher, an effect and a trigger. ``None`` matcher fields match anything.

    ``invocation`` matches the calls of one Lambda invocation (from 1) of a world invoked several times.
    """

    service: str
    effect: FaultEffect
    when: FaultWhen = field(default_factory=FaultWhen)
    operation: str | None = None
    account: str | None = None
    region: str | None = None
    table: str | None = None
    role_account: str | None = None
    session_name: str | None = None
    invocation: int | None = None


@dataclass(frozen=True)
class Role:
    """An IAM role whose trust policy requires an ``ExternalId`` (``sts:ExternalId`` condition).

    Attributes:
        arn: The role ARN, as ``AssumeRole`` names it.
        external_id: The only ``ExternalId`` the role accepts; ``AssumeRole`` without it is refused (AccessDenied).
    """

    arn: str
    external_id: str


@dataclass(frozen=True)
class Entry:
    """How each invocation reaches the implementation.

    Attributes:
        via: ``handler`` (the sync function itself, the default) or ``lambda_handler`` (the Lambda entry point with
            ``event`` and the feature flag, as production invokes it).
        event: The invocation event, for ``lambda_handler``.
        flag: ``USE_REFACTORED_INVENTORY_SYNC`` for the run; ``None`` leaves it unset.
    """

    via: str = VIA_HANDLER
    event: dict[str, Any] = field(default_factory=lambda: {"operation": SYNC_OPERATION})
    flag: str | None = None


@dataclass(frozen=True)
class TargetAccount:
    """A row of the target-accounts table, and whether assuming its role works.

    Attributes:
        row: The item stored in the table (``accountId`` always present; ``roleArn``/``externalId`` optional).
        assume_role_error: When set, every ``AssumeRole`` into this account fails with this effect.
        role_external_id: When set, the row's role trusts only ``AssumeRole`` calls carrying this ``ExternalId``.
    """

    row: dict[str, Any]
    assume_role_error: FaultEffect | None = None
    role_external_id: str | None = None

    @property
    def account_id(self) -> str:
        """The 12-digit account id."""
        return str(self.row["accountId"])


@dataclass(frozen=True)
class ServerSpec:
    """One DRS source server before generation.

    Attributes:
        drs: Partial DRS ``SourceServer`` merged onto generated defaults (deep merge; lists replace).
        ec2: EC2 instance options: ``create`` (bool), ``tags`` (dict), ``securityGroups`` (int),
            ``instanceProfile`` (bool), ``state`` (str).
    """

    drs: dict[str, Any] = field(default_factory=dict)
    ec2: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerGroup:
    """The DRS source servers of one (account, region): ``count`` generated plus ``items`` explicit ones.

    Explicit items come first, then generated ones, all numbered consecutively so ids stay deterministic. With
    ``generate`` false (a captured group) every item's ``drs`` is a whole server served as given: nothing is generated,
    merged or launched (its EC2 instances, if any, are the scenario's captured :class:`CapturedInstance` entries).
    """

    account: str
    region: str
    count: int = 0
    items: tuple[ServerSpec, ...] = ()
    ec2_instances: bool = True
    generate: bool = True

    @property
    def total(self) -> int:
        """How many servers the group holds."""
        return len(self.items) + self.count


@dataclass(frozen=True)
class CapturedInstance:
    """An EC2 instance as a capture read it: served by the world's EC2 stand-in exactly as recorded.

    Attributes:
        account: The account it lives in.
        region: The region it lives in.
        instance_id: Its id (``i-...``).
        attributes: What the sync reads of it: ``state``, ``privateIpAddress``, ``vpcId``, ``subnetId``,
            ``securityGroups`` (group ids), ``iamInstanceProfileArn`` and ``tags`` (a mapping); absent keys are absent
            from the answer too.
    """

    account: str
    region: str
    instance_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Latency:
    """Simulated network latency, spent as a real sleep in the calling thread.

    Attributes:
        services: Milliseconds per call, by service.
        operations: Milliseconds per call by ``service:Operation``; overrides ``services``.
        region_spread_ms: Extra DRS latency spread over the active regions in a seeded order (another order per
            run variant). It makes regions *tend* to complete in that order; threads start at different moments,
            so it is no guarantee, and the engine's noise rules never rely on it.
        backoff_scale: Fraction of botocore's retry back-off that is really slept (the attempts still happen).
    """

    services: dict[str, float] = field(default_factory=dict)
    operations: dict[str, float] = field(default_factory=dict)
    region_spread_ms: float = 0.0
    backoff_scale: float = 0.0

    def for_call(self, service: str, operation: str) -> float:
        """Milliseconds a call to ``service:operation`` takes before the answer."""
        return float(self.operations.get(f"{service}:{operation}", self.services.get(service, 0.0)))


@dataclass(frozen=True)
class Expectations:
    """Sanity expectations about the baseline run (checked by the runner, not gating equivalence)."""

    status_code: int | None = None
    raises: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    inventory_count: int | None = None


@dataclass(frozen=True)
class Scenario:
    """A whole simulated world; build one with :func:`scenario_from_dict` or :func:`~harness.scenario.load_scenario`."""

    name: str
    description: str = ""
    source: str = "<memory>"
    seed: int = DEFAULT_SEED
    clock: str = DEFAULT_CLOCK
    lambda_account: str = DEFAULT_LAMBDA_ACCOUNT
    lambda_region: str = DEFAULT_LAMBDA_REGION
    drs_page_size: int = DEFAULT_PAGE_SIZE
    dynamodb_page_sizes: dict[str, int] = field(default_factory=dict)
    accounts: tuple[TargetAccount, ...] = ()
    roles: tuple[Role, ...] = ()
    region_status: tuple[dict[str, Any], ...] = ()
    inventory: tuple[dict[str, Any], ...] = ()
    prime_inventory: bool = False
    servers: tuple[ServerGroup, ...] = ()
    instances: tuple[CapturedInstance, ...] = ()
    listed_scan_order: bool = False
    faults: tuple[Fault, ...] = ()
    latency: Latency = field(default_factory=Latency)
    environment: dict[str, str | None] = field(default_factory=dict)
    expect: Expectations = field(default_factory=Expectations)
    invocations: int = 1
    seconds_between_invocations: float = 0.0
    entry: Entry = field(default_factory=Entry)
    approvals: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def trusted_roles(self) -> tuple[Role, ...]:
        """Every role with an ExternalId condition: the rows' roles (``accounts[].role``), then ``roles``."""
        from_rows = tuple(
            Role(str(account.row["roleArn"]), account.role_external_id)
            for account in self.accounts
            if account.role_external_id is not None
        )
        return from_rows + self.roles

    def with_changes(self, **changes: Any) -> Scenario:
        """Return a copy with some fields replaced (dataclasses.replace, kept here for discoverability)."""
        from dataclasses import replace

        return replace(self, **changes)


def _effect_from(doc: dict[str, Any]) -> FaultEffect:
    kind = doc.get("kind", "error")
    return FaultEffect(
        kind=kind,
        code=doc.get("code"),
        message=doc.get("message"),
        status=doc.get("status"),
        count=int(doc.get("count", 1)),
    )


def _when_from(doc: Any) -> FaultWhen:
    if doc is None or doc == "always":
        return FaultWhen("always")
    if doc == "once":
        return FaultWhen("once")
    if "first" in doc:
        return FaultWhen("first", n=int(doc["first"]))
    if "call" in doc:
        return FaultWhen("call", n=int(doc["call"]))
    if "page" in doc:
        return FaultWhen("page", page=int(doc["page"]))
    raise ValueError(f"unknown fault trigger {doc!r}")


def fault_from_dict(doc: dict[str, Any]) -> Fault:
    """Build a :class:`Fault` from its (validated) scenario form."""
    return Fault(
        service=doc["service"],
        effect=_effect_from(doc.get("effect", {})),
        when=_when_from(doc.get("when")),
        operation=doc.get("operation"),
        account=doc.get("account"),
        region=doc.get("region"),
        table=doc.get("table"),
        role_account=doc.get("roleAccount"),
        session_name=doc.get("sessionName"),
        invocation=doc.get("invocation"),
    )


def _account_from(doc: dict[str, Any]) -> TargetAccount:
    row = {k: v for k, v in doc.items() if k not in ("assumeRole", "role", "attributes")}
    row.update(doc.get("attributes", {}))
    failure = doc.get("assumeRole")
    role = doc.get("role") or {}
    return TargetAccount(
        row=row,
        assume_role_error=_effect_from(failure) if failure else None,
        role_external_id=role.get("externalId"),
    )


def _entry_from(doc: dict[str, Any]) -> Entry:
    if not doc:
        return Entry()
    return Entry(
        via=doc.get("via", VIA_HANDLER),
        event=dict(doc.get("event", {"operation": SYNC_OPERATION})),
        flag=doc.get("flag"),
    )


def _region_status_rows(doc: dict[str, Any], clock: str) -> tuple[dict[str, Any], ...]:
    rows: list[dict[str, Any]] = []
    active = doc.get("activeRegions")
    if active == "all":
        active = list(DRS_REGIONS)
    for region in active or []:
        rows.append({"region": region, "status": "AVAILABLE", "serverCount": 1, "lastChecked": clock})
    for row in doc.get("regionStatus", []):
        typed = {k: v for k, v in row.items() if k != "attributes"}
        merged = {"status": "AVAILABLE", "lastChecked": clock, **typed, **row.get("attributes", {})}
        rows = [r for r in rows if r["region"] != merged["region"]] + [merged]
    return tuple(rows)


def _server_group_from(doc: dict[str, Any]) -> ServerGroup:
    items = tuple(ServerSpec(drs=item.get("drs", {}), ec2=item.get("ec2", {})) for item in doc.get("items", []))
    return ServerGroup(
        account=doc["account"],
        region=doc["region"],
        count=int(doc.get("count", 0)),
        items=items,
        ec2_instances=bool(doc.get("ec2Instances", True)),
        generate=bool(doc.get("generate", True)),
    )


def _instance_from(doc: dict[str, Any]) -> CapturedInstance:
    attributes = {k: v for k, v in doc.items() if k not in ("account", "region", "instanceId")}
    return CapturedInstance(doc["account"], doc["region"], doc["instanceId"], attributes)


def _latency_from(doc: dict[str, Any]) -> Latency:
    return Latency(
        services={k: float(v) for k, v in doc.get("services", {}).items()},
        operations={k: float(v) for k, v in doc.get("operations", {}).items()},
        region_spread_ms=float(doc.get("regionSpreadMs", 0)),
        backoff_scale=float(doc.get("backoffScale", 0)),
    )


def _expect_from(doc: dict[str, Any]) -> Expectations:
    return Expectations(
        status_code=doc.get("statusCode"),
        raises=doc.get("raises"),
        body=dict(doc.get("body", {})),
        inventory_count=doc.get("inventoryCount"),
    )


def scenario_from_dict(doc: dict[str, Any], source: str = "<memory>") -> Scenario:
    """Build a :class:`Scenario` from an already validated document, applying every default.

    Args:
        doc: The parsed YAML document.
        source: Where it came from, for messages.

    Returns:
        The immutable scenario.
    """
    doc = copy.deepcopy(doc)
    clock = str(doc.get("clock", DEFAULT_CLOCK))
    tables = doc.get("tables", {})
    return Scenario(
        name=doc["name"],
        description=doc.get("description", ""),
        source=source,
        seed=int(doc.get("seed", DEFAULT_SEED)),
        clock=clock,
        lambda_account=str(doc.get("lambdaAccount", DEFAULT_LAMBDA_ACCOUNT)),
        lambda_region=str(doc.get("lambdaRegion", DEFAULT_LAMBDA_REGION)),
        drs_page_size=int(doc.get("drsPageSize", DEFAULT_PAGE_SIZE)),
        dynamodb_page_sizes={k: int(v) for k, v in doc.get("dynamodbPageSize", {}).items()},
        accounts=tuple(_account_from(a) for a in doc.get("accounts", [])),
        roles=tuple(Role(str(r["arn"]), str(r["externalId"])) for r in doc.get("roles", [])),
        region_status=_region_status_rows(tables, clock),
        inventory=tuple(tables.get("inventory", [])),
        prime_inventory=bool(tables.get("primeInventory", False)),
        servers=tuple(_server_group_from(g) for g in doc.get("servers", [])),
        instances=tuple(_instance_from(i) for i in doc.get("instances", [])),
        listed_scan_order=tables.get("scanOrder") == "listed",
        faults=tuple(fault_from_dict(f) for f in doc.get("faults", [])),
        latency=_latency_from(doc.get("latency", {})),
        environment=dict(doc.get("environment", {})),
        expect=_expect_from(doc.get("expect", {})),
        invocations=int(doc.get("invocations", 1)),
        seconds_between_invocations=float(doc.get("secondsBetweenInvocations", 0)),
        entry=_entry_from(doc.get("entry", {})),
        approvals=tuple(doc.get("approvals", [])),
        tags=tuple(doc.get("tags", [])),
        raw=doc,
    )


def scenario_path_name(path: Path) -> str:
    """The scenario name a file must declare: its stem."""
    return path.stem
