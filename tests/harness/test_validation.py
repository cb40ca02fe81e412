"""Scenario validation: the schema, the semantic rules, the problems they report and ``python -m harness validate``."""

from __future__ import annotations

import ast
import copy
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness import cli
from harness.commandline import EXIT_BAD_INPUT, EXIT_OK
from harness.scenario.loading import (
    Problem,
    ScenarioError,
    check_document,
    document_scenario,
    expand_paths,
    format_path,
    load_scenario,
    load_scenarios,
    load_schema,
    parse_yaml,
    source_server_problems,
    validate_paths,
)
from harness.scenario.model import DEFAULT_CLOCK, DEFAULT_PAGE_SIZE, Entry, Scenario
from lambda_shared.drs_regions import DRS_REGIONS

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
VALID = DATA / "valid"
BROKEN = DATA / "broken"


def _problems(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(problem.path, problem.reason) for problem in check_document(doc)]


def _paths(doc: dict[str, Any]) -> list[str]:
    return [problem.path for problem in check_document(doc)]


def _reason_at(doc: dict[str, Any], path: str) -> str:
    reasons = [reason for where, reason in _problems(doc) if where == path]
    assert reasons, f"no problem at {path}: {_problems(doc)}"
    return reasons[0]


# ------------------------------------------------------------------------------------------------ the schema itself


def test_schema_is_valid_draft_2020_12() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_regions_are_exactly_the_drs_regions_in_order() -> None:
    assert load_schema()["$defs"]["region"]["enum"] == DRS_REGIONS


def _schema_property_names(node: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(node, dict):
        names.update(node.get("properties", {}))
        for value in node.values():
            names |= _schema_property_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= _schema_property_names(value)
    return names


def _keys_read_by_scenario_module() -> set[str]:
    """String keys the scenario model reads from documents: ``x.get("key")``, ``x["key"]``, ``"key" in x``."""
    tree = ast.parse((ROOT / "harness" / "scenario" / "model.py").read_text())
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                keys.add(first.value)
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            if isinstance(node.slice.value, str):
                keys.add(node.slice.value)
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In):
            if isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
                keys.add(node.left.value)
    return keys


def test_every_key_the_scenario_model_reads_is_described_by_the_schema() -> None:
    read = _keys_read_by_scenario_module()
    assert {"name", "drsPageSize", "activeRegions", "regionSpreadMs", "first", "page"} <= read  # the scan works
    missing = read - _schema_property_names(load_schema())
    assert not missing, f"harness/scenario/model.py reads keys the schema does not describe: {sorted(missing)}"


def test_every_schema_object_documents_itself_for_editors() -> None:
    properties = load_schema()["properties"]
    undocumented = [key for key, value in properties.items() if "description" not in value and "$ref" not in value]
    assert not undocumented


# ---------------------------------------------------------------------------------------------- valid documents


def test_full_example_uses_every_top_level_key_and_builds_the_model() -> None:
    scenario = load_scenario(VALID / "full.yaml")
    assert set(scenario.raw) == set(load_schema()["properties"])
    assert scenario.name == "full"
    assert scenario.source == str(VALID / "full.yaml")
    assert scenario.clock == "2026-02-01T08:30:00Z"  # an unquoted timestamp stays the string it was
    assert scenario.lambda_region == "eu-west-1"
    assert scenario.drs_page_size == 50
    assert [account.account_id for account in scenario.accounts] == ["111111111111", "222222222222", "333333333333"]
    failing = scenario.accounts[2]
    assert failing.row == {
        "accountId": "333333333333",
        "roleArn": "arn:aws:iam::333333333333:role/DRSOrchestrationRole",
        "externalId": None,
    }
    assert failing.assume_role_error is not None and failing.assume_role_error.code == "AccessDenied"
    assert [row["region"] for row in scenario.region_status] == ["us-east-1", "eu-west-1", "ap-south-1"]
    assert scenario.servers[0].total == 7 and scenario.servers[1].ec2_instances is False
    assert scenario.servers[0].items[0].drs["stagingArea"] is None
    assert [fault.when.mode for fault in scenario.faults] == ["page", "once", "first", "first", "always", "call"]
    assert scenario.faults[5].invocation == 2 and scenario.faults[5].when.n == 1
    assert scenario.dynamodb_page_sizes == {"targetAccounts": 2, "inventory": 3}
    assert [(role.arn, role.external_id) for role in scenario.trusted_roles] == [
        ("arn:aws:iam::222222222222:role/DRSOrchestrationRole", "drs-orchestration-cross-account"),
        ("arn:aws:iam::444444444444:role/DRSOrchestrationRole", "tenant-444"),
    ]
    assert "role" not in scenario.accounts[1].row  # the role's trust is the world's, not a table attribute
    assert (scenario.invocations, scenario.seconds_between_invocations) == (2, 30.0)
    assert scenario.entry == Entry(
        via="lambda_handler", flag="false", event={"operation": "sync_source_server_inventory", "source": "aws.events"}
    )
    assert scenario.faults[3].effect.kind == "unprocessed" and scenario.faults[3].effect.count == 3
    assert scenario.latency.for_call("drs", "DescribeSourceServers") == 30.0
    assert scenario.environment == {"DRS_REGION_STATUS_TABLE": None, "EXTRA_SETTING": "5"}
    assert scenario.expect.status_code == 200 and scenario.approvals == ("AD-1", "AD-3")


def test_the_full_example_builds_the_world_it_describes(world_factory: Callable[..., Any]) -> None:
    """The format and the world builder agree: every key of the full example is understood by a real world."""
    world = world_factory(load_scenario(VALID / "full.yaml"))
    snapshot = world.table_snapshot()
    assert {table: len(items) for table, items in snapshot.items()} == {
        "inventory": 1,
        "targetAccounts": 3,
        "regionStatus": 3,
    }
    assert {key: len(servers) for key, servers in world.servers.items()} == {
        ("222222222222", "us-east-1"): 7,
        ("111111111111", "eu-west-1"): 2,
    }
    special, skipped = world.servers[("222222222222", "us-east-1")][:2]
    assert "stagingArea" not in special  # null in the partial removed the generated staging area
    assert special["sourceProperties"]["identificationHints"]["hostname"] == "special-host"
    assert special["sourceProperties"]["identificationHints"]["awsInstanceID"].startswith("i-")
    assert "awsInstanceID" not in skipped["sourceProperties"]["identificationHints"]  # ec2: {create: false}
    hub = world.servers[("111111111111", "eu-west-1")]
    assert all("awsInstanceID" not in server["sourceProperties"]["identificationHints"] for server in hub)


def test_minimal_document_takes_every_default() -> None:
    scenario = load_scenario(VALID / "minimal.yaml")
    assert scenario == Scenario(name="minimal", source=str(VALID / "minimal.yaml"))
    assert scenario.clock == DEFAULT_CLOCK and scenario.drs_page_size == DEFAULT_PAGE_SIZE


def test_the_annotated_example_in_the_format_docs_is_valid() -> None:
    text = (ROOT / "docs" / "scenario-format.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "docs/scenario-format.md has no yaml example"
    for block in blocks:
        doc, _node = parse_yaml(block)
        if isinstance(doc, dict) and "name" in doc:
            assert isinstance(document_scenario(doc, source="docs/scenario-format.md"), Scenario)


def test_documents_built_in_memory_are_validated_too() -> None:
    with pytest.raises(ScenarioError) as raised:
        document_scenario({"name": "x", "seed": -1}, source="generated")
    assert [str(problem) for problem in raised.value.problems] == ["generated:seed: must be >= 0, got -1"]


def test_region_status_and_inventory_rows_accept_their_documented_shapes() -> None:
    doc = {
        "name": "rows",
        "tables": {
            "activeRegions": "all",
            "regionStatus": [{"region": "sa-east-1", "accountId": "222222222222", "status": "THROTTLED"}],
            "inventory": [
                {
                    "sourceServerArn": "arn:aws:drs:us-east-1:222222222222:source-server/s-00000000000000001",
                    "stagingAccountId": "222222222222",
                    "anything": {"nested": [1, 2.5, None, True]},
                }
            ],
        },
    }
    assert _problems(doc) == []
    assert len(document_scenario(doc).region_status) == 28


# ----------------------------------------------------------------------------------------- problems, by kind


@pytest.mark.parametrize(
    ("file", "path", "reason", "line"),
    [
        ("unknown-key.yaml", "accounts[0].rolearn", "unknown key 'rolearn' (did you mean 'roleArn'?)", 4),
        ("bad-account-id.yaml", "accounts[0].accountId", "account id must be a quoted string of 12 digits", 3),
        ("unquoted-account-id.yaml", "lambdaAccount", "got 111111111111", 2),
        ("unknown-region.yaml", "servers[0].region", "unknown region", 4),
        ("unknown-error-code.yaml", "faults[0].effect.code", "unknown error code 'AccessDenied' for drs", 5),
        ("negative-count.yaml", "servers[0].count", "must be >= 0, got -1", 5),
        ("name-mismatch.yaml", "name", "must equal the file name without extension, 'name-mismatch'", 1),
        ("duplicate-account.yaml", "accounts[2].accountId", "duplicate account id '222222222222'", 5),
        ("page-trigger.yaml", "faults[0].when.page", "only applies to service drs, operation DescribeSourceServers", 6),
        ("unprocessed-wrong-operation.yaml", "faults[0].effect.kind", "only applies to service dynamodb", 6),
        ("unprocessed-forever.yaml", "faults[0].when", "needs when: once, {first: N} or {call: N}", 7),
        ("syntax-error.yaml", "", "YAML syntax error at column 4", 4),
        ("not-a-mapping.yaml", "", "a scenario must be a mapping at the top level, got a list", 1),
        ("unknown-drs-member.yaml", "servers[0].items[0].drs.sourceProperties.identificationHints.awsInstanceId",
         "not a member of DRS IdentificationHints (did you mean 'awsInstanceID'?)", 8),
        ("duplicate-key.yaml", "seed", "duplicate key 'seed' (first at line 2)", 3),
    ],
)  # fmt: skip
def test_each_broken_file_names_file_path_reason_and_line(file: str, path: str, reason: str, line: int) -> None:
    target = BROKEN / file
    problems = validate_paths([target])
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.path, problem.line) == (str(target), path, line)
    assert reason in problem.reason
    location = f"{target}:{path}" if path else str(target)
    assert str(problem).startswith(f"{location}: ")


def test_every_broken_example_is_exercised() -> None:
    assert len(list(BROKEN.glob("*.yaml"))) == 15


def test_unknown_keys_are_reported_at_every_level() -> None:
    doc = {
        "name": "x",
        "nmae": "x",
        "tables": {"inventroy": []},
        "latency": {"services": {"lambda": 5}},
        "faults": [{"service": "drs", "effect": {"code": "ThrottlingException", "extra": 1}}],
        "servers": [{"account": "222222222222", "region": "us-east-1", "items": [{"ec2": {"tag": {}}}]}],
    }
    assert _paths(doc) == [
        "nmae",
        "tables.inventroy",
        "latency.services.lambda",
        "faults[0].effect.extra",
        "servers[0].items[0].ec2.tag",
    ]
    assert _reason_at(doc, "tables.inventroy") == "unknown key 'inventroy' (did you mean 'inventory'?)"


@pytest.mark.parametrize(
    ("doc", "path", "reason"),
    [
        ({"seed": "1"}, "seed", "must be an integer, got '1'"),
        ({"drsPageSize": 0}, "drsPageSize", "must be >= 1, got 0"),
        ({"drsPageSize": 1001}, "drsPageSize", "must be <= 1000, got 1001"),
        ({"clock": "2026-01-15 12:00"}, "clock", "clock must be ISO-8601 UTC like 2026-01-15T12:00:00Z"),
        ({"clock": "2026-02-30T12:00:00Z"}, "clock", "is not a real date and time"),
        ({"lambdaRegion": "us-gov-west-1"}, "lambdaRegion", "unknown region"),
        ({"tables": {"activeRegions": ["us-east-1", "mars-1"]}}, "tables.activeRegions[1]", "unknown region"),
        ({"tables": {"activeRegions": "some"}}, "tables.activeRegions", "must be a list of DRS regions or \"all\""),
        ({"tables": {"regionStatus": [{"serverCount": 1}]}}, "tables.regionStatus[0]", "missing required key 'region'"),
        ({"tables": {"regionStatus": [{"region": "us-east-1", "status": "OK"}]}}, "tables.regionStatus[0].status",
         "must be one of AVAILABLE"),
        ({"tables": {"inventory": [{"sourceServerArn": "a"}]}}, "tables.inventory[0]",
         "missing required key 'stagingAccountId'"),
        ({"accounts": [{"accountName": "a"}]}, "accounts[0]", "missing required key 'accountId'"),
        ({"accounts": [{"accountId": "222222222222", "roleArn": 5}]}, "accounts[0].roleArn",
         "must be a string or null, got 5 (quote it in YAML)"),
        ({"servers": [{"account": "222222222222", "region": "us-east-1", "ec2Instances": "no"}]},
         "servers[0].ec2Instances", "must be true or false, got 'no'"),
        ({"servers": [{"account": "222222222222", "region": "us-east-1", "items": [{"ec2": {"state": "up"}}]}]},
         "servers[0].items[0].ec2.state", "must be one of running, stopped"),
        ({"faults": [{"service": "lambda", "effect": {"kind": "timeout"}}]}, "faults[0].service",
         "must be one of drs, sts, ec2, dynamodb; got 'lambda'"),
        ({"faults": [{"service": "drs"}]}, "faults[0]", "missing required key 'effect'"),
        ({"faults": [{"service": "drs", "effect": {}}]}, "faults[0].effect", "missing required key 'code'"),
        ({"faults": [{"service": "drs", "effect": {"kind": "explode"}}]}, "faults[0].effect.kind", "must be one of"),
        ({"faults": [{"service": "drs", "effect": {"code": "ThrottlingException", "status": 200}}]},
         "faults[0].effect.status", "must be >= 400, got 200"),
        ({"faults": [{"service": "drs", "effect": {"kind": "timeout"}, "when": "twice"}]}, "faults[0].when",
         "when must be always, once, {first: N}, {call: N} or {page: K}"),
        ({"faults": [{"service": "drs", "effect": {"kind": "timeout"}, "when": {"first": 0}}]},
         "faults[0].when.first", "must be >= 1, got 0"),
        ({"latency": {"services": {"drs": -1}}}, "latency.services.drs", "must be >= 0, got -1"),
        ({"latency": {"backoffScale": 2}}, "latency.backoffScale", "must be <= 1, got 2"),
        ({"latency": {"operations": {"DescribeSourceServers": 5}}}, "latency.operations",
         "operation latency keys look like drs:DescribeSourceServers"),
        ({"environment": {"TABLE": 5}}, "environment.TABLE", "environment values must be strings"),
        ({"environment": {"1X": "a"}}, "environment", "environment variable names are letters"),
        ({"environment": {1: "a"}}, "environment[\"1\"]", "key 1 must be a string (quote it in YAML)"),
        ({"expect": {"statusCode": 200, "raises": "UnboundLocalError"}}, "expect.raises", "are exclusive"),
        ({"expect": {"inventoryCount": -2}}, "expect.inventoryCount", "must be >= 0, got -2"),
        ({"approvals": ["AD1"]}, "approvals[0]", "approval ids look like AD-1"),
        ({"approvals": ["AD-1", "AD-1"]}, "approvals", "must not contain duplicates"),
        ({"tags": ["has space"]}, "tags[0]", "without spaces"),
        ({"dynamodbPageSize": {"inventory": 0}}, "dynamodbPageSize.inventory", "must be >= 1, got 0"),
        ({"dynamodbPageSize": {"accounts": 2}}, "dynamodbPageSize.accounts",
         "unknown key 'accounts' (did you mean 'targetAccounts'?)"),
        ({"roles": [{"arn": "arn:aws:iam::2:role/R", "externalId": "ab"}]}, "roles[0].arn",
         "a role ARN looks like arn:aws:iam::222222222222:role/DRSOrchestrationRole"),
        ({"roles": [{"arn": "arn:aws:iam::222222222222:role/R"}]}, "roles[0]", "missing required key 'externalId'"),
        ({"roles": [{"arn": "arn:aws:iam::222222222222:role/R", "externalId": "a"}]}, "roles[0].externalId",
         "must be at least 2 characters long"),
        ({"accounts": [{"accountId": "222222222222", "role": {"externalId": "tenant 1"}}]},
         "accounts[0].role.externalId", "an ExternalId is 2-1224 characters"),
        ({"invocations": 0}, "invocations", "must be >= 1, got 0"),
        ({"invocations": 11}, "invocations", "must be <= 10, got 11"),
        ({"secondsBetweenInvocations": -1, "invocations": 2}, "secondsBetweenInvocations", "must be >= 0, got -1"),
        ({"faults": [{"service": "drs", "invocation": 0, "effect": {"kind": "timeout"}}]}, "faults[0].invocation",
         "must be >= 1, got 0"),
        ({"faults": [{"service": "drs", "effect": {"kind": "timeout"}, "when": {"call": 0}}]},
         "faults[0].when.call", "must be >= 1, got 0"),
        ({"entry": {"flag": "true"}}, "entry", "missing required key 'via'"),
        ({"entry": {"via": "main"}}, "entry.via", "must be one of handler, lambda_handler; got 'main'"),
    ],
)  # fmt: skip
def test_schema_and_semantic_problems_name_path_and_reason(doc: dict[str, Any], path: str, reason: str) -> None:
    assert reason in _reason_at({"name": "x", **doc}, path)


def test_a_fault_error_code_must_be_known_for_that_service() -> None:
    doc = {"name": "x", "faults": [{"service": "dynamodb", "effect": {"code": "ThrottlingException"}}]}
    assert _problems(doc) == []  # DynamoDB does answer ThrottlingException
    doc["faults"][0]["service"] = "ec2"
    reason = _reason_at(doc, "faults[0].effect.code")
    assert reason.startswith("unknown error code 'ThrottlingException' for ec2; known: ")
    assert "InvalidInstanceID.NotFound" in reason


def test_assume_role_failures_are_checked_as_sts_faults() -> None:
    def account(effect: dict[str, Any]) -> dict[str, Any]:
        return {"name": "x", "accounts": [{"accountId": "222222222222", "assumeRole": effect}]}

    assert _problems(account({"code": "AccessDenied"})) == []
    assert _problems(account({"kind": "connection"})) == []
    assert "for sts" in _reason_at(account({"code": "AccessDeniedException"}), "accounts[0].assumeRole.code")
    unprocessed = account({"kind": "unprocessed"})
    assert "only applies to service dynamodb" in _reason_at(unprocessed, "accounts[0].assumeRole.kind")


def test_operations_must_exist_in_the_botocore_model_of_the_service() -> None:
    doc = {
        "name": "x",
        "faults": [{"service": "sts", "operation": "DescribeInstances", "effect": {"kind": "timeout"}}],
        "latency": {"operations": {"ec2:DescribeInstance": 5, "dynamodb:Scan": 1}},
    }
    assert _problems(doc) == [
        ("faults[0].operation", "unknown operation 'DescribeInstances' for sts"),
        (
            'latency.operations["ec2:DescribeInstance"]',
            "unknown operation 'DescribeInstance' for ec2 (did you mean 'DescribeInstances'?)",
        ),
    ]


def test_effect_keys_only_apply_to_their_kind_and_matchers_to_their_service() -> None:
    doc = {
        "name": "x",
        "faults": [
            {"service": "drs", "table": "inventory", "roleAccount": "222222222222", "effect": {"kind": "timeout"}},
            {"service": "ec2", "sessionName": "s", "effect": {"kind": "connection", "code": "X", "status": 500}},
            {"service": "drs", "effect": {"code": "ThrottlingException", "count": 2}},
        ],
    }
    assert _problems(doc) == [
        ("faults[0].table", "table only applies to service dynamodb, not drs"),
        ("faults[0].roleAccount", "roleAccount only applies to service sts, not drs"),
        ("faults[1].sessionName", "sessionName only applies to service sts, not ec2"),  # problems in document order
        ("faults[1].effect.code", "code only applies to kind error, not connection"),
        ("faults[1].effect.status", "status only applies to kind error, not connection"),
        ("faults[2].effect.count", "count only applies to kind unprocessed, not error"),
    ]


def test_page_and_unprocessed_need_their_exact_operation() -> None:
    page = {"service": "drs", "effect": {"kind": "timeout"}, "when": {"page": 3}}
    assert "faults[0].when.page" in _paths({"name": "x", "faults": [page]})  # any drs operation is too loose
    assert _paths({"name": "x", "faults": [{**page, "operation": "DescribeSourceServers"}]}) == []
    unprocessed = {"service": "dynamodb", "operation": "BatchWriteItem", "effect": {"kind": "unprocessed"}}
    assert _paths({"name": "x", "faults": [{**unprocessed, "when": "once"}]}) == []
    assert _paths({"name": "x", "faults": [unprocessed]}) == ["faults[0].when"]  # would resend forever


def test_a_rows_role_needs_the_row_to_name_one_and_each_role_is_declared_once() -> None:
    role = "arn:aws:iam::222222222222:role/DRSOrchestrationRole"
    doc = {
        "name": "x",
        "accounts": [
            {"accountId": "222222222222", "roleArn": role, "role": {"externalId": "tenant-2"}},
            {"accountId": "333333333333", "roleArn": "", "role": {"externalId": "tenant-3"}},
        ],
        "roles": [{"arn": role, "externalId": "tenant-2"}],
    }
    assert _problems(doc) == [
        (
            "accounts[1].role",
            "role describes the role roleArn names, and this row names none (declare a role no row names under the "
            "top-level roles)",
        ),
        ("roles[0].arn", f"duplicate role '{role}' (also at accounts[0].role)"),
    ]


def test_a_declared_role_is_one_the_world_can_create_in_iam() -> None:
    """The world creates each declared role in IAM: a row's roleArn must be a role ARN, a name unique per account."""
    doc = {
        "name": "x",
        "accounts": [
            {"accountId": "222222222222", "roleArn": "CustomRole", "role": {"externalId": "tenant-2"}},
            {
                "accountId": "333333333333",
                "roleArn": "arn:aws:iam::333333333333:role/ops/DrsRole",
                "role": {"externalId": "tenant-3"},
            },
        ],
        "roles": [{"arn": "arn:aws:iam::333333333333:role/drsrole", "externalId": "tenant-3"}],
    }
    assert _problems(doc) == [
        (
            "accounts[0].role",
            "role describes an IAM role: roleArn must look like arn:aws:iam::222222222222:role/DRSOrchestrationRole, "
            "not 'CustomRole'",
        ),
        (
            "roles[0].arn",
            "duplicate role name in one account (IAM role names are unique in an account, paths aside) "
            "('333333333333', 'drsrole') (also at accounts[1].role)",
        ),
    ]


def test_invocation_keys_must_fit_the_number_of_invocations() -> None:
    fault = {"service": "drs", "invocation": 3, "effect": {"kind": "timeout"}}
    assert _problems({"name": "x", "invocations": 3, "secondsBetweenInvocations": 30, "faults": [fault]}) == []
    assert _problems({"name": "x", "invocations": 2, "faults": [fault]}) == [
        ("faults[0].invocation", "invocation 3 never happens: the scenario has 2 invocation(s)")
    ]
    assert _problems({"name": "x", "secondsBetweenInvocations": 30}) == [
        ("secondsBetweenInvocations", "secondsBetweenInvocations only applies with invocations > 1")
    ]


def test_the_entry_point_keys_and_the_feature_flag() -> None:
    sync = {"operation": "sync_source_server_inventory", "source": "aws.events"}
    assert _problems({"name": "x", "entry": {"via": "lambda_handler", "flag": "TRUE", "event": sync}}) == []
    assert _problems({"name": "x", "entry": {"via": "handler"}}) == []
    assert _paths({"name": "x", "entry": {"via": "handler", "flag": "true", "event": sync}}) == [
        "entry.flag",
        "entry.event",
    ]
    unknown = {"name": "x", "entry": {"via": "lambda_handler", "event": {"operation": "delete_everything"}}}
    assert "the baseline is production's entry point today" in _reason_at(unknown, "entry.event.operation")
    flagged = {"name": "x", "environment": {"USE_REFACTORED_INVENTORY_SYNC": "false"}}
    assert _reason_at(flagged, "environment.USE_REFACTORED_INVENTORY_SYNC").startswith(
        "set the feature flag with entry: {via: lambda_handler, flag: ...}"
    )


def test_duplicate_rows_are_reported_with_the_first_occurrence() -> None:
    arn = "arn:aws:drs:us-east-1:222222222222:source-server/s-00000000000000001"
    doc = {
        "name": "x",
        "tables": {
            "regionStatus": [{"region": "us-east-1"}, {"region": "us-east-1", "serverCount": 0}],
            "inventory": [{"sourceServerArn": arn, "stagingAccountId": "222222222222"}] * 2,
        },
    }
    region_reason = "duplicate region-status row for 'us-east-1' (also at tables.regionStatus[0].region)"
    key = f"'{arn} / 222222222222'"
    inventory_reason = (
        f"duplicate inventory key (sourceServerArn / stagingAccountId) {key} (also at tables.inventory[0])"
    )
    assert _problems(doc) == [
        ("tables.regionStatus[1].region", region_reason),
        ("tables.inventory[1]", inventory_reason),
    ]


def test_drs_partials_are_checked_against_the_botocore_source_server_shape() -> None:
    drs = {
        "sourceCloudProperties": {"originAccountID": "444444444444", "originRegion": "eu-west-1"},
        "sourceProperties": {"disks": [{"deviceName": "/dev/xvda", "bytes": "8 GiB"}], "ramBytes": True},
        "lastLaunchResult": "DONE",
        "tags": {"Name": 5},
        "stagingArea": None,
        "arn": "",
    }
    doc = {"name": "x", "servers": [{"account": "222222222222", "region": "us-east-1", "items": [{"drs": drs}]}]}
    prefix = "servers[0].items[0].drs."
    assert _problems(doc) == [
        (prefix + "sourceProperties.disks[0].bytes", "must be an integer (PositiveInteger), got '8 GiB'"),
        (prefix + "sourceProperties.ramBytes", "must be an integer (PositiveInteger), got true"),
        (prefix + "lastLaunchResult", "must be one of NOT_STARTED, PENDING, SUCCEEDED, FAILED; got 'DONE'"),
        (prefix + "tags.Name", "must be a string (TagValue), got 5"),
    ]


def test_null_removes_structure_members_but_is_not_a_list_item() -> None:
    assert source_server_problems({"stagingArea": None}, partial=True) == []
    assert source_server_problems({"stagingArea": None}) == [(("stagingArea",), "must not be null here")]
    problems = source_server_problems({"sourceProperties": {"networkInterfaces": [None]}}, partial=True)
    assert problems == [(("sourceProperties", "networkInterfaces", 0), "must not be null here")]


def test_problems_never_crash_on_documents_of_the_wrong_shape() -> None:
    odd: list[Any] = [
        {"name": "x", "accounts": "none", "servers": {"a": 1}, "faults": [1, None], "tables": [], "latency": 3},
        {"name": ["x"], "clock": 5, "expect": [], "environment": []},
        {"name": "x", "faults": [{"service": ["drs"], "effect": [], "when": []}]},
    ]
    for doc in odd:
        assert check_document(copy.deepcopy(doc)), doc


def test_format_path_reads_like_the_document() -> None:
    assert format_path(("faults", 2, "effect", "code")) == "faults[2].effect.code"
    assert format_path(("latency", "operations", "drs:X")) == 'latency.operations["drs:X"]'
    assert format_path(()) == ""


# ------------------------------------------------------------------------------------------------ loading files


def test_a_directory_expands_to_its_yaml_files_sorted(tmp_path: Path) -> None:
    for stem in ("b", "a"):
        (tmp_path / f"{stem}.yaml").write_text(f"name: {stem}\n")
    (tmp_path / "c.yml").write_text("name: c\n")
    (tmp_path / "notes.txt").write_text("not a scenario")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "d.yaml").write_text("name: d\n")
    assert [scenario.name for scenario in load_scenarios([tmp_path])] == ["a", "b", "c"]
    files, problems = expand_paths([tmp_path, tmp_path / "a.yaml"])
    assert [file.name for file in files] == ["a.yaml", "b.yaml", "c.yml"] and problems == []


def test_loading_is_all_or_nothing_and_reports_every_file(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text("name: good\n")
    (tmp_path / "bad.yaml").write_text("name: bad\nseed: -5\n")
    (tmp_path / "worse.yaml").write_text("name: worse\nclock: [\n")
    with pytest.raises(ScenarioError) as raised:
        load_scenarios([tmp_path])
    assert [(problem.file, problem.path) for problem in raised.value.problems] == [
        (str(tmp_path / "bad.yaml"), "seed"),
        (str(tmp_path / "worse.yaml"), ""),
    ]
    assert str(tmp_path / "bad.yaml") in str(raised.value)


def test_missing_paths_empty_directories_and_odd_files_are_problems(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "blank.yaml").write_text("# nothing here\n")
    (tmp_path / "binary.yaml").write_bytes(b"name: \xff\xfe\n")
    (tmp_path / "two.yaml").write_text("name: two\n---\nname: two\n")
    (tmp_path / "python.yaml").write_text("name: !!python/object:os.system x\n")
    problems = validate_paths(
        [tmp_path / "nope.yaml", tmp_path / "empty", *(tmp_path / f"{stem}.yaml" for stem in ("blank", "binary"))]
        + [tmp_path / "two.yaml", tmp_path / "python.yaml"]
    )
    reasons = {Path(problem.file).name: problem.reason for problem in problems}
    assert reasons["nope.yaml"] == "no such file or directory"
    assert reasons["empty"] == "no scenario files (*.yaml, *.yml) in this directory"
    assert reasons["blank.yaml"].startswith("the file is empty")
    assert reasons["binary.yaml"].startswith("not UTF-8 text")
    assert "expected a single document" in reasons["two.yaml"]
    assert "could not determine a constructor" in reasons["python.yaml"]
    with pytest.raises(ScenarioError):
        load_scenario(tmp_path / "empty")


def test_scenario_names_are_unique_across_directories(tmp_path: Path) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.yaml").write_text("name: same\n")
    problems = validate_paths([tmp_path / "one", tmp_path / "two"])
    assert [(Path(p.file).parent.name, p.path) for p in problems] == [("two", "name")]
    assert "duplicate scenario name 'same'" in problems[0].reason


def test_problems_point_at_the_yaml_line(tmp_path: Path) -> None:
    lines = ["name: lines", "faults:", "  - service: drs", "    effect:", "      code: Nope", "accounts:"]
    lines.append("  - {accountId: '1'}")
    (tmp_path / "lines.yaml").write_text("\n".join(lines) + "\n")
    problems = validate_paths([tmp_path / "lines.yaml"])
    assert [(problem.path, problem.line) for problem in problems] == [
        ("faults[0].effect.code", 5),
        ("accounts[0].accountId", 7),
    ]


def test_problem_renders_as_file_path_reason() -> None:
    assert str(Problem("a.yaml", "faults[0].effect.code", "unknown error code 'X' for drs")) == (
        "a.yaml:faults[0].effect.code: unknown error code 'X' for drs"
    )
    assert str(Problem("a.yaml", "", "no such file", None)) == "a.yaml: no such file"
    assert str(Problem("a.yaml", "seed", "must be >= 0, got -1", 3)) == "a.yaml:seed: must be >= 0, got -1 (line 3)"


# ----------------------------------------------------------------------------------------------------- the CLI


def test_cli_validate_valid_files_exits_0_with_one_summary_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", str(VALID)]) == EXIT_OK
    out, err = capsys.readouterr()
    assert out == "OK: 2 scenario file(s) valid (9 servers, 6 fault rules)\n" and err == ""


def test_cli_validate_broken_files_exits_2_listing_each_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", str(VALID), str(BROKEN / "unknown-key.yaml")]) == EXIT_BAD_INPUT
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{BROKEN / 'unknown-key.yaml'}:accounts[0].rolearn: unknown key 'rolearn' (did you mean 'roleArn'?) (line 4)",
        "1 problem(s) in 1 file(s)",
    ]


def test_cli_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["validate"], ["frobnicate"]):
        with pytest.raises(SystemExit) as raised:
            cli.main(argv)
        assert raised.value.code == EXIT_BAD_INPUT
    assert "usage:" in capsys.readouterr().err


def test_cli_commands_register_from_one_small_function(capsys: pytest.CaptureFixture[str]) -> None:
    def arguments(parser: Any) -> None:
        parser.add_argument("--flag", action="store_true")

    def handler(args: Any) -> int:
        load_scenario(BROKEN / "negative-count.yaml")  # a ScenarioError escaping a handler is reported, exit 2
        return EXIT_OK

    try:
        cli.command("probe", "a test command", arguments)(handler)
        with pytest.raises(ValueError, match="already registered"):
            cli.command("probe", "again", arguments)(handler)
        assert cli.main(["probe", "--flag"]) == EXIT_BAD_INPUT
        assert "servers[0].count: must be >= 0, got -1" in capsys.readouterr().err
    finally:
        cli.COMMANDS.pop("probe", None)


def test_python_dash_m_harness_validate_exit_codes() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(*paths: Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "harness", "validate", *map(str, paths)]
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=False)  # noqa: S603

    good = run(VALID)
    assert (good.returncode, good.stdout.startswith("OK: 2 scenario file(s) valid"), good.stderr) == (0, True, "")
    bad = run(BROKEN)
    assert bad.returncode == 2 and bad.stdout == ""
    expected = f"{BROKEN / 'negative-count.yaml'}:servers[0].count: must be >= 0, got -1 (line 5)"
    assert expected in bad.stderr.splitlines()
    assert bad.stderr.splitlines()[-1] == "15 problem(s) in 15 file(s)"
