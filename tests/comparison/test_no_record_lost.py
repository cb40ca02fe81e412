"""The refactor never loses a record whose server exists: judged from world truth, never from what the refactor says.

The world knows which servers exist (its server groups) and which records the inventory held before the run; a
record that existed, whose server exists, and that is gone after the run is lost (:func:`lost_live_records`).

* The four ways issue 13 found the refactor losing data, one scenario each (primed with the records an earlier
  full sync leaves), each also deleting what the run really proves stale so that "keep everything" cannot pass.
* Every shipped scenario with its inventory primed (``tables.primeInventory``: priming only adds records, so the
  scenario's own records are judged too).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engine.model import Observation
from harness.engine.observe import observe, resolve_implementation
from harness.engine.oracles import final_items, lost_live_records, records_before
from harness.scenario import load_scenario
from tests.comparison.conftest import SCENARIO_DIR, sampled_scenario_files

REFACTORED = resolve_implementation("refactored")
DEAD_222 = "arn:aws:drs:us-east-1:222222222222:source-server/s-22222222222dead01"
DEAD_SA = "arn:aws:drs:sa-east-1:222222222222:source-server/s-22222222222dead02"

#: Issue 13's four data-loss cases: scenario -> the records the run proves stale (they must go, nothing else may).
DATA_LOSS_CASES = {
    "cross-origin-records-kept-when-the-holding-account-is-throttled": {DEAD_222},
    "cross-origin-records-kept-when-the-holding-account-is-skipped": {DEAD_222},
    "someone-elses-credentials-prove-nothing": set(),
    "not-initialized-proves-nothing": {DEAD_SA},
    "malformed-drs-answer-in-an-earlier-account": set(),
}


def refactored_run(path: Path, prime: bool = False) -> Observation:
    scenario = load_scenario(path)
    scenario = scenario.with_changes(prime_inventory=True) if prime else scenario
    observation = observe(scenario, REFACTORED)
    assert observation.harness_error is None, observation.harness_error
    return observation


def gone(observation: Observation) -> set[str]:
    """ARNs of the records that existed before the run and are not in the final table."""
    final = final_items(observation)
    return {key[0] for key in records_before(observation.world_truth) if key not in final}


@pytest.mark.parametrize("name", sorted(DATA_LOSS_CASES))
def test_each_data_loss_case_keeps_every_record_whose_server_exists(name: str) -> None:
    observation = refactored_run(SCENARIO_DIR / f"{name}.yaml")
    assert observation.exception is None, observation.exception
    assert lost_live_records(observation) == []
    assert gone(observation) == DATA_LOSS_CASES[name]
    assert observation.response["body"]["staleRecordsDeleted"] == len(DATA_LOSS_CASES[name])


@pytest.mark.parametrize("path", sampled_scenario_files())
def test_no_shipped_scenario_primed_loses_a_record_whose_server_exists(path: Path) -> None:
    observation = refactored_run(path, prime=True)
    assert lost_live_records(observation) == []
