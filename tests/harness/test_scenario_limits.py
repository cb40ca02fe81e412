"""Loading limits and buildability rules, in-process (tests/hostile runs the same cases through the CLI)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.commandline import BadInputError
from harness.scenario import approval_ids
from harness.scenario.approval_ids import ApprovalsFileError, approval_entries, declared_ids, reference_problems
from harness.scenario.buildable import attribute_size, buildable_problems, dynamodb_number_problem
from harness.scenario.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_SERVERS, Limits
from harness.scenario.loading import LoadOptions, ScenarioError, check_document, load_scenario, load_scenarios
from harness.scenario.reading import ReadingError, YamlLimitError, duplicate_keys, parse_yaml, read_text

SMALL = Limits(max_bytes=64, max_servers=5)
_CHAIN = 'a0: &a0 "x"\n' + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 12))


def test_limits_come_from_the_option_then_the_environment_then_the_default() -> None:
    assert Limits.from_environment(environ={}) == Limits(DEFAULT_MAX_BYTES, DEFAULT_MAX_SERVERS)
    environ = {"HARNESS_MAX_SCENARIO_BYTES": "2_000", "HARNESS_MAX_SERVERS": " 30 "}
    assert Limits.from_environment(environ=environ) == Limits(2000, 30)
    assert Limits.from_environment(10, 20, environ=environ) == Limits(10, 20)
    for bad in ("0", "-5", "many"):
        with pytest.raises(BadInputError, match=f"HARNESS_MAX_SERVERS={bad!r}: expected a whole number >= 1"):
            Limits.from_environment(environ={"HARNESS_MAX_SERVERS": bad})


def test_only_regular_files_within_the_size_limit_are_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    (tmp_path / "big.yaml").write_text("x" * 65)
    (tmp_path / "latin.yaml").write_bytes(b"name: caf\xe9\n")
    (tmp_path / "ok.yaml").write_text("name: ok\n")
    cases = {
        fifo: "is a FIFO (named pipe), not a regular file",
        Path("/dev/null"): "is a character device",
        tmp_path: "is a directory, not a scenario file",
        tmp_path / "missing.yaml": "no such file",
        tmp_path / "big.yaml": "is larger than the limit: scenario files are at most 64 bytes",
        tmp_path / "latin.yaml": "not UTF-8 text (invalid continuation byte at byte 9)",
    }
    for path, reason in cases.items():
        with pytest.raises(ReadingError, match=reason.replace("(", r"\(").replace(")", r"\)")):
            read_text(path, SMALL)
    assert read_text(tmp_path / "ok.yaml", SMALL) == "name: ok\n"
    with pytest.raises(ReadingError, match="cannot open: Not a directory"):
        read_text(tmp_path / "ok.yaml" / "x.yaml", SMALL)


def _bomb(levels: int, width: int = 9) -> str:
    lines = ['a0: &a0 ["lol"]'] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "path", "reason"),
    [
        (_bomb(9), ("a5",), "aliases expand to more than 100,000 nodes"),
        ("x: " + "[" * 100 + "]" * 100, ("x",) + (0,) * 62, "nested deeper than 64 levels"),
        ("a: &a [*a]", ("a",), "alias *a refers to a node that contains it"),
        (
            'a0: &a0 "x"\n' + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 12)),
            ("a9",),
            "aliases nest more than 8",
        ),
        (
            "deep: &d " + "[" * 40 + "]" * 40 + "\nnest:" + " [" * 30 + " *d" + " ]" * 30,
            ("nest",) + (0,) * 29,
            "nested deeper than 64 levels once aliases are expanded",
        ),
    ],
    ids=["bomb", "depth", "self", "alias-depth", "expanded-depth"],
)
def test_yaml_beyond_the_limits_is_refused_while_composing(text: str, path: tuple[Any, ...], reason: str) -> None:
    with pytest.raises(YamlLimitError) as raised:
        parse_yaml(text)
    assert raised.value.reason.startswith(reason)
    assert raised.value.path == path


def test_aliases_within_the_limits_load_and_shared_nodes_are_walked_once() -> None:
    text = "base: &b {k: 1, k: 2}\n" + _bomb(4).replace('a0: &a0 ["lol"]', "a0: &a0 [*b]")
    doc, node = parse_yaml(text)
    assert len(doc["a4"]) == 9 and doc["a4"][0][0][0][0] == [{"k": 2}]
    assert list(duplicate_keys(node)) == [(("base", "k"), "duplicate key 'k' (first at line 1)")]


def test_a_yaml_limit_problem_names_file_path_and_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("name: deep\ndescription: " + "[" * 80 + "]" * 80 + "\n")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    (problem,) = raised.value.problems
    assert (
        str(problem)
        == f"{path}:description{'[0]' * 7}...: nested deeper than 64 levels: refused before loading (line 2)"
    )


def _with(doc: dict[str, Any]) -> dict[str, Any]:
    return {"name": "edge", **doc}


@pytest.mark.parametrize(
    ("doc", "path", "reason"),
    [
        ({"clock": "1970-12-31T23:59:59Z"}, ("clock",), "is out of range"),
        ({"clock": "2026-02-30T00:00:00Z"}, ("clock",), "is not a real date and time"),
        ({"environment": {"X": "a\0b"}}, ("environment", "X"), "contains a NUL character"),
        ({"environment": {"X": "\ud800"}}, ("environment", "X"), "contains a lone surrogate U+D800"),
        ({"tags": ["\udfff"]}, ("tags", 0), "contains a lone surrogate U+DFFF"),
        (
            {"servers": [{"account": "222222222222", "region": "us-east-1", "count": 6}]},
            ("servers",),
            "the world would hold 6 servers; a world holds at most 5 (--max-servers or HARNESS_MAX_SERVERS)",
        ),
    ],
)
def test_what_the_world_cannot_build_is_a_problem(doc: dict[str, Any], path: tuple[Any, ...], reason: str) -> None:
    found = list(buildable_problems(_with(doc), SMALL))
    assert [p for p, _ in found] == [path]
    assert reason in found[0][1]


def test_dynamodb_numbers_and_item_sizes() -> None:
    assert dynamodb_number_problem(0) is None and dynamodb_number_problem(1.5) is None
    assert dynamodb_number_problem(10**37) is None
    assert "has 39 digits" in str(dynamodb_number_problem(10**38))
    assert "out of DynamoDB's number range" in str(dynamodb_number_problem(1e130))
    assert "no NaN or infinity" in str(dynamodb_number_problem(float("inf")))
    assert attribute_size("héllo") == 6 and attribute_size(True) == 1 and attribute_size(None) == 1
    assert attribute_size(12345) == 4 and attribute_size(float("nan")) == 2
    assert attribute_size({"a": [1, "xy"]}) == 3 + 1 + 1 + (3 + 1 + 2 + 1 + 2)
    assert attribute_size(b"abc") == 3


def test_a_float_in_a_seeded_row_is_stored_as_the_decimal_written(world_factory: Any) -> None:
    doc = {"tables": {"inventory": [{"sourceServerArn": "arn:x", "stagingAccountId": "222222222222", "score": 0.1}]}}
    assert check_document(_with(doc)) == []
    world = world_factory(_with(doc))
    (row,) = world.table_snapshot()["inventory"]
    assert row["score"] == Decimal("0.1")


def test_approval_references_name_declared_ids(tmp_path: Path) -> None:
    declared = declared_ids()
    assert {"AD-1", "AD-2"} <= declared
    found = list(reference_problems({"approvals": ["AD-1", "AD-22", "AD-9", 7]}, declared))
    assert found == [
        (("approvals", 1), "unknown approval 'AD-22' (did you mean 'AD-2'?)"),
        (("approvals", 2), f"unknown approval 'AD-9' (declared: {', '.join(sorted(declared))})"),
    ]
    assert list(reference_problems({"approvals": ["AD-1"]}, [])) == [
        (("approvals", 0), "unknown approval 'AD-1' (the approvals file declares none)")
    ]
    (tmp_path / "list.yaml").write_text("- a\n")
    with pytest.raises(ApprovalsFileError, match="expected a top-level 'approvals' list"):
        approval_entries(tmp_path / "list.yaml")
    with pytest.raises(ApprovalsFileError, match="cannot read approvals: no such file"):
        approval_entries(tmp_path / "none.yaml")
    assert approval_ids.DEFAULT_APPROVALS.name == "approvals.yaml"


def test_loading_files_applies_the_options(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\napprovals: [AD-1]\n")
    with pytest.raises(ScenarioError, match="unknown approval 'AD-1'"):
        load_scenarios([tmp_path], LoadOptions(approval_ids=["AD-2"]))
    assert [s.name for s in load_scenarios([tmp_path], LoadOptions(SMALL, ["AD-1"]))] == ["a"]
    with pytest.raises(ScenarioError, match="larger than the limit"):
        load_scenario(tmp_path / "a.yaml", LoadOptions(Limits(max_bytes=5)))


def test_the_approvals_file_is_read_with_the_same_limits(tmp_path: Path) -> None:
    from harness.engine.approvals import ApprovalError, load_approvals

    (tmp_path / "bomb.yaml").write_text(_bomb(9))
    with pytest.raises(ApprovalError, match="cannot read approvals: aliases expand to more than 100,000 nodes"):
        load_approvals(tmp_path / "bomb.yaml")
    assert isinstance(yaml.YAMLError(), Exception)
