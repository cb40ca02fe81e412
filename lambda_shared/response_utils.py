"""API Gateway style responses, as the Lambda shared layer builds them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

#: The six headers every response carries (LB-2).
RESPONSE_HEADERS: dict[str, str] = {
    "Content-Type": "application/json",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type,Authorization",
    "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


class DecimalEncoder(json.JSONEncoder):
    """JSON encoder turning DynamoDB ``Decimal`` values into ``int`` when whole, else ``float``."""

    def default(self, o: Any) -> Any:
        """Encode a ``Decimal``; defer everything else to the base encoder.

        Args:
            o: The object the base encoder could not serialise.

        Returns:
            An ``int`` or ``float`` for a ``Decimal``.

        Raises:
            TypeError: For any other unserialisable object.
        """
        if isinstance(o, Decimal):
            return int(o) if o == o.to_integral_value() else float(o)
        return super().default(o)


def response(status_code: int, body: Any) -> dict[str, Any]:
    """Build a Lambda proxy response.

    Args:
        status_code: HTTP status code.
        body: JSON-serialisable body (Decimals allowed).

    Returns:
        ``{"statusCode", "headers", "body"}`` with the body serialised by :class:`DecimalEncoder`.
    """
    return {
        "statusCode": status_code,
        "headers": dict(RESPONSE_HEADERS),
        "body": json.dumps(body, cls=DecimalEncoder),
    }
