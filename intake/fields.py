"""Field types of the JSON API whose OpenAPI schema says exactly what they accept.

A client that validates a request against /api/v1/openapi.json must never be refused for a field
the document allows, nor accepted for one it forbids. So every constraint is written once, as a
JSON Schema keyword (`pattern`, `minLength`, `type`, `multipleOf`, ...), and the server checks
that same keyword, read the way JSON Schema reads it (ECMA-262 regular expressions, anchored;
`type: integer` admits 2.0; numbers are not strings), instead of trusting a parser that accepts
more (pydantic's lax mode takes "5" for an integer and true for 1) or less.

Text is stripped of surrounding white space after it passed, as before; a field that must not be
empty says so with a pattern that needs one character that isn't white space, spelled out as the
characters Python's `str.strip()` removes so both readings agree. Codes and e-mail addresses are
taken as sent: white space around them is refused, as the document always said.

Two rules no JSON Schema keyword can state are left to the service and written in the operation's
description: an order's total must fit in the money columns, and (see orders.services.capture)
a `placed_at` more than a day ahead is taken as the time the order arrived.
"""

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, Field, PlainValidator, WithJsonSchema

# What str.strip() removes (str.isspace()), as the inside of a character class. ECMA-262, Rust
# and Python read the \u escapes the same way; \s they don't (tests/intake/test_fields.py checks the list).
WHITESPACE = r"\t-\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_NUL = r"[^\u0000]*"
NOT_BLANK = rf"[^\u0000]*[^\u0000{WHITESPACE}][^\u0000]*"
# What Django's EmailValidator accepts, in ASCII: a dot-atom local part; a domain of labels (1 to
# 63 letters, digits and inner hyphens) ending in a top-level one of letters (inner hyphens
# allowed) or punycode. So every address the API accepts can be mailed; an internationalised
# domain is sent in its xn-- form. (Django's lookarounds are spelled out: not every engine has them.)
_ATEXT = r"[-!#$%&'*+/=?^_`{|}~0-9A-Za-z]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TOP_LABEL = r"[A-Za-z][A-Za-z-]{0,61}[A-Za-z]|xn--[A-Za-z0-9]{1,59}"
EMAIL = rf"{_ATEXT}+(?:\.{_ATEXT}+)*@(?:{_LABEL}\.)+(?:{_TOP_LABEL})"

MAX_MONEY = Decimal("99999999.99")
# Up to 8 digits before the point (leading zeros aside) and 2 after it (trailing zeros aside).
MONEY = r"0*[0-9]{1,8}(?:\.[0-9]{0,2}0*)?"

_YEAR = r"19[7-9][0-9]|20[0-9][0-9]"
_LEAP_YEAR = r"19(?:7[26]|8[048]|9[26])|20(?:[02468][048]|[13579][26])"
_MONTH_DAY = (
    r"(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8])"
)
# RFC 3339 date-time (1970-2099), calendar dates only; the zone may be left out (taken as UTC).
DATE_TIME = (
    rf"(?:(?:{_YEAR})-(?:{_MONTH_DAY})|(?:{_LEAP_YEAR})-02-29)"
    r"[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,9})?)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?"
)


def anchored(pattern: str) -> str:
    """The pattern as the document publishes it: JSON Schema patterns are not anchored."""
    return f"^(?:{pattern})$"


def _matching(pattern: str, message: str):
    # fullmatch: `$` in Python also matches before a final newline, which JSON Schema's doesn't.
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


def _valid_unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


def Text(max_length: int, *, required: bool = False, description: str | None = None):
    """A text field: no NUL (PostgreSQL can't store it), at most `max_length` characters as sent;
    `required`: not empty or only white space. Stored stripped."""
    pattern, message = (
        (NOT_BLANK, "must not be empty or only white space, nor contain NUL characters")
        if required
        else (NO_NUL, "must not contain NUL characters")
    )
    return Annotated[
        str,
        Field(
            min_length=1 if required else 0,
            max_length=max_length,
            json_schema_extra={"pattern": anchored(pattern)},
            description=description,
        ),
        _matching(pattern, message),
        AfterValidator(_valid_unicode),
        AfterValidator(str.strip),
    ]


def Code(pattern: str, description: str):
    """A code such as a country or currency: exactly `pattern`, no white space around it."""
    return Annotated[
        str,
        Field(json_schema_extra={"pattern": anchored(pattern)}, description=description),
        _matching(pattern, f"must match {anchored(pattern)}"),
    ]


Email = Annotated[
    str,
    Field(
        min_length=3,
        max_length=254,
        json_schema_extra={"pattern": anchored(EMAIL)},
        description="The customer's e-mail address (an internationalised domain in its xn-- form).",
    ),
    _matching(EMAIL, "must be a valid e-mail address"),
]


def _money(value: Any) -> Decimal:
    if isinstance(value, str):
        if not re.fullmatch(MONEY, value):
            raise ValueError("must be a decimal string of at most 8 digits and 2 decimals, e.g. 25.00")
        return Decimal(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a decimal string such as 25.00, or a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not Decimal(0) <= amount <= MAX_MONEY:
        raise ValueError(f"must be between 0 and {MAX_MONEY}")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("must have at most 2 decimals")
    return amount


Money = Annotated[
    Decimal,
    PlainValidator(_money),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": anchored(MONEY)},
                {"type": "number", "minimum": 0, "maximum": float(MAX_MONEY), "multipleOf": 0.01},
            ],
            "description": "An amount in the order's currency: a decimal string (`25.00`), or a "
            "JSON number with at most 2 decimals.",
        }
    ),
]


def _whole(minimum: int, maximum: int):
    def check(value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number")
        if not minimum <= value <= maximum:
            raise ValueError(f"must be between {minimum} and {maximum}")
        return value

    return check


def Whole(minimum: int, maximum: int):
    """An integer as JSON Schema means it (2.0 is one; "2" and true are not)."""
    return Annotated[
        int,
        PlainValidator(_whole(minimum, maximum)),
        WithJsonSchema({"type": "integer", "minimum": minimum, "maximum": maximum}),
    ]


def _date_time(value: Any) -> dt.datetime:
    if not isinstance(value, str) or not re.fullmatch(DATE_TIME, value):
        raise ValueError("must be a date and time such as 2026-03-01T10:00:00Z (1970 to 2099)")
    return dt.datetime.fromisoformat(value.upper()[:10] + "T" + value.upper()[11:])


DateTime = Annotated[
    dt.datetime,
    PlainValidator(_date_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": anchored(DATE_TIME),
            "description": "RFC 3339 date and time, 1970 to 2099; without a zone it is UTC.",
        }
    ),
]
