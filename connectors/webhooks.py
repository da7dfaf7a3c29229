"""Order webhooks from shop platforms: the flow Shopify and WooCommerce deliveries share.

The view answers after one write: the delivery's HMAC (over the raw body, with the channel's
webhook secret) picks the channel, then the delivery is stored raw as received, in one INSERT,
and answered 200 at once; a delivery id the channel already has is answered "duplicate" and
never processed twice (intake.inbound.inbound_request_receive). Refused signatures (401) and
pings are stored with their outcome.

The intake worker (intake/work.py, `manage.py intake_work`) then processes the stored deliveries
through WebhookProcessor: each order mapped, new ones captured with the batch's others, updates
and cancellations applied in arrival order. Mapping failures are kept as failed deliveries for
staff to fix and re-process (through the same processor).

What differs per platform (headers, signature, payload mapping) is a Platform value, built in
connectors/<platform>/views.py next to the platform's view.
"""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from django.http import JsonResponse

from core.exceptions import DomainError
from intake.inbound import (
    Outcome,
    inbound_outcome_for,
    inbound_request_receive,
    inbound_request_record,
    request_headers,
)
from intake.mapping import MappingError
from intake.models import InboundRequest
from intake.rematch import sku_resolve_prefetch
from intake.work import Finish, InboundProcessor, Step, StepDone
from orders.exceptions import OrderTransitionError
from orders.models import Channel, Order
from orders.services import CaptureResult, order_cancel

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


# The channels whose secrets each platform's deliveries are checked against, kept in each process
# for a few seconds: in a flash sale the query per delivery cost as much as the delivery's own
# INSERT. A channel saved here is seen at once (webhook_channels_forget); other processes see a
# new secret, a new channel or a switched-off one within SIGNING_CHANNELS_SECONDS (a delivery
# refused meanwhile is sent again by the platform). Secrets never go to the shared cache.
SIGNING_CHANNELS_SECONDS = 5.0
_signing_channels: dict[str, tuple[float, list[Channel]]] = {}


def _channels_signing(kind: str) -> list[Channel]:
    now = time.monotonic()
    held = _signing_channels.get(kind)
    if held is not None and now - held[0] < SIGNING_CHANNELS_SECONDS:
        return held[1]
    channels = list(
        Channel.objects.filter(kind=kind, is_active=True)
        .exclude(webhook_secret="")
        .only("pk", "code", "name", "kind", "webhook_secret")
    )
    _signing_channels[kind] = (now, channels)
    return channels


def webhook_channels_forget(**kwargs) -> None:
    """post_save / post_delete of Channel: this process checks signatures against the channels
    as they are now."""
    _signing_channels.clear()


def _channel_for(platform: Platform, body: bytes, signature: str, code: str = "") -> Channel | None:
    """The active channel of this platform whose secret produced the signature (constant-time)."""
    if not signature:
        return None
    channels = _channels_signing(platform.kind)
    if code:
        channels = [c for c in channels if c.code == code]
    for channel in channels:
        expected = platform.signature(secret=channel.webhook_secret, body=body)
        if hmac.compare_digest(expected.encode(), signature.strip().encode()):
            return channel
    return None


def _payload(inbound: InboundRequest):
    """The stored body parsed, once per request object (prefetch and plan both read it)."""
    parsed = inbound.__dict__.get("_payload")
    if parsed is None:
        parsed = inbound.__dict__["_payload"] = json.loads(inbound.body)
    return parsed


class WebhookProcessor(InboundProcessor):
    """How the intake worker processes a platform's stored deliveries (registered per platform
    in ConnectorsConfig.ready()): each order of the body mapped; a new one captured with the
    batch's others; an update (connectors/edits.py) or cancellation applied on its own, in
    arrival order. Mapping failures make the delivery failed, for staff to fix and re-process."""

    dedupe_deliveries = True

    def __init__(self, platform: Platform):
        self.platform = platform

    def prefetch(self, inbounds: Sequence[InboundRequest]) -> None:
        """The batch's SKUs looked up at once, per channel (both platforms name a line's SKU
        `line_items[].sku`); a body that doesn't parse is left to plan() to report."""
        skus: dict[Channel, set[str]] = {}
        for inbound in inbounds:
            try:
                orders = self.platform.unwrap(_payload(inbound))
            except (ValueError, RecursionError, MappingError):
                continue
            mine = skus.setdefault(inbound.channel, set())
            for order in orders:
                items = order.get("line_items") if isinstance(order, dict) else None
                for item in items if isinstance(items, list) else ():
                    if isinstance(item, dict) and isinstance(item.get("sku"), str):
                        mine.add(item["sku"].strip())
        for channel, keys in skus.items():
            sku_resolve_prefetch(channel=channel, keys=keys)

    def plan(self, inbound: InboundRequest) -> list[Step] | Finish:
        platform = self.platform
        if reason := platform.skipped(topic=inbound.topic):
            return Finish(Outcome.IGNORED, error=reason, status=200)
        try:
            orders = platform.unwrap(_payload(inbound))
        except (ValueError, RecursionError):
            return Finish(Outcome.FAILED, error="The body is not valid JSON.", status=200)
        except MappingError as exc:
            return Finish(Outcome.FAILED, error=str(exc), status=200)
        if not orders:
            return Finish(Outcome.IGNORED, error="The body holds no orders.", status=200)
        return [self._step(inbound, raw) for raw in orders]

    def _step(self, inbound: InboundRequest, raw: dict) -> Step:
        platform, channel = self.platform, inbound.channel
        key = str(raw.get("id", "")).strip() if isinstance(raw, dict) else ""
        try:
            if platform.is_cancellation(topic=inbound.topic, order=raw):
                return Step(key, apply=partial(_cancel_step, platform, channel, raw))
            if inbound.topic in platform.update_topics:
                return Step(
                    key,
                    apply=partial(_update_step, platform, channel, raw, inbound),
                    fallback=partial(platform.order_input, channel=channel, order=raw),
                )
            return Step(key, data=platform.order_input(channel=channel, order=raw))
        except DomainError as exc:
            return Step(key, done=StepDone(error=exc))

    def settle(self, inbound: InboundRequest, result: CaptureResult) -> StepDone:
        done = super().settle(inbound, result)
        if result.duplicate and result.order.pk == inbound.order_id:
            done.outcome = inbound_outcome_for(result.order)  # this delivery captured it: not a replay
        return done

    def finish(self, inbound: InboundRequest, done: list[StepDone]) -> Finish:
        errors = [str(d.error) for d in done if d.error is not None]
        succeeded = [d for d in done if d.error is None]
        first_order = next((d.order for d in succeeded if d.order is not None), None)
        if errors:
            return Finish(Outcome.FAILED, order=first_order, error="\n".join(errors), status=200)
        return Finish(succeeded[0].outcome, order=first_order, status=200)


def _cancel_step(platform, channel, raw, actor) -> StepDone:
    try:
        order, outcome = _cancel(platform, channel, raw, actor)
    except MappingError as exc:
        return StepDone(error=exc)
    return StepDone(order=order, outcome=outcome)


def _update_step(platform, channel, raw, inbound, actor) -> StepDone | None:
    """None when the order was never captured here (the worker captures it instead). A change
    that can't be applied is the step's error; the note it left on the order stays."""
    try:
        updated = webhook_order_update(
            platform=platform, channel=channel, raw=raw, inbound=inbound, actor=actor
        )
    except DomainError as exc:
        return StepDone(error=exc)
    if updated is None:
        return None
    order, outcome = updated
    return StepDone(order=order, outcome=outcome)


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


def order_webhook(request, *, platform: Platform) -> JsonResponse:
    """Answer one delivery of the platform's order webhook (the platform's view calls this):
    verified, written down once as received for the intake worker, answered at once."""
    body = request.body
    record = {
        "source": platform.source,
        "body": body,
        "headers": request_headers(request),
        "delivery_id": request.headers.get(platform.delivery_header, ""),
        "topic": request.headers.get(platform.topic_header, ""),
    }
    if platform.is_ping(request):
        inbound_request_record(**record, outcome=Outcome.IGNORED, status=200)
        return JsonResponse({"outcome": "ping"})
    channel = _channel_for(
        platform, body, request.headers.get(platform.signature_header, ""), request.GET.get("channel", "")
    )
    if channel is None:
        error = f"Missing or wrong {platform.signature_header}: no {platform.name} channel's secret matches."
        inbound_request_record(**record, outcome=Outcome.REJECTED, status=401, error=error)
        return JsonResponse({"detail": error}, status=401)
    _, duplicate = inbound_request_receive(channel=channel, **record)
    return JsonResponse({"outcome": Outcome.DUPLICATE if duplicate else Outcome.RECEIVED})
