"""Hypothesis properties the design lists for the refactored functions, each example in a fresh simulated world.

Worlds cost a few hundred milliseconds, so every property keeps ``max_examples`` small and ``deadline=None``.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import refactored.inventory as inventory_module
from harness.scenario import scenario_from_dict
from harness.world import World
from harness.world.generate import generate_server
from lambda_shared.drs_regions import DRS_REGIONS
from refactored.inventory_sync import (
    DiscoveredServer,
    enrich_with_ec2_metadata,
    get_account_credentials,
    query_drs_all_regions,
    query_ec2_instances,
    write_inventory_to_dynamodb,
)

LAMBDA = "111111111111"
TARGET = "222222222222"
OTHER = "333333333333"
ROLE = f"arn:aws:iam::{TARGET}:role/DRSOrchestrationRole"
ACCOUNT = {"accountId": TARGET, "roleArn": ROLE, "externalId": None}
STAMP = "2026-01-15T12:00:00+00:00"

SMALL = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def world_of(**doc: Any) -> World:
    return World(scenario_from_dict({"name": "property", "accounts": [{"accountId": TARGET, "roleArn": ROLE}], **doc}))


# -- enrichment: output length = input length, original data preserved -----------------------------------------------

SERVER_KINDS = {
    "instance": {},
    "no-instance": {"ec2": {"create": False}},
    "unknown-instance": {
        "drs": {"sourceProperties": {"identificationHints": {"awsInstanceID": "i-0000000000000dead"}}}
    },
    "other-origin": {"drs": {"sourceCloudProperties": {"originAccountID": OTHER, "originRegion": "eu-west-1"}}},
    "lambda-origin": {"drs": {"sourceCloudProperties": {"originAccountID": LAMBDA, "originRegion": "us-east-1"}}},
}


@SMALL
@given(
    kinds=st.lists(st.sampled_from(sorted(SERVER_KINDS)), max_size=6),
    split=st.integers(min_value=0, max_value=6),
)
def test_enrichment_preserves_length_order_and_original_data(kinds, split):
    items = [SERVER_KINDS[kind] for kind in kinds]
    groups = [
        {"account": TARGET, "region": region, "items": part}
        for region, part in (("us-east-1", items[:split]), ("eu-west-1", items[split:]))
        if part
    ]
    with world_of(tables={"activeRegions": ["us-east-1", "eu-west-1"]}, servers=groups):
        servers, _ = query_drs_all_regions(ACCOUNT, get_account_credentials(ACCOUNT), None, STAMP)
        before = copy.deepcopy([(f.server, f.account_id, f.region) for f in servers])
        enriched = enrich_with_ec2_metadata(servers)
    assert len(enriched) == len(servers) == len(kinds)
    assert [(f.server, f.account_id, f.region) for f in enriched] == before
    for found in enriched:
        hints = found.server["sourceProperties"]["identificationHints"]
        if found.ec2 is not None:
            assert hints.get("awsInstanceID") not in (None, "", "i-0000000000000dead")


# -- inventory writes: success + failure = input length --------------------------------------------------------------


@SMALL
@given(
    count=st.integers(min_value=0, max_value=40),
    broken=st.sets(st.integers(min_value=0, max_value=39), max_size=4),
    keyless=st.sets(st.integers(min_value=0, max_value=39), max_size=2),
    unprocessed=st.one_of(st.none(), st.integers(min_value=1, max_value=30)),
)
def test_write_success_plus_failure_equals_input_length(count, broken, keyless, unprocessed):
    servers = [DiscoveredServer(generate_server(3, TARGET, "us-east-1", i), TARGET, "us-east-1") for i in range(count)]
    for index in broken & set(range(count)):
        servers[index].server["sourceProperties"]["networkInterfaces"] = [{"ips": []}]
    for index in keyless & set(range(count)):
        servers[index].server.pop("arn")
    faults = []
    if unprocessed is not None:
        effect = {"kind": "unprocessed", "count": unprocessed}
        faults.append({"service": "dynamodb", "operation": "BatchWriteItem", "effect": effect, "when": {"first": 2}})
    original = inventory_module.WRITE_BACKOFF_SECONDS
    inventory_module.WRITE_BACKOFF_SECONDS = 0.001
    try:
        with world_of(faults=faults) as world:
            synced, errors = write_inventory_to_dynamodb(servers, STAMP)
            persisted = len(world.table_snapshot()["inventory"])
    finally:
        inventory_module.WRITE_BACKOFF_SECONDS = original
    assert synced + errors == count
    assert synced == persisted  # never counted as synced unless DynamoDB holds it
    assert errors >= len(broken & set(range(count)))


# -- DRS: server count = sum of region counts; one status per active region ------------------------------------------

FAULT_EFFECTS = [
    {"code": "AccessDeniedException"},
    {"code": "ThrottlingException"},
    {"code": "UninitializedAccountException"},
    {"kind": "connection"},
    {"code": "InternalServerException"},
]


@SMALL
@given(
    regions=st.lists(st.sampled_from(DRS_REGIONS), min_size=1, max_size=6, unique=True),
    counts=st.lists(st.integers(min_value=0, max_value=5), min_size=6, max_size=6),
    failing=st.dictionaries(st.integers(min_value=0, max_value=5), st.sampled_from(FAULT_EFFECTS), max_size=3),
)
def test_server_count_is_the_sum_of_region_counts_and_one_status_per_region(regions, counts, failing):
    groups = [
        {"account": TARGET, "region": r, "count": counts[i], "ec2Instances": False} for i, r in enumerate(regions)
    ]
    faults = [
        {"service": "drs", "region": regions[i], "effect": {"kind": "error", **effect}}
        for i, effect in failing.items()
        if i < len(regions)
    ]
    with world_of(tables={"activeRegions": regions}, servers=groups, faults=faults, drsPageSize=2) as world:
        servers, scans = query_drs_all_regions(ACCOUNT, get_account_credentials(ACCOUNT), None, STAMP)
        status_puts = [c for c in world.calls if c.operation == "PutItem" and c.table == "regionStatus"]
        rows = world.table_snapshot()["regionStatus"]
    assert len(servers) == sum(scan.server_count for scan in scans)
    assert sorted(scan.region for scan in scans) == sorted(regions)
    assert sorted(c.params["Item"]["region"]["S"] for c in status_puts) == sorted(regions)
    assert {row["region"] for row in rows} >= set(regions)
    for scan in scans:
        expected = counts[regions.index(scan.region)]
        assert scan.server_count == (expected if scan.status == "ACTIVE" else 0)


# -- EC2: result keys are a subset of the ids asked; empty in, empty out ---------------------------------------------


@SMALL
@given(
    picks=st.lists(st.integers(min_value=0, max_value=4), max_size=5, unique=True),
    fakes=st.lists(
        st.sampled_from(["i-0000000000000dead", "i-00000000000000bad", "not-an-id"]), max_size=3, unique=True
    ),
    data=st.data(),
)
def test_ec2_result_keys_are_a_subset_of_the_ids_asked(picks, fakes, data):
    with world_of(servers=[{"account": LAMBDA, "region": "us-east-1", "count": 5}]) as world:
        launched = world.instances[(LAMBDA, "us-east-1")]
        asked = data.draw(st.permutations([launched[i] for i in picks] + fakes))
        details = query_ec2_instances(asked, "us-east-1", None)
    assert set(details) <= set(asked)
    assert set(details) == {launched[i] for i in picks}


@settings(max_examples=5, deadline=None)
@given(region=st.sampled_from(DRS_REGIONS))
def test_empty_in_empty_out(region):
    with world_of() as world:
        assert query_ec2_instances([], region, None) == {}
        assert enrich_with_ec2_metadata([]) == []
        assert write_inventory_to_dynamodb([]) == (0, 0)
        assert query_drs_all_regions(ACCOUNT, None, [], STAMP) == ([], [])
        assert world.calls == []
