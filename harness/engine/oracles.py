"""Oracles: outcomes judged against what the world knows, never against what a run says it did.

Every function here reads an observation's final tables, its recorded calls (what the wire saw) and its
``world_truth`` (:mod:`harness.world.truth`: the world's servers, which DRS listings it answered completely, the
inventory before the run, the target rows in scan order). None reads a run's response body to learn what happened,
nor its region-status rows: those are the run's own bookkeeping, which a check must not share.

The facts, each a small function the approvals (:mod:`harness.engine.approvals`) and the acceptance tests build on:

* :func:`lost_live_records` - records that existed before the run, whose server exists in the world, and that are
  gone from the final table (the one thing the inventory must never do).
* :func:`provably_stale` - a record this run *could* prove stale: its ARN names a DRS (account, region), its
  ``replicationRegion`` agrees, the world answered that DRS completely in this run (to that account's credentials:
  the world's DRS answers every caller from its own account's DRS), and no server of the world has its ARN.
* :func:`unaccounted_servers` - servers of a DRS the world answered completely that are not in the final inventory
  and are not accounted for: their item cannot be built from their data, or the run's write of them did not land.
* :func:`count_problems` - the response's counts against what the tables hold.
* :class:`CrashPoint` - after the baseline crashed: the target rows it never reached and what they hold.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from harness.engine.model import Observation

#: An inventory key: (sourceServerArn, stagingAccountId).
Key = tuple[Any, Any]
#: A DRS: (account, region).
Place = tuple[str, str]

_SOURCE_SERVER_ARN = re.compile(r"arn:[a-z0-9-]+:drs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):source-server/.+")
INVENTORY_WRITES = ("BatchWriteItem", "PutItem")


def truth(observation: Observation | None) -> dict[str, Any]:
    """The observation's world truth (empty when there is none)."""
    return observation.world_truth if observation is not None else {}


def live_arns(world: dict[str, Any]) -> set[str]:
    """The ARN of every DRS source server of the world."""
    return {server["arn"] for server in world.get("servers", []) if server.get("arn")}


def holders(world: dict[str, Any]) -> dict[str, set[Place]]:
    """ARN -> the DRS (account, region) pairs of the world holding a server with it."""
    found: dict[str, set[Place]] = {}
    for server in world.get("servers", []):
        if server.get("arn"):
            found.setdefault(server["arn"], set()).add((server["account"], server["region"]))
    return found


def completely_answered(world: dict[str, Any]) -> set[Place]:
    """The DRS (account, region) pairs the world listed completely in this run."""
    return {(answer["account"], answer["region"]) for answer in world.get("drsAnswers", []) if answer["complete"]}


def records_before(world: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    """The inventory records the table held before the run, by key."""
    return {(r["sourceServerArn"], r["stagingAccountId"]): r for r in world.get("inventoryBefore", [])}


def final_items(observation: Observation) -> dict[Key, dict[str, Any]]:
    """The final inventory table, by key."""
    return {
        (item.get("sourceServerArn"), item.get("stagingAccountId")): item
        for item in observation.tables.get("inventory", {}).values()
    }


def lost_live_records(observation: Observation) -> list[Key]:
    """Records that existed before the run, whose server exists in the world, and that the final table lacks."""
    world = truth(observation)
    live, final = live_arns(world), final_items(observation)
    return sorted(
        (key for key in records_before(world) if key[0] in live and key not in final), key=lambda key: str(key)
    )


def named_place(record: dict[str, Any]) -> Place | None:
    """The DRS (account, region) a record's ARN names, when its ``replicationRegion`` agrees; else ``None``."""
    arn = record.get("sourceServerArn")
    match = _SOURCE_SERVER_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None or record.get("replicationRegion") != match["region"]:
        return None
    return match["account"], match["region"]


def provably_stale(record: dict[str, Any], world: dict[str, Any]) -> bool:
    """Whether the run could have proved a record stale (the module docstring): keeping it needs another reason."""
    place = named_place(record)
    return (
        place is not None and place in completely_answered(world) and record["sourceServerArn"] not in live_arns(world)
    )


def inventory_puts(observation: Observation) -> list[dict[str, Any]]:
    """Every item a run sent to the inventory table (batched or single puts), landed or not."""
    items = []
    for call in observation.mutating_calls:
        item = (call["params"].get("PutRequest") or {}).get("Item") or call["params"].get("Item")
        if call.get("table") == "inventory" and call["operation"] in INVENTORY_WRITES and item:
            items.append(item)
    return items


def unaccounted_servers(observation: Observation) -> list[str]:
    """Servers of a completely answered DRS missing from the final inventory without an account of why.

    A server is accounted for when its item cannot be built from its data (``itemProblem``), when it has no ARN to
    key an item by, or when the run sent an item for it that did not land (the world refused the write). One
    message per unaccounted server.
    """
    world = truth(observation)
    answered = completely_answered(world)
    present = {item.get("sourceServerArn") for item in final_items(observation).values()}
    sent = {item.get("sourceServerArn") for item in inventory_puts(observation)}
    problems = []
    for server in world.get("servers", []):
        if (server["account"], server["region"]) not in answered or server["itemProblem"] or not server.get("arn"):
            continue
        if server["arn"] not in present and server["arn"] not in sent:
            problems.append(f"{server['arn']} (in {server['account']}/{server['region']}) is not in the inventory")
    return problems


def missing_answered_servers(observation: Observation) -> int:
    """How many servers of completely answered DRS listings are missing from the final inventory (any reason)."""
    world = truth(observation)
    answered = completely_answered(world)
    present = {item.get("sourceServerArn") for item in final_items(observation).values()}
    return len(
        {
            server["arn"] or f"{server['account']}/{server['region']}/{server.get('sourceServerID')}"
            for server in world.get("servers", [])
            if (server["account"], server["region"]) in answered and server.get("arn") not in present
        }
    )


def count_problems(observation: Observation) -> list[str]:
    """The response's counts against what the world applied to the tables: ``totalSynced`` is the inventory item
    writes the table applied in this run (``inventoryPutsApplied``: a write resent after the table refused it counts
    once, two accounts writing the same item count twice); ``staleRecordsDeleted`` is the records that existed
    before the run and are gone; ``totalErrors`` covers at least the completely answered servers that are missing.

    Returns:
        One message per count that disagrees (empty when they all agree).
    """
    body = observation.response.get("body") if isinstance(observation.response, dict) else None
    if not isinstance(body, dict) or not {"totalSynced", "totalErrors", "staleRecordsDeleted"} <= set(body):
        return ["the response has no totalSynced/totalErrors/staleRecordsDeleted"]
    world = truth(observation)
    final = final_items(observation)
    problems = []
    applied = world.get("inventoryPutsApplied", 0)
    if body["totalSynced"] != applied:
        problems.append(f"totalSynced={body['totalSynced']} but the table applied {applied} item write(s)")
    gone = [key for key in records_before(world) if key not in final]
    if body["staleRecordsDeleted"] != len(gone):
        problems.append(f"staleRecordsDeleted={body['staleRecordsDeleted']} but {len(gone)} record(s) are gone")
    missing = missing_answered_servers(observation)
    if body["totalErrors"] < missing:
        problems.append(f"totalErrors={body['totalErrors']} but {missing} answered server(s) are not in the inventory")
    return problems


# -- after the baseline crashed ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrashPoint:
    """What lies after the point where the baseline crashed: the target rows it never reached.

    A row counts as reached when the baseline left a trace that only that row leaves: a region-status batch row
    naming it, or an ``AssumeRole`` (session ``inventory-sync``) of its role. Rows are synced in scan order, so
    every row after the last reached one was never reached. (A row without such a trace before that one was reached
    too; the crash row itself may leave none, which only moves it to the unreached side when it differs from the
    baseline nowhere but in what AD-3 already covers.)

    Attributes:
        rows: The unreached rows (``accountId``, ``credentialsAccount``, ``roleArn``), in scan order.
        lambda_account: The Lambda's account.
        servers: The world's servers held by the unreached rows' credentials accounts.
        target_rows: Every target row by account (for the EC2 role look-up of LB-7).
    """

    rows: tuple[dict[str, Any], ...]
    lambda_account: str
    servers: tuple[dict[str, Any], ...]
    target_rows: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, baseline: Observation, candidate: Observation) -> CrashPoint:
        """The crash point of a baseline run (the world truth is the candidate's: the same world)."""
        world = truth(candidate)
        rows = world.get("targetAccounts", [])
        status_accounts = {w["item"].get("accountId") for w in baseline.region_status_writes if w["via"] != "PutItem"}
        roles = {
            call["params"].get("RoleArn")
            for call in baseline.mutating_calls
            if call["operation"] == "AssumeRole" and call["params"].get("RoleSessionName") == "inventory-sync"
        }
        reached = [
            i for i, row in enumerate(rows) if row["accountId"] in status_accounts or row.get("roleArn") in roles
        ]
        unreached = tuple(rows[max(reached) + 1 :] if reached else rows)
        accounts = {row["credentialsAccount"] for row in unreached}
        servers = tuple(s for s in world.get("servers", []) if s["account"] in accounts)
        return cls(unreached, world.get("lambdaAccount", ""), servers, {row["accountId"]: row for row in rows})

    @property
    def account_ids(self) -> set[str]:
        """The unreached rows' account ids."""
        return {row["accountId"] for row in self.rows}

    @property
    def credentials_accounts(self) -> set[str]:
        """The accounts whose DRS the unreached rows are queried in."""
        return {row["credentialsAccount"] for row in self.rows if row["credentialsAccount"]}

    @property
    def arns(self) -> set[str]:
        """The ARNs of the servers the unreached rows can find (an empty one too: DRS may answer it, and the sync
        writes it, for DynamoDB to refuse)."""
        return {server["arn"] for server in self.servers if server.get("arn") is not None}

    def _ec2_role(self, origin: str) -> str:
        """The role LB-7 assumes for EC2 in an origin account: the target row's ``roleArn`` when the row has the key
        (even empty), else the default role."""
        default = f"arn:aws:iam::{origin}:role/DRSOrchestrationRole"
        return str(self.target_rows.get(origin, {}).get("roleArn", default))

    def _origins(self) -> set[Place]:
        """(origin account, origin region) of the unreached rows' servers (the holder's, when they name none)."""
        origins = set()
        for server in self.servers:
            account, region = server.get("origin") or [None, None]
            origins.add((account or server["account"], region or server["region"]))
        return origins

    def ec2_roles(self) -> set[str]:
        """The roles LB-7 may assume to enrich the unreached rows' servers (by origin account)."""
        return {self._ec2_role(account) for account, _ in self._origins() if account != self.lambda_account}

    def ec2_places(self) -> set[Place]:
        """The (credentials account, region) pairs LB-7 may call EC2 in for the unreached rows' servers."""
        places = set()
        for account, region in self._origins():
            role = self._ec2_role(account).split(":")
            owner = self.lambda_account if account == self.lambda_account else role[4] if len(role) > 4 else account
            places.add((owner, region))
        return places


def multiset_minus(more: Iterable[str], less: Iterable[str]) -> Counter[str] | None:
    """``more - less`` as multisets, or ``None`` when ``less`` is not contained in ``more``."""
    extra = Counter(more)
    extra.subtract(Counter(less))
    if any(count < 0 for count in extra.values()):
        return None
    return +extra
