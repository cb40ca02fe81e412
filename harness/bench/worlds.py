"""The benchmark's worlds and the critical-path lower bound any sync making legacy's calls must wait for."""

from __future__ import annotations

import math
from collections import Counter

from harness.scenario.model import Scenario, scenario_from_dict
from lambda_shared.drs_regions import DRS_REGIONS

DEFAULT_LATENCY_MS: dict[str, float] = {"drs": 200.0, "ec2": 100.0, "sts": 50.0, "dynamodb": 10.0}


def _account(index: int) -> str:
    return f"{200000000000 + index * 111111111:012d}"


def _case(name: str, accounts: int, regions: int, per_region: int, latency: dict[str, float]) -> Scenario:
    account_ids = [_account(i + 1) for i in range(accounts)]
    return scenario_from_dict(
        {
            "name": name,
            "description": f"{accounts} account(s) x {regions} active region(s) x {per_region} servers per region",
            "accounts": [
                {
                    "accountId": a,
                    "roleArn": f"arn:aws:iam::{a}:role/DRSOrchestrationRole",
                    "externalId": "drs-orchestration",
                }
                for a in account_ids
            ],
            "tables": {"activeRegions": DRS_REGIONS[:regions]},
            "servers": [
                {"account": a, "region": r, "count": per_region} for a in account_ids for r in DRS_REGIONS[:regions]
            ],
            "latency": {"services": latency},
        },
        source="<bench>",
    )


def bench_cases(latency: dict[str, float]) -> dict[str, Scenario]:
    """The four benchmark worlds the design's performance claims are about."""
    return {
        "1-account-28-regions": _case("1-account-28-regions", 1, 28, 5, latency),
        "3-accounts-28-regions": _case("3-accounts-28-regions", 3, 28, 5, latency),
        "1000-servers": _case("1000-servers", 2, 10, 50, latency),
        "10000-servers": _case("10000-servers", 4, 10, 250, latency),
    }


def critical_path_seconds(scenario: Scenario, parallel_accounts: bool = True) -> float:
    """The least time any sync making legacy's calls must take under the scenario's latency model.

    Independent work is assumed fully parallel: the target-accounts scan, the active-region scan and the caller
    identity overlap; accounts run side by side; regions run side by side, but the pages of one region follow each
    other; per account the EC2 enrichment needs the DRS answers, then a target-account look-up, a role assumption
    and one wave of DescribeInstances chunks; the inventory write needs the enrichment; the stale-record scan needs
    every write, and its deletes need the scan.

    Args:
        scenario: The world.
        parallel_accounts: ``False`` chains the accounts one after another (the design's sequential accounts).

    Returns:
        Seconds.
    """
    lat = scenario.latency
    ddb, sts = lat.for_call("dynamodb", "Scan"), lat.for_call("sts", "AssumeRole")
    drs, ec2 = lat.for_call("drs", "DescribeSourceServers"), lat.for_call("ec2", "DescribeInstances")
    counts: Counter[tuple[str, str]] = Counter()
    for group in scenario.servers:
        counts[(group.account, group.region)] += group.total
    regions = [row["region"] for row in scenario.region_status if int(row.get("serverCount", 0)) > 0] or DRS_REGIONS
    chains = []
    for account in scenario.accounts:
        assume = sts if account.row.get("roleArn") and account.account_id != scenario.lambda_account else 0.0
        pages = max(max(1, math.ceil(counts[(account.account_id, r)] / scenario.drs_page_size)) for r in regions)
        has_servers = any(counts[(account.account_id, r)] for r in regions)
        enrich_and_write = (ddb + sts + ec2 + ddb) if has_servers else 0.0
        chains.append(assume + pages * drs + enrich_and_write)
    cleanup = ddb + (ddb if scenario.inventory else 0.0)
    accounts = max(chains, default=0.0) if parallel_accounts else sum(chains)
    return (max(ddb, sts) + accounts + cleanup) / 1000.0
