"""Simulated AWS worlds: everything a scenario describes, built in-process so the code under test runs against it.

Modules: :mod:`~harness.world.world` (the :class:`World` context manager: moto, seeded tables, roles, the frozen
clock, the environment, cache resets), :mod:`~harness.world.servers` (the scenario's server groups as DRS source
servers and EC2 instances), :mod:`~harness.world.generate` (deterministic, realistic source servers from a seed),
:mod:`~harness.world.ec2_builder` (EC2 instances in the right moto accounts) and :mod:`harness.world.aws` (the
simulated wire: the botocore ``before-send`` dispatcher, the call recorder, the DRS fake, faults and latency).

``World`` is importable from here; it loads on first use, so that importing the call records or the attribute
helpers of :mod:`harness.world.aws` (the engine does) does not import moto.
"""

from __future__ import annotations

from typing import Any

__all__ = ["World"]


def __getattr__(name: str) -> Any:
    """Import :class:`~harness.world.world.World` on first use."""
    if name == "World":
        from harness.world.world import World

        return World
    raise AttributeError(f"module 'harness.world' has no attribute {name!r}")
