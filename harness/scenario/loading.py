"""Scenario files: parse the YAML, validate it (JSON Schema, then semantic rules) and build :class:`Scenario` objects.

Every problem is reported as a :class:`Problem` naming the file, the path inside the document
(``faults[2].effect.code``) and the reason, with the YAML line when it is known. Loading is all or nothing:
:func:`load_scenarios` either returns a scenario for every file or raises :class:`ScenarioError` carrying every
problem of every file.

The schema (``harness/scenario/schema.json``) catches what JSON Schema can express: unknown keys, types, 12-digit
account ids, DRS regions, negative counts, trigger shapes. The semantic rules here add what it cannot: the file name,
duplicate ids and rows, error codes the fault layer knows for the fault's service, operation names that exist in
botocore's service model, which triggers and effects apply to which operation, and DRS partial objects that must only
use members of botocore's ``SourceServer`` shape.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
import stat
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import botocore.session
import jsonschema
import yaml
from botocore.model import Shape

from harness.scenario.approval_ids import reference_problems
from harness.scenario.buildable import buildable_problems
from harness.scenario.errors import known_error_codes
from harness.scenario.limits import Limits
from harness.scenario.model import (
    FEATURE_FLAG_VARIABLE,
    ROLE_ARN,
    SERVICES,
    SYNC_OPERATION,
    VIA_LAMBDA_HANDLER,
    Scenario,
    scenario_from_dict,
    scenario_path_name,
)
from harness.scenario.reading import DocPath, ReadingError, YamlLimitError, duplicate_keys, parse_yaml, read_text

logger = logging.getLogger(__name__)

SCENARIO_SUFFIXES = (".yaml", ".yml")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXAMPLE_ROLE = "arn:aws:iam::222222222222:role/DRSOrchestrationRole"
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}
#: Root-level errors that mean a oneOf/anyOf branch is not the one the author meant.
_MISMATCH_VALIDATORS = frozenset({"type", "enum", "const", "required", "additionalProperties"})
_ENUM_LISTING_LIMIT = 12
#: Parts of a very deep path shown in a YAML limit problem.
_SHOWN_PATH_PARTS = 8


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file.

    Attributes:
        file: The file as the user named it.
        path: Where inside the document, e.g. ``faults[2].effect.code``; empty for the whole file.
        reason: What is wrong, for people.
        line: The 1-based YAML line, when known.
    """

    file: str
    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        location = f"{self.file}:{self.path}" if self.path else self.file
        suffix = f" (line {self.line})" if self.line is not None else ""
        return f"{location}: {self.reason}{suffix}"


class ScenarioError(Exception):
    """Raised when any scenario file is invalid; ``problems`` lists everything found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems) or "invalid scenario")


def format_path(path: DocPath) -> str:
    """Render a document path for people: ``faults[2].effect.code``, ``latency.operations["drs:X"]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


# --------------------------------------------------------------------------------------------------------- YAML


def _yaml_error_problem(file: str, error: yaml.YAMLError) -> Problem:
    """A problem for a YAML error, with line and column when PyYAML knows them."""
    if isinstance(error, YamlLimitError):
        line = error.problem_mark.line + 1 if error.problem_mark is not None else None
        shown = format_path(error.path[:_SHOWN_PATH_PARTS]) + ("..." if len(error.path) > _SHOWN_PATH_PARTS else "")
        return Problem(file, shown, f"{error.reason}: refused before loading", line)
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        context = f" {error.context}" if error.context else ""
        reason = f"YAML syntax error at column {mark.column + 1}: {error.problem or error}{context}"
        return Problem(file, "", reason, mark.line + 1)
    return Problem(file, "", f"YAML error: {error}")


def _node_child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        matches = [key for key, value in node.value if isinstance(key, yaml.ScalarNode) and key.value == str(part)]
        values = [value for key, value in node.value if key in matches]
        return values[-1] if values else None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


def line_of(node: yaml.Node | None, path: DocPath) -> int | None:
    """The 1-based line of the deepest node along ``path`` (the closest known place), or ``None``."""
    if node is None:
        return None
    for part in path:
        child = _node_child(node, part)
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


# ------------------------------------------------------------------------------------------------------- schema


@cache
def load_schema() -> dict[str, Any]:
    """The scenario JSON Schema shipped with the package."""
    text = resources.files("harness.scenario").joinpath("schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = load_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _describe(value: Any) -> str:
    """A short description of a value for messages: its repr for scalars, its kind for containers."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _did_you_mean(word: Any, choices: Iterable[str]) -> str:
    """A hint naming the choice ``word`` most likely misspells: same letters, a part of it, or a close spelling."""
    text, options = str(word), sorted(choices)
    same_case = [choice for choice in options if choice.lower() == text.lower()]
    containing = sorted((c for c in options if len(text) >= 4 and text.lower() in c.lower()), key=len)
    close = same_case or containing or difflib.get_close_matches(text, options, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_reason(error: jsonschema.ValidationError) -> str:
    expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    wanted = " or ".join(_TYPE_NAMES.get(name, name) for name in expected)
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    reason = (
        f"{custom}, got {_describe(error.instance)}" if custom else f"must be {wanted}, got {_describe(error.instance)}"
    )
    number = isinstance(error.instance, int | float) and not isinstance(error.instance, bool)
    if "string" in expected and number and "quote" not in reason:
        reason += " (quote it in YAML)"
    return reason


def _enum_reason(error: jsonschema.ValidationError) -> str:
    choices = [str(choice) for choice in error.validator_value]
    custom = error.schema.get("errorMessage")
    hint = _did_you_mean(error.instance, choices) if isinstance(error.instance, str) else ""
    if custom:
        return f"{custom}, got {_describe(error.instance)}{hint}"
    if len(choices) <= _ENUM_LISTING_LIMIT:
        return f"must be one of {', '.join(choices)}; got {_describe(error.instance)}{hint}"
    return f"{_describe(error.instance)} is not an allowed value{hint}"


def _simple_reason(error: jsonschema.ValidationError) -> str:
    """Reasons for the keywords that need no look-around."""
    value, instance = error.validator_value, error.instance
    messages = {
        "minimum": lambda: f"must be >= {value}, got {_describe(instance)}",
        "maximum": lambda: f"must be <= {value}, got {_describe(instance)}",
        "exclusiveMinimum": lambda: f"must be > {value}, got {_describe(instance)}",
        "exclusiveMaximum": lambda: f"must be < {value}, got {_describe(instance)}",
        "minLength": lambda: "must not be empty" if value == 1 else f"must be at least {value} characters long",
        "maxLength": lambda: f"must be at most {value} characters long",
        "uniqueItems": lambda: "must not contain duplicates",
        "const": lambda: f"must be {value!r}, got {_describe(instance)}",
        "pattern": lambda: (
            f"{error.schema['patternErrorMessage']}, got {_describe(instance)}"
            if "patternErrorMessage" in error.schema
            else f"{_describe(instance)} does not match {value}"
        ),
    }
    maker = messages.get(str(error.validator))
    return maker() if maker else error.message


def _branch_errors(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError] | None:
    """For oneOf/anyOf: the errors of the only branch whose shape fits the value, or ``None`` when ambiguous."""
    branches: dict[int, list[jsonschema.ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(int(sub.schema_path[0]), []).append(sub)
    fitting = [
        errors
        for errors in branches.values()
        if not any(sub.validator in _MISMATCH_VALIDATORS and not sub.relative_path for sub in errors)
    ]
    return fitting[0] if len(fitting) == 1 else None


def _schema_error_problems(error: jsonschema.ValidationError) -> Iterator[tuple[DocPath, str]]:
    """Translate one jsonschema error into ``(path, reason)`` pairs people can act on."""
    path: DocPath = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and error.validator_value is False:
        allowed = list(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        for key in error.instance:
            if key not in allowed and not any(re.search(pattern, str(key)) for pattern in patterns):
                yield path + (key,), f"unknown key {str(key)!r}{_did_you_mean(key, allowed)}"
    elif error.validator == "required":
        for key in error.validator_value:
            if isinstance(error.instance, dict) and key not in error.instance:
                yield path, f"missing required key {key!r}"
    elif error.validator in ("oneOf", "anyOf"):
        chosen = _branch_errors(error)
        if chosen is None:
            yield path, f"{schema.get('errorMessage', error.message)}, got {_describe(error.instance)}"
        for sub in chosen or []:
            yield from _schema_error_problems(sub)
    elif error.validator == "type":
        yield path, _type_reason(error)
    elif error.validator == "enum":
        yield path, _enum_reason(error)
    else:
        yield path, _simple_reason(error)


def schema_problems(doc: Any) -> list[tuple[DocPath, str]]:
    """Every JSON Schema violation of ``doc`` as ``(path, reason)``, in document order."""
    found: list[tuple[DocPath, str]] = []
    for error in _validator().iter_errors(doc):
        found.extend(_schema_error_problems(error))
    return found


# ------------------------------------------------------------------------------------------------- botocore model


@cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def operation_names(service: str) -> frozenset[str]:
    """The API operations botocore knows for ``service``."""
    return frozenset(_botocore_session().get_service_model(service).operation_names)


@cache
def source_server_shape() -> Shape:
    """botocore's DRS ``SourceServer`` shape (the members of ``DescribeSourceServers``'s ``items``)."""
    output = _botocore_session().get_service_model("drs").operation_model("DescribeSourceServers").output_shape
    return output.members["items"].member


_SCALAR_CHECKS: dict[str, tuple[str, Any]] = {
    "string": ("a string", lambda v: isinstance(v, str)),
    "integer": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "long": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "double": ("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    "float": ("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    "boolean": ("true or false", lambda v: isinstance(v, bool)),
    "timestamp": ("a timestamp string", lambda v: isinstance(v, str | int | float) and not isinstance(v, bool)),
    "blob": ("a string", lambda v: isinstance(v, str)),
}


def _container_problems(value: Any, shape: Shape, path: DocPath, allow_null: bool) -> Iterator[tuple[DocPath, str]]:
    if shape.type_name == "structure":
        if not isinstance(value, dict):
            yield path, f"must be a mapping ({shape.name}), got {_describe(value)}"
            return
        for key, sub in value.items():
            member = shape.members.get(key)
            if member is None:
                hint = _did_you_mean(key, shape.members)
                yield path + (key,), f"unknown key {str(key)!r}: not a member of DRS {shape.name}{hint}"
            else:
                yield from shape_problems(sub, member, path + (key,), allow_null)
    elif shape.type_name == "list":
        if not isinstance(value, list):
            yield path, f"must be a list ({shape.name}), got {_describe(value)}"
            return
        for index, item in enumerate(value):
            yield from shape_problems(item, shape.member, path + (index,), allow_null=False)
    elif not isinstance(value, dict):
        yield path, f"must be a mapping ({shape.name}), got {_describe(value)}"
    else:
        for key, item in value.items():
            yield from shape_problems(item, shape.value, path + (key,), allow_null=False)


def shape_problems(value: Any, shape: Shape, path: DocPath = (), allow_null: bool = False) -> Iterator:
    """Yield ``(path, reason)`` wherever ``value`` leaves botocore's ``shape``: unknown members, types, enums.

    Args:
        value: The data to check.
        shape: The botocore shape it must fit.
        path: Where ``value`` sits in its document, to prefix reported paths.
        allow_null: Accept ``null`` for ``value`` and for structure members below it (not inside lists or maps):
            a partial object's way of removing a generated key (see :func:`harness.world.generate.deep_merge`).

    Lengths and patterns are not checked, so a scenario can still describe odd but parseable answers (an empty arn).
    """
    if value is None:
        if not allow_null:
            yield path, "must not be null here"
        return
    if shape.type_name in ("structure", "list", "map"):
        yield from _container_problems(value, shape, path, allow_null)
        return
    label, check = _SCALAR_CHECKS.get(shape.type_name, ("a value", lambda _v: True))
    if not check(value):
        yield path, f"must be {label} ({shape.name}), got {_describe(value)}"
    elif getattr(shape, "enum", None) and value not in shape.enum:
        yield path, f"must be one of {', '.join(shape.enum)}; got {value!r}{_did_you_mean(value, shape.enum)}"


def source_server_problems(server: Any, partial: bool = False, path: DocPath = ()) -> list[tuple[DocPath, str]]:
    """Where a DRS source server leaves botocore's ``SourceServer`` shape.

    Args:
        server: A whole server (as the DRS fake would emit it) or, with ``partial``, a scenario's partial object.
        partial: Accept ``null`` members (they remove generated keys when merged).
        path: Prefix for the reported paths.
    """
    return list(shape_problems(server, source_server_shape(), path, allow_null=partial))


# ---------------------------------------------------------------------------------------------- semantic rules


def _entries(doc: Any, *keys: str) -> list[tuple[int, dict[str, Any]]]:
    """The mapping entries of the list at ``doc[keys...]`` with their indexes (anything malformed is skipped)."""
    value = doc
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


def _duplicates(entries: Iterable[tuple[DocPath, Any]], what: str) -> Iterator[tuple[DocPath, str]]:
    """Yield a problem for every entry whose key was already seen."""
    first: dict[Any, DocPath] = {}
    for path, key in entries:
        if key is None:
            continue
        if key in first:
            yield path, f"duplicate {what} {key!r} (also at {format_path(first[key])})"
        else:
            first[key] = path


def _check_keys(value: Any, path: DocPath = ()) -> Iterator[tuple[DocPath, str]]:
    """Mapping keys must be strings: YAML turns ``1:`` or ``yes:`` into numbers and booleans."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                yield path + (str(key),), f"key {_describe(key)} must be a string (quote it in YAML)"
            yield from _check_keys(item, path + (str(key),))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _check_keys(item, path + (index,))


def _check_header(doc: dict[str, Any], expected_name: str | None) -> Iterator[tuple[DocPath, str]]:
    name = doc.get("name")
    if expected_name is not None and isinstance(name, str) and name != expected_name:
        yield ("name",), f"name {name!r} must equal the file name without extension, {expected_name!r}"
    expect = doc.get("expect")
    if isinstance(expect, dict) and "statusCode" in expect and "raises" in expect:
        yield ("expect", "raises"), "expect.statusCode and expect.raises are exclusive (a raising handler returns none)"


def _check_effect(effect: Any, service: str, operation: Any, path: DocPath) -> Iterator[tuple[DocPath, str]]:
    """Rules for one fault effect of ``service`` (``operation`` may be ``None``: any operation)."""
    if not isinstance(effect, dict):
        return
    kind = effect.get("kind", "error")
    code = effect.get("code")
    if kind == "error" and isinstance(code, str):
        known = known_error_codes(service)
        # A code outside the catalogue needs nothing from it when the fault states its own status and message.
        if code not in known and not ("status" in effect and "message" in effect):
            hint = _did_you_mean(code, known)
            yield (
                path + ("code",),
                f"unknown error code {code!r} for {service}{hint}; known: {', '.join(sorted(known))} (or give status "
                "and message)",
            )
    if kind != "error":
        for key in ("code", "status") if kind == "credentials" else ("code", "message", "status"):
            if key in effect:
                yield path + (key,), f"{key} only applies to kind error, not {kind}"
    if kind != "unprocessed" and "count" in effect:
        yield path + ("count",), f"count only applies to kind unprocessed, not {kind}"
    if kind == "unprocessed" and (service, operation) != ("dynamodb", "BatchWriteItem"):
        yield path + ("kind",), "unprocessed only applies to service dynamodb, operation BatchWriteItem"


#: The only keys a ``{"@dynamodb": {...}}`` wire-form attribute value may hold (one of them).
DYNAMODB_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
DYNAMODB_MARKER = "@dynamodb"


def _check_attribute_values(value: Any, path: DocPath) -> Iterator[tuple[DocPath, str]]:
    """Every ``{"@dynamodb": ...}`` value below ``value`` must hold exactly one DynamoDB wire-form type."""
    if isinstance(value, dict) and DYNAMODB_MARKER in value:
        wire = value[DYNAMODB_MARKER]
        if len(value) != 1 or not isinstance(wire, dict) or len(wire) != 1 or next(iter(wire)) not in DYNAMODB_TYPES:
            yield (
                path + (DYNAMODB_MARKER,),
                f"must be the only key, holding one DynamoDB attribute value such as {{SS: [a, b]}} (types: "
                f"{', '.join(sorted(DYNAMODB_TYPES))})",
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _check_attribute_values(item, path + (str(key),))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _check_attribute_values(item, path + (index,))


def _check_row_attributes(row: dict[str, Any], path: DocPath) -> Iterator[tuple[DocPath, str]]:
    """A row's ``attributes`` must not repeat its typed keys; its values must be well-formed."""
    extra = row.get("attributes")
    if not isinstance(extra, dict):
        return
    for key in extra:
        if key in row and key != "attributes":
            yield path + ("attributes", key), f"{key!r} is also a typed key of this row; give it once"
    yield from _check_attribute_values(extra, path + ("attributes",))


def _check_accounts(doc: dict[str, Any]) -> Iterator[tuple[DocPath, str]]:
    accounts = _entries(doc, "accounts")
    keyed = [(("accounts", index, "accountId"), account.get("accountId")) for index, account in accounts]
    yield from _duplicates(keyed, "account id")
    for index, account in accounts:
        effect = account.get("assumeRole")
        yield from _check_effect(effect, "sts", "AssumeRole", ("accounts", index, "assumeRole"))
        yield from _check_row_attributes(account, ("accounts", index))
        role_arn = account.get("roleArn")
        if "role" in account and not (isinstance(role_arn, str) and role_arn):
            yield (
                ("accounts", index, "role"),
                "role describes the role roleArn names, and this row names none (declare a role no row names under "
                "the top-level roles)",
            )


def _check_roles(doc: dict[str, Any]) -> Iterator[tuple[DocPath, str]]:
    """A role's trust is declared once: on the row naming it or under ``roles``."""
    declared = [
        (("accounts", index, "role"), account.get("roleArn"))
        for index, account in _entries(doc, "accounts")
        if isinstance(account.get("role"), dict)
    ]
    declared += [(("roles", index, "arn"), role.get("arn")) for index, role in _entries(doc, "roles")]
    yield from _duplicates(declared, "role")
    seen: set[str] = set()
    named: list[tuple[DocPath, tuple[str, str]]] = []
    for path, arn in declared:
        if not (isinstance(arn, str) and ROLE_ARN.match(arn)):
            if path[0] == "accounts" and isinstance(arn, str) and arn:  # roles[].arn: the schema's pattern
                yield path, f"role describes an IAM role: roleArn must look like {_EXAMPLE_ROLE}, not {arn!r}"
        elif arn not in seen:
            seen.add(arn)
            named.append((path, (arn.split(":")[4], arn.rsplit("/", 1)[1].lower())))
    # The world creates each declared role in IAM, where a role name is unique in its account whatever its path.
    yield from _duplicates(named, "role name in one account (IAM role names are unique in an account, paths aside)")


def _check_invocations(doc: dict[str, Any]) -> Iterator[tuple[DocPath, str]]:
    invocations = doc.get("invocations", 1)
    if not isinstance(invocations, int):
        return
    if "secondsBetweenInvocations" in doc and invocations == 1:
        yield ("secondsBetweenInvocations",), "secondsBetweenInvocations only applies with invocations > 1"
    for index, fault in _entries(doc, "faults"):
        number = fault.get("invocation")
        if isinstance(number, int) and number > invocations:
            yield (
                ("faults", index, "invocation"),
                f"invocation {number} never happens: the scenario has {invocations} invocation(s)",
            )


def _check_entry(doc: dict[str, Any]) -> Iterator[tuple[DocPath, str]]:
    environment = doc.get("environment")
    if isinstance(environment, dict) and FEATURE_FLAG_VARIABLE in environment:
        yield (
            ("environment", FEATURE_FLAG_VARIABLE),
            "set the feature flag with entry: {via: lambda_handler, flag: ...}: it only matters through the Lambda "
            "entry point",
        )
    entry = doc.get("entry")
    if not isinstance(entry, dict):
        return
    if entry.get("via") != VIA_LAMBDA_HANDLER:
        for key in ("flag", "event"):
            if key in entry:
                yield ("entry", key), f"{key} only applies to via: lambda_handler"
        return
    event = entry.get("event")
    if isinstance(event, dict) and event.get("operation") != SYNC_OPERATION:
        yield (
            ("entry", "event", "operation"),
            f"the event must name operation {SYNC_OPERATION!r}: the baseline is production's entry point today, "
            "which routes only that operation to the sync (other operations have no baseline to compare with)",
        )


def _check_tables(doc: dict[str, Any]) -> Iterator[tuple[DocPath, str]]:
    rows = _entries(doc, "tables", "regionStatus")
    keyed = [(("tables", "regionStatus", index, "region"), row.get("region")) for index, row in rows]
    yield from _duplicates(keyed, "region-status row for")
    for index, row in rows:
        yield from _check_row_attributes(row, ("tables", "regionStatus", index))
    stale = _entries(doc, "tables", "inventory")
    keys = [
        (("tables", "inventory", index), f"{row.get('sourceServerArn')} / {row.get('stagingAccountId')}")
        for index, row in stale
    ]
    yield from _duplicates(keys, "inventory key (sourceServerArn / stagingAccountId)")
    for index, row in stale:
        yield from _check_attribute_values(row, ("tables", "inventory", index))


def _check_servers(doc: dict[str, Any]) -> Iterator[tuple[DocPath, str]]:
    for index, group in _entries(doc, "servers"):
        captured = group.get("generate") is False
        if captured and group.get("count"):
            yield ("servers", index, "count"), "a group with generate: false holds its servers as items only"
        for item_index, item in _entries(group, "items"):
            path: DocPath = ("servers", index, "items", item_index)
            if captured and "ec2" in item:
                yield path + ("ec2",), "ec2 options do not apply with generate: false (give instances instead)"
            drs = item.get("drs")
            if isinstance(drs, dict):
                yield from source_server_problems(drs, partial=not captured, path=path + ("drs",))


def _check_instances(doc: dict[str, Any]) -> Iterator[tuple[DocPath, str]]:
    entries = _entries(doc, "instances")
    keyed = [
        (("instances", index), f"{item.get('instanceId')} in {item.get('account')}/{item.get('region')}")
        for index, item in entries
    ]
    yield from _duplicates(keyed, "instance")


def _check_operation(service: str, operation: Any, path: DocPath) -> Iterator[tuple[DocPath, str]]:
    if isinstance(operation, str) and operation not in operation_names(service):
        yield path, f"unknown operation {operation!r} for {service}{_did_you_mean(operation, operation_names(service))}"


def _check_fault(fault: dict[str, Any], path: DocPath) -> Iterator[tuple[DocPath, str]]:
    service = fault.get("service")
    if service not in SERVICES:
        return
    operation = fault.get("operation")
    yield from _check_operation(service, operation, path + ("operation",))
    yield from _check_effect(fault.get("effect"), service, operation, path + ("effect",))
    when = fault.get("when")
    effect = fault.get("effect")
    if isinstance(effect, dict) and effect.get("kind") == "unprocessed" and when in (None, "always"):
        yield (
            path + ("when",),
            "an unprocessed fault needs when: once, {first: N} or {call: N}: boto3's batch_writer resends until every "
            "item is processed, so holding items back on every call never ends",
        )
    if isinstance(when, dict) and "page" in when and (service, operation) != ("drs", "DescribeSourceServers"):
        yield path + ("when", "page"), "the page trigger only applies to service drs, operation DescribeSourceServers"
    if "table" in fault and service != "dynamodb":
        yield path + ("table",), f"table only applies to service dynamodb, not {service}"
    for key in ("roleAccount", "sessionName"):
        if key in fault and service != "sts":
            yield path + (key,), f"{key} only applies to service sts, not {service}"


def _check_faults(doc: dict[str, Any]) -> Iterator[tuple[DocPath, str]]:
    for index, fault in _entries(doc, "faults"):
        yield from _check_fault(fault, ("faults", index))


def _check_latency(doc: dict[str, Any]) -> Iterator[tuple[DocPath, str]]:
    latency = doc.get("latency")
    operations = latency.get("operations") if isinstance(latency, dict) else None
    if not isinstance(operations, dict):
        return
    for key in operations:
        service, _, operation = str(key).partition(":")
        if service in SERVICES and operation:
            yield from _check_operation(service, operation, ("latency", "operations", key))


def semantic_problems(
    doc: dict[str, Any],
    expected_name: str | None = None,
    limits: Limits | None = None,
    approval_ids: Collection[str] | None = None,
) -> list[tuple[DocPath, str]]:
    """The rules JSON Schema cannot express, as ``(path, reason)``. Safe on documents that fail the schema.

    Args:
        doc: The parsed document (a mapping).
        expected_name: The name the document must declare (its file stem), or ``None`` for in-memory documents.
        limits: The limits in force (default: :meth:`Limits.from_environment`).
        approval_ids: The declared approval ids the scenario may reference; ``None`` skips the check.
    """
    checks = (
        _check_keys,
        _check_accounts,
        _check_roles,
        _check_tables,
        _check_servers,
        _check_instances,
        _check_faults,
        _check_latency,
        _check_invocations,
        _check_entry,
    )
    found = list(_check_header(doc, expected_name))
    for check in checks:
        found.extend(check(doc))
    found.extend(buildable_problems(doc, limits or Limits.from_environment()))
    if approval_ids is not None:
        found.extend(reference_problems(doc, approval_ids))
    return found


# ------------------------------------------------------------------------------------------------------ loading


def _document_order(doc: Any, path: DocPath) -> tuple[int, ...]:
    """Where ``path`` comes in ``doc`` when read top to bottom (keys in written order), for sorting problems."""
    position: list[int] = []
    for part in path:
        if isinstance(doc, dict):
            keys = list(doc)
            position.append(keys.index(part) if part in keys else len(keys))
            doc = doc.get(part)
        elif isinstance(doc, list) and isinstance(part, int):
            position.append(part)
            doc = doc[part] if 0 <= part < len(doc) else None
        else:
            break
    return tuple(position)


def check_document(
    doc: Any,
    file: str = "<memory>",
    expected_name: str | None = None,
    node: yaml.Node | None = None,
    *,
    limits: Limits | None = None,
    approval_ids: Collection[str] | None = None,
) -> list[Problem]:
    """Every problem of one parsed document (schema and semantic rules), deduplicated and in document order.

    Args:
        doc: The parsed YAML (or any JSON-like data built in memory).
        file: Where it came from, for messages.
        expected_name: The name it must declare, for files: the file stem.
        node: The YAML node tree, to attach line numbers.
        limits: The limits in force (default: :meth:`Limits.from_environment`).
        approval_ids: The declared approval ids the scenario may reference; ``None`` skips the check.
    """
    if not isinstance(doc, dict):
        return [
            Problem(file, "", f"a scenario must be a mapping at the top level, got {_describe(doc)}", line_of(node, ()))
        ]
    found = schema_problems(doc) + semantic_problems(doc, expected_name, limits, approval_ids)
    ordered: dict[Problem, tuple[int, ...]] = {}
    for path, reason in found:
        problem = Problem(file, format_path(path), reason, line_of(node, path) if path else None)
        ordered.setdefault(problem, _document_order(doc, path))
    return sorted(ordered, key=ordered.__getitem__)


def document_scenario(doc: Any, source: str = "<memory>") -> Scenario:
    """Validate an in-memory document and build its scenario (for generated scenarios, fuzzing and tests).

    Raises:
        ScenarioError: When the document is invalid.
    """
    problems = check_document(doc, source)
    if problems:
        raise ScenarioError(problems)
    return scenario_from_dict(doc, source=source)


@dataclass(frozen=True)
class LoadOptions:
    """What loading files checks besides each file's own content.

    Attributes:
        limits: Size, server and YAML limits (default: :meth:`Limits.from_environment`).
        approval_ids: The declared approval ids scenarios may reference; ``None`` skips the check.
    """

    limits: Limits | None = None
    approval_ids: Collection[str] | None = None


def _load_file(path: Path, options: LoadOptions) -> tuple[Scenario | None, list[Problem]]:
    """Read, parse, validate and build one file; exactly one of the results is meaningful."""
    file = str(path)
    limits = options.limits or Limits.from_environment()
    try:
        doc, node = parse_yaml(read_text(path, limits))
    except ReadingError as error:
        return None, [Problem(file, "", str(error))]
    except yaml.YAMLError as error:
        return None, [_yaml_error_problem(file, error)]
    duplicates = [Problem(file, format_path(p), reason, line_of(node, p)) for p, reason in duplicate_keys(node)]
    if doc is None:
        return None, duplicates + [Problem(file, "", "the file is empty; a scenario is a mapping with at least a name")]
    expected = scenario_path_name(path)
    problems = duplicates + check_document(doc, file, expected, node, limits=limits, approval_ids=options.approval_ids)
    if problems:
        return None, problems
    logger.debug("scenario %s is valid", file)
    return scenario_from_dict(doc, source=file), []


def _directory_files(path: Path) -> tuple[list[Path], Problem | None]:
    """The scenario files of a directory, sorted: every entry with a scenario suffix counts, so a FIFO, a directory
    or a broken link named ``*.yaml`` is refused by name rather than skipped in silence."""
    try:
        entries = sorted(path.iterdir())
    except OSError as error:
        return [], Problem(str(path), "", f"cannot list this directory: {error.strerror or error}")
    found = [p for p in entries if p.suffix in SCENARIO_SUFFIXES]
    if not found:
        return [], Problem(str(path), "", "no scenario files (*.yaml, *.yml) in this directory")
    return found, None


def _kind(path: Path) -> str | Problem:
    """``dir``, ``file`` (anything else that exists) or the problem of a path that cannot be looked at."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return Problem(str(path), "", "no such file or directory")
    except OSError as error:
        return Problem(str(path), "", f"cannot look at this path: {error.strerror or error}")
    return "dir" if stat.S_ISDIR(mode) else "file"


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """Files named by ``paths``: a directory stands for its ``*.yaml``/``*.yml`` files, sorted (not recursive).

    Returns:
        The files, each once and in order, and problems for missing, unreadable and empty paths.
    """
    files: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        kind = _kind(path)
        found: list[Path] = []
        if isinstance(kind, Problem):
            problems.append(kind)
        elif kind == "dir":
            found, problem = _directory_files(path)
            problems.extend([problem] if problem else [])
        else:
            found = [path]
        for file in found:
            key = Path(os.path.abspath(file))
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files, problems


def load_scenarios(paths: Iterable[str | Path], options: LoadOptions | None = None) -> list[Scenario]:
    """Load every scenario file named by ``paths`` (directories expand to their YAML files), all or nothing.

    Raises:
        ScenarioError: With every problem of every file, when any file or path is invalid.
    """
    options = options or LoadOptions()
    options = LoadOptions(options.limits or Limits.from_environment(), options.approval_ids)
    files, problems = expand_paths(paths)
    scenarios: list[Scenario] = []
    names: dict[str, str] = {}
    for file in files:
        scenario, file_problems = _load_file(file, options)
        problems.extend(file_problems)
        if scenario is None:
            continue
        if scenario.name in names:
            problems.append(
                Problem(str(file), "name", f"duplicate scenario name {scenario.name!r} (also {names[scenario.name]})")
            )
        names.setdefault(scenario.name, str(file))
        scenarios.append(scenario)
    if problems:
        raise ScenarioError(problems)
    return scenarios


def load_scenario(path: str | Path, options: LoadOptions | None = None) -> Scenario:
    """Load one scenario file.

    Raises:
        ScenarioError: When the file is missing or invalid.
    """
    scenario, problems = _load_file(Path(path), options or LoadOptions())
    if scenario is None:
        raise ScenarioError(problems)
    return scenario


def validate_paths(paths: Iterable[str | Path], options: LoadOptions | None = None) -> list[Problem]:
    """Every problem of the scenario files named by ``paths``; an empty list means all are valid."""
    try:
        load_scenarios(paths, options)
    except ScenarioError as error:
        return error.problems
    return []
