"""factory-boy factories. Stock is put on hand through the ledger, never by setting fields."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from fulfillment.models import Carrier, ServiceLevel
from inventory.models import Product, StockMovement, Warehouse
from inventory.services import stock_receive
from orders.models import Address, Channel, Order, OrderLine


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@oms.example")
    is_staff = True
    password = factory.django.Password("pw-for-tests-123")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"WH{n}")
    name = factory.LazyAttribute(lambda w: f"Warehouse {w.code}")
    country = "US"
    priority = factory.Sequence(lambda n: 10 + n)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    barcode = factory.Sequence(lambda n: f"4006381{n:06d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("19.99")
    weight_grams = 400
    length_mm = 200
    width_mm = 150
    height_mm = 80


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("code",)

    code = "web"
    name = "Web shop"
    kind = Channel.Kind.WEB


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


def stock_put(product, warehouse, quantity, bin_location=None):
    """Put units on hand through the ledger, as a receipt would."""
    return stock_receive(
        product=product,
        warehouse=warehouse,
        quantity=quantity,
        bin_location=bin_location,
        kind=StockMovement.Kind.RECEIPT,
        reference="test",
    )
