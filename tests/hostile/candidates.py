"""Hostile candidates: handlers that do what a Lambda handler must never do, each usable as ``--candidate``.

``tests.hostile.candidates:<name>`` names a handler; the modules :mod:`tests.hostile.import_raises` and
:mod:`tests.hostile.import_requests` misbehave when they are imported. None of this may ever run in the harness's own
process: every run is contained (``harness.engine.isolation``) and sandboxed (``harness.world.sandbox``).
"""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import legacy.inventory_sync as legacy_module
from lambda_shared.dynamodb_tables import get_source_server_inventory_table

#: The environment variable that makes :func:`stray_writer` start its writer (set by one scenario only).
STRAY_WRITER_SWITCH = "HOSTILE_STRAY_WRITER"
#: The inventory item the stray writer keeps putting.
STRAY_ARN = "arn:aws:drs:us-east-1:222222222222:source-server/s-stray"


def _legacy() -> Any:
    return legacy_module.handle_sync_source_server_inventory_legacy()


def exits_5() -> Any:
    """Calls ``sys.exit(5)`` in the middle of the run."""
    sys.exit(5)


def exits_process_0() -> Any:
    """Ends the process at once with status 0, as if all was well."""
    os._exit(0)


def never_returns() -> Any:
    """Waits forever."""
    threading.Event().wait()


def leaves_a_non_daemon_thread() -> Any:
    """Answers like legacy but leaves a non-daemon thread waiting forever (an interpreter would never exit)."""
    threading.Thread(target=threading.Event().wait, name="hostile-non-daemon").start()
    return _legacy()


def aborts() -> Any:
    """Aborts the process (SIGABRT)."""
    os.abort()


def segfaults() -> Any:
    """Reads address 0 (SIGSEGV)."""
    return ctypes.string_at(0)


def stray_writer() -> Any:
    """Answers like legacy; when :data:`STRAY_WRITER_SWITCH` is set, a thread keeps writing to the inventory after."""
    answer = _legacy()
    if os.environ.get(STRAY_WRITER_SWITCH):
        table = get_source_server_inventory_table()

        def write_forever() -> None:
            while True:
                table.put_item(Item={"sourceServerArn": STRAY_ARN, "stagingAccountId": "222222222222"})
                time.sleep(0.01)

        threading.Thread(target=write_forever, name="hostile-stray-writer", daemon=True).start()
    return answer


# -- network channels ----------------------------------------------------------------------------------------------


def tcp_connect() -> Any:
    """A TCP connection to a documentation address."""
    socket.create_connection(("192.0.2.10", 443), timeout=1).close()
    return _legacy()


def udp_sendto() -> Any:
    """A UDP datagram to a documentation address."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"ping", ("192.0.2.10", 53))
    return _legacy()


def unix_connect() -> Any:
    """A Unix-socket connection (the Docker daemon's, say)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect("/var/run/docker.sock")
    return _legacy()


def dns_lookup() -> Any:
    """A DNS look-up, its failure swallowed: the refusal must still be reported."""
    try:
        socket.getaddrinfo("example.com", 443)
    except OSError:
        pass
    return _legacy()


def curl_in_a_subprocess() -> Any:
    """An HTTP request made by a subprocess (``curl``)."""
    subprocess.run(["curl", "-s", "http://example.com/"], check=False)  # noqa: S603, S607 - the point of the test
    return _legacy()


def urllib_in_a_subprocess() -> Any:
    """An HTTP request made by another Python interpreter."""
    code = "import urllib.request; urllib.request.urlopen('http://example.com/')"
    subprocess.run([sys.executable, "-c", code], check=False)  # noqa: S603 - the point of the test
    return _legacy()
