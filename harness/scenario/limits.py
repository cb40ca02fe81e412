"""How much a scenario file may ask of the harness: file size, YAML nesting and aliases, servers in one world.

Every limit protects the harness from input that would hang it or exhaust memory (a YAML alias bomb, ``/dev/zero``
given as a scenario, ``count: 100000`` in a hundred groups). Two limits are meant to be raised by people with a
reason to: the file size and the number of servers. Each is taken from, in order, the command-line option, the
environment variable, the default:

============================  =================================  ==============================  ===========
limit                         option                             environment variable            default
============================  =================================  ==============================  ===========
bytes in one scenario file    ``--max-scenario-bytes``           ``HARNESS_MAX_SCENARIO_BYTES``  1 MiB
servers one world may hold    ``--max-servers``                  ``HARNESS_MAX_SERVERS``         10,000
============================  =================================  ==============================  ===========

The YAML limits are fixed: no legitimate scenario comes near them (the shipped ones nest 7 levels and use no
alias). Nesting is at most :data:`MAX_DEPTH` collections, counted after aliases are expanded; aliases may add at
most :data:`MAX_ALIAS_NODES` nodes to the document (the document read as if every alias were written out), and an
alias may point at a node holding aliases at most :data:`MAX_ALIAS_DEPTH` levels deep. An alias to a node that
contains it (``&a [*a]``) is refused: a scenario is a tree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from harness.commandline import BadInputError

MAX_DEPTH = 64
MAX_ALIAS_NODES = 100_000
MAX_ALIAS_DEPTH = 8
DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_MAX_SERVERS = 10_000
BYTES_VARIABLE = "HARNESS_MAX_SCENARIO_BYTES"
SERVERS_VARIABLE = "HARNESS_MAX_SERVERS"


@dataclass(frozen=True)
class Limits:
    """The limits one load applies (see the module docstring).

    Attributes:
        max_bytes: Largest scenario (or approvals) file read, in bytes.
        max_servers: Most servers one world may hold: the sum of every group's ``count`` and ``items``.
    """

    max_bytes: int = DEFAULT_MAX_BYTES
    max_servers: int = DEFAULT_MAX_SERVERS

    @classmethod
    def from_environment(
        cls,
        max_bytes: int | None = None,
        max_servers: int | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Limits:
        """The limits in force: the given values, else the environment variables, else the defaults.

        Raises:
            BadInputError: An environment variable is set to something other than a whole number >= 1.
        """
        environ = os.environ if environ is None else environ
        return cls(
            max_bytes=max_bytes or _variable(environ, BYTES_VARIABLE, DEFAULT_MAX_BYTES),
            max_servers=max_servers or _variable(environ, SERVERS_VARIABLE, DEFAULT_MAX_SERVERS),
        )

    @property
    def bytes_hint(self) -> str:
        """How to raise the file size limit, for messages."""
        return f"at most {self.max_bytes:,} bytes (--max-scenario-bytes or {BYTES_VARIABLE})"

    @property
    def servers_hint(self) -> str:
        """How to raise the server limit, for messages."""
        return f"at most {self.max_servers:,} (--max-servers or {SERVERS_VARIABLE})"


def _variable(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise BadInputError(f"{name}={text!r}: expected a whole number >= 1")
    return value
