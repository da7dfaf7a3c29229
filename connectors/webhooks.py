"""Order webhooks from shop platforms: the flow Shopify and WooCommerce deliveries share.

Each delivery is stored raw first; then its HMAC (over the raw body, with the channel's
webhook secret) picks the channel; a delivery id seen before is acknowledged without capturing
again; then the platform's order is mapped and captured. Mapping failures are kept as failed
deliveries (HTTP 200, so the platform stops retrying) for staff to fix and re-process.

What differs per platform (headers, signature, payload mapping) is a Platform value, built in
connectors/<platform>/views.py next to the platform's view.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.http import JsonResponse

from core.exceptions import DomainError
from intake.inbound import (
    Outcome,
    inbound_outcome_for,
    inbound_request_finish,
    inbound_request_record,
    intake_capture,
    request_headers,
)
from intake.mapping import MappingError
from intake.models import InboundRequest
from orders.exceptions import OrderTransitionError
from orders.models import Channel, Order
from orders.services import order_cancel

from .echo import channel_echo
from .edits import webhook_order_update


def _never(request) -> bool:
    return False


def _as_sent(order: dict) -> dict:
    return order


def _nothing(*, topic: str) -> str:
    return ""


@dataclass(frozen=True)
class Platform:
    source: str  # InboundRequest.Source
    kind: str  # Channel.Kind
    name: str
    signature_header: str
    delivery_header: str
    topic_header: str
    signature: Callable[..., str]  # (secret=, body=) -> the signature header's value
    unwrap: Callable[..., list[dict]]  # (payload) -> the orders in a body
    order_input: Callable  # (channel=, order=) -> OrderInput
    is_cancellation: Callable[..., bool]  # (topic=, order=)
    is_ping: Callable[..., bool] = _never  # (request): a delivery that only tests the webhook
    # Order updates (connectors/edits.py): topics whose body is the order as it stands after a
    # change, the platform's order as it stands after edits, and topics only acknowledged (why).
    update_topics: tuple[str, ...] = ()
    current: Callable[[dict], dict] = _as_sent
    skipped: Callable[..., str] = _nothing  # (topic=) -> why it is only acknowledged, or ""


def webhook_signature(*, secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, raw body)): the recipe Shopify and WooCommerce both use."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _channel_for(platform: Platform, body: bytes, signature: str, code: str = "") -> Channel | None:
    """The active channel of this platform whose secret produced the signature (constant-time)."""
    if not signature:
        return None
    channels = Channel.objects.filter(kind=platform.kind, is_active=True).exclude(webhook_secret="")
    if code:
        channels = channels.filter(code=code)
    for channel in channels:
        expected = platform.signature(secret=channel.webhook_secret, body=body)
        if hmac.compare_digest(expected.encode(), signature.strip().encode()):
            return channel
    return None


def webhook_process(*, platform: Platform, inbound: InboundRequest, actor=None) -> tuple[int, dict]:
    """Map and capture (or cancel) every order in a stored, authenticated delivery and record
    the outcome on it. Returns the HTTP status and reply body."""
    channel = inbound.channel
    if reason := platform.skipped(topic=inbound.topic):
        return _done(inbound, Outcome.IGNORED, error=reason)
    try:
        payload = json.loads(inbound.body)
        orders = platform.unwrap(payload)
    except (ValueError, RecursionError):
        return _done(inbound, Outcome.FAILED, error="The body is not valid JSON.")
    except MappingError as exc:
        return _done(inbound, Outcome.FAILED, error=str(exc))
    if not orders:
        return _done(inbound, Outcome.IGNORED, error="The body holds no orders.")
    results, errors, first_order, outcomes = [], [], None, []
    for raw in orders:
        try:
            updated = None
            if platform.is_cancellation(topic=inbound.topic, order=raw):
                updated = _cancel(platform, channel, raw, actor)
            elif inbound.topic in platform.update_topics:
                updated = webhook_order_update(
                    platform=platform, channel=channel, raw=raw, inbound=inbound, actor=actor
                )
            if updated is not None:
                order, outcome = updated
            else:  # a new order, or an update of one never captured here
                captured = intake_capture(
                    channel=channel, data=platform.order_input(channel=channel, order=raw), actor=actor
                )
                order, outcome = captured.order, captured.outcome
                if not captured.created and order.pk == inbound.order_id:
                    outcome = inbound_outcome_for(order)  # this delivery captured it: not a replay
        except DomainError as exc:
            errors.append(str(exc))
            continue
        first_order = first_order or order
        outcomes.append(outcome)
        if order is not None:
            results.append({"number": order.number, "status": order.status})
    if errors:
        return _done(inbound, Outcome.FAILED, order=first_order, error="\n".join(errors), orders=results)
    return _done(inbound, outcomes[0], order=first_order, orders=results)


def _cancel(platform, channel, raw, actor) -> tuple[Order | None, str]:
    external_id = str(raw.get("id", "")).strip()
    order = Order.objects.filter(channel=channel, external_id=external_id).first()
    if order is None:
        return None, Outcome.IGNORED  # cancelled before we ever captured it: nothing to undo
    if order.status == Order.Status.CANCELLED:
        return order, Outcome.DUPLICATE
    try:
        with channel_echo(channel.pk):  # the shop cancelled it: not to be sent back to the shop
            order = order_cancel(order_id=order.pk, actor=actor, reason=f"Cancelled in {platform.name}")
    except OrderTransitionError as exc:
        raise MappingError(f"{platform.name} cancelled {order.number}, but {exc}") from None
    return order, Outcome.CANCELLED


def _done(inbound, outcome, *, order=None, error="", orders=()) -> tuple[int, dict]:
    inbound_request_finish(inbound=inbound, outcome=outcome, order=order, error=error, status=200)
    body = {"outcome": outcome, "orders": list(orders)}
    if error:
        body["error"] = error
    return 200, body


def order_webhook(request, *, platform: Platform) -> JsonResponse:
    """Answer one delivery of the platform's order webhook (the platform's view calls this)."""
    body = request.body
    inbound = inbound_request_record(
        source=platform.source,
        body=body,
        headers=request_headers(request),
        delivery_id=request.headers.get(platform.delivery_header, ""),
        topic=request.headers.get(platform.topic_header, ""),
    )
    if platform.is_ping(request):
        inbound_request_finish(inbound=inbound, outcome=Outcome.IGNORED, error="", status=200)
        return JsonResponse({"outcome": "ping"})
    channel = _channel_for(
        platform, body, request.headers.get(platform.signature_header, ""), request.GET.get("channel", "")
    )
    if channel is None:
        error = f"Missing or wrong {platform.signature_header}: no {platform.name} channel's secret matches."
        inbound_request_finish(inbound=inbound, outcome=Outcome.REJECTED, error=error, status=401)
        return JsonResponse({"detail": error}, status=401)
    inbound.channel = channel
    InboundRequest.objects.filter(pk=inbound.pk).update(channel=channel)
    if inbound.delivery_id:
        seen = (
            InboundRequest.objects.filter(
                source=platform.source, channel=channel, delivery_id=inbound.delivery_id
            )
            .exclude(pk=inbound.pk)
            .exclude(outcome__in=[Outcome.RECEIVED, Outcome.REJECTED, Outcome.FAILED])
            .order_by("pk")
            .first()
        )
        if seen is not None:
            inbound_request_finish(
                inbound=inbound, outcome=Outcome.DUPLICATE, order=seen.order, error="", status=200
            )
            return JsonResponse({"outcome": "duplicate", "orders": []})
    status, reply = webhook_process(platform=platform, inbound=inbound)
    return JsonResponse(reply, status=status)


def webhook_reprocess(inbound: InboundRequest, actor, *, platform: Platform) -> str:
    """Process a stored delivery again (registered per platform in ConnectorsConfig.ready())."""
    _, reply = webhook_process(platform=platform, inbound=inbound, actor=actor)
    if reply.get("error"):
        raise MappingError(reply["error"])
    numbers = ", ".join(o["number"] for o in reply["orders"]) or "no order"
    return f"Delivery re-processed: {numbers} ({reply['outcome']})."
