"""The inbound requests' queue and the phone-order page on the staff home page (core.admin_home),
registered from intake/apps.py.

Only failed requests make a queue: "held" says a request's order is on hold (it follows the
order: released, it says captured), and the held orders themselves are in customer service's
holds queue. A failed request that staff re-process successfully stops being failed.
"""

from core.admin_home import CUSTOMER_SERVICE, home_queue_register

from .models import InboundRequest


def inbound_request_count_failed() -> int:
    """Inbound requests that failed and wait for staff to re-process them. One query (outcome
    index)."""
    return InboundRequest.objects.filter(outcome=InboundRequest.Outcome.FAILED).count()


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
