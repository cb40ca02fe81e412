"""Running the harness CLI as a hostile user would meet it: a child process with a memory cap and a kill timeout.

:func:`run_harness` starts ``python -m harness ...`` with its address space capped (:data:`MEMORY_CAP_BYTES`, so a
case that would blow up fails instead of swapping the machine) and kills it after :data:`TIMEOUT_SECONDS` (so a
hang fails the test instead of hanging the suite). It reports the exit code, the output, whether the timeout fired,
and the child's peak resident memory (``wait4``), which the tests hold to :data:`PEAK_MEMORY_MB`. The timeout is
the only use of wall-clock time, as a kill switch; no test asserts how fast anything was (``seconds`` is recorded
for people: with ``HOSTILE_TIMINGS=FILE`` set, every run appends one JSON line to FILE, e.g.
``HOSTILE_TIMINGS=/tmp/hostile.jsonl .venv/bin/pytest tests/hostile``). Cases about file modes run the child
``unprivileged``: when the tests run as root, the child drops the capabilities that let root ignore
file modes (``CAP_DAC_OVERRIDE``, ``CAP_DAC_READ_SEARCH``).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The issue's bound for each case. Alone on this machine every case takes well under it (the measured times are in
#: the issue-18 report); the kill switch below leaves room for a machine shared with other work, as the team's rule
#: against wall-clock thresholds in tests requires.
BOUND_SECONDS = 10.0
#: The kill switch of every case: a case still running then is a hang.
TIMEOUT_SECONDS = 3 * BOUND_SECONDS
#: The kill switch of a case that runs a scenario to the end (secrets, report swaps, signals): the refusal cases stop
#: before any world, these build worlds, and on a machine shared by four test suites (load above 10 on 2 cores) one
#: such run took 23 s, so the refusal cases' switch would call a slow machine a hang.
RUN_TIMEOUT_SECONDS = 4 * TIMEOUT_SECONDS
#: The issue's memory bound for each case, checked on the child's peak resident set.
PEAK_MEMORY_MB = 500
#: Address-space cap of the child: above the resident bound (virtual memory of an interpreter with moto loaded
#: exceeds what it touches), low enough that a runaway allocation fails at once.
MEMORY_CAP_BYTES = 1536 * 1024 * 1024


@dataclass(frozen=True)
class Ran:
    """What one harness process did."""

    code: int
    out: str
    err: str
    timed_out: bool
    peak_mb: float
    seconds: float = 0.0

    @property
    def lines(self) -> list[str]:
        """stderr's non-empty lines."""
        return [line for line in self.err.splitlines() if line.strip()]

    def assert_refused(self, code: int, message: str) -> None:
        """Exit ``code`` with ``message`` on stderr, no traceback, within the time and memory bounds."""
        assert not self.timed_out, f"still running at the kill switch ({self.seconds:.0f} s): {self.err[-2000:]}"
        assert self.code == code, f"exit {self.code}, expected {code}: {self.err[-3000:]}"
        assert message in self.err, self.err[-3000:]
        assert "Traceback" not in self.err, self.err[-3000:]
        assert self.peak_mb < PEAK_MEMORY_MB, f"peak {self.peak_mb:.0f} MB"


_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP_BYTES, MEMORY_CAP_BYTES))


def _drop_file_privileges() -> None:
    """Make file modes bind the child even when the tests run as root: drop the two capabilities that bypass them."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "cannot drop the capabilities that bypass file modes")


def _unprivileged() -> None:
    _cap_memory()
    _drop_file_privileges()


def file_modes_bind() -> bool:
    """Whether a child started with ``unprivileged=True`` is refused by file modes (root may lack CAP_SETPCAP)."""
    with tempfile.TemporaryDirectory() as scratch:
        os.chmod(scratch, 0)
        probe = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", f"import os; os.listdir({scratch!r})"],
            preexec_fn=_unprivileged,  # noqa: PLW1509 - single-threaded when it starts children
            capture_output=True,
            check=False,
        )
        os.chmod(scratch, 0o700)
    return probe.returncode != 0


def harness_environment(extra: Mapping[str, str] | None = None, home: Path | None = None) -> dict[str, str]:
    """The test process's environment for a harness child, without AWS or harness settings, plus ``extra``."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "HARNESS_", "COV_", "COVERAGE_", "PYTEST_"))
    }
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    if home is not None:
        environment["HOME"] = str(home)
    environment.update(extra or {})
    return environment


def start_harness(
    arguments: Sequence[str],
    *,
    environment: Mapping[str, str] | None = None,
    unprivileged: bool = False,
    new_session: bool = False,
    out: object = subprocess.PIPE,
    err: object = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """Start ``python -m harness *arguments`` from the repository root with the memory cap."""
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "harness", *arguments],
        cwd=ROOT,
        env=dict(environment) if environment is not None else harness_environment(),
        stdout=out,
        stderr=err,
        preexec_fn=_unprivileged if unprivileged else _cap_memory,  # noqa: PLW1509 - single-threaded when it starts
        start_new_session=new_session,
    )


def wait_for(process: subprocess.Popen[bytes], timeout: float = TIMEOUT_SECONDS) -> tuple[int, bool, float]:
    """Reap ``process`` (killing it after ``timeout``): its exit code, whether it was killed, its peak RSS in MB."""
    fired = threading.Event()

    def kill() -> None:
        fired.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, fired.is_set(), usage.ru_maxrss / 1024


def run_harness(
    arguments: Sequence[str],
    *,
    environment: Mapping[str, str] | None = None,
    unprivileged: bool = False,
    timeout: float = TIMEOUT_SECONDS,
) -> Ran:
    """Run ``python -m harness *arguments`` to completion (or the kill timeout) and report what it did."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = start_harness(arguments, environment=environment, unprivileged=unprivileged, out=out, err=err)
        code, timed_out, peak_mb = wait_for(process, timeout)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        output, errors = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    ran = Ran(code, output, errors, timed_out, peak_mb, seconds)
    _record(arguments, ran)
    return ran


def _record(arguments: Sequence[str], ran: Ran) -> None:
    """Append what one run measured to ``$HOSTILE_TIMINGS`` (for people; nothing asserts on it)."""
    timings = os.environ.get("HOSTILE_TIMINGS")
    if not timings:
        return
    test = os.environ.get("PYTEST_CURRENT_TEST", "").removesuffix(" (call)")
    line = {"test": test, "command": arguments[0], "code": ran.code, "seconds": round(ran.seconds, 2)}
    line["peak_mb"] = round(ran.peak_mb)
    with open(timings, "a", encoding="utf-8") as stream:
        stream.write(json.dumps(line) + "\n")
