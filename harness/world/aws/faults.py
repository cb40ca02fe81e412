"""Fault and latency injection: which attempt gets which failure, and how long every call takes."""

from __future__ import annotations

import json
import random
import threading
import zlib
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import CredentialRetrievalError, EndpointConnectionError, ReadTimeoutError

from harness.scenario.errors import error_spec
from harness.scenario.model import Fault, Latency
from harness.world.aws.drs_fake import page_number, request_body
from harness.world.aws.errors import render_error, render_malformed
from lambda_shared.drs_regions import DRS_REGIONS

#: What STS says when refreshing assumed-role credentials fails because the session token has expired.
EXPIRED_TOKEN_MESSAGE = "The security token included in the request is expired"  # noqa: S105 - a message


class RawBody(BytesIO):
    """A response body botocore can ``read`` and ``stream``."""

    def stream(self, **_kwargs: Any) -> Any:
        """Yield the body once, as urllib3's raw response would."""
        contents = self.read()
        while contents:
            yield contents
            contents = self.read()


def make_response(url: str, status: int, headers: dict[str, str], body: bytes) -> AWSResponse:
    """Wrap an answer the way botocore receives one from the network."""
    return AWSResponse(url, status, headers, RawBody(body))


@dataclass(frozen=True)
class CallContext:
    """What the fault matchers can see of one attempt.

    Attributes:
        call_id: Identifies the API call the attempt belongs to (retries share it), for the ``call`` trigger.
        invocation: The Lambda invocation in progress (from 1), for the ``invocation`` matcher.
    """

    service: str
    operation: str
    account: str
    region: str
    table: str | None
    params: dict[str, Any]
    call_id: int = 0
    invocation: int = 1


class FaultPlan:
    """The scenario's fault rules with their firing counters (thread-safe).

    Args:
        faults: The rules, in scenario order; the first rule that matches and fires wins.
        drs_page_size: The DRS fake's default page size, to number pages.
    """

    def __init__(self, faults: tuple[Fault, ...], drs_page_size: int) -> None:
        self.faults = faults
        self.drs_page_size = drs_page_size
        self._seen = [0] * len(faults)
        self._calls: list[dict[int, int]] = [{} for _ in faults]
        self._lock = threading.Lock()
        self.fired: list[tuple[int, str, str]] = []

    def pick(self, ctx: CallContext, request: AWSPreparedRequest) -> Fault | None:
        """The fault that fires for this attempt, if any (counting it)."""
        for index, fault in enumerate(self.faults):
            if not _matches(fault, ctx):
                continue
            with self._lock:
                self._seen[index] += 1
                seen = self._seen[index]
                calls = self._calls[index]
                call_number = calls.setdefault(ctx.call_id, len(calls) + 1)
            if self._fires(fault, seen, call_number, request):
                with self._lock:
                    self.fired.append((index, ctx.service, ctx.operation))
                return fault
        return None

    def _fires(self, fault: Fault, seen: int, call_number: int, request: AWSPreparedRequest) -> bool:
        mode = fault.when.mode
        if mode == "always":
            return True
        if mode == "once":
            return seen == 1
        if mode == "first":
            return seen <= fault.when.n
        if mode == "call":
            return call_number == fault.when.n
        return page_number(request_body(request), self.drs_page_size) == fault.when.page


def _matches(fault: Fault, ctx: CallContext) -> bool:
    if fault.service != ctx.service:
        return False
    checks = (
        (fault.operation, ctx.operation),
        (fault.account, ctx.account),
        (fault.region, ctx.region),
        (fault.table, ctx.table),
        (fault.invocation, ctx.invocation),
    )
    if any(wanted is not None and wanted != actual for wanted, actual in checks):
        return False
    if fault.role_account is not None and _role_account(ctx.params) != fault.role_account:
        return False
    return fault.session_name is None or ctx.params.get("RoleSessionName") == fault.session_name


def _role_account(params: dict[str, Any]) -> str | None:
    parts = str(params.get("RoleArn", "")).split(":")
    return parts[4] if len(parts) > 4 else None


def injected_exception(fault: Fault, request: AWSPreparedRequest) -> Exception | None:
    """The exception a ``credentials``, ``connection`` or ``timeout`` fault makes the attempt raise, else ``None``.

    ``CredentialRetrievalError`` (credentials that cannot be refreshed), ``EndpointConnectionError`` and
    ``ReadTimeoutError`` are botocore exceptions, not ``ClientError``s: what the code under test gets instead of an
    answer. The dispatcher raises them; anything else raised while answering is a simulator failure.
    """
    effect = fault.effect
    if effect.kind == "credentials":
        return CredentialRetrievalError(provider="assume-role", error_msg=effect.message or EXPIRED_TOKEN_MESSAGE)
    if effect.kind == "connection":
        return EndpointConnectionError(endpoint_url=request.url)
    if effect.kind == "timeout":
        return ReadTimeoutError(endpoint_url=request.url)
    return None


def answer_fault(fault: Fault, ctx: CallContext, request: AWSPreparedRequest) -> AWSResponse:
    """The response an ``error`` or ``malformed`` fault gives the attempt (``unprocessed`` is the dispatcher's)."""
    effect = fault.effect
    if effect.kind == "malformed":
        headers, body = render_malformed(ctx.service)
        return make_response(request.url, 200, headers, body)
    spec = error_spec(ctx.service, str(effect.code), effect.message, effect.status)
    headers, body = render_error(ctx.service, str(effect.code), spec.message)
    return make_response(request.url, spec.status, headers, body)


def split_unprocessed(request: AWSPreparedRequest, count: int) -> tuple[AWSPreparedRequest, dict[str, list]]:
    """Hold back the last ``count`` write requests of a BatchWriteItem.

    Returns:
        The request to let through (the rest), and the held-back ``UnprocessedItems``.
    """
    body = request_body(request)
    held: dict[str, list] = {}
    for table, writes in body.get("RequestItems", {}).items():
        keep = max(len(writes) - count, 0)
        if writes[keep:]:
            held[table] = writes[keep:]
        body["RequestItems"][table] = writes[:keep]
    body["RequestItems"] = {t: w for t, w in body["RequestItems"].items() if w}
    passed = AWSPreparedRequest(
        method=request.method,
        url=request.url,
        headers=request.headers,
        body=json.dumps(body).encode(),
        stream_output=request.stream_output,
    )
    return passed, held


def with_unprocessed(response: AWSResponse, held: dict[str, list]) -> AWSResponse:
    """Add held-back writes to a BatchWriteItem answer, keeping DynamoDB's CRC32 header truthful."""
    answer = json.loads(response.content or b"{}") if response.status_code == 200 else None
    if answer is None:
        return response
    answer.setdefault("UnprocessedItems", {}).update(held)
    body = json.dumps(answer).encode()
    headers = dict(response.headers.items())
    for name in list(headers):
        if name.lower() == "x-amz-crc32":
            headers[name] = str(zlib.crc32(body) & 0xFFFFFFFF)
    return make_response(response.url, 200, headers, body)


def empty_batch_answer(url: str, held: dict[str, list]) -> AWSResponse:
    """The answer when every write of a batch was held back (nothing reaches moto)."""
    body = json.dumps({"UnprocessedItems": held}).encode()
    return make_response(url, 200, {"Content-Type": "application/x-amz-json-1.0"}, body)


class LatencyModel:
    """Milliseconds per attempt from the scenario's latency, with an optional seeded per-region DRS spread.

    ``variant`` picks another seeded region order, so two runs of one scenario can be made to complete their
    regions in different, yet each deterministic, orders.
    """

    def __init__(self, latency: Latency, seed: int, variant: int = 0) -> None:
        self.latency = latency
        order = list(DRS_REGIONS)
        random.Random(f"{seed}:{variant}").shuffle(order)  # noqa: S311 - a schedule, not a secret
        self.rank = {region: i for i, region in enumerate(order)}

    def seconds(self, service: str, operation: str, region: str) -> float:
        """How long one attempt of this call waits before its answer."""
        ms = self.latency.for_call(service, operation)
        if service == "drs" and self.latency.region_spread_ms and region in self.rank:
            ms += self.latency.region_spread_ms * self.rank[region] / len(self.rank)
        return ms / 1000.0
