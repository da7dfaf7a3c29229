"""Rows for report tests, in any state, without running the flows (reports only read them)."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from fulfillment.models import Shipment, TrackingEvent
from inventory.models import StockItem, StockMovement
from orders.models import OrderEvent
from returns.models import Refund, ReturnLine, ReturnRequest
from tests.factories import OrderFactory, OrderLineFactory, ProductFactory, UserFactory, WarehouseFactory


def _create_with_status(model_class, kwargs):
    status = kwargs.pop("status", None)
    obj = model_class(**kwargs)
    if status:
        obj.__dict__["status"] = status  # protected FSM field: set before first save only
    obj.save()
    return obj


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    number = factory.Sequence(lambda n: f"SH-{n:06d}")
    order = factory.SubFactory(OrderFactory)
    warehouse = factory.SubFactory(WarehouseFactory, code="MAIN")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return _create_with_status(model_class, kwargs)


class TrackingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingEvent

    shipment = factory.SubFactory(ShipmentFactory)
    tracking_number = factory.Sequence(lambda n: f"1Z{n:08d}")
    carrier_code = "ups"
    status = TrackingEvent.Status.IN_TRANSIT
    occurred_at = factory.LazyFunction(lambda: dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC))


class ReturnRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnRequest

    order = factory.SubFactory(OrderFactory)
    reason = ReturnRequest.Reason.DAMAGED

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return _create_with_status(model_class, kwargs)


class ReturnLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnLine

    return_request = factory.SubFactory(ReturnRequestFactory)
    order_line = factory.SubFactory(OrderLineFactory, quantity_shipped=1)
    quantity = 1


class RefundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Refund

    order = factory.SubFactory(OrderFactory)
    amount = Decimal("10.00")
    currency = "USD"


def stock_item(product=None, warehouse=None, *, on_hand=0, reserved=0, reorder_point=0, bin_location=""):
    """A stock item with on_hand backed by one ledger movement (reserved set directly)."""
    item = StockItem.objects.create(
        product=product or ProductFactory(),
        warehouse=warehouse or WarehouseFactory(code="MAIN"),
        bin_location=bin_location,
        reorder_point=reorder_point,
        reorder_quantity=reorder_point * 2,
    )
    if on_hand:
        StockMovement.objects.create(stock_item=item, kind=StockMovement.Kind.RECEIPT, quantity=on_hand)
    StockItem.objects.filter(pk=item.pk).update(on_hand=on_hand, reserved=reserved)
    item.refresh_from_db()
    return item


def backorder_event(order):
    return OrderEvent.objects.create(
        order=order, kind=OrderEvent.Kind.BACKORDERED, from_status="verified", to_status="backordered"
    )


def user_in_group(username: str, group: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=group))
    return user
