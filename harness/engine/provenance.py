"""Provenance: which code, scenarios and tools a verdict was made from, in one function every artefact uses.

A sign-off is worth something only for the code it was made for. :func:`build_provenance` gives the git commit (and
whether the working tree had uncommitted changes), SHA-256 content hashes of ``legacy/``, ``refactored/`` and
``lambda_shared/`` (every ``.py`` file, path and content), of the baseline's and the candidate's own sources (a
deployed artifact's archive or directory when one is used), the tool versions that judged them, and a hash of the
scenario set (every scenario file, path and content). ``verdict.json`` carries it with :data:`SCHEMA_VERSION`
(checked by ``harness/engine/verdict.schema.json``), ``junit.xml`` as suite properties, ``bench.json`` beside its
figures; a merge of shard verdicts calls the same function for the merged verdict.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import platform
import shutil
import subprocess  # noqa: S404 - only `git` with fixed arguments
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.engine.artifact import digest as artifact_digest
from harness.engine.artifact import is_artifact
from harness.engine.model import VERDICT_SCHEMA_VERSION

#: The version of verdict.json's shape (the model's, re-exported for the merge and the reports).
SCHEMA_VERSION = VERDICT_SCHEMA_VERSION
#: The JSON Schema of verdict.json.
VERDICT_SCHEMA = Path(__file__).resolve().parent / "verdict.schema.json"
#: The repository's own packages whose content every verdict records.
PACKAGES = ("legacy", "refactored", "lambda_shared")
#: Distributions whose versions are recorded, in this order.
TOOLS = ("boto3", "botocore", "moto", "deepdiff", "PyYAML", "jsonschema", "hypothesis")
#: The shared layer both implementations run on.
SHARED_PACKAGE = "lambda_shared"
_GIT_TIMEOUT_S = 10

logger = logging.getLogger(__name__)


def tool_versions() -> dict[str, str]:
    """Python and the libraries that simulate AWS and compare the runs."""
    versions = {"python": platform.python_version()}
    for name in TOOLS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _git(root: Path, *args: str) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        completed = subprocess.run(  # noqa: S603 - fixed git arguments, no shell
            [git, *args], cwd=root, capture_output=True, text=True, timeout=_GIT_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError) as error:
        logger.debug("git %s failed: %s", " ".join(args), error)
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def git_state(root: Path) -> dict[str, Any]:
    """The commit checked out at ``root``, whether tracked files changed since (``dirty``) and how many.

    Falls back to ``GITHUB_SHA`` when ``git`` or the repository is unavailable.
    """
    commit = _git(root, "rev-parse", "HEAD")
    if commit is None:
        return {"commit": os.environ.get("GITHUB_SHA") or None, "branch": None, "dirty": None, "changedFiles": None}
    status = _git(root, "status", "--porcelain", "--untracked-files=no") or ""
    changed = len([line for line in status.splitlines() if line.strip()])
    return {
        "commit": commit,
        "branch": _git(root, "rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": changed > 0,
        "changedFiles": changed,
    }


def file_sha256(path: Path) -> str:
    """The SHA-256 of one file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_sha256(directory: Path) -> tuple[str, int]:
    """A digest of every ``.py`` file under ``directory``: relative path and content, in path order.

    Returns:
        The hex digest and the number of files hashed.
    """
    files = sorted(p for p in directory.rglob("*.py") if "__pycache__" not in p.parts)
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(directory).as_posix()}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest(), len(files)


def module_sources(role: str, module: str, root: Path) -> dict[str, Any]:
    """Content hashes of the module an implementation lives in and of its top-level package.

    Args:
        role: ``baseline``, ``candidate`` or ``shared layer``.
        module: Dotted module name (``legacy.inventory_sync``) or a package name.
        root: The repository root, for readable relative paths.

    Returns:
        ``{"role", "module", "file", "sha256", "package", "packageSha256", "packageFiles"}``; hashes are ``None``
        when the module cannot be found.
    """
    entry: dict[str, Any] = {"role": role, "module": module, "file": None, "sha256": None}
    package = module.split(".", 1)[0]
    entry.update({"package": package, "packageSha256": None, "packageFiles": 0})
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin or not Path(spec.origin).is_file():
        return entry
    origin = Path(spec.origin).resolve()
    entry["file"] = _relative(origin, root)
    entry["sha256"] = file_sha256(origin)
    package_dir = _package_dir(origin, module)
    if package_dir is not None:
        entry["packageSha256"], entry["packageFiles"] = tree_sha256(package_dir)
    else:
        entry["packageSha256"], entry["packageFiles"] = entry["sha256"], 1
    return entry


def implementation_sources(role: str, name: str, root: Path) -> dict[str, Any]:
    """:func:`module_sources` of an implementation name; for a deployed artifact, its path and content hash.

    Args:
        role: ``baseline`` or ``candidate``.
        name: ``package.module:function`` or ``artifact:PATH:MODULE:FUNCTION``.
        root: The repository root.
    """
    if not is_artifact(name):
        return module_sources(role, name.partition(":")[0], root)
    found = artifact_digest(name)
    return {
        "role": role,
        "module": name,
        "file": found["path"],
        "sha256": found["sha256"],
        "package": found["path"],
        "packageSha256": found["sha256"],
        "packageFiles": found["files"],
    }


def _package_dir(origin: Path, module: str) -> Path | None:
    depth = module.count(".") + (1 if origin.name == "__init__.py" else 0)
    if depth == 0:
        return None
    return origin.parents[depth - 1]


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def repository_root() -> Path:
    """The directory holding the ``harness`` package (the repository root in a checkout)."""
    return Path(__file__).resolve().parents[2]


def scenario_set_sha256(sources: Iterable[str], root: Path | None = None) -> dict[str, Any]:
    """A digest of the scenario files a run used: each file's path (relative to the repository) and content.

    Args:
        sources: The scenario sources (file paths; ``<memory>`` and other non-files count by name).
        root: The repository root (default: :func:`repository_root`).

    Returns:
        ``{"sha256", "files"}``.
    """
    root = root or repository_root()
    digest = hashlib.sha256()
    entries = []
    for source in sorted(set(sources)):
        path = Path(source)
        content = file_sha256(path) if not source.startswith("<") and path.is_file() else "-"
        entries.append(f"{_relative(path.resolve(), root) if content != '-' else source}\0{content}\n")
    for entry in sorted(entries):
        digest.update(entry.encode())
    return {"sha256": digest.hexdigest(), "files": len(entries)}


def build_provenance(baseline: str, candidate: str, scenario_sources: Iterable[str]) -> dict[str, Any]:
    """Everything a verdict (or a benchmark) was made from.

    Args:
        baseline: The baseline implementation name.
        candidate: The candidate implementation name.
        scenario_sources: The scenario files used (empty for a benchmark's generated worlds).

    Returns:
        ``{"generated", "git", "packages", "implementations", "tools", "scenarioSet"}``.
    """
    root = repository_root()
    packages = {}
    for package in PACKAGES:
        directory = root / package
        sha, files = tree_sha256(directory) if directory.is_dir() else (None, 0)
        packages[package] = {"sha256": sha, "files": files}
    return {
        "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git": git_state(root),
        "packages": packages,
        "implementations": {
            role: implementation_sources(role, name, root)
            for role, name in (("baseline", baseline), ("candidate", candidate))
        },
        "tools": tool_versions(),
        "scenarioSet": scenario_set_sha256(scenario_sources, root),
    }
