"""Customer messages on the staff home page (core.admin_home), registered from apps.py."""

from django.utils import timezone
from django.utils.timesince import timesince

from core.admin_home import CUSTOMER_SERVICE, HomeCount, home_queue_register

from .selectors import thread_get_waiting


def _waiting() -> HomeCount:
    count, oldest = thread_get_waiting()
    if not count or oldest is None:
        return HomeCount(count)
    return HomeCount(count, note=f"oldest waiting {timesince(oldest, timezone.now(), depth=1)}")


def register_home_queues() -> None:
    home_queue_register(
        section=CUSTOMER_SERVICE,
        title="Customer messages to answer",
        help="Conversations waiting for us, oldest first",
        count=_waiting,
        url="admin:support_thread_changelist",
        query={"queue": "waiting"},
        permission="support.view_thread",
        order=30,
    )
