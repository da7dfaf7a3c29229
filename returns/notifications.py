"""Return e-mails to the customer, sent after commit through django.tasks. Each e-mail sent is
logged on the order's timeline (staff only)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.tasks import task
from django.template.loader import render_to_string

from core.tasks import task_enqueue_with_commit
from orders.links import order_tracking_url
from orders.models import OrderEvent

from .models import Refund, ReturnRequest, StoreCredit

SUBJECTS = {
    "requested": "We have your return request {number}",
    "approved": "Return {number} approved: how to send your items back",
    "rejected": "About your return request {number}",
    "refunded": "Your refund for return {number}",
    "store_credit": "Your store credit for return {number}",
    "exchanged": "Your exchange for return {number} is on its way",
}


@task
def send_return_email(*, return_id: int, kind: str) -> None:
    """Render and send one return e-mail (plain text and HTML), then log it on the order."""
    rr = (
        ReturnRequest.objects.select_related("order", "replacement_order", "store_credit")
        .prefetch_related("lines__order_line", "refunds")
        .get(pk=return_id)
    )
    order = rr.order
    if not order.email:
        return
    refunds = sorted(rr.refunds.all(), key=lambda r: r.pk)
    refund = refunds[-1] if refunds else None
    codes = [r.reference for r in refunds if r.method == Refund.Method.STORE_CREDIT and r.reference]
    credits = {c.code: c for c in StoreCredit.objects.filter(code__in=codes)} if codes else {}
    for r in refunds:
        r.credit = credits.get(r.reference)
    context = {
        "rr": rr,
        "order": order,
        "kind": kind,
        "lines": list(rr.lines.all()),
        "refund": refund,
        "refunds": refunds,
        "credit": getattr(rr, "store_credit", None),
        "tracking_url": order_tracking_url(order_number=order.number),
    }
    subject = SUBJECTS[kind].format(number=rr.number)
    text = render_to_string("emails/return_update.txt", context)
    html = render_to_string("emails/return_update.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [order.email])
    message.attach_alternative(html, "text/html")
    message.send()
    OrderEvent.objects.create(
        order=order, kind=OrderEvent.Kind.EMAIL, message=f"E-mail “{subject}” sent to {order.email}."
    )


def return_email_after_commit(*, return_id: int, kind: str) -> None:
    """Queue a return e-mail that goes out once the surrounding transaction commits."""
    task_enqueue_with_commit(send_return_email, return_id=return_id, kind=kind)
