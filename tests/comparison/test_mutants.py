"""The engine and the scenario library tested against themselves with single-change candidates.

Mutants of legacy must be caught on at least one shipped scenario: scenarios are tried smallest first and the search
stops at the first divergent one, so each mutant costs a few candidate runs (baselines are shared with the rest of the
suite). Mutants of the refactor must be caught on the scenario built to reach their behaviour: the gate's outcome
there is NO-GO (divergent, or an approval the scenario references left stale).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.engine.approvals import Approval
from harness.engine.model import DIVERGENT
from harness.engine.observe import resolve_implementation
from harness.engine.runner import run_scenario
from harness.scenario import Scenario
from tests.comparison.conftest import BaselinePair
from tests.comparison.mutants import MUTANTS, REFACTORED_SOURCE_MUTANTS


def _by_size(library: dict[str, Scenario]) -> list[Scenario]:
    return sorted(library.values(), key=lambda s: (sum(group.total for group in s.servers), len(s.accounts), s.name))


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_single_change_candidate_is_divergent_somewhere(
    mutant: str,
    scenario_library: dict[str, Scenario],
    baselines: Callable[..., BaselinePair],
    approvals: dict[str, Approval],
) -> None:
    candidate = resolve_implementation(f"tests.comparison.mutants:{mutant}")
    tried = []
    for scenario in _by_size(scenario_library):
        result = run_scenario(scenario, "legacy", candidate, approvals, baselines=baselines(scenario))
        tried.append(f"{scenario.name}: {result.status}")
        if result.status == DIVERGENT:
            assert result.unapproved, result.explain()
            return
    pytest.fail(f"mutant {mutant} was judged acceptable on every scenario:\n" + "\n".join(tried))


@pytest.mark.parametrize("mutant", sorted(REFACTORED_SOURCE_MUTANTS))
def test_each_mutant_of_the_refactor_is_no_go_on_its_scenario(
    mutant: str,
    scenario_library: dict[str, Scenario],
    baselines: Callable[..., BaselinePair],
    approvals: dict[str, Approval],
) -> None:
    change = REFACTORED_SOURCE_MUTANTS[mutant]
    assert change.compiled() is not None  # the change applies to today's source (a broken one would "fail" anywhere)
    scenario = scenario_library[change.scenario]
    candidate = resolve_implementation(f"tests.comparison.mutants:{mutant}")
    result = run_scenario(scenario, "legacy", candidate, approvals, baselines=baselines(scenario))
    assert not result.errors, result.explain()
    assert result.status == DIVERGENT or result.stale_approvals, result.explain()


def test_the_scenario_format_names_every_mutant_of_the_refactor_beside_its_scenario() -> None:
    """docs/scenario-format.md's "Reaching a behaviour" table says which mutant each scenario kills: keep it true."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "` | `" in line]
    for name, change in REFACTORED_SOURCE_MUTANTS.items():
        assert [row for row in rows if f"`{name}`" in row and f"`{change.scenario}`" in row], name
