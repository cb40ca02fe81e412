"""Turns a scenario's server groups into DRS source servers, launching the EC2 instances they came from."""

from __future__ import annotations

import copy
import json
from typing import Any

from harness.scenario.model import Scenario, ServerSpec
from harness.world.ec2_builder import DEFAULT_TAGS, Ec2Builder, InstanceRequest
from harness.world.generate import deep_merge, generate_server

Placement = tuple[str, str]


def _instance_request(spec: ServerSpec) -> InstanceRequest:
    options = spec.ec2
    return InstanceRequest(
        count=0,
        tags=dict(options.get("tags", DEFAULT_TAGS)),
        security_groups=int(options.get("securityGroups", 1)),
        instance_profile=bool(options.get("instanceProfile", True)),
        state=str(options.get("state", "running")),
    )


def _wants_instance(server: dict[str, Any], spec: ServerSpec, group_default: bool) -> bool:
    hints = server.get("sourceProperties", {}).get("identificationHints", {})
    return bool(spec.ec2.get("create", group_default)) and "awsInstanceID" not in hints


def _origin(server: dict[str, Any], account: str, region: str) -> Placement:
    cloud = server.get("sourceCloudProperties", {})
    return cloud.get("originAccountID", account), cloud.get("originRegion", region)


def build_servers(scenario: Scenario, ec2: Ec2Builder) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Generate every group's servers, merge the explicit parts, and link each to a real EC2 instance.

    A captured group (``generate: false``) is served as given, nothing generated, merged or launched. A server gets
    an instance when its group allows it, its ``ec2.create`` is not false and it names no
    ``awsInstanceID`` of its own (an explicit id is kept as is: an instance EC2 does not know). The instance is
    launched where the server says it came from (``sourceCloudProperties`` origin, else the queried account and
    region), and servers without origin information get it filled in.

    Returns:
        ``{(account, region): [SourceServer]}`` in scenario order.
    """
    servers: dict[tuple[str, str], list[dict[str, Any]]] = {}
    pending: dict[tuple[Placement, str], list[dict[str, Any]]] = {}
    requests: dict[tuple[Placement, str], InstanceRequest] = {}
    for group in scenario.servers:
        bucket = servers.setdefault((group.account, group.region), [])
        if not group.generate:
            bucket.extend(copy.deepcopy(spec.drs) for spec in group.items)
            continue
        specs = list(group.items) + [ServerSpec() for _ in range(group.count)]
        offset = len(bucket)
        for index, spec in enumerate(specs, start=offset):
            base = generate_server(scenario.seed, group.account, group.region, index, clock=scenario.clock)
            server = deep_merge(base, spec.drs)
            bucket.append(server)
            if not _wants_instance(server, spec, group.ec2_instances):
                continue
            placement = _origin(server, group.account, group.region)
            request = _instance_request(spec)
            key = (placement, json.dumps(request.__dict__, sort_keys=True))
            pending.setdefault(key, []).append(server)
            requests.setdefault(key, request)
    for (placement, options), waiting in pending.items():
        request = requests[(placement, options)]
        request.count = len(waiting)
        for server, instance_id in zip(waiting, ec2.launch(*placement, request), strict=True):
            _link(server, instance_id, placement)
    return servers


def _link(server: dict[str, Any], instance_id: str, placement: Placement) -> None:
    hints = server.setdefault("sourceProperties", {}).setdefault("identificationHints", {})
    hints["awsInstanceID"] = instance_id
    account, region = placement
    server.setdefault(
        "sourceCloudProperties",
        {"originAccountID": account, "originRegion": region, "originAvailabilityZone": f"{region}a"},
    )
