"""Provenance in every artefact, and verdict.json against its JSON Schema (harness/engine/verdict.schema.json)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from harness.engine.model import RunResult
from harness.engine.provenance import (
    PACKAGES,
    SCHEMA_VERSION,
    VERDICT_SCHEMA,
    build_provenance,
    scenario_set_sha256,
    tree_sha256,
)
from harness.engine.reports import write_report_dir
from harness.engine.runner import run_scenarios
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "zero-target-accounts.yaml"
ARTIFACT = "artifact:tests/artifacts/query_handler:index:handle_sync_source_server_inventory"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report directory of a real run (an approved divergence, AD-1)."""
    result = run_scenarios([load_scenario(SCENARIO)], "legacy", "refactored")
    directory = tmp_path_factory.mktemp("provenance") / "reports"
    write_report_dir(result, directory)
    return directory


def test_a_real_verdict_validates_against_the_schema(reports: Path) -> None:
    verdict = json.loads((reports / "verdict.json").read_text(encoding="utf-8"))
    schema = json.loads(VERDICT_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(verdict, schema, cls=jsonschema.Draft202012Validator)
    assert verdict["schemaVersion"] == SCHEMA_VERSION == schema["properties"]["schemaVersion"]["const"]


def test_the_schema_refuses_a_verdict_without_provenance_or_with_another_version(reports: Path) -> None:
    verdict = json.loads((reports / "verdict.json").read_text(encoding="utf-8"))
    schema = json.loads(VERDICT_SCHEMA.read_text(encoding="utf-8"))
    for broken in ({**verdict, "schemaVersion": "0.9"}, {k: v for k, v in verdict.items() if k != "provenance"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema, cls=jsonschema.Draft202012Validator)


def test_verdict_records_commit_packages_tools_and_the_scenario_set(reports: Path) -> None:
    provenance = json.loads((reports / "verdict.json").read_text(encoding="utf-8"))["provenance"]
    assert len(provenance["git"]["commit"]) == 40
    assert isinstance(provenance["git"]["dirty"], bool)
    for package in PACKAGES:
        assert provenance["packages"][package]["sha256"] == tree_sha256(ROOT / package)[0]
    assert provenance["scenarioSet"] == scenario_set_sha256([str(SCENARIO)])
    assert provenance["tools"]["moto"] and provenance["tools"]["deepdiff"]
    assert provenance["implementations"]["candidate"]["package"] == "refactored"


def test_junit_carries_the_provenance_and_keeps_the_zone(reports: Path) -> None:
    suite = ET.parse(reports / "junit.xml").getroot().find("testsuite")  # noqa: S314 - our own file
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    verdict = json.loads((reports / "verdict.json").read_text(encoding="utf-8"))
    provenance = verdict["provenance"]
    assert properties["git.commit"] == provenance["git"]["commit"]
    assert properties["git.dirty"] == str(provenance["git"]["dirty"]).lower()
    assert properties["sha256.package.refactored"] == provenance["packages"]["refactored"]["sha256"]
    assert properties["sha256.scenario-set"].startswith(provenance["scenarioSet"]["sha256"])
    assert properties["schemaVersion"] == SCHEMA_VERSION
    assert properties["version.moto"] == provenance["tools"]["moto"]
    assert suite.get("timestamp", "").endswith("Z")


def test_an_artifact_is_hashed_as_deployed() -> None:
    provenance = build_provenance(ARTIFACT, "legacy", [])
    baseline = provenance["implementations"]["baseline"]
    assert baseline["file"] == "tests/artifacts/query_handler"
    assert len(baseline["sha256"]) == 64 and baseline["packageFiles"] > 1
    assert provenance["scenarioSet"]["files"] == 0


def test_the_scenario_set_hash_changes_with_content_and_names(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("name: a\n", encoding="utf-8")
    second.write_text("name: b\n", encoding="utf-8")
    before = scenario_set_sha256([str(first), str(second)])
    assert before == scenario_set_sha256([str(second), str(first)])  # order does not matter
    second.write_text("name: b2\n", encoding="utf-8")
    assert scenario_set_sha256([str(first), str(second)])["sha256"] != before["sha256"]
    assert scenario_set_sha256(["<memory>"])["files"] == 1


def test_a_verdict_written_by_hand_gets_its_provenance_when_written(tmp_path: Path) -> None:
    result = RunResult(command="run", baseline="legacy", candidate="refactored")
    write_report_dir(result, tmp_path / "reports", writers=None)
    assert result.provenance is not None
    assert json.loads((tmp_path / "reports" / "verdict.json").read_text())["provenance"]["packages"]
