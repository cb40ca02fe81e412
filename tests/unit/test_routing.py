"""Feature-flag routing and the Lambda entry point, in simulated worlds.

A world with zero target accounts tells the implementations apart: legacy raises ``UnboundLocalError`` there (LB-9)
while the refactor answers 200 (AD-1).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from refactored.routing import (
    FEATURE_FLAG_VARIABLE,
    handle_sync_source_server_inventory,
    lambda_handler,
    use_refactored_implementation,
)


def zero_accounts(world_factory: Any, flag: str | None = None) -> Any:
    environment = {} if flag is None else {FEATURE_FLAG_VARIABLE: flag}
    return world_factory({"tables": {"activeRegions": ["us-east-1"]}, "environment": environment})


@pytest.mark.parametrize("flag", [None, "true", "TRUE", "True"])
def test_refactored_runs_by_default_and_for_true_in_any_case(world_factory, caplog, flag):
    zero_accounts(world_factory, flag)
    with caplog.at_level(logging.WARNING):
        result = handle_sync_source_server_inventory()
    assert result["statusCode"] == 200 and json.loads(result["body"])["totalSynced"] == 0
    assert "LEGACY" not in caplog.text


@pytest.mark.parametrize("flag", ["false", "FALSE", "False"])
def test_false_rolls_back_to_legacy_with_a_warning(world_factory, caplog, flag):
    zero_accounts(world_factory, flag)
    with caplog.at_level(logging.WARNING), pytest.raises(UnboundLocalError):
        handle_sync_source_server_inventory()
    assert "Using LEGACY inventory sync implementation" in caplog.text


@pytest.mark.parametrize("flag", ["yes", "", " true", "1", "flase"])
def test_any_other_value_fails_safe_to_legacy_with_a_warning_naming_it(world_factory, caplog, flag):
    zero_accounts(world_factory, flag)
    with caplog.at_level(logging.WARNING), pytest.raises(UnboundLocalError):
        handle_sync_source_server_inventory()
    assert repr(flag) in caplog.text and "LEGACY" in caplog.text


def test_flag_reader_reads_the_environment_on_every_call(monkeypatch):
    monkeypatch.delenv(FEATURE_FLAG_VARIABLE, raising=False)
    assert use_refactored_implementation()
    monkeypatch.setenv(FEATURE_FLAG_VARIABLE, "false")
    assert not use_refactored_implementation()
    monkeypatch.setenv(FEATURE_FLAG_VARIABLE, "tRuE")
    assert use_refactored_implementation()


def test_lambda_handler_dispatches_the_sync_operation(world_factory):
    world = zero_accounts(world_factory)
    result = lambda_handler({"operation": "sync_source_server_inventory"}, None)
    assert result["statusCode"] == 200
    assert any(c.table == "targetAccounts" for c in world.calls)


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"operation": "delete_everything"}, "Unknown operation: delete_everything"),
        ({"operation": ""}, "Unknown operation: "),
        ({}, "Missing operation"),
        ({"operation": None}, "Missing operation"),
        (None, "Missing operation"),
        (["sync_source_server_inventory"], "Missing operation"),
    ],
)
def test_lambda_handler_answers_400_for_unknown_or_missing_operations(world_factory, event, error):
    world = zero_accounts(world_factory)
    result = lambda_handler(event, None)
    assert result["statusCode"] == 400
    assert json.loads(result["body"]) == {"error": error}
    assert result["headers"]["Content-Type"] == "application/json"
    assert world.calls == []
