"""Timing noise: what the baseline does not do the same way twice, and which candidate differences that excuses.

The baseline runs at least twice per scenario, in different world variants (the primary run and one or more
secondaries). Everything here is derived from those baseline runs; nothing the candidate reports is trusted.

**Noise** is every difference between the primary baseline run and another baseline run (:func:`baseline_noise`).

A candidate difference (primary baseline vs candidate) is **excused** by exactly one of two rules, chosen by where
it lies (:func:`split_noise`):

1. *Outside the tables* (the response, a region-status write, a mutating call...): excused when the baseline runs
   differ at the same place (its ``anchor``: the element or field it lies in).
2. *In a table item*: excused only when the item is **contested** and the candidate's table is a state some
   baseline ordering can produce. An item is contested when the baseline runs landed more than one distinct value
   at its key (:func:`written_values`) *and* their final tables disagree somewhere in that table: a key two
   baseline runs could really leave differently. Two conditions then hold, or the difference is kept:

   a. *Per key*: the candidate's final item is one some baseline run left there or wrote there and that landed.
   b. *Jointly*: over all contested items of the table, the candidate's winners - the writes whose values its final
      table holds, each known by its **kind** (how it was written: ``BatchWriteItem`` or ``PutItem``, and for which
      ``accountId``) - have the same kinds, as many of each, as the winners of one baseline run.

   This is the last-writer race of legacy's region-status batch against ``update_region_status`` (LB-6): each
   region gets a batched row and a put, and which survives is timing, but how many of each survive is not (one put
   per full 25-row flush window). Any region may be the one whose put survives; a candidate whose puts survive
   everywhere, or whose surviving row is another account's, is kept.

Every other difference is kept. The writes themselves are always compared exactly (``regionStatusWrites``,
``mutatingCalls``; rule 1 applies to them only where the baseline runs' writes differ), so nothing a run *writes* is
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
    race = _Race(baselines, _tables_of(noise))
    kept: list[Difference] = []
    excused: list[Difference] = []
    for difference in differences:
        item = item_of(difference)
        is_noise = difference.anchor in noisy_places if item is None else race.excuses(item, candidate)  # rule 1 / 2
        (excused if is_noise else kept).append(difference)
    return kept, excused


def _tables_of(noise: list[Difference]) -> set[str]:
    """The tables the baseline runs disagree about."""
    return {item[0] for item in map(item_of, noise) if item}


#: How a landed write was made: (operation, ``accountId`` of its item); ``("before", None)`` for a value no run wrote.
Kind = tuple[str, Any]
_UNWRITTEN: Kind = ("before", None)


class _Race:
    """Rule 2 over a set of baseline runs: the contested items, and the table states the baseline can produce."""

    def __init__(self, baselines: list[Observation], noisy_tables: set[str]) -> None:
        self.baselines = baselines
        self.kinds: dict[Item, dict[str, Kind]] = {}
        for baseline in baselines:
            for item, values in _landed_kinds(baseline).items():
                self.kinds.setdefault(item, {}).update(values)
        self.contested = {item for item, values in self.kinds.items() if item[0] in noisy_tables and len(values) > 1}
        self._signatures: dict[str, list[Counter[Kind]]] = {}

    def excuses(self, item: Item, candidate: Observation) -> bool:
        """Whether a candidate difference at ``item`` is a state the baseline can produce (rule 2a and 2b)."""
        if item not in self.contested:
            return False
        table, key = item
        outcomes = set(self.kinds[item]) | {_final(baseline, table, key) for baseline in self.baselines}
        if _final(candidate, table, key) not in outcomes:
            return False
        return self._signature(candidate, table) in self._baseline_signatures(table)

    def _baseline_signatures(self, table: str) -> list[Counter[Kind]]:
        if table not in self._signatures:
            self._signatures[table] = [self._signature(baseline, table) for baseline in self.baselines]
        return self._signatures[table]

    def _signature(self, observation: Observation, table: str) -> Counter[Kind]:
        """The kinds of the winners of ``observation``'s contested items of ``table`` (rule 2b)."""
        return Counter(
            self.kinds[item].get(_final(observation, *item), _UNWRITTEN) for item in self.contested if item[0] == table
        )


def _landed_kinds(observation: Observation) -> dict[Item, dict[str, Kind]]:
    """Item -> canonical value -> kind, for every value a run wrote there and that landed."""
    landed = written_values(observation)
    kinds: dict[Item, dict[str, Kind]] = {}
    for (table, key, value), kind in _attempted_kinds(observation):
        if value in landed.get((table, key), set()):
            kinds.setdefault((table, key), {})[value] = kind
    return kinds


def _attempted_kinds(observation: Observation) -> list[tuple[Put, Kind]]:
    """Every item a run sent to a table, with the kind of write that carried it."""
    found = [
        (_put("regionStatus", write["item"]), (write["via"], write["item"].get("accountId")))
        for write in observation.region_status_writes
    ]
    for call in observation.mutating_calls:
        item = (call["params"].get("PutRequest") or {}).get("Item") or call["params"].get("Item")
        if item and call.get("table"):
            found.append((_put(call["table"], item), (call["operation"], item.get("accountId"))))
    return found


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
