"""``python -m harness validate``: argument declarations and the handler.

Exit codes: 0 with a one-line summary when every file is valid; 2 otherwise (the loader raises
:class:`~harness.scenario.loading.ScenarioError` with every problem of every file, which the CLI reports). Everything
``run`` would refuse to build is refused here first: the limits of :mod:`harness.scenario.limits`, the rules of
:mod:`harness.scenario.buildable`, and approval references the approvals file does not declare.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.commandline import EXIT_OK, BadInputError, limit_arguments, write_line
from harness.scenario.approval_ids import DEFAULT_APPROVALS, ApprovalsFileError, declared_ids
from harness.scenario.limits import Limits
from harness.scenario.loading import LoadOptions, load_scenarios


def validate_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``validate``."""
    parser.add_argument("paths", nargs="+", metavar="PATH", help="scenario files, or directories of *.yaml/*.yml")
    parser.add_argument(
        "--approvals", type=Path, help="approvals file the scenarios may reference (default: harness/approvals.yaml)"
    )
    limit_arguments(parser)


def validate(args: argparse.Namespace) -> int:
    """Exit 0 with a one-line summary when every file is valid; otherwise 2 (problems are raised and reported)."""
    limits = Limits.from_environment(args.max_scenario_bytes, args.max_servers)
    try:
        approval_ids = declared_ids(args.approvals or DEFAULT_APPROVALS, limits)
    except ApprovalsFileError as error:
        raise BadInputError(str(error)) from None
    scenarios = load_scenarios(args.paths, LoadOptions(limits, approval_ids))
    servers = sum(group.total for scenario in scenarios for group in scenario.servers)
    faults = sum(len(scenario.faults) for scenario in scenarios)
    write_line(sys.stdout, f"OK: {len(scenarios)} scenario file(s) valid ({servers} servers, {faults} fault rules)")
    return EXIT_OK
