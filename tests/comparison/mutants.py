"""Single-change candidates, to test the engine against itself.

Each function is a zero-argument handler usable as ``--candidate tests.comparison.mutants:<name>``. The first ones
run the real legacy handler inside the world and change one thing: the response, what DRS answers it, one
region-status write, the role session name it sends, or one extra call it makes. The others run the refactor with
one of the stale-cleanup defects issue 13 found put back (each a single change), or with its region-status puts
all landing after the batched rows. The engine must report each of them divergent on at least one shipped scenario
(``test_mutants.py``); the defect mutants make ``./run gate`` say NO-GO.
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
import refactored.accounts as accounts_module
import refactored.cleanup as cleanup_module
import refactored.drs as drs_module
import refactored.inventory_sync as refactored_module
from lambda_shared.active_region_filter import update_region_status
from lambda_shared.dynamodb_tables import TableNotConfiguredError, get_region_status_table
from lambda_shared.response_utils import response
from refactored.model import RegionScan
from refactored.region_status import _region_status_item

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


# -- the refactor with one change -------------------------------------------------------------------------------------


def _refactored() -> dict[str, Any]:
    return refactored_module.handle_sync_source_server_inventory_refactored()


@contextmanager
def _replaced(module: Any, name: str, replacement: Any) -> Iterator[None]:
    """``module.name`` replaced while the block runs."""
    original = getattr(module, name)
    setattr(module, name, replacement)
    try:
        yield
    finally:
        setattr(module, name, original)


def trusts_source_account_id() -> dict[str, Any]:
    """Issue 13, defect 1: a record's server is taken to live in its ``sourceAccountId``'s DRS (its origin), not in
    the DRS its ARN names."""

    def origin_holder(record: dict[str, Any]) -> tuple[str, str] | None:
        region = record.get("replicationRegion")
        return (record["sourceAccountId"], region) if isinstance(region, str) else None

    with _replaced(cleanup_module, "holder_of", origin_holder):
        return _refactored()


def own_credentials_count_as_proof() -> dict[str, Any]:
    """Issue 13, defect 2: a listing proves things about the target row's account, whoever's credentials made it
    (the Lambda's own for a row without ``roleArn``, another account's role)."""
    original = accounts_module.resolve_account_credentials

    def the_rows_claim(account: dict[str, Any], *args: Any) -> Any:
        resolved = original(account, *args)
        return accounts_module.AccountCredentials(resolved.credentials, account["accountId"])

    with _replaced(refactored_module, "resolve_account_credentials", the_rows_claim):
        return _refactored()


def not_initialized_counts_as_proof() -> dict[str, Any]:
    """Issue 13, defect 3: a ``NOT_INITIALIZED`` region counts as completely listed (and empty)."""
    original = drs_module.query_drs_single_region

    def proving(region: str, account_id: str, credentials: Any) -> RegionScan:
        scan = original(region, account_id, credentials)
        if scan.status != "NOT_INITIALIZED":
            return scan
        return RegionScan(scan.region, scan.status, [], scan.error_message, True, scan.reported_arns)

    with _replaced(drs_module, "query_drs_single_region", proving):
        return _refactored()


def malformed_page_counts_as_proof() -> dict[str, Any]:
    """Issue 13, defect 4: a page without an ``items`` list (a cut-off body) counts as a well-formed empty page."""

    def lenient(page: Any) -> list[dict[str, Any]]:
        return page.get("items", []) if isinstance(page, dict) else []

    with _replaced(drs_module, "_page_items", lenient):
        return _refactored()


def status_puts_survive_everywhere() -> dict[str, Any]:
    """The refactor's region-status writes, the same ones, but every ``update_region_status`` put lands after the
    batched rows: each region keeps its put (legacy keeps one per full 25-row flush window)."""

    def puts_last(account_id: str, scans: list[RegionScan], timestamp: str) -> None:
        try:
            table = get_region_status_table()
        except TableNotConfiguredError:
            return
        with table.batch_writer() as batch:
            for scan in scans:
                batch.put_item(Item=_region_status_item(account_id, scan, timestamp))
        for scan in scans:
            update_region_status(scan.region, scan.server_count, scan.error_message)

    with _replaced(drs_module, "write_region_statuses", puts_last):
        return _refactored()


#: The refactor with one of issue 13's stale-cleanup defects put back, by name.
CLEANUP_DEFECTS = (
    "trusts_source_account_id",
    "own_credentials_count_as_proof",
    "not_initialized_counts_as_proof",
    "malformed_page_counts_as_proof",
)

#: Every single-change candidate, by name.
MUTANTS: dict[str, Callable[[], dict[str, Any]]] = {
    "changed_response_field": changed_response_field,
    "lost_server": lost_server,
    "extra_delete": extra_delete,
    "different_region_status_write": different_region_status_write,
    "extra_drs_call": extra_drs_call,
    "different_assume_role_session_name": different_assume_role_session_name,
    "swallowed_exception": swallowed_exception,
    "trusts_source_account_id": trusts_source_account_id,
    "own_credentials_count_as_proof": own_credentials_count_as_proof,
    "not_initialized_counts_as_proof": not_initialized_counts_as_proof,
    "malformed_page_counts_as_proof": malformed_page_counts_as_proof,
    "status_puts_survive_everywhere": status_puts_survive_everywhere,
}
