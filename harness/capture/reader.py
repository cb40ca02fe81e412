"""Reads an estate the way the inventory sync reads it, and only reads it.

One boto3 session from the standard credential chain (the AWS CLI's: environment, ``--profile``, SSO, instance role)
is the capture's own identity in the Lambda's account. It reads the three tables, then for every target-accounts row
takes the credentials the sync would take (LB-4: the row's role with ``RoleSessionName=inventory-sync``, or its own),
pages ``DescribeSourceServers`` in every active region with the sync's client settings (no retries, so a throttled
region is seen throttled), and reads the servers' source instances with the credentials LB-7 uses (the origin
account's role, ``RoleSessionName=inventory-ec2-query``). What fails in a target account is recorded as a fault of the
scenario, so the replay fails the same way; what fails in the Lambda's account is the capture's own missing
permission and stops it (:class:`CapturePermissionError`). Every client is guarded (:mod:`harness.capture.guard`).
"""

from __future__ import annotations

import logging
import re
import statistics
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
import freezegun.api
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from harness.capture.guard import MutatingCallRefusedError, guarded
from harness.capture.trust import required_external_id
from harness.scenario.model import ROLE_ARN
from lambda_shared.drs_regions import DRS_REGIONS

logger = logging.getLogger(__name__)

SYNC_SESSION = "inventory-sync"
EC2_SESSION = "inventory-ec2-query"
DEFAULT_ROLE_NAME = "DRSOrchestrationRole"
DEFAULT_EXTERNAL_ID = "drs-orchestration-cross-account"
EC2_CHUNK = 100
#: IAM is global: its endpoint is us-east-1's.
IAM_REGION = "us-east-1"
#: What ``AssumeRole`` accepts as an ExternalId, and so what a scenario can declare (its schema's ``externalId``).
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_+=,.@:/-]{2,1224}$")
#: EC2 answers for instance ids that are simply gone: the estate's truth, not a fault.
_ABSENT_INSTANCE_CODES = frozenset({"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"})
_PERMISSION_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


class CaptureError(Exception):
    """The capture cannot go on (a table missing, the capture's own identity unknown); nothing is written."""


class CapturePermissionError(CaptureError):
    """The capture's own credentials lack a permission; the message names the action and the account."""


def _clock() -> float:
    """The real monotonic clock, even inside a test world that freezes time.

    Looked up on freezegun's module at each call: freezegun rewrites module attributes that hold ``perf_counter``
    while time is frozen, so a name imported into this module would read the frozen clock.
    """
    return freezegun.api.real_perf_counter()


def sync_client_config() -> Config:
    """The sync's DRS and EC2 client settings (LB-5): no retries, so the capture sees what the sync sees."""
    return Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})


def effect_of(error: Exception) -> dict[str, Any] | None:
    """The scenario fault effect that reproduces ``error``, or ``None`` when it never reached AWS.

    Args:
        error: What a call raised.

    Returns:
        ``{code, message, status}`` for AWS errors, ``{kind: connection|timeout|malformed|credentials}`` otherwise;
        ``None`` for client-side parameter validation, which the replay reproduces by itself.
    """
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400
        return {"code": str(details.get("Code", "")), "message": str(details.get("Message", "")), "status": status}
    if isinstance(error, ParamValidationError):
        return None
    if isinstance(error, CredentialRetrievalError):
        return {"kind": "credentials", "message": str(error.kwargs.get("error_msg", ""))}
    if isinstance(error, ReadTimeoutError | ConnectTimeoutError):
        return {"kind": "timeout"}
    if isinstance(error, EndpointConnectionError):
        return {"kind": "connection"}
    if isinstance(error, ResponseParserError):
        return {"kind": "malformed"}
    return {"kind": "connection"} if isinstance(error, BotoCoreError) else None


def _describe_error(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", type(error).__name__))
    return type(error).__name__


@dataclass
class Timings:
    """Seconds per successful ``service:Operation`` call (thread-safe); their medians are the latency model."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _starts: threading.local = field(default_factory=threading.local)

    def start(self, **_kwargs: Any) -> None:
        """``before-call`` hook: note when this thread's call began."""
        self._starts.at = _clock()

    def stop(self, model: Any, **_kwargs: Any) -> None:
        """``after-call`` hook: record the call's duration."""
        started = getattr(self._starts, "at", None)
        if started is None:
            return
        key = f"{model.service_model.service_name}:{model.name}"
        with self._lock:
            self.samples.setdefault(key, []).append(_clock() - started)

    def medians_ms(self) -> dict[str, float]:
        """Median milliseconds per ``service:Operation``, rounded to 0.1 ms."""
        return {key: round(statistics.median(values) * 1000, 1) for key, values in sorted(self.samples.items())}


@dataclass
class Estate:
    """Everything a capture read, before it becomes a scenario document.

    Attributes:
        lambda_account: The capture's own account (the Lambda's).
        lambda_region: The region of the tables.
        tables: Logical table -> items in wire form (``{"S": ...}``), in scan order.
        servers: (account, region) -> DRS source servers, in the order DRS returned them.
        instances: (account, region) -> instance id -> what the sync reads of the instance.
        faults: Scenario fault rules for what failed in the target accounts.
        role_trust: Role ARN -> the ExternalId its trust policy requires, for the roles assumed whose policy says so.
        page_size: DRS's page size, when a region had more than one page.
        table_page_sizes: Logical table -> the most items one ``Scan`` page held, for tables read in several pages.
        latency_ms: Median milliseconds per ``service:Operation``.
        truncated: Whether ``max_servers`` cut the capture short.
    """

    lambda_account: str
    lambda_region: str
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    servers: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    instances: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    role_trust: dict[str, str] = field(default_factory=dict)
    page_size: int | None = None
    table_page_sizes: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    truncated: bool = False

    @property
    def server_count(self) -> int:
        """Servers captured so far."""
        return sum(len(servers) for servers in self.servers.values())


@dataclass(frozen=True)
class CaptureOptions:
    """What to read.

    Attributes:
        tables: Logical table (``targetAccounts``, ``regionStatus``, ``inventory``) -> physical name.
        regions: Regions to query instead of the region-status table's active ones.
        max_servers: Stop after this many servers (the summary says so).
    """

    tables: dict[str, str]
    regions: tuple[str, ...] | None = None
    max_servers: int | None = None


@dataclass(frozen=True)
class Identity:
    """Credentials to read with, and the account they belong to (``None`` credentials: the capture's own)."""

    account: str
    credentials: dict[str, str] | None = None


def _attribute(item: dict[str, Any], key: str) -> Any:
    """A wire-form attribute as a plain value, as the sync reads it (``None`` for NULL; absent keys: ``KeyError``)."""
    value = item[key]
    if "NULL" in value:
        return None
    return next(iter(value.values()))


def _unrecordable(role_arn: str, external_id: str | None) -> str | None:
    """Why a role's required ExternalId cannot be declared in a scenario, or ``None``."""
    if external_id is None:
        return None
    if not ROLE_ARN.match(role_arn):
        return "it requires an ExternalId, and a scenario declares role ARNs of partition aws only"
    if not _EXTERNAL_ID.match(external_id):
        return "it requires an ExternalId that AssumeRole can never send (2-1224 of A-Za-z0-9_+=,.@:/-)"
    return None


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4] else None


class Reader:
    """One capture's reads. Use :meth:`read` once.

    Args:
        session: The capture's boto3 session (its credentials are never written anywhere).
        options: What to read.
        progress: Receives one progress line at a time (the CLI prints them on stderr).
    """

    def __init__(self, session: boto3.Session, options: CaptureOptions, progress: Callable[[str], None]) -> None:
        self.session = session
        self.options = options
        self.progress = progress
        self.region = session.region_name or "us-east-1"
        self.timings = Timings()
        self._roles: dict[tuple[Any, Any, str], Identity | Exception] = {}
        self._trust_read: set[str] = set()
        self._lock = threading.Lock()

    # -- clients ----------------------------------------------------------------------------------------------------

    def client(
        self, service: str, region: str, identity: Identity | None = None, sync: bool = False, timed: bool = True
    ) -> Any:
        """A guarded client, timed unless ``timed`` is false; ``sync`` gives the sync's no-retry settings (DRS, EC2).

        Only the sync's own operations are timed: their medians are the replay's latency model.
        """
        credentials = identity.credentials if identity and identity.credentials else None
        keys = (
            {
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"],
            }
            if credentials
            else {}
        )
        client = self.session.client(service, region_name=region, config=sync_client_config() if sync else None, **keys)
        if timed:
            client.meta.events.register("before-call", self.timings.start)
            client.meta.events.register("after-call", self.timings.stop)
        return guarded(client)

    # -- the whole capture ------------------------------------------------------------------------------------------

    def read(self) -> Estate:
        """Read the estate.

        Raises:
            CapturePermissionError: The capture's own credentials lack a permission in the Lambda's account.
            CaptureError: A table is missing or the capture's identity cannot be read.
            MutatingCallRefusedError: A code path attempted a write (a defect; nothing was sent).
        """
        estate = Estate(lambda_account=self._own_account(), lambda_region=self.region)
        for logical, physical in self.options.tables.items():
            pages = self._scan(logical, physical, estate.lambda_account)
            estate.tables[logical] = [item for page in pages for item in page]
            if len(pages) > 1:  # DynamoDB cut the table into pages (1 MB each): the replay pages it alike
                estate.table_page_sizes[logical] = max(len(page) for page in pages)
        regions = self._regions(estate.tables["regionStatus"])
        self.progress(f"capture: account {estate.lambda_account}, {len(regions)} active region(s)")
        rows = estate.tables["targetAccounts"]
        scanned: set[tuple[str, str]] = set()
        for index, row in enumerate(rows, start=1):
            identity = self._sync_identity(row, estate)
            if identity is not None:
                self._read_drs(identity, regions, scanned, estate)
            self.progress(f"capture: account {index}/{len(rows)} read, {estate.server_count} server(s) so far")
        self._read_instances(rows, estate)
        estate.latency_ms = self.timings.medians_ms()
        return estate

    def _own_account(self) -> str:
        try:
            return str(self.client("sts", self.region).get_caller_identity()["Account"])
        except MutatingCallRefusedError:
            raise
        except (ClientError, BotoCoreError) as error:
            raise CapturePermissionError(
                f"cannot read the capture's own identity (sts:GetCallerIdentity): {error}"
            ) from error

    def _scan(self, logical: str, table: str, account: str) -> list[list[dict[str, Any]]]:
        """Every page of a table's items, in wire form and scan order (all pages, unlike the sync's single page)."""
        client = self.client("dynamodb", self.region)
        try:
            return [page["Items"] for page in client.get_paginator("scan").paginate(TableName=table)]
        except ClientError as error:
            code = _describe_error(error)
            if code in _PERMISSION_CODES:
                raise CapturePermissionError(
                    f"missing permission dynamodb:Scan on table {table} ({logical}) in account {account}, "
                    f"region {self.region}: {error}"
                ) from error
            if code == "ResourceNotFoundException":
                raise CaptureError(
                    f"table {table} ({logical}) not found in account {account}, region {self.region}"
                ) from error
            raise CaptureError(f"cannot scan table {table} ({logical}) in account {account}: {error}") from error
        except BotoCoreError as error:
            raise CaptureError(f"cannot scan table {table} ({logical}) in account {account}: {error}") from error

    def _regions(self, rows: list[dict[str, Any]]) -> list[str]:
        """The sync's active regions (LB-2): rows with ``serverCount > 0`` in scan order, else all 28."""
        if self.options.regions:
            return list(self.options.regions)
        active = [
            str(_attribute(row, "region"))
            for row in rows
            if "region" in row and "N" in row.get("serverCount", {}) and float(row["serverCount"]["N"]) > 0
        ]
        return active or list(DRS_REGIONS)

    # -- credentials ------------------------------------------------------------------------------------------------

    def _assume(self, role_arn: Any, external_id: Any, session_name: str, estate: Estate) -> Identity | None:
        """The sync's ``AssumeRole`` (once per role, external id and session); a failure is recorded as a fault."""
        key = (role_arn, external_id, session_name)
        with self._lock:
            known = self._roles.get(key)
        if known is None:
            known = self._call_assume_role(role_arn, external_id, session_name, estate)
            with self._lock:
                self._roles[key] = known
        return known if isinstance(known, Identity) else None

    def _call_assume_role(self, role_arn: Any, external_id: Any, session: str, estate: Estate) -> Identity | Exception:
        params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session, "DurationSeconds": 900}
        if external_id is not None or session == EC2_SESSION:
            params["ExternalId"] = external_id
        try:
            answer = self.client("sts", self.region).assume_role(**params)
        except MutatingCallRefusedError:
            raise
        except Exception as error:  # noqa: BLE001 - every failure the sync would see is recorded, not raised
            self._record_role_failure(role_arn, session, error, estate)
            return error
        account = _arn_account(str(role_arn)) or estate.lambda_account
        identity = Identity(account, dict(answer["Credentials"]))
        self._read_trust(str(role_arn), identity, estate)
        return identity

    def _read_trust(self, role_arn: str, identity: Identity, estate: Estate) -> None:
        """The role's ExternalId condition, read once per role with its own credentials (``iam:GetRole``).

        Recorded when the policy requires exactly one ExternalId (:mod:`harness.capture.trust`); a role whose policy
        cannot be read or said in the format gets a warning and nothing recorded: the replay's role trusts any caller.
        """
        with self._lock:
            if role_arn in self._trust_read:
                return
            self._trust_read.add(role_arn)
        try:
            name = role_arn.rsplit("/", 1)[-1]
            answer = self.client("iam", IAM_REGION, identity, timed=False).get_role(RoleName=name)
            reading = required_external_id(answer["Role"]["AssumeRolePolicyDocument"])
        except MutatingCallRefusedError:
            raise
        except Exception as error:  # noqa: BLE001 - a role whose trust cannot be read is still captured
            self._untrusted(f"iam:GetRole {role_arn} in account {identity.account} failed: {_describe_error(error)}")
            return
        problem = reading.problem or _unrecordable(role_arn, reading.external_id)
        if problem is not None:
            self._untrusted(f"the trust policy of {role_arn} in account {identity.account}: {problem}")
        elif reading.external_id is not None:
            with self._lock:
                estate.role_trust[role_arn] = reading.external_id

    def _untrusted(self, reason: str) -> None:
        self.progress(f"capture: warning: {reason}; no ExternalId condition recorded (the replay's role trusts anyone)")

    def _record_role_failure(self, role_arn: Any, session: str, error: Exception, estate: Estate) -> None:
        effect = effect_of(error)
        account = _arn_account(str(role_arn))
        self.progress(f"capture: warning: sts:AssumeRole {role_arn} ({session}) failed: {_describe_error(error)}")
        if effect is None or account is None:
            return
        fault = {"service": "sts", "operation": "AssumeRole", "roleAccount": account, "sessionName": session}
        estate.faults.append({**fault, "effect": effect})

    def _sync_identity(self, row: dict[str, Any], estate: Estate) -> Identity | None:
        """LB-4: the row's role when it is another account's and names one, else the capture's own credentials."""
        account = str(_attribute(row, "accountId")) if "accountId" in row else ""
        role = _attribute(row, "roleArn") if "roleArn" in row else None
        if account == estate.lambda_account or not role:
            return Identity(estate.lambda_account)
        external = _attribute(row, "externalId") if "externalId" in row else None
        return self._assume(role, external if external else None, SYNC_SESSION, estate)

    # -- DRS --------------------------------------------------------------------------------------------------------

    def _read_drs(self, identity: Identity, regions: list[str], scanned: set[tuple[str, str]], estate: Estate) -> None:
        todo = [region for region in regions if (identity.account, region) not in scanned]
        scanned.update((identity.account, region) for region in todo)
        with ThreadPoolExecutor(max_workers=max(1, min(len(todo), 28))) as pool:
            results = list(pool.map(lambda region: self._drs_region(identity, region), todo))
        for region, (servers, page_size, error) in zip(todo, results, strict=True):
            if page_size:
                estate.page_size = max(estate.page_size or 0, page_size)
            if error is not None:
                self._record_drs_failure(identity.account, region, error, estate)
            elif servers:
                estate.servers[(identity.account, region)] = self._limited(servers, estate)

    def _drs_region(self, identity: Identity, region: str) -> tuple[list[dict[str, Any]], int, Exception | None]:
        """All pages of one region (LB-5), the page size seen, and the error that ended it, if any."""
        servers: list[dict[str, Any]] = []
        page_size = 0
        try:
            pages = self.client("drs", region, identity, sync=True).get_paginator("describe_source_servers").paginate()
            for page in pages:
                servers.extend(page.get("items", []))
                if page.get("nextToken"):
                    page_size = max(page_size, len(page.get("items", [])))
                if self.options.max_servers is not None and len(servers) >= self.options.max_servers:
                    break
        except MutatingCallRefusedError:
            raise
        except Exception as error:  # noqa: BLE001 - what the sync would see in this region is recorded as a fault
            return [], page_size, error
        return servers, page_size, None

    def _limited(self, servers: list[dict[str, Any]], estate: Estate) -> list[dict[str, Any]]:
        if self.options.max_servers is None:
            return servers
        room = max(self.options.max_servers - estate.server_count, 0)
        if len(servers) > room:
            estate.truncated = True
        return servers[:room]

    def _record_drs_failure(self, account: str, region: str, error: Exception, estate: Estate) -> None:
        effect = effect_of(error)
        self.progress(f"capture: warning: drs:DescribeSourceServers in {account} {region}: {_describe_error(error)}")
        if effect is not None:
            matcher = {"service": "drs", "operation": "DescribeSourceServers", "account": account, "region": region}
            estate.faults.append({**matcher, "effect": effect})

    # -- EC2 --------------------------------------------------------------------------------------------------------

    def _read_instances(self, rows: list[dict[str, Any]], estate: Estate) -> None:
        """LB-7: the source instances of every captured server, per origin (account, region)."""
        groups = self._origin_groups(rows, estate)
        for (origin_account, origin_region), ids in groups.items():
            identity = self._ec2_identity(origin_account, rows, estate)
            if identity is None:
                continue
            found = self._describe(identity, origin_region, ids, estate)
            if found:
                estate.instances.setdefault((identity.account, origin_region), {}).update(found)
        self.progress(f"capture: {sum(len(found) for found in estate.instances.values())} instance(s) read")

    def _origin_groups(self, rows: list[dict[str, Any]], estate: Estate) -> dict[tuple[str, str], list[str]]:
        groups: dict[tuple[str, str], list[str]] = {}
        for row in rows:
            identity = self._sync_identity(row, estate)
            if identity is None or "accountId" not in row:
                continue
            for (account, region), servers in estate.servers.items():
                if account != identity.account:
                    continue
                for server in servers:
                    self._add_origin(server, str(_attribute(row, "accountId")), region, groups)
        return groups

    @staticmethod
    def _add_origin(server: dict[str, Any], account: str, region: str, groups: dict[Any, list[str]]) -> None:
        instance_id = server.get("sourceProperties", {}).get("identificationHints", {}).get("awsInstanceID")
        if not instance_id:
            return
        cloud = server.get("sourceCloudProperties", {})
        key = (cloud.get("originAccountID", account), cloud.get("originRegion", region))
        if instance_id not in groups.setdefault(key, []):
            groups[key].append(instance_id)

    def _ec2_identity(self, origin: str, rows: list[dict[str, Any]], estate: Estate) -> Identity | None:
        """LB-7's credentials: own for the Lambda's account, else the origin's row role or the default role."""
        if origin == estate.lambda_account:
            return Identity(estate.lambda_account)
        row = next((r for r in rows if "accountId" in r and str(_attribute(r, "accountId")) == origin), None)
        role: Any = f"arn:aws:iam::{origin}:role/{DEFAULT_ROLE_NAME}"
        external: Any = DEFAULT_EXTERNAL_ID
        if row is not None:
            role = _attribute(row, "roleArn") if "roleArn" in row else role
            external = _attribute(row, "externalId") if "externalId" in row else external
        return self._assume(role, external, EC2_SESSION, estate)

    def _describe(self, identity: Identity, region: str, ids: list[str], estate: Estate) -> dict[str, dict[str, Any]]:
        client = self.client("ec2", region, identity, sync=True)
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), EC2_CHUNK):
            chunk = ids[start : start + EC2_CHUNK]
            try:
                found.update(_instances_of(client.describe_instances(InstanceIds=chunk)))
            except ClientError as error:
                found.update(self._one_by_one(client, chunk, identity.account, region, error, estate))
            except MutatingCallRefusedError:
                raise
            except Exception as error:  # noqa: BLE001 - LB-7 skips the group; the replay must too
                self._record_ec2_failure(identity.account, region, error, estate)
                break
        return found

    def _one_by_one(
        self, client: Any, chunk: list[str], account: str, region: str, error: ClientError, estate: Estate
    ) -> dict[str, dict[str, Any]]:
        """LB-7's per-id fallback; when every id fails as the chunk did (not as gone), EC2 itself failed."""
        found: dict[str, dict[str, Any]] = {}
        codes: set[str] = set()
        for instance_id in chunk:
            try:
                found.update(_instances_of(client.describe_instances(InstanceIds=[instance_id])))
            except ClientError as single:
                codes.add(_describe_error(single))
        chunk_code = _describe_error(error)
        if not found and codes == {chunk_code} and chunk_code not in _ABSENT_INSTANCE_CODES:
            self._record_ec2_failure(account, region, error, estate)
        return found

    def _record_ec2_failure(self, account: str, region: str, error: Exception, estate: Estate) -> None:
        effect = effect_of(error)
        self.progress(f"capture: warning: ec2:DescribeInstances in {account} {region}: {_describe_error(error)}")
        if effect is not None:
            matcher = {"service": "ec2", "operation": "DescribeInstances", "account": account, "region": region}
            estate.faults.append({**matcher, "effect": effect})


def _instances_of(answer: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(instance id, what the sync reads of it) for every instance of a ``DescribeInstances`` answer."""
    for reservation in answer.get("Reservations", []):
        for instance in reservation.get("Instances", []):
            yield instance["InstanceId"], _instance_attributes(instance)


def _instance_attributes(instance: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if "State" in instance:
        attributes["state"] = instance["State"].get("Name")
    for source, target in (("PrivateIpAddress", "privateIpAddress"), ("VpcId", "vpcId"), ("SubnetId", "subnetId")):
        if instance.get(source) is not None:
            attributes[target] = instance[source]
    if "SecurityGroups" in instance:
        attributes["securityGroups"] = [group.get("GroupId", "") for group in instance["SecurityGroups"]]
    profile = instance.get("IamInstanceProfile", {}).get("Arn")
    if profile:
        attributes["iamInstanceProfileArn"] = profile
    if "Tags" in instance:
        attributes["tags"] = {tag["Key"]: tag.get("Value", "") for tag in instance["Tags"]}
    return attributes
