"""A candidate module that makes an HTTP request when imported (and swallows the failure)."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import legacy.inventory_sync as legacy_module

try:
    urllib.request.urlopen("http://example.com/config", timeout=1)  # noqa: S310 - the point of the test
except (urllib.error.URLError, OSError):
    pass


def handler() -> Any:
    """Legacy's handler: only the import misbehaves."""
    return legacy_module.handle_sync_source_server_inventory_legacy()
