"""API Gateway style responses with the security headers every handler returns."""

import json
from decimal import Decimal
from typing import Any

CORS_HEADERS = {
    "Content-Type": "application/json",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type,Authorization",
    "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


class DecimalEncoder(json.JSONEncoder):
    """DynamoDB numbers come back as Decimal: whole ones become int, the others float."""

    def default(self, o: Any) -> Any:
        """Encode a Decimal; anything else unknown is an error, as usual."""
        if isinstance(o, Decimal):
            return int(o) if o % 1 == 0 else float(o)
        return super().default(o)


def response(status_code: int, body: Any) -> dict[str, Any]:
    """Build the Lambda proxy response.

    Args:
        status_code: HTTP status.
        body: Anything JSON-serialisable (Decimals allowed).

    Returns:
        ``{"statusCode", "headers", "body"}`` with the body as a JSON string.
    """
    return {"statusCode": status_code, "headers": dict(CORS_HEADERS), "body": json.dumps(body, cls=DecimalEncoder)}
