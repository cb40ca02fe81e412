"""``python -m harness run`` and ``python -m harness gate``: argument declarations and handlers.

Exit codes: 0 when nothing is divergent or in error (and, for ``gate``, nothing else blocks), 1 otherwise, 2 on bad
input (a missing or invalid scenario file, an unknown implementation, a malformed approvals file, an approval id no
approval declares, a report directory that cannot be used or that another run holds). Bad input is detected before
anything runs: the report directory is checked and locked before the first scenario (:mod:`harness.engine.reports`).
Progress goes to stderr, one line per scenario; the verdict and what blocks it go to stdout; every line goes through
the redactor (:mod:`harness.redaction`).

The code under test never runs in this process: implementation names are checked by importing them in a sandboxed
child (:func:`harness.engine.implementations.check_in_child`), and every run is made in a child of its own with
``--timeout`` (:mod:`harness.engine.isolation`). ``gate`` exits 0 only after reading back, from the report
directory (default ``reports/``), a ``verdict.json`` of this very run that says GO.

This module only imports ``argparse`` and :mod:`harness.commandline` at load time; the engine is imported when a
command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from harness.commandline import (
    EXIT_NO_GO,
    EXIT_OK,
    BadInputError,
    Eta,
    implementation_arguments,
    limit_arguments,
    timeout_argument,
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
    timeout_argument(parser)
    parser.add_argument(
        "--jobs",
        type=whole_number(1),
        default=min(DEFAULT_MAX_JOBS, os.cpu_count() or 1),
        help=f"scenarios run side by side in worker processes (default: CPUs, at most {DEFAULT_MAX_JOBS})",
    )
    parser.add_argument(
        "--show-external-ids",
        action="store_true",
        help="show ExternalIds in clear in reports and output (default: masked, e.g. dr***nt)",
    )
    limit_arguments(parser)


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
    code, _ = _execute(args, "run", [str(p) for p in args.scenarios] or [DEFAULT_SCENARIO_DIR])
    return code


def gate(args: argparse.Namespace) -> int:
    """Run the whole library; also fail on coverage gaps and stale approvals.

    Exit 0 only when this run's verdict, read back from the report directory, says GO: whatever happened on the
    way, no other path out of the gate gives 0.
    """
    code, result = _execute(args, "gate", [str(args.scenarios_dir)])
    if code != EXIT_OK:
        return code
    problem = _go_on_disk(result, args.report_dir)
    if problem:
        write_line(sys.stderr, f"error: {problem}: the gate does not pass without it")
        return EXIT_NO_GO
    return EXIT_OK


def _go_on_disk(result: Any, report_dir: Path) -> str | None:
    """Why the report directory does not hold a GO verdict of ``result``'s run (``None`` when it does)."""
    from harness.engine.model import GO
    from harness.engine.reports import VERDICT_FILE

    path = report_dir / VERDICT_FILE
    try:
        verdict = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return f"no readable verdict at {path} ({error})"
    if not isinstance(verdict, dict) or verdict.get("runId") != result.run_id:
        return f"{path} is not this run's verdict"
    if verdict.get("verdict") != GO or result.verdict != GO:
        return f"{path} says {verdict.get('verdict')!r}, not GO"
    return None


def _prepare(args: argparse.Namespace, paths: list[str]) -> tuple[Any, Any, dict[str, Any], list[Any]]:
    """Resolve every input up front; implementation names are checked in a sandboxed child, never imported here.

    Raises:
        BadInputError: An implementation or the approvals file cannot be used, or no scenario was found.
        ScenarioError: A scenario file is invalid (reported by the CLI).
    """
    from harness.engine.approvals import DEFAULT_APPROVALS, ApprovalError, load_approvals
    from harness.engine.implementations import check_in_child
    from harness.engine.observe import named_implementation
    from harness.redaction import remember_external_ids, show_external_ids
    from harness.scenario.limits import Limits
    from harness.scenario.loading import LoadOptions, load_scenarios
    from harness.world.world import warm_up

    show_external_ids(args.show_external_ids)
    warm_up()  # before the first child is forked, so that every child starts warm
    resolved = []
    for option in ("baseline", "candidate"):
        problem = check_in_child(getattr(args, option), args.timeout)
        if problem:
            raise BadInputError(f"--{option} {getattr(args, option)}: {problem}")
        resolved.append(named_implementation(getattr(args, option)))
    try:
        approvals = load_approvals(args.approvals or DEFAULT_APPROVALS)
    except ApprovalError as error:
        raise BadInputError(str(error)) from None
    limits = Limits.from_environment(args.max_scenario_bytes, args.max_servers)
    scenarios = load_scenarios(paths, LoadOptions(limits, approval_ids=set(approvals)))
    if not scenarios:
        raise BadInputError(f"no scenario files found in {', '.join(paths)}")
    remember_external_ids(account.row.get("externalId") for scenario in scenarios for account in scenario.accounts)
    return resolved[0], resolved[1], approvals, scenarios


def _execute(args: argparse.Namespace, command: str, paths: list[str]) -> tuple[int, Any]:
    """Run the command; the exit code and the run's result (``None`` on bad input)."""
    from harness.engine.coverage import coverage, gate_blockers
    from harness.engine.implementations import approvals_apply
    from harness.engine.isolation import Containment
    from harness.engine.reports import ReportDirectory
    from harness.engine.runner import run_scenarios

    baseline, candidate, approvals, scenarios = _prepare(args, paths)
    written: list[Path] = []
    with contextlib.ExitStack() as stack:
        reports = stack.enter_context(ReportDirectory(args.report_dir)) if args.report_dir is not None else None
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
            containment=Containment(args.timeout),
        )
        result.coverage = coverage(scenarios, result.scenarios, approvals if result.approvals_apply else ())
        if command == "gate":
            result.blockers = gate_blockers(result.coverage, result.scenarios)
        if reports is not None:
            written = reports.write(result)
    _summary(result, sys.stdout)
    if written:
        _where(args.report_dir, [path.name for path in written])
    return (EXIT_OK if result.verdict == "GO" else EXIT_NO_GO), result


def _where(directory: Path, names: list[str]) -> None:
    """Where the reports are: the summary first (what a reviewer opens), then the rest."""
    first = [name for name in ("summary.md", "report.html") if name in names]
    rest = [name for name in names if name not in first]
    write_line(sys.stdout, f"reports in {directory.absolute()}/: {', '.join(first + rest)}")


def _progress(position: int, total: int, outcome: Any, eta: Eta) -> None:
    timing = f"{outcome.duration_s:.1f}s; {eta(position)}"
    write_line(sys.stderr, f"[{position}/{total}] {outcome.name}: {outcome.status} ({timing})")
    for message in outcome.errors:
        write_line(sys.stderr, f"    error: {message.splitlines()[0]}")
    for difference in outcome.unapproved[:_SHOWN_DIFFERENCES]:
        write_line(sys.stderr, f"    {difference.describe()}")
    if len(outcome.unapproved) > _SHOWN_DIFFERENCES:
        write_line(sys.stderr, f"    ... and {len(outcome.unapproved) - _SHOWN_DIFFERENCES} more difference(s)")


def _summary(result: Any, stream: TextIO) -> None:
    counts = ", ".join(f"{n} {outcome}" for outcome, n in result.counts.items() if n)
    write_line(stream, f"{result.verdict}: {len(result.scenarios)} scenario(s): {counts} ({result.duration_s:.1f}s)")
    for reason in result.reasons():
        write_line(stream, f"  - {reason}")
