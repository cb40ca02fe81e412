"""Feature-flag routing between the refactored and the legacy inventory sync, and the Lambda entry point.

``USE_REFACTORED_INVENTORY_SYNC`` selects the implementation: ``"true"`` (the default, any case) runs the refactor;
``"false"`` runs legacy (rollback); any other value also runs legacy, the known-good path, with a warning naming the
value. Rollback is setting the variable to ``false``: no deployment needed.

Spec points: none (legacy has no flag; this is the design's Phase 4: the flag, rollback and the Lambda entry point,
recorded in ``docs/design-deviations.md`` section 6). Approvals: none.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from lambda_shared.response_utils import response
from legacy.inventory_sync import handle_sync_source_server_inventory_legacy
from refactored.inventory_sync import handle_sync_source_server_inventory_refactored

logger = logging.getLogger(__name__)

#: The feature flag's environment variable.
FEATURE_FLAG_VARIABLE = "USE_REFACTORED_INVENTORY_SYNC"
#: The operation name the Lambda dispatches to the inventory sync.
SYNC_OPERATION = "sync_source_server_inventory"


def use_refactored_implementation() -> bool:
    """Read the feature flag: ``True`` only for ``"true"`` (case-insensitive) or when it is unset.

    Returns:
        Whether the refactored implementation should run; every other value logs a warning and selects legacy.
    """
    value = os.environ.get(FEATURE_FLAG_VARIABLE, "true")
    normalized = value.lower()
    if normalized == "true":
        return True
    if normalized == "false":
        logger.warning(
            "Using LEGACY inventory sync implementation - refactored version disabled via feature flag",
            extra={"featureFlag": FEATURE_FLAG_VARIABLE, "value": value},
        )
    else:
        logger.warning(
            f"Unrecognised {FEATURE_FLAG_VARIABLE} value {value!r}: using LEGACY inventory sync implementation",
            extra={"featureFlag": FEATURE_FLAG_VARIABLE, "value": value},
        )
    return False


def handle_sync_source_server_inventory() -> dict[str, Any]:
    """Run the inventory sync the feature flag selects.

    Returns:
        The selected implementation's response.
    """
    if use_refactored_implementation():
        logger.info("Using refactored inventory sync implementation", extra={"featureFlag": FEATURE_FLAG_VARIABLE})
        return handle_sync_source_server_inventory_refactored()
    return handle_sync_source_server_inventory_legacy()


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point: dispatch ``{"operation": "sync_source_server_inventory"}``.

    Args:
        event: The invocation event; ``operation`` names what to do.
        context: The Lambda context (unused).

    Returns:
        The operation's response, or ``response(400, {"error": ...})`` for a missing or unknown operation.
    """
    operation = event.get("operation") if isinstance(event, dict) else None
    if operation == SYNC_OPERATION:
        return handle_sync_source_server_inventory()
    if operation is None:
        logger.warning("Invocation without an operation", extra={"eventType": type(event).__name__})
        return response(400, {"error": "Missing operation"})
    logger.warning("Unknown operation", extra={"operation": str(operation)})
    return response(400, {"error": f"Unknown operation: {operation}"})
