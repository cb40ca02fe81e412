"""Generated DRS source servers: deterministic, realistic, and made only of botocore's SourceServer members."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
from botocore.parsers import RestJSONParser

from harness.scenario.loading import source_server_problems
from harness.scenario.model import DEFAULT_CLOCK
from harness.world.generate import deep_merge, generate_server, generate_servers
from lambda_shared.drs_regions import DRS_REGIONS

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "222222222222"


def _sample() -> list[dict[str, Any]]:
    """Servers over several seeds, accounts and every region: enough to meet every branch of the generator."""
    servers = []
    for seed, account in ((1, ACCOUNT), (2, "333333333333"), (20260115, "444444444444")):
        for region in DRS_REGIONS:
            servers.extend(generate_servers(seed, account, region, 12))
    return servers


def _nulls(value: Any, path: str = "") -> list[str]:
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _nulls(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _nulls(item, f"{path}[{index}]")]
    return []


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ------------------------------------------------------------------------------------------------- determinism


def test_same_arguments_give_the_same_server() -> None:
    assert generate_server(7, ACCOUNT, "eu-west-1", 3) == generate_server(7, ACCOUNT, "eu-west-1", 3)


def test_every_argument_changes_the_server() -> None:
    base = generate_server(7, ACCOUNT, "eu-west-1", 3)
    variants = [
        generate_server(8, ACCOUNT, "eu-west-1", 3),
        generate_server(7, "333333333333", "eu-west-1", 3),
        generate_server(7, ACCOUNT, "eu-west-2", 3),
        generate_server(7, ACCOUNT, "eu-west-1", 4),
    ]
    ids = {server["sourceServerID"] for server in [base, *variants]}
    assert len(ids) == 5


def test_servers_are_identical_across_processes_and_hash_seeds() -> None:
    code = (
        "import json; from harness.world.generate import generate_servers; "
        "print(json.dumps(generate_servers(5, '222222222222', 'ap-south-1', 20), sort_keys=True))"
    )
    outputs = set()
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)  # noqa: S603
        outputs.add(result.stdout)
    here = json.dumps(generate_servers(5, ACCOUNT, "ap-south-1", 20), sort_keys=True) + "\n"
    assert outputs == {here}


def test_ids_are_unique_across_a_large_world() -> None:
    servers = [generate_server(1, ACCOUNT, region, index) for region in DRS_REGIONS[:4] for index in range(2500)]
    assert len({server["sourceServerID"] for server in servers}) == 10_000


def test_generate_servers_numbers_consecutively_from_start() -> None:
    assert generate_servers(3, ACCOUNT, "us-east-1", 3, start=5) == [
        generate_server(3, ACCOUNT, "us-east-1", index) for index in (5, 6, 7)
    ]


# ------------------------------------------------------------------------------------------------------- shape


def test_every_generated_key_is_a_member_of_the_botocore_source_server_shape() -> None:
    for server in _sample():
        assert source_server_problems(server) == [], server["sourceServerID"]
        assert _nulls(server) == []


def test_botocore_parses_a_page_of_generated_servers_back_unchanged() -> None:
    """botocore drops members it does not know: a lossless round trip means every key is in the model."""
    model = botocore.session.get_session().get_service_model("drs")
    output_shape = model.operation_model("DescribeSourceServers").output_shape
    servers = _sample()[:200]
    body = json.dumps({"items": servers}).encode()
    parsed = RestJSONParser().parse({"body": body, "headers": {}, "status_code": 200}, output_shape)
    assert parsed["items"] == servers


def test_identity_fields_follow_the_real_formats() -> None:
    for server in generate_servers(9, ACCOUNT, "eu-central-2", 50):
        server_id = server["sourceServerID"]
        assert re.fullmatch(r"s-[0-9a-f]{17}", server_id)
        assert server["arn"] == f"arn:aws:drs:eu-central-2:{ACCOUNT}:source-server/{server_id}"
        assert server["stagingArea"]["stagingAccountID"] == ACCOUNT
        assert re.fullmatch(r"[0-9]{1,5}\.[0-9]{1,5}\.[0-9]{1,5}", server["agentVersion"])
        assert server["dataReplicationInfo"]["stagingAvailabilityZone"].startswith("eu-central-2")


def test_the_world_adds_instance_and_origin_not_the_generator() -> None:
    for server in _sample():
        assert "awsInstanceID" not in server["sourceProperties"]["identificationHints"]
        assert "sourceCloudProperties" not in server
        assert "recoveryInstanceId" not in server


# ---------------------------------------------------------------------------------------------------- realism


def test_source_properties_are_complete_and_consistent() -> None:
    for server in _sample():
        props = server["sourceProperties"]
        hints = props["identificationHints"]
        assert hints["fqdn"].startswith(f"{hints['hostname']}.")
        nics = props["networkInterfaces"]
        assert nics and nics[0]["isPrimary"] and all(nic["ips"] for nic in nics)
        assert [nic["isPrimary"] for nic in nics].count(True) == 1
        assert all(re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", nic["macAddress"]) for nic in nics)
        assert all(re.fullmatch(r"10(\.[0-9]{1,3}){3}", ip) for nic in nics for ip in nic["ips"])
        assert props["disks"] and all(disk["bytes"] > 0 for disk in props["disks"])
        assert props["cpus"][0]["cores"] >= 2 and props["cpus"][0]["modelName"]
        assert props["ramBytes"] >= 4 * 1024**3 and props["os"]["fullString"]
        replicated = server["dataReplicationInfo"]["replicatedDisks"]
        assert [disk["deviceName"] for disk in replicated] == [disk["deviceName"] for disk in props["disks"]]
        assert all(0 < disk["replicatedStorageBytes"] <= disk["totalStorageBytes"] for disk in replicated)


def test_replication_is_mostly_continuous_with_a_realistic_tail() -> None:
    servers = _sample()
    states = Counter(server["dataReplicationInfo"]["dataReplicationState"] for server in servers)
    assert states["CONTINUOUS"] / len(servers) > 0.8
    assert len(states) >= 5
    for server in servers:
        info = server["dataReplicationInfo"]
        assert re.fullmatch(r"P(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?", info["lagDuration"])
        assert ("dataReplicationError" in info) == (info["dataReplicationState"] in ("STALLED", "DISCONNECTED"))
        assert ("etaDateTime" in info) == (info["dataReplicationState"] in ("INITIAL_SYNC", "RESCAN"))


def test_launch_history_matches_the_last_launch_result() -> None:
    results = Counter()
    for server in _sample():
        result = server["lastLaunchResult"]
        results[result] += 1
        launch = server["lifeCycle"].get("lastLaunch")
        if result == "NOT_STARTED":
            assert launch is None
        else:
            assert launch["status"] == ("LAUNCHED" if result == "SUCCEEDED" else "FAILED")
            assert re.fullmatch(r"drsjob-[0-9a-z]{17}", launch["initiated"]["jobID"])
    assert results["NOT_STARTED"] > results["SUCCEEDED"] > 0


def test_times_lie_before_the_clock_and_follow_it() -> None:
    for clock in (DEFAULT_CLOCK, "2030-06-01T00:00:00Z"):
        now = _when(clock)
        for server in generate_servers(4, ACCOUNT, "us-west-2", 40, clock=clock):
            cycle = server["lifeCycle"]
            added, first_byte = _when(cycle["addedToServiceDateTime"]), _when(cycle["firstByteDateTime"])
            assert added < first_byte < _when(cycle["lastSeenByServiceDateTime"]) < now
            assert now - added < timedelta(days=401)  # added to DRS within the last year or so
            assert _when(server["sourceProperties"]["lastUpdatedDateTime"]) < now
    assert generate_server(1, ACCOUNT, "us-east-1", 0) == generate_server(
        1, ACCOUNT, "us-east-1", 0, clock=DEFAULT_CLOCK
    )


# ------------------------------------------------------------------------------------------------- deep_merge


def test_deep_merge_merges_mappings_and_replaces_lists_and_scalars() -> None:
    base = {"a": {"b": 1, "c": [1, 2], "d": {"e": 1}}, "f": "x"}
    override = {"a": {"c": [3], "d": {"g": 2}}, "f": "y", "h": [{"i": 1}]}
    assert deep_merge(base, override) == {"a": {"b": 1, "c": [3], "d": {"e": 1, "g": 2}}, "f": "y", "h": [{"i": 1}]}


def test_deep_merge_null_removes_keys_and_never_leaves_nulls_behind() -> None:
    base = {"stagingArea": {"stagingAccountID": ACCOUNT}, "tags": {"a": "1"}, "arn": "x"}
    override = {"stagingArea": None, "tags": {"a": None}, "missing": None, "new": {"k": None, "v": 1}}
    assert deep_merge(base, override) == {"tags": {}, "arn": "x", "new": {"v": 1}}


def test_deep_merge_mapping_over_a_scalar_replaces_it() -> None:
    assert deep_merge({"a": 1, "b": [1]}, {"a": {"x": 1}, "b": {"y": 2}}) == {"a": {"x": 1}, "b": {"y": 2}}


def test_deep_merge_leaves_its_inputs_untouched_and_unshared() -> None:
    base = generate_server(1, ACCOUNT, "us-east-1", 0)
    override = {
        "sourceProperties": {"networkInterfaces": [{"macAddress": "m", "ips": ["10.0.0.9"], "isPrimary": True}]}
    }
    before = (copy.deepcopy(base), copy.deepcopy(override))
    merged = deep_merge(base, override)
    merged["sourceProperties"]["networkInterfaces"][0]["ips"].append("10.0.0.10")
    merged["sourceProperties"]["disks"].clear()
    merged["tags"]["new"] = "1"
    assert (base, override) == before
    assert merged["sourceProperties"]["identificationHints"] == base["sourceProperties"]["identificationHints"]


def test_a_partial_merged_onto_a_generated_server_is_still_a_valid_server() -> None:
    partial = {
        "sourceProperties": {"identificationHints": {"awsInstanceID": "i-0123456789abcdef0"}, "cpus": []},
        "sourceCloudProperties": {"originAccountID": "555555555555", "originRegion": "eu-west-1"},
        "dataReplicationInfo": {"dataReplicationState": "STALLED"},
        "stagingArea": None,
    }
    assert source_server_problems(partial, partial=True) == []
    merged = deep_merge(generate_server(1, ACCOUNT, "us-east-1", 0), partial)
    assert source_server_problems(merged) == []
    assert merged["sourceProperties"]["identificationHints"]["awsInstanceID"] == "i-0123456789abcdef0"
    assert "hostname" in merged["sourceProperties"]["identificationHints"] and "stagingArea" not in merged
