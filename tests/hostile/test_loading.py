"""Hostile scenario files: each is refused with exit 2 and ``file:path: reason`` within 10 s and 500 MB.

Issue 18's Why list: a YAML alias bomb, deep nesting and a self-containing alias, a deeply nested approvals file, a
FIFO, ``/dev/zero``, a directory, an oversized file, a world of ten million servers, and worlds ``validate`` passed
but ``run`` could not build (a NUL byte in the environment, the year 1, an unknown approval id, and the other edge
values found by building worlds). The limits are in ``harness/scenario/limits.py``; the rules in
``harness/scenario/buildable.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hostile_support import ROOT, run_harness

from harness.commandline import EXIT_BAD_INPUT, EXIT_OK

SMALL = ROOT / "scenarios" / "zero-target-accounts.yaml"


def _scenario(directory: Path, name: str, body: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(f"name: {name}\n{body}", encoding="utf-8")
    return path


def _alias_bomb(levels: int) -> str:
    lines = ['  a0: &a0 ["lol"]']
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "description: bomb\nenvironment:\n" + "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_while_composing(tmp_path: Path) -> None:
    bomb = _scenario(tmp_path, "bomb", _alias_bomb(9))  # 9**9 nodes once expanded
    ran = run_harness(["validate", str(bomb)])
    ran.assert_refused(EXIT_BAD_INPUT, f"{bomb}:environment.a5: aliases expand to more than 100,000 nodes")


def test_aliases_may_not_nest_deeper_than_the_limit(tmp_path: Path) -> None:
    chain = ['  a0: &a0 "x"'] + [f"  a{i}: &a{i} [*a{i - 1}]" for i in range(1, 12)]
    path = _scenario(tmp_path, "chain", "environment:\n" + "\n".join(chain) + "\n")
    run_harness(["validate", str(path)]).assert_refused(EXIT_BAD_INPUT, "aliases nest more than 8 levels deep")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "description: " + "[" * 5000 + "]" * 5000 + "\n",
            "description[0][0][0][0][0][0][0]...: nested deeper than 64",
        ),
        ("description: &a [*a]\n", "description: alias *a refers to a node that contains it"),
        ("description: &a {k: [*a]}\n", "description.k: alias *a refers to a node that contains it"),
    ],
    ids=["5000-levels", "self-list", "self-mapping"],
)
def test_deep_and_self_containing_documents_are_refused(tmp_path: Path, body: str, message: str) -> None:
    path = _scenario(tmp_path, "deep", body)
    run_harness(["validate", str(path)]).assert_refused(EXIT_BAD_INPUT, f"{path}:{message}")


def test_a_deeply_nested_approvals_file_is_refused(tmp_path: Path) -> None:
    approvals = tmp_path / "approvals.yaml"
    approvals.write_text("approvals: " + "[" * 3000 + "]" * 3000 + "\n")
    for command in (["validate", str(SMALL)], ["run", str(SMALL), "--jobs", "1"]):
        ran = run_harness([*command, "--approvals", str(approvals)])
        ran.assert_refused(EXIT_BAD_INPUT, f"error: {approvals}: cannot read approvals: nested deeper than 64 levels")


def test_a_fifo_is_refused_before_it_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    ran = run_harness(["validate", str(fifo)])
    ran.assert_refused(
        EXIT_BAD_INPUT, f"{fifo}: is a FIFO (named pipe), not a regular file: only regular files are read"
    )


def test_a_fifo_inside_a_scenario_directory_is_refused_by_name(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "folder.yaml").mkdir()
    ran = run_harness(["validate", str(tmp_path)])
    ran.assert_refused(EXIT_BAD_INPUT, f"{tmp_path / 'pipe.yaml'}: is a FIFO (named pipe)")
    assert f"{tmp_path / 'folder.yaml'}: is a directory, not a scenario file" in ran.err


def test_dev_zero_is_refused_before_it_is_read() -> None:
    ran = run_harness(["run", "/dev/zero", "--jobs", "1"])
    ran.assert_refused(EXIT_BAD_INPUT, "/dev/zero: is a character device, not a regular file")


def test_an_oversized_file_is_refused_unread_and_the_limit_is_configurable(tmp_path: Path) -> None:
    big = _scenario(tmp_path, "big", "description: padded\n" + ("# " + "x" * 98 + "\n") * 30_000)  # 3 MB
    ran = run_harness(["validate", str(big)])
    ran.assert_refused(
        EXIT_BAD_INPUT,
        f"{big}: is larger than the limit: scenario files are at most 1,048,576 bytes "
        "(--max-scenario-bytes or HARNESS_MAX_SCENARIO_BYTES)",
    )
    assert run_harness(["validate", str(big), "--max-scenario-bytes", "4000000"]).code == EXIT_OK
    environment = {"HARNESS_MAX_SCENARIO_BYTES": "4000000"}
    from hostile_support import harness_environment

    assert run_harness(["validate", str(big)], environment=harness_environment(environment)).code == EXIT_OK


def test_a_world_of_ten_million_servers_is_refused_by_validate_and_run(tmp_path: Path) -> None:
    groups = "".join(
        f'  - {{account: "222222222222", region: {region}, count: 100000}}\n'
        for region in ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1") * 20
    )
    path = _scenario(tmp_path, "huge", f"servers:\n{groups}")
    message = (
        f"{path}:servers: the world would hold 10,000,000 servers; a world holds at most 10,000 "
        "(--max-servers or HARNESS_MAX_SERVERS)"
    )
    run_harness(["validate", str(path)]).assert_refused(EXIT_BAD_INPUT, message)
    run_harness(["run", str(path), "--jobs", "1"]).assert_refused(EXIT_BAD_INPUT, message)
    raised = run_harness(["validate", str(path), "--max-servers", "20000000"])
    assert raised.code == EXIT_OK, raised.err


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('environment:\n  FOO: "a\\0b"\n', "environment.FOO: contains a NUL character"),
        ("clock: 0001-01-01T00:00:00Z\n", "clock: clock '0001-01-01T00:00:00Z' is out of range"),
        ("clock: 9999-12-31T23:59:59Z\n", "clock: clock '9999-12-31T23:59:59Z' is out of range"),
        ("approvals: [AD-9]\n", "approvals[0]: unknown approval 'AD-9' (declared: AD-1, AD-2, AD-3, AD-4)"),
        ("approvals: [AD-1, AD-22]\n", "approvals[1]: unknown approval 'AD-22' (did you mean 'AD-2'?)"),
    ],
    ids=["nul-in-environment", "year-1", "year-9999", "unknown-approval", "misspelt-approval"],
)
def test_worlds_run_could_not_build_are_refused_by_validate_and_run(tmp_path: Path, body: str, message: str) -> None:
    path = _scenario(tmp_path, "unbuildable", body)
    run_harness(["validate", str(path)]).assert_refused(EXIT_BAD_INPUT, f"{path}:{message}")
    run_harness(["run", str(path), "--jobs", "1"]).assert_refused(EXIT_BAD_INPUT, f"{path}:{message}")


INVENTORY_ROW = 'tables:\n  inventory:\n    - {sourceServerArn: "arn:x", stagingAccountId: "222222222222", '


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (INVENTORY_ROW + "score: .nan}\n", "tables.inventory[0].score: nan is not a number DynamoDB can store"),
        (INVENTORY_ROW + "big: 1" + "0" * 40 + "}\n", "has 41 digits; DynamoDB numbers hold at most 38"),
        (INVENTORY_ROW + "tiny: 1.0e-200}\n", "tables.inventory[0].tiny: 1e-200 is out of DynamoDB's number range"),
        (INVENTORY_ROW + "notes: " + "x" * 420_000 + "}\n", "tables.inventory[0]: is about 420,"),
        (
            'tables:\n  inventory:\n    - {sourceServerArn: "' + "a" * 3000 + '", stagingAccountId: "222222222222"}\n',
            "tables.inventory[0].sourceServerArn: is 3,000 bytes; DynamoDB partition keys are at most 2048 bytes",
        ),
        (
            "tables:\n  regionStatus:\n    - {region: us-east-1, serverCount: 1" + "0" * 40 + "}\n",
            "tables.regionStatus[0].serverCount: 1" + "0" * 40 + " has 41 digits",
        ),
        ('description: "\\ud800"\n', "description: contains a lone surrogate U+D800"),
        (
            'servers:\n  - account: "222222222222"\n    region: us-east-1\n    items:\n      - ec2:\n          tags: {'
            + ", ".join(f"k{i}: v" for i in range(51))
            + "}\n",
            "servers[0].items[0].ec2.tags: EC2 allows at most 50 tags per instance, got 51",
        ),
    ],
    ids=["nan", "41-digits", "1e-200", "item-over-400kb", "key-over-2kb", "status-count", "surrogate", "51-tags"],
)
def test_edge_values_the_world_cannot_build_are_refused(tmp_path: Path, body: str, message: str) -> None:
    path = _scenario(tmp_path, "edge", body)
    run_harness(["validate", str(path)]).assert_refused(EXIT_BAD_INPUT, message)


def test_a_bad_limit_in_the_environment_is_one_line(tmp_path: Path) -> None:
    from hostile_support import harness_environment

    ran = run_harness(["validate", str(SMALL)], environment=harness_environment({"HARNESS_MAX_SERVERS": "lots"}))
    ran.assert_refused(EXIT_BAD_INPUT, "error: HARNESS_MAX_SERVERS='lots': expected a whole number >= 1")
    assert len(ran.lines) == 1
