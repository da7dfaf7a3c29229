"""Shipments during an order edit: fulfillment's side of orders.edit_hooks (registered in
FulfillmentConfig.ready()).

An edit is refused while a shipment is being picked or packed, or has units scanned into its box:
the warehouse is working on those items. Shipments that have left stay as they are. Shipments not
yet picked are plans: after the edit they are made to match the order's active reservations again,
one per warehouse as order_start_fulfillment makes them (a shipment keeps its number where its
warehouse still ships something, takes over a warehouse that lost its shipment, and goes when
there is nothing left for it), each with the carrier service the rules choose for the order's
(maybe new) speed and address, and a new delivery estimate.

Lock order, as everywhere in fulfilment: the order row (the edit holds it), then its shipments
in pk order (`lock`), then stock items (inside inventory).
"""

from collections import defaultdict

from django.utils import timezone

from inventory.selectors import reservation_list_active
from orders.edit_hooks import ShipmentsForEdit
from orders.models import Order

from .estimates import estimate_delivery
from .models import Shipment, ShipmentLine
from .rules import parcel_for_items, service_level_choose
from .shipments import shipment_next_index

SS = Shipment.Status
LEFT = [*Shipment.ON_THE_WAY, SS.DELIVERED]


class ShipmentsEditHook:
    """orders.edit_hooks.EditShipments for fulfilment's shipments."""

    def lock(self, *, order: Order) -> ShipmentsForEdit:
        """Lock the order's shipments (pk order; the caller holds the order row) and say whether
        an edit may run. Two queries."""
        shipments = list(Shipment.objects.select_for_update(of=("self",)).filter(order=order).order_by("pk"))
        pending = [s for s in shipments if s.status == SS.PENDING]
        scanned = set()
        if pending:
            scanned = set(
                ShipmentLine.objects.filter(shipment__in=pending, quantity_packed__gt=0).values_list(
                    "shipment_id", flat=True
                )
            )
        busy = []
        for shipment in shipments:
            if shipment.status == SS.PICKING:
                busy.append(f"shipment {shipment.number} is being picked")
            elif shipment.status == SS.PACKED:
                busy.append(f"shipment {shipment.number} is packed")
            elif shipment.pk in scanned:
                busy.append(f"shipment {shipment.number} is being packed")
        left = [s for s in shipments if s.status in LEFT]
        return ShipmentsForEdit(
            busy=("; ".join(busy) + ": its items can't change any more.") if busy else "",
            rebuild=bool(pending),
            delivered=bool(left) and all(s.status == SS.DELIVERED for s in left),
        )

    def rebuild(self, *, order: Order, actor) -> list[str]:
        """Make the order's pending shipments match its active reservations (see the module's
        docstring). The caller holds the order and shipment locks. A few queries per shipment,
        none per line. Returns a sentence per shipment that changed."""
        per_warehouse: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        warehouses = {}
        for res in reservation_list_active(reference=order.stock_reference):
            warehouses[res.stock_item.warehouse_id] = res.stock_item.warehouse
            per_warehouse[res.stock_item.warehouse_id][res.line_reference] += res.quantity
        lines = {line.stock_reference: line for line in order.lines.select_related("product")}
        pending = list(
            Shipment.objects.filter(order=order, status=SS.PENDING)
            .select_related("warehouse", "service_level__carrier")
            .prefetch_related("lines")
            .order_by("pk")
        )
        # Each warehouse keeps its shipment; warehouses without one take over those left over.
        by_warehouse: dict[int, Shipment] = {}
        spare = []
        for shipment in pending:
            if shipment.warehouse_id in per_warehouse and shipment.warehouse_id not in by_warehouse:
                by_warehouse[shipment.warehouse_id] = shipment
            else:
                spare.append(shipment)
        country = order.shipping_address.country if order.shipping_address else ""
        now = timezone.now()
        next_index = None
        notes, create, update, delete = [], [], [], []
        for warehouse_id, quantities in sorted(per_warehouse.items()):
            warehouse = warehouses[warehouse_id]
            shipment = by_warehouse.get(warehouse_id) or (spare.pop(0) if spare else None)
            if shipment is None:
                next_index = next_index or shipment_next_index(order)
                shipment = Shipment.objects.create(
                    number=f"{order.number}-{next_index}", order=order, warehouse=warehouse
                )
                next_index += 1
                existing, before = {}, None
            else:
                existing = {sl.order_line_id: sl for sl in shipment.lines.all()}
                before = (
                    shipment.warehouse_id,
                    {sl.order_line_id: sl.quantity for sl in existing.values()},
                    shipment.service_level_id,
                    shipment.estimated_delivery,
                )
            kept = []
            for reference, quantity in quantities.items():
                line = lines[reference]
                sl = existing.pop(line.pk, None)
                if sl is None:
                    sl = ShipmentLine(shipment=shipment, order_line=line, quantity=quantity)
                    create.append(sl)
                elif sl.quantity != quantity:
                    sl.quantity = quantity
                    update.append(sl)
                sl.order_line = line
                kept.append(sl)
            delete.extend(existing.values())
            parcel = parcel_for_items(((sl.order_line.product, sl.quantity) for sl in kept), country)
            choice = service_level_choose(speed=order.shipping_speed, parcel=parcel)
            level = choice.service_level
            shipment.warehouse = warehouse
            shipment.weight_grams = parcel.weight_grams
            shipment.service_level = level
            shipment.estimated_delivery = (
                estimate_delivery(now, cutoff=level.cutoff_time, transit_days=level.transit_days)
                if level
                else None
            )
            fields = ["warehouse", "weight_grams", "service_level", "estimated_delivery", "updated_at"]
            shipment.save(update_fields=fields)
            after = (
                warehouse_id,
                {sl.order_line.pk: sl.quantity for sl in kept},
                shipment.service_level_id,
                shipment.estimated_delivery,
            )
            if after != before:
                notes.append(_describe(shipment, kept, created=before is None, reason=choice.reason))
        if create:
            ShipmentLine.objects.bulk_create(create)
        if update:
            ShipmentLine.objects.bulk_update(update, ["quantity"])
        if delete:
            ShipmentLine.objects.filter(pk__in=[sl.pk for sl in delete]).delete()
        if spare:
            # Never picked, nothing left for them to carry: plans that no longer hold.
            Shipment.objects.filter(pk__in=[s.pk for s in spare]).delete()
            notes += [f"Shipment {s.number} dropped: nothing is left for it to carry." for s in spare]
        return notes


def _describe(shipment: Shipment, lines: list[ShipmentLine], *, created: bool, reason: str) -> str:
    items = ", ".join(f"{sl.quantity} × {sl.order_line.sku}" for sl in lines)
    what = "created" if created else "now"
    text = f"Shipment {shipment.number} {what} from {shipment.warehouse.code}: {items}; "
    if shipment.service_level is None:
        return text + reason
    return text + f"{shipment.service_level}, estimated delivery {shipment.estimated_delivery:%a %d %b}."
