"""The scenario library: size, validity, what it covers (checked against real baseline runs) and its generated page.

The coverage page (docs/scenarios.md) is built from the files alone; the legacy states it shows are the scenarios'
``legacy-state:`` declarations. The tests here run legacy in every world that injects a DRS fault and require the
declaration to equal what the baseline really records, so the page cannot claim coverage the baseline does not have.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from harness.engine.approvals import load_approvals
from harness.engine.coverage import ERROR_TYPES, LEGACY_STATES, states_of
from harness.engine.observe import observe, resolve_implementation
from harness.report import coverage_doc
from harness.report.coverage_doc import (
    APPROVAL_IDS,
    DEFAULT_OUTPUT,
    DEFAULT_SCENARIOS,
    ERROR_TYPE_TAG,
    KNOWN_GAPS,
    declared_states,
    error_types,
    render,
    tag_values,
)
from harness.scenario import Scenario, scenario_from_dict
from harness.scenario.errors import known_error_codes
from harness.scenario.loading import load_scenarios, load_schema, schema_problems
from lambda_shared.drs_regions import DRS_REGIONS

LEGACY = resolve_implementation("legacy")
TARGET = "222222222222"


@cache
def library() -> tuple[Scenario, ...]:
    """Every scenario of the library, loaded (and validated) once."""
    return tuple(load_scenarios([DEFAULT_SCENARIOS]))


def with_drs_faults() -> list[Scenario]:
    return [s for s in library() if any(f.service == "drs" for f in s.faults)]


def test_library_has_at_least_24_valid_uniquely_named_scenarios():
    names = [scenario.name for scenario in library()]
    assert len(names) >= 24
    assert len(set(names)) == len(names)
    for scenario in library():
        assert Path(scenario.source).stem == scenario.name
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", scenario.name), scenario.name


def test_every_scenario_says_what_it_proves_and_what_it_exercises():
    for scenario in library():
        assert len(scenario.description.split()) >= 12, scenario.name
        assert scenario.tags, scenario.name


def test_every_scenario_checks_its_baseline():
    for scenario in library():
        expect = scenario.expect
        assert expect.status_code is not None or expect.raises is not None, scenario.name
        assert expect.inventory_count is not None, scenario.name


def test_all_eight_design_error_types_are_exercised():
    covered = set().union(*(error_types(scenario) for scenario in library()))
    assert covered == set(ERROR_TYPES)


def test_error_type_tags_match_the_drs_faults():
    for scenario in library():
        assert set(tag_values(scenario, ERROR_TYPE_TAG)) == error_types(scenario), scenario.name


def test_every_legacy_state_is_declared_by_a_scenario_or_is_a_recorded_gap():
    declared = set().union(*(declared_states(scenario) for scenario in library()))
    assert declared | set(KNOWN_GAPS) == set(LEGACY_STATES)
    assert not declared & set(KNOWN_GAPS), "a recorded gap is covered now: remove it from KNOWN_GAPS"


def test_states_are_only_declared_where_a_drs_fault_can_cause_them():
    faulted = {scenario.name for scenario in with_drs_faults()}
    for scenario in library():
        if scenario.name not in faulted:
            assert not declared_states(scenario), scenario.name


@pytest.mark.parametrize("scenario", with_drs_faults(), ids=lambda scenario: scenario.name)
def test_declared_legacy_states_are_what_the_baseline_records(scenario: Scenario):
    observation = observe(scenario, LEGACY)
    assert observation.harness_error is None, observation.harness_error
    assert states_of(observation) == declared_states(scenario)


def test_every_approval_is_referenced_and_every_reference_is_declared():
    declared = set(load_approvals())
    referenced = {approval for scenario in library() for approval in scenario.approvals}
    assert declared == set(APPROVAL_IDS)
    assert referenced == declared


def test_each_design_scenario_is_realised_by_exactly_one_scenario():
    for prefix in (coverage_doc.COMPARISON_TAG, coverage_doc.ACCEPTANCE_TAG):
        numbers = sorted(int(n) for scenario in library() for n in tag_values(scenario, prefix))
        assert numbers == list(range(1, 11)), prefix


def test_docs_scenarios_md_is_current():
    assert DEFAULT_OUTPUT.read_text(encoding="utf-8") == render(library()), (
        "docs/scenarios.md is stale: run python -m harness.report.coverage_doc"
    )


def test_coverage_doc_check_mode_reports_a_stale_page(tmp_path: Path):
    page = tmp_path / "scenarios.md"
    assert coverage_doc.main(["--output", str(page)]) == 0
    assert coverage_doc.main(["--output", str(page), "--check"]) == 0
    page.write_text(page.read_text(encoding="utf-8").replace("| x |", "|  |", 1), encoding="utf-8")
    assert coverage_doc.main(["--output", str(page), "--check"]) == 1


def test_page_marks_each_scenario_row_and_names_every_gap():
    text = render(library())
    for scenario in library():
        assert f"| [{scenario.name}](../scenarios/{scenario.name}.yaml) |" in text
    reduced = [s for s in library() if "REGION_NOT_ENABLED" not in declared_states(s)]
    assert "- **REGION_NOT_ENABLED** is not reached by any scenario" in render(reduced)
    assert "None: every design error type and legacy failure state is covered." in text


def _every_drs_failure_world() -> tuple[Scenario, list[str]]:
    """One region per DRS error code the world can inject, and one per non-error fault kind."""
    kinds = [k for k in schema_kinds() if k not in ("error", "unprocessed")]
    causes = [f"error:{code}" for code in sorted(known_error_codes("drs"))] + kinds
    assert len(causes) <= len(DRS_REGIONS)
    regions = list(DRS_REGIONS[: len(causes)])
    faults = []
    for region, cause in zip(regions, causes, strict=True):
        kind, _, code = cause.partition(":")
        effect = {"kind": kind, **({"code": code} if code else {})}
        faults.append({"service": "drs", "operation": "DescribeSourceServers", "region": region, "effect": effect})
    doc = {
        "name": "every-drs-failure",
        "accounts": [{"accountId": TARGET, "roleArn": f"arn:aws:iam::{TARGET}:role/DRSOrchestrationRole"}],
        "tables": {"activeRegions": regions},
        "servers": [{"account": TARGET, "region": region, "count": 1, "ec2Instances": False} for region in regions],
        "faults": faults,
    }
    assert not schema_problems(doc)
    return scenario_from_dict(doc), causes


def schema_kinds() -> list[str]:
    """Every fault effect kind the scenario schema allows."""
    return list(load_schema()["$defs"]["effect"]["properties"]["kind"]["enum"])


def test_library_reaches_every_state_the_fault_layer_can_produce():
    scenario, causes = _every_drs_failure_world()
    observation = observe(scenario, LEGACY)
    assert observation.harness_error is None, observation.harness_error
    reached = states_of(observation)
    declared = set().union(*(declared_states(s) for s in library()))
    assert len(reached) >= 7, reached
    assert reached <= declared, f"the fault layer reaches {reached - declared} but no scenario does ({causes})"
    assert not reached & set(KNOWN_GAPS), f"recorded as unreachable but reached: {reached & set(KNOWN_GAPS)}"
