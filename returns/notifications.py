"""Return e-mails to the customer, sent after commit (core.email). Each e-mail sent is logged on
the order's timeline (staff only) by orders.notifications.order_email_send."""

from django.conf import settings
from django.tasks import task
from django.urls import reverse

from core.email import Email, email_after_commit
from orders.links import order_tracking_token, order_tracking_url
from orders.notifications import order_email_send

from .models import Refund, ReturnLabel, ReturnRequest, StoreCredit

SUBJECTS = {
    "requested": "We have your return request {number}",
    "approved": "Return {number} approved: how to send your items back",
    "rejected": "About your return request {number}",
    "refunded": "Your refund for return {number}",
    "store_credit": "Your store credit for return {number}",
    "exchanged": "Your exchange for return {number} is on its way",
    "return_label": "Your prepaid return label for {number}",
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
    label = rr.labels.filter(status=ReturnLabel.Status.BOUGHT).first() if kind == "return_label" else None
    attachments = []
    if label is not None and label.document:
        mimetype = "application/pdf" if label.label_format == "pdf" else "application/octet-stream"
        attachments.append(
            (f"return-label-{rr.number}.{label.label_format}", bytes(label.document), mimetype)
        )
    label_coming = False
    if kind == "approved":
        from .labels import return_label_due, return_label_gateway  # labels e-mails through this module

        label_coming = return_label_due(rr) and return_label_gateway(rr) is not None
    context = {
        "label": label,
        "label_coming": label_coming,
        "rr": rr,
        "order": order,
        "kind": kind,
        "lines": list(rr.lines.all()),
        "refund": refund,
        "refunds": refunds,
        "credit": getattr(rr, "store_credit", None),
        "tracking_url": order_tracking_url(order_number=order.number),
        "return_url": settings.SITE_URL
        + reverse("portal:return_done", args=[order_tracking_token(order_number=order.number), rr.number]),
    }
    subject = SUBJECTS[kind].format(number=rr.number)
    order_email_send(
        order=order,
        email=Email(
            name="return_update", subject=subject, to=[order.email], context=context, attachments=attachments
        ),
    )


def return_email_after_commit(*, return_id: int, kind: str) -> None:
    """Queue a return e-mail that goes out once the surrounding transaction commits."""
    email_after_commit(send_return_email, return_id=return_id, kind=kind)
