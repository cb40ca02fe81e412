"""LB-4: credentials per account - when a role is assumed, with what, and what a failure does."""

from collections.abc import Callable

from legacy_support import ACCOUNT_B, ACCOUNT_C, ACCOUNT_D, LAMBDA, LegacyRun, role_arn

Run = Callable[..., LegacyRun]

DENIED = {"kind": "error", "code": "AccessDenied"}


def test_lb4_assume_role_sends_external_id_only_when_truthy(run_legacy: Run) -> None:
    accounts = [
        {"accountId": ACCOUNT_B, "roleArn": role_arn(ACCOUNT_B), "externalId": "ext-b"},
        {"accountId": ACCOUNT_C, "roleArn": role_arn(ACCOUNT_C), "externalId": ""},
        {"accountId": ACCOUNT_D, "roleArn": role_arn(ACCOUNT_D)},
    ]
    run = run_legacy({"accounts": accounts, "tables": {"activeRegions": ["us-east-1"]}})
    common = {"RoleSessionName": "inventory-sync", "DurationSeconds": 900}
    assert [c.params for c in run.select("sts", "AssumeRole")] == [
        {"RoleArn": role_arn(ACCOUNT_B), **common, "ExternalId": "ext-b"},
        {"RoleArn": role_arn(ACCOUNT_C), **common},
        {"RoleArn": role_arn(ACCOUNT_D), **common},
    ]
    assert [c.account for c in run.select("drs")] == [ACCOUNT_B, ACCOUNT_C, ACCOUNT_D]


def test_lb4_assumed_credentials_query_the_target_account(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": ACCOUNT_B, "roleArn": role_arn(ACCOUNT_B)}],
            "tables": {"activeRegions": ["eu-west-1"]},
            "servers": [
                {"account": ACCOUNT_B, "region": "eu-west-1", "count": 2},
                {"account": LAMBDA, "region": "eu-west-1", "count": 5},
            ],
        }
    )
    assert [(c.account, c.region) for c in run.select("drs")] == [(ACCOUNT_B, "eu-west-1")]
    assert run.body["totalSynced"] == 2
    assert {item["sourceAccountId"] for item in run.tables["inventory"]} == {ACCOUNT_B}


def test_lb4_own_account_uses_lambda_credentials_even_with_a_role(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA, "roleArn": role_arn(LAMBDA), "externalId": "x"}],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 1, "ec2Instances": False}],
        }
    )
    assert run.select("sts", "AssumeRole") == []
    assert [c.account for c in run.select("drs")] == [LAMBDA]


def test_lb4_assume_role_failure_prints_and_skips_the_account(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [
                {"accountId": ACCOUNT_B, "roleArn": role_arn(ACCOUNT_B), "assumeRole": DENIED},
                {"accountId": LAMBDA},
            ],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [
                {"account": ACCOUNT_B, "region": "us-east-1", "count": 2},
                {"account": LAMBDA, "region": "us-east-1", "count": 1},
            ],
        }
    )
    assert (
        f"Cannot assume role for {ACCOUNT_B}: An error occurred (AccessDenied) when calling the AssumeRole "
        "operation: User is not authorized to perform: sts:AssumeRole"
    ) in run.lines
    assert [c.account for c in run.select("drs")] == [LAMBDA]
    assert all(row["accountId"] == LAMBDA for row in run.tables["regionStatus"])
    assert run.body["totalSynced"] == 1
    assert f"Account {ACCOUNT_B}: found" not in run.out


def test_lb4_account_without_role_arn_is_queried_with_own_credentials(run_legacy: Run) -> None:
    """DEFECT: the Lambda account's servers are found under, and attributed to, the account without a role."""
    run = run_legacy(
        {
            "accounts": [{"accountId": ACCOUNT_B}],
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [
                {"account": LAMBDA, "region": "us-east-1", "count": 2, "ec2Instances": False},
                {"account": ACCOUNT_B, "region": "us-east-1", "count": 3, "ec2Instances": False},
            ],
        }
    )
    assert run.select("sts", "AssumeRole") == []
    assert [c.account for c in run.select("drs")] == [LAMBDA]
    assert f"Account {ACCOUNT_B}: found 2 source servers" in run.lines
    items = run.tables["inventory"]
    assert {item["sourceServerArn"].split(":")[4] for item in items} == {LAMBDA}
    assert {item["sourceAccountId"] for item in items} == {ACCOUNT_B}
    assert run.region_rows()["us-east-1"]["accountId"] == ACCOUNT_B
