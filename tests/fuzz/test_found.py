"""Divergences the fuzzer found, kept as scenario files: each must be judged clean once the cause is fixed.

Every file under ``tests/fuzz/found/`` was written by ``python -m harness fuzz`` (its description says which
command, what differed and how to rerun it). They are judged as the fuzzer judges: with every approval whose
condition holds (``automatic``), so a fix in the refactor or in an approval's condition both make them pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engine.model import DIVERGENT, ERROR
from harness.engine.runner import run_scenario
from harness.fuzz.writer import FUZZ_TAG
from harness.scenario import load_scenario, load_scenarios

FOUND_DIR = Path(__file__).resolve().parent / "found"
FOUND = sorted(FOUND_DIR.glob("*.yaml"))


def test_found_scenarios_are_valid_fuzzer_files() -> None:
    scenarios = load_scenarios([FOUND_DIR])
    assert len(scenarios) == len(FOUND) > 0
    for scenario in scenarios:
        assert scenario.tags == (FUZZ_TAG,)
        assert "Reproduce: python -m harness run tests/fuzz/found/" in scenario.description


@pytest.mark.parametrize("path", FOUND, ids=lambda path: path.stem)
def test_found_divergence_is_fixed(path: Path) -> None:
    result = run_scenario(load_scenario(path), automatic=True)
    assert result.status not in (DIVERGENT, ERROR), result.explain()
