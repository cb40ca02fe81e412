"""Unit tests of lambda_shared.dynamodb_tables: eight lazy, environment-driven getters, in a simulated world."""

import os
from collections.abc import Callable
from typing import Any

import pytest

from harness.scenario import scenario_from_dict
from harness.world import World
from lambda_shared import dynamodb_tables, reset_state
from lambda_shared.dynamodb_tables import TableNotConfiguredError

GETTERS: list[tuple[Callable[[], Any], str]] = [
    (dynamodb_tables.get_protection_groups_table, "PROTECTION_GROUPS_TABLE"),
    (dynamodb_tables.get_recovery_plans_table, "RECOVERY_PLANS_TABLE"),
    (dynamodb_tables.get_target_accounts_table, "TARGET_ACCOUNTS_TABLE"),
    (dynamodb_tables.get_execution_history_table, "EXECUTION_HISTORY_TABLE"),
    (dynamodb_tables.get_executions_table, "EXECUTIONS_TABLE"),
    (dynamodb_tables.get_region_status_table, "DRS_REGION_STATUS_TABLE"),
    (dynamodb_tables.get_tag_sync_config_table, "TAG_SYNC_CONFIG_TABLE"),
    (dynamodb_tables.get_source_server_inventory_table, "SOURCE_SERVER_INVENTORY_TABLE"),
]
IDS = [variable for _, variable in GETTERS]


def _world(environment: dict[str, str | None] | None = None) -> World:
    return World(scenario_from_dict({"name": "shared-tables", "environment": environment or {}}))


def test_the_eight_getters_cover_the_eight_design_variables() -> None:
    assert sorted(dynamodb_tables.TABLE_VARIABLES.values()) == sorted(IDS)


@pytest.mark.parametrize(("getter", "variable"), GETTERS, ids=IDS)
def test_getter_returns_the_table_named_by_its_variable_without_any_aws_call(
    getter: Callable[[], Any], variable: str
) -> None:
    with _world() as world:
        table = getter()
        assert table.name == os.environ[variable]
        assert getter() is table
        assert world.calls == []


@pytest.mark.parametrize(("getter", "variable"), GETTERS, ids=IDS)
def test_getter_raises_table_not_configured_naming_the_variable(getter: Callable[[], Any], variable: str) -> None:
    with _world({variable: None}) as world:
        with pytest.raises(TableNotConfiguredError) as raised:
            getter()
        assert raised.value.variable == variable
        assert str(raised.value) == f"{variable} not configured"
        assert world.calls == []


def test_empty_variable_counts_as_not_configured() -> None:
    with _world({"EXECUTIONS_TABLE": ""}), pytest.raises(TableNotConfiguredError):
        dynamodb_tables.get_executions_table()


def test_environment_is_read_lazily_and_a_renamed_table_is_picked_up() -> None:
    with _world():
        first = dynamodb_tables.get_target_accounts_table()
        os.environ["TARGET_ACCOUNTS_TABLE"] = "another-name"
        second = dynamodb_tables.get_target_accounts_table()
        assert first.name == "drs-target-accounts"
        assert second.name == "another-name"


def test_getter_table_really_reaches_the_world_table() -> None:
    scenario = scenario_from_dict({"name": "shared-tables", "accounts": [{"accountId": "222222222222"}]})
    with World(scenario) as world:
        items = dynamodb_tables.get_target_accounts_table().scan()["Items"]
        assert items == [{"accountId": "222222222222"}]
        assert [(c.operation, c.table) for c in world.calls] == [("Scan", "targetAccounts")]


@pytest.mark.parametrize("reset", [dynamodb_tables.reset_tables, reset_state], ids=["reset_tables", "reset_state"])
def test_reset_forgets_cached_tables(reset: Callable[[], None]) -> None:
    with _world():
        first = dynamodb_tables.get_recovery_plans_table()
        reset()
        assert dynamodb_tables.get_recovery_plans_table() is not first


@pytest.mark.parametrize("reset", [dynamodb_tables.reset_tables, reset_state], ids=["reset_tables", "reset_state"])
def test_low_level_client_is_built_once_until_reset(reset: Callable[[], None]) -> None:
    with _world():
        first = dynamodb_tables.get_dynamodb_client()
        assert dynamodb_tables.get_dynamodb_client() is first
        assert first.list_tables()["TableNames"]  # the world's tables, in the wire format
        reset()
        assert dynamodb_tables.get_dynamodb_client() is not first
