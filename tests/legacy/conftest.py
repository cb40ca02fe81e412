"""Fixtures for the characterization tests: run the legacy inventory sync in simulated worlds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from legacy_support import LegacyRun, execute

from harness.scenario import scenario_from_dict
from harness.world import World


@pytest.fixture
def run_legacy(capsys: pytest.CaptureFixture[str]) -> Callable[..., LegacyRun]:
    """Run the legacy inventory sync once in a fresh world built from a scenario document."""

    def run(doc: dict[str, Any]) -> LegacyRun:
        with World(scenario_from_dict({"name": "legacy-characterization", **doc})) as world:
            return execute(world, capsys)

    return run


@pytest.fixture
def legacy_world(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[dict[str, Any]], World]]:
    """Enter a world for several runs; use :func:`execute` inside it. Left at teardown."""
    worlds: list[World] = []

    def enter(doc: dict[str, Any]) -> World:
        world = World(scenario_from_dict({"name": "legacy-characterization", **doc}))
        world.__enter__()
        worlds.append(world)
        return world

    yield enter
    while worlds:
        worlds.pop().__exit__(None, None, None)
