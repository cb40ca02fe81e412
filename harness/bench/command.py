"""``python -m harness bench``: argument declarations and the handler.

Exit codes: 0 when the benchmark ran (the Markdown table goes to stdout, ``bench.json``, ``bench.md`` and
``bench.svg`` into ``--out``; one progress line per measured run unit on stderr), 2 on bad input (an unknown world or
implementation; argparse rejects malformed numbers and latencies). ``--compare A B`` runs no world: it prints the two
files' comparison (``compare.md`` into ``--out`` when given) and exits 2 when either is not a readable ``bench.json``.

This module only imports ``argparse`` and :mod:`harness.commandline` at load time; the worlds and the
implementations are imported when the command runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from harness.commandline import EXIT_BAD_INPUT, EXIT_OK, Eta, implementation_arguments, whole_number, write_line

#: Where the benchmark's files go without ``--out``.
DEFAULT_OUT = "bench"


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


def bench_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``bench``."""
    parser.add_argument(
        "--out",
        type=Path,
        help="directory for bench.json, bench.md and bench.svg (default: bench/); with --compare, for compare.md",
    )
    parser.add_argument(
        "--pairs", type=whole_number(1), default=5, help="alternating legacy/refactored pairs per world"
    )
    parser.add_argument("--world", action="append", dest="worlds", help="run only this world (repeatable)")
    parser.add_argument(
        "--latency", type=_latency_overrides, default={}, help="override per-call latency, e.g. drs=200,ec2=100"
    )
    parser.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("A", "B"),
        help="run nothing: compare two bench.json files (or directories holding one), world by world",
    )
    implementation_arguments(parser, approvals=False)


def bench(args: argparse.Namespace) -> int:
    """Run the benchmark and print the Markdown table (or compare two); exit 2 on bad input."""
    if args.compare:
        return compare(args.compare[0], args.compare[1], args.out)
    from harness.bench.runner import run_bench
    from harness.engine.implementations import ImplementationError

    out = args.out or Path(DEFAULT_OUT)
    try:
        run_bench(out, args.pairs, args.worlds, args.latency, args.baseline, args.candidate, progress_printer())
    except (ValueError, ImplementationError) as error:
        write_line(sys.stderr, str(error))
        return EXIT_BAD_INPUT
    write_line(sys.stdout, (out / "bench.md").read_text())
    return EXIT_OK


def progress_printer(clock: Callable[[], float] = time.monotonic) -> Callable[[int, int, str, str, str], None]:
    """One stderr line per measured run unit: the unit count, world, step, elapsed time and the whole run's ETA."""
    eta = Eta(0, clock)

    def progress(done: int, total: int, world: str, position: str, what: str) -> None:
        eta.total = total
        write_line(sys.stderr, f"[{done}/{total}] world {position} {world}: {what} ({eta(done)})")

    return progress


def compare(a: Path, b: Path, out: Path | None) -> int:
    """Print the comparison of two ``bench.json`` files, and write it to ``out/compare.md`` when asked.

    Raises:
        BadInputError: Either file is missing, not JSON or not a ``bench.json`` (nothing is written then).
    """
    from harness.bench.compare import compare_markdown, load_bench, write_compare

    text = compare_markdown(load_bench(a), load_bench(b))
    if out is not None:
        write_compare(out, text)
    write_line(sys.stdout, text)
    return EXIT_OK
