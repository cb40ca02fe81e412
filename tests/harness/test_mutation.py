"""``python -m harness mutate``: the catalogue is well-formed and current; the runner judges and reports mutants."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from harness.cli import main
from harness.commandline import EXIT_BAD_INPUT, EXIT_NO_GO
from harness.mutation.catalogue import DEFAULT_CATALOGUE, CatalogueError, Mutant, load_catalogue
from harness.mutation.report import markdown, run_document, write_mutation_reports
from harness.mutation.runner import (
    CAUGHT,
    EQUIVALENT,
    FALSE_ALARM,
    REPOSITORY,
    SURVIVED,
    MutantOutcome,
    MutationRun,
    _failed_test,
    _gate_order,
    mutant_environment,
)
from harness.mutation.worker import ROOT_VARIABLE, shadowing_problem
from harness.redaction import fingerprint, fingerprint_salt, share_salt
from harness.scenario.loading import load_scenarios

CATALOGUE = load_catalogue()


def _mutant(mutant_id: str = "m", **changes: object) -> Mutant:
    fields = {
        "id": mutant_id,
        "file": "refactored/drs.py",
        "category": "error mapping",
        "original": "DRS_MAX_WORKERS = 28",
        "replacement": "DRS_MAX_WORKERS = 27",
        "description": "fewer threads",
    }
    return Mutant(**{**fields, **changes})  # type: ignore[arg-type]


def _write_catalogue(path: Path, mutants: list[dict[str, object]], unit_tests: list[str] | None = None) -> Path:
    document = {"unit_tests": unit_tests or ["tests/unit/test_lambda_shared_response_utils.py"], "mutants": mutants}
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


# -- the shipped catalogue ---------------------------------------------------------------------------------------------


def test_the_catalogue_holds_at_least_40_mutants_with_behaviour_preserving_ones_among_them() -> None:
    judged = [mutant for mutant in CATALOGUE.mutants if not mutant.equivalent]
    assert len(CATALOGUE.mutants) >= 40 and len(judged) >= 40
    assert sum(mutant.equivalent for mutant in CATALOGUE.mutants) >= 5
    categories = Counter(mutant.category for mutant in CATALOGUE.mutants)
    for expected in ("error mapping", "pagination", "ec2 chunking", "ec2 fallback", "item attributes", "batch size"):
        assert categories[expected], expected
    for expected in ("retries", "counts", "cleanup filter", "cleanup ownership", "flag routing", "cache invalidation"):
        assert categories[expected], expected
    for expected in ("session names", "duration seconds", "external id", "region-status rows", "sort/merge order"):
        assert categories[expected], expected


def test_every_original_text_occurs_exactly_once_and_every_mutant_compiles() -> None:
    assert CATALOGUE.stale(REPOSITORY) == []
    for mutant in CATALOGUE.mutants:
        mutated = mutant.mutated((REPOSITORY / mutant.file).read_text(encoding="utf-8"))
        compile(mutated, mutant.file, "exec")  # a mutant that does not compile would be "caught" by any test


def test_named_scenarios_and_unit_tests_exist() -> None:
    names = {scenario.name for scenario in load_scenarios([str(REPOSITORY / "scenarios")])}
    for mutant in CATALOGUE.mutants:
        assert set(mutant.scenarios) <= names, mutant.id
    for test_file in CATALOGUE.unit_tests:
        assert (REPOSITORY / test_file).is_file(), test_file


def test_every_equivalent_mutant_says_why_and_every_other_what_it_breaks() -> None:
    for mutant in CATALOGUE.mutants:
        assert mutant.description
        assert bool(mutant.reason) == mutant.equivalent, mutant.id


# -- catalogue problems are bad input ----------------------------------------------------------------------------------


def test_a_malformed_catalogue_names_the_file_the_place_and_the_reason(tmp_path: Path) -> None:
    path = _write_catalogue(tmp_path / "c.yaml", [{"id": "Bad Id", "file": "legacy/inventory_sync.py"}])
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    text = "\n".join(caught.value.problems)
    assert f"{path}: mutants.0.id" in text and f"{path}: mutants.0.file" in text and "'category' is a required" in text


def test_duplicate_ids_no_op_changes_and_an_equivalent_without_reason_are_refused(tmp_path: Path) -> None:
    entry = {"id": "a", "file": "refactored/drs.py", "category": "c", "original": "x", "replacement": "y"}
    mutants = [
        {**entry, "description": "d"},
        {**entry, "description": "d"},
        {**entry, "id": "b", "replacement": "x", "description": "d"},
        {**entry, "id": "e", "description": "d", "equivalent": True},
    ]
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(_write_catalogue(tmp_path / "c.yaml", mutants))
    text = "\n".join(caught.value.problems)
    assert "mutants.1 (a): duplicate id" in text
    assert "mutants.2 (b): the replacement is the original" in text
    assert "mutants.3 (e): an equivalent mutant needs a reason" in text


def test_a_stale_entry_is_named_and_nothing_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = {"original": "DRS_MAX_WORKERS = 99", "replacement": "DRS_MAX_WORKERS = 1"}
    twice = {"file": "refactored/cleanup.py", "original": "record", "replacement": "entry"}
    entries = [
        {**_entry("gone"), **missing},
        {**_entry("ambiguous"), **twice},
        _entry("fine"),
    ]
    path = _write_catalogue(tmp_path / "c.yaml", entries)
    code = main(["mutate", "--catalogue", str(path), "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert "mutant gone: its original text is not found in refactored/drs.py (stale entry)" in error
    assert "mutant ambiguous: its original text is found" in error and "fine" not in error
    assert not (tmp_path / "out").exists()


def test_an_unknown_only_id_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["mutate", "--only", "no-such-mutant", "--out", str(tmp_path / "out")])
    assert code == EXIT_BAD_INPUT
    assert "no mutant with id 'no-such-mutant'" in capsys.readouterr().err


def _entry(mutant_id: str) -> dict[str, object]:
    return {
        "id": mutant_id,
        "file": "refactored/drs.py",
        "category": "c",
        "original": "DRS_MAX_WORKERS = 28",
        "replacement": "DRS_MAX_WORKERS = 27",
        "description": "d",
    }


# -- the runner's parts ------------------------------------------------------------------------------------------------


def test_the_mutated_copy_is_checked_to_come_first_on_the_import_path(tmp_path: Path) -> None:
    problem = shadowing_problem(tmp_path)
    assert problem is not None and "refactored is imported from" in problem and str(tmp_path) in problem
    assert shadowing_problem(REPOSITORY) is None


def test_subprocesses_import_the_copy_first_and_collect_no_coverage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COV_CORE_SOURCE", "x")
    monkeypatch.setenv("COVERAGE_PROCESS_START", "x")
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    environment = mutant_environment(Path("/copy"))
    assert environment["PYTHONPATH"] == "/copy" and environment[ROOT_VARIABLE] == "/copy"
    assert "COV_CORE_SOURCE" not in environment and "COVERAGE_PROCESS_START" not in environment


def test_the_gate_stage_tries_the_mutants_scenarios_first() -> None:
    library = sorted(load_scenarios([str(REPOSITORY / "scenarios")]), key=lambda s: s.name)
    mutant = _mutant(scenarios=("warm-lambda-invoked-twice", "drs-scp-denied"))
    ordered = [scenario.name for scenario in _gate_order(mutant, library)]
    assert ordered[:2] == ["warm-lambda-invoked-twice", "drs-scp-denied"] and len(ordered) == len(library)
    assert sorted(ordered) == sorted(scenario.name for scenario in library)


def test_a_shared_salt_gives_the_fingerprints_of_the_process_it_came_from() -> None:
    original = fingerprint_salt()
    theirs = bytes(16)
    try:
        share_salt(theirs)
        expected = hashlib.sha256(theirs + repr("token").encode()).hexdigest()[:8]
        assert fingerprint("token") == f"<redacted:{expected}>"
    finally:
        share_salt(original)
    assert fingerprint("token") != f"<redacted:{expected}>"


def test_the_first_failing_test_is_named() -> None:
    output = "....F\nFAILED tests/unit/test_x.py::test_y - AssertionError: boom\n1 failed, 4 passed\n"
    assert _failed_test(1, output) == "test tests/unit/test_x.py::test_y"
    assert _failed_test(2, "ERROR tests/unit/test_x.py - ImportError\n") == "test tests/unit/test_x.py (error)"
    assert _failed_test(None, "") == "the unit tests timed out"
    assert _failed_test(4, "usage: pytest\nerror: bad option\n") == "pytest exit 4: error: bad option"


def test_the_reports_give_the_score_every_survivor_false_alarm_and_equivalent(tmp_path: Path) -> None:
    run = MutationRun(
        [
            MutantOutcome(_mutant("caught-one"), CAUGHT, "gate", "scenario s: divergent", 3.0, 2),
            MutantOutcome(_mutant("survivor", description="breaks X"), SURVIVED, "", "", 9.0, 74),
            MutantOutcome(_mutant("same", equivalent=True, reason="names are private"), EQUIVALENT),
            MutantOutcome(_mutant("alarm", equivalent=True, reason="timing"), FALSE_ALARM, "gate", "scenario t"),
        ],
        duration_s=120.0,
        command="python -m harness mutate",
    )
    assert not run.ok and run.score == "1/2 non-equivalent mutants caught (50%)"
    text = markdown(run)
    assert "**1/2 non-equivalent mutants caught (50%)**" in text
    assert "- `survivor` (refactored/drs.py): breaks X" in text
    assert "- `alarm` (refactored/drs.py): timing Caught by scenario t." in text
    assert "- `same`: fewer threads Why: names are private" in text
    written = write_mutation_reports(run, tmp_path / "out")
    document = json.loads(written[0].read_text(encoding="utf-8"))
    assert document == run_document(run) | {"durationS": 120.0}
    assert document["counts"] == {CAUGHT: 1, SURVIVED: 1, EQUIVALENT: 1, FALSE_ALARM: 1}
    assert [m["status"] for m in document["mutants"]] == [CAUGHT, SURVIVED, EQUIVALENT, FALSE_ALARM]


# -- end to end --------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_mutate_end_to_end_catches_passes_and_reports_a_survivor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three mutants on two scenarios with one quick unit-test file: the gate catches the CPU-model mutant on the
    scenario built for it, the rename stays equivalent, and a mutant the scenarios given do not reach survives (exit
    1). The pages' nextTokens are fingerprinted secrets: baselines made in the parent must compare equal to the
    worker's runs (they did not before the worker took the parent's salt: every equivalent mutant was caught)."""
    shipped = {mutant.id: mutant for mutant in CATALOGUE.mutants}
    entries = []
    for mutant_id in ("cpu-model-of-last-cpu", "rename-chunk-offset", "cleanup-scan-reads-one-page"):
        mutant = shipped[mutant_id]
        entry = {key: getattr(mutant, key) for key in ("id", "file", "category", "original", "replacement")}
        entry |= {"description": mutant.description}
        entries.append(entry | ({"equivalent": True, "reason": mutant.reason} if mutant.equivalent else {}))
    catalogue = _write_catalogue(tmp_path / "c.yaml", entries)
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    for name in ("servers-with-several-cpu-models", "drs-pagination-several-pages"):
        shutil.copy(REPOSITORY / "scenarios" / f"{name}.yaml", scenarios)
    out = tmp_path / "out"
    arguments = ["mutate", "--catalogue", str(catalogue), "--scenarios-dir", str(scenarios), "--out", str(out)]
    assert main(arguments) == EXIT_NO_GO
    captured = capsys.readouterr()
    assert "[3/3]" in captured.err and "ETA" in captured.err
    assert "survived: cleanup-scan-reads-one-page" in captured.out
    outcomes = {m["id"]: m for m in json.loads((out / "mutation.json").read_text(encoding="utf-8"))["mutants"]}
    assert outcomes["cpu-model-of-last-cpu"]["status"] == CAUGHT
    assert outcomes["cpu-model-of-last-cpu"]["by"].startswith("scenario servers-with-several-cpu-models: divergent")
    assert outcomes["rename-chunk-offset"]["status"] == EQUIVALENT
    assert outcomes["cleanup-scan-reads-one-page"]["status"] == SURVIVED
    assert (out / "mutation.md").read_text(encoding="utf-8").startswith("# Mutation score")
    assert DEFAULT_CATALOGUE.is_file()
