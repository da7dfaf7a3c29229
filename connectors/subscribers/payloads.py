"""What subscribers receive: one versioned payload per event type, as pydantic models.

Every event is an envelope `{"type", "version", "id", "occurred_at", "data"}`; `data` is the
type's own. A change to a payload that a receiver could trip over (a field removed, renamed or
re-typed) is a new version of that type, sent beside the old one; adding a field is not. The
JSON Schemas in the OpenAPI document (`webhooks`) and in docs/webhooks.md are generated from
these models (`event_schemas`), and a test keeps the docs equal to them.

Money is a decimal string with two places in the order's currency, never a JSON number; times
are ISO 8601 in UTC.
"""

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Money = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", examples=["25.00"])]
EVENT_ID_PATTERN = r"^evt_[0-9a-f]{32}$"


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_serialization_defaults_required=True)


# --- the pieces ------------------------------------------------------------------------------
class Address(Payload):
    name: str
    company: str
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str = Field(description="ISO 3166-1 alpha-2.")
    phone: str


class OrderLine(Payload):
    sku: str
    name: str
    quantity: int
    unit_price: Money


class Order(Payload):
    """The order as it stands after the change."""

    number: str = Field(description="Our order number, e.g. SO-1A2B3C4D.")
    external_id: str = Field(description="The order's id in the sales channel (may be empty).")
    channel: str = Field(description="The sales channel's code.")
    status: str = Field(
        description="pending, on_hold, verified, backordered, allocated, processing, "
        "partially_shipped, shipped, delivered or cancelled."
    )
    placed_at: dt.datetime
    currency: str = Field(description="ISO 4217.")
    total: Money
    email: str
    customer_name: str


class OrderDetail(Order):
    """The order with its lines, totals and addresses."""

    shipping_speed: str = Field(description="standard, express or overnight.")
    subtotal: Money
    shipping_total: Money
    tax_total: Money
    discount_total: Money
    payment_status: str
    shipping_address: Address | None
    billing_address: Address | None
    lines: list[OrderLine]


class Hold(Payload):
    reason: str = Field(
        description="address, payment, fraud, duplicate, limit, unknown_sku, incomplete or manual."
    )
    label: str
    detail: str


class ShipmentLine(Payload):
    sku: str
    quantity: int


class Shipment(Payload):
    number: str
    status: str = Field(
        description="pending, picking, packed, shipped, in_transit, out_for_delivery, delivered, "
        "exception or cancelled."
    )
    warehouse: str = Field(description="The shipping warehouse's code.")
    carrier: str = Field(description="The carrier's code (empty before one is chosen).")
    service_level: str
    tracking_number: str
    tracking_url: str = Field(description="The carrier's tracking page (empty when unknown).")
    shipped_at: dt.datetime | None
    estimated_delivery: dt.date | None


class ShippedShipment(Shipment):
    lines: list[ShipmentLine]


class Tracking(Payload):
    status: str = Field(
        description="pre_transit, in_transit, out_for_delivery, delivered, exception or unknown."
    )
    carrier_status: str = Field(description="As the carrier said it.")
    description: str
    location: str
    occurred_at: dt.datetime = Field(description="When the carrier says it happened.")


class ReturnLine(Payload):
    sku: str
    name: str
    quantity: int


class ReturnRequest(Payload):
    number: str
    order_number: str
    status: str = Field(
        description="requested, approved, rejected, received, inspected, resolved or cancelled."
    )
    reason: str
    comment: str
    resolution: str = Field(description="What the customer asked for: refund, exchange or store_credit.")
    requested_at: dt.datetime
    received_at: dt.datetime | None
    lines: list[ReturnLine]


class Refund(Payload):
    id: int
    amount: Money
    currency: str
    method: str = Field(description="original_payment or store_credit.")
    reference: str = Field(description="The store credit's code when refunded to store credit.")
    created_at: dt.datetime


class StockLevel(Payload):
    sku: str
    name: str
    warehouse: str = Field(description="The warehouse's code.")
    bin_location: str
    on_hand: int
    reserved: int
    available: int = Field(description="on_hand − reserved.")
    reorder_point: int
    reorder_quantity: int


# --- data per event type -----------------------------------------------------------------------
class OrderData(Payload):
    order: Order


class OrderCreatedData(Payload):
    order: OrderDetail


class OrderHeldData(Payload):
    order: Order
    holds: list[Hold] = Field(description="Every reason it is held for now.")


class OrderCancelledData(Payload):
    order: Order
    reason: str


class OrderShippedData(Payload):
    order: Order = Field(description="status is partially_shipped while other shipments are to go.")
    shipment: ShippedShipment


class OrderDeliveredData(Payload):
    order: Order
    delivered_at: dt.datetime


class ShipmentTrackingData(Payload):
    order_number: str
    shipment: Shipment = Field(description="The shipment after the event.")
    tracking: Tracking
    moved_to: str | None = Field(
        description="The shipment's new status, or null when the event didn't move it."
    )


class ReturnData(Payload):
    return_request: ReturnRequest


class ReturnRefundedData(Payload):
    return_request: ReturnRequest
    refund: Refund


class StockLowData(Payload):
    stock_item: StockLevel


class TestData(Payload):
    subscription: str
    message: str


# --- the envelopes ------------------------------------------------------------------------------
class Event(Payload):
    id: str = Field(
        pattern=EVENT_ID_PATTERN,
        description="The event's id, the same for every subscription it goes to. Receivers dedupe "
        "on the webhook-id header (one per subscription and event, the same on every retry).",
    )
    occurred_at: dt.datetime = Field(description="When the change was made in the OMS.")


class OrderCreated(Event):
    """An order was captured, from any channel. Its status after capture follows in its own
    event (order.allocated, order.held or order.backordered)."""

    type: Literal["order.created"] = "order.created"
    version: Literal[1] = 1
    data: OrderCreatedData


class OrderHeld(Event):
    """An order was put on hold, or a reason was added to one already held."""

    type: Literal["order.held"] = "order.held"
    version: Literal[1] = 1
    data: OrderHeldData


class OrderReleased(Event):
    """Staff released an order's holds; verification runs again (what it found follows)."""

    type: Literal["order.released"] = "order.released"
    version: Literal[1] = 1
    data: OrderData


class OrderAllocated(Event):
    """Stock was reserved for every line of an order."""

    type: Literal["order.allocated"] = "order.allocated"
    version: Literal[1] = 1
    data: OrderData


class OrderBackordered(Event):
    """No warehouse can fill an order yet; it is allocated when stock arrives."""

    type: Literal["order.backordered"] = "order.backordered"
    version: Literal[1] = 1
    data: OrderData


class OrderCancelled(Event):
    """An order was cancelled and its reservations released."""

    type: Literal["order.cancelled"] = "order.cancelled"
    version: Literal[1] = 1
    data: OrderCancelledData


class OrderShipped(Event):
    """A shipment of an order was handed to the carrier (one event per shipment)."""

    type: Literal["order.shipped"] = "order.shipped"
    version: Literal[1] = 1
    data: OrderShippedData


class OrderDelivered(Event):
    """The last shipment of an order was delivered."""

    type: Literal["order.delivered"] = "order.delivered"
    version: Literal[1] = 1
    data: OrderDeliveredData


class ShipmentTrackingUpdated(Event):
    """The carrier reported a tracking event for one of our shipments."""

    type: Literal["shipment.tracking_updated"] = "shipment.tracking_updated"
    version: Literal[1] = 1
    data: ShipmentTrackingData


class ReturnRequested(Event):
    """A customer (or staff for them) requested a return."""

    type: Literal["return.requested"] = "return.requested"
    version: Literal[1] = 1
    data: ReturnData


class ReturnReceived(Event):
    """The returned parcel arrived at the warehouse."""

    type: Literal["return.received"] = "return.received"
    version: Literal[1] = 1
    data: ReturnData


class ReturnRefunded(Event):
    """Money went back to the customer for a return (one event per refund row: a refund split
    between store credit and the original payment sends two)."""

    type: Literal["return.refunded"] = "return.refunded"
    version: Literal[1] = 1
    data: ReturnRefundedData


class StockLow(Event):
    """A stock item's available units fell to its reorder point or below. Sent once when it
    crosses, not on every change while it stays low; again after it recovered and fell again."""

    type: Literal["stock.low"] = "stock.low"
    version: Literal[1] = 1
    data: StockLowData


class WebhookTest(Event):
    """Sent when staff press “Send a test event”, whatever event types the subscription has."""

    type: Literal["webhook.test"] = "webhook.test"
    version: Literal[1] = 1
    data: TestData


EVENTS: tuple[type[Event], ...] = (
    OrderCreated,
    OrderHeld,
    OrderReleased,
    OrderAllocated,
    OrderBackordered,
    OrderCancelled,
    OrderShipped,
    OrderDelivered,
    ShipmentTrackingUpdated,
    ReturnRequested,
    ReturnReceived,
    ReturnRefunded,
    StockLow,
    WebhookTest,
)


def event_type_of(model: type[Event]) -> str:
    return model.model_fields["type"].default


def event_version_of(model: type[Event]) -> int:
    return model.model_fields["version"].default


def _inline(node, defs: dict):
    """The schema with every `$ref` to `$defs` replaced by what it names (no model here is
    recursive), so each event's schema stands alone wherever it is pasted; without pydantic's
    generated titles, and with descriptions on one line."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return {**_inline(defs[ref.removeprefix("#/$defs/")], defs), **_inline(rest, defs)}
        return {
            k: " ".join(v.split()) if k == "description" and isinstance(v, str) else _inline(v, defs)
            for k, v in node.items()
            if k != "$defs" and not (k == "title" and isinstance(v, str))
        }
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def event_schema(model: type[Event]) -> dict:
    """The JSON Schema (2020-12) of one event type's body, self-contained."""
    schema = model.model_json_schema(mode="serialization")
    return {"title": schema["title"], **_inline(schema, schema.get("$defs", {}))}


def event_schemas() -> dict[str, dict]:
    """Every event type's JSON Schema, by type."""
    return {event_type_of(model): event_schema(model) for model in EVENTS}
