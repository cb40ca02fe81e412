"""One test per scenario file: the refactored inventory sync is equivalent to legacy, or differs only as approved.

A failure prints the scenario's differences one per line (path, baseline value, candidate value), its errors and any
stale approval. Legacy is also checked against itself (a fixed spread of the library in the default run, every
scenario in the nightly one): the engine must find nothing there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.engine.approvals import Approval
from harness.engine.model import APPROVED_DIVERGENCE, EQUIVALENT
from harness.engine.runner import run_scenario
from harness.scenario import load_scenario
from tests.comparison.conftest import SCENARIO_FILES, BaselinePair, sampled_scenario_files

IDS = [path.stem for path in SCENARIO_FILES]


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=IDS)
def test_refactored_matches_legacy(
    path: Path, baselines: Callable[..., BaselinePair], approvals: dict[str, Approval]
) -> None:
    scenario = load_scenario(path)
    result = run_scenario(scenario, "legacy", "refactored", approvals, baselines=baselines(scenario))
    assert result.status in (EQUIVALENT, APPROVED_DIVERGENCE), result.explain()
    assert not result.stale_approvals, result.explain()


@pytest.mark.parametrize("path", sampled_scenario_files())
def test_legacy_matches_itself(
    path: Path, baselines: Callable[..., BaselinePair], approvals: dict[str, Approval]
) -> None:
    scenario = load_scenario(path)
    result = run_scenario(scenario, "legacy", "legacy", approvals, baselines=baselines(scenario))
    assert result.status == EQUIVALENT, result.explain()
    assert not result.differences, result.explain()
