"""report.html opened in headless Chromium (Debian's ``chromium``; ``.ci/run`` installs it): it renders, logs nothing.

The page has no script and a Content-Security-Policy that forbids every load, so any console message at all (a
blocked resource, a script error, a CSP violation) means the report is broken. A control page with exactly those
faults proves the check sees them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.engine.reports import write_report_dir
from harness.engine.runner import run_scenarios
from harness.scenario import load_scenario

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "single-account-single-region-no-servers.yaml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--window-size=1280,2000",
    "--enable-logging=stderr",
    "--v=0",
)
BROKEN_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8">'
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    "<title>broken</title></head><body><p>control</p><script>console.error('control-error')</script>"
    '<img src="http://127.0.0.1:9/blocked.png"></body></html>'
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium (.ci/run installs it)"
)


def screenshot(page: Path, work: Path) -> tuple[Path, list[str]]:
    """Open ``page`` in headless Chromium, take a screenshot, return it and the console lines Chromium logged."""
    png = work / f"{page.stem}.png"
    profile = work / f"profile-{page.stem}"
    executable = shutil.which(str(CHROMIUM))
    assert executable is not None
    completed = subprocess.run(  # noqa: S603 - fixed arguments, a local file
        [executable, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}", page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    console = [line for line in completed.stderr.splitlines() if ":CONSOLE" in line]
    return png, console


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.html of a real run of one scenario (written through the engine's report hook)."""
    result = run_scenarios([load_scenario(SCENARIO)], "legacy", "refactored")
    directory = tmp_path_factory.mktemp("browser") / "reports"
    write_report_dir(result, directory)
    return directory / "report.html"


def test_report_renders_in_chromium_without_console_messages(report: Path, tmp_path: Path) -> None:
    png, console = screenshot(report, tmp_path)
    assert console == []
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2000)


def test_the_console_check_sees_script_errors_and_blocked_loads(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(BROKEN_PAGE, encoding="utf-8")
    png, console = screenshot(page, tmp_path)
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert any("Content Security Policy" in line and "inline" in line for line in console)
    assert any("127.0.0.1:9/blocked.png" in line for line in console)
