"""Fixtures for the characterization tests: run the legacy inventory sync in simulated worlds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from legacy_support import LegacyRun, execute, world_for


@pytest.fixture
def run_legacy(capsys: pytest.CaptureFixture[str]) -> Callable[..., LegacyRun]:
    """Run the legacy inventory sync once in a fresh world built from a scenario document."""

    def run(doc: dict[str, Any]) -> LegacyRun:
        with world_for(doc) as world:
            return execute(world, capsys)

    return run
