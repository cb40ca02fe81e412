"""Single-change candidates, to test the engine and the scenario library against themselves.

Three families, each a zero-argument handler usable as ``--candidate tests.comparison.mutants:<name>``:

* :data:`MUTANTS`, first part: the real legacy handler with one observable difference (the response, what DRS
  answers it, one region-status write, the role session name it sends, or one extra call). The engine must report each
  divergent on at least one shipped scenario.
* :data:`MUTANTS`, second part: the refactor with one of the stale-cleanup defects issue 13 found put back (each a
  single change), or with its region-status puts all landing after the batched rows; each is divergent on the scenario
  made for it, and the defect mutants make ``./run gate`` say NO-GO.
* :data:`REFACTORED_SOURCE_MUTANTS`: the refactor with exactly one change to its source (:class:`SourceMutant`: one
  text replaced in one function, e.g. ``invalidate_region_cache()`` dropped, errors truncated at 400), each paired
  with the shipped scenario built to reach that behaviour. The gate must say NO-GO for each on its scenario:
  divergent, or an approval the scenario references left stale. Such a mutant also carries a ``lambda_entry`` (the
  refactor's ``refactored.routing.lambda_handler`` with the same change), so scenarios invoked through the entry
  point judge it.

``test_mutants.py`` runs them all.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.exceptions import ClientError

import legacy.inventory_sync as legacy_module
import refactored.accounts as accounts_module
import refactored.cleanup as cleanup_module
import refactored.drs as drs_module
import refactored.inventory_sync as refactored_module
import refactored.routing as routing_module
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


# ------------------------------------------------------------------------------------------ mutants of the refactor


@dataclass(frozen=True)
class SourceMutant:
    """The refactor with one text of one function's source replaced.

    Attributes:
        module: The module holding the function, e.g. ``refactored.drs``.
        function: The function's name in that module (``Class.method`` for a method); the mutated copy replaces it
            while the mutant runs.
        old: Text that occurs exactly once in the function's source, dedented (a method's body is indented by 4).
        new: What replaces it.
        scenario: The shipped scenario that reaches the behaviour (the gate must say NO-GO there).
        names: Extra names the mutated source needs that the module does not import.
    """

    module: str
    function: str
    old: str
    new: str
    scenario: str
    names: dict[str, Any] = field(default_factory=dict)

    def compiled(self) -> Callable[..., Any]:
        """The mutated function, compiled against (a copy of) its module's globals."""
        owner, name = self._owner()
        source = textwrap.dedent(inspect.getsource(getattr(owner, name)))
        if source.count(self.old) != 1:
            raise ValueError(f"{self.module}.{self.function}: {self.old!r} must occur exactly once")
        module = importlib.import_module(self.module)
        namespace = {**vars(module), **self.names}
        code = compile(
            "from __future__ import annotations\n" + source.replace(self.old, self.new), module.__file__, "exec"
        )
        exec(code, namespace)  # noqa: S102 - the mutant is this repository's own source with one change
        return namespace[name]

    def _owner(self) -> tuple[Any, str]:
        """The object holding the function (its module, or its class for a method) and the function's name."""
        owner: Any = importlib.import_module(self.module)
        *path, name = self.function.split(".")
        for part in path:
            owner = getattr(owner, part)
        return owner, name

    @contextmanager
    def applied(self) -> Iterator[None]:
        """The function is the mutated one while the block runs, in its module and wherever the package imported it."""
        owner, name = self._owner()
        original = getattr(owner, name)
        package = self.module.split(".")[0]
        holders = [owner] + [
            loaded
            for module_name, loaded in list(sys.modules.items())
            if (module_name == package or module_name.startswith(f"{package}."))
            and loaded is not owner
            and getattr(loaded, name, None) is original
        ]
        mutated = self.compiled()
        for holder in holders:
            setattr(holder, name, mutated)
        try:
            yield
        finally:
            for holder in holders:
                setattr(holder, name, original)

    def handler(self) -> Callable[[], dict[str, Any]]:
        """A candidate handler: the refactor with this change, and its Lambda entry point with the same change."""

        def mutant() -> dict[str, Any]:
            with self.applied():
                return refactored_module.handle_sync_source_server_inventory_refactored()

        def lambda_entry(event: Any, context: Any) -> dict[str, Any]:
            with self.applied():
                return routing_module.lambda_handler(event, context)

        mutant.lambda_entry = lambda_entry  # type: ignore[attr-defined]
        return mutant


#: One change each, by name, with the scenario that reaches it.
REFACTORED_SOURCE_MUTANTS: dict[str, SourceMutant] = {
    "keeps_region_cache": SourceMutant(
        "refactored.inventory_sync",
        "handle_sync_source_server_inventory_refactored",
        "    invalidate_region_cache()\n",
        "",
        "warm-lambda-invoked-twice",
    ),
    "truncates_errors_at_400": SourceMutant(
        "refactored.drs",
        "_classify_exception",
        'return "ERROR", text[:500]',
        'return "ERROR", text[:400]',
        "drs-long-error-messages",
    ),
    "truncates_coded_client_errors": SourceMutant(
        "refactored.drs",
        "_classify_client_error",
        'return "ERROR", f"{code}: {message}" if code else message[:500]',
        'return "ERROR", (f"{code}: {message}" if code else message)[:500]',
        "drs-long-error-messages",
    ),
    "cpu_model_of_last_cpu": SourceMutant(
        "refactored.inventory",
        "build_inventory_item",
        '"cpuModel": cpus[0].get("modelName", "")',
        '"cpuModel": cpus[-1].get("modelName", "")',
        "servers-with-several-cpu-models",
    ),
    "cpu_cores_of_first_cpu": SourceMutant(
        "refactored.inventory",
        "build_inventory_item",
        '"cpuCores": sum(cpu.get("cores", 0) for cpu in cpus)',
        '"cpuCores": cpus[0].get("cores", 0) if cpus else 0',
        "servers-with-several-cpu-models",
    ),
    "paginates_the_accounts_scan": SourceMutant(
        "refactored.accounts",
        "collect_accounts_to_query",
        '    items = table.scan().get("Items", [])\n',
        """    page = table.scan()
    items = page.get("Items", [])
    while "LastEvaluatedKey" in page:
        page = table.scan(ExclusiveStartKey=page["LastEvaluatedKey"])
        items += page.get("Items", [])
""",
        "target-accounts-beyond-one-scan-page",
    ),
    "cleanup_reads_one_page": SourceMutant(
        "refactored.cleanup",
        "_records_of",
        """            if "LastEvaluatedKey" not in page:
                break
""",
        "            break\n",
        "stale-cleanup-scan-pages",
    ),
    "counts_failed_deletes": SourceMutant(
        "refactored.cleanup",
        "delete_stale_records",
        """        except Exception as e:
""",
        """        except Exception as e:
            deleted[record["sourceAccountId"]] += 1
""",
        "stale-cleanup-delete-fails",
    ),
    "failed_delete_ends_the_run": SourceMutant(
        "refactored.cleanup",
        "delete_stale_records",
        '            record_id = record.get("sourceServerID", "?")\n',
        "            raise\n",
        "stale-cleanup-delete-fails",
    ),
    "role_assumption_catches_client_errors_only": SourceMutant(
        "refactored.accounts",
        "resolve_account_credentials",
        "    except Exception as e:\n",
        "    except ClientError as e:\n",
        "sts-assume-role-non-client-errors",
        names={"ClientError": ClientError},
    ),
    "ec2_group_catches_client_errors_only": SourceMutant(
        "refactored.ec2",
        "_query_ec2_group",
        "    except Exception as e:\n",
        "    except ClientError as e:\n",
        "sts-assume-role-non-client-errors",
    ),
    "ec2_fallback_catches_client_errors_only": SourceMutant(
        "refactored.ec2",
        "query_ec2_instances",
        "                except Exception as e:\n",
        "                except ClientError as e:\n",
        "ec2-fallback-connection-error",
    ),
    "status_flush_failure_swallowed": SourceMutant(
        "refactored.region_status",
        "_SettlingClient.batch_write_item",
        "    return self._client.batch_write_item(**kwargs)\n",
        """    try:
        return self._client.batch_write_item(**kwargs)
    except Exception:
        return {"UnprocessedItems": {}}
""",
        "dynamodb-region-status-writes-throttled",
    ),
    "inventory_write_failure_counted_as_synced": SourceMutant(
        "refactored.inventory",
        "_write_batch",
        """"error": str(e)})
            return len(items) - len(pending)
""",
        """"error": str(e)})
            return len(items)
""",
        "dynamodb-inventory-final-flush-fails",
    ),
    "cleanup_scan_failure_swallowed": SourceMutant(
        "refactored.cleanup",
        "_records_of",
        "            page = table.scan(**scan_kwargs)\n",
        """            try:
                page = table.scan(**scan_kwargs)
            except Exception:
                return
""",
        "dynamodb-cleanup-scan-throttled",
    ),
    "sync_external_id_defaulted": SourceMutant(
        "refactored.accounts",
        "resolve_account_credentials",
        'account.get("externalId") or None',
        'account.get("externalId") or "drs-orchestration-cross-account"',
        "external-id-variants",
    ),
    "ec2_default_external_id_dropped": SourceMutant(
        "refactored.ec2",
        "_ec2_role",
        "    external_id = DEFAULT_EC2_EXTERNAL_ID\n",
        "    external_id = None\n",
        "external-id-variants",
    ),
    "flag_compared_case_sensitively": SourceMutant(
        "refactored.routing",
        "use_refactored_implementation",
        "    normalized = value.lower()\n",
        "    normalized = value\n",
        "lambda-entry-flag-true-in-upper-case",
    ),
    "unset_flag_means_legacy": SourceMutant(
        "refactored.routing",
        "use_refactored_implementation",
        'os.environ.get(FEATURE_FLAG_VARIABLE, "true")',
        'os.environ.get(FEATURE_FLAG_VARIABLE, "false")',
        "lambda-entry-flag-unset",
    ),
    "unrecognised_flag_runs_refactored": SourceMutant(
        "refactored.routing",
        "use_refactored_implementation",
        '    if normalized == "true":\n',
        '    if normalized != "false":\n',
        "lambda-entry-flag-unrecognised-value",
    ),
    "rollback_flag_ignored": SourceMutant(
        "refactored.routing",
        "handle_sync_source_server_inventory",
        "    if use_refactored_implementation():\n",
        "    if True:\n",
        "lambda-entry-flag-false-rolls-back",
    ),
}

#: The mutants of the refactor as candidate handlers (``--candidate tests.comparison.mutants:<name>``).
REFACTORED_MUTANTS: dict[str, Callable[[], dict[str, Any]]] = {
    name: mutant.handler() for name, mutant in REFACTORED_SOURCE_MUTANTS.items()
}


def __getattr__(name: str) -> Callable[[], dict[str, Any]]:
    """``tests.comparison.mutants:<name>`` resolves the mutants of the refactor too."""
    if name in REFACTORED_MUTANTS:
        return REFACTORED_MUTANTS[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
