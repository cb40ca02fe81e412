"""The capture's round trip: the world built from a capture is, for legacy, the world it was captured from."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings

from harness.engine.observe import observe, resolve_implementation
from harness.engine.runner import run_scenario
from harness.fuzz.strategies import scenario_documents
from harness.scenario import Scenario
from harness.world import World
from tests.harness.capture_support import Captured, capturable, capture_from, replay_judgement, scenario_of

HUB, SPOKE, THIRD, ORIGIN = "111111111111", "222222222222", "333333333333", "444444444444"


def _round_trip(doc: dict[str, Any]) -> None:
    original = scenario_of(capturable(doc))
    with tempfile.TemporaryDirectory() as directory:
        captured = capture_from(original, Path(directory))
        assert captured.code == 0, captured.stderr
        result = replay_judgement(original, captured.scenario)
        _assert_trust_of_assumed_roles_recorded(original, captured)
    assert result.status == "equivalent", [str(d.path) for d in result.unapproved] + result.errors


def _assert_trust_of_assumed_roles_recorded(original: Scenario, captured: Captured) -> None:
    """The replay declares the ExternalId condition of every role the capture assumed, and nothing else: legacy's
    outcome alone cannot tell (it sends what the roles accept, or is refused as recorded by a fault), a candidate
    sending another ExternalId could."""
    assumed = {
        call.params.get("RoleArn")
        for call in captured.world.calls
        if (call.service, call.operation) == ("sts", "AssumeRole") and call.applied
    }
    expected = {role.arn: role.external_id for role in original.trusted_roles if role.arn in assumed}
    assert {role.arn: role.external_id for role in captured.scenario.trusted_roles} == expected


@settings(max_examples=4)
@given(doc=scenario_documents())
def test_a_generated_world_and_its_capture_are_the_same_world_for_legacy(doc: dict[str, Any]) -> None:
    _round_trip(doc)


@pytest.mark.slow
@settings(max_examples=60)
@given(doc=scenario_documents())
def test_many_generated_worlds_and_their_captures_are_the_same_world_for_legacy(doc: dict[str, Any]) -> None:
    _round_trip(doc)


# ------------------------------------------------------------------------------------------------ anonymised


ANONYMISE: dict[str, Any] = {
    "name": "capture-anonymise",
    "accounts": [
        {"accountId": HUB, "accountName": "hub-falcon"},
        {
            "accountId": SPOKE,
            "accountName": "spoke-osprey",
            "roleArn": f"arn:aws:iam::{SPOKE}:role/FalconDrsRole",
            "externalId": "tenant-7f3a9c",
            "role": {"externalId": "tenant-7f3a9c"},
        },
        {"accountId": THIRD, "roleArn": f"arn:aws:iam::{THIRD}:role/DRSOrchestrationRole"},
    ],
    "roles": [
        {"arn": f"arn:aws:iam::{ORIGIN}:role/DRSOrchestrationRole", "externalId": "drs-orchestration-cross-account"}
    ],
    "tables": {
        "activeRegions": ["us-east-1", "eu-west-1"],
        "regionStatus": [{"region": "eu-west-1", "serverCount": 2, "errorMessage": f"denied for {SPOKE}"}],
        "inventory": [
            {
                "sourceServerArn": f"arn:aws:drs:us-east-1:{THIRD}:source-server/s-0aaaaaaaaaaaaaaa1",
                "stagingAccountId": THIRD,
                "sourceAccountId": THIRD,
                "hostname": "stale-kestrel-01",
                "fqdn": "stale-kestrel-01.corp.kestrel.example",
                "primaryIp": "172.31.9.9",
            }
        ],
    },
    "servers": [
        {
            "account": SPOKE,
            "region": "us-east-1",
            "count": 3,
            "items": [
                {
                    "drs": {
                        "sourceProperties": {
                            "identificationHints": {"hostname": "db-heron-01", "fqdn": "db-heron-01.heron.example"},
                            "networkInterfaces": [
                                {"macAddress": "0e:aa:bb:cc:dd:01", "ips": ["2001:db8::42", "192.168.77.5"]}
                            ],
                        }
                    },
                    "ec2": {"tags": {"Name": "heron-db", "Owner": "team-heron"}},
                },
                {"drs": {"sourceCloudProperties": {"originAccountID": ORIGIN, "originRegion": "us-east-1"}}},
            ],
        },
        {"account": THIRD, "region": "eu-west-1", "count": 2},
        {"account": HUB, "region": "us-east-1", "count": 2},
    ],
}


def _strings(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_strings(item) for item in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(item) for item in value)) if value else set()
    return {value} if isinstance(value, str) else set()


def _originals(scenario: Scenario) -> tuple[set[str], set[str]]:
    """Identifiers of the world (searched as substrings) and tag values (searched as whole values)."""
    identifiers = {HUB, SPOKE, THIRD, ORIGIN, "tenant-7f3a9c", "hub-falcon", "spoke-osprey", "FalconDrsRole"}
    tag_values: set[str] = set()
    with World(scenario) as world:
        for servers in world.servers.values():
            for server in servers:
                hints = server["sourceProperties"]["identificationHints"]
                identifiers |= {server["sourceServerID"], server["arn"], hints["hostname"], hints["fqdn"]}
                identifiers.add(hints.get("awsInstanceID", server["sourceServerID"]))
                for nic in server["sourceProperties"]["networkInterfaces"]:
                    identifiers |= {nic["macAddress"], *nic.get("ips", [])}
                tag_values |= set(server.get("tags", {}).values())
        for (account, region), ids in world.instances.items():
            ec2 = world.session(account).client("ec2", region_name=region)
            for reservation in ec2.describe_instances(InstanceIds=ids)["Reservations"]:
                for instance in reservation["Instances"]:
                    identifiers |= {instance["VpcId"], instance["SubnetId"], instance["PrivateIpAddress"]}
                    identifiers |= {group["GroupId"] for group in instance["SecurityGroups"]}
                    identifiers.add(instance["IamInstanceProfile"]["Arn"])
                    tag_values |= {tag["Value"] for tag in instance.get("Tags", [])}
    for row in scenario.inventory:
        identifiers |= {row["sourceServerArn"], row["hostname"], row["fqdn"], row["primaryIp"]}
    return identifiers, tag_values


def test_the_anonymised_capture_holds_no_original_identifier_and_gives_the_same_outcomes(tmp_path: Path) -> None:
    original = scenario_of(ANONYMISE)
    captured = capture_from(original, tmp_path, "--anonymise")
    assert captured.code == 0, captured.stderr
    text = captured.text
    identifiers, tag_values = _originals(original)
    assert len(identifiers) > 40
    left = [value for value in identifiers if re.search(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", text)]
    assert left == []
    assert not tag_values & _strings(yaml.safe_load(text))
    doc = yaml.safe_load(text)
    [spoke] = [row for row in doc["accounts"] if "role" in row]  # the role's condition, mapped as its row's externalId
    assert spoke["role"]["externalId"] == spoke["externalId"] and spoke["externalId"].startswith("anon-")
    [origin] = doc["roles"]  # LB-7's default role and ExternalId are the sync's constants: kept, the account mapped
    assert origin["externalId"] == "drs-orchestration-cross-account"
    assert origin["arn"].endswith(":role/DRSOrchestrationRole") and ORIGIN not in origin["arn"]
    assert {role.external_id for role in captured.scenario.trusted_roles} == {
        spoke["externalId"],
        "drs-orchestration-cross-account",
    }
    legacy = resolve_implementation("legacy")
    before, after = observe(original, legacy), observe(captured.scenario, legacy)
    body_before, body_after = before.response["body"], after.response["body"]
    assert body_after == body_before and body_before["totalSynced"] == 9
    assert {k: len(v) for k, v in after.tables.items()} == {k: len(v) for k, v in before.tables.items()}
    statuses = [
        {region: row["status"] for region, row in obs.tables["regionStatus"].items()} for obs in (before, after)
    ]
    assert statuses[0] == statuses[1]
    for section in ("mutating_calls", "reads", "region_status_writes"):
        assert len(getattr(after, section)) == len(getattr(before, section)), section


# ------------------------------------------------------------------------------------------------ at scale


LARGE: dict[str, Any] = {
    "name": "capture-large",
    "accounts": [
        {"accountId": HUB},
        {"accountId": SPOKE, "roleArn": f"arn:aws:iam::{SPOKE}:role/DRSOrchestrationRole"},
        {"accountId": THIRD, "roleArn": f"arn:aws:iam::{THIRD}:role/DRSOrchestrationRole"},
    ],
    "tables": {"activeRegions": ["us-east-1", "eu-west-1", "ap-southeast-2"]},
    "servers": [
        {"account": account, "region": region, "count": count}
        for account, counts in ((HUB, (100, 80, 40)), (SPOKE, (200, 150, 60)), (THIRD, (250, 90, 30)))
        for region, count in zip(("us-east-1", "eu-west-1", "ap-southeast-2"), counts, strict=True)
    ],
    "faults": [
        {
            "service": "drs",
            "operation": "DescribeSourceServers",
            "account": THIRD,
            "region": "ap-southeast-2",
            "effect": {"code": "ThrottlingException"},
        }
    ],
}


@pytest.mark.slow
def test_a_captured_1000_server_estate_replays_through_the_gate_with_the_original_outcome(tmp_path: Path) -> None:
    original = scenario_of(LARGE)
    assert sum(group.total for group in original.servers) == 1000
    captured = capture_from(original, tmp_path, name="capture-large")
    assert captured.code == 0, captured.stderr
    assert "note: validate, run and gate" in captured.stderr and "--max-scenario-bytes" in captured.stderr
    replay = captured.scenario
    assert replay_judgement(original, replay).status == "equivalent"
    before, after = run_scenario(original), run_scenario(replay)
    assert (after.status, len(after.differences)) == (before.status, len(before.differences))
