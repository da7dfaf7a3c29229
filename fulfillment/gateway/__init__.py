"""The carrier gateway: how fulfillment rates parcels, buys and voids labels, creates return
labels and checks addresses, in our own terms (types.py), whoever the carrier's platform is.

A gateway is registered under a code (registry.py) from an AppConfig.ready(); each Carrier names
the gateway it goes through (`Carrier.gateway`). `manual` (manual.py) is today's behaviour and the
default: no label is bought, staff type the tracking number. Connectors bring the others
(connectors/easypost), so fulfillment never imports a carrier's client.
"""

from .errors import CarrierError, CarrierRefused, CarrierUnavailable
from .registry import (
    CarrierGateway,
    carrier_gateway_for,
    carrier_gateway_get,
    carrier_gateway_register,
    carrier_gateways,
)
from .types import (
    AddressCheck,
    Label,
    LabelFormat,
    Money,
    Parcel,
    PostalAddress,
    Quote,
    Rate,
    ShipmentRequest,
    VoidResult,
)

__all__ = [
    "AddressCheck",
    "CarrierError",
    "CarrierGateway",
    "CarrierRefused",
    "CarrierUnavailable",
    "Label",
    "LabelFormat",
    "Money",
    "Parcel",
    "PostalAddress",
    "Quote",
    "Rate",
    "ShipmentRequest",
    "VoidResult",
    "carrier_gateway_for",
    "carrier_gateway_get",
    "carrier_gateway_register",
    "carrier_gateways",
]
