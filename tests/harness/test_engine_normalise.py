"""Normalisation on hand-made call records: classification, batch splitting, typing (redaction: test_redaction)."""

from __future__ import annotations

from decimal import Decimal

from harness.engine.normalise import CallSplit, normalise_return, tables_by_key
from harness.world.aws.calls import AwsCall

TABLES = {"inventory": "drs-inventory", "targetAccounts": "drs-targets", "regionStatus": "drs-status"}


def _call(
    service: str, operation: str, params: dict, table: str | None = None, attempts: list | None = None
) -> AwsCall:
    return AwsCall(service, operation, "111111111111", "us-east-1", params, table, attempts or ["ok"], "t")


def _batch() -> AwsCall:
    return _call(
        "dynamodb",
        "BatchWriteItem",
        {
            "RequestItems": {
                "drs-inventory": [
                    {"PutRequest": {"Item": {"sourceServerArn": {"S": "a"}, "ram": {"N": "8"}}}},
                    {"DeleteRequest": {"Key": {"sourceServerArn": {"S": "b"}}}},
                ],
                "drs-status": [{"PutRequest": {"Item": {"region": {"S": "us-east-1"}, "tags": {"SS": ["x"]}}}}],
            }
        },
        table="inventory",
    )


def test_batch_writes_are_split_one_entry_per_request_with_logical_tables() -> None:
    split = CallSplit([_batch()], TABLES)
    assert [(c["table"], list(c["params"])) for c in split.mutating_calls] == [
        ("inventory", ["PutRequest"]),
        ("inventory", ["DeleteRequest"]),
    ]
    assert split.mutating_calls[0]["params"]["PutRequest"]["Item"] == {"sourceServerArn": "a", "ram": Decimal(8)}
    assert split.region_status_writes == [
        {
            "via": "BatchWriteItem",
            "account": "111111111111",
            "region": "us-east-1",
            "item": {"region": "us-east-1", "tags": {"x"}},
        }
    ]


def test_update_region_status_puts_are_region_status_writes_and_table_name_is_dropped() -> None:
    put = _call(
        "dynamodb", "PutItem", {"TableName": "drs-status", "Item": {"region": {"S": "eu-west-1"}}}, "regionStatus"
    )
    split = CallSplit([put], TABLES)
    assert split.mutating_calls == []
    assert split.region_status_writes == [
        {"via": "PutItem", "account": "111111111111", "region": "us-east-1", "item": {"region": "eu-west-1"}}
    ]


def test_reads_are_distinct_with_counts_and_other_mutations_are_kept_whole() -> None:
    who = _call("sts", "GetCallerIdentity", {})
    scan = _call(
        "dynamodb", "Scan", {"TableName": "drs-inventory", "ExpressionAttributeValues": {":a": {"S": "1"}}}, "inventory"
    )
    delete = _call(
        "dynamodb", "DeleteItem", {"TableName": "drs-inventory", "Key": {"sourceServerArn": {"S": "a"}}}, "inventory"
    )
    split = CallSplit([who, scan, who, delete, who], TABLES)
    assert sorted((r["operation"], r["count"]) for r in split.reads) == [("GetCallerIdentity", 3), ("Scan", 1)]
    scan_entry = next(r for r in split.reads if r["operation"] == "Scan")
    assert scan_entry["params"] == {"ExpressionAttributeValues": {":a": "1"}}
    assert split.mutating_calls == [
        {
            "service": "dynamodb",
            "operation": "DeleteItem",
            "account": "111111111111",
            "region": "us-east-1",
            "table": "inventory",
            "params": {"Key": {"sourceServerArn": "a"}},
        }
    ]


def test_calls_with_a_failed_attempt_are_listed_with_their_attempts() -> None:
    throttled = _call("drs", "DescribeSourceServers", {}, attempts=["HTTP 429"])
    retried = _call("sts", "AssumeRole", {"RoleArn": "r"}, attempts=["HTTP 500", "ok"])
    split = CallSplit([throttled, retried, _call("sts", "GetCallerIdentity", {})], TABLES)
    assert [(c["operation"], c["attempts"]) for c in split.failed_calls] == [
        ("DescribeSourceServers", ["HTTP 429"]),
        ("AssumeRole", ["HTTP 500", "ok"]),
    ]


def test_a_json_body_is_parsed_and_other_bodies_are_kept() -> None:
    assert normalise_return({"statusCode": 200, "body": '{"a": 1.5}'}) == {"statusCode": 200, "body": {"a": 1.5}}
    assert normalise_return({"statusCode": 500, "body": "oops"}) == {"statusCode": 500, "body": "oops"}
    assert normalise_return("plain") == "plain"


def test_tables_are_keyed_by_their_key_attributes() -> None:
    snapshot = {"inventory": [{"sourceServerArn": "a", "stagingAccountId": "1", "x": 1}], "regionStatus": [{"v": 1}]}
    keyed = tables_by_key(snapshot, {"inventory": ["sourceServerArn", "stagingAccountId"], "regionStatus": ["region"]})
    assert list(keyed["inventory"]) == ["a | 1"]
    assert list(keyed["regionStatus"]) == ['{"v":1}']
