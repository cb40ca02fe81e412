"""What every command of ``python -m harness`` shares: exit codes, output lines and argument definitions.

Exit codes, shared by every command:

- ``0`` (:data:`EXIT_OK`): everything valid / equivalent / GO.
- ``1`` (:data:`EXIT_NO_GO`): the harness ran and found a divergence or decided NO-GO.
- ``2`` (:data:`EXIT_BAD_INPUT`): bad input: invalid scenario files, bad arguments (argparse also exits 2), a
  report directory that cannot be written, a report directory another run holds (:class:`BadInputError`).
- ``3`` (:data:`EXIT_REFUSED`): ``capture`` attempted an operation outside its read-only allow-list; it was refused
  before it was sent.
- ``130`` / ``143``: interrupted by SIGINT / SIGTERM (128 + the signal number; :mod:`harness.interruption`).

:mod:`harness.cli` and every command module (``harness.<package>.command``, :mod:`harness.engine.commands`) import
this module; it imports nothing of the harness but the redactor, so no package imports its caller.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from harness.redaction import redact_text

EXIT_OK = 0
EXIT_NO_GO = 1
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3

#: Default of ``--timeout``: seconds one contained run may take (the same as harness.engine.isolation's default).
DEFAULT_TIMEOUT_S = 120.0


class BadInputError(Exception):
    """Input the command cannot work with; the CLI prints ``error: <message>`` on one line and exits 2."""


def read_json_report(path: Path, file_name: str) -> tuple[Path, Any]:
    """Read a JSON file the harness wrote (a directory means the ``file_name`` in it).

    Returns:
        The file read and its parsed content (not yet checked for shape).

    Raises:
        BadInputError: Naming the file and why: unreadable or not JSON.
    """
    file = path / file_name if path.is_dir() else path
    try:
        return file, json.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise BadInputError(f"{file}: cannot read it ({error.strerror or error})") from None
    except ValueError as error:
        raise BadInputError(f"{file}: not JSON ({error})") from None


def write_line(stream: TextIO, text: str) -> None:
    """Write one line of the CLI's output (its interface, not a diagnostic), secrets redacted."""
    stream.write(f"{redact_text(text)}\n")
    stream.flush()


def check_aws_configuration() -> None:
    """Refuse, in one line, an AWS configuration botocore cannot read (moto's import reads it).

    The harness uses no profile and no real credential, but importing moto builds a boto3 session, which fails on an
    ``AWS_PROFILE`` naming a missing profile or on a malformed ``~/.aws/config``.

    Raises:
        BadInputError: Naming the variable or the file and what to do.
    """
    import botocore.exceptions
    import botocore.session

    try:
        botocore.session.Session().get_scoped_config()
    except botocore.exceptions.ProfileNotFound as error:
        variable = "AWS_PROFILE" if os.environ.get("AWS_PROFILE") else "AWS_DEFAULT_PROFILE"
        raise BadInputError(
            f"{variable}: {error}; the harness uses no AWS profile: unset {variable} or name an existing profile"
        ) from None
    except botocore.exceptions.BotoCoreError as error:
        raise BadInputError(f"the AWS configuration cannot be read: {error}") from None


def implementation_arguments(parser: argparse.ArgumentParser, approvals: bool = True) -> None:
    """``--baseline`` and ``--candidate`` (and, for judging commands, ``--approvals``)."""
    forms = "legacy, refactored, package.module:function or artifact:PATH:MODULE:FUNCTION (a deployed .zip or dir)"
    parser.add_argument("--baseline", default="legacy", help=f"reference implementation: {forms} (default: legacy)")
    parser.add_argument(
        "--candidate", default="refactored", help=f"implementation judged: {forms} (default: refactored)"
    )
    if approvals:
        parser.add_argument(
            "--approvals",
            type=Path,
            help="approvals file (default: harness/approvals.yaml); none applies between legacy and an artifact",
        )


def timeout_argument(parser: argparse.ArgumentParser) -> None:
    """``--timeout SECONDS``: how long one run of an implementation (in its own child process) may take."""
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help="seconds one run of an implementation may take in its child process before it is killed and its"
        f" scenario is an error (default: {DEFAULT_TIMEOUT_S:g})",
    )


def positive_seconds(text: str) -> float:
    """An argparse ``type`` accepting a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def limit_arguments(parser: argparse.ArgumentParser) -> None:
    """``--max-scenario-bytes`` and ``--max-servers`` (defaults: the environment, else the built-in limits)."""
    parser.add_argument(
        "--max-scenario-bytes",
        type=whole_number(1),
        metavar="N",
        help="largest scenario file read (default: $HARNESS_MAX_SCENARIO_BYTES, else 1 MiB)",
    )
    parser.add_argument(
        "--max-servers",
        type=whole_number(1),
        metavar="N",
        help="most servers one world may hold (default: $HARNESS_MAX_SERVERS, else 10000)",
    )


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse ``type`` accepting whole numbers of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _seconds(value: float) -> str:
    if value < 60:
        return f"{value:.0f}s"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes}m{seconds:02d}s"


class Eta:
    """Elapsed time and a linear estimate of the time left, for progress lines (``elapsed 1m05s, ETA 2m10s``).

    Args:
        total: How many units of work there are.
        clock: Seconds, monotonic (tests pass their own).
    """

    def __init__(self, total: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.clock = clock
        self.started = clock()

    def __call__(self, done: int) -> str:
        """The progress text after ``done`` units."""
        elapsed = self.clock() - self.started
        if done <= 0 or done >= self.total:
            return f"elapsed {_seconds(elapsed)}"
        return f"elapsed {_seconds(elapsed)}, ETA {_seconds(elapsed / done * (self.total - done))}"
