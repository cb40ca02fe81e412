"""report.html opened in headless Chromium (Debian's ``chromium``; ``.ci/run`` installs it): it renders, logs nothing,
and is usable at 800 px and at 1400 px.

The page has no script and a Content-Security-Policy that forbids every load, so any console message at all (a
blocked resource, a script error, a CSP violation) means the report is broken. A control page with exactly those
faults proves the check sees them.

Width: a NO-GO report (one lost server: a cause group, before / after values, the matrix, the charts) is laid out
at 800 and 1400 px. The page itself cannot run a script, so a copy of it without the CSP line and with a one-line
script that writes the document's ``scrollWidth`` into the DOM is opened with ``--dump-dom``: the page must not be
wider than the window (wide tables scroll inside their own box). The screenshots at both widths are decoded and the
NO-GO banner's red found in their top part. The banner's colours pass WCAG AA contrast (computed from the CSS).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from harness.engine.reports import write_report_dir
from harness.engine.runner import run_scenarios
from harness.report.html import CSP, CSS
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

NEEDS_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium (.ci/run installs it)"
)
LOST_SERVER = "tests.comparison.mutants:lost_server"
SERVERS = ROOT / "scenarios" / "single-account-single-region-multiple-servers.yaml"
#: The NO-GO banner's colour (``--nogo``), as the screenshots show it.
NOGO_RED = (0xCF, 0x22, 0x2E)
#: The banner must be on the first screen: within this many pixels from the top.
BANNER_WITHIN = 600
MEASURE = (
    "<script>document.body.setAttribute('data-measured', "
    "document.documentElement.scrollWidth + 'x' + document.documentElement.clientWidth)</script>"
)


def _chromium(work: Path, name: str, *arguments: str, width: int = 1280, height: int = 2000) -> str:
    """Run headless Chromium with a fresh profile; its stdout, or its stderr when ``--screenshot`` is asked."""
    executable = shutil.which(str(CHROMIUM))
    assert executable is not None
    flags = [f for f in FLAGS if not f.startswith("--window-size=")] + [f"--window-size={width},{height}"]
    completed = subprocess.run(  # noqa: S603 - fixed arguments, a local file
        [executable, *flags, f"--user-data-dir={work / f'profile-{name}'}", *arguments],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout if "--dump-dom" in arguments else completed.stderr


def screenshot(page: Path, work: Path, width: int = 1280, height: int = 2000) -> tuple[Path, list[str]]:
    """Open ``page`` in headless Chromium, take a screenshot, return it and the console lines Chromium logged."""
    png = work / f"{page.stem}-{width}.png"
    stderr = _chromium(work, f"{page.stem}-{width}", f"--screenshot={png}", page.resolve().as_uri(), width=width,
                       height=height)  # fmt: skip
    return png, [line for line in stderr.splitlines() if ":CONSOLE" in line]


def page_width(page: Path, work: Path, width: int) -> tuple[int, int]:
    """The document's scrollWidth and clientWidth at a window ``width`` px wide (see the module docstring)."""
    measured = work / f"measured-{width}.html"
    text = page.read_text(encoding="utf-8")
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    measured.write_text(text.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = _chromium(work, f"measure-{width}", "--dump-dom", measured.resolve().as_uri(), width=width, height=1000)
    found = re.search(r'data-measured="(\d+)x(\d+)"', dom)
    assert found, dom[-500:]
    return int(found.group(1)), int(found.group(2))


def png_pixels(png: Path, max_rows: int) -> tuple[int, int, list[bytes]]:
    """Width, height and the first ``max_rows`` RGB rows of an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    chunks, offset = {}, 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunks.setdefault(kind, []).append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][0][:10])
    assert depth == 8 and colour in (2, 6)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks[b"IDAT"]))
    stride, rows, previous = width * channels, [], bytearray(width * channels)
    for y in range(min(height, max_rows)):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                nearest = min(
                    (abs(estimate - left), 0, left), (abs(estimate - up), 1, up), (abs(estimate - corner), 2, corner)
                )
                line[i] = (line[i] + nearest[2]) & 0xFF
        rows.append(bytes(b for x in range(width) for b in line[x * channels : x * channels + 3]))
        previous = line
    return width, height, rows


def luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def over(colour: str, alpha: float, base: str) -> str:
    """``rgba(colour, alpha)`` painted over ``base``, as ``#rrggbb``."""
    top = [int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]
    bottom = [int(base.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(alpha * t + (1 - alpha) * b):02x}" for t, b in zip(top, bottom, strict=True))


@pytest.fixture(scope="module")
def nogo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.html of one lost server (a NO-GO with a cause group and before / after values)."""
    result = run_scenarios([load_scenario(SERVERS)], "legacy", LOST_SERVER)
    directory = tmp_path_factory.mktemp("browser-nogo") / "reports"
    write_report_dir(result, directory)
    return directory / "report.html"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.html of a real run of one scenario (written through the engine's report hook)."""
    result = run_scenarios([load_scenario(SCENARIO)], "legacy", "refactored")
    directory = tmp_path_factory.mktemp("browser") / "reports"
    write_report_dir(result, directory)
    return directory / "report.html"


@NEEDS_CHROMIUM
def test_report_renders_in_chromium_without_console_messages(report: Path, tmp_path: Path) -> None:
    png, console = screenshot(report, tmp_path)
    assert console == []
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2000)


@NEEDS_CHROMIUM
def test_the_console_check_sees_script_errors_and_blocked_loads(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(BROKEN_PAGE, encoding="utf-8")
    png, console = screenshot(page, tmp_path)
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert any("Content Security Policy" in line and "inline" in line for line in console)
    assert any("127.0.0.1:9/blocked.png" in line for line in console)


@NEEDS_CHROMIUM
@pytest.mark.parametrize("width", [800, 1400])
def test_a_nogo_report_fits_the_window_and_shows_its_banner(nogo_report: Path, tmp_path: Path, width: int) -> None:
    scroll_width, client_width = page_width(nogo_report, tmp_path, width)
    assert client_width <= width and scroll_width <= client_width, (scroll_width, client_width)
    png, console = screenshot(nogo_report, tmp_path, width=width, height=900)
    assert console == []
    png_width, png_height, rows = png_pixels(png, BANNER_WITHIN)
    assert (png_width, png_height) == (width, 900)
    red = bytes(NOGO_RED)
    banner_rows = [
        y for y, row in enumerate(rows) if sum(row[x * 3 : x * 3 + 3] == red for x in range(width)) > width // 2
    ]
    assert banner_rows, f"the NO-GO banner's red does not span half the width in the first {BANNER_WITHIN} px"
    assert len(banner_rows) >= 40  # a banner, not a line


@NEEDS_CHROMIUM
def test_the_width_check_sees_a_page_wider_than_the_window(tmp_path: Path) -> None:
    page = tmp_path / "wide.html"
    page.write_text('<!DOCTYPE html><html><body><div style="width: 1200px">wide</div></body></html>', "utf-8")
    scroll_width, client_width = page_width(page, tmp_path, 800)
    assert scroll_width > client_width


def test_the_banner_and_badges_pass_wcag_aa_contrast() -> None:
    colours = dict(re.findall(r"--(\w+): (#[0-9a-f]{6})", CSS))
    for name in ("go", "nogo", "warn", "info"):  # white text on the banners and badges
        assert contrast(colours[name], "#ffffff") >= 4.5, name
    noise = re.search(r"\.s-noise \{ background: (#[0-9a-f]{6})", CSS)
    assert noise and contrast(noise.group(1), "#ffffff") >= 4.5
    code = re.search(r"\.banner code \{ background: rgba\(0, 0, 0, \.(\d+)\)", CSS)
    assert code
    for name in ("go", "nogo"):  # code spans inside the banner
        assert contrast(over("#000000", int(code.group(1)) / 10, colours[name]), "#ffffff") >= 4.5


def test_the_page_has_one_main_landmark_svg_charts_and_no_script(nogo_report: Path) -> None:
    text = nogo_report.read_text(encoding="utf-8")
    assert text.count("<main>") == 1 and text.count("</main>") == 1
    assert text.index("<main>") < text.index('id="verdict"') and text.index("</main>") < text.index("<footer>")
    assert text.count('<svg class="chart" role="img"') == 2 and "<script" not in text.lower()
    assert f'content="{CSP}"' in text and CSP == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert "cause 1:" in text and "<details" in text
