"""LB-7: EC2 enrichment - grouping by origin, credentials per group, chunks of 100, per-id fallback."""

from collections.abc import Callable
from typing import Any

import pytest
from legacy_support import ACCOUNT_B, ACCOUNT_C, LAMBDA, LegacyRun, execute, role_arn, world_for

Run = Callable[..., LegacyRun]

EC2_SESSION = "inventory-ec2-query"


def _instance_ids(call: Any) -> list[str]:
    """The ``InstanceIds`` of a DescribeInstances call, in order (the query form flattens them)."""
    params = call.params
    if "InstanceIds" in params:
        return list(params["InstanceIds"])
    keys = sorted((k for k in params if k.startswith("InstanceId.")), key=lambda k: int(k.split(".")[1]))
    return [params[k] for k in keys]


def test_lb7_items_get_network_config_and_tags_from_their_instance(capsys: pytest.CaptureFixture[str]) -> None:
    with world_for(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["eu-west-1"]},
            "servers": [
                {
                    "account": LAMBDA,
                    "region": "eu-west-1",
                    "items": [{"ec2": {"tags": {"App": "crm", "Tier": "web"}, "securityGroups": 2}}, {}],
                }
            ],
        }
    ) as world:
        run = execute(world, capsys)
        ec2 = world.session(LAMBDA).client("ec2", region_name="eu-west-1")
        instances = {i["InstanceId"]: i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
        assert len(run.tables["inventory"]) == 2
        for item in run.tables["inventory"]:
            instance = instances[item["instanceId"]]
            assert item["networkConfig"] == {
                "vpcId": instance["VpcId"],
                "subnetId": instance["SubnetId"],
                "privateIp": instance["PrivateIpAddress"],
                "securityGroups": [g["GroupId"] for g in instance["SecurityGroups"]],
                "instanceProfile": instance["IamInstanceProfile"]["Arn"],
            }
            assert item["sourceTags"] == {t["Key"]: t["Value"] for t in instance["Tags"]}
        tagged = [i for i in run.tables["inventory"] if i["sourceTags"].get("App") == "crm"]
        assert len(tagged) == 1
        assert tagged[0]["sourceTags"] == {"App": "crm", "Tier": "web"}
        assert len(tagged[0]["networkConfig"]["securityGroups"]) == 2


def test_lb7_missing_instance_fields_become_empty_strings(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [
                {"account": LAMBDA, "region": "us-east-1", "items": [{"ec2": {"instanceProfile": False, "tags": {}}}]}
            ],
        }
    )
    (item,) = run.tables["inventory"]
    assert item["networkConfig"]["instanceProfile"] == ""
    assert item["sourceTags"] == {}


def test_lb7_servers_without_instance_id_are_not_enriched_and_cost_no_ec2_call(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 3, "ec2Instances": False}],
        }
    )
    assert run.select("ec2") == []
    assert all("networkConfig" not in i and "sourceTags" not in i for i in run.tables["inventory"])
    assert all(i["instanceId"] == "" for i in run.tables["inventory"])
    # one GetCallerIdentity for the account, none for EC2 groups
    assert len(run.select("sts", "GetCallerIdentity")) == 1


def test_lb7_cross_account_group_assumes_the_role_again_with_its_own_session(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": ACCOUNT_B, "roleArn": role_arn(ACCOUNT_B), "externalId": "ext-b"}],
            "tables": {"activeRegions": ["eu-west-1"]},
            "servers": [{"account": ACCOUNT_B, "region": "eu-west-1", "count": 2}],
        }
    )
    assert [c.params for c in run.select("sts", "AssumeRole")] == [
        {
            "RoleArn": role_arn(ACCOUNT_B),
            "RoleSessionName": "inventory-sync",
            "DurationSeconds": 900,
            "ExternalId": "ext-b",
        },
        {"RoleArn": role_arn(ACCOUNT_B), "RoleSessionName": EC2_SESSION, "ExternalId": "ext-b", "DurationSeconds": 900},
    ]
    (lookup,) = run.select("dynamodb", "GetItem", "targetAccounts")
    assert lookup.params["Key"] == {"accountId": {"S": ACCOUNT_B}}
    (describe,) = run.select("ec2", "DescribeInstances")
    assert (describe.account, describe.region) == (ACCOUNT_B, "eu-west-1")
    assert all("networkConfig" in item for item in run.tables["inventory"])


def test_lb7_unknown_origin_account_uses_the_default_role_and_external_id(run_legacy: Run) -> None:
    origin = {"originAccountID": ACCOUNT_C, "originRegion": "us-west-2", "originAvailabilityZone": "us-west-2a"}
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [
                {"account": LAMBDA, "region": "us-east-1", "items": [{"drs": {"sourceCloudProperties": origin}}]}
            ],
        }
    )
    (assume,) = run.select("sts", "AssumeRole")
    assert assume.params == {
        "RoleArn": role_arn(ACCOUNT_C),
        "RoleSessionName": EC2_SESSION,
        "ExternalId": "drs-orchestration-cross-account",
        "DurationSeconds": 900,
    }
    (describe,) = run.select("ec2", "DescribeInstances")
    assert (describe.account, describe.region) == (ACCOUNT_C, "us-west-2")
    (item,) = run.tables["inventory"]
    assert (item["sourceAccountId"], item["sourceRegion"], item["replicationRegion"]) == (
        ACCOUNT_C,
        "us-west-2",
        "us-east-1",
    )
    assert "networkConfig" in item


def test_lb7_target_row_without_external_id_falls_back_to_the_default(run_legacy: Run) -> None:
    origin = {"originAccountID": ACCOUNT_B, "originRegion": "us-east-1"}
    run = run_legacy(
        {
            "accounts": [
                {"accountId": LAMBDA},
                {"accountId": ACCOUNT_B, "roleArn": f"arn:aws:iam::{ACCOUNT_B}:role/Custom"},
            ],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [
                {"account": LAMBDA, "region": "us-east-1", "items": [{"drs": {"sourceCloudProperties": origin}}]}
            ],
        }
    )
    ec2_assumes = [c.params for c in run.select("sts", "AssumeRole") if c.params["RoleSessionName"] == EC2_SESSION]
    assert ec2_assumes == [
        {
            "RoleArn": f"arn:aws:iam::{ACCOUNT_B}:role/Custom",
            "RoleSessionName": EC2_SESSION,
            "ExternalId": "drs-orchestration-cross-account",
            "DurationSeconds": 900,
        }
    ]


def test_lb7_target_lookup_errors_are_ignored(run_legacy: Run) -> None:
    origin = {"originAccountID": ACCOUNT_B, "originRegion": "us-east-1"}
    run = run_legacy(
        {
            "accounts": [
                {"accountId": LAMBDA},
                {"accountId": ACCOUNT_B, "roleArn": f"arn:aws:iam::{ACCOUNT_B}:role/Custom"},
            ],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [
                {"account": LAMBDA, "region": "us-east-1", "items": [{"drs": {"sourceCloudProperties": origin}}]}
            ],
            "faults": [{"service": "dynamodb", "operation": "GetItem", "effect": {"code": "ValidationException"}}],
        }
    )
    ec2_assumes = [c.params for c in run.select("sts", "AssumeRole") if c.params["RoleSessionName"] == EC2_SESSION]
    assert [p["RoleArn"] for p in ec2_assumes] == [role_arn(ACCOUNT_B)]
    assert "EC2 query failed" not in run.out


def test_lb7_groups_by_origin_in_first_seen_order(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [
                {
                    "account": LAMBDA,
                    "region": "us-east-1",
                    "items": [
                        {"drs": {"sourceCloudProperties": {"originAccountID": LAMBDA, "originRegion": "eu-west-2"}}},
                        {},
                        {"drs": {"sourceCloudProperties": {"originAccountID": LAMBDA, "originRegion": "eu-west-2"}}},
                    ],
                }
            ],
        }
    )
    describes = run.select("ec2", "DescribeInstances")
    assert [c.region for c in describes] == ["eu-west-2", "us-east-1"]
    assert [len(_instance_ids(c)) for c in describes] == [2, 1]


def test_lb7_origin_keys_use_get_semantics(run_legacy: Run) -> None:
    """A present-but-empty ``originRegion`` is used as is (a default applies only when the key is absent)."""
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [
                {
                    "account": LAMBDA,
                    "region": "us-east-1",
                    "items": [
                        {
                            "drs": {
                                "sourceCloudProperties": {"originAccountID": LAMBDA, "originRegion": ""},
                                "sourceProperties": {"identificationHints": {"awsInstanceID": "i-0123456789abcdef0"}},
                            }
                        }
                    ],
                }
            ],
        }
    )
    (item,) = run.tables["inventory"]
    assert item["sourceRegion"] == ""
    assert "networkConfig" not in item
    assert f"EC2 query failed for account {LAMBDA} region : Invalid endpoint: https://ec2..amazonaws.com" in run.lines
    assert run.select("ec2") == []


def test_lb7_describe_instances_in_chunks_of_100(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 150}],
        }
    )
    describes = run.select("ec2", "DescribeInstances")
    assert [len(_instance_ids(c)) for c in describes] == [100, 50]
    in_order = [i["instanceId"] for i in sorted(run.tables["inventory"], key=lambda i: i["sourceServerID"])]
    assert set(_instance_ids(describes[0]) + _instance_ids(describes[1])) == set(in_order)
    assert all("networkConfig" in item for item in run.tables["inventory"])


def test_lb7_client_error_on_a_chunk_falls_back_to_one_call_per_id(run_legacy: Run) -> None:
    missing = "i-00000000000000bad"
    origin = {"originAccountID": LAMBDA, "originRegion": "us-east-1"}
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [
                {
                    "account": LAMBDA,
                    "region": "us-east-1",
                    "count": 2,
                    "items": [
                        {
                            "drs": {
                                "sourceCloudProperties": origin,
                                "sourceProperties": {"identificationHints": {"awsInstanceID": missing}},
                            }
                        }
                    ],
                }
            ],
        }
    )
    describes = run.select("ec2", "DescribeInstances")
    assert [len(_instance_ids(c)) for c in describes] == [3, 1, 1, 1]
    assert describes[0].attempts == ["HTTP 400"]
    assert [_instance_ids(c)[0] for c in describes[1:]] == _instance_ids(describes[0])
    singles = {_instance_ids(c)[0]: c.attempts for c in describes[1:]}
    assert singles[missing] == ["HTTP 400"]
    enriched = {item["instanceId"]: "networkConfig" in item for item in run.tables["inventory"]}
    assert enriched.pop(missing) is False
    assert list(enriched.values()) == [True, True]
    assert "EC2 query failed" not in run.out
    assert run.body["totalErrors"] == 0


def test_lb7_failed_role_assumption_prints_and_skips_the_group(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": ACCOUNT_B, "roleArn": role_arn(ACCOUNT_B)}],
            "tables": {"activeRegions": ["eu-west-1"]},
            "servers": [{"account": ACCOUNT_B, "region": "eu-west-1", "count": 2}],
            "faults": [
                {
                    "service": "sts",
                    "operation": "AssumeRole",
                    "sessionName": EC2_SESSION,
                    "effect": {"code": "AccessDenied"},
                }
            ],
        }
    )
    assert (
        f"EC2 query failed for account {ACCOUNT_B} region eu-west-1: An error occurred (AccessDenied) when calling "
        "the AssumeRole operation: User is not authorized to perform: sts:AssumeRole"
    ) in run.lines
    assert run.select("ec2") == []
    assert run.body["totalSynced"] == 2
    assert all("networkConfig" not in item for item in run.tables["inventory"])


def test_lb7_non_client_error_prints_and_skips_the_group(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 2}],
            "faults": [{"service": "ec2", "effect": {"kind": "connection"}}],
        }
    )
    failures = [line for line in run.lines if line.startswith("EC2 query failed")]
    assert failures == [
        f'EC2 query failed for account {LAMBDA} region us-east-1: Could not connect to the endpoint URL: "'
        + failures[0].split('"')[1]
        + '"'
    ]
    (describe,) = run.select("ec2", "DescribeInstances")
    assert describe.attempts == ["EndpointConnectionError", "EndpointConnectionError"]
    assert run.body["totalSynced"] == 2
    assert all("networkConfig" not in item for item in run.tables["inventory"])


@pytest.mark.parametrize(
    ("row", "rejected"),
    [
        (
            {"roleArn": "", "externalId": "ext-b"},
            "Invalid length for parameter RoleArn, value: 0, valid min length: 20",
        ),
        (
            {"roleArn": None, "externalId": "ext-b"},
            "Invalid type for parameter RoleArn, value: None, type: <class 'NoneType'>, valid types: <class 'str'>",
        ),
        (
            {"roleArn": role_arn(ACCOUNT_B), "externalId": ""},
            "Invalid length for parameter ExternalId, value: 0, valid min length: 2",
        ),
        (
            {"roleArn": role_arn(ACCOUNT_B), "externalId": None},
            "Invalid type for parameter ExternalId, value: None, type: <class 'NoneType'>, valid types: <class 'str'>",
        ),
    ],
    ids=["roleArn-empty", "roleArn-null", "externalId-empty", "externalId-null"],
)
def test_lb7_a_present_empty_or_null_role_field_replaces_the_default_and_fails_in_botocore(
    run_legacy: Run, row: dict[str, Any], rejected: str
) -> None:
    """``row.get(key, default)``: a present "" or NULL reaches AssumeRole, which botocore rejects before sending.

    The group is then logged as failed and left unenriched; the servers are still synced.
    """
    origin = {"originAccountID": ACCOUNT_B, "originRegion": "us-east-1"}
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}, {"accountId": ACCOUNT_B, **row}],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [
                {"account": LAMBDA, "region": "us-east-1", "items": [{"drs": {"sourceCloudProperties": origin}}]}
            ],
        }
    )
    assert [c for c in run.select("sts", "AssumeRole") if c.params["RoleSessionName"] == EC2_SESSION] == []
    assert f"EC2 query failed for account {ACCOUNT_B} region us-east-1: Parameter validation failed:" in run.lines
    assert rejected in run.lines
    assert run.select("ec2") == []
    written = [
        request["PutRequest"]["Item"]
        for call in run.select("dynamodb", "BatchWriteItem", "inventory")
        for request in call.params["RequestItems"]["drs-source-server-inventory"]
    ]
    assert written and all("networkConfig" not in item for item in written)
    assert run.body["totalErrors"] == 0
