"""The fuzzer end to end: refactored against legacy, a deliberately broken candidate caught and shrunk, the CLI.

Every example runs in real simulated worlds through the equivalence engine. The default run keeps the example
count modest (CI); the nightly job (``./run nightly`` = ``pytest -m slow``) runs the large one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.commandline import EXIT_BAD_INPUT, EXIT_NO_GO, EXIT_OK
from harness.engine.runner import run_scenario
from harness.fuzz.runner import ExampleRecord, FuzzOptions, FuzzReport, Judge, ShrinkBudgetSpent, fuzz, search
from harness.fuzz.strategies import LAMBDA_ACCOUNT
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
BROKEN = "tests.fuzz.broken_candidates"
#: Examples of the default (CI) run, and of the nightly one.
CI_EXAMPLES = 12
NIGHTLY_EXAMPLES = 250
#: Examples of the default run of the test artifact against legacy.
ARTIFACT_EXAMPLES = 10
TEST_ARTIFACT = f"artifact:{ROOT / 'tests' / 'artifacts' / 'query_handler'}:index:handle_sync_source_server_inventory"
#: Engine runs the broken-candidate tests may spend shrinking (keeps them within CI time).
TEST_SHRINK_BUDGET = 3


@pytest.fixture(autouse=True)
def _repository_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Broken candidates are named ``tests.fuzz...``: importable from the repository root, as ``run`` sees them."""
    monkeypatch.syspath_prepend(str(ROOT))


def _failure_message(report: FuzzReport) -> str:
    if report.failure is None:
        return ""
    return f"{report.failure.explain()}\nwritten to {report.failure_path}"


def _harness(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m harness ARGS`` from the repository root, as a person would run it."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_refactored_shows_no_unapproved_divergence(tmp_path: Path) -> None:
    report = fuzz(FuzzOptions(examples=CI_EXAMPLES, seed=20260115, save_dir=tmp_path, shrink_budget=20))
    assert report.examples_run > 0
    assert not report.found, _failure_message(report)
    assert sum(report.outcomes.values()) == report.examples_run


@pytest.mark.slow
def test_refactored_shows_no_unapproved_divergence_nightly(tmp_path: Path) -> None:
    report = fuzz(FuzzOptions(examples=NIGHTLY_EXAMPLES, seed=1, save_dir=tmp_path))
    assert not report.found, _failure_message(report)
    assert report.examples_run > NIGHTLY_EXAMPLES // 2
    assert report.approvals_applied, "no generated world exercised an approval"


def test_the_test_artifact_and_legacy_agree_on_generated_worlds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two recreations of production (the artifact written from the spec, and legacy): no approval, no difference."""
    arguments = ["--examples", str(ARTIFACT_EXAMPLES), "--seed", "12", "--save-failures", str(tmp_path)]
    assert main(["fuzz", *arguments, "--baseline", TEST_ARTIFACT, "--candidate", "legacy"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "OK: no unapproved divergence" in out and "approvals applied" not in out
    assert "fidelity check: no approval applies" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_the_test_artifact_and_legacy_agree_on_generated_worlds_nightly(tmp_path: Path) -> None:
    report = fuzz(FuzzOptions(examples=NIGHTLY_EXAMPLES, seed=4, baseline=TEST_ARTIFACT, candidate="legacy"))
    assert not report.found, _failure_message(report)
    assert report.examples_run > NIGHTLY_EXAMPLES // 2 and not report.approvals_applied


def test_a_candidate_that_drops_a_server_is_caught_shrunk_and_reproduced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    candidate = f"{BROKEN}:drops_a_server"
    arguments = ["--examples", "20", "--seed", "8", "--save-failures", str(tmp_path), "--candidate", candidate]
    assert main(["fuzz", *arguments, "--shrink-budget", str(TEST_SHRINK_BUDGET)]) == EXIT_NO_GO
    out, err = capsys.readouterr()
    (written,) = tmp_path.glob("*.yaml")
    assert f"scenario written: {written} (reproduces" in out
    assert "response.body.totalSynced: baseline" in out
    assert f"[shrink 1/{TEST_SHRINK_BUDGET}]" in err and f"[shrink {TEST_SHRINK_BUDGET + 1}/" not in err
    scenario = load_scenario(written)
    assert scenario.name == written.stem and sum(group.total for group in scenario.servers) >= 1
    assert _harness("run", str(written), "--candidate", candidate).returncode == EXIT_NO_GO
    assert run_scenario(scenario, "legacy", "legacy").status == "equivalent", "the divergence is the broken change"


def test_a_candidate_that_changes_a_field_is_caught_and_shrinking_keeps_the_smallest_failure() -> None:
    failing: list[ExampleRecord] = []
    # the search stops at the first divergence: 40 examples leave room for the strategies to change what they draw
    options = FuzzOptions(examples=40, seed=1, candidate=f"{BROKEN}:changes_hostname", save_dir=None, shrink_budget=3)
    report = fuzz(options, progress=lambda record: failing.append(record) if record.status == "divergent" else None)
    assert report.found and report.failure is not None and report.failure_doc is not None
    assert report.failure_path is None and report.reproduced is None
    assert report.shrink_runs <= options.shrink_budget
    assert report.failure.unapproved
    assert all(difference.path.endswith("hostname") for difference in report.failure.unapproved)
    # Hypothesis's order of "smaller" is its own (shorter, simpler choices), not the JSON's length: the report keeps
    # the last failure the shrinker judged, which is its smallest so far
    assert [record.phase for record in failing][:2] == ["generate", "shrink"]
    assert report.failure_doc == failing[-1].document


def test_the_same_seed_searches_the_same_worlds() -> None:
    def worlds(seed: int) -> list[str]:
        seen: list[str] = []
        search(lambda doc: seen.append(json.dumps(doc, sort_keys=True)), examples=15, seed=seed)
        return seen

    first = worlds(11)
    assert len(first) == 15
    assert first == worlds(11)
    assert first != worlds(12)


def test_judge_caches_by_document_and_stops_running_after_the_budget() -> None:
    from harness.engine.approvals import load_approvals
    from harness.engine.observe import resolve_implementation

    broken = resolve_implementation(f"{BROKEN}:drops_a_server")
    judge = Judge(resolve_implementation("legacy"), broken, load_approvals(), shrink_budget=0)
    failing = {
        "name": "fuzz-example",
        "accounts": [{"accountId": LAMBDA_ACCOUNT}],
        "tables": {"activeRegions": ["us-east-1"]},
        "servers": [{"account": LAMBDA_ACCOUNT, "region": "us-east-1", "count": 1, "ec2Instances": False}],
    }
    for _ in range(2):
        with pytest.raises(AssertionError, match="divergent"):
            judge(failing)
    assert len(judge.generated) == 1 and judge.phase == "shrink"
    with pytest.raises(ShrinkBudgetSpent):
        judge({**failing, "seed": 1})
    assert judge.shrink_runs == 0, "past the budget, unseen documents are not run"
    assert judge.last_failure is not None and judge.last_failure[0] == failing


def test_fuzz_exits_0_when_candidate_equals_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arguments = ["--examples", "3", "--seed", "2", "--candidate", "legacy", "--save-failures", str(tmp_path)]
    assert main(["fuzz", *arguments]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "OK: no unapproved divergence" in out
    assert "fuzz: 3 example(s), seed 2, baseline legacy, candidate legacy" in err and "[1/3]" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--candidate", "no_such_module:handler"], "cannot import module"),
        (["--baseline", "legacy.inventory_sync:missing"], "has no attribute"),
        (["--approvals", "missing-approvals.yaml"], "cannot read approvals"),
    ],
)
def test_fuzz_exits_2_on_bad_input(arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--examples", "1", *arguments]) == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("arguments", [["--examples", "0"], ["--seed", "-1"], ["--shrink-budget", "x"]])
def test_fuzz_rejects_bad_numbers(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fuzz", *arguments])
    assert exit_info.value.code == EXIT_BAD_INPUT
    assert "argument" in capsys.readouterr().err


def test_report_figures_are_json_data(tmp_path: Path) -> None:
    report = fuzz(FuzzOptions(examples=2, seed=4, candidate="legacy", save_dir=tmp_path))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["found"] is False and data["examplesRun"] == sum(data["outcomes"].values())
    assert data["seed"] == 4 and data["failurePath"] is None
