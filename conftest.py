"""Shared pytest fixtures: simulated AWS worlds built from scenario documents, and Hypothesis profiles."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import freezegun
import pytest
from hypothesis import HealthCheck, settings

from harness.redaction import share_salt
from harness.scenario import Scenario, scenario_from_dict
from harness.world import World

ROOT = Path(__file__).parent
SCENARIO_DIR = ROOT / "scenarios"

# Worlds are slow-ish to build (moto), so examples must not be judged by Hypothesis's per-example deadline.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# A world freezes the clock; pytest's own timing (--durations, junit times) must keep reading the real one.
freezegun.configure(extend_ignore_list=["_pytest.timing"])

WorldFactory = Callable[..., World]
#: One fingerprint salt per test run for every pytest-xdist worker: workers exchange baseline observations
#: (tests/comparison/conftest.py), whose redacted secrets must read alike in every worker.
_RUN_SALT = secrets.token_bytes(16)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist controller: give each worker this run's fingerprint salt."""
    node.workerinput["fingerprint_salt"] = _RUN_SALT.hex()


def pytest_configure(config: pytest.Config) -> None:
    """A pytest-xdist worker fingerprints secrets with its run's salt (serial runs keep their own)."""
    salt = getattr(config, "workerinput", {}).get("fingerprint_salt")
    if salt:
        share_salt(bytes.fromhex(salt))


@pytest.fixture
def world_factory() -> Iterator[WorldFactory]:
    """Build and enter a :class:`World` from a scenario document (dict) or Scenario; left at teardown.

    Usage: ``world = world_factory({"name": "t", "accounts": [...]})``.
    """
    entered: list[World] = []

    def build(doc: dict[str, Any] | Scenario, **kwargs: Any) -> World:
        scenario = doc if isinstance(doc, Scenario) else scenario_from_dict({"name": "test", **doc})
        world = World(scenario, **kwargs)
        world.__enter__()
        entered.append(world)
        return world

    yield build
    while entered:
        entered.pop().__exit__(None, None, None)


@pytest.fixture
def scenario_dir() -> Path:
    """The built-in scenario library."""
    return SCENARIO_DIR
