"""What the sync passes between its steps: a region's scan, a discovered server, an account's result.

Spec points: LB-5 (a region scan is all or nothing: ``ACTIVE`` with its servers, or a classified failure with none),
LB-7 (the EC2 details of an account, one index shared by its servers), LB-8 (the server exactly as DRS returned it,
never modified). Approvals: AD-2 (:attr:`RegionScan.complete`, :attr:`RegionScan.reported_arns` and
:attr:`AccountSync.identity`: what a scan proves, see :mod:`refactored.cleanup`), AD-3 (:class:`AccountSync` counts
persisted items and errors, which add up to the servers found).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RegionScan:
    """The outcome of querying DRS in one region for one account.

    Attributes:
        region: The region queried.
        status: ``ACTIVE`` on success, else the LB-5 classification (``THROTTLED``, ``ERROR``...).
        servers: The source servers found (empty on failure: a region is all or nothing).
        error_message: Why the query failed; ``None`` on success.
        complete: Every page of ``DescribeSourceServers`` was answered and well-formed (a mapping with an ``items``
            list). Only such a scan proves which servers the region holds; the status is legacy's and proves nothing
            (``NOT_INITIALIZED`` may follow earlier pages, and a malformed page reads as ``ACTIVE``).
        reported_arns: The ARN of every server any page reported, pages a later failure discarded included.
    """

    region: str
    status: str
    servers: list[dict[str, Any]] = field(default_factory=list)
    error_message: str | None = None
    complete: bool = False
    reported_arns: frozenset[str] = frozenset()

    @property
    def server_count(self) -> int:
        """How many source servers the region returned (0 on failure)."""
        return len(self.servers)


@dataclass(frozen=True)
class DiscoveredServer:
    """A DRS source server, where it was found and, once enriched, the EC2 details of its account.

    Attributes:
        server: The DRS ``SourceServer`` exactly as DRS returned it (never modified).
        account_id: The target account queried.
        region: The region queried (the server's replication region).
        ec2_index: Instance id -> EC2 details read for the account (shared by its servers; empty before
            enrichment).
    """

    server: dict[str, Any]
    account_id: str
    region: str
    ec2_index: Mapping[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ec2(self) -> dict[str, Any] | None:
        """This server's EC2 details (``vpcId``, ``subnetId``, ``privateIp``, ``securityGroups``,
        ``instanceProfile``, ``tags``), or ``None``.

        Raises:
            TypeError: The instance id is not hashable (legacy's item build fails the same way).
        """
        hints = self.server.get("sourceProperties", {}).get("identificationHints", {})
        return self.ec2_index.get(hints.get("awsInstanceID", "")) or None


@dataclass(frozen=True)
class AccountSync:
    """What syncing one (not skipped) account produced.

    Attributes:
        account_id: The account.
        scans: Every region scan, in completion order, without its servers (what the stale cleanup needs once the
            account is written: the run holds one account's servers at a time, as legacy does).
        synced: Inventory items persisted.
        errors: Servers whose item could not be built or persisted.
        identity: The account the credentials of its DRS queries belong to, as STS said (``GetCallerIdentity`` for
            the Lambda's own credentials, ``AssumedRoleUser`` for an assumed role); ``None`` when STS did not say.
            Its scans describe that account's DRS, whatever account the target row names.
    """

    account_id: str
    scans: list[RegionScan]
    synced: int
    errors: int
    identity: str | None = None
