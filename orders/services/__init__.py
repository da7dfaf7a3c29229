"""Writes to orders, one module per flow: capture, holds, allocation by hand, cancellation,
edits (lines, address, speed; cancelling units), payment corrections, notes.

Every state change goes through `orders.events.order_transition`, which saves the order and
writes its event in the same transaction (invariant 7). Each service locks the order it changes.
The public services are importable from here (`from orders.services import order_capture`).
"""

from .allocate import order_allocate_now
from .cancel import order_cancel
from .capture import CaptureRequest, CaptureResult, order_capture, orders_capture
from .edit import order_edit, order_edit_preview, order_lines_cancel, order_lines_cancel_preview
from .holds import order_address_accept_suggestion, order_address_suggestion, order_hold, order_release_hold
from .notes import order_note_add
from .payment import order_payment_correct

__all__ = [
    "CaptureRequest",
    "CaptureResult",
    "order_address_accept_suggestion",
    "order_address_suggestion",
    "order_allocate_now",
    "order_cancel",
    "order_capture",
    "order_edit",
    "order_edit_preview",
    "order_hold",
    "order_lines_cancel",
    "order_lines_cancel_preview",
    "order_note_add",
    "order_payment_correct",
    "order_release_hold",
    "orders_capture",
]
