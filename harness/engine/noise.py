"""Timing noise: what the baseline does not do the same way twice, and which candidate differences that excuses.

The baseline runs at least twice per scenario, in different world variants (the primary run and one or more
secondaries). Everything here is derived from those baseline runs; nothing the candidate reports is trusted.

**Noise** is every difference between the primary baseline run and another baseline run (:func:`baseline_noise`).

A candidate difference (primary baseline vs candidate) is **excused** by exactly one of two rules, chosen by where
it lies (:func:`split_noise`):

1. *Outside the tables* (the response, a region-status write, a mutating call...): excused when the baseline runs
   differ at the same place (its ``anchor``: the element or field it lies in).
2. *In a table item*: excused when the baseline runs differ somewhere in the same table **and** the candidate's final
   item at that key is an outcome the baseline can produce: the final item some baseline run left there, or an item
   some baseline run wrote there and that landed (:func:`written_values`). This is the last-writer race of legacy's
   region-status batch against ``update_region_status`` (LB-6): which write wins is timing, so any winner the
   baseline itself produces is allowed. The same item differing between baseline runs is not enough on its own: a
   value no baseline run could leave there is kept.

Every other difference is kept. The writes themselves are always compared exactly (``regionStatusWrites``,
``mutatingCalls``, rule 1 applies to them only where the baseline runs' writes differ), so nothing a run *writes* is
excused by rule 2, only which write ends up in the table.

Two runs may not show a race that exists. So when a kept table difference lies on an item the primary baseline wrote
more than one distinct value to, in a table where no noise was seen, :func:`needs_probe` asks the runner for more
baseline variants; the outcome is then decided again, with the same rules, on all of them.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from harness.engine.compare import DEFAULT_KEY_NAMES, compare
from harness.engine.model import Difference, Observation
from harness.engine.normalise import canonical, deserialise_attributes, key_label

#: ``(table, item key label)``: one item of one table.
Item = tuple[str, str]
#: ``(table, item key label, canonical item)``: one item written to a table.
Put = tuple[str, str, str]

_ITEM_ANCHOR = re.compile(r"tables\.(?P<table>[^.\[]+)\[(?P<key>.*)\]")


def baseline_noise(primary: Observation, secondaries: list[Observation]) -> list[Difference]:
    """Every difference between the primary baseline and each secondary (duplicates by path removed)."""
    found: dict[tuple[str, str], Difference] = {}
    for secondary in secondaries:
        for difference in compare(primary, secondary):
            found.setdefault((difference.path, difference.kind), difference)
    return list(found.values())


def item_of(difference: Difference) -> Item | None:
    """``(table, item key label)`` of a table difference, else ``None``."""
    match = _ITEM_ANCHOR.fullmatch(difference.anchor)
    return (match["table"], match["key"]) if match else None


def split_noise(
    differences: list[Difference], noise: list[Difference], baselines: list[Observation], candidate: Observation
) -> tuple[list[Difference], list[Difference]]:
    """Separate the candidate's differences into (kept, excused as noise) by the two rules of the module docstring.

    Args:
        differences: Primary-baseline-vs-candidate differences.
        noise: Differences among the baseline runs.
        baselines: Every baseline run, primary first.
        candidate: The candidate run.

    Returns:
        The differences that still count, and those excused.
    """
    noisy_places = {difference.anchor for difference in noise}
    noisy_tables = _tables_of(noise)
    landed = _landed_by_any(baselines)
    kept: list[Difference] = []
    excused: list[Difference] = []
    for difference in differences:
        item = item_of(difference)
        if item is None:
            is_noise = difference.anchor in noisy_places  # rule 1
        else:
            is_noise = item[0] in noisy_tables and _baseline_outcome(item, landed, baselines, candidate)  # rule 2
        (excused if is_noise else kept).append(difference)
    return kept, excused


def _tables_of(noise: list[Difference]) -> set[str]:
    """The tables the baseline runs disagree about."""
    return {item[0] for item in map(item_of, noise) if item}


def _landed_by_any(baselines: list[Observation]) -> dict[Item, set[str]]:
    """Item -> canonical forms of every item some baseline run wrote there and that landed."""
    landed: dict[Item, set[str]] = {}
    for baseline in baselines:
        for item, values in written_values(baseline).items():
            landed.setdefault(item, set()).update(values)
    return landed


def _baseline_outcome(
    item: Item, landed: dict[Item, set[str]], baselines: list[Observation], candidate: Observation
) -> bool:
    """Whether the candidate's final item is one a baseline run left there or wrote there (rule 2)."""
    table, key = item
    outcomes = landed.get(item, set()) | {_final(baseline, table, key) for baseline in baselines}
    return _final(candidate, table, key) in outcomes


def _final(observation: Observation, table: str, key: str) -> str:
    """The canonical form of an item in a run's final table (of ``None`` when the run left no item there)."""
    return canonical(observation.tables.get(table, {}).get(key))


def written_values(observation: Observation) -> dict[Item, set[str]]:
    """(table, item key) -> canonical forms of every item a run wrote there and that landed.

    Puts of a call whose last attempt failed (a batch lost to throttling, a rejected ``PutItem``) never reached the
    table, so they are not possible outcomes.
    """
    landed = Counter(_attempted_puts(observation))
    landed.subtract(_lost_puts(observation))
    written: dict[Item, set[str]] = {}
    for (table, key, item), count in landed.items():
        if count > 0:
            written.setdefault((table, key), set()).add(item)
    return written


def _put(table: str, item: dict[str, Any]) -> Put:
    return table, key_label(item, DEFAULT_KEY_NAMES.get(table)), canonical(item)


def _attempted_puts(observation: Observation) -> list[Put]:
    """Every item a run sent to a table: its region-status writes and the items of its mutating calls."""
    puts = [_put("regionStatus", write["item"]) for write in observation.region_status_writes]
    for call in observation.mutating_calls:
        item = (call["params"].get("PutRequest") or {}).get("Item") or call["params"].get("Item")
        if item and call.get("table"):
            puts.append(_put(call["table"], item))
    return puts


def _lost_puts(observation: Observation) -> list[Put]:
    """The items of DynamoDB calls whose last attempt failed."""
    failed = []
    for call in observation.failed_calls:
        if call["service"] != "dynamodb" or not call["attempts"] or call["attempts"][-1] == "ok":
            continue
        params = call["params"]
        if isinstance(params.get("Item"), dict) and call.get("table"):
            failed.append(_put(call["table"], params["Item"]))
        for requests in (params.get("RequestItems") or {}).values():
            for request in requests:
                if "PutRequest" in request and call.get("table"):
                    failed.append(_put(call["table"], deserialise_attributes(request["PutRequest"]["Item"])))
    return failed


def needs_probe(kept: list[Difference], noise: list[Difference], primary: Observation) -> bool:
    """Whether more baseline runs could show that a kept table difference is a last-writer race (rule 2).

    True when a kept difference lies on an item the primary baseline wrote more than one distinct value to, in a
    table where the baseline runs showed no noise yet.
    """
    noisy_tables = _tables_of(noise)
    contested = {item for item, values in written_values(primary).items() if len(values) > 1}
    for difference in kept:
        item = item_of(difference)
        if item is not None and item[0] not in noisy_tables and item in contested:
            return True
    return False
