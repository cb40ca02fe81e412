"""The simulated world: identity, isolation between accounts, determinism, safety, the DRS fake."""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

import boto3
import botocore.session
import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from harness.scenario import scenario_from_dict
from harness.scenario.model import DEFAULT_LAMBDA_ACCOUNT
from harness.world.aws.crash import SimulatorCrash
from harness.world.aws.drs_fake import NotSupportedByFake, decode_token, encode_token
from harness.world.aws.wire import UnmockedRequestError
from harness.world.sandbox import NetworkRefusedError
from harness.world.world import World, wall_clock

TARGET = "222222222222"
OTHER = "333333333333"
ROLE = f"arn:aws:iam::{TARGET}:role/DRSOrchestrationRole"


def assumed_client(service: str, role_arn: str, region: str = "us-east-1") -> Any:
    """A client with credentials of the role's account, obtained the way production gets them."""
    creds = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="harness-test")["Credentials"]
    return boto3.client(
        service,
        region_name=region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def all_servers(client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    return [s for page in client.get_paginator("describe_source_servers").paginate(**kwargs) for s in page["items"]]


def test_lambda_runs_as_its_own_account(world_factory):
    world_factory({"lambdaAccount": "444455556666"})
    assert boto3.client("sts").get_caller_identity()["Account"] == "444455556666"


def test_assumed_role_credentials_act_in_the_role_account(world_factory):
    world_factory({"accounts": [{"accountId": TARGET, "roleArn": ROLE}]})
    assert assumed_client("sts", ROLE).get_caller_identity()["Account"] == TARGET


def test_drs_paginator_returns_all_1050_servers_over_several_pages(world_factory):
    world = world_factory(
        {"servers": [{"account": TARGET, "region": "eu-west-1", "count": 1050, "ec2Instances": False}]}
    )
    drs = assumed_client("drs", ROLE, "eu-west-1")
    servers = all_servers(drs)
    assert len(servers) == 1050
    assert len({s["sourceServerID"] for s in servers}) == 1050
    pages = [c for c in world.calls if c.operation == "DescribeSourceServers"]
    assert len(pages) == 11  # page size 100 by default
    assert all_servers(assumed_client("drs", ROLE, "us-east-1")) == []


def test_drs_page_size_and_max_results(world_factory):
    world = world_factory(
        {"drsPageSize": 7, "servers": [{"account": TARGET, "region": "us-east-1", "count": 20, "ec2Instances": False}]}
    )
    drs = assumed_client("drs", ROLE)
    assert len(all_servers(drs)) == 20
    assert len([c for c in world.calls if c.operation == "DescribeSourceServers"]) == 3
    first = drs.describe_source_servers(maxResults=15)
    assert len(first["items"]) == 15 and decode_token(first["nextToken"]) == 15
    with pytest.raises(ClientError) as error:
        drs.describe_source_servers(nextToken="not-a-token")
    assert error.value.response["Error"]["Code"] == "ValidationException"


def test_drs_filters(world_factory):
    world_factory(
        {
            "servers": [
                {
                    "account": TARGET,
                    "region": "us-east-1",
                    "count": 3,
                    "ec2Instances": False,
                    "items": [{"drs": {"stagingArea": {"stagingAccountID": OTHER}}}],
                }
            ]
        }
    )
    drs = assumed_client("drs", ROLE)
    servers = all_servers(drs)
    wanted = servers[2]["sourceServerID"]
    assert [s["sourceServerID"] for s in all_servers(drs, filters={"sourceServerIDs": [wanted]})] == [wanted]
    staged = all_servers(drs, filters={"stagingAccountIDs": [OTHER]})
    assert [s["stagingArea"]["stagingAccountID"] for s in staged] == [OTHER]


def test_other_drs_operations_are_refused_loudly(world_factory):
    world = world_factory({})
    with pytest.raises(SimulatorCrash, match="DRS fake crashed answering drs:DescribeJobs") as crash:
        boto3.client("drs", region_name="us-east-1").describe_jobs()
    assert isinstance(crash.value.__cause__, NotSupportedByFake)
    assert world.simulator_failures == [crash.value.description]


def _keys_outside_model(value: Any, shape: Any, path: str) -> list[str]:
    if shape.type_name == "structure":
        problems = []
        for key, item in value.items():
            if key not in shape.members:
                problems.append(f"{path}.{key}")
            else:
                problems.extend(_keys_outside_model(item, shape.members[key], f"{path}.{key}"))
        return problems
    if shape.type_name == "list":
        return [p for i, item in enumerate(value) for p in _keys_outside_model(item, shape.member, f"{path}[{i}]")]
    if shape.type_name == "map":
        return [p for k, item in value.items() for p in _keys_outside_model(item, shape.value, f"{path}.{k}")]
    return []


def test_every_key_the_drs_fake_emits_is_in_the_service_model(world_factory):
    world = world_factory(
        {
            "accounts": [{"accountId": TARGET, "roleArn": ROLE}],
            "servers": [
                {"account": TARGET, "region": "us-east-1", "count": 40},
                {"account": TARGET, "region": "us-west-2", "count": 10, "ec2Instances": False},
            ],
        }
    )
    output_shape = (
        botocore.session.get_session().get_service_model("drs").operation_model("DescribeSourceServers").output_shape
    )
    emitted = {"items": [s for servers in world.servers.values() for s in servers], "nextToken": encode_token(1)}
    assert _keys_outside_model(emitted, output_shape, "root") == []


def test_ec2_instances_live_in_their_own_account_only(world_factory):
    world = world_factory(
        {
            "accounts": [{"accountId": TARGET, "roleArn": ROLE}],
            "servers": [{"account": TARGET, "region": "us-east-1", "count": 2}],
        }
    )
    instance_id = world.instances[(TARGET, "us-east-1")][0]
    seen = assumed_client("ec2", ROLE).describe_instances(InstanceIds=[instance_id])
    instance = seen["Reservations"][0]["Instances"][0]
    assert instance["IamInstanceProfile"]["Arn"].startswith(f"arn:aws:iam::{TARGET}:instance-profile/")
    assert instance["SubnetId"] and instance["VpcId"] and instance["SecurityGroups"]
    with pytest.raises(ClientError) as error:
        boto3.client("ec2", region_name="us-east-1").describe_instances(InstanceIds=[instance_id])
    assert error.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"


def test_servers_link_to_instances_in_their_origin_account(world_factory):
    world = world_factory(
        {
            "servers": [
                {
                    "account": TARGET,
                    "region": "us-east-1",
                    "items": [
                        {"drs": {"sourceCloudProperties": {"originAccountID": OTHER, "originRegion": "eu-west-1"}}}
                    ],
                }
            ]
        }
    )
    server = world.servers[(TARGET, "us-east-1")][0]
    assert world.instances[(OTHER, "eu-west-1")] == [server["sourceProperties"]["identificationHints"]["awsInstanceID"]]


def test_explicit_instance_ids_are_kept_and_unknown_to_ec2(world_factory):
    world = world_factory(
        {
            "servers": [
                {
                    "account": TARGET,
                    "region": "us-east-1",
                    "items": [
                        {"drs": {"sourceProperties": {"identificationHints": {"awsInstanceID": "i-0feedfacefeed0000"}}}}
                    ],
                }
            ]
        }
    )
    hints = world.servers[(TARGET, "us-east-1")][0]["sourceProperties"]["identificationHints"]
    assert hints["awsInstanceID"] == "i-0feedfacefeed0000"
    assert world.instances == {}


def _state(world: World) -> tuple[Any, ...]:
    return (world.table_snapshot(), world.servers, world.instances)


def test_entering_the_same_scenario_twice_gives_identical_state():
    scenario = scenario_from_dict(
        {
            "name": "twice",
            "accounts": [{"accountId": TARGET, "roleArn": ROLE, "externalId": "ext"}],
            "tables": {
                "activeRegions": ["us-east-1"],
                "inventory": [{"sourceServerArn": "a", "stagingAccountId": TARGET}],
            },
            "servers": [
                {"account": TARGET, "region": "us-east-1", "count": 30},
                {"account": OTHER, "region": "ap-south-1", "count": 5},
            ],
        }
    )
    with World(scenario) as first:
        before = _state(first)
        boto3.client("dynamodb").delete_table(TableName="drs-target-accounts")
    with World(scenario) as second:
        assert _state(second) == before


def test_setup_calls_are_not_recorded(world_factory):
    world = world_factory({"servers": [{"account": TARGET, "region": "us-east-1", "count": 3}]})
    assert world.calls == []
    boto3.client("sts").get_caller_identity()
    assert [(c.service, c.operation, c.account, c.region) for c in world.calls] == [
        ("sts", "GetCallerIdentity", "111111111111", "us-east-1")
    ]


def test_simulator_time_counts_the_fakes_work_for_the_code_under_test_only(world_factory):
    world = world_factory(
        {
            "servers": [{"account": TARGET, "region": "us-east-1", "count": 3}],
            "latency": {"services": {"sts": 300}},
        }
    )
    assert world.simulator_seconds == 0.0
    boto3.client("sts").get_caller_identity()
    # The 300 ms of latency are slept, not computed: the fakes' CPU time for one call stays far below it.
    assert 0.0 < world.simulator_seconds < 0.3


def test_environment_sets_and_unsets_variables(world_factory):
    world_factory({"environment": {"TARGET_ACCOUNTS_TABLE": None, "USE_REFACTORED_INVENTORY_SYNC": "false"}})
    assert "TARGET_ACCOUNTS_TABLE" not in os.environ
    assert os.environ["USE_REFACTORED_INVENTORY_SYNC"] == "false"
    assert os.environ["SOURCE_SERVER_INVENTORY_TABLE"] == "drs-source-server-inventory"


def test_real_credentials_are_never_used(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALREALREALREAL")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    monkeypatch.setenv("AWS_PROFILE", "production")
    with World(scenario_from_dict({"name": "creds"})) as world:
        assert os.environ["AWS_ACCESS_KEY_ID"] != "AKIAREALREALREALREAL"
        assert "AWS_PROFILE" not in os.environ
        boto3.client("sts").get_caller_identity()
        assert world.calls[0].account == "111111111111"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIAREALREALREALREAL"
    assert os.environ["AWS_PROFILE"] == "production"


def test_requests_outside_a_world_are_refused():
    client = boto3.session.Session(
        aws_access_key_id="AKIAEXAMPLEEXAMPLE00", aws_secret_access_key="x", region_name="us-east-1"
    ).client("sts")
    with pytest.raises(UnmockedRequestError, match="no simulated world is active"):
        client.get_caller_identity()


def test_sockets_cannot_connect_inside_a_world(world_factory):
    world_factory({})
    with pytest.raises(NetworkRefusedError), socket.create_connection(("192.0.2.1", 443), timeout=1):
        pass


def test_worlds_cannot_nest(world_factory):
    world_factory({})
    with pytest.raises(RuntimeError, match="already active"), World(scenario_from_dict({"name": "inner"})):
        pass


def test_latency_is_spent_in_the_calling_thread(world_factory):
    world = world_factory({"latency": {"services": {"sts": 120}}})
    durations: dict[str, float] = {}

    def call(name: str) -> None:
        start = wall_clock()
        boto3.client("sts").get_caller_identity()
        durations[name] = wall_clock() - start

    threads = [threading.Thread(target=call, args=(f"worker-{i}",), name=f"worker-{i}") for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(seconds >= 0.12 for seconds in durations.values())
    assert sorted(c.thread for c in world.calls) == ["worker-0", "worker-1", "worker-2"]


def test_region_spread_orders_drs_latency_per_variant():
    scenario = scenario_from_dict({"name": "spread", "latency": {"regionSpreadMs": 280}})
    orders = []
    for variant in (0, 1, 0):
        with World(scenario, variant=variant) as world:
            model = world._state.latency  # noqa: SLF001 - inspecting the schedule the world derived
            orders.append(sorted(model.rank, key=model.rank.get))
    assert orders[0] == orders[2] != orders[1]


def test_table_snapshot_equals_what_a_scan_returns(world_factory):
    world = world_factory(
        {
            "accounts": [
                {"accountId": TARGET, "roleArn": ROLE, "accountName": "prod"},
                {"accountId": OTHER, "roleArn": None},
            ],
            "tables": {
                "activeRegions": ["us-east-1"],
                "regionStatus": [{"region": "eu-west-1", "errorMessage": None, "serverCount": 0}],
                "inventory": [{"sourceServerArn": "arn:x", "stagingAccountId": TARGET, "disks": [{"bytes": 5}]}],
            },
        }
    )
    boto3.resource("dynamodb").Table("drs-region-status").put_item(
        Item={"region": "ap-south-1", "blob": b"\x00\x01", "tags": {"a", "b"}, "nested": {"n": 1, "l": [None, True]}}
    )
    client = boto3.client("dynamodb")
    deserializer = TypeDeserializer()
    scanned = {}
    for logical, physical in world.table_names.items():
        items = [
            {k: deserializer.deserialize(v) for k, v in item.items()}
            for page in client.get_paginator("scan").paginate(TableName=physical)
            for item in page["Items"]
        ]
        scanned[logical] = sorted(items, key=repr)
    snapshot = world.table_snapshot()
    assert {name: sorted(items, key=repr) for name, items in snapshot.items()} == scanned
    assert [row["region"] for row in snapshot["regionStatus"]] == ["ap-south-1", "eu-west-1", "us-east-1"]
    assert snapshot["regionStatus"][0]["blob"] == b"\x00\x01"


def _described(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Instance id -> what a ``DescribeInstances`` answer says of it (the fields the stand-in renders)."""
    fields = ("ImageId", "State", "PrivateDnsName", "InstanceType", "Placement", "PrivateIpAddress", "VpcId")
    fields += ("SubnetId", "IamInstanceProfile", "Tags")
    return {
        instance["InstanceId"]: {
            **{key: instance.get(key) for key in fields},
            "Placement": {"AvailabilityZone": (instance.get("Placement") or {}).get("AvailabilityZone")},
            "IamInstanceProfile": (instance.get("IamInstanceProfile") or {}).get("Arn"),
            "SecurityGroups": [group["GroupId"] for group in instance.get("SecurityGroups", [])],
            "Tags": sorted((tag["Key"], tag["Value"]) for tag in instance.get("Tags", [])),
        }
        for reservation in answer["Reservations"]
        for instance in reservation["Instances"]
    }


def test_describe_instances_by_id_answers_what_moto_holds_without_moto(world_factory):
    world = world_factory(
        {
            "accounts": [{"accountId": TARGET, "roleArn": ROLE}],
            "servers": [
                {"account": TARGET, "region": "us-east-1", "count": 3},
                {
                    "account": TARGET,
                    "region": "us-east-1",
                    "items": [
                        {"ec2": {"state": "stopped", "tags": {"a": "b"}, "instanceProfile": False}},
                        {"ec2": {"securityGroups": 2, "tags": {}}},
                    ],
                },
            ],
        }
    )
    ids = world.instances[(TARGET, "us-east-1")]
    client = assumed_client("ec2", ROLE)
    stand_in = client.describe_instances(InstanceIds=[ids[4], ids[0], ids[0], *ids[1:4]])
    # Filters make the world hand the request to moto: its own answer, for the same instances.
    from_moto = client.describe_instances(InstanceIds=ids, Filters=[{"Name": "instance-id", "Values": ids}])
    assert _described(stand_in) == _described(from_moto)
    assert len(_described(stand_in)) == 5
    # The world's stand-in answered (one reservation per instance, numbered), not moto.
    assert [r["ReservationId"] for r in stand_in["Reservations"]] == [f"r-{i:017x}" for i in range(5)]
    assert {instance["State"]["Name"] for instance in _described(stand_in).values()} == {"running", "stopped"}
    with pytest.raises(ClientError) as error:
        client.describe_instances(InstanceIds=[ids[0], "i-0000000000000dead"])
    assert error.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
    assert "i-0000000000000dead" in error.value.response["Error"]["Message"]


def test_client_creation_and_recording_are_measured_apart(world_factory):
    world = world_factory({})
    assert (world.client_seconds, world.clients_created, world.simulator_seconds) == (0.0, 0, 0.0)
    boto3.client("ec2", region_name="us-east-1")
    assert world.clients_created == 1 and world.client_seconds > 0.0
    boto3.client("sts").get_caller_identity()
    # The recorder's and the fakes' work on the call is the simulator's; the STS client built above is the code's.
    assert world.clients_created == 2 and world.simulator_seconds > 0.0


def test_clients_of_one_service_share_api_methods_in_a_world(world_factory):
    """Sharing saves botocore's per-client method generation; each client keeps its own class, made by its own
    session's handlers (boto3 still adds S3's transfer methods), and calls still reach the world."""
    world_factory({})
    plain, other = boto3.client("sts"), boto3.Session(region_name="eu-west-1").client("sts")
    assert type(plain) is not type(other)
    assert type(plain).get_caller_identity is type(other).get_caller_identity
    assert other.get_caller_identity()["Account"] == DEFAULT_LAMBDA_ACCOUNT
    assert hasattr(boto3.client("s3"), "upload_file")


def test_a_world_measuring_real_client_costs_lets_botocore_generate_every_clients_methods(world_factory):
    world_factory({}, real_client_costs=True)  # the benchmark's worlds: what a Lambda pays
    first, second = boto3.client("sts"), boto3.client("sts")
    assert type(first).get_caller_identity is not type(second).get_caller_identity
    assert first.get_caller_identity()["Account"] == DEFAULT_LAMBDA_ACCOUNT
