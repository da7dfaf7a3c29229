"""Two orders spend the whole of one store credit at the same moment: one is paid, the other is
held for payment, and the credit is never overdrawn (PostgreSQL row locks)."""

from decimal import Decimal
from functools import partial

import pytest
from django.core.management import call_command

from orders.inputs import AddressInput, LineInput, OrderInput
from orders.models import Order, OrderHold
from orders.services import order_capture
from returns.models import StoreCredit, StoreCreditRedemption
from tests.factories import ChannelFactory, ProductFactory, WarehouseFactory, stock_put
from tests.races import run_together


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_orders_race_for_one_full_credit():
    channel = ChannelFactory()
    warehouse = WarehouseFactory(code="RACE")
    stock_put(ProductFactory(sku="CREDIT-1"), warehouse, 10)
    address = AddressInput(name="R", line1="1 St", city="NYC", postal_code="10001", country="US")
    earlier = order_capture(
        channel=channel,
        data=OrderInput(
            email="earlier@example.com",
            shipping_address=address,
            lines=[LineInput("CREDIT-1", 1, Decimal("50.00"))],
            payment_status="paid",
        ),
    )
    credit = StoreCredit.objects.create(
        email="racer@example.com",
        order=earlier,
        currency="USD",
        initial_amount=Decimal("50.00"),
        balance=Decimal("50.00"),
    )

    def buy(quantity):
        order_capture(
            channel=channel,
            data=OrderInput(
                email="racer@example.com",
                external_id=f"race-{quantity}",
                shipping_address=address,
                # Different items, so neither is held as a duplicate of the other.
                lines=[LineInput("CREDIT-1", quantity, Decimal("50.00") / quantity)],
                payment_method="store_credit",
                payment_reference=credit.code,
            ),
        )

    errors = [r for r in run_together([partial(buy, q) for q in (1, 2)]) if isinstance(r, Exception)]

    assert errors == []
    racers = Order.objects.filter(email="racer@example.com")
    assert sorted(racers.values_list("status", flat=True)) == [Order.Status.ALLOCATED, Order.Status.ON_HOLD]
    held = racers.get(status=Order.Status.ON_HOLD)
    assert [(h.reason, h.detail) for h in held.holds.all()] == [
        (
            OrderHold.Reason.PAYMENT,
            f"Store credit {credit.code} has only 0.00 USD left; the order needs 50.00 USD.",
        )
    ]
    credit.refresh_from_db()
    assert credit.balance == Decimal("0.00")
    paid = racers.get(status=Order.Status.ALLOCATED)
    assert list(StoreCreditRedemption.objects.values_list("order_id", "amount")) == [
        (paid.pk, Decimal("50.00"))
    ]
    call_command("check_store_credit")
