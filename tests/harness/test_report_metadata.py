"""Run metadata and the small wording helpers of the reports, including their fallbacks."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from harness.redaction import redact_output
from harness.report.content import brief, duration
from harness.report.markdown import code, fenced
from harness.report.metadata import git_state, module_sources, repository_root, tree_sha256

ROOT = repository_root()


def test_the_repository_root_holds_the_packages() -> None:
    assert (ROOT / "harness" / "report" / "__init__.py").is_file()
    assert (ROOT / "legacy" / "inventory_sync.py").is_file()


def test_module_sources_hash_the_module_and_its_package() -> None:
    entry = module_sources("baseline", "legacy.inventory_sync", ROOT)
    assert entry["file"] == "legacy/inventory_sync.py"
    assert entry["sha256"] == hashlib.sha256((ROOT / "legacy" / "inventory_sync.py").read_bytes()).hexdigest()
    assert (entry["packageSha256"], entry["packageFiles"]) == tree_sha256(ROOT / "legacy")
    assert entry["package"] == "legacy" and entry["packageFiles"] >= 2


def test_a_package_hash_changes_with_any_file_and_with_a_rename(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("x = 1\n")
    first = tree_sha256(package)
    (package / "a.py").write_text("x = 2\n")
    second = tree_sha256(package)
    (package / "a.py").rename(package / "b.py")
    third = tree_sha256(package)
    assert len({first, second, third}) == 3 and first[1] == 2


def test_module_sources_of_a_top_level_module_and_of_a_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lonely_module_for_report.py").write_text("def handler():\n    return {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = module_sources("candidate", "lonely_module_for_report", tmp_path)
    assert entry["file"] == "lonely_module_for_report.py"
    assert entry["packageSha256"] == entry["sha256"] and entry["packageFiles"] == 1
    missing = module_sources("candidate", "no_such_package_anywhere.module", ROOT)
    assert (missing["file"], missing["sha256"], missing["packageSha256"]) == (None, None, None)
    sys.modules.pop("lonely_module_for_report", None)


def test_git_state_of_the_checkout_and_outside_any_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = git_state(ROOT)
    assert state["commit"] and len(state["commit"]) == 40 and isinstance(state["changedFiles"], int)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.setenv("GITHUB_SHA", "f" * 40)
    assert git_state(tmp_path) == {"commit": "f" * 40, "branch": None, "dirty": None, "changedFiles": None}
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert git_state(ROOT)["commit"] == "f" * 40


def test_brief_describes_each_kind_of_difference() -> None:
    assert brief({"path": "p", "kind": "added", "candidate": 1}) == "p: only in the candidate: 1"
    assert brief({"path": "p", "kind": "removed", "baseline": "x" * 100}) == "p: only in the baseline"
    assert brief({"path": "p", "kind": "count-changed", "baseline": 2, "candidate": 1}) == (
        "p: occurs 2 time(s) in the baseline, 1 in the candidate"
    )
    assert brief({"path": "p", "kind": "changed", "baseline": 5, "candidate": 6}) == (
        "p: 5 in the baseline, 6 in the candidate"
    )
    assert brief({"path": "p", "kind": "changed", "baseline": {"k": "v" * 80}, "candidate": 1}) == (
        "p: changed (see Differences for the values)"
    )


def test_durations_read_well() -> None:
    assert [duration(s) for s in (0.421, 12.34, 125, None)] == ["0.42 s", "12.3 s", "2 min 5 s", "0.00 s"]


def test_report_redaction_keeps_engine_markers_and_redacts_secret_keys() -> None:
    data = {"SessionToken": "<redacted:0123abcd>", "password": "hunter2hunter2", "nested": [{"apiToken": None}]}
    clean = redact_output(data)
    assert clean["SessionToken"] == "<redacted:0123abcd>"
    assert clean["password"].startswith("<redacted:") and "hunter2" not in str(clean)
    assert clean["nested"] == [{"apiToken": None}]
    assert "AKIAABCDEFGHIJKLMNOP" not in redact_output("key AKIAABCDEFGHIJKLMNOP in text")


def test_markdown_code_survives_backticks() -> None:
    assert code("a`b") == "`` a`b ``"
    assert code("plain") == "`plain`"
    block = fenced("```\ninner\n```", "json")
    assert block.startswith("````json\n") and block.endswith("\n````")
