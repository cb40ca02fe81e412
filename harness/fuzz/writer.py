"""Writing a fuzzer's failing example out as a scenario file that ``python -m harness run FILE`` reproduces.

The file is the generated document itself, renamed after the file (``name`` must equal the stem), with a
description of what diverged and how to reproduce it, the ids of the approvals that apply to it (the fuzzer applies
every applicable approval automatically; ``run`` applies only those a scenario references, so the file names them)
and the tag ``fuzz``. The written text is read back and validated before the path is returned.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from harness.engine.model import ScenarioResult
from harness.redaction import redact_text
from harness.scenario.loading import load_scenario, parse_yaml

logger = logging.getLogger(__name__)

FUZZ_TAG = "fuzz"
#: Unapproved differences quoted in the description.
QUOTED_DIFFERENCES = 5
_QUOTE_LIMIT = 300
SCHEMA = Path(__file__).resolve().parent.parent / "scenario" / "schema.json"


class _Dumper(yaml.SafeDumper):
    """A safe dumper that writes multi-line strings as literal blocks (readable descriptions)."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def document_digest(doc: dict[str, Any]) -> str:
    """A short, stable digest of a document's content (its name excluded)."""
    content = {key: value for key, value in doc.items() if key != "name"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:10]


def failure_name(seed: int, doc: dict[str, Any]) -> str:
    """The scenario name (and file stem) of a failing example: the fuzz seed and the document's digest."""
    return f"fuzz-seed{seed}-{document_digest(doc)}"


def reproduce_command(path: Path, baseline: str, candidate: str) -> str:
    """The command line that reruns a written scenario with the same implementations."""
    words = ["python", "-m", "harness", "run", str(path)]
    if baseline != "legacy":
        words += ["--baseline", baseline]
    if candidate != "refactored":
        words += ["--candidate", candidate]
    return shlex.join(words)


def _quote(text: str) -> str:
    return text if len(text) <= _QUOTE_LIMIT else f"{text[: _QUOTE_LIMIT - 3]}..."


def describe_failure(result: ScenarioResult, seed: int, command: str) -> str:
    """The description of a failing example: how it was found, what differs, how to rerun it."""
    found = f"Found by `python -m harness fuzz --seed {seed}` and shrunk by Hypothesis; status {result.status}."
    lines = [found]
    lines += [f"Error: {_quote(message)}" for message in result.errors[:QUOTED_DIFFERENCES]]
    lines += [f"Difference: {_quote(d.describe())}" for d in result.unapproved[:QUOTED_DIFFERENCES]]
    hidden = len(result.unapproved) - QUOTED_DIFFERENCES
    if hidden > 0:
        lines.append(f"... and {hidden} more unapproved difference(s).")
    lines.append(f"Reproduce: {command}")
    return "\n".join(lines)


def scenario_text(
    doc: dict[str, Any], name: str, description: str, approvals: Sequence[str], directory: Path | None = None
) -> str:
    """The YAML text of a failing example: ``name`` and ``description`` first, then the world, approvals, tags.

    Args:
        doc: The generated document.
        name: The scenario name (the file stem).
        description: What diverged and how to reproduce it.
        approvals: Approval ids to reference.
        directory: Where the file goes, to point the editor schema comment at the schema; ``None`` for no comment.
    """
    body = {key: value for key, value in doc.items() if key not in ("name", "description", "approvals", "tags")}
    ordered: dict[str, Any] = {"name": name, "description": description, **body}
    if approvals:
        ordered["approvals"] = list(approvals)
    ordered["tags"] = [FUZZ_TAG]
    text = yaml.dump(ordered, Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=118, allow_unicode=True)
    parsed, _ = parse_yaml(text)
    if parsed != ordered:
        raise ValueError(f"scenario {name} does not survive a YAML round trip")
    if directory is None:
        return text
    schema = Path(os.path.relpath(SCHEMA, directory.resolve())).as_posix()
    return f"# yaml-language-server: $schema={schema}\n{text}"


def write_failure(
    doc: dict[str, Any],
    result: ScenarioResult,
    directory: Path,
    seed: int,
    approvals: Sequence[str],
    implementations: tuple[str, str] = ("legacy", "refactored"),
) -> Path:
    """Write a failing example as ``directory/<name>.yaml`` and check that it loads back as a valid scenario.

    Args:
        doc: The generated document (its ``name`` is replaced).
        result: The engine's result for it (its unapproved differences go into the description).
        directory: Where to write; created when missing.
        seed: The fuzz seed, part of the name.
        approvals: Ids of the approvals that apply to the example (referenced so ``run`` applies them too).
        implementations: Baseline and candidate, for the reproduce command.

    Returns:
        The path written.

    Raises:
        ScenarioError: The written file does not validate (a bug in the fuzzer, never expected).
    """
    name = failure_name(seed, doc)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    command = reproduce_command(path, *implementations)
    description = redact_text(describe_failure(result, seed, command))  # a candidate's values are in it
    path.write_text(scenario_text(doc, name, description, approvals, directory), encoding="utf-8")
    load_scenario(path)
    logger.info("wrote failing example %s", path)
    return path
