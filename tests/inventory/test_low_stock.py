"""Items at or below their reorder point: admin filter and the managers' daily digest."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command

from inventory.models import StockItem
from inventory.selectors import stock_list_low
from inventory.services import ReceiptLineInput, inbound_receipt_create
from tests.factories import ProductFactory, UserFactory, WarehouseFactory, stock_put

pytestmark = pytest.mark.django_db


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


def test_low_means_available_at_or_below_reorder_point(stock, channel, order_input):
    from orders.services import order_capture

    assert [i.product.sku for i in stock_list_low()] == ["LOW"]
    # Reserving one of OK's units takes its available to the reorder point.
    order_capture(channel=channel, data=order_input(lines=[("OK", 1, "1.00")]))
    assert [i.product.sku for i in stock_list_low()] == ["LOW", "OK"]


def test_digest_goes_to_managers_with_what_is_on_order(stock, settings):
    settings.MANAGER_EMAILS = ["boss@oms.example"]
    manager = UserFactory(username="mia", email="mia@oms.example")
    manager.groups.add(Group.objects.get_or_create(name="Managers")[0])
    UserFactory(username="clerk", email="clerk@oms.example")
    inbound_receipt_create(
        supplier="Acme",
        warehouse_id=stock["LOW"].warehouse_id,
        lines=[ReceiptLineInput(stock["LOW"].product_id, 20)],
    )

    call_command("send_low_stock_digest", stdout=StringIO())

    (message,) = mail.outbox
    assert sorted(message.to) == ["boss@oms.example", "mia@oms.example"]
    assert "1 item at or below reorder point" in message.subject
    assert "LOW" in message.body
    assert "20 already on order" in message.body
    assert "OK " not in message.body and "NEVER" not in message.body


def test_no_digest_when_nothing_is_low(stock, settings):
    settings.MANAGER_EMAILS = ["boss@oms.example"]
    stock_put(stock["LOW"].product, stock["LOW"].warehouse, 10)
    call_command("send_low_stock_digest", stdout=StringIO())
    assert mail.outbox == []
