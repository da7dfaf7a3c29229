"""orders.notifications: every kind of customer e-mail renders as text and HTML, escaped where it
must be and linking to the order page."""

import pytest

from orders.models import Order
from orders.notifications import SUBJECTS, order_email_render
from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", list(SUBJECTS))
def test_every_email_kind_renders_text_and_html(kind, service_level):
    order = OrderFactory(status=Order.Status.PROCESSING, customer_name="Grace <Hopper>")
    OrderLineFactory(order=order, quantity=2)
    subject, text, html = order_email_render(order=order, kind=kind)
    assert order.number in subject and order.number in text
    assert "/track/o/" in text and "/track/o/" in html
    assert "Grace <Hopper>" in text and "Grace &lt;Hopper&gt;" in html
    assert "<html" in html and len(text.strip().splitlines()) > 5
