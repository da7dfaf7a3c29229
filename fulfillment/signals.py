"""Signals fulfillment sends to apps further down the chain (it imports none of them).

Both are sent inside the writer's transaction, so a receiver's writes (a delivery owed to a
channel, an event for subscribers) commit or roll back with the change.

- `shipment_shipped`: a shipment was handed to the carrier. Keyword arguments: `shipment`,
  `order` (both locked by the sender).
- `shipment_tracking_recorded`: a carrier event was stored for one of our shipments (not a
  duplicate). Keyword arguments: `shipment`, `event` (the TrackingEvent), `moved_to` (the
  shipment's new status, or "" when the event didn't move it).
- `shipment_tracking_changed`: staff corrected the tracking number of a shipment already handed
  to the carrier. Keyword arguments: `shipment` (with the new number), `order` (both locked),
  `previous` (the old number).
"""

from django.dispatch import Signal

shipment_shipped = Signal()
shipment_tracking_recorded = Signal()
shipment_tracking_changed = Signal()
