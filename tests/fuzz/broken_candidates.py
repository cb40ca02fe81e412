"""Deliberately broken candidates the fuzzer must catch: the baseline (legacy) handler with one behaviour changed.

Each function is a zero-argument handler usable as ``--candidate tests.fuzz.broken_candidates:<name>`` (run from the
repository root). They run the real legacy handler inside the world and change one thing on the wire, so every
difference the engine reports comes from that change, whatever state the refactor is in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import legacy.inventory_sync as legacy_module
from tests.comparison.mutants import intercept_calls

Rewrite = Callable[[str, dict[str, Any]], dict[str, Any]]

#: The inventory attribute :func:`changes_hostname` rewrites, and what it writes instead.
CHANGED_FIELD = "hostname"
CHANGED_VALUE = "renamed-by-a-bug"


def _legacy() -> Any:
    return legacy_module.handle_sync_source_server_inventory_legacy()


def drops_a_server() -> Any:
    """The first non-empty ``DescribeSourceServers`` page loses its last server before the handler sees it."""
    lock = threading.Lock()
    dropped: list[bool] = []

    def drop(operation: str, result: dict[str, Any]) -> dict[str, Any]:
        if operation != "DescribeSourceServers" or not result.get("items"):
            return result
        with lock:
            if dropped:
                return result
            dropped.append(True)
        return {**result, "items": result["items"][:-1]}

    with intercept_calls(result=drop):
        return _legacy()


def changes_hostname() -> Any:
    """Every inventory item the handler writes has its ``hostname`` replaced."""

    def rename(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation != "BatchWriteItem":
            return params
        requests = {
            table: [_renamed(request) for request in writes] for table, writes in params["RequestItems"].items()
        }
        return {**params, "RequestItems": requests}

    with intercept_calls(request=rename):
        return _legacy()


def _renamed(request: dict[str, Any]) -> dict[str, Any]:
    item = (request.get("PutRequest") or {}).get("Item")
    if not item or CHANGED_FIELD not in item:
        return request
    return {"PutRequest": {"Item": {**item, CHANGED_FIELD: CHANGED_VALUE}}}
