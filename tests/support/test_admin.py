"""support.admin, customer service's Threads: unanswered threads first (the longest waiting on
top), each with its last message, at a cost that doesn't grow with the list; the thread page
with the conversation and an empty box for the answer; closing without answering."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from support.models import Message, Thread
from tests.conftest import PINNED_NOW
from tests.factories import MessageFactory, OrderFactory, ThreadFactory, UserFactory, staff_in

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)
LIST_URL = reverse("admin:support_thread_changelist")


@pytest.fixture
def cs_client(client):
    client.force_login(staff_in("Customer service"))
    return client


def change_url(thread):
    return reverse("admin:support_thread_change", args=[thread.pk])


def reply_form(thread, body):
    return {
        "messages-TOTAL_FORMS": "1",
        "messages-INITIAL_FORMS": "0",
        "messages-MIN_NUM_FORMS": "0",
        "messages-MAX_NUM_FORMS": "1000",
        "messages-0-body": body,
        "messages-0-id": "",
        "messages-0-thread": str(thread.pk),
    }


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_unanswered_threads_come_first_the_longest_waiting_on_top(cs_client, clock):
    answered = ThreadFactory(status=Thread.Status.ANSWERED)
    closed = ThreadFactory(status=Thread.Status.CLOSED)
    waiting_an_hour = ThreadFactory(waiting_since=PINNED_NOW - HOUR)
    waiting_a_day = ThreadFactory(waiting_since=PINNED_NOW - 24 * HOUR)
    Thread.objects.filter(pk=answered.pk).update(updated_at=PINNED_NOW - 48 * HOUR)  # answered long ago

    listed = list(cs_client.get(LIST_URL).context["cl"].result_list)

    assert listed[:2] == [waiting_a_day, waiting_an_hour]
    assert set(listed[2:]) == {answered, closed}
    waiting = cs_client.get(LIST_URL, {"queue": "waiting"}).context["cl"].result_list
    assert list(waiting) == [waiting_a_day, waiting_an_hour]


def test_each_thread_shows_its_customer_and_last_message(cs_client):
    order = OrderFactory(customer_name="Ada Lovelace", email="ada@example.com")
    thread = ThreadFactory(order=order, status=Thread.Status.ANSWERED)
    MessageFactory(thread=thread, body="Where is my parcel?")
    MessageFactory(thread=thread, author=Message.Author.STAFF, body="On its way since this morning.")
    quiet = ThreadFactory()

    page = cs_client.get(LIST_URL).content.decode()

    assert "Ada Lovelace &lt;ada@example.com&gt;" in page
    assert "Customer service: On its way since this morning." in page
    assert "Customer: Where is my parcel?" not in page  # only the last message
    assert quiet.order.number in page


def test_threads_are_found_by_order_number_email_or_what_was_written(cs_client):
    wanted = ThreadFactory(order=OrderFactory(email="grace@example.com"))
    MessageFactory(thread=wanted, body="The lid is cracked.")
    MessageFactory(thread=ThreadFactory(), body="Other business.")

    for term in [wanted.order.number, "grace@example.com", "lid is cracked"]:
        assert list(cs_client.get(LIST_URL, {"q": term}).context["cl"].result_list) == [wanted], term


def _threads(n):
    for i in range(n):
        thread = ThreadFactory(waiting_since=PINNED_NOW - i * HOUR)
        MessageFactory(thread=thread, body=f"Question {i}")
        MessageFactory(thread=thread, author=Message.Author.STAFF, body=f"Answer {i}")


@pytest.mark.parametrize("size", [3, 30])
def test_the_thread_list_costs_the_same_queries_whatever_its_length(
    cs_client, clock, django_assert_num_queries, size
):
    _threads(size)
    cs_client.get(LIST_URL)  # warm caches (content types, session)
    # The session, the user, their own and their groups' permissions; the count of the list and
    # of all threads; one page of threads with their orders and last messages.
    with django_assert_num_queries(7):
        response = cs_client.get(LIST_URL)
    assert len(response.context["cl"].result_list) == size


def test_the_thread_page_shows_the_conversation_and_an_empty_box_for_the_answer(cs_client):
    thread = ThreadFactory(order=OrderFactory(customer_name="Ada Lovelace"))
    MessageFactory(thread=thread, body="The box was <crushed>.")
    MessageFactory(
        thread=thread,
        author=Message.Author.STAFF,
        actor=UserFactory(username="sam", first_name="Sam", last_name="Vimes"),
        body="Sorry! A new one is on its way.",
    )

    response = cs_client.get(change_url(thread))

    page = response.content.decode()
    assert "The box was &lt;crushed&gt;." in page  # escaped, never HTML
    assert "<strong>Sam Vimes</strong>" in page and "Sorry! A new one is on its way." in page
    (formset,) = [f for f in response.context["inline_admin_formsets"] if f.formset.model is Message]
    assert [form.instance.pk for form in formset.formset.forms] == [None]  # old messages: history only
    assert 'name="messages-0-body"' in page


def test_an_answer_written_in_the_box_is_sent_and_the_thread_answered(
    cs_client, django_capture_on_commit_callbacks
):
    thread = ThreadFactory(order=OrderFactory(email="ada@example.com"))
    MessageFactory(thread=thread, body="Where is my parcel?")

    with django_capture_on_commit_callbacks(execute=True):
        response = cs_client.post(change_url(thread), reply_form(thread, "It arrives tomorrow."), follow=True)

    assert "Answer sent to ada@example.com." in messages_of(response)
    thread.refresh_from_db()
    assert (thread.status, thread.waiting_since) == (Thread.Status.ANSWERED, None)
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert thread.messages.last().body == "It arrives tomorrow."


@pytest.mark.parametrize(("body", "sent"), [("", None), ("x" * 4001, "Answer not sent: Please keep")])
def test_an_empty_or_overlong_answer_sends_nothing(cs_client, body, sent):
    thread = ThreadFactory()
    MessageFactory(thread=thread, body="Hello?")

    response = cs_client.post(change_url(thread), reply_form(thread, body), follow=True)

    assert response.status_code == 200
    notices = messages_of(response)
    assert not any("Answer sent" in m for m in notices)
    if sent:
        assert any(m.startswith(sent) for m in notices), notices
    thread.refresh_from_db()
    assert thread.status == Thread.Status.AWAITING_STAFF
    assert thread.messages.count() == 1
    assert mail.outbox == []


def test_closing_without_answering_takes_it_off_the_queue_and_the_button_away(cs_client):
    thread = ThreadFactory()
    url = reverse("admin:support_thread_object_action", args=[thread.pk, "close"])
    assert "close" in {b.action.name for b in cs_client.get(change_url(thread)).context["object_actions"]}

    response = cs_client.post(url, follow=True)

    assert f"Conversation about {thread.order.number} closed." in messages_of(response)
    thread.refresh_from_db()
    assert thread.status == Thread.Status.CLOSED
    assert "close" not in {b.action.name for b in response.context["object_actions"]}
    assert thread not in cs_client.get(LIST_URL, {"queue": "waiting"}).context["cl"].result_list
    assert mail.outbox == []


def test_managers_read_the_threads_but_neither_answer_nor_close(client):
    thread = ThreadFactory()
    MessageFactory(thread=thread, body="Hello?")
    client.force_login(staff_in("Managers"))

    page = client.get(change_url(thread))

    assert page.status_code == 200 and "Hello?" in page.content.decode()
    assert 'name="messages-0-body"' not in page.content.decode()
    assert client.post(change_url(thread), reply_form(thread, "Hi!")).status_code == 403
    close = reverse("admin:support_thread_object_action", args=[thread.pk, "close"])
    assert client.post(close).status_code == 403
    thread.refresh_from_db()
    assert (thread.status, thread.messages.count()) == (Thread.Status.AWAITING_STAFF, 1)


def test_warehouse_staff_do_not_see_customer_messages(client):
    client.force_login(staff_in("Warehouse staff"))
    assert client.get(LIST_URL).status_code == 403
