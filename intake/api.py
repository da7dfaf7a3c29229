"""The channel JSON API (public contract in design.md): create, read and cancel orders.

Thin: authenticates the channel's key, validates the body, stores the raw request, calls
order_capture / order_cancel and renders the reply. Every POST is kept as an InboundRequest with
its outcome; no body of any shape produces a server error.
"""

import contextlib
from decimal import Decimal
from functools import partial
from typing import Annotated, Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Header, NinjaAPI, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from orders.exceptions import CaptureError, OrderTransitionError
from orders.inputs import AddressInput, LineInput, OrderInput
from orders.links import order_tracking_url
from orders.models import Order
from orders.services import order_cancel

from .fields import NO_NUL, Code, DateTime, Email, Money, Text, Whole, anchored
from .idempotency import ExternalIdConflict, IdempotencyConflict, idempotent_run, order_fingerprint
from .inbound import (
    Captured,
    Outcome,
    inbound_request_finish,
    inbound_request_record,
    intake_capture,
    request_headers,
)
from .keys import channel_api_key_authenticate
from .models import InboundRequest


class Strict(BaseModel):
    """A request body: a JSON object (any other JSON value is refused, not read as an empty one);
    members not named here are ignored."""

    model_config = ConfigDict(extra="ignore")


class CustomerIn(Strict):
    email: Email
    name: Text(200) = ""
    phone: Text(40) = ""


class AddressIn(Strict):
    name: Text(200) = ""
    company: Text(200) = ""
    line1: Text(255) = ""
    line2: Text(255) = ""
    city: Text(100) = ""
    region: Text(100) = ""
    postal_code: Text(20) = ""
    country: Code(r"[A-Za-z]{2}", "ISO 3166-1 alpha-2")
    phone: Text(40) = ""


class LineIn(Strict):
    sku: Text(64, required=True)
    quantity: Whole(1, 100_000)
    unit_price: Money
    name: Text(255) = ""


class PaymentIn(Strict):
    method: Text(
        40,
        description="How the customer paid, e.g. `card`. `store_credit`: the amount (default: "
        "the order total) is taken from the customer's store credit named by `reference`; "
        "when it can't be, the order is created on hold with a `payment` hold saying why.",
    ) = ""
    status: Literal[tuple(Order.PaymentStatus.values)] = Order.PaymentStatus.PENDING
    reference: Text(100, description="The payment's reference; for `store_credit`, the code (SC-…).") = ""
    amount: Money | None = None


class OrderIn(Strict):
    external_id: Text(100, required=True)
    customer: CustomerIn
    shipping_address: AddressIn
    billing_address: AddressIn | None = None
    shipping_speed: Literal[tuple(Order.ShippingSpeed.values)] = Order.ShippingSpeed.STANDARD
    currency: Code(r"[A-Za-z]{3}", "ISO 4217") = "USD"
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]
    shipping_total: Money = Decimal("0.00")
    tax_total: Money = Decimal("0.00")
    discount_total: Money = Decimal("0.00")
    payment: PaymentIn | None = None
    placed_at: DateTime | None = None


class CancelIn(Strict):
    reason: Text(255) = ""


class HoldOut(Schema):
    reason: str
    detail: str


class OrderOut(Schema):
    number: str
    status: str
    tracking_url: str
    external_id: str
    currency: str
    total: str
    holds: list[HoldOut]


class ErrorOut(Schema):
    detail: str
    errors: dict[str, str] = {}


# --- authentication ---------------------------------------------------------------------------
class ChannelKeyAuth(HttpBearer):
    """Bearer <channel key>. A POST refused here is stored as a rejected InboundRequest; every
    other POST is stored once, with its outcome, by the handler that answers it (`_store`)."""

    def __call__(self, request: HttpRequest):
        result = super().__call__(request)
        if not result and request.method == "POST":
            _store(request, Outcome.REJECTED, 401, error="Missing or bad API key.")
        return result

    def authenticate(self, request, token):
        key = channel_api_key_authenticate(token)
        if key is None:
            return None
        request.channel = key.channel
        return key


api = NinjaAPI(
    title="OMS order intake",
    version="1",
    description="Channels create, read and cancel orders. Authenticate with `Authorization: Bearer "
    "<channel key>`. Money is decimal strings. Retries are safe: send an `Idempotency-Key`.",
    urls_namespace="api-v1",
    docs_url=None,
    auth=ChannelKeyAuth(),
)


def _field_errors(errors: list[dict]) -> dict[str, str]:
    result: dict[str, str] = {}
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "payload")]
        result.setdefault(".".join(loc) or "body", str(err.get("msg", "invalid")))
    return result


def _store(request, outcome, status, order=None, error="", content_hash=""):
    """Write down this request, raw, with its outcome: one row per request. Called inside the
    capture's transaction on success (the order and its record commit together) and on its own
    after a refusal or a failure (see create_order)."""
    if getattr(request, "inbound", None) is not None:
        inbound_request_finish(
            inbound=request.inbound,
            outcome=outcome,
            order=order,
            error=error,
            status=status,
            content_hash=content_hash,
        )
        return
    request.inbound = inbound_request_record(
        source=InboundRequest.Source.API,
        channel=getattr(request, "channel", None),
        body=request.body,
        headers=request_headers(request),
        delivery_id=request.headers.get("Idempotency-Key", ""),
        topic=request.path,
        outcome=outcome,
        status=status,
        order=order,
        error=error,
        content_hash=content_hash,
    )


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc):
    errors = _field_errors(exc.errors)
    _store(request, Outcome.INVALID, 422, error="; ".join(f"{k}: {v}" for k, v in errors.items()))
    return api.create_response(
        request, {"detail": "The order data is invalid.", "errors": errors}, status=422
    )


@api.exception_handler(HttpError)
def _http_error(request, exc):
    if exc.status_code != 401:
        _store(request, Outcome.INVALID, exc.status_code, error=str(exc))
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


# --- mapping ------------------------------------------------------------------------------------
def _address(data: AddressIn | None) -> AddressInput | None:
    if data is None:
        return None
    return AddressInput(**data.model_dump())


def order_input_from_api(payload: OrderIn) -> OrderInput:
    payment = payload.payment or PaymentIn()
    return OrderInput(
        external_id=payload.external_id,
        email=payload.customer.email,
        customer_name=payload.customer.name,
        phone=payload.customer.phone,
        shipping_address=_address(payload.shipping_address),
        billing_address=_address(payload.billing_address),
        shipping_speed=payload.shipping_speed,
        currency=payload.currency.upper(),
        lines=[
            LineInput(sku=ln.sku, quantity=ln.quantity, unit_price=ln.unit_price, name=ln.name)
            for ln in payload.lines
        ],
        shipping_total=payload.shipping_total,
        tax_total=payload.tax_total,
        discount_total=payload.discount_total,
        payment_method=payment.method,
        payment_status=payment.status,
        payment_reference=payment.reference,
        payment_amount=payment.amount,
        placed_at=payload.placed_at,
    )


def order_reply(order: Order) -> dict:
    return {
        "number": order.number,
        "status": order.status,
        "tracking_url": order_tracking_url(order_number=order.number),
        "external_id": order.external_id,
        "currency": order.currency,
        "total": str(order.total),
        # Active holds exist only on held orders (release and cancel close them): no read otherwise.
        "holds": [
            {"reason": h.reason, "detail": h.detail}
            for h in (order.holds.all() if order.status == Order.Status.ON_HOLD else ())
            if h.released_at is None
        ],
    }


def _creating_fingerprint(order: Order) -> str:
    """The fingerprint of the API request that created `order` (its inbound row, or, for rows
    written before fingerprints, its stored body); "" when no API request created it (then a
    re-sent external id gets the order back whatever it says, as channels' updates do)."""
    creator = (
        InboundRequest.objects.filter(
            order=order, source=InboundRequest.Source.API, outcome__in=[Outcome.CAPTURED, Outcome.HELD]
        )
        .order_by("pk")
        .only("content_hash", "body")
        .first()
    )
    if creator is None or creator.content_hash:
        return creator.content_hash if creator else ""
    try:
        return order_fingerprint(order_input_from_api(OrderIn.model_validate_json(creator.body)))
    except PydanticValidationError:
        return ""


def _captured(*, channel, data: OrderInput, fingerprint: str, actor=None) -> Captured:
    """Capture; an order this channel sent before comes back only for the same order data.
    Raises ExternalIdConflict when the external id was used with different contents."""
    captured = intake_capture(channel=channel, data=data, actor=actor)
    if not captured.created:
        first = _creating_fingerprint(captured.order)
        if first and first != fingerprint:
            raise ExternalIdConflict(external_id=captured.order.external_id, order=captured.order)
    return captured


def _capture_and_store(*, request, channel, data: OrderInput, fingerprint: str) -> tuple[int, dict, Order]:
    """Capture and write the request down with its outcome. The caller's transaction holds both.
    Raises ExternalIdConflict (see _captured)."""
    captured = _captured(channel=channel, data=data, fingerprint=fingerprint)
    status = 201 if captured.created else 200
    reply = order_reply(captured.order)
    _store(request, captured.outcome, status, order=captured.order, content_hash=fingerprint)
    return status, reply, captured.order


def _idempotent_capture(
    *, request, channel, key: str, data: OrderInput, fingerprint: str
) -> tuple[int, dict]:
    """Capture once per (channel, Idempotency-Key) (intake.idempotency): a retry replays the
    first reply and is written down as a duplicate. Raises IdempotencyConflict for a key reused
    with another body, ExternalIdConflict as _captured."""
    status, reply, replayed = idempotent_run(
        channel=channel,
        key=key,
        body=request.body,
        fingerprint=fingerprint,
        run=partial(_capture_and_store, request=request, channel=channel, data=data, fingerprint=fingerprint),
    )
    if replayed is not None:
        request.inbound = None  # a capture that lost the race for the key rolled back with its row
        _store(request, Outcome.DUPLICATE, status, order=replayed.order, content_hash=fingerprint)
    return status, reply


# --- endpoints ------------------------------------------------------------------------------------
# What a client does next with the order a create answers with (OpenAPI links, which also let
# schemathesis chain create -> read / cancel).
ORDER_LINKS = {
    operation: {
        "operationId": operation_id,
        "parameters": {"number": "$response.body#/number"},
        "description": description,
    }
    for operation, operation_id, description in [
        ("GetOrder", "orders_api_get_order", "Read the order just created (or found again)."),
        ("CancelOrder", "orders_api_cancel_order", "Cancel the order just created (or found again)."),
    ]
}


# The operation ids are part of the published OpenAPI document: they keep the names ninja derived
# from this module's path when it was orders/api.py.
@api.post(
    "/orders",
    operation_id="orders_api_create_order",
    response={200: OrderOut, 201: OrderOut, 400: ErrorOut, 401: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Create an order",
    description="201 with the new order; 200 with the existing order when this external_id (or "
    "this Idempotency-Key) was sent before with the same body; 409 when the external_id was used "
    "for an order with different contents (`detail` names that order, `errors.external_id` says "
    "what to do), or the Idempotency-Key with a different body; 422 with per-field errors.\n\n"
    "The same body means the same order data once validated: white space, the order of members, "
    "members this API ignores, defaults written out or left out, `25` or `25.00`, `Z` or "
    "`+00:00` make no difference; any value the order keeps does.\n\n"
    "Besides what the schema says, one rule: the order's total (the lines' quantity × unit_price, "
    "plus shipping and tax) must not exceed 9999999999.99, else 422 with `errors.lines`. "
    "A `placed_at` more than a day ahead is taken as the time the order arrived (noted on the "
    "order).",
    openapi_extra={"responses": {"200": {"links": ORDER_LINKS}, "201": {"links": ORDER_LINKS}}},
)
def create_order(
    request,
    payload: OrderIn,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            max_length=255,
            description="Any text; a retry with the same key and body gets the first reply.",
            pattern=anchored(NO_NUL),
        ),
    ] = "",
):
    channel = request.channel
    data = order_input_from_api(payload)
    fingerprint = order_fingerprint(data)
    key = idempotency_key.strip()  # a key of white space only is no key
    try:
        if key:
            status, reply = _idempotent_capture(
                request=request, channel=channel, key=key, data=data, fingerprint=fingerprint
            )
        else:
            with transaction.atomic():
                status, reply, _order = _capture_and_store(
                    request=request, channel=channel, data=data, fingerprint=fingerprint
                )
    except IdempotencyConflict as exc:
        request.inbound = None  # a capture that lost the race for the key rolled back with its row
        _store(request, Outcome.INVALID, 409, error=str(exc))
        return Status(409, {"detail": str(exc)})
    except ExternalIdConflict as exc:
        request.inbound = None  # rolled back with the capture
        # Not linked to the order: re-processing a request with an order re-checks that order.
        _store(request, Outcome.INVALID, 409, error=str(exc), content_hash=fingerprint)
        number = exc.order.number
        return Status(
            409,
            {
                "detail": str(exc),
                "errors": {
                    "external_id": f"Already used for {number}. Send the same body to get {number} "
                    "back, or a new external_id for a new order."
                },
            },
        )
    except CaptureError as exc:
        request.inbound = None  # a row written before the error was rolled back with it
        _store(request, Outcome.INVALID, 422, error=str(exc))
        return Status(422, {"detail": "The order can't be captured.", "errors": exc.errors})
    except BaseException as exc:
        # Whatever failed rolled the capture back; the request itself is still written down.
        request.inbound = None
        with contextlib.suppress(Exception):
            _store(request, Outcome.FAILED, 500, error=f"{type(exc).__name__}: {exc}")
        raise
    return Status(status, reply)


def _order_for(request, number: str) -> Order:
    order = (
        Order.objects.filter(channel=request.channel, number=number[:20]).prefetch_related("holds").first()
    )
    if order is None:
        raise HttpError(404, "No order with that number for this channel.")
    return order


@api.get(
    "/orders/{number}",
    operation_id="orders_api_get_order",
    response={200: OrderOut, 401: ErrorOut, 404: ErrorOut},
    summary="Get an order",
)
def get_order(request, number: str):
    return Status(200, order_reply(_order_for(request, number)))


def _cancel_body(request) -> CancelIn:
    """The cancellation's body: none at all, or a JSON object. Read here rather than by a ninja
    body parameter, which would publish (and accept) `null` too: the document says exactly this."""
    if not request.body:
        return CancelIn()
    try:
        data = api.parser.parse_body(request)
    except Exception as exc:
        raise HttpError(400, "Cannot parse request body") from exc
    if not isinstance(data, dict):
        raise NinjaValidationError([{"loc": ("body",), "msg": "Must be a JSON object, or no body at all."}])
    try:
        return CancelIn.model_validate(data)
    except PydanticValidationError as exc:
        raise NinjaValidationError(exc.errors(include_url=False)) from None


@api.post(
    "/orders/{number}/cancel",
    operation_id="orders_api_cancel_order",
    response={200: OrderOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Cancel an order",
    description="Cancels an order that has not started fulfilment and releases its stock. "
    "Cancelling a cancelled order returns it unchanged; 409 once fulfilment has started. The body "
    'is optional; when there is one it must be a JSON object (`{}` or `{"reason": …}`): any '
    "other JSON value (`null`, an array, a string) is a 422 and cancels nothing.",
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": CancelIn.model_json_schema()}},
        }
    },
)
def cancel_order(request, number: str):
    payload = _cancel_body(request)  # a body that isn't one is refused whatever the number
    order = _order_for(request, number)
    if order.status != Order.Status.CANCELLED:
        try:
            order = order_cancel(order_id=order.pk, reason=payload.reason or "Cancelled by the channel")
        except OrderTransitionError as exc:
            _store(request, Outcome.INVALID, 409, order=order, error=str(exc))
            return Status(409, {"detail": str(exc)})
    _store(request, Outcome.CANCELLED, 200, order=order)
    order = Order.objects.prefetch_related("holds").get(pk=order.pk)
    return Status(200, order_reply(order))


def api_request_reprocess(inbound: InboundRequest, actor) -> str:
    """Run a stored API order request again (the channel's body as it was sent); registered in
    IntakeConfig.ready()."""
    try:
        payload = OrderIn.model_validate_json(inbound.body)
    except PydanticValidationError as exc:
        errors = _field_errors(exc.errors())
        raise CaptureError(errors) from None
    data = order_input_from_api(payload)
    fingerprint = order_fingerprint(data)
    captured = _captured(channel=inbound.channel, data=data, fingerprint=fingerprint, actor=actor)
    inbound_request_finish(
        inbound=inbound,
        outcome=captured.outcome,
        order=captured.order,
        status=201 if captured.created else 200,
        content_hash=fingerprint,
    )
    return f"Captured as {captured.order.number} ({captured.order.get_status_display().lower()})."
