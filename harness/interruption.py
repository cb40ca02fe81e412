"""SIGINT and SIGTERM, handled in one place: end the workers, unwind (removing temporaries), exit 130 or 143.

The CLI runs every command inside :func:`handling_signals`. On the first SIGINT or SIGTERM the handler

1. ends every child process: each callback registered with :func:`on_interrupt` runs (newest first), then every
   live :mod:`multiprocessing` child (the worker pool's, a scenario's child process) is terminated, and killed if it
   has not exited within :data:`CHILD_GRACE_SECONDS`;
2. raises :class:`Interrupted` in the main thread, so every ``with`` block unwinds: the report directory's staging
   directory and lock are released, a world restores the environment;
3. ignores any further SIGINT/SIGTERM while that unwinding runs, so cleanup is not cut short.

The CLI then prints one line and exits ``128 + signal number`` (130 for SIGINT, 143 for SIGTERM). Code that runs
the code under test in this process can call :func:`raise_if_interrupted` after it returns, in case the code under
test swallowed the exception (``except BaseException``).

Child processes must not handle these signals themselves (a worker would print its own traceback): processes started
by the harness call :func:`child_signals` first thing; the parent decides, and ends them.

This module imports nothing of the harness, so every part of it can use it.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

logger = logging.getLogger(__name__)

#: Signals that interrupt a command.
SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: How long a terminated child may take to exit before it is killed.
CHILD_GRACE_SECONDS = 2.0


class Interrupted(BaseException):  # noqa: N818 - named for what happened, like KeyboardInterrupt
    """Raised in the main thread when SIGINT or SIGTERM arrives during a command (see the module docstring)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {self.signal_name}")

    @property
    def signal_name(self) -> str:
        """``SIGINT`` or ``SIGTERM``."""
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process a signal ended."""
        return 128 + self.signum


class _State:
    received: int | None = None
    callbacks: list[Callable[[], None]] = []


@contextlib.contextmanager
def on_interrupt(callback: Callable[[], None]) -> Iterator[None]:
    """Run ``callback`` (e.g. ending processes this block started) if a signal interrupts the block."""
    _State.callbacks.append(callback)
    try:
        yield
    finally:
        _State.callbacks.remove(callback)


def end_children() -> None:
    """Terminate every live multiprocessing child of this process; kill those still alive after the grace period."""
    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    for child in children:
        child.join(CHILD_GRACE_SECONDS)
        if child.is_alive():
            child.kill()
            child.join(CHILD_GRACE_SECONDS)


def _handle(signum: int, _frame: FrameType | None) -> None:
    if _State.received is not None:
        return
    _State.received = signum
    for callback in reversed(_State.callbacks):
        try:
            callback()
        except Exception:  # noqa: BLE001 - the other callbacks and the workers must still be ended
            logger.exception("error while ending work after %s", signal.Signals(signum).name)
    end_children()
    raise Interrupted(signum)


def raise_if_interrupted() -> None:
    """Raise :class:`Interrupted` if a signal arrived (for code under test that swallowed the first raise)."""
    if _State.received is not None:
        raise Interrupted(_State.received)


@contextlib.contextmanager
def handling_signals() -> Iterator[None]:
    """Handle SIGINT and SIGTERM as the module docstring says while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _State.received = None
    previous = {signum: signal.signal(signum, _handle) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def child_signals() -> None:
    """In a worker process: ignore SIGINT (the parent decides); on SIGTERM (the parent ends it) run the callbacks
    registered with :func:`on_interrupt` (which end and reap the processes the worker started, so none outlives the
    harness) and exit at once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end_worker)
    _State.callbacks = []
    _State.received = None


def _end_worker(signum: int, _frame: FrameType | None) -> None:
    for callback in reversed(_State.callbacks):
        with contextlib.suppress(Exception):
            callback()
    os._exit(128 + signum)
