"""core.email: one e-mail is rendered from its text and HTML templates and sent through Django's
mailer; queued with email_after_commit it leaves only once the transaction commits, and never
for work that was rolled back."""

import pytest
from django.core import mail
from django.db import transaction
from django.tasks import task
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from core.email import Email, email_after_commit, email_send

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {
            "loaders": [
                (
                    "django.template.loaders.locmem.Loader",
                    {
                        "emails/greeting.txt": "Hello {{ who }}, your parcel left.",
                        "emails/greeting.html": "<p>Hello <b>{{ who }}</b>, your parcel left.</p>",
                    },
                )
            ]
        },
    }
]
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("greeting_templates")]


@pytest.fixture
def greeting_templates():
    with override_settings(TEMPLATES=TEMPLATES):
        yield


def greeting(to: str, **overrides) -> Email:
    values = {"name": "greeting", "subject": "Your parcel", "to": [to], "context": {"who": "Ada"}}
    return Email(**{**values, **overrides})


@task
def send_greeting(*, to: str) -> None:
    email_send(greeting(to))


class Boom(Exception):
    pass


def test_sends_text_and_html_from_the_templates(settings):
    sent = []
    email_send(greeting("ada@example.com", reply_to=["desk@example.com"]), on_sent=lambda: sent.append(1))

    (message,) = mail.outbox
    assert (message.subject, message.to, message.reply_to) == (
        "Your parcel",
        ["ada@example.com"],
        ["desk@example.com"],
    )
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.body == "Hello Ada, your parcel left."
    assert message.alternatives == [("<p>Hello <b>Ada</b>, your parcel left.</p>", "text/html")]
    assert sent == [1]  # the sender's callback ran, once, after sending


def test_a_plain_text_email_has_no_html_part():
    email_send(greeting("inbox@example.com", html=False))
    (message,) = mail.outbox
    assert message.body.startswith("Hello") and message.alternatives == []


def test_nothing_is_sent_before_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            email_after_commit(send_greeting, to="ada@example.com")
            assert mail.outbox == []
        assert mail.outbox == []  # committed (to the test's savepoint), callbacks not run yet
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_nothing_is_sent_for_work_that_rolled_back(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        email_after_commit(send_greeting, to="ada@example.com")
        raise Boom
    assert callbacks == [] and mail.outbox == []


@override_settings(TASKS=DB_TASKS)
def test_with_the_database_queue_the_task_row_rolls_back_with_the_work():
    with transaction.atomic():
        email_after_commit(send_greeting, to="ada@example.com")
    assert DBTaskResult.objects.get().task_path == "tests.core.test_email.send_greeting"

    with pytest.raises(Boom), transaction.atomic():
        email_after_commit(send_greeting, to="bob@example.com")
        raise Boom
    assert DBTaskResult.objects.count() == 1 and mail.outbox == []
