"""``python -m harness fuzz``: argument declarations and the handler.

Exit codes: 0 when no example diverged without an approval covering it, 1 when one did (or the harness failed on a
generated world, or a run timed out, exited or crashed: the shrunk example is written out either way), 2 on bad
input (a non-positive example count, an unknown implementation, a malformed approvals file). Every run is contained
in a child process with ``--timeout`` (see :mod:`harness.fuzz.runner`). Progress goes to stderr, one line per engine
run; the summary, the failing example's differences and its scenario file go to stdout.

This module only imports ``argparse`` and :mod:`harness.commandline` at load time; Hypothesis and the engine are
imported when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.commandline import (
    EXIT_BAD_INPUT,
    EXIT_NO_GO,
    EXIT_OK,
    Eta,
    implementation_arguments,
    timeout_argument,
    whole_number,
    write_line,
)

DEFAULT_SAVE_DIR = "reports/fuzz"
_SHOWN_DIFFERENCES = 10


def fuzz_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``fuzz``."""
    parser.add_argument("--examples", type=whole_number(1), default=100, help="examples to generate (default: 100)")
    parser.add_argument(
        "--seed", type=whole_number(0), default=0, help="seed: the same seed gives the same examples (default: 0)"
    )
    parser.add_argument(
        "--save-failures",
        type=Path,
        default=Path(DEFAULT_SAVE_DIR),
        metavar="DIR",
        help=f"where the shrunk failing example is written as a scenario file (default: {DEFAULT_SAVE_DIR}/)",
    )
    implementation_arguments(parser)
    parser.add_argument(
        "--shrink-budget",
        type=whole_number(1),
        default=150,
        help="engine runs allowed while shrinking a failing example (default: 150)",
    )
    timeout_argument(parser)


def fuzz(args: argparse.Namespace) -> int:
    """Run the fuzzer; exit 0 when nothing unapproved diverged, 1 when something did, 2 on bad input."""
    from harness.engine.approvals import DEFAULT_APPROVALS, ApprovalError, load_approvals
    from harness.engine.commands import FIDELITY_NOTE
    from harness.engine.implementations import approvals_apply, check_in_child
    from harness.fuzz.runner import FuzzOptions
    from harness.fuzz.runner import fuzz as run_fuzz
    from harness.world.world import warm_up

    warm_up()  # before the first child is forked, so that every child starts warm
    for option in ("baseline", "candidate"):
        problem = check_in_child(getattr(args, option), args.timeout)
        if problem:
            write_line(sys.stderr, f"error: --{option} {getattr(args, option)}: {problem}")
            return EXIT_BAD_INPUT
    try:
        approvals = load_approvals(args.approvals or DEFAULT_APPROVALS)
    except ApprovalError as error:
        write_line(sys.stderr, f"error: {error}")
        return EXIT_BAD_INPUT
    options = FuzzOptions(
        examples=args.examples,
        seed=args.seed,
        baseline=args.baseline,
        candidate=args.candidate,
        save_dir=args.save_failures,
        shrink_budget=args.shrink_budget,
        approvals=approvals,
        timeout_s=args.timeout,
    )
    header = f"fuzz: {args.examples} example(s), seed {args.seed}, baseline {args.baseline}, candidate {args.candidate}"
    if not approvals_apply(args.baseline, args.candidate):
        header += f"; {FIDELITY_NOTE}"
    write_line(sys.stderr, header)
    eta = Eta(args.examples)
    report = run_fuzz(options, progress=lambda record: _progress(record, args.examples, args.shrink_budget, eta))
    _summary(report)
    return EXIT_NO_GO if report.found else EXIT_OK


def _progress(record: Any, examples: int, shrink_budget: int, eta: Eta) -> None:
    if record.phase == "shrink":
        where = f"[shrink {record.number}/{shrink_budget}]"
        timing = eta(0)
    else:
        where = f"[{record.number}/{examples}]"
        timing = eta(record.number)
    approved = f" ({', '.join(record.approvals)})" if record.approvals else ""
    write_line(sys.stderr, f"{where} {record.status}{approved} ({record.duration_s:.1f}s; {timing}): {record.summary}")
    if record.phase != "shrink":
        for difference in record.result.unapproved[:3]:
            write_line(sys.stderr, f"    {difference.describe()}")


def _summary(report: Any) -> None:
    from harness.fuzz.writer import reproduce_command

    stream = sys.stdout
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.outcomes.items()))
    approvals = ", ".join(f"{approval} in {n}" for approval, n in sorted(report.approvals_applied.items()))
    write_line(
        stream,
        f"fuzz seed {report.options.seed}: {report.examples_run} distinct example(s) judged: {counts or 'none'}"
        f" ({report.duration_s:.1f}s)",
    )
    if approvals:
        write_line(stream, f"  approvals applied: {approvals}")
    if report.features:
        features = ", ".join(f"{feature} {n}" for feature, n in sorted(report.features.items()))
        write_line(stream, f"  worlds with: {features}")
    if not report.found:
        write_line(stream, "OK: no unapproved divergence")
        return
    failure = report.failure
    write_line(stream, f"FAILED: {failure.status} example, shrunk in {report.shrink_runs} engine run(s)")
    for message in failure.errors:
        write_line(stream, f"  error: {message.splitlines()[0]}")
    for difference in failure.unapproved[:_SHOWN_DIFFERENCES]:
        write_line(stream, f"  {difference.describe()}")
    if len(failure.unapproved) > _SHOWN_DIFFERENCES:
        write_line(stream, f"  ... and {len(failure.unapproved) - _SHOWN_DIFFERENCES} more difference(s)")
    if report.failure_path is not None:
        reproduced = "reproduces" if report.reproduced else "DOES NOT reproduce (timing?)"
        write_line(stream, f"  scenario written: {report.failure_path} ({reproduced} with `python -m harness run`)")
        command = reproduce_command(report.failure_path, report.options.baseline, report.options.candidate)
        write_line(stream, f"  reproduce: {command}")
