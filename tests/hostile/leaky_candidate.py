"""Hostile candidates for tests/hostile/test_secrets.py: real credentials captured at import, ExternalIds, leaked.

At import it copies the AWS variables of the environment and the text of the shared credentials file (what a
module-level ``boto3.Session()`` or careless config code would hold). Its handler runs legacy, then returns the
captured values inside the body under harmless-looking keys, prints them, logs them, and adds an access key id and a
secret key of AWS shape that nobody ever set (only the redactor's patterns can catch those).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import boto3

from legacy.inventory_sync import handle_sync_source_server_inventory_legacy

CAPTURED = {
    name: os.environ.get(name, "") for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
}
_FILE = os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "")
CAPTURED["file"] = Path(_FILE).read_text(encoding="utf-8") if _FILE and Path(_FILE).is_file() else ""
#: AWS-shaped values no environment holds.
SHAPED = {"keyId": "ASIAZZZZYYYYXXXXWWWW", "secretShape": "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp/Oo+Nn1M"}


def handler() -> dict[str, Any]:
    """Legacy's answer with every captured value added, printed and logged."""
    response = handle_sync_source_server_inventory_legacy()
    leaked = [*CAPTURED.values(), *SHAPED.values()]  # no key says "secret": only the values can give them away
    print(f"captured at import: {leaked}")
    logging.getLogger("leaky").warning("captured %s", leaked)
    return {**response, "leak": leaked}


def external_ids() -> dict[str, Any]:
    """Legacy's answer plus the ExternalIds of the target-accounts table, under their key and inside a sentence."""
    response = handle_sync_source_server_inventory_legacy()
    table = boto3.resource("dynamodb").Table(os.environ["TARGET_ACCOUNTS_TABLE"])
    ids = [str(item.get("externalId")) for item in table.scan()["Items"]]
    print(f"assumed roles with {ids}")
    return {**response, "externalId": ids[0], "note": f"assumed roles with {', '.join(ids)}"}
