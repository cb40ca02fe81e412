"""DynamoDB attribute values: their wire form turned into Python values, and scenario values into their wire form."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

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


#: A scenario value ``{"@dynamodb": {"SS": [...]}}`` is one attribute value given in its wire form.
WIRE_MARKER = "@dynamodb"
_serializer = TypeSerializer()


def serialise_attribute(value: Any) -> dict[str, Any]:
    """A scenario row value as a wire-form ``AttributeValue``.

    Plain values go through boto3's serializer (a float becomes the exact decimal of its shortest repr); a mapping
    ``{"@dynamodb": {...}}`` is taken as the wire form itself, which is how a capture keeps what YAML cannot say
    (string, number and binary sets, binary values, numbers beyond a float's precision).
    """
    if isinstance(value, dict):
        if set(value) == {WIRE_MARKER}:
            return dict(value[WIRE_MARKER])
        return {"M": {key: serialise_attribute(item) for key, item in value.items()}}
    if isinstance(value, list):
        return {"L": [serialise_attribute(item) for item in value]}
    if isinstance(value, float):
        return {"N": str(Decimal(repr(value)))}
    return _serializer.serialize(value)
