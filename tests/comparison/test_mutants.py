"""The engine tested against itself: each single-change candidate must be caught on at least one shipped scenario.

Scenarios are tried smallest first and the search stops at the first divergent one, so each mutant costs a few
candidate runs (baselines are shared with the rest of the suite).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.engine.approvals import Approval
from harness.engine.model import DIVERGENT
from harness.engine.observe import resolve_implementation
from harness.engine.runner import run_scenario
from harness.scenario import Scenario
from tests.comparison.conftest import BaselinePair
from tests.comparison.mutants import MUTANTS


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
