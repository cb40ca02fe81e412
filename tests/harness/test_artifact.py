"""A deployed function's code artifact as an implementation (``artifact:PATH:MODULE:FUNCTION``), in real worlds.

The artifact under test is the production-shaped test artifact (``tests/artifacts/query_handler``): import-time
environment reads, a module-level ``boto3.resource``, lazy table globals and in-function ``from shared...`` imports.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import lambda_shared
from harness.cli import main
from harness.commandline import EXIT_BAD_INPUT, EXIT_NO_GO, EXIT_OK
from harness.engine import artifact
from harness.engine.artifact import ArtifactError, ArtifactImportError, parse
from harness.engine.implementations import ImplementationError, approvals_apply, resolve
from harness.engine.model import EQUIVALENT, ERROR
from harness.engine.runner import run_scenario
from harness.report.content import NO_APPROVAL_APPLIES
from harness.report.metadata import implementation_sources
from harness.scenario import load_scenario, scenario_from_dict
from harness.world import World

ROOT = Path(__file__).resolve().parents[2]
TEST_ARTIFACT = ROOT / "tests" / "artifacts" / "query_handler"
FUNCTION = "handle_sync_source_server_inventory"
NAME = f"artifact:{TEST_ARTIFACT}:index:{FUNCTION}"
LAMBDA = "111111111111"


def copy_artifact(tmp_path: Path, name: str = "query_handler") -> Path:
    """A private copy of the test artifact, to change or to watch."""
    target = tmp_path / name
    shutil.copytree(TEST_ARTIFACT, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def zip_artifact(source: Path, archive: Path) -> Path:
    """Zip a package the way Lambda stores it: its files at the archive's root."""
    with zipfile.ZipFile(archive, "w") as package:
        for path in sorted(source.rglob("*.py")):
            package.write(path, path.relative_to(source).as_posix())
    return archive


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def run_in(doc: dict[str, Any], handler: Any) -> tuple[Any, BaseException | None, dict[str, list[dict[str, Any]]]]:
    """Run a handler once in a fresh world: (response, exception, tables after)."""
    with World(scenario_from_dict({"name": "artifact-test", **doc})) as world:
        try:
            return handler(), None, world.table_snapshot()
        except Exception as error:  # noqa: BLE001 - raising is behaviour under test
            return None, error, world.table_snapshot()


# -- names ---------------------------------------------------------------------------------------------------------


def test_the_name_is_split_from_the_right_so_the_path_may_hold_colons() -> None:
    assert parse("artifact:/tmp/a:b/function.zip:index:handle") == artifact.ArtifactName(
        Path("/tmp/a:b/function.zip"), "index", "handle"
    )
    assert parse("artifact:pkg:handlers.sync:run").module == "handlers.sync"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("artifact:index:handle", "is not 'artifact:PATH:MODULE:FUNCTION'"),
        ("artifact:function.zip::handle", "is not 'artifact:PATH:MODULE:FUNCTION'"),
        ("artifact:function.zip:index-v2:handle", "'index-v2' is not a module name"),
        ("artifact:function.zip:index:handle()", "'handle()' is not a function name"),
    ],
)
def test_a_malformed_name_is_refused(name: str, reason: str) -> None:
    with pytest.raises(ArtifactError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse(name)


def test_approvals_apply_only_when_the_refactor_is_judged() -> None:
    """Approvals explain the refactor's deliberate differences; between versions of production none applies."""
    assert approvals_apply("legacy", "refactored")
    assert approvals_apply(NAME, "refactored")
    assert approvals_apply("legacy", "tests.comparison.mutants:lost_server")
    assert not approvals_apply(NAME, "legacy")
    assert not approvals_apply("legacy", NAME)
    assert not approvals_apply("legacy", "legacy")


# -- checks before anything runs -----------------------------------------------------------------------------------


def test_problems_are_found_before_anything_runs(tmp_path: Path) -> None:
    broken = copy_artifact(tmp_path)
    edit(
        broken / "index.py",
        "    from shared.cross_account import get_current_account_id\n",
        "    from shared.cross_account import get_current_account_id\n"
        "    from shared.metrics import publish_metric\n"
        "    import ujson_not_installed\n"
        "    try:\n        import orjson_optional\n    except ImportError:\n        orjson_optional = None\n",
    )
    (broken / "shared" / "broken.py").write_text("def oops(:\n    pass\n")
    with pytest.raises(ImplementationError) as raised:
        resolve(f"artifact:{broken}:index:{FUNCTION}")
    message = str(raised.value)
    assert "index.py:" in message and "imports 'shared.metrics', which the artifact does not contain" in message
    assert "imports 'ujson_not_installed', which is neither in the artifact nor installed" in message
    assert "shared/broken.py:1: syntax error" in message
    assert "orjson_optional" not in message  # guarded: optional
    assert ".venv/bin/pip install" in message


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("missing-path", "does not exist"),
        ("not-a-zip", "is neither a directory nor a .zip archive"),
        ("no-module", "the artifact holds no module 'handler'"),
        ("no-function", "module 'index' has no function 'handle_sync'"),
        ("needs-arguments", "cannot be called without arguments"),
        ("import-time-crash", "importing 'index' raised KeyError"),
        ("missing-at-import", "needs module 'yaml_not_here'"),
    ],
)
def test_each_bad_artifact_is_refused_with_its_reason(tmp_path: Path, change: str, reason: str) -> None:
    package = copy_artifact(tmp_path)
    module, function = "index", FUNCTION
    path: Path = package
    if change == "missing-path":
        path = tmp_path / "gone.zip"
    elif change == "not-a-zip":
        path = tmp_path / "function.zip"
        path.write_text("not a zip")
    elif change == "no-module":
        module = "handler"
    elif change == "no-function":
        function = "handle_sync"
    elif change == "needs-arguments":
        edit(
            package / "index.py",
            "def handle_sync_source_server_inventory()",
            "def handle_sync_source_server_inventory(event)",
        )
    elif change == "import-time-crash":
        edit(
            package / "index.py",
            'dynamodb = boto3.resource("dynamodb")',
            'dynamodb = boto3.resource("dynamodb")\nos.environ["NOT_SET_ANYWHERE"]',
        )
    elif change == "missing-at-import":
        # dynamically imported: invisible to the static check, found by the trial import
        edit(package / "index.py", "import boto3\n", 'import boto3\n\n__import__("yaml_not_here")\n')
    with pytest.raises(ImplementationError, match=reason):
        resolve(f"artifact:{path}:{module}:{function}")


@pytest.mark.parametrize("command", ["run", "gate", "fuzz", "bench"])
def test_every_command_refuses_a_bad_artifact_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    name = f"artifact:{tmp_path / 'missing.zip'}:index:{FUNCTION}"
    argv = [command, "--baseline", name, "--candidate", "legacy"]
    if command in ("run", "gate"):
        argv += ["--jobs", "1", "--report-dir", str(tmp_path / "reports")]
    assert main(argv) == EXIT_BAD_INPUT
    _, err = capsys.readouterr()
    assert "missing.zip" in err and "does not exist" in err
    assert not (tmp_path / "reports").exists()


# -- fresh in every world --------------------------------------------------------------------------------------------


def test_two_worlds_in_a_row_share_nothing_through_the_artifact_globals(tmp_path: Path) -> None:
    """World 1 crashes with eu-west-1 cached and its table names in the module globals; world 2 sees none of it."""
    package = copy_artifact(tmp_path)
    handler = resolve(f"artifact:{package}:index:{FUNCTION}")
    _, error, _ = run_in({"tables": {"activeRegions": ["eu-west-1"]}}, handler)
    assert isinstance(error, UnboundLocalError)  # zero accounts (LB-9): the region cache stays warm
    second = {
        "accounts": [{"accountId": LAMBDA}],
        "tables": {"activeRegions": ["us-east-1"]},
        "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 2, "ec2Instances": False}],
    }
    response, error, tables = run_in(second, handler)
    assert error is None and json.loads(response["body"])["totalSynced"] == 2
    assert {item["replicationRegion"] for item in tables["inventory"]} == {"us-east-1"}
    # import-time reads: the variable unset in world 3 is unset for the artifact, whatever world 2 had
    response, error, _ = run_in({"environment": {"SOURCE_SERVER_INVENTORY_TABLE": None}}, handler)
    assert error is None and response["statusCode"] == 500
    assert json.loads(response["body"]) == {"error": "SOURCE_SERVER_INVENTORY_TABLE not configured"}
    assert not list(package.rglob("__pycache__"))  # nothing written into the artifact


def test_the_artifact_uses_its_own_shared_package_and_leaves_the_process_as_it_found_it() -> None:
    handler = resolve(NAME)
    other_shared = ModuleType("shared")
    sys.modules["shared"] = other_shared
    path, layer = list(sys.path), sys.modules["lambda_shared"]
    try:
        response, error, _ = run_in(
            {"accounts": [{"accountId": LAMBDA}], "tables": {"activeRegions": ["us-east-1"]}}, handler
        )
        assert error is None and response["statusCode"] == 200
        assert sys.modules["shared"] is other_shared
        assert not [name for name in sys.modules if name == "index" or name.startswith("shared.")]
        assert sys.path == path and sys.modules["lambda_shared"] is layer is lambda_shared
    finally:
        sys.modules.pop("shared", None)


def test_a_module_missing_at_run_time_is_a_harness_error_not_behaviour(tmp_path: Path) -> None:
    """A dynamic import the checks cannot see fails in the world: the scenario is in error, not divergent."""
    package = copy_artifact(tmp_path)
    edit(
        package / "index.py",
        '    print("Starting source server inventory sync...")\n',
        '    print("Starting source server inventory sync...")\n    __import__("metrics_not_installed")\n',
    )
    name = f"artifact:{package}:index:{FUNCTION}"
    _, error, _ = run_in({}, resolve(name))
    assert isinstance(error, ArtifactImportError)
    assert "needs module 'metrics_not_installed', which is neither in the artifact nor installed" in str(error)
    result = run_scenario(scenario_from_dict({"name": "t", "accounts": [{"accountId": LAMBDA}]}), "legacy", name)
    assert result.status == ERROR
    assert "the artifact cannot run in this environment" in " ".join(result.errors)


# -- the zip form ----------------------------------------------------------------------------------------------------


def test_a_zip_is_extracted_once_per_process_and_runs_like_the_directory(tmp_path: Path) -> None:
    archive = zip_artifact(TEST_ARTIFACT, tmp_path / "function.zip")
    extracted = artifact.code_root(archive)
    assert artifact.code_root(archive) == extracted and (extracted / "shared" / "cross_account.py").is_file()
    assert resolve(f"artifact:{archive}:index:{FUNCTION}").root == extracted
    scenario = load_scenario(ROOT / "scenarios" / "first-nic-without-ips-key.yaml")
    result = run_scenario(scenario, "legacy", f"artifact:{archive}:index:{FUNCTION}")
    assert result.status == EQUIVALENT and not result.differences and not result.approvals, result.explain()


def test_the_extraction_directory_is_removed_when_the_process_exits(tmp_path: Path) -> None:
    archive = zip_artifact(TEST_ARTIFACT, tmp_path / "function.zip")
    script = (
        "from harness.engine.artifact import code_root\n"
        "from pathlib import Path\n"
        f"print(code_root(Path({str(archive)!r})))\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    extracted = Path(done.stdout.strip())
    assert extracted.name.startswith("harness-artifact-") and not extracted.exists()


# -- the fidelity gate -----------------------------------------------------------------------------------------------


def test_gate_with_the_artifact_as_baseline_and_legacy_as_candidate_applies_no_approval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Scenarios that reference approvals (AD-2, AD-3) are equivalent, and no approval is used or called stale."""
    library = tmp_path / "library"
    library.mkdir()
    for name in ("staging-account-id-present-but-empty", "ec2-role-row-with-empty-values", "zero-target-accounts"):
        shutil.copy(ROOT / "scenarios" / f"{name}.yaml", library)
    reports = tmp_path / "reports"
    argv = ["run", str(library), "--baseline", NAME, "--candidate", "legacy", "--report-dir", str(reports)]
    assert main([*argv, "--jobs", "1"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert out.startswith("GO: 3 scenario(s): 3 equivalent")
    assert "no approval applies" in err
    verdict = json.loads((reports / "verdict.json").read_text())
    assert verdict["approvalsApply"] is False
    assert all(
        s["status"] == "equivalent" and not s["differences"] and not s["approvals"] for s in verdict["scenarios"]
    )
    report = (reports / "report.md").read_text()
    assert NO_APPROVAL_APPLIES in report and NO_APPROVAL_APPLIES in (reports / "report.html").read_text()
    assert artifact.digest(NAME)["sha256"] in report  # the sign-off names the exact code it was made for


def test_the_reports_hash_an_artifact_zip_by_its_bytes_and_a_directory_by_its_files(tmp_path: Path) -> None:
    archive = zip_artifact(TEST_ARTIFACT, tmp_path / "function.zip")
    found = implementation_sources("baseline", f"artifact:{archive}:index:{FUNCTION}", ROOT)
    assert found["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest() and found["file"] == str(archive)
    package = copy_artifact(tmp_path)
    before = artifact.digest(f"artifact:{package}:index:{FUNCTION}")
    assert before["files"] == len(list(TEST_ARTIFACT.rglob("*.py")))
    edit(package / "shared" / "drs_regions.py", '"sa-east-1",', '"sa-east-1",\n    "mx-central-1",')
    assert artifact.digest(f"artifact:{package}:index:{FUNCTION}")["sha256"] != before["sha256"]
    assert artifact.digest(f"artifact:{tmp_path / 'gone'}:index:{FUNCTION}")["sha256"] is None


def test_a_changed_copy_of_the_artifact_is_caught(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    changed = copy_artifact(tmp_path)
    edit(
        changed / "index.py",
        '"primaryIp": nics[0].get("ips", [""])[0] if nics else ""',
        '"primaryIp": nics[0].get("ips", ["0.0.0.0"])[0] if nics else ""',
    )
    scenario = ROOT / "scenarios" / "first-nic-without-ips-key.yaml"
    name = f"artifact:{changed}:index:{FUNCTION}"
    code = main(["run", str(scenario), "--baseline", name, "--candidate", "legacy", "--jobs", "1"])
    out, err = capsys.readouterr()
    assert code == EXIT_NO_GO and "scenario first-nic-without-ips-key is divergent" in out
    assert '.primaryIp: baseline "0.0.0.0" -> candidate ""' in err


def test_a_warm_world_invokes_one_import_of_the_artifact_so_its_caches_survive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Invocations of one world share the artifact's modules: a copy that keeps its region cache is caught."""
    changed = copy_artifact(tmp_path)
    edit(changed / "index.py", "    invalidate_region_cache()\n", "")
    scenario = ROOT / "scenarios" / "warm-lambda-invoked-twice.yaml"
    name = f"artifact:{changed}:index:{FUNCTION}"
    code = main(["run", str(scenario), "--baseline", "legacy", "--candidate", name, "--jobs", "1"])
    out, err = capsys.readouterr()
    assert code == EXIT_NO_GO and "scenario warm-lambda-invoked-twice is divergent" in out
    assert "regionsScanned" in err
    assert not [module for module in sys.modules if module == "index" or module.startswith("shared.")]


def test_the_static_check_reads_only_the_artifacts_own_code_and_knows_optional_imports(tmp_path: Path) -> None:
    package = copy_artifact(tmp_path)
    vendored = package / "somelib"
    vendored.mkdir()
    (vendored / "__init__.py").write_text("def speedup():\n    import somelib_c_accelerator\n")
    (package / "somelib-1.0.dist-info").mkdir()
    (package / "somelib-1.0.dist-info" / "top_level.txt").write_text("somelib\n")
    (package / "boto3").mkdir()  # a vendored runtime copy: the harness's boto3 runs instead
    (package / "boto3" / "__init__.py").write_text("raise RuntimeError('the vendored boto3 must not be imported')\n")
    (package / "shared" / "extras.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from .drs_regions import DRS_REGIONS\n"
        "from . import response_utils\n"
        "import somelib\n"
        "if TYPE_CHECKING:\n    import mypy_boto3_drs\n"
    )
    names = artifact.top_level_names(package)
    assert names == {"index", "shared", "somelib"}
    assert artifact.import_problems(package, names) == []
    (package / "shared" / "extras.py").write_text("from ...outside import thing\nfrom .missing_sibling import x\n")
    assert artifact.import_problems(package, names) == [
        "shared/extras.py:1: relative import beyond the artifact's top level",
        "shared/extras.py:2: imports 'shared.missing_sibling', which the artifact does not contain",
    ]
    (package / "shared" / "extras.py").unlink()
    world = {"accounts": [{"accountId": LAMBDA}], "tables": {"activeRegions": ["us-east-1"]}}
    response, error, _ = run_in(world, resolve(f"artifact:{package}:index:{FUNCTION}"))
    assert error is None and response["statusCode"] == 200


def test_an_archive_bigger_than_lambda_allows_or_broken_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = zip_artifact(TEST_ARTIFACT, tmp_path / "function.zip")
    extractions = sorted(Path(tempfile.gettempdir()).glob("harness-artifact-*"))
    monkeypatch.setattr(artifact, "MAX_UNZIPPED_BYTES", 1000)
    with pytest.raises(ArtifactError, match="bytes unzipped, more than the 1000 Lambda allows a function"):
        artifact.code_root(archive)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(archive.read_bytes()[:-200] + b"\0" * 200)
    monkeypatch.setattr(artifact, "MAX_UNZIPPED_BYTES", 250 * 1024 * 1024)
    with pytest.raises(ArtifactError, match="broken.zip"):
        artifact.code_root(broken)
    assert sorted(Path(tempfile.gettempdir()).glob("harness-artifact-*")) == extractions  # nothing left behind
