"""Signals inventory sends to apps further down the chain (it imports none of them).

`stock_arrived` is sent after commit whenever units became available: a receipt, a positive
adjustment or count, a transfer in, a return restock, or reservations released. Keyword
argument: `product_ids` (a frozenset). Orders listens to allocate its backorders.
"""

from django.dispatch import Signal

stock_arrived = Signal()
