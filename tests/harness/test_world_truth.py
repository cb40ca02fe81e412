"""What the world knows independently of the code under test: primed inventories and the truth of a run."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from harness.world.aws.drs_fake import ServedPage
from harness.world.truth import complete_answers, credentials_account, item_problem, primed_record

LAMBDA = "111111111111"
TARGET = "222222222222"
OTHER = "333333333333"
ROLE = f"arn:aws:iam::{TARGET}:role/DRSOrchestrationRole"


def drs_client(role: str | None, region: str) -> Any:
    """A DRS client with the Lambda's credentials (``role`` None) or those of an assumed role."""
    if role is None:
        return boto3.client("drs", region_name=region)
    credentials = boto3.client("sts").assume_role(RoleArn=role, RoleSessionName="truth-test")["Credentials"]
    return boto3.client(
        "drs",
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def list_all(client: Any) -> None:
    for _ in client.get_paginator("describe_source_servers").paginate():
        pass


# -- primed inventories ------------------------------------------------------------------------------------------------


def test_prime_inventory_leaves_one_record_per_server_as_an_earlier_sync_did(world_factory):
    explicit = {
        "sourceServerArn": "arn:aws:drs:us-east-1:222222222222:source-server/s-e0000000000000001",
        "stagingAccountId": TARGET,
        "hostname": "explicit-wins",
    }
    world = world_factory(
        {
            "tables": {"primeInventory": True, "inventory": [explicit]},
            "servers": [
                {
                    "account": TARGET,
                    "region": "us-east-1",
                    "count": 2,
                    "items": [
                        {"drs": {"sourceServerID": "s-e0000000000000001", "arn": explicit["sourceServerArn"]}},
                        {"drs": {"arn": ""}},  # no key: DynamoDB would never have stored it
                        {"drs": {"stagingArea": None}},  # keyed by the group's account
                    ],
                },
                {"account": OTHER, "region": "eu-west-1", "count": 1, "ec2Instances": False},
            ],
        }
    )
    records = {r["sourceServerArn"]: r for r in world.table_snapshot()["inventory"]}
    servers = [s for group in world.servers.values() for s in group if s["arn"]]
    assert set(records) == {s["arn"] for s in servers}
    assert records[explicit["sourceServerArn"]] == explicit
    for server in servers[1:]:
        record = records[server["arn"]]
        assert record["sourceServerID"] == server["sourceServerID"]
        assert record["lastUpdated"] == "2026-01-14T12:00:00+00:00"
    other = next(r for r in records.values() if r["stagingAccountId"] == OTHER)
    assert (other["sourceAccountId"], other["sourceRegion"], other["replicationRegion"]) == (OTHER, *["eu-west-1"] * 2)
    before = world.truth()["inventoryBefore"]
    assert sorted(before, key=str) == sorted(world.table_snapshot()["inventory"], key=str)


def test_a_primed_record_follows_lb8_keys_and_origin():
    server = {
        "arn": "arn:aws:drs:us-east-1:222222222222:source-server/s-1",
        "sourceServerID": "s-1",
        "sourceCloudProperties": {"originAccountID": OTHER, "originRegion": "sa-east-1"},
        "sourceProperties": {"identificationHints": {"hostname": "h", "awsInstanceID": "i-1"}},
    }
    record = primed_record(server, TARGET, "us-east-1", "2026-01-15T12:00:00Z")
    assert record is not None
    assert record["stagingAccountId"] == TARGET  # no stagingArea: the account that lists it
    assert (record["sourceAccountId"], record["sourceRegion"]) == (OTHER, "sa-east-1")
    assert (record["replicationRegion"], record["hostname"], record["instanceId"]) == ("us-east-1", "h", "i-1")
    assert (
        primed_record({**server, "stagingArea": {"stagingAccountID": ""}}, TARGET, "r", "2026-01-15T12:00:00Z") is None
    )


# -- the truth of a run ----------------------------------------------------------------------------------------------


def test_truth_knows_the_servers_the_rows_and_which_listings_were_complete(world_factory):
    world = world_factory(
        {
            "drsPageSize": 2,
            "accounts": [
                {"accountId": TARGET, "roleArn": ROLE},
                {"accountId": OTHER},
                {"accountId": "444444444444", "roleArn": f"arn:aws:iam::{OTHER}:role/R"},
            ],
            "servers": [
                {"account": TARGET, "region": "us-east-1", "count": 3, "ec2Instances": False},
                {"account": TARGET, "region": "eu-west-1", "count": 3, "ec2Instances": False},
                {"account": LAMBDA, "region": "us-east-1", "count": 1, "ec2Instances": False},
            ],
            "faults": [
                {"service": "drs", "region": "eu-west-1", "effect": {"kind": "malformed"}, "when": {"page": 2}},
                {"service": "drs", "account": LAMBDA, "effect": {"code": "ThrottlingException"}},
            ],
        }
    )
    list_all(drs_client(ROLE, "us-east-1"))
    list_all(drs_client(ROLE, "eu-west-1"))
    list_all(drs_client(ROLE, "sa-east-1"))
    with pytest.raises(Exception, match="Throttling"):
        list_all(drs_client(None, "us-east-1"))
    truth = world.truth()
    assert {(a["account"], a["region"]): a["complete"] for a in truth["drsAnswers"]} == {
        (TARGET, "us-east-1"): True,
        (TARGET, "eu-west-1"): False,  # page 2 was a cut-off body: the fake never answered it
        (TARGET, "sa-east-1"): True,  # an empty region is one empty page
        (LAMBDA, "us-east-1"): False,
    }
    accounts = {r["accountId"]: r for r in truth["targetAccounts"]}  # listed in the accounts table's scan order
    assert {account: r["credentialsAccount"] for account, r in accounts.items()} == {
        TARGET: TARGET,
        OTHER: LAMBDA,
        "444444444444": OTHER,
    }
    assert "roleArn" not in accounts[OTHER]
    assert len(truth["servers"]) == 7 and all(s["itemProblem"] is None for s in truth["servers"])
    malformed = [c for c in world.calls if c.region == "eu-west-1"]
    assert [c.attempts for c in malformed] == [["ok"], ["malformed"]]


def test_complete_answers_need_every_page_of_one_unfiltered_pagination():
    def page(offset: int, size: int = 2, total: int = 5, filtered: bool = False) -> ServedPage:
        return ServedPage(TARGET, "us-east-1", offset, size, total, filtered)

    assert complete_answers([page(0), page(2), page(4)]) == {(TARGET, "us-east-1")}
    assert complete_answers([page(0), page(4)]) == set()
    assert complete_answers([page(0, filtered=True), page(2, filtered=True), page(4, filtered=True)]) == set()
    assert complete_answers([page(0, size=10)]) == {(TARGET, "us-east-1")}
    assert complete_answers([page(0, total=0)]) == {(TARGET, "us-east-1")}


def test_applied_inventory_puts_leave_out_refused_and_held_back_writes(world_factory):
    world = world_factory(
        {
            "faults": [
                {
                    "service": "dynamodb",
                    "operation": "BatchWriteItem",
                    "effect": {"kind": "unprocessed", "count": 2},
                    "when": "once",
                },
                {"service": "dynamodb", "operation": "PutItem", "effect": {"code": "ValidationException"}},
            ]
        }
    )
    table = boto3.resource("dynamodb").Table("drs-source-server-inventory")
    with table.batch_writer() as batch:
        for n in range(5):
            batch.put_item(Item={"sourceServerArn": f"a-{n}", "stagingAccountId": TARGET})
    with pytest.raises(Exception, match="ValidationException"):
        table.put_item(Item={"sourceServerArn": "refused", "stagingAccountId": TARGET})
    assert world.truth()["inventoryPutsApplied"] == 5
    assert len(world.table_snapshot()["inventory"]) == 5


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({}, None),
        ({"sourceProperties": {"networkInterfaces": [{"ips": []}]}}, "IndexError"),
        ({"sourceProperties": {"networkInterfaces": [{"macAddress": "m"}]}}, None),  # LB-8: absent ips reads [""]
        ({"sourceProperties": {"networkInterfaces": []}}, None),
        ({"sourceProperties": {"ramBytes": None}}, "TypeError"),
        ({"sourceProperties": {"os": None}}, "AttributeError"),
        ({"dataReplicationInfo": None}, "AttributeError"),
        ({"lifeCycle": None}, "AttributeError"),
        ({"sourceProperties": {"cpus": [{"cores": 4}], "disks": [{"deviceName": "/dev/xvda"}]}}, None),
    ],
)
def test_item_problem_follows_lb8_reads(change: dict[str, Any], problem: str | None) -> None:
    server = {"arn": "a", "sourceProperties": {"identificationHints": {}}, **change}
    found = item_problem(server)
    assert (found or "").split(":")[0] == (problem or "")


@pytest.mark.parametrize(
    ("row", "account"),
    [
        ({"accountId": LAMBDA, "roleArn": ROLE}, LAMBDA),
        ({"accountId": TARGET}, LAMBDA),
        ({"accountId": TARGET, "roleArn": ""}, LAMBDA),
        ({"accountId": TARGET, "roleArn": None}, LAMBDA),
        ({"accountId": TARGET, "roleArn": f"arn:aws:iam::{OTHER}:role/R"}, OTHER),
        ({"accountId": TARGET, "roleArn": "not-an-arn"}, None),
    ],
)
def test_a_rows_credentials_account_follows_lb4(row: dict[str, Any], account: str | None) -> None:
    assert credentials_account(row, LAMBDA) == account
