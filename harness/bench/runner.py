"""A whole benchmark: every chosen world measured, then ``bench.json`` and ``bench.md`` written."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from harness.bench.measurement import SLOPE_SCALE, CaseResult, run_case
from harness.bench.table import markdown_table
from harness.bench.worlds import DEFAULT_LATENCY_MS, bench_cases
from harness.engine.implementations import resolve
from harness.engine.provenance import build_provenance
from harness.redaction import redact_text

DEFAULT_PAIRS = 5


def run_bench(
    out_dir: Path,
    pairs: int = DEFAULT_PAIRS,
    cases: list[str] | None = None,
    latency: dict[str, float] | None = None,
    baseline: str = "legacy",
    candidate: str = "refactored",
    progress: Callable[[int, int, str], None] | None = None,
) -> list[CaseResult]:
    """Run the benchmark and write ``bench.json`` (with the provenance every verdict carries) and ``bench.md``.

    Args:
        progress: Called with (worlds done, worlds in all, the world's name) after each world.

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
    results = []
    for done, name in enumerate(names, start=1):
        results.append(run_case(available[name], implementations, pairs, scaled[name]))
        if progress is not None:
            progress(done, len(names), name)
    out_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "provenance": build_provenance(baseline, candidate, []),
        "latency_ms": latency,
        "pairs": pairs,
        "implementations": list(labels),
        "worlds": [{**asdict(r), **r.summary()} for r in results],
    }
    (out_dir / "bench.json").write_text(redact_text(json.dumps(document, indent=2, default=str)) + "\n")
    (out_dir / "bench.md").write_text(redact_text(markdown_table(results, latency, pairs)))
    return results
