"""Orders' address verifier (orders.address_checks), answered by the configured gateway that
verifies addresses (EasyPost when EASYPOST_API_KEY is set). Registered from FulfillmentConfig."""

import dataclasses
import logging

from .errors import CarrierError
from .registry import address_gateway
from .types import PostalAddress

logger = logging.getLogger(__name__)


class GatewayAddressVerifier:
    def verify(self, address):
        from orders.address_checks import SUGGESTION_FIELDS, AddressVerdict

        gateway = address_gateway()
        if gateway is None:
            return AddressVerdict(deliverable=None)
        try:
            check = gateway.verify_address(address=PostalAddress.from_model(address))
        except CarrierError as exc:
            logger.warning("Address not checked with %s: %s", gateway.name, exc)
            return AddressVerdict(deliverable=None)
        suggestion = None
        if check.suggestion is not None and check.deliverable is False:
            data = dataclasses.asdict(check.suggestion)
            suggestion = {name: data.get(name, "") for name in SUGGESTION_FIELDS}
        return AddressVerdict(
            deliverable=check.deliverable,
            reasons=check.messages,
            suggestion=suggestion,
            checked_by=gateway.name,
        )
