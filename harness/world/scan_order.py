"""The order a simulated table's ``Scan`` returns items in: DynamoDB's, by the hash of the partition key.

DynamoDB stores each item in the partition an internal hash of its partition key selects, and items sharing a
partition key in sort-key order; a ``Scan`` reads the table partition by partition in key-hash order. So a Scan
returns items ordered by the hash of their partition key (then by sort key): neither in the order they were written
nor in the order of the keys' values, and always in the same order for the same keys, however the table was filled.
The hash function itself is internal to DynamoDB and undocumented; the world uses MD5 of the key's bytes (UTF-8 for
strings, the decimal text for numbers, the raw bytes for binary), the function DynamoDB is commonly reported to use.
Only the order matters to the code under test; what this rule guarantees is that a scenario cannot make an account
the last one of the target-accounts scan by listing it last or by giving it the highest id, and that two runs of one
scenario see one order.

moto, by itself, returns a table scan sorted by the key values (``Table.all_items`` in ``moto.dynamodb.models.table``)
and pages through it in that order. :func:`use_dynamodb_scan_order` makes one moto table order its items, and page
through a ``Scan`` or a ``Query`` with ``ExclusiveStartKey``, by :func:`position` instead; index scans and queries
keep moto's order (the code under test only queries an index by one key).

``python -c "from harness.world.scan_order import scan_order; print(scan_order(['222222222222', '333333333333']))"``
prints the order a set of account ids (or any string keys) comes back in.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from types import MethodType
from typing import Any


def _key_bytes(key_type: str, value: Any) -> bytes:
    if key_type == "B":
        return base64.b64decode(value) if isinstance(value, str) else bytes(value)
    return str(value).encode("utf-8")


def key_hash(key_type: str, value: Any) -> bytes:
    """The hash a partition key value is placed by: MD5 of its bytes (see the module docstring)."""
    return hashlib.md5(_key_bytes(key_type, value), usedforsecurity=False).digest()


def scan_order(keys: Iterable[str]) -> list[str]:
    """String partition keys in the order a Scan of a table keyed by them returns them."""
    return sorted(keys, key=lambda key: key_hash("S", key))


def position(item: Any) -> tuple[Any, ...]:
    """Where a moto item comes in a Scan: the hash of its partition key, then its sort key (if any)."""
    hash_key = item.hash_key
    return (key_hash(hash_key.type, hash_key.value),) + ((item.range_key,) if item.range_key is not None else ())


def use_dynamodb_scan_order(table: Any) -> None:
    """Make one moto ``Table`` return and page through its items in DynamoDB's scan order."""
    original_before = table._item_comes_before_dct  # noqa: SLF001 - the one place moto pages through items
    key_types = {attribute["AttributeName"]: attribute["AttributeType"] for attribute in table.attr}

    def all_items(self: Any) -> list[Any]:
        items = [item for by_hash in self.items.values() for item in _items_of(self, by_hash)]
        return sorted(items, key=position)

    def comes_before(
        self: Any, item: Any, start: dict[str, Any], hash_attrs: list[str], range_attrs: list[Any], forward: bool
    ) -> bool:
        if hash_attrs != [self.hash_key_attr]:
            return original_before(item, start, hash_attrs, range_attrs, forward)
        start_hash = start[self.hash_key_attr]
        start_type = next(iter(start_hash)) if isinstance(start_hash, dict) else key_types[self.hash_key_attr]
        start_value = start_hash[start_type] if isinstance(start_hash, dict) else start_hash
        start_position: tuple[Any, ...] = (key_hash(start_type, start_value),)
        if self.range_key_attr is not None and item.range_key is not None:
            start_position += (type(item.range_key)(start[self.range_key_attr]),)
        item_position = position(item)
        if item_position == start_position:
            return True
        return (item_position < start_position) == forward

    table.all_items = MethodType(all_items, table)
    table._item_comes_before_dct = MethodType(comes_before, table)  # noqa: SLF001


def _items_of(table: Any, by_hash: Any) -> list[Any]:
    return list(by_hash.values()) if table.range_key_attr else [by_hash]
