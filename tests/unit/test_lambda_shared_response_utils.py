"""Unit tests of lambda_shared.response_utils (LB-2 response format)."""

import json
from decimal import Decimal

import pytest

from lambda_shared.response_utils import DecimalEncoder, response

EXPECTED_HEADERS = {
    "Content-Type": "application/json",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type,Authorization",
    "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def test_response_has_exactly_the_six_headers_and_a_json_body() -> None:
    result = response(201, {"a": 1, "b": [1, "x"]})
    assert set(result) == {"statusCode", "headers", "body"}
    assert result["statusCode"] == 201
    assert result["headers"] == EXPECTED_HEADERS
    assert json.loads(result["body"]) == {"a": 1, "b": [1, "x"]}


def test_response_headers_are_a_fresh_dict_per_response() -> None:
    first = response(200, {})
    first["headers"]["X-Frame-Options"] = "SAMEORIGIN"
    assert response(200, {})["headers"]["X-Frame-Options"] == "DENY"


def test_whole_decimals_become_ints_and_fractions_floats() -> None:
    body = json.loads(response(200, {"whole": Decimal("42"), "exp": Decimal("1E+2"), "frac": Decimal("2.5")})["body"])
    assert body == {"whole": 42, "exp": 100, "frac": 2.5}
    assert isinstance(body["whole"], int)
    assert isinstance(body["exp"], int)
    assert isinstance(body["frac"], float)


def test_nested_decimals_are_encoded() -> None:
    text = json.dumps({"rows": [{"n": Decimal("3")}, {"n": Decimal("0.25")}]}, cls=DecimalEncoder)
    assert text == '{"rows": [{"n": 3}, {"n": 0.25}]}'


def test_other_unserialisable_objects_still_raise_type_error() -> None:
    with pytest.raises(TypeError):
        response(200, {"when": object()})
