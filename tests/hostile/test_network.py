"""Nothing leaves a world: each network channel is refused, and the scenario says what was attempted.

One test per channel runs the hostile handler in a world (in this process: the sandbox works the same here, and
refusals need no containment) and checks the refusal recorded in the observation's harness error, even when the code
swallowed the error. Two cases go end to end through ``python -m harness run``: a request made at import time and a
subprocess's HTTP request, each exit 1 with the attempt named on stderr and in the verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.commandline import EXIT_NO_GO
from harness.engine.observe import Implementation, named_implementation, observe
from harness.scenario import Scenario, scenario_from_dict
from tests.hostile import candidates
from tests.hostile.contained_cli import RUN_TIMEOUT_S, run_harness, verdict, write_scenario

REFUSED = "the harness refused 1 attempt(s) to leave the world: "

CHANNELS: list[tuple[Callable[[], Any], str, str | None]] = [
    (candidates.tcp_connect, "a TCP connection to 192.0.2.10:443 (socket.connect)", "NetworkRefusedError"),
    (candidates.udp_sendto, "a UDP datagram to 192.0.2.10:53 (socket.sendto)", "NetworkRefusedError"),
    (
        candidates.unix_connect,
        "a Unix socket connection to '/var/run/docker.sock' (socket.connect)",
        "NetworkRefusedError",
    ),
    (candidates.dns_lookup, "a DNS lookup of 'example.com' (socket.getaddrinfo)", None),
    (
        candidates.curl_in_a_subprocess,
        "starting the process 'curl -s http://example.com/' (subprocess.Popen)",
        "ProcessRefusedError",
    ),
    (candidates.urllib_in_a_subprocess, "starting the process ", "ProcessRefusedError"),
]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return scenario_from_dict(
        {
            "name": "network",
            "accounts": [{"accountId": "222222222222", "roleArn": "arn:aws:iam::222222222222:role/R"}],
            "tables": {"activeRegions": ["us-east-1"]},
        }
    )


@pytest.mark.parametrize(
    ("handler", "attempt", "raised"), CHANNELS, ids=[handler.__name__ for handler, _, _ in CHANNELS]
)
def test_each_channel_is_refused_and_reported(
    scenario: Scenario, handler: Callable[[], Any], attempt: str, raised: str | None
) -> None:
    observation = observe(scenario, Implementation(f"hostile:{handler.__name__}", handler))
    assert observation.harness_error is not None and observation.harness_error.startswith(REFUSED + attempt)
    if raised is None:
        assert observation.exception is None and observation.response["statusCode"] == 200  # swallowed, still caught
    else:
        assert observation.exception["type"] == raised
        assert "the harness refuses" in observation.exception["message"]


def test_a_request_made_while_the_candidate_module_is_imported_is_refused(scenario: Scenario) -> None:
    observation = observe(scenario, named_implementation("tests.hostile.import_requests:handler"))
    assert observation.harness_error == REFUSED + "a DNS lookup of 'example.com' (socket.getaddrinfo)"
    assert observation.response["statusCode"] == 200


@pytest.mark.parametrize(
    ("candidate", "attempt"),
    [
        ("tests.hostile.import_requests:handler", "a DNS lookup of 'example.com' (socket.getaddrinfo)"),
        ("tests.hostile.candidates:curl_in_a_subprocess", "starting the process 'curl -s http://example.com/'"),
    ],
    ids=["at-import", "subprocess"],
)
def test_the_run_command_reports_the_attempt_and_exits_1(tmp_path: Path, candidate: str, attempt: str) -> None:
    reports = tmp_path / "reports"
    ran, _ = run_harness(
        "run",
        str(write_scenario(tmp_path, "network")),
        *("--candidate", candidate, "--jobs", "1", "--timeout", str(RUN_TIMEOUT_S), "--report-dir", str(reports)),
    )
    ran.assert_contained(EXIT_NO_GO, f"error: harness failure in the {candidate} run (variant 0): {REFUSED}{attempt}")
    [scenario] = verdict(reports)["scenarios"]
    assert scenario["status"] == "error" and attempt in scenario["errors"][0]
