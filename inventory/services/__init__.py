"""Writes to stock, one module per kind of work: the ledger and its locks, reservations,
inbound receipts, and counts (adjustments, cycle counts, transfers).

Every change to on-hand goes through the ledger (ledger.stock_ledger_write), so on_hand always
equals the sum of movements. Stock items are always locked in primary-key order, so two
transactions that touch overlapping items queue instead of deadlocking. The public services
are importable from here (`from inventory.services import stock_receive`).
"""

from .counts import stock_adjust, stock_count_record, stock_transfer
from .ledger import (
    stock_item_for_receipt,
    stock_item_get_or_create,
    stock_lock_products,
    stock_movement_record,
    stock_receive,
)
from .receipts import ReceiptLineInput, inbound_receipt_close, inbound_receipt_create, inbound_receipt_receive
from .reservations import (
    ReserveRequest,
    StockBatch,
    stock_batch_lock,
    stock_batch_reserve,
    stock_batch_write,
    stock_consume,
    stock_release,
    stock_reserve_locked,
    stock_reserve_split,
)

__all__ = [
    "ReceiptLineInput",
    "ReserveRequest",
    "StockBatch",
    "inbound_receipt_close",
    "inbound_receipt_create",
    "inbound_receipt_receive",
    "stock_adjust",
    "stock_batch_lock",
    "stock_batch_reserve",
    "stock_batch_write",
    "stock_consume",
    "stock_count_record",
    "stock_item_for_receipt",
    "stock_item_get_or_create",
    "stock_lock_products",
    "stock_movement_record",
    "stock_receive",
    "stock_release",
    "stock_reserve_locked",
    "stock_reserve_split",
    "stock_transfer",
]
