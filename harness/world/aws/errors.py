"""Injected AWS errors in each service's own wire format (the vocabulary is :mod:`harness.scenario.errors`).

Each service speaks its own wire protocol, so an injected error is rendered the way that service renders it: DRS is
rest-json (``x-amzn-ErrorType`` header), DynamoDB is json-1.0 (``__type`` in the body), STS is query/XML
(``ErrorResponse``) and EC2 is its own XML (``Response/Errors``). botocore then parses it into a ``ClientError``
exactly as it would parse the real thing.
"""

from __future__ import annotations

import json

_DYNAMODB_PREFIX = "com.amazonaws.dynamodb.v20120810#"
_REQUEST_ID = "00000000-0000-4000-8000-000000000000"


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_error(service: str, code: str, message: str) -> tuple[dict[str, str], bytes]:
    """Headers and body of an error response in ``service``'s own wire protocol."""
    if service == "drs":
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code, "x-amzn-RequestId": _REQUEST_ID}
        return headers, json.dumps({"message": message}).encode()
    if service == "dynamodb":
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": _REQUEST_ID}
        return headers, json.dumps({"__type": f"{_DYNAMODB_PREFIX}{code}", "message": message}).encode()
    if service == "ec2":
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Response><Errors><Error><Code>{_xml_escape(code)}</Code>"
            f"<Message>{_xml_escape(message)}</Message></Error></Errors><RequestID>{_REQUEST_ID}</RequestID></Response>"
        )
        return {"Content-Type": "text/xml"}, body.encode()
    body = (
        "<ErrorResponse xmlns='https://sts.amazonaws.com/doc/2011-06-15/'><Error><Type>Sender</Type>"
        f"<Code>{_xml_escape(code)}</Code><Message>{_xml_escape(message)}</Message></Error>"
        f"<RequestId>{_REQUEST_ID}</RequestId></ErrorResponse>"
    )
    return {"Content-Type": "text/xml"}, body.encode()


def render_malformed(service: str) -> tuple[dict[str, str], bytes]:
    """A 200 response whose body is cut off mid-document, in the service's content type."""
    if service in ("drs", "dynamodb"):
        return {"Content-Type": "application/json"}, b'{"items": [{"sourceServerID": "s-'
    return {"Content-Type": "text/xml"}, b"<?xml version='1.0' encoding='UTF-8'?><Response><reservationSet><item>"
