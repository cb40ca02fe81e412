"""Command line of the harness: ``python -m harness <command> ...``: the parser and the dispatch, nothing else.

Each command lives with the package it drives, as a module that declares the command's arguments and handles it:
:mod:`harness.scenario.command` (``validate``), :mod:`harness.engine.commands` (``run``, ``gate``),
:mod:`harness.fuzz.command` (``fuzz``), :mod:`harness.bench.command` (``bench``) and :mod:`harness.capture.command`
(``capture``). Those modules import only
``argparse`` and :mod:`harness.commandline` (exit codes, output lines, shared arguments) at load time and the heavy
parts (moto, the engine) when their command runs, so ``validate`` and ``--help`` stay fast; none imports this module.

Adding a command is one module of that kind and one :func:`command` registration here. A
:class:`~harness.scenario.loading.ScenarioError` escaping any handler is reported like ``validate`` reports problems
and exits 2 (:data:`~harness.commandline.EXIT_BAD_INPUT`), so commands that load scenarios need no error handling of
their own. The CLI's output on stdout/stderr is its interface (tested); diagnostics go through :mod:`logging` (``-v``
shows them).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from harness.bench.command import bench, bench_arguments
from harness.capture.command import capture, capture_arguments
from harness.commandline import EXIT_BAD_INPUT, write_line
from harness.engine.commands import gate, gate_arguments, run, run_arguments
from harness.fuzz.command import fuzz, fuzz_arguments
from harness.scenario.command import validate, validate_arguments
from harness.scenario.loading import Problem, ScenarioError

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


command("validate", "check scenario files against the schema and the semantic rules", validate_arguments)(validate)
command("run", "run scenarios through baseline and candidate; exit 1 on a divergence or error", run_arguments)(run)
command("gate", "run every scenario; NO-GO on a divergence, a coverage gap or a stale approval", gate_arguments)(gate)
command("fuzz", "generated worlds through baseline and candidate; exit 1 on an unapproved divergence", fuzz_arguments)(
    fuzz
)
command("bench", "time legacy and refactored side by side under a latency model", bench_arguments)(bench)
command("capture", "read an estate (read-only) and write it as one scenario file", capture_arguments)(capture)


def report_problems(problems: Sequence[Problem], stream: TextIO | None = None) -> None:
    """Print each problem as ``file:path: reason``, then a count, on stderr."""
    stream = stream or sys.stderr
    for problem in problems:
        write_line(stream, str(problem))
    files = len({problem.file for problem in problems})
    write_line(stream, f"{len(problems)} problem(s) in {files} file(s)")


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
