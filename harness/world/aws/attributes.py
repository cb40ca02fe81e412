"""DynamoDB attribute values in their wire form, turned into Python values."""

from __future__ import annotations

import base64
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

_deserializer = TypeDeserializer()


def deserialise_attributes(values: dict[str, Any]) -> dict[str, Any]:
    """A map of wire-form ``AttributeValue``s as Python values (``Decimal``, sets and bytes preserved).

    Binary values arrive base64-encoded on the wire (and in moto's storage), so they are decoded before boto3's
    deserializer, which expects raw bytes.
    """
    return {key: _deserialise(item) for key, item in values.items()}


def _deserialise(item: Any) -> Any:
    if isinstance(item, dict) and len(item) == 1 and "B" in item and isinstance(item["B"], str):
        return base64.b64decode(item["B"])
    if isinstance(item, dict) and len(item) == 1 and "BS" in item:
        return {base64.b64decode(member) for member in item["BS"]}
    return _deserializer.deserialize(item)
