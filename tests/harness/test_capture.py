"""python -m harness capture, with a world standing in for AWS: read-only, faithful, anonymised, secret-free."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError, ReadTimeoutError

from harness.capture.anonymise import Anonymiser
from harness.capture.document import plain_value, with_listed_order_if_moved
from harness.capture.guard import READ_OPERATIONS, MutatingCallRefusedError, guarded
from harness.capture.reader import Reader, effect_of
from harness.commandline import EXIT_BAD_INPUT, EXIT_OK, EXIT_REFUSED
from harness.world import World
from harness.world.scan_order import scan_order
from tests.harness.capture_support import Captured, capture_from, legacy_differences, replay_judgement, scenario_of

HUB, SPOKE, DENIED = "111111111111", "222222222222", "333333333333"
SERVER_ARN = f"arn:aws:drs:us-east-1:{SPOKE}:source-server/s-0123456789abcdef0"

#: A small estate with what a capture must keep: two pages, a throttled region, a role that cannot be assumed, an
#: EC2 region that cannot be reached, a stopped instance with odd tags, typed rows and extra attributes.
ESTATE: dict[str, Any] = {
    "name": "capture-estate",
    "drsPageSize": 50,
    "accounts": [
        {"accountId": HUB, "accountName": "hub", "attributes": {"owner": "ops", "tier": 3}},
        {
            "accountId": SPOKE,
            "roleArn": f"arn:aws:iam::{SPOKE}:role/DRSOrchestrationRole",
            "externalId": "tenant-7f3a9c",
            "attributes": {"weights": {"@dynamodb": {"NS": ["1.5", "2"]}}, "retired": None},
        },
        {"accountId": DENIED, "roleArn": f"arn:aws:iam::{DENIED}:role/Custom", "assumeRole": {"code": "AccessDenied"}},
    ],
    "tables": {
        "activeRegions": ["us-east-1", "eu-west-1"],
        "regionStatus": [
            {"region": "ap-southeast-2", "serverCount": 0, "status": "THROTTLED", "attributes": {"note": "manual"}}
        ],
        "inventory": [
            {
                "sourceServerArn": SERVER_ARN,
                "stagingAccountId": SPOKE,
                "sourceAccountId": SPOKE,
                "hostname": "gone-host-01",
                "cpuCores": 4,
                "ratio": {"@dynamodb": {"N": "0.125"}},
                "labels": {"@dynamodb": {"SS": ["blue", "green"]}},
                "blob": {"@dynamodb": {"B": "AAEC"}},
                "nothing": None,
            }
        ],
    },
    "servers": [
        {"account": SPOKE, "region": "us-east-1", "count": 60},
        {"account": SPOKE, "region": "eu-west-1", "count": 2},
        {
            "account": HUB,
            "region": "us-east-1",
            "count": 2,
            "items": [{"ec2": {"state": "stopped", "tags": {"Name": "db-01", "Owner": "team-x"}}}],
        },
        {
            "account": HUB,
            "region": "eu-west-1",
            "items": [{"drs": {"sourceCloudProperties": {"originAccountID": HUB, "originRegion": "sa-east-1"}}}],
        },
    ],
    "faults": [
        {
            "service": "drs",
            "operation": "DescribeSourceServers",
            "account": SPOKE,
            "region": "eu-west-1",
            "effect": {"code": "ThrottlingException"},
        },
        {"service": "ec2", "operation": "DescribeInstances", "region": "sa-east-1", "effect": {"kind": "connection"}},
    ],
    "latency": {"services": {"drs": 2}},
}


@pytest.fixture(scope="module")
def estate_capture(tmp_path_factory: pytest.TempPathFactory) -> Captured:
    return capture_from(scenario_of(ESTATE), tmp_path_factory.mktemp("capture"))


def test_the_capture_reads_only_and_its_replay_is_the_same_world_for_legacy(estate_capture: Captured) -> None:
    assert estate_capture.code == EXIT_OK
    operations = {(call.service, call.operation) for call in estate_capture.world.calls}
    assert {operation for _, operation in operations} <= READ_OPERATIONS
    assert ("drs", "DescribeSourceServers") in operations and ("ec2", "DescribeInstances") in operations
    assert legacy_differences(scenario_of(ESTATE), estate_capture.scenario) == []


def test_the_capture_keeps_tables_as_stored(estate_capture: Captured) -> None:
    with World(scenario_of(ESTATE)) as world:
        original = world.table_snapshot()
    with World(estate_capture.scenario) as world:
        replayed = world.table_snapshot()
    assert replayed == original
    assert {"blue", "green"} == next(iter(replayed["inventory"]))["labels"]


def test_the_capture_records_servers_instances_faults_page_size_and_latency(estate_capture: Captured) -> None:
    doc = yaml.safe_load(estate_capture.text)
    assert doc["drsPageSize"] == 50
    assert all(group["generate"] is False for group in doc["servers"])
    assert sum(len(group["items"]) for group in doc["servers"]) == 60 + 3 + 1
    stopped = [item for item in doc["instances"] if item["state"] == "stopped"]
    assert len(stopped) == 1 and stopped[0]["tags"] == {"Name": "db-01", "Owner": "team-x"}
    faults = {(f["service"], f.get("account") or f.get("roleAccount"), f.get("region")) for f in doc["faults"]}
    assert ("drs", SPOKE, "eu-west-1") in faults
    assert ("sts", DENIED, None) in faults
    assert ("ec2", HUB, "sa-east-1") in faults
    throttled = next(f for f in doc["faults"] if f["service"] == "drs")
    assert throttled["effect"] == {"code": "ThrottlingException", "message": "Rate exceeded", "status": 429}
    assert doc["latency"]["operations"]["drs:DescribeSourceServers"] >= 2
    spoke = next(account for account in doc["accounts"] if account["accountId"] == SPOKE)  # rows come in scan order
    assert spoke["attributes"] == {"weights": {"@dynamodb": {"NS": ["1.5", "2"]}}, "retired": None}
    assert "scanOrder" not in doc["tables"]  # every table came back in the world's own scan order
    assert "dynamodbPageSize" not in doc  # every table fitted in one page


def test_the_capture_keeps_dynamodb_pages_and_a_scan_order_the_simulated_hash_would_not_give(tmp_path: Path) -> None:
    """A real table whose Scan order is not the world's, read in pages: the replay serves both as captured."""
    unhashed = scan_order(["444444444444", "555555555555", "666666666666", "777777777777"])[::-1]
    original = {
        "name": "capture-paged",
        "dynamodbPageSize": {"targetAccounts": 3},
        "accounts": [{"accountId": account} for account in unhashed],
        "tables": {"scanOrder": "listed"},
    }
    captured = capture_from(scenario_of(original), tmp_path)
    doc = yaml.safe_load(captured.text)
    assert doc["tables"]["scanOrder"] == "listed"
    assert [account["accountId"] for account in doc["accounts"]] == unhashed
    assert doc["dynamodbPageSize"] == {"targetAccounts": 3}
    # the same world for legacy, apart from the region-status race of its concurrent region threads (noise)
    assert replay_judgement(scenario_of(original), captured.scenario).status == "equivalent"


def test_progress_and_summary_are_on_stderr(tmp_path: Path) -> None:
    captured = capture_from(scenario_of(ESTATE), tmp_path)
    assert "capture: account 3/3 read, 64 server(s) so far" in captured.stderr
    assert "warning: sts:AssumeRole" in captured.stderr and DENIED in captured.stderr
    assert re.search(r"captured 3 account row\(s\), .* 64 server\(s\), \d+ instance\(s\)", captured.stderr)


def test_an_attempted_write_is_refused_before_it_is_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original_read = Reader.read

    def read_then_write(self: Reader) -> Any:
        estate = original_read(self)
        self.client("dynamodb", self.region).put_item(TableName="drs-region-status", Item={"region": {"S": "x"}})
        return estate

    monkeypatch.setattr(Reader, "read", read_then_write)
    captured = capture_from(scenario_of(ESTATE), tmp_path)
    assert captured.code == EXIT_REFUSED
    assert "capture refused dynamodb:PutItem: the capture is read-only" in captured.stderr
    assert not captured.path.exists()
    assert all(call.operation in READ_OPERATIONS for call in captured.world.calls)


def test_the_guard_refuses_every_operation_outside_the_allow_list() -> None:
    with World(scenario_of({"name": "guard"})):
        client = guarded(boto3.client("dynamodb"))
        with pytest.raises(MutatingCallRefusedError, match="dynamodb:DeleteItem"):
            client.delete_item(TableName="drs-target-accounts", Key={"accountId": {"S": HUB}})
        assert client.scan(TableName="drs-target-accounts")["Items"] == []


def test_a_missing_permission_of_the_capture_exits_2_naming_the_action_and_account(tmp_path: Path) -> None:
    doc = {
        "name": "denied",
        "faults": [
            {
                "service": "dynamodb",
                "operation": "Scan",
                "table": "targetAccounts",
                "effect": {"code": "AccessDeniedException"},
            }
        ],
    }
    captured = capture_from(scenario_of(doc), tmp_path)
    assert captured.code == EXIT_BAD_INPUT
    assert "missing permission dynamodb:Scan on table drs-target-accounts" in captured.stderr
    assert f"in account {HUB}" in captured.stderr
    assert not captured.path.exists()


def test_an_unknown_region_is_bad_input(tmp_path: Path) -> None:
    captured = capture_from(scenario_of({"name": "r"}), tmp_path, "--regions", "mars-1")
    assert captured.code == EXIT_BAD_INPUT and "not DRS regions: mars-1" in captured.stderr


def test_regions_and_max_servers_bound_the_capture(tmp_path: Path) -> None:
    captured = capture_from(scenario_of(ESTATE), tmp_path, "--regions", "us-east-1", "--max-servers", "10")
    assert captured.code == EXIT_OK and "truncated by --max-servers" in captured.stderr
    doc = yaml.safe_load(captured.text)
    assert {group["region"] for group in doc["servers"]} == {"us-east-1"}
    assert sum(len(group["items"]) for group in doc["servers"]) == 10


def _credentials_seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    original = Reader._call_assume_role

    def spy(self: Reader, *args: Any) -> Any:
        identity = original(self, *args)
        if getattr(identity, "credentials", None):
            seen.extend(str(value) for value in identity.credentials.values())
        return identity

    monkeypatch.setattr(Reader, "_call_assume_role", spy)
    return seen


@pytest.mark.parametrize("anonymise", [False, True])
def test_no_secret_is_ever_written(anonymise: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _credentials_seen(monkeypatch)
    own: list[str] = []
    scenario = scenario_of(ESTATE)
    with World(scenario) as world:
        frozen = world.session(scenario.lambda_account).get_credentials().get_frozen_credentials()
        own = [frozen.access_key, frozen.secret_key]
    captured = capture_from(scenario, tmp_path, *(["--anonymise"] if anonymise else []))
    assert captured.code == EXIT_OK and seen
    text = captured.text
    for secret in seen + own:
        assert secret not in text
    for word in ("SecretAccessKey", "SessionToken", "AccessKeyId", "aws_secret"):
        assert word not in text


def test_effects_of_each_kind_of_error() -> None:
    error = ClientError({"Error": {"Code": "X", "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": 418}}, "Op")
    assert effect_of(error) == {"code": "X", "message": "m", "status": 418}
    assert effect_of(EndpointConnectionError(endpoint_url="https://x")) == {"kind": "connection"}
    assert effect_of(ReadTimeoutError(endpoint_url="https://x")) == {"kind": "timeout"}
    assert effect_of(ParamValidationError(report="bad")) is None
    assert effect_of(ValueError("not AWS")) is None


def test_plain_values_keep_dynamodb_types() -> None:
    assert plain_value({"N": "42"}) == 42
    assert plain_value({"N": "0.10"}) == {"@dynamodb": {"N": "0.10"}}
    assert plain_value({"NULL": True}) is None
    assert plain_value({"L": [{"S": "a"}, {"BOOL": False}]}) == ["a", False]
    assert plain_value({"SS": ["a"]}) == {"@dynamodb": {"SS": ["a"]}}


def test_the_anonymiser_keeps_shapes_and_cross_references() -> None:
    mapper = Anonymiser("seed")
    doc = {
        "arn": SERVER_ARN,
        "id": "s-0123456789abcdef0",
        "hostname": "web01",
        "fqdn": "web01.corp.example.com",
        "message": f"User: arn:aws:sts::{SPOKE}:assumed-role/DRSOrchestrationRole/inventory-sync on 10.1.2.3, fe80::1",
        "mac": "0e:00:00:00:00:11",
        "tags": {"Name": "db-01"},
        "externalId": "drs-orchestration-cross-account",
    }
    out = mapper.document(doc)
    account = mapper.account(SPOKE)
    assert re.fullmatch(r"\d{12}", account) and account != SPOKE
    assert out["arn"] == f"arn:aws:drs:us-east-1:{account}:source-server/{out['id']}"
    assert re.fullmatch(r"s-[0-9a-f]{17}", out["id"])
    assert out["fqdn"].split(".")[0] == out["hostname"]
    assert f"arn:aws:sts::{account}:assumed-role/DRSOrchestrationRole/inventory-sync" in out["message"]
    assert "10.1.2.3" not in out["message"] and "fe80::1" not in out["message"]
    assert re.fullmatch(r"02(:[0-9a-f]{2}){5}", out["mac"])
    assert out["tags"]["Name"].startswith("anon-")
    assert out["externalId"] == "drs-orchestration-cross-account"
    assert Anonymiser("seed").document(doc) == out
    assert Anonymiser("other").document(doc) != out


def test_an_anonymised_capture_lists_its_rows_when_the_mapped_keys_would_scan_in_another_order() -> None:
    """The world orders a Scan by the key's hash: mapped account ids would move the account LB-9 cleans."""
    accounts = [{"accountId": account} for account in scan_order([HUB, SPOKE, DENIED, "444444444444", "555555555555"])]
    doc = {"name": "x", "accounts": accounts, "tables": {"regionStatus": [], "inventory": []}}
    assert with_listed_order_if_moved(doc) == doc  # the estate's keys scan as listed: the world's order serves
    listed = 0
    for seed in "abcdef":
        mapped = with_listed_order_if_moved(Anonymiser(seed).document(doc))
        ids = [row["accountId"] for row in mapped["accounts"]]
        assert ids == [Anonymiser(seed).account(row["accountId"]) for row in accounts]
        if mapped["tables"].get("scanOrder") == "listed":
            listed += 1
            assert list(mapped["tables"]) == ["scanOrder", "regionStatus", "inventory"]
        else:
            assert scan_order(ids) == ids
    assert listed > 0
