"""Unit tests of lambda_shared.cross_account, in simulated worlds."""

from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.scenario import scenario_from_dict
from harness.world import World
from lambda_shared import cross_account
from lambda_shared.cross_account import (
    account_of_assumed_role,
    assume_role,
    assume_role_credentials,
    aws_client_config,
    create_drs_client,
    create_ec2_client,
    get_cross_account_session,
    get_current_account_id,
)

LAMBDA = "111111111111"
TARGET = "222222222222"
ROLE = f"arn:aws:iam::{TARGET}:role/DRSOrchestrationRole"


def _world(**doc: Any) -> World:
    return World(scenario_from_dict({"name": "shared-cross-account", **doc}))


def _ops(world: World) -> list[tuple[str, str, str]]:
    return [(c.service, c.operation, c.account) for c in world.calls]


def test_current_account_id_asks_sts_on_every_call() -> None:
    with _world() as world:
        assert get_current_account_id() == LAMBDA
        assert get_current_account_id() == LAMBDA
        assert _ops(world) == [("sts", "GetCallerIdentity", LAMBDA)] * 2


def test_current_account_id_follows_the_lambda_account() -> None:
    with _world(lambdaAccount="999999999999"):
        assert get_current_account_id() == "999999999999"


def test_current_account_id_failure_prints_and_returns_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    faults = [{"service": "sts", "operation": "GetCallerIdentity", "effect": {"code": "ValidationError"}}]
    with _world(faults=faults):
        assert get_current_account_id() == "unknown"
    out = capsys.readouterr().out
    assert out.startswith("Error getting account ID: An error occurred (ValidationError)")


def test_assume_role_sends_external_id_when_given() -> None:
    with _world() as world:
        credentials = assume_role_credentials(ROLE, "inventory-sync", "ext-123")
        assert set(credentials) >= {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
        (call,) = world.calls
        assert call.operation == "AssumeRole"
        assert call.params == {
            "RoleArn": ROLE,
            "RoleSessionName": "inventory-sync",
            "DurationSeconds": 900,
            "ExternalId": "ext-123",
        }


@pytest.mark.parametrize("external_id", [None, ""])
def test_assume_role_omits_a_falsy_external_id(external_id: str | None) -> None:
    with _world() as world:
        assume_role_credentials(ROLE, "inventory-sync", external_id, duration_seconds=1800)
        assert world.calls[0].params == {
            "RoleArn": ROLE,
            "RoleSessionName": "inventory-sync",
            "DurationSeconds": 1800,
        }


def test_assume_role_returns_stss_whole_answer_naming_the_roles_account() -> None:
    with _world() as world:
        answer = assume_role(ROLE, "inventory-sync", "ext-123")
        assert answer["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{TARGET}:assumed-role/")
        assert account_of_assumed_role(answer) == TARGET
        assert [call.operation for call in world.calls] == ["AssumeRole"]


def test_assume_role_failure_raises() -> None:
    accounts = [{"accountId": TARGET, "roleArn": ROLE, "assumeRole": {"kind": "error", "code": "AccessDenied"}}]
    with _world(accounts=accounts), pytest.raises(ClientError) as raised:
        assume_role_credentials(ROLE, "inventory-sync")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"


def test_cross_account_session_acts_as_the_target_account() -> None:
    with _world() as world:
        session = get_cross_account_session(ROLE, "inventory-sync", "ext")
        assert session.client("sts").get_caller_identity()["Account"] == TARGET
        assert _ops(world) == [("sts", "AssumeRole", LAMBDA), ("sts", "GetCallerIdentity", TARGET)]


def test_client_config_is_production_s() -> None:
    config = aws_client_config()
    assert config.connect_timeout == 5
    assert config.read_timeout == 10
    assert config.retries == {"max_attempts": 1}


def test_client_config_survives_client_creation() -> None:
    # botocore rewrites the retries dict of the Config a client is built with; a shared instance would change.
    with _world():
        client = create_drs_client("us-east-1")
        assert client.meta.config.retries == {"total_max_attempts": 2, "mode": "standard"}
        assert aws_client_config().retries == {"max_attempts": 1}
        assert aws_client_config() is not aws_client_config()


def test_drs_client_uses_own_credentials_without_credentials() -> None:
    servers = [{"account": LAMBDA, "region": "eu-west-1", "count": 2}]
    with _world(servers=servers) as world:
        client = create_drs_client("eu-west-1")
        assert len(client.describe_source_servers()["items"]) == 2
        assert client.meta.config.connect_timeout == 5
        assert client.meta.config.read_timeout == 10
        assert [(c.service, c.account, c.region) for c in world.calls] == [("drs", LAMBDA, "eu-west-1")]


def test_drs_client_with_credentials_acts_in_the_target_account() -> None:
    servers = [{"account": TARGET, "region": "ap-south-1", "count": 3}]
    with _world(servers=servers) as world:
        client = create_drs_client("ap-south-1", assume_role_credentials(ROLE, "inventory-sync"))
        assert len(client.describe_source_servers()["items"]) == 3
        assert (world.calls[-1].account, world.calls[-1].region) == (TARGET, "ap-south-1")


def test_client_config_allows_exactly_one_retry() -> None:
    faults = [{"service": "drs", "effect": {"code": "ThrottlingException"}}]
    with _world(faults=faults) as world:
        with pytest.raises(ClientError):
            create_drs_client("us-east-1").describe_source_servers()
        assert world.calls[0].attempts == ["HTTP 429", "HTTP 429"]


def test_ec2_client_with_credentials_sees_the_target_accounts_instances() -> None:
    servers = [{"account": TARGET, "region": "us-west-2", "count": 2}]
    with _world(servers=servers) as world:
        client = create_ec2_client("us-west-2", assume_role_credentials(ROLE, "inventory-ec2-query", "x-ext"))
        ids = {i["InstanceId"] for r in client.describe_instances()["Reservations"] for i in r["Instances"]}
        assert ids == set(world.instances[(TARGET, "us-west-2")])
        assert world.calls[-1].account == TARGET


def test_ec2_client_without_credentials_is_the_lambda_account() -> None:
    with _world() as world:
        create_ec2_client("us-east-1").describe_instances()
        assert [(c.service, c.account, c.region) for c in world.calls] == [("ec2", LAMBDA, "us-east-1")]


def test_module_exports_the_design_helpers() -> None:
    for name in ("get_cross_account_session", "create_drs_client", "create_ec2_client", "assume_role_credentials"):
        assert callable(getattr(cross_account, name))


def test_identity_and_role_assumption_can_share_one_sts_client() -> None:
    built: list[Any] = []

    def shared() -> Any:
        if not built:
            built.append(cross_account.new_sts_client())
        return built[0]

    with _world() as world:
        assert get_current_account_id(shared) == LAMBDA
        assert assume_role_credentials(ROLE, "inventory-sync", sts_client=shared)["AccessKeyId"]
        assert [c.operation for c in world.calls] == ["GetCallerIdentity", "AssumeRole"]
    assert len(built) == 1


def test_an_sts_client_that_cannot_be_built_is_a_failed_identity_check(capsys: pytest.CaptureFixture[str]) -> None:
    def broken() -> Any:
        raise RuntimeError("no STS client today")

    with _world() as world:
        assert get_current_account_id(broken) == "unknown"
        assert world.calls == []
    assert "Error getting account ID: no STS client today" in capsys.readouterr().out
