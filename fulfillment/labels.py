"""Labels through the carrier gateway: rate a packed parcel, buy the right rate once, void it.

Buying a label is a call to the outside world whose answer the packer waits for, so it runs in
the request, in steps that each commit, and never inside a transaction that holds locks:

1. rate: the gateway creates its shipment and offers rates; the row (ShippingLabel, `quoted`)
   stores its id and the rates before anything is bought;
2. choose: the rate of the service level the shipping rules chose, or the cheapest that still
   meets the promised date (per channel), or the one staff chose with a reason;
3. buy: the row is marked `buying` (committed), then the gateway buys. A purchase whose answer
   was lost (time-out) leaves the row `buying`; the next attempt asks the gateway what its
   shipment already has (`label_get`) and uses that label, so a retry never buys a second one.
   A purchase in flight for less than PURCHASE_LEASE is left alone (two clicks, one label);
4. store: the shipment gets the tracking number, carrier service, postage and the label.

A void is owed to the outside world after the change commits, so it goes through the delivery
log (core.outbox, topic LABEL_VOID), retried until the platform answers.

The same steps buy return labels (returns.labels) on their own rows (ReturnLabel).
"""

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass

from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.exceptions import DomainError
from core.outbox.errors import DeliveryFailed, DeliveryRetry
from core.outbox.services import delivery_enqueue
from orders.events import order_event_record
from orders.models import Channel, OrderEvent

from .estimates import estimate_delivery
from .exceptions import ShipmentTransitionError
from .gateway import (
    CarrierRefused,
    CarrierUnavailable,
    Label,
    LabelFormat,
    Parcel,
    PostalAddress,
    Quote,
    Rate,
    ShipmentRequest,
    carrier_gateway_for,
    carrier_gateway_get,
)
from .models import Box, Carrier, LabelRecord, PackingStation, ServiceLevel, ShipFrom, Shipment, ShippingLabel
from .shipments import shipment_lock

logger = logging.getLogger(__name__)
Kind = OrderEvent.Kind
LS = LabelRecord.Status
PURCHASE_LEASE = dt.timedelta(seconds=90)
LABEL_VOID = "fulfillment.label_void"


class LabelNotBought(DomainError):
    """No label was bought (no rate, refused, carrier down); the shipment stays packed."""


class LabelPurchaseInProgress(LabelNotBought):
    """Another attempt is buying this label right now."""


# --- parcels and requests ----------------------------------------------------------------------
def parcel_for_shipment(*, shipment: Shipment, box: Box | None = None, dimensions=None) -> Parcel:
    """The parcel as packed: the items' weight plus the box's, and the box's outer size (or the
    dimensions typed, in mm). Items without a product weigh nothing."""
    items = sum(
        (ln.order_line.product.weight_grams if ln.order_line.product else 0) * ln.quantity
        for ln in shipment.lines.select_related("order_line__product")
    )
    if box is not None:
        return Parcel(items + box.weight_grams, box.length_mm, box.width_mm, box.height_mm)
    length, width, height = dimensions or (0, 0, 0)
    return Parcel(items, length, width, height)


def ship_from_for(warehouse) -> PostalAddress:
    """Where a warehouse's parcels leave from; its name and country when no address is set."""
    address = ShipFrom.objects.filter(warehouse=warehouse).first()
    if address is None:
        return PostalAddress(name=warehouse.name, country=warehouse.country, region=warehouse.region)
    return PostalAddress.from_model(address)


def gateway_accounts(gateway_code: str) -> tuple[str, ...]:
    """The platform accounts of our active carriers on a gateway (rates only from those)."""
    return tuple(
        a
        for a in Carrier.objects.filter(is_active=True, gateway=gateway_code)
        .exclude(gateway_account_id="")
        .values_list("gateway_account_id", flat=True)
    )


# --- choosing a rate ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RateOption:
    """A rate offered, with our service level when it maps onto one (carrier account or name,
    and service code) and when it would arrive."""

    rate: Rate
    service_level: ServiceLevel | None
    estimate: dt.date | None

    @property
    def label(self) -> str:
        ours = f" ({self.service_level})" if self.service_level else " (not set up)"
        return f"{self.rate.carrier} {self.rate.service}{ours}: {self.rate.price}"


def rate_options(*, rates, gateway_code: str, now: dt.datetime | None = None) -> list[RateOption]:
    """Every rate with the service level it is, cheapest first (never the platform's order)."""
    now = now or timezone.now()
    levels = list(
        ServiceLevel.objects.filter(is_active=True, carrier__is_active=True, carrier__gateway=gateway_code)
        .exclude(gateway_service="")
        .select_related("carrier")
    )

    def level_for(rate: Rate) -> ServiceLevel | None:
        for level in levels:
            carrier = level.carrier
            same_carrier = (
                rate.carrier_account == carrier.gateway_account_id
                if carrier.gateway_account_id
                else rate.carrier.lower() == (carrier.gateway_carrier or carrier.code).lower()
            )
            if same_carrier and rate.service.lower() == level.gateway_service.lower():
                return level
        return None

    options = []
    for rate in rates:
        level = level_for(rate)
        estimate = rate.delivery_date
        if estimate is None and (rate.delivery_days is not None or level is not None):
            cutoff = level.cutoff_time if level else dt.time(15, 0)
            days = rate.delivery_days if rate.delivery_days is not None else level.transit_days
            estimate = estimate_delivery(now, cutoff=cutoff, transit_days=days)
        options.append(RateOption(rate, level, estimate))
    options.sort(key=lambda o: (o.rate.price.amount, o.estimate or dt.date.max, o.rate.rate_id))
    return options


def rate_choose(
    *, shipment: Shipment, options: list[RateOption], policy: str
) -> tuple[RateOption | None, str]:
    """The rate to buy, and why (or why none). Only rates in the order's currency that map onto
    one of our service levels count.

    - SERVICE_LEVEL: the rate of the service level the shipping rules chose for the shipment;
    - CHEAPEST_ON_TIME: the cheapest whose estimate is on or before the shipment's promised
      delivery date (without a promise: as SERVICE_LEVEL).
    """
    currency = shipment.order.currency
    usable = [o for o in options if o.service_level is not None and o.rate.price.currency == currency]
    offered = "; ".join(o.label for o in options) or "none"
    if policy == Channel.LabelRate.CHEAPEST_ON_TIME and shipment.estimated_delivery:
        on_time = [o for o in usable if o.estimate is not None and o.estimate <= shipment.estimated_delivery]
        if on_time:
            best = on_time[0]
            return best, (
                f"cheapest rate arriving by the promised {shipment.estimated_delivery:%a %d %b}: {best.label}"
            )
        return (
            None,
            f"No rate arrives by the promised {shipment.estimated_delivery:%a %d %b}. Offered: {offered}.",
        )
    level = shipment.service_level
    for option in usable:
        if level is not None and option.service_level.pk == level.pk:
            return option, f"rate of the chosen service {level}: {option.label}"
    wanted = str(level) if level else "a service level"
    return None, f"No rate for {wanted}. Offered: {offered}."


# --- the purchase, once ------------------------------------------------------------------------
def _record_lock(model, label_id: int):
    return model.objects.select_for_update().get(pk=label_id)


def label_store(record: LabelRecord, label: Label, *, now: dt.datetime) -> None:
    """Write a bought label onto its row (the caller holds the row lock)."""
    record.status = LS.BOUGHT
    record.reference = label.reference or record.reference
    record.tracking_number = label.tracking_number[:64]
    record.carrier_name = label.carrier[:64]
    record.service_name = label.service[:64]
    record.postage = label.postage.rounded
    record.currency = label.postage.currency
    record.label_format = label.format
    record.label_url = label.url[:500]
    record.document = label.document
    record.tracker_reference = label.tracker_reference[:100]
    record.message = ""
    record.bought_at = now
    record.save()


def label_buy_once(*, model, label_id: int, rate: Rate, gateway) -> LabelRecord:
    """Buy `rate` of the quote on label row `label_id`, never twice.

    Locks the row only while its state changes (never during the call). A row already bought is
    returned as it is. A row `buying` for less than PURCHASE_LEASE raises LabelPurchaseInProgress;
    one left `buying` longer (its answer was lost) is looked up with `label_get` and, if the
    platform has its label, that label is stored instead of buying again. Raises LabelNotBought
    when the platform refuses (the row becomes `failed`) or can't be reached (the row stays
    `buying`, so the next attempt looks before it buys).
    """
    now = timezone.now()
    with transaction.atomic():
        record = _record_lock(model, label_id)
        if record.status == LS.BOUGHT:
            return record
        if record.status == LS.BUYING and record.buying_since and now - record.buying_since < PURCHASE_LEASE:
            raise LabelPurchaseInProgress(
                "This label is being bought right now; wait a moment and look again."
            )
        if record.status not in (LS.QUOTED, LS.BUYING):
            raise LabelNotBought(
                f"This label is {record.get_status_display().lower()}; rate the parcel again."
            )
        retry = record.status == LS.BUYING
        if not retry:
            record.status = LS.BUYING
            record.rate_id = rate.rate_id
        record.buying_since = now
        record.save(update_fields=["status", "rate_id", "buying_since", "updated_at"])
        label_format, reference = record.label_format, record.reference
    try:
        label = gateway.label_get(quote_reference=reference, label_format=label_format) if retry else None
        if label is None:
            label = gateway.buy(quote_reference=reference, rate=rate, label_format=label_format)
    except CarrierRefused as exc:
        with transaction.atomic():
            record = _record_lock(model, label_id)
            record.status, record.message = LS.FAILED, str(exc)[:500]
            record.save(update_fields=["status", "message", "updated_at"])
        raise LabelNotBought(f"The carrier refused the purchase: {exc}") from exc
    except CarrierUnavailable as exc:
        with transaction.atomic():
            record = _record_lock(model, label_id)
            record.message = str(exc)[:500]
            record.buying_since = timezone.now() - PURCHASE_LEASE  # the next attempt may look at once
            record.save(update_fields=["message", "buying_since", "updated_at"])
        raise LabelNotBought(
            f"{exc} Nothing is bought twice: trying again checks with the carrier first."
        ) from exc
    with transaction.atomic():
        record = _record_lock(model, label_id)
        if record.status != LS.BOUGHT:
            label_store(record, label, now=timezone.now())
    return record


def label_quote_create(*, model, gateway, request: ShipmentRequest, **owner) -> LabelRecord:
    """Rate a request and keep the platform's shipment id and rates on a new `quoted` row (of
    `model`, for `owner`: shipment= or return_request=), before anything is bought. Raises
    LabelNotBought when the platform refuses or can't be reached, LabelPurchaseInProgress when
    another attempt has just made the owner's active row."""
    try:
        quote: Quote = gateway.rates(request=request)
    except (CarrierRefused, CarrierUnavailable) as exc:
        raise LabelNotBought(f"No rates: {exc}") from exc
    try:
        with transaction.atomic():
            return model.objects.create(
                status=LS.QUOTED,
                gateway=gateway.code,
                reference=quote.reference,
                label_format=request.label_format,
                quote={
                    "parcel": dataclasses.asdict(request.parcel),
                    "rates": [r.as_json() for r in quote.rates],
                    "messages": list(quote.messages),
                },
                **owner,
            )
    except IntegrityError:
        raise LabelPurchaseInProgress(
            "Another attempt is rating this label right now; wait a moment and look again."
        ) from None


def label_rates(record: LabelRecord) -> list[Rate]:
    return [Rate.from_json(r) for r in (record.quote or {}).get("rates", [])]


# --- shipments -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelOutcome:
    label: ShippingLabel
    reason: str  # why this rate


def shipment_active_label(shipment: Shipment) -> ShippingLabel | None:
    return shipment.labels.filter(status__in=LabelRecord.ACTIVE).first()


def _prepare(*, shipment_id: int, station: PackingStation | None, box_id, dimensions):
    """Lock, check, and write the parcel onto the shipment. Returns (shipment, gateway, active
    label, parcel)."""
    with transaction.atomic():
        order, shipment = shipment_lock(shipment_id)
        if shipment.status != Shipment.Status.PACKED:
            raise ShipmentTransitionError(shipment=shipment, transition="buy a label for")
        gateway = carrier_gateway_for(shipment.carrier)
        if not gateway.buys_labels:
            raise LabelNotBought(
                f"{shipment.carrier or 'This carrier'} labels are not bought here: type the tracking "
                "number when you ship."
            )
        active = shipment_active_label(shipment)
        box = Box.objects.filter(pk=box_id).first() if box_id else None
        if box is None and not dimensions and active is None:
            box = shipment.box or (station.default_box if station else None)
        if box is not None or dimensions:
            parcel = parcel_for_shipment(shipment=shipment, box=box, dimensions=dimensions)
            shipment.box = box
            shipment.weight_grams = parcel.weight_grams
            shipment.length_mm, shipment.width_mm, shipment.height_mm = (
                parcel.length_mm,
                parcel.width_mm,
                parcel.height_mm,
            )
            shipment.save(
                update_fields=["box", "weight_grams", "length_mm", "width_mm", "height_mm", "updated_at"]
            )
        parcel = Parcel(shipment.weight_grams, shipment.length_mm, shipment.width_mm, shipment.height_mm)
        if active is not None and active.status == LS.QUOTED:
            stale = (active.quote or {}).get("parcel") != dataclasses.asdict(parcel) or (
                station is not None and active.label_format != station.label_format
            )
            if stale:
                active.status, active.message = LS.FAILED, "Rated again: the parcel or label format changed."
                active.save(update_fields=["status", "message", "updated_at"])
                active = None
        return order, shipment, gateway, active, parcel


def shipment_label_buy(
    *,
    shipment_id: int,
    station: PackingStation | None = None,
    box_id: int | None = None,
    dimensions: tuple[int, int, int] | None = None,
    rate_id: str = "",
    reason: str = "",
    actor=None,
) -> LabelOutcome:
    """Rate a packed shipment's parcel and buy its label (once), in the station's format.

    Without `rate_id` the rate is chosen by the channel's policy (rate_choose); with it, staff
    override the choice and must give a `reason` (written on the order's timeline). The parcel is
    the box chosen (`box_id`, else the shipment's, else the station's default) or the dimensions
    typed, weighed from the products plus the box.

    Locks order then shipment for the checks and for storing the result; holds no lock during
    carrier calls. Raises ShipmentTransitionError unless packed, LabelNotBought when no label
    can be bought (no rate, refused, carrier down: the shipment stays packed and a retry buys
    nothing twice), LabelPurchaseInProgress while another attempt is buying.
    """
    rate_id, reason = (rate_id or "").strip(), (reason or "").strip()
    if rate_id and not reason:
        raise LabelNotBought("Say why you buy another rate than the one chosen.")
    order, shipment, gateway, active, parcel = _prepare(
        shipment_id=shipment_id, station=station, box_id=box_id, dimensions=dimensions
    )
    if active is not None and active.status == LS.BOUGHT:
        return LabelOutcome(active, "already bought")
    if active is None:
        fmt = station.label_format if station else LabelFormat.PDF
        request = ShipmentRequest(
            reference=shipment.number,
            ship_from=ship_from_for(shipment.warehouse),
            ship_to=PostalAddress.from_model(order.shipping_address, email=order.email),
            parcel=parcel,
            currency=order.currency,
            label_format=fmt,
            label_size=station.label_size if station else "4x6",
            carrier_accounts=gateway_accounts(gateway.code),
        )
        active = label_quote_create(
            model=ShippingLabel, gateway=gateway, request=request, shipment=shipment, actor=actor
        )
    options = rate_options(rates=label_rates(active), gateway_code=gateway.code)
    if active.status == LS.BUYING:
        chosen = next((o for o in options if o.rate.rate_id == active.rate_id), None)
        why = "the purchase left unconfirmed"
    elif rate_id:
        chosen = next((o for o in options if o.rate.rate_id == rate_id), None)
        if chosen is None or chosen.service_level is None:
            raise LabelNotBought("That rate is not offered for this parcel (or its service is not set up).")
        why = f"chosen by staff: {reason}"
    else:
        chosen, why = rate_choose(shipment=shipment, options=options, policy=order.channel.label_rate)
    if chosen is None:
        raise LabelNotBought(f"No label bought for {shipment.number}: {why}")
    record = label_buy_once(model=ShippingLabel, label_id=active.pk, rate=chosen.rate, gateway=gateway)
    _shipment_label_bought(
        shipment_id=shipment.pk, label_id=record.pk, option=chosen, why=why, override=reason, actor=actor
    )
    record.refresh_from_db()
    return LabelOutcome(record, why)


@transaction.atomic
def _shipment_label_bought(
    *, shipment_id: int, label_id: int, option: RateOption, why: str, override: str, actor
):
    """Put a bought label on its shipment: tracking number, carrier service, estimate, postage;
    and say so on the order's timeline. Locks order then shipment, then the label row."""
    order, shipment = shipment_lock(shipment_id)
    record = ShippingLabel.objects.select_for_update().get(pk=label_id)
    if record.status != LS.BOUGHT or shipment.tracking_number == record.tracking_number:
        return
    fields = ["tracking_number", "postage_cost", "postage_currency", "updated_at"]
    notes = []
    # What the platform says it sold wins over what was asked for.
    bought = Rate(
        rate_id=record.rate_id,
        carrier=record.carrier_name,
        service=record.service_name,
        price=option.rate.price,
        carrier_account=option.rate.carrier_account,
    )
    level = rate_options(rates=[bought], gateway_code=record.gateway)[0].service_level or option.service_level
    if level is not None and shipment.service_level_id != level.pk:
        notes.append(f"carrier service changed from {shipment.service_level or 'none'} to {level}")
        shipment.service_level = level
        fields.append("service_level")
    if option.estimate and option.estimate != shipment.estimated_delivery:
        shipment.estimated_delivery = option.estimate
        fields.append("estimated_delivery")
    shipment.tracking_number = record.tracking_number
    shipment.postage_cost = record.postage
    shipment.postage_currency = record.currency
    shipment.save(update_fields=fields)
    record.service_level = level
    record.override_reason = override[:255]
    record.actor = actor if getattr(actor, "pk", None) else None
    record.save(update_fields=["service_level", "override_reason", "actor", "updated_at"])
    message = (
        f"Label bought for {shipment.number}: {record.carrier_name} {record.service_name}, tracking "
        f"{record.tracking_number}, postage {record.postage} {record.currency} ({why})."
    )
    if notes:
        text = "; ".join(notes)
        message += f" {text[:1].upper()}{text[1:]}."
    order_event_record(order=order, kind=Kind.NOTE, actor=actor, message=message)


def shipment_label_void_locked(*, order, shipment: Shipment, reason: str, actor) -> ShippingLabel | None:
    """Void the shipment's label (bought, or rated) before it ships; the postage refund is asked
    for after commit through the delivery log. The caller holds the order and shipment locks.
    Raises LabelPurchaseInProgress while a purchase is unconfirmed. Returns the label voided."""
    record = shipment.labels.select_for_update().filter(status__in=LabelRecord.ACTIVE).first()
    if record is None:
        return None
    if record.status == LS.BUYING:
        raise LabelPurchaseInProgress(
            f"The label of {shipment.number} is being bought; buy it (or let it finish) before voiding."
        )
    if record.status == LS.QUOTED:
        record.status, record.message = LS.FAILED, f"Not bought: {reason}"[:500]
        record.save(update_fields=["status", "message", "updated_at"])
        return record
    record.status, record.message = LS.VOID_REQUESTED, reason[:500]
    record.save(update_fields=["status", "message", "updated_at"])
    shipment.tracking_number = ""
    shipment.postage_cost = None
    shipment.postage_currency = ""
    shipment.save(update_fields=["tracking_number", "postage_cost", "postage_currency", "updated_at"])
    label_void_enqueue(record=record)
    order_event_record(
        order=order,
        kind=Kind.NOTE,
        actor=actor,
        message=f"Label {record.tracking_number} of {shipment.number} voided ({reason}); postage refund "
        f"of {record.postage} {record.currency} requested from {record.carrier_name or 'the carrier'}.",
    )
    return record


def label_void_enqueue(*, record: LabelRecord) -> None:
    """Owe the platform a void for this label, sent after commit (delivery log)."""
    delivery_enqueue(
        target=f"carrier:{record.gateway}",
        topic=LABEL_VOID,
        payload={"model": record._meta.label_lower, "label_id": record.pk},
        reference=record.tracking_number or record.reference,
        ordering_key=f"label:{record._meta.label_lower}:{record.pk}",
    )


@transaction.atomic
def shipment_label_void(*, shipment_id: int, reason: str, actor=None) -> ShippingLabel:
    """Staff void a packed shipment's label (wrong box, damaged label) to buy another.

    Locks order then shipment. Raises LabelNotBought without a reason or without a label,
    ShipmentTransitionError once shipped."""
    reason = (reason or "").strip()
    if not reason:
        raise LabelNotBought("Say why the label is voided.")
    order, shipment = shipment_lock(shipment_id)
    if shipment.status not in (Shipment.Status.PENDING, Shipment.Status.PICKING, Shipment.Status.PACKED):
        raise ShipmentTransitionError(shipment=shipment, transition="void the label of")
    record = shipment_label_void_locked(order=order, shipment=shipment, reason=reason, actor=actor)
    if record is None:
        raise LabelNotBought(f"{shipment.number} has no label to void.")
    return record


def label_void_send(delivery, http) -> dict:
    """Delivery handler (topic LABEL_VOID): ask the platform to void one label. A label no longer
    waiting for its void is left alone, so a repeated delivery voids once."""
    model = apps.get_model(delivery.payload["model"])
    record = model.objects.filter(pk=delivery.payload["label_id"]).first()
    if record is None or record.status != LS.VOID_REQUESTED:
        return {"skipped": True}
    gateway = carrier_gateway_get(record.gateway)
    if gateway is None or not gateway.is_configured():
        raise DeliveryRetry(f"The {record.gateway} gateway is not configured.")
    try:
        result = gateway.void(label_reference=record.reference)
    except CarrierUnavailable as exc:
        raise DeliveryRetry(str(exc)) from exc
    except CarrierRefused as exc:
        model.objects.filter(pk=record.pk, status=LS.VOID_REQUESTED).update(
            status=LS.VOID_REFUSED, message=str(exc)[:500], updated_at=timezone.now()
        )
        raise DeliveryFailed(str(exc)) from exc
    model.objects.filter(pk=record.pk, status=LS.VOID_REQUESTED).update(
        status=LS.VOIDED if result.accepted else LS.VOID_REFUSED,
        refund_status=result.refund_status[:32],
        voided_at=timezone.now(),
        message=result.message[:500],
        updated_at=timezone.now(),
    )
    return {"refund_status": result.refund_status}
