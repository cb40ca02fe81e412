"""Run the catalogue: each mutant in a pristine copy of the code with its one change, judged by tests and the gate.

Per run: every selected mutant is checked to still apply (else the catalogue entry is stale: bad input, nothing
runs); the baseline (legacy, which no mutant changes) is observed once per scenario; the repository's code packages
are copied once into a temporary template, and the template is checked to shadow the installed (editable) package.
Per mutant: a copy of the template with the change applied; the unit tests that cover ``refactored/`` run there
(``pytest -x``, in a subprocess whose import path starts with the copy); if they pass, the gate stage
(:mod:`harness.mutation.worker`) judges the candidate scenario by scenario and stops at the first NO-GO. A mutant
is ``caught`` (by the named test or scenario), ``survived``, ``equivalent`` (declared, and it passed) or a
``false-alarm`` (declared equivalent, yet caught).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import pickle  # noqa: S403 - baselines travel to this run's own workers
import re
import shutil
import signal
import subprocess  # noqa: S404 - the mutants run in subprocesses by design
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.engine.isolation import Containment
from harness.engine.runner import run_baselines
from harness.interruption import child_signals, on_interrupt, raise_if_interrupted
from harness.mutation.catalogue import Catalogue, Mutant
from harness.mutation.worker import ROOT_VARIABLE
from harness.redaction import fingerprint_salt
from harness.scenario.model import Scenario

logger = logging.getLogger(__name__)

#: The repository root (the parent of ``harness/``).
REPOSITORY = Path(__file__).resolve().parents[2]
#: What the copy holds: the code packages, the tests and what they read.
COPIED = (
    "legacy",
    "refactored",
    "lambda_shared",
    "harness",
    "tests",
    "scenarios",
    "docs",
    "conftest.py",
    "pyproject.toml",
)
#: Seconds the unit-test stage of one mutant may take before it counts as caught (a mutant that hangs the tests).
UNIT_STAGE_TIMEOUT_S = 1800.0
#: Seconds the gate stage may take, per scenario of the library.
GATE_STAGE_TIMEOUT_PER_SCENARIO_S = 60.0

CAUGHT, SURVIVED, EQUIVALENT, FALSE_ALARM = "caught", "survived", "equivalent", "false-alarm"
_FAILED_LINE = re.compile(r"^(FAILED|ERROR) (\S+)", re.MULTILINE)


class MutationSetupError(Exception):
    """The run cannot judge mutants (the copy is shadowed by an installed package, a stage cannot start)."""


@dataclass
class MutantOutcome:
    """What happened to one mutant.

    Attributes:
        mutant: The catalogue entry.
        status: :data:`CAUGHT`, :data:`SURVIVED`, :data:`EQUIVALENT` or :data:`FALSE_ALARM`.
        stage: ``unit tests``, ``gate`` or ``""`` (passed both).
        by: What caught it (a test id, ``scenario <name>: ...``), or ``""``.
        duration_s: Wall time of its stages.
        scenarios_run: Scenarios the gate stage judged.
    """

    mutant: Mutant
    status: str
    stage: str = ""
    by: str = ""
    duration_s: float = 0.0
    scenarios_run: int = 0

    @property
    def ok(self) -> bool:
        """Whether the outcome is the one the catalogue asks for."""
        return self.status in (CAUGHT, EQUIVALENT)

    def to_dict(self) -> dict[str, Any]:
        """The outcome in ``mutation.json``."""
        mutant = self.mutant
        return {
            "id": mutant.id,
            "file": mutant.file,
            "category": mutant.category,
            "description": mutant.description,
            "equivalent": mutant.equivalent,
            "reason": mutant.reason or None,
            "status": self.status,
            "stage": self.stage or None,
            "by": self.by or None,
            "scenariosRun": self.scenarios_run,
            "durationS": round(self.duration_s, 1),
        }


@dataclass
class MutationRun:
    """Every outcome of one run, in catalogue order."""

    outcomes: list[MutantOutcome] = field(default_factory=list)
    duration_s: float = 0.0
    command: str = ""

    def count(self, status: str) -> int:
        """How many outcomes have ``status``."""
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def score(self) -> str:
        """``caught/non-equivalent`` as a fraction and a percentage."""
        judged = [o for o in self.outcomes if not o.mutant.equivalent]
        caught = sum(1 for o in judged if o.status == CAUGHT)
        percent = 100.0 * caught / len(judged) if judged else 100.0
        return f"{caught}/{len(judged)} non-equivalent mutants caught ({percent:.0f}%)"

    @property
    def ok(self) -> bool:
        """No survivor and no false alarm."""
        return all(outcome.ok for outcome in self.outcomes)


@dataclass(frozen=True)
class MutationOptions:
    """What ``python -m harness mutate`` was asked to do."""

    catalogue: Catalogue
    mutants: list[Mutant]
    scenarios: list[Scenario]
    jobs: int = 1
    timeout_s: float = 120.0
    progress: Callable[[str], None] = field(default=lambda line: None)


def run_mutation(options: MutationOptions) -> MutationRun:
    """Judge every mutant of ``options`` (see the module docstring).

    Raises:
        MutationSetupError: The copy would be shadowed by an installed package, or a stage cannot start.
    """
    started = time.monotonic()
    scenarios = sorted(options.scenarios, key=_size)
    with tempfile.TemporaryDirectory(prefix="harness-mutate-") as scratch:
        work = Path(scratch)
        template = work / "pristine"
        copy_code(REPOSITORY, template)
        _check_not_shadowed(template)
        options.progress(f"baselines: legacy on {len(scenarios)} scenario(s), once for every mutant")
        baselines_file = work / "baselines.pickle"
        with baselines_file.open("wb") as stream:
            # Secrets in observations are salted fingerprints: the worker fingerprints with this process's salt.
            baselines = observe_baselines(scenarios, options.jobs, options.timeout_s)
            pickle.dump({"salt": fingerprint_salt(), "baselines": baselines}, stream)
        run = MutationRun()
        done = 0
        total = len(options.mutants)
        with ThreadPoolExecutor(max_workers=options.jobs) as pool:
            futures = {
                pool.submit(_judge_mutant, mutant, options, template, work, baselines_file, scenarios): index
                for index, mutant in enumerate(options.mutants)
            }
            results: dict[int, MutantOutcome] = {}
            try:
                for future in as_completed(futures):
                    outcome = future.result()
                    results[futures[future]] = outcome
                    done += 1
                    options.progress(_progress_line(outcome, done, total, time.monotonic() - started))
            except BaseException:  # interrupted, or a stage could not start: judge no further mutant
                for future in futures:
                    future.cancel()
                raise
        run.outcomes = [results[index] for index in range(total)]
    run.duration_s = time.monotonic() - started
    return run


def _size(scenario: Scenario) -> tuple[int, int, str]:
    """Smallest worlds first: a mutant most scenarios catch is caught cheaply."""
    return (sum(group.total for group in scenario.servers), len(scenario.accounts), scenario.name)


def _progress_line(outcome: MutantOutcome, done: int, total: int, elapsed: float) -> str:
    eta = elapsed / done * (total - done)
    by = f" by {outcome.by}" if outcome.by else ""
    return (
        f"[{done}/{total}] {outcome.mutant.id}: {outcome.status}{by} ({outcome.duration_s:.0f}s;"
        f" elapsed {elapsed:.0f}s, ETA {eta:.0f}s)"
    )


def copy_code(source: Path, destination: Path) -> None:
    """Copy the repository's code packages, tests and scenarios (no caches, no virtualenv) to ``destination``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    destination.mkdir(parents=True)
    for name in COPIED:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, destination / name, ignore=ignore)
        elif path.is_file():
            shutil.copy2(path, destination / name)


def mutant_environment(root: Path) -> dict[str, str]:
    """The environment of a mutant's subprocesses: the copy first on the import path, no coverage collection."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COV_CORE_", "COVERAGE_")) and key != "PYTHONPATH"
    }
    environment.update({"PYTHONPATH": str(root), ROOT_VARIABLE: str(root), "PYTHONDONTWRITEBYTECODE": "1"})
    return environment


def _check_not_shadowed(root: Path) -> None:
    """Fail when a subprocess started the way mutants are would import the code from anywhere but ``root``."""
    probe = [sys.executable, "-m", "harness.mutation.worker", "--check"]
    code, output = run_stage(probe, root, 120.0)
    if code != 0:
        raise MutationSetupError(f"the mutated copy cannot be imported first: {output.strip()[-500:]}")


def observe_baselines(scenarios: list[Scenario], jobs: int, timeout_s: float) -> dict[str, Any]:
    """Scenario name -> (primary, secondary) legacy observations, made once for every mutant."""
    containment = Containment(timeout_s)
    if jobs <= 1:
        return {scenario.name: run_baselines(scenario, "legacy", containment) for scenario in scenarios}
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=child_signals) as pool:
        futures = {pool.submit(run_baselines, scenario, "legacy", containment): scenario for scenario in scenarios}
        return {futures[future].name: future.result() for future in as_completed(futures)}


def _judge_mutant(
    mutant: Mutant,
    options: MutationOptions,
    template: Path,
    work: Path,
    baselines_file: Path,
    scenarios: list[Scenario],
) -> MutantOutcome:
    raise_if_interrupted()
    started = time.monotonic()
    root = work / mutant.id
    shutil.copytree(template, root)
    try:
        mutant.apply(root)
        stage, by, run_count = _caught_by(mutant, options, root, baselines_file, scenarios)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    caught = bool(by)
    if mutant.equivalent:
        status = FALSE_ALARM if caught else EQUIVALENT
    else:
        status = CAUGHT if caught else SURVIVED
    return MutantOutcome(mutant, status, stage, by, time.monotonic() - started, run_count)


def _caught_by(
    mutant: Mutant, options: MutationOptions, root: Path, baselines_file: Path, scenarios: list[Scenario]
) -> tuple[str, str, int]:
    """(stage, what caught the mutant, scenarios judged); ``by`` is empty when nothing did."""
    tests = [*options.catalogue.unit_tests]
    command = [sys.executable, "-m", "pytest", *tests, "-x", "-q", "-p", "no:cacheprovider", "--no-cov"]
    code, output = run_stage(command, root, UNIT_STAGE_TIMEOUT_S)
    if code != 0:
        return "unit tests", _failed_test(code, output), 0
    ordered = _gate_order(mutant, scenarios)
    result_file = root / "gate-result.json"
    command = [
        sys.executable,
        "-m",
        "harness.mutation.worker",
        "--baselines",
        str(baselines_file),
        "--result",
        str(result_file),
        "--timeout",
        str(options.timeout_s),
        *[str(Path(scenario.source).resolve()) for scenario in ordered],
    ]
    code, output = run_stage(command, root, GATE_STAGE_TIMEOUT_PER_SCENARIO_S * len(ordered))
    if code is None:
        return "gate", "the gate stage timed out", 0
    if code != 0 or not result_file.is_file():
        raise MutationSetupError(f"mutant {mutant.id}: the gate stage failed (exit {code}): {output.strip()[-800:]}")
    outcome = json.loads(result_file.read_text(encoding="utf-8"))
    return ("gate" if outcome["caught"] else ""), outcome["by"], outcome["scenariosRun"]


def _gate_order(mutant: Mutant, scenarios: list[Scenario]) -> list[Scenario]:
    """The scenarios the mutant names first (in its order), then the rest smallest first."""
    by_name = {scenario.name: scenario for scenario in scenarios}
    first = [by_name[name] for name in mutant.scenarios if name in by_name]
    return first + [scenario for scenario in scenarios if scenario not in first]


def _failed_test(code: int | None, output: str) -> str:
    """The test that failed first, from pytest's summary (or why pytest ended)."""
    if code is None:
        return "the unit tests timed out"
    match = _FAILED_LINE.search(output)
    if match:
        return f"test {match[2]}" + (" (error)" if match[1] == "ERROR" else "")
    return f"pytest exit {code}: {output.strip().splitlines()[-1][:300] if output.strip() else 'no output'}"


def run_stage(command: list[str], root: Path, timeout_s: float) -> tuple[int | None, str]:
    """Run one stage in ``root`` with the copy first on the import path; (exit code or ``None`` on timeout, output).

    The stage runs in a session of its own, so a timeout or an interruption ends every process it started.
    """
    with _stage(command, root) as process:
        try:
            output, _ = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _end_group(process.pid)
            output, _ = process.communicate()
            return None, output
    return process.returncode, output


@contextmanager
def _stage(command: list[str], root: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter on our own modules
        command,
        cwd=root,
        env=mutant_environment(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        with on_interrupt(lambda: _end_group(process.pid)):
            yield process
    finally:
        if process.poll() is None:
            _end_group(process.pid)
            process.wait()


def _end_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
