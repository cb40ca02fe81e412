"""Timing legacy and refactored in alternating pairs of fresh worlds: wall and CPU time, the simulator's share, the
AWS calls, peak memory and each implementation's latency slope."""

from __future__ import annotations

import contextlib
import io
import logging
import statistics
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.bench.worlds import critical_path_seconds
from harness.engine.implementations import Handler
from harness.scenario.model import Scenario
from harness.world.world import World, wall_clock

logger = logging.getLogger(__name__)

#: Latency multiplier of the extra run that measures each implementation's latency slope.
SLOPE_SCALE = 5


@dataclass
class Sample:
    """One timed run."""

    implementation: str
    seconds: float
    status: Any
    calls: dict[str, int]
    build_seconds: float = 0.0
    cpu_seconds: float = 0.0
    simulator_seconds: float = 0.0
    client_seconds: float = 0.0


@dataclass
class CaseResult:
    """Everything measured for one benchmark world."""

    name: str
    description: str
    pairs: list[tuple[float, float]] = field(default_factory=list)
    bound_seconds: float = 0.0
    sequential_bound_seconds: float = 0.0
    calls: dict[str, dict[str, int]] = field(default_factory=dict)
    peak_mib: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, Any] = field(default_factory=dict)
    build_seconds: list[float] = field(default_factory=list)
    #: Per pair, (baseline, candidate) process CPU seconds and the fakes' share of them.
    cpu_pairs: list[tuple[float, float]] = field(default_factory=list)
    simulator_pairs: list[tuple[float, float]] = field(default_factory=list)
    #: Per pair, (baseline, candidate) CPU seconds the code spent building botocore clients (part of its own).
    client_pairs: list[tuple[float, float]] = field(default_factory=list)
    #: (baseline, candidate) wall seconds of the run with every latency times :data:`SLOPE_SCALE`.
    scaled_seconds: tuple[float, float] | None = None

    def add_pair(self, first: Sample, second: Sample) -> None:
        """Record one alternating pair."""
        self.pairs.append((first.seconds, second.seconds))
        self.cpu_pairs.append((first.cpu_seconds, second.cpu_seconds))
        self.simulator_pairs.append((first.simulator_seconds, second.simulator_seconds))
        self.client_pairs.append((first.client_seconds, second.client_seconds))
        self.build_seconds.extend((first.build_seconds, second.build_seconds))
        self.calls = {first.implementation: first.calls, second.implementation: second.calls}
        self.statuses = {first.implementation: first.status, second.implementation: second.status}

    def summary(self) -> dict[str, Any]:
        """Medians, ratios and multiples of the bound, ready for JSON and Markdown."""
        legacy, refactored = _medians(self.pairs)
        ratios = [p[0] / p[1] for p in self.pairs if p[1] > 0]
        slopes = self.latency_slopes()
        # The code's own CPU: process CPU minus what the simulator spent (a real service answers on its machines).
        own = _medians([(c[0] - m[0], c[1] - m[1]) for c, m in zip(self.cpu_pairs, self.simulator_pairs, strict=True)])
        sims = _medians(self.simulator_pairs)
        calls = [sum(counts.values()) for counts in self.calls.values()] or [0, 0]
        return {
            "legacy_median_s": round(legacy, 3),
            "refactored_median_s": round(refactored, 3),
            "speedup_per_pair": [round(r, 2) for r in ratios],
            "speedup_median": round(statistics.median(ratios), 2) if ratios else None,
            "bound_s": round(self.bound_seconds, 3),
            "legacy_x_bound": self._x_bound(legacy),
            "refactored_x_bound": self._x_bound(refactored),
            "world_build_median_s": round(statistics.median(self.build_seconds), 2) if self.build_seconds else None,
            "cpu_median_s": [round(v, 3) for v in _medians(self.cpu_pairs)],
            "simulator_median_s": [round(v, 3) for v in _medians(self.simulator_pairs)],
            "own_cpu_median_s": [round(v, 3) for v in own],
            "own_cpu_ratio": round(own[1] / own[0], 2) if own[0] > 0 else None,
            "client_creation_median_s": [round(v, 3) for v in _medians(self.client_pairs)],
            "simulator_ms_per_call": [
                round(1000 * sim / n, 2) if n else None for sim, n in zip(sims, calls, strict=True)
            ],
            "sequential_bound_s": round(self.sequential_bound_seconds, 3),
            "latency_slope_s": [round(v, 3) for v in slopes] if slopes else None,
            "slope_x_bound": [self._x_bound(v) for v in slopes] if slopes else None,
            "slope_x_sequential_bound": [self._x_bound(v, self.sequential_bound_seconds) for v in slopes]
            if slopes
            else None,
        }

    def latency_slopes(self) -> tuple[float, float] | None:
        """Wall seconds each unit of the latency model adds, per implementation (``None`` before the scaled run)."""
        if self.scaled_seconds is None or not self.pairs:
            return None
        (base, cand), (base_scaled, cand_scaled) = _medians(self.pairs), self.scaled_seconds
        return (base_scaled - base) / (SLOPE_SCALE - 1), (cand_scaled - cand) / (SLOPE_SCALE - 1)

    def _x_bound(self, seconds: float, bound: float | None = None) -> float | None:
        bound = self.bound_seconds if bound is None else bound
        return round(seconds / bound, 2) if bound else None


def _medians(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """The median of the baseline's and of the candidate's values (0 when nothing was measured)."""
    if not pairs:
        return 0.0, 0.0
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def _run(scenario: Scenario, name: str, handler: Handler, trace_memory: bool = False) -> tuple[Sample, float]:
    building = wall_clock()
    with World(scenario, real_client_costs=True) as world:
        built = wall_clock() - building
        if trace_memory:
            tracemalloc.start()
        start, cpu_start = wall_clock(), time.process_time()
        try:
            # The code under test prints (legacy's production output); keep it out of the benchmark's own output.
            with contextlib.redirect_stdout(io.StringIO()):
                result = handler()
            status = result.get("statusCode") if isinstance(result, dict) else repr(result)
        except Exception as error:  # noqa: BLE001 - a crash is a measured outcome here, reported as such
            status = f"raised {type(error).__name__}"
        seconds, cpu = wall_clock() - start, time.process_time() - cpu_start
        peak = 0.0
        if trace_memory:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        calls = Counter(f"{c.service}:{c.operation}" for c in world.calls)
        simulator, clients = world.simulator_seconds, world.client_seconds
    return Sample(name, seconds, status, dict(sorted(calls.items())), built, cpu, simulator, clients), peak


def run_case(
    scenario: Scenario,
    implementations: list[tuple[str, Handler]],
    pairs: int,
    scaled: Scenario | None = None,
    step: Callable[[str], None] | None = None,
) -> CaseResult:
    """Alternate the two implementations ``pairs`` times, run each once in ``scaled`` (the same world with every
    latency times :data:`SLOPE_SCALE`) for the latency slope, then measure each one's peak memory once.

    ``step`` (progress) is called with what was just measured: ``pair 1/5``..., the scaled runs, the memory runs.
    """
    (base_name, base), (cand_name, cand) = implementations
    step = step or (lambda _: None)
    result = CaseResult(
        scenario.name,
        scenario.description,
        bound_seconds=critical_path_seconds(scenario),
        sequential_bound_seconds=critical_path_seconds(scenario, parallel_accounts=False),
    )
    for index in range(pairs):
        first, _ = _run(scenario, base_name, base)
        second, _ = _run(scenario, cand_name, cand)
        result.add_pair(first, second)
        logger.info(
            "%s pair %d: %s %.3fs, %s %.3fs",
            scenario.name,
            index + 1,
            base_name,
            first.seconds,
            cand_name,
            second.seconds,
        )
        step(f"pair {index + 1}/{pairs}")
    if scaled is not None:
        result.scaled_seconds = (_run(scaled, base_name, base)[0].seconds, _run(scaled, cand_name, cand)[0].seconds)
        logger.info(
            "%s at %dx latency: %s %.3fs, %s %.3fs",
            scenario.name,
            SLOPE_SCALE,
            base_name,
            result.scaled_seconds[0],
            cand_name,
            result.scaled_seconds[1],
        )
        step(f"{SLOPE_SCALE}x latency runs")
    for name, handler in implementations:
        result.peak_mib[name] = round(_run(scenario, name, handler, trace_memory=True)[1], 1)
    step("peak memory runs")
    return result
