"""Anonymising a captured scenario: every identifier mapped consistently, nothing of the original left.

Each value is replaced by a keyed hash (HMAC-SHA256) of it under a seed that is random per capture and never
written (or given, for a reproducible mapping), so the same input gives the same output everywhere in one document
and cross-references survive: a server's ``arn`` and its inventory row's ``sourceServerArn``, its ``awsInstanceID``
and the captured instance, a role ARN's account and the account row. Shapes are kept so the replay behaves the same:

- account ids: 12 digits -> 12 digits (one-to-one, so the Lambda's own account stays distinct from every other);
- ARNs: rebuilt from mapped parts (partition, service, region and the resource type kept);
- ``i-``/``vol-``/``subnet-``/``vpc-``/``sg-``/``eni-``/``snap-``/``ami-``/``r-`` and ``s-`` (source server) ids:
  same prefix and length; UUIDs: UUID-shaped;
- IPv4 -> 10.x.y.z, IPv6 -> fd00::/8, MACs -> locally administered MACs;
- hostnames and FQDNs label by label (so a hostname stays the first label of its FQDN);
- tag values, external ids and account names: opaque ``anon-...`` tokens.

Free text (error messages, any string) is rewritten with the same rules, so an ARN or an id inside a message is
mapped like the field it came from. Values the sync itself defines (the default role name and external id, session
names) are not the estate's and are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Callable, Iterator
from typing import Any

#: Values of the sync's own code, not of the estate: kept as they are.
KEEP = frozenset({"DRSOrchestrationRole", "drs-orchestration-cross-account", "inventory-sync", "inventory-ec2-query"})
#: Keys whose string values are opaque identifiers of the estate.
OPAQUE_KEYS = frozenset({"externalId", "accountName", "vcenterClientID"})
#: Keys whose values are hostnames or FQDNs.
HOST_KEYS = frozenset({"hostname", "fqdn"})
#: Keys holding tag mappings (their values are mapped, their keys kept).
TAG_KEYS = frozenset({"tags", "sourceTags"})

_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:(?:\d{12})?:[A-Za-z0-9_+=,.@/:-]+")
_MAC = re.compile(r"(?<![0-9A-Fa-f:])[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}(?![0-9A-Fa-f:])")
_IPV6 = re.compile(r"(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Za-z:])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_AWS_ID = re.compile(r"\b(i|vol|subnet|vpc|sg|eni|snap|ami|r|s)-([0-9a-f]{17}|[0-9a-f]{8})\b")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")
_LABEL = re.compile(r"^[A-Za-z0-9-]+$")
#: Free-text patterns in priority order, named after the method that maps them.
_PATTERNS = (
    ("arn", _ARN),
    ("mac", _MAC),
    ("uuid", _UUID),
    ("ipv6", _IPV6),
    ("ipv4", _IPV4),
    ("id", _AWS_ID),
    ("account", _ACCOUNT),
)


class Anonymiser:
    """A consistent, seeded mapping of identifiers (see the module docstring).

    Args:
        seed: The HMAC key; ``None`` draws a random one (never written anywhere, so the mapping cannot be undone).
    """

    def __init__(self, seed: str | None = None) -> None:
        self._key = (seed if seed is not None else secrets.token_hex(32)).encode()
        self._maps: dict[str, dict[str, str]] = {}
        self._used: dict[str, set[str]] = {}
        self._pattern = re.compile("|".join(f"(?P<{name}>{pattern.pattern})" for name, pattern in _PATTERNS))

    # -- one value of one kind --------------------------------------------------------------------------------------

    def _mapped(self, kind: str, value: str, make: Callable[[bytes], str]) -> str:
        """The image of ``value``: ``make`` of its HMAC, redrawn on a clash so the mapping stays one-to-one."""
        known = self._maps.setdefault(kind, {})
        if value in known:
            return known[value]
        used = self._used.setdefault(kind, set())
        attempt = 0
        while True:
            digest = hmac.new(self._key, f"{kind}:{attempt}:{value}".encode(), hashlib.sha256).digest()
            image = make(digest)
            if image not in used and (image != value or attempt > 8):
                break
            attempt += 1
        known[value] = image
        used.add(image)
        return image

    def account(self, value: str) -> str:
        """12 digits -> 12 digits."""
        return self._mapped("account", value, lambda d: f"{int.from_bytes(d[:8], 'big') % 10**12:012d}")

    def aws_id(self, prefix: str, digits: str) -> str:
        """``prefix-<hex>`` -> the same prefix and as many hex digits."""
        return self._mapped(f"id:{prefix}", f"{prefix}-{digits}", lambda d: f"{prefix}-{d.hex()[: len(digits)]}")

    def uuid(self, value: str) -> str:
        """A UUID -> a UUID-shaped value."""

        def make(digest: bytes) -> str:
            h = digest.hex()
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"

        return self._mapped("uuid", value.lower(), make)

    def ipv4(self, value: str) -> str:
        """An IPv4 address -> one in 10.0.0.0/8.

        Raises:
            ValueError: When ``value`` is not an IPv4 address.
        """
        ipaddress.IPv4Address(value)
        return self._mapped("ipv4", value, lambda d: f"10.{d[0]}.{d[1]}.{max(d[2], 1)}")

    def ipv6(self, value: str) -> str:
        """An IPv6 address -> one in fd00::/8.

        Raises:
            ValueError: When ``value`` is not an IPv6 address.
        """
        canonical = str(ipaddress.IPv6Address(value))
        return self._mapped("ipv6", canonical, lambda d: str(ipaddress.IPv6Address(b"\xfd" + d[:15])))

    def mac(self, value: str) -> str:
        """A MAC -> a locally administered unicast MAC."""
        return self._mapped("mac", value.lower(), lambda d: ":".join(f"{b:02x}" for b in (b"\x02" + d[:5])))

    def token(self, value: str) -> str:
        """Any identifying text -> ``anon-<hex>`` (empty values and the sync's own constants kept)."""
        if not value or value in KEEP:
            return value
        return self._mapped("token", value, lambda d: f"anon-{d.hex()[:12]}")

    def label(self, value: str) -> str:
        """One DNS label -> ``h<hex>`` of a similar length."""
        return self._mapped("label", value.lower(), lambda d: "h" + d.hex()[: max(len(value) - 1, 6)])

    def host(self, value: str) -> str:
        """A hostname or FQDN, label by label (free text that is not a name becomes a token)."""
        labels = value.split(".")
        if not value or not all(_LABEL.match(part) for part in labels):
            return self.token(value)
        return ".".join(self.label(part) for part in labels)

    def arn(self, value: str) -> str:
        """An ARN rebuilt from mapped parts: the account, and every resource part after the resource type."""
        parts = value.split(":", 5)
        if len(parts) < 6:
            return self.token(value)
        if parts[4]:
            parts[4] = self.account(parts[4])
        pieces = re.split(r"([/:])", parts[5])
        mapped = [pieces[0]] + [self._resource_piece(piece) for piece in pieces[1:]]
        parts[5] = "".join(mapped)
        return ":".join(parts)

    def _resource_piece(self, piece: str) -> str:
        if piece in ("/", ":", "") or piece in KEEP:
            return piece
        if _AWS_ID.fullmatch(piece) or _UUID.fullmatch(piece) or _ACCOUNT.fullmatch(piece):
            return self.text(piece)
        return self.token(piece)

    # -- free text --------------------------------------------------------------------------------------------------

    def learn_hosts(self, names: list[str]) -> None:
        """Hostnames and FQDNs to find inside free text too (longest first, so an FQDN wins over its host)."""
        hosts = sorted({name for name in names if name}, key=len, reverse=True)
        names = "|".join(re.escape(host) for host in hosts)
        alternatives = [f"(?P<host>(?<![A-Za-z0-9.-])(?:{names})(?![A-Za-z0-9-]))"] if hosts else []
        alternatives += [f"(?P<{name}>{pattern.pattern})" for name, pattern in _PATTERNS]
        self._pattern = re.compile("|".join(alternatives))

    def text(self, value: str) -> str:
        """Every identifier inside ``value`` mapped, in one pass (a mapped value is never mapped again)."""
        return self._pattern.sub(self._replace, value)

    def _replace(self, match: re.Match[str]) -> str:
        kind, found = match.lastgroup, match.group(0)
        if kind == "host":
            return self.host(found)
        if kind == "id":
            prefix, _, digits = found.partition("-")
            return self.aws_id(prefix, digits)
        try:
            return getattr(self, str(kind))(found)
        except ValueError:  # an IPv6 look-alike such as a time of day
            return found

    # -- whole documents --------------------------------------------------------------------------------------------

    def document(self, doc: Any) -> Any:
        """A copy of a scenario document (or any JSON-like value) with every identifier mapped."""
        self.learn_hosts(list(_host_values(doc)))
        return self._value(doc, None)

    def _value(self, value: Any, key: str | None) -> Any:
        if isinstance(value, dict):
            if key in TAG_KEYS:
                return {name: self.token(item) if isinstance(item, str) else item for name, item in value.items()}
            return {name: self._value(item, name) for name, item in value.items()}
        if isinstance(value, list):
            return [self._value(item, key) for item in value]
        if not isinstance(value, str):
            return value
        if key in OPAQUE_KEYS:
            return self.token(value)
        if key in HOST_KEYS:
            return self.host(value)
        return self.text(value)


def _host_values(value: Any, key: str | None = None) -> Iterator[str]:
    """Every hostname and FQDN of a document (the values of ``hostname``/``fqdn`` keys)."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _host_values(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _host_values(item, key)
    elif isinstance(value, str) and key in HOST_KEYS and len(value) >= 3:
        yield value
