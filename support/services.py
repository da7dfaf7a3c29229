"""Writes to customer messages: the customer writes, customer service answers (e-mailed).

Lock order: the order row, then its thread row.
"""

from django.db import transaction
from django.utils import timezone

from orders.events import order_event_record, order_lock
from orders.models import OrderEvent

from .exceptions import MessageRefused
from .models import Message, Thread
from .notifications import support_inbox_email_after_commit, support_reply_email_after_commit

MAX_BODY = 4000


def _clean(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise MessageRefused("Write a message first.")
    if len(body) > MAX_BODY:
        raise MessageRefused(f"Please keep the message under {MAX_BODY} characters.")
    return body


@transaction.atomic
def support_message_post(*, order_id: int, body: str, topic: str = Thread.Topic.OTHER) -> Message:
    """A customer message about an order: appended to the order's thread (created on the first
    message), which goes back into the customer-service queue.

    Locks the order, then the thread. Raises MessageRefused for an empty or over-long message.
    """
    body = _clean(body)
    if topic not in Thread.Topic.values:
        topic = Thread.Topic.OTHER
    order = order_lock(order_id)
    thread, created = Thread.objects.select_for_update().get_or_create(
        order=order, defaults={"topic": topic, "waiting_since": timezone.now()}
    )
    if not created:
        fields = ["status", "updated_at"]
        if thread.status != Thread.Status.AWAITING_STAFF:
            thread.waiting_since = timezone.now()
            fields.append("waiting_since")
        thread.status = Thread.Status.AWAITING_STAFF
        thread.save(update_fields=fields)
    message = Message.objects.create(thread=thread, author=Message.Author.CUSTOMER, body=body)
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.NOTE,
        message=f"Customer wrote ({thread.get_topic_display().lower()}): {body[:200]}",
    )
    support_inbox_email_after_commit(message_id=message.pk)
    return message


@transaction.atomic
def support_reply(*, thread_id: int, body: str, actor=None) -> Message:
    """Customer service answers a thread: shown on the customer's order page and e-mailed.

    Locks the order, then the thread. Raises MessageRefused for an empty or over-long answer.
    E-mails the customer after commit.
    """
    body = _clean(body)
    order_id = Thread.objects.values_list("order_id", flat=True).get(pk=thread_id)
    order = order_lock(order_id)
    thread = Thread.objects.select_for_update().get(pk=thread_id)
    message = Message.objects.create(
        thread=thread,
        author=Message.Author.STAFF,
        body=body,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    thread.status = Thread.Status.ANSWERED
    thread.waiting_since = None
    thread.save(update_fields=["status", "waiting_since", "updated_at"])
    order_event_record(
        order=order, kind=OrderEvent.Kind.NOTE, actor=actor, message=f"Answered the customer: {body[:200]}"
    )
    support_reply_email_after_commit(message_id=message.pk)
    return message


@transaction.atomic
def support_thread_close(*, thread_id: int, actor=None) -> Thread:
    """Take a thread out of the queue without answering (spam, solved by phone). Locks the thread."""
    thread = Thread.objects.select_for_update().get(pk=thread_id)
    thread.status = Thread.Status.CLOSED
    thread.waiting_since = None
    thread.save(update_fields=["status", "waiting_since", "updated_at"])
    return thread
