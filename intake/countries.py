"""Country names as channels write them, to ISO 3166-1 alpha-2 codes."""

from functools import lru_cache

import pycountry

# Names that ISO's lists don't carry (seen in marketplace exports), and common short forms.
ALIASES = {
    "EIRE": "IE",
    "UK": "GB",
    "GREAT BRITAIN": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "NORTHERN IRELAND": "GB",
    "RSA": "ZA",
    "USA": "US",
    "KOREA": "KR",
    "SOUTH KOREA": "KR",
    "CZECHIA": "CZ",
    "HOLLAND": "NL",
}


@lru_cache(maxsize=512)
def country_code(name: str) -> str | None:
    """The alpha-2 code for a country name or code, or None when it names no single country
    (e.g. “Channel Islands”, “European Community”, “Unspecified”)."""
    value = (name or "").strip()
    if not value:
        return None
    if value.upper() in ALIASES:
        return ALIASES[value.upper()]
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        return None
