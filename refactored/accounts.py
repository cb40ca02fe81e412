"""The accounts to sync and the credentials to query each with (design functions 1 and 2).

Spec points: LB-3 step 3 (one un-paginated scan of the target-accounts table, every item an account, in scan
order), LB-4 (the identity check per account, ``AssumeRole`` only for another account naming a ``roleArn``, a failed
assumption skips the account). Approvals: AD-4 (an unset ``TARGET_ACCOUNTS_TABLE`` raises
``TableNotConfiguredError``, which the orchestrator answers with a 500 naming the variable), AD-2 (the account the
credentials belong to, as STS says: :class:`AccountCredentials`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from lambda_shared.cross_account import (
    StsClientFactory,
    account_of_assumed_role,
    assume_role,
    get_current_account_id,
    new_sts_client,
)
from lambda_shared.dynamodb_tables import get_target_accounts_table

logger = logging.getLogger(__name__)

#: ``RoleSessionName`` of the per-account role assumption (LB-4).
SYNC_SESSION_NAME = "inventory-sync"


class RoleAssumptionError(Exception):
    """The account's role could not be assumed, so the account is skipped (LB-4).

    Attributes:
        account_id: The skipped account.
    """

    def __init__(self, account_id: str, cause: Exception) -> None:
        """Create the error.

        Args:
            account_id: The skipped account.
            cause: What STS or botocore raised.
        """
        super().__init__(f"Cannot assume role for {account_id}: {cause}")
        self.account_id = account_id


@dataclass(frozen=True)
class AccountCredentials:
    """The credentials to query an account with, and whose they are.

    Attributes:
        credentials: The STS ``Credentials`` of an assumed role, or ``None`` for the Lambda's own.
        identity: The account they belong to as STS said it: ``GetCallerIdentity`` for the Lambda's own credentials,
            ``AssumedRoleUser.Arn`` for an assumed role (never the target row's claim); ``None`` when STS did not say
            (the identity check failed, or the answer names no account).
    """

    credentials: dict[str, Any] | None
    identity: str | None


def collect_accounts_to_query() -> list[dict[str, Any]]:
    """Read the target accounts to sync: one ``scan()`` of the target-accounts table, in scan order.

    Like legacy, the scan is not paginated (accounts past the first 1 MB page are not synced) and every item is an
    account, including the Lambda's own.

    Returns:
        ``{"accountId", "roleArn", "externalId"}`` per item, absent fields as ``None``.

    Raises:
        TableNotConfiguredError: ``TARGET_ACCOUNTS_TABLE`` is unset.
        ClientError: The scan failed.
    """
    table = get_target_accounts_table()
    items = table.scan().get("Items", [])
    accounts = [
        {"accountId": item.get("accountId"), "roleArn": item.get("roleArn"), "externalId": item.get("externalId")}
        for item in items
    ]
    logger.info("Collected target accounts", extra={"accountCount": len(accounts)})
    return accounts


def resolve_account_credentials(
    account: dict[str, Any], sts_client: StsClientFactory = new_sts_client
) -> AccountCredentials:
    """The credentials to query an account with, and the account STS says they belong to (LB-4).

    The current account is asked from STS on every call. A role is assumed (session ``inventory-sync``, 900 s,
    ``ExternalId`` only when truthy) when the account is not the current one and names a ``roleArn``; otherwise the
    Lambda's own credentials are used, and they belong to the current account whatever account the row names.

    Args:
        account: ``{"accountId", "roleArn", "externalId"}`` as :func:`collect_accounts_to_query` returns it.
        sts_client: Supplies the STS client (a new one per call by default).

    Returns:
        The credentials (``None`` for the Lambda's own) and their account.

    Raises:
        RoleAssumptionError: The role could not be assumed; the caller skips the account.
    """
    account_id = account["accountId"]
    current = get_current_account_id(sts_client)
    if account_id == current or not account.get("roleArn"):
        return AccountCredentials(None, None if current == "unknown" else current)
    try:
        answer = assume_role(
            account["roleArn"], SYNC_SESSION_NAME, account.get("externalId") or None, sts_client=sts_client
        )
    except Exception as e:
        logger.warning(
            f"Cannot assume role for {account_id}: {e}",
            extra={"accountId": account_id, "operation": "get_account_credentials", "error": str(e)},
        )
        raise RoleAssumptionError(account_id, e) from e
    return AccountCredentials(answer["Credentials"], account_of_assumed_role(answer))


def get_account_credentials(
    account: dict[str, Any], sts_client: StsClientFactory = new_sts_client
) -> dict[str, Any] | None:
    """Return the credentials to query an account with (LB-4; the design's function, see
    :func:`resolve_account_credentials`, which also says whose they are).

    Args:
        account: ``{"accountId", "roleArn", "externalId"}`` as :func:`collect_accounts_to_query` returns it.
        sts_client: Supplies the STS client (a new one per call by default).

    Returns:
        The STS ``Credentials``, or ``None`` for the Lambda's own credentials.

    Raises:
        RoleAssumptionError: The role could not be assumed; the caller skips the account.
    """
    return resolve_account_credentials(account, sts_client).credentials
