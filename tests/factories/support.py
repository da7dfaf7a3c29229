"""Customer-message threads and their messages, as rows (for the queue and its pages); a customer
writing and staff answering go through support.services."""

import factory
from django.utils import timezone

from support.models import Message, Thread

from .orders import OrderFactory


class ThreadFactory(factory.django.DjangoModelFactory):
    """A thread waiting for an answer since now, unless told otherwise (`status=`,
    `waiting_since=`)."""

    class Meta:
        model = Thread

    order = factory.SubFactory(OrderFactory)
    topic = Thread.Topic.OTHER
    status = Thread.Status.AWAITING_STAFF
    waiting_since = factory.LazyAttribute(
        lambda thread: timezone.now() if thread.status == Thread.Status.AWAITING_STAFF else None
    )


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    thread = factory.SubFactory(ThreadFactory)
    author = Message.Author.CUSTOMER
    body = factory.Sequence(lambda n: f"Message {n}")
