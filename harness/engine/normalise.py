"""Turning what a world recorded into comparable observations: typing, call classification (redaction is
:mod:`harness.redaction`).

Nothing here touches a world; the functions take the raw pieces (:class:`~harness.world.aws.calls.AwsCall` records, a
table snapshot, the handler's return value) and return plain data, so they are unit-tested on hand-made input.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from harness.world.aws.attributes import deserialise_attributes
from harness.world.aws.calls import MUTATING_OPERATIONS, AwsCall

REGION_STATUS_TABLE = "regionStatus"
_DYNAMODB_VALUE_KEYS = ("Item", "Key", "ExclusiveStartKey", "ExpressionAttributeValues")


def canonical(value: Any) -> str:
    """An exact, order-preserving text form of a value, for multiset membership and quick equality.

    Unlike DeepDiff's hashing under ``ignore_order``, this keeps the order of nested lists and the difference
    between ``Decimal('1')``, ``1``, ``1.0`` and ``True``.
    """
    return json.dumps(_tagged(value), sort_keys=True, separators=(",", ":"))


def _tagged(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _tagged(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_tagged(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return {"$float": repr(value)}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, set | frozenset):
        return {"$set": sorted(canonical(item) for item in value)}
    if isinstance(value, bytes | bytearray):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    return {"$" + type(value).__name__: repr(value)}


def normalise_return(value: Any) -> Any:
    """The handler's return value with a JSON ``body`` parsed (kept as text when it is not JSON)."""
    if isinstance(value, dict) and isinstance(value.get("body"), str):
        try:
            body = json.loads(value["body"])
        except ValueError:
            return dict(value)
        return {**value, "body": body}
    return value


def describe_exception(error: BaseException) -> dict[str, str]:
    """``{"type", "message"}`` of an exception the handler raised."""
    return {"type": type(error).__name__, "message": str(error)}


def dynamodb_params(params: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB wire parameters without ``TableName``, typed values deserialised."""
    result: dict[str, Any] = {}
    for key, value in params.items():
        if key == "TableName":
            continue
        result[key] = (
            deserialise_attributes(value) if key in _DYNAMODB_VALUE_KEYS and isinstance(value, dict) else value
        )
    return result


def key_label(item: dict[str, Any], key_names: list[str] | None) -> str:
    """A readable identity for a DynamoDB item: its key values joined by `` | `` (the whole item without keys)."""
    if key_names and all(name in item for name in key_names):
        return " | ".join(str(item[name]) for name in key_names)
    return canonical(item)


def tables_by_key(
    snapshot: dict[str, list[dict[str, Any]]], key_names: dict[str, list[str]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """A table snapshot keyed by item identity, so differences name the item rather than its position."""
    return {table: {key_label(item, key_names.get(table)): item for item in items} for table, items in snapshot.items()}


class CallSplit:
    """The recorded calls of one run, classified for comparison (see :class:`~harness.engine.model.Observation`).

    Args:
        calls: The world's call records, in the order made.
        table_names: Logical table name -> physical name, to name the tables of batch writes.
    """

    def __init__(self, calls: Iterable[AwsCall], table_names: dict[str, str]) -> None:
        self.logical = {physical: logical for logical, physical in table_names.items()}
        self.region_status_writes: list[dict[str, Any]] = []
        self.mutating_calls: list[dict[str, Any]] = []
        self.failed_calls: list[dict[str, Any]] = []
        reads: dict[str, dict[str, Any]] = {}
        for call in calls:
            self._classify(call, reads)
        self.reads = [reads[key] for key in sorted(reads)]

    def _classify(self, call: AwsCall, reads: dict[str, dict[str, Any]]) -> None:
        params = dynamodb_params(call.params) if call.service == "dynamodb" else dict(call.params)
        if any(attempt != "ok" for attempt in call.attempts):
            self.failed_calls.append({**self._entry(call, params), "attempts": list(call.attempts)})
        if call.operation == "BatchWriteItem" and call.service == "dynamodb":
            self._split_batch(call, params)
        elif call.operation in MUTATING_OPERATIONS:
            self._mutating(call, params)
        else:
            entry = self._entry(call, params)
            key = canonical(entry)
            if key in reads:
                reads[key]["count"] += 1
            else:
                reads[key] = {**entry, "count": 1}

    def _entry(self, call: AwsCall, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "service": call.service,
            "operation": call.operation,
            "account": call.account,
            "region": call.region,
            "table": call.table,
            "params": params,
            **_invocation(call),
        }

    def _mutating(self, call: AwsCall, params: dict[str, Any]) -> None:
        if call.service == "dynamodb" and call.table == REGION_STATUS_TABLE and call.operation == "PutItem":
            self.region_status_writes.append(
                {
                    "via": "PutItem",
                    "account": call.account,
                    "region": call.region,
                    "item": params.get("Item", {}),
                    **_invocation(call),
                }
            )
            return
        self.mutating_calls.append(self._entry(call, params))

    def _split_batch(self, call: AwsCall, params: dict[str, Any]) -> None:
        """One entry per write request; region-status puts go to the region-status writes."""
        others = {k: v for k, v in params.items() if k != "RequestItems"}
        for physical, requests in (params.get("RequestItems") or {}).items():
            table = self.logical.get(physical, physical)
            for request in requests:
                kind, body = next(iter(request.items()))
                values = {k: deserialise_attributes(v) if isinstance(v, dict) else v for k, v in body.items()}
                if table == REGION_STATUS_TABLE and kind == "PutRequest":
                    self.region_status_writes.append(
                        {
                            "via": "BatchWriteItem",
                            "account": call.account,
                            "region": call.region,
                            "item": values["Item"],
                            **_invocation(call),
                        }
                    )
                    continue
                self.mutating_calls.append(
                    {
                        "service": call.service,
                        "operation": call.operation,
                        "account": call.account,
                        "region": call.region,
                        "table": table,
                        "params": {**others, kind: values},
                        **_invocation(call),
                    }
                )


def _invocation(call: AwsCall) -> dict[str, int]:
    """``{"invocation": n}`` for a call of a later invocation of the warm Lambda; nothing for the first."""
    return {"invocation": call.invocation} if call.invocation > 1 else {}
