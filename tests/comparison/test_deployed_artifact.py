"""The production-shaped test artifact against legacy on every scenario: two recreations of production that must agree.

``tests/artifacts/query_handler`` was written from the spec independently of ``legacy/``, in the shape of a deployed
Lambda package. No approval applies between two versions of production, so every scenario must be equivalent with
no difference at all. The default run reuses the session's legacy baselines (one artifact run per scenario); the
nightly run makes the fidelity gate exactly as a user runs it (the artifact as baseline, legacy as candidate).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cli import main
from harness.commandline import EXIT_OK
from harness.engine.approvals import Approval
from harness.engine.model import EQUIVALENT
from harness.engine.runner import run_scenario
from harness.scenario.loading import load_scenario
from tests.comparison.conftest import SCENARIO_DIR, SCENARIO_FILES, BaselinePair, sampled_scenario_files

ROOT = Path(__file__).resolve().parents[2]
TEST_ARTIFACT = f"artifact:{ROOT / 'tests' / 'artifacts' / 'query_handler'}:index:handle_sync_source_server_inventory"


@pytest.mark.parametrize("path", sampled_scenario_files())
def test_the_test_artifact_does_what_legacy_does(
    path: Path, baselines: Callable[..., BaselinePair], approvals: dict[str, Approval]
) -> None:
    scenario = load_scenario(path)
    result = run_scenario(scenario, "legacy", TEST_ARTIFACT, approvals, baselines=baselines(scenario))
    assert result.status == EQUIVALENT, result.explain()
    assert not result.differences and not result.approvals, result.explain()


@pytest.mark.slow
def test_the_fidelity_gate_as_users_run_it_is_go_with_no_approval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    argv = ["gate", "--scenarios-dir", str(SCENARIO_DIR), "--baseline", TEST_ARTIFACT, "--candidate", "legacy"]
    assert main([*argv, "--report-dir", str(reports)]) == EXIT_OK
    out, _ = capsys.readouterr()
    verdict = json.loads((reports / "verdict.json").read_text())
    assert out.startswith(f"GO: {len(SCENARIO_FILES)} scenario(s): {len(SCENARIO_FILES)} equivalent")
    assert verdict["approvalsApply"] is False and verdict["approvals"] == []
    assert verdict["counts"]["equivalent"] == len(SCENARIO_FILES)
