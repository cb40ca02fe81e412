"""Mutation score as a standing measure: ``python -m harness mutate``.

A curated catalogue of single-change mutants of ``refactored/`` (:mod:`harness.mutation.catalogue`, the data in
``catalogue.yaml``), each run against the unit tests that cover the refactor and then the gate's scenarios
(:mod:`harness.mutation.runner`, the judging in a subprocess: :mod:`harness.mutation.worker`). Every mutant that is
not declared behaviour-preserving must be caught; every declared one must pass (no false alarm).
"""
