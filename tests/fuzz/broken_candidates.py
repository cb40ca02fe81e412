"""Deliberately broken candidates the fuzzer must catch: the baseline (legacy) handler with one behaviour changed.

Each function is a zero-argument handler usable as ``--candidate tests.fuzz.broken_candidates:<name>`` (run from the
repository root). They run the real legacy handler inside the world and change one thing on the wire, so every
difference the engine reports comes from that change, whatever state the refactor is in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient

import legacy.inventory_sync as legacy_module

Rewrite = Callable[[str, dict[str, Any]], dict[str, Any]]

#: The inventory attribute :func:`changes_hostname` rewrites, and what it writes instead.
CHANGED_FIELD = "hostname"
CHANGED_VALUE = "renamed-by-a-bug"


@contextmanager
def _rewriting(params: Rewrite | None = None, answer: Rewrite | None = None) -> Iterator[None]:
    """Rewrite the parameters and/or the answer of every botocore call made while the block runs."""
    original = BaseClient._make_api_call

    def patched(client: BaseClient, operation: str, api_params: dict[str, Any]) -> Any:
        if params is not None:
            api_params = params(operation, api_params)
        result = original(client, operation, api_params)
        return answer(operation, result) if answer is not None else result

    BaseClient._make_api_call = patched  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


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

    with _rewriting(answer=drop):
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

    with _rewriting(params=rename):
        return _legacy()


def _renamed(request: dict[str, Any]) -> dict[str, Any]:
    item = (request.get("PutRequest") or {}).get("Item")
    if not item or CHANGED_FIELD not in item:
        return request
    return {"PutRequest": {"Item": {**item, CHANGED_FIELD: CHANGED_VALUE}}}
