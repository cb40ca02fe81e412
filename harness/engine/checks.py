"""What an approval requires of the candidate: the checks of ``harness/approvals.yaml``, judged against world truth.

Two kinds of checks, both named in the approvals file as ``{check: name}``:

* **Approval checks** (:data:`CHECKS`, ``requires`` of an approval or of a cover) look at the whole run: the
  candidate raises only as the baseline did, loses no record whose server exists, has every server of a DRS listing
  the world answered completely in its inventory, reports counts equal to what the tables hold...
* **Difference checks** (:data:`DIFFERENCE_CHECKS`, only in a cover's ``requires``) look at the one difference the
  cover would approve, and say whether the approval's oracle proves *that* difference harmless: a record the
  candidate kept that nobody could prove stale, an item legacy lost and the candidate wrote as legacy sent it, a
  write of a target row legacy never reached after its crash...

Every check reads what the world knows (:mod:`harness.engine.oracles`), never the candidate's own bookkeeping
(its region-status rows, the accounts it says it scanned). A failing check explains itself in ``ctx.notes``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.engine.compare import LABELLERS
from harness.engine.model import Difference, Observation, jsonable
from harness.engine.normalise import canonical
from harness.engine.oracles import (
    CrashPoint,
    Key,
    completely_answered,
    count_problems,
    final_items,
    inventory_puts,
    live_arns,
    lost_live_records,
    multiset_minus,
    provably_stale,
    records_before,
    truth,
    unaccounted_servers,
)
from harness.scenario.model import TABLES, Scenario
from lambda_shared.drs_regions import DRS_REGIONS
from lambda_shared.response_utils import response as shared_response

#: The success message and body keys of LB-10, in order.
SUCCESS_MESSAGE = "Source server inventory sync complete"
SUCCESS_KEYS = (
    "message",
    "totalSynced",
    "totalErrors",
    "staleRecordsDeleted",
    "regionsScanned",
    "regionsSkipped",
    "timestamp",
)
#: Table variables the sync cannot run without; DRS_REGION_STATUS_TABLE is optional (legacy falls back to 28 regions).
REQUIRED_TABLE_VARIABLES = tuple(variable for variable, _ in TABLES.values() if variable != "DRS_REGION_STATUS_TABLE")
#: Reads the sync makes for any account (the cleanup, the EC2 role look-up, the identity check), by service:operation.
_ANY_ACCOUNT_READS = {("dynamodb", "Scan", "inventory"), ("dynamodb", "GetItem", "targetAccounts")}


@dataclass
class Context:
    """What conditions and checks look at: the scenario and the runs (candidate absent for ``when``)."""

    scenario: Scenario
    baseline: Observation | None
    candidate: Observation | None = None
    notes: list[str] = field(default_factory=list)

    def fail(self, note: str) -> bool:
        """Record why a check fails; returns ``False`` for ``return ctx.fail(...)``."""
        self.notes.append(note)
        return False


def unset_variables(scenario: Scenario) -> list[str]:
    """The required table variables the scenario unsets."""
    return [
        variable
        for variable in REQUIRED_TABLE_VARIABLES
        if variable in scenario.environment and not scenario.environment[variable]
    ]


# -- approval checks -----------------------------------------------------------------------------------------------


def _no_writes(ctx: Context) -> bool:
    candidate = ctx.candidate
    return candidate is not None and not candidate.mutating_calls and not candidate.region_status_writes


def _answered_if_responded(ctx: Context) -> Observation | None:
    """The candidate when it answered; ``None`` when it raised from a later step as the baseline did (no counts)."""
    candidate = ctx.candidate
    if candidate is not None and candidate.exception is not None and not raised_from_inventory_write(candidate):
        return None
    return candidate


def _counts_match_tables(ctx: Context) -> bool:
    """The candidate's counts equal what the tables hold (:func:`harness.engine.oracles.count_problems`)."""
    if ctx.candidate is None:
        return False
    candidate = _answered_if_responded(ctx)
    if candidate is None:
        return True  # it raised from a later step (legacy raises there too): there are no counts to check
    problems = count_problems(candidate)
    for problem in problems:
        ctx.notes.append(f"candidate reports {problem}")
    return not problems


def _loses_no_live_record(ctx: Context) -> bool:
    """No record that existed before the run and whose server exists in the world is gone after the candidate."""
    lost = lost_live_records(ctx.candidate) if ctx.candidate is not None else []
    for key in lost:
        ctx.notes.append(f"candidate lost the record {key[0]} | {key[1]}, whose server exists")
    return ctx.candidate is not None and not lost


def _answered_servers_in_inventory(ctx: Context) -> bool:
    """Every server of a DRS listing the world answered completely is in the candidate's inventory, or accounted
    for (:func:`harness.engine.oracles.unaccounted_servers`); not judged when the candidate raised as the baseline."""
    if ctx.candidate is None:
        return False
    candidate = _answered_if_responded(ctx)
    problems = unaccounted_servers(candidate) if candidate is not None and candidate.exception is None else []
    for problem in problems[:5]:
        ctx.notes.append(f"candidate: {problem}")
    return not problems


def _well_formed_success_body(ctx: Context) -> bool:
    """The candidate answered LB-10's success: status 200, the shared layer's headers, the body's keys in order, the
    message, 28 regions scanned plus skipped, and the run's frozen clock as timestamp."""
    answer = ctx.candidate.response if ctx.candidate is not None else None
    body = answer.get("body") if isinstance(answer, dict) else None
    if not isinstance(body, dict) or answer.get("statusCode") != 200:
        return ctx.fail("candidate did not answer 200 with a body")
    clock = datetime.fromisoformat(ctx.scenario.clock.replace("Z", "+00:00")).isoformat()
    problems = [
        ("headers", answer.get("headers") == shared_response(200, {})["headers"]),
        ("body keys", tuple(body) == SUCCESS_KEYS),
        ("message", body.get("message") == SUCCESS_MESSAGE),
        ("regions", body.get("regionsScanned", 0) + body.get("regionsSkipped", 0) == len(DRS_REGIONS)),
        ("timestamp", body.get("timestamp") == clock),
    ]
    wrong = [name for name, ok in problems if not ok]
    return ctx.fail(f"candidate's success response has wrong {', '.join(wrong)}") if wrong else True


def _error_names_unset_variable(ctx: Context) -> bool:
    candidate = ctx.candidate
    body = candidate.response.get("body") if candidate and isinstance(candidate.response, dict) else None
    text = str(body.get("error", "")) + str(body.get("message", "")) if isinstance(body, dict) else str(body)
    missing = [variable for variable in unset_variables(ctx.scenario) if variable not in text]
    if missing:
        ctx.notes.append(f"candidate's error does not name {', '.join(missing)}")
    return not missing


def _last_failed_call(observation: Observation | None) -> dict[str, Any] | None:
    """The last call of a run whose final attempt failed (what a raising handler most likely raised from)."""
    failed = [call for call in (observation.failed_calls if observation else []) if call["attempts"][-1] != "ok"]
    return failed[-1] if failed else None


def raised_from_inventory_write(observation: Observation | None) -> bool:
    """Whether a run raised out of an inventory ``BatchWriteItem`` (its message names it, or - for connection,
    timeout and credential errors, whose messages do not - its last failed call was one)."""
    if observation is None or observation.exception is None:
        return False
    if "BatchWriteItem" in observation.exception["message"]:
        return True
    last = _last_failed_call(observation)
    return last is not None and last["operation"] == "BatchWriteItem" and last.get("table") == "inventory"


def _baseline_raised_from_inventory_write(ctx: Context) -> bool:
    return raised_from_inventory_write(ctx.baseline)


def _candidate_raised_from_cleanup_scan(ctx: Context) -> bool:
    """The candidate raised out of the stale cleanup's inventory ``Scan`` (its last failed call), as legacy raises when
    that scan fails (LB-9): a step legacy never reached after its crash, so the two exceptions differ."""
    last = _last_failed_call(ctx.candidate) if ctx.candidate is not None and ctx.candidate.exception else None
    if last is not None and (last["operation"], last.get("table")) == ("Scan", "inventory"):
        return True
    return ctx.fail("candidate did not raise from the stale cleanup's inventory scan")


def _no_write_failure_escapes(ctx: Context) -> bool:
    """The candidate lets no inventory write failure escape (it may still raise from a later step, e.g. a failing
    cleanup scan, as legacy raises there)."""
    if ctx.candidate is None or raised_from_inventory_write(ctx.candidate):
        return ctx.fail("candidate let an inventory write failure escape")
    return True


def _raises_only_as_baseline(ctx: Context) -> bool:
    """The candidate raises nothing, or exactly what the baseline raised (an approval must not add a crash)."""
    candidate = ctx.candidate
    if candidate is None:
        return False
    if candidate.exception is None or (ctx.baseline is not None and candidate.exception == ctx.baseline.exception):
        return True
    return ctx.fail(f"candidate raised {candidate.exception['type']} where the baseline did not raise the same")


CHECKS: dict[str, Callable[[Context], bool]] = {
    "no_writes": _no_writes,
    "raises_only_as_baseline": _raises_only_as_baseline,
    "baseline_raised_from_inventory_write": _baseline_raised_from_inventory_write,
    "candidate_raised_from_cleanup_scan": _candidate_raised_from_cleanup_scan,
    "no_write_failure_escapes": _no_write_failure_escapes,
    "counts_match_tables": _counts_match_tables,
    "error_names_unset_variable": _error_names_unset_variable,
    "loses_no_live_record": _loses_no_live_record,
    "answered_servers_in_inventory": _answered_servers_in_inventory,
    "well_formed_success_body": _well_formed_success_body,
}


# -- what a difference is about ------------------------------------------------------------------------------------


def _label(difference: Difference) -> str:
    """The element or item label a difference lies in: ``X`` of ``section[X]`` / ``tables.<table>[X]``."""
    anchor = difference.anchor or difference.path
    return anchor[anchor.index("[") + 1 : anchor.rindex("]")] if "[" in anchor else ""


def _table_of(difference: Difference) -> str:
    return difference.path.split(".")[1].split("[")[0] if difference.section == "tables" else ""


def _key(difference: Difference) -> Key:
    """The inventory key a difference is about: from a table item's label ``<arn> | <staging account>``, or from a
    call's label ``dynamodb:<Operation> inventory [PutRequest|DeleteRequest] <arn> | <staging account>``."""
    label = _label(difference)
    if difference.section != "tables":
        words = label.split(" ")[2:]
        label = " ".join(words[1:] if words and words[0] in ("PutRequest", "DeleteRequest") else words)
    arn, _, staging = label.rpartition(" | ")
    return arn, staging


def _elements(observation: Observation, difference: Difference) -> list[dict[str, Any]]:
    """The observation's elements of the difference's section that carry its label."""
    labeller = LABELLERS[difference.section]
    label = _label(difference)
    return [jsonable(e) for e in observation.section(difference.section) if labeller(e) == label]


def _extra_elements(ctx: Context, difference: Difference) -> list[dict[str, Any]] | None:
    """The candidate's elements with the difference's label beyond the baseline's (``None`` when the candidate lacks
    some element of the baseline's: something the baseline did, the candidate did not)."""
    candidate, baseline = _elements(ctx.candidate, difference), _elements(ctx.baseline, difference)
    extra = multiset_minus(map(canonical, candidate), map(canonical, baseline))
    if extra is None:
        return None
    by_text = {canonical(element): element for element in candidate}
    return [by_text[text] for text, count in extra.items() for _ in range(count)]


def _item(element: dict[str, Any]) -> dict[str, Any]:
    params = element.get("params") or {}
    return (params.get("PutRequest") or {}).get("Item") or params.get("Item") or {}


# -- AD-2: the stale cleanup ---------------------------------------------------------------------------------------


def _dead_record_deleted(ctx: Context, key: Key) -> bool:
    """Deleting ``key`` is harmless: it existed before the run and no server of the world has its ARN."""
    world = truth(ctx.candidate)
    if key not in records_before(world):
        return ctx.fail(f"candidate deleted {key[0]} | {key[1]}, which was not a record before the run")
    if key[0] in live_arns(world):
        return ctx.fail(f"candidate deleted the record {key[0]} | {key[1]}, whose server exists")
    return True


def _unprovable_record_kept(ctx: Context, key: Key, untouched: bool) -> bool:
    """Keeping ``key`` is what the rule says: nobody could prove it stale in this run, and, when ``untouched`` (the
    candidate's final table holds it), the candidate left the record as it was before the run, or holds exactly the
    item legacy wrote in this run before its cleanup deleted it."""
    world = truth(ctx.candidate)
    record = records_before(world).get(key)
    final = canonical(final_items(ctx.candidate).get(key))
    if untouched and final in {canonical(item) for item in inventory_puts(ctx.baseline)}:
        return True  # legacy wrote this very item in this run, then deleted it (LB-9)
    if record is None:
        return not untouched or ctx.fail(f"candidate holds {key[0]} | {key[1]}: not a record before the run")
    if untouched and final != canonical(record):
        return ctx.fail(f"candidate changed the record {key[0]} | {key[1]} instead of keeping it")
    if provably_stale(record, world):
        return ctx.fail(f"candidate kept {key[0]} | {key[1]}, which the world proves stale in this run")
    return True


def _record_rule(ctx: Context, difference: Difference) -> bool:
    """AD-2, per difference of an inventory item or a cleanup ``DeleteItem``: the candidate deleted only records
    whose server does not exist, and kept only records nobody could prove stale (:mod:`harness.engine.oracles`)."""
    key = _key(difference)
    deleted_by_candidate = (difference.section == "tables" and difference.kind == "removed") or (
        difference.section == "mutatingCalls" and difference.kind in ("added", "count-changed")
    )
    if deleted_by_candidate:
        return _dead_record_deleted(ctx, key)
    if difference.kind in ("added", "removed"):
        return _unprovable_record_kept(ctx, key, untouched=difference.section == "tables")
    return ctx.fail(f"{difference.path}: the cleanup changes no item's content")


# -- AD-3: inventory write failures --------------------------------------------------------------------------------


def _retried_or_lost(ctx: Context, difference: Difference) -> bool:
    """AD-3, per inventory item (or field of one): an item legacy lost that the candidate wrote exactly as legacy sent
    it, or an item the candidate sent and the world refused."""
    key = _key(difference)
    label = f"{key[0]} | {key[1]}"
    if difference.kind == "removed" and difference.path.endswith("]"):
        sent = {(item.get("sourceServerArn"), item.get("stagingAccountId")) for item in inventory_puts(ctx.candidate)}
        return key in sent or ctx.fail(f"candidate lacks {label} without having tried to write it")
    final = canonical(final_items(ctx.candidate).get(key))
    sent = {canonical(item) for item in inventory_puts(ctx.baseline)}
    return final in sent or ctx.fail(f"candidate holds {label} unlike any item legacy sent")


def _resent(ctx: Context, difference: Difference) -> bool:
    """AD-3, per inventory write: the same item sent a different number of times (retries, resent unprocessed
    items), by both runs."""
    if difference.kind == "count-changed" and difference.baseline and difference.candidate:
        return True
    return ctx.fail(f"{difference.path}: not the same write sent a different number of times")


# -- AD-3: after the baseline crashed on an inventory write --------------------------------------------------------


def _status_consistent(ctx: Context, item: dict[str, Any], account: str | None) -> bool:
    """A region-status row agrees with what the world answered ``account`` in its region."""
    world = truth(ctx.candidate)
    region = item.get("region")
    held = sum(1 for server in world.get("servers", []) if (server["account"], server["region"]) == (account, region))
    count, status = item.get("serverCount"), item.get("status")
    if (account, region) in completely_answered(world):
        ok = status == "ACTIVE" and count == held
    else:
        ok = (status != "ACTIVE" and count == 0) or (status == "ACTIVE" and isinstance(count, int) and count <= held)
    return ok or ctx.fail(f"status row {status}/{count} for {region} disagrees with the world ({held} server(s))")


def _implied_put(item: dict[str, Any]) -> str:
    """The ``update_region_status`` put a batched status row implies (LB-6), reduced to what both carry."""
    item = jsonable(item)
    message = item.get("errorMessage")
    count = item.get("serverCount") or 0
    status = "ERROR" if message else "AVAILABLE" if count > 0 else "UNINITIALIZED"
    return canonical({"region": item.get("region"), "status": status, "serverCount": count, "errorMessage": message})


def _reduced_put(item: dict[str, Any]) -> str:
    keys = ("region", "status", "serverCount", "errorMessage")
    return canonical({key: jsonable(item.get(key)) for key in keys})


def _after_crash_status_write(ctx: Context, difference: Difference) -> bool:
    """A region-status write the candidate made for a row legacy never reached, consistent with the world; the puts
    of a region beyond legacy's are exactly those its unreached rows' batched rows imply."""
    crash = CrashPoint.of(ctx.baseline, ctx.candidate)
    credentials = {row["accountId"]: row["credentialsAccount"] for row in crash.rows}
    if difference.kind != "added" and not difference.path.startswith("regionStatusWrites[PutItem"):
        return ctx.fail(f"{difference.path}: a region-status write before legacy's crash differs")
    extra = _extra_elements(ctx, difference)
    if extra is None:
        return ctx.fail(f"{difference.path}: the candidate lacks a region-status write legacy made")
    batched = [e["item"] for e in extra if e["via"] == "BatchWriteItem"]
    if any(item.get("accountId") not in credentials for item in batched):
        return ctx.fail(f"{difference.path}: a batched status row of a row legacy reached differs")
    if not all(_status_consistent(ctx, item, credentials[item["accountId"]]) for item in batched):
        return False
    puts = [_reduced_put(e["item"]) for e in extra if e["via"] == "PutItem"]
    if puts:
        region = extra[0]["item"].get("region")
        rows = [w["item"] for w in ctx.candidate.region_status_writes if w["via"] == "BatchWriteItem"]
        implied = [_implied_put(i) for i in rows if i.get("region") == region and i.get("accountId") in credentials]
        if sorted(puts) != sorted(implied):
            return ctx.fail(f"{difference.path}: status puts beyond legacy's are not those of the unreached rows")
    return True


def _after_crash_table(ctx: Context, difference: Difference) -> bool:
    """A final table item the candidate's writes after legacy's crash explain: a record its cleanup deleted (whose
    server does not exist), an item of a server of an unreached row, a region row an unreached row wrote last."""
    crash = CrashPoint.of(ctx.baseline, ctx.candidate)
    table, label = _table_of(difference), _label(difference)
    if table == "inventory":
        key = _key(difference)
        if difference.kind == "removed" and difference.path.endswith("]"):
            return _dead_record_deleted(ctx, key)
        final = final_items(ctx.candidate).get(key) or {}
        if key[0] in crash.arns and canonical(final) in {canonical(i) for i in inventory_puts(ctx.candidate)}:
            return _item_agrees_with_the_world(ctx, final, crash)
        return ctx.fail(f"{difference.path}: not an item of a server of a row legacy never reached")
    if table == "regionStatus":
        final = ctx.candidate.tables.get("regionStatus", {}).get(label)
        after = [
            w["item"]
            for w in ctx.candidate.region_status_writes
            if w["item"].get("region") == label and w["item"].get("accountId") in crash.account_ids
        ]
        candidates = {canonical(i) for i in after} | {_implied_put(i) for i in after}
        if final is not None and (canonical(final) in candidates or _reduced_put(final) in candidates):
            return True
        return ctx.fail(f"{difference.path}: not a status row a row legacy never reached wrote last")
    return ctx.fail(f"{difference.path}: no write after legacy's crash explains it")


def _item_agrees_with_the_world(ctx: Context, item: dict[str, Any], crash: CrashPoint) -> bool:
    """An inventory item of a server an unreached row finds carries what the server's data says (the attributes
    that follow from it alone: id, names, instance, agent, replication state, OS, region)."""
    expected = [s["item"] for s in crash.servers if s.get("arn") == item.get("sourceServerArn") and s.get("item")]
    if any(all(jsonable(item.get(k)) == v for k, v in identity.items()) for identity in expected):
        return True
    return ctx.fail(f"the item of {item.get('sourceServerArn')} disagrees with the server's data")


def _after_crash_call(ctx: Context, difference: Difference) -> bool:
    """A mutating call legacy never got to: a role assumption of an unreached row (its own, or LB-7's for its
    servers' origins), an inventory write of a server an unreached row finds, a delete of a record whose server does
    not exist."""
    crash = CrashPoint.of(ctx.baseline, ctx.candidate)
    extra = _extra_elements(ctx, difference)
    if extra is None or not extra:
        return ctx.fail(f"{difference.path}: the candidate lacks a call legacy made")
    sync_roles, ec2_roles = {str(row.get("roleArn")) for row in crash.rows}, crash.ec2_roles()
    for element in extra:
        params = element.get("params") or {}
        if element["operation"] == "AssumeRole":
            session, role = params.get("RoleSessionName"), params.get("RoleArn")
            if not (
                session == "inventory-sync" and role in sync_roles or session != "inventory-sync" and role in ec2_roles
            ):
                return ctx.fail(f"{difference.path}: a role assumption no unreached row makes")
        elif element["operation"] == "DeleteItem" and element.get("table") == "inventory":
            key = params.get("Key") or {}
            if not _dead_record_deleted(ctx, (key.get("sourceServerArn"), key.get("stagingAccountId"))):
                return False
        elif _item(element).get("sourceServerArn") not in crash.arns or element.get("table") != "inventory":
            return ctx.fail(f"{difference.path}: not a write of a server a row legacy never reached finds")
        elif not _item_agrees_with_the_world(ctx, _item(element), crash):
            return False
    return True


def _after_crash_read(ctx: Context, difference: Difference) -> bool:
    """A read legacy never got to: DRS of an unreached row's credentials account, EC2 for its servers' origins, the
    cleanup scan, the EC2 role look-up, the identity check."""
    crash = CrashPoint.of(ctx.baseline, ctx.candidate)
    if difference.kind != "added" or not isinstance(difference.candidate, dict):
        return ctx.fail(f"{difference.path}: a read legacy made differs")
    read = difference.candidate
    service, operation, place = read["service"], read["operation"], (read["account"], read["region"])
    if service == "drs" and read["account"] in crash.credentials_accounts:
        return True
    if service == "ec2" and place in crash.ec2_places():
        return True
    if (service, operation, read.get("table")) in _ANY_ACCOUNT_READS or (service, operation) == (
        "sts",
        "GetCallerIdentity",
    ):
        return True
    return ctx.fail(f"{difference.path}: a read no unreached row makes")


def _after_crash(ctx: Context, difference: Difference) -> bool:
    """After legacy crashed on an inventory write: the difference lies in what only the rows it never reached, the
    cleanup and the response it never got to explain (per section)."""
    if not raised_from_inventory_write(ctx.baseline):
        return ctx.fail("legacy did not crash on an inventory write")
    check = {
        "tables": _after_crash_table,
        "regionStatusWrites": _after_crash_status_write,
        "mutatingCalls": _after_crash_call,
        "reads": _after_crash_read,
    }.get(difference.section)
    return check(ctx, difference) if check else ctx.fail(f"{difference.path}: not a write or read")


#: Checks of one difference (a cover's ``requires`` only): whether the approval's oracle proves it harmless.
DIFFERENCE_CHECKS: dict[str, Callable[[Context, Difference], bool]] = {
    "record_rule": _record_rule,
    "retried_or_lost": _retried_or_lost,
    "resent": _resent,
    "after_crash": _after_crash,
}
