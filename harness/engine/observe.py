"""Running one implementation in one fresh simulated world and recording what it did.

:func:`observe` is the only place the engine enters a :class:`~harness.world.World`. Everything the handler does
-- its return value or exception, ``print`` output, log records, AWS calls and the tables' final state -- is captured
and turned into an :class:`~harness.engine.model.Observation` with secrets redacted.

A scenario with ``invocations: N`` invokes the implementation N times in the same world, one after another, as a
warm Lambda is invoked (module caches survive; the world moves the clock forward between them). The observation's
``response``/``exception`` are the last invocation's, ``earlier_invocations`` the others'; calls are tagged with
their invocation. A scenario with ``entry.via: lambda_handler`` invokes the implementation's Lambda entry point with
the scenario's event (:func:`harness.engine.implementations.resolve_entry`).

A failure of the simulator itself (:mod:`harness.world.aws.crash`) marks the observation as a harness error whatever
the code under test did with it, and stops the run.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from harness.engine.implementations import Entry, qualified_name, resolve, resolve_entry
from harness.engine.model import Observation
from harness.engine.normalise import CallSplit, describe_exception, normalise_return, tables_by_key
from harness.redaction import CREDENTIAL_VARIABLES, redact, scrub_text
from harness.scenario.model import VIA_LAMBDA_HANDLER, Scenario
from harness.world.aws.crash import SimulatorCrash

logger = logging.getLogger(__name__)

#: Exceptions that mean the harness failed the code under test, not that the code failed: type name -> what happened.
HARNESS_EXCEPTIONS = {
    "UnmockedRequestError": "the harness refused a request",
    "NetworkRefusedError": "the harness refused a request",
    "ArtifactImportError": "the artifact cannot run in this environment",
}
#: Loggers of libraries, not of the code under test; their records are not captured.
_LIBRARY_LOGGERS = ("botocore", "boto3", "urllib3", "moto", "s3transfer", "harness", "werkzeug", "asyncio")


@dataclass(frozen=True)
class Implementation:
    """A handler to run: its ``package.module:function`` name, the callable (no arguments) and its Lambda entry.

    Attributes:
        name: ``package.module:function``.
        handler: The sync function.
        entry: The Lambda entry point ``(event, context)`` that reaches it, for ``entry.via: lambda_handler``
            scenarios; ``None`` resolves it from the handler (:func:`resolve_entry`).
    """

    name: str
    handler: Callable[[], Any]
    entry: Entry | None = None

    def lambda_entry(self) -> Entry:
        """The Lambda entry point of this implementation."""
        return self.entry or resolve_entry(self.name, self.handler)


def resolve_implementation(name: str) -> Implementation:
    """Resolve ``legacy``, ``refactored``, ``package.module:function`` or ``artifact:PATH:MODULE:FUNCTION``.

    Raises:
        ImplementationError: The name is malformed, the module cannot be imported, or the function is missing.
    """
    handler = resolve(name)
    return Implementation(qualified_name(name), handler, resolve_entry(name, handler))


def _is_library(record: logging.LogRecord) -> bool:
    return record.name.split(".", 1)[0] in _LIBRARY_LOGGERS


class _LogCapture(logging.Handler):
    """Collects the log records of the code under test (any thread) while a run lasts."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[dict[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if _is_library(record):
            return
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken log call must not break the observation
            message = str(record.msg)
        self.records.append({"stream": "log", "level": record.levelname, "logger": record.name, "message": message})


@contextlib.contextmanager
def _captured_output() -> Iterator[tuple[io.StringIO, _LogCapture]]:
    """Redirect ``print`` and collect INFO+ log records.

    The root logger is lowered to INFO for the run; the handlers already installed (the CLI's, pytest's) get a
    filter so they see only what they saw before, minus the records of the code under test, which are captured
    into the observation instead of spilling onto the terminal. Everything is restored afterwards.
    """
    stdout = io.StringIO()
    capture = _LogCapture()
    root = logging.getLogger()
    previous_level = root.level
    threshold = previous_level or logging.NOTSET

    def as_before(record: logging.LogRecord) -> bool:
        return record.levelno >= threshold and _is_library(record)

    others = list(root.handlers)
    for handler in others:
        handler.addFilter(as_before)
    root.addHandler(capture)
    root.setLevel(logging.INFO)
    try:
        with contextlib.redirect_stdout(stdout):
            yield stdout, capture
    finally:
        root.removeHandler(capture)
        root.setLevel(previous_level)
        for handler in others:
            handler.removeFilter(as_before)


def observe(scenario: Scenario, implementation: Implementation, variant: int = 0) -> Observation:
    """Run ``implementation`` once in a fresh world built from ``scenario`` and record everything it did.

    A failure of the harness itself (the world cannot be built, a request the harness refuses) is recorded in
    ``harness_error`` rather than raised; an exception of the handler is an observation like any other.

    Args:
        scenario: The world to build.
        implementation: The handler to run.
        variant: World variant (0 primary; 1 perturbs region completion order to expose timing noise).

    Returns:
        The redacted observation.
    """
    from harness.world.world import World, wall_clock  # keeps the pure engine importable without moto

    observation = Observation(implementation=implementation.name, variant=variant)
    try:
        with World(scenario, variant=variant) as world:
            secrets = _world_credentials()
            invoke = _invoker(scenario, implementation)
            with _captured_output() as (stdout, capture):
                started = wall_clock()
                with _warm(implementation.handler):
                    answers = _invocations(world, invoke, scenario.invocations)
                observation.wall_time_ms = (wall_clock() - started) * 1000
            _record_answers(observation, answers)
            _record_world(observation, world)
            _record_output(observation, stdout.getvalue(), capture.records)
            _redact(observation, secrets)
            failures = world.simulator_failures
    except (Exception, SimulatorCrash) as error:  # noqa: BLE001 - a harness failure becomes an error outcome
        detail = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=8)}"
        observation.harness_error = scrub_text(detail)
        return observation
    if failures:
        observation.harness_error = scrub_text("the simulator failed: " + "; ".join(failures), secrets)
    elif observation.exception and observation.exception["type"] in HARNESS_EXCEPTIONS:
        what = HARNESS_EXCEPTIONS[observation.exception["type"]]
        observation.harness_error = f"{what}: {observation.exception['message']}"
    return observation


def _world_credentials() -> tuple[str, ...]:
    """The world's own (fake) credentials, redacted like real ones so that runs compare equal."""
    return tuple(os.environ[name] for name in CREDENTIAL_VARIABLES if os.environ.get(name))


Answer = tuple[Any, dict[str, str] | None]


def _warm(handler: Callable[[], Any]) -> contextlib.AbstractContextManager[Any]:
    """The context in which a handler's invocations share one warm container (an artifact imports itself once)."""
    warm = getattr(handler, "warm", None)
    return warm() if callable(warm) else contextlib.nullcontext()


def _invoker(scenario: Scenario, implementation: Implementation) -> Callable[[], Any]:
    """What one invocation calls: the handler, or the Lambda entry point with (a fresh copy of) the event."""
    if scenario.entry.via != VIA_LAMBDA_HANDLER:
        return implementation.handler
    entry = implementation.lambda_entry()
    return lambda: entry(copy.deepcopy(scenario.entry.event), None)


def _invocations(world: Any, invoke: Callable[[], Any], count: int) -> list[Answer]:
    """Invoke ``count`` times in one world; a simulator crash ends the run (the world has recorded it)."""
    answers: list[Answer] = []
    for number in range(1, count + 1):
        world.begin_invocation(number)
        try:
            answers.append((normalise_return(invoke()), None))
        except (Exception, SystemExit) as error:  # noqa: BLE001 - the handler's exception is what we observe
            answers.append((None, describe_exception(error)))
        except SimulatorCrash as crash:
            answers.append((None, describe_exception(crash)))
            break
    return answers


def _record_answers(observation: Observation, answers: list[Answer]) -> None:
    """The last invocation's answer as ``response``/``exception``; the others by number, from 1."""
    observation.response, observation.exception = answers[-1]
    observation.earlier_invocations = {
        str(number): {"response": response, "exception": exception}
        for number, (response, exception) in enumerate(answers[:-1], start=1)
    }


def _record_world(observation: Observation, world: Any) -> None:
    split = CallSplit(world.calls, world.table_names)
    observation.region_status_writes = split.region_status_writes
    observation.mutating_calls = split.mutating_calls
    observation.reads = split.reads
    observation.failed_calls = split.failed_calls
    observation.tables = tables_by_key(world.table_snapshot(), world.table_key_names)
    observation.world_truth = world.truth()


def _record_output(observation: Observation, stdout: str, records: list[dict[str, str]]) -> None:
    observation.output = [{"stream": "stdout", "text": line} for line in stdout.splitlines()] + records


def _redact(observation: Observation, secrets: tuple[str, ...]) -> None:
    observation.response = redact(observation.response, secrets)
    observation.earlier_invocations = redact(observation.earlier_invocations, secrets)
    if observation.exception:
        observation.exception = {k: scrub_text(v, secrets) for k, v in observation.exception.items()}
    observation.tables = redact(observation.tables, secrets)
    observation.region_status_writes = redact(observation.region_status_writes, secrets)
    observation.mutating_calls = redact(observation.mutating_calls, secrets)
    observation.reads = redact(observation.reads, secrets)
    observation.failed_calls = redact(observation.failed_calls, secrets)
    observation.output = redact(observation.output, secrets)
