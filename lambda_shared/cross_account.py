"""Account identity, role assumption and the DRS/EC2 client construction production uses.

Clients are built exactly the way the legacy inventory sync builds them (``boto3.client`` on the default session,
a botocore ``Config`` from :func:`aws_client_config`, explicit credential keyword arguments only when credentials
are given), so code using these helpers makes the same AWS calls as legacy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config


def aws_client_config() -> Config:
    """The timeouts and retry setting production uses for DRS and EC2, as a new ``Config`` for each client.

    A fresh object per client, as legacy builds it inline: botocore rewrites the ``retries`` dict of the ``Config``
    it is given (``max_attempts: 1`` becomes ``total_max_attempts: 2`` and a mode), so one shared instance would
    not keep the value it was declared with. Note: botocore reads ``max_attempts`` as the number of *retries*:
    ``max_attempts: 1`` is one retry (two attempts, in the default "standard" retry mode), not "no retry".
    """
    return Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})


#: Default lifetime of assumed-role credentials, in seconds.
DEFAULT_DURATION_SECONDS = 900

#: Something that returns an STS client when called: a new one each time, or one kept for reuse.
StsClientFactory = Callable[[], Any]


def new_sts_client() -> Any:
    """A new STS client on the default session, as legacy builds one for every identity check and role assumption."""
    return boto3.client("sts")


def get_current_account_id(sts_client: StsClientFactory = new_sts_client) -> str:
    """Return the account the Lambda runs in, asking STS ``GetCallerIdentity`` on every call.

    Args:
        sts_client: Supplies the STS client; it is called inside the error handling, so a client that cannot be
            built counts as a failed call. The default builds a new client per call, as legacy does.

    Returns:
        The 12-digit account id, or ``"unknown"`` when the call fails (the error is printed, as production does).
    """
    try:
        return str(sts_client().get_caller_identity()["Account"])
    except Exception as e:
        print(f"Error getting account ID: {e}")
        return "unknown"


def assume_role(
    role_arn: str,
    session_name: str,
    external_id: str | None = None,
    duration_seconds: int = DEFAULT_DURATION_SECONDS,
    sts_client: StsClientFactory = new_sts_client,
) -> dict[str, Any]:
    """Assume a role with STS ``AssumeRole`` and return STS's whole answer.

    Args:
        role_arn: The role to assume.
        session_name: ``RoleSessionName``.
        external_id: ``ExternalId``; sent only when truthy.
        duration_seconds: ``DurationSeconds``.
        sts_client: Supplies the STS client (by default a new one per call, as legacy builds it).

    Returns:
        The ``AssumeRole`` response: ``Credentials`` and ``AssumedRoleUser`` (whose ``Arn`` names the account the
        credentials belong to, as STS says, whatever the caller asked for).

    Raises:
        Exception: Whatever STS or botocore raises; nothing is swallowed.
    """
    params: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "DurationSeconds": duration_seconds,
    }
    if external_id:
        params["ExternalId"] = external_id
    return sts_client().assume_role(**params)


def assume_role_credentials(
    role_arn: str,
    session_name: str,
    external_id: str | None = None,
    duration_seconds: int = DEFAULT_DURATION_SECONDS,
    sts_client: StsClientFactory = new_sts_client,
) -> dict[str, Any]:
    """Assume a role with STS ``AssumeRole`` (see :func:`assume_role`) and return only its credentials.

    Returns:
        The STS ``Credentials`` dict (``AccessKeyId``, ``SecretAccessKey``, ``SessionToken``, ``Expiration``).

    Raises:
        Exception: Whatever STS or botocore raises; nothing is swallowed.
    """
    return assume_role(role_arn, session_name, external_id, duration_seconds, sts_client)["Credentials"]


def account_of_assumed_role(answer: dict[str, Any]) -> str | None:
    """The account an ``AssumeRole`` answer's credentials belong to, read from STS's ``AssumedRoleUser.Arn``
    (``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``); ``None`` when the answer does not say."""
    arn = answer.get("AssumedRoleUser", {}).get("Arn")
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) < 6 or parts[0] != "arn" or parts[2] != "sts" or not parts[5].startswith("assumed-role/"):
        return None
    return parts[4] if len(parts[4]) == 12 and parts[4].isdigit() else None


def get_cross_account_session(role_arn: str, session_name: str, external_id: str | None = None) -> boto3.Session:
    """Assume a role and wrap its credentials in a boto3 session.

    Args:
        role_arn: The role to assume.
        session_name: ``RoleSessionName``.
        external_id: ``ExternalId``; sent only when truthy.

    Returns:
        A session using the assumed-role credentials.

    Raises:
        Exception: Whatever the role assumption raises.
    """
    credentials = assume_role_credentials(role_arn, session_name, external_id)
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def _create_client(service: str, region: str, credentials: dict[str, Any] | None) -> Any:
    if credentials:
        return boto3.client(
            service,
            region_name=region,
            config=aws_client_config(),
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    return boto3.client(service, region_name=region, config=aws_client_config())


def create_drs_client(region: str, credentials: dict[str, Any] | None = None) -> Any:
    """Build a DRS client for a region.

    Args:
        region: Region name.
        credentials: STS ``Credentials``; ``None`` (or empty) uses the Lambda's own credentials.

    Returns:
        A botocore DRS client with :func:`aws_client_config`.
    """
    return _create_client("drs", region, credentials)


def create_ec2_client(region: str, credentials: dict[str, Any] | None = None) -> Any:
    """Build an EC2 client for a region.

    Args:
        region: Region name.
        credentials: STS ``Credentials``; ``None`` (or empty) uses the Lambda's own credentials.

    Returns:
        A botocore EC2 client with :func:`aws_client_config`.
    """
    return _create_client("ec2", region, credentials)
