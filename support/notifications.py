"""E-mails of customer messages, sent after commit (core.email): customer service's answer to
the customer (logged on the order's timeline by orders.notifications.order_email_send), and the
note to customer service's inbox when a customer writes."""

from django.conf import settings
from django.tasks import task
from django.urls import reverse

from core.email import Email, email_after_commit, email_send
from orders.links import order_tracking_url
from orders.notifications import order_email_send

from .models import Message


@task
def send_support_reply_email(*, message_id: int) -> None:
    """Send one answer to the customer (plain text and HTML), then log it on the order."""
    message = Message.objects.select_related("thread__order").get(pk=message_id)
    order = message.thread.order
    if not order.email:
        return
    context = {
        "message": message,
        "order": order,
        "tracking_url": order_tracking_url(order_number=order.number) + "#messages",
    }
    subject = f"Re: your message about order {order.number}"
    order_email_send(
        order=order, email=Email(name="support_reply", subject=subject, to=[order.email], context=context)
    )


def support_reply_email_after_commit(*, message_id: int) -> None:
    """Queue the answer e-mail that goes out once the surrounding transaction commits."""
    email_after_commit(send_support_reply_email, message_id=message_id)


@task
def send_support_inbox_email(*, message_id: int) -> None:
    """Tell customer service's shared inbox (OMS_SUPPORT_INBOX) that a customer wrote: the
    message, the order, a link to the thread in the admin (plain text). Replying to it reaches
    the customer."""
    inbox = settings.OMS["SUPPORT_INBOX"]
    if not inbox:
        return
    message = Message.objects.select_related("thread__order").get(pk=message_id)
    thread, order = message.thread, message.thread.order
    context = {
        "message": message,
        "thread": thread,
        "order": order,
        "thread_url": settings.SITE_URL + reverse("admin:support_thread_change", args=[thread.pk]),
    }
    email_send(
        Email(
            name="support_inbox",
            subject=f"Customer message about {order.number}: {thread.get_topic_display()}",
            to=[inbox],
            context=context,
            reply_to=[order.email] if order.email else None,
            html=False,
        )
    )


def support_inbox_email_after_commit(*, message_id: int) -> None:
    """Queue the note to customer service's inbox, when one is configured."""
    if settings.OMS["SUPPORT_INBOX"]:
        email_after_commit(send_support_inbox_email, message_id=message_id)
