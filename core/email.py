"""E-mail: every e-mail the system sends is rendered, sent and queued the same way, here.

An e-mail is a pair of templates, templates/emails/<name>.txt and (unless it is plain text
only) templates/emails/<name>.html, rendered with one context, plus a subject and recipients.
`email_send` renders it and sends it through Django's mailer, then runs the sender's `on_sent`
callback: orders passes one that logs the e-mail on the order's timeline (core imports no app).

E-mails leave after commit, never for work that was rolled back: each app's e-mail is a
django.tasks task that reads its rows by id and calls `email_send`, and `email_after_commit`
queues that task with the surrounding transaction (core.tasks.task_enqueue_with_commit: in the
same transaction with the database backend, an outbox; after commit with any other).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .tasks import task_enqueue_with_commit


@dataclass(frozen=True)
class Email:
    name: str  # templates/emails/<name>.txt and .html
    subject: str
    to: list[str]
    context: dict = field(default_factory=dict)
    reply_to: list[str] | None = None
    html: bool = True  # False: a plain-text e-mail, no .html template
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)  # (filename, content, mimetype)


def email_render(email: Email) -> tuple[str, str | None]:
    """The plain text and the HTML (None for a plain-text e-mail) of one e-mail."""
    text = render_to_string(f"emails/{email.name}.txt", email.context)
    html = render_to_string(f"emails/{email.name}.html", email.context) if email.html else None
    return text, html


def email_send(email: Email, *, on_sent: Callable[[], None] | None = None) -> None:
    """Render and send one e-mail now (from DEFAULT_FROM_EMAIL), then run `on_sent`.

    Call it from a task queued with `email_after_commit`, not inside a transaction that may
    still roll back. Raises what the mailer raises; `on_sent` runs only once the mailer took it.
    """
    text, html = email_render(email)
    message = EmailMultiAlternatives(
        email.subject, text, settings.DEFAULT_FROM_EMAIL, email.to, reply_to=email.reply_to
    )
    if html is not None:
        message.attach_alternative(html, "text/html")
    for filename, content, mimetype in email.attachments:
        message.attach(filename, content, mimetype)
    message.send()
    if on_sent is not None:
        on_sent()


def email_after_commit(task, **kwargs) -> None:
    """Queue an e-mail task that runs only if the surrounding transaction commits (at once when
    there is none). `kwargs` must be JSON, as the task queue stores them: ids, not objects."""
    task_enqueue_with_commit(task, **kwargs)
