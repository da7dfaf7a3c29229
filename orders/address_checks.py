"""Carrier address verification, as a hook declared here, upstream.

Orders can't import fulfillment (where the carrier gateways live), so fulfillment registers an
`AddressVerifier` from its `AppConfig.ready()` (as returns registers store credit in
orders.payments). The verification rule `check_address_deliverable` (orders.verification) asks
it; with no verifier, or one that has no carrier to ask (no gateway that verifies is
configured), the rule finds nothing, as before.
"""

import hashlib
import logging
from dataclasses import dataclass
from typing import Protocol

from django.core.cache import cache

from .models import Address

logger = logging.getLogger(__name__)
CACHE_SECONDS = 24 * 3600
SUGGESTION_FIELDS = ["name", "company", "line1", "line2", "city", "region", "postal_code", "country"]


@dataclass(frozen=True)
class AddressVerdict:
    """A carrier's word on an address: `deliverable` (None: not checked), its reasons, and its
    version of the address (a dict of SUGGESTION_FIELDS), when it has one."""

    deliverable: bool | None
    reasons: tuple[str, ...] = ()
    suggestion: dict | None = None
    checked_by: str = ""


class AddressVerifier(Protocol):
    def verify(self, address: Address) -> AddressVerdict:
        """Ask the carrier about `address`. Never raises: a carrier that can't be asked gives
        `deliverable=None` (the order is not held for our outage)."""
        ...


_verifier: AddressVerifier | None = None


def address_verifier_register(verifier: AddressVerifier) -> None:
    global _verifier
    _verifier = verifier


def _key(address: Address) -> str:
    text = "|".join(str(getattr(address, f) or "").strip().upper() for f in SUGGESTION_FIELDS)
    return "oms:address-verdict:" + hashlib.sha256(text.encode()).hexdigest()


def address_verify(address: Address) -> AddressVerdict:
    """The registered verifier's verdict on `address`, cached for a day per address (a hold
    released again, or the same customer's next order, doesn't ask the carrier again)."""
    if _verifier is None:
        return AddressVerdict(deliverable=None)
    key = _key(address)
    cached = cache.get(key)
    if cached is not None:
        return cached
    verdict = _verifier.verify(address)
    if verdict.deliverable is not None:
        cache.set(key, verdict, CACHE_SECONDS)
    return verdict


def suggestion_one_line(suggestion: dict) -> str:
    city = " ".join(p for p in [suggestion.get("postal_code"), suggestion.get("city")] if p)
    parts = [
        suggestion.get("line1"),
        suggestion.get("line2"),
        city,
        suggestion.get("region"),
        suggestion.get("country"),
    ]
    return ", ".join(p for p in parts if p)
