"""``python -m harness bench``: argument declarations and the handler.

Exit codes: 0 when the benchmark ran (the Markdown table goes to stdout, ``bench.json`` and ``bench.md`` into
``--out``), 2 on bad input (an unknown world or implementation; argparse rejects malformed numbers and latencies).

This module only imports ``argparse`` and :mod:`harness.commandline` at load time; the worlds and the
implementations are imported when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.commandline import EXIT_BAD_INPUT, EXIT_OK, Eta, implementation_arguments, whole_number, write_line


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
    parser.add_argument("--out", default="bench", help="directory for bench.json and bench.md (default: bench/)")
    parser.add_argument(
        "--pairs", type=whole_number(1), default=5, help="alternating legacy/refactored pairs per world"
    )
    parser.add_argument("--world", action="append", dest="worlds", help="run only this world (repeatable)")
    parser.add_argument(
        "--latency", type=_latency_overrides, default={}, help="override per-call latency, e.g. drs=200,ec2=100"
    )
    implementation_arguments(parser, approvals=False)


def bench(args: argparse.Namespace) -> int:
    """Run the benchmark and print the Markdown table; exit 2 on an unknown world or implementation."""
    from harness.bench.runner import run_bench
    from harness.engine.implementations import ImplementationError

    try:
        eta = Eta(len(args.worlds) if args.worlds else 0)

        def progress(done: int, total: int, name: str) -> None:
            eta.total = total
            write_line(sys.stderr, f"[{done}/{total}] {name} measured ({eta(done)})")

        run_bench(Path(args.out), args.pairs, args.worlds, args.latency, args.baseline, args.candidate, progress)
    except (ValueError, ImplementationError) as error:
        write_line(sys.stderr, str(error))
        return EXIT_BAD_INPUT
    write_line(sys.stdout, (Path(args.out) / "bench.md").read_text())
    return EXIT_OK
