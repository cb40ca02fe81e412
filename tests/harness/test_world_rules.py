"""Where the world answers as AWS does rather than as moto would: role trust, repeated instance ids, scan pages."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from harness.scenario.model import scenario_from_dict
from harness.world import World

TARGET = "222222222222"
ORIGIN = "555555555555"
ROLE = f"arn:aws:iam::{TARGET}:role/DRSOrchestrationRole"
ORIGIN_ROLE = f"arn:aws:iam::{ORIGIN}:role/DRSOrchestrationRole"
LAMBDA_CALLER = "arn:aws:sts::111111111111:user/moto"  # what GetCallerIdentity answers for the Lambda's credentials


def assume(role_arn: str, external_id: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": "inventory-sync", "DurationSeconds": 900}
    if external_id is not None:
        params["ExternalId"] = external_id
    return boto3.client("sts").assume_role(**params)


def refusal(role_arn: str, external_id: str | None = None) -> ClientError:
    with pytest.raises(ClientError) as raised:
        assume(role_arn, external_id)
    return raised.value


# ------------------------------------------------------------------------------------------------------ role trust


@pytest.mark.parametrize("external_id", [None, "tenant-other", "TENANT-7F3A9C"], ids=["missing", "wrong", "case"])
def test_a_role_requiring_an_external_id_refuses_any_other_with_aws_access_denied(world_factory, external_id):
    world = world_factory(
        {"accounts": [{"accountId": TARGET, "roleArn": ROLE, "role": {"externalId": "tenant-7f3a9c"}}]}
    )
    error = refusal(ROLE, external_id)
    assert error.response["Error"]["Code"] == "AccessDenied"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error.response["Error"]["Message"] == (
        f"User: {LAMBDA_CALLER} is not authorized to perform: sts:AssumeRole on resource: {ROLE}"
    )
    assert boto3.client("sts").get_caller_identity()["Arn"] == LAMBDA_CALLER  # the message names the real caller
    [call] = [c for c in world.calls if c.operation == "AssumeRole"]
    assert call.attempts == ["HTTP 403"] and world.fired_faults == []  # a rule of the world, not a fault


def test_the_right_external_id_is_trusted(world_factory):
    world_factory({"accounts": [{"accountId": TARGET, "roleArn": ROLE, "role": {"externalId": "tenant-7f3a9c"}}]})
    credentials = assume(ROLE, "tenant-7f3a9c")["Credentials"]
    identity = boto3.client(
        "sts",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    ).get_caller_identity()
    assert identity["Account"] == TARGET


def test_roles_without_a_declared_condition_trust_any_external_id_or_none(world_factory):
    world_factory({"accounts": [{"accountId": TARGET, "roleArn": ROLE, "externalId": "tenant-7f3a9c"}]})
    assert assume(ROLE)["Credentials"]["AccessKeyId"]
    assert assume(ROLE, "anything-at-all")["Credentials"]["AccessKeyId"]


def test_a_role_no_target_row_names_can_require_an_external_id(world_factory):
    """The EC2 look-up of LB-7 assumes the default role of an origin account that need not be a target."""
    world_factory({"roles": [{"arn": ORIGIN_ROLE, "externalId": "drs-orchestration-cross-account"}]})
    assert assume(ORIGIN_ROLE, "drs-orchestration-cross-account")["Credentials"]["AccessKeyId"]
    assert refusal(ORIGIN_ROLE, "tenant-7f3a9c").response["Error"]["Code"] == "AccessDenied"


def test_the_refusal_names_an_assumed_role_caller_by_its_session(world_factory):
    world_factory(
        {
            "accounts": [{"accountId": TARGET, "roleArn": ROLE}],
            "roles": [{"arn": ORIGIN_ROLE, "externalId": "tenant-555"}],
        }
    )
    credentials = assume(ROLE)["Credentials"]
    sts = boto3.client(
        "sts",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    with pytest.raises(ClientError) as raised:
        sts.assume_role(RoleArn=ORIGIN_ROLE, RoleSessionName="hop")
    caller = sts.get_caller_identity()["Arn"]
    assert caller == f"arn:aws:sts::{TARGET}:assumed-role/DRSOrchestrationRole/inventory-sync"
    assert raised.value.response["Error"]["Message"].startswith(f"User: {caller} is not authorized")


def _trust_policy_seen_by_iam(world: Any, role_arn: str) -> dict[str, Any]:
    account, name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[1]
    role = world.session(account).client("iam").get_role(RoleName=name)["Role"]
    assert role["Arn"] == role_arn
    return role["AssumeRolePolicyDocument"]


def test_declared_roles_exist_in_iam_in_their_account_with_the_external_id_condition(world_factory):
    """What the STS rule enforces, a reader of the account sees: iam:GetRole shows the sts:ExternalId condition."""
    pathed = f"arn:aws:iam::{TARGET}:role/ops/CustomDrsRole"
    world = world_factory(
        {
            "accounts": [
                {"accountId": TARGET, "roleArn": ROLE, "role": {"externalId": "tenant-7f3a9c"}},
                {"accountId": "333333333333", "roleArn": "arn:aws:iam::333333333333:role/Undeclared"},
            ],
            "roles": [{"arn": ORIGIN_ROLE, "externalId": "tenant-555"}, {"arn": pathed, "externalId": "tenant-ops"}],
        }
    )
    for role_arn, external_id in ((ROLE, "tenant-7f3a9c"), (ORIGIN_ROLE, "tenant-555"), (pathed, "tenant-ops")):
        [statement] = _trust_policy_seen_by_iam(world, role_arn)["Statement"]
        assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole"
        assert statement["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
        assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": external_id}}
    with pytest.raises(ClientError) as raised:  # a role nobody declares has no IAM role to read
        world.session("333333333333").client("iam").get_role(RoleName="Undeclared")
    assert raised.value.response["Error"]["Code"] == "NoSuchEntity"
    assert {call.service for call in world.calls} == {"iam"}  # only the test's reads: building the roles is no call


def test_declaring_roles_changes_no_id_the_world_hands_out():
    """The roles are created without drawing on moto's seeded generator: servers, instances and credentials keep
    the ids they have in the same world without the declaration."""
    servers = [{"account": TARGET, "region": "us-east-1", "count": 2}]
    base = {"accounts": [{"accountId": TARGET, "roleArn": ROLE}], "servers": servers}

    def ids(doc: dict[str, Any]) -> tuple[Any, ...]:
        with World(scenario_from_dict({"name": "ids", **doc})) as world:
            return dict(world.instances), assume(ROLE, "tenant-7f3a9c")["Credentials"]["AccessKeyId"]

    plain = ids(base)
    declared = ids({**base, "roles": [{"arn": ORIGIN_ROLE, "externalId": "tenant-555"}]})
    assert declared == plain


# ---------------------------------------------------------------------------------------------- repeated instance ids


def _instance_ids(world: Any) -> list[str]:
    return [instance_id for ids in world.instances.values() for instance_id in ids]


def test_describe_instances_describes_a_repeated_id_once_as_ec2_does(world_factory):
    world = world_factory({"servers": [{"account": "111111111111", "region": "us-east-1", "count": 2}]})
    first, second = _instance_ids(world)
    answer = boto3.client("ec2", region_name="us-east-1").describe_instances(InstanceIds=[first, second, first, first])
    described = [i["InstanceId"] for r in answer["Reservations"] for i in r["Instances"]]
    assert sorted(described) == sorted([first, second])
    [call] = [c for c in world.calls if c.operation == "DescribeInstances"]
    assert call.params == {"InstanceId.1": first, "InstanceId.2": second, "InstanceId.3": first, "InstanceId.4": first}
    assert world.simulator_failures == []


def test_a_repeated_unknown_id_is_still_not_found(world_factory):
    world = world_factory({"servers": [{"account": "111111111111", "region": "us-east-1", "count": 1}]})
    [known] = _instance_ids(world)
    unknown = "i-0000000000000dead"
    with pytest.raises(ClientError) as raised:
        boto3.client("ec2", region_name="us-east-1").describe_instances(InstanceIds=[known, unknown, unknown])
    assert raised.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"


# --------------------------------------------------------------------------------------------------- scan pages


def _accounts(count: int) -> list[dict[str, str]]:
    return [{"accountId": f"{index:012d}", "accountName": f"account-{index}"} for index in range(1, count + 1)]


def test_a_target_accounts_table_larger_than_one_page_scans_in_pages(world_factory):
    world = world_factory({"accounts": _accounts(5), "dynamodbPageSize": {"targetAccounts": 2}})
    table = boto3.resource("dynamodb").Table(world.table_names["targetAccounts"])
    first = table.scan()  # what legacy's single, un-paginated scan sees
    assert len(first["Items"]) == 2 and "LastEvaluatedKey" in first
    pages, kwargs, seen = 1, {"ExclusiveStartKey": first["LastEvaluatedKey"]}, list(first["Items"])
    while True:
        page = table.scan(**kwargs)
        pages += 1
        seen += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert pages == 3 and sorted(item["accountId"] for item in seen) == [a["accountId"] for a in _accounts(5)]
    assert [c.params.get("Limit") for c in world.calls if c.operation == "Scan"] == [None, None, None]


def test_the_page_counts_items_evaluated_before_the_filter_as_dynamodb_does(world_factory):
    stale = [
        {
            "sourceServerArn": f"arn:aws:drs:us-east-1:{owner}:source-server/s-{index:017d}",
            "stagingAccountId": owner,
            "sourceAccountId": owner,
        }
        for index, owner in enumerate([TARGET, ORIGIN, TARGET, ORIGIN, TARGET, ORIGIN], start=1)
    ]
    world = world_factory({"tables": {"inventory": stale}, "dynamodbPageSize": {"inventory": 4}})
    table = boto3.resource("dynamodb").Table(world.table_names["inventory"])
    evaluated = table.scan()["Items"]  # the first page: the first 4 items in DynamoDB's order
    first = table.scan(FilterExpression="sourceAccountId = :a", ExpressionAttributeValues={":a": TARGET})
    assert len(evaluated) == 4 and first["ScannedCount"] == 4 and "LastEvaluatedKey" in first
    assert first["Items"] == [item for item in evaluated if item["sourceAccountId"] == TARGET]
    smaller = table.scan(Limit=1)  # a caller's own smaller Limit is kept
    assert len(smaller["Items"]) == 1


def test_other_tables_keep_one_megabyte_pages(world_factory):
    world = world_factory({"accounts": _accounts(5), "dynamodbPageSize": {"inventory": 1}})
    page = boto3.resource("dynamodb").Table(world.table_names["targetAccounts"]).scan()
    assert len(page["Items"]) == 5 and "LastEvaluatedKey" not in page
