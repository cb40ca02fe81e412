"""Contained runs: what a child returns comes back as plain data, and every way a child can end is named."""

from __future__ import annotations

import os
import pickle
import socket
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from harness.engine import isolation
from harness.engine.implementations import check_in_child
from harness.engine.isolation import ChildFailure, Containment, kill_children, live_children, run_in_child
from harness.engine.model import Observation, Opaque, portable
from harness.engine.observe import Implementation, observe
from harness.scenario import Scenario, scenario_from_dict


def test_a_result_comes_back_as_plain_data() -> None:
    value = {"n": Decimal("1.5"), "s": {b"x", 2}, "f": frozenset({"a"}), "b": bytearray(b"y"), "t": (1, None)}
    assert run_in_child(lambda: value, 10) == value
    observation = Observation(implementation="a:b", response=portable({"when": object}))
    assert run_in_child(lambda: observation, 10).response == {"when": Opaque("builtins.type", "<class 'object'>")}


@pytest.mark.parametrize(
    ("work", "message"),
    [
        (lambda: sys.exit(3), "raised SystemExit: 3"),
        (lambda: os._exit(0), "exited with status 0 before returning a result"),
        (lambda: (print("last words", flush=True), os._exit(7)), "exited with status 7 before returning a result; "),
        (os.abort, "was killed by signal SIGABRT (6); its last output: Fatal Python error: Aborted"),
        (lambda: threading.Event().wait(), "timed out after 0.5 s (the process was killed)"),
        (lambda: socket.gethostbyname("example.com"), "raised NetworkRefusedError: the harness refuses a DNS lookup"),
        (lambda: threading.Thread, "unreadable result (a result may not contain threading.Thread)"),
        (lambda: lambda: None, "raised AttributeError: Can't pickle local object"),
    ],
    ids=["sys.exit", "os._exit(0)", "os._exit(7)", "abort", "hang", "network", "not-plain", "unpicklable"],
)
def test_every_way_a_child_ends_is_named(work: Any, message: str) -> None:
    with pytest.raises(ChildFailure) as failure:
        run_in_child(work, 0.5)
    assert message in str(failure.value)
    assert not live_children()


def test_the_output_of_a_crashed_child_is_quoted() -> None:
    with pytest.raises(ChildFailure, match=r"exited with status 7 before returning a result; its last output: last"):
        run_in_child(lambda: (print("last words", flush=True), os._exit(7)), 5)


def test_a_child_sees_none_of_the_descriptors_it_inherited(tmp_path: Path) -> None:
    with (tmp_path / "parent-file").open("w") as held:
        descriptors = run_in_child(lambda: sorted(int(fd) for fd in os.listdir("/proc/self/fd")), 10)
        assert held.fileno() not in descriptors
    assert descriptors[:3] == [0, 1, 2] and len(descriptors) <= 5  # the standard streams, its result pipe, listdir's


def test_bytes_written_on_the_result_pipe_cannot_pass_for_a_result() -> None:
    def forge() -> Any:
        payload = pickle.dumps(("ok", "forged"))
        for fd in (int(name) for name in os.listdir("/proc/self/fd") if int(name) > 2):
            try:
                os.write(fd, isolation._LENGTH.pack(len(payload) + 99) + payload)
            except OSError:
                continue
        return "genuine"

    with pytest.raises(ChildFailure, match="unreadable result"):
        run_in_child(forge, 10)


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps(("ok", os.system)),  # a callable by reference
        pickle.dumps(("what", 1)),
        isolation._LENGTH.pack(5) + b"x",
    ],
)
def test_the_decoder_builds_nothing_but_plain_data(payload: bytes) -> None:
    if not payload.startswith(b"\x00"):
        payload = isolation._LENGTH.pack(len(payload)) + payload
    with pytest.raises((pickle.UnpicklingError, ValueError)):
        isolation._decode(payload)


def test_an_oversized_result_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolation, "MAX_RESULT_BYTES", 1000)
    with pytest.raises(ChildFailure, match="sent a result larger than"):
        run_in_child(lambda: b"x" * 100_000, 10)


def test_kill_children_ends_runs_in_progress() -> None:
    killed: list[BaseException] = []

    def wait_in_child() -> None:
        try:
            run_in_child(lambda: threading.Event().wait(), 30)
        except ChildFailure as error:
            killed.append(error)

    waiter = threading.Thread(target=wait_in_child)
    waiter.start()
    deadline = time.monotonic() + 10
    while not live_children() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert live_children()
    kill_children()
    waiter.join(10)
    assert not live_children() and "was killed by signal SIGKILL (9)" in str(killed[0])


def test_portable_keeps_plain_data_and_names_the_rest() -> None:
    class Shouty:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    deep: Any = []
    for _ in range(100):
        deep = [deep]
    assert portable({"a": [1, (2.0, True)], "b": None}) == {"a": [1, (2.0, True)], "b": None}
    assert portable(Shouty()).text == "<repr raised RuntimeError>"
    assert str(portable(range(3))) == "<builtins.range: range(0, 3)>"
    assert len(portable("x" * 10_000)) == 10_000 and len(portable(object() if False else b"y" * 3)) == 3
    assert isinstance(portable(deep), list)  # containers are kept down to 64 levels, the rest becomes opaque
    assert portable(type("Long", (), {"__repr__": lambda self: "z" * 1000})()).text.endswith("...")


def test_check_in_child_reports_only_what_makes_a_name_unusable() -> None:
    assert check_in_child("legacy", 30) is None
    assert "cannot import module 'no_such_pkg.mod'" in check_in_child("no_such_pkg.mod:handler", 30)
    assert "has no attribute 'nope'" in check_in_child("legacy.inventory_sync:nope", 30)
    assert check_in_child("tests.hostile.import_raises:handler", 30) is None  # left to each run to report
    assert check_in_child("tests.hostile.candidates:never_returns", 30) is None


# -- observe, contained -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return scenario_from_dict(
        {
            "name": "contained",
            "accounts": [{"accountId": "222222222222", "roleArn": "arn:aws:iam::222222222222:role/R"}],
            "tables": {"activeRegions": ["us-east-1"]},
        }
    )


def test_a_contained_run_observes_what_a_run_here_observes(scenario: Scenario) -> None:
    from harness.engine.observe import resolve_implementation

    here = observe(scenario, resolve_implementation("legacy"))
    there = observe(scenario, Implementation(here.implementation), containment=Containment(60))
    assert there.harness_error is None
    assert (there.response, there.tables, there.mutating_calls) == (here.response, here.tables, here.mutating_calls)


def test_a_contained_run_that_fails_is_a_harness_error_of_that_run(scenario: Scenario) -> None:
    observation = observe(scenario, Implementation("x:y", lambda: os._exit(4)), 1, Containment(60))
    assert (observation.implementation, observation.variant) == ("x:y", 1)
    assert observation.harness_error == "the run exited with status 4 before returning a result"


def test_a_run_here_reports_exit_calls_import_failures_and_threads_left_running(scenario: Scenario) -> None:
    release = threading.Event()

    def leaves_a_thread() -> dict[str, Any]:
        threading.Thread(target=release.wait, name="left-behind", daemon=True).start()
        return {"statusCode": 200}

    try:
        left = observe(scenario, Implementation("x:threads", leaves_a_thread))
    finally:
        release.set()
    assert left.harness_error.startswith("the handler returned but left 1 thread(s) running: 'left-behind' (daemon)")
    assert left.response == {"statusCode": 200}
    exits = observe(scenario, Implementation("x:exits", lambda: sys.exit("bye")))
    assert exits.harness_error == "the handler called sys.exit('bye')" and exits.exception is None
    raises = observe(scenario, Implementation("tests.hostile.import_raises:handler"))
    assert raises.harness_error == (
        "importing tests.hostile.import_raises:handler raised ValueError: configuration exploded at import"
    )
    missing = observe(scenario, Implementation("tests.hostile.candidates:missing"))
    assert missing.harness_error.startswith("cannot load the handler: module 'tests.hostile.candidates' has no")


def test_a_thread_that_finishes_soon_after_the_handler_is_not_left_running(scenario: Scenario) -> None:
    def finishes_late() -> dict[str, Any]:
        threading.Thread(target=time.sleep, args=(0.05,)).start()
        return {"statusCode": 200}

    assert observe(scenario, Implementation("x:late", finishes_late)).harness_error is None
