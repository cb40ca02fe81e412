"""What a world can be built from: the rules that keep ``validate`` from passing a scenario ``run`` cannot build.

Each rule names a limit of something the world is made of, found by building worlds from edge values:

- the frozen clock: generated servers carry times up to 400 days before it and STS credentials expire up to 12 hours
  after it, so it must lie between :data:`EARLIEST_CLOCK` and :data:`LATEST_CLOCK` (``datetime`` overflows
  outside, and years before 1971 would put generated times before the Unix epoch);
- the process environment: a value cannot hold a NUL character;
- text anywhere: a lone surrogate (``"\\ud800"`` in YAML) cannot be encoded as UTF-8 for any AWS request;
- DynamoDB items seeded from ``tables``: numbers within DynamoDB's range and precision (38 digits, magnitude
  1E-130 to under 1E+126, finite; boto3 refuses to round even trailing zeros), items of at most 400 KB, partition
  keys of at most 2048 bytes;
- EC2 instances: at most 50 tags each;
- the world's size: at most ``Limits.max_servers`` servers (:mod:`harness.scenario.limits`).

Every rule yields ``(path, reason)`` like the other semantic rules of :mod:`harness.scenario.loading`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from harness.scenario.limits import Limits

DocPath = tuple[str | int, ...]

EARLIEST_CLOCK = "1971-01-01T00:00:00Z"
LATEST_CLOCK = "9998-12-31T23:59:59Z"
#: DynamoDB's item size limit and key size limits, in bytes.
MAX_ITEM_BYTES = 400 * 1024
MAX_PARTITION_KEY_BYTES = 2048
MAX_NUMBER_DIGITS = 38
MAX_EC2_TAGS = 50
_SMALLEST_NUMBER = Decimal("1E-130")
_NUMBER_CEILING = Decimal("1E+126")
_PARTITION_KEYS = {"inventory": "sourceServerArn"}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def clock_problems(doc: dict[str, Any]) -> Iterator[tuple[DocPath, str]]:
    """The clock is a real instant the world can date servers and credentials around."""
    clock = doc.get("clock")
    if not isinstance(clock, str):
        return
    try:
        instant = _instant(clock)
    except ValueError:
        yield ("clock",), f"clock {clock!r} is not a real date and time"
        return
    if not _instant(EARLIEST_CLOCK) <= instant <= _instant(LATEST_CLOCK):
        yield (
            ("clock",),
            f"clock {clock!r} is out of range: the world dates servers up to 400 days before the clock and credentials "
            f"up to 12 hours after it, so it must lie between {EARLIEST_CLOCK} and {LATEST_CLOCK}",
        )


def environment_problems(doc: dict[str, Any]) -> Iterator[tuple[DocPath, str]]:
    """Environment values the process environment can hold."""
    environment = doc.get("environment")
    if not isinstance(environment, dict):
        return
    for name, value in environment.items():
        if isinstance(value, str) and "\0" in value:
            yield ("environment", name), "contains a NUL character, which no environment variable can hold"


def unicode_problems(value: Any, path: DocPath = ()) -> Iterator[tuple[DocPath, str]]:
    """Every string (keys included) must be encodable as UTF-8: AWS requests carry UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            character = f"U+{ord(value[error.start]):04X}"
            yield path, f"contains a lone surrogate {character}, which cannot be encoded as UTF-8 for AWS"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from unicode_problems(key, path + (str(key),))
            yield from unicode_problems(item, path + (str(key),))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unicode_problems(item, path + (index,))


def dynamodb_number_problem(value: int | float) -> str | None:
    """Why DynamoDB would refuse ``value`` as a number, or ``None`` when it accepts it."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a number DynamoDB can store (it has no NaN or infinity)"
    try:
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except (InvalidOperation, ValueError):  # pragma: no cover - every int and finite float converts
        return f"{value!r} is not a number"
    if number.is_zero():
        return None
    digits = len(number.as_tuple().digits)  # boto3 refuses to round, even trailing zeros
    if digits > MAX_NUMBER_DIGITS:
        return f"{value!r} has {digits} digits; DynamoDB numbers hold at most {MAX_NUMBER_DIGITS}"
    if not _SMALLEST_NUMBER <= abs(number) < _NUMBER_CEILING:
        return f"{value!r} is out of DynamoDB's number range (magnitude 1E-130 to under 1E+126)"
    return None


def attribute_size(value: Any) -> int:
    """The size DynamoDB counts for one attribute value, by the rules of its developer guide (an estimate)."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | float):
        finite = not isinstance(value, float) or math.isfinite(value)
        digits = len(Decimal(repr(value)).normalize().as_tuple().digits) if finite else 1
        return (min(digits, MAX_NUMBER_DIGITS) + 1) // 2 + 1
    if isinstance(value, dict):
        return 3 + sum(1 + len(str(k).encode("utf-8", "surrogatepass")) + attribute_size(v) for k, v in value.items())
    if isinstance(value, list):
        return 3 + sum(1 + attribute_size(item) for item in value)
    return len(str(value))


def _number_problems(value: Any, path: DocPath) -> Iterator[tuple[DocPath, str]]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        reason = dynamodb_number_problem(value)
        if reason:
            yield path, reason
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _number_problems(item, path + (str(key),))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _number_problems(item, path + (index,))


def _rows(doc: dict[str, Any]) -> Iterator[tuple[str, DocPath, dict[str, Any]]]:
    tables = doc.get("tables")
    if not isinstance(tables, dict):
        return
    for table in ("regionStatus", "inventory"):
        rows = tables.get(table)
        for index, row in enumerate(rows if isinstance(rows, list) else []):
            if isinstance(row, dict):
                yield table, ("tables", table, index), row


def table_row_problems(doc: dict[str, Any]) -> Iterator[tuple[DocPath, str]]:
    """Rows DynamoDB would accept when the world seeds them: numbers, item size, partition key size."""
    for table, path, row in _rows(doc):
        yield from _number_problems(row, path)
        size = sum(len(str(name).encode("utf-8", "surrogatepass")) + attribute_size(v) for name, v in row.items())
        if size > MAX_ITEM_BYTES:
            yield path, f"is about {size:,} bytes; DynamoDB items are at most {MAX_ITEM_BYTES:,} bytes (400 KB)"
        key = row.get(_PARTITION_KEYS.get(table, ""))
        if isinstance(key, str) and len(key.encode("utf-8", "surrogatepass")) > MAX_PARTITION_KEY_BYTES:
            yield (
                path + (_PARTITION_KEYS[table],),
                f"is {len(key.encode('utf-8', 'surrogatepass')):,} bytes; DynamoDB partition keys are at most "
                f"{MAX_PARTITION_KEY_BYTES} bytes",
            )


def _groups(doc: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    groups = doc.get("servers")
    return [(i, g) for i, g in enumerate(groups) if isinstance(g, dict)] if isinstance(groups, list) else []


def server_problems(doc: dict[str, Any], limits: Limits) -> Iterator[tuple[DocPath, str]]:
    """The world's size within ``limits``, and EC2 instances EC2 would tag."""
    total = 0
    for index, group in _groups(doc):
        count, items = group.get("count", 0), group.get("items", [])
        total += (count if isinstance(count, int) else 0) + (len(items) if isinstance(items, list) else 0)
        for item_index, item in enumerate(items if isinstance(items, list) else []):
            ec2 = item.get("ec2") if isinstance(item, dict) else None
            tags = ec2.get("tags") if isinstance(ec2, dict) else None
            if isinstance(tags, dict) and len(tags) > MAX_EC2_TAGS:
                yield (
                    ("servers", index, "items", item_index, "ec2", "tags"),
                    f"EC2 allows at most {MAX_EC2_TAGS} tags per instance, got {len(tags)}",
                )
    if total > limits.max_servers:
        yield ("servers",), f"the world would hold {total:,} servers; a world holds {limits.servers_hint}"


def buildable_problems(doc: dict[str, Any], limits: Limits) -> Iterator[tuple[DocPath, str]]:
    """Every rule of this module, for one parsed document (safe on documents that fail the schema)."""
    yield from clock_problems(doc)
    yield from environment_problems(doc)
    yield from unicode_problems(doc)
    yield from table_row_problems(doc)
    yield from server_problems(doc, limits)
