"""The comparison rules on hand-made observations: exact types and order, multisets, the read set, readable paths."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from harness.engine.compare import compare, multiset_differences, read_count_changes, readable_path
from harness.engine.model import Observation
from harness.engine.normalise import canonical

ARN = "arn:aws:drs:us-east-1:222222222222:source-server/s-1"
KEY = f"{ARN} | 222222222222"


def _response(**body: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": {"totalSynced": 1, **body}}


def _observation(**changes: Any) -> Observation:
    base: dict[str, Any] = {
        "implementation": "x:y",
        "response": _response(),
        "tables": {"inventory": {KEY: {"sourceServerArn": ARN, "ramBytes": Decimal(8), "disks": [{"n": 1}, {"n": 2}]}}},
        "region_status_writes": [
            {"via": "PutItem", "account": "1", "region": "us-east-1", "item": {"region": "us-east-1", "n": Decimal(1)}},
            {"via": "PutItem", "account": "1", "region": "us-east-1", "item": {"region": "eu-west-1", "n": Decimal(0)}},
        ],
        "mutating_calls": [_assume("inventory-sync"), _assume("inventory-ec2-query")],
        "reads": [
            {
                "service": "sts",
                "operation": "GetCallerIdentity",
                "account": "1",
                "region": "us-east-1",
                "table": None,
                "params": {},
                "count": 2,
            }
        ],
    }
    base.update(changes)
    return Observation(**base)


def _assume(session: str, role: str = "arn:aws:iam::222222222222:role/R") -> dict[str, Any]:
    return {
        "service": "sts",
        "operation": "AssumeRole",
        "account": "1",
        "region": "us-east-1",
        "table": None,
        "params": {"RoleArn": role, "RoleSessionName": session},
    }


def test_identical_observations_have_no_difference() -> None:
    assert compare(_observation(), _observation()) == []


def test_response_field_change_has_a_readable_path_and_both_values() -> None:
    [difference] = compare(_observation(), _observation(response=_response(totalSynced=2)))
    assert (difference.path, difference.kind) == ("response.body.totalSynced", "changed")
    assert (difference.baseline, difference.candidate) == (1, 2)
    assert "baseline 1 -> candidate 2" in difference.describe()


def test_decimal_and_int_are_different_types() -> None:
    table = {"inventory": {KEY: {"sourceServerArn": ARN, "ramBytes": 8, "disks": [{"n": 1}, {"n": 2}]}}}
    [difference] = compare(_observation(), _observation(tables=table))
    assert difference.path == f"tables.inventory[{KEY}].ramBytes"
    assert difference.kind == "type-changed"
    assert (difference.baseline_type, difference.candidate_type) == ("Decimal", "int")


def test_int_and_float_in_a_body_are_different_types() -> None:
    [difference] = compare(_observation(), _observation(response=_response(totalSynced=1.0)))
    assert difference.kind == "type-changed"
    assert (difference.baseline_type, difference.candidate_type) == ("int", "float")


def test_order_of_a_list_inside_an_item_matters() -> None:
    table = {"inventory": {KEY: {"sourceServerArn": ARN, "ramBytes": Decimal(8), "disks": [{"n": 2}, {"n": 1}]}}}
    differences = compare(_observation(), _observation(tables=table))
    assert {d.path for d in differences} == {
        f"tables.inventory[{KEY}].disks[0].n",
        f"tables.inventory[{KEY}].disks[1].n",
    }
    assert {d.anchor for d in differences} == {f"tables.inventory[{KEY}]"}


def test_a_whole_missing_item_is_named_not_the_whole_table() -> None:
    tables = {"inventory": {"other | 1": {"sourceServerArn": "other"}, KEY: _observation().tables["inventory"][KEY]}}
    [difference] = compare(_observation(), _observation(tables=tables))
    assert (difference.path, difference.kind) == ("tables.inventory[other | 1]", "added")


def test_multiset_order_carries_no_meaning() -> None:
    baseline = _observation()
    candidate = _observation(
        region_status_writes=list(reversed(baseline.region_status_writes)),
        mutating_calls=list(reversed(baseline.mutating_calls)),
    )
    assert compare(baseline, candidate) == []


def test_multiset_repetition_is_counted() -> None:
    baseline = _observation()
    candidate = _observation(mutating_calls=[*baseline.mutating_calls, _assume("inventory-sync")])
    [difference] = compare(baseline, candidate)
    assert difference.kind == "count-changed"
    assert difference.path == "mutatingCalls[sts:AssumeRole arn:aws:iam::222222222222:role/R]"
    assert (difference.baseline, difference.candidate) == (1, 2)


def test_a_changed_element_is_paired_with_its_counterpart_by_identity() -> None:
    candidate = _observation(mutating_calls=[_assume("inventory-sync-v2"), _assume("inventory-ec2-query")])
    [difference] = compare(_observation(), candidate)
    assert difference.path == "mutatingCalls[sts:AssumeRole arn:aws:iam::222222222222:role/R].params.RoleSessionName"
    assert (difference.baseline, difference.candidate) == ("inventory-sync", "inventory-sync-v2")


def test_nested_order_inside_a_multiset_element_still_matters() -> None:
    before = [{"service": "ec2", "operation": "X", "params": {"ids": ["a", "b"]}}]
    after = [{"service": "ec2", "operation": "X", "params": {"ids": ["b", "a"]}}]
    differences = multiset_differences("mutatingCalls", before, after, lambda element: "ec2:X")
    assert [d.path for d in differences] == ["mutatingCalls[ec2:X].params.ids[0]", "mutatingCalls[ec2:X].params.ids[1]"]


def test_an_element_only_one_side_has_is_added_or_removed() -> None:
    baseline = _observation()
    candidate = _observation(mutating_calls=[baseline.mutating_calls[0], _assume("x", role="arn:aws:iam::3:role/Q")])
    kinds = {(d.kind, d.path) for d in compare(baseline, candidate)}
    assert kinds == {
        ("removed", "mutatingCalls[sts:AssumeRole arn:aws:iam::222222222222:role/R]"),
        ("added", "mutatingCalls[sts:AssumeRole arn:aws:iam::3:role/Q]"),
    }


def test_region_status_writes_are_labelled_by_how_and_where() -> None:
    baseline = _observation()
    writes = [dict(w) for w in baseline.region_status_writes]
    writes[0] = {**writes[0], "item": {"region": "us-east-1", "n": Decimal(2)}}
    [difference] = compare(baseline, _observation(region_status_writes=writes))
    assert difference.path == "regionStatusWrites[PutItem us-east-1].item.n"


def test_read_counts_do_not_gate_but_are_reported() -> None:
    baseline = _observation()
    candidate = _observation(reads=[{**baseline.reads[0], "count": 5}])
    assert compare(baseline, candidate) == []
    assert read_count_changes(baseline, candidate) == [
        {"read": "sts:GetCallerIdentity 1/us-east-1", "baseline": 2, "candidate": 5}
    ]


def test_a_new_distinct_read_gates() -> None:
    baseline = _observation()
    extra = {**baseline.reads[0], "service": "drs", "operation": "DescribeSourceServers", "params": {"maxResults": 1}}
    [difference] = compare(baseline, _observation(reads=[*baseline.reads, extra]))
    assert (difference.kind, difference.path) == ("added", "reads[drs:DescribeSourceServers 1/us-east-1]")


def test_raised_versus_returned_is_one_difference_per_section() -> None:
    candidate = _observation(response=None, exception={"type": "KeyError", "message": "'x'"})
    differences = {d.path: d for d in compare(_observation(), candidate)}
    assert set(differences) == {"response", "exception"}
    assert differences["exception"].candidate == {"type": "KeyError", "message": "'x'"}


def test_canonical_form_keeps_types_and_order() -> None:
    forms = {canonical(v) for v in (1, Decimal(1), 1.0, True, "1")}
    assert len(forms) == 5
    assert canonical([1, 2]) != canonical([2, 1])
    assert canonical({"a": 1, "b": 2}) == canonical({"b": 2, "a": 1})
    assert canonical({"x", "y"}) == canonical({"y", "x"})


def test_readable_path_quotes_keys_that_are_not_identifiers() -> None:
    assert readable_path("response", ["headers", "Content-Type"]) == "response.headers[Content-Type]"
    assert readable_path("tables", ["inventory", "a | b", "disks", 0, None]) == "tables.inventory[a | b].disks[0]"
