"""``python -m harness validate``: argument declarations and the handler.

Exit codes: 0 with a one-line summary when every file is valid; 2 otherwise (the loader raises
:class:`~harness.scenario.loading.ScenarioError` with every problem of every file, which the CLI reports).
"""

from __future__ import annotations

import argparse
import sys

from harness.commandline import EXIT_OK, write_line
from harness.scenario.loading import load_scenarios


def validate_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``validate``."""
    parser.add_argument("paths", nargs="+", metavar="PATH", help="scenario files, or directories of *.yaml/*.yml")


def validate(args: argparse.Namespace) -> int:
    """Exit 0 with a one-line summary when every file is valid; otherwise 2 (problems are raised and reported)."""
    scenarios = load_scenarios(args.paths)
    servers = sum(group.total for scenario in scenarios for group in scenario.servers)
    faults = sum(len(scenario.faults) for scenario in scenarios)
    write_line(sys.stdout, f"OK: {len(scenarios)} scenario file(s) valid ({servers} servers, {faults} fault rules)")
    return EXIT_OK
