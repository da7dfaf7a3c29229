"""What the inventory tests share."""

import pytest

from inventory.models import StockItem
from tests.factories import ProductFactory, WarehouseFactory, stock_put


@pytest.fixture
def item(stocked_product):
    return StockItem.objects.get(product=stocked_product)


@pytest.fixture
def stock():
    """LOW at its reorder point, OK above it, NEVER without one."""
    warehouse = WarehouseFactory(code="MAIN")
    items = {}
    for sku, qty, point in [("LOW", 5, 5), ("OK", 6, 5), ("NEVER", 0, 0)]:
        product = ProductFactory(sku=sku)
        if qty:
            stock_put(product, warehouse, qty)
        item, _ = StockItem.objects.get_or_create(product=product, warehouse=warehouse, bin_location="")
        item.reorder_point = point
        item.reorder_quantity = 20
        item.save(update_fields=["reorder_point", "reorder_quantity"])
        items[sku] = item
    return items
