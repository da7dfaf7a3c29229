"""What every shipment flow needs: the locks, a transition with its order event, and delivery.

The services (fulfillment.services), scan-to-pack (packing) and carrier tracking (tracking) all
move shipments through these, so none of them calls another's private helpers.

Lock order, always: the order row, then its shipment rows (pk order), then stock items (pk order,
inside inventory's services).
"""

from django_fsm import can_proceed

from core.fsm import fsm_transition
from orders.events import order_event_record, order_lock, order_notify, order_transition
from orders.models import Order, OrderEvent

from .exceptions import ShipmentTransitionError
from .models import Shipment

Kind = OrderEvent.Kind


def shipment_lock(shipment_id: int) -> tuple[Order, Shipment]:
    """Lock a shipment's order, then the shipment (the documented lock order)."""
    order_id = Shipment.objects.values_list("order_id", flat=True).get(pk=shipment_id)
    order = order_lock(order_id)
    shipment = (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("service_level__carrier", "warehouse")
        .get(pk=shipment_id)
    )
    return order, shipment


def shipment_next_index(order: Order) -> int:
    """The number the order's next shipment takes (<order number>-<n>): one more than the highest
    so far. Not a count: an order edit drops shipments that were never picked, and a count would
    then hand out a number still in use."""
    numbers = order.shipments.values_list("number", flat=True)
    suffixes = [number.rsplit("-", 1)[-1] for number in numbers]
    return max((int(s) for s in suffixes if s.isdigit()), default=0) + 1


def shipment_transition(
    *,
    shipment: Shipment,
    name: str,
    update_fields: tuple[str, ...] = (),
    order: Order | None = None,
    kind: str = "",
    message: str = "",
    actor=None,
    visible: bool = False,
    **kwargs,
) -> None:
    """Run one shipment transition and save the shipment; with a `message`, also write the
    order's event of `kind` for it (the order's own transitions write theirs).

    The caller holds the order and shipment locks (shipment_lock). Raises
    ShipmentTransitionError if the shipment's state does not allow the transition.
    """
    fsm_transition(
        obj=shipment,
        name=name,
        refused=lambda: ShipmentTransitionError(shipment=shipment, transition=name),
        update_fields=update_fields,
        **kwargs,
    )
    if message:
        order_event_record(order=order, kind=kind, actor=actor, visible=visible, message=message)


def shipment_deliver_locked(*, order: Order, shipment: Shipment, actor, at, notify: bool) -> None:
    """Deliver a shipment whose order and row the caller has locked; deliver the order when it
    was the last one on its way. Used by the admin button and by carrier tracking events.

    Raises ShipmentTransitionError unless the shipment is on its way. E-mails the customer after
    commit when the whole order is delivered, unless `notify` is False.
    """
    shipment_transition(shipment=shipment, name="deliver", at=at, update_fields=("delivered_at",))
    undelivered = order.shipments.exclude(status=Shipment.Status.DELIVERED).exists()
    if not undelivered and can_proceed(order.deliver):
        order_transition(
            order=order,
            name="deliver",
            kind=Kind.DELIVERED,
            actor=actor,
            visible=True,
            at=at,
            update_fields=("delivered_at",),
            message="Your order has been delivered.",
        )
        order_notify(
            order=order, kind="delivered", notify=notify, actor=actor, extra={"shipment_id": shipment.pk}
        )
    else:
        order_event_record(
            order=order,
            kind=Kind.DELIVERED,
            actor=actor,
            visible=True,
            message=f"Shipment {shipment.number} delivered.",
        )
