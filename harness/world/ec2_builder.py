"""Creates the EC2 side of a world: per (account, region) a VPC, subnet, security groups, an instance profile and
the instances that DRS source servers were replicated from, in moto's EC2 and IAM backends (the calls its API
handlers make).

Each launched instance is also recorded as a :class:`~harness.scenario.model.CapturedInstance` (what
``DescribeInstances`` says of it), so the world's EC2 stand-in answers ``DescribeInstances`` by id for it as it does
for a captured estate: moto's model-driven XML serialiser costs about 4 ms of CPU per instance described, which made
EC2 look-ups a quarter of a 1,000-server run's CPU time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moto.ec2.models import ec2_backends
from moto.iam.models import iam_backends

from harness.scenario.model import CapturedInstance

IMAGE_ID = "ami-12c6146b"  # one of moto's built-in AMIs
INSTANCE_TYPE = "m5.large"
DEFAULT_TAGS = {"Environment": "production", "ManagedBy": "drs-inventory-harness"}


@dataclass
class InstanceRequest:
    """Instances wanted in one placement, all with the same options.

    Attributes:
        count: How many.
        tags: Instance tags.
        security_groups: How many of the placement's security groups to attach (1 or more).
        instance_profile: Whether to attach the placement's instance profile.
        state: ``running`` or ``stopped``.
    """

    count: int
    tags: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TAGS))
    security_groups: int = 1
    instance_profile: bool = True
    state: str = "running"


@dataclass
class _Placement:
    vpc_id: str
    subnet_id: str
    security_group_ids: list[str]
    profile_arn: str


class Ec2Builder:
    """Builds EC2 instances on demand, creating each placement's network and IAM scaffolding once."""

    def __init__(self) -> None:
        self.instances: dict[tuple[str, str], list[str]] = {}
        #: Every launched instance as ``DescribeInstances`` describes it (for the world's EC2 stand-in).
        self.described: list[CapturedInstance] = []
        self._placements: dict[tuple[str, str], _Placement] = {}

    def launch(self, account: str, region: str, request: InstanceRequest) -> list[str]:
        """Launch ``request.count`` instances in ``(account, region)`` and return their ids, in launch order."""
        if request.count <= 0:
            return []
        placement = self._placement(account, region)
        backend = ec2_backends[account][region]
        # moto's backend directly: the RunInstances wire round trip costs ~5 ms per instance (XML both ways), and
        # moto's RunInstances handler would attach the instance profile to the first instance only.
        reservation = backend.run_instances(
            IMAGE_ID,
            request.count,
            "",
            [],
            instance_type=INSTANCE_TYPE,
            is_instance_type_default=False,
            region_name=region,
            subnet_id=placement.subnet_id,
            security_group_ids=placement.security_group_ids[: max(request.security_groups, 1)],
            tags={"instance": dict(request.tags)} if request.tags else {},
        )
        ids = [instance.id for instance in reservation.instances]
        for instance_id in ids if request.instance_profile else []:
            backend.associate_iam_instance_profile(
                instance_id=instance_id, iam_instance_profile_arn=placement.profile_arn
            )
        if request.state == "stopped":
            backend.stop_instances(ids)
        self.instances.setdefault((account, region), []).extend(ids)
        self.described.extend(
            _described(account, region, instance, placement, request) for instance in reservation.instances
        )
        return ids

    def _placement(self, account: str, region: str) -> _Placement:
        if (account, region) not in self._placements:
            self._placements[(account, region)] = self._create_placement(account, region)
        return self._placements[(account, region)]

    def _create_placement(self, account: str, region: str) -> _Placement:
        """The placement's VPC, subnet, security groups and instance profile, made in moto's backends directly.

        Through the API this took two botocore clients and eight wire round trips per placement: about 0.3 s, most
        of a small world's build. The backend calls are the ones moto's API handlers make, with the API's defaults.
        """
        backend = ec2_backends[account][region]
        vpc = backend.create_vpc("10.20.0.0/16")
        subnet = backend.create_subnet(vpc.id, "10.20.0.0/17", availability_zone=f"{region}a")
        groups = [
            backend.create_security_group(name, f"DRS source {name}", vpc_id=vpc.id).id
            for name in ("app-tier", "monitoring", "backup-agents")
        ]
        return _Placement(vpc.id, subnet.id, groups, _instance_profile(account, region))


def _instance_profile(account: str, region: str) -> str:
    """A role and an instance profile holding it, named after the region, in the account's IAM."""
    iam = iam_backends[account]["aws"]
    name = f"drs-source-{region}"
    iam.create_role(
        name,
        "{}",
        path="/",
        permissions_boundary=None,
        description=None,  # type: ignore[arg-type] - as the API sends it: no description
        tags=[],
        max_session_duration=None,
    )
    profile = iam.create_instance_profile(name, path="/", role_names=[name])
    return profile.arn


def _described(
    account: str, region: str, instance: Any, placement: _Placement, request: InstanceRequest
) -> CapturedInstance:
    """What ``DescribeInstances`` says of one launched moto instance: the attributes the inventory reads (as moto
    holds them after the launch), plus its type, image, zone and private DNS name. The tags are the ones the launch
    applied: moto's own look-up filters every tag of the region, once per instance."""
    attributes: dict[str, Any] = {
        "state": instance.state,
        "privateIpAddress": instance.private_ip,
        "privateDnsName": instance.private_dns_name,
        "vpcId": placement.vpc_id,
        "subnetId": placement.subnet_id,
        "securityGroups": [group.id for group in instance.security_groups],
        "tags": dict(request.tags),
        "instanceType": instance.instance_type,
        "imageId": instance.image_id,
        "availabilityZone": instance.availability_zone,
    }
    if request.instance_profile:
        attributes["iamInstanceProfileArn"] = placement.profile_arn
    return CapturedInstance(account, region, instance.id, attributes)
