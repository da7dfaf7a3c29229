"""The shipping rule table: which carrier service a parcel gets, and why."""

from decimal import Decimal

import pytest

from fulfillment.rules import Parcel, service_level_choose
from tests.factories import CarrierFactory, ServiceLevelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def services():
    ups = CarrierFactory(code="ups", name="UPS")
    usps = CarrierFactory(code="usps", name="USPS")
    fedex = CarrierFactory(code="fedex", name="FedEx")
    freight = CarrierFactory(code="freight", name="Freight Co")
    dead = CarrierFactory(code="gone", name="Gone Express", is_active=False)
    common = {"max_length_mm": 1200}
    ServiceLevelFactory(
        carrier=ups, code="ground", speed="standard", transit_days=3,
        price_per_parcel=Decimal("5.00"), price_per_kg=Decimal("1.00"), **common,
    )  # fmt: skip
    ServiceLevelFactory(
        carrier=usps, code="ground", speed="standard", transit_days=5, countries="US, PR",
        allows_fragile=False, price_per_parcel=Decimal("4.00"), price_per_kg=Decimal("1.50"), **common,
    )  # fmt: skip
    ServiceLevelFactory(
        carrier=fedex, code="2day", speed="express", transit_days=2,
        price_per_parcel=Decimal("12.00"), price_per_kg=Decimal("2.00"), **common,
    )  # fmt: skip
    ServiceLevelFactory(
        carrier=fedex, code="overnight", speed="overnight", transit_days=1, allows_hazardous=True,
        price_per_parcel=Decimal("25.00"), price_per_kg=Decimal("3.00"), **common,
    )  # fmt: skip
    ServiceLevelFactory(
        carrier=freight, code="pallet", speed="standard", transit_days=6, max_weight_grams=500_000,
        max_length_mm=3000, allows_oversize=True, allows_fragile=False,
        price_per_parcel=Decimal("40.00"), price_per_kg=Decimal("0.10"),
    )  # fmt: skip
    ServiceLevelFactory(
        carrier=dead, code="cheap", speed="standard", transit_days=1,
        price_per_parcel=Decimal("0.50"), price_per_kg=Decimal("0.00"), **common,
    )  # fmt: skip


def parcel(grams=1000, longest=300, country="US", **flags):
    return Parcel(grams, longest, country, **flags)


# (speed, parcel, expected "carrier code/service code" or None, words the reason must contain)
TABLE = [
    ("standard", parcel(1000), "usps/ground", ["cheapest standard"]),
    ("standard", parcel(4000), "ups/ground", ["USPS Ground"]),  # 9.00 beats 10.00
    ("standard", parcel(1000, country="DE"), "ups/ground", ["does not serve DE"]),
    ("standard", parcel(1000, country="pr"), "usps/ground", []),
    ("standard", parcel(40_000), "freight/pallet", ["over its 30000 g limit"]),
    ("standard", parcel(1000, longest=2000), "freight/pallet", ["2000 mm is over"]),
    ("standard", parcel(1000, fragile=True), "ups/ground", ["does not take fragile"]),
    ("standard", parcel(1000, oversize=True), "freight/pallet", ["does not take oversize"]),
    ("standard", parcel(1000, hazardous=True), "fedex/overnight", ["no standard service could carry it"]),
    ("express", parcel(1000), "fedex/2day", ["cheapest express"]),
    ("express", parcel(1000, hazardous=True), "fedex/overnight", ["no express service"]),
    ("overnight", parcel(1000), "fedex/overnight", ["cheapest overnight"]),
    ("overnight", parcel(40_000), None, ["No service level can carry", "over its 30000 g limit"]),
    ("standard", parcel(40_000, fragile=True), None, ["does not take fragile"]),
    ("unknown-speed", parcel(1000), "usps/ground", []),
]


@pytest.mark.parametrize(("speed", "the_parcel", "expected", "words"), TABLE)
def test_rule_table(services, speed, the_parcel, expected, words):
    choice = service_level_choose(speed=speed, parcel=the_parcel)
    got = f"{choice.service_level.carrier.code}/{choice.service_level.code}" if choice.service_level else None
    assert got == expected, choice.reason
    for word in words:
        assert word in choice.reason


def test_inactive_carrier_is_never_chosen_even_when_cheapest(services):
    choice = service_level_choose(speed="standard", parcel=parcel(1000))
    assert choice.service_level.carrier.is_active
    assert "Gone" not in choice.reason


def test_choice_and_reason_are_recorded_when_fulfilment_starts(services, warehouse, catalog, ready_shipment):
    shipment = ready_shipment([("MUG-1", 2)])  # 600 g to the US: USPS is cheapest
    assert shipment.service_level.carrier.code == "usps"
    note = shipment.order.events.filter(kind="note").last()
    assert shipment.number in note.message
    assert "USPS Ground chosen: cheapest standard service for 600 g to US" in note.message
