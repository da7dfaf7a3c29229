"""What a capture takes: plain dataclasses that every channel's mapping fills in.

Intake (API, webhooks, CSV), the phone-order form and returns' exchanges build an `OrderInput`
and hand it to `orders.services.order_capture`.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from core.money import ZERO

from .models import Address, Order


@dataclass
class AddressInput:
    name: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    company: str = ""
    phone: str = ""

    @classmethod
    def from_model(cls, address: Address | None) -> "AddressInput | None":
        """The input that would create a copy of `address` (None stays None)."""
        if address is None:
            return None
        return cls(
            name=address.name,
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            region=address.region,
            postal_code=address.postal_code,
            country=address.country,
            company=address.company,
            phone=address.phone,
        )


@dataclass
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal
    name: str = ""
    external_line_id: str = ""  # the line's id in the sales channel, kept to answer it about this line
    # Units the sales channel had already fulfilled itself: recorded as shipped, never reserved.
    quantity_fulfilled_elsewhere: int = 0
    # How, for the order's timeline: "fulfillment #255858046, tracking 1Z2345 (UPS)".
    fulfilled_elsewhere_detail: str = ""


@dataclass
class OrderInput:
    email: str
    lines: list[LineInput]
    external_id: str = ""
    customer_name: str = ""
    phone: str = ""
    shipping_address: AddressInput | None = None
    billing_address: AddressInput | None = None
    shipping_speed: str = Order.ShippingSpeed.STANDARD
    currency: str = "USD"
    shipping_total: Decimal = ZERO
    tax_total: Decimal = ZERO
    discount_total: Decimal = ZERO
    payment_method: str = ""
    payment_status: str = Order.PaymentStatus.PENDING
    payment_reference: str = ""
    payment_amount: Decimal | None = None
    placed_at: dt.datetime | None = None
    notes: str = ""
    extra_holds: list[tuple[str, str]] = field(default_factory=list)
    # Who fulfilled the lines' quantity_fulfilled_elsewhere ("Shopify"); default: the channel.
    fulfilled_by: str = ""
