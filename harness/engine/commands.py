"""``python -m harness run`` and ``python -m harness gate``: argument declarations and handlers.

Exit codes: 0 when nothing is divergent or in error (and, for ``gate``, nothing else blocks), 1 otherwise, 2 on bad
input (a missing or invalid scenario file, an unknown implementation, a malformed approvals file, an approval id no
approval declares). Bad input is detected before anything runs, so no report directory is touched. Progress goes to
stderr, one line per scenario; the verdict and what blocks it go to stdout.

This module only imports ``argparse`` and :mod:`harness.commandline` at load time; the engine is imported when a
command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from harness.commandline import (
    EXIT_BAD_INPUT,
    EXIT_NO_GO,
    EXIT_OK,
    Eta,
    implementation_arguments,
    whole_number,
    write_line,
)

DEFAULT_SCENARIO_DIR = "scenarios"
#: Where ``gate`` writes its reports unless told otherwise (``run`` writes none unless told).
DEFAULT_REPORT_DIR = Path("reports")
DEFAULT_MAX_JOBS = 4
_SHOWN_DIFFERENCES = 10
#: Said when baseline and candidate are both versions of production (a deployed artifact and legacy).
FIDELITY_NOTE = "fidelity check: no approval applies between two versions of production, every difference counts"


def _common_arguments(parser: argparse.ArgumentParser, report_dir: Path | None = None) -> None:
    implementation_arguments(parser)
    where = f" (default: {report_dir}/)" if report_dir else " (default: none)"
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=report_dir,
        help=f"write verdict.json, summary.md, report.html, report.md and junit.xml here{where}",
    )
    parser.add_argument(
        "--jobs",
        type=whole_number(1),
        default=min(DEFAULT_MAX_JOBS, os.cpu_count() or 1),
        help=f"scenarios run side by side in worker processes (default: CPUs, at most {DEFAULT_MAX_JOBS})",
    )


def run_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``run``."""
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help=f"scenario files or directories (default: {DEFAULT_SCENARIO_DIR}/)",
    )
    _common_arguments(parser)


def gate_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gate``."""
    parser.add_argument(
        "--scenarios-dir",
        type=Path,
        default=Path(DEFAULT_SCENARIO_DIR),
        help="the scenario library (default: scenarios/)",
    )
    _common_arguments(parser, DEFAULT_REPORT_DIR)


def run(args: argparse.Namespace) -> int:
    """Run the named scenarios (default: the whole library) and exit 0 only when none is divergent or in error."""
    return _execute(args, "run", [str(p) for p in args.scenarios] or [DEFAULT_SCENARIO_DIR])


def gate(args: argparse.Namespace) -> int:
    """Run the whole library; also fail on coverage gaps and stale approvals."""
    return _execute(args, "gate", [str(args.scenarios_dir)])


def _prepare(args: argparse.Namespace, paths: list[str]) -> tuple[Any, Any, dict[str, Any], list[Any]] | str:
    """Resolve every input up front; a string is the bad-input message. ScenarioError propagates to the CLI."""
    from harness.engine.approvals import DEFAULT_APPROVALS, ApprovalError, load_approvals, unknown_references
    from harness.engine.implementations import ImplementationError
    from harness.engine.observe import resolve_implementation
    from harness.scenario.loading import load_scenarios

    resolved = []
    for option in ("baseline", "candidate"):
        try:
            resolved.append(resolve_implementation(getattr(args, option)))
        except ImplementationError as error:
            return f"--{option} {getattr(args, option)}: {error}"
    try:
        approvals = load_approvals(args.approvals or DEFAULT_APPROVALS)
    except ApprovalError as error:
        return str(error)
    scenarios = load_scenarios(paths)
    if not scenarios:
        return f"no scenario files found in {', '.join(paths)}"
    unknown = unknown_references(scenarios, approvals)
    if unknown:
        return "; ".join(unknown)
    return resolved[0], resolved[1], approvals, scenarios


def _execute(args: argparse.Namespace, command: str, paths: list[str]) -> int:
    from harness.engine.coverage import coverage, gate_blockers
    from harness.engine.implementations import approvals_apply
    from harness.engine.reports import write_report_dir
    from harness.engine.runner import run_scenarios

    prepared = _prepare(args, paths)
    if isinstance(prepared, str):
        write_line(sys.stderr, f"error: {prepared}")
        return EXIT_BAD_INPUT
    baseline, candidate, approvals, scenarios = prepared
    header = f"{command}: {len(scenarios)} scenario(s), baseline {baseline.name}, candidate {candidate.name}"
    if not approvals_apply(baseline.name, candidate.name):
        header += f"; {FIDELITY_NOTE}"
    write_line(sys.stderr, header)
    eta = Eta(len(scenarios))
    result = run_scenarios(
        scenarios,
        baseline,
        candidate,
        approvals,
        command=command,
        progress=lambda position, total, outcome: _progress(position, total, outcome, eta),
        jobs=args.jobs,
    )
    result.coverage = coverage(scenarios, result.scenarios, approvals if result.approvals_apply else ())
    if command == "gate":
        result.blockers = gate_blockers(result.coverage, result.scenarios)
    written = write_report_dir(result, args.report_dir) if args.report_dir is not None else []
    _summary(result, sys.stdout)
    if written:
        _where(args.report_dir, [path.name for path in written])
    return EXIT_OK if result.verdict == "GO" else EXIT_NO_GO


def _where(directory: Path, names: list[str]) -> None:
    """Where the reports are: the summary first (what a reviewer opens), then the rest."""
    first = [name for name in ("summary.md", "report.html") if name in names]
    rest = [name for name in names if name not in first]
    write_line(sys.stdout, f"reports in {directory.resolve()}/: {', '.join(first + rest)}")


def _progress(position: int, total: int, outcome: Any, eta: Eta) -> None:
    timing = f"{outcome.duration_s:.1f}s; {eta(position)}"
    sys.stderr.write(f"[{position}/{total}] {outcome.name}: {outcome.status} ({timing})\n")
    for message in outcome.errors:
        sys.stderr.write(f"    error: {message.splitlines()[0]}\n")
    for difference in outcome.unapproved[:_SHOWN_DIFFERENCES]:
        sys.stderr.write(f"    {difference.describe()}\n")
    if len(outcome.unapproved) > _SHOWN_DIFFERENCES:
        sys.stderr.write(f"    ... and {len(outcome.unapproved) - _SHOWN_DIFFERENCES} more difference(s)\n")
    sys.stderr.flush()


def _summary(result: Any, stream: TextIO) -> None:
    counts = ", ".join(f"{n} {outcome}" for outcome, n in result.counts.items() if n)
    write_line(stream, f"{result.verdict}: {len(result.scenarios)} scenario(s): {counts} ({result.duration_s:.1f}s)")
    for reason in result.reasons():
        write_line(stream, f"  - {reason}")
