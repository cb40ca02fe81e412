"""What a role's trust policy requires of ``AssumeRole``'s ``ExternalId``, as far as a replay world can hold it.

A scenario's role trust (``docs/scenario-format.md``, "Role trust and ExternalId") is one ExternalId a role accepts,
exactly: the ``"StringEquals": {"sts:ExternalId": X}`` condition. The capture reads each role's trust policy
(``iam:GetRole``) and keeps what fits that: every statement that allows ``sts:AssumeRole`` requires the same single
value with ``StringEquals``. A policy without an ``sts:ExternalId`` condition needs nothing recorded (the replay's role
trusts any caller, as this one does). Anything else (several values, another operator such as ``StringLike``, one
statement with the condition and another without, a ``Deny`` conditioned on the ExternalId) cannot be said in the
format: nothing is recorded and the capture warns, naming the role.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

#: The condition key (IAM compares condition keys case-insensitively).
EXTERNAL_ID_KEY = "sts:externalid"
#: The only condition operator the format can hold.
EXACT = "StringEquals"


@dataclass(frozen=True)
class TrustReading:
    """What a trust policy requires.

    Attributes:
        external_id: The one ExternalId every statement allowing ``sts:AssumeRole`` requires, else ``None``.
        problem: Why the policy's ExternalId condition cannot be recorded, else ``None``.
    """

    external_id: str | None = None
    problem: str | None = None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _policy(document: Any) -> dict[str, Any]:
    """The policy as a mapping (botocore decodes IAM's URL-encoded JSON; a raw answer may still hold the text)."""
    if isinstance(document, str):
        document = json.loads(unquote(document))
    return document if isinstance(document, dict) else {}


def _allows_assume_role(statement: dict[str, Any]) -> bool:
    if "NotAction" in statement:
        return not any(fnmatch.fnmatch("sts:assumerole", str(a).lower()) for a in _as_list(statement["NotAction"]))
    return any(fnmatch.fnmatch("sts:assumerole", str(action).lower()) for action in _as_list(statement.get("Action")))


def _external_id_conditions(statement: dict[str, Any]) -> list[tuple[str, Any]]:
    """(operator, value) of every ``sts:ExternalId`` condition of a statement."""
    conditions = statement.get("Condition")
    if not isinstance(conditions, dict):
        return []
    return [
        (str(operator), value)
        for operator, block in conditions.items()
        if isinstance(block, dict)
        for key, value in block.items()
        if str(key).lower() == EXTERNAL_ID_KEY
    ]


def _required(conditions: list[tuple[str, Any]]) -> str | None | TrustReading:
    """One statement's requirement: no condition (``None``), one exact value, or a :class:`TrustReading` problem."""
    if not conditions:
        return None
    if len(conditions) > 1:
        return TrustReading(problem=f"sts:ExternalId is conditioned {len(conditions)} times in one statement")
    operator, value = conditions[0]
    values = _as_list(value)
    if operator != EXACT:
        return TrustReading(problem=f"sts:ExternalId is conditioned with {operator}, not {EXACT}")
    if len(values) != 1 or not isinstance(values[0], str):
        return TrustReading(problem=f"sts:ExternalId accepts {len(values)} values, not one")
    return str(values[0])


def required_external_id(document: Any) -> TrustReading:
    """What a trust policy document (``Role.AssumeRolePolicyDocument``) requires of ``ExternalId``.

    Raises:
        ValueError: The document is text that is not JSON.
    """
    statements = [s for s in _as_list(_policy(document).get("Statement", [])) if isinstance(s, dict)]
    requirements: list[str | None] = []
    for statement in statements:
        conditions = _external_id_conditions(statement)
        if statement.get("Effect") != "Allow":
            if conditions:
                return TrustReading(problem="a Deny statement is conditioned on sts:ExternalId")
            continue
        if not _allows_assume_role(statement):
            continue
        required = _required(conditions)
        if isinstance(required, TrustReading):
            return required
        requirements.append(required)
    distinct = set(requirements)
    if len(distinct) > 1:
        kinds = "another ExternalId" if None not in distinct else "no ExternalId"
        return TrustReading(problem=f"one statement requires an ExternalId and another allows {kinds}")
    return TrustReading(external_id=next(iter(distinct), None))
