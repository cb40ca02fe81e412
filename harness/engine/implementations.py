"""Naming the implementations the harness runs: ``legacy``, ``refactored`` or any ``package.module:function``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

SHORT_NAMES = {
    "legacy": "legacy.inventory_sync:handle_sync_source_server_inventory_legacy",
    "refactored": "refactored.inventory_sync:handle_sync_source_server_inventory_refactored",
}

Handler = Callable[[], Any]


class ImplementationError(ValueError):
    """An implementation name that does not resolve to a callable; the message says why."""


def qualified_name(spec: str) -> str:
    """The ``package.module:function`` a short name stands for (other names are returned unchanged)."""
    return SHORT_NAMES.get(spec, spec)


def resolve(spec: str) -> Handler:
    """Import the handler an implementation name points at.

    Args:
        spec: ``legacy``, ``refactored`` or ``package.module:function``.

    Returns:
        The zero-argument handler.

    Raises:
        ImplementationError: When the name is malformed, the module cannot be imported or the attribute is missing
            or not callable.
    """
    target = qualified_name(spec)
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ImplementationError(f"{spec!r} is not 'legacy', 'refactored' or 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ImplementationError(f"cannot import module {module_name!r} for {spec!r}: {error}") from error
    handler = getattr(module, attribute, None)
    if handler is None:
        raise ImplementationError(f"module {module_name!r} has no attribute {attribute!r}")
    if not callable(handler):
        raise ImplementationError(f"{target!r} is not callable")
    return handler
