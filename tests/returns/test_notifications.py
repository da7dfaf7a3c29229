"""returns.notifications: the store-credit e-mail says how to spend the code."""

import pytest
from django.core import mail

from returns.services import return_request_store_credit

from .helpers import delivered_order, received_return

pytestmark = pytest.mark.django_db


def test_store_credit_email_says_how_to_use_the_code(
    channel, stocked_product, order_input, service_level, django_capture_on_commit_callbacks
):
    order = delivered_order(channel, order_input)
    rr = received_return(order)
    with django_capture_on_commit_callbacks(execute=True):
        credit = return_request_store_credit(return_id=rr.pk)
    message = mail.outbox[-1]
    assert f"Code: {credit.code}" in message.body
    assert (
        f"give the code {credit.code} when you pay at checkout, "
        "or tell it to customer service when you order by phone" in message.body
    )
    assert "orders in USD placed with this e-mail address (ada@example.com)" in message.body
    html = message.alternatives[0][0]
    assert "tell it to customer service when you order by phone" in html
