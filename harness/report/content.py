"""What every report says, computed once: the sanitised run data, metadata and the wording both renderers share.

:func:`build_view` turns a :class:`~harness.engine.model.RunResult` (or its ``to_dict()``, e.g. a ``verdict.json``)
into one plain dict. It goes through the harness's one redactor (:func:`harness.redaction.redact_output`) a second
time (the engine redacts observations already): the real credentials, AWS secret shapes, values under secret-looking
keys, and ExternalIds masked unless ``--show-external-ids``, so that a report can be attached to a ticket or a pull
request as it is.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness.engine.model import APPROVED_DIVERGENCE, DIVERGENT, EQUIVALENT, ERROR, GO, RunResult
from harness.redaction import redact_output
from harness.report import triage
from harness.report.metadata import collect_metadata

TITLE = "DRS inventory sync: refactor equivalence sign-off"
#: What the project is, for a reader who has never seen it.
INTRODUCTION = (
    "A production AWS Lambda syncs every Elastic Disaster Recovery (DRS) source server, across accounts and regions, "
    "into a DynamoDB inventory. It was refactored; the environment variable `USE_REFACTORED_INVENTORY_SYNC` chooses "
    "between the production code (legacy, the baseline) and the refactor (the candidate). This report runs both in "
    "identical simulated AWS worlds (one per scenario, with injected faults), compares everything they return, "
    "write, call and log, and says whether the flag may be flipped."
)
#: What gates and what is only shown, said once for every report.
COMPARED = (
    "Compared (any unexplained difference blocks the flip): the response, the exception raised, the final contents of "
    "the three tables, every region-status write, every other write, delete and AssumeRole call, and the set of read "
    "calls. Only shown, never compared: printed output and log lines, timings, how often each read was made, and "
    "failed attempts (injected faults, retries)."
)
#: The noise section's two lists.
NOISE_INTRO = (
    "Legacy runs twice per scenario (run 2 in a world whose regions complete in a different order; when a divergence "
    "might hide noise, further runs count as run 2). What legacy does differently between its own runs is timing "
    "noise: it never gates, and a candidate difference at the same place is excused."
)
NOISE_LISTS = (
    ("baseline-runs", "Legacy against itself (baseline run 1 vs run 2)"),
    ("excused", "Candidate differences excused (legacy itself varies there)"),
)
STATUS_LABELS = {
    EQUIVALENT: "equivalent",
    APPROVED_DIVERGENCE: "approved divergence",
    DIVERGENT: "DIVERGENT",
    ERROR: "ERROR",
}
#: Columns of the scenario matrix, in both report formats.
SCENARIO_MATRIX_HEADERS = (
    "Scenario",
    "Status",
    "Unapproved",
    "Approved",
    "Noise",
    "Approvals",
    "Baseline run",
    "Candidate run",
    "Scenario (3 runs)",
)

STATUS_MEANINGS = {
    EQUIVALENT: "baseline and candidate did the same observable things",
    APPROVED_DIVERGENCE: "every difference is covered by a reviewed, approved divergence",
    DIVERGENT: "the candidate does something legacy does not, and no approved divergence covers it",
    ERROR: "the scenario could not be judged: the harness failed, or legacy no longer behaves as the scenario expects",
}
#: What to do about each kind of blocker.
REMEDIES = (
    ("divergent", "fix the refactor, or declare a reviewed approval in `harness/approvals.yaml` and reference it"),
    ("error", "read the scenario's errors: a harness failure or a scenario whose `expect` no longer holds"),
    ("no scenario", "add a scenario to `scenarios/` that exercises it (coverage gap)"),
    ("stale", "reference the approval from the scenario it is meant for, or remove it"),
)
#: Differences shown per scenario (the rest are in verdict.json).
#: The approvals section of a run between two versions of production (a deployed artifact and legacy).
NO_APPROVAL_APPLIES = (
    "No approval applies: baseline and candidate are both versions of production (a deployed artifact and legacy), "
    "so every difference counts. Approvals explain only how the refactor differs from production."
)
MAX_SHOWN = 100
#: Difference groups listed under one cause (the rest are counted).
MAX_GROUP_LINES = 6
#: Scenario names listed in one line (the rest are counted).
MAX_NAMES = 8
_BRIEF_VALUE_CHARS = 60


def anchor(name: str) -> str:
    """An HTML id for a scenario name."""
    return "scenario-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")


def _scenario_extras(source: str) -> dict[str, Any]:
    """Description, clock and seed from the scenario file, when it can still be read."""
    path = Path(source)
    if source.startswith("<") or not path.is_file():
        return {}
    from harness.scenario.loading import ScenarioError, load_scenario

    try:
        scenario = load_scenario(path)
    except (ScenarioError, OSError):
        return {}
    return {"description": scenario.description, "clock": scenario.clock, "seed": scenario.seed}


def _counts(scenario: dict[str, Any]) -> dict[str, int]:
    differences = scenario.get("differences", [])
    return {
        "unapproved": sum(1 for d in differences if d.get("status") == "unapproved"),
        "approved": sum(1 for d in differences if d.get("status") == "approved"),
        "noise": len(scenario.get("noise", [])),
    }


def _short(value: Any) -> str | None:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _BRIEF_VALUE_CHARS else None


def brief(difference: dict[str, Any]) -> str:
    """One short line for a difference: where, and what happened (values only when they are short)."""
    path, kind = difference["path"], difference["kind"]
    before, after = _short(difference.get("baseline")), _short(difference.get("candidate"))
    if kind == "added":
        return f"{path}: only in the candidate" + (f": {after}" if after else "")
    if kind == "removed":
        return f"{path}: only in the baseline" + (f": {before}" if before else "")
    if kind == "count-changed":
        return f"{path}: occurs {before} time(s) in the baseline, {after} in the candidate"
    if before is not None and after is not None:
        return f"{path}: {before} in the baseline, {after} in the candidate"
    return f"{path}: {kind} (see Differences for the values)"


def noise_lines(scenario: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The scenario's noise as (list title, distinct lines), baseline-run noise first; no line is repeated."""
    lists = []
    for origin, title in NOISE_LISTS:
        lines = [d["description"] for d in scenario["noise"] if d.get("origin", "baseline-runs") == origin]
        if lines:
            lists.append((title, list(dict.fromkeys(lines))))
    return lists


def names(items: list[str], limit: int = MAX_NAMES) -> str:
    """``a, b, c and 5 more``."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _blockers(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Everything that blocks the flip, grouped: causes of differences, scenarios in error, stale approvals by id,
    then the other gate findings (coverage gaps, approvals no scenario references)."""
    anchors = {s["name"]: s["anchor"] for s in run["scenarios"]}
    items = []
    for number, cause in enumerate(run["causes"], start=1):
        lead = cause["groups"][0]
        items.append(
            {
                "kind": "cause",
                "text": f"cause {number}: {cause['count']} unapproved difference(s) in {len(cause['scenarios'])} "
                f"scenario(s), first {triage.describe_group(lead)}",
                "scenario": cause["example"]["scenario"],
                "anchor": anchors.get(cause["example"]["scenario"]),
                "scenarios": cause["scenarios"],
                "details": [triage.describe_group(group) for group in cause["groups"][1:MAX_GROUP_LINES]],
                "more": max(0, len(cause["groups"]) - MAX_GROUP_LINES),
                "example": cause["example"],
            }
        )
    for scenario in run["scenarios"]:
        if scenario["status"] == ERROR:
            details = [message.splitlines()[0] for message in scenario["errors"]]
            items.append(_item("error", f"scenario {scenario['name']} is in error", scenario, details))
    stale_lines = set()
    for stale in run["staleApprovals"]:
        stale_lines |= {f"approval {stale['id']} is stale in scenario {name}:" for name in stale["scenarios"]}
        first = stale["scenarios"][0]
        text = f"approval {stale['id']} is stale in {len(stale['scenarios'])} scenario(s): {names(stale['scenarios'])}"
        items.append(_item("stale", text, {"name": first, "anchor": anchors.get(first)}, [stale["reason"]]))
    for text in run["blockers"]:
        if not any(text.startswith(prefix) for prefix in stale_lines):
            items.append({"kind": "gate", "text": text, "scenario": None, "anchor": None, "details": [], "more": 0})
    return items


def _item(kind: str, text: str, scenario: dict[str, Any], details: list[str]) -> dict[str, Any]:
    return {
        "kind": kind,
        "text": text,
        "scenario": scenario["name"],
        "anchor": scenario.get("anchor"),
        "details": details[:3],
        "more": max(0, len(details) - 3),
    }


def build_view(result: RunResult | dict[str, Any]) -> dict[str, Any]:
    """Everything the HTML, Markdown and JUnit reports show, as one sanitised dict.

    Args:
        result: The run's result, or its ``to_dict()``.

    Returns:
        The run's ``to_dict()`` (sanitised) plus ``metadata``, ``blockerItems`` and, per scenario, ``anchor``,
        ``counts``, ``description``, ``clock`` and ``seed``.
    """
    data = result.to_dict() if isinstance(result, RunResult) else result
    run = redact_output(data)
    for scenario in run["scenarios"]:
        scenario.update(_scenario_extras(scenario.get("source", "<memory>")))
        scenario["anchor"] = anchor(scenario["name"])
        scenario["counts"] = _counts(scenario)
    triage.label_approvals(run)
    run["causes"] = triage.causes(triage.difference_groups(run["scenarios"]))
    run["staleApprovals"] = triage.stale_approvals(run["scenarios"])
    clocks = sorted({s["clock"] for s in run["scenarios"] if s.get("clock")})
    run["metadata"] = redact_output(collect_metadata(run, clocks))
    run["blockerItems"] = _blockers(run)
    run["go"] = run["verdict"] == GO
    return run


def headline(run: dict[str, Any]) -> str:
    """One sentence under the banner."""
    total = len(run["scenarios"])
    if not run["go"]:
        count = len(run["blockerItems"])
        return f"Do not flip the flag in production: {count} finding(s) block it ({total} scenario(s) run)."
    approved = run["counts"].get(APPROVED_DIVERGENCE, 0)
    text = f"The refactor behaves like production in all {total} scenario(s)"
    text += f" ({approved} with approved divergences)." if approved else "."
    if run["command"] != "gate":
        text += " This is a `run` of selected scenarios: only `python -m harness gate` checks coverage and approvals."
    return text


def duration(seconds: float | int | None) -> str:
    """Seconds for people: ``0.42 s``, ``12.3 s``, ``2 min 5 s``."""
    seconds = float(seconds or 0)
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"
