"""Differential fuzzing of the inventory sync: generated worlds, the equivalence engine, shrunk scenario files.

Modules: :mod:`~harness.fuzz.strategies` (Hypothesis strategies for whole scenario documents),
:mod:`~harness.fuzz.runner` (judging examples with the engine, the seeded search, the report),
:mod:`~harness.fuzz.writer` (a failing example as a scenario file) and :mod:`~harness.fuzz.command`
(``python -m harness fuzz``).
"""
