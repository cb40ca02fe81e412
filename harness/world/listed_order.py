"""Tables that return a ``Scan`` in the order their rows are listed in the scenario (``tables.scanOrder: listed``).

A capture lists each table's rows in the order the real table's ``Scan`` returned them, and legacy's outcome depends
on that order (LB-9 cleans the *last* target account; LB-6's last account wins the region rows). The world's own
order is a simulation of DynamoDB's; for a captured estate the order observed is the truth, so such a scenario asks
for it. Items written during the run (not listed) come after the listed ones, in moto's order.
"""

from __future__ import annotations

from types import MethodType
from typing import Any


def _key_of(item: Any) -> tuple[Any, ...]:
    value = item.hash_key.value
    return (value,) if item.range_key is None else (value, item.range_key.value)


def use_listed_order(table: Any, keys: list[tuple[Any, ...]]) -> None:
    """Make one moto ``Table`` return (and page through) its items with ``keys`` first, in that order.

    Args:
        table: The moto table.
        keys: Primary keys as listed: ``(hash,)`` or ``(hash, range)`` values.
    """
    rank = {key: index for index, key in enumerate(keys)}
    original_all = table.all_items
    original_before = table._item_comes_before_dct  # noqa: SLF001 - the one place moto pages through items

    def position(item: Any, moto_rank: dict[int, int]) -> tuple[int, int]:
        listed = rank.get(_key_of(item))
        return (0, listed) if listed is not None else (1, moto_rank[id(item)])

    def all_items(self: Any) -> list[Any]:
        items = original_all()
        moto_rank = {id(item): index for index, item in enumerate(items)}
        return sorted(items, key=lambda item: position(item, moto_rank))

    def comes_before(
        self: Any, item: Any, start: dict[str, Any], hash_attrs: list[str], range_attrs: list[Any], forward: bool
    ) -> bool:
        if hash_attrs != [self.hash_key_attr]:
            return original_before(item, start, hash_attrs, range_attrs, forward)
        items = all_items(self)
        start_key = _start_key(self, start)
        ordinal = {(_key_of(candidate)): index for index, candidate in enumerate(items)}
        if start_key not in ordinal:
            return original_before(item, start, hash_attrs, range_attrs, forward)
        return (ordinal[_key_of(item)] <= ordinal[start_key]) == forward

    table.all_items = MethodType(all_items, table)
    table._item_comes_before_dct = MethodType(comes_before, table)  # noqa: SLF001


def _start_key(table: Any, start: dict[str, Any]) -> tuple[Any, ...]:
    def plain(value: Any) -> Any:
        return next(iter(value.values())) if isinstance(value, dict) else value

    hash_value = plain(start[table.hash_key_attr])
    if table.range_key_attr is None:
        return (hash_value,)
    return (hash_value, plain(start.get(table.range_key_attr)))
