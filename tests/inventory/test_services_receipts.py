"""inventory.services.receipts: expected inbound receipts, received in parts."""

import pytest

from inventory.exceptions import ReceiptError
from inventory.models import InboundReceipt, StockItem, StockMovement
from inventory.services import (
    ReceiptLineInput,
    inbound_receipt_close,
    inbound_receipt_create,
    inbound_receipt_receive,
)
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def receipt(warehouse):
    a, b = ProductFactory(sku="A"), ProductFactory(sku="B")
    return inbound_receipt_create(
        supplier="Acme Ltd",
        supplier_reference="PO-77",
        warehouse_id=warehouse.pk,
        lines=[ReceiptLineInput(a.pk, 10, "R-1"), ReceiptLineInput(b.pk, 4)],
    )


def on_hand(sku):
    return sum(StockItem.objects.filter(product__sku=sku).values_list("on_hand", flat=True))


def test_expected_receipt_puts_nothing_on_hand(receipt):
    assert receipt.number.startswith("RC-")
    assert receipt.status == InboundReceipt.Status.EXPECTED
    assert on_hand("A") == on_hand("B") == 0


def test_receipt_received_in_two_deliveries(receipt):
    user = UserFactory()
    line_a, line_b = receipt.lines.order_by("pk")
    inbound_receipt_receive(receipt_id=receipt.pk, quantities={line_a.pk: 6}, actor=user)
    receipt.refresh_from_db()
    assert receipt.status == InboundReceipt.Status.PARTIALLY_RECEIVED
    assert (on_hand("A"), on_hand("B")) == (6, 0)
    assert StockItem.objects.get(product__sku="A").bin_location == "R-1"

    inbound_receipt_receive(receipt_id=receipt.pk, actor=user)  # everything outstanding
    receipt.refresh_from_db()
    assert receipt.status == InboundReceipt.Status.RECEIVED
    assert (on_hand("A"), on_hand("B")) == (10, 4)
    movements = StockMovement.objects.filter(reference=f"receipt:{receipt.number}")
    assert sorted(movements.values_list("quantity", flat=True)) == [4, 4, 6]
    assert {m.actor for m in movements} == {user}
    assert set(movements.values_list("kind", flat=True)) == {"receipt"}


def test_over_receipt_is_refused_and_nothing_is_received(receipt):
    line_a, line_b = receipt.lines.order_by("pk")
    with pytest.raises(ReceiptError, match="B: 4 outstanding, can't receive 5"):
        inbound_receipt_receive(receipt_id=receipt.pk, quantities={line_a.pk: 2, line_b.pk: 5})
    assert (on_hand("A"), on_hand("B")) == (0, 0)
    receipt.refresh_from_db()
    assert receipt.status == InboundReceipt.Status.EXPECTED


def test_closed_receipt_receives_nothing_more(receipt):
    line_a, _ = receipt.lines.order_by("pk")
    inbound_receipt_receive(receipt_id=receipt.pk, quantities={line_a.pk: 1})
    closed = inbound_receipt_close(receipt_id=receipt.pk, note="supplier out of stock")
    assert closed.status == InboundReceipt.Status.RECEIVED
    with pytest.raises(ReceiptError, match="received"):
        inbound_receipt_receive(receipt_id=receipt.pk)


def test_closing_an_untouched_receipt_cancels_it(receipt):
    assert inbound_receipt_close(receipt_id=receipt.pk).status == InboundReceipt.Status.CANCELLED


@pytest.mark.parametrize(
    ("supplier", "lines", "message"),
    [("", [(1, 1)], "supplier"), ("Acme", [], "at least one line"), ("Acme", [(1, 0)], "at least 1")],
)
def test_invalid_receipts_are_refused(warehouse, supplier, lines, message):
    product = ProductFactory()
    with pytest.raises(ReceiptError, match=message):
        inbound_receipt_create(
            supplier=supplier,
            warehouse_id=warehouse.pk,
            lines=[ReceiptLineInput(product.pk, qty) for _, qty in lines],
        )
    assert not InboundReceipt.objects.exists()
