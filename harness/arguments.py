"""Command-line arguments several harness commands share."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def implementation_arguments(parser: argparse.ArgumentParser, approvals: bool = True) -> None:
    """``--baseline`` and ``--candidate`` (and, for judging commands, ``--approvals``)."""
    parser.add_argument("--baseline", default="legacy", help="reference implementation (default: legacy)")
    parser.add_argument(
        "--candidate",
        default="refactored",
        help="implementation judged: legacy, refactored or package.module:function (default: refactored)",
    )
    if approvals:
        parser.add_argument("--approvals", type=Path, help="approvals file (default: harness/approvals.yaml)")


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
