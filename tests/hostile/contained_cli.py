"""Running ``python -m harness`` on a hostile candidate: a child process with a memory cap and a kill timeout.

The kill timeout is the only use of wall-clock time (a hang fails the test instead of hanging the suite); no test
asserts how fast anything was. Peak memory is the child's peak resident set as ``wait4`` reports it (the largest of
the harness process and the contained runs it waited for).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: A harness process still running after this long is a hang: it is killed and the test fails. Only a hang guard,
#: never a speed check: a case takes a few seconds alone, but 40-60 s on the shared 2-core machine under a load of 9.
KILL_AFTER_S = 180.0
#: The issue's bound on memory, checked on the peak resident set.
PEAK_MEMORY_MB = 500
#: Address space of each process (virtual size exceeds what is resident; a runaway allocation fails at once).
ADDRESS_SPACE_BYTES = 1536 * 1024 * 1024
#: Seconds a contained run may take in these tests (``--timeout``): ample for a one-account world.
RUN_TIMEOUT_S = 5

SCENARIO = """\
name: {name}
description: one account, one region, no servers - a world legacy syncs in a moment
accounts:
  - accountId: "222222222222"
    roleArn: arn:aws:iam::222222222222:role/DRSOrchestrationRole
tables:
  activeRegions: [us-east-1]
{extra}"""


@dataclass(frozen=True)
class Ran:
    """What one harness process did: exit code, stdout, stderr, whether it was killed, peak memory."""

    code: int
    out: str
    err: str
    killed: bool
    peak_mb: float

    def assert_contained(self, code: int, *messages: str) -> None:
        """Exit ``code``, each message on stderr, no traceback, not killed, within the memory bound."""
        assert not self.killed, f"still running after {KILL_AFTER_S} s: {self.err[-2000:]}"
        assert self.code == code, f"exit {self.code}, expected {code}: {self.err[-3000:]}"
        for message in messages:
            assert message in self.err, self.err[-3000:]
        assert "Traceback" not in self.err, self.err[-3000:]
        assert self.peak_mb < PEAK_MEMORY_MB, f"peak {self.peak_mb:.0f} MB"


def write_scenario(directory: Path, name: str, environment: dict[str, str] | None = None) -> Path:
    """A one-account scenario file named after ``name`` (with an ``environment`` section when given)."""
    directory.mkdir(parents=True, exist_ok=True)
    extra = "environment:\n" + "".join(f'  {k}: "{v}"\n' for k, v in environment.items()) if environment else ""
    path = directory / f"{name}.yaml"
    path.write_text(SCENARIO.format(name=name, extra=extra), encoding="utf-8")
    return path


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_BYTES, ADDRESS_SPACE_BYTES))


def run_harness(*arguments: str, environment: dict[str, str] | None = None) -> tuple[Ran, int]:
    """Run ``python -m harness *arguments`` from the repository root; what it did, and its process id."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COV_", "COVERAGE_", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(environment or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "harness", *arguments],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
            preexec_fn=_cap_memory,  # noqa: PLW1509 - the test process starts it from one thread
        )
        killed = threading.Event()
        timer = threading.Timer(KILL_AFTER_S, lambda: (killed.set(), process.kill()))
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        ran = Ran(
            process.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            killed.is_set(),
            usage.ru_maxrss / 1024,
        )
    return ran, process.pid


def verdict(report_dir: Path) -> dict[str, Any]:
    """The ``verdict.json`` the run wrote."""
    return json.loads((report_dir / "verdict.json").read_text(encoding="utf-8"))
