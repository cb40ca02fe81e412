"""The fault layer: callers see what real AWS would give them, on exactly the attempts the scenario names."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, CredentialRetrievalError, EndpointConnectionError, ReadTimeoutError
from botocore.parsers import ResponseParserError

from harness.scenario.errors import CATALOGUE

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
TARGET = "222222222222"


def call(service: str) -> Any:
    """One representative call per service, made with the Lambda's own credentials and no retries."""
    if service == "drs":
        return boto3.client("drs", region_name="us-east-1", config=NO_RETRY).describe_source_servers()
    if service == "sts":
        return boto3.client("sts", config=NO_RETRY).get_caller_identity()
    if service == "ec2":
        return boto3.client("ec2", region_name="us-east-1", config=NO_RETRY).describe_instances()
    return boto3.client("dynamodb", config=NO_RETRY).scan(TableName="drs-target-accounts")


OPERATIONS = {
    "drs": "DescribeSourceServers",
    "sts": "GetCallerIdentity",
    "ec2": "DescribeInstances",
    "dynamodb": "Scan",
}
ERROR_CASES = [(service, code) for service, codes in CATALOGUE.items() for code in codes]


@pytest.mark.parametrize(("service", "code"), ERROR_CASES, ids=[f"{s}-{c}" for s, c in ERROR_CASES])
def test_injected_errors_arrive_as_client_errors_with_the_real_code_and_status(world_factory, service, code):
    world_factory({"faults": [{"service": service, "operation": OPERATIONS[service], "effect": {"code": code}}]})
    with pytest.raises(ClientError) as error:
        call(service)
    assert error.value.response["Error"]["Code"] == code
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == CATALOGUE[service][code].status
    assert error.value.response["Error"]["Message"] == CATALOGUE[service][code].message


@pytest.mark.parametrize("service", ["drs", "sts", "ec2", "dynamodb"])
def test_connection_errors(world_factory, service):
    world_factory({"faults": [{"service": service, "effect": {"kind": "connection"}}]})
    with pytest.raises(EndpointConnectionError, match="Could not connect to the endpoint URL"):
        call(service)


@pytest.mark.parametrize("service", ["drs", "sts", "ec2", "dynamodb"])
def test_read_timeouts(world_factory, service):
    world_factory({"faults": [{"service": service, "effect": {"kind": "timeout"}}]})
    with pytest.raises(ReadTimeoutError, match="Read timeout on endpoint URL"):
        call(service)


@pytest.mark.parametrize("service", ["sts", "ec2"])
def test_malformed_xml_responses_fail_to_parse(world_factory, service):
    world_factory({"faults": [{"service": service, "effect": {"kind": "malformed"}}]})
    with pytest.raises(ResponseParserError):
        call(service)


def test_malformed_json_responses_are_what_botocore_makes_of_them(world_factory):
    world_factory({"faults": [{"service": "drs", "effect": {"kind": "malformed"}}]})
    # botocore does not raise for an unparseable JSON body: it hands back a response without the expected members.
    answer = call("drs")
    assert "items" not in answer


def test_custom_message_and_status(world_factory):
    fault = {
        "service": "drs",
        "effect": {"code": "AccessDeniedException", "message": "blocked by an scp", "status": 400},
    }
    world_factory({"faults": [fault]})
    with pytest.raises(ClientError) as error:
        call("drs")
    assert error.value.response["Error"]["Message"] == "blocked by an scp"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_once_fails_only_the_first_attempt_and_botocore_retries(world_factory):
    world = world_factory({"faults": [{"service": "sts", "effect": {"code": "Throttling"}, "when": "once"}]})
    assert boto3.client("sts").get_caller_identity()["Account"] == "111111111111"
    assert world.calls[0].attempts == ["HTTP 400", "ok"]
    assert world.backoff_requested > 0


def test_first_n_attempts(world_factory):
    world = world_factory({"faults": [{"service": "sts", "effect": {"code": "Throttling"}, "when": {"first": 2}}]})
    client = boto3.client("sts", config=NO_RETRY)
    outcomes = []
    for _ in range(3):
        try:
            client.get_caller_identity()
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])
    assert outcomes == ["Throttling", "Throttling", "ok"]
    assert [c.attempts for c in world.calls] == [["HTTP 400"], ["HTTP 400"], ["ok"]]


def test_the_nth_call_fails_on_every_attempt_and_no_other_call_does(world_factory):
    world = world_factory({"faults": [{"service": "sts", "effect": {"kind": "connection"}, "when": {"call": 2}}]})
    client = boto3.client("sts")  # botocore's default retries: every attempt of call 2 is a connection error
    outcomes = []
    for _ in range(3):
        try:
            client.get_caller_identity()
            outcomes.append("ok")
        except EndpointConnectionError:
            outcomes.append("connection")
    assert outcomes == ["ok", "connection", "ok"]
    first, second, third = (c.attempts for c in world.calls)
    assert first == third == ["ok"]
    assert len(second) > 1 and set(second) == {"EndpointConnectionError"}


def test_a_fault_can_be_limited_to_one_invocation(world_factory):
    world = world_factory(
        {
            "invocations": 2,
            "faults": [{"service": "sts", "invocation": 2, "effect": {"code": "InvalidClientTokenId"}}],
        }
    )
    client = boto3.client("sts", config=NO_RETRY)
    assert client.get_caller_identity()["Account"] == "111111111111"
    world.begin_invocation(2)
    with pytest.raises(ClientError, match="InvalidClientTokenId"):
        client.get_caller_identity()
    assert [(c.invocation, c.attempts) for c in world.calls] == [(1, ["ok"]), (2, ["HTTP 403"])]


def test_fault_on_a_later_drs_page(world_factory):
    world = world_factory(
        {
            "drsPageSize": 10,
            "servers": [{"account": "111111111111", "region": "us-east-1", "count": 35, "ec2Instances": False}],
            "faults": [{"service": "drs", "effect": {"code": "InternalServerException"}, "when": {"page": 2}}],
        }
    )
    drs = boto3.client("drs", region_name="us-east-1", config=NO_RETRY)
    with pytest.raises(ClientError, match="InternalServerException"):
        [page for page in drs.get_paginator("describe_source_servers").paginate()]
    assert [c.attempts for c in world.calls] == [["ok"], ["HTTP 500"]]


def test_matchers_select_account_region_and_table(world_factory):
    world_factory(
        {
            "faults": [
                {"service": "dynamodb", "table": "inventory", "effect": {"code": "ResourceNotFoundException"}},
                {
                    "service": "drs",
                    "region": "eu-west-1",
                    "account": TARGET,
                    "effect": {"code": "AccessDeniedException"},
                },
            ]
        }
    )
    assert call("dynamodb")["Items"] == []  # the target-accounts table is not matched
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        boto3.client("dynamodb").scan(TableName="drs-source-server-inventory")
    assert call("drs")["items"] == []  # own account, us-east-1: not matched


def test_assume_role_failure_by_role_account_and_session_name(world_factory):
    role = f"arn:aws:iam::{TARGET}:role/DRSOrchestrationRole"
    world_factory(
        {
            "accounts": [{"accountId": "333333333333", "assumeRole": {"code": "AccessDenied"}}],
            "faults": [
                {"service": "sts", "sessionName": "inventory-ec2-query", "effect": {"code": "RegionDisabledException"}}
            ],
        }
    )
    sts = boto3.client("sts")
    assert sts.assume_role(RoleArn=role, RoleSessionName="inventory-sync")["Credentials"]
    with pytest.raises(ClientError, match="RegionDisabledException"):
        sts.assume_role(RoleArn=role, RoleSessionName="inventory-ec2-query")
    with pytest.raises(ClientError, match="AccessDenied"):
        sts.assume_role(RoleArn="arn:aws:iam::333333333333:role/x", RoleSessionName="inventory-sync")


def _put_batch(table: Any, count: int) -> None:
    with table.batch_writer() as batch:
        for i in range(count):
            batch.put_item(Item={"region": f"r-{i:02d}", "serverCount": i})


def test_unprocessed_items_are_held_back_and_rewritten_by_the_batch_writer(world_factory):
    world = world_factory(
        {
            "faults": [
                {
                    "service": "dynamodb",
                    "operation": "BatchWriteItem",
                    "table": "regionStatus",
                    "effect": {"kind": "unprocessed", "count": 3},
                    "when": "once",
                }
            ]
        }
    )
    _put_batch(boto3.resource("dynamodb").Table("drs-region-status"), 10)
    assert len(world.table_snapshot()["regionStatus"]) == 10
    batches = [len(c.params["RequestItems"]["drs-region-status"]) for c in world.calls]
    assert batches == [10, 3]


def test_a_batch_entirely_held_back(world_factory):
    world = world_factory(
        {
            "faults": [
                {
                    "service": "dynamodb",
                    "operation": "BatchWriteItem",
                    "effect": {"kind": "unprocessed", "count": 25},
                    "when": "once",
                }
            ]
        }
    )
    client = boto3.client("dynamodb")
    answer = client.batch_write_item(
        RequestItems={"drs-region-status": [{"PutRequest": {"Item": {"region": {"S": "x"}}}}]}
    )
    assert answer["UnprocessedItems"]["drs-region-status"] == [{"PutRequest": {"Item": {"region": {"S": "x"}}}}]
    assert world.table_snapshot()["regionStatus"] == []


def test_a_faulted_write_never_reaches_moto(world_factory):
    world = world_factory(
        {"faults": [{"service": "dynamodb", "operation": "PutItem", "effect": {"code": "ValidationException"}}]}
    )
    with pytest.raises(ClientError):
        boto3.client("dynamodb", config=NO_RETRY).put_item(TableName="drs-region-status", Item={"region": {"S": "x"}})
    assert world.table_snapshot()["regionStatus"] == []
    assert world.fired_faults == [(0, "dynamodb", "PutItem")]


@pytest.mark.parametrize("service", ["drs", "sts", "ec2", "dynamodb"])
def test_credential_refresh_failures_are_not_client_errors(world_factory, service):
    world_factory({"faults": [{"service": service, "effect": {"kind": "credentials"}}]})
    with pytest.raises(CredentialRetrievalError, match="security token included in the request is expired"):
        call(service)
