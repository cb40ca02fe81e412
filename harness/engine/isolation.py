"""Contained runs: a piece of work in a fresh forked child process, with a timeout, its result read back as plain data.

The engine observes each implementation run in a child of its own (:func:`harness.engine.observe.observe` with a
:class:`Containment`), so whatever the code under test does ends with that child: ``sys.exit``/``os._exit``, a hang
(killed after the timeout), an abort or a segmentation fault, threads left running (they die with the child, so they
cannot write into the next world), an exception at import. The caller gets the child's result or a
:class:`ChildFailure` whose message says how the child ended; it never runs the code under test itself.

The child:

- is forked from a process that has already imported (and warmed, see :func:`harness.world.world.warm_up`) moto,
  boto3 and the harness, so it starts in milliseconds with everything loaded and shares the parent's random salt
  for fingerprints of secrets (two runs of one scenario must fingerprint a value alike); it freezes the inherited
  heap (:func:`gc.freeze`) so that its garbage collections do not copy every inherited page;
- leads its own process group (the timeout kills the group) and, on Linux, is killed when its parent dies;
- reads ``/dev/null``; its stdout and stderr go to a pipe the parent drains (the last lines explain a crash, and the
  code under test cannot write over the progress lines); ``faulthandler`` prints a traceback there on a fatal signal;
- closes every other file descriptor it inherited, so it cannot write into the parent's other channels (a worker
  pool's pipes, another child's result);
- runs the work inside a :func:`harness.world.sandbox.sandbox` for its whole life, so stray threads cannot reach
  the network or start processes after the world is gone either;
- sends ``("ok", value)`` or ``("raised", text)``, length-prefixed, on a pipe of its own and leaves with
  ``os._exit`` (no interpreter shutdown: non-daemon threads are not waited for).

The parent accepts a result only when the child exited with status 0 and the payload is complete, and decodes it with
an unpickler that builds nothing but plain data and the harness's observation classes (:data:`PORTABLE_CLASSES`),
so bytes a hostile child writes on that pipe can never execute code in the harness.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import fcntl
import gc
import io
import logging
import os
import pickle
import selectors
import signal
import struct
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.commandline import DEFAULT_TIMEOUT_S
from harness.interruption import on_interrupt
from harness.world.sandbox import sandbox

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: A result larger than this is refused (a 10,000-server world's observation is about 30 MB).
MAX_RESULT_BYTES = 512 * 1024 * 1024
#: How much of the child's own stdout/stderr is kept to explain a failure.
KEPT_OUTPUT_BYTES = 8 * 1024
#: Classes a child's result may contain besides dicts, lists, tuples, sets, strings, numbers, bytes and ``None``.
PORTABLE_CLASSES = frozenset(
    {
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "bytearray"),
        ("decimal", "Decimal"),
        ("boto3.dynamodb.types", "Binary"),
        ("harness.engine.model", "Observation"),
        ("harness.engine.model", "Opaque"),
    }
)
_LENGTH = struct.Struct(">Q")
_PR_SET_PDEATHSIG = 1
_EXIT_CHILD_BROKEN = 70

#: Process ids of the children running now (see :func:`kill_children`).
_children: set[int] = set()


@dataclass(frozen=True)
class Containment:
    """How contained runs are made: each in a fresh child process, killed after ``timeout_s`` seconds.

    Attributes:
        timeout_s: Seconds one run (world building, import, handler, recording) may take; the default,
            :data:`harness.commandline.DEFAULT_TIMEOUT_S` (120 s), is over ten times what the largest library
            scenario's runs take on a loaded two-core machine.
    """

    timeout_s: float = DEFAULT_TIMEOUT_S


class ChildFailure(Exception):
    """The child ended without a usable result; the message says how (timed out, exit status, signal, exception)."""


def live_children() -> frozenset[int]:
    """Process ids of the contained runs in progress in this process."""
    return frozenset(_children)


def kill_children() -> None:
    """Kill every contained run in progress, with its process group (for signal handlers).

    The caller waiting for each run still reaps it and reports it killed; a process that exits instead leaves its
    children, already dead, to be reaped by the system.
    """
    for pid in list(_children):
        _kill(pid)


def run_in_child(work: Callable[[], T], timeout_s: float) -> T:
    """Run ``work()`` in a fresh forked child process and return its result.

    Args:
        work: What to run; it is called in the child only (it need not be picklable, its result must be plain data
            or a :data:`PORTABLE_CLASSES` instance).
        timeout_s: Seconds before the child (and its process group) is killed.

    Returns:
        What ``work()`` returned in the child.

    Raises:
        ChildFailure: The child timed out, exited or was killed before returning a result, raised, or sent
            something that is not a complete, plain result.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()  # or the child would inherit, and write again, what is still buffered
    result_read, result_write = os.pipe()
    output_read, output_write = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        _child(work, parent, result_write, output_write)
    os.close(result_write)
    os.close(output_write)
    _children.add(pid)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)  # also done by the child: whichever runs first, the group exists before any kill
    try:
        with on_interrupt(lambda: _end(pid)):  # a signal ends the child (and its group) before the harness exits
            return _outcome(pid, result_read, output_read, timeout_s)
    finally:
        _end(pid)


def _end(pid: int) -> None:
    """Kill and reap a child that is still running (nothing when it was already reaped)."""
    if pid in _children:
        _kill(pid)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        _children.discard(pid)


# -- the parent's side -----------------------------------------------------------------------------------------------


def _outcome(pid: int, result_read: int, output_read: int, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    payload, output, complete = _drain(result_read, output_read, deadline)
    status = _reap(pid, deadline) if complete else None
    if status is None:
        raise ChildFailure(_with_output(f"timed out after {timeout_s:g} s (the process was killed)", output))
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        raise ChildFailure(_with_output(f"was killed by signal {_signal_name(-code)}", output))
    if not payload:
        raise ChildFailure(_with_output(f"exited with status {code} before returning a result", output))
    try:
        kind, value = _decode(payload)
    except Exception as error:  # noqa: BLE001 - any malformed payload is the same failure
        raise ChildFailure(_with_output(f"sent an unreadable result ({error})", output)) from None
    if code != 0:
        raise ChildFailure(_with_output(f"exited with status {code} after returning a result", output))
    if kind != "ok":
        raise ChildFailure(f"raised {value}")
    return value


def _drain(result_read: int, output_read: int, deadline: float) -> tuple[bytes, bytes, bool]:
    """Read both pipes until they close (complete) or the deadline passes; keep the output's tail only."""
    payload, output = bytearray(), bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(result_read, selectors.EVENT_READ, payload)
        selector.register(output_read, selectors.EVENT_READ, output)
        try:
            while selector.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return bytes(payload), bytes(output), False
                for key, _ in selector.select(remaining):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fd)
                        continue
                    key.data.extend(chunk)
                    if key.data is output and len(output) > KEPT_OUTPUT_BYTES:
                        del output[: len(output) - KEPT_OUTPUT_BYTES]
                    if len(payload) > MAX_RESULT_BYTES:
                        raise ChildFailure(f"sent a result larger than {MAX_RESULT_BYTES // 2**20} MiB")
        finally:
            os.close(result_read)
            os.close(output_read)
    return bytes(payload), bytes(output), True


def _reap(pid: int, deadline: float) -> int | None:
    """The child's wait status once it has exited, or ``None`` if it is still running at the deadline."""
    pause = 0.001
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            _children.discard(pid)
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _kill(pid: int) -> None:
    for kill, target in ((os.killpg, pid), (os.kill, pid)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(target, signal.SIGKILL)


class _PlainUnpickler(pickle.Unpickler):
    """Builds plain data and :data:`PORTABLE_CLASSES` only: nothing a payload names can run code here."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in PORTABLE_CLASSES:
            raise pickle.UnpicklingError(f"a result may not contain {module}.{name}")
        return super().find_class(module, name)


def _decode(payload: bytes) -> tuple[str, Any]:
    (length,) = _LENGTH.unpack_from(payload)
    if length != len(payload) - _LENGTH.size:
        raise ValueError(f"{len(payload) - _LENGTH.size} bytes instead of the {length} announced")
    kind, value = _PlainUnpickler(io.BytesIO(payload[_LENGTH.size :])).load()
    if kind not in ("ok", "raised"):
        raise ValueError(f"unknown result kind {kind!r}")
    return kind, value


def _with_output(message: str, output: bytes) -> str:
    """The message with the child's last output lines, or the start of faulthandler's report after a crash."""
    text = output.decode(errors="replace")
    crash = text.rfind("Fatal Python error")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    shown = [line.strip() for line in text[crash:].splitlines() if line.strip()][:3] if crash >= 0 else lines[-3:]
    return f"{message}; its last output: {' | '.join(shown)}" if shown else message


def _signal_name(number: int) -> str:
    try:
        return f"{signal.Signals(number).name} ({number})"
    except ValueError:
        return str(number)


# -- the child's side ------------------------------------------------------------------------------------------------


def _load_prctl() -> Callable[..., int] | None:
    """``prctl`` from the C library (Linux), looked up once in the parent; ``None`` elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_prctl = _load_prctl()


def _child(work: Callable[[], Any], parent: int, result_write: int, output_write: int) -> None:
    """The child process: contain itself, run ``work``, send the result, and leave without interpreter shutdown."""
    code = _EXIT_CHILD_BROKEN
    try:
        result_write = _detach(parent, result_write, output_write)
        with sandbox():
            try:
                payload = pickle.dumps(("ok", work()), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as error:  # noqa: BLE001 - whatever the work raised is reported to the parent
                text = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=6)}"
                payload = pickle.dumps(("raised", text), protocol=pickle.HIGHEST_PROTOCOL)
        _write_all(result_write, _LENGTH.pack(len(payload)) + payload)
        code = 0
    finally:
        _save_coverage()
        os._exit(code)


def _detach(parent: int, result_write: int, output_write: int) -> int:
    """Own process group, death with the parent, standard streams to the pipe, every other descriptor closed."""
    gc.freeze()  # the collector leaves the inherited heap alone: ~40% fewer copy-on-write page copies per run
    os.setpgid(0, 0)
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(_EXIT_CHILD_BROKEN)  # the parent died before the death signal was armed
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    result_write = fcntl.fcntl(result_write, fcntl.F_DUPFD, 3)
    output_write = fcntl.fcntl(output_write, fcntl.F_DUPFD, 3)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(output_write, 1)
    os.dup2(output_write, 2)
    os.closerange(3, result_write)
    os.closerange(result_write + 1, os.sysconf("SC_OPEN_MAX"))
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process's own streams, never closed
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    faulthandler.enable(2, all_threads=True)
    return result_write


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _save_coverage() -> None:
    """Under a coverage run, save what this child executed (``os._exit`` skips coverage's own exit hook)."""
    coverage = sys.modules.get("coverage")
    current = getattr(getattr(coverage, "Coverage", None), "current", None)
    cov = current() if current else None
    if cov is not None:
        with contextlib.suppress(Exception):
            cov.stop()
            cov.save()
