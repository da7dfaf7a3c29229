"""The manual gateway: today's behaviour. No platform is asked; no label is bought (staff type
the carrier's tracking number when they ship, or the local courier's is made up). Its rates are
our own price table (ServiceLevel.price_per_parcel + price_per_kg), so rates still compare."""

from decimal import Decimal

from .errors import CarrierRefused
from .registry import MANUAL
from .types import AddressCheck, Label, Money, PostalAddress, Quote, Rate, ShipmentRequest, VoidResult


class ManualGateway:
    code = MANUAL
    name = "Manual (tracking number typed)"
    buys_labels = False
    verifies_addresses = False

    def is_configured(self) -> bool:
        return True

    def rates(self, *, request: ShipmentRequest) -> Quote:
        from ..models import ServiceLevel
        from ..rules import Parcel as RuleParcel
        from ..rules import service_level_refusal

        parcel = RuleParcel(
            request.parcel.weight_grams,
            max(request.parcel.length_mm, request.parcel.width_mm, request.parcel.height_mm),
            request.ship_to.country,
        )
        levels = ServiceLevel.objects.filter(
            is_active=True, carrier__is_active=True, carrier__gateway__in=["", MANUAL]
        ).select_related("carrier")
        rates = tuple(
            Rate(
                rate_id=f"manual:{level.pk}",
                carrier=level.carrier.code,
                service=level.code,
                price=Money(
                    level.price_per_parcel + level.price_per_kg * Decimal(parcel.weight_grams) / 1000,
                    request.currency,
                ),
                carrier_account=level.carrier.code,
                delivery_days=level.transit_days,
            )
            for level in levels
            if service_level_refusal(level, parcel) is None
        )
        return Quote(reference="", rates=rates)

    def buy(self, *, quote_reference: str, rate: Rate, label_format: str) -> Label:
        raise CarrierRefused("This carrier has no label to buy: type its tracking number when you ship.")

    def label_get(self, *, quote_reference: str, label_format: str) -> Label | None:
        return None

    def void(self, *, label_reference: str) -> VoidResult:
        return VoidResult(refund_status="not_applicable")

    def verify_address(self, *, address: PostalAddress) -> AddressCheck:
        return AddressCheck(deliverable=None)
