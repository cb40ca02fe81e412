"""Generates ``docs/scenarios.md``: what the scenario library covers, straight from the scenario files.

The page is a pure function of ``scenarios/*.yaml`` (no world is built, so it is cheap to regenerate and to check):

* design error types come from each scenario's DRS faults (:func:`harness.engine.coverage.error_type_of`, the
  derivation the gate uses; a ``malformed`` DRS answer is no error at all, since botocore's rest-json parser reads a
  truncated 200 body as an empty page and the region is ACTIVE);
* legacy failure states come from the scenario's ``legacy-state:<STATE>`` tags - the gate derives states from the
  baseline run instead, and ``tests/harness/test_scenario_library.py`` runs legacy in every scenario with a DRS fault
  to prove each declaration equals what the baseline records;
* approvals come from ``approvals:``; the design's scenarios from ``design-comparison:<n>`` and
  ``design-acceptance:<n>`` tags.

Regenerate with ``python -m harness.report.coverage_doc``; ``--check`` exits 1 when the page is stale.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.engine.coverage import ERROR_TYPE_LABELS, ERROR_TYPES, LEGACY_STATES, error_type_of
from harness.scenario.loading import ScenarioError, load_scenarios
from harness.scenario.model import Scenario

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIOS = ROOT / "scenarios"
DEFAULT_OUTPUT = ROOT / "docs" / "scenarios.md"
APPROVAL_IDS = ("AD-1", "AD-2", "AD-3", "AD-4")

STATE_TAG = "legacy-state:"
ERROR_TYPE_TAG = "error-type:"
COMPARISON_TAG = "design-comparison:"
ACCEPTANCE_TAG = "design-acceptance:"

#: The design's comparison scenarios (Testing Strategy), by number.
DESIGN_COMPARISON = {
    1: "Single account, single region, no servers",
    2: "Single account, single region, multiple servers",
    3: "Single account, multiple regions, servers in each",
    4: "Multiple accounts, single region each",
    5: "Multiple accounts, multiple regions",
    6: "Account with failed role assumption",
    7: "Region with DRS AccessDeniedException",
    8: "Region with DRS ThrottlingException",
    9: "Servers with EC2 enrichment data",
    10: "Servers without EC2 enrichment data",
}
#: The design's acceptance scenarios (Acceptance Testing), by number; the "dev environment" is a scenario world.
DESIGN_ACCEPTANCE = {
    1: "Single account, no servers",
    2: "Single account, multiple servers (10 across 3 regions, enriched)",
    3: "Multiple accounts",
    4: "Region with AccessDeniedException",
    5: "Region with ThrottlingException",
    6: "Failed role assumption",
    7: "EC2 enrichment failure",
    8: "DynamoDB write failure",
    9: "All regions unavailable",
    10: "Large server count (1000+ across accounts)",
}

#: Legacy states no fault kind of the world can produce, with the reason. Empty since the fault layer gained the
#: ``credentials`` kind (REGION_NOT_ENABLED); a test builds a world with every DRS fault the schema allows and fails
#: when the library misses a state that world reaches, or when a state listed here turns out to be reachable.
KNOWN_GAPS: dict[str, str] = {}

#: Short column headings of the matrix.
_ERROR_HEADINGS = {
    "AccessDeniedException": "ADE",
    "UnrecognizedClientException": "UCE",
    "InvalidRequestException": "IRE",
    "ThrottlingException": "TE",
    "ServiceQuotaExceededException": "SQE",
    "InternalServerException": "ISE",
    "ClientError": "CE",
    "Exception": "EX",
}
_STATE_HEADINGS = {
    "NOT_INITIALIZED": "NI",
    "IAM_PERMISSION_DENIED": "IAM",
    "SCP_DENIED": "SCP",
    "THROTTLED": "THR",
    "REGION_NOT_OPTED_IN": "NOI",
    "ERROR": "ERR",
    "REGION_NOT_ENABLED": "RNE",
    "ENDPOINT_UNREACHABLE": "EU",
}
_MARK = "x"


@dataclass(frozen=True)
class Row:
    """What one scenario covers.

    Attributes:
        name: The scenario name (= file stem).
        description: What it proves.
        error_types: Design error types its DRS faults produce, in the design's order.
        states: Legacy failure states it declares (verified against the baseline by the library tests).
        approvals: Approved divergences it references.
        comparison: Numbers of the design's comparison scenarios it realises.
        acceptance: Numbers of the design's acceptance scenarios it realises.
        tags: Every tag, as written.
        expectation: The legacy baseline the scenario expects, in words.
    """

    name: str
    description: str
    error_types: tuple[str, ...]
    states: tuple[str, ...]
    approvals: tuple[str, ...]
    comparison: tuple[int, ...]
    acceptance: tuple[int, ...]
    tags: tuple[str, ...]
    expectation: str = ""


def tag_values(scenario: Scenario, prefix: str) -> list[str]:
    """The values of a scenario's ``prefix<value>`` tags, in tag order."""
    return [tag[len(prefix) :] for tag in scenario.tags if tag.startswith(prefix)]


def declared_states(scenario: Scenario) -> set[str]:
    """The legacy failure states a scenario declares with ``legacy-state:`` tags."""
    return set(tag_values(scenario, STATE_TAG))


def error_types(scenario: Scenario) -> set[str]:
    """The design error types a scenario's DRS faults make the query raise."""
    return {kind for kind in (error_type_of(fault) for fault in scenario.faults) if kind}


def row_of(scenario: Scenario) -> Row:
    """The coverage row of one scenario."""
    kinds = error_types(scenario)
    states = declared_states(scenario)
    return Row(
        name=scenario.name,
        description=" ".join(scenario.description.split()),
        error_types=tuple(kind for kind in ERROR_TYPES if kind in kinds),
        states=tuple(state for state in LEGACY_STATES if state in states),
        approvals=tuple(sorted(scenario.approvals)),
        comparison=tuple(sorted(int(n) for n in tag_values(scenario, COMPARISON_TAG))),
        acceptance=tuple(sorted(int(n) for n in tag_values(scenario, ACCEPTANCE_TAG))),
        tags=scenario.tags,
        expectation=expectation_text(scenario),
    )


def expectation_text(scenario: Scenario) -> str:
    """The scenario's ``expect`` block in words (what the legacy baseline must do there)."""
    expect = scenario.expect
    parts = []
    if expect.raises:
        parts.append(f"raises {expect.raises}")
    if expect.status_code is not None:
        parts.append(f"answers {expect.status_code}")
    parts += [f"{key} {json.dumps(value)}" for key, value in expect.body.items()]
    if expect.inventory_count is not None:
        parts.append(f"{expect.inventory_count} inventory rows after the run")
    return ", ".join(parts)


def library_rows(scenarios: Iterable[Scenario]) -> list[Row]:
    """Coverage rows of a whole library, sorted by scenario name."""
    return sorted((row_of(scenario) for scenario in scenarios), key=lambda row: row.name)


def _link(name: str) -> str:
    return f"[{name}](../scenarios/{name}.yaml)"


def _design_cell(row: Row) -> str:
    refs = [f"C{n}" for n in row.comparison] + [f"A{n}" for n in row.acceptance]
    return " ".join(refs)


def _matrix(rows: Sequence[Row]) -> list[str]:
    """The scenario x (error type, legacy state, approval) table, with a totals row."""
    headings = [*_ERROR_HEADINGS.values(), *_STATE_HEADINGS.values(), *APPROVAL_IDS]
    lines = [
        "| Scenario | Design | " + " | ".join(headings) + " |",
        "|---|---|" + "---|" * len(headings),
    ]
    for row in rows:
        marks = [_MARK if kind in row.error_types else "" for kind in _ERROR_HEADINGS]
        marks += [_MARK if state in row.states else "" for state in _STATE_HEADINGS]
        marks += [_MARK if approval in row.approvals else "" for approval in APPROVAL_IDS]
        lines.append(f"| {_link(row.name)} | {_design_cell(row)} | " + " | ".join(marks) + " |")
    totals = [str(sum(kind in row.error_types for row in rows)) for kind in _ERROR_HEADINGS]
    totals += [str(sum(state in row.states for row in rows)) for state in _STATE_HEADINGS]
    totals += [str(sum(approval in row.approvals for row in rows)) for approval in APPROVAL_IDS]
    lines.append(
        f"| **scenarios** | {sum(bool(row.comparison or row.acceptance) for row in rows)} | "
        + " | ".join(totals)
        + " |"
    )
    return lines


def _legend() -> list[str]:
    errors = ", ".join(f"{short} {ERROR_TYPE_LABELS.get(kind, kind)}" for kind, short in _ERROR_HEADINGS.items())
    states = ", ".join(f"{short} {state}" for state, short in _STATE_HEADINGS.items())
    return [
        f"Design error types (from the scenario's DRS faults; a malformed DRS answer raises nothing, a credentials "
        f"fault raises a non-ClientError): {errors}.",
        "",
        f"Legacy failure states (declared with `legacy-state:` tags, verified against the baseline by the library "
        f"tests): {states}.",
        "",
        "Approvals: the approved divergences of `harness/approvals.yaml` the scenario references. Design: C<n> / A<n> "
        "are the design's comparison / acceptance scenario numbers.",
    ]


def _covered_by(rows: Sequence[Row]) -> list[str]:
    """One line per error type, legacy state and approval: the scenarios covering it, or the gap."""
    lines = ["| Covered item | Scenarios |", "|---|---|"]
    columns: list[tuple[str, list[str]]] = []
    for kind in ERROR_TYPES:
        label = f"error type {ERROR_TYPE_LABELS.get(kind, kind)}"
        columns.append((label, [row.name for row in rows if kind in row.error_types]))
    for state in LEGACY_STATES:
        columns.append((f"legacy state {state}", [row.name for row in rows if state in row.states]))
    for approval in APPROVAL_IDS:
        columns.append((f"approval {approval}", [row.name for row in rows if approval in row.approvals]))
    for label, names in columns:
        cell = ", ".join(_link(name) for name in names) if names else "**none** (see Gaps)"
        lines.append(f"| {label} | {cell} |")
    return lines


def _design_map(rows: Sequence[Row]) -> list[str]:
    lines = ["| Design scenario | Title | Realised by |", "|---|---|---|"]
    sections = (("Comparison", DESIGN_COMPARISON, "comparison"), ("Acceptance", DESIGN_ACCEPTANCE, "acceptance"))
    for label, titles, attribute in sections:
        for number, title in titles.items():
            names = [row.name for row in rows if number in getattr(row, attribute)]
            cell = ", ".join(_link(name) for name in names) if names else "**missing**"
            lines.append(f"| {label} {number} | {title} | {cell} |")
    return lines


def _gaps(rows: Sequence[Row]) -> list[str]:
    covered = {state for row in rows for state in row.states}
    lines = []
    for state in LEGACY_STATES:
        if state not in covered:
            reason = KNOWN_GAPS.get(state, "no scenario declares it and no reason is recorded.")
            lines.append(f"- **{state}** is not reached by any scenario: {reason}")
    kinds = {kind for row in rows for kind in row.error_types}
    lines += [
        f"- **{kind}**: no scenario's DRS faults produce this error type." for kind in ERROR_TYPES if kind not in kinds
    ]
    return lines or ["None: every design error type and legacy failure state is covered."]


def _catalogue(rows: Sequence[Row]) -> list[str]:
    lines: list[str] = []
    for row in rows:
        lines += [f"### {row.name}", "", row.description, ""]
        if row.expectation:
            lines += [f"Legacy baseline: {row.expectation}.", ""]
        if row.approvals:
            lines += [f"Approvals: {', '.join(row.approvals)}.", ""]
        lines += [f"Tags: {', '.join(f'`{tag}`' for tag in row.tags)}", ""]
    return lines[:-1]


def render(scenarios: Iterable[Scenario]) -> str:
    """The whole ``docs/scenarios.md`` for a library (deterministic: same files, same text)."""
    scenarios = list(scenarios)
    rows = library_rows(scenarios)
    servers = sum(group.total for scenario in scenarios for group in scenario.servers)
    faults = sum(len(scenario.faults) for scenario in scenarios)
    lines = [
        "# Scenario library and coverage",
        "",
        "<!-- Generated by `python -m harness.report.coverage_doc` from scenarios/*.yaml. Do not edit by hand: "
        "tests/harness/test_scenario_library.py fails when this page is stale. -->",
        "",
        f"{len(rows)} scenarios ({servers} source servers, {faults} fault rules). Each is one simulated AWS world "
        "(`docs/scenario-format.md`); `python -m harness gate` runs every one through legacy twice and the refactor "
        "once. Regenerate this page with `python -m harness.report.coverage_doc`.",
        "",
        "## Coverage matrix",
        "",
        *_legend(),
        "",
        *_matrix(rows),
        "",
        "## Covered by",
        "",
        *_covered_by(rows),
        "",
        "## Gaps",
        "",
        *_gaps(rows),
        "",
        "## The design's scenarios",
        "",
        *_design_map(rows),
        "",
        "## Catalogue",
        "",
        *_catalogue(rows),
    ]
    return "\n".join(lines) + "\n"


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m harness.report.coverage_doc", description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default=str(DEFAULT_SCENARIOS), help="the scenario library directory")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="the page to write or check")
    parser.add_argument("--check", action="store_true", help="exit 1 if the page differs from what would be written")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with ``--check`` verify) the coverage page. Exit codes: 0 ok, 1 stale, 2 invalid scenarios."""

    args = _arguments(argv)
    try:
        text = render(load_scenarios([args.scenarios]))
    except ScenarioError as error:
        sys.stderr.write(f"{error}\n")
        return 2
    output = Path(args.output)
    current = output.read_text(encoding="utf-8") if output.exists() else None
    if args.check:
        if current != text:
            sys.stderr.write(f"{output} is stale: run python -m harness.report.coverage_doc\n")
            return 1
        return 0
    if current != text:
        output.write_text(text, encoding="utf-8")
        logger.info("wrote %s", output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
