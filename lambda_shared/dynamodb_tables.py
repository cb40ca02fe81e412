"""Lazy, environment-driven DynamoDB table getters shared by the Lambda handlers.

Each getter reads its environment variable when called, builds the ``boto3`` Table resource on first use (no AWS
call is made) and reuses it while the variable keeps naming the same table. :func:`get_dynamodb_client` gives the
low-level client for requests already in DynamoDB's wire format (the resource layer would convert them again).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3

#: Getter name -> environment variable holding the table name.
TABLE_VARIABLES: dict[str, str] = {
    "protection_groups": "PROTECTION_GROUPS_TABLE",
    "recovery_plans": "RECOVERY_PLANS_TABLE",
    "target_accounts": "TARGET_ACCOUNTS_TABLE",
    "execution_history": "EXECUTION_HISTORY_TABLE",
    "executions": "EXECUTIONS_TABLE",
    "region_status": "DRS_REGION_STATUS_TABLE",
    "tag_sync_config": "TAG_SYNC_CONFIG_TABLE",
    "source_server_inventory": "SOURCE_SERVER_INVENTORY_TABLE",
}

_lock = threading.Lock()
_tables: dict[str, Any] = {}
_client: Any = None


class TableNotConfiguredError(RuntimeError):
    """A table's environment variable is unset or empty.

    Attributes:
        variable: The environment variable that is missing.
    """

    def __init__(self, variable: str) -> None:
        """Create the error for ``variable``.

        Args:
            variable: The environment variable that is missing.
        """
        super().__init__(f"{variable} not configured")
        self.variable = variable


def get_table(variable: str) -> Any:
    """Return the Table resource named by an environment variable, creating it lazily.

    Args:
        variable: Environment variable holding the table name.

    Returns:
        The ``boto3`` DynamoDB Table resource.

    Raises:
        TableNotConfiguredError: The variable is unset or empty.
    """
    name = os.environ.get(variable)
    if not name:
        raise TableNotConfiguredError(variable)
    with _lock:
        table = _tables.get(variable)
        if table is None or table.name != name:
            table = boto3.resource("dynamodb").Table(name)
            _tables[variable] = table
        return table


def get_dynamodb_client() -> Any:
    """Return the low-level DynamoDB client, created on first use: requests and answers in DynamoDB's attribute-value
    format, without the resource layer's conversion (which walks and copies every parameter of every call)."""
    global _client
    with _lock:
        if _client is None:
            _client = boto3.client("dynamodb")
        return _client


def reset_tables() -> None:
    """Forget every cached Table resource and client."""
    global _client
    with _lock:
        _tables.clear()
        _client = None


def get_protection_groups_table() -> Any:
    """Get or initialize the protection groups table (``PROTECTION_GROUPS_TABLE``)."""
    return get_table(TABLE_VARIABLES["protection_groups"])


def get_recovery_plans_table() -> Any:
    """Get or initialize the recovery plans table (``RECOVERY_PLANS_TABLE``)."""
    return get_table(TABLE_VARIABLES["recovery_plans"])


def get_target_accounts_table() -> Any:
    """Get or initialize the target accounts table (``TARGET_ACCOUNTS_TABLE``)."""
    return get_table(TABLE_VARIABLES["target_accounts"])


def get_execution_history_table() -> Any:
    """Get or initialize the execution history table (``EXECUTION_HISTORY_TABLE``)."""
    return get_table(TABLE_VARIABLES["execution_history"])


def get_executions_table() -> Any:
    """Get or initialize the executions table (``EXECUTIONS_TABLE``)."""
    return get_table(TABLE_VARIABLES["executions"])


def get_region_status_table() -> Any:
    """Get or initialize the region status table (``DRS_REGION_STATUS_TABLE``)."""
    return get_table(TABLE_VARIABLES["region_status"])


def get_tag_sync_config_table() -> Any:
    """Get or initialize the tag sync config table (``TAG_SYNC_CONFIG_TABLE``)."""
    return get_table(TABLE_VARIABLES["tag_sync_config"])


def get_source_server_inventory_table() -> Any:
    """Get or initialize the source server inventory table (``SOURCE_SERVER_INVENTORY_TABLE``)."""
    return get_table(TABLE_VARIABLES["source_server_inventory"])
