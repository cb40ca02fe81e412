"""The report directory: checked and locked before a run, replaced as a whole by one atomic rename after it.

Layout, for ``--report-dir reports``::

    reports -> .reports.versions/20261201T101500123456Z-4242   a symbolic link to the current set (relative)
    .reports.versions/
        20261201T101500123456Z-4242/                          verdict.json, report.html, report.md, junit.xml
        .partial-<random>/                                    the set being written (only while a run writes)
    .reports.lock                                             held (flock) by the run using the directory; kept

``reports/verdict.json`` and the other paths read as before; the link is the only thing that changes, and it changes
with one ``rename(2)`` of a new link over the old one: whoever resolves ``reports`` gets the old set or the new set,
complete, never a mix. (A reader opening the files one by one through the link may straddle a swap; to read one set,
resolve the link once, e.g. ``realpath reports``.) The set a run replaces is kept until the next run, so a reader
that resolved the link just before a swap can finish reading.

- :meth:`ReportDirectory.open` runs **before** any scenario: it refuses (:class:`~harness.commandline.BadInputError`,
  exit 2) a path that is a file, a read-only directory or a directory holding files the harness did not write, and a
  parent it cannot write in; it takes the lock (a second run on the same directory is **refused** with the pid of the
  run holding it, never queued), removes what a killed run left behind, and creates the staging directory.
- :meth:`ReportDirectory.write` runs the writers into the staging directory; only when every one succeeded is the
  staging directory renamed to a new version and the link swapped; versions older than the one replaced are then
  deleted.
- Leaving the ``with`` block (normally, on an error, or on SIGINT/SIGTERM through
  :class:`~harness.interruption.Interrupted`) removes the staging directory and releases the lock; a failed or
  interrupted run never leaves a half-written or mixed report.
- A report directory of the old layout (a real directory holding only report files) is moved into the versions
  folder at the first write and replaced like any other version; only for that write is the path briefly absent
  between the two renames.

Writers: ``verdict.json`` always; others plug in by registering with :func:`register_report_writer` or by providing a
module ``harness.report`` with ``write_reports(result, directory)``, which :func:`report_writers` discovers.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import importlib.util
import json
import os
import secrets
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from harness.commandline import BadInputError
from harness.engine.model import RunResult
from harness.engine.provenance import build_provenance
from harness.redaction import redact_output

VERDICT_FILE = "verdict.json"
#: Files the harness writes into a report directory (a directory holding anything else is not replaced).
KNOWN_REPORT_FILES = frozenset({VERDICT_FILE, "summary.md", "report.html", "report.md", "junit.xml"})
#: Module that, when present, provides ``write_reports(result, directory)`` (the report writer of issue 7).
PLUGIN_MODULE = "harness.report"
PLUGIN_FUNCTION = "write_reports"
_PARTIAL_PREFIX = ".partial-"

ReportWriter = Callable[[RunResult, Path], None]
_REGISTERED: list[ReportWriter] = []


def register_report_writer(writer: ReportWriter) -> ReportWriter:
    """Add a writer called with ``(result, directory)`` for every report directory (usable as a decorator)."""
    if writer not in _REGISTERED:
        _REGISTERED.append(writer)
    return writer


def write_verdict(result: RunResult, directory: Path) -> None:
    """Write ``verdict.json`` (through the redactor): the verdict, the reasons, every scenario with its differences, and
    the provenance."""
    if result.provenance is None:
        result.provenance = build_provenance(result.baseline, result.candidate, [s.source for s in result.scenarios])
    text = json.dumps(redact_output(result.to_dict()), indent=2, sort_keys=False, default=str)
    (directory / VERDICT_FILE).write_text(text + "\n", encoding="utf-8")


def report_writers() -> list[ReportWriter]:
    """``verdict.json`` first, then the ``harness.report`` plug-in if it exists, then registered writers."""
    writers: list[ReportWriter] = [write_verdict]
    if importlib.util.find_spec(PLUGIN_MODULE) is not None:
        plugin = getattr(importlib.import_module(PLUGIN_MODULE), PLUGIN_FUNCTION, None)
        if plugin is not None:
            writers.append(plugin)
    return writers + [writer for writer in _REGISTERED if writer not in writers]


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


class ReportDirectory:
    """One run's report directory (see the module docstring); use as a context manager.

    Args:
        path: The report directory as the user named it (``--report-dir``).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(os.path.abspath(path))
        self._lock: IO[str] | None = None
        self.staging: Path | None = None

    @property
    def versions(self) -> Path:
        """The folder holding the versions of the report set."""
        return self.path.parent / f".{self.path.name}.versions"

    @property
    def lock_path(self) -> Path:
        """The lock file a run holds while it uses the directory."""
        return self.path.parent / f".{self.path.name}.lock"

    def _refuse(self, reason: str) -> BadInputError:
        return BadInputError(f"--report-dir {self.path}: {reason}")

    def __enter__(self) -> ReportDirectory:
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def open(self) -> None:
        """Check, lock and prepare the directory before the run (see the module docstring).

        Raises:
            BadInputError: The directory cannot be used; the message says why.
        """
        self._follow_foreign_link()
        self._check_parent()
        self._check_target()
        self._take_lock()
        self._check_target()  # again: it may have changed while another run held the lock
        self._remove_leftovers()
        try:
            self.versions.mkdir(exist_ok=True)
            self.staging = self.versions / f"{_PARTIAL_PREFIX}{secrets.token_hex(6)}"
            self.staging.mkdir()
        except OSError as error:
            raise self._refuse(f"cannot create {self.versions}: {_reason(error)}") from None

    def _follow_foreign_link(self) -> None:
        """A symbolic link the harness did not make stands for the directory it points at."""
        if self.path.is_symlink() and not self._is_ours():
            self.path = Path(os.path.realpath(self.path))

    def _is_ours(self) -> bool:
        target = Path(os.readlink(self.path))
        return not target.is_absolute() and target.parent == Path(self.versions.name)

    def _check_parent(self) -> None:
        parent = self.path.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise self._refuse(f"cannot create {parent}: {_reason(error)}") from None
        if not parent.is_dir():
            raise self._refuse(f"{parent} is not a directory")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise self._refuse(f"cannot write in {parent}, where the report set and its versions are kept")

    def _take_lock(self) -> None:
        try:
            lock = open(self.lock_path, "a+", encoding="utf-8")  # noqa: SIM115 - held until close()
        except OSError as error:
            raise self._refuse(f"cannot create the lock file {self.lock_path}: {_reason(error)}") from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            lock.close()
            raise self._refuse(
                f"another run ({holder}) is using this report directory; wait for it to finish or choose another "
                "--report-dir"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}\n")
        lock.flush()
        self._lock = lock

    def _check_target(self) -> None:
        if self.path.is_symlink() or not self.path.exists():
            return
        if not self.path.is_dir():
            raise self._refuse("is a file, not a directory")
        if not os.access(self.path, os.W_OK | os.X_OK):
            raise self._refuse("is a directory the harness cannot write (read-only)")
        try:
            foreign = sorted(entry.name for entry in self.path.iterdir() if entry.name not in KNOWN_REPORT_FILES)
        except OSError as error:
            raise self._refuse(f"cannot list it: {_reason(error)}") from None
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise self._refuse(
                f"holds files the harness did not write ({shown}); the harness replaces the whole report set, so "
                "give it a directory of its own"
            )

    def _remove_leftovers(self) -> None:
        """Staging directories and link files of a run that was killed (this run holds the lock: nobody else's)."""
        for link in self.path.parent.glob(f".{self.path.name}.link-*"):
            link.unlink(missing_ok=True)
        if self.versions.is_dir():
            for partial in self.versions.glob(f"{_PARTIAL_PREFIX}*"):
                shutil.rmtree(partial, ignore_errors=True)

    def write(self, result: RunResult, writers: list[ReportWriter] | None = None) -> list[Path]:
        """Write every report of ``result`` and make it the current set, all or nothing.

        Returns:
            The paths written, under the report directory.
        """
        if self.staging is None:
            raise RuntimeError("the report directory is not open")
        for writer in writers if writers is not None else report_writers():
            writer(result, self.staging)
        names = sorted(entry.name for entry in self.staging.iterdir())
        version = self.versions / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}-{os.getpid()}"
        self.staging.rename(version)
        self.staging = None
        replaced = self._current_version()
        link = self.path.parent / f".{self.path.name}.link-{secrets.token_hex(6)}"
        os.symlink(Path(self.versions.name) / version.name, link)
        os.replace(link, self.path)
        for old in self.versions.iterdir():
            if old.name not in (version.name, replaced):
                shutil.rmtree(old, ignore_errors=True)
        return [self.path / name for name in names]

    def _current_version(self) -> str | None:
        """The version the link points at; a directory of the old layout is first moved in as a version."""
        if self.path.is_symlink():
            return Path(os.readlink(self.path)).name
        if self.path.is_dir():
            migrated = f"previous-{secrets.token_hex(4)}"
            self.path.rename(self.versions / migrated)
            return migrated
        return None

    def close(self) -> None:
        """Remove the staging directory (if the set was not written) and release the lock."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
            with contextlib.suppress(OSError):
                self.versions.rmdir()  # only when empty: nothing was ever written here
        if self._lock is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None


def write_report_dir(result: RunResult, directory: Path | str, writers: list[ReportWriter] | None = None) -> list[Path]:
    """Open ``directory``, write every report of ``result`` into it and close it (see :class:`ReportDirectory`).

    Raises:
        BadInputError: The directory cannot be used.
    """
    with ReportDirectory(directory) as reports:
        return reports.write(result, writers)
