"""``bench.svg``: per world, the two implementations' median wall times as bars on a log scale.

Hand-built SVG text (the project has no plotting library and needs none). A log scale keeps a 3-second world and a
70-second one readable in one chart; the critical-path bound is a dashed marker across each world's bars and the
speed-up is written beside the second bar. Every number is printed as text, so nothing is told by colour alone.
Every text is redacted before it is escaped (redacting the finished document would break its XML).
"""

from __future__ import annotations

import html
import math
from typing import Any

from harness.redaction import redact_text

#: Fill colours of the baseline's and the candidate's bars.
COLOURS = ("#8c959f", "#0969da")
#: Shortest time the log scale shows; shorter times (a zero-latency test world) are drawn at this length.
FLOOR_S = 0.01
_WIDTH = 860
_PLOT_X = 150
_PLOT_WIDTH = 520
_TOP = 44
_BAR = 16
_GROUP = 24 + 2 * (_BAR + 4) + 10


#: Longest implementation name drawn beside a bar (an artifact's path is longer; the bar's tooltip has it whole).
LABEL_CHARS = 18


def _esc(value: Any) -> str:
    """Text for the SVG: redacted first (a fingerprint has angle brackets), then escaped."""
    return html.escape(redact_text(str(value)), quote=True)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else f"{label[: LABEL_CHARS - 1]}\u2026"


def _scale(worlds: list[dict[str, Any]]) -> tuple[int, int]:
    """Powers of ten (low, high) spanning every time and bound in ``worlds``."""
    values = [
        max(float(w.get(key) or 0.0), FLOOR_S)
        for w in worlds
        for key in ("legacy_median_s", "refactored_median_s", "bound_s")
    ] or [FLOOR_S]
    low, high = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    return low, max(high, low + 1)


def _x(seconds: float, scale: tuple[int, int]) -> float:
    low, high = scale
    position = (math.log10(max(seconds, FLOOR_S)) - low) / (high - low)
    return _PLOT_X + _PLOT_WIDTH * min(max(position, 0.0), 1.0)


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"  # noqa: PLR2004 - fewer digits from 100 s on


def _group(world: dict[str, Any], labels: list[str], top: float, scale: tuple[int, int]) -> str:
    """One world's bar group: its name, a bar per implementation, the bound marker and the speed-up."""
    name = str(world.get("name", "?"))
    parts = [
        f'<g class="world" data-world="{_esc(name)}">',
        f'<text x="10" y="{top + 14}" font-weight="bold">{_esc(name)}</text>',
    ]
    times = (float(world.get("legacy_median_s") or 0.0), float(world.get("refactored_median_s") or 0.0))
    speedup = world.get("speedup_median")
    for index, (label, seconds) in enumerate(zip(labels, times, strict=True)):
        y = top + 24 + index * (_BAR + 4)
        end = _x(seconds, scale)
        text = _seconds(seconds)
        if index == 1 and speedup is not None:
            text += f", {float(speedup):.2f}x faster" if float(speedup) >= 1 else f", {float(speedup):.2f}x (slower)"
        parts += [
            f'<text x="{_PLOT_X - 8}" y="{y + 12}" text-anchor="end">{_esc(_short(label))}</text>',
            f'<rect class="bar" x="{_PLOT_X}" y="{y}" width="{end - _PLOT_X:.1f}" height="{_BAR}" '
            f'fill="{COLOURS[index]}"><title>{_esc(f"{name}: {label} {_seconds(seconds)}")}</title></rect>',
            f'<text x="{end + 6:.1f}" y="{y + 12}">{_esc(text)}</text>',
        ]
    bound = float(world.get("bound_s") or 0.0)
    if bound > 0:
        x, tip = _x(bound, scale), f"{name}: critical path bound {_seconds(bound)}"
        parts.append(
            f'<line class="bound" x1="{x:.1f}" y1="{top + 20}" x2="{x:.1f}" y2="{top + 24 + 2 * (_BAR + 4)}" '
            f'stroke="#cf222e" stroke-width="2" stroke-dasharray="4 2"><title>{_esc(tip)}</title></line>'
        )
    parts.append("</g>")
    return "".join(parts)


def _axis(scale: tuple[int, int], top: float, bottom: float) -> str:
    """Grid lines and labels at each power of ten."""
    parts = []
    for power in range(scale[0], scale[1] + 1):
        seconds = 10.0**power
        x = _x(seconds, scale)
        label = f"{seconds:g} s"
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#d0d7de"/>'
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" fill="#57606a">{_esc(label)}</text>'
        )
    return "".join(parts)


def bench_svg(worlds: list[dict[str, Any]], labels: list[str]) -> str:
    """The chart of a benchmark.

    Args:
        worlds: ``bench.json``'s world entries (each with ``name``, ``legacy_median_s``, ``refactored_median_s``,
            ``speedup_median`` and ``bound_s``).
        labels: The baseline's and the candidate's names, in that order.

    Returns:
        A standalone SVG document.
    """
    scale = _scale(worlds)
    bottom = _TOP + _GROUP * len(worlds)
    height = bottom + 30
    title = "Median wall time per world (log scale); dashed: critical-path bound"
    legend = "".join(
        f'<rect x="{_PLOT_X + 160 * i}" y="22" width="12" height="12" fill="{COLOURS[i]}"/>'
        f'<text x="{_PLOT_X + 160 * i + 18}" y="33">{_esc(_short(label))}</text>'
        for i, label in enumerate(labels)
    ) + (
        f'<line x1="{_PLOT_X + 320}" y1="28" x2="{_PLOT_X + 334}" y2="28" stroke="#cf222e" stroke-width="2" '
        f'stroke-dasharray="4 2"/><text x="{_PLOT_X + 338}" y="33">critical-path bound</text>'
    )
    groups = "".join(_group(world, labels, _TOP + _GROUP * i, scale) for i, world in enumerate(worlds))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}" '
        f'role="img" aria-label="{_esc(title)}" font-family="sans-serif" font-size="13">'
        f"<title>{_esc(title)}</title>"
        f'<rect width="100%" height="100%" fill="#ffffff"/>'
        f'<text x="10" y="16" font-weight="bold">{_esc(title)}</text>{legend}'
        f"{_axis(scale, _TOP, bottom)}{groups}</svg>\n"
    )
