"""Inside a simulated world nothing leaves the process: sockets, DNS, new processes and ctypes are refused.

One audit hook (:func:`sys.addaudithook`, installed when this module is imported) watches the interpreter's audit
events; while a :func:`sandbox` is active anywhere in the process it refuses, from any thread:

- sockets of every family (TCP, UDP, Unix, raw, ...): ``socket.connect`` (also ``connect_ex``), ``socket.sendto``,
  ``socket.sendmsg`` and ``socket.bind``;
- name resolution: ``socket.getaddrinfo`` (unless the host is ``None`` or an IP literal, which resolves nothing),
  ``socket.gethostbyname`` (also ``gethostbyname_ex``), ``socket.gethostbyaddr`` and ``socket.getnameinfo``;
- new processes: ``subprocess.Popen`` (so ``os.popen``, ``asyncio`` subprocesses), ``os.system``, ``os.exec*``,
  ``os.posix_spawn*``, ``os.spawn*``, ``os.fork`` and ``os.forkpty`` (so ``multiprocessing`` with ``fork``), and
  ``_posixsubprocess.fork_exec`` itself, which ``multiprocessing``'s ``spawn`` and ``forkserver`` call without an
  audit event (wrapped here);
- signals to other processes: ``os.kill`` and ``os.killpg`` (the harness that runs the world is one of them);
- native code through ``ctypes``: loading a library (``ctypes.dlopen``) and looking a function up
  (``ctypes.dlsym``), since a native call would bypass every check above.

Each refusal raises :class:`RefusedError` (an ``OSError``, as the failed call would raise) in the code that made
the call, and is recorded in every active sandbox, so code that catches the error is still reported: the engine
turns any recorded refusal into a harness error for the run (:mod:`harness.engine.observe`).

What an audit hook cannot see: native code that was already loaded (a C extension or a ``ctypes`` function pointer
obtained before the world) calling the C library directly, and file descriptors opened before the world (the engine
closes those in the child process a contained run uses). The hook cannot be removed once installed, which is why it
checks whether a sandbox is active before anything else: outside worlds it costs one list test per audit event.
"""

from __future__ import annotations

import _posixsubprocess
import ctypes  # noqa: F401 - loaded here, outside any world, so that importing it later loads no library
import ipaddress
import os
import shlex
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

#: How many refusals a sandbox keeps word for word (a retry loop is counted, not listed).
KEPT_REFUSALS = 20


class RefusedError(OSError):
    """Something the harness never lets code inside a simulated world do (the message says what was attempted)."""


class NetworkRefusedError(RefusedError):
    """A socket operation or a name resolution attempted inside a world."""


class ProcessRefusedError(RefusedError):
    """A new process (or a signal to another one) attempted inside a world."""


class NativeCodeRefusedError(RefusedError):
    """Native code loaded or looked up through ``ctypes`` inside a world."""


@dataclass
class Refusals:
    """What the code inside one sandbox attempted and was refused.

    Attributes:
        attempts: The first :data:`KEPT_REFUSALS` refusals, each ``"<what was attempted> (<audit event>)"``.
        count: How many refusals there were in all.
    """

    attempts: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, attempt: str) -> None:
        """Record one refusal."""
        self.count += 1
        if len(self.attempts) < KEPT_REFUSALS:
            self.attempts.append(attempt)

    def summary(self) -> str:
        """One line: how many attempts were refused and what they were (empty when none)."""
        if not self.count:
            return ""
        more = f"; and {self.count - len(self.attempts)} more" if self.count > len(self.attempts) else ""
        return f"the harness refused {self.count} attempt(s) to leave the world: {'; '.join(self.attempts)}{more}"


_active: list[Refusals] = []


@contextmanager
def sandbox() -> Iterator[Refusals]:
    """Refuse network, DNS, processes, signals and ctypes in the whole process while the block runs.

    Sandboxes nest (a contained run keeps one around the world the world keeps itself); each records every refusal
    made while it is active.

    Yields:
        The refusals made while this sandbox is active.
    """
    refusals = Refusals()
    _active.append(refusals)
    try:
        yield refusals
    finally:
        _active.remove(refusals)


def is_active() -> bool:
    """Whether a sandbox is active in this process."""
    return bool(_active)


def _refuse(error: type[RefusedError], attempt: str, event: str) -> None:
    entry = f"{attempt} ({event})"
    for refusals in list(_active):
        refusals.add(entry)
    raise error(f"the harness refuses {attempt} inside a simulated world ({event})")


def _kind(sock: Any) -> str:
    family, kind = getattr(sock, "family", None), getattr(sock, "type", None)
    if family == socket.AF_UNIX:
        return "Unix socket"
    if family in (socket.AF_INET, socket.AF_INET6):
        return {socket.SOCK_STREAM: "TCP", socket.SOCK_DGRAM: "UDP"}.get(kind, f"{getattr(kind, 'name', kind)}")
    return f"{getattr(family, 'name', family)} socket"


def _address(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2 and isinstance(address[1], int):
        host = f"[{address[0]}]" if ":" in str(address[0]) else str(address[0])
        return f"{host}:{address[1]}"
    return repr(address)


def _command(argv: Any) -> str:
    if isinstance(argv, str | bytes):
        return repr(os.fsdecode(argv))
    try:
        return repr(shlex.join(os.fsdecode(part) for part in argv))
    except TypeError:
        return repr(argv)


def _is_literal(host: Any) -> bool:
    if host is None:
        return True
    try:
        ipaddress.ip_address(os.fsdecode(host).split("%", 1)[0])
    except (TypeError, ValueError):
        return False
    return True


def _signal_name(number: Any) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


Describe = Callable[..., "str | None"]

#: Audit event -> (error raised, what was attempted from the event's arguments; ``None`` when it is allowed).
_REFUSED: dict[str, tuple[type[RefusedError], Describe]] = {
    "socket.connect": (NetworkRefusedError, lambda sock, address: f"a {_kind(sock)} connection to {_address(address)}"),
    "socket.sendto": (NetworkRefusedError, lambda sock, address: f"a {_kind(sock)} datagram to {_address(address)}"),
    "socket.sendmsg": (NetworkRefusedError, lambda sock, address: f"a {_kind(sock)} message to {_address(address)}"),
    "socket.bind": (NetworkRefusedError, lambda sock, address: f"binding a {_kind(sock)} to {_address(address)}"),
    "socket.getaddrinfo": (
        NetworkRefusedError,
        lambda host, *_: None if _is_literal(host) else f"a DNS lookup of {os.fsdecode(host)!r}",
    ),
    "socket.gethostbyname": (NetworkRefusedError, lambda host: f"a DNS lookup of {host!r}"),
    "socket.gethostbyaddr": (NetworkRefusedError, lambda address: f"a reverse DNS lookup of {address!r}"),
    "socket.getnameinfo": (NetworkRefusedError, lambda address: f"a reverse DNS lookup of {_address(address)}"),
    "subprocess.Popen": (ProcessRefusedError, lambda _exe, argv, *_: f"starting the process {_command(argv)}"),
    "os.system": (ProcessRefusedError, lambda command: f"running the shell command {_command(command)}"),
    "os.exec": (ProcessRefusedError, lambda _path, argv, *_: f"replacing the process with {_command(argv)}"),
    "os.posix_spawn": (ProcessRefusedError, lambda _path, argv, *_: f"starting the process {_command(argv)}"),
    "os.spawn": (ProcessRefusedError, lambda _mode, _path, argv, *_: f"starting the process {_command(argv)}"),
    "os.fork": (ProcessRefusedError, lambda *_: "forking the process"),
    "os.forkpty": (ProcessRefusedError, lambda *_: "forking the process"),
    "os.kill": (
        ProcessRefusedError,
        lambda pid, sig: None if pid == os.getpid() else f"sending {_signal_name(sig)} to process {pid}",
    ),
    "os.killpg": (ProcessRefusedError, lambda pgid, sig: f"sending {_signal_name(sig)} to process group {pgid}"),
    "ctypes.dlopen": (NativeCodeRefusedError, lambda name, *_: f"loading the native library {name!r} through ctypes"),
    "ctypes.dlsym": (NativeCodeRefusedError, lambda _lib, name: f"looking up the native function {name!r}"),
    "ctypes.dlsym/handle": (NativeCodeRefusedError, lambda _handle, name: f"looking up the native function {name!r}"),
}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _active:
        return
    refused = _REFUSED.get(event)
    if refused is None:
        return
    error, describe = refused
    attempt = describe(*args)
    if attempt is not None:
        _refuse(error, attempt, event)


_unguarded_fork_exec = _posixsubprocess.fork_exec


def _guarded_fork_exec(*args: Any, **kwargs: Any) -> Any:
    """``_posixsubprocess.fork_exec``, refused inside a world (``multiprocessing`` calls it with no audit event)."""
    if _active:
        _refuse(ProcessRefusedError, f"starting the process {_command(args[0] or ())}", "_posixsubprocess.fork_exec")
    return _unguarded_fork_exec(*args, **kwargs)


sys.addaudithook(_audit)
_posixsubprocess.fork_exec = _guarded_fork_exec
