"""Command line of the harness: ``python -m harness <command> ...``: the parser and the dispatch, nothing else.

Each command lives with the package it drives, as a module that declares the command's arguments and handles it:
:mod:`harness.scenario.command` (``validate``), :mod:`harness.engine.commands` (``run``, ``gate``, ``merge``),
:mod:`harness.fuzz.command` (``fuzz``), :mod:`harness.bench.command` (``bench``), :mod:`harness.capture.command`
(``capture``) and :mod:`harness.mutation.command` (``mutate``). Those modules import only
``argparse`` and :mod:`harness.commandline` (exit codes, output lines, shared arguments) at load time and the heavy
parts (moto, the engine) when their command runs, so ``validate`` and ``--help`` stay fast; none imports this module.

Adding a command is one module of that kind and one :func:`command` registration here. A
:class:`~harness.scenario.loading.ScenarioError` escaping any handler is reported like ``validate`` reports problems
and exits 2 (:data:`~harness.commandline.EXIT_BAD_INPUT`), a :class:`~harness.commandline.BadInputError` becomes one
``error: ...`` line and exit 2, so commands need no error handling of their own. Every command runs under
:func:`~harness.interruption.handling_signals`: SIGINT or SIGTERM ends the workers, unwinds, prints one line and exits
130 or 143. Commands that build worlds first check that the AWS configuration botocore will read is usable (an
``AWS_PROFILE`` naming a missing profile is one line and exit 2, not a traceback from inside moto's import).

The CLI's output on stdout/stderr is its interface (tested) and goes through the redactor (:mod:`harness.redaction`),
log lines included; diagnostics go through :mod:`logging` (``-v`` shows them).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from harness.bench.command import bench, bench_arguments
from harness.capture.command import capture, capture_arguments
from harness.commandline import EXIT_BAD_INPUT, BadInputError, check_aws_configuration, write_line
from harness.engine.commands import gate, gate_arguments, merge, merge_arguments, run, run_arguments
from harness.fuzz.command import fuzz, fuzz_arguments
from harness.interruption import Interrupted, handling_signals
from harness.mutation.command import mutate, mutate_arguments
from harness.redaction import redact_text, remember_real_credentials
from harness.scenario.command import validate, validate_arguments
from harness.scenario.loading import Problem, ScenarioError

Handler = Callable[[argparse.Namespace], int]
#: The distribution ``pip install .`` installs (pyproject.toml ``[project] name``).
DISTRIBUTION = "drs-inventory-sync-equivalence"
#: ``-vv``: botocore's logging too.
VERY_VERBOSE = 2


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, one-line help, argument declarations and handler."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    handler: Handler
    builds_worlds: bool = True


#: Registered subcommands, in the order ``--help`` lists them.
COMMANDS: dict[str, Command] = {}


def command(
    name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None], builds_worlds: bool = True
) -> Callable[[Handler], Handler]:
    """Register the decorated handler as subcommand ``name``.

    Args:
        name: The subcommand (``validate``, ``run``...).
        help_text: One line for ``--help``.
        arguments: Declares the subcommand's arguments on its parser.
        builds_worlds: Whether the command imports moto and builds worlds (its AWS configuration is checked first).

    Returns:
        A decorator that returns the handler unchanged.
    """

    def register(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise ValueError(f"command {name!r} is already registered")
        COMMANDS[name] = Command(name, help_text, arguments, handler, builds_worlds)
        return handler

    return register


command("validate", "check scenario files against the schema and the rules", validate_arguments, False)(validate)
command("run", "run scenarios through baseline and candidate; exit 1 on a divergence or error", run_arguments)(run)
command("gate", "run every scenario; NO-GO on a divergence, a coverage gap or a stale approval", gate_arguments)(gate)
command(
    "merge",
    "combine the partial verdicts of `gate --shard K/N` into one verdict and one set of reports",
    merge_arguments,
    False,
)(merge)
command("fuzz", "generated worlds through baseline and candidate; exit 1 on an unapproved divergence", fuzz_arguments)(
    fuzz
)
command("bench", "time legacy and refactored side by side under a latency model", bench_arguments)(bench)
command("capture", "read an estate (read-only) and write it as one scenario file", capture_arguments)(capture)
command(
    "mutate",
    "the catalogue's mutants of refactored/ against the unit tests and the gate; exit 1 on a survivor",
    mutate_arguments,
)(mutate)


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
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    _verbosity(parser, 0)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for entry in COMMANDS.values():
        sub = subparsers.add_parser(entry.name, help=entry.help, description=entry.help)
        entry.arguments(sub)
        _verbosity(sub, argparse.SUPPRESS)
        sub.set_defaults(handler=entry.handler)
    return parser


def _verbosity(parser: argparse.ArgumentParser, default: object) -> None:
    """``-v`` before or after the command (``-vv`` for more; given after the command, that count is the one used)."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default,
        help="the harness's diagnostic logging (-vv: botocore's too); also after the command",
    )


def version() -> str:
    """The installed version of the harness's distribution (``unknown`` when run from a bare checkout)."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def configure_logging(verbosity: int) -> None:
    """Warnings from everyone; with ``-v`` the harness's own loggers down to DEBUG, with ``-vv`` botocore's too.

    Third-party libraries (moto, botocore, urllib3) stay at WARNING at ``-v``: their debug output would bury the
    harness's own lines.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_RedactingFilter())
    logging.getLogger("harness").setLevel(logging.DEBUG if verbosity >= 1 else logging.WARNING)
    logging.getLogger("botocore").setLevel(logging.DEBUG if verbosity >= VERY_VERBOSE else logging.WARNING)


class _RedactingFilter(logging.Filter):
    """Log lines go through the redactor like every other line the CLI prints."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact_text(record.getMessage()), None
        return True


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the process arguments), run the command and return its exit code."""
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    remember_real_credentials()
    try:
        with handling_signals():
            if COMMANDS[args.command].builds_worlds:
                check_aws_configuration()
            return int(args.handler(args))
    except ScenarioError as error:
        report_problems(error.problems)
    except BadInputError as error:
        write_line(sys.stderr, f"error: {error}")
    except Interrupted as error:
        write_line(sys.stderr, f"{error}: workers ended, temporary files removed")
        return error.exit_code
    return EXIT_BAD_INPUT
