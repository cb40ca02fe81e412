"""The benchmark: its critical-path bound and the files it writes (no wall-clock thresholds)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from harness.bench.measurement import SLOPE_SCALE, CaseResult, Sample, run_case
from harness.bench.runner import run_bench
from harness.bench.worlds import DEFAULT_LATENCY_MS, bench_cases, critical_path_seconds
from harness.scenario import scenario_from_dict

ZERO_LATENCY = {"drs": 0.0, "ec2": 0.0, "sts": 0.0, "dynamodb": 0.0}


def test_the_four_worlds_of_the_design():
    cases = bench_cases(DEFAULT_LATENCY_MS)
    assert list(cases) == ["1-account-28-regions", "3-accounts-28-regions", "1000-servers", "10000-servers"]
    totals = {name: sum(g.total for g in case.servers) for name, case in cases.items()}
    assert totals["1000-servers"] == 1000
    assert totals["10000-servers"] == 10000
    assert len({g.account for g in cases["3-accounts-28-regions"].servers}) == 3


def test_critical_path_follows_the_dependency_chain():
    # start max(10, 50) + assume 50 + 2 pages x 200 + enrichment (10 + 50 + 100) + write 10 + cleanup scan 10
    scenario = scenario_from_dict(
        {
            "name": "bound",
            "drsPageSize": 100,
            "accounts": [{"accountId": "222222222222", "roleArn": "arn:aws:iam::222222222222:role/r"}],
            "tables": {"activeRegions": ["us-east-1", "eu-west-1"]},
            "servers": [
                {"account": "222222222222", "region": "us-east-1", "count": 150},
                {"account": "222222222222", "region": "eu-west-1", "count": 3},
            ],
            "latency": {"services": DEFAULT_LATENCY_MS},
        }
    )
    assert critical_path_seconds(scenario) == pytest.approx((50 + 50 + 400 + 160 + 10 + 10) / 1000)


def test_an_account_without_servers_or_role_waits_only_for_drs():
    scenario = scenario_from_dict(
        {
            "name": "bound-empty",
            "lambdaAccount": "222222222222",
            "accounts": [{"accountId": "222222222222"}],
            "latency": {"services": DEFAULT_LATENCY_MS},
        }
    )
    assert critical_path_seconds(scenario) == pytest.approx((50 + 200 + 10) / 1000)


def test_run_bench_writes_json_and_markdown(tmp_path, monkeypatch):
    small = {"1-account-28-regions": _small_world()}
    monkeypatch.setattr("harness.bench.runner.bench_cases", lambda latency: small)
    steps = []
    results = run_bench(
        tmp_path,
        pairs=2,
        cases=["1-account-28-regions"],
        latency=ZERO_LATENCY,
        candidate="legacy",
        progress=lambda *args: steps.append(args),
    )
    assert [step[-1] for step in steps] == ["pair 1/2", "pair 2/2", f"{SLOPE_SCALE}x latency runs", "peak memory runs"]
    assert [step[:4] for step in steps] == [(n, 4, "1-account-28-regions", "1/1") for n in range(1, 5)]
    document = json.loads((tmp_path / "bench.json").read_text())
    world = document["worlds"][0]
    assert world["started"] <= world["finished"] and world["finished"].endswith("Z")
    assert document["machine"]["cpu_count"] and "bench.svg" in (tmp_path / "bench.md").read_text()
    assert world["name"] == "1-account-28-regions"
    assert len(world["pairs"]) == 2 and len(world["speedup_per_pair"]) == 2
    assert world["statuses"] == {"legacy (A)": 200, "legacy (B)": 200}
    calls = list(world["calls"].values())
    assert calls[0] == calls[1] and calls[0]["drs:DescribeSourceServers"] == 3
    assert all(peak > 0 for peak in world["peak_mib"].values())
    table = (tmp_path / "bench.md").read_text()
    assert "| 1-account-28-regions |" in table and "critical path" in table and "n/a" in table
    assert world["world_build_median_s"] > 0 and "world build (s)" in table
    cpu, simulator = world["cpu_median_s"], world["simulator_median_s"]
    assert all(0 < sim < total for sim, total in zip(simulator, cpu, strict=True))
    assert len(world["cpu_pairs"]) == len(world["simulator_pairs"]) == 2
    assert len(world["scaled_seconds"]) == 2 and len(world["latency_slope_s"]) == 2
    assert world["slope_x_bound"] == [None, None] and world["sequential_bound_s"] == 0
    assert "Where the time goes" in table and "| refactored slope / that bound |" in table
    assert results[0].bound_seconds == 0


def _small_world():
    return scenario_from_dict(
        {
            "name": "1-account-28-regions",
            "accounts": [{"accountId": "222222222222", "roleArn": "arn:aws:iam::222222222222:role/r"}],
            "tables": {"activeRegions": ["us-east-1", "eu-west-1", "ap-south-1"]},
            "servers": [{"account": "222222222222", "region": "eu-west-1", "count": 4}],
            "latency": {"services": ZERO_LATENCY},
        }
    )


def test_the_bench_charges_each_client_what_a_lambda_pays_to_build_it():
    """Outside the bench, a world lets clients of one service share botocore's generated API methods; a bench run
    must not (the code's own CPU includes building its clients): two STS clients get methods of their own."""

    def own_methods() -> dict[str, int]:
        first, second = boto3.client("sts"), boto3.client("sts")
        return {"statusCode": 200 if type(first).assume_role is not type(second).assume_role else 500}

    result = run_case(_small_world(), [("a", own_methods), ("b", own_methods)], pairs=1)
    assert result.statuses == {"a": 200, "b": 200}


def test_unknown_world_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown benchmark world"):
        run_bench(tmp_path, cases=["nope"])


def test_bench_command_prints_the_table(tmp_path, monkeypatch, capsys):
    from harness.cli import main

    monkeypatch.setattr("harness.bench.runner.bench_cases", lambda latency: {"small": _small_world()})
    code = main(["bench", "--out", str(tmp_path), "--pairs", "1", "--world", "small", "--latency", "drs=0,ec2=0"])
    assert code == 0
    out, err = capsys.readouterr()
    assert "| 1-account-28-regions |" in out
    lines = err.splitlines()
    assert len(lines) == 3 and lines[0].startswith("[1/3] world 1/1 small: pair 1/1 (elapsed ")
    assert lines[2].startswith("[3/3] world 1/1 small: peak memory runs (elapsed ") and "ETA" not in lines[2]
    document = json.loads((tmp_path / "bench.json").read_text())
    assert document["latency_ms"]["drs"] == 0
    provenance = document["provenance"]  # the same provenance every verdict carries
    assert len(provenance["git"]["commit"]) == 40 and provenance["packages"]["refactored"]["sha256"]
    assert provenance["implementations"]["candidate"]["package"] == "refactored"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--world", "nope"], "unknown benchmark world"),
        (["--candidate", "no.such.module:fn"], "cannot import module"),
    ],
)
def test_bench_command_rejects_bad_input_with_exit_2(tmp_path, capsys, argv, message):
    from harness.cli import main

    assert main(["bench", "--out", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "bench.json").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--latency", "drs=fast"], "must be a number of milliseconds"), (["--pairs", "0"], "must be at least 1")],
)
def test_bench_options_are_validated(capsys, argv, message):
    from harness.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["bench", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_the_code_under_test_prints_nothing_into_the_bench_output(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("harness.bench.runner.bench_cases", lambda latency: {"small": _small_world()})
    run_bench(tmp_path, pairs=1, cases=["small"], latency=ZERO_LATENCY, candidate="legacy")
    assert "Starting source server inventory sync" not in capsys.readouterr().out


def test_the_latency_slope_is_what_each_unit_of_latency_adds():
    result = CaseResult("w", "d", bound_seconds=0.5, sequential_bound_seconds=1.0)
    assert result.latency_slopes() is None and result.summary()["slope_x_bound"] is None
    result.add_pair(Sample("a", 3.0, 200, {}), Sample("b", 2.0, 200, {}))
    result.add_pair(Sample("a", 5.0, 200, {}), Sample("b", 2.2, 200, {}))
    result.scaled_seconds = (4.0 + (SLOPE_SCALE - 1) * 4.0, 2.1 + (SLOPE_SCALE - 1) * 0.6)
    summary = result.summary()
    assert summary["latency_slope_s"] == pytest.approx([4.0, 0.6])
    assert summary["slope_x_bound"] == [8.0, 1.2] and summary["slope_x_sequential_bound"] == [4.0, 0.6]
    assert summary["refactored_x_bound"] == 4.2 and summary["speedup_median"] == pytest.approx(1.89, abs=0.01)


def test_sequential_accounts_add_up_their_chains():
    two = {
        "name": "two",
        "accounts": [{"accountId": a, "roleArn": f"arn:aws:iam::{a}:role/r"} for a in ("222222222222", "333333333333")],
        "tables": {"activeRegions": ["us-east-1"]},
        "servers": [{"account": a, "region": "us-east-1", "count": 1} for a in ("222222222222", "333333333333")],
        "latency": {"services": DEFAULT_LATENCY_MS},
    }
    scenario = scenario_from_dict(two)
    chain = 50 + 200 + (10 + 50 + 100 + 10)
    assert critical_path_seconds(scenario) == pytest.approx((50 + chain + 10) / 1000)
    assert critical_path_seconds(scenario, parallel_accounts=False) == pytest.approx((50 + 2 * chain + 10) / 1000)


def test_a_deployed_artifact_can_be_benchmarked_against_legacy(tmp_path, monkeypatch, capsys):
    """Same calls, same answers: the artifact is imported afresh in each of its runs; its prints stay out too."""
    root = Path(__file__).resolve().parents[2]
    artifact = f"artifact:{root / 'tests' / 'artifacts' / 'query_handler'}:index:handle_sync_source_server_inventory"
    monkeypatch.setattr("harness.bench.runner.bench_cases", lambda latency: {"small": _small_world()})
    run_bench(tmp_path, pairs=1, cases=["small"], latency=ZERO_LATENCY, baseline=artifact, candidate="legacy")
    world = json.loads((tmp_path / "bench.json").read_text())["worlds"][0]
    assert world["statuses"] == {artifact: 200, "legacy": 200}
    calls = list(world["calls"].values())
    assert calls[0] == calls[1] and calls[0]["drs:DescribeSourceServers"] == 3
    assert "Starting source server inventory sync" not in capsys.readouterr().out
