"""A crash inside moto or one of the harness's fakes is a harness error, never an answer the code under test handles.

Each test makes the simulator crash on purpose (a patched moto backend, a patched DRS fake) and checks that the code
under test cannot swallow it (``except Exception`` does not catch :class:`SimulatorCrash`), that the world records it,
and that the engine turns the run into an ``error`` outcome with a message naming what crashed, whatever the code did.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto.sts.models import STSBackend

from harness.engine.model import ERROR
from harness.engine.observe import Implementation, observe, resolve_implementation
from harness.engine.runner import run_scenario
from harness.scenario import Scenario, scenario_from_dict
from harness.world.aws.crash import SimulatorCrash
from harness.world.aws.drs_fake import DrsFake
from lambda_shared.response_utils import response

ACCOUNT = "222222222222"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/DRSOrchestrationRole"


def _scenario() -> Scenario:
    return scenario_from_dict(
        {
            "name": "crash",
            "accounts": [{"accountId": ACCOUNT, "roleArn": ROLE}],
            "tables": {"activeRegions": ["us-east-1", "eu-west-1"]},
            "servers": [{"account": ACCOUNT, "region": "us-east-1", "count": 2}],
        }
    )


@pytest.fixture
def moto_crashes_on_caller_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's STS raises inside ``GetCallerIdentity``: a bug in the simulator, not an AWS answer."""

    def crash(self: Any, access_key_id: str, region: str) -> Any:
        raise RuntimeError("moto bug: no identity")

    monkeypatch.setattr(STSBackend, "get_caller_identity", crash)


@pytest.fixture
def drs_fake_crashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The DRS fake raises while paging: reached from legacy's region threads."""

    def crash(self: Any, account: str, region: str, body: dict[str, Any]) -> Any:
        raise KeyError(f"fake bug in {region}")

    monkeypatch.setattr(DrsFake, "describe_source_servers", crash)


@pytest.mark.usefixtures("moto_crashes_on_caller_identity")
def test_a_moto_crash_is_no_exception_the_code_can_catch(world_factory):
    world = world_factory({})
    caught = []
    with pytest.raises(SimulatorCrash) as crash:
        try:
            boto3.client("sts").get_caller_identity()
        except Exception as error:  # noqa: BLE001 - what the code under test does; it must not see the crash
            caught.append(error)
    assert caught == []
    assert isinstance(crash.value.__cause__, RuntimeError)
    [failure] = world.simulator_failures
    assert failure == crash.value.description
    assert failure.startswith(f"moto crashed answering sts:GetCallerIdentity (account {world.scenario.lambda_account}")
    assert "RuntimeError: moto bug: no identity at " in failure and "in crash" in failure
    [call] = world.calls
    assert call.attempts == ["SimulatorCrash"]


@pytest.mark.usefixtures("moto_crashes_on_caller_identity")
def test_a_crash_the_baseline_would_swallow_makes_the_scenario_an_error():
    """legacy's ``get_current_account_id`` answers "unknown" for any Exception: it must not get the chance."""
    result = run_scenario(_scenario(), "legacy", "legacy")
    assert result.status == ERROR
    assert result.errors and all("moto crashed answering sts:GetCallerIdentity" in error for error in result.errors)
    assert result.baseline.exception["type"] == "SimulatorCrash"


@pytest.mark.usefixtures("moto_crashes_on_caller_identity")
def test_the_observation_is_a_harness_error_even_when_the_code_swallows_everything():
    def swallow_everything() -> dict[str, Any]:
        try:
            boto3.client("sts").get_caller_identity()
        except BaseException:  # noqa: BLE001, S110 - a candidate that hides even the crash
            pass
        return response(200, {"message": "fine"})

    observation = observe(_scenario(), Implementation("tests:swallow_everything", swallow_everything))
    assert observation.response["statusCode"] == 200  # what the code did...
    assert observation.harness_error is not None  # ...does not count
    assert "the simulator failed: moto crashed answering sts:GetCallerIdentity" in observation.harness_error


@pytest.mark.usefixtures("drs_fake_crashes")
def test_a_fake_crashing_in_a_worker_thread_stops_the_run():
    """legacy's region threads catch every Exception and would record an ERROR region; the crash passes through."""
    observation = observe(_scenario(), resolve_implementation("legacy"))
    assert observation.exception["type"] == "SimulatorCrash"
    assert "the harness's DRS fake crashed answering drs:DescribeSourceServers" in observation.harness_error
    assert "KeyError: 'fake bug in " in observation.harness_error
    assert observation.region_status_writes == []  # the run stopped before legacy recorded any region


def test_injected_faults_still_reach_the_code_as_the_exceptions_they_stand_for(world_factory):
    """The fault layer's deliberate failures are what the code under test gets: no crash, nothing recorded."""
    world = world_factory(
        {"faults": [{"service": "sts", "operation": "GetCallerIdentity", "effect": {"kind": "connection"}}]}
    )
    with pytest.raises(Exception, match="Could not connect"):
        boto3.client("sts").get_caller_identity()
    assert world.simulator_failures == []
