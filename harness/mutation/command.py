"""``python -m harness mutate``: the mutation score of the catalogue, against the unit tests and the gate.

Exit codes: 0 when every non-equivalent mutant was caught and no equivalent one was (no false alarm); 1 otherwise;
2 on bad input (an unreadable or malformed catalogue, an unknown ``--only`` id, a stale entry whose original text is
not found exactly once, an invalid scenario, an output directory that cannot be written, or a mutated copy that the
installed package would shadow). Progress (one line per mutant, with the ETA) goes to stderr; the score and the
survivors to stdout; ``mutation.json`` and ``mutation.md`` to ``--out``.

This module imports only ``argparse`` and :mod:`harness.commandline` at load time.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from harness.commandline import (
    EXIT_NO_GO,
    EXIT_OK,
    BadInputError,
    timeout_argument,
    whole_number,
    write_line,
)

DEFAULT_OUT = Path("reports/mutation")


def mutate_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mutate``."""
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these mutants (default: the catalogue)")
    parser.add_argument("--jobs", type=whole_number(1), default=1, help="mutants judged side by side (default: 1)")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"where mutation.json and mutation.md go (default: {DEFAULT_OUT}/)",
    )
    parser.add_argument(
        "--catalogue", type=Path, help="the mutant catalogue (default: harness/mutation/catalogue.yaml)"
    )
    parser.add_argument(
        "--scenarios-dir", type=Path, default=Path("scenarios"), help="the scenario library (default: scenarios/)"
    )
    timeout_argument(parser)


def mutate(args: argparse.Namespace) -> int:
    """Judge the selected mutants and write the reports; exit 0 only when the score is complete with no false alarm."""
    from harness.mutation.catalogue import DEFAULT_CATALOGUE, CatalogueError, load_catalogue
    from harness.mutation.report import write_mutation_reports
    from harness.mutation.runner import REPOSITORY, SURVIVED, MutationOptions, MutationSetupError, run_mutation
    from harness.scenario.loading import load_scenarios

    try:
        catalogue = load_catalogue(args.catalogue or DEFAULT_CATALOGUE)
        mutants = catalogue.select(args.only)
    except CatalogueError as error:
        raise BadInputError("; ".join(error.problems)) from None
    stale = catalogue.stale(REPOSITORY, mutants)
    if stale:
        raise BadInputError("; ".join(stale))
    scenarios = load_scenarios([str(args.scenarios_dir)])
    if not scenarios:
        raise BadInputError(f"no scenario files found in {args.scenarios_dir}")
    _check_writable(args.out)
    write_line(sys.stderr, f"mutate: {len(mutants)} mutant(s), {len(scenarios)} scenario(s), jobs {args.jobs}")
    options = MutationOptions(
        catalogue, mutants, scenarios, args.jobs, args.timeout, progress=lambda line: write_line(sys.stderr, line)
    )
    try:
        run = run_mutation(options)
    except MutationSetupError as error:
        raise BadInputError(str(error)) from None
    run.command = _command_line(args)
    written = write_mutation_reports(run, args.out)
    write_line(sys.stdout, f"{run.score}; {run.count('equivalent')} equivalent; {run.duration_s / 60:.1f} min")
    for outcome in run.outcomes:
        if not outcome.ok:
            why = outcome.mutant.description if outcome.status == SURVIVED else f"caught by {outcome.by}"
            write_line(sys.stdout, f"  - {outcome.status}: {outcome.mutant.id}: {why}")
    write_line(sys.stdout, f"reports: {', '.join(str(path) for path in written)}")
    return EXIT_OK if run.ok else EXIT_NO_GO


def _command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run (for the reports)."""
    words = ["python", "-m", "harness", "mutate"]
    if args.only:
        words += ["--only", *args.only]
    words += ["--jobs", str(args.jobs), "--out", str(args.out)]
    return shlex.join(words)


def _check_writable(directory: Path) -> None:
    """Refuse, before anything runs, an output directory that cannot be created or written."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".write-test"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as error:
        raise BadInputError(f"--out {directory}: cannot be written ({error.strerror or error})") from None
