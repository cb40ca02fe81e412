"""Reading YAML the harness is given, safely: regular files only, a size limit, bounded nesting and aliases.

:func:`read_text` refuses what is not a regular file (a directory, a FIFO, ``/dev/zero``) before reading a byte and
reads at most the size limit. :func:`parse_yaml` composes one document with :class:`BoundedLoader`, which counts
while composing (so a YAML alias bomb is refused after a few thousand nodes, not after hours) and refuses an alias
to a node that contains it; :func:`duplicate_keys` then visits every node of the tree once, however many aliases
point at it. The limits are those of :mod:`harness.scenario.limits`; every refusal is a :class:`ReadingError` or a
:class:`YamlLimitError` whose message says what to change.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.scenario.limits import MAX_ALIAS_DEPTH, MAX_ALIAS_NODES, MAX_DEPTH, Limits

#: A location inside a document: mapping keys and list indexes from the root.
DocPath = tuple[str | int, ...]

_FILE_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_CHUNK = 1024 * 1024


class ReadingError(Exception):
    """A file the harness refuses to read, or cannot; the message is the reason, for people."""


def read_text(path: Path, limits: Limits, what: str = "scenario") -> str:
    """The UTF-8 text of ``path`` when it is a regular file of at most ``limits.max_bytes`` bytes.

    The file is opened without blocking (a FIFO with no writer cannot hang the harness) and checked with ``fstat``
    on the opened descriptor before anything is read; a file that grows while it is read is still cut at the limit.

    Raises:
        ReadingError: Missing, not a regular file, too large, unreadable or not UTF-8.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ReadingError("no such file") from None
    except OSError as error:
        raise ReadingError(f"cannot open: {error.strerror or error}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise ReadingError(f"is a directory, not a {what} file")
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")
            raise ReadingError(f"is {kind}, not a regular file: only regular files are read")
    except BaseException:
        os.close(descriptor)
        raise
    with os.fdopen(descriptor, "rb") as stream:
        data = _read_at_most(stream, limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise ReadingError(f"is larger than the limit: {what} files are {limits.bytes_hint}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ReadingError(f"not UTF-8 text ({error.reason} at byte {error.start})") from None


def _read_at_most(stream: Any, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        try:
            chunk = stream.read(min(_CHUNK, remaining))
        except OSError as error:
            raise ReadingError(f"cannot read: {error.strerror or error}") from None
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class YamlLimitError(yaml.MarkedYAMLError):
    """A YAML document beyond the limits of :mod:`harness.scenario.limits`; ``path`` is where composing stopped."""

    def __init__(self, reason: str, mark: yaml.Mark | None, path: DocPath) -> None:
        super().__init__(problem=reason, problem_mark=mark)
        self.reason = reason
        self.path = path


@dataclass
class _Extent:
    """What a composed node amounts to once its aliases are expanded."""

    nodes: int = 1
    alias_depth: int = 0
    height: int = 0


@dataclass
class _Open:
    """A collection being composed: its anchor, its place and what its children add up to so far."""

    anchor: str | None
    part: str | int | None
    children: list[_Extent] = field(default_factory=list)

    def extent(self) -> _Extent:
        return _Extent(
            nodes=1 + sum(child.nodes for child in self.children),
            alias_depth=max((child.alias_depth for child in self.children), default=0),
            height=1 + max((child.height for child in self.children), default=0),
        )


class BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that keeps timestamps as strings and bounds nesting and alias expansion while composing.

    Scenario times are wire strings, not ``datetime`` objects, so the timestamp resolver is removed.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._open: list[_Open] = []
        self._anchored: dict[int, _Extent] = {}
        self._expanded = 0

    def _path(self) -> DocPath:
        return tuple(frame.part for frame in self._open[1:] if frame.part is not None)

    def _refuse(self, reason: str, mark: yaml.Mark | None) -> YamlLimitError:
        return YamlLimitError(reason, mark, self._path())

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        """Compose one node, counting what aliases expand to and how deep collections nest."""
        event = self.peek_event()
        part = index.value if isinstance(index, yaml.ScalarNode) else index if isinstance(index, int) else None
        if isinstance(event, yaml.AliasEvent):
            return self._compose_alias(event, parent, index)
        collection = isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent)
        if collection and len(self._open) >= MAX_DEPTH:
            raise self._refuse(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
        frame = _Open(event.anchor, part)
        if collection:
            self._open.append(frame)
        try:
            node = super().compose_node(parent, index)
        finally:
            if collection:
                self._open.pop()
        extent = frame.extent() if collection else _Extent()
        if event.anchor is not None:
            self._anchored[id(node)] = extent
        if self._open:
            self._open[-1].children.append(extent)
        return node

    def _compose_alias(self, event: yaml.AliasEvent, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if any(frame.anchor == event.anchor for frame in self._open):
            raise self._refuse(f"alias *{event.anchor} refers to a node that contains it", event.start_mark)
        node = super().compose_node(parent, index)
        target = self._anchored.get(id(node), _Extent())
        self._expanded += target.nodes
        if self._expanded > MAX_ALIAS_NODES:
            raise self._refuse(f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes", event.start_mark)
        if target.alias_depth + 1 > MAX_ALIAS_DEPTH:
            raise self._refuse(f"aliases nest more than {MAX_ALIAS_DEPTH} levels deep", event.start_mark)
        if len(self._open) + target.height > MAX_DEPTH:
            raise self._refuse(f"nested deeper than {MAX_DEPTH} levels once aliases are expanded", event.start_mark)
        if self._open:
            self._open[-1].children.append(_Extent(target.nodes, target.alias_depth + 1, target.height))
        return node


BoundedLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document into plain data and its node tree (for line numbers), within the YAML limits.

    Raises:
        yaml.YAMLError: On syntax errors, several documents or unsupported tags; :class:`YamlLimitError` beyond
            the limits.
    """
    loader = BoundedLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


def duplicate_keys(root: yaml.Node | None) -> Iterator[tuple[DocPath, str]]:
    """Yield ``(path, reason)`` for every key repeated in one YAML mapping (PyYAML silently keeps the last).

    Each node is visited once, at the first place it appears, however many aliases share it.
    """
    seen: set[int] = set()
    pending: list[tuple[yaml.Node, DocPath]] = [(root, ())] if root is not None else []
    while pending:
        node, path = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        children: list[tuple[yaml.Node, DocPath]] = []
        if isinstance(node, yaml.MappingNode):
            first_lines: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                if key in first_lines and key != "<<":
                    yield path + (key,), f"duplicate key {key!r} (first at line {first_lines[key]})"
                first_lines.setdefault(key, key_node.start_mark.line + 1)
                children.append((value_node, path + (key,)))
        elif isinstance(node, yaml.SequenceNode):
            children = [(item, path + (index,)) for index, item in enumerate(node.value)]
        pending.extend(reversed(children))
