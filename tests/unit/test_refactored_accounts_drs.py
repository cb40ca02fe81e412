"""Unit tests of the refactor's account collection, credentials and DRS queries, in simulated AWS worlds."""

from __future__ import annotations

import logging
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from lambda_shared.cross_account import account_of_assumed_role
from lambda_shared.dynamodb_tables import TableNotConfiguredError
from refactored.drs import _classify_client_error, _classify_exception
from refactored.inventory_sync import (
    AccountCredentials,
    RegionScan,
    RoleAssumptionError,
    collect_accounts_to_query,
    get_account_credentials,
    query_drs_all_regions,
    query_drs_single_region,
    resolve_account_credentials,
)

LAMBDA = "111111111111"
TARGET = "222222222222"
OTHER = "333333333333"
ROLE = f"arn:aws:iam::{TARGET}:role/DRSOrchestrationRole"


def calls_of(world: Any, operation: str, table: str | None = None) -> list[Any]:
    """The recorded calls of one operation (optionally on one logical table)."""
    return [c for c in world.calls if c.operation == operation and (table is None or c.table == table)]


def target(**extra: Any) -> dict[str, Any]:
    """A target-account row for TARGET with a role."""
    return {"accountId": TARGET, "roleArn": ROLE, **extra}


# -- collect_accounts_to_query ---------------------------------------------------------------------------------------


def test_collect_accounts_returns_legacy_fields_with_absent_ones_as_none(world_factory):
    world = world_factory(
        {
            "accounts": [
                target(externalId="ext-1", accountName="ignored"),
                {"accountId": OTHER},
                {"accountId": LAMBDA, "roleArn": f"arn:aws:iam::{LAMBDA}:role/R"},
            ]
        }
    )
    accounts = collect_accounts_to_query()
    assert sorted(accounts, key=lambda a: a["accountId"]) == [
        {"accountId": LAMBDA, "roleArn": f"arn:aws:iam::{LAMBDA}:role/R", "externalId": None},
        {"accountId": TARGET, "roleArn": ROLE, "externalId": "ext-1"},
        {"accountId": OTHER, "roleArn": None, "externalId": None},
    ]
    scans = calls_of(world, "Scan", "targetAccounts")
    assert len(scans) == 1 and "ExclusiveStartKey" not in scans[0].params  # one page only, as legacy


def test_collect_accounts_keeps_scan_order(world_factory):
    world_factory({"accounts": [{"accountId": f"{n:012d}"} for n in range(300000000000, 300000000010)]})
    scanned = [i["accountId"] for i in boto3.resource("dynamodb").Table("drs-target-accounts").scan()["Items"]]
    assert [a["accountId"] for a in collect_accounts_to_query()] == scanned


def test_collect_accounts_of_an_empty_table_is_empty(world_factory):
    world_factory({})
    assert collect_accounts_to_query() == []


def test_collect_accounts_without_table_variable_raises_naming_it(world_factory):
    world = world_factory({"environment": {"TARGET_ACCOUNTS_TABLE": None}})
    with pytest.raises(TableNotConfiguredError) as error:
        collect_accounts_to_query()
    assert error.value.variable == "TARGET_ACCOUNTS_TABLE"
    assert world.calls == []


def test_collect_accounts_scan_failure_propagates(world_factory):
    world_factory(
        {
            "accounts": [target()],
            "faults": [{"service": "dynamodb", "operation": "Scan", "effect": {"code": "AccessDeniedException"}}],
        }
    )
    with pytest.raises(ClientError) as error:
        collect_accounts_to_query()
    assert error.value.response["Error"]["Code"] == "AccessDeniedException"


# -- get_account_credentials -----------------------------------------------------------------------------------------


def test_credentials_assume_the_role_with_legacy_parameters(world_factory):
    world = world_factory({"accounts": [target(externalId="ext-1")]})
    credentials = get_account_credentials({"accountId": TARGET, "roleArn": ROLE, "externalId": "ext-1"})
    assert set(credentials) >= {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert [c.operation for c in world.calls] == ["GetCallerIdentity", "AssumeRole"]
    assert calls_of(world, "AssumeRole")[0].params == {
        "RoleArn": ROLE,
        "RoleSessionName": "inventory-sync",
        "DurationSeconds": 900,
        "ExternalId": "ext-1",
    }


@pytest.mark.parametrize("external_id", [None, ""])
def test_credentials_send_external_id_only_when_truthy(world_factory, external_id):
    world = world_factory({"accounts": [target()]})
    assert get_account_credentials({"accountId": TARGET, "roleArn": ROLE, "externalId": external_id})
    assert "ExternalId" not in calls_of(world, "AssumeRole")[0].params


def test_credentials_of_the_current_account_are_the_lambdas_own(world_factory):
    world = world_factory({"accounts": [{"accountId": LAMBDA, "roleArn": f"arn:aws:iam::{LAMBDA}:role/R"}]})
    assert get_account_credentials({"accountId": LAMBDA, "roleArn": f"arn:aws:iam::{LAMBDA}:role/R"}) is None
    assert [c.operation for c in world.calls] == ["GetCallerIdentity"]


@pytest.mark.parametrize("role_arn", [None, ""])
def test_credentials_without_role_arn_are_the_lambdas_own(world_factory, role_arn):
    world = world_factory({"accounts": [{"accountId": TARGET}]})
    assert get_account_credentials({"accountId": TARGET, "roleArn": role_arn, "externalId": None}) is None
    assert calls_of(world, "AssumeRole") == []


def test_credentials_failure_raises_role_assumption_error_and_logs(world_factory, caplog):
    world_factory({"accounts": [target(assumeRole={"kind": "error", "code": "AccessDenied"})]})
    with caplog.at_level(logging.WARNING), pytest.raises(RoleAssumptionError) as error:
        get_account_credentials({"accountId": TARGET, "roleArn": ROLE, "externalId": None})
    assert error.value.account_id == TARGET
    assert f"Cannot assume role for {TARGET}" in caplog.text


def test_credentials_when_identity_is_unknown_assume_even_the_own_role(world_factory):
    """``GetCallerIdentity`` failing makes the current account "unknown", as in legacy: the own role is assumed."""
    own_role = f"arn:aws:iam::{LAMBDA}:role/R"
    world = world_factory(
        {
            "accounts": [{"accountId": LAMBDA, "roleArn": own_role}],
            "faults": [{"service": "sts", "operation": "GetCallerIdentity", "effect": {"code": "AccessDenied"}}],
        }
    )
    assert get_account_credentials({"accountId": LAMBDA, "roleArn": own_role, "externalId": None})
    assert calls_of(world, "AssumeRole")[0].params["RoleArn"] == own_role


# -- whose credentials (AD-2) ------------------------------------------------------------------------------------------


def test_assumed_credentials_belong_to_the_account_sts_names_not_to_the_row(world_factory):
    """A row's roleArn of another account gives that account's credentials: STS's AssumedRoleUser says so."""
    foreign = f"arn:aws:iam::{OTHER}:role/DRSOrchestrationRole"
    world_factory({"accounts": [{"accountId": TARGET, "roleArn": foreign}]})
    resolved = resolve_account_credentials({"accountId": TARGET, "roleArn": foreign, "externalId": None})
    assert resolved.credentials and resolved.identity == OTHER
    assert resolve_account_credentials({"accountId": TARGET, "roleArn": ROLE, "externalId": None}).identity == TARGET


@pytest.mark.parametrize("role_arn", [None, ""])
def test_own_credentials_belong_to_the_lambda_account_whatever_the_row_names(world_factory, role_arn):
    world_factory({"accounts": [{"accountId": TARGET}]})
    resolved = resolve_account_credentials({"accountId": TARGET, "roleArn": role_arn, "externalId": None})
    assert resolved == AccountCredentials(None, LAMBDA)


def test_own_credentials_of_an_unknown_identity_belong_to_nobody_known(world_factory):
    world_factory(
        {"faults": [{"service": "sts", "operation": "GetCallerIdentity", "effect": {"code": "AccessDenied"}}]}
    )
    assert resolve_account_credentials({"accountId": TARGET, "roleArn": None, "externalId": None}).identity is None


@pytest.mark.parametrize(
    ("arn", "account"),
    [
        (f"arn:aws:sts::{OTHER}:assumed-role/DRSOrchestrationRole/inventory-sync", OTHER),
        (f"arn:aws-cn:sts::{OTHER}:assumed-role/R/s", OTHER),
        (f"arn:aws:iam::{OTHER}:role/R", None),
        ("arn:aws:sts::not-an-account:assumed-role/R/s", None),
        ("nonsense", None),
        (None, None),
    ],
)
def test_account_of_an_assume_role_answer_is_read_from_the_assumed_role_user(arn, account):
    answer = {"Credentials": {}, **({"AssumedRoleUser": {"Arn": arn}} if arn else {})}
    assert account_of_assumed_role(answer) == account


# -- query_drs_single_region -----------------------------------------------------------------------------------------


def drs_world(world_factory: Any, faults: list[dict[str, Any]], **extra: Any) -> Any:
    """TARGET with 5 servers in us-east-1, DRS pages of 2, no EC2 instances."""
    return world_factory(
        {
            "accounts": [target()],
            "drsPageSize": 2,
            "servers": [{"account": TARGET, "region": "us-east-1", "count": 5, "ec2Instances": False}],
            "faults": faults,
            **extra,
        }
    )


def own_credentials() -> dict[str, Any]:
    return get_account_credentials({"accountId": TARGET, "roleArn": ROLE, "externalId": None})


def test_single_region_pages_through_every_server_without_filters(world_factory):
    world = drs_world(world_factory, [])
    scan = query_drs_single_region("us-east-1", TARGET, own_credentials())
    assert (scan.status, scan.server_count, scan.error_message) == ("ACTIVE", 5, None)
    assert scan.complete and scan.reported_arns == {s["arn"] for s in scan.servers}
    pages = calls_of(world, "DescribeSourceServers")
    assert len(pages) == 3
    assert all(set(p.params) <= {"nextToken"} for p in pages)
    assert {p.account for p in pages} == {TARGET} and {p.region for p in pages} == {"us-east-1"}
    assert len({s["sourceServerID"] for s in scan.servers}) == 5


def test_single_region_with_no_servers_is_active_and_empty(world_factory):
    drs_world(world_factory, [])
    scan = query_drs_single_region("eu-west-1", TARGET, own_credentials())
    assert (scan.status, scan.servers, scan.error_message) == ("ACTIVE", [], None)


def test_single_region_failure_on_a_later_page_discards_earlier_pages_but_remembers_their_arns(world_factory):
    drs_world(world_factory, [{"service": "drs", "effect": {"code": "AccessDeniedException"}, "when": {"page": 2}}])
    scan = query_drs_single_region("us-east-1", TARGET, own_credentials())
    assert scan.status == "IAM_PERMISSION_DENIED" and scan.servers == [] and scan.server_count == 0
    assert not scan.complete
    assert len(scan.reported_arns) == 2  # page 1's servers exist, although the region's listing failed


def test_single_region_uninitialized_on_a_later_page_is_not_initialized_and_proves_nothing(world_factory):
    drs_world(
        world_factory, [{"service": "drs", "effect": {"code": "UninitializedAccountException"}, "when": {"page": 3}}]
    )
    scan = query_drs_single_region("us-east-1", TARGET, own_credentials())
    assert (scan.status, scan.servers, scan.complete) == ("NOT_INITIALIZED", [], False)
    assert len(scan.reported_arns) == 4


def test_single_region_throttled_once_is_retried_once_by_botocore(world_factory):
    """``retries={"max_attempts": 1}`` in botocore's legacy mode is one retry: a single throttle is absorbed."""
    world = drs_world(world_factory, [{"service": "drs", "effect": {"code": "ThrottlingException"}, "when": "once"}])
    scan = query_drs_single_region("us-east-1", TARGET, own_credentials())
    assert scan.status == "ACTIVE" and scan.server_count == 5
    assert calls_of(world, "DescribeSourceServers")[0].attempts == ["HTTP 429", "ok"]


def test_single_region_throttled_twice_is_throttled(world_factory):
    world = drs_world(
        world_factory, [{"service": "drs", "effect": {"code": "ThrottlingException"}, "when": {"first": 2}}]
    )
    scan = query_drs_single_region("us-east-1", TARGET, own_credentials())
    assert (scan.status, scan.error_message) == ("THROTTLED", "API rate limit exceeded")
    assert calls_of(world, "DescribeSourceServers")[0].attempts == ["HTTP 429", "HTTP 429"]


@pytest.mark.parametrize(
    ("effect", "status", "message"),
    [
        ({"code": "UninitializedAccountException"}, "NOT_INITIALIZED", "DRS not initialized in region"),
        (  # the code alone decides, whatever the message says
            {"code": "UninitializedAccountException", "message": "Set up Elastic Disaster Recovery first"},
            "NOT_INITIALIZED",
            "DRS not initialized in region",
        ),
        (
            {"code": "ValidationException", "message": "Account is not initialized yet"},
            "NOT_INITIALIZED",
            "DRS not initialized in region",
        ),
        (
            {"code": "AccessDeniedException", "message": "no drs:DescribeSourceServers"},
            "IAM_PERMISSION_DENIED",
            "IAM permissions denied: no drs:DescribeSourceServers",
        ),
        (
            {"code": "ValidationException", "message": "explicit deny in a Service Control Policy"},
            "SCP_DENIED",
            "Blocked by Service Control Policy",
        ),
        (
            {"code": "ValidationException", "message": "denied by SCP p-123"},
            "SCP_DENIED",
            "Blocked by Service Control Policy",
        ),
        ({"code": "ThrottlingException"}, "THROTTLED", "API rate limit exceeded"),
        ({"code": "TooManyRequestsException"}, "THROTTLED", "API rate limit exceeded"),
        ({"code": "OptInRequired", "message": "Opt in first"}, "REGION_NOT_OPTED_IN", "Region not enabled in account"),
        (
            {"code": "UnrecognizedClientException"},
            "ERROR",
            "UnrecognizedClientException: The security token included in the request is invalid.",
        ),
        ({"code": "InvalidRequestException"}, "ERROR", "InvalidRequestException: The request is invalid."),
        (
            {"code": "ServiceQuotaExceededException"},
            "ERROR",
            "ServiceQuotaExceededException: Service quota exceeded",
        ),
        (
            {"code": "InternalServerException"},
            "ERROR",
            "InternalServerException: An internal error has occurred",
        ),
        ({"kind": "connection"}, "ENDPOINT_UNREACHABLE", "Cannot connect to DRS endpoint"),
    ],
)
def test_single_region_classifies_errors_as_legacy(world_factory, effect, status, message):
    drs_world(world_factory, [{"service": "drs", "effect": {"kind": "error", **effect}}])
    scan = query_drs_single_region("us-east-1", TARGET, own_credentials())
    assert (scan.status, scan.error_message, scan.servers) == (status, message, [])


def test_single_region_timeout_is_an_error_with_its_text(world_factory):
    drs_world(world_factory, [{"service": "drs", "effect": {"kind": "timeout"}}])
    scan = query_drs_single_region("us-east-1", TARGET, own_credentials())
    assert scan.status == "ERROR" and scan.error_message.startswith("Read timeout on endpoint URL")
    assert not scan.complete


def test_single_region_malformed_answer_reads_as_an_empty_page_as_in_legacy_but_is_not_complete(world_factory):
    """botocore turns an unparseable rest-json body into ``{"message": body}``: no items, no error. The status is
    legacy's (ACTIVE); the listing is not complete, so it proves nothing about the region's servers."""
    drs_world(world_factory, [{"service": "drs", "effect": {"kind": "malformed"}}])
    scan = query_drs_single_region("us-east-1", TARGET, own_credentials())
    assert (scan.status, scan.servers, scan.complete) == ("ACTIVE", [], False)


def test_single_region_malformed_later_page_keeps_earlier_servers_as_legacy_but_is_not_complete(world_factory):
    drs_world(world_factory, [{"service": "drs", "effect": {"kind": "malformed"}, "when": {"page": 2}}])
    scan = query_drs_single_region("us-east-1", TARGET, own_credentials())
    assert (scan.status, scan.server_count, scan.complete) == ("ACTIVE", 2, False)


def test_classify_exception_matches_token_and_connection_texts():
    assert _classify_exception(Exception("UnrecognizedClientException: nope")) == (
        "REGION_NOT_ENABLED",
        "Region not enabled in account",
    )
    assert _classify_exception(Exception("The Security Token is bad"))[0] == "REGION_NOT_ENABLED"
    assert _classify_exception(Exception("EndpointConnectionError happened"))[0] == "ENDPOINT_UNREACHABLE"
    assert _classify_exception(Exception("x" * 900)) == ("ERROR", "x" * 500)


def test_classify_client_error_without_code_keeps_500_characters_of_the_message():
    error = ClientError({"Error": {"Message": "m" * 800}}, "DescribeSourceServers")
    assert _classify_client_error(error) == ("ERROR", "m" * 500)


def test_a_region_scan_proves_nothing_unless_built_complete():
    assert not any(RegionScan("r", s).complete for s in ("ACTIVE", "NOT_INITIALIZED", "THROTTLED", "ERROR"))
    assert RegionScan("r", "ACTIVE", complete=True).complete


# -- query_drs_all_regions -------------------------------------------------------------------------------------------

REGIONS = ["us-east-1", "eu-west-1", "ap-south-1"]


def regions_world(world_factory: Any, **extra: Any) -> Any:
    return world_factory(
        {
            "accounts": [target()],
            "tables": {"activeRegions": REGIONS},
            "servers": [
                {"account": TARGET, "region": "us-east-1", "count": 3, "ec2Instances": False},
                {"account": TARGET, "region": "eu-west-1", "count": 2, "ec2Instances": False},
            ],
            **extra,
        }
    )


def test_all_regions_collects_servers_and_one_scan_per_region(world_factory):
    regions_world(world_factory)
    servers, scans = query_drs_all_regions({"accountId": TARGET}, own_credentials(), REGIONS, "2026-01-15T12:00:00")
    assert sorted(s.region for s in scans) == sorted(REGIONS)
    assert len(servers) == 5 == sum(s.server_count for s in scans)
    order = [s.region for s in scans]
    assert [f.region for f in servers] == sorted((f.region for f in servers), key=order.index)
    assert {f.account_id for f in servers} == {TARGET}


def test_all_regions_writes_status_rows_like_legacy(world_factory):
    world = regions_world(
        world_factory, faults=[{"service": "drs", "region": "ap-south-1", "effect": {"code": "AccessDeniedException"}}]
    )
    _, scans = query_drs_all_regions({"accountId": TARGET}, own_credentials(), REGIONS, "2026-01-15T12:00:00")
    rows = {row["region"]: row for row in world.table_snapshot()["regionStatus"]}
    assert rows["us-east-1"] == {
        "region": "us-east-1",
        "accountId": TARGET,
        "status": "ACTIVE",
        "serverCount": 3,
        "lastUpdated": "2026-01-15T12:00:00",
    }
    denied = rows["ap-south-1"]
    assert denied["status"] == "IAM_PERMISSION_DENIED" and denied["serverCount"] == 0
    assert denied["errorMessage"].startswith("IAM permissions denied: ")
    puts = [c.params["Item"] for c in calls_of(world, "PutItem", "regionStatus")]
    # one put per scanned region; their order is the threads' and may differ from the order results were collected
    assert sorted(p["region"]["S"] for p in puts) == sorted(s.region for s in scans)
    statuses = {p["region"]["S"]: p["status"]["S"] for p in puts}
    assert statuses == {"us-east-1": "AVAILABLE", "eu-west-1": "AVAILABLE", "ap-south-1": "ERROR"}
    assert len(calls_of(world, "BatchWriteItem", "regionStatus")) == 1


def test_all_regions_without_status_table_writes_no_status(world_factory):
    world = regions_world(world_factory, environment={"DRS_REGION_STATUS_TABLE": None})
    servers, scans = query_drs_all_regions({"accountId": TARGET}, own_credentials())
    assert len(scans) == 28 and len(servers) == 5  # get_active_regions falls back to every region
    assert not [c for c in world.calls if c.service == "dynamodb"]


def test_all_regions_reads_active_regions_when_not_given(world_factory):
    regions_world(world_factory)
    _, scans = query_drs_all_regions({"accountId": TARGET}, own_credentials())
    assert sorted(s.region for s in scans) == sorted(REGIONS)


def test_all_regions_with_28_regions_the_25th_completion_keeps_the_update_row(world_factory):
    world = world_factory(
        {
            "accounts": [target()],
            "tables": {"activeRegions": "all"},
            "servers": [{"account": TARGET, "region": "us-east-1", "count": 1, "ec2Instances": False}],
        }
    )
    _, scans = query_drs_all_regions({"accountId": TARGET}, own_credentials(), None, "2026-01-15T12:00:00")
    batches = calls_of(world, "BatchWriteItem", "regionStatus")
    assert [len(b.params["RequestItems"]["drs-region-status"]) for b in batches] == [25, 3]
    assert len(calls_of(world, "PutItem", "regionStatus")) == 28
    rows = {row["region"]: row for row in world.table_snapshot()["regionStatus"]}
    twenty_fifth = scans[24].region
    assert "accountId" not in rows[twenty_fifth] and rows[twenty_fifth]["status"] in ("AVAILABLE", "UNINITIALIZED")
    assert all(rows[s.region]["accountId"] == TARGET for i, s in enumerate(scans) if i != 24)


def test_all_regions_status_write_failure_raises_as_legacy(world_factory):
    regions_world(
        world_factory,
        faults=[
            {
                "service": "dynamodb",
                "operation": "BatchWriteItem",
                "table": "regionStatus",
                "effect": {"code": "ValidationException"},
            }
        ],
    )
    with pytest.raises(ClientError):
        query_drs_all_regions({"accountId": TARGET}, own_credentials(), REGIONS, "t")


def test_all_regions_with_no_regions_is_empty(world_factory):
    world = regions_world(world_factory)
    assert query_drs_all_regions({"accountId": TARGET}, None, [], "t") == ([], [])
    assert not calls_of(world, "DescribeSourceServers")
