"""Deterministic, realistic DRS source servers, and the deep merge that applies a scenario's partial objects.

:func:`generate_server` derives everything from its arguments (no global random state, no hash seeds), so the same
``(seed, account, region, index)`` gives the same server in every process. It emits only members of botocore's DRS
``SourceServer`` shape, and leaves out what the world adds: ``identificationHints.awsInstanceID`` (set when the world
creates the EC2 instance) and ``sourceCloudProperties`` (the origin of that instance).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from harness.scenario.model import DEFAULT_CLOCK

GIB = 1024**3
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_APPS = ("billing", "crm", "erp", "portal", "payments", "analytics", "hr", "inventory", "search", "ledger")
_ROLES = ("web", "app", "api", "db", "cache", "batch", "files", "auth", "mq", "report")
_ENVIRONMENTS = ("prod", "prod", "prod", "staging", "dev")
_LINUX = (
    "Amazon Linux 2 (kernel 5.10.217-205.860.amzn2.x86_64)",
    "Amazon Linux 2023 (kernel 6.1.94-99.176.amzn2023.x86_64)",
    "Red Hat Enterprise Linux 8.9 (Ootpa)",
    "Ubuntu 22.04.4 LTS",
    "SUSE Linux Enterprise Server 15 SP5",
)
_WINDOWS = ("Microsoft Windows Server 2019 Datacenter", "Microsoft Windows Server 2022 Standard")
_CPU_MODELS = (
    "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz",
    "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz",
    "Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz",
    "AMD EPYC 7R13 Processor",
)
#: (cores, GiB of RAM, recommended instance type), smaller sizes more likely.
_SIZES = (
    (2, 4, "t3.medium"),
    (2, 8, "m5.large"),
    (2, 8, "m5.large"),
    (4, 16, "m5.xlarge"),
    (4, 16, "m5.xlarge"),
    (4, 32, "r5.xlarge"),
    (8, 32, "m5.2xlarge"),
    (8, 64, "r5.2xlarge"),
    (16, 64, "m5.4xlarge"),
)
_DISK_GIB = (8, 20, 30, 50, 100, 200, 500)
#: Replication states with weights out of 100: continuous replication dominates a healthy estate.
_STATES = (
    ("CONTINUOUS", 88),
    ("INITIAL_SYNC", 3),
    ("BACKLOG", 2),
    ("RESCAN", 1),
    ("STALLED", 2),
    ("DISCONNECTED", 2),
    ("PAUSED", 1),
    ("CREATING_SNAPSHOT", 1),
)
_STATE_NAMES = tuple(name for name, _ in _STATES)
_STATE_WEIGHTS = tuple(weight for _, weight in _STATES)
_REPLICATION_ERRORS = {"STALLED": "UNSTABLE_NETWORK", "DISCONNECTED": "AGENT_NOT_SEEN"}
_AGENT_VERSIONS = ("4.7.1", "4.7.3", "4.8.0", "4.8.2")
_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"


@cache
def _instant(clock: str) -> datetime:
    """The scenario clock as an aware datetime (cached: every server of a world shares it)."""
    return datetime.fromisoformat(clock.replace("Z", "+00:00")).astimezone(UTC)


def _at(now: datetime, seconds_ago: float) -> str:
    return (now - timedelta(seconds=seconds_ago)).strftime(_TIME_FORMAT)


def _duration(seconds: int) -> str:
    """An ISO-8601 duration as DRS writes them: ``PT0S``, ``PT42S``, ``PT3H5M``, ``P12DT4H``."""
    if seconds < 60:
        return f"PT{seconds}S"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"P{days}DT{hours}H" if hours else f"P{days}D"
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes or not hours else "")


def _mac(rng: random.Random) -> str:
    return "0e:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(5))


def _ip(rng: random.Random) -> str:
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(4, 255)}"


def _network_interfaces(rng: random.Random) -> list[dict[str, Any]]:
    count = 2 if rng.random() < 0.1 else 1
    nics = []
    for position in range(count):
        ips = [_ip(rng)] + ([_ip(rng)] if rng.random() < 0.05 else [])
        nics.append({"macAddress": _mac(rng), "ips": ips, "isPrimary": position == 0})
    return nics


def _disks(rng: random.Random, windows: bool) -> list[dict[str, Any]]:
    count = rng.choice((1, 1, 2, 2, 3, 4))
    names = [f"Disk{n}" for n in range(count)] if windows else [f"/dev/xvd{chr(97 + n)}" for n in range(count)]
    return [{"deviceName": name, "bytes": rng.choice(_DISK_GIB) * GIB} for name in names]


def _replication_info(rng: random.Random, region: str, disks: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """``dataReplicationInfo`` consistent with the chosen state: lag, progress, errors, ETA."""
    state = rng.choices(_STATE_NAMES, weights=_STATE_WEIGHTS)[0]
    lag = {"CONTINUOUS": rng.randrange(0, 30), "DISCONNECTED": rng.randrange(3600, 4 * 86400)}.get(
        state, rng.randrange(60, 7200)
    )
    syncing = state in ("INITIAL_SYNC", "RESCAN")
    replicated = []
    for disk in disks:
        total = disk["bytes"]
        done = int(total * rng.uniform(0.1, 0.9)) if syncing else total
        backlog = rng.randrange(0, 512) * 1024**2 if state == "BACKLOG" else 0
        replicated.append(
            {
                "deviceName": disk["deviceName"],
                "totalStorageBytes": total,
                "replicatedStorageBytes": done,
                "rescannedStorageBytes": done if state == "RESCAN" else 0,
                "backloggedStorageBytes": backlog,
            }
        )
    info: dict[str, Any] = {
        "dataReplicationState": state,
        "lagDuration": _duration(lag),
        "replicatedDisks": replicated,
        "stagingAvailabilityZone": f"{region}{rng.choice('abc')}",
    }
    if syncing:
        info["etaDateTime"] = _at(now, -rng.randrange(600, 36000))
    if state in _REPLICATION_ERRORS:
        info["dataReplicationError"] = {"error": _REPLICATION_ERRORS[state], "rawError": ""}
    return info


def _life_cycle(rng: random.Random, launch: str, lag_seconds: int, now: datetime) -> dict[str, Any]:
    added = rng.randrange(7 * 86400, 400 * 86400)
    first_byte = added - rng.randrange(60, 3600)
    cycle: dict[str, Any] = {
        "addedToServiceDateTime": _at(now, added),
        "firstByteDateTime": _at(now, first_byte),
        "elapsedReplicationDuration": _duration(first_byte),
        "lastSeenByServiceDateTime": _at(now, lag_seconds + rng.randrange(1, 60)),
    }
    if launch != "NOT_STARTED":
        job = "".join(rng.choice(_ALNUM) for _ in range(17))
        cycle["lastLaunch"] = {
            "initiated": {
                "apiCallDateTime": _at(now, rng.randrange(86400, 90 * 86400)),
                "jobID": f"drsjob-{job}",
                "type": "DRILL",
            },
            "status": "LAUNCHED" if launch == "SUCCEEDED" else "FAILED",
        }
    return cycle


def _lag_seconds(info: dict[str, Any]) -> int:
    """Seconds since the service last heard from the agent, by state (a disconnected agent is long gone)."""
    return 7200 if info["dataReplicationState"] == "DISCONNECTED" else 0


def generate_server(seed: int, account_id: str, region: str, index: int, *, clock: str = DEFAULT_CLOCK) -> dict:
    """A complete, realistic DRS ``SourceServer``, the same for the same arguments in every process.

    Args:
        seed: The scenario seed.
        account_id: The account whose DRS holds the server (its staging account).
        region: The region it replicates into.
        index: Its position in its (account, region) group, from 0.
        clock: The scenario clock; generated times lie before it.

    Returns:
        A fresh dict the caller may mutate.
    """
    digest = hashlib.blake2b(f"{seed}|{account_id}|{region}|{index}".encode(), digest_size=20).hexdigest()
    server_id = f"s-{digest[:17]}"
    rng = random.Random(int(digest[17:], 16))  # noqa: S311 - reproducible test data, not security
    now = _instant(clock)
    app, role, env = rng.choice(_APPS), rng.choice(_ROLES), rng.choice(_ENVIRONMENTS)
    hostname = f"{app}-{role}-{env}-{index + 1:04d}"
    windows = rng.random() < 0.2
    cores, ram_gib, instance_type = rng.choice(_SIZES)
    disks = _disks(rng, windows)
    info = _replication_info(rng, region, disks, now)
    launch = rng.choices(("NOT_STARTED", "SUCCEEDED", "FAILED"), weights=(80, 18, 2))[0]
    tags = {} if rng.random() < 0.1 else {"Name": hostname, "Environment": env, "Application": app}
    return {
        "sourceServerID": server_id,
        "arn": f"arn:aws:drs:{region}:{account_id}:source-server/{server_id}",
        "tags": tags,
        "lastLaunchResult": launch,
        "dataReplicationInfo": info,
        "lifeCycle": _life_cycle(rng, launch, _lag_seconds(info), now),
        "sourceProperties": {
            "lastUpdatedDateTime": _at(now, rng.randrange(60, 86400)),
            "recommendedInstanceType": instance_type,
            "identificationHints": {"hostname": hostname, "fqdn": f"{hostname}.{env}.corp.example.com"},
            "networkInterfaces": _network_interfaces(rng),
            "disks": disks,
            "cpus": [{"cores": cores, "modelName": rng.choice(_CPU_MODELS)}],
            "ramBytes": ram_gib * GIB,
            "os": {"fullString": rng.choice(_WINDOWS if windows else _LINUX)},
            "supportsNitroInstances": True,
            "architecture": "x86_64",
        },
        "stagingArea": {"status": "NOT_EXTENDED", "stagingAccountID": account_id},
        "replicationDirection": "FAILOVER",
        "agentVersion": rng.choice(_AGENT_VERSIONS),
    }


def generate_servers(
    seed: int, account_id: str, region: str, count: int, *, start: int = 0, clock: str = DEFAULT_CLOCK
) -> list[dict]:
    """``count`` consecutive servers of one (account, region), indexes ``start`` to ``start + count - 1``."""
    return [generate_server(seed, account_id, region, index, clock=clock) for index in range(start, start + count)]


def _copy(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, scalars), much faster than :func:`copy.deepcopy`."""
    if isinstance(value, dict):  # concrete types first: ABC checks cost more than the copy itself
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_copy(item) for item in value]
    return value


def _merge_into(target: dict[str, Any], override: Mapping[str, Any]) -> None:
    for key, value in override.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping):
            current = target.get(key)
            if not isinstance(current, dict):
                current = target[key] = {}
            _merge_into(current, value)
        else:
            target[key] = _copy(value)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` applied, as a new dict; neither input is modified or shared with the result.

    Mappings merge recursively; lists and scalars in ``override`` replace; ``None`` removes the key (as in JSON Merge
    Patch, RFC 7396), which is how a scenario takes a generated field away, e.g. ``stagingArea: null``.
    """
    merged = _copy(base)
    _merge_into(merged, override)
    return merged
