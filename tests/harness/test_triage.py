"""Triage: a NO-GO grouped by cause, approval labels that say why, and summary.md within a pull-request comment.

The acceptance case is the shipped one-change mutant ``tests.comparison.mutants:lost_server`` (legacy losing one
server from the first DRS page it sees): over several scenarios its hundreds of differences read as one or two
causes, first in summary.md. The whole library with that candidate (and the GO gate) runs in the slow suite.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.engine.approvals import load_approvals
from harness.engine.coverage import coverage
from harness.engine.runner import run_scenarios
from harness.report import build_view, render_html, render_markdown, render_summary
from harness.report.summary import MARKER, MAX_BYTES
from harness.report.triage import causes, difference_groups, failing_first, label_approvals, path_pattern
from harness.scenario import load_scenario, load_scenarios

ROOT = Path(__file__).resolve().parents[2]
LOST_SERVER = "tests.comparison.mutants:lost_server"
SCENARIOS = (
    "single-account-single-region-multiple-servers",
    "multiple-accounts-single-region-each",
    "single-account-multiple-regions",
    "servers-with-ec2-enrichment",
)
#: Lines of summary.md a reviewer sees without scrolling, generously.
ONE_SCREEN = 60


@pytest.fixture(scope="module")
def lost_server_view() -> dict[str, Any]:
    """A gate-like run of the lost-server mutant over four scenarios, as the reports see it."""
    scenarios = [load_scenario(ROOT / "scenarios" / f"{name}.yaml") for name in SCENARIOS]
    approvals = load_approvals()
    result = run_scenarios(scenarios, "legacy", LOST_SERVER, approvals, command="gate")
    result.coverage = coverage(scenarios, result.scenarios, approvals)
    return build_view(result)


def _difference(name: str, path: str, kind: str = "changed", status: str = "unapproved") -> dict[str, Any]:
    return {"section": path.split("[")[0].split(".")[0], "path": path, "kind": kind, "status": status, "name": name}


def _scenario(name: str, paths: list[str], status: str = "divergent") -> dict[str, Any]:
    return {"name": name, "status": status, "differences": [_difference(name, p) for p in paths], "approvals": []}


def test_path_patterns_replace_keys_and_indices_but_keep_what_was_called() -> None:
    arn = "arn:aws:drs:us-east-1:222222222222:source-server/s-1c4fad39c045fe468 | 222222222222"
    assert path_pattern(f"mutatingCalls[dynamodb:BatchWriteItem inventory PutRequest {arn}]") == (
        "mutatingCalls[dynamodb:BatchWriteItem inventory PutRequest *]"
    )
    assert path_pattern(f"tables.inventory[{arn}].hostname") == "tables.inventory[*].hostname"
    assert path_pattern("regionStatusWrites[BatchWriteItem us-east-1 222222222222].item.serverCount") == (
        "regionStatusWrites[BatchWriteItem *].item.serverCount"
    )
    assert path_pattern("reads[ec2:DescribeInstances 222222222222/us-east-1].params[InstanceId.3]") == (
        "reads[ec2:DescribeInstances *].params[*]"
    )
    assert path_pattern("response.body.totalSynced") == "response.body.totalSynced"


def test_two_changes_in_different_scenarios_stay_two_causes_and_one_change_is_one() -> None:
    key = "arn:aws:drs:us-east-1:222222222222:source-server/s-{} | 222222222222"
    lost = [_scenario(f"s{i}", [f"tables.inventory[{key.format(i)}]", "response.body.totalSynced"]) for i in range(4)]
    renamed = [_scenario(f"t{i}", [f"tables.inventory[{key.format(i)}].hostname"]) for i in range(3)]
    found = causes(difference_groups(lost + renamed))
    assert [len(c["scenarios"]) for c in found] == [4, 3]
    assert [g["pattern"] for g in found[0]["groups"]] == ["tables.inventory[*]", "response.body.totalSynced"]
    assert found[0]["count"] == 8 and found[0]["example"]["scenario"] == "s0"
    assert len(causes(difference_groups(lost))) == 1


def test_failing_scenarios_come_first_in_run_order() -> None:
    runs = [{"name": n, "status": s} for n, s in (("a", "equivalent"), ("b", "divergent"), ("c", "error"))]
    assert [s["name"] for s in failing_first(runs)] == ["b", "c", "a"]


def test_an_approval_that_could_cover_a_path_says_why_it_did_not() -> None:
    run = {
        "approvals": [{"id": "AD-2", "covers": ["tables.inventory[*]"]}],
        "scenarios": [
            {
                "name": "s",
                "differences": [_difference("s", "tables.inventory[k]", "removed"), _difference("s", "response")],
                "approvals": [
                    {
                        "id": "AD-2",
                        "referenced": True,
                        "applicable": True,
                        "covered": 0,
                        "notes": ["deleted a live"],
                    }
                ],
            }
        ],
    }
    label_approvals(run)
    covered, other = run["scenarios"][0]["differences"]
    assert covered["notApproved"] == [{"id": "AD-2", "because": "deleted a live"}]
    assert "notApproved" not in other
    html = render_html_label(covered)
    assert "not approved by" in html and 'href="#approval-AD-2"' in html and "deleted a live" in html


def render_html_label(difference: dict[str, Any]) -> str:
    from harness.report.html import approval_label

    return approval_label(difference, {"AD-2": {"reason": "r", "owner": "o"}})


def test_an_approved_difference_links_its_approval_with_reason_and_owner() -> None:
    from harness.report.html import approval_label

    label = approval_label({"status": "approved", "approval": "AD-1"}, {"AD-1": {"reason": "why", "owner": "team"}})
    assert 'href="#approval-AD-1"' in label and 'title="why (owner: team)"' in label


def test_one_lost_server_reads_as_one_or_two_causes_first_in_summary(lost_server_view: dict[str, Any]) -> None:
    assert not lost_server_view["go"]
    assert 1 <= len(lost_server_view["causes"]) <= 2
    total = sum(c["count"] for c in lost_server_view["causes"])
    assert total >= 3 * len(SCENARIOS)  # many differences, few causes
    summary = render_summary(lost_server_view)
    assert summary.startswith(MARKER)
    blockers = summary.split("### What blocks the flip", 1)[1].split("### Scenario matrix", 1)[0]
    assert blockers.strip().startswith("1. **cause 1:")
    first_screen = re.sub(r"<details>.*?</details>", "", summary.split("### Scenario matrix", 1)[0], flags=re.DOTALL)
    assert len([line for line in first_screen.splitlines() if line.strip()]) <= ONE_SCREEN
    assert "tables.inventory[*]" in blockers and "example in" in blockers
    matrix = summary.split("### Scenario matrix", 1)[1]
    assert all(name in matrix for name in SCENARIOS)


def test_the_full_report_lists_causes_before_everything_else(lost_server_view: dict[str, Any]) -> None:
    markdown = render_markdown(lost_server_view)
    assert markdown.index("cause 1:") < markdown.index("## Run metadata")
    html = render_html(lost_server_view)
    assert html.index("cause 1:") < html.index('id="metadata"')
    assert "<del>" in html or "<ins>" in html or "before / after" in markdown


def test_summary_stays_within_a_pull_request_comment_however_large_the_run() -> None:
    long = "x" * 400
    scenarios = [
        _scenario(f"scenario-{i:04d}-{long[:40]}", [f"tables.inventory[k{i}-{j}].{long}" for j in range(50)])
        for i in range(600)
    ]
    view = {
        "go": False,
        "verdict": "NO-GO",
        "command": "gate",
        "baseline": "legacy",
        "candidate": "refactored",
        "durationS": 1.0,
        "counts": {"divergent": 600},
        "approvals": [],
        "metadata": {"git": {"commit": "a" * 40, "dirty": True, "changedFiles": 2}},
        "scenarios": [
            {**s, "counts": {"unapproved": 50, "approved": 0, "noise": 0}, "durationS": 1.0} for s in scenarios
        ],
    }
    view["causes"] = causes(difference_groups(view["scenarios"]))
    view["blockerItems"] = [
        {"kind": "cause", "text": f"cause {n}", "scenarios": [], "details": [long] * 5, "more": 0, "example": None}
        for n in range(400)
    ]
    summary = render_summary(view)
    assert len(summary.encode()) <= MAX_BYTES
    assert summary.startswith(MARKER) and "NO-GO" in summary.splitlines()[1]


@pytest.mark.slow
@pytest.mark.parametrize("candidate", ["refactored", LOST_SERVER])
def test_summary_of_the_full_gate_fits_a_comment(candidate: str, tmp_path: Path) -> None:
    """The largest shipped runs: the whole library, GO with the refactor and NO-GO with the lost-server mutant."""
    code = main(["gate", "--candidate", candidate, "--report-dir", str(tmp_path / "reports")])
    summary = (tmp_path / "reports" / "summary.md").read_text(encoding="utf-8")
    assert len(summary.encode()) <= MAX_BYTES
    assert code == (0 if candidate == "refactored" else 1)
    if candidate == LOST_SERVER:
        assert len(re.findall(r"^\d+\. \*\*cause \d+:", summary, flags=re.MULTILINE)) <= 2
    assert len(load_scenarios([str(ROOT / "scenarios")])) == summary.count("\n| ") - 1 or "more scenario" in summary
