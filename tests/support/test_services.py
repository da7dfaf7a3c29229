"""support.services: a customer writes (the thread waits in customer service's queue since the
oldest unanswered message), staff answer (e-mailed after commit) or close the thread without
answering (out of the queue, nothing sent), and a customer writing again puts it back."""

import datetime as dt

import pytest
from django.core import mail

from orders.models import OrderEvent
from support.exceptions import MessageRefused
from support.models import Message, Thread
from support.selectors import thread_get_waiting
from support.services import MAX_BODY, support_message_post, support_reply, support_thread_close
from tests.conftest import PINNED_NOW
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def order(db):
    return OrderFactory(email="ada@example.com")


def thread_of(order) -> Thread:
    return Thread.objects.get(order=order)


def test_closing_takes_the_thread_out_of_the_queue_without_a_word_to_the_customer(
    order, django_capture_on_commit_callbacks
):
    staff = UserFactory(username="cs")
    support_message_post(order_id=order.pk, body="Spam, spam, spam.")
    assert thread_get_waiting()[0] == 1
    events = order.events.count()

    with django_capture_on_commit_callbacks(execute=True):
        closed = support_thread_close(thread_id=thread_of(order).pk, actor=staff)

    assert (closed.status, closed.waiting_since) == (Thread.Status.CLOSED, None)
    thread = thread_of(order)
    assert (thread.status, thread.waiting_since) == (Thread.Status.CLOSED, None)
    assert thread_get_waiting() == (0, None)
    assert mail.outbox == []  # closing is not answering: the customer hears nothing
    assert order.events.count() == events
    assert list(thread.messages.values_list("body", flat=True)) == ["Spam, spam, spam."]  # kept


def test_a_customer_writing_again_reopens_a_closed_thread_waiting_since_the_new_message(order, clock):
    support_message_post(order_id=order.pk, body="Is it shipped?")
    support_thread_close(thread_id=thread_of(order).pk)

    clock.moment = PINNED_NOW + 2 * HOUR
    support_message_post(order_id=order.pk, body="Hello again, is it shipped now?")

    thread = thread_of(order)
    assert thread.status == Thread.Status.AWAITING_STAFF
    assert PINNED_NOW + 2 * HOUR <= thread.waiting_since < PINNED_NOW + 2 * HOUR + dt.timedelta(seconds=1)
    assert thread_get_waiting() == (1, thread.waiting_since)
    assert thread.messages.count() == 2


def test_the_queue_counts_from_the_oldest_unanswered_message_and_an_answer_resets_it(order, clock):
    support_message_post(order_id=order.pk, body="Where is my parcel?")
    first_wait = thread_of(order).waiting_since
    clock.moment = PINNED_NOW + HOUR
    support_message_post(order_id=order.pk, body="Hello?")
    assert thread_of(order).waiting_since == first_wait  # still waiting since the first message

    support_reply(thread_id=thread_of(order).pk, body="It left this morning.")
    thread = thread_of(order)
    assert (thread.status, thread.waiting_since) == (Thread.Status.ANSWERED, None)
    assert thread_get_waiting() == (0, None)

    clock.moment = PINNED_NOW + 3 * HOUR
    support_message_post(order_id=order.pk, body="Thanks! One more question.")
    thread = thread_of(order)
    assert thread.status == Thread.Status.AWAITING_STAFF
    assert thread.waiting_since >= PINNED_NOW + 3 * HOUR


def test_the_answer_is_emailed_after_commit_and_noted_on_the_timeline(
    order, django_capture_on_commit_callbacks
):
    staff = UserFactory(username="cs")
    support_message_post(order_id=order.pk, body="Can I change the colour?", topic=Thread.Topic.ADDRESS)

    with django_capture_on_commit_callbacks(execute=True):
        answer = support_reply(thread_id=thread_of(order).pk, body="Yes: it is blue now.", actor=staff)

    assert (answer.author, answer.actor) == (Message.Author.STAFF, staff)
    (sent,) = mail.outbox
    assert sent.to == ["ada@example.com"]
    assert sent.subject == f"Re: your message about order {order.number}"
    assert "Yes: it is blue now." in sent.body
    notes = order.events.filter(kind=OrderEvent.Kind.NOTE).values_list("message", flat=True)
    assert "Answered the customer: Yes: it is blue now." in notes
    assert not order.events.filter(kind=OrderEvent.Kind.NOTE, visible_to_customer=True).exists()


@pytest.mark.parametrize("body", ["", "   \n ", "x" * (MAX_BODY + 1)])
def test_an_empty_or_overlong_message_or_answer_is_refused_and_nothing_is_written(order, body):
    with pytest.raises(MessageRefused):
        support_message_post(order_id=order.pk, body=body)
    assert not Thread.objects.exists()

    support_message_post(order_id=order.pk, body="A real question.")
    with pytest.raises(MessageRefused):
        support_reply(thread_id=thread_of(order).pk, body=body)
    thread = thread_of(order)
    assert thread.status == Thread.Status.AWAITING_STAFF
    assert list(thread.messages.values_list("author", flat=True)) == [Message.Author.CUSTOMER]
