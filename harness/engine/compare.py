"""Comparing two observations with DeepDiff: exact where order means something, multisets where it does not.

* ``response``, ``exception`` and ``tables`` are compared exactly: types matter (``Decimal('5')`` is not ``5``,
  ``5`` is not ``5.0``) and so does the order of every list (a server's ``disks``, an ``InstanceIds`` chunk). Tables
  are keyed by item identity, so a path names the item (``tables.inventory[<arn> | <staging>].hostname``).
* ``regionStatusWrites`` and ``mutatingCalls`` are multisets: the order of the elements carries no meaning (thread
  completion order, batch boundaries), their number does. Elements are reduced to an exact canonical text
  (:func:`~harness.engine.normalise.canonical`, which keeps nested order and types) and compared with DeepDiff's
  ``ignore_order`` and ``report_repetition``; an element only the baseline has is then paired with a candidate-only
  element of the same identity (same call and item key) and the pair is diffed exactly, so the difference reads
  ``mutatingCalls[sts:AssumeRole <role>].params.RoleSessionName`` rather than "one removed, one added".
* ``reads`` are a set: which distinct idempotent calls were made gates, how often does not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from deepdiff import DeepDiff
from deepdiff.helper import NotPresent

from harness.engine.model import SECTIONS, Difference, Observation, jsonable
from harness.engine.normalise import canonical, key_label

#: Key attributes of the three tables, to name the items of DynamoDB calls.
DEFAULT_KEY_NAMES: dict[str, list[str]] = {
    "inventory": ["sourceServerArn", "stagingAccountId"],
    "regionStatus": ["region"],
    "targetAccounts": ["accountId"],
}

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KINDS = {
    "values_changed": "changed",
    "type_changes": "type-changed",
    "dictionary_item_added": "added",
    "dictionary_item_removed": "removed",
    "iterable_item_added": "added",
    "iterable_item_removed": "removed",
    "set_item_added": "added",
    "set_item_removed": "removed",
    "attribute_added": "added",
    "attribute_removed": "removed",
}

Labeller = Callable[[dict[str, Any]], str]


def compare(baseline: Observation, candidate: Observation) -> list[Difference]:
    """Every gating difference between two observations, section by section (see the module docstring).

    Args:
        baseline: The reference run.
        candidate: The run judged against it.

    Returns:
        The differences, each with status ``unapproved``; noise and approvals are decided later.
    """
    differences: list[Difference] = []
    for section in SECTIONS:
        before, after = baseline.section(section), candidate.section(section)
        if section in ("regionStatusWrites", "mutatingCalls"):
            differences += multiset_differences(section, before, after, LABELLERS[section])
        elif section == "reads":
            differences += set_differences(section, before, after, LABELLERS[section])
        else:
            differences += exact_differences(section, before, after, item_level=section == "tables")
    return differences


def readable_path(prefix: str, parts: list[Any], bracketed: int | None = None) -> str:
    """``prefix`` followed by ``.name`` for identifier keys, ``[key]`` otherwise (indices, item labels).

    Args:
        prefix: The path so far.
        parts: Keys and indices below it.
        bracketed: Position of a part always written ``[part]`` (a table item's key label).
    """
    path = prefix
    for position, part in enumerate(parts):
        if part is None:
            continue
        if isinstance(part, str) and _IDENTIFIER.fullmatch(part) and position != bracketed:
            path += f".{part}"
        else:
            path += f"[{part}]"
    return path


def exact_differences(
    section: str, before: Any, after: Any, prefix: str | None = None, item_level: bool = False
) -> list[Difference]:
    """Differences of two values compared exactly (types and list order matter).

    Args:
        section: The gating section the values belong to.
        before: Baseline value.
        after: Candidate value.
        prefix: Path prefix (defaults to the section name).
        item_level: For tables: anchor noise at the item (``tables.<table>[<key>]``) rather than the field.

    Returns:
        One difference per DeepDiff finding, in a stable order.
    """
    prefix = prefix or section
    if canonical(before) == canonical(after):
        return []
    tree = DeepDiff(
        before,
        after,
        view="tree",
        ignore_numeric_type_changes=False,
        ignore_string_type_changes=False,
        threshold_to_diff_deeper=0,  # always name the item/field, never "the whole table changed"
    )
    found: list[Difference] = []
    for report_type, levels in tree.items():
        kind = _KINDS.get(report_type, "changed")
        for level in levels:
            parts = level.path(output_format="list")
            bracketed = 1 if item_level else None
            found.append(_difference(section, readable_path(prefix, parts, bracketed), kind, level.t1, level.t2))
            if item_level and len(parts) >= 2:
                found[-1].anchor = readable_path(prefix, parts[:2], bracketed)
    return sorted(found, key=lambda d: (d.path, d.kind))


def _difference(section: str, path: str, kind: str, before: Any, after: Any) -> Difference:
    before = None if isinstance(before, NotPresent) else before
    after = None if isinstance(after, NotPresent) else after
    difference = Difference(section=section, path=path, kind=kind, baseline=jsonable(before), candidate=jsonable(after))
    if kind == "type-changed":
        difference.baseline_type = type(before).__name__
        difference.candidate_type = type(after).__name__
    difference.anchor = path
    return difference


def _by_canonical(items: list[dict[str, Any]]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    keys = [canonical(item) for item in items]
    return keys, dict(zip(keys, items, strict=True))


def multiset_differences(
    section: str, before: list[dict[str, Any]], after: list[dict[str, Any]], labeller: Labeller
) -> list[Difference]:
    """Differences of two multisets: elements only one side has (paired by identity when possible) and changed
    repetition counts.

    Args:
        section: The gating section.
        before: Baseline elements.
        after: Candidate elements.
        labeller: Gives an element's identity (the same call on the same item), used in paths and for pairing.

    Returns:
        The differences, in a stable order.
    """
    before_keys, before_items = _by_canonical(before)
    after_keys, after_items = _by_canonical(after)
    if sorted(before_keys) == sorted(after_keys):
        return []
    tree = DeepDiff(before_keys, after_keys, ignore_order=True, report_repetition=True, view="tree")
    removed: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []
    found: list[Difference] = []
    for report_type, levels in tree.items():
        for level in levels:
            if report_type == "repetition_change":
                repetition = level.additional["repetition"]
                path = f"{section}[{labeller(before_items[level.t1])}]"
                found.append(
                    _difference(section, path, "count-changed", repetition["old_repeat"], repetition["new_repeat"])
                )
                continue
            if isinstance(level.t1, str):
                removed.append(before_items[level.t1])
            if isinstance(level.t2, str):
                added.append(after_items[level.t2])
    found += _paired(section, removed, added, labeller)
    return sorted(found, key=lambda d: (d.path, d.kind, canonical(d.baseline), canonical(d.candidate)))


def _paired(
    section: str, removed: list[dict[str, Any]], added: list[dict[str, Any]], labeller: Labeller
) -> list[Difference]:
    """Pair baseline-only and candidate-only elements of the same identity and diff each pair exactly."""
    found: list[Difference] = []
    unmatched = list(added)
    for element in sorted(removed, key=canonical):
        label = labeller(element)
        partner = next((other for other in unmatched if labeller(other) == label), None)
        prefix = f"{section}[{label}]"
        if partner is None:
            found.append(_difference(section, prefix, "removed", element, None))
            continue
        unmatched.remove(partner)
        for difference in exact_differences(section, element, partner, prefix=prefix):
            difference.anchor = prefix
            found.append(difference)
    for element in sorted(unmatched, key=canonical):
        found.append(_difference(section, f"{section}[{labeller(element)}]", "added", None, element))
    return found


def set_differences(
    section: str, before: list[dict[str, Any]], after: list[dict[str, Any]], labeller: Labeller
) -> list[Difference]:
    """Differences of two sets (repetitions ignored): distinct elements only one side has."""
    before_keys, before_items = _by_canonical(before)
    after_keys, after_items = _by_canonical(after)
    if set(before_keys) == set(after_keys):
        return []
    tree = DeepDiff(before_keys, after_keys, ignore_order=True, view="tree")
    removed = [before_items[level.t1] for levels in tree.values() for level in levels if isinstance(level.t1, str)]
    added = [after_items[level.t2] for levels in tree.values() for level in levels if isinstance(level.t2, str)]
    found = _paired(section, removed, added, labeller)
    return sorted(found, key=lambda d: (d.path, d.kind, canonical(d.baseline), canonical(d.candidate)))


def _in_invocation(label: str, entry: dict[str, Any]) -> str:
    """The label of an entry of a later invocation names it (the first invocation's are unmarked)."""
    return f"{label} #{entry['invocation']}" if "invocation" in entry else label


def region_status_label(write: dict[str, Any]) -> str:
    """Identity of a region-status write: how it was written, the region, and the account it was written for."""
    item = write.get("item") or {}
    label = f"{write.get('via')} {item.get('region')}"
    return _in_invocation(f"{label} {item['accountId']}" if "accountId" in item else label, write)


def call_label(call: dict[str, Any]) -> str:
    """Identity of a call: ``service:Operation``, table, and the item or role it acts on (else account/region)."""
    label = f"{call.get('service')}:{call.get('operation')}"
    if call.get("table"):
        label += f" {call['table']}"
    params = call.get("params") or {}
    target = _call_target(call, params)
    where = target or f"{call.get('account')}/{call.get('region')}"
    return _in_invocation(f"{label} {where}", call)


def _call_target(call: dict[str, Any], params: dict[str, Any]) -> str:
    if call.get("service") == "sts" and "RoleArn" in params:
        return str(params["RoleArn"])
    key_names = DEFAULT_KEY_NAMES.get(str(call.get("table")))
    for name in ("Item", "Key"):
        if isinstance(params.get(name), dict):
            return key_label(params[name], key_names)
    for kind in ("PutRequest", "DeleteRequest"):
        body = params.get(kind)
        if isinstance(body, dict):
            values = body.get("Item") or body.get("Key") or {}
            return f"{kind} {key_label(values, key_names)}"
    return ""


def read_label(call: dict[str, Any]) -> str:
    """Identity of an idempotent call: ``service:Operation``, table, account/region."""
    label = f"{call.get('service')}:{call.get('operation')}"
    if call.get("table"):
        label += f" {call['table']}"
    return _in_invocation(f"{label} {call.get('account')}/{call.get('region')}", call)


LABELLERS: dict[str, Labeller] = {
    "regionStatusWrites": region_status_label,
    "mutatingCalls": call_label,
    "reads": read_label,
}


def read_count_changes(baseline: Observation, candidate: Observation) -> list[dict[str, Any]]:
    """How often each distinct read was made, where the two runs differ (informational, never gating)."""
    counts: dict[str, list[Any]] = {}
    for side, observation in enumerate((baseline, candidate)):
        for entry in observation.reads:
            key = canonical({k: v for k, v in entry.items() if k != "count"})
            counts.setdefault(key, [read_label(entry), 0, 0])[side + 1] = entry.get("count", 1)
    return [
        {"read": label, "baseline": before, "candidate": after}
        for label, before, after in sorted(counts.values(), key=lambda row: row[0])
        if before != after
    ]
