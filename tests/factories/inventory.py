"""Products, warehouses and stock. Stock is put on hand through the ledger, never by setting fields."""

from decimal import Decimal

import factory

from inventory.models import Product, StockItem, StockMovement, Warehouse
from inventory.services import stock_receive


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


def stock_item(product=None, warehouse=None, *, on_hand=0, reserved=0, reorder_point=0, bin_location=""):
    """A stock item with on_hand backed by one ledger movement (reserved set directly), for
    tests that only read stock (reports)."""
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
