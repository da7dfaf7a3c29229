"""What the database itself refuses, whatever the code above it does: reserved above on hand,
an adjustment without a reason."""

import pytest
from django.db import IntegrityError, transaction

from inventory.models import StockItem, StockMovement

pytestmark = pytest.mark.django_db


def test_database_refuses_reserved_above_on_hand(stocked_product):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        StockItem.objects.filter(product=stocked_product).update(reserved=11)


def test_database_refuses_an_adjustment_without_reason(item):
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMovement.objects.create(stock_item=item, kind="adjustment", quantity=1)
