"""What the reports say about noise, what is compared, and what junit.xml tells a CI test view.

Noise comes from a real run of the timing-noise scenario (legacy's region-status rows differ between its own runs);
the junit cases from hand-made verdicts shaped as the engine writes them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.engine.model import BASELINE_RUNS, EXCUSED, NOISE, Difference
from harness.engine.runner import run_scenarios
from harness.report import build_view, render_html, render_junit, render_markdown
from harness.report.content import COMPARED
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
NOISY = ROOT / "scenarios" / "twenty-eight-active-regions-timing-noise.yaml"


@pytest.fixture(scope="module")
def noisy_view() -> dict[str, Any]:
    """The timing-noise scenario, legacy against the refactor."""
    return build_view(run_scenarios([load_scenario(NOISY)], "legacy", "refactored"))


def test_noise_between_legacy_runs_is_labelled_as_its_runs() -> None:
    difference = Difference("tables", "tables.regionStatus[x].status", "changed", "A", "B", status=NOISE)
    difference.origin = BASELINE_RUNS
    assert difference.describe() == 'tables.regionStatus[x].status: baseline run 1 "A" -> baseline run 2 "B"  [noise]'
    difference.origin = EXCUSED
    assert difference.describe().endswith('baseline "A" -> candidate "B"  [noise: legacy itself varies here]')
    assert difference.to_dict()["origin"] == EXCUSED


def test_the_noise_section_names_the_runs_and_never_repeats_a_line(noisy_view: dict[str, Any]) -> None:
    (scenario,) = noisy_view["scenarios"]
    assert {d["origin"] for d in scenario["noise"]} <= {BASELINE_RUNS, EXCUSED}
    assert any(d["origin"] == BASELINE_RUNS for d in scenario["noise"])
    markdown = render_markdown(noisy_view)
    section = markdown.split("## Noise", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("- `")]
    assert lines and len(lines) == len(set(lines))
    legacy_list = section.split("Legacy against itself (baseline run 1 vs run 2):", 1)[1].split("Candidate", 1)[0]
    assert "baseline run 1" in legacy_list and "candidate" not in legacy_list
    html = render_html(noisy_view)
    noise_html = html.split('id="noise"', 1)[1].split("</section>", 1)[0]
    items = re.findall(r"<li><code>(.*?)</code></li>", noise_html)
    assert items and all(items.count(item) == 1 for item in items)


def test_every_report_says_what_is_compared_and_what_is_only_shown(noisy_view: dict[str, Any]) -> None:
    assert "Only shown, never compared: printed output and log lines, timings" in COMPARED
    assert COMPARED in render_markdown(noisy_view)
    assert COMPARED.replace("'", "&#x27;") in render_html(noisy_view)


def _verdict(scenarios: list[dict[str, Any]], blockers: list[str] | None = None) -> dict[str, Any]:
    return {
        "schemaVersion": "1.0",
        "verdict": "NO-GO",
        "command": "gate",
        "baseline": "legacy",
        "candidate": "refactored",
        "approvalsApply": True,
        "started": "2026-12-01T10:00:00Z",
        "durationS": 3.0,
        "counts": {"equivalent": 1, "approved-divergence": 0, "divergent": 1, "error": 0},
        "reasons": [],
        "blockers": blockers or [],
        "approvals": [],
        "coverage": None,
        "scenarios": scenarios,
    }


def _scenario(name: str, status: str, differences: list[dict[str, Any]], approvals: list[dict[str, Any]]) -> dict:
    return {
        "name": name, "source": "<memory>", "status": status, "differences": differences, "noise": [],
        "approvals": approvals, "staleApprovals": [a["id"] for a in approvals if a["stale"]], "errors": [],
        "durationS": 1.0, "tags": [], "runs": {"baseline": None, "baselineSecondary": None, "candidate": None},
    }  # fmt: skip


def test_junit_names_the_first_cause_group_and_attaches_stale_approvals_to_their_scenario() -> None:
    lost = {"section": "tables", "kind": "removed", "status": "unapproved", "baseline": {}, "candidate": None}
    differences = [
        {**lost, "path": f"tables.inventory[arn:aws:drs:us-east-1:2:source-server/s-{i} | 2]", "description": "d"}
        for i in range(3)
    ]
    stale = {"id": "AD-2", "referenced": True, "applicable": True, "candidateOk": True, "covered": 0, "stale": True,
             "notes": ["no difference in this scenario matches what it covers"]}  # fmt: skip
    verdict = _verdict(
        [_scenario("lost", "divergent", differences, []), _scenario("quiet", "equivalent", [], [stale])],
        ["approval AD-2 is stale in scenario quiet: no difference in this scenario matches what it covers"],
    )
    root = ET.fromstring(render_junit(build_view(verdict)))  # noqa: S314 - our own output
    cases = {case.get("name"): case for case in root.iter("testcase")}
    failure = cases["lost"].find("failure")
    assert failure is not None
    assert failure.get("message") == (
        "3 unapproved difference(s) from the baseline; first: tables.inventory[*]: only in the baseline "
        "(3 in 1 scenario(s))"
    )
    stale_failure = cases["quiet"].find("failure")
    assert stale_failure is not None and stale_failure.get("type") == "stale-approval"
    assert "approval AD-2 is stale here" in stale_failure.get("message", "")
    suite = root.find("testsuite")
    assert suite is not None and suite.get("timestamp") == "2026-12-01T10:00:00Z" and suite.get("failures") == "2"
