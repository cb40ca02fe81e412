"""The benchmark's user experience: progress lines, the machine block, ``bench --compare`` and the SVG chart.

The worlds here are never run: ``run_case`` is replaced by a stand-in that reports its steps, so each test is fast.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.bench import machine
from harness.bench.chart import bench_svg
from harness.bench.command import progress_printer
from harness.bench.compare import load_bench
from harness.bench.measurement import SLOPE_SCALE, CaseResult, Sample
from harness.bench.runner import run_bench
from harness.cli import main
from harness.commandline import BadInputError

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parents[2]


def _fake_run_case(scenario, implementations, pairs, scaled=None, step=None):
    """What run_case returns and reports, without building a world."""
    (first, _), (second, _) = implementations
    result = CaseResult(scenario.name, scenario.description, bound_seconds=0.5, sequential_bound_seconds=1.0)
    for index in range(pairs):
        result.add_pair(Sample(first, 4.0, 200, {"drs:X": 1}, 0.1, 2.0, 0.5), Sample(second, 2.0, 200, {}, 0.1, 1.0))
        step(f"pair {index + 1}/{pairs}")
    result.scaled_seconds = (8.0, 3.0)
    step(f"{SLOPE_SCALE}x latency runs")
    result.peak_mib = {first: 10.0, second: 12.0}
    step("peak memory runs")
    return result


@pytest.fixture
def fake_worlds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("harness.bench.runner.run_case", _fake_run_case)


def test_progress_names_world_step_elapsed_and_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter([0.0, 30.0, 90.0])
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    progress = progress_printer(clock=lambda: next(ticks))
    progress(1, 4, "1000-servers", "2/3", "pair 1/2")
    progress(4, 4, "1000-servers", "2/3", "peak memory runs")
    assert stderr.getvalue().splitlines() == [
        "[1/4] world 2/3 1000-servers: pair 1/2 (elapsed 30s, ETA 1m30s)",
        "[4/4] world 2/3 1000-servers: peak memory runs (elapsed 1m30s)",
    ]


def test_every_run_unit_of_every_world_is_reported_in_order(tmp_path: Path, fake_worlds: None) -> None:
    steps: list[tuple[Any, ...]] = []
    run_bench(tmp_path, pairs=2, cases=["1000-servers", "10000-servers"], progress=lambda *a: steps.append(a))
    assert [s[0] for s in steps] == list(range(1, 9)) and {s[1] for s in steps} == {8}
    assert steps[0][2:] == ("1000-servers", "1/2", "pair 1/2")
    assert steps[-1][2:] == ("10000-servers", "2/2", "peak memory runs")


def test_bench_json_records_the_machine_and_each_world_s_times(tmp_path: Path, fake_worlds: None) -> None:
    run_bench(tmp_path, pairs=1, cases=["1000-servers"])
    document = json.loads((tmp_path / "bench.json").read_text())
    found = document["machine"]
    assert set(machine.IDENTITY_KEYS) <= set(found) and set(found["load_average"]) == {"start", "end"}
    assert found["python"]["implementation"] and found["python"]["version"]
    assert found["cpu_count"] >= 1 and found["memory_total_mib"] > 0
    assert "hostname" not in json.dumps(found) and machine.platform.node() not in found.values()
    world = document["worlds"][0]
    assert world["started"] <= world["finished"] and len(world["started"]) == len("2026-01-01T00:00:00Z")
    assert document["provenance"]["git"]["commit"] and document["provenance"]["generated"]


def test_the_machine_helpers_read_proc_and_fall_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cpuinfo, meminfo = tmp_path / "cpuinfo", tmp_path / "meminfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Example CPU @ 2.00GHz\n")
    meminfo.write_text("MemTotal:        2097152 kB\nMemFree: 1 kB\n")
    assert machine.cpu_model(cpuinfo) == "Example CPU @ 2.00GHz"
    assert machine.memory_total_mib(meminfo) == 2048
    monkeypatch.setattr(machine.platform, "processor", lambda: "")
    assert machine.cpu_model(tmp_path / "missing") is None
    monkeypatch.delattr(machine.os, "sysconf")
    assert machine.memory_total_mib(tmp_path / "missing") is None
    monkeypatch.delattr(machine.os, "getloadavg")
    assert machine.load_average() is None
    assert machine.identity(None) is None


def test_the_chart_is_valid_svg_with_one_bar_group_per_world(tmp_path: Path, fake_worlds: None) -> None:
    run_bench(tmp_path, pairs=1, cases=["1-account-28-regions", "10000-servers"])
    assert (
        "![Median wall time per world, legacy vs refactored, log scale](bench.svg)"
        in (tmp_path / "bench.md").read_text()
    )
    root = ET.fromstring((tmp_path / "bench.svg").read_text())  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg" and root.find(f"{SVG}title").text.startswith("Median wall time")
    groups = root.findall(f"{SVG}g[@class='world']")
    assert [g.get("data-world") for g in groups] == ["1-account-28-regions", "10000-servers"]
    for group in groups:
        assert len(group.findall(f"{SVG}rect[@class='bar']")) == 2
        assert group.find(f"{SVG}line[@class='bound']") is not None
        texts = [t.text for t in group.iter(f"{SVG}text")]
        assert "2.00 s, 2.00x faster" in texts and "4.00 s" in texts


def test_the_chart_escapes_text_and_draws_tiny_slow_and_unbounded_worlds() -> None:
    worlds = [
        {"name": "<a&b>", "legacy_median_s": 0.0, "refactored_median_s": 0.0, "speedup_median": None, "bound_s": 0},
        {"name": "big", "legacy_median_s": 150.0, "refactored_median_s": 300.0, "speedup_median": 0.5, "bound_s": 1},
    ]
    worlds[1]["name"] = f"big {'AKIA' + 'Z' * 16}"  # an access key id's shape: redacted, and the XML still parses
    root = ET.fromstring(bench_svg(worlds, ["x:<y>", "artifact:/a/very/long/path.zip:m:f"]))  # noqa: S314 - our own output
    groups = root.findall(f"{SVG}g[@class='world']")
    assert groups[0].get("data-world") == "<a&b>" and groups[0].find(f"{SVG}line") is None
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"x:<y>", "artifact:/a/very/\u2026", "300 s, 0.50x (slower)", "0.01 s", "1000 s"} <= set(texts)
    assert groups[1].get("data-world").startswith("big <redacted:") and "AKIA" not in ET.tostring(root, "unicode")
    widths = [float(r.get("width")) for r in groups[0].findall(f"{SVG}rect")]
    assert widths == [0.0, 0.0]


def _world(name: str, legacy: float, refactored: float, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "legacy_median_s": legacy,
        "refactored_median_s": refactored,
        "speedup_median": round(legacy / refactored, 2),
        "cpu_median_s": [4.0, 2.0],
        "simulator_median_s": [1.0, 1.0],
        "latency_slope_s": [6.0, 0.5],
        "slope_x_sequential_bound": [12.0, 1.0],
        "peak_mib": {"legacy": 20.0, "refactored": 40.0},
        **extra,
    }


def _bench_file(path: Path, worlds: list[dict[str, Any]], **top: Any) -> Path:
    document = {
        "provenance": {"generated": "2026-11-26T10:00:00Z", "git": {"commit": "a" * 40, "dirty": False}},
        "machine": {"platform": "Linux-6", "cpu_count": 2, "python": {"version": "3.11.9"}, "load_average": {}},
        "latency_ms": {"drs": 200.0, "ec2": 100.0},
        "pairs": 5,
        "implementations": ["legacy", "refactored"],
        "worlds": worlds,
        **top,
    }
    path.write_text(json.dumps(document))
    return path


def test_compare_prints_each_common_world_as_a_to_b_with_the_change(tmp_path: Path, capsys) -> None:
    a = _bench_file(
        tmp_path / "a.json", [_world("1000-servers", 10.0, 5.0, latency_slope_s=[0.0, 0.0]), _world("gone", 1.0, 1.0)]
    )
    b = _bench_file(
        tmp_path / "b.json",
        [_world("1000-servers", 12.0, 4.0, cpu_median_s=[4.0, 0.0], latency_slope_s=[0.0, 0.5]), _world("n", 2, 1)],
        latency_ms={"drs": 400.0, "ec2": 100.0},
    )
    assert main(["bench", "--compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "| legacy median | 10.00 s -> 12.00 s | +20.0% |" in out
    assert "| refactored median | 5.00 s -> 4.00 s | -20.0% |" in out
    assert "| speed-up (median) | 2.00x -> 3.00x | +50.0% |" in out
    assert "| CPU refactored | 2.00 s -> 0.00 s | -100.0% |" in out
    assert "| simulator share of CPU, legacy | 25% -> 25% | +0.0 pp |" in out
    assert "| simulator share of CPU, refactored | 50% -> n/a | n/a |" in out
    assert "| refactored slope / sequential bound | 1.00x -> 1.00x | +0.0% |" in out
    assert "| bound, sequential accounts | n/a -> n/a | n/a |" in out
    assert "| peak memory refactored | 40.0 MiB -> 40.0 MiB | +0.0% |" in out
    assert "### 1000-servers" in out and "### gone" not in out
    assert "Only in A: gone." in out and "Only in B: n." in out
    assert "| latency slope legacy | 0.00 s -> 0.00 s | 0% |" in out
    assert "| latency slope refactored | 0.00 s -> 0.50 s | n/a |" in out
    assert "Warning: the latency models differ: A drs 200 ms, ec2 100 ms; B drs 400 ms, ec2 100 ms." in out
    assert "pairs per world differ" not in out and "machines" not in out
    assert f"A: `{a}` (commit {'a' * 12}, 2026-11-26T10:00:00Z)" in out


def test_compare_warns_about_pairs_machine_and_files_without_metadata(tmp_path: Path, capsys) -> None:
    a = _bench_file(tmp_path / "a.json", [_world("w", 1.0, 1.0)])
    b = _bench_file(
        tmp_path / "b.json", [_world("w", 1.0, 1.0)], pairs=3, machine={"platform": "Darwin", "cpu_count": 8}
    )
    old = json.loads(a.read_text())
    del old["machine"], old["provenance"]
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "bench.json").write_text(json.dumps(old))
    out_dir = tmp_path / "out"
    assert main(["bench", "--compare", str(a), str(b), "--out", str(out_dir)]) == 0
    printed = capsys.readouterr().out
    assert "Warning: the pairs per world differ: A 5; B 3." in printed
    assert "Warning: the machines differ: A Linux-6, 2 CPU(s), 3.11.9; B Darwin, 8 CPU(s)." in printed
    assert (out_dir / "compare.md").read_text() in printed
    assert main(["bench", "--compare", str(tmp_path / "old"), str(a)]) == 0
    printed = capsys.readouterr().out
    assert (
        "Warning: A recorded no machine (an older bench.json)" in printed and "commit unknown, date unknown" in printed
    )
    assert "No world is in both files" not in printed


def test_the_committed_benchmark_still_loads_and_compares_with_itself(capsys) -> None:
    committed = ROOT / "docs" / "bench" / "bench.json"
    assert main(["bench", "--compare", str(committed), str(committed)]) == 0
    out = capsys.readouterr().out
    assert out.count("### ") == len(load_bench(committed).worlds) and "| legacy median |" in out


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot read it"),
        ("{not json", "not JSON"),
        ("[1, 2]", "not a bench.json (expected an object at the top)"),
        ('{"pairs": 5}', "not a bench.json (no list of worlds)"),
        ('{"worlds": [{"legacy_median_s": 1}]}', "not a bench.json (world 1 has no name)"),
        ('{"worlds": [{"name": "w"}]}', "not a bench.json (world 'w' has no legacy_median_s)"),
    ],
)
def test_compare_rejects_bad_input_with_exit_2_naming_the_file(tmp_path: Path, capsys, content, reason) -> None:
    good = _bench_file(tmp_path / "good.json", [_world("w", 1.0, 1.0)])
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    out_dir = tmp_path / "out"
    assert main(["bench", "--compare", str(good), str(bad), "--out", str(out_dir)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"error: {bad}: {reason}") and not out
    assert not out_dir.exists()


def test_two_files_without_a_common_world_say_so(tmp_path: Path) -> None:
    from harness.bench.compare import compare_markdown

    a = load_bench(_bench_file(tmp_path / "a.json", [_world("x", 1.0, 1.0)]))
    b = load_bench(
        _bench_file(
            tmp_path / "b.json",
            [_world("y", 1.0, 1.0)],
            implementations=["legacy", "mine"],
            latency_ms=None,
            machine={},
        )
    )
    text = compare_markdown(a, b)
    assert "No world is in both files." in text and "Only in A: x." in text
    assert "Warning: the latency models differ: A drs 200 ms, ec2 100 ms; B unknown." in text
    assert "Warning: the machines differ: A Linux-6, 2 CPU(s), 3.11.9; B unknown." in text
    assert "Warning: the implementations differ: A legacy vs refactored; B legacy vs mine." in text
    with pytest.raises(BadInputError, match="bench.json: cannot read it"):
        load_bench(tmp_path)  # a directory without bench.json
