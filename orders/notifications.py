"""Customer e-mails, sent after commit through django.tasks (a worker in production, inline in
tests). Every e-mail sent is logged on the order's timeline (an `email` event naming the kind,
subject and recipient).

Apps further down the import chain add what they know to an e-mail's context with
`email_context_provider_register` (fulfilment adds the shipment, carrier, tracking link and
delivery estimate), so orders never imports them.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.tasks import task
from django.template.loader import render_to_string

from core.tasks import task_enqueue_with_commit

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

# provider(order, kind, extra) -> dict merged into the template context
_context_providers: list[Callable[[Order, str, dict], dict]] = []


def email_context_provider_register(provider: Callable[[Order, str, dict], dict]) -> None:
    """Let a downstream app add context to customer e-mails (called once, from AppConfig.ready)."""
    if provider not in _context_providers:
        _context_providers.append(provider)


def order_email_render(*, order: Order, kind: str, extra: dict | None = None) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of one customer e-mail."""
    extra = extra or {}
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "tracking_url": order_tracking_url(order_number=order.number),
        "extra": extra,
        "kind": kind,
    }
    for provider in _context_providers:
        context.update(provider(order, kind, extra) or {})
    subject = SUBJECTS.get(kind, "About your order {number}").format(number=order.number)
    context["subject"] = subject
    text = render_to_string(f"emails/order_{kind}.txt", context)
    html = render_to_string(f"emails/order_{kind}.html", context)
    return subject, text, html


@task
def send_order_email(*, order_id: int, kind: str, extra: dict | None = None) -> None:
    """Render and send one customer e-mail (plain text and HTML), then log it on the order."""
    order = (
        Order.objects.select_related("channel", "shipping_address").prefetch_related("lines").get(pk=order_id)
    )
    if not order.email:
        return
    subject, text, html = order_email_render(order=order, kind=kind, extra=extra)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [order.email])
    message.attach_alternative(html, "text/html")
    message.send()
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.EMAIL,
        message=f"E-mail [{kind}] “{subject}” sent to {order.email}.",
    )


def order_email_after_commit(*, order_id: int, kind: str, extra: dict | None = None) -> None:
    """Queue a customer e-mail that goes out once the surrounding transaction commits. `extra`
    must be JSON (the task queue stores it): pass ids, not objects."""
    task_enqueue_with_commit(send_order_email, order_id=order_id, kind=kind, extra=extra)
