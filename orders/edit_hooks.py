"""What an order edit needs from apps further down the chain, as hooks declared here, upstream.

Orders imports neither fulfillment nor returns, yet an edit must respect and rebuild the order's
shipments and pay money back. Each of those apps registers its part from its `AppConfig.ready()`,
as returns registers store credit in orders.payments:

- fulfillment: `edit_shipments_register(EditShipments)`: lock the order's shipments, say when
  an edit can't run now (a shipment is being picked or packed), and after the edit make the
  shipments not yet picked match the order's new reservations, address and speed;
- returns: `edit_refunder_register(EditRefunder)`: pay back what an edit took off a paid order,
  as a refund record (to the original payment, back to the store credit the order was paid with,
  or as new store credit).

Without a registration (orders alone) an order has no shipments to respect, and a refund is only
written on the order's timeline for staff to pay by hand.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from .models import Order


@dataclass(frozen=True)
class ShipmentsForEdit:
    """The order's shipments as an edit finds them (locked).

    `busy`: why the order's items can't change now (a shipment being picked or packed), "" when
    they can. `rebuild`: shipments exist that have not been picked (they follow the edit).
    `delivered`: at least one shipment has left and every one that left is delivered.
    """

    busy: str = ""
    rebuild: bool = False
    delivered: bool = False


class EditShipments(Protocol):
    def lock(self, *, order: Order) -> ShipmentsForEdit:
        """Lock the order's shipments (pk order; the caller holds the order row lock) and say
        what an edit may do with them."""
        ...

    def rebuild(self, *, order: Order, actor) -> list[str]:
        """After an edit changed the order's reservations (and maybe its address or speed): make
        its shipments not yet picked match the active reservations, one per warehouse, choose
        their carrier service and delivery estimate again, and drop those left empty. The caller
        holds the order and shipment locks. Returns sentences for the edit's event."""
        ...


class EditRefunder(Protocol):
    def refund(self, *, order: Order, amount: Decimal, to_store_credit: bool, actor, note: str) -> str:
        """Pay `amount` back for what an edit took off `order`: a refund record, in the caller's
        transaction with the order row locked (its own rows locked after it). An order paid with
        store credit gets it back on that credit; otherwise the original payment, or new store
        credit for the order's e-mail when `to_store_credit`. Returns a sentence for the timeline
        and the customer's e-mail (naming a new store credit's code)."""
        ...


_shipments: list[EditShipments] = []
_refunders: list[EditRefunder] = []


def edit_shipments_register(hook: EditShipments) -> None:
    """Let fulfillment lock and rebuild shipments during edits (called from its AppConfig.ready)."""
    _shipments[:] = [hook]


def edit_refunder_register(refunder: EditRefunder) -> None:
    """Let returns pay back what edits take off orders (called from its AppConfig.ready)."""
    _refunders[:] = [refunder]


def edit_shipments_lock(*, order: Order) -> ShipmentsForEdit:
    """The registered hook's `lock`, or nothing to respect when no app keeps shipments."""
    return _shipments[0].lock(order=order) if _shipments else ShipmentsForEdit()


def edit_shipments_rebuild(*, order: Order, actor) -> list[str]:
    return _shipments[0].rebuild(order=order, actor=actor) if _shipments else []


def edit_refund(*, order: Order, amount: Decimal, to_store_credit: bool, actor, note: str) -> str:
    """Pay back `amount` through the registered refunder; without one, say it is owed."""
    if not _refunders:
        return f"{amount} {order.currency} to refund by hand (no refund method is installed)."
    return _refunders[0].refund(
        order=order, amount=amount, to_store_credit=to_store_credit, actor=actor, note=note
    )
