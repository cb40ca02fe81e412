"""The gate stage of one mutant, run as ``python -m harness.mutation.worker`` inside the mutated copy.

The runner starts it with the copy first on the import path (``PYTHONPATH``, working directory the copy) and
``HARNESS_MUTANT_ROOT`` naming the copy. It first checks that ``refactored``, ``legacy``, ``lambda_shared`` and
``harness`` are imported from the copy (an editable install of the repository must not shadow it), then judges the
candidate ``refactored`` scenario by scenario against the baseline observations the runner made once for every
mutant (legacy is not mutated), stopping at the first scenario that would make the gate say NO-GO (divergent, in
error, or an approval it references left stale). When every scenario passes, the gate's other blockers (coverage
gaps, stale approvals) are checked too. The outcome is written as JSON to ``--result``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pickle  # noqa: S403 - the baselines file is written by this run's own parent process
import sys
from pathlib import Path
from typing import Any

#: Environment variable naming the mutated copy the worker must import from.
ROOT_VARIABLE = "HARNESS_MUTANT_ROOT"
#: Packages that must come from the copy.
COPIED_PACKAGES = ("refactored", "legacy", "lambda_shared", "harness")


def shadowing_problem(root: Path) -> str | None:
    """Why the code packages are not imported from ``root`` (``None`` when every one is)."""
    for name in COPIED_PACKAGES:
        module = importlib.import_module(name)
        location = Path(module.__file__ or "").resolve()
        if not location.is_relative_to(root.resolve()):
            return f"{name} is imported from {location.parent}, not from the mutated copy {root}"
    return None


def judge(scenario_paths: list[Path], baselines_file: Path, timeout_s: float) -> dict[str, Any]:
    """Run the candidate on each scenario in order; stop at the first that fails the gate.

    Returns:
        ``{"caught": bool, "by": str, "scenariosRun": int}``.
    """
    from harness.engine.approvals import load_approvals
    from harness.engine.isolation import Containment
    from harness.engine.model import DIVERGENT, ERROR
    from harness.engine.runner import run_scenario
    from harness.redaction import share_salt
    from harness.scenario.loading import load_scenarios
    from harness.world.world import warm_up

    with baselines_file.open("rb") as stream:
        saved = pickle.load(stream)  # noqa: S301 - written by this run's parent, never input from elsewhere
    share_salt(saved["salt"])  # the baselines' secrets were fingerprinted with the parent's salt
    baselines = saved["baselines"]
    approvals = load_approvals()
    scenarios = load_scenarios([str(path) for path in scenario_paths])
    containment = Containment(timeout_s)
    warm_up()
    results = []
    for scenario in scenarios:
        result = run_scenario(
            scenario, "legacy", "refactored", approvals, baselines=baselines[scenario.name], containment=containment
        )
        results.append(result)
        if result.status in (DIVERGENT, ERROR) or result.stale_approvals:
            return {"caught": True, "by": f"scenario {scenario.name}: {_why(result)}", "scenariosRun": len(results)}
    return {"caught": False, "by": "", "scenariosRun": len(results)}


def _why(result: Any) -> str:
    """One line: the outcome and its first reason."""
    if result.errors:
        return f"error: {result.errors[0].splitlines()[0][:300]}"
    if result.unapproved:
        return f"divergent: {result.unapproved[0].describe()[:300]}"
    return f"approval {', '.join(result.stale_approvals)} left stale"


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit 0 with the outcome written (or, with ``--check``, the copy imported first), 2 when the copy
    is shadowed or the arguments are unusable."""
    parser = argparse.ArgumentParser(prog="python -m harness.mutation.worker")
    parser.add_argument("--check", action="store_true", help="only check that the copy is imported first")
    parser.add_argument("--baselines", type=Path)
    parser.add_argument("--result", type=Path)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("scenarios", type=Path, nargs="*")
    args = parser.parse_args(argv)
    problem = shadowing_problem(Path(os.environ[ROOT_VARIABLE]))
    if problem:
        sys.stderr.write(f"error: {problem}\n")
        return 2
    if args.check:
        return 0
    if args.baselines is None or args.result is None or not args.scenarios:
        parser.error("--baselines, --result and at least one scenario are required")
    outcome = judge(args.scenarios, args.baselines, args.timeout)
    args.result.write_text(json.dumps(outcome), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
