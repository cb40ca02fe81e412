"""The machine a benchmark ran on, for ``bench.json``: enough to tell two runs' machines apart, nothing identifying.

The host name is left out on purpose (a benchmark file is shared; the machine's kind, not its name, explains its
figures). Each value that the platform cannot tell is ``None``.
"""

from __future__ import annotations

import logging
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CPUINFO = Path("/proc/cpuinfo")
MEMINFO = Path("/proc/meminfo")
#: The keys that describe the machine itself (load averages change from run to run on any machine).
IDENTITY_KEYS = ("os", "platform", "architecture", "python", "cpu_count", "cpu_model", "memory_total_mib")


def now() -> str:
    """The current UTC time, to the second, as ``bench.json`` records it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_average() -> list[float] | None:
    """The 1-, 5- and 15-minute load averages (``None`` where the platform has none)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        logger.debug("cannot read %s: %s", path, error)
        return ""


def cpu_model(cpuinfo: Path = CPUINFO) -> str | None:
    """The processor's model name from ``/proc/cpuinfo``, else what :func:`platform.processor` says."""
    for line in _read(cpuinfo).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("model name", "Model", "cpu model") and value.strip():
            return value.strip()
    return platform.processor() or None


def memory_total_mib(meminfo: Path = MEMINFO) -> int | None:
    """Total memory in MiB from ``/proc/meminfo``, else from ``sysconf`` (``None`` when neither tells)."""
    for line in _read(meminfo).splitlines():
        if line.startswith("MemTotal:"):
            fields = line.split()
            if len(fields) >= 2 and fields[1].isdigit():  # noqa: PLR2004 - "MemTotal: N kB"
                return int(fields[1]) // 1024
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (AttributeError, ValueError, OSError):
        return None


def machine_info() -> dict[str, Any]:
    """The machine as the benchmark starts: OS, Python, CPUs, memory and the load average now (``start``).

    :func:`finish` adds the load average at the end.
    """
    return {
        "os": f"{platform.system()} {platform.release()}".strip() or None,
        "platform": platform.platform(),
        "architecture": platform.machine() or None,
        "python": {"version": platform.python_version(), "implementation": platform.python_implementation()},
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_total_mib": memory_total_mib(),
        "load_average": {"start": load_average(), "end": None},
    }


def finish(machine: dict[str, Any]) -> dict[str, Any]:
    """``machine`` with the load average at the end of the benchmark."""
    return {**machine, "load_average": {**machine["load_average"], "end": load_average()}}


def identity(machine: dict[str, Any] | None) -> dict[str, Any] | None:
    """The part of a ``machine`` block that describes the machine (what two runs are compared on)."""
    if not isinstance(machine, dict):
        return None
    return {key: machine.get(key) for key in IDENTITY_KEYS}
