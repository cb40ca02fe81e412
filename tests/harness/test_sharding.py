"""A sharded gate: ``gate --shard K/N`` plans and partial verdicts, and ``harness merge``.

The acceptance test runs a small library through the gate once whole and once as three shards merged, with a NO-GO
candidate (``tests.comparison.mutants:lost_server``) and a scenario whose approval approves nothing there (stale): the
merged verdict.json must be the whole gate's apart from timings (verdict, every scenario's outcome and differences,
coverage, blockers, approvals), and so must the reports written from it. The refusals use copies of those real
partial verdicts, changed in one place each.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.cli import main
from harness.commandline import EXIT_BAD_INPUT, EXIT_NO_GO, EXIT_OK, BadInputError
from harness.engine.coverage import ERROR_TYPES, LEGACY_STATES
from harness.engine.provenance import VERDICT_SCHEMA
from harness.engine.shards import ROUND_ROBIN, Shard, assign, parse_shard, read_durations

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = (
    "single-account-single-region-no-servers",
    "single-account-single-region-multiple-servers",
    "drs-throttled-in-one-region",
)
#: A copy of a library scenario that references AD-1, whose condition (no target accounts) does not hold there.
STALE = "stale-approval-here"
NO_GO_CANDIDATE = "tests.comparison.mutants:lost_server"
SHARDS = 3


def _library(directory: Path) -> Path:
    directory.mkdir()
    for name in LIBRARY:
        shutil.copy(ROOT / "scenarios" / f"{name}.yaml", directory / f"{name}.yaml")
    text = (ROOT / "scenarios" / f"{LIBRARY[1]}.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^tags: .*$", "approvals: [AD-1]", text.replace(f"name: {LIBRARY[1]}", f"name: {STALE}"))
    (directory / f"{STALE}.yaml").write_text(text, encoding="utf-8")
    return directory


def _gate(library: Path, reports: Path, *extra: str) -> int:
    argv = ["gate", "--scenarios-dir", str(library), "--report-dir", str(reports), "--jobs", "1"]
    return main([*argv, "--candidate", NO_GO_CANDIDATE, *extra])


@pytest.fixture(scope="module")
def gates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The library gated whole, then as three shards balanced by the whole gate's durations, then merged."""
    root = tmp_path_factory.mktemp("sharded")
    library = _library(root / "scenarios")
    codes = {"whole": _gate(library, root / "whole")}
    durations = str(root / "whole" / "verdict.json")
    for index in range(1, SHARDS + 1):
        codes[f"shard {index}"] = _gate(
            library, root / f"shard-{index}", "--shard", f"{index}/{SHARDS}", "--durations", durations
        )
    shards = [root / f"shard-{index}" for index in range(1, SHARDS + 1)]
    codes["merge"] = main(["merge", *map(str, reversed(shards)), "--report-dir", str(root / "merged")])
    return {"root": root, "codes": codes, "shards": shards}


def _verdict(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "verdict.json").read_text(encoding="utf-8"))


def _without_timings(verdict: dict[str, Any]) -> dict[str, Any]:
    """The verdict without its timings; the informational failed calls and output lines, which come in the order
    the code's threads happened to finish in (in any two runs, sharded or not), as multisets."""
    verdict = copy.deepcopy(verdict)
    for key in ("runId", "started", "durationS"):
        verdict.pop(key)
    verdict["provenance"].pop("generated")
    for scenario in verdict["scenarios"]:
        scenario.pop("durationS")
        for run in scenario["runs"].values():
            run.pop("wallTimeMs")
            for section in ("failedCalls", "output"):
                run[section] = sorted(run[section], key=lambda entry: json.dumps(entry, sort_keys=True))
    return verdict


def _report_lines(path: Path) -> list[str]:
    """A report's lines with the timings replaced, in order but for lines of thread-ordered lists (sorted)."""
    return sorted(TIMING.sub("T", path.read_text(encoding="utf-8")).splitlines())


#: Timings in the reports: durations, timestamps, JUnit's time attributes, and the duration chart (ordered by them).
TIMING = re.compile(
    r"\d+(?:\.\d+)?\s?(?:ms|s)\b|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|time=\"[\d.]+\""
    r"|<svg[^>]*Duration of each scenario.*?</svg>",
    re.DOTALL,
)


def test_a_sharded_gate_merged_is_the_whole_gate_apart_from_timings(gates: dict[str, Any]) -> None:
    root = gates["root"]
    assert gates["codes"]["whole"] == gates["codes"]["merge"] == EXIT_NO_GO
    whole, merged = _verdict(root / "whole"), _verdict(root / "merged")
    assert merged["verdict"] == whole["verdict"] == "NO-GO"
    outcomes = {s["name"]: s["status"] for s in whole["scenarios"]}
    assert outcomes == {s["name"]: s["status"] for s in merged["scenarios"]}
    assert outcomes[LIBRARY[1]] == "divergent" and outcomes[LIBRARY[0]] == "equivalent"
    stale = f"approval AD-1 is stale in scenario {STALE}: its condition does not hold here"
    assert any(blocker.startswith(stale) for blocker in merged["blockers"])
    assert "approval AD-2 is referenced by no scenario (stale)" in merged["blockers"]
    assert merged["coverage"]["legacyStates"]["THROTTLED"] == ["drs-throttled-in-one-region"]
    assert _without_timings(merged) == _without_timings(whole)
    for report in ("report.md", "summary.md", "report.html", "junit.xml"):
        assert _report_lines(root / "whole" / report) == _report_lines(root / "merged" / report), report
    summaries = [
        TIMING.sub("T", (root / run / "summary.md").read_text(encoding="utf-8")) for run in ("whole", "merged")
    ]
    assert summaries[0] == summaries[1]


def test_each_shard_writes_a_partial_verdict_of_its_share_only(gates: dict[str, Any]) -> None:
    schema = json.loads(VERDICT_SCHEMA.read_text(encoding="utf-8"))
    library = [s["name"] for s in _verdict(gates["root"] / "whole")["scenarios"]]
    held: list[str] = []
    for index, directory in enumerate(gates["shards"], start=1):
        verdict = _verdict(directory)
        jsonschema.validate(verdict, schema, cls=jsonschema.Draft202012Validator)
        assert sorted(p.name for p in directory.iterdir()) == ["verdict.json"]  # no report to mistake for the gate's
        shard = verdict["shard"]
        assert verdict["verdict"] == "PARTIAL" and verdict["blockers"] == []
        assert (shard["index"], shard["count"], shard["library"]) == (index, SHARDS, library)
        assert shard["balancedBy"].startswith("recorded durations of 4 of 4 scenario(s)")
        assert shard["scenarioSet"] == verdict["provenance"]["scenarioSet"] and shard["scenarioSet"]["files"] == 4
        assert shard["scenarios"] == [s["name"] for s in verdict["scenarios"]] == list(verdict["coverage"]["scenarios"])
        failing = any(s["status"] in ("divergent", "error") for s in verdict["scenarios"])
        assert gates["codes"][f"shard {index}"] == (EXIT_NO_GO if failing else EXIT_OK)
        held += shard["scenarios"]
    assert sorted(held) == sorted(library)


# -- refusals ---------------------------------------------------------------------------------------------------------


def _copies(gates: dict[str, Any], tmp_path: Path) -> list[Path]:
    copies = []
    for directory in gates["shards"]:
        target = tmp_path / directory.name
        target.mkdir(parents=True)
        shutil.copy(directory / "verdict.json", target / "verdict.json")
        copies.append(target)
    return copies


def _edit(directory: Path, change: Any) -> None:
    verdict = _verdict(directory)
    change(verdict)
    (directory / "verdict.json").write_text(json.dumps(verdict), encoding="utf-8")


def _drop_last_scenario(verdict: dict[str, Any]) -> None:
    scenario = verdict["scenarios"].pop()
    verdict["shard"]["scenarios"].remove(scenario["name"])
    del verdict["coverage"]["scenarios"][scenario["name"]]


def _move_first_scenario(source: dict[str, Any], target: dict[str, Any]) -> None:
    scenario = source["scenarios"][0]
    target["scenarios"].append(scenario)
    target["shard"]["scenarios"].append(scenario["name"])
    target["coverage"]["scenarios"][scenario["name"]] = source["coverage"]["scenarios"][scenario["name"]]


REFUSALS = {
    "mixed scenario sets": lambda v: v["shard"]["scenarioSet"].update(sha256="0" * 64),
    "mixed candidates": lambda v: v.update(candidate="refactored.inventory_sync:other"),
    "mixed baselines": lambda v: v["provenance"]["implementations"]["baseline"].update(sha256="1" * 64),
    "mixed approvals files": lambda v: v["shard"]["approvalsFile"].update(sha256="2" * 64),
    "mixed code under test": lambda v: v["provenance"]["packages"]["refactored"].update(sha256="3" * 64),
    "mixed ExternalId settings": lambda v: v["shard"].update(showExternalIds=True),
    "shards of different counts": lambda v: v["shard"].update(count=4),
    "which no gate makes": lambda v: v["shard"].update(index=5),
    "not the scenarios it says it holds": lambda v: v["shard"].update(scenarios=[]),
    "verdict.schema.json": lambda v: v.pop("coverage"),
    "not a shard's partial verdict": lambda v: v.update(verdict="NO-GO"),
    "not a verdict.json of schema version 1.0": lambda v: v.update(schemaVersion="0.9"),
}


@pytest.mark.parametrize("message", sorted(REFUSALS))
def test_merge_refuses_shards_that_are_not_one_gate_s(
    message: str, gates: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shards = _copies(gates, tmp_path)
    _edit(shards[1], REFUSALS[message])
    assert main(["merge", *map(str, shards), "--report-dir", str(tmp_path / "merged")]) == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err
    assert not (tmp_path / "merged").exists()


def test_merge_refuses_a_missing_or_repeated_shard_and_a_scenario_in_two_shards_or_none(
    gates: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = ["--report-dir", str(tmp_path / "merged")]
    shards = _copies(gates, tmp_path / "one")
    assert main(["merge", str(shards[0]), str(shards[2]), *reports]) == EXIT_BAD_INPUT
    assert "shard(s) 2 of 3 missing" in capsys.readouterr().err
    assert main(["merge", *map(str, shards), str(shards[1] / "verdict.json"), *reports]) == EXIT_BAD_INPUT
    assert "shard 2 of 3 is given twice" in capsys.readouterr().err
    first = _verdict(shards[0])
    _edit(shards[1], lambda verdict: _move_first_scenario(first, verdict))
    assert main(["merge", *map(str, shards), *reports]) == EXIT_BAD_INPUT
    assert f"scenario {first['scenarios'][0]['name']!r} is in two shards" in capsys.readouterr().err
    shards = _copies(gates, tmp_path / "two")
    _edit(shards[0], _drop_last_scenario)
    assert main(["merge", *map(str, shards), *reports]) == EXIT_BAD_INPUT
    assert "1 scenario(s) in no shard" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["merge", str(tmp_path / "empty"), *reports]) == EXIT_BAD_INPUT
    assert "cannot read it" in capsys.readouterr().err
    (shards[2] / "verdict.json").write_text("{", encoding="utf-8")
    assert main(["merge", *map(str, shards), *reports]) == EXIT_BAD_INPUT
    assert "verdict.json: not JSON" in capsys.readouterr().err
    assert not (tmp_path / "merged").exists()


def test_merge_says_go_only_when_the_whole_library_passes(
    gates: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Shards whose results pass and whose rows cover every error type and legacy state merge to a GO, exit 0."""
    shards = _copies(gates, tmp_path)

    def passing(verdict: dict[str, Any]) -> None:
        for scenario in verdict["scenarios"]:
            scenario.update(status="equivalent", differences=[], approvals=[], staleApprovals=[])
        for row in verdict["coverage"]["scenarios"].values():
            row.update(errorTypes=list(ERROR_TYPES), legacyStates=list(LEGACY_STATES), approvals=[])
        verdict["approvals"] = []

    for directory in shards:
        _edit(directory, passing)
    assert main(["merge", *map(str, shards), "--report-dir", str(tmp_path / "merged")]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("GO: 4 scenario(s): 4 equivalent")
    merged = _verdict(tmp_path / "merged")
    assert merged["verdict"] == "GO" and "shard" not in merged and merged["coverage"]["missing"]["legacyStates"] == []


# -- the plan ---------------------------------------------------------------------------------------------------------


def test_shard_syntax() -> None:
    assert parse_shard("2/3") == Shard(2, 3) and str(parse_shard("1/1")) == "1/1"
    for bad in ("0/3", "4/3", "3", "a/b", "1/0", "-1/2", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_shard(bad)


def test_a_gate_with_a_bad_shard_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["gate", "--shard", "4/3"])
    assert stopped.value.code == EXIT_BAD_INPUT and "--shard" in capsys.readouterr().err
    assert main(["gate", "--durations", "verdict.json", "--report-dir", str(tmp_path / "r")]) == EXIT_BAD_INPUT
    assert "--durations balances shards: give --shard K/N with it" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_without_durations_the_plan_is_round_robin_in_file_order() -> None:
    assert assign(list("abcdefg"), 3) == [[0, 3, 6], [1, 4], [2, 5]]
    assert assign(list("ab"), 3) == [[0], [1], []]
    assert assign(list("abc"), 2, {"x": 5.0}) == [[0, 2], [1]]  # durations of none of them: as without


def test_with_durations_the_longest_go_first_to_the_least_loaded_shard() -> None:
    names = list("abcdef")
    durations = {"a": 1.0, "b": 9.0, "c": 4.0, "d": 4.0, "e": 1.0, "f": 2.0}
    shares = assign(names, 2, durations)
    assert shares == [[0, 1, 4], [2, 3, 5]]  # 9 + 1 + 1 against 4 + 4 + 2 (the last tie goes to shard 1)
    assert sorted(p for share in shares for p in share) == list(range(len(names)))
    assert assign(names, 2, durations) == shares  # deterministic
    # A scenario the file does not know counts as the median of those it knows (here 4).
    assert assign(["new", "b", "c"], 2, {"b": 9.0, "c": 4.0}) == [[1], [0, 2]]


def test_durations_come_from_a_verdict_or_a_map_and_bad_files_are_refused(tmp_path: Path) -> None:
    verdict = tmp_path / "verdict.json"
    verdict.write_text(json.dumps({"scenarios": [{"name": "a", "durationS": 2.5}, {"name": "b", "durationS": True}]}))
    assert read_durations(verdict) == {"a": 2.5}
    plain = tmp_path / "durations.json"
    plain.write_text(json.dumps({"a": 1, "b": 0.5, "c": -1}))
    assert read_durations(plain) == {"a": 1.0, "b": 0.5}
    for name, text, reason in (
        ("broken.json", "{", "not JSON"),
        ("list.json", "[1, 2]", "neither a verdict.json"),
        ("strings.json", '{"a": "slow"}', "neither a verdict.json"),
    ):
        (tmp_path / name).write_text(text)
        with pytest.raises(BadInputError, match=rf"--durations {re.escape(str(tmp_path / name))}: {reason}"):
            read_durations(tmp_path / name)
    with pytest.raises(BadInputError, match="cannot read it"):
        read_durations(tmp_path / "missing.json")
    assert ROUND_ROBIN == "file order, round-robin"
