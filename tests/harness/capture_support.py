"""Helpers of the capture tests: capture from a world standing in for AWS, and compare replays."""

from __future__ import annotations

import contextlib
import copy
import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.cli import main
from harness.engine.compare import compare
from harness.engine.model import Difference, ScenarioResult
from harness.engine.observe import observe, resolve_implementation
from harness.engine.runner import judge
from harness.scenario import Scenario, load_scenario
from harness.scenario.limits import DEFAULT_MAX_BYTES, Limits
from harness.scenario.loading import LoadOptions, document_scenario
from harness.world import World


@dataclass
class Captured:
    """One capture: its exit code, stderr, the file and (when written) its scenario."""

    code: int
    stderr: str
    path: Path
    world: World

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def scenario(self) -> Scenario:
        """The captured file's scenario, read with the file limit the capture's closing note asks for."""
        limits = Limits(max_bytes=max(DEFAULT_MAX_BYTES, self.path.stat().st_size))
        return load_scenario(self.path, LoadOptions(limits))


def capture_from(scenario: Scenario, directory: Path, *extra: str, name: str = "captured") -> Captured:
    """Enter a world built from ``scenario`` and run ``python -m harness capture`` inside it."""
    path = directory / f"{name}.yaml"
    stderr = io.StringIO()
    with World(scenario) as world, contextlib.redirect_stderr(stderr):
        code = main(["capture", "--out", str(path), *extra])
    return Captured(code, stderr.getvalue(), path, world)


def legacy_differences(original: Scenario, replay: Scenario) -> list[Difference]:
    """What legacy does differently in the two worlds (response, tables, region-status writes, calls)."""
    legacy = resolve_implementation("legacy")
    return compare(observe(original, legacy), observe(replay, legacy))


#: The fault rules a capture can observe: always-on faults on the operations it makes as the sync makes them.
CAPTURABLE = {("drs", "DescribeSourceServers"), ("drs", None), ("sts", "AssumeRole"), ("ec2", "DescribeInstances")}


#: DRS latency spread over the regions of a round-trip world (ms), so legacy's region scans complete in a fixed order.
REGION_SPREAD_MS = 280


def capturable(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` without what a capture cannot see: the Lambda's environment and faults it cannot observe.

    A capture sees each region and role as it is while it reads: transient faults (``once``, ``{first: N}``), faults
    on the sync's writes and page faults (the capture cannot read past a failing page, so the replay fails on its
    first page: same outcome, fewer calls) are not part of an estate it can record.
    """
    doc = copy.deepcopy(doc)
    doc.pop("environment", None)
    kept = [
        fault
        for fault in doc.get("faults", [])
        if (fault["service"], fault.get("operation")) in CAPTURABLE and fault.get("when", "always") == "always"
    ]
    doc.pop("faults", None)
    if kept:
        doc["faults"] = kept
    return doc


def scenario_of(doc: dict[str, Any]) -> Scenario:
    """A validated scenario from an in-memory document."""
    return document_scenario(doc, f"<{doc['name']}>")


def visible_page_sizes(original: Scenario, replay: Scenario) -> Scenario:
    """``original`` with only the DynamoDB page sizes its capture could see.

    A capture sees a table's page size when the table comes back in several pages; one that fits in one page at
    capture shows none, though the sync may page it later (after writing more items). Such a size is dropped;
    one the capture should have seen and did not record fails here, with the table's rows counted.
    """
    rows = {
        "targetAccounts": len(replay.accounts),
        "regionStatus": len(replay.region_status),
        "inventory": len(replay.inventory),
    }
    seen = {}
    for table, size in original.dynamodb_page_sizes.items():
        if table in replay.dynamodb_page_sizes:
            seen[table] = size
        else:
            assert rows[table] <= size, f"{table}: {rows[table]} rows in pages of {size}, no page size captured"
    return replace(original, dynamodb_page_sizes=seen)


def replay_judgement(original: Scenario, replay: Scenario) -> ScenarioResult:
    """Legacy in the original world (twice, to know its noise) against legacy in the replay, no approval applied.

    Both run under the original's latency model (a capture records the estate, not the network's timing), with a DRS
    spread over the regions when it has none: legacy's region-status survivors follow the order its region scans
    complete. The spread gives each variant its own order, though a busy machine can still reorder close regions,
    and two runs may land that race the same way: so the judgement probes more baseline variants when a difference
    remains where a race could hide, as the gate does (:func:`~harness.engine.runner.judge`).
    """
    legacy = resolve_implementation("legacy")
    original = visible_page_sizes(original, replay)
    if not original.latency.region_spread_ms:
        original = replace(original, latency=replace(original.latency, region_spread_ms=REGION_SPREAD_MS))
    baselines = observe(original, legacy, 0), observe(original, legacy, 1)
    replay = replace(replay, latency=original.latency)
    return judge(original, legacy, baselines, observe(replay, legacy, 0), {}, apply=False)
