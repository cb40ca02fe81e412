"""Command line of the harness: ``python -m harness <command> ...``.

Exit codes (:mod:`harness.commandline`, shared by every command): ``0`` ok / GO, ``1`` divergence / NO-GO, ``2`` bad
input.

Adding a command takes a few lines in this module: a function that declares its arguments and a handler decorated
with :func:`command`, returning an exit code. Import heavy modules (moto, the engine) inside the handler so that
``validate`` and ``--help`` stay fast::

    def _run_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("paths", nargs="+", help="scenario files or directories")


    @command("run", "run scenarios through baseline and candidate", _run_arguments)
    def run_command(args: argparse.Namespace) -> int:
        from harness.engine import run_paths

        return EXIT_OK if run_paths(args.paths).equivalent else EXIT_NO_GO

A :class:`~harness.scenario.loading.ScenarioError` escaping any handler is reported like ``validate`` reports
problems and exits 2, so commands that load scenarios need no error handling of their own. The CLI's output on
stdout/stderr is its interface (tested); diagnostics go through :mod:`logging` (``-v`` shows them).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from harness.commandline import EXIT_BAD_INPUT, EXIT_OK, implementation_arguments, whole_number, write_line
from harness.scenario.loading import Problem, ScenarioError, load_scenarios

Handler = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, one-line help, argument declarations and handler."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    handler: Handler


#: Registered subcommands, in the order ``--help`` lists them.
COMMANDS: dict[str, Command] = {}


def command(
    name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Handler], Handler]:
    """Register the decorated handler as subcommand ``name``.

    Args:
        name: The subcommand (``validate``, ``run``...).
        help_text: One line for ``--help``.
        arguments: Declares the subcommand's arguments on its parser.

    Returns:
        A decorator that returns the handler unchanged.
    """

    def register(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise ValueError(f"command {name!r} is already registered")
        COMMANDS[name] = Command(name, help_text, arguments, handler)
        return handler

    return register


def report_problems(problems: Sequence[Problem], stream: TextIO | None = None) -> None:
    """Print each problem as ``file:path: reason``, then a count, on stderr."""
    stream = stream or sys.stderr
    for problem in problems:
        write_line(stream, str(problem))
    files = len({problem.file for problem in problems})
    write_line(stream, f"{len(problems)} problem(s) in {files} file(s)")


# ------------------------------------------------------------------------------------------------------ validate


def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="scenario files, or directories of *.yaml/*.yml")


@command("validate", "check scenario files against the schema and the semantic rules", _validate_arguments)
def validate_command(args: argparse.Namespace) -> int:
    """Exit 0 with a one-line summary when every file is valid; otherwise 2 (problems are raised and reported)."""
    scenarios = load_scenarios(args.paths)
    servers = sum(group.total for scenario in scenarios for group in scenario.servers)
    faults = sum(len(scenario.faults) for scenario in scenarios)
    write_line(sys.stdout, f"OK: {len(scenarios)} scenario file(s) valid ({servers} servers, {faults} fault rules)")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------- run, gate


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    from harness.engine.commands import run_arguments

    run_arguments(parser)


@command("run", "run scenarios through baseline and candidate; exit 1 on a divergence or error", _run_arguments)
def run_command(args: argparse.Namespace) -> int:
    """Run scenarios through baseline (twice) and candidate; see :mod:`harness.engine.commands`."""
    from harness.engine.commands import run

    return run(args)


def _gate_arguments(parser: argparse.ArgumentParser) -> None:
    from harness.engine.commands import gate_arguments

    gate_arguments(parser)


@command("gate", "run every scenario; NO-GO on a divergence, a coverage gap or a stale approval", _gate_arguments)
def gate_command(args: argparse.Namespace) -> int:
    """Run the whole scenario library and decide GO / NO-GO; see :mod:`harness.engine.commands`."""
    from harness.engine.commands import gate

    return gate(args)


# ---------------------------------------------------------------------------------------------------------- fuzz


def _fuzz_arguments(parser: argparse.ArgumentParser) -> None:
    from harness.fuzz.command import fuzz_arguments

    fuzz_arguments(parser)


@command("fuzz", "generated worlds through baseline and candidate; exit 1 on an unapproved divergence", _fuzz_arguments)
def fuzz_command(args: argparse.Namespace) -> int:
    """Fuzz the candidate against the baseline with Hypothesis; see :mod:`harness.fuzz.command`."""
    from harness.fuzz.command import fuzz

    return fuzz(args)


# --------------------------------------------------------------------------------------------------------- bench


def _latency_overrides(text: str) -> dict[str, float]:
    """Parse ``drs=200,ec2=100`` into milliseconds per service."""
    overrides = {}
    for part in filter(None, text.split(",")):
        service, sep, value = part.partition("=")
        if not sep or service not in ("drs", "ec2", "sts", "dynamodb"):
            raise argparse.ArgumentTypeError(f"expected service=ms with a service of drs, ec2, sts, dynamodb: {part!r}")
        try:
            overrides[service] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"latency for {service} must be a number of milliseconds: {value!r}"
            ) from None
    return overrides


def _bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="bench", help="directory for bench.json and bench.md (default: bench/)")
    parser.add_argument(
        "--pairs", type=whole_number(1), default=5, help="alternating legacy/refactored pairs per world"
    )
    parser.add_argument("--world", action="append", dest="worlds", help="run only this world (repeatable)")
    parser.add_argument(
        "--latency", type=_latency_overrides, default={}, help="override per-call latency, e.g. drs=200,ec2=100"
    )
    implementation_arguments(parser, approvals=False)


@command("bench", "time legacy and refactored side by side under a latency model", _bench_arguments)
def bench_command(args: argparse.Namespace) -> int:
    """Run the benchmark and print the Markdown table; see :mod:`harness.bench`."""
    from pathlib import Path

    from harness.bench import run_bench
    from harness.engine.implementations import ImplementationError

    try:
        run_bench(Path(args.out), args.pairs, args.worlds, args.latency, args.baseline, args.candidate)
    except (ValueError, ImplementationError) as error:
        write_line(sys.stderr, str(error))
        return EXIT_BAD_INPUT
    write_line(sys.stdout, (Path(args.out) / "bench.md").read_text())
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered command."""
    parser = argparse.ArgumentParser(
        prog="python -m harness",
        description="Behavioural-equivalence harness for the DRS inventory sync.",
        epilog="Exit codes: 0 ok, 1 divergence or NO-GO, 2 bad input.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show diagnostic logging")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for entry in COMMANDS.values():
        sub = subparsers.add_parser(entry.name, help=entry.help, description=entry.help)
        entry.arguments(sub)
        sub.set_defaults(handler=entry.handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the process arguments), run the command and return its exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.handler(args))
    except ScenarioError as error:
        report_problems(error.problems)
        return EXIT_BAD_INPUT
