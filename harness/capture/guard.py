"""The capture's read-only proof: every client it creates refuses any operation not on an allow-list of reads.

The hook runs on botocore's ``before-call`` event, registered first, so a refused operation is never serialised,
signed or sent, and no other handler (a recorder, a stubber) sees it. ``AssumeRole`` is on the list: it creates
short-lived credentials for this capture and changes nothing in the estate (no resource, no policy, no data), which
is what "read-only" means here; the credentials are never written anywhere. ``GetRole`` reads an assumed role's
trust policy (its ``sts:ExternalId`` condition), with that role's own credentials.
"""

from __future__ import annotations

from typing import Any

#: The only operations the capture may call (service-agnostic names; each service uses a subset).
READ_OPERATIONS = frozenset(
    {
        "Scan",
        "GetItem",
        "Query",
        "DescribeTable",
        "DescribeSourceServers",
        "DescribeInstances",
        "GetCallerIdentity",
        "AssumeRole",
        "GetRole",
    }
)


class MutatingCallRefusedError(Exception):
    """The capture attempted an operation outside :data:`READ_OPERATIONS`; nothing was sent."""

    def __init__(self, service: str, operation: str) -> None:
        self.service = service
        self.operation = operation
        super().__init__(
            f"capture refused {service}:{operation}: the capture is read-only and may only call "
            f"{', '.join(sorted(READ_OPERATIONS))}; nothing was sent"
        )


def refuse_unlisted(model: Any, **_kwargs: Any) -> None:
    """``before-call`` hook: raise for any operation that is not a read of the allow-list.

    Raises:
        MutatingCallRefusedError: For every operation outside :data:`READ_OPERATIONS`.
    """
    if model.name not in READ_OPERATIONS:
        raise MutatingCallRefusedError(model.service_model.service_name, model.name)


def guarded(client: Any) -> Any:
    """Install the read-only hook on ``client`` (before any other ``before-call`` handler) and return it."""
    client.meta.events.register_first("before-call", refuse_unlisted, unique_id="harness-capture-read-only")
    return client
