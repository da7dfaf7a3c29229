"""Shipping rules: choose a carrier service level for a parcel."""

from dataclasses import dataclass

from core.money import quantize

from .models import ServiceLevel

SPEED_ORDER = ["standard", "express", "overnight"]


@dataclass(frozen=True)
class Parcel:
    weight_grams: int
    longest_side_mm: int
    country: str
    hazardous: bool = False
    fragile: bool = False
    oversize: bool = False


def parcel_for_items(items, country: str) -> Parcel:
    """The parcel (weight, longest side, handling flags) for (product, quantity) pairs going to
    `country`; lines without a product weigh nothing."""
    weight = longest = 0
    hazardous = fragile = oversize = False
    for product, quantity in items:
        if product is None:
            continue
        weight += product.weight_grams * quantity
        longest = max(longest, product.length_mm, product.width_mm, product.height_mm)
        hazardous |= product.is_hazardous
        fragile |= product.is_fragile
        oversize |= product.is_oversize
    return Parcel(weight, longest, country, hazardous, fragile, oversize)


@dataclass(frozen=True)
class Choice:
    service_level: ServiceLevel | None
    reason: str


def service_level_refusal(level: ServiceLevel, parcel: Parcel) -> str | None:
    """Why this service level can't carry the parcel, or None if it can."""
    countries = {c.strip().upper() for c in level.countries.split(",") if c.strip()}
    if countries and parcel.country.upper() not in countries:
        return f"does not serve {parcel.country}"
    if parcel.weight_grams > level.max_weight_grams:
        return f"{parcel.weight_grams} g is over its {level.max_weight_grams} g limit"
    if parcel.longest_side_mm > level.max_length_mm:
        return f"{parcel.longest_side_mm} mm is over its {level.max_length_mm} mm limit"
    if parcel.hazardous and not level.allows_hazardous:
        return "does not take hazardous goods"
    if parcel.fragile and not level.allows_fragile:
        return "does not take fragile goods"
    if parcel.oversize and not level.allows_oversize:
        return "does not take oversize parcels"
    return None


def parcel_price(level: ServiceLevel, parcel: Parcel):
    return level.price_per_parcel + level.price_per_kg * parcel.weight_grams / 1000


def service_level_choose(*, speed: str, parcel: Parcel) -> Choice:
    """The cheapest service level at the customer's speed that can carry the parcel; when none
    can, the cheapest at a faster speed; never a slower one than the customer paid for."""
    levels = list(
        ServiceLevel.objects.filter(is_active=True, carrier__is_active=True).select_related("carrier")
    )
    wanted = SPEED_ORDER.index(speed) if speed in SPEED_ORDER else 0
    refusals = []
    for speed_name in SPEED_ORDER[wanted:]:
        fitting = []
        for level in levels:
            if level.speed != speed_name:
                continue
            refusal = service_level_refusal(level, parcel)
            if refusal:
                refusals.append(f"{level}: {refusal}")
            else:
                fitting.append(level)
        if fitting:
            fitting.sort(key=lambda lv: (parcel_price(lv, parcel), lv.transit_days, lv.pk))
            best = fitting[0]
            reason = (
                f"{best} chosen: cheapest {speed_name} service for "
                f"{parcel.weight_grams} g to {parcel.country} ({quantize(parcel_price(best, parcel))})"
            )
            if len(fitting) > 1:
                reason += "; dearer: " + ", ".join(
                    f"{lv} ({quantize(parcel_price(lv, parcel))})" for lv in fitting[1:]
                )
            if speed_name != SPEED_ORDER[wanted]:
                reason += f" (no {SPEED_ORDER[wanted]} service could carry it)"
            if refusals:
                reason += "; not chosen: " + "; ".join(refusals)
            return Choice(best, reason + ".")
    return Choice(None, "No service level can carry this parcel: " + "; ".join(refusals) + ".")
