"""10,000-server worlds: the world builds them, and legacy and refactored stay equivalent at that size.

Marked slow: the nightly job runs them (`./run nightly`), the default run does not.
"""

from __future__ import annotations

import pytest

from harness.bench.worlds import bench_cases
from harness.engine.runner import run_scenario
from harness.world import World

pytestmark = pytest.mark.slow

NO_LATENCY = {"drs": 0.0, "ec2": 0.0, "sts": 0.0, "dynamodb": 0.0}


def test_a_10000_server_world_is_complete():
    scenario = bench_cases(NO_LATENCY)["10000-servers"]
    with World(scenario) as world:
        servers = [server for group in world.servers.values() for server in group]
        instances = [instance for group in world.instances.values() for instance in group]
        assert len(servers) == 10_000
        assert len({server["arn"] for server in servers}) == 10_000
        assert len(instances) == 10_000


def test_legacy_and_refactored_are_equivalent_on_10000_servers():
    # The bench world names no approvals: apply those whose conditions hold, as the fuzzer does.
    result = run_scenario(bench_cases(NO_LATENCY)["10000-servers"], "legacy", "refactored", automatic=True)
    unapproved = [d.describe() for d in result.differences if d.status == "unapproved"]
    assert result.status in ("equivalent", "approved-divergence"), unapproved
