"""SIGINT/SIGTERM handling (harness.interruption) and the CLI's one-line errors, in-process."""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from harness import cli, interruption
from harness.commandline import EXIT_BAD_INPUT, BadInputError, check_aws_configuration
from harness.interruption import (
    Interrupted,
    child_signals,
    handling_signals,
    on_interrupt,
    raise_if_interrupted,
)


def _sleep() -> None:
    time.sleep(60)


def test_a_signal_ends_children_runs_callbacks_and_raises_once() -> None:
    context = multiprocessing.get_context("fork")
    child = context.Process(target=_sleep)
    ended: list[str] = []
    with pytest.raises(Interrupted) as raised, handling_signals():
        child.start()
        with on_interrupt(lambda: ended.append("first")), on_interrupt(lambda: 1 / 0):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
    assert raised.value.exit_code == 143 and raised.value.signal_name == "SIGTERM"
    assert str(raised.value) == "interrupted by SIGTERM"
    assert ended == ["first"] and not child.is_alive()
    with pytest.raises(Interrupted):
        raise_if_interrupted()  # a candidate that swallowed the first raise is stopped at the next check
    assert signal.getsignal(signal.SIGTERM) is not interruption._handle  # restored


def test_a_second_signal_during_cleanup_is_ignored() -> None:
    cleaned: list[str] = []
    with pytest.raises(Interrupted), handling_signals():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        finally:
            os.kill(os.getpid(), signal.SIGINT)  # ignored: the cleanup below still runs
            cleaned.append("done")
    assert cleaned == ["done"]


def _worker_holding_a_grandchild(marker: str) -> None:
    """A pool worker that started a process of its own (as a contained run does) and registered its cleanup."""
    child_signals()
    grandchild = multiprocessing.get_context("fork").Process(target=_sleep)
    grandchild.start()

    def end_grandchild() -> None:
        grandchild.kill()
        grandchild.join()
        Path(marker).write_text(f"{grandchild.exitcode}")

    with on_interrupt(end_grandchild):
        os.kill(os.getpid(), signal.SIGINT)  # ignored: the parent decides
        Path(f"{marker}.ready").write_text("")
        time.sleep(60)


def test_a_terminated_worker_ends_what_it_started_and_exits_at_once(tmp_path: Path) -> None:
    marker = str(tmp_path / "grandchild-ended")
    worker = multiprocessing.get_context("fork").Process(target=_worker_holding_a_grandchild, args=(marker,))
    worker.start()
    deadline = time.monotonic() + 30
    while not Path(f"{marker}.ready").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.terminate()
    worker.join(30)
    assert worker.exitcode == 143  # 128 + SIGTERM, from the worker's own handler, not a default death
    assert Path(marker).read_text() == str(-signal.SIGKILL)  # the grandchild was killed and reaped first


def test_children_ignore_sigint_and_other_threads_install_nothing() -> None:
    previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        child_signals()
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is interruption._end_worker
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    seen: list[object] = []

    def in_thread() -> None:
        with handling_signals():
            seen.append(signal.getsignal(signal.SIGTERM))

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()
    assert seen == [previous[1]]


def _register(name: str, handler: cli.Handler) -> None:
    cli.command(name, "test command", lambda parser: None, builds_worlds=False)(handler)


@pytest.fixture
def commands() -> object:
    saved = dict(cli.COMMANDS)
    yield
    cli.COMMANDS.clear()
    cli.COMMANDS.update(saved)


def test_the_cli_turns_bad_input_and_interruptions_into_one_line(
    commands: object, capsys: pytest.CaptureFixture[str]
) -> None:
    def bad(_args: argparse.Namespace) -> int:
        raise BadInputError("--report-dir x: is a file, not a directory")

    def interrupted(_args: argparse.Namespace) -> int:
        raise Interrupted(signal.SIGINT)

    _register("test-bad", bad)
    _register("test-interrupted", interrupted)
    assert cli.main(["test-bad"]) == EXIT_BAD_INPUT
    assert cli.main(["test-interrupted"]) == 130
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "error: --report-dir x: is a file, not a directory",
        "interrupted by SIGINT: workers ended, temporary files removed",
    ]


def test_log_lines_go_through_the_redactor(commands: object, capsys: pytest.CaptureFixture[str]) -> None:
    def logs(_args: argparse.Namespace) -> int:
        logging.getLogger("harness.test").warning("key %s", "AKIAABCDEFGHIJKLMNOP")
        return 0

    _register("test-logs", logs)
    root = logging.getLogger()
    handlers = list(root.handlers)
    root.handlers = [logging.StreamHandler()]
    try:
        assert cli.main(["test-logs"]) == 0
    finally:
        root.handlers = handlers
    err = capsys.readouterr().err
    assert "AKIAABCDEFGHIJKLMNOP" not in err and "key <redacted:" in err


def test_an_unusable_aws_configuration_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_PROFILE", "gone")
    with pytest.raises(BadInputError, match="AWS_DEFAULT_PROFILE: The config profile \\(gone\\) could not be found"):
        check_aws_configuration()
    monkeypatch.delenv("AWS_DEFAULT_PROFILE")
    (tmp_path / "config").write_text("[default\n")
    with pytest.raises(BadInputError, match="the AWS configuration cannot be read"):
        check_aws_configuration()
    (tmp_path / "config").write_text("[default]\nregion = eu-west-1\n")
    check_aws_configuration()
