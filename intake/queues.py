"""The inbound requests' queues and the phone-order page on the staff home page (core.admin_home),
registered from intake/apps.py.

Failed requests make a queue: "held" says a request's order is on hold (it follows the
order: released, it says captured), and the held orders themselves are in customer service's
holds queue. A failed request that staff re-process successfully stops being failed.

The requests waiting for the intake worker make another, with the age of the oldest: the
back-pressure of a burst of orders, seen before customers notice (also in /healthz?detail=1).
"""

from django.utils import timezone
from django.utils.timesince import timesince

from core.admin_home import CUSTOMER_SERVICE, HomeCount, home_queue_register

from .models import InboundRequest
from .selectors import inbound_get_backlog


def inbound_request_count_failed() -> int:
    """Inbound requests that failed and wait for staff to re-process them. One query (outcome
    index)."""
    return InboundRequest.objects.filter(outcome=InboundRequest.Outcome.FAILED).count()


def inbound_request_count_waiting() -> HomeCount:
    """Requests waiting for the intake worker, and how long the oldest has waited. One query."""
    backlog = inbound_get_backlog()
    if not backlog.pending or backlog.oldest_at is None:
        return HomeCount(backlog.pending)
    return HomeCount(
        backlog.pending, note=f"oldest waiting {timesince(backlog.oldest_at, timezone.now(), depth=1)}"
    )


def register_home_queues() -> None:
    home_queue_register(
        section=CUSTOMER_SERVICE,
        title="Take a phone order",
        url="admin:orders_order_phone",
        permission="orders.add_order",
        order=5,
    )
    home_queue_register(
        section=CUSTOMER_SERVICE,
        title="Failed inbound requests",
        help="Orders a channel sent that could not be captured: fix the cause, then re-process",
        count=inbound_request_count_failed,
        url="admin:intake_inboundrequest_changelist",
        query={"outcome__exact": InboundRequest.Outcome.FAILED},
        permission="intake.view_inboundrequest",
        order=20,
    )
    home_queue_register(
        section=CUSTOMER_SERVICE,
        title="Inbound requests waiting",
        help="Orders received, not yet processed: a long wait means the intake worker is behind or stopped",
        count=inbound_request_count_waiting,
        url="admin:intake_inboundrequest_changelist",
        query={"outcome__exact": InboundRequest.Outcome.RECEIVED},
        permission="intake.view_inboundrequest",
        order=21,
    )
