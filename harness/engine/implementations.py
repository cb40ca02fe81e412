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

import functools
import importlib
import logging
from collections.abc import Callable
from typing import Any

from harness.engine.artifact import (
    ArtifactError,
    ArtifactHandler,
    is_artifact,
    resolve_artifact,
    static_handler,
    trial_import,
)
from harness.engine.isolation import ChildFailure, run_in_child
from harness.scenario.model import SYNC_OPERATION

logger = logging.getLogger(__name__)

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
    return functools.partial(_production_lambda_handler, handler)  # a partial, not a closure: workers unpickle it


def _production_lambda_handler(handler: Handler, event: Any, context: Any) -> Any:  # noqa: ARG001 - Lambda signature
    """Production's routing of one invocation: the sync operation reaches ``handler``, nothing else has a baseline."""
    operation = event.get("operation") if isinstance(event, dict) else None
    if operation != SYNC_OPERATION:
        raise ImplementationError(f"production's entry point routes only {SYNC_OPERATION!r} to the sync")
    return handler()


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


def check_in_child(spec: str, timeout_s: float) -> str | None:
    """Why ``spec`` names no implementation, found without running any of its code in this process.

    The module is imported in a sandboxed child process (:mod:`harness.engine.isolation`), so an import that exits,
    hangs, crashes or reaches for the network cannot affect the caller. Only what makes the name unusable is
    reported: a malformed name, a module that cannot be found (``ImportError``), a missing or non-callable attribute;
    for an artifact, every :class:`~harness.engine.artifact.ArtifactError` (its static checks are made here, its trial
    import in the child, and the checked handler is kept for the runs, which children forked later inherit).
    Anything else an import does (raising another exception, exiting, hanging) is left to the runs, which report it
    for each scenario.

    Args:
        spec: One of :data:`FORMS`.
        timeout_s: Seconds the import may take.

    Returns:
        The reason, or ``None`` when the name resolves (or fails only in a way a run reports).
    """
    if is_artifact(spec):
        try:
            handler = _artifacts.get(spec) or static_handler(spec)
        except ArtifactError as error:
            return str(error)
        problem = _in_child(lambda: _attempt(trial_import, handler, ArtifactError), spec, timeout_s)
        if problem is None:
            _artifacts[spec] = handler
        return problem
    return _in_child(lambda: _attempt(resolve, spec, ImplementationError), spec, timeout_s)


def _attempt(check: Callable[[Any], Any], argument: Any, error: type[Exception]) -> str | None:
    try:
        check(argument)
    except error as failure:
        return str(failure)
    return None


def _in_child(attempt: Callable[[], str | None], spec: str, timeout_s: float) -> str | None:
    try:
        return run_in_child(attempt, timeout_s)
    except ChildFailure as failure:
        logger.debug("checking %s: the import %s; the runs will report it", spec, failure)
        return None
