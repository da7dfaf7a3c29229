"""The inbound request store: every request that reaches intake is written down raw before it is
processed, and its outcome after, each in its own short transaction, so a failure while
capturing never loses what the channel sent.

Webhook deliveries and asynchronous API creates are only written down here, as received
(`inbound_request_receive`); the intake worker (intake/work.py) processes them and records their
outcomes set-wise (`inbound_requests_finish_many`)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.db import rows_update
from core.exceptions import DomainError
from orders.exceptions import DuplicateOrder
from orders.inputs import OrderInput
from orders.models import Channel, Order
from orders.services import order_capture

from .models import InboundRequest

Outcome = InboundRequest.Outcome

# Headers kept with a request: enough to re-check and re-process it; never Authorization.
KEPT_HEADERS = {
    "content-type",
    "user-agent",
    "idempotency-key",
    "x-shopify-topic",
    "x-shopify-shop-domain",
    "x-shopify-webhook-id",
    "x-shopify-hmac-sha256",
    "x-wc-webhook-topic",
    "x-wc-webhook-source",
    "x-wc-webhook-delivery-id",
    "x-wc-webhook-signature",
    "x-wc-webhook-id",
}


class InboundNotReprocessable(DomainError):
    """This request can't be processed again."""


def clean_text(raw: bytes | str, limit: int | None = None) -> str:
    """Raw bytes as storable text: invalid UTF-8 and NUL (which PostgreSQL refuses) replaced."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = text.replace("\x00", "\ufffd")
    return text[:limit] if limit else text


def request_headers(request) -> dict[str, str]:
    return {
        name.lower(): clean_text(value, 500)
        for name, value in request.headers.items()
        if name.lower() in KEPT_HEADERS
    }


def inbound_request_record(
    *,
    source: str,
    body: bytes | str,
    channel: Channel | None = None,
    headers: dict | None = None,
    delivery_id: str = "",
    topic: str = "",
    import_batch=None,
    outcome: str = Outcome.RECEIVED,
    status: int | None = None,
    order: Order | None = None,
    error: str = "",
    content_hash: str = "",
) -> InboundRequest:
    """Write down one inbound request as received (the CSV import writes a chunk's requests in
    one bulk insert instead).

    Webhooks and CSV imports call it outside any transaction, before processing, so the request
    is kept whatever happens while it is processed; inbound_request_finish records the outcome.
    The JSON API writes its row once, already answered (`outcome` and the reply's `status`):
    inside the capture's transaction when it captured, so the order and its record commit
    together, and on its own after a refusal or a failure.
    """
    return InboundRequest.objects.create(
        source=source,
        channel=channel,
        body=clean_text(body),
        headers=headers or {},
        delivery_id=clean_text(delivery_id, 255),
        topic=clean_text(topic, 100),
        import_batch=import_batch,
        outcome=outcome,
        response_status=status,
        order=order,
        error=clean_text(error),
        processed_at=None if outcome == Outcome.RECEIVED else timezone.now(),
        content_hash=content_hash,
    )


# What a delivery id already seen means: the delivery was processed (or is waiting to be), so it
# is not processed again. One that failed (or was refused) may be sent again and tried again.
DELIVERY_TAKEN = [
    Outcome.RECEIVED,
    Outcome.CAPTURED,
    Outcome.HELD,
    Outcome.CANCELLED,
    Outcome.EDITED,
    Outcome.IGNORED,
]


def inbound_delivery_taken(*, source: str, channel: Channel, delivery_id: str, exclude_pk=None):
    """The first request of this channel and source that took this delivery id (see
    DELIVERY_TAKEN), or None. One indexed query."""
    if not delivery_id:
        return None
    rows = InboundRequest.objects.filter(
        source=source, delivery_id=delivery_id, channel=channel, outcome__in=DELIVERY_TAKEN
    )
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.order_by("pk").only("pk", "order_id", "outcome").first()


def inbound_request_receive(
    *, source: str, channel: Channel, body: bytes | str, headers: dict, delivery_id: str = "", topic: str = ""
) -> tuple[InboundRequest, bool]:
    """Write down an authenticated platform delivery as received, for the intake worker: one
    INSERT, committed before the platform is answered. Returns (the row, duplicate).

    Two copies of a delivery waiting at once are kept apart by the unique index on pending
    deliveries: the second INSERT fails and is written down as a duplicate instead. A copy of a
    delivery already processed is queued like any other and the worker finds it taken
    (inbound_delivery_taken) and records it as a duplicate without processing it: the platform
    is answered after that one INSERT, with no read before it.
    """
    delivery_id = clean_text(delivery_id, 255)
    record = {
        "source": source,
        "channel": channel,
        "body": body,
        "headers": headers,
        "delivery_id": delivery_id,
        "topic": topic,
    }
    try:
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():  # a savepoint, so the caller's transaction outlives a conflict
                return inbound_request_record(**record), False
        # Outside a transaction (the webhook views) the INSERT commits on its own: one round trip
        # to the database instead of BEGIN, INSERT and COMMIT.
        return inbound_request_record(**record), False
    except IntegrityError:
        seen = inbound_delivery_taken(source=source, channel=channel, delivery_id=delivery_id)
        if seen is None:
            raise
    duplicate = inbound_request_record(
        **record,
        outcome=Outcome.DUPLICATE,
        status=200,
        order=seen.order if seen.order_id else None,
        error=f"The same delivery as request #{seen.pk}.",
    )
    return duplicate, True


# What recording a request's outcome writes (inbound_request_finish, inbound_requests_finish_many).
FINISHED_FIELDS = [
    "outcome",
    "order",
    "error",
    "response_status",
    "processed_at",
    "content_hash",
    "updated_at",
]


def inbound_request_finish(
    *,
    inbound: InboundRequest,
    outcome: str,
    order: Order | None = None,
    error: str = "",
    status: int | None = None,
    content_hash: str = "",
) -> InboundRequest:
    """Record what became of an inbound request."""
    inbound.outcome = outcome
    inbound.order = order or inbound.order
    inbound.error = clean_text(error)
    inbound.response_status = status
    inbound.processed_at = timezone.now()
    inbound.content_hash = content_hash or inbound.content_hash
    inbound.save(update_fields=FINISHED_FIELDS)
    return inbound


def inbound_requests_finish_many(
    items: Iterable[tuple[InboundRequest, str, Order | None, str, int | None]],
) -> list[InboundRequest]:
    """Record what became of many inbound requests: one UPDATE for all of them (SQLite may need
    more for very long lists). Each item is (inbound, outcome, order, error, status), as
    inbound_request_finish takes them; an order of None keeps the one the request has (and its
    content_hash is written as it stands on the object). Runs in the caller's transaction."""
    now = timezone.now()
    rows = []
    for inbound, outcome, order, error, status in items:
        inbound.outcome = outcome
        if order is not None:
            inbound.order = order
        inbound.error = clean_text(error)
        inbound.response_status = status
        inbound.processed_at = now
        inbound.updated_at = now
        rows.append(inbound)
    if rows:
        rows_update(InboundRequest, rows, FINISHED_FIELDS)
    return rows


def inbound_outcome_for(order: Order) -> str:
    """The outcome of a request that captured `order`, as the order is now."""
    return Outcome.HELD if order.status == Order.Status.ON_HOLD else Outcome.CAPTURED


@dataclass
class Captured:
    order: Order
    created: bool

    @property
    def outcome(self) -> str:
        return inbound_outcome_for(self.order) if self.created else Outcome.DUPLICATE


def inbound_outcome_follow_order(sender, *, order: Order, from_status: str, to_status: str, **kwargs) -> None:
    """Receiver of orders.signals.order_status_changed (connected in IntakeConfig.ready()): the
    requests that captured an order say what became of it. Held while it is on hold; captured
    once it goes on (a released hold, then verified and allocated or backordered; or cancelled).
    Replays, cancellations and refusals keep their outcome. One UPDATE, only when the order
    goes on or off hold; in the transaction that changed the order."""
    if Order.Status.ON_HOLD not in (from_status, to_status):
        return
    outcome = Outcome.HELD if to_status == Order.Status.ON_HOLD else Outcome.CAPTURED
    InboundRequest.objects.filter(order_id=order.pk, outcome__in=[Outcome.HELD, Outcome.CAPTURED]).exclude(
        outcome=outcome
    ).update(outcome=outcome, updated_at=timezone.now())


def intake_capture(*, channel: Channel, data: OrderInput, actor=None) -> Captured:
    """Capture through order_capture; an order the channel sent before comes back as not created.

    Raises CaptureError for data that can't form an order.
    """
    try:
        return Captured(order=order_capture(channel=channel, data=data, actor=actor), created=True)
    except DuplicateOrder as dup:
        return Captured(order=dup.order, created=False)


# --- re-processing ----------------------------------------------------------------------------
# Each source registers how to process its stored request again: handler(inbound, actor) -> str.
# Registered in AppConfig.ready(): intake's for the API and CSV, connectors' for the platforms.
_reprocessors: dict[str, Callable] = {}


def register_reprocessor(source: str, handler: Callable) -> None:
    _reprocessors[source] = handler


def inbound_request_reprocess(*, inbound_id: int, actor=None) -> str:
    """Process a stored request again after staff fixed the cause (mapped a SKU, fixed a secret).

    When it already produced an order that is on hold, its lines are matched to products again and
    its holds released (which re-runs verification); its outcome follows the order. A request
    that failed although it produced an order (a delivery carrying several, one of which failed)
    is then processed again whole, so the others get another try and the outcome says how that
    went: it no longer counts as failed unless something in it still fails. Otherwise the raw
    request is processed as if it had just arrived. Raises InboundNotReprocessable for requests
    that had no order data (rejected signatures, pings) and for those still waiting for the
    intake worker. Returns a message for staff.
    """
    from .rematch import order_rematch_and_recheck

    inbound = InboundRequest.objects.select_related("channel", "order").get(pk=inbound_id)
    if InboundRequest.objects.pending().filter(pk=inbound.pk).exists():
        raise InboundNotReprocessable(
            "This request is waiting for the intake worker, which processes requests in the order "
            "they arrived: it will be processed shortly."
        )
    if inbound.order_id:
        order = order_rematch_and_recheck(order_id=inbound.order_id, actor=actor)
        InboundRequest.objects.filter(pk=inbound.pk).update(attempts=inbound.attempts + 1)
        message = f"{order.number} re-checked: it is now {order.get_status_display().lower()}."
        if inbound.outcome != Outcome.FAILED:
            return message
        handler = _reprocessors.get(inbound.source)
        if handler is None or inbound.channel_id is None:
            inbound_request_finish(inbound=inbound, outcome=inbound_outcome_for(order), status=200)
            return message
        return f"{message} {handler(inbound, actor)}"
    if inbound.outcome == Outcome.REJECTED or inbound.channel_id is None:
        raise InboundNotReprocessable(
            "This request was rejected before it reached a channel (bad key or signature); "
            "the sender must send it again."
        )
    handler = _reprocessors.get(inbound.source)
    if handler is None:
        raise InboundNotReprocessable(f"No processor for {inbound.get_source_display()} requests.")
    InboundRequest.objects.filter(pk=inbound.pk).update(attempts=inbound.attempts + 1)
    return handler(inbound, actor)
