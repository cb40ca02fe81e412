"""Approved divergences: loading ``harness/approvals.yaml``, deciding when they apply, approving differences.

An approval applies to a scenario when its ``when`` condition holds for the scenario and the baseline run; it
approves a difference when, in addition, the candidate does what the approval promises (``requires``) and the
difference's path matches one of its ``covers`` patterns whose own ``requires`` hold for that difference. The checks
both name are in :mod:`harness.engine.checks` (judged against world truth); the file's header documents the format.
:func:`applicable_approvals` is what the fuzzer uses to approve generated scenarios automatically, with the same
checks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.engine.checks import CHECKS, DIFFERENCE_CHECKS, Context, unset_variables
from harness.engine.model import APPROVED, UNAPPROVED, ApprovalUse, Difference, Observation, jsonable
from harness.engine.oracles import INVENTORY_WRITES, inventory_puts, records_before, truth
from harness.scenario.approval_ids import DEFAULT_APPROVALS, ApprovalsFileError, approval_entries
from harness.scenario.model import Scenario

#: Region scan outcomes that mean a scan failed, in runs without world truth (hand-made observations).
SCANNED_STATES = ("ACTIVE", "NOT_INITIALIZED")
#: Notes kept per approval about differences a cover matched but its checks did not approve.
MAX_COVER_NOTES = 5

__all__ = ["CHECKS", "DIFFERENCE_CHECKS", "Approval", "ApprovalError", "Context", "Cover", "load_approvals"]


class ApprovalError(ValueError):
    """The approvals file is malformed, or a scenario references an approval that does not exist."""


@dataclass(frozen=True)
class Cover:
    """One ``covers`` entry: a path pattern and the checks that must hold for it to cover."""

    pattern: str
    requires: tuple[dict[str, Any], ...] = ()

    def matches(self, path: str) -> bool:
        """Whether the pattern matches the whole path (``*`` within one step, ``**`` anything)."""
        return _compile(self.pattern).fullmatch(path) is not None


@dataclass(frozen=True)
class Approval:
    """One approved divergence, as declared in the approvals file."""

    id: str
    title: str
    reason: str
    owner: str
    when: Any
    requires: tuple[dict[str, Any], ...] = ()
    covers: tuple[Cover, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON data for reports."""
        return {
            "id": self.id,
            "title": self.title,
            "reason": self.reason,
            "owner": self.owner,
            "when": self.when,
            "requires": list(self.requires),
            "covers": [cover.pattern for cover in self.covers],
        }


def _compile(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    depth = 0
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**", index):
            parts.append(".*")
            index += 2
            continue
        if char == "*":
            parts.append(r"[^\]]*" if depth else r"[^.\[\]]*")
        else:
            depth += {"[": 1, "]": -1}.get(char, 0)
            parts.append(re.escape(char))
        index += 1
    return re.compile("".join(parts))


# -- loading -----------------------------------------------------------------------------------------------------


def load_approvals(path: Path | str = DEFAULT_APPROVALS) -> dict[str, Approval]:
    """Read and check the approvals file.

    Args:
        path: The YAML file (default ``harness/approvals.yaml``).

    Returns:
        Approval id -> approval, in file order.

    Raises:
        ApprovalError: The file is missing or malformed (unknown predicate or check, missing field, duplicate id).
    """
    try:
        entries = approval_entries(path)
    except ApprovalsFileError as error:
        raise ApprovalError(str(error)) from None
    approvals: dict[str, Approval] = {}
    for position, entry in enumerate(entries):
        approval = _approval_from(entry, f"{path}: approvals[{position}]")
        if approval.id in approvals:
            raise ApprovalError(f"{path}: approval {approval.id} is declared twice")
        approvals[approval.id] = approval
    return approvals


@functools.cache
def default_approvals() -> dict[str, Approval]:
    """The shipped approvals file, read once per process (callers must not modify the mapping)."""
    return load_approvals(DEFAULT_APPROVALS)


def _approval_from(entry: Any, where: str) -> Approval:
    if not isinstance(entry, dict):
        raise ApprovalError(f"{where}: expected a mapping")
    missing = [key for key in ("id", "title", "reason", "owner", "when", "covers") if not entry.get(key)]
    if missing:
        raise ApprovalError(f"{where}: missing {', '.join(missing)}")
    _check_condition(entry["when"], f"{where}.when")
    requires = tuple(_requirement(item, f"{where}.requires") for item in entry.get("requires") or [])
    covers = tuple(_cover(item, f"{where}.covers") for item in entry["covers"])
    return Approval(
        id=str(entry["id"]),
        title=str(entry["title"]),
        reason=" ".join(str(entry["reason"]).split()),
        owner=str(entry["owner"]),
        when=entry["when"],
        requires=requires,
        covers=covers,
    )


def _cover(item: Any, where: str) -> Cover:
    if isinstance(item, str):
        return Cover(item)
    if isinstance(item, dict) and isinstance(item.get("path"), str):
        requires = tuple(_requirement(r, f"{where}.requires", per_difference=True) for r in item.get("requires") or [])
        return Cover(item["path"], requires)
    raise ApprovalError(f"{where}: a cover is a path pattern or {{path, requires}}")


def _requirement(item: Any, where: str, per_difference: bool = False) -> dict[str, Any]:
    if isinstance(item, dict) and "check" in item:
        known = {**CHECKS, **DIFFERENCE_CHECKS} if per_difference else CHECKS
        if item["check"] not in known:
            if item["check"] in DIFFERENCE_CHECKS:
                raise ApprovalError(f"{where}: check {item['check']!r} judges one difference: use it in a cover")
            raise ApprovalError(f"{where}: unknown check {item['check']!r} (known: {', '.join(sorted(known))})")
        return dict(item)
    if isinstance(item, dict) and isinstance(item.get("path"), str) and {"equals", "in", "contains"} & set(item):
        if item["path"].split(".", 1)[0] not in ("baseline", "candidate"):
            raise ApprovalError(f"{where}: requirement paths start with baseline. or candidate.")
        return dict(item)
    raise ApprovalError(f"{where}: a requirement is {{check: name}} or {{path, equals|in|contains}}")


def _check_condition(condition: Any, where: str) -> None:
    if isinstance(condition, str):
        if condition not in PREDICATES:
            raise ApprovalError(f"{where}: unknown predicate {condition!r} (known: {', '.join(sorted(PREDICATES))})")
        return
    if isinstance(condition, dict) and len(condition) == 1:
        ((operator, operand),) = condition.items()
        if operator in ("any", "all") and isinstance(operand, list):
            for item in operand:
                _check_condition(item, where)
            return
        if operator == "not":
            _check_condition(operand, where)
            return
    raise ApprovalError(f"{where}: a condition is a predicate name or {{any|all: [...]}} or {{not: ...}}")


# -- conditions (when) -------------------------------------------------------------------------------------------


#: What legacy raises when its account loop ran zero times (LB-9: ``acct_id`` is unbound in the cleanup).
_ZERO_ACCOUNTS_CRASH = ("UnboundLocalError", "acct_id")


def _no_target_accounts(ctx: Context) -> bool:
    """No target account was read: none seeded, or the baseline crashed the way zero accounts make it crash (an
    account scan answered with no items, e.g. a malformed body)."""
    if unset_variables(ctx.scenario):
        return False
    crash = ctx.baseline.exception if ctx.baseline else None
    read_none = (
        crash is not None and crash["type"] == _ZERO_ACCOUNTS_CRASH[0] and _ZERO_ACCOUNTS_CRASH[1] in crash["message"]
    )
    return not ctx.scenario.accounts or read_none


def _table_variable_unset(ctx: Context) -> bool:
    return bool(unset_variables(ctx.scenario))


def _inventory_write_failed(ctx: Context) -> bool:
    for fault in ctx.scenario.faults:
        if (
            fault.service == "dynamodb"
            and fault.table in (None, "inventory")
            and fault.operation
            in (
                None,
                *INVENTORY_WRITES,
            )
        ):
            return True
    failed = ctx.baseline.failed_calls if ctx.baseline else []
    return any(
        call["service"] == "dynamodb" and call["table"] == "inventory" and call["operation"] in INVENTORY_WRITES
        for call in failed
    )


def _region_scan_failed(ctx: Context) -> bool:
    """The world did not list some DRS the baseline asked completely (an error, a cut-off page...)."""
    if ctx.baseline is None:
        return False
    answers = truth(ctx.baseline).get("drsAnswers")
    if answers is not None:
        return not all(answer["complete"] for answer in answers)
    if any(call["service"] == "drs" for call in ctx.baseline.failed_calls):
        return True
    return any(
        write["via"] == "BatchWriteItem" and write["item"].get("status") not in SCANNED_STATES
        for write in ctx.baseline.region_status_writes
    )


def _account_skipped(ctx: Context) -> bool:
    failed = ctx.baseline.failed_calls if ctx.baseline else []
    return any(
        call["operation"] == "AssumeRole" and call["params"].get("RoleSessionName") == "inventory-sync"
        for call in failed
    )


def _stale_records(ctx: Context) -> bool:
    """Some record that existed before the run (the world's, else the scenario's) is one the baseline did not write
    again."""
    world = truth(ctx.baseline)
    if "inventoryBefore" in world:
        before = set(records_before(world))
    else:
        before = {(record.get("sourceServerArn"), record.get("stagingAccountId")) for record in ctx.scenario.inventory}
    puts = inventory_puts(ctx.baseline) if ctx.baseline is not None else []
    return bool(before - {(item.get("sourceServerArn"), item.get("stagingAccountId")) for item in puts})


def _multiple_accounts(ctx: Context) -> bool:
    return len(ctx.scenario.accounts) > 1


PREDICATES: dict[str, Callable[[Context], bool]] = {
    "no_target_accounts": _no_target_accounts,
    "table_variable_unset": _table_variable_unset,
    "inventory_write_failed": _inventory_write_failed,
    "region_scan_failed": _region_scan_failed,
    "account_skipped": _account_skipped,
    "stale_records": _stale_records,
    "multiple_accounts": _multiple_accounts,
}


def condition_holds(condition: Any, ctx: Context) -> bool:
    """Evaluate a ``when`` condition (a predicate name, or ``any``/``all``/``not`` of conditions)."""
    if isinstance(condition, str):
        return PREDICATES[condition](ctx)
    ((operator, operand),) = condition.items()
    if operator == "any":
        return any(condition_holds(item, ctx) for item in operand)
    if operator == "all":
        return all(condition_holds(item, ctx) for item in operand)
    return not condition_holds(operand, ctx)


# -- requirements (requires) -------------------------------------------------------------------------------------


def _view(observation: Observation | None) -> dict[str, Any]:
    if observation is None:
        return {}
    return {"response": jsonable(observation.response), "exception": observation.exception}


def _resolve(path: str, ctx: Context) -> tuple[bool, Any]:
    side, _, rest = path.partition(".")
    value: Any = _view(ctx.baseline if side == "baseline" else ctx.candidate)
    for step in rest.split(".") if rest else []:
        if not isinstance(value, dict) or step not in value:
            return False, None
        value = value[step]
    return True, value


def _path_requirement(requirement: dict[str, Any], ctx: Context) -> bool:
    found, value = _resolve(requirement["path"], ctx)
    if "equals" in requirement:
        return value == requirement["equals"] and (found or requirement["equals"] is None)
    if "in" in requirement:
        return found and value in requirement["in"]
    return found and isinstance(value, str) and str(requirement["contains"]) in value


def requirements_hold(
    requirements: Iterable[dict[str, Any]], ctx: Context, difference: Difference | None = None
) -> bool:
    """Whether every requirement holds (for ``difference``, when the requirements are a cover's); failed ones are
    explained in ``ctx.notes``."""
    ok = True
    for requirement in requirements:
        if "check" in requirement and requirement["check"] in DIFFERENCE_CHECKS:
            holds = difference is not None and DIFFERENCE_CHECKS[requirement["check"]](ctx, difference)
        elif "check" in requirement:
            holds = CHECKS[requirement["check"]](ctx)
        else:
            holds = _path_requirement(requirement, ctx)
            if not holds:
                _, value = _resolve(requirement["path"], ctx)
                expected = {k: v for k, v in requirement.items() if k != "path"}
                ctx.notes.append(f"{requirement['path']} is {value!r}, required {expected}")
        ok = ok and holds
    return ok


# -- applying ----------------------------------------------------------------------------------------------------


def applicable_approvals(
    scenario: Scenario, baseline: Observation | None, approvals: dict[str, Approval] | None = None
) -> list[Approval]:
    """The approvals whose ``when`` holds for this scenario and baseline run (what the fuzzer applies).

    Args:
        scenario: The scenario (possibly generated in memory).
        baseline: The primary baseline observation.
        approvals: The approvals to consider (default: the shipped file).

    Returns:
        The applicable approvals, in file order.
    """
    approvals = default_approvals() if approvals is None else approvals
    ctx = Context(scenario, baseline)
    return [approval for approval in approvals.values() if condition_holds(approval.when, ctx)]


def unknown_references(scenarios: Iterable[Scenario], approvals: dict[str, Approval]) -> list[str]:
    """One message per scenario approval reference that names no declared approval."""
    return [
        f"{scenario.source}: approval {ref} is not declared in the approvals file"
        for scenario in scenarios
        for ref in scenario.approvals
        if ref not in approvals
    ]


def apply_approvals(
    scenario: Scenario,
    baseline: Observation,
    candidate: Observation,
    differences: list[Difference],
    approvals: dict[str, Approval],
    automatic: bool = False,
) -> list[ApprovalUse]:
    """Mark the differences covered by an approval as approved, and say how each approval fared.

    Args:
        scenario: The scenario run.
        baseline: The primary baseline observation.
        candidate: The candidate observation.
        differences: Baseline-vs-candidate differences (noise already marked); updated in place.
        approvals: Every declared approval.
        automatic: Consider every applicable approval rather than only those the scenario references (fuzzing);
            automatic approvals are never stale.

    Returns:
        One :class:`ApprovalUse` per referenced approval (and, when automatic, per applicable one).

    Raises:
        ApprovalError: The scenario references an approval that is not declared.
    """
    unknown = unknown_references([scenario], approvals)
    if unknown:
        raise ApprovalError("; ".join(unknown))
    ids = list(scenario.approvals)
    if automatic:
        ids += [a.id for a in applicable_approvals(scenario, baseline, approvals) if a.id not in ids]
    return [_apply_one(approvals[i], i in scenario.approvals, scenario, baseline, candidate, differences) for i in ids]


def _apply_one(
    approval: Approval,
    referenced: bool,
    scenario: Scenario,
    baseline: Observation,
    candidate: Observation,
    differences: list[Difference],
) -> ApprovalUse:
    ctx = Context(scenario, baseline, candidate)
    applicable = condition_holds(approval.when, ctx)
    if not applicable:
        ctx.notes.append(f"its condition does not hold here: {approval.when}")
    candidate_ok = applicable and requirements_hold(approval.requires, ctx)
    use = ApprovalUse(id=approval.id, referenced=referenced, applicable=applicable, candidate_ok=candidate_ok)
    if candidate_ok:
        refused: list[str] = []
        for difference in differences:
            if difference.status == UNAPPROVED and _covers(approval, difference, ctx, refused):
                difference.status, difference.approval = APPROVED, approval.id
                use.covered += 1
        ctx.notes.extend(refused[:MAX_COVER_NOTES])
        if len(refused) > MAX_COVER_NOTES:
            ctx.notes.append(f"... and {len(refused) - MAX_COVER_NOTES} more difference(s) its checks did not approve")
        if not use.covered:
            ctx.notes.append("no difference in this scenario matches what it covers")
    use.notes = list(dict.fromkeys(ctx.notes))
    return use


def _covers(approval: Approval, difference: Difference, ctx: Context, refused: list[str]) -> bool:
    """Whether a cover matches the difference's path and its requirements hold for it. When a cover matched and its
    plain requirements held but its difference checks refused, their reasons go to ``refused``."""
    reasons: list[str] = []
    for cover in approval.covers:
        if not cover.matches(difference.path):
            continue
        local = Context(ctx.scenario, ctx.baseline, ctx.candidate)
        plain = [r for r in cover.requires if r.get("check") not in DIFFERENCE_CHECKS]
        if not requirements_hold(plain, local):
            continue
        if requirements_hold([r for r in cover.requires if r.get("check") in DIFFERENCE_CHECKS], local, difference):
            return True
        reasons.extend(local.notes)
    refused.extend(reasons)
    return False
