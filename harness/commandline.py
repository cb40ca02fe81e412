"""What every command of ``python -m harness`` shares: exit codes, output lines and argument definitions.

Exit codes, shared by every command:

- ``0`` (:data:`EXIT_OK`): everything valid / equivalent / GO.
- ``1`` (:data:`EXIT_NO_GO`): the harness ran and found a divergence or decided NO-GO.
- ``2`` (:data:`EXIT_BAD_INPUT`): bad input: invalid scenario files, bad arguments (argparse also exits 2).
- ``3`` (:data:`EXIT_REFUSED`): ``capture`` attempted an operation outside its read-only allow-list; it was refused
  before it was sent.

:mod:`harness.cli` and every command module (``harness.<package>.command``, :mod:`harness.engine.commands`) import
this module; it imports nothing of the harness, so no package imports its caller.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

EXIT_OK = 0
EXIT_NO_GO = 1
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3


def write_line(stream: TextIO, text: str) -> None:
    """Write one line of the CLI's output (its interface, not a diagnostic)."""
    stream.write(f"{text}\n")
    stream.flush()


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
