"""Generated worlds with primed inventories: the refactor loses no record whose server exists (judged by world truth).

Every generated document gets ``tables.primeInventory``: the record an earlier full sync leaves for every server,
next to the document's own (often stale) records, so any deletion of a live server's record shows. Only the
refactor runs; :func:`harness.engine.oracles.lost_live_records` judges from what the world knows. The default run
draws 40 worlds, the nightly one 300.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from harness.engine.observe import observe, resolve_implementation
from harness.engine.oracles import lost_live_records, records_before
from harness.fuzz.strategies import scenario_documents
from harness.scenario.loading import document_scenario

REFACTORED = resolve_implementation("refactored")
SEED = 20260115
EXAMPLES, NIGHTLY_EXAMPLES = 20, 300


def primed(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with a primed inventory."""
    return {**doc, "tables": {**doc.get("tables", {}), "primeInventory": True}}


def loses_nothing(doc: dict[str, Any]) -> None:
    observation = observe(document_scenario(primed(doc), source="<fuzz>"), REFACTORED)
    assert observation.harness_error is None, observation.harness_error
    lost = lost_live_records(observation)
    assert lost == [], f"{len(lost)} of {len(records_before(observation.world_truth))} records lost: {lost}"


def _property(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example),
    )(hypothesis_seed(SEED)(given(scenario_documents())(loses_nothing)))


def test_generated_primed_worlds_lose_no_record_of_a_live_server() -> None:
    _property(EXAMPLES)()


@pytest.mark.slow
def test_generated_primed_worlds_lose_no_record_of_a_live_server_nightly() -> None:
    _property(NIGHTLY_EXAMPLES)()
