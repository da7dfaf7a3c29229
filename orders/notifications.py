"""Customer e-mails, sent after commit through django.tasks (a worker in production, inline in
tests). Every e-mail sent is logged on the order's timeline."""

from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string

from .links import order_tracking_url
from .models import Order, OrderEvent

SUBJECTS = {
    "confirmation": "We have your order {number}",
    "backordered": "Part of order {number} is on backorder",
    "backorder_released": "Good news: order {number} is being prepared",
    "cancelled": "Order {number} has been cancelled",
    "shipped": "Order {number} is on its way",
    "out_for_delivery": "Order {number} is out for delivery",
    "delivered": "Order {number} has been delivered",
    "delivery_exception": "A problem with the delivery of order {number}",
}


@task
def send_order_email(*, order_id: int, kind: str, extra: dict | None = None) -> None:
    """Render and send one customer e-mail (plain text and HTML), then log it on the order."""
    order = (
        Order.objects.select_related("channel", "shipping_address").prefetch_related("lines").get(pk=order_id)
    )
    if not order.email:
        return
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "tracking_url": order_tracking_url(order_number=order.number),
        "extra": extra or {},
    }
    subject = SUBJECTS.get(kind, "About your order {number}").format(number=order.number)
    text = render_to_string(f"emails/order_{kind}.txt", context)
    html = render_to_string(f"emails/order_{kind}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [order.email])
    message.attach_alternative(html, "text/html")
    message.send()
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.EMAIL,
        message=f"E-mail “{subject}” sent to {order.email}.",
    )


def order_email_after_commit(*, order_id: int, kind: str, extra: dict | None = None) -> None:
    """Queue a customer e-mail once the surrounding transaction commits."""

    transaction.on_commit(partial(send_order_email.enqueue, order_id=order_id, kind=kind, extra=extra))
