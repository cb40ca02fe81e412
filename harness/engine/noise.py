"""Timing noise: what the baseline itself does not do the same way twice, and which candidate differences it excuses.

Two rules, both derived only from baseline runs (the primary and one or more secondaries in other world variants):

* **Same place.** A candidate difference at a place (an element, a table item, a response field) where the baseline
  runs already differ among themselves is noise.
* **Possible last writer.** When the baseline runs disagree about a table's final state, the order in which writes
  to the same item land is timing (legacy's region-status batch racing ``update_region_status``, LB-6). Then a
  candidate's final item in that table is noise when it equals a value some baseline run left there or wrote
  there: it is one of the outcomes the baseline itself can produce. The writes themselves are still compared
  exactly (``regionStatusWrites``, ``mutatingCalls``), so nothing a run *writes* is excused, only which write wins.

:func:`needs_probe` tells the runner when a few more baseline variants are worth running: a table difference on an
item the baseline wrote more than one value to, in a table where no noise was seen yet.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from harness.engine.compare import DEFAULT_KEY_NAMES, compare
from harness.engine.model import Difference, Observation
from harness.engine.normalise import canonical, deserialise_attributes, key_label

_ITEM_ANCHOR = re.compile(r"tables\.(?P<table>[^.\[]+)\[(?P<key>.*)\]")


def item_of(difference: Difference) -> tuple[str, str] | None:
    """``(table, item key label)`` of a table difference, else ``None``."""
    match = _ITEM_ANCHOR.fullmatch(difference.anchor)
    return (match["table"], match["key"]) if match else None


def baseline_noise(primary: Observation, secondaries: list[Observation]) -> list[Difference]:
    """Every difference between the primary baseline and each secondary (duplicates by path removed)."""
    found: dict[tuple[str, str], Difference] = {}
    for secondary in secondaries:
        for difference in compare(primary, secondary):
            found.setdefault((difference.path, difference.kind), difference)
    return list(found.values())


def written_values(observation: Observation) -> dict[tuple[str, str], set[str]]:
    """(table, item key) -> canonical forms of every item a run wrote there and that landed.

    Puts of a call whose last attempt failed (a batch lost to throttling, a rejected ``PutItem``) never reached the
    table, so they are not possible outcomes.
    """
    landed = Counter(_puts(observation))
    landed.subtract(_failed_puts(observation))
    written: dict[tuple[str, str], set[str]] = {}
    for (table, key, item), count in landed.items():
        if count > 0:
            written.setdefault((table, key), set()).add(item)
    return written


Put = tuple[str, str, str]


def _put(table: str, item: dict[str, Any]) -> Put:
    return table, key_label(item, DEFAULT_KEY_NAMES.get(table)), canonical(item)


def _puts(observation: Observation) -> list[Put]:
    puts = [_put("regionStatus", write["item"]) for write in observation.region_status_writes]
    for call in observation.mutating_calls:
        item = (call["params"].get("PutRequest") or {}).get("Item") or call["params"].get("Item")
        if item and call.get("table"):
            puts.append(_put(call["table"], item))
    return puts


def _failed_puts(observation: Observation) -> list[Put]:
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


def _final(observation: Observation, table: str, key: str) -> str:
    return canonical(observation.tables.get(table, {}).get(key))


def split_noise(
    differences: list[Difference], noise: list[Difference], baselines: list[Observation], candidate: Observation
) -> tuple[list[Difference], list[Difference]]:
    """Separate the candidate's differences into (kept, excused as noise) by the two rules above.

    Args:
        differences: Primary-baseline-vs-candidate differences.
        noise: Differences among the baseline runs.
        baselines: Every baseline run, primary first.
        candidate: The candidate run.

    Returns:
        The differences that still count, and those excused.
    """
    anchors = {difference.anchor for difference in noise}
    noisy_tables = {item[0] for item in map(item_of, noise) if item}
    possible: dict[tuple[str, str], set[str]] = {}
    for baseline in baselines:
        for key, values in written_values(baseline).items():
            possible.setdefault(key, set()).update(values)
    kept: list[Difference] = []
    excused: list[Difference] = []
    for difference in differences:
        item = item_of(difference)
        if difference.anchor in anchors and item is None:
            excused.append(difference)
        elif item and item[0] in noisy_tables and _possible(item, possible, baselines, candidate):
            excused.append(difference)
        else:
            kept.append(difference)
    return kept, excused


def _possible(
    item: tuple[str, str], possible: dict[tuple[str, str], set[str]], baselines: list[Observation], candidate: Any
) -> bool:
    table, key = item
    outcomes = possible.get(item, set()) | {_final(baseline, table, key) for baseline in baselines}
    return _final(candidate, table, key) in outcomes


def needs_probe(kept: list[Difference], noise: list[Difference], primary: Observation) -> bool:
    """Whether more baseline variants could reveal noise behind a kept difference (see the module docstring)."""
    noisy_tables = {item[0] for item in map(item_of, noise) if item}
    contested = {key for key, values in written_values(primary).items() if len(values) > 1}
    return any((item := item_of(d)) and item[0] not in noisy_tables and item in contested for d in kept)
