"""Records of the AWS calls the code under test makes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Operations that change state or identity; compared as multisets by the engine.
MUTATING_OPERATIONS = frozenset({"PutItem", "BatchWriteItem", "DeleteItem", "UpdateItem", "AssumeRole"})


@dataclass
class AwsCall:
    """One API call as the caller made it (retries of the same call are attempts, not new calls).

    Attributes:
        service: botocore service name (``drs``, ``sts``, ``ec2``, ``dynamodb``).
        operation: API operation name (``DescribeSourceServers``...).
        account: The account the request's credentials belong to.
        region: The region of the client that sent it.
        params: The API parameters exactly as the caller passed them (deep copy).
        table: For DynamoDB, the logical table name (``inventory``, ``targetAccounts``, ``regionStatus``) or the
            physical name when it is none of them; ``None`` otherwise.
        attempts: One outcome per HTTP attempt: ``"ok"``, ``"HTTP <status>"``, ``"malformed"`` (a fault answered a
            cut-off 200 body: nothing reached the service), or an exception class name.
        thread: Name of the thread that made the call (diagnostics only).
        held_back: Write requests of the last attempt a fault left unprocessed (they never reached the table).
        invocation: The Lambda invocation (from 1) the call belongs to, in a world invoked several times.
        access_key: The access key id the call was signed with (to name the caller, as STS does; never compared).
    """

    service: str
    operation: str
    account: str
    region: str
    params: dict[str, Any]
    table: str | None = None
    attempts: list[str] = field(default_factory=list)
    thread: str = ""
    held_back: int = 0
    invocation: int = 1
    access_key: str = field(default="", repr=False)

    @property
    def mutating(self) -> bool:
        """Whether the call changes state (or identity, for ``AssumeRole``)."""
        return self.operation in MUTATING_OPERATIONS

    @property
    def applied(self) -> bool:
        """Whether the service really answered the last attempt with success (a fault's cut-off body did not)."""
        return bool(self.attempts) and self.attempts[-1] == "ok"
