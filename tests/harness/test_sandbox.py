"""The sandbox refuses every way out of the process that the audit events show, records it, and is otherwise silent."""

# ruff: noqa: S603, S605, S606, S607 - starting processes is what these tests attempt

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

from harness.world.sandbox import (
    KEPT_REFUSALS,
    NativeCodeRefusedError,
    NetworkRefusedError,
    ProcessRefusedError,
    RefusedError,
    is_active,
    sandbox,
)


def _udp() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def _tcp6_connect_ex() -> Any:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("2001:db8::1", 443))


def _sendmsg() -> Any:
    with _udp() as sock:
        return sock.sendmsg([b"x"], [], 0, ("192.0.2.1", 9))


def _bind() -> Any:
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))  # noqa: S104 - the point of the test


def _spawn_with_multiprocessing() -> Any:
    process = multiprocessing.get_context("spawn").Process(target=print)
    process.start()


CASES: list[tuple[str, Callable[[], Any], type[RefusedError], str]] = [
    ("tcp6-connect_ex", _tcp6_connect_ex, NetworkRefusedError, "a TCP connection to [2001:db8::1]:443"),
    ("udp-sendmsg", _sendmsg, NetworkRefusedError, "a UDP message to 192.0.2.1:9 (socket.sendmsg)"),
    ("bind", _bind, NetworkRefusedError, "binding a TCP to 0.0.0.0:0 (socket.bind)"),
    (
        "gethostbyname",
        lambda: socket.gethostbyname("example.com"),
        NetworkRefusedError,
        "a DNS lookup of 'example.com'",
    ),
    ("gethostbyname_ex", lambda: socket.gethostbyname_ex("x.test"), NetworkRefusedError, "a DNS lookup of 'x.test'"),
    ("gethostbyaddr", lambda: socket.gethostbyaddr("192.0.2.1"), NetworkRefusedError, "a reverse DNS lookup"),
    ("getnameinfo", lambda: socket.getnameinfo(("192.0.2.1", 80), 0), NetworkRefusedError, "a reverse DNS lookup"),
    ("os.system", lambda: os.system("true"), ProcessRefusedError, "running the shell command 'true' (os.system)"),
    ("os.popen", lambda: os.popen("true"), ProcessRefusedError, "starting the process"),
    ("exec", lambda: os.execv("/bin/true", ["true"]), ProcessRefusedError, "replacing the process with 'true'"),
    ("posix_spawn", lambda: os.posix_spawn("/bin/true", ["true"], {}), ProcessRefusedError, "'true' (os.posix_spawn)"),
    ("fork", os.fork, ProcessRefusedError, "forking the process (os.fork)"),
    ("spawn", lambda: os.spawnv(os.P_WAIT, "/bin/true", ["true"]), ProcessRefusedError, "forking the process"),
    ("multiprocessing-spawn", _spawn_with_multiprocessing, ProcessRefusedError, "(_posixsubprocess.fork_exec)"),
    ("kill-parent", lambda: os.kill(os.getppid(), 0), ProcessRefusedError, "sending 0 to process"),
    ("killpg", lambda: os.killpg(os.getpgid(0), 0), ProcessRefusedError, "to process group"),
    ("ctypes-dlopen", lambda: ctypes.CDLL("libc.so.6"), NativeCodeRefusedError, "loading the native library"),
    ("ctypes-dlsym", lambda: ctypes.pythonapi.Py_GetVersion, NativeCodeRefusedError, "'Py_GetVersion'"),
]


@pytest.mark.parametrize(("attempt", "error", "described"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_way_out_is_refused_and_recorded(
    attempt: Callable[[], Any], error: type[RefusedError], described: str
) -> None:
    with sandbox() as refusals:
        with pytest.raises(error, match="the harness refuses .* inside a simulated world") as raised:
            attempt()
    assert isinstance(raised.value, OSError)
    assert refusals.count == 1 and described in refusals.attempts[0], refusals.attempts
    assert refusals.summary().startswith("the harness refused 1 attempt(s) to leave the world: ")


def test_a_refusal_the_code_swallows_is_still_recorded() -> None:
    with sandbox() as refusals:
        socket.getfqdn("example.com")  # getfqdn catches the error and answers the name it was given
    assert refusals.attempts == ["a reverse DNS lookup of 'example.com' (socket.gethostbyaddr)"]


def test_nothing_is_refused_outside_a_sandbox_and_local_work_is_allowed_inside() -> None:
    assert not is_active()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # outside: allowed
    with sandbox() as refusals:
        assert is_active()
        assert socket.getaddrinfo("192.0.2.1", 443)[0][4][0] == "192.0.2.1"  # an IP literal resolves nothing
        assert socket.getaddrinfo(None, 443)
        left, right = socket.socketpair()  # a channel inside the process
        left.send(b"x")
        assert right.recv(1) == b"x"
        left.close()
        right.close()
        os.kill(os.getpid(), 0)  # the process itself
        socket.gethostname()
    assert refusals.count == 0 and not is_active()


def test_sandboxes_nest_and_every_one_records() -> None:
    with sandbox() as outer:
        with sandbox() as inner, pytest.raises(NetworkRefusedError):
            socket.gethostbyname("example.com")
        assert inner.count == outer.count == 1
        assert is_active()
    assert not is_active()


def test_a_retry_loop_is_counted_not_listed() -> None:
    with sandbox() as refusals:
        for _ in range(KEPT_REFUSALS + 5):
            with pytest.raises(NetworkRefusedError):
                socket.gethostbyname("example.com")
    assert refusals.count == KEPT_REFUSALS + 5 and len(refusals.attempts) == KEPT_REFUSALS
    assert refusals.summary().endswith("; and 5 more")


def test_subprocesses_and_signals_work_again_after_the_sandbox() -> None:
    with sandbox(), pytest.raises(ProcessRefusedError):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert subprocess.run([sys.executable, "-c", "pass"], check=True).returncode == 0
    signal.pthread_kill(threading.get_ident(), 0)  # a thread of the process: never refused
