"""Inline SVG charts for report.html: the scenarios' outcomes and each scenario's duration.

Plain SVG elements inside the page (no script, no external asset, so the page's Content-Security-Policy stays as
strict as it is), scaled by ``viewBox`` to the width available: readable at 800 px and at 1400 px. Each chart has a
``<title>`` and an ``aria-label`` saying what it shows, and the numbers are printed beside the bars, so the chart
never carries information that only colour conveys.
"""

from __future__ import annotations

import html
from typing import Any

from harness.report.content import STATUS_LABELS, duration

#: Fill colours per outcome (the badges' colours).
COLOURS = {"equivalent": "#1a7f37", "approved-divergence": "#0969da", "divergent": "#cf222e", "error": "#9a6700"}
_WIDTH = 1000
_ROW = 18
_LABEL = 330


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def outcomes_chart(run: dict[str, Any]) -> str:
    """One stacked bar: how many scenarios ended in each outcome, with a legend that carries the counts."""
    total = max(1, len(run["scenarios"]))
    parts, x = [], 0.0
    for status, count in run["counts"].items():
        if not count:
            continue
        width = _WIDTH * count / total
        label = f"{STATUS_LABELS.get(status, status)}: {count}"
        parts.append(
            f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="28" fill="{COLOURS.get(status, "#8c959f")}">'
            f"<title>{_esc(label)}</title></rect>"
        )
        x += width
    legend, lx = [], 0
    for status, count in run["counts"].items():
        if count:
            text = f"{STATUS_LABELS.get(status, status)}: {count}"
            legend.append(
                f'<rect x="{lx}" y="40" width="14" height="14" fill="{COLOURS.get(status, "#8c959f")}"/>'
                f'<text x="{lx + 20}" y="52" font-size="15">{_esc(text)}</text>'
            )
            lx += 30 + 9 * len(text)
    summary = ", ".join(f"{n} {STATUS_LABELS.get(s, s)}" for s, n in run["counts"].items() if n) or "no scenario"
    return (
        f'<svg class="chart" role="img" aria-label="Outcomes: {_esc(summary)}" viewBox="0 0 {_WIDTH} 62" '
        f'xmlns="http://www.w3.org/2000/svg"><title>Outcomes: {_esc(summary)}</title>{"".join(parts)}'
        f"{''.join(legend)}</svg>"
    )


def durations_chart(run: dict[str, Any]) -> str:
    """One bar per scenario, longest first, coloured by outcome, its duration printed at the end of the bar."""
    scenarios = sorted(run["scenarios"], key=lambda s: -float(s["durationS"]))
    longest = max([float(s["durationS"]) for s in scenarios] + [0.001])
    span = _WIDTH - _LABEL - 90
    rows = []
    for index, s in enumerate(scenarios):
        y = index * _ROW
        width = max(1.0, span * float(s["durationS"]) / longest)
        name = s["name"] if len(s["name"]) <= 44 else s["name"][:43] + "…"
        rows.append(
            f'<text x="{_LABEL - 6}" y="{y + 13}" font-size="12" text-anchor="end">{_esc(name)}</text>'
            f'<rect x="{_LABEL}" y="{y + 2}" width="{width:.1f}" height="{_ROW - 4}" '
            f'fill="{COLOURS.get(s["status"], "#8c959f")}"><title>{_esc(s["name"])}: '
            f"{_esc(duration(s['durationS']))}, {_esc(STATUS_LABELS.get(s['status'], s['status']))}</title></rect>"
            f'<text x="{_LABEL + width + 6:.1f}" y="{y + 13}" font-size="12">{_esc(duration(s["durationS"]))}</text>'
        )
    height = max(_ROW, _ROW * len(scenarios))
    return (
        f'<svg class="chart" role="img" aria-label="Duration of each scenario, longest first" '
        f'viewBox="0 0 {_WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>Duration of each scenario (all three runs and the comparison), longest first</title>"
        f"{''.join(rows)}</svg>"
    )
