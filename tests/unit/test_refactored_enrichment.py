"""Unit tests of the refactor's EC2 enrichment (LB-7) in simulated AWS worlds."""

from __future__ import annotations

import copy
import logging
import threading
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

import refactored.ec2 as ec2_module
from lambda_shared.dynamodb_tables import get_target_accounts_table
from refactored.ec2 import _ec2_groups, _ec2_role, _query_ec2_group
from refactored.inventory_sync import (
    DiscoveredServer,
    enrich_with_ec2_metadata,
    get_account_credentials,
    query_drs_all_regions,
    query_ec2_instances,
)

LAMBDA = "111111111111"
TARGET = "222222222222"
OTHER = "333333333333"
ROLE = f"arn:aws:iam::{TARGET}:role/DRSOrchestrationRole"
UNKNOWN_INSTANCE = "i-0000000000000dead"
REGIONS = ["us-east-1", "eu-west-1"]
DEFAULT_EXT = "drs-orchestration-cross-account"


def calls_of(world: Any, operation: str) -> list[Any]:
    return [c for c in world.calls if c.operation == operation]


def found_servers(account: str = TARGET, role_arn: str | None = ROLE) -> list[DiscoveredServer]:
    """Query DRS for the account the way the orchestrator does, returning what enrichment receives."""
    account_row = {"accountId": account, "roleArn": role_arn, "externalId": None}
    servers, _ = query_drs_all_regions(account_row, get_account_credentials(account_row), REGIONS, "t")
    return servers


def world_with(world_factory: Any, servers: list[dict[str, Any]], **extra: Any) -> Any:
    doc: dict[str, Any] = {
        "accounts": [{"accountId": TARGET, "roleArn": ROLE, "externalId": "ext-target"}],
        "tables": {"activeRegions": REGIONS},
        "servers": servers,
        **extra,
    }
    return world_factory(doc)


def instance_of(found: DiscoveredServer) -> str:
    return found.server["sourceProperties"]["identificationHints"]["awsInstanceID"]


def test_enrichment_attaches_instance_details_by_instance_id(world_factory):
    world = world_with(world_factory, [{"account": TARGET, "region": "us-east-1", "count": 3}])
    servers = found_servers()
    world.calls.clear()
    enriched = enrich_with_ec2_metadata(servers)
    assert len(enriched) == 3
    for found in enriched:
        details = found.ec2
        assert details is not None
        assert details["vpcId"].startswith("vpc-") and details["subnetId"].startswith("subnet-")
        assert details["privateIp"] and details["securityGroups"] and details["instanceProfile"].startswith("arn:")
        assert details["tags"] == {"Environment": "production", "ManagedBy": "drs-inventory-harness"}
    assume = calls_of(world, "AssumeRole")
    assert [c.params for c in assume] == [
        {
            "RoleArn": ROLE,
            "RoleSessionName": "inventory-ec2-query",
            "ExternalId": "ext-target",
            "DurationSeconds": 900,
        }
    ]
    describe = calls_of(world, "DescribeInstances")
    assert len(describe) == 1 and describe[0].account == TARGET and describe[0].region == "us-east-1"
    asked = [v for k, v in sorted(describe[0].params.items()) if k.startswith("InstanceId")]
    assert sorted(asked) == sorted(instance_of(f) for f in servers)
    get_items = calls_of(world, "GetItem")
    assert [c.params["Key"] for c in get_items] == [{"accountId": {"S": TARGET}}]


def test_enrichment_never_modifies_the_server_dicts(world_factory):
    world_with(world_factory, [{"account": TARGET, "region": "us-east-1", "count": 2}])
    servers = found_servers()
    before = copy.deepcopy([f.server for f in servers])
    enriched = enrich_with_ec2_metadata(servers)
    assert [f.server for f in enriched] == before
    assert [(f.account_id, f.region) for f in enriched] == [(f.account_id, f.region) for f in servers]


def test_enrichment_groups_by_origin_account_and_region_in_first_seen_order(world_factory):
    world = world_with(
        world_factory,
        [
            {
                "account": TARGET,
                "region": "us-east-1",
                "items": [
                    {"drs": {"sourceCloudProperties": {"originAccountID": OTHER, "originRegion": "eu-west-1"}}},
                    {"drs": {"sourceCloudProperties": {"originAccountID": LAMBDA, "originRegion": "us-east-1"}}},
                    {"drs": {"sourceCloudProperties": {"originAccountID": OTHER, "originRegion": "eu-west-1"}}},
                ],
            }
        ],
    )
    servers = found_servers()
    groups = _ec2_groups(servers)
    assert list(groups) == [(OTHER, "eu-west-1"), (LAMBDA, "us-east-1")]
    assert groups[(OTHER, "eu-west-1")] == [instance_of(servers[0]), instance_of(servers[2])]
    world.calls.clear()
    enriched = enrich_with_ec2_metadata(servers)
    assert all(f.ec2 for f in enriched)
    # The Lambda's own account is read with its own credentials; OTHER is not a target: default role and id.
    assume = calls_of(world, "AssumeRole")
    assert [c.params["RoleArn"] for c in assume] == [f"arn:aws:iam::{OTHER}:role/DRSOrchestrationRole"]
    assert assume[0].params["ExternalId"] == "drs-orchestration-cross-account"
    by_account = {c.account: c.region for c in calls_of(world, "DescribeInstances")}
    assert by_account == {OTHER: "eu-west-1", LAMBDA: "us-east-1"}
    assert len(calls_of(world, "GetCallerIdentity")) == 2  # once per group, as legacy


def test_enrichment_defaults_apply_only_when_origin_keys_are_absent(world_factory):
    hints = {"identificationHints": {"awsInstanceID": UNKNOWN_INSTANCE}}
    world_with(
        world_factory,
        [
            {
                "account": TARGET,
                "region": "us-east-1",
                "items": [
                    {"drs": {"sourceProperties": hints, "sourceCloudProperties": {"originRegion": ""}}},
                    {"drs": {"sourceProperties": hints}},
                    {"drs": {"sourceProperties": {"identificationHints": {"awsInstanceID": ""}}}},
                ],
            }
        ],
    )
    assert _ec2_groups(found_servers()) == {
        (TARGET, ""): [UNKNOWN_INSTANCE],
        (TARGET, "us-east-1"): [UNKNOWN_INSTANCE],
    }


def test_enrichment_reassumes_even_an_account_already_assumed(world_factory):
    """Legacy assumes the role again per EC2 group (session ``inventory-ec2-query``): no credential reuse."""
    world = world_with(
        world_factory,
        [
            {"account": TARGET, "region": "us-east-1", "count": 1},
            {"account": TARGET, "region": "eu-west-1", "count": 1},
        ],
    )
    enrich_with_ec2_metadata(found_servers())
    sessions = [c.params["RoleSessionName"] for c in calls_of(world, "AssumeRole")]
    assert sorted(sessions) == ["inventory-ec2-query", "inventory-ec2-query", "inventory-sync"]


def test_enrichment_look_up_failure_falls_back_to_default_role(world_factory):
    world = world_with(
        world_factory,
        [{"account": TARGET, "region": "us-east-1", "count": 1}],
        faults=[{"service": "dynamodb", "operation": "GetItem", "effect": {"code": "AccessDeniedException"}}],
    )
    enriched = enrich_with_ec2_metadata(found_servers())
    ec2_assume = [c for c in calls_of(world, "AssumeRole") if c.params["RoleSessionName"] == "inventory-ec2-query"]
    assert ec2_assume[0].params["ExternalId"] == "drs-orchestration-cross-account"
    assert ec2_assume[0].params["RoleArn"] == ROLE  # the default name is the same role here
    assert enriched[0].ec2 is not None


def test_enrichment_skips_a_group_whose_role_cannot_be_assumed(world_factory, caplog):
    world_with(
        world_factory,
        [
            {"account": TARGET, "region": "us-east-1", "count": 2},
            {
                "account": TARGET,
                "region": "eu-west-1",
                "items": [{"drs": {"sourceCloudProperties": {"originAccountID": OTHER, "originRegion": "eu-west-1"}}}],
            },
        ],
        faults=[
            {
                "service": "sts",
                "operation": "AssumeRole",
                "sessionName": "inventory-ec2-query",
                "roleAccount": OTHER,
                "effect": {"code": "AccessDenied"},
            }
        ],
    )
    with caplog.at_level(logging.WARNING):
        enriched = enrich_with_ec2_metadata(found_servers())
    by_origin = {f.server["sourceCloudProperties"]["originAccountID"]: f.ec2 for f in enriched}
    assert by_origin[OTHER] is None and by_origin[TARGET] is not None
    assert f"EC2 query failed for account {OTHER} region eu-west-1" in caplog.text


def test_enrichment_unknown_instance_falls_back_to_one_call_per_id(world_factory):
    world = world_with(
        world_factory,
        [
            {
                "account": TARGET,
                "region": "us-east-1",
                "count": 2,
                "items": [{"drs": {"sourceProperties": {"identificationHints": {"awsInstanceID": UNKNOWN_INSTANCE}}}}],
            }
        ],
    )
    servers = found_servers()
    world.calls.clear()
    enriched = enrich_with_ec2_metadata(servers)
    assert [f.ec2 is not None for f in enriched] == [False, True, True]
    describe = calls_of(world, "DescribeInstances")
    assert len(describe) == 4  # the chunk, then one call per id of it
    assert [len([k for k in c.params if k.startswith("InstanceId")]) for c in describe] == [3, 1, 1, 1]


def test_enrichment_of_servers_without_instances_makes_no_call(world_factory):
    world = world_with(world_factory, [{"account": TARGET, "region": "us-east-1", "count": 2, "ec2Instances": False}])
    servers = found_servers()
    world.calls.clear()
    enriched = enrich_with_ec2_metadata(servers)
    assert [f.ec2 for f in enriched] == [None, None] and world.calls == []


def test_enrichment_of_nothing_is_nothing(world_factory):
    world = world_with(world_factory, [])
    assert enrich_with_ec2_metadata([]) == [] and world.calls == []


def test_enrichment_raises_like_legacy_on_a_non_mapping_source_properties(world_factory):
    world_with(world_factory, [])
    with pytest.raises(AttributeError):
        enrich_with_ec2_metadata([DiscoveredServer({"sourceProperties": "broken"}, TARGET, "us-east-1")])


def test_enrichment_later_group_wins_for_an_instance_id_two_groups_return():
    """Results merge in group order, like legacy's single dictionary; the property reads the shared index."""
    index = {"i-1": {"vpcId": "vpc-late", "tags": {}}}
    found = DiscoveredServer(
        {"sourceProperties": {"identificationHints": {"awsInstanceID": "i-1"}}}, TARGET, "us-east-1", index
    )
    assert found.ec2 == {"vpcId": "vpc-late", "tags": {}}
    with pytest.raises(TypeError):
        _ = DiscoveredServer({"sourceProperties": {"identificationHints": {"awsInstanceID": ["i-1"]}}}, TARGET, "r").ec2


def test_enrichment_merges_group_results_in_group_order_whatever_finishes_first(monkeypatch):
    """Two groups read the same instance id: the later group's details win, as in legacy's single dictionary, even
    when the earlier group finishes last (it waits for the later one, up to a bound, so one worker also works)."""
    later_done = threading.Event()

    def group_details(group: tuple[str, str], instance_ids: list[str], *_: Any) -> dict[str, Any]:
        if group[0] == TARGET:
            later_done.wait(timeout=2)
        else:
            later_done.set()
        return {instance_id: {"vpcId": f"vpc-{group[0]}", "tags": {}} for instance_id in instance_ids}

    monkeypatch.setattr(ec2_module, "_query_ec2_group", group_details)
    monkeypatch.setattr(ec2_module, "get_target_accounts_table", lambda: None)
    servers = [
        DiscoveredServer(
            {
                "sourceProperties": {"identificationHints": {"awsInstanceID": "i-1"}},
                "sourceCloudProperties": {"originAccountID": origin, "originRegion": "us-east-1"},
            },
            TARGET,
            "us-east-1",
        )
        for origin in (TARGET, OTHER)
    ]
    enriched = enrich_with_ec2_metadata(servers)
    assert [found.ec2 for found in enriched] == [{"vpcId": f"vpc-{OTHER}", "tags": {}}] * 2


# -- query_ec2_instances ---------------------------------------------------------------------------------------------


def launched(world: Any, account: str, region: str) -> list[str]:
    return list(world.instances[(account, region)])


def test_query_ec2_instances_reads_details_of_the_lambda_account(world_factory):
    world = world_factory({"servers": [{"account": LAMBDA, "region": "eu-west-1", "count": 3}]})
    ids = launched(world, LAMBDA, "eu-west-1")
    details = query_ec2_instances(ids, "eu-west-1", None)
    assert set(details) == set(ids)
    assert all(
        set(d) == {"vpcId", "subnetId", "privateIp", "securityGroups", "instanceProfile", "tags"}
        for d in details.values()
    )


def test_query_ec2_instances_chunks_by_100_in_order(world_factory):
    world = world_factory({"servers": [{"account": LAMBDA, "region": "us-east-1", "count": 101}]})
    ids = launched(world, LAMBDA, "us-east-1")
    world.calls.clear()
    assert set(query_ec2_instances(ids, "us-east-1", None)) == set(ids)
    describe = calls_of(world, "DescribeInstances")
    assert [c.params["InstanceId.1"] for c in describe] == [ids[0], ids[100]]
    assert [len(c.params) for c in describe] == [100, 1]


def test_query_ec2_instances_of_nothing_builds_no_client(world_factory):
    world = world_factory({})
    assert query_ec2_instances([], "us-east-1", None) == {} and world.calls == []


def test_query_ec2_instances_swallows_errors_of_the_per_id_fallback(world_factory):
    world = world_factory({"servers": [{"account": LAMBDA, "region": "us-east-1", "count": 1}]})
    ids = [UNKNOWN_INSTANCE, *launched(world, LAMBDA, "us-east-1"), "i-00000000000000bad"]
    assert set(query_ec2_instances(ids, "us-east-1", None)) == set(ids[1:2])


def test_query_ec2_instances_connection_failure_raises_and_keeps_what_was_read(world_factory):
    world = world_factory(
        {
            "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 1}],
            "faults": [{"service": "ec2", "operation": "DescribeInstances", "effect": {"kind": "connection"}}],
        }
    )
    details: dict[str, Any] = {"i-earlier": {"vpcId": "vpc-1"}}
    with pytest.raises(EndpointConnectionError):
        query_ec2_instances(launched(world, LAMBDA, "us-east-1"), "us-east-1", None, details)
    assert details == {"i-earlier": {"vpcId": "vpc-1"}}


def test_query_group_failure_returns_partial_results_and_logs(world_factory, caplog):
    world = world_factory(
        {
            "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 1}],
            "faults": [{"service": "ec2", "operation": "DescribeInstances", "effect": {"kind": "malformed"}}],
        }
    )
    with caplog.at_level(logging.WARNING):
        result = _query_ec2_group(
            (LAMBDA, "us-east-1"), launched(world, LAMBDA, "us-east-1"), get_target_accounts_table()
        )
    assert result == {}
    assert f"EC2 query failed for account {LAMBDA} region us-east-1" in caplog.text


# -- the role of another account's EC2 group (LB-7) ------------------------------------------------------------------

DEFAULT_OTHER_ROLE = f"arn:aws:iam::{OTHER}:role/DRSOrchestrationRole"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({}, (DEFAULT_OTHER_ROLE, "drs-orchestration-cross-account")),
        ({"roleArn": "arn:aws:iam::333333333333:role/Custom"}, ("arn:aws:iam::333333333333:role/Custom", DEFAULT_EXT)),
        ({"roleArn": "", "externalId": "ext-o"}, ("", "ext-o")),
        ({"roleArn": None, "externalId": ""}, (None, "")),
        ({"roleArn": DEFAULT_OTHER_ROLE, "externalId": None}, (DEFAULT_OTHER_ROLE, None)),
    ],
    ids=["absent-both", "absent-external-id", "empty-role", "null-role-empty-external-id", "null-external-id"],
)
def test_ec2_role_keeps_a_present_value_even_when_empty_or_null(world_factory, row, expected):
    """``row.get(key, default)``: the defaults apply only to keys the target-accounts row does not have."""
    world_factory({"accounts": [{"accountId": OTHER, **row}]})
    assert _ec2_role(OTHER, get_target_accounts_table()) == expected


@pytest.mark.parametrize(
    ("row", "rejected"),
    [
        ({"roleArn": "", "externalId": "ext-o"}, "Invalid length for parameter RoleArn"),
        ({"roleArn": None, "externalId": "ext-o"}, "Invalid type for parameter RoleArn"),
        ({"roleArn": DEFAULT_OTHER_ROLE, "externalId": ""}, "Invalid length for parameter ExternalId"),
        ({"roleArn": DEFAULT_OTHER_ROLE, "externalId": None}, "Invalid type for parameter ExternalId"),
    ],
    ids=["roleArn-empty", "roleArn-null", "externalId-empty", "externalId-null"],
)
def test_query_group_sends_a_present_empty_role_field_and_botocore_rejects_it(world_factory, caplog, row, rejected):
    """The present value reaches AssumeRole (``ExternalId`` always sent); botocore refuses it before sending, so
    no AssumeRole reaches the wire and the group is logged as failed and left unenriched, as in legacy."""
    world = world_factory(
        {
            "accounts": [{"accountId": OTHER, **row}],
            "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 1}],
        }
    )
    world.calls.clear()
    with caplog.at_level(logging.WARNING):
        result = _query_ec2_group((OTHER, "us-east-1"), [UNKNOWN_INSTANCE], get_target_accounts_table())
    assert result == {}
    assert calls_of(world, "AssumeRole") == [] and calls_of(world, "DescribeInstances") == []
    assert f"EC2 query failed for account {OTHER} region us-east-1: Parameter validation failed:" in caplog.text
    assert rejected in caplog.text
