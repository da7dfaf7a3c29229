"""Carriers, service levels and shipments. Shipments and tracking events in any state, without
running the flows: for tests that only read them (reports, queues); flows go through the services."""

import datetime as dt
from decimal import Decimal

import factory

from fulfillment.models import Carrier, ServiceLevel, Shipment, TrackingEvent

from .base import create_with_status
from .inventory import WarehouseFactory
from .orders import OrderFactory


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier
        django_get_or_create = ("code",)

    code = "ups"
    name = "UPS"
    tracking_url_template = "https://www.ups.com/track?tracknum={tracking_number}"


class ServiceLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceLevel
        django_get_or_create = ("carrier", "code")

    carrier = factory.SubFactory(CarrierFactory)
    code = "ground"
    name = "Ground"
    speed = ServiceLevel.Speed.STANDARD
    transit_days = 3
    price_per_parcel = Decimal("5.00")
    price_per_kg = Decimal("1.00")


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    number = factory.Sequence(lambda n: f"SH-{n:06d}")
    order = factory.SubFactory(OrderFactory)
    warehouse = factory.SubFactory(WarehouseFactory, code="MAIN")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return create_with_status(model_class, kwargs)


class TrackingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingEvent

    shipment = factory.SubFactory(ShipmentFactory)
    tracking_number = factory.Sequence(lambda n: f"1Z{n:08d}")
    carrier_code = "ups"
    status = TrackingEvent.Status.IN_TRANSIT
    occurred_at = factory.LazyFunction(lambda: dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC))
