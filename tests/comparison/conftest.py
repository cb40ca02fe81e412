"""Fixtures of the comparison suite: the scenario library and one pair of baseline runs per scenario, shared.

Baselines are the expensive part of a comparison (two worlds per scenario) and do not depend on the candidate, so
the session keeps them: the refactored comparison, legacy's self-check and the single-change candidates all reuse
the same pair.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.engine.approvals import Approval, load_approvals
from harness.engine.model import Observation
from harness.engine.runner import run_baselines
from harness.scenario import Scenario
from harness.scenario.loading import SCENARIO_SUFFIXES, load_scenario

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
#: Every scenario file of the library; new files appear as new tests automatically.
SCENARIO_FILES = sorted(p for p in SCENARIO_DIR.iterdir() if p.suffix in SCENARIO_SUFFIXES)
#: Every how many scenarios a second check over the whole library runs in the default test run.
SAMPLE_EVERY = 8


def sampled_scenario_files() -> list[Any]:
    """Every scenario file as a pytest parameter: every :data:`SAMPLE_EVERY`-th in the default run, the rest ``slow``.

    For checks that run each scenario again beyond what ``test_scenarios.py`` runs (the deployed test artifact, the
    primed world-truth check): the default run keeps a fixed spread of the library and stays under ten minutes on
    two cores; the nightly job (``./run nightly``) runs every scenario.
    """
    return [
        pytest.param(path, id=path.stem, marks=() if index % SAMPLE_EVERY == 0 else pytest.mark.slow)
        for index, path in enumerate(SCENARIO_FILES)
    ]


BaselinePair = tuple[Observation, Observation]


@pytest.fixture(scope="session")
def approvals() -> dict[str, Approval]:
    """The shipped approvals file."""
    return load_approvals()


@pytest.fixture(scope="session")
def scenario_library() -> dict[str, Scenario]:
    """Every scenario of the library, by name."""
    scenarios = [load_scenario(path) for path in SCENARIO_FILES]
    return {scenario.name: scenario for scenario in scenarios}


@pytest.fixture(scope="session")
def baselines() -> Callable[[Scenario], BaselinePair]:
    """Primary and secondary legacy runs of a scenario, made once per session."""
    cache: dict[str, BaselinePair] = {}

    def get(scenario: Scenario) -> BaselinePair:
        if scenario.source not in cache:
            cache[scenario.source] = run_baselines(scenario, "legacy")
        return cache[scenario.source]

    return get
