"""The engine and the scenario library tested against themselves with single-change candidates.

Mutants of legacy must be caught on at least one shipped scenario: scenarios are tried smallest first and the search
stops at the first divergent one, so each mutant costs a few candidate runs (baselines are shared with the rest of the
suite). The refactor with one of issue 13's stale-cleanup defects put back is judged on the scenario made for that
defect (and, nightly, by the whole gate, which must say NO-GO); so is the refactor whose region-status puts survive in
every region. Source mutants of the refactor must be caught on the scenario built to reach their behaviour: the
gate's outcome there is NO-GO (divergent, or an approval the scenario references left stale).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cli import main
from harness.commandline import EXIT_NO_GO
from harness.engine.approvals import Approval
from harness.engine.model import DIVERGENT
from harness.engine.observe import resolve_implementation
from harness.engine.runner import run_scenario
from harness.scenario import Scenario
from tests.comparison.conftest import BaselinePair
from tests.comparison.mutants import CLEANUP_DEFECTS, MUTANTS, REFACTORED_SOURCE_MUTANTS

#: The scenario made to expose each refactor mutant.
EXPOSED_BY = {
    "trusts_source_account_id": "cross-origin-records-kept-when-the-holding-account-is-throttled",
    "own_credentials_count_as_proof": "someone-elses-credentials-prove-nothing",
    "not_initialized_counts_as_proof": "not-initialized-proves-nothing",
    "malformed_page_counts_as_proof": "malformed-drs-answer-in-an-earlier-account",
    "status_puts_survive_everywhere": "twenty-eight-active-regions-timing-noise",
}


def _by_size(library: dict[str, Scenario]) -> list[Scenario]:
    return sorted(library.values(), key=lambda s: (sum(group.total for group in s.servers), len(s.accounts), s.name))


@pytest.mark.parametrize("mutant", sorted(set(MUTANTS) - set(EXPOSED_BY)))
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


@pytest.mark.parametrize("mutant", sorted(EXPOSED_BY))
def test_refactor_mutant_is_divergent_on_the_scenario_made_for_it(
    mutant: str,
    scenario_library: dict[str, Scenario],
    baselines: Callable[..., BaselinePair],
    approvals: dict[str, Approval],
) -> None:
    scenario = scenario_library[EXPOSED_BY[mutant]]
    candidate = resolve_implementation(f"tests.comparison.mutants:{mutant}")
    result = run_scenario(scenario, "legacy", candidate, approvals, baselines=baselines(scenario))
    assert result.status == DIVERGENT and result.unapproved, result.explain()
    if mutant in CLEANUP_DEFECTS:  # AD-2 refuses it because a record of a live server is gone
        (ad2,) = [use for use in result.approvals if use.id == "AD-2"]
        assert not ad2.candidate_ok and any("whose server exists" in note for note in ad2.notes), ad2.notes


@pytest.mark.slow
@pytest.mark.parametrize("mutant", CLEANUP_DEFECTS)
def test_the_gate_says_no_go_to_each_cleanup_defect(mutant: str, tmp_path: Path) -> None:
    arguments = ["gate", "--report-dir", str(tmp_path), "--candidate", f"tests.comparison.mutants:{mutant}"]
    assert main(arguments) == EXIT_NO_GO


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
