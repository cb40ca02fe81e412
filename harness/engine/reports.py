"""Writing a run's results to a report directory, all or nothing, and the hook report writers plug into.

``verdict.json`` is always written. Other writers (HTML, Markdown, JUnit) plug in either by registering with
:func:`register_report_writer` or by providing a module ``harness.report`` with a function
``write_reports(result: RunResult, directory: Path) -> None``, which :func:`report_writers` discovers. Every writer
writes into a fresh temporary directory; only when all of them succeeded are the files moved into the report
directory, so a failed or interrupted run never leaves a half-written report behind.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from harness.engine.model import RunResult
from harness.engine.provenance import build_provenance

VERDICT_FILE = "verdict.json"
#: Module that, when present, provides ``write_reports(result, directory)`` (the report writer of issue 7).
PLUGIN_MODULE = "harness.report"
PLUGIN_FUNCTION = "write_reports"

ReportWriter = Callable[[RunResult, Path], None]
_REGISTERED: list[ReportWriter] = []


def register_report_writer(writer: ReportWriter) -> ReportWriter:
    """Add a writer called with ``(result, directory)`` for every report directory (usable as a decorator)."""
    if writer not in _REGISTERED:
        _REGISTERED.append(writer)
    return writer


def write_verdict(result: RunResult, directory: Path) -> None:
    """Write ``verdict.json``: the verdict, the reasons, every scenario with its differences, and the provenance."""
    if result.provenance is None:
        result.provenance = build_provenance(result.baseline, result.candidate, [s.source for s in result.scenarios])
    text = json.dumps(result.to_dict(), indent=2, sort_keys=False, default=str)
    (directory / VERDICT_FILE).write_text(text + "\n", encoding="utf-8")


def report_writers() -> list[ReportWriter]:
    """``verdict.json`` first, then the ``harness.report`` plug-in if it exists, then registered writers."""
    writers: list[ReportWriter] = [write_verdict]
    if importlib.util.find_spec(PLUGIN_MODULE) is not None:
        plugin = getattr(importlib.import_module(PLUGIN_MODULE), PLUGIN_FUNCTION, None)
        if plugin is not None:
            writers.append(plugin)
    return writers + [writer for writer in _REGISTERED if writer not in writers]


def write_report_dir(result: RunResult, directory: Path | str, writers: list[ReportWriter] | None = None) -> list[Path]:
    """Write every report of ``result`` into ``directory`` (created if needed), all or nothing.

    Args:
        result: The run's result.
        directory: Where the reports go; files of the same names are replaced, other files are left alone.
        writers: The writers to use (default: :func:`report_writers`).

    Returns:
        The paths written, in the report directory.
    """
    directory = Path(directory).resolve()
    directory.parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(dir=directory.parent, prefix=f".{directory.name}.partial-") as scratch:
        staging = Path(scratch)
        for writer in writers if writers is not None else report_writers():
            writer(result, staging)
        directory.mkdir(exist_ok=True)
        for entry in sorted(staging.iterdir()):
            target = directory / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(entry, target)
            written.append(target)
    return written
