"""Batch pick lists: many ready shipments of one warehouse, picked in one walk through the bins.

Lock order, as everywhere in fulfilment: the orders' rows, then the shipments' rows, both in
primary-key order, so a pick list being built and a packer working on one of its orders queue
instead of deadlocking.
"""

import datetime as dt
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_fsm import can_proceed

from inventory.models import Reservation, StockItem
from orders.models import Order, OrderEvent
from orders.signals import order_changed_send

from .exceptions import NothingToPick, ShipmentTransitionError
from .models import PickList, PickListLine, Shipment, ShipmentLine

# Keeps every IN (...) list well under SQLite's bound-parameter limit.
CHUNK = 2000


@dataclass(frozen=True)
class PickFilters:
    warehouse_id: int
    carrier_id: int | None = None
    service_level_id: int | None = None
    cutoff_by: dt.time | None = None
    limit: int | None = None

    def describe(self, *, warehouse: str, carrier: str = "", service_level: str = "") -> str:
        parts = [f"warehouse {warehouse}"]
        if carrier:
            parts.append(f"carrier {carrier}")
        if service_level:
            parts.append(f"service {service_level}")
        if self.cutoff_by:
            parts.append(f"pickup cutoff by {self.cutoff_by:%H:%M}")
        if self.limit:
            parts.append(f"at most {self.limit} shipments")
        return ", ".join(parts)


def shipment_list_ready_to_pick(*, filters: PickFilters):
    """Ready (`pending`) shipments of a warehouse on no pick list yet, matching the filters,
    earliest carrier cutoff first (what must leave first is picked first), then oldest first.

    `cutoff_by` keeps only services whose daily pickup cutoff is at or before that time, e.g.
    everything that must be ready for the 15:00 collection.
    """
    qs = Shipment.objects.filter(
        warehouse_id=filters.warehouse_id, status=Shipment.Status.PENDING, pick_list__isnull=True
    )
    if filters.carrier_id:
        qs = qs.filter(service_level__carrier_id=filters.carrier_id)
    if filters.service_level_id:
        qs = qs.filter(service_level_id=filters.service_level_id)
    if filters.cutoff_by:
        qs = qs.filter(service_level__cutoff_time__lte=filters.cutoff_by)
    qs = qs.order_by("service_level__cutoff_time", "pk")
    return qs[: filters.limit] if filters.limit else qs


def _bin_sort_key(bin_location: str):
    """Natural order (A-2 before A-10); lines without a bin go last."""
    parts = re.split(r"(\d+)", bin_location)
    return (bin_location == "", [int(p) if p.isdigit() else p.lower() for p in parts])


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _bins_for(lines: list[dict], warehouse_id: int) -> dict[int, list[tuple[str, int]]]:
    """{order line id: [(bin, units), ...]} from the line's active reservations in the
    warehouse (the bin stock was reserved from); lines without one fall back to the product's
    first bin there."""
    by_reference = {f"line:{row['order_line_id']}": row["order_line_id"] for row in lines}
    bins: dict[int, list[tuple[str, int]]] = defaultdict(list)
    references = list(by_reference)
    for chunk in _chunks(references):
        rows = (
            Reservation.objects.filter(
                status=Reservation.Status.ACTIVE,
                stock_item__warehouse_id=warehouse_id,
                line_reference__in=chunk,
            )
            .order_by("pk")
            .values_list("line_reference", "stock_item__bin_location", "quantity")
        )
        for reference, bin_location, quantity in rows:
            bins[by_reference[reference]].append((bin_location, quantity))
    missing_products = {row["product_id"] for row in lines if row["order_line_id"] not in bins}
    fallback: dict[int, str] = {}
    if missing_products:
        items = (
            StockItem.objects.filter(warehouse_id=warehouse_id, product_id__in=missing_products)
            .order_by("bin_location", "pk")
            .values_list("product_id", "bin_location")
        )
        for product_id, bin_location in items:
            fallback.setdefault(product_id, bin_location)
    for row in lines:
        if row["order_line_id"] not in bins:
            bins[row["order_line_id"]] = [(fallback.get(row["product_id"], ""), row["quantity"])]
    return bins


def _pick_lines(lines: list[dict], bins: dict[int, list[tuple[str, int]]]) -> list[dict]:
    """Group shipment lines by (bin, SKU), walk order. Reservations may split a line over bins;
    units beyond what the reservations cover are taken from the line's first bin."""
    grouped: dict[tuple[str, str], dict] = {}
    for row in lines:
        remaining = row["quantity"]
        splits = bins[row["order_line_id"]]
        for index, (bin_location, reserved) in enumerate(splits):
            units = remaining if index == len(splits) - 1 else min(reserved, remaining)
            if units <= 0:
                continue
            remaining -= units
            key = (bin_location, row["sku"])
            entry = grouped.setdefault(
                key,
                {
                    "bin_location": bin_location,
                    "sku": row["sku"],
                    "product_id": row["product_id"],
                    "barcode": row["barcode"] or "",
                    "name": row["name"],
                    "quantity": 0,
                    "breakdown": defaultdict(int),
                },
            )
            entry["quantity"] += units
            entry["breakdown"][row["shipment_number"]] += units
    return sorted(grouped.values(), key=lambda e: (_bin_sort_key(e["bin_location"]), e["sku"]))


@transaction.atomic
def pick_list_create(
    *,
    warehouse_id: int,
    carrier_id: int | None = None,
    service_level_id: int | None = None,
    cutoff_by: dt.time | None = None,
    limit: int | None = None,
    actor=None,
) -> PickList:
    """Build a pick list from the ready shipments that match, and move them to `picking`.

    Locks the shipments' orders, then the shipments (pk order). Shipments taken by another list
    or changed meanwhile are left out. Raises NothingToPick when no shipment matches.
    Writes one (internal) event per order. A fixed number of queries per 2,000 lines.
    """
    filters = PickFilters(warehouse_id, carrier_id, service_level_id, cutoff_by, limit)
    candidates = list(shipment_list_ready_to_pick(filters=filters).values_list("pk", "order_id"))
    if not candidates:
        raise NothingToPick("No ready shipment in this warehouse matches these filters.")
    shipment_ids = sorted(pk for pk, _ in candidates)
    order_ids = sorted({order_id for _, order_id in candidates})
    for chunk in _chunks(order_ids):
        locked = Order.objects.select_for_update().filter(pk__in=chunk).order_by("pk").values_list("number")
        order_changed_send(numbers=[number for (number,) in locked])
    shipments = []
    for chunk in _chunks(shipment_ids):
        shipments += (
            Shipment.objects.select_for_update(of=("self",))
            .filter(pk__in=chunk, status=Shipment.Status.PENDING, pick_list__isnull=True)
            .select_related("warehouse", "service_level__carrier")
        )
    if not shipments:
        raise NothingToPick("The matching shipments were taken by another pick list meanwhile.")
    shipments.sort(key=lambda s: s.pk)
    warehouse = shipments[0].warehouse
    now = timezone.now()
    for shipment in shipments:
        if not can_proceed(shipment.start_picking):
            raise ShipmentTransitionError(shipment=shipment, transition="start_picking")
        shipment.start_picking()

    numbers = {s.pk: s.number for s in shipments}
    lines = []
    for chunk in _chunks(list(numbers)):
        lines += ShipmentLine.objects.filter(shipment_id__in=chunk).values(
            "shipment_id",
            "order_line_id",
            "quantity",
            sku=F("order_line__sku"),
            name=F("order_line__name"),
            product_id=F("order_line__product_id"),
            barcode=F("order_line__product__barcode"),
        )
    for row in lines:
        row["shipment_number"] = numbers[row["shipment_id"]]
    grouped = _pick_lines(lines, _bins_for(lines, warehouse.pk))

    carrier = service_level = ""
    if carrier_id:
        carrier = next((str(s.carrier) for s in shipments if s.carrier), str(carrier_id))
    if service_level_id:
        service_level = next((str(s.service_level) for s in shipments if s.service_level), "")
    pick_list = PickList.objects.create(
        number=f"PL-{timezone.localdate(now):%y%m%d}-{secrets.token_hex(3).upper()}",  # the warehouse's day
        warehouse=warehouse,
        created_by=actor if getattr(actor, "pk", None) else None,
        criteria=filters.describe(warehouse=warehouse.code, carrier=carrier, service_level=service_level),
        shipment_count=len(shipments),
        unit_count=sum(row["quantity"] for row in lines),
    )
    PickListLine.objects.bulk_create(
        [
            PickListLine(
                pick_list=pick_list,
                position=position,
                product_id=entry["product_id"],
                sku=entry["sku"],
                barcode=entry["barcode"],
                name=entry["name"][:255],
                bin_location=entry["bin_location"],
                quantity=entry["quantity"],
                breakdown=sorted(entry["breakdown"].items()),
            )
            for position, entry in enumerate(grouped, 1)
        ],
        batch_size=CHUNK,
    )
    # Every shipment made the same pending -> picking transition above (checked by the FSM on
    # each instance); one UPDATE writes them all instead of one save per shipment.
    for chunk in _chunks(list(numbers)):
        Shipment.objects.filter(pk__in=chunk).update(
            status=Shipment.Status.PICKING, pick_list=pick_list, updated_at=now
        )
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order_id=shipment.order_id,
                kind=OrderEvent.Kind.NOTE,
                actor=pick_list.created_by,
                message=f"Shipment {shipment.number} is being picked on pick list {pick_list.number}.",
            )
            for shipment in shipments
        ],
        batch_size=CHUNK,
    )
    return pick_list
