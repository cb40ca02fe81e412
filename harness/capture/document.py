"""A captured estate as a scenario document (``docs/scenario-format.md``), and the file it is written to.

Table rows keep their DynamoDB types: strings, booleans, NULL (``null``), lists and maps as plain YAML, whole numbers
as YAML integers, and what plain YAML cannot say exactly (other numbers, sets, binary) as ``{"@dynamodb": <wire
value>}``. Target-account and region-status rows put every attribute their typed keys cannot hold under
``attributes``. Servers are whole ``drs`` objects in ``generate: false`` groups; instances, faults and the latency
model are top-level entries. Each assumed role's ExternalId condition goes on the row naming the role, or under
``roles``.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from harness.capture.reader import Estate
from harness.scenario.loading import load_schema
from harness.world.scan_order import key_hash
from lambda_shared.drs_regions import DRS_REGIONS

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_IS_STRING = ("S",)
_IS_STRING_OR_NULL = ("S", "NULL")


def plain_value(wire: dict[str, Any]) -> Any:
    """One wire-form DynamoDB attribute value as the scenario writes it (see the module docstring)."""
    kind, value = next(iter(wire.items()))
    if kind == "S" or kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "N" and Decimal(value) == Decimal(value).to_integral_value() and "e" not in value.lower():
        return int(Decimal(value))
    if kind == "L":
        return [plain_value(item) for item in value]
    if kind == "M":
        return {key: plain_value(item) for key, item in value.items()}
    return {"@dynamodb": {kind: value}}


def _typed_row(item: dict[str, Any], typed: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """Typed keys whose wire type fits them at top level, every other attribute under ``attributes``."""
    row: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, wire in item.items():
        kind = next(iter(wire))
        fits = key in typed and kind in typed[key]
        (row if fits else extra)[key] = plain_value(wire)
    if extra:
        row["attributes"] = extra
    return row


def account_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Target-accounts rows: ``accountId``, ``accountName``, ``roleArn``, ``externalId`` typed, the rest attributes."""
    typed = {"accountId": _IS_STRING, "accountName": _IS_STRING, "roleArn": _IS_STRING_OR_NULL}
    typed["externalId"] = _IS_STRING_OR_NULL
    return [_typed_row(item, typed) for item in items]


def declare_trust(accounts: list[dict[str, Any]], trust: dict[str, str]) -> list[dict[str, str]]:
    """Each role's ExternalId condition on the first row naming the role (``role: {externalId}``), else returned as
    a top-level ``roles`` entry (a role no row names, such as LB-7's default role of an origin account)."""
    unnamed = []
    for arn, external_id in trust.items():
        row = next((row for row in accounts if row.get("roleArn") == arn), None)
        if row is None:
            unnamed.append({"arn": arn, "externalId": external_id})
        else:
            row["role"] = {"externalId": external_id}
    return unnamed


def region_status_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Region-status rows with their typed keys where the values fit the format, the rest attributes."""
    typed = {
        "region": _IS_STRING,
        "serverCount": ("N",),
        "status": _IS_STRING,
        "errorMessage": _IS_STRING_OR_NULL,
        "lastChecked": _IS_STRING,
        "accountId": _IS_STRING,
        "lastUpdated": _IS_STRING,
    }
    states = frozenset(load_schema()["$defs"]["regionStatus"]["enum"])  # the statuses the format types
    rows = []
    for item in items:
        row = _typed_row(item, typed)
        for key, allowed in (("status", states), ("region", DRS_REGIONS)):
            if key in row and row[key] not in allowed:
                row.setdefault("attributes", {})[key] = row.pop(key)
        if not (isinstance(row.get("serverCount"), int) and row["serverCount"] >= 0):
            _demote(row, "serverCount")
        if "accountId" in row and not _ACCOUNT_ID.match(str(row["accountId"])):
            _demote(row, "accountId")
        rows.append(row)
    return rows


def _demote(row: dict[str, Any], key: str) -> None:
    if key in row:
        row.setdefault("attributes", {})[key] = row.pop(key)


def inventory_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Inventory rows: every attribute as given (the format types only their keys)."""
    return [{key: plain_value(wire) for key, wire in item.items()} for item in items]


#: Each table's partition key and sort key: DynamoDB's Scan returns rows by the partition key's hash, then sort key.
_TABLE_KEYS: dict[str, tuple[str, str | None]] = {
    "targetAccounts": ("accountId", None),
    "regionStatus": ("region", None),
    "inventory": ("sourceServerArn", "stagingAccountId"),
}


def in_simulated_scan_order(logical: str, items: list[dict[str, Any]]) -> bool:
    """Whether wire-form rows came back in the order the world's tables scan (:mod:`harness.world.scan_order`).

    When every table did, the replay needs no listed order and rows the sync writes during the run land where the
    world puts new rows; when one did not (the real hash differs from the simulated one), the captured order wins.
    """
    hash_name, range_name = _TABLE_KEYS[logical]

    def place(item: dict[str, Any]) -> tuple[bytes, str]:
        ((key_type, value),) = item[hash_name].items()
        sort = next(iter(item[range_name].values())) if range_name and range_name in item else ""
        return key_hash(key_type, value), str(sort)

    places = [place(item) for item in items]
    return places == sorted(places)


def with_listed_order_if_moved(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc``, with ``tables.scanOrder: listed`` when its keys as written would not Scan in the order they are listed.

    Anonymising maps the keys (account ids, server ARNs), and the world orders a Scan by the hash of the key it
    holds: an order the estate's keys gave in the world's own order would no longer be the listed one (and legacy's
    outcome depends on it: LB-9 cleans the last account of the target-accounts scan).
    """
    tables = doc.get("tables", {})
    if tables.get("scanOrder") == "listed":
        return doc
    rows = {"targetAccounts": doc.get("accounts", []), "inventory": tables.get("inventory", [])}
    for logical, items in rows.items():
        keys = [name for name in _TABLE_KEYS[logical] if name]
        if not all(isinstance(item.get(name), str) for item in items for name in keys):
            continue  # a key the anonymiser leaves alone (not a string) keeps its place
        wire = [{name: {"S": item[name]} for name in keys} for item in items]
        if not in_simulated_scan_order(logical, wire):
            return {**doc, "tables": {"scanOrder": "listed", **tables}}
    return doc


def capture_clock() -> str:
    """Now, in the scenario clock's format (a test world's frozen clock when inside one)."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S") + (f".{now.microsecond:06d}Z" if now.microsecond else "Z")


def scenario_document(estate: Estate, name: str) -> dict[str, Any]:
    """The scenario document of a captured estate.

    Args:
        estate: What the capture read.
        name: The scenario name (the output file's stem).
    """
    doc: dict[str, Any] = {
        "name": name,
        "description": (
            f"Captured by python -m harness capture: {len(estate.tables['targetAccounts'])} target account row(s), "
            f"{estate.server_count} source server(s), {len(estate.faults)} fault(s) seen during the capture."
            + (" Truncated by --max-servers." if estate.truncated else "")
        ),
        "clock": capture_clock(),
        "lambdaAccount": estate.lambda_account,
        "lambdaRegion": estate.lambda_region,
    }
    if estate.page_size:
        doc["drsPageSize"] = estate.page_size
    if estate.table_page_sizes:
        doc["dynamodbPageSize"] = dict(estate.table_page_sizes)
    doc["accounts"] = account_rows(estate.tables["targetAccounts"])
    doc["roles"] = declare_trust(doc["accounts"], estate.role_trust)
    listed = not all(in_simulated_scan_order(logical, items) for logical, items in estate.tables.items())
    doc["tables"] = {
        **({"scanOrder": "listed"} if listed else {}),
        "regionStatus": region_status_rows(estate.tables["regionStatus"]),
        "inventory": inventory_rows(estate.tables["inventory"]),
    }
    doc["servers"] = [
        {"account": account, "region": region, "generate": False, "items": [{"drs": server} for server in servers]}
        for (account, region), servers in estate.servers.items()
    ]
    doc["instances"] = [
        {"account": account, "region": region, "instanceId": instance_id, **attributes}
        for (account, region), found in estate.instances.items()
        for instance_id, attributes in found.items()
    ]
    doc["faults"] = list(estate.faults)
    if estate.latency_ms:
        doc["latency"] = {"operations": dict(estate.latency_ms)}
    doc["tags"] = ["captured"]
    return {key: value for key, value in doc.items() if value not in ([], {})}


def _dumper() -> type[yaml.SafeDumper]:
    return getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_document(doc: dict[str, Any]) -> str:
    """The document as YAML text, with the editor schema line on top."""
    body = yaml.dump(doc, Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)
    return "# yaml-language-server: $schema=../harness/scenario/schema.json\n" + body


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory: never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
