"""Inventory's queues on the staff home page (core.admin_home), registered from apps.py."""

from core.admin_home import WAREHOUSE, home_queue_register

from .models import InboundReceipt
from .selectors import inbound_receipt_count_open, stock_item_count_low


def register_home_queues() -> None:
    home_queue_register(
        section=WAREHOUSE,
        title="Inbound receipts expected",
        help="Supplier deliveries not fully received",
        count=inbound_receipt_count_open,
        url="admin:inventory_inboundreceipt_changelist",
        query={"status__in": ",".join(InboundReceipt.OPEN)},
        permission="inventory.view_inboundreceipt",
        order=40,
    )
    home_queue_register(
        section=WAREHOUSE,
        title="Low stock",
        help="At or below the reorder point",
        count=stock_item_count_low,
        url="admin:inventory_stockitem_changelist",
        query={"low": "yes"},
        permission="inventory.view_stockitem",
        order=70,
    )
