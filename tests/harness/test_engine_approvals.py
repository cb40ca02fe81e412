"""Approvals: the shipped declarations, their conditions, what the candidate must do, staleness, bad files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from harness.engine.approvals import (
    ApprovalError,
    Context,
    Cover,
    applicable_approvals,
    apply_approvals,
    condition_holds,
    load_approvals,
)
from harness.engine.compare import compare
from harness.engine.model import APPROVED, UNAPPROVED, Observation
from harness.scenario import Scenario, scenario_from_dict
from lambda_shared.response_utils import response

ACCOUNT = "222222222222"
LAMBDA = "111111111111"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/R"
TIMESTAMP = "2026-01-15T12:00:00+00:00"
GONE = f"arn:aws:drs:us-east-1:{ACCOUNT}:source-server/s-gone"
LIVE = f"arn:aws:drs:us-east-1:{ACCOUNT}:source-server/s-live"
STALE = {"sourceServerArn": GONE, "stagingAccountId": ACCOUNT, "sourceAccountId": ACCOUNT}
#: An empty inventory table (both runs of a comparison have the table).
EMPTY: dict[str, dict[str, Any]] = {"inventory": {}}


@pytest.fixture(scope="module")
def approvals() -> dict[str, Any]:
    return load_approvals()


def _scenario(**doc: Any) -> Scenario:
    return scenario_from_dict({"name": "t", **doc})


def _ok(total: int = 0, stale: int = 0, **extra: Any) -> dict[str, Any]:
    """A well-formed LB-10 success response."""
    body = {"message": "Source server inventory sync complete", "totalSynced": total, "totalErrors": 0}
    body |= {"staleRecordsDeleted": stale, "regionsScanned": 28, "regionsSkipped": 0, "timestamp": TIMESTAMP}
    body |= extra
    return {**response(200, {}), "body": body}


def _raised(message: str) -> dict[str, Any]:
    return {"response": None, "exception": {"type": "UnboundLocalError", "message": message}}


def _obs(**fields: Any) -> Observation:
    return Observation(implementation="x:y", **fields)


def _truth(**parts: Any) -> dict[str, Any]:
    """World truth: by default no servers, no rows, no listings, nothing applied."""
    truth = {
        "lambdaAccount": LAMBDA,
        "targetAccounts": [{"accountId": ACCOUNT, "credentialsAccount": ACCOUNT, "roleArn": ROLE}],
        "servers": [],
        "inventoryBefore": [],
        "drsAnswers": [],
        "inventoryPutsApplied": 0,
    }
    return {**truth, **parts}


def _server(arn: str, account: str = ACCOUNT, region: str = "us-east-1") -> dict[str, Any]:
    return {"account": account, "region": region, "arn": arn, "stagingAccountId": account, "itemProblem": None}


def _answered(region: str = "us-east-1", complete: bool = True, account: str = ACCOUNT) -> dict[str, Any]:
    return {"account": account, "region": region, "complete": complete}


def _status_write(region: str, status: str) -> dict[str, Any]:
    item = {"region": region, "accountId": ACCOUNT, "status": status, "serverCount": Decimal(1)}
    return {"via": "BatchWriteItem", "account": "111111111111", "region": "us-east-1", "item": item}


def _inventory_call(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """One observed DynamoDB call of the Lambda on the inventory table."""
    return {
        "service": "dynamodb",
        "operation": operation,
        "account": "111111111111",
        "region": "us-east-1",
        "table": "inventory",
        "params": params,
    }


def _delete(arn: str) -> dict[str, Any]:
    return _inventory_call("DeleteItem", {"Key": {"sourceServerArn": arn, "stagingAccountId": ACCOUNT}})


def _judge(scenario: Scenario, baseline: Observation, candidate: Observation, approvals: dict, **kw: Any) -> tuple:
    differences = compare(baseline, candidate)
    uses = apply_approvals(scenario, baseline, candidate, differences, approvals, **kw)
    return differences, {use.id: use for use in uses}


def test_the_shipped_file_declares_the_four_approvals_of_issue_4(approvals: dict) -> None:
    assert list(approvals) == ["AD-1", "AD-2", "AD-3", "AD-4"]
    for approval in approvals.values():
        assert approval.reason and approval.owner and approval.title and approval.covers
    assert "UnboundLocalError" in approvals["AD-1"].reason
    assert "NOT_INITIALIZED and a malformed page prove nothing" in approvals["AD-2"].reason
    assert "totalErrors" in approvals["AD-3"].reason
    assert "message naming the variable" in approvals["AD-4"].reason


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("tables.inventory[*]", "tables.inventory[arn:a | 1]", True),
        ("tables.inventory[*]", "tables.inventory[arn:a | 1].hostname", False),
        ("tables.inventory[*]", "tables.inventory[host.example | 1]", True),
        ("response.body.*", "response.body.totalSynced", True),
        ("response.body.*", "response.body.disks[0]", False),
        ("reads[dynamodb:Scan inventory *]**", "reads[dynamodb:Scan inventory 1/us-east-1].params.X", True),
        ("reads[dynamodb:Scan inventory *]**", "reads[dynamodb:GetItem targetAccounts 1/us-east-1]", False),
        ("response", "response.body", False),
        ("tables.**", "tables.regionStatus[us-east-1].status", True),
    ],
)
def test_cover_patterns(pattern: str, path: str, matches: bool) -> None:
    assert Cover(pattern).matches(path) is matches


def test_conditions_read_the_scenario_and_the_baseline() -> None:
    def holds(condition: Any, scenario: Scenario, baseline: Observation | None = None) -> bool:
        return condition_holds(condition, Context(scenario, baseline or _obs()))

    assert holds("no_target_accounts", _scenario())
    assert not holds("no_target_accounts", _scenario(accounts=[{"accountId": ACCOUNT}]))
    assert holds("table_variable_unset", _scenario(environment={"TARGET_ACCOUNTS_TABLE": None}))
    assert not holds("no_target_accounts", _scenario(environment={"TARGET_ACCOUNTS_TABLE": None}))
    assert holds("multiple_accounts", _scenario(accounts=[{"accountId": ACCOUNT}, {"accountId": "333333333333"}]))
    write_fault = {
        "service": "dynamodb",
        "table": "inventory",
        "operation": "BatchWriteItem",
        "effect": {"kind": "error", "code": "ThrottlingException"},
    }
    assert holds("inventory_write_failed", _scenario(faults=[write_fault]))
    failed_put = {"service": "dynamodb", "operation": "PutItem", "table": "inventory", "params": {}, "attempts": ["x"]}
    assert holds("inventory_write_failed", _scenario(), _obs(failed_calls=[failed_put]))
    assert holds(
        "region_scan_failed", _scenario(), _obs(region_status_writes=[_status_write("us-east-1", "THROTTLED")])
    )
    assert not holds(
        "region_scan_failed", _scenario(), _obs(region_status_writes=[_status_write("eu-west-1", "ACTIVE")])
    )
    skipped = {
        "service": "sts",
        "operation": "AssumeRole",
        "table": None,
        "attempts": ["HTTP 403"],
        "params": {"RoleSessionName": "inventory-sync"},
    }
    assert holds("account_skipped", _scenario(), _obs(failed_calls=[skipped]))
    assert holds("stale_records", _scenario(tables={"inventory": [STALE]}))
    assert holds({"any": ["multiple_accounts", "no_target_accounts"]}, _scenario())
    assert not holds({"all": ["multiple_accounts", "no_target_accounts"]}, _scenario())
    assert holds({"not": "multiple_accounts"}, _scenario())


def test_ad1_approves_a_200_with_zero_counts_where_legacy_crashed(approvals: dict) -> None:
    scenario = _scenario(approvals=["AD-1"])
    baseline = _obs(**_raised("cannot access local variable 'acct_id' where it is not associated with a value"))
    differences, uses = _judge(scenario, baseline, _obs(response=_ok()), approvals)
    assert {d.path for d in differences} == {"response", "exception"}
    assert all(d.status == APPROVED and d.approval == "AD-1" for d in differences)
    assert uses["AD-1"].covered == 2 and not uses["AD-1"].stale


def test_ad1_does_not_approve_a_candidate_that_answers_500(approvals: dict) -> None:
    scenario = _scenario(approvals=["AD-1"])
    baseline = _obs(**_raised("cannot access local variable 'acct_id'"))
    candidate = _obs(response={"statusCode": 500, "headers": {}, "body": {"error": "boom"}})
    differences, uses = _judge(scenario, baseline, candidate, approvals)
    assert all(d.status == UNAPPROVED for d in differences)
    assert uses["AD-1"].stale and not uses["AD-1"].candidate_ok
    assert "candidate did not answer 200 with a body" in uses["AD-1"].notes


def test_a_referenced_approval_whose_condition_does_not_hold_is_stale(approvals: dict) -> None:
    scenario = _scenario(accounts=[{"accountId": ACCOUNT}], approvals=["AD-1"])
    differences, uses = _judge(scenario, _obs(response=_ok()), _obs(response=_ok(total=1)), approvals)
    assert differences[0].status == UNAPPROVED
    assert uses["AD-1"].stale and not uses["AD-1"].applicable
    assert "condition does not hold" in uses["AD-1"].notes[0]


def _cleanup_world(record: dict[str, Any], *, live: bool, complete: bool) -> dict[str, Any]:
    """World truth with one pre-existing record, its server existing or not, its region listed completely or not."""
    servers = [_server(record["sourceServerArn"])] if live else []
    return _truth(inventoryBefore=[record], servers=servers, drsAnswers=[_answered(complete=complete)])


def _key(record: dict[str, Any]) -> str:
    return f"{record['sourceServerArn']} | {record['stagingAccountId']}"


@pytest.mark.parametrize("complete", [True, False])
def test_ad2_approves_deleting_a_record_whose_server_does_not_exist(approvals: dict, complete: bool) -> None:
    """Deleting is judged by whether the server exists, not by which regions the candidate says it scanned."""
    record = {**STALE, "replicationRegion": "us-east-1"}
    scenario = _scenario(tables={"inventory": [record]}, approvals=["AD-2"])
    truth = _cleanup_world(record, live=False, complete=complete)
    baseline = _obs(response=_ok(), tables={"inventory": {_key(record): record}}, world_truth=truth)
    candidate = _obs(response=_ok(stale=1), tables=EMPTY, mutating_calls=[_delete(GONE)], world_truth=truth)
    differences, uses = _judge(scenario, baseline, candidate, approvals)
    assert all(d.status == APPROVED for d in differences), [d.describe() for d in differences]
    assert uses["AD-2"].covered == 3


def test_ad2_rejects_deleting_a_record_whose_server_exists(approvals: dict) -> None:
    record = {**STALE, "sourceServerArn": LIVE, "replicationRegion": "us-east-1"}
    scenario = _scenario(tables={"inventory": [record]}, approvals=["AD-2"])
    truth = _cleanup_world(record, live=True, complete=False)
    baseline = _obs(response=_ok(), tables={"inventory": {_key(record): record}}, world_truth=truth)
    candidate = _obs(response=_ok(stale=1), mutating_calls=[_delete(LIVE)], world_truth=truth)
    _, uses = _judge(scenario, baseline, candidate, approvals)
    assert not uses["AD-2"].candidate_ok
    assert any("whose server exists" in note for note in uses["AD-2"].notes)


@pytest.mark.parametrize(
    ("live", "complete", "approved"),
    [
        (True, True, True),  # the server exists: keeping it is right
        (False, False, True),  # gone, but the world did not list its region completely: nobody could prove it
        (False, True, False),  # gone and its region listed completely: the run could prove it, keeping is unexplained
    ],
)
def test_ad2_approves_keeping_a_record_legacy_deleted_only_when_nobody_could_prove_it_stale(
    approvals: dict, live: bool, complete: bool, approved: bool
) -> None:
    record = {**STALE, "sourceServerArn": LIVE if live else GONE, "replicationRegion": "us-east-1"}
    scenario = _scenario(tables={"inventory": [record]}, approvals=["AD-2"])
    truth = _cleanup_world(record, live=live, complete=complete)
    baseline = _obs(
        response=_ok(stale=1), tables=EMPTY, mutating_calls=[_delete(record["sourceServerArn"])], world_truth=truth
    )
    candidate = _obs(response=_ok(), tables={"inventory": {_key(record): record}}, world_truth=truth)
    differences, uses = _judge(scenario, baseline, candidate, approvals)
    record_differences = [d for d in differences if d.section in ("tables", "mutatingCalls")]
    assert len(record_differences) == 2
    assert all((d.status == APPROVED) is approved for d in record_differences)
    if not approved:
        assert any("the world proves stale" in note for note in uses["AD-2"].notes)


def test_ad2_rejects_a_kept_record_the_candidate_changed(approvals: dict) -> None:
    record = {**STALE, "replicationRegion": "us-east-1"}
    scenario = _scenario(tables={"inventory": [record]}, approvals=["AD-2"])
    truth = _cleanup_world(record, live=False, complete=False)
    baseline = _obs(response=_ok(stale=1), tables=EMPTY, mutating_calls=[_delete(GONE)], world_truth=truth)
    changed = {**record, "hostname": "rewritten"}
    candidate = _obs(response=_ok(), tables={"inventory": {_key(record): changed}}, world_truth=truth)
    differences, uses = _judge(scenario, baseline, candidate, approvals)
    assert [d.status for d in differences if d.section == "tables"] == [UNAPPROVED]
    assert any("changed the record" in note for note in uses["AD-2"].notes)


def test_ad2_requires_the_stale_count_to_be_what_the_tables_lost(approvals: dict) -> None:
    record = {**STALE, "replicationRegion": "us-east-1"}
    scenario = _scenario(tables={"inventory": [record]}, approvals=["AD-2"])
    truth = _cleanup_world(record, live=False, complete=True)
    baseline = _obs(response=_ok(), tables={"inventory": {_key(record): record}}, world_truth=truth)
    candidate = _obs(response=_ok(stale=2), mutating_calls=[_delete(GONE)], world_truth=truth)
    _, uses = _judge(scenario, baseline, candidate, approvals)
    assert not uses["AD-2"].candidate_ok
    assert "candidate reports staleRecordsDeleted=2 but 1 record(s) are gone" in uses["AD-2"].notes


def _scan(account: str) -> dict[str, Any]:
    return _inventory_call(
        "Scan", {"FilterExpression": "sourceAccountId = :acct_id", "ExpressionAttributeValues": {":acct_id": account}}
    )


@pytest.mark.parametrize(
    ("candidate_exception", "approved"),
    [
        ({"type": "EndpointConnectionError", "message": "Could not connect"}, True),  # the same crash as legacy
        ({"type": "KeyError", "message": "'x'"}, False),  # a crash of its own: never approved
    ],
)
def test_ad2_approves_a_different_cleanup_scan_only_when_the_candidate_raises_as_legacy(
    approvals: dict, candidate_exception: dict[str, str], approved: bool
) -> None:
    scenario = _scenario(accounts=[{"accountId": ACCOUNT}, {"accountId": "333333333333"}], approvals=["AD-2"])
    crash = {"type": "EndpointConnectionError", "message": "Could not connect"}
    baseline = _obs(exception=crash, reads=[_scan("333333333333")])
    candidate = _obs(exception=candidate_exception, reads=[_scan(ACCOUNT)])
    differences, uses = _judge(scenario, baseline, candidate, approvals)
    read_differences = [d for d in differences if d.section == "reads"]
    assert read_differences and all((d.status == APPROVED) is approved for d in read_differences)
    assert uses["AD-2"].candidate_ok is approved


def test_ad3_requires_synced_to_equal_the_writes_the_table_applied(approvals: dict) -> None:
    fault = {"service": "dynamodb", "table": "inventory", "effect": {"kind": "error", "code": "ThrottlingException"}}
    scenario = _scenario(faults=[fault], approvals=["AD-3"])
    item = {"sourceServerArn": "a", "stagingAccountId": ACCOUNT, "lastUpdated": TIMESTAMP}
    truth = _truth(inventoryPutsApplied=1)
    honest = _obs(response=_ok(total=1), tables={"inventory": {"a | 1": item}}, world_truth=truth)
    _, uses = _judge(scenario, _obs(response=_ok(total=2)), honest, approvals)
    assert uses["AD-3"].candidate_ok and uses["AD-3"].covered == 1
    inflated = _obs(response=_ok(total=3), tables={"inventory": {"a | 1": item}}, world_truth=truth)
    _, uses = _judge(scenario, _obs(response=_ok(total=2)), inflated, approvals)
    assert not uses["AD-3"].candidate_ok
    assert "candidate reports totalSynced=3 but the table applied 1 item write(s)" in uses["AD-3"].notes


def _inventory_put(item: dict[str, Any]) -> dict[str, Any]:
    return _inventory_call("BatchWriteItem", {"PutRequest": {"Item": item}})


@pytest.mark.parametrize(
    ("kept", "approved"),
    [("as-legacy-sent", True), ("changed", False)],
)
def test_ad3_approves_an_item_legacy_lost_only_as_legacy_sent_it(approvals: dict, kept: str, approved: bool) -> None:
    fault = {"service": "dynamodb", "table": "inventory", "effect": {"kind": "error", "code": "ThrottlingException"}}
    scenario = _scenario(faults=[fault], approvals=["AD-3"])
    item = {"sourceServerArn": LIVE, "stagingAccountId": ACCOUNT, "lastUpdated": TIMESTAMP, "hostname": "h"}
    written = item if kept == "as-legacy-sent" else {**item, "hostname": "other"}
    truth = _truth(inventoryPutsApplied=1, servers=[_server(LIVE)])
    baseline = _obs(response=_ok(), tables=EMPTY, mutating_calls=[_inventory_put(item)], world_truth=truth)
    candidate = _obs(
        response=_ok(total=1), tables={"inventory": {_key(item): written}}, mutating_calls=[_inventory_put(written)]
    )
    candidate.world_truth = truth
    differences, _ = _judge(scenario, baseline, candidate, approvals)
    table = [d for d in differences if d.section == "tables"]
    assert table and all((d.status == APPROVED) is approved for d in table)


def test_ad4_requires_the_500_to_name_the_unset_variable(approvals: dict) -> None:
    scenario = _scenario(environment={"TARGET_ACCOUNTS_TABLE": None}, approvals=["AD-4"])
    baseline = _obs(response=None, exception={"type": "AttributeError", "message": "'NoneType' has no 'scan'"})
    naming = {"statusCode": 500, "headers": {}, "body": {"error": "TARGET_ACCOUNTS_TABLE not configured"}}
    _, uses = _judge(scenario, baseline, _obs(response=naming), approvals)
    assert uses["AD-4"].covered == 2
    vague = {"statusCode": 500, "headers": {}, "body": {"error": "a table is not configured"}}
    _, uses = _judge(scenario, baseline, _obs(response=vague), approvals)
    assert uses["AD-4"].stale
    assert "does not name TARGET_ACCOUNTS_TABLE" in uses["AD-4"].notes[0]


def test_a_scenario_naming_an_undeclared_approval_is_an_error(approvals: dict) -> None:
    with pytest.raises(ApprovalError, match="AD-9 is not declared"):
        _judge(_scenario(approvals=["AD-9"]), _obs(), _obs(), approvals)


def test_automatic_mode_applies_what_is_applicable_and_is_never_stale(approvals: dict) -> None:
    scenario = _scenario()
    baseline = _obs(**_raised("cannot access local variable 'acct_id'"))
    assert [a.id for a in applicable_approvals(scenario, baseline, approvals)] == ["AD-1"]
    differences, uses = _judge(scenario, baseline, _obs(response=_ok()), approvals, automatic=True)
    assert all(d.status == APPROVED for d in differences)
    assert not uses["AD-1"].referenced and not uses["AD-1"].stale
    _, uses = _judge(scenario, baseline, baseline, approvals, automatic=True)
    assert not uses["AD-1"].stale


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("approvals: 3\n", "expected a top-level 'approvals' list"),
        ("approvals:\n  - {id: AD-1, title: t, reason: r, owner: o, covers: [x]}\n", "missing when"),
        ("approvals:\n  - {id: AD-1, title: t, reason: r, owner: o, covers: [x], when: nope}\n", "unknown predicate"),
        (
            "approvals:\n  - {id: AD-1, title: t, reason: r, owner: o, covers: [x], when: stale_records,"
            " requires: [{check: magic}]}\n",
            "unknown check 'magic'",
        ),
        (
            "approvals:\n  - {id: AD-1, title: t, reason: r, owner: o, covers: [x], when: stale_records,"
            " requires: [{path: response.statusCode, equals: 1}]}\n",
            "start with baseline. or candidate.",
        ),
        (
            "approvals:\n  - {id: AD-1, title: t, reason: r, owner: o, covers: [x], when: stale_records}\n"
            "  - {id: AD-1, title: t, reason: r, owner: o, covers: [x], when: stale_records}\n",
            "declared twice",
        ),
    ],
)
def test_malformed_approval_files_are_rejected_with_a_reason(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "approvals.yaml"
    path.write_text(text)
    with pytest.raises(ApprovalError, match=message):
        load_approvals(path)


def _drs_read(region: str) -> dict[str, Any]:
    return {"service": "drs", "operation": "DescribeSourceServers", "account": ACCOUNT, "region": region, "params": {}}


def test_ad1_applies_when_legacy_read_no_account_although_rows_exist(approvals: dict) -> None:
    # A malformed target-accounts scan reads as zero accounts: legacy crashes exactly as with an empty table.
    scenario = _scenario(accounts=[{"accountId": ACCOUNT}])
    crashed = _obs(**_raised("cannot access local variable 'acct_id' where it is not associated with a value"))
    assert [a.id for a in applicable_approvals(scenario, crashed, approvals)] == ["AD-1"]
    assert applicable_approvals(scenario, _obs(response=_ok()), approvals) == []


def test_ad3_after_legacy_crashed_covers_only_what_the_rows_it_never_reached_explain(approvals: dict) -> None:
    fault = {
        "service": "dynamodb",
        "operation": "BatchWriteItem",
        "table": "inventory",
        "effect": {"kind": "connection"},
    }
    scenario = _scenario(faults=[fault], approvals=["AD-3"])
    write = {"service": "dynamodb", "operation": "BatchWriteItem", "account": "111111111111", "region": "us-east-1"}
    crash = {"type": "EndpointConnectionError", "message": 'Could not connect to the endpoint URL: "https://x"'}
    later = "333333333333"
    rows = [
        {"accountId": ACCOUNT, "credentialsAccount": ACCOUNT, "roleArn": ROLE},
        {"accountId": later, "credentialsAccount": later, "roleArn": f"arn:aws:iam::{later}:role/R"},
    ]
    truth = _truth(targetAccounts=rows)
    baseline = _obs(
        exception=crash,
        failed_calls=[{**write, "table": "inventory", "attempts": ["EndpointConnectionError"]}],
        region_status_writes=[_status_write("eu-west-1", "ACTIVE")],
        world_truth=truth,
    )

    def judged(*reads_of: str) -> list[str]:
        reads = [{**_drs_read("eu-west-1"), "account": account} for account in reads_of]
        candidate = _obs(response=_ok(), reads=reads, world_truth=truth)
        candidate.region_status_writes = baseline.region_status_writes
        differences, uses = _judge(scenario, baseline, candidate, approvals)
        assert uses["AD-3"].candidate_ok, uses["AD-3"].notes
        return [d.status for d in differences if d.section == "reads"]

    assert judged(later) == [APPROVED]  # the account legacy never reached, after its crash
    assert judged(LAMBDA) == [UNAPPROVED]  # an account no unreached row is queried as


@pytest.mark.parametrize(
    ("last_failed", "approved"),
    [
        (("Scan", "inventory"), True),  # the stale cleanup's scan, which legacy never reached: it raises there too
        (("Scan", "targetAccounts"), False),  # the accounts scan comes before legacy's crash: it must raise as legacy
        (("PutItem", "regionStatus"), False),  # a step that never raises in legacy
    ],
)
def test_ad3_after_legacy_crashed_covers_a_different_exception_only_from_the_cleanup_scan(
    approvals: dict, last_failed: tuple[str, str], approved: bool
) -> None:
    fault = {"service": "dynamodb", "operation": "BatchWriteItem", "table": "inventory", "effect": {"kind": "error"}}
    scenario = _scenario(faults=[fault], approvals=["AD-3"])
    call = {"service": "dynamodb", "account": "111111111111", "region": "us-east-1", "params": {}}
    write_failed = {**call, "operation": "BatchWriteItem", "table": "inventory", "attempts": ["ValidationException"]}
    baseline = _obs(
        exception={"type": "ClientError", "message": "An error occurred (ValidationException) ... BatchWriteItem ..."},
        failed_calls=[write_failed],
        world_truth=_truth(),
    )
    operation, table = last_failed
    candidate = _obs(
        exception={"type": "ClientError", "message": f"An error occurred (AccessDeniedException) ... {operation} ..."},
        failed_calls=[{**call, "operation": operation, "table": table, "attempts": ["AccessDeniedException"]}],
        world_truth=_truth(),
    )
    differences, uses = _judge(scenario, baseline, candidate, approvals)
    assert [d.path for d in differences] == ["exception.message"]
    assert (differences[0].status == APPROVED) is approved, uses["AD-3"].notes
