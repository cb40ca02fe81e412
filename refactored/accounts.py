"""The accounts to sync and the credentials to query each with (design functions 1 and 2).

Spec points: LB-3 step 3 (one un-paginated scan of the target-accounts table, every item an account, in scan
order), LB-4 (the identity check per account, ``AssumeRole`` only for another account naming a ``roleArn``, a failed
assumption skips the account). Approvals: AD-4 (an unset ``TARGET_ACCOUNTS_TABLE`` raises
``TableNotConfiguredError``, which the orchestrator answers with a 500 naming the variable).
"""

from __future__ import annotations

import logging
from typing import Any

from lambda_shared.cross_account import (
    StsClientFactory,
    assume_role_credentials,
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


def get_account_credentials(
    account: dict[str, Any], sts_client: StsClientFactory = new_sts_client
) -> dict[str, Any] | None:
    """Return the credentials to query an account with (LB-4).

    The current account is asked from STS on every call. A role is assumed (session ``inventory-sync``, 900 s,
    ``ExternalId`` only when truthy) when the account is not the current one and names a ``roleArn``; otherwise the
    Lambda's own credentials are used.

    Args:
        account: ``{"accountId", "roleArn", "externalId"}`` as :func:`collect_accounts_to_query` returns it.
        sts_client: Supplies the STS client (a new one per call by default).

    Returns:
        The STS ``Credentials``, or ``None`` for the Lambda's own credentials.

    Raises:
        RoleAssumptionError: The role could not be assumed; the caller skips the account.
    """
    account_id = account["accountId"]
    if account_id == get_current_account_id(sts_client) or not account.get("roleArn"):
        return None
    try:
        return assume_role_credentials(
            account["roleArn"], SYNC_SESSION_NAME, account.get("externalId") or None, sts_client=sts_client
        )
    except Exception as e:
        logger.warning(
            f"Cannot assume role for {account_id}: {e}",
            extra={"accountId": account_id, "operation": "get_account_credentials", "error": str(e)},
        )
        raise RoleAssumptionError(account_id, e) from e
