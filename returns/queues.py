"""Returns' queues on the staff home page (core.admin_home), registered from apps.py."""

from functools import partial

from core.admin_home import CUSTOMER_SERVICE, WAREHOUSE, home_queue_register

from .models import ReturnRequest
from .selectors import return_request_count

RS = ReturnRequest.Status
RETURNS = "admin:returns_returnrequest_changelist"


def register_home_queues() -> None:
    # The `queue` values are the return list's own "queue" filter (returns.admin.QueueFilter).
    home_queue_register(
        section=WAREHOUSE,
        title="Return parcels to receive",
        help="Approved returns on their way back",
        count=partial(return_request_count, status=[RS.APPROVED, RS.IN_TRANSIT, RS.DELIVERED]),
        url=RETURNS,
        query={"queue": "awaiting"},
        permission="returns.view_returnrequest",
        order=50,
    )
    home_queue_register(
        section=WAREHOUSE,
        title="Receive a return",
        url="admin:returns_returnrequest_scan",
        permission="returns.receive_returnrequest",
        order=50,
    )
    home_queue_register(
        section=WAREHOUSE,
        title="Returns to inspect",
        help="Received, condition not recorded yet",
        count=partial(return_request_count, status=RS.RECEIVED),
        url=RETURNS,
        query={"queue": "inspect"},
        permission="returns.view_returnrequest",
        order=60,
    )
    home_queue_register(
        section=CUSTOMER_SERVICE,
        title="Returns to approve",
        help="Requested by the customer",
        count=partial(return_request_count, status=RS.REQUESTED),
        url=RETURNS,
        query={"queue": "decide"},
        permission="returns.view_returnrequest",
        order=40,
    )
