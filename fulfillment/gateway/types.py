"""What a carrier gateway takes and gives back, in our terms (not any platform's objects).

Units are ours: grams and millimetres, Money as a Decimal with its ISO 4217 currency, addresses
with ISO 3166 country codes. A gateway converts to and from its platform's units and shapes.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models

from core.money import quantize


class LabelFormat(models.TextChoices):
    PDF = "pdf", "PDF (office printer)"
    ZPL = "zpl", "ZPL (thermal printer)"
    PNG = "png", "PNG image"


LABEL_CONTENT_TYPES = {
    LabelFormat.PDF: "application/pdf",
    LabelFormat.ZPL: "application/zpl",
    LabelFormat.PNG: "image/png",
}


@dataclass(frozen=True)
class Money:
    """An amount exactly as the carrier stated it (fees may carry more than two decimals), in
    `currency`. `rounded` is what we store: to the cent, half up, once."""

    amount: Decimal
    currency: str

    @property
    def rounded(self) -> Decimal:
        return quantize(self.amount)

    def __str__(self) -> str:
        return f"{self.rounded} {self.currency}"


@dataclass(frozen=True)
class PostalAddress:
    name: str = ""
    company: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""  # ISO 3166-1 alpha-2
    phone: str = ""
    email: str = ""

    @classmethod
    def from_model(cls, address, *, email: str = "") -> "PostalAddress":
        """From any model with the fields above (orders' Address, fulfillment's ShipFrom)."""
        return cls(
            name=address.name,
            company=address.company,
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            region=address.region,
            postal_code=address.postal_code,
            country=address.country,
            phone=address.phone,
            email=email or getattr(address, "email", ""),
        )

    def one_line(self) -> str:
        city = " ".join(p for p in [self.postal_code, self.city] if p)
        return ", ".join(p for p in [self.line1, self.line2, city, self.region, self.country] if p)

    def differs_from(self, other: "PostalAddress") -> list[str]:
        """The fields (of street, city, region, postal code, country) that differ, ignoring case
        and surrounding spaces."""
        names = ["line1", "line2", "city", "region", "postal_code", "country"]

        def norm(value):
            return " ".join((value or "").upper().split())

        return [n for n in names if norm(getattr(self, n)) != norm(getattr(other, n))]


@dataclass(frozen=True)
class Parcel:
    """The box as packed: weight with the box, outer dimensions (0 when not known)."""

    weight_grams: int
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0


@dataclass(frozen=True)
class ShipmentRequest:
    """Everything a gateway needs to rate a parcel (and later buy one of the rates).

    `reference` is ours (the shipment or return number). For a return label (`is_return`),
    `ship_from` is still the customer and `ship_to` the warehouse: the parcel travels that way.
    `carrier_accounts` narrows the rates to the platform's accounts we have set up.
    """

    reference: str
    ship_from: PostalAddress
    ship_to: PostalAddress
    parcel: Parcel
    currency: str
    label_format: str = LabelFormat.PDF
    label_size: str = "4x6"
    is_return: bool = False
    carrier_accounts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rate:
    """One price the platform offers for a parcel. `rate_id` is the platform's handle for buying
    it; `carrier_account` and `service` are the platform's names, which fulfillment maps onto its
    carriers and service levels."""

    rate_id: str
    carrier: str
    service: str
    price: Money
    carrier_account: str = ""
    delivery_days: int | None = None
    delivery_date: dt.date | None = None

    def as_json(self) -> dict:
        return {
            "rate_id": self.rate_id,
            "carrier": self.carrier,
            "service": self.service,
            "amount": str(self.price.amount),
            "currency": self.price.currency,
            "carrier_account": self.carrier_account,
            "delivery_days": self.delivery_days,
            "delivery_date": self.delivery_date.isoformat() if self.delivery_date else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Rate":
        return cls(
            rate_id=data["rate_id"],
            carrier=data["carrier"],
            service=data["service"],
            price=Money(Decimal(data["amount"]), data["currency"]),
            carrier_account=data.get("carrier_account", ""),
            delivery_days=data.get("delivery_days"),
            delivery_date=dt.date.fromisoformat(data["delivery_date"]) if data.get("delivery_date") else None,
        )


@dataclass(frozen=True)
class Label:
    """A bought label. `postage` is what was charged (all fees), `document` the label file in
    `format` (empty when it could not be fetched; `url` still points at it)."""

    reference: str  # the platform's shipment id
    tracking_number: str
    carrier: str
    service: str
    postage: Money
    format: str
    url: str = ""
    document: bytes = b""
    carrier_account: str = ""
    tracker_reference: str = ""


@dataclass(frozen=True)
class Quote:
    """The platform's shipment for a request: its id (stored before anything is bought, so a
    retried purchase finds it again) and the rates offered."""

    reference: str
    rates: tuple[Rate, ...]
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class VoidResult:
    """What the platform said to a void: `refund_status` in its words (`submitted`, `refunded`,
    `rejected`, `not_applicable`)."""

    refund_status: str
    message: str = ""

    @property
    def accepted(self) -> bool:
        return self.refund_status not in ("rejected",)


@dataclass(frozen=True)
class AddressCheck:
    """Whether a carrier can deliver to an address. `deliverable` is None when nothing was
    checked (the gateway doesn't verify). `suggestion`: the carrier's version of the address,
    when it has one; `messages`: its reasons, for staff."""

    deliverable: bool | None
    messages: tuple[str, ...] = ()
    suggestion: PostalAddress | None = None
    corrected_fields: tuple[str, ...] = field(default=())
