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
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from harness.engine.implementations import Entry, ImplementationError, qualified_name, resolve, resolve_entry
from harness.engine.isolation import ChildFailure, Containment, run_in_child
from harness.engine.model import Observation, portable
from harness.engine.normalise import CallSplit, describe_exception, normalise_return, tables_by_key
from harness.redaction import CREDENTIAL_VARIABLES, redact, scrub_text
from harness.scenario.model import VIA_LAMBDA_HANDLER, Scenario
from harness.world.aws.crash import SimulatorCrash

logger = logging.getLogger(__name__)

#: Exceptions that mean the harness failed the code under test, not that the code failed: type name -> what happened.
HARNESS_EXCEPTIONS = {
    **dict.fromkeys(
        (
            "UnmockedRequestError",
            "RefusedError",
            "NetworkRefusedError",
            "ProcessRefusedError",
            "NativeCodeRefusedError",
        ),
        "the harness refused a request",
    ),
    "ArtifactImportError": "the artifact cannot run in this environment",
}
#: Seconds threads started by a run get to finish after the handler returned before they count as left running.
THREAD_GRACE_S = 1.0
#: Loggers of libraries, not of the code under test; their records are not captured.
_LIBRARY_LOGGERS = ("botocore", "boto3", "urllib3", "moto", "s3transfer", "harness", "werkzeug", "asyncio")


@dataclass(frozen=True)
class Implementation:
    """A handler to run: its ``package.module:function`` name, the callable (no arguments) and its Lambda entry.

    Without a callable, the module is imported when a run needs it, inside the run's world (and, for a contained
    run, inside its child process): see :func:`named_implementation`.

    Attributes:
        name: ``package.module:function``.
        handler: The sync function, or ``None`` to import it inside the run.
        entry: The Lambda entry point ``(event, context)`` that reaches it, for ``entry.via: lambda_handler``
            scenarios; ``None`` resolves it from the handler (:func:`resolve_entry`).
    """

    name: str
    handler: Callable[[], Any] | None = None
    entry: Entry | None = None

    def loaded(self) -> Implementation:
        """This implementation with its handler imported (here: call it inside the run's world).

        Raises:
            ImplementationError: The module cannot be imported or the function is missing.
        """
        return self if self.handler is not None else Implementation(self.name, resolve(self.name), self.entry)

    def lambda_entry(self) -> Entry:
        """The Lambda entry point of this implementation."""
        return self.entry or resolve_entry(self.name, self.loaded().handler)


def resolve_implementation(name: str) -> Implementation:
    """Resolve ``legacy``, ``refactored``, ``package.module:function`` or ``artifact:PATH:MODULE:FUNCTION``, here.

    Raises:
        ImplementationError: The name is malformed, the module cannot be imported, or the function is missing.
    """
    handler = resolve(name)
    return Implementation(qualified_name(name), handler, resolve_entry(name, handler))


def named_implementation(name: str) -> Implementation:
    """An implementation by name only: nothing is imported until a run imports it inside its world.

    The commands use this, having checked the name in a sandboxed child process
    (:func:`harness.engine.implementations.check_in_child`), so the code under test never runs in the harness's process.
    """
    return Implementation(qualified_name(name))


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


def observe(
    scenario: Scenario, implementation: Implementation, variant: int = 0, containment: Containment | None = None
) -> Observation:
    """Run ``implementation`` once in a fresh world built from ``scenario`` and record everything it did.

    A failure of the harness itself (the world cannot be built, a request the harness refuses) is recorded in
    ``harness_error`` rather than raised; an exception of the handler is an observation like any other. What a
    Lambda invocation must not do is recorded in ``harness_error`` too, so that its scenario is an error: calling
    ``sys.exit``, raising at import, leaving threads running after the handler returned, attempting to leave the
    world (see :mod:`harness.world.sandbox`), and, when contained, ending, hanging or crashing its process.

    Args:
        scenario: The world to build.
        implementation: The handler to run; without a handler, its module is imported inside the world.
        variant: World variant (0 primary; 1 perturbs region completion order to expose timing noise).
        containment: Run in a fresh child process with a timeout (:mod:`harness.engine.isolation`); ``None`` runs
            here, which contains nothing (threads left running outlive the world, an exit call ends this process).

    Returns:
        The redacted observation.
    """
    if containment is None:
        return _observe_here(scenario, implementation, variant)
    from harness.world.world import warm_up

    warm_up()
    try:
        return run_in_child(lambda: _observe_here(scenario, implementation, variant), containment.timeout_s)
    except ChildFailure as failure:
        return Observation(implementation=implementation.name, variant=variant, harness_error=f"the run {failure}")


def _observe_here(scenario: Scenario, implementation: Implementation, variant: int) -> Observation:
    from harness.world.world import World  # keeps the pure engine importable without moto

    observation = Observation(implementation=implementation.name, variant=variant)
    problems: list[str] = []
    try:
        with World(scenario, variant=variant) as world:
            secrets = _world_credentials()
            threads_before = set(threading.enumerate())
            with _captured_output() as (stdout, capture):
                problems += _run_handler(observation, world, scenario, implementation)
            problems += _threads_left_running(threads_before)
            _record_world(observation, world)
            _record_output(observation, stdout.getvalue(), capture.records)
            _redact(observation, secrets)
            failures = world.simulator_failures
            problems += ["the simulator failed: " + "; ".join(failures)] if failures else []
            problems += [world.refusals.summary()] if world.refusals.count else _harness_refusal(observation)
    except (Exception, SimulatorCrash) as error:  # noqa: BLE001 - a harness failure becomes an error outcome
        detail = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=8)}"
        observation.harness_error = scrub_text(detail)
        return observation
    if problems:
        observation.harness_error = scrub_text("; ".join(problems), secrets)
    return observation


def _world_credentials() -> tuple[str, ...]:
    """The world's own (fake) credentials, redacted like real ones so that runs compare equal."""
    return tuple(os.environ[name] for name in CREDENTIAL_VARIABLES if os.environ.get(name))


Answer = tuple[Any, dict[str, str] | None]


def _run_handler(observation: Observation, world: Any, scenario: Scenario, implementation: Implementation) -> list[str]:
    """Import (if needed) and invoke the handler; what a Lambda invocation must not do comes back as problems."""
    from harness.world.world import wall_clock

    try:
        loaded = implementation.loaded()
        invoke = _invoker(scenario, loaded)
    except ImplementationError as error:
        return [f"cannot load the handler: {error}"]
    except SystemExit as error:
        return [f"importing {implementation.name} called sys.exit({error.code!r})"]
    except Exception as error:  # noqa: BLE001 - an import that raises is reported, whatever it raises
        return [f"importing {implementation.name} raised {type(error).__name__}: {error}"]
    started = wall_clock()
    try:
        with _warm(loaded.handler):
            answers = _invocations(world, invoke, scenario.invocations)
    finally:
        observation.wall_time_ms = (wall_clock() - started) * 1000
    exits = [exception for _, exception in answers if exception and exception["type"] == "SystemExit"]
    if exits:
        return [f"the handler called sys.exit({exits[0]['code']})"]
    _record_answers(observation, answers)
    return []


def _warm(handler: Callable[[], Any] | None) -> contextlib.AbstractContextManager[Any]:
    """The context in which a handler's invocations share one warm container (an artifact imports itself once)."""
    warm = getattr(handler, "warm", None)
    return warm() if callable(warm) else contextlib.nullcontext()


def _invoker(scenario: Scenario, implementation: Implementation) -> Callable[[], Any]:
    """What one invocation calls: the handler, or the Lambda entry point with (a fresh copy of) the event."""
    if scenario.entry.via != VIA_LAMBDA_HANDLER:
        return implementation.loaded().handler  # type: ignore[return-value] - loaded() always holds a handler
    entry = implementation.lambda_entry()
    return lambda: entry(copy.deepcopy(scenario.entry.event), None)


def _invocations(world: Any, invoke: Callable[[], Any], count: int) -> list[Answer]:
    """Invoke ``count`` times in one world; a simulator crash or an exit call ends the run."""
    answers: list[Answer] = []
    for number in range(1, count + 1):
        world.begin_invocation(number)
        try:
            answers.append((portable(normalise_return(invoke())), None))
        except SystemExit as error:
            answers.append((None, {"type": "SystemExit", "code": repr(error.code)}))
            break
        except Exception as error:  # noqa: BLE001 - the handler's exception is what we observe
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


def _threads_left_running(before: set[threading.Thread]) -> list[str]:
    """Threads the run started that are still alive :data:`THREAD_GRACE_S` seconds after the handler returned."""
    from harness.world.world import wall_clock

    deadline = wall_clock() + THREAD_GRACE_S
    started = [thread for thread in threading.enumerate() if thread not in before]
    for thread in started:
        thread.join(max(0.0, deadline - wall_clock()))
    alive = [thread for thread in started if thread.is_alive()]
    if not alive:
        return []
    names = ", ".join(f"{thread.name!r}{' (daemon)' if thread.daemon else ''}" for thread in alive[:5])
    return [
        f"the handler returned but left {len(alive)} thread(s) running: {names}"
        " (a Lambda would resume them in its next invocation)"
    ]


def _harness_refusal(observation: Observation) -> list[str]:
    if observation.exception and observation.exception["type"] in HARNESS_EXCEPTIONS:
        return [f"{HARNESS_EXCEPTIONS[observation.exception['type']]}: {observation.exception['message']}"]
    return []


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
