"""The report directory: refused before any scenario runs when unusable, replaced atomically, interrupted cleanly.

Layout and rules: ``harness/engine/reports.py``; signals: ``harness/interruption.py``. A read-only directory, a file
given as the directory, a directory holding other files and a parent the harness cannot write in are exit 2 before
the first scenario (no progress line); SIGTERM and SIGINT end the workers, leave no temporary directory and exit 143
and 130 with one line; a second run on a directory in use is refused, naming the run that holds it.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from hostile_support import (
    ROOT,
    RUN_TIMEOUT_SECONDS,
    file_modes_bind,
    harness_environment,
    run_harness,
    start_harness,
    wait_for,
)

from harness.commandline import EXIT_BAD_INPUT, EXIT_OK

SCENARIOS = [
    str(ROOT / "scenarios" / name) for name in ("zero-target-accounts.yaml", "target-account-without-role-arn.yaml")
]
SLOW = ["--candidate", "tests.hostile.slow_candidate:handler"]
needs_file_modes = pytest.mark.skipif(not file_modes_bind(), reason="file modes cannot bind a child process here")


def _run(report_dir: Path, *extra: str, unprivileged: bool = False) -> object:
    return run_harness(
        ["run", SCENARIOS[0], "--jobs", "1", "--report-dir", str(report_dir), *extra], unprivileged=unprivileged
    )


def _no_progress(err: str) -> None:
    assert "[1/" not in err, "a scenario ran before the report directory was refused"


def test_a_file_given_as_the_report_directory_is_refused_before_any_scenario(tmp_path: Path) -> None:
    target = tmp_path / "reports"
    target.write_text("not a directory")
    ran = _run(target)
    ran.assert_refused(EXIT_BAD_INPUT, f"error: --report-dir {target}: is a file, not a directory")
    _no_progress(ran.err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]


@needs_file_modes
def test_a_read_only_report_directory_is_refused_before_any_scenario(tmp_path: Path) -> None:
    target = tmp_path / "reports"
    target.mkdir()
    (target / "verdict.json").write_text("{}")
    target.chmod(0o555)
    try:
        ran = _run(target, unprivileged=True)
    finally:
        target.chmod(0o755)
    ran.assert_refused(EXIT_BAD_INPUT, f"--report-dir {target}: is a directory the harness cannot write (read-only)")
    _no_progress(ran.err)


@needs_file_modes
def test_a_report_directory_in_a_read_only_parent_is_refused_before_any_scenario(tmp_path: Path) -> None:
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        ran = _run(parent / "reports", unprivileged=True)
    finally:
        parent.chmod(0o755)
    ran.assert_refused(EXIT_BAD_INPUT, f"--report-dir {parent / 'reports'}: cannot write in {parent}")
    _no_progress(ran.err)
    assert list(parent.iterdir()) == []


def test_a_directory_holding_other_files_is_not_taken_over(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    ran = _run(tmp_path)
    ran.assert_refused(EXIT_BAD_INPUT, "holds files the harness did not write (notes.txt)")
    _no_progress(ran.err)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_report_set_is_replaced_by_one_link_swap_and_an_old_directory_is_migrated(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "verdict.json").write_text('{"verdict": "from an older harness"}')
    assert _run(reports).code == EXIT_OK
    first = os.readlink(reports)
    assert reports.is_symlink() and first.startswith(".reports.versions/")
    assert sorted(p.name for p in reports.iterdir()) == [
        "junit.xml",
        "report.html",
        "report.md",
        "summary.md",
        "verdict.json",
    ]
    migrated = {p.name for p in (tmp_path / ".reports.versions").iterdir()} - {Path(first).name}
    assert [name[:9] for name in migrated] == ["previous-"]  # the old directory, kept until the next run
    assert _run(reports).code == EXIT_OK
    second = os.readlink(reports)
    assert second != first
    assert {p.name for p in (tmp_path / ".reports.versions").iterdir()} == {Path(first).name, Path(second).name}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".reports.lock", ".reports.versions", "reports"]


def _wait_for_candidates(pid_dir: Path, count: int, process: object) -> list[int]:
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while time.monotonic() < deadline and len(list(pid_dir.iterdir())) < count and process.poll() is None:
        time.sleep(0.1)
    pids = [int(p.name) for p in pid_dir.iterdir()]
    assert len(pids) == count, "the candidates never started"
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_the_workers_removes_temporaries_and_prints_one_line(
    tmp_path: Path, signum: int, code: int
) -> None:
    pid_dir, reports = tmp_path / "pids", tmp_path / "reports"
    pid_dir.mkdir()
    assert _run(reports).code == EXIT_OK
    before = (reports / "verdict.json").read_text()
    environment = harness_environment({"HOSTILE_PID_DIR": str(pid_dir)})
    arguments = ["run", *SCENARIOS, *SLOW, "--jobs", "2", "--report-dir", str(reports)]
    process = start_harness(arguments, environment=environment, new_session=True)
    workers = _wait_for_candidates(pid_dir, 2, process)
    if signum == signal.SIGINT:
        os.killpg(process.pid, signum)  # as a terminal's Ctrl-C: the whole foreground group
    else:
        os.kill(process.pid, signum)  # as CI's timeout: the harness alone
    exit_code, timed_out, _ = wait_for(process, RUN_TIMEOUT_SECONDS)
    err = process.stderr.read().decode()
    assert not timed_out and exit_code == code, err
    assert err.splitlines()[-1] == (
        f"interrupted by {signal.Signals(signum).name}: workers ended, temporary files removed"
    )
    assert "Traceback" not in err
    assert [pid for pid in workers if _alive(pid)] == []
    assert [p.name for p in (tmp_path / ".reports.versions").iterdir() if p.name.startswith(".partial")] == []
    assert (reports / "verdict.json").read_text() == before


def _start_slow_run(tmp_path: Path) -> tuple[Path, object]:
    """A run holding ``tmp_path/reports``, started and waiting in its candidate."""
    pid_dir, reports = tmp_path / "pids", tmp_path / "reports"
    pid_dir.mkdir()
    environment = harness_environment({"HOSTILE_PID_DIR": str(pid_dir)})
    process = start_harness(
        ["run", SCENARIOS[0], *SLOW, "--jobs", "1", "--report-dir", str(reports)], environment=environment
    )
    _wait_for_candidates(pid_dir, 1, process)
    return reports, process


def test_a_second_run_on_a_report_directory_in_use_is_refused_naming_the_first(tmp_path: Path) -> None:
    reports, first = _start_slow_run(tmp_path)
    try:
        second = _run(reports)
        second.assert_refused(
            EXIT_BAD_INPUT,
            f"--report-dir {reports}: another run (pid {first.pid}) is using this report directory; wait for it to "
            "finish or choose another --report-dir",
        )
        _no_progress(second.err)
    finally:
        first.send_signal(signal.SIGTERM)
        wait_for(first, RUN_TIMEOUT_SECONDS)


def test_what_a_killed_run_left_behind_is_removed_by_the_next_run(tmp_path: Path) -> None:
    reports, killed = _start_slow_run(tmp_path)
    killed.kill()  # SIGKILL: no cleanup at all
    wait_for(killed)
    assert [p.name[:9] for p in (tmp_path / ".reports.versions").iterdir()] == [".partial-"]
    assert _run(reports).code == EXIT_OK
    assert [p.name.startswith(".partial") for p in (tmp_path / ".reports.versions").iterdir()] == [False]
