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


def _blockers(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Everything that blocks the flip, failing scenarios first, each with its first differences or errors."""
    items = []
    for scenario in run["scenarios"]:
        if scenario["status"] not in (DIVERGENT, ERROR):
            continue
        unapproved = [brief(d) for d in scenario["differences"] if d["status"] == "unapproved"]
        details = [message.splitlines()[0] for message in scenario["errors"]] + unapproved
        items.append(
            {
                "text": f"scenario {scenario['name']} is {scenario['status']}",
                "scenario": scenario["name"],
                "anchor": scenario["anchor"],
                "details": details[:3],
                "more": max(0, len(details) - 3),
            }
        )
    items += [{"text": text, "scenario": None, "anchor": None, "details": [], "more": 0} for text in run["blockers"]]
    return items


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
