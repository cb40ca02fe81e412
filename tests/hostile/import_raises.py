"""A candidate module that raises a ``ValueError`` (not an ``ImportError``) when imported.

Each process that imports it first appends its process id to the file named by ``HOSTILE_IMPORT_LOG`` (when set),
so a test can prove the harness's own process never imported it.
"""

from __future__ import annotations

import os
from typing import Any

if os.environ.get("HOSTILE_IMPORT_LOG"):
    with open(os.environ["HOSTILE_IMPORT_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()}\n")

raise ValueError("configuration exploded at import")


def handler() -> Any:  # pragma: no cover - never reached
    """The handler it would export."""
    return None
