"""Core's queue on the staff home page (core.admin_home), registered from apps.py: deliveries to
channels and subscribers that need staff (the worker gave up, or the connection's credentials
were refused), for customer service to look at and send again."""

from .admin_home import CUSTOMER_SERVICE, home_queue_register
from .models import Delivery

NEEDS_STAFF = (Delivery.Status.DEAD, Delivery.Status.PAUSED)


def delivery_count_needing_staff() -> int:
    """Deliveries given up or paused. One query ((status, next_attempt_at) index)."""
    return Delivery.objects.filter(status__in=NEEDS_STAFF).count()


def register_home_queues() -> None:
    home_queue_register(
        section=CUSTOMER_SERVICE,
        title="Failed deliveries to channels",
        help="Updates a channel or subscriber never received: fix the cause, then send again",
        count=delivery_count_needing_staff,
        url="admin:core_delivery_changelist",
        query={"status__in": ",".join(NEEDS_STAFF)},
        permission="core.view_delivery",
        order=60,
    )
