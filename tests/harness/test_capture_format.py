"""The scenario format's capture additions: captured groups and instances, row attributes, wire-form values."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from harness.scenario.loading import check_document, document_scenario
from harness.world import World
from harness.world.generate import generate_server

SPOKE = "222222222222"


def problems(doc: dict[str, Any]) -> list[str]:
    return [f"{problem.path}: {problem.reason}" for problem in check_document({"name": "x", **doc})]


def test_a_captured_group_holds_whole_servers_only() -> None:
    server = generate_server(1, SPOKE, "us-east-1", 0)
    group = {"account": SPOKE, "region": "us-east-1", "generate": False, "count": 2}
    group["items"] = [{"drs": server, "ec2": {"create": False}}, {"drs": {"sourceServerID": 7}}]
    found = problems({"servers": [group]})
    assert "servers[0].count: a group with generate: false holds its servers as items only" in found
    assert any(p.startswith("servers[0].items[0].ec2: ec2 options do not apply") for p in found)
    assert any(p.startswith("servers[0].items[1].drs.sourceServerID") for p in found)


def test_row_attributes_must_not_repeat_typed_keys_and_wire_values_must_be_well_formed() -> None:
    found = problems(
        {
            "accounts": [{"accountId": SPOKE, "roleArn": "r", "attributes": {"roleArn": "s"}}],
            "tables": {
                "regionStatus": [{"region": "us-east-1", "attributes": {"x": {"@dynamodb": {"XX": 1}}}}],
                "inventory": [
                    {"sourceServerArn": "a", "stagingAccountId": SPOKE, "y": {"@dynamodb": {"N": "1"}, "z": 1}}
                ],
            },
        }
    )
    assert "accounts[0].attributes.roleArn: 'roleArn' is also a typed key of this row; give it once" in found
    assert any(p.startswith('tables.regionStatus[0].attributes.x["@dynamodb"]: must be the only key') for p in found)
    assert any(p.startswith('tables.inventory[0].y["@dynamodb"]') for p in found)


def test_an_error_code_outside_the_catalogue_needs_its_status_and_message() -> None:
    fault = {"service": "drs", "operation": "DescribeSourceServers", "effect": {"code": "BrandNewException"}}
    assert any("unknown error code 'BrandNewException'" in p for p in problems({"faults": [fault]}))
    fault["effect"].update({"status": 409, "message": "new"})
    assert problems({"faults": [fault]}) == []


def test_captured_instances_are_answered_as_recorded_and_unknown_ids_are_not_found() -> None:
    instance = {
        "account": SPOKE,
        "region": "us-west-2",
        "instanceId": "i-0123456789abcdef0",
        "state": "stopped",
        "privateIpAddress": "10.0.0.9",
        "vpcId": "vpc-0123456789abcdef0",
        "subnetId": "subnet-0123456789abcdef0",
        "securityGroups": ["sg-01234567", "sg-89abcdef"],
        "iamInstanceProfileArn": f"arn:aws:iam::{SPOKE}:instance-profile/app",
        "tags": {"Name": "a&b <c>"},
    }
    doc = {
        "name": "captured-ec2",
        "accounts": [{"accountId": SPOKE, "roleArn": f"arn:aws:iam::{SPOKE}:role/R"}],
        "tables": {"scanOrder": "listed", "regionStatus": [{"region": "us-east-1", "serverCount": 1}]},
        "instances": [instance, {"account": SPOKE, "region": "us-west-2", "instanceId": "i-0000000a"}],
    }
    with World(document_scenario(doc)):
        credentials = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{SPOKE}:role/R", RoleSessionName="test")
        keys = credentials["Credentials"]
        ec2 = boto3.client(
            "ec2",
            region_name="us-west-2",
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys["SessionToken"],
        )
        answer = ec2.describe_instances(InstanceIds=["i-0123456789abcdef0"])["Reservations"][0]["Instances"][0]
        assert answer["State"]["Name"] == "stopped" and answer["PrivateIpAddress"] == "10.0.0.9"
        assert [group["GroupId"] for group in answer["SecurityGroups"]] == ["sg-01234567", "sg-89abcdef"]
        assert answer["IamInstanceProfile"]["Arn"].endswith("instance-profile/app")
        assert answer["Tags"] == [{"Key": "Name", "Value": "a&b <c>"}]
        bare = ec2.describe_instances(InstanceIds=["i-0000000a"])["Reservations"][0]["Instances"][0]
        assert "VpcId" not in bare and "State" not in bare
        assert len(ec2.describe_instances()["Reservations"]) == 2
        with pytest.raises(ClientError) as raised:
            ec2.describe_instances(InstanceIds=["i-0123456789abcdef0", "i-0fffffffffffffff0"])
        assert raised.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
        assert "i-0fffffffffffffff0" in raised.value.response["Error"]["Message"]


def test_listed_scan_order_serves_rows_as_listed_and_pages_through_them() -> None:
    accounts = [{"accountId": f"{n:012d}"} for n in (9, 3, 7, 1, 5)]
    doc = {"name": "listed", "accounts": accounts, "tables": {"scanOrder": "listed"}}
    with World(document_scenario(doc)):
        client = boto3.client("dynamodb")
        whole = [item["accountId"]["S"] for item in client.scan(TableName="drs-target-accounts")["Items"]]
        paged = [
            item["accountId"]["S"]
            for page in client.get_paginator("scan").paginate(TableName="drs-target-accounts", Limit=2)
            for item in page["Items"]
        ]
    assert whole == paged == [row["accountId"] for row in accounts]
