"""A simulated AWS world built from one scenario: moto, the DRS fake, faults, latency, a frozen clock.

Usage::

    with World(scenario) as world:
        result = handle_sync_source_server_inventory_legacy()
        world.table_snapshot(), world.calls

Entering builds everything from scratch (moto's backends are reset and its id generator seeded), so entering the
same scenario twice gives identical initial state; entering and leaving also reset every module-level cache of the
code under test, so two runs in one process cannot see each other.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import importlib
import io
import json
import logging
import os
from typing import Any

import boto3
import freezegun.api
from freezegun import freeze_time
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends
from moto.iam.models import get_account_id_from, iam_backends
from moto.moto_api._internal import mock_random
from moto.sts.models import sts_backends

from harness.redaction import remember_real_credentials
from harness.scenario.model import (
    FEATURE_FLAG_VARIABLE,
    OTHER_TABLE_VARIABLES,
    TABLES,
    VIA_LAMBDA_HANDLER,
    Fault,
    Scenario,
    scenario_from_dict,
)
from harness.world.aws import wire
from harness.world.aws.attributes import deserialise_attributes, serialise_attribute
from harness.world.aws.calls import AwsCall
from harness.world.aws.drs_fake import DrsFake
from harness.world.aws.ec2_captured import CapturedEc2
from harness.world.aws.faults import FaultPlan, LatencyModel
from harness.world.aws.rules import WorldRules, role_path_and_name, trust_policy
from harness.world.ec2_builder import Ec2Builder
from harness.world.listed_order import use_listed_order
from harness.world.sandbox import Refusals, sandbox
from harness.world.scan_order import use_dynamodb_scan_order
from harness.world.servers import build_servers
from harness.world.truth import primed_records, world_truth

logger = logging.getLogger(__name__)

#: Environment variables that could carry real credentials or redirect botocore; cleared inside a world.
_CLEARED_PREFIXES = ("AWS_", "BOTO_")
_CLEARED_VARIABLES = (*(v for v, _ in TABLES.values()), *OTHER_TABLE_VARIABLES, FEATURE_FLAG_VARIABLE)

#: Module-level state of the code under test, reset on entry and exit (module, function).
_RESETTERS = (
    ("lambda_shared", "reset_state"),
    ("legacy.inventory_sync", "reset_state"),
    ("refactored.inventory_sync", "reset_state"),
)

_KEY_SCHEMAS: dict[str, dict[str, Any]] = {
    "inventory": {
        "KeySchema": [
            {"AttributeName": "sourceServerArn", "KeyType": "HASH"},
            {"AttributeName": "stagingAccountId", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "sourceServerArn", "AttributeType": "S"},
            {"AttributeName": "stagingAccountId", "AttributeType": "S"},
            {"AttributeName": "sourceAccountId", "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": hash_key, "KeyType": "HASH"},
                    {"AttributeName": "sourceServerArn", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, hash_key in (
                ("SourceAccountIndex", "sourceAccountId"),
                ("StagingAccountIndex", "stagingAccountId"),
            )
        ],
    },
    "regionStatus": {
        "KeySchema": [{"AttributeName": "region", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "region", "AttributeType": "S"}],
    },
    "targetAccounts": {
        "KeySchema": [{"AttributeName": "accountId", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "accountId", "AttributeType": "S"}],
    },
}


def reset_code_under_test() -> None:
    """Clear every module-level cache of the code under test and boto3's default session."""
    boto3.DEFAULT_SESSION = None
    for module_name, function in _RESETTERS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        reset = getattr(module, function, None)
        if reset is not None:
            reset()


_WARM_UP_ACCOUNT = "222222222222"
_warmed_up = False


def warm_up() -> None:
    """Load, once per process, what every world needs, so that worlds built in forked children start warm.

    Builds a small world (tables, a role, a DRS server with its EC2 instance) and runs the shipped legacy handler in
    it once, output discarded: moto's backends get imported, botocore's service and boto3's resource models parsed
    and their caches filled here, once, instead of in every contained run (which would cost each run about 0.6 s of
    CPU more than a run in a warm process). Legacy is this repository's own reference code; no candidate runs here.
    """
    global _warmed_up
    if _warmed_up:
        return
    scenario = scenario_from_dict(
        {
            "name": "warm-up",
            "accounts": [{"accountId": _WARM_UP_ACCOUNT, "roleArn": f"arn:aws:iam::{_WARM_UP_ACCOUNT}:role/R"}],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [{"account": _WARM_UP_ACCOUNT, "region": "us-east-1", "items": [{"ec2": {}}]}],
        }
    )
    from legacy.inventory_sync import handle_sync_source_server_inventory_legacy

    with World(scenario), contextlib.redirect_stdout(io.StringIO()):
        handle_sync_source_server_inventory_legacy()
    _warmed_up = True


def wall_clock() -> float:
    """A real monotonic clock in seconds, unaffected by the frozen scenario clock."""
    return freezegun.api.real_perf_counter()


class World:
    """A fresh simulated AWS world for one scenario (a context manager; one at a time per process).

    Args:
        scenario: The world to build.
        variant: Picks another deterministic region completion order under ``latency.regionSpreadMs``; the engine
            runs its second baseline with ``variant=1`` to expose timing noise.
        real_client_costs: Let every botocore client the code builds generate its own API methods, as in a Lambda
            (the benchmark); by default clients of one service share them, which changes nothing else.
    """

    def __init__(self, scenario: Scenario, *, variant: int = 0, real_client_costs: bool = False) -> None:
        self.scenario = scenario
        self.variant = variant
        self.real_client_costs = real_client_costs
        self.table_names = {logical: physical for logical, (_, physical) in TABLES.items()}
        self.table_key_names = {
            logical: [k["AttributeName"] for k in spec["KeySchema"]] for logical, spec in _KEY_SCHEMAS.items()
        }
        self.servers: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.instances: dict[tuple[str, str], list[str]] = {}
        self._sessions: dict[str, boto3.Session] = {}
        self._dynamodb: Any = None
        self._account_cache: dict[str, str] = {}
        self._saved_env: dict[str, str] | None = None
        self._stack: list[Any] = []
        self._state: wire.WireState | None = None
        #: What the code inside attempted and the sandbox refused (network, DNS, processes; see harness.world.sandbox).
        self.refusals = Refusals()
        self._inventory_before: list[dict[str, Any]] = []
        self._target_rows: list[dict[str, Any]] = []
        self._clock: Any = None

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def __enter__(self) -> World:
        try:
            self._enter()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _enter(self) -> None:
        scenario = self.scenario
        guard = sandbox()
        self.refusals = guard.__enter__()
        self._stack.append(lambda: guard.__exit__(None, None, None))
        remember_real_credentials()  # whatever the code under test captured before the world replaced them
        self._saved_env = dict(os.environ)
        reset_code_under_test()
        self._clear_environment()
        aws = mock_aws()
        aws.start()
        self._stack.append(aws.stop)
        mock_random.seed(scenario.seed)
        freezer = freeze_time(scenario.clock)
        self._clock = freezer.start()
        self._stack.append(freezer.stop)
        self._state = self._wire_state()
        self._state.share_api_methods = not self.real_client_costs
        wire.activate(self._state)
        self._stack.append(wire.deactivate)
        self._set_lambda_identity()
        self._create_tables()
        self._seed_tables()
        self._build_servers_and_instances()
        self._prime_inventory()
        self._create_trusted_roles()
        self._inventory_before = self._table_items("inventory")
        self._set_lambda_environment()
        reset_code_under_test()
        self._state.recording = True

    def __exit__(self, *_exc: Any) -> None:
        while self._stack:
            undo = self._stack.pop()
            try:
                undo()
            except Exception:  # noqa: BLE001 - keep unwinding; report but never mask the original error
                logger.exception("error while tearing down a simulated world")
        if self._saved_env is not None:
            os.environ.clear()
            os.environ.update(self._saved_env)
            self._saved_env = None
        reset_code_under_test()

    # -- what the engine reads ------------------------------------------------------------------------------------

    @property
    def calls(self) -> list[AwsCall]:
        """The AWS calls made by the code under test so far (setup calls are not recorded)."""
        return self._state.calls if self._state else []

    @property
    def simulator_seconds(self) -> float:
        """CPU seconds the simulator (call recorder, dispatcher, fakes, moto) spent on the code under test so far."""
        return self._state.simulator_seconds if self._state else 0.0

    @property
    def client_seconds(self) -> float:
        """CPU seconds the code under test spent building botocore clients while recording."""
        return self._state.client_seconds if self._state else 0.0

    @property
    def clients_created(self) -> int:
        """How many botocore clients the code under test built while recording."""
        return self._state.clients_created if self._state else 0

    @property
    def backoff_requested(self) -> float:
        """Seconds of retry back-off botocore asked for (compressed by ``latency.backoffScale``)."""
        return self._state.backoff_requested if self._state else 0.0

    @property
    def simulator_failures(self) -> list[str]:
        """What the simulator failed at while answering the code under test (each one a harness error)."""
        return list(self._state.failures) if self._state else []

    @property
    def invocation(self) -> int:
        """The Lambda invocation in progress (from 1)."""
        return self._state.invocation if self._state else 1

    def begin_invocation(self, number: int) -> None:
        """Start invocation ``number`` (from 1) of the warm Lambda: later ones move the frozen clock forward.

        Invocation ``n`` runs at ``clock + (n - 1) * secondsBetweenInvocations``. Nothing else is reset: module
        caches, tables, servers and instances are what the earlier invocations left, as in a warm Lambda.
        """
        if self._state is None:
            raise RuntimeError("the world is not entered")
        if number > self._state.invocation and self.scenario.seconds_between_invocations:
            steps = number - self._state.invocation
            self._clock.tick(datetime.timedelta(seconds=steps * self.scenario.seconds_between_invocations))
        self._state.invocation = number

    @property
    def fired_faults(self) -> list[tuple[int, str, str]]:
        """(fault index, service, operation) for every attempt a fault answered."""
        return list(self._state.faults.fired) if self._state else []

    def table_snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every table's items, deserialised (Decimal, sets and binary preserved), sorted by primary key.

        Read straight from moto's DynamoDB backend: a paginated ``Scan`` would serialise every item through the wire
        format, which dominates large worlds. A test keeps this equal to what a ``Scan`` returns.
        """
        snapshot: dict[str, list[dict[str, Any]]] = {}
        for logical in self.table_names:
            keys = self.table_key_names[logical]
            items = self._table_items(logical)
            snapshot[logical] = sorted(items, key=lambda item, keys=keys: tuple(str(item.get(k)) for k in keys))
        return snapshot

    def _table_items(self, logical: str) -> list[dict[str, Any]]:
        """A table's items in the order a ``Scan`` returns them, deserialised."""
        backend = dynamodb_backends[self.scenario.lambda_account][self.scenario.lambda_region]
        table = backend.get_table(self.table_names[logical])
        return [deserialise_attributes(item.to_json()["Attributes"]) for item in table.all_items()]

    def truth(self) -> dict[str, Any]:
        """What the world knows about the run so far, independently of the code under test
        (:func:`harness.world.truth.world_truth`)."""
        return world_truth(
            lambda_account=self.scenario.lambda_account,
            target_rows=self._target_rows,
            servers=self.servers,
            inventory_before=self._inventory_before,
            served=list(self._state.drs.served) if self._state else [],
            calls=self.calls,
        )

    def account_of(self, access_key: str) -> str:
        """The account an access key id belongs to, as moto resolves it."""
        if access_key not in self._account_cache:
            self._account_cache[access_key] = get_account_id_from(access_key)
        return self._account_cache[access_key]

    def session(self, account: str) -> boto3.Session:
        """A boto3 session holding credentials of ``account`` (for setup and inspection, never for the code)."""
        if account not in self._sessions:
            key = iam_backends[account]["aws"].create_temp_access_key()
            self._sessions[account] = boto3.Session(
                aws_access_key_id=key.access_key_id,
                aws_secret_access_key=key.secret_access_key,
                region_name=self.scenario.lambda_region,
            )
        return self._sessions[account]

    # -- building ---------------------------------------------------------------------------------------------------

    def _clear_environment(self) -> None:
        for name in list(os.environ):
            if name.startswith(_CLEARED_PREFIXES) or name in _CLEARED_VARIABLES:
                del os.environ[name]
        os.environ.update(
            {
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_DEFAULT_REGION": self.scenario.lambda_region,
                "AWS_REGION": self.scenario.lambda_region,
                # moto would otherwise parse thousands of public AMIs per (account, region) backend.
                "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
            }
        )

    def _wire_state(self) -> wire.WireState:
        scenario = self.scenario
        faults = self._all_faults()
        return wire.WireState(
            account_of=self.account_of,
            table_names={physical: logical for logical, physical in self.table_names.items()},
            drs=DrsFake(self.servers, scenario.drs_page_size, self.account_of),
            ec2=CapturedEc2(scenario.instances),
            faults=FaultPlan(faults, scenario.drs_page_size),
            latency=LatencyModel(scenario.latency, scenario.seed, self.variant),
            backoff_scale=scenario.latency.backoff_scale,
            rules=WorldRules(
                trust={role.arn: role.external_id for role in scenario.trusted_roles},
                page_sizes=dict(scenario.dynamodb_page_sizes),
                caller_arn=self.caller_arn,
            ),
        )

    def caller_arn(self, access_key: str) -> str:
        """The ARN STS gives the holder of an access key (what ``GetCallerIdentity`` answers in this world)."""
        account = self.account_of(access_key)
        return str(sts_backends[account]["aws"].get_caller_identity(access_key, self.scenario.lambda_region)[1])

    def _all_faults(self) -> tuple[Fault, ...]:
        """The scenario's faults plus one ``AssumeRole`` fault per account whose role assumption fails."""
        role_faults = tuple(
            Fault(
                service="sts", operation="AssumeRole", role_account=account.account_id, effect=account.assume_role_error
            )
            for account in self.scenario.accounts
            if account.assume_role_error is not None
        )
        return role_faults + self.scenario.faults

    def _set_lambda_identity(self) -> None:
        """The Lambda's own credentials: a key moto attributes to the scenario's Lambda account."""
        session = self.session(self.scenario.lambda_account)
        credentials = session.get_credentials().get_frozen_credentials()
        os.environ["AWS_ACCESS_KEY_ID"] = credentials.access_key
        os.environ["AWS_SECRET_ACCESS_KEY"] = credentials.secret_key
        os.environ["AWS_SESSION_TOKEN"] = "harness-fake-session-token"  # noqa: S105 - moto ignores it

    def _create_tables(self) -> None:
        """The three tables, each returning a Scan in DynamoDB's order (:mod:`harness.world.scan_order`).

        Made in moto's backend with the arguments its ``CreateTable`` handler passes for these (valid, on-demand)
        definitions: no client and no wire round trip for a table the code under test never sees being made.
        """
        backend = dynamodb_backends[self.scenario.lambda_account][self.scenario.lambda_region]
        for logical, physical in self.table_names.items():
            spec = copy.deepcopy(_KEY_SCHEMAS[logical])  # moto keeps (and may change) what it is given
            table = backend.create_table(
                physical,
                schema=spec["KeySchema"],
                throughput=None,
                attr=spec["AttributeDefinitions"],
                global_indexes=spec.get("GlobalSecondaryIndexes", []),
                indexes=[],
                streams=None,
                billing_mode="PAY_PER_REQUEST",
                sse_specification=None,
                tags=[],
                deletion_protection_enabled=False,
                warm_throughput=None,
            )
            use_dynamodb_scan_order(table)

    def _seed_tables(self) -> None:
        self._batch_put("targetAccounts", [account.row for account in self.scenario.accounts])
        self._batch_put("regionStatus", list(self.scenario.region_status))
        self._batch_put("inventory", list(self.scenario.inventory))
        self._target_rows = self._table_items("targetAccounts")

    def _setup_dynamodb(self) -> Any:
        """One DynamoDB client of the Lambda's account to build the world with (each client costs ~20 ms of CPU)."""
        if self._dynamodb is None:
            self._dynamodb = self.session(self.scenario.lambda_account).client("dynamodb")
        return self._dynamodb

    def _batch_put(self, logical: str, items: list[dict[str, Any]]) -> None:
        client = self._setup_dynamodb()
        for start in range(0, len(items), 25):
            writes = [
                {"PutRequest": {"Item": {k: serialise_attribute(v) for k, v in item.items()}}}
                for item in items[start : start + 25]
            ]
            client.batch_write_item(RequestItems={self.table_names[logical]: writes})
        if self.scenario.listed_scan_order:
            self._use_listed_order(logical, items)

    def _use_listed_order(self, logical: str, items: list[dict[str, Any]]) -> None:
        """The table returns a Scan in the order its rows are listed (``tables.scanOrder: listed``)."""
        backend = dynamodb_backends[self.scenario.lambda_account][self.scenario.lambda_region]
        keys = self.table_key_names[logical]
        listed = [tuple(item.get(key) for key in keys) for item in items]
        use_listed_order(backend.get_table(self.table_names[logical]), listed)

    def _build_servers_and_instances(self) -> None:
        ec2 = Ec2Builder()
        servers = build_servers(self.scenario, ec2)
        self.servers.update(servers)
        self.instances.update(ec2.instances)
        if self._state is not None:
            self._state.ec2.add_launched(ec2.described)

    def _prime_inventory(self) -> None:
        """``tables.primeInventory``: the records an earlier full sync left, for every server of the world; a row of
        ``tables.inventory`` with the same key keeps its own values."""
        if not self.scenario.prime_inventory:
            return
        explicit = {(row["sourceServerArn"], row["stagingAccountId"]) for row in self.scenario.inventory}
        records = [
            record
            for record in primed_records(self.servers, self.scenario.clock)
            if (record["sourceServerArn"], record["stagingAccountId"]) not in explicit
        ]
        self._batch_put("inventory", records)

    def _create_trusted_roles(self) -> None:
        """Each role the scenario declares with an ExternalId exists in IAM, in its account, with that trust policy.

        The STS trust rule (:mod:`harness.world.aws.rules`) enforces the condition; the IAM role is what a reader of
        the account sees (``iam:GetRole``, as ``python -m harness capture`` reads it). Created in the role account's
        IAM backend (moto keys IAM by account, then partition) rather than through the API: no client, no recorded
        call, a fraction of a millisecond. moto's id generator is put back afterwards, so every id the world hands
        out later is the one it hands out without the roles.
        """
        roles = self.scenario.trusted_roles
        if not roles:
            return
        generator_state = mock_random.getstate()
        for role in roles:
            account, path, name = role_path_and_name(role.arn)
            iam_backends[account]["aws"].create_role(
                role_name=name,
                assume_role_policy_document=json.dumps(trust_policy(self.scenario.lambda_account, role.external_id)),
                path=path,
                permissions_boundary=None,
                description=None,  # type: ignore[arg-type] - moto omits an unset description, as IAM does
                tags=[],
                max_session_duration=None,
            )
        mock_random.setstate(generator_state)

    def _set_lambda_environment(self) -> None:
        for logical, (variable, _) in TABLES.items():
            os.environ[variable] = self.table_names[logical]
        os.environ.update(OTHER_TABLE_VARIABLES)
        for name, value in self.scenario.environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = str(value)
        entry = self.scenario.entry
        if entry.via == VIA_LAMBDA_HANDLER and entry.flag is not None:
            os.environ[FEATURE_FLAG_VARIABLE] = entry.flag
