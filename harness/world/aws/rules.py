"""Where the world answers as AWS does rather than as moto would: role trust, repeated instance ids, scan pages.

The dispatcher (:mod:`harness.world.aws.wire`) applies these rules to every request moto is about to answer:

* **Role trust with ExternalId.** A role the scenario declares with an ``externalId`` trusts the caller only when
  ``AssumeRole`` carries exactly that ``ExternalId`` (the ``sts:ExternalId`` condition of a trust policy). Anything
  else is refused the way STS refuses it: ``AccessDenied``, HTTP 403, ``User: <caller arn> is not authorized to
  perform: sts:AssumeRole on resource: <role arn>``. moto checks no trust at all, so without this rule a wrong or
  missing ExternalId would succeed. Roles the scenario does not declare keep moto's behaviour: they exist and trust
  the caller. The world also creates each declared role in IAM, in its account, with the trust policy
  :func:`trust_policy` writes, so a reader of the account (``iam:GetRole``, as the capture reads it) sees the
  condition this rule enforces.
* **Repeated instance ids.** EC2's ``DescribeInstances`` describes the *set* of instances named by
  ``InstanceId.N``: an id named twice is described once, and no error is raised (evidence in
  ``docs/scenario-format.md``, "EC2 instances"). moto 5 crashes with ``IndexError`` on such a request (its
  ``get_reservations_by_instance_ids`` compares the number of ids with the number found), so the world passes moto
  each id once, in first-seen order. The call record keeps the ids exactly as the code sent them.
* **DynamoDB scan pages.** DynamoDB ends a ``Scan`` page after 1 MB of evaluated items, with a
  ``LastEvaluatedKey``. Scenario tables are far smaller than 1 MB, so ``dynamodbPageSize`` declares how many items a
  page of a table holds; the world caps the request's ``Limit`` at that many. ``Limit``, like the 1 MB bound,
  counts items *evaluated* before a ``FilterExpression`` applies (moto does the same), so the pages fall where
  DynamoDB's would for rows that size.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from harness.world.aws.calls import AwsCall
from harness.world.aws.errors import render_error
from harness.world.aws.faults import make_response

#: STS's status for a refused role assumption.
ACCESS_DENIED_STATUS = 403


def role_path_and_name(role_arn: str) -> tuple[str, str, str]:
    """(account, path, name) of an IAM role ARN: ``arn:aws:iam::1:role/a/b/R`` -> ``("1", "/a/b/", "R")``."""
    _, _, _, _, account, resource = role_arn.split(":", 5)
    *path, name = resource.split("/")[1:]
    return account, "/" + "".join(f"{part}/" for part in path), name


def trust_policy(principal_account: str, external_id: str) -> dict[str, object]:
    """The trust policy of a role that trusts ``principal_account`` only with ``ExternalId: external_id``."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{principal_account}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def access_denied_message(caller_arn: str, role_arn: str) -> str:
    """STS's message when the role's trust policy does not allow the caller."""
    return f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"


def _with_body(request: AWSPreparedRequest, body: bytes) -> AWSPreparedRequest:
    """The same request with another body (moto reads the body; it checks no signature)."""
    headers = dict(request.headers.items())
    for name in list(headers):
        if name.lower() == "content-length":
            headers[name] = str(len(body))
    return AWSPreparedRequest(
        method=request.method, url=request.url, headers=headers, body=body, stream_output=request.stream_output
    )


def _text(body: bytes | str | None) -> str:
    if body is None:
        return ""
    return body.decode() if isinstance(body, bytes | bytearray) else str(body)


def distinct_instance_ids(request: AWSPreparedRequest) -> AWSPreparedRequest:
    """A ``DescribeInstances`` request naming each instance id once (first-seen order), other parameters kept."""
    pairs = parse_qsl(_text(request.body), keep_blank_values=True)
    ids = [value for key, value in pairs if key.startswith("InstanceId.")]
    distinct = list(dict.fromkeys(ids))
    if len(distinct) == len(ids):
        return request
    others = [(key, value) for key, value in pairs if not key.startswith("InstanceId.")]
    numbered = [(f"InstanceId.{number}", value) for number, value in enumerate(distinct, start=1)]
    return _with_body(request, urlencode(others + numbered).encode())


def capped_scan(request: AWSPreparedRequest, page_size: int) -> AWSPreparedRequest:
    """A ``Scan`` request whose ``Limit`` is at most ``page_size`` (a smaller ``Limit`` of the caller is kept)."""
    body = json.loads(_text(request.body) or "{}")
    limit = body.get("Limit")
    if isinstance(limit, int) and limit <= page_size:
        return request
    body["Limit"] = page_size
    return _with_body(request, json.dumps(body).encode())


@dataclass
class WorldRules:
    """The rules of one world.

    Attributes:
        trust: Role ARN -> the ExternalId its trust policy requires (only declared roles with one).
        page_sizes: Logical DynamoDB table -> items per ``Scan`` page.
        caller_arn: The ARN STS names for an access key (the identity ``GetCallerIdentity`` answers); without it,
            the caller's account root.
    """

    trust: Mapping[str, str] = field(default_factory=dict)
    page_sizes: Mapping[str, int] = field(default_factory=dict)
    caller_arn: Callable[[str], str] | None = None

    def apply(self, call: AwsCall, request: AWSPreparedRequest) -> tuple[AWSPreparedRequest, AWSResponse | None]:
        """The request moto should answer, or AWS's refusal of it.

        Returns:
            (request to pass on, ``None``) or (the request, the refusal to answer with instead).
        """
        if call.service == "sts" and call.operation == "AssumeRole":
            return request, self._trust_refusal(call, request)
        if call.service == "ec2" and call.operation == "DescribeInstances":
            return distinct_instance_ids(request), None
        if call.service == "dynamodb" and call.operation == "Scan" and call.table in self.page_sizes:
            return capped_scan(request, self.page_sizes[call.table]), None
        return request, None

    def _trust_refusal(self, call: AwsCall, request: AWSPreparedRequest) -> AWSResponse | None:
        params = dict(parse_qsl(_text(request.body), keep_blank_values=True))
        role_arn = params.get("RoleArn", "")
        required = self.trust.get(role_arn)
        if required is None or params.get("ExternalId") == required:
            return None
        caller = self.caller_arn(call.access_key) if self.caller_arn else f"arn:aws:iam::{call.account}:root"
        message = access_denied_message(caller, role_arn)
        headers, body = render_error("sts", "AccessDenied", message)
        return make_response(request.url, ACCESS_DENIED_STATUS, headers, body)
