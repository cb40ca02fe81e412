"""EC2 ``DescribeInstances`` answered at the wire level from recorded instances: captured ones and the world's own.

moto gives every instance, VPC, subnet and security group a random id of its own; a captured estate needs the ids
and attributes it recorded (the inventory stores them). So in an (account, region) where the scenario holds captured
instances, this stand-in answers ``DescribeInstances`` from them alone, in EC2's own XML, with EC2's
``InvalidInstanceID.NotFound`` when any requested id is unknown (the wording is moto's, so a captured world fails
the same way as the world it was captured from).

The instances a world launches in moto are recorded too (:mod:`harness.world.ec2_builder`), and a request naming
only instance ids (``InstanceId.N``, what the sync sends) in their (account, region) is answered from those records:
the same attributes moto holds, in moto's order (the ids as asked, each once), without moto's model-driven XML
serialiser, which spends about 4 ms of CPU per instance. A request with any other parameter (filters, paging) and
every other EC2 request go on to moto.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from harness.scenario.model import CapturedInstance
from harness.world.aws.errors import render_error

_STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}
_NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"
_REQUEST_ID = "00000000-0000-4000-8000-0000000000ec"

Response = tuple[int, dict[str, str], bytes]


def not_found_message(missing: list[str]) -> str:
    """EC2's message for unknown instance ids (as moto words it)."""
    if len(missing) > 1:
        return f"The instance IDs '{', '.join(missing)}' do not exist"
    return f"The instance ID '{missing[0]}' does not exist"


class CapturedEc2:
    """The captured instances of a scenario, by (account, region) and id.

    Args:
        instances: The scenario's captured instances.
    """

    def __init__(self, instances: Iterable[CapturedInstance]) -> None:
        self.placements: dict[tuple[str, str], dict[str, CapturedInstance]] = {}
        #: Placements of the world's own (launched) instances: answered for requests by id only.
        self.launched: set[tuple[str, str]] = set()
        for instance in instances:
            self.placements.setdefault((instance.account, instance.region), {})[instance.instance_id] = instance

    def add_launched(self, instances: Iterable[CapturedInstance]) -> None:
        """Record the instances the world launched in moto (their placements hold no captured instance)."""
        for instance in instances:
            placement = (instance.account, instance.region)
            if placement in self.placements and placement not in self.launched:
                raise ValueError(f"instances launched where captured instances live: {placement}")
            self.launched.add(placement)
            self.placements.setdefault(placement, {})[instance.instance_id] = instance

    def answers(self, operation: str, account: str, region: str, params: dict[str, Any]) -> bool:
        """Whether this stand-in answers the call: ``DescribeInstances`` where captured instances live, or by id
        alone where the world launched instances."""
        if operation != "DescribeInstances" or (account, region) not in self.placements:
            return False
        if (account, region) not in self.launched:
            return True
        return bool(params) and all(key.startswith("InstanceId.") for key in params)

    def describe_instances(self, account: str, region: str, params: dict[str, Any]) -> Response:
        """The instances asked for (all of the placement when no id is given), or NotFound naming the unknown ids."""
        known = self.placements[(account, region)]
        wanted = [value for key, value in params.items() if key.startswith("InstanceId.")]
        missing = [instance_id for instance_id in wanted if instance_id not in known]
        if missing:
            headers, body = render_error("ec2", "InvalidInstanceID.NotFound", not_found_message(missing))
            return 400, headers, body
        chosen = [known[instance_id] for instance_id in dict.fromkeys(wanted)] if wanted else list(known.values())
        items = "".join(_reservation(instance, index) for index, instance in enumerate(chosen))
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse xmlns="{_NAMESPACE}">'
            f"<requestId>{_REQUEST_ID}</requestId><reservationSet>{items}</reservationSet></DescribeInstancesResponse>"
        )
        return 200, {"Content-Type": "text/xml;charset=UTF-8"}, body.encode()


def _element(name: str, value: Any) -> str:
    return f"<{name}>{escape(str(value))}</{name}>" if value is not None else ""


def _reservation(instance: CapturedInstance, index: int) -> str:
    attributes = instance.attributes
    state = attributes.get("state")
    state_xml = (
        f"<instanceState><code>{_STATE_CODES[state]}</code><name>{state}</name></instanceState>" if state else ""
    )
    groups = "".join(f"<item>{_element('groupId', group)}</item>" for group in attributes.get("securityGroups", []))
    profile = attributes.get("iamInstanceProfileArn")
    profile_xml = f"<iamInstanceProfile>{_element('arn', profile)}</iamInstanceProfile>" if profile else ""
    tags = "".join(
        f"<item>{_element('key', key)}{_element('value', value)}</item>"
        for key, value in attributes.get("tags", {}).items()
    )
    zone = attributes.get("availabilityZone")
    body = (
        _element("instanceId", instance.instance_id)
        + _element("imageId", attributes.get("imageId"))
        + state_xml
        + _element("privateDnsName", attributes.get("privateDnsName"))
        + _element("instanceType", attributes.get("instanceType"))
        + (f"<placement>{_element('availabilityZone', zone)}</placement>" if zone else "")
        + _element("privateIpAddress", attributes.get("privateIpAddress"))
        + _element("vpcId", attributes.get("vpcId"))
        + _element("subnetId", attributes.get("subnetId"))
        + (f"<groupSet>{groups}</groupSet>" if "securityGroups" in attributes else "")
        + profile_xml
        + (f"<tagSet>{tags}</tagSet>" if "tags" in attributes else "")
    )
    return (
        f"<item><reservationId>r-{index:017x}</reservationId>{_element('ownerId', instance.account)}"
        f"<instancesSet><item>{body}</item></instancesSet></item>"
    )
