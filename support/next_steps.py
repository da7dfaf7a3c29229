"""A customer message waiting for an answer, on the order's admin page (added with
admin_extend(Order, next_steps=...) from apps.py)."""

from collections.abc import Iterable

from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

from core.admin_extensions import NextStep, PageLink
from orders.models import Order

from .models import Thread


def order_message_steps(request, order: Order) -> Iterable[NextStep]:
    """One query."""
    thread = Thread.objects.filter(order_id=order.pk, status=Thread.Status.AWAITING_STAFF).first()
    if thread is None:
        return
    since = f" for {timesince(thread.waiting_since, timezone.now(), depth=1)}" if thread.waiting_since else ""
    links = ()
    if request.user.has_perm("support.view_thread"):
        label = "Answer" if request.user.has_perm("support.add_message") else "Read it"
        links = (PageLink(label, reverse("admin:support_thread_change", args=[thread.pk])),)
    tone = "act" if request.user.has_perm("support.add_message") else "wait"
    yield NextStep(f"The customer has waited{since} for an answer to their message.", links, tone, order=70)
