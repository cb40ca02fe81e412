"""Who we are: the account the Lambda runs in."""

import boto3


def get_current_account_id() -> str:
    """Ask STS which account the Lambda's own credentials belong to (every call asks again).

    Returns:
        The account id, or ``"unknown"`` when STS cannot be asked.
    """
    try:
        sts = boto3.client("sts")
        return sts.get_caller_identity()["Account"]
    except Exception as e:
        print(f"Error getting account ID: {e}")
        return "unknown"
