"""The sign-off reports written beside ``verdict.json``: ``report.html``, ``report.md``, ``junit.xml`` and
``summary.md`` (the first screen of ``report.md``, small enough for a pull-request comment).

The engine's report hook (:mod:`harness.engine.reports`) discovers :func:`write_reports` and calls it with a fresh
staging directory; the files are moved into the report directory only when every writer succeeded, so a failed run
never leaves half a report behind. Every report is rendered from one sanitised view
(:func:`harness.report.content.build_view`), so they cannot disagree.

Beside them, :mod:`~harness.report.coverage_doc` renders ``docs/scenarios.md``, the scenario library's coverage page,
from the scenario files and the gate's own error-type derivation (:mod:`harness.engine.coverage`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from harness.engine.model import RunResult
from harness.report.content import build_view
from harness.report.html import render_html
from harness.report.junit import render_junit
from harness.report.markdown import render_markdown
from harness.report.summary import render_summary

logger = logging.getLogger(__name__)

HTML_FILE = "report.html"
MARKDOWN_FILE = "report.md"
JUNIT_FILE = "junit.xml"
SUMMARY_FILE = "summary.md"
#: Every file :func:`write_reports` writes.
REPORT_FILES = (HTML_FILE, MARKDOWN_FILE, JUNIT_FILE, SUMMARY_FILE)

__all__ = [
    "REPORT_FILES",
    "build_view",
    "render_html",
    "render_junit",
    "render_markdown",
    "render_summary",
    "write_reports",
]


def write_reports(result: RunResult | dict[str, Any], directory: Path) -> None:
    """Write ``report.html``, ``report.md``, ``junit.xml`` and ``summary.md`` for one run into ``directory``.

    Args:
        result: The run's result, or its ``to_dict()`` (a ``verdict.json`` document).
        directory: An existing directory (the engine passes its staging directory).
    """
    view = build_view(result)
    directory = Path(directory)
    renderers = {
        HTML_FILE: render_html,
        MARKDOWN_FILE: render_markdown,
        JUNIT_FILE: render_junit,
        SUMMARY_FILE: render_summary,
    }
    for name, render in renderers.items():
        (directory / name).write_text(render(view), encoding="utf-8")
    logger.debug("wrote %s into %s", ", ".join(REPORT_FILES), directory)
