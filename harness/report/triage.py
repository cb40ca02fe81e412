"""Triage: the unapproved differences of a whole run grouped by cause, so a NO-GO reads in one screen.

One change in the candidate shows up in many scenarios and at many places of each (a lost server is a missing
inventory item, a missing write, a smaller ``serverCount``, a smaller ``totalSynced``...). Two levels of grouping
turn those hundreds of lines into a few:

* a **difference group** is every unapproved difference with the same *path pattern* and the same kind of change,
  across scenarios (as Diffy counts per field). The pattern is the path with its keys and indices replaced by ``*``:
  inside ``[...]`` the words that say *what* was called or written (``dynamodb:BatchWriteItem``, ``inventory``,
  ``PutRequest``) stay, the identifiers that say *which* (ARNs, accounts, regions, ids, indices) become ``*``;
* a **cause** is a group with the most scenarios and every smaller group most of whose scenarios lie among them: the
  differences one change leaves behind together, in (mostly) the same scenarios. A group seen mostly elsewhere
  starts a cause of its own, so two changes that hit different scenarios stay two causes; two changes that always
  hit the same scenarios read as one cause with both patterns listed under it.

Each cause shows its scenarios, its groups with their counts, and one before/after example. Stale approvals are
grouped by approval, with the first reason given.

Approval labels: an unapproved difference whose path an approval referenced (or applied) in that scenario could
cover is marked *not approved, because ...* with the approval's own notes; an approved difference links its approval.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from harness.engine.approvals import Cover

#: Words kept inside ``[...]`` of a pattern: service:Operation names, table names, request kinds.
_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?::[A-Za-z][A-Za-z0-9_]*)?$")
_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
#: Sections in the order a reader cares about them: what the table holds first, reads last.
SECTION_ORDER = ("tables", "mutatingCalls", "regionStatusWrites", "response", "exception", "reads")
KIND_WORDS = {
    "changed": "changed",
    "type-changed": "type changed",
    "added": "only in the candidate",
    "removed": "only in the baseline",
    "count-changed": "occurs a different number of times",
}


def _bracket(match: re.Match[str]) -> str:
    words: list[str] = []
    for token in match.group(1).split():
        word = token if _WORD.match(token) else "*"
        if word != "*" or not words or words[-1] != "*":
            words.append(word)
    return "[" + (" ".join(words) or "*") + "]"


def path_pattern(path: str) -> str:
    """The path with keys and indices replaced by ``*`` (words naming operations and tables kept).

    >>> path_pattern("mutatingCalls[dynamodb:BatchWriteItem inventory PutRequest arn:aws:drs:us-east-1:2:s | 2]")
    'mutatingCalls[dynamodb:BatchWriteItem inventory PutRequest *]'
    >>> path_pattern("tables.regionStatus[us-east-1].serverCount")
    'tables.regionStatus[*].serverCount'
    """
    return _BRACKETS.sub(_bracket, path)


def _example(scenario: dict[str, Any], difference: dict[str, Any]) -> dict[str, Any]:
    return {
        "scenario": scenario["name"],
        "anchor": scenario.get("anchor", ""),
        "path": difference["path"],
        "kind": difference["kind"],
        "baseline": difference.get("baseline"),
        "candidate": difference.get("candidate"),
    }


def difference_groups(scenarios: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every unapproved difference grouped by path pattern and kind, most scenarios first.

    Returns:
        ``{"pattern", "kind", "section", "count", "scenarios", "example"}`` per group; ``scenarios`` in run order,
        ``example`` the group's first difference with its scenario.
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for scenario in scenarios:
        for difference in scenario.get("differences", []):
            if difference.get("status") != "unapproved":
                continue
            key = (path_pattern(difference["path"]), difference["kind"])
            group = groups.get(key)
            if group is None:
                group = groups[key] = {
                    "pattern": key[0],
                    "kind": key[1],
                    "section": difference.get("section", ""),
                    "count": 0,
                    "scenarios": [],
                    "example": _example(scenario, difference),
                }
            group["count"] += 1
            if scenario["name"] not in group["scenarios"]:
                group["scenarios"].append(scenario["name"])
    return sorted(groups.values(), key=_group_rank)


def _group_rank(group: dict[str, Any]) -> tuple[int, int, int, str]:
    section = SECTION_ORDER.index(group["section"]) if group["section"] in SECTION_ORDER else len(SECTION_ORDER)
    return (-len(group["scenarios"]), section, -group["count"], group["pattern"])


def causes(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups clustered by cause (see the module docstring), the cause hitting most scenarios first.

    Returns:
        ``{"scenarios", "groups", "count", "example"}`` per cause; ``example`` is its first group's example.
    """
    found: list[dict[str, Any]] = []
    for group in groups:
        hit = set(group["scenarios"])
        home = next((cause for cause in found if 2 * len(hit & cause["leader"]) > len(hit)), None)
        if home is None:
            home = {"leader": hit, "scenarios": [], "groups": [], "example": group["example"]}
            found.append(home)
        home["groups"].append(group)
        home["scenarios"] += [name for name in group["scenarios"] if name not in home["scenarios"]]
    for cause in found:
        del cause["leader"]
        cause["count"] = sum(group["count"] for group in cause["groups"])
    return found


def describe_group(group: dict[str, Any]) -> str:
    """``pattern: kind (N difference(s) in M scenario(s))``."""
    kind = KIND_WORDS.get(group["kind"], group["kind"])
    return f"{group['pattern']}: {kind} ({group['count']} in {len(group['scenarios'])} scenario(s))"


def stale_approvals(scenarios: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stale approvals grouped by id: ``{"id", "scenarios", "reason"}`` (the first scenario's reason)."""
    stale: dict[str, dict[str, Any]] = {}
    for scenario in scenarios:
        for use in scenario.get("approvals", []):
            if not use.get("stale"):
                continue
            entry = stale.setdefault(use["id"], {"id": use["id"], "scenarios": [], "reason": ""})
            entry["scenarios"].append(scenario["name"])
            entry["reason"] = entry["reason"] or "; ".join(use.get("notes") or []) or "it approved no difference"
    return list(stale.values())


def label_approvals(run: dict[str, Any]) -> None:
    """Mark, in place, each unapproved difference an approval used in its scenario could cover but did not.

    ``difference["notApproved"]`` becomes ``[{"id", "because"}]``; approved differences keep their ``approval``.
    """
    covers = {a["id"]: [Cover(str(pattern)) for pattern in a.get("covers", [])] for a in run.get("approvals", [])}
    for scenario in run["scenarios"]:
        uses = [use for use in scenario.get("approvals", []) if use.get("referenced") or use.get("covered")]
        for difference in scenario.get("differences", []):
            if difference.get("status") != "unapproved":
                continue
            refused = [
                {"id": use["id"], "because": _because(use)}
                for use in uses
                if any(cover.matches(difference["path"]) for cover in covers.get(use["id"], []))
            ]
            if refused:
                difference["notApproved"] = refused


def _because(use: dict[str, Any]) -> str:
    if not use.get("applicable"):
        return "its condition does not hold in this scenario" + (
            f" ({'; '.join(use['notes'])})" if use.get("notes") else ""
        )
    return "; ".join(use.get("notes") or []) or "a requirement of its cover did not hold for this difference"


def failing_first(scenarios: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scenarios in error or divergent first, then approved divergences, then equivalent ones (run order kept)."""
    rank = {"error": 0, "divergent": 0, "approved-divergence": 1, "equivalent": 2}
    return sorted(scenarios, key=lambda s: rank.get(s["status"], 0))
