"""The domain's signals, heard for subscribers. Each is sent inside the writer's transaction, so
the deliveries written here commit or roll back with the change.

Every receiver first reads the cached active subscriptions (selectors.subscriptions_active): with
none that wants the event, that one cache read is all it costs, no query.
"""

from orders.models import Order, OrderEvent

from .events import (
    order_event_payload,
    order_shipped_payload,
    return_payload,
    return_refunded_payload,
    shipment_tracking_payload,
)
from .models import Subscription
from .selectors import subscriptions_active, subscriptions_forget
from .services import stock_low_check, subscribers_event_emit

EventType = Subscription.EventType
Kind = OrderEvent.Kind

# Order timeline events that are webhook events, when they are the transition itself (an order
# already allocated can get a second “allocated” note, a shipment of several delivered a
# “delivered” line before the order is): (event type, the order status the transition reached,
# or None for any). Shipping is heard from fulfillment's `shipment_shipped`, which names the
# shipment.
ORDER_EVENT_TYPES: dict[str, tuple[str, str | None]] = {
    Kind.CAPTURED: (EventType.ORDER_CREATED, None),
    Kind.HELD: (EventType.ORDER_HELD, None),
    Kind.RELEASED: (EventType.ORDER_RELEASED, Order.Status.PENDING),
    Kind.ALLOCATED: (EventType.ORDER_ALLOCATED, Order.Status.ALLOCATED),
    Kind.BACKORDERED: (EventType.ORDER_BACKORDERED, Order.Status.BACKORDERED),
    Kind.CANCELLED: (EventType.ORDER_CANCELLED, Order.Status.CANCELLED),
    Kind.DELIVERED: (EventType.ORDER_DELIVERED, Order.Status.DELIVERED),
}


def on_order_events_recorded(sender, *, order, events, **kwargs) -> None:
    active = subscriptions_active()
    if not active:
        return
    for event in events:
        event_type, reached = ORDER_EVENT_TYPES.get(event.kind, (None, None))
        if event_type is None or (reached is not None and event.to_status != reached):
            continue
        wanting = active.wanting(event_type)
        if wanting:
            subscribers_event_emit(
                event=order_event_payload(order=order, event=event, event_type=event_type),
                subscription_ids=wanting,
                reference=order.number,
                ordering=f"order:{order.number}",
            )


def on_shipment_shipped(sender, *, shipment, order, **kwargs) -> None:
    wanting = subscriptions_active().wanting(EventType.ORDER_SHIPPED)
    if wanting:
        subscribers_event_emit(
            event=order_shipped_payload(order=order, shipment=shipment),
            subscription_ids=wanting,
            reference=order.number,
            ordering=f"order:{order.number}",
        )


def on_shipment_tracking_recorded(sender, *, shipment, event, moved_to, **kwargs) -> None:
    wanting = subscriptions_active().wanting(EventType.SHIPMENT_TRACKING_UPDATED)
    if wanting:
        payload = shipment_tracking_payload(shipment=shipment, event=event, moved_to=moved_to)
        subscribers_event_emit(
            event=payload,
            subscription_ids=wanting,
            reference=payload.data.order_number,
            ordering=f"order:{payload.data.order_number}",
        )


# Return statuses that are webhook events: a return just requested (from "") and one received.
RETURN_EVENT_TYPES = {"requested": EventType.RETURN_REQUESTED, "received": EventType.RETURN_RECEIVED}


def on_return_changed(sender, *, return_request, order, from_status, to_status, **kwargs) -> None:
    event_type = RETURN_EVENT_TYPES.get(to_status)
    if event_type is None or (event_type == EventType.RETURN_REQUESTED and from_status):
        return
    wanting = subscriptions_active().wanting(event_type)
    if wanting:
        subscribers_event_emit(
            event=return_payload(return_request=return_request, order=order, event_type=event_type),
            subscription_ids=wanting,
            reference=order.number,
            ordering=f"order:{order.number}",
        )


def on_refund_issued(sender, *, refund, order, **kwargs) -> None:
    if refund.return_request_id is None:
        return
    wanting = subscriptions_active().wanting(EventType.RETURN_REFUNDED)
    if wanting:
        subscribers_event_emit(
            event=return_refunded_payload(refund=refund, order=order),
            subscription_ids=wanting,
            reference=order.number,
            ordering=f"order:{order.number}",
        )


def on_stock_levels_changed(sender, *, product_ids, **kwargs) -> None:
    wanting = subscriptions_active().wanting(EventType.STOCK_LOW)
    if wanting:
        stock_low_check(product_ids=product_ids, subscription_ids=wanting)


def on_subscription_saved(sender, **kwargs) -> None:
    """A subscription was saved or deleted: the cached list of active ones is stale."""
    subscriptions_forget()


def receivers_connect() -> None:
    """Connect every receiver above (ConnectorsConfig.ready)."""
    from django.db.models.signals import post_delete, post_save

    from fulfillment.signals import shipment_shipped, shipment_tracking_recorded
    from inventory.signals import stock_levels_changed
    from orders.signals import order_events_recorded
    from returns.signals import refund_issued, return_changed

    uid = "connectors.subscribers"
    order_events_recorded.connect(on_order_events_recorded, dispatch_uid=f"{uid}.order_events")
    shipment_shipped.connect(on_shipment_shipped, dispatch_uid=f"{uid}.shipment_shipped")
    shipment_tracking_recorded.connect(on_shipment_tracking_recorded, dispatch_uid=f"{uid}.tracking")
    return_changed.connect(on_return_changed, dispatch_uid=f"{uid}.return_changed")
    refund_issued.connect(on_refund_issued, dispatch_uid=f"{uid}.refund_issued")
    stock_levels_changed.connect(on_stock_levels_changed, dispatch_uid=f"{uid}.stock_levels")
    post_save.connect(on_subscription_saved, sender=Subscription, dispatch_uid=f"{uid}.saved")
    post_delete.connect(on_subscription_saved, sender=Subscription, dispatch_uid=f"{uid}.deleted")
