"""``summary.md``: the verdict, what blocks it grouped by cause, the scenario matrix and links, in at most 60 KB.

Written for a pull-request comment (GitHub refuses comments over 65,536 characters) and a CI job summary: the first
screen says GO or NO-GO and why. ``report.md`` stays the full archive. The first line is an HTML comment
(:data:`MARKER`) by which the CI finds and updates its earlier comment instead of adding another.

The size is held by construction: when the whole summary would exceed :data:`MAX_BYTES`, the matrix keeps only the
scenarios that are not equivalent, then only the failing ones, then the blockers lose their details; a line says what
was left out and where to find it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from harness.report.content import STATUS_LABELS, TITLE, duration, headline
from harness.report.markdown import blocker_lines, cell, code, status, table
from harness.report.triage import failing_first

#: Finds the CI's own comment on a pull request.
MARKER = "<!-- drs-inventory-sync-equivalence-summary -->"
#: The budget: GitHub comments hold 65,536 characters; this leaves room for the CI's own lines.
MAX_BYTES = 60 * 1024
MATRIX_HEADERS = ["Scenario", "Status", "Unapproved", "Approved", "Noise", "Approvals", "Time"]


def _header(run: dict[str, Any]) -> list[str]:
    mark = "✅" if run["go"] else "⛔"
    counts = ", ".join(f"{n} {STATUS_LABELS[s]}" for s, n in run["counts"].items() if n) or "none"
    git = run["metadata"]["git"]
    commit = code(git["commit"][:12]) if git.get("commit") else "an unknown commit"
    if git.get("dirty"):
        commit += f" **with uncommitted changes in {git.get('changedFiles')} file(s)**"
    return [
        MARKER,
        f"## {mark} {run['verdict']}: {TITLE}",
        "",
        f"**{headline(run)}**",
        "",
        f"{len(run['scenarios'])} scenario(s): {counts}. Baseline {code(run['baseline'])}, candidate "
        f"{code(run['candidate'])}, `{run['command']}` took {duration(run['durationS'])}, made from {commit}.",
    ]


def _changes(run: dict[str, Any]) -> list[str]:
    applied = [a for a in run["approvals"] if a.get("appliedIn")]
    if not applied:
        return []
    lines = ["", "### Behaviour that changes with the flip (approved divergences)", ""]
    lines += [f"- **{a['id']}** ({len(a['appliedIn'])} scenario(s)): {a['title']}" for a in applied]
    return lines


def _matrix(run: dict[str, Any], keep: Callable[[dict[str, Any]], bool]) -> list[str]:
    shown = [s for s in failing_first(run["scenarios"]) if keep(s)]
    rows = [
        [
            cell(s["name"]),
            status(s["status"]),
            str(s["counts"]["unapproved"]),
            str(s["counts"]["approved"]),
            str(s["counts"]["noise"]),
            ", ".join(a["id"] for a in s["approvals"] if a.get("covered")),
            duration(s["durationS"]),
        ]
        for s in shown
    ]
    lines = ["", "### Scenario matrix (failing first)", ""]
    lines += [table(MATRIX_HEADERS, rows)] if rows else []
    left = len(run["scenarios"]) - len(shown)
    if left:
        lines += ["", f"{left} more scenario(s), none of them failing: see report.html."]
    return lines


def _not_equivalent(scenario: dict[str, Any]) -> bool:
    return scenario["status"] != "equivalent"


def _failing(scenario: dict[str, Any]) -> bool:
    return scenario["status"] in ("divergent", "error")


def _links() -> list[str]:
    where = "beside this file"
    server, repository, run_id = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if server and repository and run_id:
        where = f"in the reports artifact of [this workflow run]({server}/{repository}/actions/runs/{run_id})"
    return [
        "",
        f"Full reports {where}: `report.html` (the sign-off page: every difference before / after, the flip and "
        "rollback steps, provenance), `report.md` (the same for archives), `verdict.json` (all data, with "
        "`schemaVersion` and provenance), `junit.xml`.",
    ]


def _compose(run: dict[str, Any], keep: Callable[[dict[str, Any]], bool], blocker_details: bool) -> str:
    lines = _header(run)
    if not run["go"]:
        lines += ["", "### What blocks the flip", ""]
        if blocker_details:
            lines += blocker_lines(run)
        else:
            lines += [f"{n}. {item['text']}" for n, item in enumerate(run["blockerItems"], start=1)]
    else:
        lines += _changes(run)
    lines += _matrix(run, keep) + _links()
    return "\n".join(lines) + "\n"


def render_summary(run: dict[str, Any]) -> str:
    """``summary.md`` for a view built by :func:`harness.report.content.build_view`, at most :data:`MAX_BYTES`."""
    text = ""
    for keep, blocker_details in (
        (lambda _s: True, True),
        (_not_equivalent, True),
        (_failing, True),
        (_failing, False),
    ):
        text = _compose(run, keep, blocker_details)
        if len(text.encode()) <= MAX_BYTES:
            return text
    cut = text.encode()[: MAX_BYTES - 200].decode(errors="ignore")
    return cut + "\n\n... (cut to fit a pull-request comment: see report.html)\n"
