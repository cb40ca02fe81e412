"""Approved divergences: loading ``harness/approvals.yaml``, deciding when they apply, approving differences.

An approval applies to a scenario when its ``when`` condition holds for the scenario and the baseline run; it
approves a difference when, in addition, the candidate does what the approval promises (``requires``) and the
difference's path matches one of its ``covers`` patterns (whose own ``requires`` hold). The file's header documents
the format; :func:`applicable_approvals` is what the fuzzer uses to approve generated scenarios automatically.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.engine.model import APPROVED, UNAPPROVED, ApprovalUse, Difference, Observation, jsonable
from harness.engine.noise import written_values
from harness.scenario.approval_ids import DEFAULT_APPROVALS, ApprovalsFileError, approval_entries
from harness.scenario.model import TABLES, Scenario

#: Region scan outcomes after which the refactor may delete stale records of that region (AD-2).
SCANNED_STATES = ("ACTIVE", "NOT_INITIALIZED")
INVENTORY_WRITES = ("BatchWriteItem", "PutItem")


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


@dataclass
class Context:
    """What conditions and checks look at: the scenario and the runs (candidate absent for ``when``)."""

    scenario: Scenario
    baseline: Observation | None
    candidate: Observation | None = None
    notes: list[str] = field(default_factory=list)


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
        return Cover(item["path"], tuple(_requirement(r, f"{where}.requires") for r in item.get("requires") or []))
    raise ApprovalError(f"{where}: a cover is a path pattern or {{path, requires}}")


def _requirement(item: Any, where: str) -> dict[str, Any]:
    if isinstance(item, dict) and "check" in item:
        if item["check"] not in CHECKS:
            raise ApprovalError(f"{where}: unknown check {item['check']!r} (known: {', '.join(sorted(CHECKS))})")
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
    if _unset_variables(ctx.scenario):
        return False
    crash = ctx.baseline.exception if ctx.baseline else None
    read_none = (
        crash is not None and crash["type"] == _ZERO_ACCOUNTS_CRASH[0] and _ZERO_ACCOUNTS_CRASH[1] in crash["message"]
    )
    return not ctx.scenario.accounts or read_none


#: Table variables the sync cannot run without; DRS_REGION_STATUS_TABLE is optional (legacy falls back to 28 regions).
REQUIRED_TABLE_VARIABLES = tuple(variable for variable, _ in TABLES.values() if variable != "DRS_REGION_STATUS_TABLE")


def _unset_variables(scenario: Scenario) -> list[str]:
    return [
        variable
        for variable in REQUIRED_TABLE_VARIABLES
        if variable in scenario.environment and not scenario.environment[variable]
    ]


def _table_variable_unset(ctx: Context) -> bool:
    return bool(_unset_variables(ctx.scenario))


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
    if ctx.baseline is None:
        return False
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
    if not ctx.scenario.inventory:
        return False
    written = _inventory_keys_written(ctx.baseline) if ctx.baseline else set()
    return any(
        (record.get("sourceServerArn"), record.get("stagingAccountId")) not in written
        for record in ctx.scenario.inventory
    )


def _inventory_keys_written(observation: Observation) -> set[tuple[Any, Any]]:
    keys = set()
    for call in observation.mutating_calls:
        item = (call["params"].get("PutRequest") or {}).get("Item") or call["params"].get("Item")
        if call["table"] == "inventory" and item:
            keys.add((item.get("sourceServerArn"), item.get("stagingAccountId")))
    return keys


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


def _no_writes(ctx: Context) -> bool:
    candidate = ctx.candidate
    return candidate is not None and not candidate.mutating_calls and not candidate.region_status_writes


def _replaced_inventory_writes(observation: Observation) -> int:
    """Inventory writes of a run that landed and were then replaced by a different item of the same run.

    Two servers can share an inventory key (the same ARN and staging account, found by two accounts): both writes
    are real and synced, but the table keeps one item. A resent copy of the same item (unprocessed, retried) is one
    write, not two.
    """
    written = written_values(observation)
    return sum(len(items) - 1 for (table, _), items in written.items() if table == "inventory")


def _synced_equals_persisted(ctx: Context) -> bool:
    """The candidate's ``totalSynced`` equals the inventory writes it landed in this run: the items of this run in
    the table plus the writes a later write of the run replaced."""
    candidate = ctx.candidate
    if candidate is not None and candidate.exception is not None and not _raised_from_inventory_write(candidate):
        return True  # it raised from a later step (legacy raises there too): there are no counts to check
    body = (candidate.response or {}).get("body") if candidate and isinstance(candidate.response, dict) else None
    if not isinstance(body, dict) or "totalSynced" not in body:
        ctx.notes.append("candidate returned no totalSynced")
        return False
    persisted = sum(
        1 for item in candidate.tables.get("inventory", {}).values() if item.get("lastUpdated") == body.get("timestamp")
    )
    replaced = _replaced_inventory_writes(candidate)
    if body["totalSynced"] != persisted + replaced:
        also = f" (and {replaced} write(s) replaced by a later write of the run)" if replaced else ""
        ctx.notes.append(f"candidate reports totalSynced={body['totalSynced']} but persisted {persisted} item(s){also}")
        return False
    return True


def _error_names_unset_variable(ctx: Context) -> bool:
    candidate = ctx.candidate
    body = candidate.response.get("body") if candidate and isinstance(candidate.response, dict) else None
    text = str(body.get("error", "")) + str(body.get("message", "")) if isinstance(body, dict) else str(body)
    missing = [variable for variable in _unset_variables(ctx.scenario) if variable not in text]
    if missing:
        ctx.notes.append(f"candidate's error does not name {', '.join(missing)}")
    return not missing


def _scanned_regions(observation: Observation) -> set[tuple[Any, Any]]:
    """(account, region) pairs a run scanned successfully: its region-status rows say so; without a region-status
    table nothing records the scans, so they are read off its DRS calls (every page answered)."""
    if observation.region_status_writes:
        return {
            (write["item"].get("accountId"), write["item"].get("region"))
            for write in observation.region_status_writes
            if write["via"] == "BatchWriteItem" and write["item"].get("status") in SCANNED_STATES
        }
    failed = {
        (call["account"], call["region"])
        for call in observation.failed_calls
        if call["service"] == "drs" and call["attempts"][-1] != "ok"
    }
    asked = {
        (read["account"], read["region"])
        for read in observation.reads
        if read["service"] == "drs" and read["operation"] == "DescribeSourceServers"
    }
    return asked - failed


def _deletes_only_scanned_regions(ctx: Context) -> bool:
    """Every record the candidate deleted was seeded, and its account scanned its region successfully."""
    candidate = ctx.candidate
    if candidate is None:
        return False
    scanned = _scanned_regions(candidate)
    seeded = {(r.get("sourceServerArn"), r.get("stagingAccountId")): r for r in ctx.scenario.inventory}
    for key in _inventory_keys_deleted(candidate):
        record = seeded.get(key)
        if record is None:
            ctx.notes.append(f"candidate deleted {key}, which was not a pre-existing record")
            return False
        if (record.get("sourceAccountId"), record.get("replicationRegion")) not in scanned:
            ctx.notes.append(
                f"candidate deleted {key} of account {record.get('sourceAccountId')} region "
                f"{record.get('replicationRegion')}, which it did not scan successfully"
            )
            return False
    return True


def _inventory_keys_deleted(observation: Observation) -> list[tuple[Any, Any]]:
    keys = []
    for call in observation.mutating_calls:
        key = call["params"].get("Key") or (call["params"].get("DeleteRequest") or {}).get("Key")
        if call["table"] == "inventory" and key and call["operation"] in ("DeleteItem", "BatchWriteItem"):
            keys.append((key.get("sourceServerArn"), key.get("stagingAccountId")))
    return keys


def _last_failed_call(observation: Observation | None) -> dict[str, Any] | None:
    """The last call of a run whose final attempt failed (what a raising handler most likely raised from)."""
    failed = [call for call in (observation.failed_calls if observation else []) if call["attempts"][-1] != "ok"]
    return failed[-1] if failed else None


def _raised_from_inventory_write(observation: Observation | None) -> bool:
    """Whether a run raised out of an inventory ``BatchWriteItem`` (its message names it, or - for connection,
    timeout and credential errors, whose messages do not - its last failed call was one)."""
    if observation is None or observation.exception is None:
        return False
    if "BatchWriteItem" in observation.exception["message"]:
        return True
    last = _last_failed_call(observation)
    return last is not None and last["operation"] == "BatchWriteItem" and last.get("table") == "inventory"


def _baseline_raised_from_inventory_write(ctx: Context) -> bool:
    return _raised_from_inventory_write(ctx.baseline)


def _no_write_failure_escapes(ctx: Context) -> bool:
    """The candidate lets no inventory write failure escape (it may still raise from a later step, e.g. a failing
    cleanup scan, as legacy raises there)."""
    if ctx.candidate is None or _raised_from_inventory_write(ctx.candidate):
        ctx.notes.append("candidate let an inventory write failure escape")
        return False
    return True


def _raises_only_as_baseline(ctx: Context) -> bool:
    """The candidate raises nothing, or exactly what the baseline raised (an approval must not add a crash)."""
    candidate = ctx.candidate
    if candidate is None:
        return False
    if candidate.exception is None or (ctx.baseline is not None and candidate.exception == ctx.baseline.exception):
        return True
    ctx.notes.append(f"candidate raised {candidate.exception['type']} where the baseline did not raise the same")
    return False


CHECKS: dict[str, Callable[[Context], bool]] = {
    "no_writes": _no_writes,
    "raises_only_as_baseline": _raises_only_as_baseline,
    "baseline_raised_from_inventory_write": _baseline_raised_from_inventory_write,
    "no_write_failure_escapes": _no_write_failure_escapes,
    "synced_equals_persisted": _synced_equals_persisted,
    "error_names_unset_variable": _error_names_unset_variable,
    "deletes_only_scanned_regions": _deletes_only_scanned_regions,
}


def requirements_hold(requirements: Iterable[dict[str, Any]], ctx: Context) -> bool:
    """Whether every requirement holds; failed ones are explained in ``ctx.notes``."""
    ok = True
    for requirement in requirements:
        if "check" in requirement:
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
        for difference in differences:
            if difference.status == UNAPPROVED and _covers(approval, difference.path, ctx):
                difference.status, difference.approval = APPROVED, approval.id
                use.covered += 1
        if not use.covered:
            ctx.notes.append("no difference in this scenario matches what it covers")
    use.notes = list(dict.fromkeys(ctx.notes))
    return use


def _covers(approval: Approval, path: str, ctx: Context) -> bool:
    return any(
        cover.matches(path) and requirements_hold(cover.requires, Context(ctx.scenario, ctx.baseline, ctx.candidate))
        for cover in approval.covers
    )
