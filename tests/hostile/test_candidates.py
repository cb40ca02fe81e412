"""Hostile candidates are contained: each ends as an error of its own scenario, and never as a pass.

Each case runs ``python -m harness run`` in a child process (memory-capped, killed if it hangs) on a one-account
scenario with a candidate that exits, hangs, crashes, raises at import or leaves threads behind, and checks the
documented exit code (1), the one-line message naming what happened, and the NO-GO verdict on disk. The gate's own
guarantee (exit 0 only with this run's GO verdict on disk) is checked last, on its guard.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from harness.commandline import EXIT_NO_GO, EXIT_OK
from harness.engine import commands
from harness.engine.model import RunResult
from harness.engine.reports import write_verdict
from tests.hostile.candidates import STRAY_ARN, STRAY_WRITER_SWITCH
from tests.hostile.contained_cli import RUN_TIMEOUT_S, run_harness, verdict, write_scenario

HOSTILE = "tests.hostile.candidates"

CASES = [
    ("exits_5", "the handler called sys.exit(5)"),
    ("exits_process_0", "the run exited with status 0 before returning a result"),
    ("never_returns", f"the run timed out after {RUN_TIMEOUT_S} s (the process was killed)"),
    ("leaves_a_non_daemon_thread", "the handler returned but left 1 thread(s) running: 'hostile-non-daemon'"),
    ("aborts", "the run was killed by signal SIGABRT (6)"),
    ("segfaults", "the run was killed by signal SIGSEGV (11)"),
]


def _run(tmp_path: Path, candidate: str, *scenarios: Path, environment: dict[str, str] | None = None) -> Any:
    reports = tmp_path / "reports"
    arguments = [*map(str, scenarios), "--candidate", candidate, "--jobs", "1", "--timeout", str(RUN_TIMEOUT_S)]
    ran, pid = run_harness("run", *arguments, "--report-dir", str(reports), environment=environment)
    return ran, pid, reports


@pytest.mark.parametrize(("handler", "message"), CASES, ids=[handler for handler, _ in CASES])
def test_a_hostile_handler_is_an_error_of_its_scenario(tmp_path: Path, handler: str, message: str) -> None:
    candidate = f"{HOSTILE}:{handler}"
    ran, _, reports = _run(tmp_path, candidate, write_scenario(tmp_path, "hostile"))
    ran.assert_contained(EXIT_NO_GO, f"error: harness failure in the {candidate} run (variant 0): {message}")
    assert ran.out.startswith("NO-GO: 1 scenario(s): 1 error"), ran.out
    written = verdict(reports)
    assert written["verdict"] == "NO-GO"
    [scenario] = written["scenarios"]
    assert scenario["status"] == "error" and message in scenario["errors"][0]


def test_a_candidate_raising_at_import_is_an_error_and_never_imported_by_the_harness(tmp_path: Path) -> None:
    log = tmp_path / "imported-by"
    candidate = "tests.hostile.import_raises:handler"
    ran, harness_pid, reports = _run(
        tmp_path, candidate, write_scenario(tmp_path, "hostile"), environment={"HOSTILE_IMPORT_LOG": str(log)}
    )
    message = f"importing {candidate} raised ValueError: configuration exploded at import"
    ran.assert_contained(EXIT_NO_GO, f"error: harness failure in the {candidate} run (variant 0): {message}")
    assert verdict(reports)["scenarios"][0]["status"] == "error"
    importers = {int(pid) for pid in log.read_text().split()}
    assert importers and harness_pid not in importers  # imported by the name check's child and the run's child only


def test_stray_threads_cannot_write_into_the_next_scenarios_world(tmp_path: Path) -> None:
    first = write_scenario(tmp_path, "a-stray-writer-starts", {STRAY_WRITER_SWITCH: "1"})
    second = write_scenario(tmp_path, "b-world-after-the-stray-writer")
    ran, _, reports = _run(tmp_path, f"{HOSTILE}:stray_writer", first, second)
    ran.assert_contained(EXIT_NO_GO, "left 1 thread(s) running: 'hostile-stray-writer' (daemon)")
    statuses = {s["name"]: (s["status"], s["errors"]) for s in verdict(reports)["scenarios"]}
    assert statuses["a-stray-writer-starts"][0] == "error"
    assert statuses["b-world-after-the-stray-writer"] == ("equivalent", [])
    assert STRAY_ARN not in (reports / "verdict.json").read_text()


def test_the_fuzzer_times_out_a_hanging_candidate_and_writes_the_example(tmp_path: Path) -> None:
    candidate = f"{HOSTILE}:never_returns"
    arguments = ["--examples", "1", "--shrink-budget", "1", "--timeout", str(RUN_TIMEOUT_S)]
    ran, _ = run_harness("fuzz", *arguments, "--candidate", candidate, "--save-failures", str(tmp_path))
    ran.assert_contained(EXIT_NO_GO)
    assert "FAILED: error example" in ran.out, ran.out
    assert (
        f"error: harness failure in the {candidate} run (variant 0): the run timed out after {RUN_TIMEOUT_S} s"
        in ran.out
    )
    assert list(tmp_path.glob("*.yaml")), "the failing example is written as a scenario file"


# -- the gate's exit code -------------------------------------------------------------------------------------------


def _gate_with(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, result: RunResult, on_disk: RunResult | None) -> int:
    """The gate's exit code when the run ended with ``result`` and the report directory holds ``on_disk``."""
    reports = tmp_path / "reports"
    reports.mkdir(parents=True)
    if on_disk is not None:
        write_verdict(on_disk, reports)
    monkeypatch.setattr(commands, "_execute", lambda *_: (EXIT_OK, result))
    return commands.gate(argparse.Namespace(scenarios_dir=tmp_path, report_dir=reports))


def test_the_gate_exits_0_only_with_this_runs_go_verdict_on_disk(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    go = RunResult(command="gate", baseline="a:b", candidate="c:d")
    assert _gate_with(monkeypatch, tmp_path / "go", go, go) == EXIT_OK
    assert _gate_with(monkeypatch, tmp_path / "none", go, None) == EXIT_NO_GO
    assert "no readable verdict at" in capsys.readouterr().err
    earlier = RunResult(command="gate", baseline="a:b", candidate="c:d")
    assert _gate_with(monkeypatch, tmp_path / "stale", go, earlier) == EXIT_NO_GO
    assert "is not this run's verdict" in capsys.readouterr().err
    no_go = RunResult(command="gate", baseline="a:b", candidate="c:d", blockers=["a coverage gap"])
    assert _gate_with(monkeypatch, tmp_path / "no-go", no_go, no_go) == EXIT_NO_GO
    assert "says 'NO-GO', not GO" in capsys.readouterr().err
