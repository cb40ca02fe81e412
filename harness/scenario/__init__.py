"""Scenarios: the YAML description of one simulated AWS world, from file to immutable model.

Modules: :mod:`~harness.scenario.model` (the immutable :class:`Scenario` and its parts, every default applied),
:mod:`~harness.scenario.loading` (YAML parsing, JSON Schema and semantic validation, all-or-nothing loading with
problems that name file, place and reason), ``schema.json`` (the JSON Schema, also for editors),
:mod:`~harness.scenario.errors` (the AWS error codes a fault may name) and :mod:`~harness.scenario.command`
(``python -m harness validate``).
"""

from harness.scenario.loading import ScenarioError, load_scenario, load_scenarios
from harness.scenario.model import Scenario, scenario_from_dict

__all__ = ["Scenario", "ScenarioError", "load_scenario", "load_scenarios", "scenario_from_dict"]
