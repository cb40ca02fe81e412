"""The benchmark's Markdown tables (``bench.md``, quoted in the README)."""

from __future__ import annotations

from harness.bench.measurement import SLOPE_SCALE, CaseResult


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
        "Where the time goes (medians): process CPU time during a run; the part of it the simulator spent (call",
        "recorder, dispatcher, fakes, moto: work a real service does on its own machines) and its CPU per call; the",
        "code's own CPU (the rest) and the part of that spent building botocore clients.",
        "",
        "| world | CPU s legacy / refactored | of which simulator s | simulator ms per call (calls per CPU s) "
        "| own CPU s legacy / refactored | own CPU refactored / legacy | of which client creation s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result, s in summaries:
        per_call = [value for value in s["simulator_ms_per_call"] if value]
        rate = " / ".join(f"{value:.2f} ({1000 / value:.0f})" for value in per_call) or "n/a"
        lines.append(
            f"| {result.name} | {_pair(s['cpu_median_s'])} | {_pair(s['simulator_median_s'])} | {rate} "
            f"| {_pair(s['own_cpu_median_s'])} | {_times(s['own_cpu_ratio'])} "
            f"| {_pair(s['client_creation_median_s'])} |"
        )
    lines += [
        "",
        "The latency slope is the wall time one unit of the latency model adds (one more run of each at",
        f"{SLOPE_SCALE}x latency), held against the bound and against the bound with accounts one after another.",
        "",
        "| world | latency slope s legacy / refactored | slope / bound | bound, sequential accounts (s) "
        "| refactored slope / that bound |",
        "|---|---:|---:|---:|---:|",
    ]
    for result, s in summaries:
        slope, x_bound, x_sequential = s["latency_slope_s"], s["slope_x_bound"], s["slope_x_sequential_bound"]
        lines.append(
            f"| {result.name} | {_pair(slope) if slope else 'n/a'} "
            f"| {' / '.join(map(_times, x_bound)) if x_bound else 'n/a'} "
            f"| {s['sequential_bound_s']:.2f} | {_times(x_sequential[1]) if x_sequential else 'n/a'} |"
        )
    return "\n".join(lines) + "\n"


def _pair(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)
