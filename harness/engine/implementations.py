"""Naming the implementations the harness runs.

* ``legacy`` and ``refactored``: the recreated production function and the refactor, in this repository.
* ``package.module:function``: any importable zero-argument handler (a mutant, a broken candidate...).
* ``artifact:PATH:MODULE:FUNCTION``: a deployed function's own code, a directory or a ``.zip`` (see
  :mod:`harness.engine.artifact`), imported afresh in every world.

``legacy`` and artifacts stand for production. Approvals explain how the refactor deliberately differs from
production, so between two versions of production (:func:`approvals_apply` false: an artifact against ``legacy``,
``legacy`` against itself) none applies and every difference counts.

Each implementation is a sync function (no arguments) and a **Lambda entry point** ``(event, context)`` that reaches
it, used by scenarios with ``entry.via: lambda_handler`` (:func:`resolve_entry`):

* ``refactored``: ``refactored.routing.lambda_handler``, the refactor's real entry point, so the operation dispatch and
  the ``USE_REFACTORED_INVENTORY_SYNC`` flag it reads are judged by the gate.
* a handler carrying a ``lambda_entry`` attribute (a candidate built for the purpose, e.g. a routing mutant): that.
* anything else, legacy and artifacts included: :func:`production_entry`, the entry point production runs today.
  Legacy has no ``lambda_handler`` of its own: production's Lambda routes the ``sync_source_server_inventory``
  operation to the legacy function and ignores the flag, which does not exist yet. That is the baseline an entry
  scenario is judged against, so the flag's values and the entry point are compared with what production answers
  today.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from harness.engine.artifact import ArtifactError, ArtifactHandler, is_artifact, resolve_artifact
from harness.scenario.model import SYNC_OPERATION

SHORT_NAMES = {
    "legacy": "legacy.inventory_sync:handle_sync_source_server_inventory_legacy",
    "refactored": "refactored.inventory_sync:handle_sync_source_server_inventory_refactored",
}
#: Accepted forms, for messages and ``--help``.
FORMS = "'legacy', 'refactored', 'package.module:function' or 'artifact:PATH:MODULE:FUNCTION'"
#: Implementations whose package has a Lambda entry point of its own.
ENTRY_POINTS = {SHORT_NAMES["refactored"]: "refactored.routing:lambda_handler"}

Handler = Callable[[], Any]
Entry = Callable[[Any, Any], Any]

#: Artifact handlers already checked in this process (forked workers inherit them, so only the parent checks).
_artifacts: dict[str, ArtifactHandler] = {}


class ImplementationError(ValueError):
    """An implementation name that does not resolve to a callable; the message says why."""


def qualified_name(spec: str) -> str:
    """The ``package.module:function`` a short name stands for (other names are returned unchanged)."""
    return SHORT_NAMES.get(spec, spec)


def is_production(spec: str) -> bool:
    """Whether a name stands for production's behaviour: ``legacy`` (its recreation) or a deployed artifact."""
    return qualified_name(spec) == SHORT_NAMES["legacy"] or is_artifact(spec)


def approvals_apply(baseline: str, candidate: str) -> bool:
    """Whether approved divergences may excuse differences between these two: not between two versions of production."""
    return not (is_production(baseline) and is_production(candidate))


def production_entry(handler: Handler) -> Entry:
    """Production's Lambda entry point today, routing the sync operation to ``handler`` (the flag does not exist).

    Scenario validation only admits events naming the sync operation: production's answer to any other operation
    belongs to other handlers and has no baseline here.
    """

    def lambda_handler(event: Any, context: Any) -> Any:  # noqa: ARG001 - the Lambda signature
        operation = event.get("operation") if isinstance(event, dict) else None
        if operation != SYNC_OPERATION:
            raise ImplementationError(f"production's entry point routes only {SYNC_OPERATION!r} to the sync")
        return handler()

    return lambda_handler


def resolve_entry(spec: str, handler: Handler) -> Entry:
    """The Lambda entry point that reaches an implementation (see the module docstring for the three cases)."""
    own = getattr(handler, "lambda_entry", None)
    if callable(own):
        return own
    target = ENTRY_POINTS.get(qualified_name(spec))
    if target is None:
        return production_entry(handler)
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def resolve(spec: str) -> Handler:
    """Import the handler an implementation name points at (an artifact: check it and return its fresh-import handler).

    Args:
        spec: One of :data:`FORMS`.

    Returns:
        The zero-argument handler.

    Raises:
        ImplementationError: When the name is malformed, the module cannot be imported, the attribute is missing or
            not callable, or the artifact cannot run here.
    """
    if is_artifact(spec):
        if spec not in _artifacts:
            try:
                _artifacts[spec] = resolve_artifact(spec)
            except ArtifactError as error:
                raise ImplementationError(str(error)) from error
        return _artifacts[spec]
    target = qualified_name(spec)
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ImplementationError(f"{spec!r} is not {FORMS}")
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
