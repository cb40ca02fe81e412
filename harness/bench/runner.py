"""A whole benchmark: every chosen world measured, then ``bench.json``, ``bench.md`` and ``bench.svg`` written."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.bench.chart import bench_svg
from harness.bench.machine import finish, machine_info, now
from harness.bench.measurement import SLOPE_SCALE, CaseResult, run_case
from harness.bench.table import markdown_table
from harness.bench.worlds import DEFAULT_LATENCY_MS, bench_cases
from harness.engine.implementations import resolve
from harness.engine.provenance import build_provenance
from harness.redaction import redact_text

DEFAULT_PAIRS = 5
#: The chart's file, next to ``bench.md``, which shows it.
CHART_FILE = "bench.svg"
#: Measured run units per world besides the pairs: the scaled runs and the memory runs.
EXTRA_UNITS = 2

#: Progress: (run units done, run units in all, world, its position "1/4", the step just measured).
Progress = Callable[[int, int, str, str, str], None]


def run_bench(
    out_dir: Path,
    pairs: int = DEFAULT_PAIRS,
    cases: list[str] | None = None,
    latency: dict[str, float] | None = None,
    baseline: str = "legacy",
    candidate: str = "refactored",
    progress: Progress | None = None,
) -> list[CaseResult]:
    """Run the benchmark and write ``bench.json`` (with the provenance every verdict carries, the machine and each
    world's start and end), ``bench.md`` and its chart ``bench.svg``.

    Args:
        progress: Called after each measured run unit (each pair, the scaled runs, the memory runs) with the units
            done, the units in all, the world, its position among the worlds (``2/4``) and the step (``pair 3/5``).

    Raises:
        ValueError: For an unknown case name.
    """
    latency = {**DEFAULT_LATENCY_MS, **(latency or {})}
    available = bench_cases(latency)
    unknown = sorted(set(cases or []) - set(available))
    if unknown:
        raise ValueError(f"unknown benchmark world(s) {unknown}; choose from {sorted(available)}")
    labels = (baseline, candidate) if baseline != candidate else (f"{baseline} (A)", f"{candidate} (B)")
    implementations = list(zip(labels, (resolve(baseline), resolve(candidate)), strict=True))
    scaled = bench_cases({service: ms * SLOPE_SCALE for service, ms in latency.items()})
    names = cases or list(available)
    machine = machine_info()
    units = _Units(len(names) * (pairs + EXTRA_UNITS), progress)
    results, worlds = [], []
    for position, name in enumerate(names, start=1):
        started = now()
        step = units.of_world(name, f"{position}/{len(names)}")
        result = run_case(available[name], implementations, pairs, scaled[name], step)
        results.append(result)
        worlds.append({**asdict(result), **result.summary(), "started": started, "finished": now()})
    document = {
        "provenance": build_provenance(baseline, candidate, []),
        "machine": finish(machine),
        "latency_ms": latency,
        "pairs": pairs,
        "implementations": list(labels),
        "worlds": worlds,
    }
    _write(out_dir, document, markdown_table(results, latency, pairs))
    return results


class _Units:
    """Counts the measured run units of the whole benchmark and reports each one to ``progress``."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress

    def of_world(self, name: str, position: str) -> Callable[[str], None]:
        """The ``step`` callback for one world's :func:`~harness.bench.measurement.run_case`."""

        def step(what: str) -> None:
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, self.total, name, position, what)

        return step


def _write(out_dir: Path, document: dict[str, Any], table: str) -> None:
    """``bench.json``, ``bench.md`` (the table and a link to the chart) and ``bench.svg``, all redacted."""
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = document["implementations"]
    chart = f"\n![Median wall time per world, {labels[0]} vs {labels[1]}, log scale]({CHART_FILE})\n"
    (out_dir / "bench.json").write_text(redact_text(json.dumps(document, indent=2, default=str)) + "\n")
    (out_dir / "bench.md").write_text(redact_text(table + chart))
    (out_dir / CHART_FILE).write_text(bench_svg(document["worlds"], labels))  # redacts each text itself
