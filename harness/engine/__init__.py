"""The equivalence engine: observe baseline and candidate, normalise, compare, apply approvals, decide.

Modules: :mod:`~harness.engine.implementations` (naming what runs: ``legacy``, ``refactored`` or
``package.module:function``), :mod:`~harness.engine.model` (the JSON-serialisable result model),
:mod:`~harness.engine.observe` (one run in one world), :mod:`~harness.engine.normalise`,
:mod:`~harness.engine.compare`, :mod:`~harness.engine.noise` (what two baseline runs disagree on),
:mod:`~harness.engine.approvals`, :mod:`~harness.engine.runner`, :mod:`~harness.engine.coverage`,
:mod:`~harness.engine.reports` and :mod:`~harness.engine.commands` (``python -m harness run | gate``).

The names below are importable from ``harness.engine`` directly; they load lazily so that importing the package
(the CLI does, for ``--help``) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "run_scenario": "harness.engine.runner",
    "run_scenarios": "harness.engine.runner",
    "run_baselines": "harness.engine.runner",
    "evaluate": "harness.engine.runner",
    "observe": "harness.engine.observe",
    "resolve_implementation": "harness.engine.observe",
    "Implementation": "harness.engine.observe",
    "compare": "harness.engine.compare",
    "load_approvals": "harness.engine.approvals",
    "applicable_approvals": "harness.engine.approvals",
    "default_approvals": "harness.engine.approvals",
    "Approval": "harness.engine.approvals",
    "ApprovalError": "harness.engine.approvals",
    "coverage": "harness.engine.coverage",
    "scenario_coverage": "harness.engine.coverage",
    "write_report_dir": "harness.engine.reports",
    "register_report_writer": "harness.engine.reports",
    "Observation": "harness.engine.model",
    "Difference": "harness.engine.model",
    "ScenarioResult": "harness.engine.model",
    "RunResult": "harness.engine.model",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import an exported name on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'harness.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
