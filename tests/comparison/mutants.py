"""Single-change candidates: legacy with exactly one observable difference each, to test the engine against itself.

Each function is a zero-argument handler usable as ``--candidate tests.comparison.mutants:<name>``. Every one runs
the real legacy handler inside the world and changes one thing: the response, what DRS answers it, one region-status
write, the role session name it sends, or one extra call it makes. The engine must report each of them divergent on
at least one shipped scenario (``test_mutants.py``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.client import BaseClient

import legacy.inventory_sync as legacy_module
from lambda_shared.response_utils import response

#: The region whose status write :func:`different_region_status_write` changes (active in most scenarios).
MUTATED_REGION = "us-east-1"

Transform = Callable[[str, dict[str, Any]], dict[str, Any]]


def _legacy() -> dict[str, Any]:
    return legacy_module.handle_sync_source_server_inventory_legacy()


@contextmanager
def intercept_calls(request: Transform | None = None, result: Transform | None = None) -> Iterator[None]:
    """Rewrite API parameters and/or results of every botocore client call while the block runs."""
    original = BaseClient._make_api_call

    def patched(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if request is not None:
            api_params = request(operation_name, api_params)
        answer = original(client, operation_name, api_params)
        return result(operation_name, answer) if result is not None else answer

    BaseClient._make_api_call = patched  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def changed_response_field() -> dict[str, Any]:
    """The response body's ``message`` reads differently; nothing else changes."""
    answer = _legacy()
    body = json.loads(answer["body"])
    body["message"] = "Source server inventory sync completed"
    return {**answer, "body": json.dumps(body)}


def lost_server() -> dict[str, Any]:
    """The first non-empty ``DescribeSourceServers`` page loses its last server before legacy sees it."""
    lock = threading.Lock()
    done: list[bool] = []

    def drop_one(operation: str, answer: dict[str, Any]) -> dict[str, Any]:
        if operation != "DescribeSourceServers" or not answer.get("items"):
            return answer
        with lock:
            if done:
                return answer
            done.append(True)
        return {**answer, "items": answer["items"][:-1]}

    with intercept_calls(result=drop_one):
        return _legacy()


def extra_delete() -> dict[str, Any]:
    """After legacy, one more ``DeleteItem`` on the inventory table."""
    answer = _legacy()
    table = boto3.resource("dynamodb").Table(os.environ["SOURCE_SERVER_INVENTORY_TABLE"])
    table.delete_item(
        Key={"sourceServerArn": "arn:aws:drs:us-east-1:000000000000:source-server/s-mutant", "stagingAccountId": "0"}
    )
    return answer


def different_region_status_write() -> dict[str, Any]:
    """``update_region_status`` writes one more server than found for :data:`MUTATED_REGION`."""
    original = legacy_module.update_region_status

    def skewed(region: str, server_count: int, error_message: str | None = None) -> None:
        original(region, server_count + 1 if region == MUTATED_REGION else server_count, error_message)

    legacy_module.update_region_status = skewed
    try:
        return _legacy()
    finally:
        legacy_module.update_region_status = original


def extra_drs_call() -> dict[str, Any]:
    """One more ``DescribeSourceServers`` (with ``maxResults``) in the Lambda's region, before legacy runs."""
    boto3.client("drs", region_name=os.environ["AWS_REGION"]).describe_source_servers(maxResults=1)
    return _legacy()


def different_assume_role_session_name() -> dict[str, Any]:
    """``AssumeRole`` for an account's DRS queries uses session name ``inventory-sync-v2``."""

    def rename(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "AssumeRole" and params.get("RoleSessionName") == "inventory-sync":
            return {**params, "RoleSessionName": "inventory-sync-v2"}
        return params

    with intercept_calls(request=rename):
        return _legacy()


def swallowed_exception() -> dict[str, Any]:
    """Whatever legacy raises is swallowed into a 500 response."""
    try:
        return _legacy()
    except Exception as error:  # noqa: BLE001 - swallowing is the mutation
        return response(500, {"error": str(error)})


#: Every single-change candidate, by name.
MUTANTS: dict[str, Callable[[], dict[str, Any]]] = {
    "changed_response_field": changed_response_field,
    "lost_server": lost_server,
    "extra_delete": extra_delete,
    "different_region_status_write": different_region_status_write,
    "extra_drs_call": extra_drs_call,
    "different_assume_role_session_name": different_assume_role_session_name,
    "swallowed_exception": swallowed_exception,
}
