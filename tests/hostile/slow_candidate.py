"""A candidate that never finishes in time, for the interruption and locking cases of tests/hostile/test_reports_dir.py.

Its handler writes a file named after its process id into ``$HOSTILE_PID_DIR`` (so the test knows the run reached
the candidate and can check afterwards that the process is gone), then sleeps for a minute.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

SLEEP_SECONDS = 60


def handler() -> dict[str, int]:
    """Announce this process, then hang."""
    Path(os.environ["HOSTILE_PID_DIR"], str(os.getpid())).write_text("running\n", encoding="utf-8")
    time.sleep(SLEEP_SECONDS)
    return {"statusCode": 200}
