"""The carrier gateway protocol and its registry.

Fulfillment calls gateways only through `CarrierGateway`; connectors register theirs from their
`AppConfig.ready()` (`carrier_gateway_register`), the way returns registers store credit in
orders.payments. A Carrier row names its gateway by code; `carrier_gateway_for` finds it, and
falls back to `manual` while that gateway is not configured (no credentials), so nothing breaks
without an account.
"""

from typing import Protocol, runtime_checkable

from .types import AddressCheck, Label, PostalAddress, Quote, Rate, ShipmentRequest, VoidResult

MANUAL = "manual"


@runtime_checkable
class CarrierGateway(Protocol):
    code: str  # what Carrier.gateway names, e.g. "easypost"
    name: str  # for staff, e.g. "EasyPost"
    buys_labels: bool  # False: staff type the tracking number (manual)
    verifies_addresses: bool

    def is_configured(self) -> bool:
        """True when it can be used now (its credentials are set)."""
        ...

    def rates(self, *, request: ShipmentRequest) -> Quote:
        """Create the platform's shipment for the request and return its rates (nothing is
        bought). `request.is_return` asks for a return label's rates. Raises CarrierRefused
        (invalid address, nothing to rate) or CarrierUnavailable."""
        ...

    def buy(self, *, quote_reference: str, rate: Rate, label_format: str) -> Label:
        """Buy one rate of a quote and fetch its label in `label_format`. Raises CarrierRefused
        (the purchase was refused: nothing was bought) or CarrierUnavailable (unknown: look with
        `label_get` before buying again)."""
        ...

    def label_get(self, *, quote_reference: str, label_format: str) -> Label | None:
        """The label already bought for a quote, or None when nothing was bought: how a retried
        purchase finds out whether the last attempt bought. Raises CarrierUnavailable."""
        ...

    def void(self, *, label_reference: str) -> VoidResult:
        """Void a label that has not been used, asking for the postage back. Raises
        CarrierRefused (too late, already used) or CarrierUnavailable."""
        ...

    def verify_address(self, *, address: PostalAddress) -> AddressCheck:
        """Whether the carrier can deliver to `address`, with its suggestion. Raises
        CarrierUnavailable when it could not be asked."""
        ...


_gateways: dict[str, CarrierGateway] = {}


def carrier_gateway_register(gateway: CarrierGateway) -> None:
    """Make a gateway available under its code (call from AppConfig.ready)."""
    _gateways[gateway.code] = gateway


def carrier_gateway_get(code: str) -> CarrierGateway | None:
    return _gateways.get((code or MANUAL).strip().lower())


def carrier_gateways() -> list[CarrierGateway]:
    return list(_gateways.values())


def carrier_gateway_for(carrier) -> CarrierGateway:
    """The gateway a carrier goes through: the one it names when that one is configured, else
    manual (no label bought; staff type the tracking number)."""
    gateway = carrier_gateway_get(carrier.gateway if carrier is not None else MANUAL)
    if gateway is None or not gateway.is_configured():
        return _gateways[MANUAL]
    return gateway


def address_gateway() -> CarrierGateway | None:
    """The configured gateway that verifies addresses (the first registered), or None."""
    return next((g for g in _gateways.values() if g.verifies_addresses and g.is_configured()), None)
