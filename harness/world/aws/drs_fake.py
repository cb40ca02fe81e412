"""A wire-level fake of AWS Elastic Disaster Recovery (moto has no DRS backend).

It answers the HTTP requests botocore prepares, so botocore's real serializer, response parser, paginator, retry
handler and ``ClientError`` construction all run. Only ``DescribeSourceServers`` is supported; any other DRS
operation raises :class:`NotSupportedByFake` so nothing silently succeeds.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.awsrequest import AWSPreparedRequest

from harness.world.aws.errors import render_error

MAX_RESULTS_LIMIT = 1000
_TOKEN_PREFIX = "drs-fake:"  # noqa: S105 - a pagination marker, not a secret


class NotSupportedByFake(Exception):
    """Raised for a DRS operation the fake does not implement: loud, never a silent success."""


def encode_token(offset: int) -> str:
    """The opaque ``nextToken`` for the page starting at ``offset``."""
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{offset}".encode()).decode()


def decode_token(token: str) -> int | None:
    """The offset a ``nextToken`` points at, or ``None`` when the token is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not text.startswith(_TOKEN_PREFIX) or not text[len(_TOKEN_PREFIX) :].isdigit():
        return None
    return int(text[len(_TOKEN_PREFIX) :])


def request_body(request: AWSPreparedRequest) -> dict[str, Any]:
    """The JSON body of a rest-json request (``{}`` when empty)."""
    body = request.body
    if not body:
        return {}
    if isinstance(body, bytes | bytearray):
        body = body.decode()
    return json.loads(body)


def page_number(body: dict[str, Any], default_page_size: int) -> int:
    """Which page (from 1) a DescribeSourceServers request asks for."""
    offset = decode_token(body["nextToken"]) if body.get("nextToken") else 0
    size = int(body.get("maxResults") or default_page_size)
    return (offset or 0) // max(size, 1) + 1


Response = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class ServedPage:
    """A ``DescribeSourceServers`` page the fake answered itself (a fault's answer never reaches the fake).

    Attributes:
        account: The caller's account: whose DRS answered.
        region: The region asked.
        offset: Index of the page's first server among the region's (filtered) servers.
        size: The page size.
        total: How many (filtered) servers the region holds.
        filtered: Whether the request carried filters (such a pagination does not list the whole region).
    """

    account: str
    region: str
    offset: int
    size: int
    total: int
    filtered: bool


class DrsFake:
    """DRS source servers per (account, region), served over the wire.

    Args:
        servers: ``{(account, region): [SourceServer dicts]}``.
        page_size: Page size when the caller sends no ``maxResults``.
        account_of: Maps an access key id to the account it belongs to.
    """

    def __init__(
        self,
        servers: dict[tuple[str, str], list[dict[str, Any]]],
        page_size: int,
        account_of: Callable[[str], str],
    ) -> None:
        self.servers = servers
        self.page_size = page_size
        self.account_of = account_of
        self.served: list[ServedPage] = []

    def handle(self, operation: str, request: AWSPreparedRequest, account: str) -> Response:
        """Answer one DRS request.

        Raises:
            NotSupportedByFake: For any operation other than DescribeSourceServers.
        """
        if operation != "DescribeSourceServers":
            raise NotSupportedByFake(f"DRS operation {operation} is not supported by the harness's DRS fake")
        region = region_of(request.url)
        return self.describe_source_servers(account, region, request_body(request))

    def describe_source_servers(self, account: str, region: str, body: dict[str, Any]) -> Response:
        """Filter, then page, the servers of ``(account, region)``."""
        max_results = body.get("maxResults")
        if max_results is not None and not 1 <= int(max_results) <= MAX_RESULTS_LIMIT:
            return _error("ValidationException", f"maxResults must be between 1 and {MAX_RESULTS_LIMIT}")
        offset = 0
        if body.get("nextToken"):
            decoded = decode_token(body["nextToken"])
            if decoded is None:
                return _error("ValidationException", "Invalid nextToken")
            offset = decoded
        filters = body.get("filters") or {}
        items = _filtered(self.servers.get((account, region), []), filters)
        size = int(max_results or self.page_size)
        page = items[offset : offset + size]
        self.served.append(ServedPage(account, region, offset, size, len(items), bool(filters)))
        answer: dict[str, Any] = {"items": page}
        if offset + size < len(items):
            answer["nextToken"] = encode_token(offset + size)
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()


def region_of(url: str) -> str:
    """The region in a regional endpoint URL such as ``https://drs.eu-west-1.amazonaws.com/...``."""
    host = urlsplit(url).hostname or ""
    parts = host.split(".")
    return parts[1] if len(parts) > 2 else ""


def _filtered(items: list[dict[str, Any]], filters: dict[str, Any]) -> list[dict[str, Any]]:
    ids = set(filters.get("sourceServerIDs") or [])
    staging = set(filters.get("stagingAccountIDs") or [])
    result = items
    if ids:
        result = [s for s in result if s.get("sourceServerID") in ids]
    if staging:
        result = [s for s in result if s.get("stagingArea", {}).get("stagingAccountID") in staging]
    return result


def _error(code: str, message: str) -> Response:
    headers, body = render_error("drs", code, message)
    return 400, headers, body
