"""inventory.tasks: the managers' daily digest of items at or below their reorder point
(`manage.py send_low_stock_digest` queues it)."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command

from inventory.services import ReceiptLineInput, inbound_receipt_create
from tests.factories import UserFactory, stock_put

pytestmark = pytest.mark.django_db


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
