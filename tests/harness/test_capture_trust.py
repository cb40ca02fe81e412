"""The capture reads each assumed role's trust (its sts:ExternalId condition) and its replay enforces it."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
import yaml
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from harness.capture.reader import Reader, _unrecordable
from harness.capture.trust import TrustReading, required_external_id
from harness.cli import main
from harness.commandline import EXIT_OK
from harness.engine.compare import compare
from harness.engine.observe import observe, resolve_implementation
from harness.scenario import Scenario
from harness.world import World
from tests.harness.capture_support import Captured, capture_from, scenario_of

HUB, SPOKE, PLAIN, ORIGIN = "111111111111", "222222222222", "333333333333", "555555555555"
SPOKE_ROLE = f"arn:aws:iam::{SPOKE}:role/ops/TenantDrsRole"
PLAIN_ROLE = f"arn:aws:iam::{PLAIN}:role/DRSOrchestrationRole"
ORIGIN_ROLE = f"arn:aws:iam::{ORIGIN}:role/DRSOrchestrationRole"
DEFAULT_EXTERNAL_ID = "drs-orchestration-cross-account"

#: One role requiring the row's ExternalId, one (LB-7's default role of an origin account no row names) requiring the
#: default one, and one without any condition.
TRUST: dict[str, Any] = {
    "name": "capture-trust",
    "accounts": [
        {"accountId": HUB},
        {
            "accountId": SPOKE,
            "roleArn": SPOKE_ROLE,
            "externalId": "tenant-7f3a9c",
            "role": {"externalId": "tenant-7f3a9c"},
        },
        {"accountId": PLAIN, "roleArn": PLAIN_ROLE},
    ],
    "roles": [{"arn": ORIGIN_ROLE, "externalId": DEFAULT_EXTERNAL_ID}],
    "tables": {"activeRegions": ["us-east-1"]},
    "servers": [
        {
            "account": SPOKE,
            "region": "us-east-1",
            "count": 2,
            "items": [{"drs": {"sourceCloudProperties": {"originAccountID": ORIGIN, "originRegion": "us-east-1"}}}],
        },
        {"account": PLAIN, "region": "us-east-1", "count": 1},
    ],
}


@pytest.fixture(scope="module")
def trust_capture(tmp_path_factory: pytest.TempPathFactory) -> Captured:
    return capture_from(scenario_of(TRUST), tmp_path_factory.mktemp("trust"))


def _declared(scenario: Scenario) -> dict[str, str]:
    return {role.arn: role.external_id for role in scenario.trusted_roles}


def test_the_capture_records_exactly_the_trust_of_the_roles_it_assumed(trust_capture: Captured) -> None:
    assert trust_capture.code == EXIT_OK, trust_capture.stderr
    doc = yaml.safe_load(trust_capture.text)
    rows = {row["accountId"]: row for row in doc["accounts"]}
    assert rows[SPOKE]["role"] == {"externalId": "tenant-7f3a9c"}  # on the row naming the role
    assert "role" not in rows[PLAIN] and "role" not in rows[HUB]  # a role without a condition: nothing
    assert doc["roles"] == [{"arn": ORIGIN_ROLE, "externalId": DEFAULT_EXTERNAL_ID}]  # no row names LB-7's default
    assert _declared(trust_capture.scenario) == _declared(scenario_of(TRUST))
    get_role = [call for call in trust_capture.world.calls if call.operation == "GetRole"]
    assert sorted(call.params["RoleName"] for call in get_role) == [
        "DRSOrchestrationRole",
        "DRSOrchestrationRole",
        "TenantDrsRole",
    ]
    assert {call.account for call in get_role} == {SPOKE, PLAIN, ORIGIN}  # each read with the role's own credentials
    assert {call.region for call in get_role} == {"us-east-1"}  # IAM's global endpoint
    assert "role ExternalId condition" in trust_capture.stderr.splitlines()[-1]
    assert "iam:" not in json.dumps(doc.get("latency", {}))  # the sync never calls IAM: no latency to replay


def test_a_role_without_an_iam_role_to_read_is_named_in_one_warning(trust_capture: Captured) -> None:
    """The world creates IAM roles for declared trust only, so PLAIN's role answers NoSuchEntity, as a role would
    that the capture may assume but not read."""
    warnings = [line for line in trust_capture.stderr.splitlines() if "iam:GetRole" in line]
    assert warnings == [
        f"capture: warning: iam:GetRole {PLAIN_ROLE} in account {PLAIN} failed: NoSuchEntity; no ExternalId "
        "condition recorded (the replay's role trusts anyone)"
    ]


def _assume_outcomes() -> list[tuple[str, str | None, str]]:
    """A small handler: the Lambda's credentials assume each role with no, a wrong and the right ExternalId."""
    outcomes = []
    sts = boto3.client("sts")
    for role, right in ((SPOKE_ROLE, "tenant-7f3a9c"), (ORIGIN_ROLE, DEFAULT_EXTERNAL_ID), (PLAIN_ROLE, "x-any")):
        for external_id in (None, "tenant-wrong", right):
            params = {"RoleArn": role, "RoleSessionName": "probe"}
            try:
                sts.assume_role(**params, **({"ExternalId": external_id} if external_id else {}))
                outcomes.append((role, external_id, "ok"))
            except ClientError as error:
                outcomes.append((role, external_id, f"{error.response['Error']['Code']}: {error}"))
    return outcomes


def test_the_replay_refuses_a_wrong_or_missing_external_id_as_the_original_world_does(trust_capture: Captured) -> None:
    with World(scenario_of(TRUST)):
        original = _assume_outcomes()
    with World(trust_capture.scenario):
        replayed = _assume_outcomes()
    assert replayed == original
    refused = {(role, external_id) for role, external_id, outcome in original if outcome.startswith("AccessDenied")}
    assert refused == {
        (SPOKE_ROLE, None),
        (SPOKE_ROLE, "tenant-wrong"),
        (ORIGIN_ROLE, None),
        (ORIGIN_ROLE, "tenant-wrong"),
    }


def _drop_external_id(params: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    return {key: value for key, value in params.items() if key != "ExternalId"}


def legacy_without_external_ids() -> dict[str, Any]:
    """A candidate with the mistake role trust exists to catch: legacy, but no AssumeRole carries an ExternalId."""
    from legacy.inventory_sync import handle_sync_source_server_inventory_legacy

    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("provide-client-params.sts.AssumeRole", _drop_external_id)  # type: ignore[union-attr]
    return handle_sync_source_server_inventory_legacy()


def _without_trust(scenario: Scenario) -> Scenario:
    doc = copy.deepcopy(scenario.raw)
    doc.pop("roles", None)
    for row in doc["accounts"]:
        row.pop("role", None)
    return scenario_of(doc)


def test_a_candidate_that_drops_the_external_id_meets_in_the_replay_what_it_meets_in_the_original(
    trust_capture: Captured,
) -> None:
    candidate = resolve_implementation(f"{__name__}:legacy_without_external_ids")
    legacy = resolve_implementation("legacy")
    original = observe(scenario_of(TRUST), candidate)
    assert compare(observe(scenario_of(TRUST), legacy), original)  # the mistake shows in the original world
    assert original.response["body"]["totalSynced"] == 1  # SPOKE's role refused: only PLAIN's server
    assert compare(original, observe(trust_capture.scenario, candidate)) == []
    # Without the recorded trust the replay's roles trust anyone and the candidate's mistake would pass unseen.
    assert compare(original, observe(_without_trust(trust_capture.scenario), candidate))


def _iam_refuses_get_role(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every role answers GetRole with IAM's AccessDenied (a role whose permissions do not include iam:GetRole)."""

    def access_denied(model: Any, **_kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        message = f"User is not authorized to perform: iam:{model.name}"
        error = {"Error": {"Code": "AccessDenied", "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 403}}
        return AWSResponse("https://iam.amazonaws.com/", 403, {}, None), error

    made = Reader.client

    def client(self: Reader, service: str, *args: Any, **kwargs: Any) -> Any:
        answer = made(self, service, *args, **kwargs)
        if service == "iam":
            answer.meta.events.register("before-call.iam.GetRole", access_denied)
        return answer

    monkeypatch.setattr(Reader, "client", client)


def test_get_role_denied_records_no_trust_and_warns_naming_role_and_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _iam_refuses_get_role(monkeypatch)
    captured = capture_from(scenario_of(TRUST), tmp_path)
    assert captured.code == EXIT_OK, captured.stderr
    assert _declared(captured.scenario) == {}
    doc = yaml.safe_load(captured.text)
    assert "roles" not in doc and not any("role" in row for row in doc["accounts"])
    warnings = [line for line in captured.stderr.splitlines() if "iam:GetRole" in line]
    assert len(warnings) == 3
    assert f"iam:GetRole {SPOKE_ROLE} in account {SPOKE} failed: AccessDenied" in warnings[0]
    assert all("the replay's role trusts anyone" in line for line in warnings)


def test_a_condition_the_format_cannot_hold_is_warned_about_by_role_and_not_recorded(tmp_path: Path) -> None:
    """A role whose trust accepts ``tenant-*`` (StringLike): the replay cannot say it, so it says nothing."""
    like = {"StringLike": {"sts:ExternalId": "tenant-*"}}
    stderr = io.StringIO()
    out = tmp_path / "like.yaml"
    with World(scenario_of(TRUST)) as world, contextlib.redirect_stderr(stderr):
        world.session(SPOKE).client("iam").update_assume_role_policy(
            RoleName="TenantDrsRole", PolicyDocument=json.dumps(_policy(_allow(like)))
        )
        assert main(["capture", "--out", str(out)]) == EXIT_OK
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert not any("role" in row for row in doc["accounts"])
    assert doc["roles"] == [{"arn": ORIGIN_ROLE, "externalId": DEFAULT_EXTERNAL_ID}]
    assert (
        f"capture: warning: the trust policy of {SPOKE_ROLE} in account {SPOKE}: sts:ExternalId is conditioned with "
        "StringLike, not StringEquals; no ExternalId condition recorded (the replay's role trusts anyone)"
    ) in stderr.getvalue().splitlines()


# ----------------------------------------------------------------------------------------- reading trust policies


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(condition: dict[str, Any] | None = None, action: Any = "sts:AssumeRole") -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HUB}:root"}, "Action": action}
    return {**statement, "Condition": condition} if condition is not None else statement


EXACT = {"StringEquals": {"sts:ExternalId": "tenant-1"}}


@pytest.mark.parametrize(
    ("document", "external_id"),
    [
        (_policy(_allow(EXACT)), "tenant-1"),
        (_policy(_allow({"StringEquals": {"STS:externalid": ["tenant-1"]}})), "tenant-1"),  # keys: any case
        (_policy(_allow(EXACT), _allow(EXACT, ["sts:AssumeRole", "sts:TagSession"])), "tenant-1"),
        (_policy(_allow()), None),
        (_policy(_allow(EXACT, "sts:AssumeRoleWithWebIdentity"), _allow()), None),  # another action's condition
        (_policy(_allow(EXACT, "sts:*")), "tenant-1"),
        (quote(json.dumps(_policy(_allow(EXACT)))), "tenant-1"),  # IAM's URL-encoded text
        ({**_policy(), "Statement": _allow(EXACT)}, "tenant-1"),  # one statement, not a list
        (_policy({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}, _allow(EXACT)), "tenant-1"),
    ],
)
def test_a_single_exact_external_id_is_read(document: Any, external_id: str | None) -> None:
    assert required_external_id(document) == TrustReading(external_id=external_id)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (_policy(_allow({"StringEquals": {"sts:ExternalId": ["a1", "b2"]}})), "accepts 2 values, not one"),
        (_policy(_allow({"StringLike": {"sts:ExternalId": "tenant-*"}})), "conditioned with StringLike"),
        (_policy(_allow(EXACT), _allow()), "another allows no ExternalId"),
        (_policy(_allow(EXACT), _allow({"StringEquals": {"sts:ExternalId": "b2"}})), "allows another ExternalId"),
        (
            _policy({"Effect": "Deny", "Action": "*", "Condition": {"StringNotEquals": {"sts:ExternalId": "a1"}}}),
            "a Deny statement",
        ),
        (_policy(_allow({**EXACT, "StringEqualsIgnoreCase": {"sts:ExternalId": "T"}})), "conditioned 2 times"),
    ],
)
def test_what_the_format_cannot_hold_is_a_problem_not_a_guess(document: Any, problem: str) -> None:
    reading = required_external_id(document)
    assert reading.external_id is None and reading.problem is not None and problem in reading.problem


def test_a_role_or_external_id_a_scenario_cannot_declare_is_not_recorded() -> None:
    assert _unrecordable(SPOKE_ROLE, None) is None
    assert _unrecordable(SPOKE_ROLE, "tenant-1") is None
    assert "partition aws" in str(_unrecordable("arn:aws-cn:iam::222222222222:role/R", "tenant-1"))
    assert "can never send" in str(_unrecordable(SPOKE_ROLE, "has space"))
