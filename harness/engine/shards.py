"""Sharding the gate: which scenarios shard K of N runs, and what its partial verdict says it holds.

``python -m harness gate --shard K/N`` runs a deterministic, balanced share of the library and writes a *partial*
verdict (:data:`harness.engine.model.PARTIAL`, never a GO); ``python -m harness merge`` (:mod:`harness.engine.merge`)
combines the N partial verdicts into the one verdict and reports an unsharded gate would have written.

The share is a pure function of the library (its scenario names, in load order), N and the durations given, so every
machine computes the same plan without talking to the others:

- with ``--durations FILE`` (a ``verdict.json`` of an earlier gate or merge, or a ``{"scenario": seconds}`` map),
  scenarios are dealt longest first, each to the shard with the least work so far (ties: the lower shard number);
  a scenario the file does not know counts as the median of those it does;
- without durations, or when the file knows none of the library's scenarios, scenarios are dealt round-robin in
  file order (scenario i to shard i mod N).

A shard's partial verdict carries what only the merge can judge with: every scenario's full result as an unsharded
gate writes it, its scenarios' coverage rows (the error types their faults name and the legacy states their baselines
reached, :func:`harness.engine.coverage.coverage_rows`), the approval uses, and this module's :func:`shard_section`:
the library it is a share of (names and the scenario set's hash), the names it holds, how it was balanced, and the
approvals file and ExternalId setting it ran with, so that the merge refuses shards that do not belong together.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.commandline import BadInputError

#: How ``--shard`` is written.
SHARD_SYNTAX = "K/N (shard K of N, 1 <= K <= N)"
#: A durations file larger than this is refused (a verdict.json of a large library is a few MB).
MAX_DURATIONS_BYTES = 256 * 1024 * 1024
ROUND_ROBIN = "file order, round-robin"


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (from 1) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``--shard K/N`` as a :class:`Shard` (an argparse type).

    Raises:
        argparse.ArgumentTypeError: Not ``K/N`` with whole numbers ``1 <= K <= N``.
    """
    index, slash, count = text.partition("/")
    if not slash or not index.strip().isdigit() or not count.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not {SHARD_SYNTAX}")
    shard = Shard(int(index), int(count))
    if not 1 <= shard.index <= shard.count:
        raise argparse.ArgumentTypeError(f"{text!r}: K must be between 1 and N ({SHARD_SYNTAX})")
    return shard


def read_durations(path: Path) -> dict[str, float]:
    """Seconds per scenario name from a ``verdict.json`` (``scenarios[].name``/``durationS``) or a name->seconds map.

    Raises:
        BadInputError: The file cannot be read, is not JSON, or is neither shape; the message names the file.
    """
    try:
        if path.stat().st_size > MAX_DURATIONS_BYTES:
            raise BadInputError(f"--durations {path}: larger than {MAX_DURATIONS_BYTES} bytes")
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BadInputError(f"--durations {path}: cannot read it ({error.strerror or error})") from None
    except ValueError as error:
        raise BadInputError(f"--durations {path}: not JSON ({error})") from None
    if isinstance(document, dict) and isinstance(document.get("scenarios"), list):
        entries = [(s.get("name"), s.get("durationS")) for s in document["scenarios"] if isinstance(s, dict)]
    elif isinstance(document, dict):
        entries = list(document.items())
    else:
        entries = []
    durations = {
        name: float(seconds)
        for name, seconds in entries
        if isinstance(name, str) and isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0
    }
    if not durations and document not in ({}, {"scenarios": []}):
        raise BadInputError(
            f"--durations {path}: neither a verdict.json (scenarios[].name, durationS) nor a map of scenario names "
            "to seconds"
        )
    return durations


def assign(names: Sequence[str], count: int, durations: dict[str, float] | None = None) -> list[list[int]]:
    """Per shard (index 0 is shard 1), the library positions of its scenarios, in library order.

    Args:
        names: The library's scenario names, in load order.
        count: How many shards.
        durations: Known seconds per scenario name (others count as the median of the known ones).

    Returns:
        ``count`` lists that together hold every position exactly once.
    """
    durations = durations or {}
    known = [durations[name] for name in names if name in durations]
    shares: list[list[int]] = [[] for _ in range(count)]
    if not known:
        for position in range(len(names)):
            shares[position % count].append(position)
        return shares
    typical = statistics.median(known)
    weights = [durations.get(name, typical) for name in names]
    loads = [0.0] * count
    for position in sorted(range(len(names)), key=lambda p: (-weights[p], p)):
        lightest = min(range(count), key=lambda shard: (loads[shard], shard))
        shares[lightest].append(position)
        loads[lightest] += weights[position]
    return [sorted(share) for share in shares]


def balanced_by(names: Sequence[str], durations: dict[str, float] | None, source: Path | None) -> str:
    """How a plan was balanced, for the partial verdict and the progress line."""
    known = sum(1 for name in names if durations and name in durations)
    if not known:
        return ROUND_ROBIN
    return f"recorded durations of {known} of {len(names)} scenario(s) from {source}"


def shard_section(
    shard: Shard,
    library: Sequence[str],
    held: Sequence[str],
    how: str,
    scenario_set: dict[str, Any],
    approvals_file: dict[str, Any],
    show_external_ids: bool,
) -> dict[str, Any]:
    """The ``shard`` object of a partial verdict (``verdict.schema.json``, ``$defs/shard``).

    Args:
        shard: Which shard this is.
        library: Every scenario name of the library, in load order.
        held: The names this shard ran, in library order.
        how: How the plan was balanced (:func:`balanced_by`).
        scenario_set: The whole library's :func:`harness.engine.provenance.scenario_set_sha256`.
        approvals_file: ``{"path", "sha256"}`` of the approvals file the shard judged with.
        show_external_ids: Whether ExternalIds were shown in clear (every shard must agree).
    """
    return {
        "index": shard.index,
        "count": shard.count,
        "scenarioSet": scenario_set,
        "library": list(library),
        "scenarios": list(held),
        "balancedBy": how,
        "approvalsFile": approvals_file,
        "showExternalIds": show_external_ids,
    }
