"""Bad surroundings give one clear line and exit 2, never a traceback.

Issue 18's Why list: an unreadable scenario directory or file, an ``AWS_PROFILE`` naming a missing profile (moto's
import used to fail inside botocore), a malformed AWS config file, and ``--jobs`` below 1. (A read-only or file
``--report-dir``: ``test_reports_dir.py``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_support import ROOT, Ran, file_modes_bind, harness_environment, run_harness

from harness.commandline import EXIT_BAD_INPUT, EXIT_OK

SCENARIO = ROOT / "scenarios" / "zero-target-accounts.yaml"
needs_file_modes = pytest.mark.skipif(not file_modes_bind(), reason="file modes cannot bind a child process here")
#: Every command that builds worlds, with arguments that would otherwise start work.
WORLD_COMMANDS = {
    "run": ["run", str(SCENARIO), "--jobs", "1"],
    "gate": ["gate", "--jobs", "1"],
    "fuzz": ["fuzz", "--examples", "1"],
    "bench": ["bench", "--pairs", "1"],
}


def _run_with_mode(directory: Path, mode: int, arguments: list[str]) -> Ran:
    """Run the harness unprivileged while ``directory`` has ``mode``."""
    directory.chmod(mode)
    try:
        return run_harness(arguments, unprivileged=True)
    finally:
        directory.chmod(0o755)


@needs_file_modes
@pytest.mark.parametrize("mode", [0o000, 0o311], ids=["no-access", "enter-only"])
def test_an_unreadable_scenario_directory_is_one_line(tmp_path: Path, mode: int) -> None:
    library = tmp_path / "library"
    library.mkdir()
    (library / "a.yaml").write_text("name: a\n")
    ran = _run_with_mode(library, mode, ["validate", str(library)])
    ran.assert_refused(EXIT_BAD_INPUT, f"{library}: cannot list this directory: Permission denied")


@needs_file_modes
def test_a_path_in_a_directory_that_cannot_be_entered_is_one_line(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    (closed / "library").mkdir(parents=True)
    ran = _run_with_mode(closed, 0o000, ["run", str(closed / "library"), "--jobs", "1"])
    ran.assert_refused(EXIT_BAD_INPUT, f"{closed / 'library'}: cannot look at this path: Permission denied")


@needs_file_modes
def test_an_unreadable_scenario_file_is_one_line(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("name: secret\n")
    secret.chmod(0o000)
    ran = run_harness(["run", str(secret), "--jobs", "1"], unprivileged=True)
    ran.assert_refused(EXIT_BAD_INPUT, f"{secret}: cannot open: Permission denied")


@pytest.mark.parametrize("command", list(WORLD_COMMANDS))
def test_an_aws_profile_naming_a_missing_profile_is_one_line(tmp_path: Path, command: str) -> None:
    environment = harness_environment({"AWS_PROFILE": "no-such-profile"}, home=tmp_path)
    ran = run_harness(WORLD_COMMANDS[command], environment=environment)
    ran.assert_refused(
        EXIT_BAD_INPUT,
        "error: AWS_PROFILE: The config profile (no-such-profile) could not be found; the harness uses no AWS "
        "profile: unset AWS_PROFILE or name an existing profile",
    )
    assert len(ran.lines) == 1


def test_validate_needs_no_aws_configuration(tmp_path: Path) -> None:
    environment = harness_environment({"AWS_PROFILE": "no-such-profile"}, home=tmp_path)
    assert run_harness(["validate", str(SCENARIO)], environment=environment).code == EXIT_OK


def test_a_malformed_aws_config_file_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default\nregion = us-east-1\n")
    environment = harness_environment({"AWS_CONFIG_FILE": str(config)}, home=tmp_path)
    ran = run_harness(WORLD_COMMANDS["run"], environment=environment)
    ran.assert_refused(EXIT_BAD_INPUT, "error: the AWS configuration cannot be read: Unable to parse config file")
    assert len(ran.lines) == 1


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_jobs_below_one_is_refused(jobs: str) -> None:
    ran = run_harness(["run", str(SCENARIO), "--jobs", jobs])
    expected = "expected a whole number, got 'two'" if jobs == "two" else f"must be at least 1, got {jobs}"
    ran.assert_refused(EXIT_BAD_INPUT, f"argument --jobs: {expected}")
