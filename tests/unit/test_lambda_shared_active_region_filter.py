"""Unit tests of lambda_shared.active_region_filter (LB-2), in simulated worlds."""

import logging
import os
from typing import Any

import pytest
from freezegun import freeze_time

from harness.scenario import scenario_from_dict
from harness.world import World
from lambda_shared import active_region_filter, reset_state
from lambda_shared.active_region_filter import get_active_regions, invalidate_region_cache, update_region_status
from lambda_shared.drs_regions import DRS_REGIONS

CLOCK = "2026-01-15T12:00:00Z"


def _world(**doc: Any) -> World:
    return World(scenario_from_dict({"name": "shared-regions", "clock": CLOCK, **doc}))


def _fault(operation: str) -> dict[str, Any]:
    return {
        "service": "dynamodb",
        "operation": operation,
        "table": "regionStatus",
        "effect": {"code": "ValidationException"},
    }


def _scans(world: World) -> list[Any]:
    return [c for c in world.calls if c.operation == "Scan" and c.table == "regionStatus"]


def _status_writes(world: World) -> list[Any]:
    return [c for c in world.calls if c.operation == "PutItem" and c.table == "regionStatus"]


def test_active_regions_are_the_rows_with_servers_in_scan_order() -> None:
    rows = [
        {"region": "eu-west-1", "serverCount": 4},
        {"region": "ap-south-1", "serverCount": 0, "status": "UNINITIALIZED"},
        {"region": "us-east-2", "serverCount": 9},
        {"region": "sa-east-1", "serverCount": 1},
    ]
    with _world(tables={"regionStatus": rows}) as world:
        regions = get_active_regions()
        raw_order = [item["region"] for item in active_region_filter._get_region_status_table().scan()["Items"]]
        assert regions == [r for r in raw_order if r != "ap-south-1"]
        assert sorted(regions) == ["eu-west-1", "sa-east-1", "us-east-2"]
        scan = _scans(world)[0]
        assert "FilterExpression" in scan.params
        assert list(scan.params["ExpressionAttributeValues"].values()) == [{"N": "0"}]


def test_result_is_cached_for_sixty_seconds_of_wall_clock() -> None:
    with _world(tables={"activeRegions": ["us-east-1", "eu-west-1"]}) as world:
        first = get_active_regions()
        with freeze_time("2026-01-15T12:00:59Z"):
            assert get_active_regions() == first
            assert len(_scans(world)) == 1
        with freeze_time("2026-01-15T12:01:01Z"):
            assert get_active_regions() == first
            assert len(_scans(world)) == 2


def test_cached_list_is_not_shared_with_callers() -> None:
    with _world(tables={"activeRegions": ["us-east-1"]}):
        get_active_regions().append("xx-fake-1")
        assert get_active_regions() == ["us-east-1"]


def test_scan_follows_last_evaluated_key() -> None:
    padding = "x" * 150_000
    rows = [{"region": region, "serverCount": 1, "padding": padding} for region in DRS_REGIONS[:12]]
    with _world(tables={"regionStatus": rows}) as world:
        regions = get_active_regions()
        scans = _scans(world)
        assert sorted(regions) == sorted(DRS_REGIONS[:12])
        assert len(scans) >= 2
        assert "ExclusiveStartKey" not in scans[0].params
        assert all("ExclusiveStartKey" in scan.params for scan in scans[1:])


def test_unconfigured_table_falls_back_to_all_regions_without_any_call_and_without_caching() -> None:
    with _world(environment={"DRS_REGION_STATUS_TABLE": None}) as world:
        assert get_active_regions() == DRS_REGIONS
        assert active_region_filter._region_cache["regions"] is None
        assert world.calls == []


def test_no_matching_row_falls_back_to_all_regions_uncached() -> None:
    rows = [{"region": "us-east-1", "serverCount": 0}, {"region": "eu-west-1", "serverCount": 0}]
    with _world(tables={"regionStatus": rows}) as world:
        assert get_active_regions() == DRS_REGIONS
        assert get_active_regions() == DRS_REGIONS
        assert len(_scans(world)) == 2


def test_scan_error_falls_back_to_all_regions_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    faults = [
        {"service": "dynamodb", "operation": "Scan", "table": "regionStatus", "effect": {"code": "ValidationException"}}
    ]
    with _world(tables={"activeRegions": ["us-east-1"]}, faults=faults) as world:
        with caplog.at_level(logging.WARNING, logger="lambda_shared.active_region_filter"):
            assert get_active_regions() == DRS_REGIONS
        assert active_region_filter._region_cache["regions"] is None
        assert len(_scans(world)) == 1
    assert any("Active region scan failed" in record.getMessage() for record in caplog.records)


def test_fallback_list_is_a_copy() -> None:
    with _world(environment={"DRS_REGION_STATUS_TABLE": None}):
        get_active_regions().clear()
        assert len(DRS_REGIONS) == 28


@pytest.mark.parametrize("clear", [invalidate_region_cache, reset_state], ids=["invalidate", "reset_state"])
def test_invalidation_forces_a_new_scan(clear: Any) -> None:
    with _world(tables={"activeRegions": ["us-east-1"]}) as world:
        get_active_regions()
        clear()
        get_active_regions()
        assert len(_scans(world)) == 2


@pytest.mark.parametrize(
    ("count", "message", "status"),
    [(3, None, "AVAILABLE"), (0, None, "UNINITIALIZED"), (0, "API rate limit exceeded", "ERROR"), (5, "x", "ERROR")],
)
def test_update_region_status_writes_one_row(count: int, message: str | None, status: str) -> None:
    with _world(clock="2026-03-04T05:06:07.890Z") as world:
        update_region_status("eu-west-2", count, message)
        rows = {row["region"]: row for row in world.table_snapshot()["regionStatus"]}
        assert rows["eu-west-2"] == {
            "region": "eu-west-2",
            "status": status,
            "serverCount": count,
            "lastChecked": "2026-03-04T05:06:07Z",
            "errorMessage": message,
        }
        assert len(_status_writes(world)) == 1


def test_update_region_status_stores_a_null_error_message() -> None:
    with _world() as world:
        update_region_status("us-east-1", 1)
        assert _status_writes(world)[0].params["Item"]["errorMessage"] == {"NULL": True}


def test_update_region_status_errors_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    faults = [
        {
            "service": "dynamodb",
            "operation": "PutItem",
            "table": "regionStatus",
            "effect": {"code": "ValidationException"},
        }
    ]
    with _world(faults=faults) as world:
        with caplog.at_level(logging.ERROR, logger="lambda_shared.active_region_filter"):
            update_region_status("us-east-1", 2)
        assert world.table_snapshot()["regionStatus"] == []
    assert any("Failed to update region status" in record.getMessage() for record in caplog.records)


def test_update_region_status_without_table_writes_nothing() -> None:
    with _world(environment={"DRS_REGION_STATUS_TABLE": None}) as world:
        update_region_status("us-east-1", 2)
        assert world.calls == []


def test_table_is_resolved_lazily_from_the_current_variable() -> None:
    with _world() as world:
        update_region_status("us-east-1", 1)
        table = active_region_filter._get_region_status_table()
        assert active_region_filter._get_region_status_table() is table
        os.environ["DRS_REGION_STATUS_TABLE"] = "drs-inventory-other"
        assert active_region_filter._get_region_status_table().name == "drs-inventory-other"
        assert len(world.calls) == 1
