"""Creates the EC2 side of a world: per (account, region) a VPC, subnet, security groups, an instance profile and
the instances that DRS source servers were replicated from, through moto's real EC2 and IAM APIs.

Each launched instance is also recorded as a :class:`~harness.scenario.model.CapturedInstance` (what
``DescribeInstances`` says of it), so the world's EC2 stand-in answers ``DescribeInstances`` by id for it as it does
for a captured estate: moto's model-driven XML serialiser costs about 4 ms of CPU per instance described, which made
EC2 look-ups a quarter of a 1,000-server run's CPU time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.ec2.models import ec2_backends

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
    """Builds EC2 instances on demand, creating each placement's network and IAM scaffolding once.

    Args:
        session_for: Returns a boto3 session with credentials of the given account.
        home_region: Region for the global IAM calls.
    """

    def __init__(self, session_for: Callable[[str], boto3.Session], home_region: str) -> None:
        self.session_for = session_for
        self.home_region = home_region
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
        session = self.session_for(account)
        ec2 = session.client("ec2", region_name=region)
        vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.0.0/17", AvailabilityZone=f"{region}a")["Subnet"][
            "SubnetId"
        ]
        groups = [
            ec2.create_security_group(GroupName=name, Description=f"DRS source {name}", VpcId=vpc_id)["GroupId"]
            for name in ("app-tier", "monitoring", "backup-agents")
        ]
        return _Placement(vpc_id, subnet_id, groups, self._instance_profile(session, account, region))

    def _instance_profile(self, session: boto3.Session, account: str, region: str) -> str:
        iam = session.client("iam", region_name=self.home_region)
        name = f"drs-source-{region}"
        iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")
        profile = iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        return profile["Arn"]


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
