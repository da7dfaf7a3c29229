"""What the connectors do when the domain changes: owe the channels a delivery, in the same
transaction (the signals are sent inside the writer's transaction; see apps.py)."""

from orders.models import Order, OrderEvent

from .channels import SHOPIFY, WOOCOMMERCE, channel_plan
from .echo import is_channel_echo
from .shopify.outbound import shopify_cancel_enqueue, shopify_fulfillment_enqueue, shopify_tracking_enqueue
from .woocommerce.outbound import woocommerce_cancel_enqueue, woocommerce_shipment_enqueue


def _plan_for(order: Order):
    """The connected channel plan the order came from, when it came from a connected shop."""
    if not order.external_id:
        return None
    plan = channel_plan(order.channel_id)
    return plan if plan is not None and plan.connected else None


def shipment_shipped_receiver(sender, shipment, order, **kwargs) -> None:
    """fulfillment.signals.shipment_shipped → the shop hears of the fulfilment and its tracking."""
    plan = _plan_for(order)
    if plan is None:
        return
    if plan.kind == SHOPIFY:
        shopify_fulfillment_enqueue(plan=plan, shipment=shipment, order=order)
    elif plan.kind == WOOCOMMERCE:
        complete = order.status == Order.Status.SHIPPED
        woocommerce_shipment_enqueue(plan=plan, shipment=shipment, order=order, complete=complete)


def shipment_tracking_changed_receiver(sender, shipment, order, previous, **kwargs) -> None:
    """fulfillment.signals.shipment_tracking_changed → Shopify's fulfilment gets the new number;
    a WooCommerce customer gets a new note with it."""
    plan = _plan_for(order)
    if plan is None:
        return
    if plan.kind == SHOPIFY:
        shopify_tracking_enqueue(plan=plan, shipment=shipment, order=order, previous=previous)
    elif plan.kind == WOOCOMMERCE:
        woocommerce_shipment_enqueue(plan=plan, shipment=shipment, order=order, complete=False)


def order_events_recorded_receiver(sender, order, events, **kwargs) -> None:
    """orders.signals.order_events_recorded, kind `cancelled` → the shop cancels the order too,
    unless the shop itself cancelled it (its webhook: see connectors.echo)."""
    cancelled = next((e for e in events if e.kind == OrderEvent.Kind.CANCELLED), None)
    if cancelled is None:
        return
    plan = _plan_for(order)
    if plan is None or is_channel_echo(order.channel_id):
        return
    if plan.kind == SHOPIFY:
        shopify_cancel_enqueue(plan=plan, order=order, reason=order.cancel_reason or "cancelled")
    elif plan.kind == WOOCOMMERCE:
        woocommerce_cancel_enqueue(plan=plan, order=order)
