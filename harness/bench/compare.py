"""``bench --compare A B``: two ``bench.json`` files side by side, world by world, as Markdown.

No world runs. Each world both files measured gets a table of its figures as ``A -> B`` with the relative change;
worlds only one file has are named; differences that make the figures less comparable (latency model, pairs,
implementations, machine) are warning lines. Files written before ``bench.json`` carried ``machine`` or
``provenance`` load too (those parts are then "unknown").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.bench.machine import identity
from harness.commandline import BadInputError, read_json_report
from harness.redaction import redact_text

COMPARE_FILE = "compare.md"


@dataclass(frozen=True)
class BenchFile:
    """One loaded ``bench.json``."""

    path: Path
    document: dict[str, Any]

    @property
    def worlds(self) -> dict[str, dict[str, Any]]:
        """The measured worlds by name, in the file's order."""
        return {world["name"]: world for world in self.document["worlds"]}

    def describe(self) -> str:
        """The file, its commit and date (when recorded)."""
        provenance = self.document.get("provenance") or {}
        commit = ((provenance.get("git") or {}).get("commit") or "unknown")[:12]
        dirty = " (dirty)" if (provenance.get("git") or {}).get("dirty") else ""
        return f"`{self.path}` (commit {commit}{dirty}, {provenance.get('generated') or 'date unknown'})"


def load_bench(path: Path) -> BenchFile:
    """Read and check one ``bench.json`` (a directory means the ``bench.json`` in it).

    Raises:
        BadInputError: Naming the file and why: unreadable, not JSON, or not a ``bench.json``.
    """
    file, document = read_json_report(path, "bench.json")
    problem = _shape_problem(document)
    if problem:
        raise BadInputError(f"{file}: not a bench.json ({problem})")
    return BenchFile(file, document)


def _shape_problem(document: Any) -> str | None:
    if not isinstance(document, dict):
        return "expected an object at the top"
    worlds = document.get("worlds")
    if not isinstance(worlds, list):
        return "no list of worlds"
    for index, world in enumerate(worlds):
        if not isinstance(world, dict) or not isinstance(world.get("name"), str):
            return f"world {index + 1} has no name"
        if not isinstance(world.get("legacy_median_s"), int | float):
            return f"world {world['name']!r} has no legacy_median_s"
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _at(values: Any, index: int) -> float | None:
    return _number(values[index]) if isinstance(values, list) and len(values) > index else None


def _share(world: dict[str, Any], index: int) -> float | None:
    """The simulator's share of the CPU time, in percent."""
    cpu, simulator = _at(world.get("cpu_median_s"), index), _at(world.get("simulator_median_s"), index)
    return 100.0 * simulator / cpu if cpu and simulator is not None else None


def _peak(world: dict[str, Any], index: int) -> float | None:
    peaks = world.get("peak_mib")
    return _at(list(peaks.values()), index) if isinstance(peaks, dict) else None


Metric = tuple[str, Callable[[dict[str, Any]], float | None], str]

#: The rows of each world's table: label, how to read it from a world entry, unit.
METRICS: tuple[Metric, ...] = (
    ("legacy median", lambda w: _number(w.get("legacy_median_s")), "s"),
    ("refactored median", lambda w: _number(w.get("refactored_median_s")), "s"),
    ("speed-up (median)", lambda w: _number(w.get("speedup_median")), "x"),
    ("CPU legacy", lambda w: _at(w.get("cpu_median_s"), 0), "s"),
    ("CPU refactored", lambda w: _at(w.get("cpu_median_s"), 1), "s"),
    ("simulator share of CPU, legacy", lambda w: _share(w, 0), "%"),
    ("simulator share of CPU, refactored", lambda w: _share(w, 1), "%"),
    ("own CPU legacy", lambda w: _at(w.get("own_cpu_median_s"), 0), "s"),
    ("own CPU refactored", lambda w: _at(w.get("own_cpu_median_s"), 1), "s"),
    ("own CPU refactored / legacy", lambda w: _number(w.get("own_cpu_ratio")), "x"),
    ("client creation CPU refactored", lambda w: _at(w.get("client_creation_median_s"), 1), "s"),
    ("simulator ms per call, refactored", lambda w: _at(w.get("simulator_ms_per_call"), 1), "ms"),
    ("latency slope legacy", lambda w: _at(w.get("latency_slope_s"), 0), "s"),
    ("latency slope refactored", lambda w: _at(w.get("latency_slope_s"), 1), "s"),
    ("bound, sequential accounts", lambda w: _number(w.get("sequential_bound_s")), "s"),
    ("legacy slope / sequential bound", lambda w: _at(w.get("slope_x_sequential_bound"), 0), "x"),
    ("refactored slope / sequential bound", lambda w: _at(w.get("slope_x_sequential_bound"), 1), "x"),
    ("peak memory legacy", lambda w: _peak(w, 0), "MiB"),
    ("peak memory refactored", lambda w: _peak(w, 1), "MiB"),
)


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "%":
        return f"{value:.0f}%"
    return f"{value:.1f} {unit}" if unit == "MiB" else f"{value:.2f} {unit}"


def _change(before: float | None, after: float | None, unit: str) -> str:
    """The relative change; for a share (already a percentage) the difference in percentage points."""
    if before is None or after is None:
        return "n/a"
    if unit == "%":
        return f"{after - before:+.1f} pp"
    if before == 0:
        return "0%" if after == 0 else "n/a"
    return f"{100.0 * (after - before) / abs(before):+.1f}%"


def world_table(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One world's figures as Markdown rows: ``A -> B`` and the relative change."""
    lines = [f"### {before['name']}", "", "| figure | A -> B | change |", "|---|---:|---:|"]
    for label, read, unit in METRICS:
        a, b = read(before), read(after)
        lines.append(f"| {label} | {_value(a, unit)} -> {_value(b, unit)} | {_change(a, b, unit)} |")
    return [*lines, ""]


def _latency_text(latency: Any) -> str:
    if not isinstance(latency, dict):
        return "unknown"
    return ", ".join(f"{service} {ms:g} ms" for service, ms in latency.items()) or "none"


def _machine_text(machine: dict[str, Any]) -> str:
    python = machine.get("python") or {}
    memory = machine.get("memory_total_mib")
    parts = (
        machine.get("platform"),
        f"{machine.get('cpu_count')} CPU(s)" if machine.get("cpu_count") else None,
        machine.get("cpu_model"),
        f"{memory} MiB" if memory else None,
        " ".join(str(v) for v in (python.get("implementation"), python.get("version")) if v) or None,
    )
    return ", ".join(str(part) for part in parts if part) or "unknown"


def warnings(a: BenchFile, b: BenchFile) -> list[str]:
    """What differs between the two runs besides the code: each makes the comparison less like for like."""
    found = []
    for key, what, show in (
        ("latency_ms", "latency models", _latency_text),
        ("pairs", "pairs per world", str),
        ("implementations", "implementations", lambda v: " vs ".join(map(str, v)) if isinstance(v, list) else str(v)),
    ):
        if a.document.get(key) != b.document.get(key):
            found.append(f"the {what} differ: A {show(a.document.get(key))}; B {show(b.document.get(key))}")
    machine_a, machine_b = identity(a.document.get("machine")), identity(b.document.get("machine"))
    if machine_a is None or machine_b is None:
        missing = " and ".join(name for name, m in (("A", machine_a), ("B", machine_b)) if m is None)
        found.append(f"{missing} recorded no machine (an older bench.json): the machines cannot be compared")
    elif machine_a != machine_b:
        found.append(f"the machines differ: A {_machine_text(machine_a)}; B {_machine_text(machine_b)}")
    return found


def compare_markdown(a: BenchFile, b: BenchFile) -> str:
    """The comparison of two benchmarks as Markdown: warnings, then a table per world both measured."""
    worlds_a, worlds_b = a.worlds, b.worlds
    lines = ["# Benchmark comparison", "", f"A: {a.describe()}", "", f"B: {b.describe()}", ""]
    found = warnings(a, b)
    lines += [*(f"Warning: {text}." for text in found), *([""] if found else [])]
    lines += ["Change is (B - A) / A (shares: B - A in percentage points); negative is less in B.", ""]
    for name, world in worlds_a.items():
        if name in worlds_b:
            lines += world_table(world, worlds_b[name])
    for label, mine, other in (("A", worlds_a, worlds_b), ("B", worlds_b, worlds_a)):
        only = [name for name in mine if name not in other]
        if only:
            lines.append(f"Only in {label}: {', '.join(only)}.")
    if not set(worlds_a) & set(worlds_b):
        lines.append("No world is in both files.")
    return "\n".join(lines).rstrip() + "\n"


def write_compare(out_dir: Path, text: str) -> Path:
    """Write the comparison (redacted) as ``compare.md`` in ``out_dir``; returns the file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    file = out_dir / COMPARE_FILE
    file.write_text(redact_text(text))
    return file
