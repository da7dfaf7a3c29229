"""Return e-mails to the customer, sent after commit (core.email). Each e-mail sent is logged on
the order's timeline (staff only) by orders.notifications.order_email_send."""

from django.tasks import task

from core.email import Email, email_after_commit
from orders.links import order_tracking_url
from orders.notifications import order_email_send

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
    order_email_send(
        order=order, email=Email(name="return_update", subject=subject, to=[order.email], context=context)
    )


def return_email_after_commit(*, return_id: int, kind: str) -> None:
    """Queue a return e-mail that goes out once the surrounding transaction commits."""
    email_after_commit(send_return_email, return_id=return_id, kind=kind)
