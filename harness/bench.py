"""The side-by-side benchmark: legacy and refactored, alternately, in identical worlds under a latency model.

Each pair runs legacy then refactored in fresh worlds (world building is timed apart), so both see the same machine
load at nearly the same moment; the speed-up is reported pair by pair. Alongside the wall times it reports the
critical-path lower bound under the latency model (what even a fully parallel sync that makes the same calls must
wait for), each implementation as a multiple of that bound, the AWS calls each makes and each one's peak memory.

The bound counts latency only, while every simulated run also spends CPU time (botocore building clients and
requests, moto answering them) that one interpreter lock serialises. So the benchmark also reports where the time
goes: the process CPU time of each run and the part of it the fakes spent answering (work a real service does on its
own machines); and it measures each implementation's **latency slope**: one more run of each in the same world with
every latency multiplied by :data:`SLOPE_SCALE`, and ``(wall at that scale - median wall) / (scale - 1)``, the
wall time each unit of the latency model adds. The bound is the slope of an ideal sync (its CPU time does not grow
with latency), so the slope is the number to hold against it. A second bound keeps accounts one after another, as
the design prescribes ("Account queries: Sequential") and legacy's raise points require.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import statistics
import time
import tracemalloc
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.engine.implementations import Handler, resolve
from harness.scenario.model import Scenario, scenario_from_dict
from harness.world.world import World, wall_clock
from lambda_shared.drs_regions import DRS_REGIONS

logger = logging.getLogger(__name__)

DEFAULT_LATENCY_MS: dict[str, float] = {"drs": 200.0, "ec2": 100.0, "sts": 50.0, "dynamodb": 10.0}
DEFAULT_PAIRS = 5
#: Latency multiplier of the extra run that measures each implementation's latency slope.
SLOPE_SCALE = 5


def _account(index: int) -> str:
    return f"{200000000000 + index * 111111111:012d}"


def _case(name: str, accounts: int, regions: int, per_region: int, latency: dict[str, float]) -> Scenario:
    account_ids = [_account(i + 1) for i in range(accounts)]
    return scenario_from_dict(
        {
            "name": name,
            "description": f"{accounts} account(s) x {regions} active region(s) x {per_region} servers per region",
            "accounts": [
                {
                    "accountId": a,
                    "roleArn": f"arn:aws:iam::{a}:role/DRSOrchestrationRole",
                    "externalId": "drs-orchestration",
                }
                for a in account_ids
            ],
            "tables": {"activeRegions": DRS_REGIONS[:regions]},
            "servers": [
                {"account": a, "region": r, "count": per_region} for a in account_ids for r in DRS_REGIONS[:regions]
            ],
            "latency": {"services": latency},
        },
        source="<bench>",
    )


def bench_cases(latency: dict[str, float]) -> dict[str, Scenario]:
    """The four benchmark worlds the design's performance claims are about."""
    return {
        "1-account-28-regions": _case("1-account-28-regions", 1, 28, 5, latency),
        "3-accounts-28-regions": _case("3-accounts-28-regions", 3, 28, 5, latency),
        "1000-servers": _case("1000-servers", 2, 10, 50, latency),
        "10000-servers": _case("10000-servers", 4, 10, 250, latency),
    }


def critical_path_seconds(scenario: Scenario, parallel_accounts: bool = True) -> float:
    """The least time any sync making legacy's calls must take under the scenario's latency model.

    Independent work is assumed fully parallel: the target-accounts scan, the active-region scan and the caller
    identity overlap; accounts run side by side; regions run side by side, but the pages of one region follow each
    other; per account the EC2 enrichment needs the DRS answers, then a target-account look-up, a role assumption
    and one wave of DescribeInstances chunks; the inventory write needs the enrichment; the stale-record scan needs
    every write, and its deletes need the scan.

    Args:
        scenario: The world.
        parallel_accounts: ``False`` chains the accounts one after another (the design's sequential accounts).

    Returns:
        Seconds.
    """
    lat = scenario.latency
    ddb, sts = lat.for_call("dynamodb", "Scan"), lat.for_call("sts", "AssumeRole")
    drs, ec2 = lat.for_call("drs", "DescribeSourceServers"), lat.for_call("ec2", "DescribeInstances")
    counts: Counter[tuple[str, str]] = Counter()
    for group in scenario.servers:
        counts[(group.account, group.region)] += group.total
    regions = [row["region"] for row in scenario.region_status if int(row.get("serverCount", 0)) > 0] or DRS_REGIONS
    chains = []
    for account in scenario.accounts:
        assume = sts if account.row.get("roleArn") and account.account_id != scenario.lambda_account else 0.0
        pages = max(max(1, math.ceil(counts[(account.account_id, r)] / scenario.drs_page_size)) for r in regions)
        has_servers = any(counts[(account.account_id, r)] for r in regions)
        enrich_and_write = (ddb + sts + ec2 + ddb) if has_servers else 0.0
        chains.append(assume + pages * drs + enrich_and_write)
    cleanup = ddb + (ddb if scenario.inventory else 0.0)
    accounts = max(chains, default=0.0) if parallel_accounts else sum(chains)
    return (max(ddb, sts) + accounts + cleanup) / 1000.0


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
    #: (baseline, candidate) wall seconds of the run with every latency times :data:`SLOPE_SCALE`.
    scaled_seconds: tuple[float, float] | None = None

    def add_pair(self, first: Sample, second: Sample) -> None:
        """Record one alternating pair."""
        self.pairs.append((first.seconds, second.seconds))
        self.cpu_pairs.append((first.cpu_seconds, second.cpu_seconds))
        self.simulator_pairs.append((first.simulator_seconds, second.simulator_seconds))
        self.build_seconds.extend((first.build_seconds, second.build_seconds))
        self.calls = {first.implementation: first.calls, second.implementation: second.calls}
        self.statuses = {first.implementation: first.status, second.implementation: second.status}

    def summary(self) -> dict[str, Any]:
        """Medians, ratios and multiples of the bound, ready for JSON and Markdown."""
        legacy, refactored = _medians(self.pairs)
        ratios = [p[0] / p[1] for p in self.pairs if p[1] > 0]
        slopes = self.latency_slopes()
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
    with World(scenario) as world:
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
        simulator = world.simulator_seconds
    return Sample(name, seconds, status, dict(sorted(calls.items())), built, cpu, simulator), peak


def run_case(
    scenario: Scenario, implementations: list[tuple[str, Handler]], pairs: int, scaled: Scenario | None = None
) -> CaseResult:
    """Alternate the two implementations ``pairs`` times, run each once in ``scaled`` (the same world with every
    latency times :data:`SLOPE_SCALE`) for the latency slope, then measure each one's peak memory once."""
    (base_name, base), (cand_name, cand) = implementations
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
    for name, handler in implementations:
        result.peak_mib[name] = round(_run(scenario, name, handler, trace_memory=True)[1], 1)
    return result


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def markdown_table(results: list[CaseResult], latency: dict[str, float], pairs: int) -> str:
    """The table the README quotes."""
    latency_text = ", ".join(f"{k} {v:g} ms" for k, v in latency.items())
    summaries = [(result, result.summary()) for result in results]
    lines = [
        f"Latency per call: {latency_text}. {pairs} alternating pairs per world; times are medians of the handler's",
        "wall time (world building excluded); speed-up is legacy / refactored per pair (median, range).",
        "",
        "| world | legacy (s) | refactored (s) | speed-up | critical path (s) | legacy / bound | refactored / bound "
        "| AWS calls legacy / refactored | peak MiB legacy / refactored | world build (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result, s in summaries:
        calls = [sum(c.values()) for c in result.calls.values()]
        peaks = list(result.peak_mib.values())
        spread = s["speedup_per_pair"]
        lines.append(
            f"| {result.name} | {s['legacy_median_s']:.2f} | {s['refactored_median_s']:.2f} "
            f"| {_times(s['speedup_median'])} ({min(spread):.2f}-{max(spread):.2f}) | {s['bound_s']:.2f} "
            f"| {_times(s['legacy_x_bound'])} | {_times(s['refactored_x_bound'])} | {calls[0]} / {calls[1]} "
            f"| {peaks[0]:.0f} / {peaks[1]:.0f} | {s['world_build_median_s']:.2f} |"
        )
    lines += [
        "",
        "Where the time goes (medians): process CPU time during a run and the part of it the simulated services spent",
        "answering; the latency slope is the wall time one unit of the latency model adds (one more run of each at",
        f"{SLOPE_SCALE}x latency), held against the bound and against the bound with accounts one after another.",
        "",
        "| world | CPU s legacy / refactored | of which simulator s | latency slope s legacy / refactored "
        "| slope / bound | bound, sequential accounts (s) | refactored slope / that bound |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result, s in summaries:
        slope, x_bound, x_sequential = s["latency_slope_s"], s["slope_x_bound"], s["slope_x_sequential_bound"]
        lines.append(
            f"| {result.name} | {_pair(s['cpu_median_s'])} | {_pair(s['simulator_median_s'])} "
            f"| {_pair(slope) if slope else 'n/a'} | {' / '.join(map(_times, x_bound)) if x_bound else 'n/a'} "
            f"| {s['sequential_bound_s']:.2f} | {_times(x_sequential[1]) if x_sequential else 'n/a'} |"
        )
    return "\n".join(lines) + "\n"


def _pair(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


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
    (out_dir / "bench.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    (out_dir / "bench.md").write_text(markdown_table(results, latency, pairs))
    return results
