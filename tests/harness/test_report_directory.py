"""The report directory (harness.engine.reports), in-process: refusals, the lock, the link swap, leftovers."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from harness.commandline import BadInputError
from harness.engine.model import RunResult
from harness.engine.reports import KNOWN_REPORT_FILES, ReportDirectory, write_report_dir
from harness.report import REPORT_FILES

RESULT = RunResult(command="run", baseline="a:b", candidate="c:d")
NAMES = ("verdict.json", "report.html", "report.md", "junit.xml")


def _numbered(number: int):  # noqa: ANN202 - a writer factory
    def write(_result: RunResult, directory: Path) -> None:
        for name in NAMES:
            (directory / name).write_text(str(number))

    return write


def test_the_harness_knows_every_file_its_writers_write() -> None:
    assert {"verdict.json", *REPORT_FILES} == KNOWN_REPORT_FILES


def test_a_reader_never_sees_a_mix_of_two_report_sets(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    write_report_dir(RESULT, reports, writers=[_numbered(0)])
    seen: list[set[str]] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            current = Path(os.path.realpath(reports))  # resolve once, then read the set
            try:
                seen.append({(current / name).read_text() for name in NAMES})
            except FileNotFoundError:
                continue  # a set two swaps old was deleted while being read: gone, never mixed

    reader = threading.Thread(target=read)
    reader.start()
    for number in range(1, 30):
        write_report_dir(RESULT, reports, writers=[_numbered(number)])
    done.set()
    reader.join()
    assert seen and all(len(versions) == 1 for versions in seen)
    versions = sorted(p.name for p in (tmp_path / ".reports.versions").iterdir())
    assert len(versions) == 2 and Path(os.readlink(reports)).name == versions[-1]  # the current and the replaced one


@pytest.mark.parametrize(
    ("prepare", "reason"),
    [
        (lambda d: d.write_text("x"), "is a file, not a directory"),
        (
            lambda d: (d.mkdir(), (d / "keep.txt").write_text("x")),
            r"holds files the harness did not write \(keep.txt\)",
        ),
        (lambda d: (d.parent / "file").write_text("x"), None),
    ],
    ids=["file", "foreign-files", "parent-ok"],
)
def test_unusable_directories_are_refused_before_anything_is_written(tmp_path: Path, prepare, reason) -> None:  # noqa: ANN001
    target = tmp_path / "reports"
    prepare(target)
    if reason is None:
        with ReportDirectory(target) as opened:
            assert opened.staging is not None and opened.staging.is_dir()
        return
    with pytest.raises(BadInputError, match=reason):
        ReportDirectory(target).open()
    assert not (tmp_path / ".reports.versions").exists() and not (tmp_path / ".reports.lock").exists()


def test_a_parent_that_is_a_file_or_cannot_be_created_is_refused(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    with pytest.raises(BadInputError, match="cannot create"):
        ReportDirectory(tmp_path / "plain" / "sub" / "reports").open()


def test_one_run_at_a_time_holds_a_report_directory(tmp_path: Path) -> None:
    with ReportDirectory(tmp_path / "reports"):
        with pytest.raises(BadInputError, match=rf"another run \(pid {os.getpid()}\) is using this report directory"):
            ReportDirectory(tmp_path / "reports").open()
    with ReportDirectory(tmp_path / "reports") as again:
        again.write(RESULT, [_numbered(1)])


def test_a_link_the_harness_did_not_make_stands_for_its_target(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere" / "reports"
    real.parent.mkdir()
    (tmp_path / "reports").symlink_to(real)
    written = write_report_dir(RESULT, tmp_path / "reports", writers=[_numbered(3)])
    assert written[0].parent == real and (real / "verdict.json").read_text() == "3"
    assert (tmp_path / "reports").resolve() == (real.parent / os.readlink(real)).resolve()


def test_leftovers_of_a_killed_run_are_removed_and_writing_needs_an_open_directory(tmp_path: Path) -> None:
    versions = tmp_path / ".reports.versions"
    (versions / ".partial-dead").mkdir(parents=True)
    (tmp_path / ".reports.link-dead").symlink_to("nowhere")
    directory = ReportDirectory(tmp_path / "reports")
    with pytest.raises(RuntimeError, match="not open"):
        directory.write(RESULT)
    with directory:
        assert not (versions / ".partial-dead").exists() and not (tmp_path / ".reports.link-dead").exists()
    assert not versions.exists()  # nothing was written: the empty versions folder goes too


def test_every_file_the_report_writers_make_is_known_to_the_report_directory() -> None:
    """Otherwise a second run would take the first run's reports for foreign files and refuse the directory."""
    from harness.report import REPORT_FILES

    assert set(REPORT_FILES) <= KNOWN_REPORT_FILES
