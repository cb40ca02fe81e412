"""``python -m harness capture``: read an estate through the AWS CLI's credential chain, write one scenario file.

Progress goes to stderr (accounts, regions, servers so far), then a summary line. The file is validated like any
scenario before it is written (through a temporary file, so it is never half-written). Exit codes: 0 written;
:data:`~harness.commandline.EXIT_BAD_INPUT` (2) for a missing permission of the capture's own credentials (the message
names the action and the account), a missing table, no credentials, or a capture that does not validate;
:data:`~harness.commandline.EXIT_REFUSED` (3) when a code path attempted a non-read operation (refused before it was
sent: the read-only guarantee held, and the capture has a defect).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from harness.commandline import EXIT_BAD_INPUT, EXIT_OK, EXIT_REFUSED, whole_number, write_line

#: Logical table -> (option, the Lambda's environment variable, the name when neither is given).
TABLE_OPTIONS = {
    "targetAccounts": ("accounts_table", "TARGET_ACCOUNTS_TABLE", "drs-target-accounts"),
    "regionStatus": ("region_status_table", "DRS_REGION_STATUS_TABLE", "drs-region-status"),
    "inventory": ("inventory_table", "SOURCE_SERVER_INVENTORY_TABLE", "drs-source-server-inventory"),
}


def capture_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``capture``'s arguments."""
    parser.add_argument("--out", type=Path, required=True, help="scenario file to write (its stem becomes the name)")
    for logical, (option, variable, default) in TABLE_OPTIONS.items():
        parser.add_argument(
            f"--{option.replace('_', '-')}",
            dest=option,
            help=f"{logical} table name (default: ${variable}, else {default})",
        )
    parser.add_argument(
        "--regions", nargs="+", help="DRS regions to read instead of the region-status table's active ones"
    )
    parser.add_argument("--anonymise", action="store_true", help="map every identifier consistently (seeded, one-way)")
    parser.add_argument(
        "--anonymise-seed",
        help="key of the anonymising map, for a reproducible mapping (default: random, never written)",
    )
    parser.add_argument("--max-servers", type=whole_number(1), help="stop after this many source servers")
    parser.add_argument("--profile", help="AWS CLI profile (default: the standard credential chain)")
    parser.add_argument(
        "--region", help="the Lambda's region, where its tables are (default: the profile's or environment's)"
    )


def table_names(args: argparse.Namespace) -> dict[str, str]:
    """Logical table -> physical name from the options, the Lambda's environment variables, or the usual names."""
    return {
        logical: getattr(args, option) or os.environ.get(variable) or default
        for logical, (option, variable, default) in TABLE_OPTIONS.items()
    }


def capture(args: argparse.Namespace) -> int:
    """Run a capture; see the module docstring for the exit codes."""
    import boto3
    from botocore.exceptions import BotoCoreError

    from harness.capture.guard import MutatingCallRefusedError
    from harness.capture.reader import CaptureError, CaptureOptions, Reader
    from lambda_shared.drs_regions import DRS_REGIONS

    unknown = [region for region in args.regions or [] if region not in DRS_REGIONS]
    if unknown:
        write_line(sys.stderr, f"error: not DRS regions: {', '.join(unknown)}")
        return EXIT_BAD_INPUT
    options = CaptureOptions(table_names(args), tuple(args.regions) if args.regions else None, args.max_servers)
    try:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
        reader = Reader(session, options, lambda line: write_line(sys.stderr, line))
        estate = reader.read()
    except MutatingCallRefusedError as error:
        write_line(sys.stderr, f"error: {error}")
        return EXIT_REFUSED
    except (CaptureError, BotoCoreError) as error:
        write_line(sys.stderr, f"error: {error}")
        return EXIT_BAD_INPUT
    return _write(estate, args)


def _write(estate: Any, args: argparse.Namespace) -> int:
    from harness.capture.anonymise import Anonymiser
    from harness.capture.document import dump_document, scenario_document, with_listed_order_if_moved, write_atomically
    from harness.scenario.loading import check_document

    out: Path = args.out
    doc = scenario_document(estate, out.stem)
    if args.anonymise:
        doc = with_listed_order_if_moved(Anonymiser(args.anonymise_seed).document(doc))
    problems = check_document(doc, str(out), out.stem)
    if problems:
        for problem in problems:
            write_line(sys.stderr, str(problem))
        write_line(sys.stderr, f"error: the capture does not validate ({len(problems)} problem(s)); {out} not written")
        return EXIT_BAD_INPUT
    write_atomically(out, dump_document(doc))
    instances = sum(len(found) for found in estate.instances.values())
    write_line(
        sys.stderr,
        f"captured {len(estate.tables['targetAccounts'])} account row(s), {len(estate.servers)} (account, region) "
        f"server group(s), {estate.server_count} server(s), {instances} instance(s), "
        f"{len(estate.tables['regionStatus'])} region-status and {len(estate.tables['inventory'])} inventory row(s), "
        f"{len(estate.faults)} fault(s), {len(estate.role_trust)} role ExternalId condition(s)"
        f"{' (truncated by --max-servers)' if estate.truncated else ''}"
        f"{', anonymised' if args.anonymise else ''} -> {out}",
    )
    _note_limits(out, estate.server_count)
    return EXIT_OK


def _note_limits(out: Path, servers: int) -> None:
    """Say which option a replay needs when the capture is bigger than the default limits of a scenario file."""
    from harness.scenario.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_SERVERS

    size = out.stat().st_size
    needed = []
    if size > DEFAULT_MAX_BYTES:
        needed.append(f"--max-scenario-bytes {size} (the file is {size:,} bytes; the default limit is 1 MiB)")
    if servers > DEFAULT_MAX_SERVERS:
        needed.append(f"--max-servers {servers} (the default limit is {DEFAULT_MAX_SERVERS:,})")
    if needed:
        write_line(sys.stderr, f"note: validate, run and gate {out} with {' and '.join(needed)}")
