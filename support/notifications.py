"""E-mails of customer messages, sent after commit through django.tasks: customer service's
answer to the customer, and the note to customer service's inbox when a customer writes."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse

from core.tasks import task_enqueue_with_commit
from orders.links import order_tracking_url
from orders.models import OrderEvent

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
    email = EmailMultiAlternatives(
        subject,
        render_to_string("emails/support_reply.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [order.email],
    )
    email.attach_alternative(render_to_string("emails/support_reply.html", context), "text/html")
    email.send()
    OrderEvent.objects.create(
        order=order, kind=OrderEvent.Kind.EMAIL, message=f"E-mail “{subject}” sent to {order.email}."
    )


def support_reply_email_after_commit(*, message_id: int) -> None:
    """Queue the answer e-mail that goes out once the surrounding transaction commits."""
    task_enqueue_with_commit(send_support_reply_email, message_id=message_id)


@task
def send_support_inbox_email(*, message_id: int) -> None:
    """Tell customer service's shared inbox (OMS_SUPPORT_INBOX) that a customer wrote: the
    message, the order, a link to the thread in the admin. Replying to it reaches the customer."""
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
    subject = f"Customer message about {order.number}: {thread.get_topic_display()}"
    email = EmailMultiAlternatives(
        subject,
        render_to_string("emails/support_inbox.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [inbox],
        reply_to=[order.email] if order.email else None,
    )
    email.send()


def support_inbox_email_after_commit(*, message_id: int) -> None:
    """Queue the note to customer service's inbox, when one is configured."""
    if settings.OMS["SUPPORT_INBOX"]:
        task_enqueue_with_commit(send_support_inbox_email, message_id=message_id)
