"""`PATCH /api/v1/orders/{number}`: a channel edits one of its orders (lines, shipping address,
speed, shipping price) through orders.services.order_edit, the service customer service use.

Registered on intake.api's router when IntakeConfig.ready() imports this module; kept apart
from the create, read and cancel operations in api.py. The body is a merge patch: fields left out
stay as they are, and `lines`, when given, is every line the order should have (matched to the
order's lines by SKU; lines left out lose their units not yet shipped). Sending the same body
again changes nothing; an `Idempotency-Key` replays the first reply. Every request is kept as an
InboundRequest with its outcome.
"""

import contextlib
from functools import partial
from typing import Annotated, Literal

from django.db import transaction
from ninja import Field, Header, Schema, Status
from ninja.errors import HttpError
from pydantic import StrictBool

from orders.edits import MAX_LINE_QUANTITY, LineEdit, OrderEdit
from orders.exceptions import EditInvalid, OrderNotEditable
from orders.inputs import AddressInput
from orders.models import Order
from orders.services import order_edit

from .api import AddressIn, ErrorOut, HoldOut, Money, Strict, Text, api, order_reply
from .fields import Whole
from .idempotency import IdempotencyConflict, idempotent_run
from .inbound import Outcome, inbound_request_finish, inbound_request_record, request_headers
from .models import InboundRequest


class EditLineIn(Strict):
    sku: Text(64, required=True)
    quantity: Annotated[
        Whole(0, MAX_LINE_QUANTITY),
        Field(description="The line's whole quantity, shipped units included; 0 drops what hasn't shipped."),
    ]
    unit_price: Annotated[
        Money | None,
        Field(description="Left out: the line's price, or the product's list price for a new line."),
    ] = None


class OrderEditIn(Strict):
    lines: Annotated[
        list[EditLineIn] | None,
        Field(
            min_length=1,
            max_length=500,
            description="Every line the order should have, by SKU; lines left out lose their units "
            "not yet shipped. Left out: the lines don't change. At least one: to drop every line, "
            "cancel the order.",
        ),
    ] = None
    shipping_address: AddressIn | None = None
    shipping_speed: Literal[tuple(Order.ShippingSpeed.values)] | None = None
    shipping_total: Money | None = None
    tax_total: Annotated[
        Money | None, Field(description="Left out: keeps its share of the items' value.")
    ] = None
    discount_total: Annotated[
        Money | None, Field(description="Left out: keeps its share of the items' value.")
    ] = None
    payment_collected: Annotated[
        StrictBool,
        Field(
            description="The shop charged what the edit adds. Otherwise the payment goes back to "
            "`pending` and the order is held until it is recorded."
        ),
    ] = False
    reason: Text(500) = ""
    notify_customer: Annotated[StrictBool, Field(description="E-mail the customer what changed.")] = True


class EditLineOut(Schema):
    id: int
    sku: str
    name: str
    quantity: int
    quantity_shipped: int
    unit_price: str


class EditOut(Schema):
    number: str
    status: str
    tracking_url: str
    external_id: str
    currency: str
    total: str
    holds: list[HoldOut]
    lines: list[EditLineOut]
    changed: bool
    change: Annotated[
        dict,
        Field(
            description="What changed, as the order's timeline keeps it: lines, shipping_address, "
            "shipping_speed, totals and money (each [before, after] or {before, after}), status."
        ),
    ]


def _record(request, outcome: str, status: int, order: Order | None = None, error: str = "") -> None:
    """Write this request down once, with its outcome (inside the edit's transaction when it
    edited, so the change and its record commit together)."""
    if getattr(request, "inbound", None) is not None:
        inbound_request_finish(
            inbound=request.inbound, outcome=outcome, order=order, error=error, status=status
        )
        return
    request.inbound = inbound_request_record(
        source=InboundRequest.Source.API,
        channel=getattr(request, "channel", None),
        body=request.body,
        headers=request_headers(request),
        delivery_id=request.headers.get("Idempotency-Key", ""),
        topic=f"PATCH {request.path}"[:100],
        outcome=outcome,
        status=status,
        order=order,
        error=error,
    )


def order_edit_from_api(payload: OrderEditIn) -> OrderEdit:
    address = payload.shipping_address
    return OrderEdit(
        lines=None
        if payload.lines is None
        else [LineEdit(sku=ln.sku, quantity=ln.quantity, unit_price=ln.unit_price) for ln in payload.lines],
        match_lines_by_sku=True,
        shipping_address=AddressInput(**address.model_dump()) if address is not None else None,
        shipping_speed=payload.shipping_speed,
        shipping_total=payload.shipping_total,
        tax_total=payload.tax_total,
        discount_total=payload.discount_total,
        payment_collected=payload.payment_collected,
    )


def edit_reply(order: Order, change: dict) -> dict:
    order = Order.objects.prefetch_related("holds", "lines").get(pk=order.pk)
    return {
        **order_reply(order),
        "lines": [
            {
                "id": line.pk,
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "quantity_shipped": line.quantity_shipped,
                "unit_price": str(line.unit_price),
            }
            for line in order.lines.all()
        ],
        "changed": bool(change),
        "change": change,
    }


def _edit_and_record(*, request, order: Order, payload: OrderEditIn) -> tuple[int, dict, Order]:
    """Edit and write the request down. The caller's transaction holds both."""
    result = order_edit(
        order_id=order.pk,
        changes=order_edit_from_api(payload),
        reason=payload.reason or f"Changed by {request.channel.name} through the API",
        notify=payload.notify_customer,
    )
    reply = edit_reply(result.order, result.as_json() if result.changed else {})
    _record(request, Outcome.EDITED if result.changed else Outcome.IGNORED, 200, order=result.order)
    return 200, reply, result.order


@api.patch(
    "/orders/{number}",
    operation_id="orders_api_edit_order",
    response={200: EditOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Edit an order",
    description="Changes the lines, shipping address, speed or shipping price of an order that "
    "hasn't fully shipped: its stock, checks, shipments not yet picked and money follow. A merge "
    "patch: fields left out stay; `lines` is every line after the edit, by SKU (units already "
    "shipped stay). 200 with the order and what changed (`changed` false when nothing did); 409 "
    "when the order can no longer change (shipped, cancelled, or being picked or packed) or the "
    "Idempotency-Key came with another body; 422 with per-field errors.",
)
def edit_order(
    request,
    number: str,
    payload: OrderEditIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
):
    order = Order.objects.filter(channel=request.channel, number=number[:20]).first()
    if order is None:
        raise HttpError(404, "No order with that number for this channel.")
    key = (idempotency_key or "").strip()
    run = partial(_edit_and_record, request=request, order=order, payload=payload)
    try:
        if len(key) > 255 or "\x00" in key:
            raise EditInvalid({"Idempotency-Key": "Must be at most 255 characters."})
        if key:
            status, reply, replayed = idempotent_run(
                channel=request.channel, key=key, body=request.body, run=run
            )
            if replayed is not None:
                request.inbound = None  # an edit that lost the race for the key rolled back with its row
                _record(request, Outcome.DUPLICATE, status, order=order)
        else:
            with transaction.atomic():
                status, reply, _ = run()
    except (IdempotencyConflict, OrderNotEditable) as exc:
        request.inbound = None  # a row written before the refusal was rolled back with it
        _record(request, Outcome.INVALID, 409, order=order, error=str(exc))
        return Status(409, {"detail": str(exc)})
    except EditInvalid as exc:
        request.inbound = None
        _record(request, Outcome.INVALID, 422, order=order, error=str(exc))
        return Status(422, {"detail": "The order can't be changed so.", "errors": exc.errors})
    except BaseException as exc:
        # Whatever failed rolled the edit back; the request itself is still written down.
        request.inbound = None
        with contextlib.suppress(Exception):
            _record(request, Outcome.FAILED, 500, order=order, error=f"{type(exc).__name__}: {exc}")
        raise
    return Status(status, reply)
