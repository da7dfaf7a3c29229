"""Fulfilment's queues on the staff home page (core.admin_home), registered from apps.py."""

from django.utils import timezone

from core.admin_home import (
    CUSTOMER_SERVICE,
    MANAGERS,
    WAREHOUSE,
    HomeRow,
    home_day_bounds,
    home_queue_register,
    home_url,
)
from orders.models import Order

from .models import Shipment
from .selectors import (
    order_count_to_start,
    pick_list_list_in_progress,
    shipment_count_late,
    shipment_count_packed,
    shipment_count_ready_by_warehouse,
    shipment_count_shipped_between,
)

SHIPMENTS = "admin:fulfillment_shipment_changelist"
ORDERS = "admin:orders_order_changelist"
READY = {"status__exact": Shipment.Status.PENDING, "pick_list__isnull": "True"}
# More pick lists than this in progress at once are summed up in one last line.
PICK_LISTS_SHOWN = 8


def _ready_by_warehouse() -> list[HomeRow]:
    return [
        HomeRow(w.code, w.ready, home_url(SHIPMENTS, **READY, warehouse__id__exact=w.pk))
        for w in shipment_count_ready_by_warehouse()
    ]


def _pick_lists_in_progress() -> list[HomeRow]:
    picking = Shipment.Status.PICKING
    lists = pick_list_list_in_progress()
    rows = [
        HomeRow(
            f"{pl['number']} · {pl['warehouse']}",
            pl["left"],
            home_url(SHIPMENTS, status__exact=picking, pick_list__id__exact=pl["pick_list_id"]),
        )
        for pl in lists[:PICK_LISTS_SHOWN]
    ]
    if rest := lists[PICK_LISTS_SHOWN:]:
        rows.append(
            HomeRow(
                f"{len(rest)} more pick lists",
                sum(pl["left"] for pl in rest),
                home_url(SHIPMENTS, status__exact=picking),
            )
        )
    return rows


def _today_url() -> str:
    start, end = home_day_bounds(timezone.localdate())
    return home_url(SHIPMENTS, shipped_at__gte=str(start), shipped_at__lt=str(end))


def _shipped_today() -> int:
    start, end = home_day_bounds(timezone.localdate())
    return shipment_count_shipped_between(start=start, end=end)


def register_home_queues() -> None:
    home_queue_register(
        section=WAREHOUSE,
        title="Orders to start",
        help="Stock reserved, no shipment yet: select them and start fulfilment",
        count=order_count_to_start,
        url=ORDERS,
        query={"status__exact": Order.Status.ALLOCATED},
        permission=("orders.view_order", "fulfillment.add_shipment"),
        order=5,
    )
    home_queue_register(
        section=WAREHOUSE,
        title="Ready to pick",
        help="Shipments on no pick list yet, per warehouse",
        count=_ready_by_warehouse,
        url=SHIPMENTS,
        query=READY,
        permission="fulfillment.view_shipment",
        order=10,
    )
    home_queue_register(
        section=WAREHOUSE,
        title="Build a pick list",
        url="admin:fulfillment_picklist_add",
        permission="fulfillment.add_picklist",
        order=10,
    )
    home_queue_register(
        section=WAREHOUSE,
        title="Pick lists in progress",
        help="Shipments still to pack, per pick list",
        count=_pick_lists_in_progress,
        url=SHIPMENTS,
        query={"status__exact": Shipment.Status.PICKING},
        permission="fulfillment.view_shipment",
        order=20,
    )
    home_queue_register(
        section=WAREHOUSE,
        title="Packing station",
        url="admin:fulfillment_shipment_pack_station",
        permission="fulfillment.change_shipment",
        order=20,
    )
    home_queue_register(
        section=WAREHOUSE,
        title="Packed, not shipped",
        help="Waiting for the carrier",
        count=shipment_count_packed,
        url=SHIPMENTS,
        query={"status__exact": Shipment.Status.PACKED},
        permission="fulfillment.view_shipment",
        order=30,
    )
    home_queue_register(
        section=CUSTOMER_SERVICE,
        title="Late shipments",
        help="Past their delivery estimate and not delivered",
        count=shipment_count_late,
        url="admin:fulfillment_lateshipment_changelist",
        permission="fulfillment.view_lateshipment",
        order=50,
    )
    home_queue_register(
        section=MANAGERS,
        title="Shipments shipped today",
        count=_shipped_today,
        url=_today_url,
        permission="fulfillment.view_shipment",
        order=20,
    )
