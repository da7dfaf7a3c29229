"""Reconciliation: read a channel's stock levels, compare them with ours, fix the drift.

Run by `manage.py stock_reconcile CHANNEL [--fix]` and the connection's admin page. The read is
made at once (not through the delivery log: nothing changes on the shop's side); the fix queues
one coalesced push per drifted SKU, sent by the worker like any other stock change.
"""

from core.exceptions import DomainError
from core.outbox.errors import DeliveryFailed, DeliveryRetry, DeliveryRevoked
from core.outbox.http import OutboundHttp
from orders.models import Channel

from .channels import channel_plan, connection_for
from .models import ShopifyConnection
from .shopify.outbound import shopify_stock_read
from .stock import Reconciliation, stock_reconciliation
from .woocommerce.outbound import woocommerce_stock_read


class ReconcileError(DomainError):
    """The channel's levels can't be read (not connected, refused, throttled, unreachable)."""


def stock_reconcile(*, channel: Channel, transport=None) -> Reconciliation:
    """Read every level the channel shows and list where it differs from ours.

    Raises ReconcileError with the reason when the channel can't be read now."""
    connection = connection_for(channel.pk)
    plan = channel_plan(channel.pk)
    if connection is None or plan is None or not connection.is_connected:
        raise ReconcileError(f"{channel} is not connected: there are no levels to read.")
    if not plan.groups:
        raise ReconcileError(f"{channel} sells from none of our warehouses: map its locations first.")
    http = OutboundHttp(transport=transport)
    try:
        if isinstance(connection, ShopifyConnection):
            theirs = shopify_stock_read(connection, http, locations={g.location for g in plan.groups})
        else:
            theirs = woocommerce_stock_read(connection, http)
    except DeliveryRetry as exc:
        wait = f" Try again in {exc.after:.0f} s." if exc.after else " Try again later."
        raise ReconcileError(f"{channel} can't be read now: {exc}{wait}") from None
    except (DeliveryFailed, DeliveryRevoked) as exc:
        raise ReconcileError(f"{channel} refused: {exc}") from None
    finally:
        http.close()
    return stock_reconciliation(channel_id=channel.pk, theirs=theirs)
