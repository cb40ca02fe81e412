"""Helpers of the characterization tests: run the legacy inventory sync in a simulated world and inspect the run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from harness.scenario import scenario_from_dict
from harness.world import World
from harness.world.aws.calls import AwsCall
from lambda_shared import active_region_filter
from legacy.inventory_sync import handle_sync_source_server_inventory_legacy

LAMBDA = "111111111111"
#: Chosen so that a Scan of the target-accounts table returns LAMBDA, B, C, D in this order, as the tests' stories
#: ("the first account", "the last account") assume: a Scan orders accounts by the hash of their id
#: (:mod:`harness.world.scan_order`), not by the id.
ACCOUNT_B = "555555555555"
ACCOUNT_C = "777777777777"
ACCOUNT_D = "666666666666"


def role_arn(account: str) -> str:
    """The cross-account role production configures for ``account``."""
    return f"arn:aws:iam::{account}:role/DRSOrchestrationRole"


@dataclass
class LegacyRun:
    """What one legacy run did: its answer (or exception), the tables after it, its AWS calls and its output.

    Attributes:
        response: The handler's return value, ``None`` when it raised.
        error: The exception it raised, if any.
        tables: ``world.table_snapshot()`` after the run.
        calls: The AWS calls the run made.
        out: Everything printed during the run.
        region_cache: The shared layer's cached active regions after the run (``None`` when invalidated).
        world: The (closed) world, for ``servers``/``instances`` look-ups.
    """

    response: dict[str, Any] | None
    error: BaseException | None
    tables: dict[str, list[dict[str, Any]]]
    calls: list[AwsCall]
    out: str
    region_cache: list[str] | None
    world: World

    @property
    def body(self) -> dict[str, Any]:
        """The decoded response body."""
        assert self.response is not None, f"the handler raised {self.error!r}"
        return json.loads(self.response["body"])

    @property
    def lines(self) -> list[str]:
        """Printed lines."""
        return self.out.splitlines()

    def select(
        self, service: str | None = None, operation: str | None = None, table: str | None = None
    ) -> list[AwsCall]:
        """Calls matching every given field, in call order."""
        return [
            c
            for c in self.calls
            if (service is None or c.service == service)
            and (operation is None or c.operation == operation)
            and (table is None or c.table == table)
        ]

    def inventory(self) -> dict[str, dict[str, Any]]:
        """Inventory items by ``sourceServerID``."""
        return {item["sourceServerID"]: item for item in self.tables["inventory"]}

    def region_rows(self) -> dict[str, dict[str, Any]]:
        """Region-status rows by region."""
        return {row["region"]: row for row in self.tables["regionStatus"]}

    def servers(self, account: str, region: str) -> list[dict[str, Any]]:
        """The DRS source servers the world held for ``(account, region)``."""
        return self.world.servers.get((account, region), [])


def world_for(doc: dict[str, Any]) -> World:
    """A (not yet entered) world for a scenario document; use it as a context manager for several runs."""
    return World(scenario_from_dict({"name": "legacy-characterization", **doc}))


def execute(world: World, capsys: pytest.CaptureFixture[str]) -> LegacyRun:
    """Run the legacy handler once inside an entered world and collect what it did."""
    capsys.readouterr()
    before = len(world.calls)
    response: dict[str, Any] | None = None
    error: BaseException | None = None
    try:
        response = handle_sync_source_server_inventory_legacy()
    except Exception as raised:  # noqa: BLE001 - raising is behaviour under test
        error = raised
    cache = active_region_filter._region_cache["regions"]
    return LegacyRun(
        response=response,
        error=error,
        tables=world.table_snapshot(),
        calls=list(world.calls[before:]),
        out=capsys.readouterr().out,
        region_cache=list(cache) if cache is not None else None,
        world=world,
    )
