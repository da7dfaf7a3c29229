"""The e-mail that carries customer service's answer, sent after commit through django.tasks."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.tasks import task
from django.template.loader import render_to_string

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
