"""Channels, addresses, orders and their lines."""

from decimal import Decimal

import factory
from django.utils import timezone

from orders.models import Address, Channel, Order, OrderEvent, OrderLine

from .inventory import ProductFactory


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("code",)

    code = "web"
    name = "Web shop"
    kind = Channel.Kind.WEB


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    name = "Ada Lovelace"
    line1 = "12 Analytical Way"
    city = "New York"
    region = "NY"
    postal_code = "10001"
    country = "US"


class OrderFactory(factory.django.DjangoModelFactory):
    """An order row in any state (set `status=`), without stock side effects: for selectors,
    pages and transition tables. Flows that need stock go through the services."""

    class Meta:
        model = Order

    channel = factory.SubFactory(ChannelFactory)
    external_id = factory.Sequence(lambda n: f"EXT-{n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    customer_name = "Ada Lovelace"
    shipping_address = factory.SubFactory(AddressFactory)
    currency = "USD"
    payment_method = "card"
    payment_status = Order.PaymentStatus.PAID
    placed_at = factory.LazyFunction(lambda: timezone.now())  # looked up per call: the clock fixture

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        status = kwargs.pop("status", None)
        obj = model_class(*args, **kwargs)
        if status:
            obj.__dict__["status"] = status  # protected FSM field: set before first save only
        obj.save()
        return obj


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    sku = factory.LazyAttribute(lambda line: line.product.sku if line.product else "UNKNOWN")
    name = factory.LazyAttribute(lambda line: line.product.name if line.product else "Unknown")
    unit_price = Decimal("19.99")
    quantity = 1


def backorder_event(order):
    return OrderEvent.objects.create(
        order=order, kind=OrderEvent.Kind.BACKORDERED, from_status="verified", to_status="backordered"
    )
