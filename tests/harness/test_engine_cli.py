"""``python -m harness run`` and ``gate``: exit codes, verdict.json, bad input, all-or-nothing report directories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.commandline import EXIT_BAD_INPUT, EXIT_NO_GO, EXIT_OK
from harness.engine.model import RunResult
from harness.engine.reports import VERDICT_FILE, write_report_dir, write_verdict

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = """\
name: {name}
description: one account, one region, two servers; a stale record
accounts:
  - accountId: "222222222222"
    roleArn: arn:aws:iam::222222222222:role/DRSOrchestrationRole
tables:
  activeRegions: [us-east-1]
  inventory:
    - {{sourceServerArn: "arn:aws:drs:us-east-1:222222222222:source-server/s-old", stagingAccountId: "222222222222",
       sourceAccountId: "222222222222"}}
servers:
  - {{account: "222222222222", region: us-east-1, count: 2}}
expect:
  statusCode: 200
  body: {{totalSynced: 2, staleRecordsDeleted: 1}}
{extra}"""


def _write(directory: Path, name: str = "small-world", extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(SCENARIO.format(name=name, extra=extra))
    return path


def test_run_legacy_against_itself_is_go_and_writes_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = _write(tmp_path / "scenarios")
    reports = tmp_path / "reports"
    code = main(["run", str(scenario), "--candidate", "legacy", "--report-dir", str(reports), "--jobs", "1"])
    out, err = capsys.readouterr()
    assert code == EXIT_OK
    assert out.startswith("GO: 1 scenario(s): 1 equivalent")
    assert "[1/1] small-world: equivalent" in err
    verdict = json.loads((reports / VERDICT_FILE).read_text())
    assert verdict["verdict"] == "GO"
    assert (
        verdict["scenarios"][0] | {"name": "small-world", "status": "equivalent", "differences": []}
        == (verdict["scenarios"][0])
    )
    assert verdict["candidate"] == "legacy.inventory_sync:handle_sync_source_server_inventory_legacy"
    assert not list(tmp_path.glob(".reports.partial-*"))


def test_run_a_single_change_candidate_is_no_go_with_its_difference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = _write(tmp_path)
    reports = tmp_path / "out"
    mutant = "tests.comparison.mutants:different_assume_role_session_name"
    code = main(["run", str(scenario), "--candidate", mutant, "--report-dir", str(reports), "--jobs", "1"])
    out, err = capsys.readouterr()
    assert code == EXIT_NO_GO
    assert "NO-GO" in out and "scenario small-world is divergent" in out
    assert 'RoleSessionName: baseline "inventory-sync" -> candidate "inventory-sync-v2"' in err
    [scenario_entry] = json.loads((reports / VERDICT_FILE).read_text())["scenarios"]
    assert scenario_entry["status"] == "divergent"
    assert scenario_entry["differences"][0]["path"].endswith(".params.RoleSessionName")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["run", "{dir}/missing.yaml"], "missing.yaml"),
        (["run", "{scenario}", "--candidate", "no_such_pkg.mod:handler"], "--candidate no_such_pkg.mod:handler"),
        (["run", "{scenario}", "--baseline", "legacy.inventory_sync:nope"], "has no attribute 'nope'"),
        (["run", "{invalid}"], "accounts[0].accountId"),
        (["run", "{unknown_approval}"], "approvals[0]: unknown approval 'AD-7'"),
        (["run", "{scenario}", "--approvals", "{dir}/none.yaml"], "cannot read approvals"),
        (["gate", "--scenarios-dir", "{dir}/empty"], "no scenario files"),
    ],
)
def test_bad_input_exits_2_naming_the_problem_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    scenario = _write(tmp_path, "good")
    invalid = _write(tmp_path, "invalid")
    invalid.write_text(invalid.read_text().replace('accountId: "222222222222"', "accountId: 12"))
    unknown_approval = _write(tmp_path, "unknown-approval", extra="approvals: [AD-7]\n")
    (tmp_path / "empty").mkdir()
    paths = {"dir": tmp_path, "scenario": scenario, "invalid": invalid, "unknown_approval": unknown_approval}
    reports = tmp_path / "reports"
    argv = [part.format(**paths) for part in arguments] + ["--report-dir", str(reports), "--jobs", "1"]
    code = main(argv)
    _, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert message in err
    assert not reports.exists()


def test_gate_fails_on_coverage_gaps_and_unreferenced_approvals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "library", extra="approvals: [AD-2]\n")  # the refactor keeps the record without a region
    reports = str(tmp_path / "reports")
    library = str(tmp_path / "library")
    code = main(
        ["gate", "--scenarios-dir", library, "--candidate", "refactored", "--jobs", "1", "--report-dir", reports]
    )
    out, _ = capsys.readouterr()
    assert code == EXIT_NO_GO
    assert out.startswith("NO-GO: 1 scenario(s): 1 approved-divergence")
    assert "no scenario exercises the DRS error type AccessDeniedException" in out
    assert "no scenario exercises the DRS error type non-ClientError exception" in out
    assert "no scenario's baseline reaches the legacy state THROTTLED" in out
    assert "approval AD-3 is referenced by no scenario (stale)" in out


def test_between_two_versions_of_production_no_approval_applies_nor_is_missed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Legacy against itself (as against a deployed artifact): approvals are out of the picture, coverage is not."""
    _write(tmp_path / "library")
    code = main(["gate", "--scenarios-dir", str(tmp_path / "library"), "--candidate", "legacy", "--jobs", "1"])
    out, err = capsys.readouterr()
    assert code == EXIT_NO_GO
    assert "fidelity check: no approval applies between two versions of production" in err
    assert "no scenario exercises the DRS error type AccessDeniedException" in out
    assert "approval" not in out


def test_a_failing_report_writer_leaves_nothing_half_written(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / VERDICT_FILE).write_text("previous")

    def broken(result: RunResult, directory: Path) -> None:
        (directory / "report.html").write_text("<html>half")
        raise OSError("disk full")

    result = RunResult(command="run", baseline="a:b", candidate="c:d")
    with pytest.raises(OSError, match="disk full"):
        write_report_dir(result, reports, writers=[write_verdict, broken])
    assert (reports / VERDICT_FILE).read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".reports.lock", "reports"]
    assert [p.name for p in reports.iterdir()] == [VERDICT_FILE]


def test_the_module_entry_point_runs_a_scenario(tmp_path: Path) -> None:
    scenario = _write(tmp_path)
    completed = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "harness", "run", str(scenario), "--candidate", "legacy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == EXIT_OK, completed.stderr
    assert completed.stdout.startswith("GO")
