"""Customer e-mails about an order, sent after commit through core.email (a django.tasks task:
a worker in production, inline in tests). Every e-mail sent to a customer about an order, by any
app, is logged on the order's timeline (an `email` event naming the subject and recipient) by
`order_email_send`.

Apps further down the import chain add what they know to an e-mail's context with
`email_context_provider_register` (fulfilment adds the shipment, carrier, tracking link and
delivery estimate), so orders never imports them.
"""

import logging
from collections.abc import Callable

from django.tasks import task

from core.email import Email, email_after_commit, email_render, email_send

from .links import order_tracking_url
from .models import Order, OrderEvent

logger = logging.getLogger(__name__)

SUBJECTS = {
    "confirmation": "We have your order {number}",
    "backordered": "Part of order {number} is on backorder",
    "backorder_released": "Good news: order {number} is being prepared",
    "cancelled": "Order {number} has been cancelled",
    "changed": "Your order {number} has been changed",
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


def order_email_send(*, order: Order, email: Email, kind: str = "") -> None:
    """Send `email` (to the order's customer) now through core.email and log it on the order's
    timeline; `kind`, when given, is named in the log. Every customer e-mail about an order, from
    any app, goes out through here. Call it from a task queued after commit."""

    def log_on_order() -> None:
        label = f"[{kind}] " if kind else ""
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.EMAIL,
            message=f"E-mail {label}“{email.subject}” sent to {order.email}.",
        )

    email_send(email, on_sent=log_on_order)


def order_email(*, order: Order, kind: str, extra: dict | None = None) -> Email:
    """One customer e-mail of `kind` about the order (templates/emails/order_<kind>.*)."""
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
    return Email(name=f"order_{kind}", subject=subject, to=[order.email], context=context)


def order_email_render(*, order: Order, kind: str, extra: dict | None = None) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of one customer e-mail."""
    email = order_email(order=order, kind=kind, extra=extra)
    text, html = email_render(email)
    return email.subject, text, html


@task
def send_order_email(*, order_id: int, kind: str, extra: dict | None = None) -> None:
    """Render and send one customer e-mail (plain text and HTML), then log it on the order."""
    order = (
        Order.objects.select_related("channel", "shipping_address").prefetch_related("lines").get(pk=order_id)
    )
    if not order.email:
        return
    order_email_send(order=order, email=order_email(order=order, kind=kind, extra=extra), kind=kind)


@task
def send_order_emails(*, emails: list[dict]) -> None:
    """Send the customer e-mails a batch of orders asked for (capture: one task for the batch,
    not one per order), each as send_order_email would. One that fails is queued again on its
    own (and fails there as a single e-mail task would), so the others are not sent twice."""
    for item in emails:
        try:
            send_order_email.func(order_id=item["order_id"], kind=item["kind"], extra=item.get("extra"))
        except Exception:
            logger.exception("%s e-mail for order %s failed; queued alone.", item["kind"], item["order_id"])
            send_order_email.enqueue(order_id=item["order_id"], kind=item["kind"], extra=item.get("extra"))


def order_emails_after_commit(emails: list[dict]) -> None:
    """Queue many customer e-mails ({order_id, kind, extra} each) as one task that runs once the
    surrounding transaction commits."""
    email_after_commit(send_order_emails, emails=emails)


def order_email_after_commit(*, order_id: int, kind: str, extra: dict | None = None) -> None:
    """Queue a customer e-mail that goes out once the surrounding transaction commits. `extra`
    must be JSON (the task queue stores it): pass ids, not objects."""
    email_after_commit(send_order_email, order_id=order_id, kind=kind, extra=extra)
