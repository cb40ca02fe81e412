"""Writing a failing example as a scenario file: valid, named after its file, readable, with what to rerun."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engine.model import Difference, ScenarioResult
from harness.fuzz.writer import (
    FUZZ_TAG,
    SCHEMA,
    describe_failure,
    failure_name,
    reproduce_command,
    scenario_text,
    write_failure,
)
from harness.scenario.loading import load_scenario, parse_yaml

DOCUMENT = {
    "name": "fuzz-example",
    "seed": 3,
    "accounts": [
        {"accountId": "111111111111", "accountName": "workload-111"},
        {"accountId": "222222222222", "roleArn": None, "externalId": ""},
    ],
    "tables": {
        "activeRegions": ["us-east-1"],
        "inventory": [
            {
                "sourceServerArn": "arn:aws:drs:us-east-1:222222222222:source-server/s-f0000000000000001",
                "stagingAccountId": "222222222222",
                "lastUpdated": "2026-01-14T12:00:00+00:00",
                "cpuCores": 4,
            }
        ],
    },
    "servers": [
        {
            "account": "222222222222",
            "region": "us-east-1",
            "items": [{"drs": {"sourceProperties": {"networkInterfaces": [{"macAddress": "0e:00:00:00:00:01"}]}}}],
        }
    ],
    "faults": [{"service": "drs", "region": "us-east-1", "effect": {"code": "ThrottlingException"}, "when": "once"}],
}


def _result(differences: int = 1) -> ScenarioResult:
    return ScenarioResult(
        name="fuzz-example",
        status="divergent",
        differences=[
            Difference("response", f"response.body.totalSynced{n}", "changed", baseline=1, candidate=0)
            for n in range(differences)
        ],
    )


def test_the_written_file_is_a_valid_scenario_named_after_its_file(tmp_path: Path) -> None:
    path = write_failure(DOCUMENT, _result(), tmp_path / "found", seed=1, approvals=["AD-2"])
    scenario = load_scenario(path)
    assert path.parent == tmp_path / "found"
    assert scenario.name == path.stem == failure_name(1, DOCUMENT)
    assert scenario.approvals == ("AD-2",)
    assert scenario.tags == (FUZZ_TAG,)
    assert scenario.accounts[1].row == {"accountId": "222222222222", "roleArn": None, "externalId": ""}
    assert scenario.inventory[0]["lastUpdated"] == "2026-01-14T12:00:00+00:00"
    assert scenario.faults[0].when.mode == "once"


def test_the_written_world_is_the_generated_document(tmp_path: Path) -> None:
    path = write_failure(DOCUMENT, _result(), tmp_path, seed=1, approvals=[])
    written, _ = parse_yaml(path.read_text(encoding="utf-8"))
    world = {key: value for key, value in written.items() if key not in ("name", "description", "tags")}
    assert world == {key: value for key, value in DOCUMENT.items() if key != "name"}
    assert "approvals" not in written
    assert list(written)[:2] == ["name", "description"]


def test_the_description_says_what_differs_and_how_to_rerun(tmp_path: Path) -> None:
    path = write_failure(DOCUMENT, _result(7), tmp_path, seed=42, approvals=[], implementations=("legacy", "x.y:z"))
    description = load_scenario(path).description
    assert "python -m harness fuzz --seed 42" in description
    assert "response.body.totalSynced0: baseline 1 -> candidate 0" in description
    assert "... and 2 more unapproved difference(s)." in description
    assert f"Reproduce: python -m harness run {path} --candidate x.y:z" in description
    assert "description: |" in path.read_text(encoding="utf-8")


def test_the_editor_schema_comment_points_at_the_schema(tmp_path: Path) -> None:
    path = write_failure(DOCUMENT, _result(), tmp_path / "a" / "b", seed=1, approvals=[])
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first_line.startswith(prefix)
    assert (path.parent / first_line.removeprefix(prefix)).resolve() == SCHEMA.resolve()


def test_names_depend_on_content_and_seed_only() -> None:
    renamed = {**DOCUMENT, "name": "other"}
    changed = {**DOCUMENT, "seed": 4}
    assert failure_name(1, DOCUMENT) == failure_name(1, renamed)
    assert failure_name(1, DOCUMENT) != failure_name(1, changed)
    assert failure_name(1, DOCUMENT) != failure_name(2, DOCUMENT)
    assert failure_name(1, DOCUMENT).startswith("fuzz-seed1-")


def test_reproduce_command_names_only_non_default_implementations() -> None:
    path = Path("found/fuzz-seed1-abc.yaml")
    assert reproduce_command(path, "legacy", "refactored") == "python -m harness run found/fuzz-seed1-abc.yaml"
    assert reproduce_command(path, "a.b:c", "legacy").endswith("--baseline a.b:c --candidate legacy")


def test_errors_are_described_as_well() -> None:
    result = ScenarioResult(name="x", status="error", errors=["harness failure in the legacy run (variant 0): boom"])
    text = describe_failure(result, 5, "python -m harness run x.yaml")
    assert "status error" in text and "Error: harness failure" in text


def test_text_that_would_not_survive_yaml_is_refused() -> None:
    with pytest.raises(ValueError, match="round trip"):
        scenario_text({**DOCUMENT, "seed": float("nan")}, "n", "d", [])
