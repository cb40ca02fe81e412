"""The sign-off reports (report.html, report.md, junit.xml) built from real engine runs in simulated worlds.

Two runs are made once per module: a GO run (an equivalent scenario and an approved divergence, AD-1) and a NO-GO run
whose candidate leaks every credential it can see (so the reports can be searched for them) next to a scenario whose
expectation fails (an engine error). Reports are written through the engine's report hook, as ``run``/``gate`` do.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import harness.report
from harness.cli import main
from harness.engine.approvals import load_approvals
from harness.engine.coverage import ERROR_TYPES, LEGACY_STATES, coverage, gate_blockers
from harness.engine.model import NOISE, Difference, RunResult
from harness.engine.observe import Implementation, observe
from harness.engine.reports import write_report_dir
from harness.engine.runner import run_scenarios
from harness.report import REPORT_FILES, build_view, render_html, signoff
from harness.report.metadata import tool_versions
from harness.scenario import Scenario, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "scenarios" / "single-account-single-region-no-servers.yaml"
ROLE = "arn:aws:iam::222222222222:role/DRSOrchestrationRole"
SECTIONS = ("verdict", "metadata", "scenarios", "coverage", "approvals", "noise", "differences", "details")
MARKER = re.compile(r"<redacted:[0-9a-f]{8}>")
#: Every credential value the leaky candidate saw, collected while it runs inside the worlds.
LEAKED: dict[str, str] = {}
logger = logging.getLogger("leaky.candidate")


def leaky_handler() -> dict[str, Any]:
    """The refactor, plus every way real code leaks credentials: prints, logs, response bodies."""
    from lambda_shared.cross_account import assume_role_credentials
    from refactored.inventory_sync import handle_sync_source_server_inventory_refactored

    own = {name: os.environ[name] for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    credentials = assume_role_credentials(ROLE, "leaky", "drs-orchestration-cross-account")
    LEAKED.update(own)
    LEAKED.update({f"sts {key}": value for key, value in credentials.items() if isinstance(value, str)})
    print(f"assumed: AccessKeyId={credentials['AccessKeyId']} SecretAccessKey={credentials['SecretAccessKey']}")
    logger.warning("session token=%s for %s", credentials["SessionToken"], own["AWS_ACCESS_KEY_ID"])
    result = handle_sync_source_server_inventory_refactored()
    body = json.loads(result["body"])
    body["debug"] = {"Credentials": credentials, "lambdaSecret": own["AWS_SECRET_ACCESS_KEY"]}
    body["note"] = f"password: {own['AWS_SECRET_ACCESS_KEY']}"
    result["body"] = json.dumps(body, default=str)
    return result


def _memory(doc: dict[str, Any]) -> Scenario:
    return scenario_from_dict(doc, "<memory>")


NO_ACCOUNTS = {
    "name": "no-target-accounts",
    "description": "No target accounts: legacy crashes on an unbound variable (LB-9), the refactor answers 200.",
    "approvals": ["AD-1"],
    "tables": {"activeRegions": ["us-east-1"]},
}
WRONG_EXPECTATION = {
    "name": "expectation-no-longer-holds",
    "description": "Expects a status legacy never answers, so the engine reports an error.",
    "tables": {"activeRegions": ["us-east-1"]},
    "expect": {"statusCode": 418},
}


def _gate(scenarios: list[Scenario], candidate: Implementation | str, blockers: bool) -> RunResult:
    approvals = load_approvals()
    result = run_scenarios(scenarios, "legacy", candidate, approvals, command="gate")
    result.coverage = coverage(scenarios, result.scenarios, approvals)
    if blockers:
        result.blockers = gate_blockers(result.coverage, result.scenarios)
    return result


def _write(result: RunResult, directory: Path) -> dict[str, str]:
    written = write_report_dir(result, directory)
    return {path.name: path.read_text(encoding="utf-8") for path in written}


@pytest.fixture(scope="module")
def go(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, dict[str, str]]:
    """A GO gate (without coverage blockers): one equivalent scenario and one approved divergence."""
    result = _gate([load_scenario(SMALL), _memory(NO_ACCOUNTS)], "refactored", blockers=False)
    return result, _write(result, tmp_path_factory.mktemp("go") / "reports")


@pytest.fixture(scope="module")
def nogo(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, dict[str, str]]:
    """A NO-GO gate: the leaky candidate diverges, a failed expectation is an error, coverage gaps block."""
    LEAKED.clear()
    candidate = Implementation("tests.harness.test_report:leaky_handler", leaky_handler)
    result = _gate([load_scenario(SMALL), _memory(WRONG_EXPECTATION)], candidate, blockers=True)
    return result, _write(result, tmp_path_factory.mktemp("nogo") / "reports")


# -- an HTML parser that checks structure as it goes -------------------------------------------------------------

VOID = {"meta", "link", "br", "hr", "img", "input", "wbr", "col", "area", "base", "source"}


class Page(HTMLParser):
    """Collects ids (in document order), links, resource references and text; checks that tags nest."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.problems: list[str] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.sections: dict[str, list[str]] = {}
        self.details: list[dict[str, Any]] = []
        self.feed(text)
        self.close()
        self.problems += [f"unclosed <{tag}>" for tag, _ in self.stack]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        if tag == "a" and attributes.get("href"):
            self.links.append(str(attributes["href"]))
        if tag == "details":
            self.details.append({"id": attributes.get("id"), "open": "open" in attributes, "depth": self._depth()})
        if tag not in VOID:
            self.stack.append((tag, attributes))

    def _depth(self) -> int:
        return sum(1 for tag, _ in self.stack if tag == "details")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1][0] if self.stack else 'nothing'}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for tag, attributes in self.stack:
            if tag == "section" and attributes.get("id"):
                self.sections.setdefault(str(attributes["id"]), []).append(data)

    def section(self, ident: str) -> str:
        """The text of one section."""
        return " ".join(self.sections.get(ident, []))

    @property
    def all_text(self) -> str:
        """The page's text."""
        return " ".join(self.text)


# -- the report hook and the files -------------------------------------------------------------------------------


def test_gate_writes_the_four_files_through_the_engine_hook(go: tuple[RunResult, dict[str, str]]) -> None:
    _, files = go
    assert sorted(files) == sorted(["verdict.json", *REPORT_FILES])
    assert all(len(text) > 500 for text in files.values())


def test_a_failing_writer_leaves_no_report_behind(
    go: tuple[RunResult, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(view: dict[str, Any]) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr(harness.report, "render_junit", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report_dir(go[0], tmp_path / "reports")
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())
    assert [p.name for p in tmp_path.iterdir() if p.name not in ("reports", ".reports.lock")] == []


def test_cli_run_with_report_dir_writes_every_report(tmp_path: Path) -> None:
    assert main(["run", str(SMALL), "--report-dir", str(tmp_path / "out")]) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(["verdict.json", *REPORT_FILES])
    verdict = json.loads((tmp_path / "out" / "verdict.json").read_text())
    page = Page((tmp_path / "out" / "report.html").read_text())
    assert verdict["verdict"] == "GO"
    assert "single-account-single-region-no-servers" in page.section("scenarios")
    assert "only `python -m harness gate` checks coverage" in html.unescape(
        (tmp_path / "out" / "report.md").read_text()
    )


# -- HTML --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["go", "nogo"])
def test_html_is_well_formed_self_contained_and_links_resolve(variant: str, request: pytest.FixtureRequest) -> None:
    _, files = request.getfixturevalue(variant)
    page = Page(files["report.html"])
    assert page.problems == []
    assert files["report.html"].startswith("<!DOCTYPE html>")
    assert not [tag for tag, _ in page.tags if tag in ("script", "iframe", "object", "embed", "img")]
    resources = [(tag, a) for tag, a in page.tags if tag == "link"]
    assert resources == [("link", {"rel": "icon", "href": "data:,"})]
    csp = [a["content"] for tag, a in page.tags if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]
    assert all(link.startswith("#") for link in page.links)
    assert {link[1:] for link in page.links} <= set(page.ids)
    assert len(page.ids) == len(set(page.ids))


def test_go_report_has_every_section_and_the_flip_steps_first(go: tuple[RunResult, dict[str, str]]) -> None:
    result, files = go
    page = Page(files["report.html"])
    assert result.verdict == "GO"
    assert [i for i in page.ids if i in (*SECTIONS, "flip", "blockers")] == ["verdict", "flip", *SECTIONS[1:]]
    steps = page.section("flip")
    for environment in ("dev", "test", "staging", "prod"):
        assert f"hrp-drs-tech-adapter-query-handler-{environment}" in steps
    assert "rollback" in page.ids
    assert signoff.LEGACY_LOG_LINE in steps
    assert "AD-1" in steps  # the behaviour that changes with the flip
    assert '<div class="banner go" id="verdict"><div class="verdict">GO</div>' in files["report.html"]


def test_nogo_report_says_first_what_blocks_the_flip(nogo: tuple[RunResult, dict[str, str]]) -> None:
    result, files = nogo
    page = Page(files["report.html"])
    assert result.verdict == "NO-GO"
    assert "flip" not in page.ids
    assert [i for i in page.ids if i in (*SECTIONS, "blockers")] == ["verdict", "blockers", *SECTIONS[1:]]
    blockers = " ".join(page.section("blockers").split())
    assert '<div class="banner nogo" id="verdict"><div class="verdict">NO-GO</div>' in files["report.html"]
    assert f"Keep {signoff.FLAG} set to false in production" in blockers
    for scenario in result.failing:  # divergent ones under their cause, those in error on their own
        assert scenario.name in blockers
    for reason in result.blockers:
        assert reason in blockers
    assert "cause 1:" in blockers
    assert "mutatingCalls[sts:AssumeRole" in blockers  # the divergence itself, not only its name
    assert "expected the baseline to answer 418" in blockers


def test_every_scenario_appears_in_matrix_details_and_junit(
    go: tuple[RunResult, dict[str, str]], nogo: tuple[RunResult, dict[str, str]]
) -> None:
    for result, files in (go, nogo):
        page = Page(files["report.html"])
        for scenario in result.scenarios:
            assert scenario.name in page.section("scenarios")
            assert scenario.name in files["report.md"]
            assert f'name="{scenario.name}"' in files["junit.xml"]
        top = [d for d in page.details if d["depth"] == 0 and (d["id"] or "").startswith("scenario-")]
        assert len(top) == len(result.scenarios)


def test_each_implementations_output_is_shown_collapsed(go: tuple[RunResult, dict[str, str]]) -> None:
    result, files = go
    page = Page(files["report.html"])
    runs = [d for d in page.details if d["depth"] == 1]
    assert len(runs) == 3 * len(result.scenarios)
    assert not any(d["open"] for d in runs)
    printed = result.scenarios[0].baseline.output[0]["text"]
    assert printed in page.section("details")
    assert "UnboundLocalError" in page.section("details")


def test_metadata_names_the_commit_source_hashes_tools_and_clock(go: tuple[RunResult, dict[str, str]]) -> None:
    _, files = go
    text = Page(files["report.html"]).section("metadata")
    assert _run("git", "rev-parse", "HEAD", cwd=ROOT).stdout.strip() in text
    for module in ("legacy/inventory_sync.py", "refactored/inventory_sync.py"):
        assert module in text
        assert hashlib.sha256((ROOT / module).read_bytes()).hexdigest() in text
    for name, version in tool_versions().items():
        assert name in text and version in text
    assert load_scenario(SMALL).clock in text


def test_coverage_matrices_list_all_error_types_and_legacy_states(nogo: tuple[RunResult, dict[str, str]]) -> None:
    result, files = nogo
    text = Page(files["report.html"]).section("coverage")
    for key in (*ERROR_TYPES, *LEGACY_STATES):
        assert key in text
    missing = len(result.coverage["missing"]["errorTypes"]) + len(result.coverage["missing"]["legacyStates"])
    assert text.count("MISSING") == missing > 0


def test_approvals_show_reason_owner_and_where_they_applied(go: tuple[RunResult, dict[str, str]]) -> None:
    result, files = go
    text = " ".join(Page(files["report.html"]).section("approvals").split())
    declared = load_approvals()
    for approval in declared.values():
        assert approval.id in text and approval.owner in text
    assert "Applied in no-target-accounts" in text
    assert "UnboundLocalError" in text  # AD-1's reason, in words


def test_differences_read_as_before_and_after(go: tuple[RunResult, dict[str, str]]) -> None:
    _, files = go
    text = Page(files["report.html"]).section("differences")
    assert "Before (baseline)" in text and "After (candidate)" in text
    assert "approved AD-1" in text
    assert '"type": "UnboundLocalError"' in text and '"statusCode": 200' in text


def test_noise_is_listed_per_scenario(go: tuple[RunResult, dict[str, str]]) -> None:
    result, _ = go
    data = result.to_dict()
    noisy = Difference("regionStatusWrites", "regionStatusWrites[us-east-1].lastChecked", "changed", "a", "b")
    noisy.status = NOISE
    data["scenarios"][0]["noise"] = [noisy.to_dict()]
    view = build_view(data)
    page = Page(render_html(view))
    assert "regionStatusWrites[us-east-1].lastChecked" in page.section("noise")
    assert "No noise found" in Page(render_html(build_view(result))).section("noise")
    assert "regionStatusWrites[us-east-1].lastChecked" in harness.report.render_junit(view)


# -- Markdown ----------------------------------------------------------------------------------------------------

MD_SECTIONS = (
    "## Run metadata",
    "## Scenario matrix",
    "## Coverage",
    "## Approved divergences",
    "## Noise",
    "## Differences (before / after)",
    "## Scenarios and each implementation's output",
)


def markdown_problems(text: str) -> list[str]:
    """Unclosed fences, unbalanced <details>, table rows whose cell count differs from their header's."""
    problems: list[str] = []
    fence: str | None = None
    header_cells: int | None = None
    opened = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        match = re.match(r"(`{3,})", stripped)
        if fence is None and match:
            fence = match.group(1)
            continue
        if fence is not None:
            fence = None if stripped == fence else fence
            continue
        opened += line.count("<details") - line.count("</details>")
        if stripped.startswith("|"):
            cells = len(re.findall(r"(?<!\\)\|", stripped)) - 1
            if header_cells is None:
                header_cells = cells
            elif cells != header_cells:
                problems.append(f"line {number}: {cells} cells, header has {header_cells}")
        else:
            header_cells = None
    if fence is not None:
        problems.append(f"unclosed fence {fence}")
    if opened:
        problems.append(f"{opened} unclosed <details>")
    return problems


@pytest.mark.parametrize("variant", ["go", "nogo"])
def test_markdown_is_well_formed_and_has_every_section(variant: str, request: pytest.FixtureRequest) -> None:
    result, files = request.getfixturevalue(variant)
    text = files["report.md"]
    assert markdown_problems(text) == []
    positions = [text.index(heading) for heading in MD_SECTIONS]
    assert positions == sorted(positions)
    first = "## How to flip" if result.verdict == "GO" else "## What blocks the flip"
    assert text.index(f"## {'✅' if result.verdict == 'GO' else '⛔'} {result.verdict}") < text.index(first)
    assert text.index(first) < positions[0]
    for scenario in result.scenarios:
        assert f"| {scenario.name} |" in text


def test_markdown_checker_finds_broken_markdown() -> None:
    broken = "| a | b |\n|---|---|\n| 1 | 2 | 3 |\n\n<details><summary>x</summary>\n\n```json\n{}\n"
    assert len(markdown_problems(broken)) == 3


def test_markdown_keeps_the_rollback_and_the_divergence_readable(
    go: tuple[RunResult, dict[str, str]], nogo: tuple[RunResult, dict[str, str]]
) -> None:
    text = go[1]["report.md"]
    assert "### Rollback procedure" in text and signoff.LEGACY_LOG_LINE in text
    assert "**Before (baseline)**" in text and "UnboundLocalError" in text
    assert "mutatingCalls[sts:AssumeRole" in nogo[1]["report.md"]


# -- JUnit -------------------------------------------------------------------------------------------------------


def test_junit_has_one_case_per_scenario_with_failures_and_errors(nogo: tuple[RunResult, dict[str, str]]) -> None:
    result, files = nogo
    root = ET.fromstring(files["junit.xml"])  # noqa: S314 - our own output
    suite = root.find("testsuite[@name='equivalence']")
    assert suite is not None
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [("equivalence", s.name) for s in result.scenarios]
    by_name = {c.get("name"): c for c in cases}
    divergent, error = result.scenarios
    assert (divergent.status, error.status) == ("divergent", "error")
    failure = by_name[divergent.name].find("failure")
    assert failure is not None and "mutatingCalls[sts:AssumeRole" in (failure.text or "")
    harness_error = by_name[error.name].find("error")
    assert harness_error is not None and "418" in (harness_error.get("message") or "")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "1")
    gate = root.find("testsuite[@name='gate']/testcase/failure")
    assert gate is not None and all(blocker in (gate.text or "") for blocker in result.blockers)
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["verdict"] == "NO-GO" and properties["clocks"]


def test_junit_of_a_go_run_has_no_failure(go: tuple[RunResult, dict[str, str]]) -> None:
    root = ET.fromstring(go[1]["junit.xml"])  # noqa: S314 - our own output
    assert root.findall(".//failure") == [] and root.findall(".//error") == []
    assert len(root.findall("testsuite[@name='equivalence']/testcase")) == 2
    approved = root.find("testsuite/testcase[@name='no-target-accounts']/system-out")
    assert approved is not None and "approved: AD-1" in (approved.text or "")


def test_junit_survives_control_characters_in_recorded_output(go: tuple[RunResult, dict[str, str]]) -> None:
    data = go[0].to_dict()
    data["scenarios"][0]["status"] = "error"
    data["scenarios"][0]["errors"] = ["harness failure: \x00\x1b[31mred\x07"]
    root = ET.fromstring(harness.report.render_junit(build_view(data)))  # noqa: S314 - our own output
    assert "red" in (root.find(".//error").get("message") or "")


# -- the flip and rollback steps are true to the code and run as written -----------------------------------------


@pytest.mark.parametrize(("value", "line"), [("false", signoff.LEGACY_LOG_LINE), ("true", signoff.REFACTORED_LOG_LINE)])
def test_the_log_lines_the_steps_quote_are_what_the_routing_logs(value: str, line: str) -> None:
    from refactored.routing import handle_sync_source_server_inventory

    scenario = _memory({**NO_ACCOUNTS, "approvals": [], "environment": {signoff.FLAG: value}})
    routing = Implementation(
        "refactored.routing:handle_sync_source_server_inventory", handle_sync_source_server_inventory
    )
    observed = observe(scenario, routing)
    assert line in [entry["message"] for entry in observed.output if entry["stream"] == "log"]


def _run(*command: str, check: bool = True, **options: Any) -> subprocess.CompletedProcess[str]:
    executable = shutil.which(command[0])
    assert executable is not None, f"{command[0]} is not installed"
    return subprocess.run([executable, *command[1:]], check=check, capture_output=True, text=True, **options)  # noqa: S603


def _fake_aws(directory: Path, fail_read: bool = False) -> dict[str, str]:
    """An `aws` on PATH that answers the variables read, records the update, or fails the read."""
    read = (
        "exit 255"
        if fail_read
        else 'echo \'{"SOURCE_SERVER_INVENTORY_TABLE": "inv", "DRS_REGION_STATUS_TABLE": "rs"}\''
    )
    script = directory / "aws"
    script.write_text(
        "#!/bin/bash\n"
        'case "$*" in\n'
        f'  *get-function-configuration*"--query Environment.Variables --output json"*) {read} ;;\n'
        f'  *update-function-configuration*) printf "%s" "$*" > "{directory}/update" ;;\n'
        "esac\n"
    )
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{directory}:{os.environ['PATH']}"}


def test_every_command_in_the_steps_is_valid_bash() -> None:
    steps = [s for phase in signoff.phases() for s in phase.steps] + list(signoff.rollback_steps())
    commands = [step.command for step in steps if step.command]
    assert len(commands) >= 10
    for command in commands:
        _run("bash", "-n", "-c", command)


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed here (.ci/run installs it)")
def test_set_flag_merges_into_the_existing_variables(tmp_path: Path) -> None:
    env = _fake_aws(tmp_path)
    _run("bash", "-c", signoff.set_flag_command("prod", "false"), env=env)
    update = (tmp_path / "update").read_text()
    sent = json.loads(update.split("--environment ", 1)[1].split(" --query", 1)[0])
    assert sent == {
        "Variables": {"SOURCE_SERVER_INVENTORY_TABLE": "inv", "DRS_REGION_STATUS_TABLE": "rs", signoff.FLAG: "false"}
    }
    assert "--function-name hrp-drs-tech-adapter-query-handler-prod" in update


def test_set_flag_writes_nothing_when_reading_the_variables_fails(tmp_path: Path) -> None:
    env = _fake_aws(tmp_path, fail_read=True)
    completed = _run("bash", "-c", signoff.set_flag_command("prod", "false"), env=env, check=False)
    assert completed.returncode != 0
    assert not (tmp_path / "update").exists()


# -- no credential reaches a report ------------------------------------------------------------------------------


def test_the_leaky_candidate_really_leaked(nogo: tuple[RunResult, dict[str, str]]) -> None:
    result, _ = nogo
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "sts AccessKeyId", "sts SecretAccessKey"} <= set(LEAKED)
    assert "sts SessionToken" in LEAKED
    candidate = result.scenarios[0].candidate
    assert candidate is not None and "debug" in candidate.response["body"]  # the leak reached the observation
    assert any("AccessKeyId=" in entry.get("text", "") for entry in candidate.output)


def test_no_credential_value_appears_in_any_report_file(nogo: tuple[RunResult, dict[str, str]]) -> None:
    _, files = nogo
    secrets = [value for value in LEAKED.values() if len(value) >= 8]
    assert len(secrets) >= 5
    for name, text in files.items():
        for variant in (text, html.unescape(text)):
            leaked = [key for key, value in LEAKED.items() if value in variant and len(value) >= 8]
            assert leaked == [], f"{name} contains {leaked}"


def test_every_secret_named_field_in_the_reports_is_redacted(nogo: tuple[RunResult, dict[str, str]]) -> None:
    _, files = nogo
    field = re.compile(r'"([^"]*(?:secret|token|password|credential)[^"]*)"\s*:\s*("[^"]*"|\{)', re.IGNORECASE)
    seen = 0
    for name, text in files.items():
        for key, value in field.findall(html.unescape(text)):
            seen += 1
            assert MARKER.fullmatch(value.strip('"')), (name, key, value)
    assert seen > 0
    assert "Credentials" in files["report.html"]  # the key stays visible, its value does not


def test_the_runners_own_secrets_are_scrubbed_at_report_time(
    go: tuple[RunResult, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    result, _ = go
    runner_secret = "runner-secret-" + "x7" * 12
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", runner_secret)
    data = result.to_dict()
    data["scenarios"][0]["runs"]["baseline"]["output"].append({"stream": "stdout", "text": f"using {runner_secret}"})
    view = build_view(data)
    for render in (render_html, harness.report.render_markdown, harness.report.render_junit):
        assert runner_secret not in render(view)
