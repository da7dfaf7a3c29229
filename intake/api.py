"""The channel JSON API (public contract in design.md): create, read and cancel orders.

Thin: authenticates the channel's key, validates the body, stores the raw request, calls
order_capture / order_cancel and renders the reply. Every POST is kept as an InboundRequest with
its outcome; no body of any shape produces a server error.

A create sent with `Prefer: respond-async` (RFC 7240) is validated as any other, then only stored
as received and answered 202 with a `Location`: `GET /api/v1/inbound/{inbound_id}`, which says
"received" until the intake worker (intake/work.py) processed it through ApiOrderProcessor, then
gives the order (or why there is none). Without the header a create is captured in the request,
as it always was.
"""

import contextlib
from decimal import Decimal
from functools import partial
from typing import Annotated, Literal

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Header, NinjaAPI, Path, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from orders.exceptions import CaptureError, OrderTransitionError
from orders.inputs import AddressInput, LineInput, OrderInput
from orders.links import order_tracking_url
from orders.models import Order
from orders.services import CaptureResult, order_cancel

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
from .work import Finish, InboundProcessor, Step, StepDone


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


class ReceivedOut(Schema):
    id: int = Field(description="The request's id in our inbound log.")
    outcome: str = Field(
        description="`received`: waiting to be processed. Then `captured` (the order was created), "
        "`held` (created, on hold), `duplicate` (this external_id was sent before with the same "
        "body: that order), `invalid` (refused: `detail` says why; `reply_status` is 422 or 409 "
        "as a synchronous create would have answered) or `failed` (we could not process it: our "
        "staff see it and process it again)."
    )
    url: str = Field(description="Where to follow this request: `GET /api/v1/inbound/{inbound_id}`.")
    order: OrderOut | None = Field(
        None, description="The order, as `GET /api/v1/orders/{number}` gives it, once there is one."
    )
    detail: str = ""
    reply_status: int | None = Field(
        None, description="The status a synchronous create would have answered with (201, 200, 409, 422)."
    )


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


class ApiOrderProcessor(InboundProcessor):
    """How the intake worker processes an API create stored as received (`Prefer:
    respond-async`), and how staff re-process any stored API create: as the synchronous path
    would have (same body rules, same 409 for a re-used external_id), the outcome and the status
    that path would have answered written on the request. Registered in IntakeConfig.ready()."""

    def plan(self, inbound: InboundRequest) -> list[Step] | Finish:
        try:
            payload = OrderIn.model_validate_json(inbound.body)
        except PydanticValidationError as exc:
            errors = _field_errors(exc.errors(include_url=False))
            return Finish(
                Outcome.INVALID, error="; ".join(f"{k}: {v}" for k, v in errors.items()), status=422
            )
        data = order_input_from_api(payload)
        inbound.content_hash = order_fingerprint(data)
        return [Step(data.external_id, data=data)]

    def settle(self, inbound: InboundRequest, result: CaptureResult) -> StepDone:
        if result.duplicate:
            first = _creating_fingerprint(result.order)
            if first and first != inbound.content_hash:
                return StepDone(
                    error=ExternalIdConflict(external_id=result.order.external_id, order=result.order)
                )
        return super().settle(inbound, result)

    def finish(self, inbound: InboundRequest, done: list[StepDone]) -> Finish:
        [step] = done
        if isinstance(step.error, ExternalIdConflict):
            return Finish(Outcome.INVALID, error=str(step.error), status=409)  # not linked (see create_order)
        if isinstance(step.error, CaptureError):
            return Finish(Outcome.INVALID, error=str(step.error), status=422)
        if step.error is not None:
            return Finish(Outcome.FAILED, error=str(step.error), status=500)
        return Finish(
            step.outcome, order=step.order, status=200 if step.outcome == Outcome.DUPLICATE else 201
        )


def inbound_url(inbound_id: int) -> str:
    return reverse("api-v1:get_inbound", kwargs={"inbound_id": str(inbound_id)})


def received_reply(inbound: InboundRequest) -> dict:
    """What the status of an API create says (ReceivedOut)."""
    reply = {
        "id": inbound.pk,
        "outcome": inbound.outcome,
        "url": inbound_url(inbound.pk),
        "order": None,
        "detail": "",
        "reply_status": inbound.response_status,
    }
    if inbound.outcome == Outcome.RECEIVED:
        reply["detail"] = "Received: waiting to be processed."
    elif inbound.outcome == Outcome.INVALID:
        reply["detail"] = inbound.error
    elif inbound.outcome == Outcome.FAILED:
        reply["detail"] = "We could not process this order; our staff have it and will process it again."
    elif inbound.order_id:
        reply["order"] = order_reply(Order.objects.prefetch_related("holds").get(pk=inbound.order_id))
    return reply


def _accept_and_store(*, request, fingerprint: str) -> tuple[int, dict, None]:
    """Write the request down as received, for the intake worker: the only write."""
    _store(request, Outcome.RECEIVED, None, content_hash=fingerprint)
    return 202, received_reply(request.inbound), None


def _capture_and_store(*, request, channel, data: OrderInput, fingerprint: str) -> tuple[int, dict, Order]:
    """Capture and write the request down with its outcome. The caller's transaction holds both.
    Raises ExternalIdConflict (see _captured)."""
    captured = _captured(channel=channel, data=data, fingerprint=fingerprint)
    status = 201 if captured.created else 200
    reply = order_reply(captured.order)
    _store(request, captured.outcome, status, order=captured.order, content_hash=fingerprint)
    return status, reply, captured.order


def _idempotent(*, request, channel, key: str, fingerprint: str, run) -> tuple[int, dict]:
    """Run `run` (capture, or accept for later) once per (channel, Idempotency-Key)
    (intake.idempotency): a retry replays the first reply, whichever it was, and is written down
    as a duplicate. Raises IdempotencyConflict for a key reused with another body,
    ExternalIdConflict as _captured."""
    status, reply, replayed = idempotent_run(
        channel=channel, key=key, body=request.body, fingerprint=fingerprint, run=run
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
RECEIVED_LINKS = {
    "GetInbound": {
        "operationId": "orders_api_get_inbound",
        "parameters": {"inbound_id": "$response.body#/id"},
        "description": "Follow the order just received until it is captured.",
    }
}


# The operation ids are part of the published OpenAPI document: they keep the names ninja derived
# from this module's path when it was orders/api.py.
@api.post(
    "/orders",
    operation_id="orders_api_create_order",
    response={
        200: OrderOut,
        201: OrderOut,
        202: ReceivedOut,
        400: ErrorOut,
        401: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
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
    "order).\n\n"
    "With `Prefer: respond-async`: 202 as soon as the order is stored (after the same checks of "
    "the key and the body's shape, so 401, 409 for an Idempotency-Key reused with another body, "
    "and 422 for the schema still come at once). `Location` (and `url` in the body) is where to "
    "follow it, `GET /api/v1/inbound/{inbound_id}`: `received` until it is processed, moments "
    "later, then the order, or why there is none (the total rule, a re-used external_id). A "
    "retry with the same Idempotency-Key gets the same 202.",
    openapi_extra={
        "responses": {
            "200": {"links": ORDER_LINKS},
            "201": {"links": ORDER_LINKS},
            "202": {
                "headers": {
                    "Location": {
                        "description": "Where to follow the order: `GET /api/v1/inbound/{inbound_id}`.",
                        "schema": {"type": "string"},
                    },
                    "Preference-Applied": {
                        "description": "`respond-async` (RFC 7240).",
                        "schema": {"type": "string"},
                    },
                },
                "links": RECEIVED_LINKS,
            },
        }
    },
)
def create_order(
    request,
    response: HttpResponse,
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
    prefer: Annotated[
        str,
        Header(
            alias="Prefer",
            description="`respond-async` (RFC 7240): answer 202 as soon as the order is stored, "
            "and capture it moments later; follow it at the `Location` given. Other preferences "
            "are ignored.",
            example="respond-async",
        ),
    ] = "",
):
    channel = request.channel
    data = order_input_from_api(payload)
    fingerprint = order_fingerprint(data)
    key = idempotency_key.strip()  # a key of white space only is no key
    if respond_async(prefer):
        run = partial(_accept_and_store, request=request, fingerprint=fingerprint)
    else:
        run = partial(
            _capture_and_store, request=request, channel=channel, data=data, fingerprint=fingerprint
        )
    try:
        if key:
            status, reply = _idempotent(
                request=request, channel=channel, key=key, fingerprint=fingerprint, run=run
            )
        else:
            with transaction.atomic():
                status, reply, _order = run()
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
    if status == 202:
        response["Location"] = reply["url"]
        response["Preference-Applied"] = "respond-async"
    return Status(status, reply)


def respond_async(prefer: str) -> bool:
    """Whether a Prefer header (RFC 7240: comma-separated preferences, each maybe with
    parameters after a semicolon) asks for respond-async."""
    return any(part.split(";", 1)[0].strip().lower() == "respond-async" for part in prefer.split(","))


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


def _inbound_for(request, inbound_id: str) -> InboundRequest:
    """One of this channel's order creates, by its id in the inbound log; 404 otherwise."""
    inbound = None
    if inbound_id.isascii() and inbound_id.isdigit() and len(inbound_id) <= 18:
        inbound = (
            InboundRequest.objects.filter(
                pk=int(inbound_id),
                channel=request.channel,
                source=InboundRequest.Source.API,
                topic=reverse("api-v1:create_order"),
            )
            .only("pk", "outcome", "order_id", "error", "response_status")
            .first()
        )
    if inbound is None:
        raise HttpError(404, "No order request with that id for this channel.")
    return inbound


@api.get(
    "/inbound/{inbound_id}",
    operation_id="orders_api_get_inbound",
    response={200: ReceivedOut, 401: ErrorOut, 404: ErrorOut},
    summary="Follow an order sent with Prefer: respond-async",
    description="Where a create answered 202 points (`Location`). `outcome` is `received` until the "
    "order is processed (usually within a second or two; poll no faster than that), then says "
    "what became of it, with the order as `GET /api/v1/orders/{number}` gives it once there is "
    "one. Only the channel that sent the order can read it.",
)
def get_inbound(
    request, inbound_id: Annotated[str, Path(description="The `id` a 202 from `POST /api/v1/orders` gave.")]
):
    return Status(200, received_reply(_inbound_for(request, inbound_id)))
