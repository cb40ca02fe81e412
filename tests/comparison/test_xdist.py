"""``pytest tests/comparison -n auto``: workers share baseline pairs, and a pair read by another worker still compares.

Two workers run the same legacy-against-itself test (``--dist each``): one makes the scenario's baseline pair, the
other reads it from the shared file. The scenario pages DRS listings, so the observations hold redacted ``nextToken``
values; before every worker used the run's one fingerprint salt (``conftest.py``), the reading worker fingerprinted
its own run differently and found legacy divergent from itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST = "tests/comparison/test_scenarios.py::test_legacy_matches_itself[drs-pagination-several-pages]"


def test_two_workers_share_one_baseline_pair_and_both_find_legacy_equal_to_itself(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pytest", TEST, "-n", "2", "--dist", "each", "-q", "--no-cov"]
    command += ["-p", "no:cacheprovider", "--basetemp", str(tmp_path / "run")]
    done = subprocess.run(  # noqa: S603 - pytest on this repository's own test
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False, env=os.environ | {"COLUMNS": "200"}
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 passed" in done.stdout
    assert len(list((tmp_path / "run" / "baselines").glob("*.pickle"))) == 1  # made once, read once
