"""A whole benchmark: every chosen world measured, then ``bench.json`` and ``bench.md`` written."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from harness.bench.measurement import SLOPE_SCALE, CaseResult, run_case
from harness.bench.table import markdown_table
from harness.bench.worlds import DEFAULT_LATENCY_MS, bench_cases
from harness.engine.implementations import resolve
from harness.redaction import redact_text

DEFAULT_PAIRS = 5


def run_bench(
    out_dir: Path,
    pairs: int = DEFAULT_PAIRS,
    cases: list[str] | None = None,
    latency: dict[str, float] | None = None,
    baseline: str = "legacy",
    candidate: str = "refactored",
) -> list[CaseResult]:
    """Run the benchmark and write ``bench.json`` and ``bench.md`` into ``out_dir``.

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
    results = [run_case(available[name], implementations, pairs, scaled[name]) for name in cases or list(available)]
    out_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "latency_ms": latency,
        "pairs": pairs,
        "implementations": list(labels),
        "worlds": [{**asdict(r), **r.summary()} for r in results],
    }
    (out_dir / "bench.json").write_text(redact_text(json.dumps(document, indent=2, default=str)) + "\n")
    (out_dir / "bench.md").write_text(redact_text(markdown_table(results, latency, pairs)))
    return results
