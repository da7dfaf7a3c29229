"""The API's field types (intake/fields.py): what the OpenAPI document allows is what the API
accepts, value by value, read by the JSON Schema validator schemathesis uses (jsonschema_rs)."""

from typing import Annotated

import jsonschema_rs
import pytest
from pydantic import TypeAdapter, ValidationError

from intake.api import AddressIn, CancelIn, CustomerIn, LineIn, OrderIn, PaymentIn, api
from intake.fields import WHITESPACE

DOCUMENT = api.get_openapi_schema()


def published(model, field: str) -> dict:
    """The field's schema as /api/v1/openapi.json publishes it."""
    schemas = DOCUMENT["components"]["schemas"]
    return schemas[model.__name__]["properties"][field] if model.__name__ in schemas else None


def accepted(model, field: str, value) -> bool:
    """Whether the API takes this value for the field (its type with every constraint)."""
    info = model.model_fields[field]
    try:
        annotation = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        TypeAdapter(annotation).validate_python(value)
    except ValidationError:
        return False
    return True


CASES = [
    (
        LineIn,
        "unit_price",
        [
            "",
            "25",
            "25.00",
            "25.000",
            "0025.5",
            "5.",
            ".5",
            " 5",
            "+5",
            "1e2",
            "-0",
            "1.005",
            "123456789",
            "99999999.99",
            25,
            25.5,
            25.555,
            0.07,
            -1,
            1e9,
            True,
            None,
            "NaN",
        ],
    ),
    (LineIn, "quantity", [1, 2.0, 2.5, "2", True, 0, 100_000, 100_001, None]),
    (LineIn, "sku", ["A", " A ", "", " ", "\u3000", "\x1c", "a\x00b", "x" * 64, "x" * 65]),
    (CancelIn, "reason", ["", "changed mind", "nul\x00", "x" * 255, "x" * 256, 5, None]),
    (AddressIn, "country", ["US", "us", "USA", "U", "US\n", " US", "1A", ""]),
    (OrderIn, "currency", ["USD", "usd", "US", "USD\n", "€UR"]),
    (OrderIn, "external_id", ["WEB-1", " WEB-1", "", "  ", "a\u00a0", "\u00a0", "x" * 100, "x" * 101]),
    (
        CustomerIn,
        "email",
        [
            "ada@example.com",
            "ADA@Example.COM",
            "o'neil+tag@mail.example.co.uk",
            "ada@example.c",
            "ada@example",
            "a@b@c.com",
            " ada@example.com",
            "ada@exa mple.com",
            "ada@xn--bcher-kva.de",
            "ada@bücher.de",
            "ada@-x.com",
            "a..b@x.com",
            "ä@x.com",
        ],
    ),
    (PaymentIn, "amount", [None, "10.00", 10, "", "ten"]),
    (
        OrderIn,
        "placed_at",
        [
            None,
            "2026-03-01T10:00:00Z",
            "2026-03-01T10:00:00",
            "2026-03-01 10:00",
            "2026-03-01t10:00:00z",
            "2026-03-01T10:00:00.123456+05:30",
            "2026-02-29T10:00:00Z",
            "2024-02-29T10:00:00Z",
            "2026-04-31T10:00:00Z",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:00:00+23:59",
            "2100-01-01T00:00:00Z",
            "2026-03-01",
            1700000000,
            "2026-03-01T24:00:00Z",
            "2026-03-01T10:00:60Z",
            "2026-03-01T10:00:00Z\n",
        ],
    ),
]


@pytest.mark.parametrize(
    "model, field, value",
    [(model, field, value) for model, field, values in CASES for value in values],
    ids=lambda v: repr(v)[:30] if not isinstance(v, type) else v.__name__,
)
def test_the_document_allows_exactly_what_the_api_accepts(model, field, value):
    schema = published(model, field)
    if schema is None:  # CancelIn is published inline, in the cancel operation's requestBody
        body = DOCUMENT["paths"]["/api/v1/orders/{number}/cancel"]["post"]["requestBody"]
        schema = body["content"]["application/json"]["schema"]["properties"][field]
    validator = jsonschema_rs.validator_for({**schema, "components": DOCUMENT["components"]})

    assert validator.is_valid(value) == accepted(model, field, value)


def test_white_space_in_the_patterns_is_what_str_strip_removes():
    import re

    listed = {chr(c) for c in range(0x110000) if re.fullmatch(f"[{WHITESPACE}]", chr(c))}

    assert listed == {chr(c) for c in range(0x110000) if chr(c).isspace()}


def test_the_cancel_body_is_optional_and_an_object_when_sent():
    body = DOCUMENT["paths"]["/api/v1/orders/{number}/cancel"]["post"]["requestBody"]

    assert body["required"] is False
    assert body["content"]["application/json"]["schema"]["type"] == "object"
