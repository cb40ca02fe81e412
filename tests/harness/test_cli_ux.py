"""The CLI as people meet it: --version, -v after the command and what it shows, --jobs checked, where the gate's
reports are, and elapsed time with an ETA in progress lines."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.cli import build_parser, configure_logging, main, version
from harness.commandline import Eta
from harness.engine.commands import DEFAULT_REPORT_DIR

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "zero-target-accounts.yaml"


@pytest.fixture(autouse=True)
def _restore_logging() -> None:
    levels = {name: logging.getLogger(name).level for name in ("harness", "botocore")}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_version_names_the_installed_distribution(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"python -m harness {version()}"
    assert version() != "unknown"  # ./run install installs the project


@pytest.mark.parametrize(
    ("argv", "count"),
    [(["validate", "x"], 0), (["-v", "validate", "x"], 1), (["validate", "x", "-v"], 1), (["validate", "-vv", "x"], 2)],
)
def test_verbosity_is_accepted_before_and_after_the_command(argv: list[str], count: int) -> None:
    assert build_parser().parse_args(argv).verbose == count


def test_v_shows_the_harness_s_own_logging_and_vv_adds_botocore() -> None:
    configure_logging(0)
    assert not logging.getLogger("harness.engine").isEnabledFor(logging.DEBUG)
    configure_logging(1)
    assert logging.getLogger("harness.engine.runner").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("botocore.endpoint").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("moto").isEnabledFor(logging.DEBUG)
    configure_logging(2)
    assert logging.getLogger("botocore.endpoint").isEnabledFor(logging.DEBUG)


def test_validate_v_prints_the_harness_debug_lines(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="harness"):
        assert main(["validate", str(SCENARIO), "-v"]) == 0
    assert any(r.name.startswith("harness.") and r.levelno == logging.DEBUG for r in caplog.records)


@pytest.mark.parametrize("jobs", ["0", "-2", "many"])
def test_jobs_must_be_a_whole_number_of_at_least_one(jobs: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["gate", "--jobs", jobs])
    assert stopped.value.code == 2
    assert "--jobs" in capsys.readouterr().err


def test_gate_writes_to_reports_by_default_and_run_only_when_asked() -> None:
    assert build_parser().parse_args(["gate"]).report_dir == DEFAULT_REPORT_DIR == Path("reports")
    assert build_parser().parse_args(["run"]).report_dir is None


def test_the_command_says_where_its_reports_are(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "out"
    assert main(["run", str(SCENARIO), "--report-dir", str(directory), "--jobs", "1"]) == 0
    out, err = capsys.readouterr()
    assert f"reports in {directory.resolve()}/: summary.md, report.html" in out
    assert "elapsed" in err
    assert (directory / "summary.md").is_file()


def test_eta_is_linear_and_says_only_the_elapsed_time_at_the_ends() -> None:
    now = [100.0]
    eta = Eta(4, clock=lambda: now[0])
    now[0] = 130.0
    assert eta(1) == "elapsed 30s, ETA 1m30s"
    assert eta(0) == "elapsed 30s"
    now[0] = 220.0
    assert eta(4) == "elapsed 2m00s"


def test_fuzz_progress_shows_elapsed_time_and_eta(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.fuzz.command import _progress

    now = [0.0]
    eta = Eta(10, clock=lambda: now[0])
    now[0] = 20.0
    record = SimpleNamespace(
        phase="generate", number=2, approvals=(), status="equivalent", duration_s=1.0, summary="1 account(s)",
        result=SimpleNamespace(unapproved=[]),
    )  # fmt: skip
    _progress(record, 10, 5, eta)
    assert "[2/10] equivalent (1.0s; elapsed 20s, ETA 1m20s): 1 account(s)" in capsys.readouterr().err
